"""Building blocks shared by the indicator computations.

Every computation takes a :class:`Context` and returns a DataFrame indexed by
``mechanism_id`` with columns ``value`` and ``n`` and, for rates, ``successes``
(the engine adds Wilson intervals) or ready-made ``ci_low``/``ci_high``.
Mechanisms absent from the result are reported as not covered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gm_eval.contract import DEFAULT_TARGET_ACK_DAYS, DEFAULT_TARGET_CLOSE_DAYS
from gm_eval.evidence import Evidence

__all__ = [
    "Context",
    "COMPUTATIONS",
    "computes",
    "flag",
    "share",
    "group_codes",
    "wilson",
    "days_between",
    "km_summary",
]

#: Computation functions keyed by indicator id (filled by :func:`computes`).
COMPUTATIONS: dict[str, Callable[[Context], pd.DataFrame]] = {}


def computes(indicator_id: str):
    """Decorator: register the function computing ``indicator_id``."""

    def deco(fn):
        if indicator_id in COMPUTATIONS:
            raise ValueError(f"two computations for {indicator_id}")
        COMPUTATIONS[indicator_id] = fn
        return fn

    return deco


@dataclass
class Context:
    """What computations read: evidence, evaluation date, effective targets.

    Parameters
    ----------
    evidence : Evidence
        Validated input tables.
    cache : dict
        Derived frames shared between computations (filled lazily).
    """

    evidence: Evidence
    cache: dict = field(default_factory=dict)

    @property
    def as_of(self) -> pd.Timestamp:
        """Evaluation date."""
        return pd.Timestamp(self.evidence.as_of).normalize()

    @property
    def mechanisms(self) -> pd.DataFrame:
        """Mechanisms with effective ``target_ack_days``/``target_close_days`` (defaults filled)."""
        if "mechanisms" not in self.cache:
            m = self.evidence.mechanisms.copy()
            for col, default in (
                ("target_ack_days", DEFAULT_TARGET_ACK_DAYS),
                ("target_close_days", DEFAULT_TARGET_CLOSE_DAYS),
            ):
                if col not in m.columns:
                    m[col] = default
                m[col] = pd.array(m[col], dtype="Int64").fillna(default)
            self.cache["mechanisms"] = m
        return self.cache["mechanisms"]

    def table(self, name: str) -> pd.DataFrame | None:
        """Return input table ``name`` or ``None`` when absent or empty.

        ``mechanism_id`` is returned as a categorical over every mechanism id, so
        that group-wise counts are a ``bincount`` of its codes (fast at a million rows).
        """
        if not self.evidence.has(name):
            return None
        key = ("table", name)
        if key not in self.cache:
            df = self.evidence.tables[name]
            if name != "mechanisms" and "mechanism_id" in df.columns:
                from gm_eval.stats import positions_in

                mid = df["mechanism_id"]
                cats = pd.Index(self.evidence.mechanisms["mechanism_id"].astype("object"))
                # distinct values first: a million Arrow strings are never made Python objects
                extra = pd.Index(np.asarray(pd.unique(mid), dtype=object)).difference(cats)
                cats = cats.append(extra) if len(extra) else cats
                # every id is among the categories: the codes are the positions in them
                codes = positions_in(mid, cats)
                df = df.assign(mechanism_id=pd.Categorical.from_codes(codes, categories=cats))
            self.cache[key] = df
        return self.cache[key]

    def derived(self, key: str, fn: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """Compute ``fn()`` once per context and reuse it."""
        if key not in self.cache:
            self.cache[key] = fn()
        return self.cache[key]


def flag(values) -> np.ndarray:
    """Nullable booleans (or anything) to a plain bool array, missing as False."""
    if isinstance(values, np.ndarray) and values.dtype == bool:
        return values
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if s.dtype == bool:
        return s.to_numpy()
    if isinstance(s.dtype, pd.BooleanDtype):
        return s.to_numpy(dtype=bool, na_value=False)
    na = s.isna().to_numpy()
    vals = s.to_numpy(dtype=object, na_value=False).copy()
    vals[na] = False
    return vals.astype(bool)


def group_codes(mechanism_id) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for missing) and labels of a mechanism id column."""
    s = mechanism_id if isinstance(mechanism_id, pd.Series) else pd.Series(mechanism_id)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64), pd.Index(s.cat.categories, name="mechanism_id")
    codes, uniques = pd.factorize(s.to_numpy(dtype=object))
    return codes.astype(np.int64), pd.Index(uniques, dtype="object", name="mechanism_id")


