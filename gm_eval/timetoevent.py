"""Time to event: Kaplan-Meier per mechanism for every pair of stage dates.

Durations are whole days from the start date to the end date. Which rows enter
each interval, and how a missing end date is treated, is decided once here:

=============================  ============================  ==================================
interval                       rows analysed                 missing end date
=============================  ============================  ==================================
``received_to_acknowledged``   every case                    censored at ``as_of``
``received_to_closed``         every case                    censored at ``as_of`` (data
                                                             contract: ``closed_at`` of a
                                                             withdrawn or ineligible case is an
                                                             event of closing like any other)
``received_to_referred``       ``referred_at`` set, or       censored at ``as_of`` while the
                               ``referred_to`` a referral    case is open; a settled case
                               target (not ``none``)         without a date is left out
``received_to_assessed``       ``assessed_at`` set, or any   as above
                               case of a ``hotline``
``received_to_removed``        ``removed_at`` set, or a      as above
                               ``hotline`` case of category
                               ``sexual_exploitation_abuse``
``identified_to_referred``     every CLMS child              censored at ``as_of``, also when
                                                             the child's case is closed: every
                                                             identified child should be
                                                             referred and remediated, so a
                                                             missing date counts against
``identified_to_remediation``  every CLMS child              as above
=============================  ============================  ==================================

The rule behind the case stage intervals (referral, assessment, removal): not
every case needs the stage, so a case that is still open may yet reach it and
is censored at ``as_of``, while a case settled without reaching it never
needed it (or its date is unknown) and is left out rather than imputed.
Acknowledgement, closing and the CLMS stages are owed to every unit, so a
missing date is always censored at ``as_of``. Rows whose start is after
``as_of`` are left out, and an end date after ``as_of`` is treated as not yet
observed (censored at ``as_of``).

Targets: the acknowledgement and closing intervals are measured against each
mechanism's own ``target_ack_days`` / ``target_close_days`` (defaults 7 and 30,
:mod:`gm_eval.contract`); ``within_target`` is the Kaplan-Meier estimate of
1 - S(target), so ``received_to_closed`` gives exactly the contract's
``predictable.closed_within_target_rate`` and its ``median`` the contract's
``predictable.median_days_to_close``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.contract import DEFAULT_TARGET_ACK_DAYS, DEFAULT_TARGET_CLOSE_DAYS
from gm_eval.evidence import Evidence
from gm_eval.stats import (
    _DAY_NS,
    DEFAULT_MIN_N,
    _distinct_packed,
    _km_from_distinct,
    _nanoseconds,
    join_flags,
    positions_in,
)

__all__ = ["INTERVALS", "CURVE_COLUMNS", "SUMMARY_COLUMNS", "intervals", "interval_durations"]

#: interval name -> (table, start column, end column)
INTERVALS: dict[str, tuple[str, str, str]] = {
    "received_to_acknowledged": ("cases", "received_at", "acknowledged_at"),
    "received_to_closed": ("cases", "received_at", "closed_at"),
    "received_to_referred": ("cases", "received_at", "referred_at"),
    "received_to_assessed": ("cases", "received_at", "assessed_at"),
    "received_to_removed": ("cases", "received_at", "removed_at"),
    "identified_to_referred": ("clms_children", "identified_at", "referred_at"),
    "identified_to_remediation": ("clms_children", "identified_at", "remediation_started_at"),
}

CURVE_COLUMNS = ["mechanism_id", "interval", "t", "survival", "ci_low", "ci_high", "at_risk"]
SUMMARY_COLUMNS = [
    "mechanism_id", "interval", "n", "events", "median", "median_ci_low", "median_ci_high",
    "p90", "p90_ci_low", "p90_ci_high", "target_days", "within_target", "flags",
]

_REFERRAL_TARGETS_NONE = {"none"}


def _effective_targets(mechanisms: pd.DataFrame) -> pd.DataFrame:
    m = mechanisms[["mechanism_id"]].copy()
    for col, default in (("target_ack_days", DEFAULT_TARGET_ACK_DAYS),
                         ("target_close_days", DEFAULT_TARGET_CLOSE_DAYS)):
        v = mechanisms[col] if col in mechanisms.columns else pd.Series(np.nan, index=mechanisms.index)
        m[col] = pd.to_numeric(v, errors="coerce").astype(float).fillna(default).to_numpy()
    m["mechanism_type"] = mechanisms["mechanism_type"].to_numpy() if "mechanism_type" in mechanisms else np.nan
    return m


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")


def _durations(start: tuple[np.ndarray, np.ndarray], end: tuple[np.ndarray, np.ndarray],
               in_scope: np.ndarray, still_open: np.ndarray, asof: int,
               censor_all: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows kept, their duration in days, their event) for one interval of one table.

    ``start`` is the start dates in nanoseconds and where they are set and not
    after as_of; ``end`` a :func:`gm_eval.stats._nanoseconds` pair; ``asof`` the
    evaluation date in nanoseconds.
    """
    s, start_ok = start
    e, e_nat = end
    # an end date after as_of is not yet observed: censored at as_of like a missing one
    keep = start_ok & in_scope
    if not censor_all:
        keep &= ~e_nat | still_open
    rows = np.flatnonzero(keep)
    if len(rows) < len(keep):
        s, e, e_nat = s[rows], e[rows], e_nat[rows]
    has_end = ~e_nat & (e <= asof)
    dur = np.where(has_end, e, asof)
    dur -= s
    later = dur >= 0
    # whole days as the datetime division computes them: (double) ns / (double) ns per day
    dur = dur / float(_DAY_NS)
    np.floor(dur, out=dur)
    if not later.all():
        rows, dur, has_end = rows[later], dur[later], has_end[later]
    return rows, dur, has_end


