"""Self-assessment indicators: one per criterion, from the shipped question catalogue."""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from gm_eval.contract import CRITERIA
from gm_eval.indicators.base import Context, computes

__all__ = ["ANSWER_CREDIT", "questions", "self_assessment_scores"]

#: Credit per answer; ``not_applicable`` is left out of the denominator.
ANSWER_CREDIT = {"yes": 1.0, "partly": 0.5, "no": 0.0}


@cache
def _questions() -> pd.DataFrame:
    path = resources.files("gm_eval.data").joinpath("self_assessment_questions.csv")
    with path.open("r", encoding="utf-8") as fh:
        q = pd.read_csv(fh, dtype={"question_id": "object", "criterion": "object"})
    q["child_specific"] = q["child_specific"].astype(str).str.lower().isin(["true", "yes", "1"])
    q["weight"] = q["weight"].astype(float)
    bad = set(q["criterion"]) - set(CRITERIA)
    if bad:
        raise ValueError(f"self_assessment_questions.csv: unknown criteria {sorted(bad)}")
    if q["question_id"].duplicated().any():
        raise ValueError("self_assessment_questions.csv: duplicated question_id")
    return q


def questions() -> pd.DataFrame:
    """The shipped question catalogue.

    Returns
    -------
    DataFrame
        ``question_id, criterion, question, child_specific, weight, reference``.
    """
    return _questions().copy()


def self_assessment_scores(answers: pd.DataFrame) -> pd.DataFrame:
    """Weighted share of applicable questions answered yes (partly = 0.5), per criterion.

    Parameters
    ----------
    answers : DataFrame
        ``self_assessment`` table: ``mechanism_id, question_id, answer``. Questions
        not in the catalogue are ignored.

    Returns
    -------
    DataFrame
        ``mechanism_id, criterion, value, n`` (n = applicable answered questions);
        only mechanism x criterion pairs with at least one applicable answer.
    """
    q = _questions()[["question_id", "criterion", "weight"]]
    a = answers[["mechanism_id", "question_id", "answer"]].merge(q, on="question_id", how="inner")
    a = a[a["answer"].isin(list(ANSWER_CREDIT))]
    credit = a["answer"].map(ANSWER_CREDIT).astype(float)
    a = a.assign(wc=credit * a["weight"], w=a["weight"], one=1)
    g = a.groupby(["mechanism_id", "criterion"], sort=False)[["wc", "w", "one"]].sum()
    g = g[g["w"] > 0]
    out = pd.DataFrame({"value": g["wc"] / g["w"], "n": g["one"].astype("int64")}).reset_index()
    out["value"] = np.clip(out["value"], 0.0, 1.0)
    return out


def _register(criterion: str) -> None:
    @computes(f"{criterion}.self_assessment")
    def _compute(ctx: Context):
        sa = ctx.table("self_assessment")
        scores = ctx.derived("self_assessment.scores", lambda: self_assessment_scores(sa))
        sub = scores[scores["criterion"] == criterion]
        return sub.set_index("mechanism_id")[["value", "n"]]


for _c in CRITERIA:
    _register(_c)
