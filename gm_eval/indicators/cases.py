"""Indicators computed from the case log (``cases``, with ``workforce`` denominators).

The computations read the case columns through the :class:`~gm_eval.indicators.base.Context`
accessors, so each million-row column is converted (factorized, flagged, turned
into nanoseconds) once for all indicators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.indicators.base import (
    Context,
    Groups,
    computes,
    days_between,
    flag,
    group_codes,
    km_summary,
    share,
)

__all__ = ["col", "supplied", "age_band", "parity", "repeat_flags", "REMEDIED", "REMEDY_ELIGIBLE", "PARITY_MIN_GROUP_N"]

REMEDIED = ("remedied", "partially_remedied")
REMEDY_ELIGIBLE = ("remedied", "partially_remedied", "no_remedy")
CHILD_CATEGORIES = ("child_labour", "sexual_exploitation_abuse")
CHILD_REFERRALS = ("child_protection", "law_enforcement", "social_services")
#: Parity ratios compare only groups with at least this many observations.
PARITY_MIN_GROUP_N = 5
REPEAT_WINDOW_DAYS = 365
_GENDERS_KNOWN = ("female", "male", "other")


def col(df: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` of ``df``, or an all-missing column when it was not supplied."""
    if name in df.columns:
        return df[name]
    return pd.Series(np.nan, index=df.index, dtype="float64")


def age_band(age: pd.Series) -> pd.Series:
    """Age bands ``under_15``, ``15_17``, ``18_plus``, ``unknown``."""
    a = pd.to_numeric(age, errors="coerce").astype("float64")
    out = np.select([a < 15, a < 18, a >= 18], ["under_15", "15_17", "18_plus"], "unknown")
    return pd.Series(out, index=age.index)


def supplied(df: pd.DataFrame, *columns: str) -> bool:
    """Whether every column is present in ``df`` with at least one value.

    An indicator whose defining column was not supplied at all is not covered:
    the literal definition (for example "missing counts as not anonymous") applies
    only once the column is part of the data.
    """
    return all(c in df.columns and bool(df[c].notna().any()) for c in columns)


_C = "cases"


def _g(ctx: Context):
    """Mechanism codes and labels of the cases."""
    return ctx.groups(_C)


def _closed(ctx: Context) -> np.ndarray:
    """Cases with status closed."""
    return ctx.equals(_C, "status", "closed")


def _age(ctx: Context) -> np.ndarray:
    """Case ages as float (NaN when unknown)."""
    return ctx.number(_C, "age")


def _target(ctx: Context, column: str) -> np.ndarray:
    """The mechanism's effective target (``target_ack_days`` ...) of each case, NaN for unknown ids."""

    def build():
        codes, labels = _g(ctx)
        m = ctx.mechanisms
        per_label = m[column].astype("float64").to_numpy()
        pos = pd.Index(m["mechanism_id"].astype(object)).get_indexer(labels)
        by_label = np.append(np.where(pos >= 0, per_label[pos], np.nan), np.nan)
        return by_label[codes]

    return ctx.derived(f"cases.target.{column}", build)


# ------------------------------------------------------------------ legitimate
@computes("legitimate.satisfaction_rate")
def satisfaction_rate(ctx: Context):
    return share(_g(ctx), ctx.at_least(_C, "satisfaction", 4), ctx.notna(_C, "satisfaction"))


# ------------------------------------------------------------------ accessible
@computes("accessible.anonymous_share")
def anonymous_share(ctx: Context):
    if not ctx.supplied(_C, "anonymous"):
        return None
    return share(_g(ctx), ctx.flag(_C, "anonymous"))


def _representation(ctx: Context, case_mask, known_mask, wf_col: str) -> pd.DataFrame | None:
    if not ctx.evidence.has("workforce") or wf_col not in ctx.evidence.tables["workforce"].columns:
        return None
    s = share(_g(ctx), case_mask, known_mask)
    wshare = _workforce_share(ctx, wf_col)
    s = s.join(wshare, how="inner")
    s["value"] = s["value"] / s["wshare"]
    return s[["value", "n"]]


