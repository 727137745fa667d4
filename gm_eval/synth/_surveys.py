"""Synthetic worker and child voice surveys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtri

from gm_eval.contract import GENDERS, YES_NO_NOT_SURE
from gm_eval.synth._decoys import decoy_comments, decoy_names, decoy_phones
from gm_eval.synth._util import (
    arrow_to_str,
    nullable_bool,
    nullable_int,
    numbered,
    ordinal_from_share,
    str_array,
    str_col,
    to_dates,
)

__all__ = ["TRUST_LOADING", "generate_worker_survey", "generate_child_survey"]

#: Loading of trust, independent, would_use (and satisfied) on the latent trust factor.
TRUST_LOADING = 0.75
#: Fear of retaliation loads negatively on the same factor.
FEAR_LOADING = -0.35


def _allocate(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Mechanism code of each of ``n`` respondents, spread over mechanisms with weight > 0."""
    w = np.asarray(weights, dtype=float)
    if n <= 0 or w.sum() <= 0:
        return np.zeros(0, dtype="int64")
    return np.repeat(np.arange(len(w)), rng.multinomial(n, w / w.sum()))


def _survey_dates(rng, m: np.ndarray, n_mech: int, as_of: np.datetime64, span: int) -> pd.Series:
    """A two-to-three-week survey wave per mechanism, within the last year before ``as_of``."""
    wave_start = -rng.integers(30, 330, n_mech)
    day = np.minimum(wave_start[m] + rng.integers(0, span, len(m)), 0)
    return to_dates(as_of, day)


def _ids(mech_ids: np.ndarray, m: np.ndarray, tag: str) -> tuple[pd.Series, pd.Series]:
    """``mechanism_id`` column and ids ``<mechanism>-<tag><seq>`` counting within mechanism."""
    mech_arr = str_array(mech_ids, m)
    first = np.searchsorted(m, m, side="left")
    seq = np.arange(len(m)) - first + 1
    ids = numbered(pc.binary_join_element_wise(mech_arr, pa.scalar(f"-{tag}"), ""), seq, 5)
    return ids, arrow_to_str(mech_arr)


def _three_way(rng, p_yes: np.ndarray, not_sure_share: float = 0.4) -> np.ndarray:
    """Codes in ``YES_NO_NOT_SURE`` order: yes with ``p_yes``, the rest split not_sure/no."""
    u = rng.random(len(p_yes))
    return np.where(u < p_yes, 0, np.where(u < p_yes + (1 - p_yes) * not_sure_share, 2, 1))


