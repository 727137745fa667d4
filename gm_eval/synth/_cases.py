"""Synthetic case logs: one row per grievance, vectorised over all mechanisms at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtri

from gm_eval.contract import (
    CASE_STATUS,
    CATEGORIES,
    CHANNELS,
    COMPLAINANT_TYPES,
    GENDERS,
    OUTCOMES,
    REFERRAL_TARGETS,
    SEVERITIES,
)
from gm_eval.synth._decoys import decoy_names, decoy_phones, decoy_text
from gm_eval.synth._util import (
    arrow_to_str,
    nullable_bool,
    nullable_int,
    numbered,
    ordinal_from_share,
    pick_within_groups,
    sample_rows,
    str_array,
    str_col,
    to_dates,
)

__all__ = ["WINDOW_DAYS", "SEASONALITY", "CATEGORY_MIX", "daily_weights", "generate_cases"]

#: Case logs cover about three years before ``as_of``.
WINDOW_DAYS = 3 * 365

#: Relative monthly case volume (January first) by sector.
SEASONALITY: dict[str, tuple[float, ...]] = {
    # production peak for the holiday season
    "garments": (0.8, 0.7, 0.8, 0.9, 0.9, 1.0, 1.3, 1.5, 1.5, 1.3, 1.0, 0.8),
    "seafood": (0.9, 0.9, 1.0, 1.0, 0.9, 0.8, 0.8, 0.9, 1.2, 1.3, 1.3, 1.1),
    # cocoa main-crop harvest October-January
    "agriculture": (1.3, 1.1, 0.9, 0.7, 0.6, 0.6, 0.6, 0.7, 0.9, 1.5, 1.7, 1.5),
    "electronics": (0.8, 0.7, 0.9, 0.9, 1.0, 1.0, 1.1, 1.3, 1.4, 1.3, 1.0, 0.8),
    # high season December-March and July-August
    "tourism": (1.5, 1.4, 1.2, 1.0, 0.7, 0.7, 1.0, 1.0, 0.7, 0.8, 1.2, 1.6),
    "digital_platforms": (1.0,) * 12,
}

#: Category mix by sector, in the order of ``gm_eval.contract.CATEGORIES``.
CATEGORY_MIX: dict[str, tuple[float, ...]] = {
    "garments": (0.03, 0.01, 0.12, 0.03, 0.25, 0.20, 0.15, 0.08, 0.05, 0.08),
    "seafood": (0.05, 0.02, 0.05, 0.25, 0.20, 0.12, 0.15, 0.05, 0.05, 0.06),
    "agriculture": (0.22, 0.03, 0.07, 0.05, 0.20, 0.08, 0.17, 0.05, 0.04, 0.09),
    "electronics": (0.01, 0.01, 0.08, 0.06, 0.22, 0.25, 0.20, 0.07, 0.04, 0.06),
    "tourism": (0.06, 0.20, 0.15, 0.03, 0.18, 0.12, 0.10, 0.06, 0.04, 0.06),
    "digital_platforms": (0.03, 0.35, 0.15, 0.02, 0.15, 0.05, 0.03, 0.08, 0.04, 0.10),
}
_CLMS_MIX = (0.75, 0.05, 0.02, 0.05, 0.02, 0.02, 0.04, 0.0, 0.0, 0.05)

_SEVERITY_BY_CATEGORY = np.array([
    [0.05, 0.30, 0.45, 0.20],  # child_labour
    [0.00, 0.10, 0.40, 0.50],  # sexual_exploitation_abuse
    [0.10, 0.45, 0.35, 0.10],  # sexual_harassment
    [0.05, 0.25, 0.45, 0.25],  # forced_labour
    [0.35, 0.50, 0.13, 0.02],  # wages_benefits
    [0.35, 0.50, 0.13, 0.02],  # working_hours
    [0.20, 0.45, 0.28, 0.07],  # health_safety
    [0.30, 0.50, 0.18, 0.02],  # discrimination
    [0.10, 0.40, 0.40, 0.10],  # retaliation
    [0.60, 0.35, 0.05, 0.00],  # other
])
# channels in the order of gm_eval.contract.CHANNELS
_CHANNEL_BY_TYPE = {
    "ogm": (0.20, 0.10, 0.05, 0.25, 0.20, 0.12, 0.03, 0.00, 0.05),
    "supply_chain": (0.45, 0.25, 0.12, 0.00, 0.03, 0.08, 0.05, 0.00, 0.02),
    "multi_stakeholder": (0.15, 0.10, 0.15, 0.00, 0.05, 0.25, 0.25, 0.00, 0.05),
    "clms": (0.02, 0.03, 0.00, 0.00, 0.15, 0.00, 0.10, 0.70, 0.00),
    "hotline": (0.45, 0.20, 0.30, 0.00, 0.00, 0.00, 0.04, 0.00, 0.01),
}
# adult complainant types in the order of gm_eval.contract.COMPLAINANT_TYPES
_ADULT_TYPE = {
    "ogm": (0.82, 0.00, 0.03, 0.12, 0.03, 0.00),
    "supply_chain": (0.80, 0.00, 0.02, 0.13, 0.05, 0.00),
    "multi_stakeholder": (0.55, 0.00, 0.05, 0.35, 0.05, 0.00),
    "clms": (0.05, 0.00, 0.70, 0.15, 0.10, 0.00),
    "hotline": (0.15, 0.00, 0.30, 0.05, 0.50, 0.00),
}

_CAT = {c: i for i, c in enumerate(CATEGORIES)}
_OUT = {o: i for i, o in enumerate(OUTCOMES)}
_REF = {r: i for i, r in enumerate(REFERRAL_TARGETS)}


def daily_weights(sector: str, first_day: np.datetime64, n_days: int) -> np.ndarray:
    """Relative case volume of each day: sector seasonality times a rising trend."""
    days = first_day + np.arange(n_days).astype("timedelta64[D]")
    month = days.astype("datetime64[M]").astype("int64") % 12
    season = np.asarray(SEASONALITY.get(sector, SEASONALITY["digital_platforms"]))[month]
    trend = 1.0 + 0.5 * np.arange(n_days) / n_days
    return season * trend


def _lognormal_days(rng, median: np.ndarray, sigma: float) -> np.ndarray:
    return np.floor(rng.lognormal(np.log(np.maximum(median, 0.05)), sigma)).astype("int64")


def generate_cases(p: pd.DataFrame, n_cases: int, as_of: np.datetime64,
                   rng: np.random.Generator) -> pd.DataFrame:
    """Generate the ``cases`` table.

    Parameters
    ----------
    p : DataFrame
        Hidden mechanism parameters from :func:`gm_eval.synth._mechanisms.mechanism_params`.
    n_cases : int
        Total number of cases, shared between mechanisms by their volume.
    as_of : numpy.datetime64
        Evaluation date (day resolution); no date is later.
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame
        Contract columns followed by the decoy columns ``complainant_name``,
        ``phone`` and ``description``.
    """
    n_mech = len(p)
    vol = p["volume"].to_numpy(float)
    counts = rng.multinomial(n_cases, vol / vol.sum())
    m = np.repeat(np.arange(n_mech), counts)
    n = len(m)
    typ = p["mechanism_type"].to_numpy()[m]
    q = p["q"].to_numpy()[m]
    workplace = p["workplace"].to_numpy()[m]
    is_hotline = typ == "hotline"
    is_clms = typ == "clms"

    # received dates with sector seasonality
    first_day = as_of - np.timedelta64(WINDOW_DAYS - 1, "D")
    rec = np.zeros(n, dtype="int64")  # days relative to as_of (<= 0)
    sectors, sector_code = np.unique(p["sector"].to_numpy().astype(str), return_inverse=True)
    case_sector = sector_code[m]
    u = rng.random(n)
    for k, sector in enumerate(sectors):  # one pass per sector, not per case
        sel = case_sector == k
        cum = np.cumsum(daily_weights(str(sector), first_day, WINDOW_DAYS))
        idx = np.searchsorted(cum, u[sel] * cum[-1], side="right")
        rec[sel] = np.minimum(idx, WINDOW_DAYS - 1) - (WINDOW_DAYS - 1)

    # category: sector mix, adjusted by mechanism type
    mix = np.array([CATEGORY_MIX[s] for s in p["sector"]], dtype=float)
    mtyp = p["mechanism_type"].to_numpy()
    mix[mtyp == "hotline", _CAT["sexual_exploitation_abuse"]] *= 5
    mix[mtyp == "hotline", _CAT["child_labour"]] *= 2
    mix[mtyp == "clms"] = _CLMS_MIX
    mix[p["planted"].to_numpy() & (p["q"].to_numpy() > 0.9), _CAT["child_labour"]] *= 2
    cat = sample_rows(mix, m, rng)
    child_cat = (cat == _CAT["child_labour"]) | (cat == _CAT["sexual_exploitation_abuse"])

    # ages: a quota of 15-17 year-olds proportional to the workforce share
    age_known = rng.random(n) < np.select([is_hotline, is_clms], [0.6, 0.95], 0.85)
    share = p["young_share"].to_numpy()
    ratio = p["young_ratio"].to_numpy()
    known_idx = np.flatnonzero(age_known)
    n_known = np.bincount(m[known_idx], minlength=n_mech)
    quota = np.round(ratio * share * n_known).astype("int64")
    quota = np.where((share > 0) & (n_known > 0) & ~p["planted"].to_numpy(), np.maximum(quota, 1), quota)
    young = np.zeros(n, dtype=bool)
    young[known_idx] = pick_within_groups(m[known_idx], quota, rng)
    p_child = np.select(
        [is_clms & (cat == _CAT["child_labour"]), is_clms, is_hotline & (cat == _CAT["child_labour"]),
         is_hotline & child_cat, is_hotline, cat == _CAT["child_labour"],
         cat == _CAT["sexual_exploitation_abuse"]],
        [1.0, 0.5, 1.0, 0.75, 0.1, 0.9, 0.3], 0.0)
    child = age_known & ~young & (rng.random(n) < p_child)
    adult_age = 18 + np.minimum(np.floor(rng.gamma(2.0, 6.0, n)), 52).astype("int64")
    # workplace children (beyond the 15-17 quota) are under 15; elsewhere 5-17
    child_age = np.where(workplace, rng.integers(8, 15, n),
                         np.where(cat == _CAT["child_labour"], rng.integers(7, 18, n), rng.integers(5, 18, n)))
    age = np.where(young, rng.integers(15, 18, n), np.where(child, child_age, adult_age))
    minor = age_known & (age < 18)

    # who complained, how, anonymity, gender
    anonymous = rng.random(n) < p["p_anonymous"].to_numpy()[m]
    adult_tp = np.array([_ADULT_TYPE[t] for t in mtyp])
    ctype = sample_rows(adult_tp, m, rng)
    p_self = np.where(q > 0.9, 0.8, np.where(workplace, 0.6, 0.45))
    u = rng.random(n)
    child_type = np.select([u < p_self, u < p_self + 0.2, u < p_self + 0.3], [1, 2, 3], 4)
    ctype = np.where(minor, child_type, ctype)
    ctype = np.where(anonymous & (rng.random(n) < 0.5), COMPLAINANT_TYPES.index("unknown"), ctype)
    channel = sample_rows(np.array([_CHANNEL_BY_TYPE[t] for t in mtyp]), m, rng)
    p_female = np.where(is_hotline & child_cat, 0.7, p["female_share"].to_numpy()[m])
    ug = rng.random(n)
    gender = np.select([ug < 0.04 + 0.25 * anonymous, ug < 0.05 + 0.25 * anonymous], [3, 2],
                       np.where(rng.random(n) < p_female, 0, 1))
    female = gender == 0
    severity = sample_rows(_SEVERITY_BY_CATEGORY, cat, rng)

    # timeline: acknowledge, close (censored at as_of)
    ack_delay = _lognormal_days(rng, p["ack_median"].to_numpy()[m], 0.8)
    ack_ok = (rng.random(n) >= p["p_ack_missing"].to_numpy()[m]) & (rec + ack_delay <= 0)
    close_extra = _lognormal_days(rng, np.maximum(p["close_median"].to_numpy()[m]
                                                  - p["ack_median"].to_numpy()[m], 1.0), 0.9)
    t_close = ack_delay + close_extra
    closed_any = (rng.random(n) >= p["p_stuck"].to_numpy()[m]) & (rec + t_close <= 0)
    st = rng.random(n)
    status = np.where(closed_any, np.select([st < 0.85, st < 0.91], [1, 2], 3), 0)
    closed = status == CASE_STATUS.index("closed")

    # referral: child labour and sexual exploitation of children go to child protection or police
    p_ref = np.where(minor & child_cat, p["p_referral"].to_numpy()[m], 0.04)
    p_ref = np.where(is_hotline & (cat == _CAT["sexual_exploitation_abuse"]),
                     np.maximum(p_ref, 0.6), p_ref)
    referred = rng.random(n) < p_ref
    ur = rng.random(n)
    sea = cat == _CAT["sexual_exploitation_abuse"]
    protect = np.where(ur < np.where(sea, 0.35, 0.55), _REF["child_protection"],
                       np.where(ur < np.where(sea, 0.85, 0.75), _REF["law_enforcement"],
                                _REF["social_services"]))
    other_ref = np.array([_REF["health"], _REF["education"], _REF["social_services"], _REF["other"]])[
        rng.integers(0, 4, n)]
    ref_to = np.where(referred, np.where(child_cat, protect, other_ref), _REF["none"])
    ref_to_ok = referred | (rng.random(n) > 0.1)
    ref_day = rec + _lognormal_days(rng, 1.0 + 8.0 * (1 - q), 0.7)
    ref_at_ok = referred & (ref_day <= 0)

    # outcomes of closed cases; the equity gap mechanism remedies women's cases less often
    # one probability row per mechanism and (women at the equity-gap mechanism) sex
    pr = np.repeat(p["p_remedy"].to_numpy(float), 2)
    pr[1::2] *= np.where(p["equity_gap"].to_numpy(), 0.3, 1.0)
    rest = np.maximum(1 - pr - 0.09, 0.0)
    probs = np.column_stack([0.7 * pr, 0.3 * pr, 0.55 * rest, 0.45 * rest,
                             np.full(len(pr), 0.05), np.full(len(pr), 0.04)])
    probs[np.repeat(mtyp == "hotline", 2)] = [0.20, 0.05, 0.15, 0.05, 0.50, 0.05]
    outcome = sample_rows(probs, 2 * m + female, rng)
    outcome = np.where(referred & child_cat & (rng.random(n) < 0.5), _OUT["referred"], outcome)
    remedy = closed & ((outcome == _OUT["remedied"]) | (outcome == _OUT["partially_remedied"]))

    informed_ok = closed & ~anonymous & (rng.random(n) > 0.1)
    informed = rng.random(n) < p["p_informed"].to_numpy()[m]
    p_sat = np.clip(0.3 + 0.5 * q, 0.05, 0.95)
    sat_shift = ndtri(p_sat) + np.select(
        [outcome == _OUT["remedied"], outcome == _OUT["partially_remedied"],
         outcome == _OUT["not_substantiated"], outcome == _OUT["no_remedy"]], [0.6, 0.2, -0.4, -0.8], 0.0)
    satisfaction = ordinal_from_share(rng.standard_normal(n), sat_shift)
    sat_ok = closed & ~anonymous & (rng.random(n) < np.where(q > 0.9, 0.7, 0.45))
    settled = status > 0
    advice = rng.random(n) < p["p_advice"].to_numpy()[m]
    p_dia = p["p_dialogue"].to_numpy()[m] * np.where(remedy, 1.3, 0.5)
    dialogue = rng.random(n) < p_dia
    appealed = rng.random(n) < np.where(
        (outcome == _OUT["not_substantiated"]) | (outcome == _OUT["no_remedy"]), 0.12, 0.03)
    retaliation = rng.random(n) < p["p_retaliation"].to_numpy()[m]
    root_cause = rng.random(n) < p["p_root_cause"].to_numpy()[m]

    # hotline stages: assessed, then content removed or harm stopped
    assess_day = rec + np.floor(rng.exponential(0.7, n)).astype("int64")
    assessed_ok = is_hotline & (assess_day <= 0)
    remove_day = assess_day + _lognormal_days(rng, np.full(n, 2.0), 0.8)
    removed_ok = (assessed_ok & sea & (status <= 1) & (rng.random(n) < 0.5 + 0.4 * q)
                  & (remove_day <= 0))

    # agreed remedies: due date and completion
    due_day = rec + np.round(t_close * rng.uniform(0.7, 1.4, n)).astype("int64") + 7
    due_ok = remedy & (due_day <= 0)
    completed_ok = remedy & ((outcome == _OUT["remedied"]) | (rng.random(n) < 0.5))

    # sites
    n_sites = p["n_sites"].to_numpy()[m]
    site_no = np.minimum((n_sites * rng.random(n) ** 1.5).astype("int64"), n_sites - 1) + 1
    mech_ids = p["mechanism_id"].to_numpy()
    site_ok = ~is_hotline & (rng.random(n) > 0.03)

    # order by mechanism and date; case ids count up within each mechanism
    order = np.argsort(m * (2 * WINDOW_DAYS) + (rec + WINDOW_DAYS), kind="stable")

    def o(a):
        return a[order]

    m_o = o(m)
    first = np.searchsorted(m_o, m_o, side="left")
    seq = np.arange(n) - first + 1
    mech_arr = str_array(mech_ids, m_o)
    mech_col = arrow_to_str(mech_arr)
    site_col = numbered(pc.binary_join_element_wise(mech_arr, pa.scalar("-S"), ""), o(site_no), 2,
                        o(site_ok))
    miss = rng.random((6, n)) < 0.1  # item non-response
    cat_col = str_col(CATEGORIES, o(cat))
    df = pd.DataFrame({
        "case_id": numbered(pc.binary_join_element_wise(mech_arr, pa.scalar("-"), ""), seq, 5),
        "mechanism_id": mech_col,
        "site_id": site_col,
        "received_at": to_dates(as_of, o(rec)),
        "acknowledged_at": to_dates(as_of, o(rec + ack_delay), o(ack_ok)),
        "closed_at": to_dates(as_of, o(rec + t_close), o(settled)),
        "status": str_col(CASE_STATUS, o(status)),
        "channel": str_col(CHANNELS, o(channel), ~miss[0][order]),
        "complainant_type": str_col(COMPLAINANT_TYPES, o(ctype)),
        "age": nullable_int(o(age), o(age_known)),
        "gender": str_col(GENDERS, o(gender)),
        "anonymous": nullable_bool(o(anonymous)),
        "category": cat_col,
        "severity": str_col(SEVERITIES, o(severity), ~miss[1][order]),
        "outcome": str_col(OUTCOMES, o(outcome), o(closed)),
        "complainant_informed": nullable_bool(o(informed), o(informed_ok)),
        "satisfaction": nullable_int(o(satisfaction), o(sat_ok)),
        "advice_provided": nullable_bool(o(advice), o(settled & ~miss[2])),
        "resolved_by_dialogue": nullable_bool(o(dialogue), o(closed & ~miss[3])),
        "appealed": nullable_bool(o(appealed), o(closed)),
        "referred_to": str_col(REFERRAL_TARGETS, o(ref_to), o(ref_to_ok)),
        "referred_at": to_dates(as_of, o(ref_day), o(ref_at_ok)),
        "retaliation_reported": nullable_bool(o(retaliation), o(~miss[4] & ~miss[5])),
        "root_cause_recorded": nullable_bool(o(root_cause), o(closed)),
        "assessed_at": to_dates(as_of, o(assess_day), o(assessed_ok)),
        "removed_at": to_dates(as_of, o(remove_day), o(removed_ok)),
        "remedy_due_at": to_dates(as_of, o(due_day), o(due_ok)),
        "remedy_completed_at": to_dates(as_of, o(rec + t_close), o(completed_ok)),
    })
    anon_o = o(anonymous)
    df["complainant_name"] = decoy_names(rng, n, ~anon_o)
    df["phone"] = decoy_phones(rng, n, ~anon_o & (rng.random(n) < 0.7))
    df["description"] = decoy_text(rng, o(cat), rng.random(n) < 0.95)
    return df
