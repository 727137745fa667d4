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
    "wilson",
    "days_between",
    "km_steps",
    "km_quantile",
    "km_survival_at",
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
        """Return input table ``name`` or ``None`` when absent or empty."""
        return self.evidence.tables[name] if self.evidence.has(name) else None

    def derived(self, key: str, fn: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """Compute ``fn()`` once per context and reuse it."""
        if key not in self.cache:
            self.cache[key] = fn()
        return self.cache[key]


def flag(values) -> np.ndarray:
    """Nullable booleans (or anything) to a plain bool array, missing as False."""
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if s.dtype == bool:
        return s.to_numpy()
    return s.fillna(False).astype(bool).to_numpy()


def share(mechanism_id: pd.Series, success, eligible=None) -> pd.DataFrame:
    """Group-wise share of ``success`` among ``eligible`` rows.

    Parameters
    ----------
    mechanism_id : Series
        Group of each row.
    success : array-like of bool
        Numerator condition (missing is False).
    eligible : array-like of bool, optional
        Denominator condition (default every row).

    Returns
    -------
    DataFrame
        Indexed by mechanism_id: ``successes``, ``n``, ``value`` (NaN when n = 0).
    """
    succ = flag(success)
    elig = np.ones(len(mechanism_id), dtype=bool) if eligible is None else flag(eligible)
    df = pd.DataFrame(
        {"mechanism_id": mechanism_id.to_numpy(), "successes": succ & elig, "n": elig}
    )
    out = df.groupby("mechanism_id", sort=False).sum().astype("int64")
    out["value"] = np.where(out["n"] > 0, out["successes"] / out["n"].where(out["n"] > 0, 1), np.nan)
    return out


def _wilson_local(successes, n, alpha=0.05):
    from scipy.stats import norm

    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lo = np.clip(centre - half, 0, 1)
        hi = np.clip(centre + half, 0, 1)
    bad = ~(n > 0)
    lo[bad] = np.nan
    hi[bad] = np.nan
    return lo, hi


def wilson(successes, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval, vectorised.

    Uses :func:`gm_eval.stats.wilson_interval` when available (the project's one
    implementation); falls back to the closed form otherwise. NaN where n = 0.
    """
    try:
        from gm_eval.stats import wilson_interval
    except ImportError:  # pragma: no cover - only while stats.py is not there yet
        return _wilson_local(successes, n, alpha)
    k = np.asarray(successes, dtype=float)
    nn = np.asarray(n, dtype=float)
    ok = nn > 0
    lo = np.full(len(nn), np.nan)
    hi = np.full(len(nn), np.nan)
    if ok.any():
        res = wilson_interval(k[ok], nn[ok], alpha=alpha)
        lo[ok] = np.asarray(res[0], dtype=float)
        hi[ok] = np.asarray(res[1], dtype=float)
    return lo, hi


def days_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Whole days from ``start`` to ``end`` as float (NaN where either is missing)."""
    d = (pd.to_datetime(end) - pd.to_datetime(start)).dt.days
    return d.astype("float64").to_numpy()


def km_steps(group, duration, event) -> pd.DataFrame:
    """Group-wise Kaplan-Meier estimate (right censoring), all groups at once.

    Parameters
    ----------
    group : array-like
        Group of each subject (e.g. mechanism_id).
    duration : array-like of float
        Time to event or censoring (days, >= 0).
    event : array-like of bool
        True when the event was observed, False when censored.

    Returns
    -------
    DataFrame
        One row per group and distinct time: ``group, t, at_risk, events, survival,
        greenwood`` (cumulative sum of d / (n (n - d)), for Greenwood's variance).
        Censored subjects stay at risk at their own time (the usual convention).
    """
    df = pd.DataFrame(
        {"group": np.asarray(group), "t": np.asarray(duration, dtype=float), "e": flag(event)}
    )
    df = df[np.isfinite(df["t"])]
    agg = (
        df.groupby(["group", "t"], sort=True)["e"]
        .agg(["size", "sum"])
        .rename(columns={"size": "count", "sum": "events"})
        .reset_index()
    )
    g = agg.groupby("group", sort=False)
    total = g["count"].transform("sum")
    agg["at_risk"] = total - g["count"].cumsum() + agg["count"]
    n = agg["at_risk"].to_numpy(dtype=float)
    d = agg["events"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log1p(-d / n)
        gw = np.where(d > 0, d / (n * (n - d)), 0.0)
    agg["_log"] = logs
    agg["_gw"] = gw
    g = agg.groupby("group", sort=False)
    agg["survival"] = np.exp(g["_log"].cumsum())
    agg["greenwood"] = g["_gw"].cumsum()
    return agg[["group", "t", "at_risk", "events", "survival", "greenwood"]]


def km_quantile(steps: pd.DataFrame, p: float = 0.5) -> pd.Series:
    """First time with S(t) <= 1 - p per group (NaN when never reached)."""
    hit = steps[steps["survival"] <= (1 - p) + 1e-12]
    q = hit.groupby("group", sort=False)["t"].min()
    return q.reindex(steps["group"].unique())


def km_survival_at(steps: pd.DataFrame, times: pd.Series, alpha: float = 0.05) -> pd.DataFrame:
    """S(t) per group at a group-specific time, with a log-log 95% interval.

    Parameters
    ----------
    steps : DataFrame
        Output of :func:`km_steps`.
    times : Series
        Time per group (indexed by group).

    Returns
    -------
    DataFrame
        Indexed by group: ``survival``, ``ci_low``, ``ci_high`` (S = 1 before the
        first event; the interval is undefined there and where S is 0 or 1).
    """
    from scipy.stats import norm

    t = steps.merge(times.rename("_target"), left_on="group", right_index=True, how="inner")
    t = t[t["t"] <= t["_target"]]
    last = t.groupby("group", sort=False)[["survival", "greenwood"]].last()
    out = pd.DataFrame(index=times.index)
    out["survival"] = last["survival"].reindex(times.index).fillna(1.0)
    gw = last["greenwood"].reindex(times.index).fillna(0.0)
    s = out["survival"].to_numpy()
    z = norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(s)
        se = np.sqrt(gw.to_numpy()) / np.abs(logs)
        theta = np.log(-logs)
        lo = np.exp(-np.exp(theta + z * se))
        hi = np.exp(-np.exp(theta - z * se))
    undefined = (s <= 0) | (s >= 1)
    out["ci_low"] = np.where(undefined, np.nan, lo)
    out["ci_high"] = np.where(undefined, np.nan, hi)
    return out
