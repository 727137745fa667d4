"""Indicators computed from the case log (``cases``, with ``workforce`` denominators)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.indicators.base import (
    Context,
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


def _cases(ctx: Context) -> pd.DataFrame | None:
    return ctx.table("cases")


def _closed(ctx: Context) -> np.ndarray:
    """Cases with status closed (cached per context)."""
    return ctx.derived(
        "cases.closed", lambda: flag(col(_cases(ctx), "status").to_numpy(dtype=object) == "closed")
    )


def _age(ctx: Context) -> np.ndarray:
    """Case ages as float (NaN when unknown), cached."""
    return ctx.derived(
        "cases.age",
        lambda: pd.to_numeric(col(_cases(ctx), "age"), errors="coerce")
        .astype("float64")
        .to_numpy(na_value=np.nan),
    )


def _outcome_in(ctx: Context, values: tuple[str, ...]) -> np.ndarray:
    return ctx.derived(
        f"cases.outcome.{values}",
        lambda: flag(col(_cases(ctx), "outcome").isin(values).to_numpy()),
    )


def _gender_fm(ctx: Context) -> np.ndarray:
    """Gender when female or male, else None (cached)."""

    def build():
        g = col(_cases(ctx), "gender").to_numpy(dtype=object)
        return np.where((g == "female") | (g == "male"), g, None)

    return ctx.derived("cases.gender_fm", build)


# ------------------------------------------------------------------ legitimate
@computes("legitimate.satisfaction_rate")
def satisfaction_rate(ctx: Context):
    c = _cases(ctx)
    sat = col(c, "satisfaction")
    return share(c["mechanism_id"], sat >= 4, sat.notna())


# ------------------------------------------------------------------ accessible
@computes("accessible.anonymous_share")
def anonymous_share(ctx: Context):
    c = _cases(ctx)
    if not supplied(c, "anonymous"):
        return None
    return share(c["mechanism_id"], col(c, "anonymous"))


def _representation(ctx: Context, case_mask, known_mask, wf_col: str) -> pd.DataFrame | None:
    c = _cases(ctx)
    wf = ctx.table("workforce")
    if wf is None or wf_col not in wf.columns:
        return None
    s = share(c["mechanism_id"], case_mask, known_mask)
    w = wf.groupby("mechanism_id", sort=False).agg(
        num=(wf_col, lambda x: x.sum(min_count=1)), den=("headcount", "sum")
    )
    w = w[(w["den"] > 0) & w["num"].notna() & (w["num"] > 0)]
    wshare = (w["num"].astype(float) / w["den"].astype(float)).rename("wshare")
    s = s.join(wshare, how="inner")
    s["value"] = s["value"] / s["wshare"]
    return s[["value", "n"]]


@computes("accessible.young_worker_representation_ratio")
def young_worker_representation_ratio(ctx: Context):
    age = _age(ctx)
    return _representation(ctx, (age >= 15) & (age <= 17), ~np.isnan(age), "aged_15_17")


@computes("accessible.female_representation_ratio")
def female_representation_ratio(ctx: Context):
    c = _cases(ctx)
    g = col(c, "gender")
    return _representation(ctx, g == "female", g.isin(["female", "male", "other"]), "female")


@computes("accessible.channel_diversity")
def channel_diversity(ctx: Context):
    c = _cases(ctx)
    ch = col(c, "channel")
    known = c.loc[ch.notna().to_numpy(), ["mechanism_id"]].assign(channel=ch[ch.notna()])
    if known.empty:
        return None
    counts = known.groupby(["mechanism_id", "channel"], sort=False).size()
    n = counts.groupby(level=0, sort=False).transform("sum")
    p2 = (counts / n) ** 2
    out = pd.DataFrame({"value": 1 - p2.groupby(level=0, sort=False).sum()})
    out["n"] = counts.groupby(level=0, sort=False).sum()
    return out


@computes("accessible.child_filed_share")
def child_filed_share(ctx: Context):
    c = _cases(ctx)
    if not supplied(c, "complainant_type"):
        return None
    age = _age(ctx)
    return share(c["mechanism_id"], col(c, "complainant_type") == "child", age < 18)


# ----------------------------------------------------------------- predictable
@computes("predictable.ack_within_target_rate")
def ack_within_target_rate(ctx: Context):
    c = _cases(ctx)
    if not supplied(c, "acknowledged_at"):
        return None
    target = c["mechanism_id"].map(ctx.mechanisms.set_index("mechanism_id")["target_ack_days"])
    target = target.astype("float64").to_numpy()
    age_days = days_between(c["received_at"], pd.Series(ctx.as_of, index=c.index))
    eligible = age_days >= target
    took = days_between(c["received_at"], col(c, "acknowledged_at"))
    within = np.nan_to_num(took, nan=np.inf) <= target
    return share(c["mechanism_id"], within, eligible)


def _km_inputs(start, end, censor_at, as_of):
    """Durations and event flags: event when ``end`` is set (and not after as_of)."""
    as_of_s = pd.Series(as_of, index=start.index)
    end = pd.to_datetime(end)
    event = (end.notna() & (end <= as_of)).to_numpy()
    stop = end.where(event, censor_at.where(censor_at <= as_of, as_of_s))
    return days_between(start, stop), event


def _close_km(ctx: Context) -> pd.DataFrame:
    def build():
        c = _cases(ctx)
        dur, ev = _km_inputs(
            c["received_at"], col(c, "closed_at"), pd.Series(pd.NaT, index=c.index), ctx.as_of
        )
        target = c["mechanism_id"].map(ctx.mechanisms.set_index("mechanism_id")["target_close_days"])
        return km_summary(c["mechanism_id"], dur, ev, targets=target.astype("float64").to_numpy())

    return ctx.derived("km.received_to_closed", build)


@computes("predictable.median_days_to_close")
def median_days_to_close(ctx: Context):
    if not supplied(_cases(ctx), "closed_at"):
        return None
    km = _close_km(ctx)
    return pd.DataFrame({"value": km["median"], "n": km["n"]})


@computes("predictable.closed_within_target_rate")
def closed_within_target_rate(ctx: Context):
    if not supplied(_cases(ctx), "closed_at"):
        return None
    km = _close_km(ctx)
    return pd.DataFrame(
        {"value": km["within_target"], "ci_low": km["ci_low"], "ci_high": km["ci_high"], "n": km["n"]}
    )


@computes("predictable.remedy_on_time_rate")
def remedy_on_time_rate(ctx: Context):
    c = _cases(ctx)
    due = pd.to_datetime(col(c, "remedy_due_at"))
    done = pd.to_datetime(col(c, "remedy_completed_at"))
    eligible = (due <= ctx.as_of).fillna(False)
    return share(c["mechanism_id"], (done <= due).fillna(False), eligible)


def _km_median(ctx: Context, mask, end_col: str) -> pd.DataFrame | None:
    c = _cases(ctx)
    sub = c[flag(mask)]
    if sub.empty or not supplied(c, end_col):
        return None
    dur, ev = _km_inputs(
        sub["received_at"], col(sub, end_col), pd.to_datetime(col(sub, "closed_at")), ctx.as_of
    )
    km = km_summary(sub["mechanism_id"], dur, ev)
    return pd.DataFrame({"value": km["median"], "n": km["n"]})


@computes("predictable.median_days_to_referral")
def median_days_to_referral(ctx: Context):
    c = _cases(ctx)
    r = col(c, "referred_to")
    return _km_median(ctx, r.notna() & (r != "none"), "referred_at")


@computes("predictable.median_days_to_removal")
def median_days_to_removal(ctx: Context):
    c = _cases(ctx)
    return _km_median(ctx, col(c, "assessed_at").notna(), "removed_at")


# ------------------------------------------------------------------- equitable
@computes("equitable.advice_rate")
def advice_rate(ctx: Context):
    c = _cases(ctx)
    a = col(c, "advice_provided")
    return share(c["mechanism_id"], a, _closed(ctx) & a.notna().to_numpy())


def parity(mechanism_id, group, success, eligible, min_group_n: int = PARITY_MIN_GROUP_N):
    """Lowest group's rate divided by the highest's, per mechanism.

    Groups with fewer than ``min_group_n`` eligible rows are left out; a mechanism
    with fewer than two groups left gets no row. When every group's rate is 0 the
    ratio is 1 (no disparity).

    Returns
    -------
    DataFrame
        Indexed by mechanism_id: ``value``, ``n`` (rows in the compared groups).
    """
    codes, labels = group_codes(mechanism_id)
    gcodes, guniq = pd.factorize(np.asarray(group, dtype=object))
    ok = flag(eligible) & (codes >= 0) & (gcodes >= 0)
    n_g, n_m = max(len(guniq), 1), len(labels)
    key = codes * n_g + gcodes
    size = np.bincount(key[ok], minlength=n_m * n_g).reshape(n_m, n_g)
    succ = np.bincount(key[ok & flag(success)], minlength=n_m * n_g).reshape(n_m, n_g)
    valid = size >= min_group_n
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(valid, succ / np.maximum(size, 1), np.nan)
    groups = valid.sum(axis=1)
    keep = groups >= 2
    lo = np.nanmin(np.where(keep[:, None], rate, 0.0), axis=1)
    hi = np.nanmax(np.where(keep[:, None], rate, 0.0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(hi > 0, lo / np.where(hi > 0, hi, 1), 1.0)
    out = pd.DataFrame({"value": value, "n": (size * valid).sum(axis=1)}, index=labels)
    return out[keep]


def _remedy_eligible(ctx: Context) -> np.ndarray:
    return _closed(ctx) & _outcome_in(ctx, REMEDY_ELIGIBLE)


@computes("equitable.outcome_parity_gender")
def outcome_parity_gender(ctx: Context):
    c = _cases(ctx)
    g = _gender_fm(ctx)
    return parity(c["mechanism_id"], g, _outcome_in(ctx, REMEDIED), _remedy_eligible(ctx))


@computes("equitable.outcome_parity_age")
def outcome_parity_age(ctx: Context):
    c = _cases(ctx)
    return parity(c["mechanism_id"], _age_bands(ctx), _outcome_in(ctx, REMEDIED), _remedy_eligible(ctx))


@computes("equitable.informed_parity_gender")
def informed_parity_gender(ctx: Context):
    c = _cases(ctx)
    g = _gender_fm(ctx)
    inf = col(c, "complainant_informed")
    anon = col(c, "anonymous")
    elig = _closed(ctx) & (anon == False).fillna(False).to_numpy() & inf.notna().to_numpy()  # noqa: E712
    return parity(c["mechanism_id"], g, inf, elig)


def _age_bands(ctx: Context) -> np.ndarray:
    """Age bands under_15, 15_17, 18_plus (None when the age is unknown), cached."""

    def build():
        a = _age(ctx)
        band = np.select([a < 15, a < 18, a >= 18], ["under_15", "15_17", "18_plus"], "")
        return np.where(band == "", None, band).astype(object)

    return ctx.derived("cases.age_band", build)


@computes("equitable.informed_parity_age")
def informed_parity_age(ctx: Context):
    c = _cases(ctx)
    inf = col(c, "complainant_informed")
    anon = col(c, "anonymous")
    elig = _closed(ctx) & (anon == False).fillna(False).to_numpy() & inf.notna().to_numpy()  # noqa: E712
    return parity(c["mechanism_id"], _age_bands(ctx), inf, elig)


# ----------------------------------------------------------------- transparent
@computes("transparent.informed_rate")
def informed_rate(ctx: Context):
    c = _cases(ctx)
    inf = col(c, "complainant_informed")
    anon = col(c, "anonymous")
    elig = _closed(ctx) & (anon == False).fillna(False).to_numpy() & inf.notna().to_numpy()  # noqa: E712
    return share(c["mechanism_id"], inf, elig)


# ----------------------------------------------------------- rights_compatible
@computes("rights_compatible.child_referral_rate")
def child_referral_rate(ctx: Context):
    c = _cases(ctx)
    age = _age(ctx)
    elig = (age < 18) & c["category"].isin(CHILD_CATEGORIES).to_numpy()
    if not supplied(c, "referred_to"):
        return None
    return share(c["mechanism_id"], col(c, "referred_to").isin(CHILD_REFERRALS), elig)


@computes("rights_compatible.retaliation_rate")
def retaliation_rate(ctx: Context):
    c = _cases(ctx)
    r = col(c, "retaliation_reported")
    return share(c["mechanism_id"], r, r.notna())


@computes("rights_compatible.remedy_rate")
def remedy_rate(ctx: Context):
    c = _cases(ctx)
    return share(c["mechanism_id"], _outcome_in(ctx, REMEDIED), _remedy_eligible(ctx))


# --------------------------------------------------------- continuous_learning
def _day_numbers(values) -> np.ndarray:
    """Dates as whole days since 1970 (float, NaN when missing)."""
    d = pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")
    out = d.astype("datetime64[D]").astype("int64").astype(float)
    out[np.isnat(d)] = np.nan
    return out


def repeat_flags(cases: pd.DataFrame, window_days: int = REPEAT_WINDOW_DAYS) -> np.ndarray:
    """Whether another case of the same mechanism, site and category closed in the window.

    The window is ``received_at - window_days <= closed_at < received_at``; a missing
    ``site_id`` is treated as one site. Vectorised: every (mechanism, site,
    category, day) becomes one sortable integer, and each case looks up the latest
    closure before it with :func:`numpy.searchsorted`.

    Returns
    -------
    numpy.ndarray of bool
        Aligned on the rows of ``cases``.
    """
    mc, _ = group_codes(cases["mechanism_id"])
    sc, su = pd.factorize(col(cases, "site_id").astype("object").fillna("\x00").to_numpy())
    cc, cu = pd.factorize(cases["category"].astype("object").to_numpy())
    key = (mc * max(len(su), 1) + sc) * max(len(cu), 1) + cc
    recv = _day_numbers(cases["received_at"])
    closed = _day_numbers(col(cases, "closed_at"))
    has = np.isfinite(closed)
    if not has.any():
        return np.zeros(len(cases), dtype=bool)
    lo = int(np.nanmin(np.concatenate([recv, closed[has]])))
    span = int(np.nanmax(np.concatenate([recv, closed[has]]))) - lo + 2
    ckey = np.sort(key[has] * span + (closed[has].astype(np.int64) - lo))
    q = key * span + (recv.astype(np.int64) - lo)
    idx = np.searchsorted(ckey, q, side="left") - 1
    prev = ckey[np.maximum(idx, 0)]
    same = (idx >= 0) & (prev // span == key)
    prev_day = prev % span + lo
    return same & (prev_day >= recv - window_days)


@computes("continuous_learning.repeat_rate")
def repeat_rate(ctx: Context):
    c = _cases(ctx)
    if not supplied(c, "closed_at"):
        return None
    return share(c["mechanism_id"], repeat_flags(c))


@computes("continuous_learning.appeal_rate")
def appeal_rate(ctx: Context):
    c = _cases(ctx)
    a = col(c, "appealed")
    return share(c["mechanism_id"], a, _closed(ctx) & a.notna().to_numpy())


@computes("continuous_learning.root_cause_rate")
def root_cause_rate(ctx: Context):
    c = _cases(ctx)
    r = col(c, "root_cause_recorded")
    return share(c["mechanism_id"], r, _closed(ctx) & r.notna().to_numpy())


@computes("continuous_learning.remedy_trend_ratio")
def remedy_trend_ratio(ctx: Context):
    c = _cases(ctx)
    rec = pd.to_datetime(c["received_at"])
    y1 = ctx.as_of - pd.Timedelta(days=365)
    y2 = ctx.as_of - pd.Timedelta(days=730)
    elig = _remedy_eligible(ctx)
    ok = _outcome_in(ctx, REMEDIED)
    recent = share(c["mechanism_id"], ok, elig & ((rec > y1) & (rec <= ctx.as_of)).to_numpy())
    before = share(c["mechanism_id"], ok, elig & ((rec > y2) & (rec <= y1)).to_numpy())
    both = recent.merge(before, left_index=True, right_index=True, how="left", suffixes=("_r", "_b"))
    both = both[(both["n_r"] > 0) & (both["n_b"] > 0) & (both["value_b"] > 0)]
    return pd.DataFrame(
        {"value": both["value_r"] / both["value_b"], "n": both["n_r"] + both["n_b"]}
    )


# --------------------------------------------------------- engagement_dialogue
@computes("engagement_dialogue.dialogue_rate")
def dialogue_rate(ctx: Context):
    c = _cases(ctx)
    d = col(c, "resolved_by_dialogue")
    return share(c["mechanism_id"], d, _closed(ctx) & d.notna().to_numpy())
