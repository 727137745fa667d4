"""Recommendations: each mechanism's largest gaps, with a concrete next step.

Texts come from ``gm_eval/data/recommendations.yaml`` (one per indicator, one per
criterion without evidence). The gap of a scored indicator is
``(100 - score) * weight * criterion_weight`` (weights from the profile); the
``max_gaps`` largest positive gaps of each mechanism are listed first, then one
"start collecting" recommendation for each criterion with no scored indicator.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from gm_eval.contract import CRITERIA
from gm_eval.indicators.registry import registry
from gm_eval.shipped import read_yaml

__all__ = ["RECOMMENDATION_COLUMNS", "catalogue", "recommendations"]

RECOMMENDATION_COLUMNS = [
    "mechanism_id",
    "rank",
    "criterion",
    "indicator_id",
    "score",
    "target_gap",
    "recommendation",
    "reference",
]


@cache
def _load() -> dict:
    doc = read_yaml("recommendations.yaml")
    missing = set(registry()) - set(doc["indicators"])
    if missing:
        raise ValueError(f"recommendations.yaml: no text for {sorted(missing)}")
    missing = set(CRITERIA) - set(doc["not_covered"])
    if missing:
        raise ValueError(f"recommendations.yaml: no not_covered text for {sorted(missing)}")
    return doc


def catalogue() -> dict:
    """The recommendation catalogue: ``{"indicators": {id: {text, reference}}, "not_covered": {criterion: ...}}``."""
    return _load()


def recommendations(
    indicators: pd.DataFrame, scores: pd.DataFrame, profile: dict, max_gaps: int = 5
) -> pd.DataFrame:
    """Build the ``recommendations`` table for every mechanism.

    Parameters
    ----------
    indicators : DataFrame
        Scored ``indicators`` table.
    scores : DataFrame
        ``scores`` table (criterion coverage).
    profile : dict
        Effective profile (weights, targets).
    max_gaps : int
        Largest gaps listed per mechanism.

    Returns
    -------
    DataFrame
        ``mechanism_id, rank, criterion, indicator_id, score, target_gap,
        recommendation, reference``. ``target_gap`` is how far the value is from
        the target in the indicator's unit (positive: short of the target;
        for lower-is-better indicators, the excess over the target).
    """
    cat = _load()
    reg = registry()
    spec = profile["indicators"]
    cw = profile["criterion_weights"]
    ind = indicators[indicators["score"].notna() & (indicators["score"] < 100)].copy()
    w = ind["indicator_id"].map({i: s["weight"] for i, s in spec.items()}).astype(float)
    ind["gap"] = (100 - ind["score"]) * w * ind["criterion"].map(cw).astype(float)
    ind = ind[ind["gap"] > 0]
    target = ind["indicator_id"].map({i: s["target"] for i, s in spec.items()}).astype(float)
    sign = ind["indicator_id"].map({i: 1.0 if r.higher_better else -1.0 for i, r in reg.items()})
    sign = sign.astype(float).to_numpy()
    ind["target_gap"] = sign * (target - ind["value"].astype(float))
    ind = ind.sort_values(["mechanism_id", "gap"], ascending=[True, False], kind="stable")
    top = ind.groupby("mechanism_id", sort=False).head(max_gaps)
    texts = {i: t["text"] for i, t in cat["indicators"].items()}  # dict lookups, not a call a row
    refs = {i: t["reference"] for i, t in cat["indicators"].items()}
    gaps = pd.DataFrame(
        {
            "mechanism_id": top["mechanism_id"],
            "criterion": top["criterion"],
            "indicator_id": top["indicator_id"],
            "score": top["score"],
            "target_gap": top["target_gap"],
            "recommendation": top["indicator_id"].map(texts),
            "reference": top["indicator_id"].map(refs),
            "_order": 0,
        }
    )
    nc = scores[(scores["criterion"] != "overall") & ~(scores["coverage"] > 0)]
    missing = pd.DataFrame(
        {
            "mechanism_id": nc["mechanism_id"],
            "criterion": nc["criterion"],
            "indicator_id": pd.NA,
            "score": np.nan,
            "target_gap": np.nan,
            "recommendation": nc["criterion"].map(lambda c: cat["not_covered"][c]["text"]),
            "reference": nc["criterion"].map(lambda c: cat["not_covered"][c]["reference"]),
            "_order": 1,
        }
    )
    order = {m: i for i, m in enumerate(pd.unique(scores["mechanism_id"]))}
    out = pd.concat([gaps, missing], ignore_index=True)
    out["_m"] = out["mechanism_id"].map(order)
    out = out.sort_values(["_m", "_order"], kind="stable").reset_index(drop=True)
    out["rank"] = out.groupby("mechanism_id", sort=False).cumcount() + 1
    return out[RECOMMENDATION_COLUMNS]