def _is(values: pd.Series, *labels: str) -> np.ndarray:
    """Boolean array: value is one of ``labels`` (missing is False)."""
    if values.dtype == object:
        # equality of each object with each label: no hashing of a million strings
        arr = values.to_numpy()
        out = arr == labels[0]
        for label in labels[1:]:
            out |= arr == label
        return np.asarray(out, dtype=bool)
    return values.isin(labels).fillna(False).to_numpy(dtype=bool)


def _coded(evidence: Evidence, table: str, col: str, labels, inside: bool) -> np.ndarray:
    """Boolean array of a column of an evidence table, from its codes
    (:meth:`Evidence.factorized`): value is one of ``labels`` (``inside``) or is present
    and not one of them; missing is False either way."""
    codes, uniques = evidence.factorized(table, col)
    wanted = set(labels)
    lut = np.array([(u in wanted) == inside for u in uniques] + [False], dtype=bool)
    return lut[codes]


def _interval_rows(evidence: Evidence, mids: pd.Index):
    """Yield (interval position, mechanism position, duration, event) of the rows of each interval.

    Mechanism positions are in ``mids``; rows of other mechanisms are left out.
    """
    asof = int(pd.Timestamp(pd.Timestamp(evidence.as_of).normalize()).as_unit("ns").value)
    names = list(INTERVALS)
    mech = evidence.mechanisms
    hot_mech = _is(mech["mechanism_type"], "hotline") if "mechanism_type" in mech else \
        np.zeros(len(mech), dtype=bool)
    hot_pos = mids.get_indexer(pd.Index(mech["mechanism_id"]).astype(object))
    hot_by_pos = np.zeros(len(mids) + 1, dtype=bool)
    hot_by_pos[hot_pos[hot_pos >= 0]] = hot_mech[hot_pos >= 0]

    def rows(name, mcode, kept, dur, ev):
        mc = mcode[kept]
        if len(mc) and mc.min() < 0:
            known = mc >= 0
            mc, dur, ev = mc[known], dur[known], ev[known]
        return names.index(name), mc, dur, ev

    cases = evidence.get("cases")
    if cases is not None and len(cases):
        mcode = positions_in(cases["mechanism_id"], mids)
        n = len(cases)
        is_open = _coded(evidence, "cases", "status", ["open"], True) if "status" in cases \
            else np.ones(n, dtype=bool)
        hotline = hot_by_pos[mcode]
        if "referred_to" in cases:
            ref_target = _coded(evidence, "cases", "referred_to", _REFERRAL_TARGETS_NONE, False)
        else:
            ref_target = np.zeros(n, dtype=bool)
        sea = _coded(evidence, "cases", "category", ["sexual_exploitation_abuse"], True) \
            if "category" in cases else np.zeros(n, dtype=bool)
        allrows = np.ones(n, dtype=bool)
        rules = {
            "received_to_acknowledged": (allrows, True),
            "received_to_closed": (allrows, True),
            "received_to_referred": (ref_target, False),
            "received_to_assessed": (hotline, False),
            "received_to_removed": (hotline & sea, False),
        }
        start = _start(cases["received_at"], asof)  # the same start for every case interval
        for name, (scope, censor_all) in rules.items():
            end = _nanoseconds(_col(cases, INTERVALS[name][2]))
            yield rows(name, mcode, *_durations(start, end, scope | ~end[1], is_open, asof, censor_all))
    clms = evidence.get("clms_children")
    if clms is not None and len(clms):
        mcode = positions_in(clms["mechanism_id"], mids)
        is_open = _col(clms, "closed_at").isna().to_numpy()
        everyone = np.ones(len(clms), dtype=bool)
        for name in ("identified_to_referred", "identified_to_remediation"):
            _, start_col, end_col = INTERVALS[name]
            yield rows(name, mcode, *_durations(_start(clms[start_col], asof),
                                                _nanoseconds(_col(clms, end_col)),
                                                everyone, is_open, asof, True))


