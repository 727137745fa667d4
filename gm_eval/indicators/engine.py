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


#: Result columns read from a computation, in the order of :func:`_one`'s table.
_RESULT_COLUMNS = ("value", "n", "successes", "ci_low", "ci_high")


def _one(ctx: Context, ind: Indicator, ids: pd.Index) -> tuple[np.ndarray, bool]:
    """The result columns of one indicator at the mechanisms of ``ids``.

    Returns
    -------
    table : ndarray of float64, shape (len(ids), 5)
        Columns :data:`_RESULT_COLUMNS`, NaN for a mechanism without a result row
        or a column the computation did not give.
    rate : bool
        Whether the computation gave ``successes`` (its interval is Wilson's).
    """
    present = all(ctx.evidence.has(s) for s in ind.sources if s != "mechanisms")
    res = COMPUTATIONS[ind.id](ctx) if present else None
    if res is None:
        res = pd.DataFrame(columns=["value", "n"], dtype="float64")
    if not res.index.is_unique:
        res = res[~res.index.duplicated()]
    pos = res.index.get_indexer(ids)  # the row of each mechanism, -1 when absent
    given = [j for j, c in enumerate(_RESULT_COLUMNS) if c in res.columns]
    # the given columns side by side, a row of NaN appended for the absent mechanisms
    rows = np.full((len(res) + 1, len(_RESULT_COLUMNS)), np.nan)
    for j in given:
        rows[:-1, j] = _floats(res[_RESULT_COLUMNS[j]])
    return rows[pos], "successes" in res.columns


def _floats(s: pd.Series) -> np.ndarray:
    """A result column as float64, NaN where missing (numpy columns without a copy)."""
    v = s.to_numpy()
    if v.dtype.kind in "fiub":
        return v
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _rows(tables: np.ndarray, rate: np.ndarray, applies: np.ndarray, days: np.ndarray,
          min_n: int) -> tuple[np.ndarray, ...]:
    """Value, interval, n and flag codes of every indicator row.

    Parameters
    ----------
    tables : ndarray of float64, shape (rows, 5)
        The :func:`_one` tables of every indicator, stacked.
    rate, applies, days : ndarray of bool, one per row
        The row's computation gave successes (Wilson interval); its indicator
        applies to the mechanism's type; its unit is days.
    min_n : int
        Rows with a smaller n get the small-n flag.
    """
    value, n, successes, lo, hi = tables.T
    lo, hi = lo.copy(), hi.copy()
    if rate.any():  # one Wilson computation for every rate
        lo[rate], hi[rate] = wilson(successes[rate], n[rate])
    has_data = np.nan_to_num(n, nan=0) > 0
    covered = has_data & np.isfinite(value)
    missing_flag = np.where(applies, 2, 3)  # not_covered, not_applicable
    median_open = has_data & ~np.isfinite(value) & days
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
    parts = [_one(ctx, reg[i], ids) for i in chosen]
    n_ids = len(ids)
    which = np.repeat(np.arange(len(chosen)), n_ids)
    applies = np.concatenate(
        [np.isin(types, list(reg[i].applies_to)) | (len(reg[i].applies_to) == 0) for i in chosen]
    ) if chosen else np.zeros(0, dtype=bool)
    days = np.array([reg[i].unit == "days" for i in chosen], dtype=bool)[which]
    rate = np.array([p[1] for p in parts], dtype=bool)[which]
    tables = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, len(_RESULT_COLUMNS)))
    value, lo, hi, n, flags = _rows(tables, rate, applies, days, min_n)
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