def _workforce_share(ctx: Context, wf_col: str) -> pd.Series:
    """Per mechanism: sum of ``wf_col`` / sum of ``headcount`` (where both are > 0)."""
    wf = ctx.evidence.tables["workforce"]
    integer = all(pd.api.types.is_integer_dtype(wf[c].dtype) for c in (wf_col, "headcount"))
    if not integer:  # sums of floats: pandas' own (compensated) summation
        w = ctx.table("workforce").groupby("mechanism_id", sort=False).agg(
            num=(wf_col, lambda x: x.sum(min_count=1)), den=("headcount", "sum")
        )
        w = w[(w["den"] > 0) & w["num"].notna() & (w["num"] > 0)]
        return (w["num"].astype(float) / w["den"].astype(float)).rename("wshare")
    # whole numbers: exact sums by bincount
    codes, labels = ctx.groups("workforce")
    num_v = ctx.number("workforce", wf_col)
    den_v = ctx.number("workforce", "headcount")
    rows = np.bincount(codes, minlength=len(labels))
    has_num = np.bincount(codes, weights=~np.isnan(num_v), minlength=len(labels)) > 0
    num = np.bincount(codes, weights=np.nan_to_num(num_v), minlength=len(labels))
    den = np.bincount(codes, weights=np.nan_to_num(den_v), minlength=len(labels))
    ok = (rows > 0) & (den > 0) & has_num & (num > 0)
    return pd.Series(num[ok] / den[ok], index=labels[ok], name="wshare")


@computes("accessible.young_worker_representation_ratio")
def young_worker_representation_ratio(ctx: Context):
    age = _age(ctx)
    return _representation(ctx, (age >= 15) & (age <= 17), ~np.isnan(age), "aged_15_17")


@computes("accessible.female_representation_ratio")
def female_representation_ratio(ctx: Context):
    return _representation(
        ctx, ctx.equals(_C, "gender", "female"), ctx.any_of(_C, "gender", _GENDERS_KNOWN), "female"
    )