def _start(values: pd.Series, asof: int) -> tuple[np.ndarray, np.ndarray]:
    """Start dates in nanoseconds, and where they are set and not after as_of."""
    ns, nat = _nanoseconds(values)
    return ns, ~nat & (ns <= asof)


def _take(labels: np.ndarray, idx: np.ndarray):
    """``labels[idx]`` for a frame column: strings as the ``str`` dtype the frame would infer,
    taken in Arrow (no Python string per row)."""
    if pd.api.types.infer_dtype(labels, skipna=False) == "string":
        return pd.array(labels, dtype="str").take(idx)
    return labels[idx]


def _coded_durations(evidence: Evidence, mids: pd.Index) -> tuple[np.ndarray, ...]:
    """(mechanism position, interval position, duration, event) over all intervals."""
    parts = [(mc, np.full(len(mc), i, dtype=np.int64), dur, ev.astype(float))
             for i, mc, dur, ev in _interval_rows(evidence, mids)]
    if not parts:
        z = np.zeros(0)
        return z.astype(np.int64), z.astype(np.int64), z, z
    return tuple(np.concatenate(x) for x in zip(*parts, strict=True))


def _interval_keys(evidence: Evidence, mids: pd.Index) -> tuple[np.ndarray, int]:
    """Every analysed row as one packed Kaplan-Meier key, and the key's time width.

    The key is ``(group * width + days) * 2 + event`` with group = mechanism
    position * number of intervals + interval position (:func:`gm_eval.stats._distinct_packed`);
    durations are whole days >= 0, so no row needs a float.
    """
    n_i = len(INTERVALS)
    parts = [(i, mc, dur.astype(np.int64), ev) for i, mc, dur, ev in _interval_rows(evidence, mids)]
    width = max((int(p[2].max()) + 1 for p in parts if len(p[2])), default=1)
    small = len(mids) * n_i * width * 2 < 2**31
    keys = []
    for i, mc, days, ev in parts:
        key = mc * n_i
        key += i
        key *= width
        key += days
        key *= 2
        key += ev
        keys.append(key.astype(np.int32) if small else key)
    if not keys:
        return np.zeros(0, dtype=np.int64), width
    return np.concatenate(keys), width


def interval_durations(evidence: Evidence) -> pd.DataFrame:
    """One row per unit and interval it enters: durations and event indicators.

    Parameters
    ----------
    evidence : Evidence
        Validated tables; ``cases`` and ``clms_children`` are read when present.

    Returns
    -------
    DataFrame
        ``mechanism_id, interval, duration, event`` (days, 1 event / 0 censored),
        after the inclusion and censoring rules of the module docstring. Rows of
        mechanisms absent from ``mechanisms`` are dropped.

    Examples
    --------
    >>> import gm_eval.evidence as ev
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"]})
    >>> cases = pd.DataFrame({"mechanism_id": ["m", "m"], "status": ["closed", "open"],
    ...     "received_at": pd.to_datetime(["2025-01-01", "2025-01-10"]),
    ...     "closed_at": pd.to_datetime(["2025-01-11", None])})
    >>> e = ev.Evidence({"mechanisms": mech, "cases": cases}, pd.Timestamp("2025-01-20"))
    >>> d = interval_durations(e)
    >>> d[d["interval"] == "received_to_closed"][["duration", "event"]].values.tolist()
    [[10.0, 1.0], [10.0, 0.0]]
    """
    mids = pd.Index(evidence.mechanisms["mechanism_id"]).astype(object)
    mc, ic, dur, ev = _coded_durations(evidence, mids)
    return pd.DataFrame({
        "mechanism_id": mids.to_numpy()[mc],
        "interval": np.asarray(list(INTERVALS), dtype=object)[ic],
        "duration": dur,
        "event": ev,
    })


