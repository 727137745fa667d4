"""The synthetic mechanisms: a fixed core of 16 realistic mechanisms plus drawn extras.

Besides the public ``mechanisms`` table this module returns the hidden
per-mechanism parameters (quality, workforce shares, speeds, rates) that the
other generators read, one row per mechanism, aligned with the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.synth._util import nullable_int

__all__ = ["SECTORS", "CORE", "PLANTED", "PLANTED_DESCRIPTIONS", "N_CORE", "MIN_MECHANISMS",
           "mechanism_params"]

SECTORS = ("garments", "seafood", "agriculture", "electronics", "tourism", "digital_platforms")
WORKPLACE_TYPES = ("ogm", "supply_chain", "multi_stakeholder")

#: Planted effects: effect name -> mechanism id (documented in docs/synthetic-data.md).
PLANTED: dict[str, str] = {
    "exemplary": "M01",
    "equity_gap_women_remedied_less": "M02",
    "young_workers_underrepresented": "M03",
    "fear_of_retaliation": "M05",
    "slow_to_close": "M07",
}

#: One line per planted effect, for demos and reports.
PLANTED_DESCRIPTIONS: dict[str, str] = {
    "exemplary": "high awareness and trust, fast acknowledgement and closure, complainants "
                 "informed, children's cases referred, strong self-assessment",
    "equity_gap_women_remedied_less": "women's cases remedied at about 0.3 times the rate of men's",
    "young_workers_underrepresented": "15-17 year-olds are 20% of the workforce but file almost "
                                      "no cases (representation ratio below 0.2)",
    "fear_of_retaliation": "about 75% of surveyed workers fear retaliation (others 15-35%)",
    "slow_to_close": "median time to close about 230 days against a 30-day target; many cases open",
}

# id, company, name, sector, country, type, target_ack, target_close, quality
_NA = None
CORE: tuple[tuple, ...] = (
    ("M01", "C01", "Siam Apparel - Bangkok factory OGM", "garments", "TH", "ogm", 3, 21, 0.95),
    ("M02", "C01", "Siam Apparel - Korat factory OGM", "garments", "TH", "ogm", 7, 30, 0.60),
    ("M03", "C03", "Golden Pod Cocoa - Ashanti estates OGM", "agriculture", "GH", "ogm", 7, _NA, 0.50),
    ("M04", "C03", "Golden Pod Cocoa - Soubre community CLMRS", "agriculture", "CI", "clms", _NA, 180, 0.60),
    ("M05", "C02", "Andaman Seafood - Songkhla processing OGM", "seafood", "TH", "ogm", 7, 30, 0.35),
    ("M06", "C02", "Andaman Seafood - supplier vessel helpline", "seafood", "TH", "supply_chain", 2, 45, 0.50),
    ("M07", "C04", "Mekong Electronics - Penang plant OGM", "electronics", "MY", "ogm", 5, 30, 0.50),
    ("M08", "C07", "Fair Garment Initiative complaints mechanism", "garments", "BD", "multi_stakeholder", 5, 60, 0.65),
    ("M09", "C01", "Siam Apparel - supplier worker helpline", "garments", "KH", "supply_chain", 3, 30, 0.60),
    ("M10", "C04", "Mekong Electronics - supplier helpline", "electronics", "VN", "supply_chain", _NA, 45, 0.45),
    ("M11", "C05", "Coastal Resorts - staff and community OGM", "tourism", "TH", "ogm", 7, 30, 0.55),
    ("M12", "C06", "ClickWork - trust and safety reporting", "digital_platforms", "PH", "hotline", 1, 7, 0.60),
    ("M13", "C08", "Sustainable Seafood Alliance grievance mechanism", "seafood", "ID", "multi_stakeholder", 10, 90, 0.50),
    ("M14", "C09", "SafeChild travel and tourism hotline", "tourism", "TH", "hotline", 1, 14, 0.65),
    ("M15", "C10", "Highland Tea - estate OGM", "agriculture", "KE", "ogm", _NA, _NA, 0.40),
    ("M16", "C03", "Golden Pod Cocoa - Ghana CLMRS", "agriculture", "GH", "clms", 30, _NA, 0.55),
)
N_CORE = len(CORE)
#: The planted effects and the realism requirements need the first 12 core mechanisms.
MIN_MECHANISMS = 12

_COUNTRIES = {
    "garments": ("BD", "KH", "VN", "TH", "LK"),
    "seafood": ("TH", "ID", "VN", "PH"),
    "agriculture": ("GH", "CI", "KE", "IN"),
    "electronics": ("MY", "VN", "CN", "TH"),
    "tourism": ("TH", "KE", "ID", "PH"),
    "digital_platforms": ("PH", "IN", "KE"),
}
_SECTOR_LABEL = {
    "garments": "Apparel", "seafood": "Seafood", "agriculture": "Agri",
    "electronics": "Electronics", "tourism": "Hospitality", "digital_platforms": "Platform",
}
_TYPE_LABEL = {
    "ogm": "site OGM", "supply_chain": "supplier helpline", "multi_stakeholder": "sector scheme",
    "clms": "CLMRS", "hotline": "reporting hotline",
}
# share of workers aged 15-17 by sector (workplace mechanisms)
_YOUNG_SHARE = {"garments": 0.035, "seafood": 0.045, "agriculture": 0.10, "electronics": 0.025,
                "tourism": 0.05, "digital_platforms": 0.015}
_FEMALE_SHARE = {"garments": 0.75, "seafood": 0.55, "agriculture": 0.40, "electronics": 0.60,
                 "tourism": 0.50, "digital_platforms": 0.45}
_MIGRANT_SHARE = {"garments": 0.15, "seafood": 0.60, "agriculture": 0.30, "electronics": 0.35,
                  "tourism": 0.25, "digital_platforms": 0.10}
# relative case volume by type
_TYPE_VOLUME = {"ogm": 0.8, "supply_chain": 1.3, "multi_stakeholder": 1.0, "clms": 0.8, "hotline": 1.5}
_ACK_TARGETS = np.array([2, 3, 5, 7, 7, 7, 10, 14])
_CLOSE_TARGETS = np.array([14, 21, 30, 30, 30, 45, 60, 90])


def _extras(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` further mechanisms (ids M17, M18, ...), grouped into companies."""
    if n <= 0:
        return pd.DataFrame(columns=["mechanism_id", "company_id", "name", "sector", "country",
                                     "mechanism_type", "target_ack_days", "target_close_days", "q"])
    idx = np.arange(N_CORE + 1, N_CORE + 1 + n)
    sector = rng.choice(len(SECTORS), size=n, p=[0.28, 0.16, 0.2, 0.16, 0.12, 0.08])
    types = np.array(["ogm", "supply_chain", "multi_stakeholder", "clms", "hotline"])
    tp = rng.choice(5, size=n, p=[0.55, 0.18, 0.07, 0.1, 0.1])
    sec = np.array(SECTORS)[sector]
    typ = types[tp]
    # a CLMS outside agriculture is rare: move most of them to agriculture
    typ = np.where((typ == "clms") & (sec != "agriculture") & (rng.random(n) < 0.7), "ogm", typ)
    # companies own 1-4 consecutive mechanisms of one sector
    new_company = np.r_[True, rng.random(n - 1) < 0.45]
    company_no = np.cumsum(new_company) + 10
    first_of_company = np.maximum.accumulate(np.where(new_company, np.arange(n), 0))
    sec = sec[first_of_company]
    sector_code = pd.Series(sec).map({s: i for i, s in enumerate(SECTORS)}).to_numpy()
    country = np.array([_COUNTRIES[s][0] for s in SECTORS], dtype=object)[sector_code]
    alt = rng.random(n) < 0.5
    country2 = np.array([_COUNTRIES[s][1] for s in SECTORS], dtype=object)[sector_code]
    country = np.where(alt, country2, country)
    width = max(2, len(str(int(company_no.max()))))
    company = "C" + pd.Series(company_no).astype("str").str.zfill(width)
    name = (pd.Series(sec).map(_SECTOR_LABEL) + " Co " + pd.Series(company_no).astype("str")
            + " - " + pd.Series(typ).map(_TYPE_LABEL) + " " + pd.Series(idx).astype("str"))
    tack = _ACK_TARGETS[rng.integers(0, len(_ACK_TARGETS), n)].astype(float)
    tclose = _CLOSE_TARGETS[rng.integers(0, len(_CLOSE_TARGETS), n)].astype(float)
    tack[typ == "hotline"] = 1
    tclose[typ == "clms"] = 180
    tack[rng.random(n) < 0.2] = np.nan
    tclose[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({
        "mechanism_id": "M" + pd.Series(idx).astype("str").str.zfill(2),
        "company_id": company,
        "name": name,
        "sector": sec,
        "country": country,
        "mechanism_type": typ,
        "target_ack_days": tack,
        "target_close_days": tclose,
        "q": rng.uniform(0.3, 0.75, n),
    })


def mechanism_params(n_mechanisms: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the ``mechanisms`` table and the hidden parameters, row-aligned.

    Parameters
    ----------
    n_mechanisms : int
        At least :data:`MIN_MECHANISMS`; the first 16 are the documented core.
    rng : numpy.random.Generator

    Returns
    -------
    table : DataFrame
        The contract's ``mechanisms`` table.
    params : DataFrame
        One row per mechanism (same order) with ``sector``, ``mechanism_type``,
        ``q`` (overall quality, 0-1), ``workplace``, ``headcount``, ``n_sites``,
        ``young_share``, ``young_ratio``, ``female_share``, ``migrant_share``,
        ``volume``, ``ack_median``, ``close_median``, ``p_stuck``, ``p_fear``,
        ``p_aware``, ``p_trust``, ``child_relevant``, ``has_self_assessment``,
        ``equity_gap``, effective targets ``tack``/``tclose``.
    """
    core = pd.DataFrame(
        list(CORE[: min(n_mechanisms, N_CORE)]),
        columns=["mechanism_id", "company_id", "name", "sector", "country", "mechanism_type",
                 "target_ack_days", "target_close_days", "q"],
    )
    core["target_ack_days"] = core["target_ack_days"].astype(float)
    core["target_close_days"] = core["target_close_days"].astype(float)
    extra = _extras(n_mechanisms - N_CORE, rng)
    m = pd.concat([core, extra], ignore_index=True) if len(extra) else core
    n = len(m)
    mid = m["mechanism_id"].to_numpy()
    sec = m["sector"].to_numpy()
    typ = m["mechanism_type"].to_numpy()
    q = m["q"].to_numpy(dtype=float)
    workplace = np.isin(typ, WORKPLACE_TYPES)

    p = pd.DataFrame({"mechanism_id": mid, "sector": sec, "mechanism_type": typ, "q": q,
                      "workplace": workplace})
    # workforce
    base_head = np.select(
        [typ == "ogm", typ == "supply_chain", typ == "multi_stakeholder"],
        [rng.lognormal(np.log(2500), 0.5, n), rng.lognormal(np.log(30000), 0.5, n),
         rng.lognormal(np.log(60000), 0.4, n)], 0)
    p["headcount"] = np.where(workplace, np.round(base_head), 0).astype("int64")
    p["n_sites"] = np.select(
        [typ == "ogm", typ == "supply_chain", typ == "multi_stakeholder", typ == "clms"],
        [rng.integers(1, 4, n), rng.integers(5, 13, n), rng.integers(8, 16, n), rng.integers(4, 10, n)],
        1)
    p["young_share"] = np.where(workplace, pd.Series(sec).map(_YOUNG_SHARE).to_numpy()
                                * rng.uniform(0.7, 1.3, n), 0.0)
    p["young_ratio"] = np.clip(rng.normal(1.0, 0.12, n), 0.75, 1.25)
    p["female_share"] = np.clip(pd.Series(sec).map(_FEMALE_SHARE).to_numpy() + rng.normal(0, 0.05, n),
                                0.1, 0.9)
    p["migrant_share"] = np.clip(pd.Series(sec).map(_MIGRANT_SHARE).to_numpy()
                                 + rng.normal(0, 0.05, n), 0.0, 0.9)
    p["volume"] = pd.Series(typ).map(_TYPE_VOLUME).to_numpy() * rng.lognormal(0, 0.3, n)
    # timeliness (days)
    p["ack_median"] = np.where(typ == "hotline", 0.5, 1.0 + 6 * (1 - q))
    p["close_median"] = (12 + 50 * (1 - q)) * np.select([typ == "hotline", typ == "clms"], [0.3, 2.0], 1.0)
    p["p_stuck"] = 0.03
    p["p_ack_missing"] = 0.02 + 0.1 * (1 - q)
    # rates driven by quality
    p["p_fear"] = np.clip(0.42 - 0.25 * q + rng.normal(0, 0.02, n), 0.15, 0.35)
    p["p_aware"] = 0.35 + 0.5 * q
    p["p_trust"] = 0.2 + 0.55 * q
    p["p_informed"] = 0.35 + 0.45 * q
    p["p_advice"] = 0.2 + 0.5 * q
    p["p_dialogue"] = 0.2 + 0.4 * q
    p["p_referral"] = 0.35 + 0.5 * q
    p["p_remedy"] = 0.3 + 0.35 * q
    p["p_retaliation"] = 0.01 + 0.04 * (1 - q)
    p["p_root_cause"] = 0.1 + 0.6 * q
    p["p_anonymous"] = np.select([typ == "hotline", typ == "clms"], [0.55, 0.05], 0.25)
    p["child_relevant"] = (np.isin(typ, ("clms", "hotline")) | np.isin(sec, ("agriculture", "tourism"))
                           | (mid == PLANTED["exemplary"]))
    p["has_self_assessment"] = rng.random(n) < 0.85
    p["equity_gap"] = mid == PLANTED["equity_gap_women_remedied_less"]
    p["tack"] = m["target_ack_days"].fillna(7).to_numpy()
    p["tclose"] = m["target_close_days"].fillna(30).to_numpy()

    # planted effects (documented in docs/synthetic-data.md)
    def at(effect: str) -> np.ndarray:
        return mid == PLANTED[effect]

    ex = at("exemplary")
    p.loc[ex, ["ack_median", "close_median", "p_stuck", "p_ack_missing", "p_fear"]] = [0.6, 7.0, 0.005, 0.0, 0.12]
    p.loc[ex, ["p_aware", "p_trust", "p_informed", "p_referral", "p_advice"]] = [0.96, 0.85, 0.97, 0.97, 0.85]
    young = at("young_workers_underrepresented")
    p.loc[young, ["young_share", "young_ratio"]] = [0.2, 0.08]
    p.loc[at("fear_of_retaliation"), ["p_fear", "p_retaliation"]] = [0.75, 0.08]
    # men's cases are remedied often, women's (x0.3 in _cases) rarely
    # (a dyeing and knitting mill: about half the workers are men, so both groups are sizeable)
    p.loc[at("equity_gap_women_remedied_less"), ["p_remedy", "female_share"]] = [0.75, 0.5]
    p.loc[at("slow_to_close"), ["close_median", "p_stuck"]] = [230.0, 0.12]
    planted = np.isin(mid, list(PLANTED.values()))
    p.loc[planted, "has_self_assessment"] = True
    # enough cases at the planted mechanisms for the effects to show at small sizes
    p.loc[planted, "volume"] = np.maximum(p.loc[planted, "volume"], 1.0)
    p.loc[at("equity_gap_women_remedied_less"), "volume"] = 1.6  # a busy mechanism: both sexes well represented
    p["planted"] = planted

    table = pd.DataFrame({
        "mechanism_id": m["mechanism_id"].astype("str"),
        "company_id": m["company_id"].astype("str"),
        "name": m["name"].astype("str"),
        "sector": m["sector"].astype("str"),
        "country": m["country"].astype("str"),
        "mechanism_type": m["mechanism_type"].astype("str"),
        "target_ack_days": nullable_int(m["target_ack_days"].fillna(0).to_numpy(),
                                        m["target_ack_days"].notna().to_numpy()),
        "target_close_days": nullable_int(m["target_close_days"].fillna(0).to_numpy(),
                                          m["target_close_days"].notna().to_numpy()),
    })
    return table, p