@computes("accessible.channel_diversity")
def channel_diversity(ctx: Context):
    ch, uniq = ctx.codes(_C, "channel")
    known = ch >= 0
    if not known.any():
        return None
    codes, labels = _g(ctx)
    # (mechanism, channel) pairs in order of first appearance, as groupby(sort=False) orders them
    pair, pairs = pd.factorize(codes[known] * len(uniq) + ch[known], size_hint=len(labels) * len(uniq))
    counts = pd.Series(np.bincount(pair, minlength=len(pairs)))
    mech = labels[np.asarray(pairs) // len(uniq)]
    by_mech = counts.groupby(mech, sort=False)
    n = by_mech.transform("sum")
    p2 = (counts / n) ** 2
    out = pd.DataFrame({"value": 1 - p2.groupby(mech, sort=False).sum()})
    out["n"] = by_mech.sum()
    return out


@computes("accessible.child_filed_share")
def child_filed_share(ctx: Context):
    if not ctx.supplied(_C, "complainant_type"):
        return None
    return share(_g(ctx), ctx.equals(_C, "complainant_type", "child"), _age(ctx) < 18)


# ----------------------------------------------------------------- predictable
@computes("predictable.ack_within_target_rate")
def ack_within_target_rate(ctx: Context):
    if not ctx.supplied(_C, "acknowledged_at"):
        return None
    target = _target(ctx, "target_ack_days")
    received = ctx.nanoseconds(_C, "received_at")
    age_days = days_between(received, (np.full(1, ctx.as_of_ns), np.zeros(1, dtype=bool)))
    eligible = age_days >= target
    took = days_between(received, ctx.nanoseconds(_C, "acknowledged_at"))
    within = took <= target  # never acknowledged (NaN): not within (targets are finite)
    return share(_g(ctx), within, eligible)


def _km_inputs(ctx: Context, rows, end_col: str, censor_col: str | None):
    """Durations and event flags of ``rows``: event when ``end_col`` is set (and not after as_of).

    Without an event the case is censored at ``censor_col`` when that date is set
    and not after as_of, else at as_of.
    """
    asof = ctx.as_of_ns
    s, s_na = ctx.nanoseconds(_C, "received_at")
    e, e_na = ctx.nanoseconds(_C, end_col)
    if rows is not None:
        s, s_na, e, e_na = s[rows], s_na[rows], e[rows], e_na[rows]
    event = ~e_na & (e <= asof)
    if censor_col is None:
        stop = np.where(event, e, asof)
    else:
        c, c_na = ctx.nanoseconds(_C, censor_col)
        if rows is not None:
            c, c_na = c[rows], c_na[rows]
        stop = np.where(event, e, np.where(~c_na & (c <= asof), c, asof))
    return days_between((s, s_na), (stop, np.zeros(len(stop), dtype=bool))), event


def _close_km(ctx: Context) -> pd.DataFrame:
    def build():
        dur, ev = _km_inputs(ctx, None, "closed_at", None)
        return km_summary(_g(ctx), dur, ev, targets=_target(ctx, "target_close_days"))

    return ctx.derived("km.received_to_closed", build)


@computes("predictable.median_days_to_close")
def median_days_to_close(ctx: Context):
    if not ctx.supplied(_C, "closed_at"):
        return None
    km = _close_km(ctx)
    return pd.DataFrame({"value": km["median"], "n": km["n"]})


@computes("predictable.closed_within_target_rate")
def closed_within_target_rate(ctx: Context):
    if not ctx.supplied(_C, "closed_at"):
        return None
    km = _close_km(ctx)
    return pd.DataFrame(
        {"value": km["within_target"], "ci_low": km["ci_low"], "ci_high": km["ci_high"], "n": km["n"]}
    )


@computes("predictable.remedy_on_time_rate")
def remedy_on_time_rate(ctx: Context):
    due, due_na = ctx.nanoseconds(_C, "remedy_due_at")
    done, done_na = ctx.nanoseconds(_C, "remedy_completed_at")
    eligible = ~due_na & (due <= ctx.as_of_ns)
    return share(_g(ctx), ~done_na & ~due_na & (done <= due), eligible)


def _km_median(ctx: Context, mask, end_col: str) -> pd.DataFrame | None:
    rows = flag(mask)
    if not rows.any() or not ctx.supplied(_C, end_col):
        return None
    dur, ev = _km_inputs(ctx, rows, end_col, "closed_at")
    codes, labels = _g(ctx)
    km = km_summary((codes[rows], labels), dur, ev)
    return pd.DataFrame({"value": km["median"], "n": km["n"]})


@computes("predictable.median_days_to_referral")
def median_days_to_referral(ctx: Context):
    none = ctx.isin(_C, "referred_to", ("none",))  # factorizes: notna from the codes
    referred = ctx.notna(_C, "referred_to") & ~none
    return _km_median(ctx, referred, "referred_at")


@computes("predictable.median_days_to_removal")
def median_days_to_removal(ctx: Context):
    return _km_median(ctx, ~ctx.nanoseconds(_C, "assessed_at")[1], "removed_at")


# ------------------------------------------------------------------- equitable
@computes("equitable.advice_rate")
def advice_rate(ctx: Context):
    return share(_g(ctx), ctx.flag(_C, "advice_provided"), _closed(ctx) & ctx.notna(_C, "advice_provided"))


def parity(mechanism_id, group, success, eligible, min_group_n: int = PARITY_MIN_GROUP_N):
    """Lowest group's rate divided by the highest's, per mechanism.

    Groups with fewer than ``min_group_n`` eligible rows are left out; a mechanism
    with fewer than two groups left gets no row. When every group's rate is 0 the
    ratio is 1 (no disparity).

    Parameters
    ----------
    mechanism_id : Series or tuple
        Mechanism of each row, or ``(codes, labels)``.
    group : array-like
        Group label of each row (missing: the row is left out).
    success, eligible : array-like of bool
        The rate's numerator and denominator conditions.
    min_group_n : int
        Smallest group compared.

    Returns
    -------
    DataFrame
        Indexed by mechanism_id: ``value``, ``n`` (rows in the compared groups).
    """
    gcodes, guniq = pd.factorize(np.asarray(group, dtype=object))
    return _parity(group_codes(mechanism_id), gcodes, len(guniq), success, eligible, min_group_n)


def _parity(groups, gcodes: np.ndarray, n_groups: int, success, eligible,
            min_group_n: int = PARITY_MIN_GROUP_N) -> pd.DataFrame:
    """:func:`parity` with the groups already coded (``gcodes`` in ``[0, n_groups)``, -1 missing).

    The ratio does not depend on how the groups are numbered (a minimum and a
    maximum of rates, a sum of counts).
    """
    codes, labels = groups
    ok = flag(eligible) & (codes >= 0) & (gcodes >= 0)
    n_g, n_m = max(n_groups, 1), len(labels)
    if isinstance(groups, Groups) and groups.runs is not None:  # sums over runs, group by group
        hit = ok & flag(success)
        in_g = [gcodes == j for j in range(n_g)]
        size = np.stack([groups.count(ok & m) for m in in_g], axis=1)
        succ = np.stack([groups.count(hit & m) for m in in_g], axis=1)
    else:
        key = np.maximum(codes, 0) * n_g + np.maximum(gcodes, 0)
        size = np.bincount(key, weights=ok, minlength=n_m * n_g).astype(np.int64).reshape(n_m, n_g)
        succ = np.bincount(key, weights=ok & flag(success), minlength=n_m * n_g)
        succ = succ.astype(np.int64).reshape(n_m, n_g)
    valid = size >= min_group_n
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(valid, succ / np.maximum(size, 1), np.nan)
    groups_left = valid.sum(axis=1)
    keep = groups_left >= 2
    lo = np.nanmin(np.where(keep[:, None], rate, 0.0), axis=1)
    hi = np.nanmax(np.where(keep[:, None], rate, 0.0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(hi > 0, lo / np.where(hi > 0, hi, 1), 1.0)
    out = pd.DataFrame({"value": value, "n": (size * valid).sum(axis=1)}, index=labels)
    return out[keep]


def _remedy_eligible(ctx: Context) -> np.ndarray:
    return ctx.derived(
        "cases.remedy_eligible", lambda: _closed(ctx) & ctx.any_of(_C, "outcome", REMEDY_ELIGIBLE)
    )


def _remedied(ctx: Context) -> np.ndarray:
    return ctx.any_of(_C, "outcome", REMEDIED)


def _gender_fm(ctx: Context) -> tuple[np.ndarray, int]:
    """Gender codes: female 0, male 1, anything else -1."""

    def build():
        female, male = ctx.equals(_C, "gender", "female"), ctx.equals(_C, "gender", "male")
        return np.where(female, 0, np.where(male, 1, -1)).astype(np.int8), 2

    return ctx.derived("cases.gender_fm", build)


def _age_bands(ctx: Context) -> tuple[np.ndarray, int]:
    """Age band codes under_15 0, 15_17 1, 18_plus 2 (-1 when the age is unknown)."""

    def build():
        a = _age(ctx)
        band = (a >= 15).astype(np.int8) + (a >= 18)  # 0, 1, 2 (one pass each, no np.select)
        band[np.isnan(a)] = -1
        return band, 3

    return ctx.derived("cases.age_band", build)


def _informed_eligible(ctx: Context) -> np.ndarray:
    """Closed, not anonymous, whether the complainant was informed recorded."""
    return ctx.derived(
        "cases.informed_eligible",
        lambda: _closed(ctx) & ctx.is_false(_C, "anonymous") & ctx.notna(_C, "complainant_informed"),
    )


@computes("equitable.outcome_parity_gender")
def outcome_parity_gender(ctx: Context):
    return _parity(_g(ctx), *_gender_fm(ctx), _remedied(ctx), _remedy_eligible(ctx))


@computes("equitable.outcome_parity_age")
def outcome_parity_age(ctx: Context):
    return _parity(_g(ctx), *_age_bands(ctx), _remedied(ctx), _remedy_eligible(ctx))


@computes("equitable.informed_parity_gender")
def informed_parity_gender(ctx: Context):
    return _parity(_g(ctx), *_gender_fm(ctx), ctx.flag(_C, "complainant_informed"), _informed_eligible(ctx))


@computes("equitable.informed_parity_age")
def informed_parity_age(ctx: Context):
    return _parity(_g(ctx), *_age_bands(ctx), ctx.flag(_C, "complainant_informed"), _informed_eligible(ctx))


# ----------------------------------------------------------------- transparent
@computes("transparent.informed_rate")
def informed_rate(ctx: Context):
    return share(_g(ctx), ctx.flag(_C, "complainant_informed"), _informed_eligible(ctx))


# ----------------------------------------------------------- rights_compatible
@computes("rights_compatible.child_referral_rate")
def child_referral_rate(ctx: Context):
    if not ctx.supplied(_C, "referred_to"):
        return None
    elig = (_age(ctx) < 18) & ctx.isin(_C, "category", CHILD_CATEGORIES)
    return share(_g(ctx), ctx.isin(_C, "referred_to", CHILD_REFERRALS), elig)


@computes("rights_compatible.retaliation_rate")
def retaliation_rate(ctx: Context):
    return share(_g(ctx), ctx.flag(_C, "retaliation_reported"), ctx.notna(_C, "retaliation_reported"))


@computes("rights_compatible.remedy_rate")
def remedy_rate(ctx: Context):
    return share(_g(ctx), _remedied(ctx), _remedy_eligible(ctx))


# --------------------------------------------------------- continuous_learning
def repeat_flags(cases: pd.DataFrame, window_days: int = REPEAT_WINDOW_DAYS) -> np.ndarray:
    """Whether another case of the same mechanism, site and category closed in the window.

    The window is ``received_at - window_days <= closed_at < received_at``; a missing
    ``site_id`` is treated as one site. Vectorised: every (mechanism, site,
    category) becomes one integer key, and the closures and receipts are sorted
    together by (key, day) so that each case finds the latest closure before it.

    Returns
    -------
    numpy.ndarray of bool
        Aligned on the rows of ``cases``.
    """
    from gm_eval.stats import _nanoseconds

    mc, _ = group_codes(cases["mechanism_id"])
    sc, su = pd.factorize(col(cases, "site_id").astype("object").fillna("\x00").to_numpy())
    cc, cu = pd.factorize(cases["category"].astype("object").to_numpy())
    key = (mc * max(len(su), 1) + sc) * max(len(cu), 1) + cc
    return _repeats(key, _nanoseconds(cases["received_at"]), _nanoseconds(col(cases, "closed_at")),
                    window_days)


def _repeats(key: np.ndarray, received, closed, window_days: int) -> np.ndarray:
    """:func:`repeat_flags` from the (mechanism, site, category) key of each case.

    ``received`` and ``closed`` are nanosecond pairs (:func:`gm_eval.stats._nanoseconds`).
    """
    from gm_eval.stats import _DAY_NS

    n = len(key)
    r_ns, r_na = received
    c_ns, c_na = closed
    has = ~c_na
    if not has.any():
        return np.zeros(n, dtype=bool)
    recv = r_ns // _DAY_NS  # whole days since 1970 (floored, as datetime64[D])
    clos = c_ns[has] // _DAY_NS
    if r_na.any():  # a case without a receipt date is never a repeat (its closure counts)
        return _repeats_by_search(key, recv, r_na, key[has], clos, window_days)
    lo = min(int(recv.min()), int(clos.min()))
    # day offsets are < days; a key step of days + window + 1 puts receipts and closures of
    # different keys more than the window apart
    days = max(int(recv.max()), int(clos.max())) - lo + 1
    span = days + max(int(window_days), 0) + 1
    k = key - key.min()
    bits = max(int(n).bit_length(), 1)
    if (int(k.max()) + 1) * span * 2 >= 2 ** (62 - bits):
        return _repeats_by_search(key, recv, r_na, key[has], clos, window_days)
    # one sorted array of ((key * span + day) * 2 + is_closure) << bits | row: a receipt sorts
    # after the closures of earlier days of its key and before those of its own day
    # (built in place: every temporary of a million rows is memory to fault in)
    n_c = int(has.sum())
    v = np.empty(n + n_c, dtype=np.int64)
    q, c = v[:n], v[n:]
    np.multiply(k, span, out=q)
    q += recv
    q -= lo
    q <<= bits + 1
    q |= np.arange(n, dtype=np.int64)
    np.multiply(k[has], span, out=c)
    c += clos
    c -= lo
    c <<= 1
    c += 1
    c <<= bits
    c |= np.flatnonzero(has)
    del q, c
    v.sort()
    is_clos = (v & (1 << bits)).astype(bool)
    # the latest closure before each receipt: the closures before it in the sorted order
    at = ~is_clos
    before = np.cumsum(is_clos, dtype=np.int32 if len(v) < 2**31 else np.int64)[at]
    before -= 1
    receipts = v[at]
    closures = v[is_clos]
    del v, is_clos, at
    closures >>= bits + 1
    gap = receipts >> (bits + 1)
    gap -= closures[np.maximum(before, 0)]
    # same key and within the window <=> (key * span + day) differs by at most the window
    hit = (before >= 0) & (gap <= window_days)
    receipts &= (1 << bits) - 1
    out = np.zeros(n, dtype=bool)
    out[receipts] = hit
    return out


def _repeats_by_search(key, recv, r_na, ckey_raw, clos, window_days) -> np.ndarray:
    """:func:`_repeats` by binary search (keys too wide to pack, or receipts missing)."""
    rv = recv.astype(float)
    rv[r_na] = np.nan
    lo = int(np.nanmin(np.concatenate([rv, clos.astype(float)])))
    span = int(np.nanmax(np.concatenate([rv, clos.astype(float)]))) - lo + 2
    ckey = np.sort(ckey_raw * span + (clos - lo))
    q = key * span + (np.where(r_na, 0, recv) - lo)
    idx = np.searchsorted(ckey, q, side="left") - 1
    prev = ckey[np.maximum(idx, 0)]
    same = (idx >= 0) & (prev // span == key) & ~r_na
    prev_day = prev % span + lo
    return same & (prev_day >= recv - window_days)


def _repeat_key(ctx: Context) -> np.ndarray | None:
    """(mechanism, site, category) of each case as one integer (missing site: one site)."""
    cc, cu = ctx.codes(_C, "category")
    if (cc < 0).any():
        return None  # categories are required; else repeat_flags' own coding
    mc, _ = _g(ctx)
    s = ctx.column(_C, "site_id")
    sc, su = pd.factorize(s)
    su = np.asarray(su, dtype=object)
    # a missing site is the site "\x00" (as repeat_flags fills it)
    nul = np.flatnonzero(su == "\x00")
    sc = np.where(sc < 0, nul[0] if len(nul) else len(su), sc)
    n_s = len(su) + 1
    return (mc * n_s + sc) * max(len(cu), 1) + cc


@computes("continuous_learning.repeat_rate")
def repeat_rate(ctx: Context):
    if not ctx.supplied(_C, "closed_at"):
        return None
    key = _repeat_key(ctx)
    if key is None:
        flags = repeat_flags(ctx.table(_C))
    else:
        flags = _repeats(key, ctx.nanoseconds(_C, "received_at"), ctx.nanoseconds(_C, "closed_at"),
                         REPEAT_WINDOW_DAYS)
    return share(_g(ctx), flags)


@computes("continuous_learning.appeal_rate")
def appeal_rate(ctx: Context):
    return share(_g(ctx), ctx.flag(_C, "appealed"), _closed(ctx) & ctx.notna(_C, "appealed"))


@computes("continuous_learning.root_cause_rate")
def root_cause_rate(ctx: Context):
    r = "root_cause_recorded"
    return share(_g(ctx), ctx.flag(_C, r), _closed(ctx) & ctx.notna(_C, r))


@computes("continuous_learning.remedy_trend_ratio")
def remedy_trend_ratio(ctx: Context):
    from gm_eval.stats import _DAY_NS

    rec, rec_na = ctx.nanoseconds(_C, "received_at")
    asof = ctx.as_of_ns
    y1 = asof - 365 * _DAY_NS
    y2 = asof - 730 * _DAY_NS
    elig = _remedy_eligible(ctx) & ~rec_na
    ok = _remedied(ctx)
    g = _g(ctx)
    recent = share(g, ok, elig & (rec > y1) & (rec <= asof))
    before = share(g, ok, elig & (rec > y2) & (rec <= y1))
    both = recent.merge(before, left_index=True, right_index=True, how="left", suffixes=("_r", "_b"))
    both = both[(both["n_r"] > 0) & (both["n_b"] > 0) & (both["value_b"] > 0)]
    return pd.DataFrame(
        {"value": both["value_r"] / both["value_b"], "n": both["n_r"] + both["n_b"]}
    )


# --------------------------------------------------------- engagement_dialogue
@computes("engagement_dialogue.dialogue_rate")
def dialogue_rate(ctx: Context):
    d = "resolved_by_dialogue"
    return share(_g(ctx), ctx.flag(_C, d), _closed(ctx) & ctx.notna(_C, d))
