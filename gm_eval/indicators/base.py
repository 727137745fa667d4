"""Building blocks shared by the indicator computations.

Every computation takes a :class:`Context` and returns a DataFrame indexed by
``mechanism_id`` with columns ``value`` and ``n`` and, for rates, ``successes``
(the engine adds Wilson intervals) or ready-made ``ci_low``/``ci_high``.
Mechanisms absent from the result are reported as not covered.

The context hands out each input column once as a plain numpy array (group
codes, flags, numbers, nanosecond dates, factorized codes), cached for every
computation that reads it: the million-row tables are never re-scanned per
indicator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from gm_eval.contract import DEFAULT_TARGET_ACK_DAYS, DEFAULT_TARGET_CLOSE_DAYS
from gm_eval.evidence import Evidence
from gm_eval.runs import value_runs

__all__ = [
    "Context",
    "Groups",
    "COMPUTATIONS",
    "computes",
    "flag",
    "share",
    "group_codes",
    "code_isin",
    "masked_parts",
    "value_runs",
    "wilson",
    "days_between",
    "km_summary",
]

#: Computation functions keyed by indicator id (filled by :func:`computes`).
COMPUTATIONS: dict[str, Callable[[Context], pd.DataFrame]] = {}

#: Rows looked at first when testing whether a column holds any value.
_PROBE_ROWS = 4096


def computes(indicator_id: str):
    """Decorator: register the function computing ``indicator_id``."""

    def deco(fn):
        if indicator_id in COMPUTATIONS:
            raise ValueError(f"two computations for {indicator_id}")
        COMPUTATIONS[indicator_id] = fn
        return fn

    return deco


class Groups(tuple):
    """``(codes, labels)``: the group (mechanism) code of every row and the labels.

    Codes are in ``[0, len(labels))``. When they are sorted (a table grouped by
    mechanism, as exports usually are), counts are sums over each run of equal
    codes instead of a ``bincount`` over every row.
    """

    def __new__(cls, codes: np.ndarray, labels: pd.Index):
        return super().__new__(cls, (codes, labels))

    @classmethod
    def from_runs(cls, starts: np.ndarray, run_codes: np.ndarray, n: int, labels: pd.Index) -> Groups:
        """Groups of ``n`` rows given run by run.

        Parameters
        ----------
        starts : ndarray of int
            First row of each run (increasing, the first 0).
        run_codes : ndarray of int64
            Code of each run's rows, in ``[0, len(labels))``; neighbouring runs differ.
        n : int
            Number of rows.
        labels : Index
            Group labels.
        """
        g = cls(np.repeat(run_codes, np.diff(np.append(starts, n))), labels)
        # the runs are known: sorted codes when the runs' codes increase (cached_property's slot)
        g.__dict__["runs"] = (starts, run_codes) if bool(np.all(run_codes[1:] > run_codes[:-1])) else None
        return g

    @property
    def codes(self) -> np.ndarray:
        """Group code of each row."""
        return self[0]

    @property
    def labels(self) -> pd.Index:
        """Group labels."""
        return self[1]

    @cached_property
    def runs(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Start of each run of equal codes and its code, or None when the codes are not sorted."""
        c = self.codes
        if len(c) == 0 or c[0] < 0 or not bool(np.all(c[1:] >= c[:-1])):
            return None
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        return starts, c[starts]

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Rows where ``mask`` (bool, one per row) is True, per label (int64)."""
        runs = self.runs
        if runs is None:
            return np.bincount(self.codes, weights=mask, minlength=len(self.labels)).astype(np.int64)
        out = np.zeros(len(self.labels), dtype=np.int64)
        # bytes summed in 32 bits (a run is shorter than 2**31 rows): twice as fast as bool to int64
        acc = np.int32 if len(mask) < 2**31 else np.int64
        out[runs[1]] = np.add.reduceat(np.asarray(mask, dtype=bool).view(np.uint8), runs[0], dtype=acc)
        return out


@dataclass
class Context:
    """What computations read: evidence, evaluation date, effective targets.

    Parameters
    ----------
    evidence : Evidence
        Validated input tables.
    cache : dict
        Derived frames and arrays shared between computations (filled lazily).

    Notes
    -----
    The column accessors (:meth:`column`, :meth:`flag`, :meth:`notna`,
    :meth:`number`, :meth:`nanoseconds`, :meth:`codes`, :meth:`isin`,
    :meth:`any_of`, :meth:`equals`, :meth:`is_false`) take a table name and a column name;
    a column that was not supplied reads as all missing.
    """

    evidence: Evidence
    cache: dict = field(default_factory=dict)

    @property
    def as_of(self) -> pd.Timestamp:
        """Evaluation date."""
        return pd.Timestamp(self.evidence.as_of).normalize()

    @property
    def as_of_ns(self) -> int:
        """Evaluation date as int64 nanoseconds since 1970."""
        return int(self.as_of.as_unit("ns").value)

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

    def _derive(self, key, fn):
        if key not in self.cache:
            self.cache[key] = fn()
        return self.cache[key]

    def groups(self, name: str) -> Groups:
        """Mechanism codes of the rows of table ``name`` and their labels.

        The labels are every mechanism id (input order), then ids found only in
        this table (sorted); every row's code is its id's position, so
        group-wise counts are a ``bincount`` of the codes.
        """

        def build():
            mid = self.evidence.tables[name]["mechanism_id"]
            runs = value_runs(mid)
            if runs is None:
                codes, uniq = pd.factorize(mid)  # Arrow strings: the distinct ids only become objects
            else:  # rows grouped by id: one id per run, no hashing of every row
                starts, uniq = runs
            uniq = pd.Index(np.asarray(uniq, dtype=object))
            cats = pd.Index(self.evidence.mechanisms["mechanism_id"].astype("object"))
            extra = uniq.difference(cats)
            cats = cats.append(extra) if len(extra) else cats
            labels = pd.Index(cats, name="mechanism_id")
            if runs is not None:
                return Groups.from_runs(starts, cats.get_indexer(uniq).astype(np.int64), len(mid), labels)
            pos = np.append(cats.get_indexer(uniq), -1).astype(np.int64)
            return Groups(pos[codes], labels)

        return self._derive(("groups", name), build)

    def table(self, name: str) -> pd.DataFrame | None:
        """Return input table ``name`` or ``None`` when absent or empty.

        ``mechanism_id`` is returned as a categorical over the labels of
        :meth:`groups` (every mechanism id first).
        """
        if not self.evidence.has(name):
            return None

        def build():
            df = self.evidence.tables[name]
            if name != "mechanisms" and "mechanism_id" in df.columns:
                codes, labels = self.groups(name)
                df = df.assign(mechanism_id=pd.Categorical.from_codes(codes, categories=labels))
            return df

        return self._derive(("table", name), build)

    def derived(self, key: str, fn: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """Compute ``fn()`` once per context and reuse it."""
        return self._derive(key, fn)

    # ------------------------------------------------------------- column accessors
    def column(self, name: str, col: str) -> pd.Series:
        """Column ``col`` of table ``name``, or an all-missing float column when not supplied."""
        df = self.evidence.tables[name]
        if col in df.columns:
            return df[col]
        return pd.Series(np.nan, index=df.index, dtype="float64")

    def supplied(self, name: str, *cols: str) -> bool:
        """Whether every column is present in table ``name`` with at least one value."""
        df = self.evidence.tables[name]
        for c in cols:
            if c not in df.columns:
                return False
            if self._has_codes(name, c):
                if not (self.codes(name, c)[0] >= 0).any():
                    return False
            elif not bool(df[c].iloc[:_PROBE_ROWS].notna().any()) and not bool(df[c].notna().any()):
                return False
        return True

    def flag(self, name: str, col: str) -> np.ndarray:
        """:func:`flag` of a column: True where true, missing as False."""
        return self._derive(("flag", name, col), lambda: flag(self.column(name, col)))

    def notna(self, name: str, col: str) -> np.ndarray:
        """Where the column holds a value."""

        def build():
            if self._has_codes(name, col):
                return self.codes(name, col)[0] >= 0
            return self.column(name, col).notna().to_numpy(dtype=bool)

        return self._derive(("notna", name, col), build)

    def is_false(self, name: str, col: str) -> np.ndarray:
        """Where the column equals False (missing is not False)."""

        def build():
            s = self.column(name, col)
            parts = masked_parts(s)
            if parts is not None and isinstance(s.dtype, pd.BooleanDtype):
                return ~parts[0] & ~parts[1]
            if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
                return ~s.to_numpy(dtype=bool, na_value=True)
            return (s == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712

        return self._derive(("false", name, col), build)

    def number(self, name: str, col: str) -> np.ndarray:
        """The column as float64, NaN where missing (or not a number)."""

        def build():
            s = self.column(name, col)
            if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
                return s.to_numpy(dtype="float64", na_value=np.nan)
            return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)

        return self._derive(("number", name, col), build)

    def at_least(self, name: str, col: str, threshold: int) -> np.ndarray:
        """Where the column is a number >= ``threshold`` (missing is False).

        Nullable integers are compared as integers, without a float copy; the
        same answer as ``number(name, col) >= threshold``.
        """

        def build():
            s = self.column(name, col)
            parts = masked_parts(s)
            if parts is not None and parts[0].dtype.kind in "iu":
                return (parts[0] >= threshold) & ~parts[1]
            return self.number(name, col) >= threshold

        return self._derive(("at_least", name, col, threshold), build)

    def nanoseconds(self, name: str, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Dates as int64 nanoseconds and the missing mask (:func:`gm_eval.stats._nanoseconds`)."""
        from gm_eval.stats import _nanoseconds

        return self._derive(("ns", name, col), lambda: _nanoseconds(self.column(name, col)))

    def codes(self, name: str, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes of the column (-1 where missing) and its distinct values.

        Enum columns come with their codes from loading (:meth:`Evidence.factorized`,
        distinct values sorted); other columns are factorized here by ``pandas.factorize``
        (distinct values in order of first appearance). Only equality of codes is
        meaningful, not their order.
        """

        def build():
            if (name, col) in self.evidence.codes:
                return self.evidence.codes[(name, col)]
            # a small hash table to start with (it grows when needed): pandas would size it
            # for one distinct value per row, tens of megabytes for a million rows
            s = self.column(name, col)
            values = s.to_numpy() if s.dtype == object else s  # (a Series ignores size_hint)
            codes, uniq = pd.factorize(values, size_hint=1024)
            # the smallest signed type that holds the codes and -1 (a million int8, not int64)
            small = np.min_scalar_type(-max(len(uniq), 1))
            return codes.astype(small), np.asarray(uniq, dtype=object)

        return self._derive(("codes", name, col), build)

    def _has_codes(self, name: str, col: str) -> bool:
        """Whether :meth:`codes` of the column costs nothing (cached here or at load)."""
        return ("codes", name, col) in self.cache or (name, col) in self.evidence.codes

    def isin(self, name: str, col: str, values: tuple) -> np.ndarray:
        """Where the column is one of ``values`` (missing is False), from its codes."""

        def build():
            codes, uniq = self.codes(name, col)
            return code_isin(codes, uniq, values)

        return self._derive(("isin", name, col, tuple(values)), build)

    def any_of(self, name: str, col: str, values: tuple) -> np.ndarray:
        """:meth:`isin` by one comparison per value (cheaper than factorizing for few values)."""

        def build():
            if self._has_codes(name, col):
                return self.isin(name, col, values)
            out = np.zeros(len(self.evidence.tables[name]), dtype=bool)
            for v in values:
                out |= self.equals(name, col, v)
            return out

        return self._derive(("any_of", name, col, tuple(values)), build)

    def equals(self, name: str, col: str, value) -> np.ndarray:
        """Where the column equals ``value`` (missing is False)."""

        def build():
            if self._has_codes(name, col):
                return self.isin(name, col, (value,))
            s = self.column(name, col)
            if s.dtype == object:  # one comparison per row, no hashing
                return np.asarray(s.to_numpy() == value, dtype=bool)
            return flag(s == value)

        return self._derive(("equals", name, col, value), build)


def flag(values) -> np.ndarray:
    """Nullable booleans (or anything) to a plain bool array, missing as False."""
    if isinstance(values, np.ndarray) and values.dtype == bool:
        return values
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if s.dtype == bool:
        return s.to_numpy()
    if isinstance(s.dtype, pd.BooleanDtype):
        parts = masked_parts(s)
        if parts is not None:  # (to_numpy with na_value takes a slow path when values are missing)
            return parts[0] & ~parts[1]
        return s.to_numpy(dtype=bool, na_value=False)
    na = s.isna().to_numpy()
    vals = s.to_numpy(dtype=object, na_value=False).copy()
    vals[na] = False
    return vals.astype(bool)


def masked_parts(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Values and missing mask of a nullable column (``boolean``, ``Int64``, ``Float64``...).

    Parameters
    ----------
    values : Series
        A column.

    Returns
    -------
    (data, mask) or None
        The numpy arrays behind a pandas masked array (``data`` is arbitrary
        where ``mask`` is True; both shared, not copies); None for other columns.
    """
    arr = values.array
    if not isinstance(arr, (pd.arrays.BooleanArray, pd.arrays.IntegerArray, pd.arrays.FloatingArray)):
        return None
    data, mask = getattr(arr, "_data", None), getattr(arr, "_mask", None)
    if not isinstance(data, np.ndarray) or not isinstance(mask, np.ndarray) or mask.shape != data.shape:
        return None
    return data, mask


def code_isin(codes: np.ndarray, uniques, values) -> np.ndarray:
    """Where ``uniques[codes]`` is one of ``values``; code -1 (missing) is False.

    Parameters
    ----------
    codes : ndarray of int
        Codes in ``[-1, len(uniques))`` (a factorized column).
    uniques : array-like
        The distinct values the codes point to.
    values : iterable
        The values looked for.

    Returns
    -------
    ndarray of bool
        One per code: one comparison of the codes for a single match, else a
        lookup in a table of ``len(uniques) + 1`` flags.
    """
    wanted = set(values)
    hit = np.array([u in wanted for u in uniques] + [False], dtype=bool)
    at = np.flatnonzero(hit)
    if len(at) == 0:
        return np.zeros(len(codes), dtype=bool)
    if len(at) == 1:
        return codes == at[0]
    return hit[codes]


def group_codes(mechanism_id) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for missing) and labels of a mechanism id column.

    A ``(codes, labels)`` pair (:meth:`Context.groups`) is returned as it is.
    """
    if isinstance(mechanism_id, tuple):
        return mechanism_id
    s = mechanism_id if isinstance(mechanism_id, pd.Series) else pd.Series(mechanism_id)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64), pd.Index(s.cat.categories, name="mechanism_id")
    codes, uniques = pd.factorize(s.to_numpy(dtype=object))
    return codes.astype(np.int64), pd.Index(uniques, dtype="object", name="mechanism_id")


def share(mechanism_id, success, eligible=None) -> pd.DataFrame:
    """Group-wise share of ``success`` among ``eligible`` rows.

    Parameters
    ----------
    mechanism_id : Series or tuple
        Group of each row (categorical ids are counted without factorizing), or
        the ``(codes, labels)`` of :meth:`Context.groups`.
    success : array-like of bool
        Numerator condition (missing is False).
    eligible : array-like of bool, optional
        Denominator condition (default every row).

    Returns
    -------
    DataFrame
        Indexed by mechanism_id: ``successes``, ``n``, ``value`` (NaN when n = 0).
    """
    groups = mechanism_id if isinstance(mechanism_id, Groups) else None
    codes, labels = group_codes(mechanism_id)
    elig = np.ones(len(codes), dtype=bool) if eligible is None else flag(eligible)
    if groups is None:
        if len(codes) and codes.min() < 0:
            elig = elig & (codes >= 0)
            codes = np.maximum(codes, 0)
        groups = Groups(codes, labels)
    succ = flag(success) & elig
    n = groups.count(elig)
    k = groups.count(succ)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    return pd.DataFrame({"successes": k, "n": n, "value": value}, index=labels)


def wilson(successes, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (:func:`gm_eval.stats.wilson_interval`); NaN where n = 0."""
    from gm_eval.stats import wilson_interval

    lo, hi = wilson_interval(np.asarray(successes, dtype=float), np.asarray(n, dtype=float), alpha=alpha)
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def days_between(start, end) -> np.ndarray:
    """Whole days from ``start`` to ``end`` as float (NaN where either is missing).

    ``start`` and ``end`` are date columns or :meth:`Context.nanoseconds` pairs;
    the days are floored, as ``(end - start).dt.days``.
    """
    from gm_eval.stats import _DAY_NS, _nanoseconds

    s, s_na = start if isinstance(start, tuple) else _nanoseconds(start)
    e, e_na = end if isinstance(end, tuple) else _nanoseconds(end)
    with np.errstate(over="ignore"):
        d = ((e - s) // _DAY_NS).astype("float64")
    d[s_na | e_na] = np.nan
    return d


def km_summary(group, duration, event, targets=None) -> pd.DataFrame:
    """Kaplan-Meier median and share with the event by a target time, per group.

    Computed by :func:`gm_eval.stats.km_by_group`'s product-limit core (the
    project's one Kaplan-Meier implementation, identical to statsmodels
    ``SurvfuncRight``): the median is the first event time with S(t) < 0.5,
    empty when S never drops below 0.5; ``within_target`` = 1 - S(target),
    empty when the target lies beyond the last observed time and S has not
    reached 0. Its interval is the pointwise log-log 95% interval of S at the
    last event time <= target where that interval is defined.

    Parameters
    ----------
    group : array-like or tuple
        Group (mechanism) of each subject, or ``(codes, labels)``.
    duration : array-like of float
        Days to event or censoring; NaN rows are dropped.
    event : array-like of bool
        Event observed (False: censored).
    targets : array-like, optional
        Target days per subject (constant within a group).

    Returns
    -------
    DataFrame
        Indexed by group (those with at least one subject): ``n, events, median``
        and, with ``targets``, ``within_target, ci_low, ci_high``.
    """
    from gm_eval.stats import _km_arrays, _last_in_group

    codes, labels = group_codes(group)
    dur = np.asarray(duration, dtype=float)
    ev = flag(event)
    sel = codes >= 0
    present = np.bincount(codes if sel.all() else codes[sel], minlength=len(labels)) > 0
    keep = sel & np.isfinite(dur)
    everyone = bool(keep.all())  # then no row is copied
    g = codes if everyone else codes[keep]
    tgt = None
    if targets is not None:
        tgt_all = np.asarray(targets, dtype=float)
        tgt = np.full(len(labels), np.nan)
        tgt[g] = tgt_all if everyone else tgt_all[keep]  # constant within group: any row will do
    curve, summ = _km_arrays(g, dur if everyone else dur[keep], ev if everyone else ev[keep],
                             len(labels), probs=(0.5,), tgt=tgt)
    idx = pd.Index(labels[present], name="group")
    out = pd.DataFrame(
        {"n": summ["n"][present], "events": summ["events"][present], "median": summ["q50"][present]},
        index=idx,
    )
    if targets is None:
        return out
    within = summ["within_target"]
    # the band of S at the last time <= target where it is defined, flipped for 1 - S
    ug, t = curve["group"], curve["t"]
    before = t <= tgt[ug]
    c_low = np.full(len(labels), np.nan)
    c_high = np.full(len(labels), np.nan)
    gg, li = _last_in_group(ug, before & ~np.isnan(curve["ci_low"]))
    c_low[gg] = curve["ci_low"][li]
    gg, li = _last_in_group(ug, before & ~np.isnan(curve["ci_high"]))
    c_high[gg] = curve["ci_high"][li]
    undefined = np.isnan(within)
    out["within_target"] = within[present]
    out["ci_low"] = np.where(undefined, np.nan, 1 - c_high)[present]
    out["ci_high"] = np.where(undefined, np.nan, 1 - c_low)[present]
    return out
