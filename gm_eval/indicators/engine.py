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

#: Flag of an indicator row without a value (code 0: it has one), and the small-n flag.
_MISSING_FLAGS = ("", "median_not_reached", "not_covered", "not_applicable")
_SMALL_FLAGS = ("", "small_n")


def join_flags(*parts) -> np.ndarray:
    """Join per-row flag arrays (``""`` for none) with ``;``."""
    out = []
    for row in zip(*parts, strict=True):
        out.append(";".join(p for p in row if p))
    return np.array(out, dtype=object)


#: Joined flags of every (missing, small) code pair: index ``missing * 2 + small``.
_FLAG_TEXT = join_flags(
    [m for m in _MISSING_FLAGS for _ in _SMALL_FLAGS], [s for _ in _MISSING_FLAGS for s in _SMALL_FLAGS]
)


def _column(res: pd.DataFrame, name: str, pos: np.ndarray) -> np.ndarray:
    """Column ``name`` of ``res`` as float64 at row positions ``pos`` (-1: NaN)."""
    v = res[name].to_numpy(dtype="float64", na_value=np.nan)
    return np.append(v, np.nan)[pos]


def _one(ctx: Context, ind: Indicator, ids: pd.Index, types: np.ndarray, min_n: int) -> tuple:
    """Value, interval, n and flag codes of one indicator for every mechanism of ``ids``."""
    present = all(ctx.evidence.has(s) for s in ind.sources if s != "mechanisms")
    res = COMPUTATIONS[ind.id](ctx) if present else None
    if res is None:
        res = pd.DataFrame(columns=["value", "n"], dtype="float64")
    res = res[~res.index.duplicated()]
    pos = res.index.get_indexer(ids)  # the row of each mechanism, -1 when absent
    value = _column(res, "value", pos)
    n = _column(res, "n", pos)
    if "successes" in res.columns:
        lo, hi = wilson(_column(res, "successes", pos), n)
    elif "ci_low" in res.columns:
        lo = _column(res, "ci_low", pos)
        hi = _column(res, "ci_high", pos)
    else:
        lo = hi = np.full(len(ids), np.nan)
    has_data = np.nan_to_num(n, nan=0) > 0
    covered = has_data & np.isfinite(value)
    applies = np.isin(types, list(ind.applies_to)) | (len(ind.applies_to) == 0)
    missing_flag = np.where(applies, 2, 3)  # not_covered, not_applicable
    median_open = has_data & ~np.isfinite(value) & (ind.unit == "days")
    f_missing = np.where(covered, 0, np.where(median_open, 1, missing_flag))
    f_small = covered & (n < min_n)
    return (
        np.where(covered, value, np.nan),
        np.where(covered, lo, np.nan),
        np.where(covered, hi, np.nan),
        np.where(has_data, n, np.nan),
        f_missing * 2 + f_small,
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
    types = mech["mechanism_type"].astype("object").to_numpy()
    reg = registry()
    chosen = list(reg) if indicator_ids is None else list(indicator_ids)
    missing = [i for i in chosen if i not in COMPUTATIONS]
    if missing:
        raise RuntimeError(f"no computation registered for {missing}")
    parts = [_one(ctx, reg[i], ids, types, min_n) for i in chosen]
    value, lo, hi, n, flags = (np.concatenate([p[j] for p in parts]) for j in range(5))
    n_ids = len(ids)
    which = np.repeat(np.arange(len(chosen)), n_ids)
    labels = pd.array([reg[i].id for i in chosen], dtype="str")
    criteria = pd.array([reg[i].criterion for i in chosen], dtype="str")
    out = pd.DataFrame(
        {
            "mechanism_id": pd.Series(np.tile(ids.to_numpy(dtype=object), len(chosen)), dtype=object),
            "indicator_id": labels.take(which),
            "criterion": criteria.take(which),
            "value": value.astype("float64"),
            "ci_low": lo.astype("float64"),
            "ci_high": hi.astype("float64"),
            "n": pd.array(n.astype("float64"), dtype="Float64").astype("Int64"),
            "score": np.nan,
            "flags": pd.array(_FLAG_TEXT[flags.astype(np.int64)], dtype="str"),
        }
    )
    return out[INDICATOR_COLUMNS]
