"""Compute every registered indicator for every mechanism at once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.evidence import Evidence
from gm_eval.indicators.base import COMPUTATIONS, Context, wilson
from gm_eval.indicators.registry import Indicator, registry

__all__ = ["INDICATOR_COLUMNS", "compute_indicators", "join_flags"]

#: Columns of the ``indicators`` table (contract section 3, exactly).
INDICATOR_COLUMNS = [
    "mechanism_id",
    "indicator_id",
    "criterion",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "score",
    "flags",
]


def join_flags(*parts) -> np.ndarray:
    """Join per-row flag arrays (``""`` for none) with ``;``."""
    out = []
    for row in zip(*parts, strict=True):
        out.append(";".join(p for p in row if p))
    return np.array(out, dtype=object)


def _one(ctx: Context, ind: Indicator, ids: pd.Index, types: pd.Series, min_n: int) -> pd.DataFrame:
    present = all(ctx.table(s) is not None for s in ind.sources if s != "mechanisms")
    res = COMPUTATIONS[ind.id](ctx) if present else None
    if res is None:
        res = pd.DataFrame(columns=["value", "n"], dtype="float64")
    res = res[~res.index.duplicated()].reindex(ids)
    value = res["value"].astype("float64").to_numpy()
    n = res["n"].astype("float64").to_numpy()
    if "successes" in res.columns:
        lo, hi = wilson(res["successes"].astype("float64").to_numpy(), n)
    elif "ci_low" in res.columns:
        lo = res["ci_low"].astype("float64").to_numpy()
        hi = res["ci_high"].astype("float64").to_numpy()
    else:
        lo = hi = np.full(len(ids), np.nan)
    has_data = np.nan_to_num(n, nan=0) > 0
    covered = has_data & np.isfinite(value)
    missing_flag = np.where(
        np.isin(types.to_numpy(), list(ind.applies_to)) | (len(ind.applies_to) == 0),
        "not_covered",
        "not_applicable",
    )
    median_open = has_data & ~np.isfinite(value) & (ind.unit == "days")
    f_missing = np.where(covered, "", np.where(median_open, "median_not_reached", missing_flag))
    f_small = np.where(covered & (n < min_n), "small_n", "")
    value = np.where(covered, value, np.nan)
    return pd.DataFrame(
        {
            "mechanism_id": ids,
            "indicator_id": ind.id,
            "criterion": ind.criterion,
            "value": value,
            "ci_low": np.where(covered, lo, np.nan),
            "ci_high": np.where(covered, hi, np.nan),
            "n": pd.array(np.where(has_data, n, np.nan), dtype="Float64").astype("Int64"),
            "score": np.nan,
            "flags": join_flags(f_missing, f_small),
        }
    )


def compute_indicators(
    evidence: Evidence, min_n: int = 30, indicator_ids: list[str] | None = None
) -> pd.DataFrame:
    """Compute every indicator (or those listed) for every mechanism.

    Parameters
    ----------
    evidence : Evidence
        Validated input tables.
    min_n : int
        Rows with a denominator below this get the ``small_n`` flag.
    indicator_ids : list of str, optional
        Restrict to these indicators (default: the whole registry).

    Returns
    -------
    DataFrame
        The ``indicators`` table (columns :data:`INDICATOR_COLUMNS`), one row per
        mechanism and indicator, ``score`` still empty (see :func:`gm_eval.scoring.score_indicators`).
        When the evidence is absent the row has an empty value and the flag
        ``not_covered`` (``not_applicable`` when the indicator's ``applies_to``
        excludes the mechanism type), never 0. A Kaplan-Meier median that is
        never reached is empty with the flag ``median_not_reached``. Rates carry
        Wilson 95% intervals (Greenwood log-log for Kaplan-Meier rates).
    """
    ctx = Context(evidence)
    mech = ctx.mechanisms
    ids = pd.Index(mech["mechanism_id"].astype("object"), name="mechanism_id")
    types = mech["mechanism_type"].astype("object").reset_index(drop=True)
    reg = registry()
    chosen = list(reg) if indicator_ids is None else list(indicator_ids)
    missing = [i for i in chosen if i not in COMPUTATIONS]
    if missing:
        raise RuntimeError(f"no computation registered for {missing}")
    frames = [_one(ctx, reg[i], ids, types, min_n) for i in chosen]
    return pd.concat(frames, ignore_index=True)[INDICATOR_COLUMNS]
