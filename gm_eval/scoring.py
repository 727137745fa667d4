"""Scoring: the profile, the 0-100 mapping, criterion and overall scores, bands, benchmarks.

The method, in short (the full text is in ``docs/methodology.md``):

* indicator score = ``100 * clip((value - floor) / (target - floor), 0, 1)``; for
  lower-is-better indicators the target is below the floor, so the same formula
  is direction-aware. Indicators without a value, or whose denominator is below
  the publication threshold ``k``, get no score: missing evidence is never 0.
* criterion score = weight-averaged indicator scores over the scored indicators;
  ``coverage`` = scored weight / weight of the criterion's applicable indicators
  (``not_applicable`` indicators leave the denominator).
* overall score = criterion-weight-averaged criterion scores over criteria with
  coverage > 0; overall coverage = criterion-weight-averaged coverage.
* band = the first profile band whose ``min`` the score reaches, or
  ``insufficient_evidence`` when coverage < ``coverage_threshold``.
* benchmarking: within each sector, every criterion and overall score gets its
  percentile rank (share below plus half the share tied, times 100) and the sector median.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from gm_eval.contract import CRITERIA
from gm_eval.errors import InputError
from gm_eval.indicators.registry import registry
from gm_eval.shipped import read_yaml

__all__ = [
    "OVERALL",
    "INSUFFICIENT",
    "SCORE_COLUMNS",
    "default_profile",
    "load_profile",
    "score_indicators",
    "criterion_scores",
    "benchmark",
    "band_of",
    "profile_catalogue",
]

OVERALL = "overall"
INSUFFICIENT = "insufficient_evidence"
SCORE_COLUMNS = [
    "mechanism_id",
    "criterion",
    "score",
    "coverage",
    "band",
    "sector_percentile",
    "sector_median",
]
_TOP_KEYS = {"min_n", "coverage_threshold", "bands", "criterion_weights", "indicators"}
_IND_KEYS = {"target", "floor", "weight"}


def _read_default() -> dict:
    return read_yaml("profile_default.yaml")


def default_profile() -> dict:
    """The shipped default profile, with every indicator's target, floor and weight filled in."""
    return load_profile(None)


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, val in over.items():
        if isinstance(val, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], val)
        else:
            out[key] = copy.deepcopy(val)
    return out