def intervals(evidence: Evidence, alpha: float = 0.05, min_n: int = DEFAULT_MIN_N
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier curves and summaries for every mechanism and interval at once.

    Parameters
    ----------
    evidence : Evidence
        Validated tables (``mechanisms``; ``cases`` and ``clms_children`` when present).
    alpha : float
        1 - confidence level of the bands and quantile intervals.
    min_n : int
        Summaries with fewer rows analysed get the flag ``small_n``.

    Returns
    -------
    curves : DataFrame
        results-format ``time_to_event``: ``mechanism_id, interval, t, survival,
        ci_low, ci_high, at_risk``, one row per event time (S = 1 before the first).
    summary : DataFrame
        results-format ``time_to_event_summary``: one row per mechanism and
        interval (all seven intervals for every mechanism): ``n`` rows
        analysed, ``events``, Kaplan-Meier ``median`` and ``p90`` (first time
        with S(t) < 0.5, resp. < 0.1; empty when never reached) with
        log(-log) confidence limits (upper limit empty when not reached),
        ``target_days`` and ``within_target`` = 1 - S(target) for the
        acknowledgement and closing intervals (empty for the others, and when
        follow-up is shorter than the target), and ``flags``: ``small_n``;
        ``not_covered`` when no row could be analysed for an interval the
        mechanism should have (acknowledge, close and referral for every
        mechanism, assessment and removal for hotlines, CLMS intervals for
        ``clms`` mechanisms); ``not_applicable`` otherwise.

    Examples
    --------
    >>> import gm_eval.evidence as ev
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"],
    ...                      "target_close_days": pd.array([20], dtype="Int64")})
    >>> cases = pd.DataFrame({"mechanism_id": ["m"] * 3, "status": ["closed", "closed", "open"],
    ...     "received_at": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-01"]),
    ...     "closed_at": pd.to_datetime(["2025-01-11", "2025-01-31", None])})
    >>> e = ev.Evidence({"mechanisms": mech, "cases": cases}, pd.Timestamp("2025-03-01"))
    >>> curves, summary = intervals(e)
    >>> s = summary.set_index("interval").loc["received_to_closed"]
    >>> float(s["median"]), float(s["target_days"]), round(float(s["within_target"]), 3)
    (30.0, 20.0, 0.333)
    """
    mech = _effective_targets(evidence.mechanisms)
    names = list(INTERVALS)
    mids = mech["mechanism_id"].astype(object).to_numpy()
    n_m, n_i = len(mids), len(names)
    key, width = _interval_keys(evidence, pd.Index(mids))
    tgt_ack = mech["target_ack_days"].to_numpy()
    tgt_close = mech["target_close_days"].to_numpy()
    target_by_gid = np.full(n_m * n_i, np.nan)
    target_by_gid[np.arange(n_m) * n_i + names.index("received_to_acknowledged")] = tgt_ack
    target_by_gid[np.arange(n_m) * n_i + names.index("received_to_closed")] = tgt_close
    # every mechanism x interval is a group (gid), those without rows get n = 0
    curve, s = _km_from_distinct(*_distinct_packed(key, width), n_m * n_i, probs=(0.5, 0.9),
                                 alpha=alpha, tgt=target_by_gid)

    # curves back to ids
    cg = curve["group"]
    curves = pd.DataFrame({
        "mechanism_id": _take(mids, cg // n_i),
        "interval": _take(np.asarray(names, dtype=object), cg % n_i),
        "t": curve["t"],
        "survival": curve["survival"],
        "ci_low": curve["ci_low"],
        "ci_high": curve["ci_high"],
        "at_risk": curve["at_risk"],
    })

    # summary: every mechanism x interval
    full = np.arange(n_m * n_i)
    summary = pd.DataFrame({
        "mechanism_id": mids[full // n_i],
        "interval": np.asarray(names, dtype=object)[full % n_i],
        "n": s["n"],
        "events": s["events"],
        "median": s["q50"],
        "median_ci_low": s["q50_ci_low"],
        "median_ci_high": s["q50_ci_high"],
        "p90": s["q90"],
        "p90_ci_low": s["q90_ci_low"],
        "p90_ci_high": s["q90_ci_high"],
        "target_days": target_by_gid,
        # only the intervals with targets have one (NaN target: NaN)
        "within_target": s["within_target"],
    })
    mt = np.asarray(mech["mechanism_type"].astype(object).to_numpy())[full // n_i]
    interval = summary["interval"].to_numpy()
    expected = np.isin(interval, ["received_to_acknowledged", "received_to_closed", "received_to_referred"])
    expected |= np.isin(interval, ["received_to_assessed", "received_to_removed"]) & (mt == "hotline")
    expected |= np.isin(interval, ["identified_to_referred", "identified_to_remediation"]) & (mt == "clms")
    # referral: with cases but none referred, time to referral does not apply
    has_cases = s["n"][np.arange(n_m) * n_i + names.index("received_to_closed")] > 0
    has_cases = has_cases[full // n_i]
    expected &= ~((interval == "received_to_referred") & has_cases)
    n = s["n"]
    empty = n == 0
    summary["flags"] = join_flags(
        np.where(~empty & (n < min_n), "small_n", ""),
        np.where(empty, np.where(expected, "not_covered", "not_applicable"), ""),
    )
    return curves[CURVE_COLUMNS], summary[SUMMARY_COLUMNS]