def share(mechanism_id, success, eligible=None) -> pd.DataFrame:
    """Group-wise share of ``success`` among ``eligible`` rows.

    Parameters
    ----------
    mechanism_id : Series
        Group of each row (categorical ids are counted without factorizing).
    success : array-like of bool
        Numerator condition (missing is False).
    eligible : array-like of bool, optional
        Denominator condition (default every row).

    Returns
    -------
    DataFrame
        Indexed by mechanism_id: ``successes``, ``n``, ``value`` (NaN when n = 0).
    """
    codes, labels = group_codes(mechanism_id)
    elig = np.ones(len(codes), dtype=bool) if eligible is None else flag(eligible)
    elig = elig & (codes >= 0)
    succ = flag(success) & elig
    n = np.bincount(codes[elig], minlength=len(labels))
    k = np.bincount(codes[succ], minlength=len(labels))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    return pd.DataFrame({"successes": k, "n": n, "value": value}, index=labels)


def wilson(successes, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (:func:`gm_eval.stats.wilson_interval`); NaN where n = 0."""
    from gm_eval.stats import wilson_interval

    lo, hi = wilson_interval(np.asarray(successes, dtype=float), np.asarray(n, dtype=float), alpha=alpha)
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def days_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Whole days from ``start`` to ``end`` as float (NaN where either is missing)."""
    d = (pd.to_datetime(end) - pd.to_datetime(start)).dt.days
    return d.astype("float64").to_numpy()


def km_summary(group, duration, event, targets=None) -> pd.DataFrame:
    """Kaplan-Meier median and share with the event by a target time, per group.

    A thin layer over :func:`gm_eval.stats.km_by_group` (the project's one
    Kaplan-Meier implementation, identical to statsmodels ``SurvfuncRight``):
    the median is the first event time with S(t) < 0.5, empty when S never
    drops below 0.5; ``within_target`` = 1 - S(target), empty when the target
    lies beyond the last observed time and S has not reached 0. Its interval is
    the pointwise log-log 95% interval of S at the last event time <= target.

    Parameters
    ----------
    group : array-like
        Group (mechanism) of each subject.
    duration : array-like of float
        Days to event or censoring; NaN rows are dropped.
    event : array-like of bool
        Event observed (False: censored).
    targets : array-like, optional
        Target days per subject (constant within a group).

    Returns
    -------
    DataFrame
        Indexed by group: ``n, events, median`` and, with ``targets``,
        ``within_target, ci_low, ci_high``.
    """
    from gm_eval.stats import km_by_group

    codes, labels = group_codes(group)
    df = pd.DataFrame(
        {"group": codes, "duration": np.asarray(duration, dtype=float),
         "event": flag(event).astype(np.int8)}
    )
    df = df[codes >= 0]
    if targets is not None:
        targets = np.asarray(targets, dtype=float)[codes >= 0]
    curves, summary = km_by_group(df, "group", probs=(0.5,), targets=targets)
    curves["group"] = labels[curves["group"].to_numpy()]
    summary["group"] = labels[summary["group"].to_numpy()]
    out = summary.set_index("group")[["n", "events", "q50"]].rename(columns={"q50": "median"})
    if targets is None:
        return out
    out["within_target"] = summary.set_index("group")["within_target"]
    tg = summary.set_index("group")["target"]
    c = curves.merge(tg.rename("_target"), left_on="group", right_index=True)
    c = c[c["t"] <= c["_target"]].groupby("group", sort=False)[["ci_low", "ci_high"]].last()
    # interval of 1 - S: flip the bounds of S
    out["ci_low"] = 1 - c["ci_high"].reindex(out.index)
    out["ci_high"] = 1 - c["ci_low"].reindex(out.index)
    undefined = out["within_target"].isna()
    out.loc[undefined, ["ci_low", "ci_high"]] = np.nan
    return out
