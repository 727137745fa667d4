"""Synthetic child labour monitoring (CLMS): identified children, follow-up visits; and workforce."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gm_eval.contract import GENDERS
from gm_eval.synth._decoys import decoy_names
from gm_eval.synth._util import (
    arrow_to_str,
    nullable_bool,
    nullable_int,
    numbered,
    str_array,
    str_col,
    to_dates,
)

__all__ = ["REMEDIATION_TYPES", "FOLLOWUP_DAYS", "generate_clms", "generate_workforce"]

REMEDIATION_TYPES = ("school_kit", "bridging_class", "birth_certificate", "vocational_training",
                     "income_generating_activity", "cash_transfer")
_REMEDIATION_P = np.array([0.6, 0.25, 0.2, 0.15, 0.3, 0.1])
#: Follow-up visits after identification: about 3 and 6 months, then yearly.
FOLLOWUP_DAYS = np.array([91, 182, 365, 730, 1095])


def _combo_labels() -> np.ndarray:
    """``;``-joined remediation codes for every bit mask of :data:`REMEDIATION_TYPES`."""
    out = []
    for mask in range(2 ** len(REMEDIATION_TYPES)):
        out.append(";".join(t for i, t in enumerate(REMEDIATION_TYPES) if mask >> i & 1))
    return np.array(out, dtype=object)


def generate_clms(p: pd.DataFrame, n: int, as_of: np.datetime64, window_days: int,
                  rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate ``clms_children`` and ``clms_followups`` for the ``clms`` mechanisms.

    About 15% of children (more where quality is low) are never followed up,
    visits stop early for some, and a share is still in child labour at the
    latest visit (fewer where remediation started).
    """
    is_clms = p["mechanism_type"].to_numpy() == "clms"
    w = np.where(is_clms, rng.uniform(0.7, 1.3, len(p)), 0.0)
    if n <= 0 or w.sum() <= 0:
        m = np.zeros(0, dtype="int64")
    else:
        m = np.repeat(np.arange(len(p)), rng.multinomial(n, w / w.sum()))
    n = len(m)
    q = p["q"].to_numpy()[m]
    ident = -rng.integers(0, window_days, n)
    order = np.lexsort((ident, m))
    m, ident, q = m[order], ident[order], q[order]
    first = np.searchsorted(m, m, side="left")
    mech_arr = str_array(p["mechanism_id"].to_numpy(), m)
    child_id = numbered(pc.binary_join_element_wise(mech_arr, pa.scalar("-CH"), ""),
                        np.arange(n) - first + 1, 5)
    mech_col = arrow_to_str(mech_arr)

    hazardous = rng.random(n) < 0.55
    in_school = rng.random(n) < 0.45
    referred = rng.random(n) < 0.6 + 0.35 * q
    ref_day = ident + np.floor(rng.lognormal(np.log(10), 0.8, n)).astype("int64")
    ref_ok = referred & (ref_day <= 0)
    remediated = ref_ok & (rng.random(n) < 0.75 + 0.2 * q)
    rem_day = ref_day + np.floor(rng.lognormal(np.log(30), 0.7, n)).astype("int64")
    rem_ok = remediated & (rem_day <= 0)
    bits = (rng.random((n, len(REMEDIATION_TYPES))) < _REMEDIATION_P) * (1 << np.arange(len(REMEDIATION_TYPES)))
    mask = bits.sum(axis=1)
    mask = np.where(mask == 0, 1, mask)
    rem_types = str_col(_combo_labels(), mask, rem_ok)

    # follow-up visits: planned at 3, 6, 12, 24, 36 months; some never, some stop early
    k = len(FOLLOWUP_DAYS)
    never = rng.random(n) < 0.1 + 0.15 * (1 - q)
    n_planned = np.where(never, 0, np.minimum(rng.geometric(0.2, n), k))
    visit_day = ident[:, None] + FOLLOWUP_DAYS[None, :] + rng.integers(-14, 15, (n, k))
    happened = (np.arange(k)[None, :] < n_planned[:, None]) & (visit_day <= 0)
    p_cl = np.where(rem_ok[:, None], 0.45 * 0.6 ** np.arange(k), 0.8 * 0.9 ** np.arange(k))
    in_cl = rng.random((n, k)) < p_cl
    in_haz = in_cl & (rng.random((n, k)) < np.where(hazardous[:, None], 0.6, 0.2))
    school = rng.random((n, k)) < np.where(in_cl, 0.45, 0.85)

    n_visits = happened.sum(axis=1)
    last = np.maximum(n_visits - 1, 0)
    rows = np.arange(n)
    exited = (n_visits >= 2) & ~in_cl[rows, last]
    closed_day = visit_day[rows, last]

    children = pd.DataFrame({
        "child_id": child_id,
        "mechanism_id": mech_col,
        "identified_at": to_dates(as_of, ident),
        "age": nullable_int(np.clip(np.round(rng.normal(12, 2.6, n)), 5, 17).astype("int64")),
        "gender": str_col(GENDERS, np.where(rng.random(n) < 0.6, 1, 0)),
        "hazardous_work": nullable_bool(hazardous),
        "in_school": nullable_bool(in_school),
        "referred_at": to_dates(as_of, ref_day, ref_ok),
        "remediation_started_at": to_dates(as_of, rem_day, rem_ok),
        "remediation_types": rem_types,
        "closed_at": to_dates(as_of, closed_day, exited),
    })
    children["child_name"] = decoy_names(rng, n, rng.random(n) < 0.8)

    ci, vi = np.nonzero(happened)
    followups = pd.DataFrame({
        "child_id": child_id.iloc[ci].reset_index(drop=True),
        "mechanism_id": mech_col.iloc[ci].reset_index(drop=True),
        "visit_date": to_dates(as_of, visit_day[ci, vi]),
        "in_child_labour": nullable_bool(in_cl[ci, vi]),
        "in_hazardous_work": nullable_bool(in_haz[ci, vi]),
        "attending_school": nullable_bool(school[ci, vi]),
    })
    return children, followups


def generate_workforce(p: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Generate ``workforce``: one row per site of each workplace mechanism.

    Site ids match the cases' ``site_id`` (``<mechanism>-S01`` ...); the counts
    of women, 15-17 year-olds and migrants are binomial draws from the
    mechanism's shares.
    """
    wp = np.flatnonzero(p["workplace"].to_numpy())
    n_sites = p["n_sites"].to_numpy()[wp]
    m = np.repeat(wp, n_sites)
    first = np.searchsorted(m, m, side="left")
    site_no = np.arange(len(m)) - first + 1
    # split the headcount over sites; the first site is the largest (as in the cases)
    raw = rng.uniform(0.5, 1.5, len(m)) / site_no**0.5
    tot = np.bincount(m, weights=raw, minlength=len(p))
    head = np.maximum(np.round(p["headcount"].to_numpy()[m] * raw / tot[m]), 20).astype("int64")
    mech_arr = str_array(p["mechanism_id"].to_numpy(), m)
    return pd.DataFrame({
        "mechanism_id": arrow_to_str(mech_arr),
        "site_id": numbered(pc.binary_join_element_wise(mech_arr, pa.scalar("-S"), ""), site_no, 2),
        "headcount": nullable_int(head),
        "female": nullable_int(rng.binomial(head, p["female_share"].to_numpy()[m])),
        "aged_15_17": nullable_int(rng.binomial(head, p["young_share"].to_numpy()[m])),
        "migrant": nullable_int(rng.binomial(head, p["migrant_share"].to_numpy()[m])),
    })
