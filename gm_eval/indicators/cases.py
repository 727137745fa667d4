"""Indicators computed from the case log (``cases``, with ``workforce`` denominators)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.indicators.base import (
    Context,
    computes,
    days_between,
    flag,
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
    return pd.Series(pd.NA, index=df.index, dtype="object")


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


def _closed(cases: pd.DataFrame) -> np.ndarray:
    return (col(cases, "status") == "closed").fillna(False).to_numpy(dtype=bool)


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
    c = _cases(ctx)
    age = pd.to_numeric(col(c, "age"), errors="coerce")
    return _representation(ctx, (age >= 15) & (age <= 17), age.notna(), "aged_15_17")


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
    age = pd.to_numeric(col(c, "age"), errors="coerce")
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
    if sub.empty:
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
    return share(c["mechanism_id"], a, _closed(c) & a.notna().to_numpy())


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
    elig = flag(eligible) & pd.Series(group).notna().to_numpy()
    df = pd.DataFrame(
        {
            "mechanism_id": np.asarray(mechanism_id)[elig],
            "group": np.asarray(group, dtype=object)[elig],
            "s": flag(success)[elig],
        }
    )
    g = df.groupby(["mechanism_id", "group"], sort=False)["s"].agg(["sum", "size"])
    g = g[g["size"] >= min_group_n]
    g["rate"] = g["sum"] / g["size"]
    by = g.groupby(level=0, sort=False)
    out = pd.DataFrame(
        {"lo": by["rate"].min(), "hi": by["rate"].max(), "groups": by.size(), "n": by["size"].sum()}
    )
    out = out[out["groups"] >= 2]
    out["value"] = np.where(out["hi"] > 0, out["lo"] / out["hi"].where(out["hi"] > 0, 1), 1.0)
    return out[["value", "n"]]


def _remedy_eligible(c: pd.DataFrame) -> np.ndarray:
    return _closed(c) & col(c, "outcome").isin(REMEDY_ELIGIBLE).to_numpy()


@computes("equitable.outcome_parity_gender")
def outcome_parity_gender(ctx: Context):
    c = _cases(ctx)
    g = col(c, "gender")
    g = g.where(g.isin(["female", "male"]))
    return parity(c["mechanism_id"], g, col(c, "outcome").isin(REMEDIED), _remedy_eligible(c))


@computes("equitable.outcome_parity_age")
def outcome_parity_age(ctx: Context):
    c = _cases(ctx)
    band = age_band(col(c, "age"))
    band = band.where(band != "unknown")
    return parity(c["mechanism_id"], band, col(c, "outcome").isin(REMEDIED), _remedy_eligible(c))


@computes("equitable.informed_parity_gender")
def informed_parity_gender(ctx: Context):
    c = _cases(ctx)
    g = col(c, "gender")
    g = g.where(g.isin(["female", "male"]))
    inf = col(c, "complainant_informed")
    anon = col(c, "anonymous")
    elig = _closed(c) & (anon == False).fillna(False).to_numpy() & inf.notna().to_numpy()  # noqa: E712
    return parity(c["mechanism_id"], g, inf, elig)


# ----------------------------------------------------------------- transparent
@computes("transparent.informed_rate")
def informed_rate(ctx: Context):
    c = _cases(ctx)
    inf = col(c, "complainant_informed")
    anon = col(c, "anonymous")
    elig = _closed(c) & (anon == False).fillna(False).to_numpy() & inf.notna().to_numpy()  # noqa: E712
    return share(c["mechanism_id"], inf, elig)


# ----------------------------------------------------------- rights_compatible
@computes("rights_compatible.child_referral_rate")
def child_referral_rate(ctx: Context):
    c = _cases(ctx)
    age = pd.to_numeric(col(c, "age"), errors="coerce")
    elig = (age < 18).fillna(False) & c["category"].isin(CHILD_CATEGORIES)
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
    return share(c["mechanism_id"], col(c, "outcome").isin(REMEDIED), _remedy_eligible(c))


# --------------------------------------------------------- continuous_learning
def repeat_flags(cases: pd.DataFrame, window_days: int = REPEAT_WINDOW_DAYS) -> pd.Series:
    """Whether another case of the same mechanism, site and category closed in the window.

    The window is ``received_at - window_days <= closed_at < received_at``; a missing
    ``site_id`` is treated as one site. Returns a boolean Series aligned on ``cases``.
    """
    site = col(cases, "site_id").astype("object").fillna("\x00")
    left = pd.DataFrame(
        {
            "mechanism_id": cases["mechanism_id"].astype("object").to_numpy(),
            "site": site.to_numpy(),
            "category": cases["category"].astype("object").to_numpy(),
            "t": pd.to_datetime(cases["received_at"]).to_numpy(),
            "row": np.arange(len(cases)),
        }
    )
    closed_at = pd.to_datetime(col(cases, "closed_at"))
    right = left.loc[closed_at.notna().to_numpy(), ["mechanism_id", "site", "category"]].copy()
    right["closed"] = closed_at[closed_at.notna()].to_numpy()
    right["t"] = right["closed"]
    if right.empty:
        return pd.Series(False, index=cases.index)
    m = pd.merge_asof(
        left.sort_values("t"),
        right.sort_values("t"),
        on="t",
        by=["mechanism_id", "site", "category"],
        allow_exact_matches=False,
        direction="backward",
    )
    rep = m["closed"].notna() & (m["closed"] >= m["t"] - pd.Timedelta(days=window_days))
    out = np.zeros(len(cases), dtype=bool)
    out[m["row"].to_numpy()] = rep.to_numpy()
    return pd.Series(out, index=cases.index)


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
    return share(c["mechanism_id"], a, _closed(c) & a.notna().to_numpy())


@computes("continuous_learning.root_cause_rate")
def root_cause_rate(ctx: Context):
    c = _cases(ctx)
    r = col(c, "root_cause_recorded")
    return share(c["mechanism_id"], r, _closed(c) & r.notna().to_numpy())


@computes("continuous_learning.remedy_trend_ratio")
def remedy_trend_ratio(ctx: Context):
    c = _cases(ctx)
    rec = pd.to_datetime(c["received_at"])
    y1 = ctx.as_of - pd.Timedelta(days=365)
    y2 = ctx.as_of - pd.Timedelta(days=730)
    elig = _remedy_eligible(c)
    ok = col(c, "outcome").isin(REMEDIED)
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
    return share(c["mechanism_id"], d, _closed(c) & d.notna().to_numpy())