def load_profile(profile=None) -> dict:
    """Return the effective scoring profile: a user profile merged over the default.

    Parameters
    ----------
    profile : None, str, path-like or dict
        A YAML file or its parsed content holding only what changes; ``None``
        for the default.

    Returns
    -------
    dict
        ``min_n``, ``coverage_threshold``, ``bands`` (list of ``{band, min}``,
        highest first), ``criterion_weights`` (every criterion) and ``indicators``
        (every registered indicator with ``target``, ``floor``, ``weight``).

    Raises
    ------
    InputError
        Unknown keys or indicators, a target equal to its floor, a negative
        weight, bands not in decreasing order.
    """
    if profile is None:
        user = {}
    elif isinstance(profile, dict):
        user = profile
    else:
        path = Path(profile)
        try:
            user = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise InputError(f"cannot read profile {path}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise InputError(f"profile {path} is not valid YAML: {exc}") from exc
        if not isinstance(user, dict):
            raise InputError(f"profile {path}: expected a mapping at the top level")
    unknown = set(user) - _TOP_KEYS
    if unknown:
        raise InputError(f"profile: unknown keys {sorted(unknown)}; allowed {sorted(_TOP_KEYS)}")
    reg = registry()
    base = _read_default()
    base["indicators"] = {
        i.id: {"target": i.target, "floor": i.floor, "weight": i.weight} for i in reg.values()
    }
    if "bands" in user:  # a list replaces the default list
        base.pop("bands")
    prof = _merge(base, user)
    _check_profile(prof)
    return prof


def _check_profile(p: dict) -> None:
    reg = registry()
    try:
        p["min_n"] = int(p["min_n"])
        p["coverage_threshold"] = float(p["coverage_threshold"])
    except (TypeError, ValueError) as exc:
        raise InputError(f"profile: min_n and coverage_threshold must be numbers ({exc})") from exc
    if p["min_n"] < 0 or not 0 <= p["coverage_threshold"] <= 1:
        raise InputError("profile: min_n must be >= 0 and coverage_threshold in [0, 1]")
    bad = set(p["criterion_weights"]) - set(CRITERIA)
    if bad:
        raise InputError(f"profile: unknown criteria in criterion_weights {sorted(bad)}")
    for c, w in p["criterion_weights"].items():
        if not isinstance(w, int | float) or w < 0:
            raise InputError(f"profile: criterion weight of {c} must be a number >= 0")
    bad = set(p["indicators"]) - set(reg)
    if bad:
        raise InputError(f"profile: unknown indicators {sorted(bad)}")
    for iid, spec in p["indicators"].items():
        if not isinstance(spec, dict) or set(spec) - _IND_KEYS:
            raise InputError(f"profile: indicator {iid} takes only {sorted(_IND_KEYS)}")
        try:
            t, f, w = float(spec["target"]), float(spec["floor"]), float(spec["weight"])
        except (TypeError, ValueError) as exc:
            raise InputError(f"profile: indicator {iid}: target, floor, weight must be numbers") from exc
        if t == f:
            raise InputError(f"profile: indicator {iid}: target equals floor")
        if (t > f) != reg[iid].higher_better:
            raise InputError(
                f"profile: indicator {iid} is {reg[iid].direction}: "
                f"target {t} and floor {f} are the wrong way round"
            )
        if w < 0:
            raise InputError(f"profile: indicator {iid}: negative weight")
        p["indicators"][iid] = {"target": t, "floor": f, "weight": w}
    bands = p["bands"]
    try:
        mins = [float(b["min"]) for b in bands]
        names = [str(b["band"]) for b in bands]
    except (TypeError, KeyError, ValueError) as exc:
        raise InputError("profile: bands must be a list of {band: NAME, min: NUMBER}") from exc
    if not bands or mins != sorted(mins, reverse=True) or len(set(names)) != len(names):
        raise InputError("profile: bands must be non-empty, unique and in decreasing order of min")


def profile_catalogue(catalogue: pd.DataFrame, profile: dict) -> pd.DataFrame:
    """The indicator catalogue with the profile's target, floor and weight."""
    ind = profile["indicators"]
    out = catalogue.copy()
    for key in ("target", "floor", "weight"):
        out[key] = out["indicator_id"].map(lambda i, k=key: ind[i][k]).astype(float)
    return out


def score_indicators(indicators: pd.DataFrame, profile: dict, k: int = 5) -> pd.DataFrame:
    """Fill the ``score`` column of an indicators table (0-100).

    Rows without a value, and rows whose denominator ``n`` is below ``k`` (their
    value will be withheld on publication), get no score.
    """
    spec = profile["indicators"]
    # each distinct indicator id looked up once (NaN for ids the profile lacks)
    codes, ids = pd.factorize(indicators["indicator_id"])

    def per_row(key: str) -> np.ndarray:
        by_id = [float(spec[i][key]) if i in spec else np.nan for i in ids]
        return np.array([*by_id, np.nan], dtype=float)[codes]

    t = per_row("target")
    f = per_row("floor")
    v = indicators["value"].astype(float).to_numpy()
    n = indicators["n"]
    if isinstance(n.dtype, pd.Int64Dtype):
        n = n.to_numpy(dtype=float, na_value=0.0)
    else:
        n = n.astype("Float64").fillna(0).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = 100 * np.clip((v - f) / (t - f), 0.0, 1.0)
    s = np.where(np.isfinite(v) & (n >= k), s + 0.0, np.nan)
    return indicators.assign(score=s)


def band_of(score, coverage, profile: dict) -> np.ndarray:
    """Band name for each score (``insufficient_evidence`` below the coverage threshold)."""
    score = np.asarray(score, dtype=float)
    coverage = np.asarray(coverage, dtype=float)
    out = np.full(score.shape, INSUFFICIENT, dtype=object)
    assigned = np.zeros(score.shape, dtype=bool)
    for b in profile["bands"]:
        hit = ~assigned & (score >= float(b["min"]))
        out[hit] = b["band"]
        assigned |= hit
    insufficient = ~(coverage >= profile["coverage_threshold"]) | ~np.isfinite(score)
    out[insufficient] = INSUFFICIENT
    return out


def criterion_scores(indicators: pd.DataFrame, profile: dict) -> pd.DataFrame:
    """Criterion and overall scores with coverage and band, for every mechanism.

    Parameters
    ----------
    indicators : DataFrame
        Scored indicators table (:func:`score_indicators`).
    profile : dict
        Effective profile (:func:`load_profile`).

    Returns
    -------
    DataFrame
        ``mechanism_id, criterion, score, coverage, band``: one row per mechanism
        and criterion (canonical order) plus ``overall``.
    """
    w = indicators["indicator_id"].map({i: s["weight"] for i, s in profile["indicators"].items()})
    applicable = ~indicators["flags"].str.contains("not_applicable", regex=False).fillna(False)
    scored = indicators["score"].notna()
    df = pd.DataFrame(
        {
            "mechanism_id": indicators["mechanism_id"].to_numpy(),
            "criterion": indicators["criterion"].to_numpy(),
            "w_all": np.where(applicable, w, 0.0),
            "w_scored": np.where(scored, w, 0.0),
            "ws": np.where(scored, w * indicators["score"].fillna(0), 0.0),
        }
    )
    g = df.groupby(["mechanism_id", "criterion"], sort=False)[["w_all", "w_scored", "ws"]].sum()
    mech_ids = pd.unique(indicators["mechanism_id"])
    full = pd.MultiIndex.from_product([mech_ids, list(CRITERIA)], names=["mechanism_id", "criterion"])
    g = g.reindex(full, fill_value=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(g["w_scored"] > 0, g["ws"] / g["w_scored"], np.nan)
        coverage = np.where(g["w_all"] > 0, g["w_scored"] / g["w_all"], 0.0)
    crit = pd.DataFrame({"score": score, "coverage": coverage}, index=full).reset_index()
    cw = crit["criterion"].map(
        {c: float(profile["criterion_weights"].get(c, 1.0)) for c in CRITERIA}
    ).to_numpy()
    has = crit["score"].notna().to_numpy() & (crit["coverage"].to_numpy() > 0)
    tmp = pd.DataFrame(
        {
            "mechanism_id": crit["mechanism_id"],
            "ws": np.where(has, cw * crit["score"].fillna(0).to_numpy(), 0.0),
            "w": np.where(has, cw, 0.0),
            "wc": cw * crit["coverage"].to_numpy(),
            "cw": cw,
        }
    )
    o = tmp.groupby("mechanism_id", sort=False)[["ws", "w", "wc", "cw"]].sum().reindex(mech_ids)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = pd.DataFrame(
            {
                "mechanism_id": mech_ids,
                "criterion": OVERALL,
                "score": np.where(o["w"] > 0, o["ws"] / o["w"], np.nan),
                "coverage": np.where(o["cw"] > 0, o["wc"] / o["cw"], 0.0),
            }
        )
    out = pd.concat([crit, overall], ignore_index=True)
    out["band"] = band_of(out["score"], out["coverage"], profile)
    order = {m: i for i, m in enumerate(mech_ids)}
    crit_order = {c: i for i, c in enumerate((*CRITERIA, OVERALL))}
    out = out.sort_values(
        ["mechanism_id", "criterion"],
        key=lambda s: s.map(order) if s.name == "mechanism_id" else s.map(crit_order),
    ).reset_index(drop=True)
    return out


def benchmark(scores: pd.DataFrame, mechanisms: pd.DataFrame) -> pd.DataFrame:
    """Add within-sector ``sector_percentile`` and ``sector_median`` to a scores table.

    The percentile rank of a score among the scored mechanisms of its sector and
    criterion is ``100 * (below + tied / 2) / N`` (``tied`` includes itself);
    mechanisms without a score get neither.
    """
    sector = scores["mechanism_id"].map(mechanisms.set_index("mechanism_id")["sector"])
    df = scores.assign(_sector=sector.to_numpy())
    g = df.groupby(["_sector", "criterion"], sort=False)["score"]
    n = g.transform("count")
    rank = g.rank(method="average")
    df["sector_percentile"] = 100 * (rank - 0.5) / n
    df["sector_median"] = g.transform("median")
    df.loc[df["score"].isna(), ["sector_percentile"]] = np.nan
    return df.drop(columns="_sector")[SCORE_COLUMNS]
