"""docs/methodology.md is generated from the registry and must not be stale."""

from __future__ import annotations

from gm_eval.indicators import questions, registry
from gm_eval.methodology import DEFAULT_PATH, render


def test_committed_methodology_page_is_up_to_date():
    committed = DEFAULT_PATH.read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/methodology.md is stale: run `.venv/bin/python -m gm_eval.methodology`"
    )


def test_page_documents_every_indicator_and_question():
    page = render()
    for i in registry().values():
        assert f"#### {i.id}" in page
        assert i.definition.replace("|", "\\|") in page
    for qid in questions()["question_id"]:
        assert f"| {qid} |" in page
    for word in ("insufficient_evidence", "Wilson", "Kaplan-Meier", "not_covered", "coverage"):
        assert word in page


def test_question_catalogue_has_thirty_questions_over_all_criteria_with_child_ones():
    q = questions()
    assert len(q) >= 30
    assert q.groupby("criterion").size().min() >= 3
    child = " ".join(q.loc[q["child_specific"], "question"]).lower()
    for topic in ("can children raise a grievance directly", "child-safeguarding", "child-friendly procedures",
                  "referral pathway to child protection"):
        assert topic in child, topic
