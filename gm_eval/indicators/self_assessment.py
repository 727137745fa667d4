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


def _exact_sums(weights: np.ndarray, n: int) -> bool:
    """Whether sums of up to ``n`` credited weights are exact in float64.

    With half-point weights every credited weight (credit 0, 0.5 or 1) is a
    multiple of 0.25, and sums of such small multiples carry no rounding: added
    in any order, compensated or not, they are the same number.
    """
    w = np.abs(np.asarray(weights, dtype=float)) * 4
    return bool(np.all(w == np.floor(w))) and float(w.max(initial=0)) * max(n, 1) < 2.0**50


def _scores_by_codes(ctx: Context) -> dict[str, pd.DataFrame] | None:
    """:func:`self_assessment_scores` per criterion from the mechanism, question and answer codes.

    Returns
    -------
    dict of str to DataFrame or None
        Per criterion: indexed by mechanism_id, ``value`` and ``n``; None when the
        catalogue's weights could make the sums depend on their order (then the
        grouped frame of :func:`self_assessment_scores` is used).
    """
    sa = "self_assessment"
    q = _questions()
    n_rows = len(ctx.evidence.tables[sa])
    if not _exact_sums(q["weight"].to_numpy(), n_rows):
        return None
    codes, labels = ctx.groups(sa)
    q_codes, q_uniq = ctx.codes(sa, "question_id")
    a_codes, a_uniq = ctx.codes(sa, "answer")
    crit = list(dict.fromkeys(q["criterion"]))
    # each distinct question's catalogue row (-1: not in the catalogue), then each row's
    at = np.append(pd.Index(q["question_id"]).get_indexer(pd.Index(q_uniq, dtype=object)), -1)[q_codes]
    credit = np.array([ANSWER_CREDIT.get(u, np.nan) for u in a_uniq] + [np.nan])[a_codes]
    ok = (at >= 0) & ~np.isnan(credit)
    weight = q["weight"].to_numpy(dtype=float)[at[ok]]
    c_codes = pd.Index(crit).get_indexer(q["criterion"])[at[ok]]
    key = codes[ok] * len(crit) + c_codes
    size = len(labels) * len(crit)
    w = np.bincount(key, weights=weight, minlength=size).reshape(len(labels), len(crit))
    wc = np.bincount(key, weights=credit[ok] * weight, minlength=size).reshape(len(labels), len(crit))
    n = np.bincount(key, minlength=size).reshape(len(labels), len(crit))
    out = {}
    for j, c in enumerate(crit):
        keep = w[:, j] > 0
        value = np.clip(wc[keep, j] / w[keep, j], 0.0, 1.0)
        out[c] = pd.DataFrame({"value": value, "n": n[keep, j].astype("int64")}, index=labels[keep])
    return out


def _register(criterion: str) -> None:
    @computes(f"{criterion}.self_assessment")
    def _compute(ctx: Context):
        by_codes = ctx.derived("self_assessment.by_criterion", lambda: _scores_by_codes(ctx))
        if by_codes is not None:
            return by_codes.get(criterion)
        sa = ctx.table("self_assessment")
        scores = ctx.derived("self_assessment.scores", lambda: self_assessment_scores(sa))
        sub = scores[scores["criterion"] == criterion]
        return sub.set_index("mechanism_id")[["value", "n"]]


for _c in CRITERIA:
    _register(_c)
