"""Tests of gm_eval.descriptive on hand-made fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gm_eval.descriptive import (
    CASE_VOLUME_COLUMNS,
    CLMS_FUNNEL_COLUMNS,
    SELF_ASSESSMENT_COLUMNS,
    SURVEY_ITEMS_COLUMNS,
    case_volume,
    clms_funnel,
    self_assessment_answers,
    survey_items,
)
from gm_eval.evidence import Evidence

AS_OF = pd.Timestamp("2025-06-30")
MECH = pd.DataFrame({"mechanism_id": ["A", "B", "C"], "company_id": "c",
                     "mechanism_type": ["ogm", "ogm", "clms"]})
D = pd.to_datetime


def _ev(**tables) -> Evidence:
    return Evidence({"mechanisms": MECH, **tables}, AS_OF)


def test_case_volume_by_hand():
    cases = pd.DataFrame({
        "mechanism_id": ["B", "A", "A", "A", "A", "Z"],
        "received_at": D(["2024-12-31", "2025-01-01", "2025-01-31", "2025-03-15", "2025-03-16",
                          "2025-01-01"]),
        "category": ["other", "other", "wages_benefits", "other", "other", "other"],
        "channel": ["hotline", "hotline", None, "app_web", "unknown", "hotline"],
        "complainant_name": ["DECOY x"] * 6,  # extra column: must not reach the output
    })
    out = case_volume(_ev(cases=cases))
    assert list(out.columns) == CASE_VOLUME_COLUMNS
    got = {tuple(r[:5]) for r in out.itertuples(index=False)}
    assert got == {
        ("A", "2025-01", "category", "other", 1), ("A", "2025-01", "category", "wages_benefits", 1),
        ("A", "2025-03", "category", "other", 2),
        ("A", "2025-01", "channel", "hotline", 1), ("A", "2025-01", "channel", "unknown", 1),
        ("A", "2025-03", "channel", "app_web", 1), ("A", "2025-03", "channel", "unknown", 1),
        ("B", "2024-12", "category", "other", 1), ("B", "2024-12", "channel", "hotline", 1),
    }  # mechanism Z is not in mechanisms: left out
    # cells of each (mechanism, month, dimension) add up to the month's cases
    tot = out.groupby(["mechanism_id", "month", "dimension"])["cases"].sum().unstack()
    assert (tot["category"] == tot["channel"]).all()
    assert out["mechanism_id"].tolist()[:7] == ["A"] * 7  # mechanisms in input order
    assert (out["flags"] == "").all()
    assert not out.isin(["DECOY x"]).any().any()


def test_survey_items_by_hand():
    ws = pd.DataFrame({
        "mechanism_id": ["A", "A", "A", "B", "Z"],  # Z is not in mechanisms: left out
        "respondent_id": ["r1", "r2", "r3", "r4", "r5"],
        "aware": pd.array([True, False, None, True, False], dtype="boolean"),
        "trust": pd.array([5, 5, 2, None, 1], dtype="Int64"),
    })
    cs = pd.DataFrame({"mechanism_id": ["A", "A"], "safe_to_tell": ["yes", "not_sure"]})
    out = survey_items(_ev(worker_survey=ws, child_survey=cs))
    assert list(out.columns) == SURVEY_ITEMS_COLUMNS
    idx = out.set_index(["mechanism_id", "survey", "item", "response"])
    assert idx.loc[("A", "worker_survey", "aware", "yes"), "count"] == 1
    assert idx.loc[("A", "worker_survey", "aware", "no"), "share"] == 0.5  # blank not counted
    assert idx.loc[("A", "worker_survey", "trust", "5"), ["count", "share"]].tolist() == [2, 2 / 3]
    assert idx.loc[("A", "worker_survey", "trust", "2"), "count"] == 1
    assert ("B", "worker_survey", "trust", "5") not in idx.index
    assert idx.loc[("A", "child_survey", "safe_to_tell", "not_sure"), "share"] == 0.5
    sums = out.groupby(["mechanism_id", "survey", "item"])["share"].sum()
    np.testing.assert_allclose(sums, 1.0)
    assert "r1" not in out.to_numpy()
    assert "Z" not in set(out["mechanism_id"])
    # B answered aware (yes) only; its trust is blank: no row
    assert idx.loc[("B", "worker_survey", "aware", "yes"), ["count", "share"]].tolist() == [1, 1.0]
    assert len(out) == 2 + 2 + 1 + 2  # A aware yes/no, A trust 5/2, B aware yes, A child items


def test_clms_funnel_by_hand():
    ch = pd.DataFrame({
        "mechanism_id": ["C"] * 4,
        "child_id": ["a", "b", "c", "d"],
        "referred_at": D(["2025-01-05", "2025-01-06", None, None]),
        "remediation_started_at": D(["2025-02-01", None, None, None]),
    })
    fu = pd.DataFrame({
        "mechanism_id": ["C"] * 5,
        "child_id": ["a", "a", "b", "c", "zz"],  # zz is not an identified child
        "visit_date": D(["2025-06-01", "2025-03-01", "2025-04-01", "2025-04-01", "2025-04-01"]),
        # a: latest (June) out of child labour; b: still in; c: unknown
        "in_child_labour": pd.array([False, True, True, None, False], dtype="boolean"),
    })
    out = clms_funnel(_ev(clms_children=ch, clms_followups=fu))
    assert list(out.columns) == CLMS_FUNNEL_COLUMNS
    assert out["mechanism_id"].unique().tolist() == ["C"]
    r = out.set_index("stage")
    assert r["count"].to_dict() == {"identified": 4, "referred": 2, "remediation_started": 1,
                                    "followed_up": 3, "out_of_child_labour": 1}
    assert r.loc["referred", "share_of_identified"] == 0.5
    assert r.loc["identified", "share_of_identified"] == 1.0
    # without follow-ups the last two stages are zero
    r = clms_funnel(_ev(clms_children=ch)).set_index("stage")["count"]
    assert (r["followed_up"], r["out_of_child_labour"]) == (0, 0)


def test_self_assessment_answers_catalogue_order_and_unanswered():
    q = pd.DataFrame({"question_id": ["Q1", "Q2", "Q3"], "criterion": ["legitimate", "accessible", "predictable"],
                      "question": ["One?", "Two?", "Three?"], "child_specific": [False, True, False],
                      "weight": 1.0})
    sa = pd.DataFrame({"mechanism_id": ["B", "B", "A"], "question_id": ["Q3", "QX", "Q2"],
                       "answer": ["no", "yes", "partly"],
                       "evidence_provided": pd.array([True, False, None], dtype="boolean")})
    out = self_assessment_answers(_ev(self_assessment=sa), q)
    assert list(out.columns) == SELF_ASSESSMENT_COLUMNS
    assert out[["mechanism_id", "question_id"]].values.tolist() == [
        ["A", "Q1"], ["A", "Q2"], ["A", "Q3"], ["B", "Q1"], ["B", "Q2"], ["B", "Q3"], ["B", "QX"]]
    r = out.set_index(["mechanism_id", "question_id"])
    assert r.loc[("A", "Q2"), "answer"] == "partly" and r.loc[("A", "Q2"), "child_specific"]
    assert pd.isna(r.loc[("A", "Q1"), "answer"])
    assert r.loc[("B", "Q3"), "evidence_provided"]
    assert pd.isna(r.loc[("B", "QX"), "criterion"])  # not in the catalogue, kept
    assert "C" not in out["mechanism_id"].tolist()  # answered nothing


def test_self_assessment_uses_shipped_catalogue_by_default():
    pytest.importorskip("gm_eval.indicators.self_assessment")
    from gm_eval.indicators.self_assessment import questions

    cat = questions()
    sa = pd.DataFrame({"mechanism_id": ["A"], "question_id": [cat["question_id"].iloc[0]],
                       "answer": ["yes"], "evidence_provided": pd.array([True], dtype="boolean")})
    out = self_assessment_answers(_ev(self_assessment=sa))
    assert len(out) == len(cat)
    assert out["question"].notna().all() and out["child_specific"].any()


def test_absent_tables_give_empty_tables():
    ev = _ev()
    for f, cols in ((case_volume, CASE_VOLUME_COLUMNS), (survey_items, SURVEY_ITEMS_COLUMNS),
                    (clms_funnel, CLMS_FUNNEL_COLUMNS)):
        out = f(ev)
        assert out.empty and list(out.columns) == cols
    assert self_assessment_answers(ev, pd.DataFrame(columns=["question_id", "criterion", "question",
                                                             "child_specific"])).empty