def generate_worker_survey(p: pd.DataFrame, n: int, as_of: np.datetime64,
                           rng: np.random.Generator) -> pd.DataFrame:
    """Generate ``worker_survey`` for the workplace mechanisms (ogm, supply chain, sector schemes).

    Trust, perceived independence and willingness to use load on one latent
    trust factor (loading :data:`TRUST_LOADING`), so their Cronbach's alpha is
    about 0.75-0.8; fear of retaliation loads negatively on it and its share of
    answers >= 4 is set per mechanism (``p_fear``).
    """
    weights = np.where(p["workplace"].to_numpy(), rng.uniform(0.7, 1.3, len(p)), 0.0)
    m = _allocate(weights, n, rng)
    n = len(m)
    q = p["q"].to_numpy()[m]
    ids, mech_col = _ids(p["mechanism_id"].to_numpy(), m, "W")
    young = rng.random(n) < p["young_share"].to_numpy()[m]
    adult_age = 18 + np.minimum(np.floor(rng.gamma(2.0, 6.5, n)), 50).astype("int64")
    age = np.where(young, rng.integers(15, 18, n), adult_age)
    gender = np.where(rng.random(n) < 0.02, 3, np.where(rng.random(n) < p["female_share"].to_numpy()[m], 0, 1))
    migrant = rng.random(n) < p["migrant_share"].to_numpy()[m]
    aware = rng.random(n) < p["p_aware"].to_numpy()[m]
    knows_how = aware & (rng.random(n) < 0.5 + 0.45 * q)

    lam = TRUST_LOADING
    factor = rng.standard_normal(n)

    def item(loading: float, p_high: np.ndarray) -> np.ndarray:
        latent = loading * factor + np.sqrt(1 - loading**2) * rng.standard_normal(n)
        return ordinal_from_share(latent, ndtri(np.clip(p_high, 0.01, 0.99)))

    p_trust = p["p_trust"].to_numpy()[m]
    trust = item(lam, p_trust)
    independent = item(lam, p_trust - 0.08)
    would_use = item(lam, p_trust + 0.05)
    fear = item(FEAR_LOADING, p["p_fear"].to_numpy()[m])
    used = aware & (rng.random(n) < np.where(q > 0.9, 0.3, 0.1 + 0.15 * q))
    informed = rng.random(n) < p["p_informed"].to_numpy()[m]
    satisfied = item(lam, p_trust)
    consulted = rng.random(n) < 0.1 + 0.45 * q
    answered = rng.random((4, n)) > 0.03  # item non-response

    df = pd.DataFrame({
        "respondent_id": ids,
        "mechanism_id": mech_col,
        "survey_date": _survey_dates(rng, m, len(p), as_of, 21),
        "age": nullable_int(age, rng.random(n) > 0.02),
        "gender": str_col(GENDERS, gender),
        "migrant": nullable_bool(migrant),
        "aware": nullable_bool(aware),
        "knows_how": nullable_bool(knows_how),
        "trust": nullable_int(trust, answered[0]),
        "independent": nullable_int(independent, answered[1]),
        "fear_retaliation": nullable_int(fear, answered[2]),
        "would_use": nullable_int(would_use, answered[3]),
        "used": nullable_bool(used),
        "informed_outcome": nullable_bool(informed, used),
        "satisfied": nullable_int(satisfied, used),
        "consulted": nullable_bool(consulted),
    })
    df["respondent_name"] = decoy_names(rng, n, rng.random(n) < 0.5)
    df["phone"] = decoy_phones(rng, n, rng.random(n) < 0.3)
    df["comments"] = decoy_comments(rng, n)
    return df


def generate_child_survey(p: pd.DataFrame, n: int, as_of: np.datetime64,
                          rng: np.random.Generator) -> pd.DataFrame:
    """Generate ``child_survey`` (ages 8-17) for mechanisms where children are relevant.

    ``listened_to`` and ``told_what_happened`` are blank for children who never
    told anyone about a problem.
    """
    weights = np.where(p["child_relevant"].to_numpy(), rng.uniform(0.7, 1.3, len(p)), 0.0)
    m = _allocate(weights, n, rng)
    n = len(m)
    q = p["q"].to_numpy()[m]
    ids, mech_col = _ids(p["mechanism_id"].to_numpy(), m, "K")
    clms = p["mechanism_type"].to_numpy()[m] == "clms"
    told_anyone = rng.random(n) < 0.35
    df = pd.DataFrame({
        "respondent_id": ids,
        "mechanism_id": mech_col,
        "survey_date": _survey_dates(rng, m, len(p), as_of, 14),
        "age": nullable_int(rng.integers(8, 18, n)),
        "gender": str_col(GENDERS, np.where(rng.random(n) < 0.03, 3, (rng.random(n) < 0.5).astype(int))),
        "in_school": nullable_bool(rng.random(n) < np.where(clms, 0.6, 0.8)),
        "working": nullable_bool(rng.random(n) < np.where(clms, 0.5, 0.3)),
        "knows_where_to_tell": str_col(YES_NO_NOT_SURE, _three_way(rng, 0.2 + 0.7 * q)),
        "has_trusted_adult": str_col(YES_NO_NOT_SURE, _three_way(rng, 0.55 + 0.35 * q)),
        "safe_to_tell": str_col(YES_NO_NOT_SURE, _three_way(rng, 0.25 + 0.6 * q)),
        "listened_to": str_col(YES_NO_NOT_SURE, _three_way(rng, 0.45 + 0.45 * q), told_anyone),
        "told_what_happened": str_col(YES_NO_NOT_SURE, _three_way(rng, 0.3 + 0.55 * q), told_anyone),
    })
    df["child_name"] = decoy_names(rng, n, rng.random(n) < 0.4)
    df["comments"] = decoy_comments(rng, n, share=0.2)
    return df
