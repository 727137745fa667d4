"""The survey subcommands end to end, through gm_eval.cli.main."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from gm_eval.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from test_kobo import canonical_answers, kobo_export, write_export  # noqa: E402
from test_selfassess_workbook import MECH, _expected_scores, fill  # noqa: E402


def test_sample_size(capsys):
    assert main(["sample-size", "--margin", "0.05"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "385"
    assert main(["sample-size", "--margin", "5%", "--population", "1000"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "278"
    assert main(["sample-size", "--margin", "0.6"]) == 2


def test_import_kobo_cli(tmp_path, capsys):
    answers = canonical_answers("child_survey", 30, seed=4)
    export = write_export(kobo_export("child_survey", answers), tmp_path / "e.xlsx", "xlsx")
    out = tmp_path / "data"
    rc = main(["import-kobo", str(export), "--form", "child_survey", "--out", str(out),
               "--mechanism-id", "clms_gh"])
    assert rc == 0
    written = pd.read_csv(out / "child_survey.csv")
    assert len(written) == answers["_consented"].sum()
    assert "without consent left out" in capsys.readouterr().out
    # again without --append or --force: refused, file unchanged
    assert main(["import-kobo", str(export), "--form", "child_survey", "--out", str(out),
                 "--mechanism-id", "clms_gh"]) == 2
    assert len(pd.read_csv(out / "child_survey.csv")) == len(written)


def test_import_kobo_label_export_exit_2(tmp_path, capsys):
    answers = canonical_answers("worker_survey", 15, seed=4)
    export = write_export(kobo_export("worker_survey", answers, labels=True), tmp_path / "l.csv",
                          "csv;")
    out = tmp_path / "data"
    rc = main(["import-kobo", str(export), "--form", "worker_survey", "--out", str(out),
               "--mechanism-id", "m1"])
    assert rc == 2
    assert "XML values and headers" in capsys.readouterr().err
    assert not out.exists()


def test_translations_cli(tmp_path, capsys):
    csv = tmp_path / "todo.csv"
    assert main(["translations", "--language", "km", "--form", "child_survey", "--list",
                 "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "Khmer (km)" in out and "child_survey" in out
    todo = pd.read_csv(csv)
    assert set(todo["language"]) == {"Khmer (km)"} and len(todo) > 0


@pytest.mark.slow
def test_workbook_only_company_scored(tmp_path, capsys):
    """template -> filled -> mechanism -> gm-eval score: self-assessment indicators in results.

    Self-assessment answers come from the organisation, not from people, so the k = 5 rule
    does not withhold them: every criterion with applicable answers has exactly the
    hand-computed value, however few questions were answered.
    """
    from gm_eval.selfassess_workbook import read_questions

    data = tmp_path / "data"
    wb = data / "self_assessment.xlsx"
    assert main(["self-assessment", "template", "--out", str(wb)]) == 0
    q = read_questions()
    # every question answered, not_applicable only in 'accessible' (7 questions: 6 remain)
    cycle = ["yes", "partly", "no", "yes", "no", "partly", "yes"]
    answers = {qid: (cycle[i % len(cycle)], None) for i, qid in enumerate(q["question_id"])}
    acc = q.loc[q["criterion"] == "accessible", "question_id"].iloc[0]
    answers[acc] = ("not_applicable", None)
    # and one criterion left mostly blank: published from its one answer, never as 0
    for qid in q.loc[q["criterion"] == "transparent", "question_id"].iloc[1:]:
        del answers[qid]
    fill(wb, answers, MECH)
    assert main(["self-assessment", "mechanism", str(wb), "--out", str(data)]) == 0
    results = tmp_path / "results"
    assert main(["score", str(data), "--out", str(results), "--quiet"]) == 0
    ind = pd.read_csv(results / "indicators.csv", keep_default_na=False, na_values=[""])
    sa = ind[ind["indicator_id"].str.endswith(".self_assessment")].set_index("indicator_id")
    want = _expected_scores(answers)
    applicable = q.assign(a=q["question_id"].map(lambda x: answers.get(x, ("", None))[0]))
    n_applicable = (applicable[applicable["a"].isin(["yes", "partly", "no"])]
                    .groupby("criterion").size())
    assert set(sa.index) == {f"{c}.self_assessment" for c in n_applicable.index}
    for crit, n in n_applicable.items():
        row = sa.loc[f"{crit}.self_assessment"]
        assert row["n"] == n
        assert row["value"] == pytest.approx(want[f"{crit}.self_assessment"], rel=1e-9)
        assert "suppressed" not in str(row["flags"])
    assert n_applicable["transparent"] == 1 and n_applicable["accessible"] == 6
