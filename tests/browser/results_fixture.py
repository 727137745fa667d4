"""A small results directory in the documented format, for dashboard tests.

The scoring pipeline writes results directories (docs/results-format.md); this
helper writes one directly, with known values, so dashboard tests can assert on
exactly what they should show. :func:`make_results_dir` prefers the real
pipeline (``gm_eval.pipeline.score_data_dir``) when it is available and
``use_pipeline`` is true; the benchmark uses the same helper for 1,000
mechanisms.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

#: (indicator_id, criterion, lower_is_better)
INDICATORS = (
    ("legitimate.trust_rate", "legitimate", False),
    ("legitimate.satisfaction_rate", "legitimate", False),
    ("accessible.awareness_rate", "accessible", False),
    ("accessible.child_awareness_rate", "accessible", False),
    ("accessible.fear_of_retaliation_rate", "accessible", True),
    ("accessible.anonymous_share", "accessible", False),
    ("predictable.ack_within_target_rate", "predictable", False),
    ("predictable.closed_within_target_rate", "predictable", False),
    ("equitable.advice_rate", "equitable", False),
    ("transparent.informed_rate", "transparent", False),
    ("rights_compatible.child_referral_rate", "rights_compatible", False),
    ("rights_compatible.retaliation_rate", "rights_compatible", True),
    ("rights_compatible.clms_exit_rate", "rights_compatible", False),
    ("continuous_learning.repeat_rate", "continuous_learning", True),
    ("engagement_dialogue.dialogue_rate", "engagement_dialogue", False),
    ("engagement_dialogue.consultation_rate", "engagement_dialogue", False),
)

SECTORS = ("garments", "seafood", "agriculture", "electronics")
COUNTRIES = ("BD", "TH", "GH", "VN")
TYPES = ("ogm", "supply_chain", "multi_stakeholder", "clms", "hotline")
DISAGG = {
    "gender": ("female", "male"),
    "age_band": ("under_15", "15_17", "18_plus", "unknown"),
    "migrant": ("true", "false"),
    "channel": ("hotline", "in_person", "sms_chat"),
    "site": ("S1", "S2", "S3"),
}
K = 5


def _band(score: pd.Series) -> pd.Series:
    return pd.cut(score, [-0.1, 40, 60, 80, 100.1],
                  labels=["weak", "developing", "good", "strong"]).astype("str").where(score.notna())


def fixture_tables(n_mechanisms: int = 12, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Return the published tables of a synthetic evaluation.

    Mechanism ``M01`` is planted as the best overall and has every child-lens
    indicator suppressed except awareness; ``M02`` has a suppressed
    disaggregation group; names are ``"<Sector> mechanism NN"``.
    """
    rng = np.random.default_rng(seed)
    ids = [f"M{i:02d}" if n_mechanisms < 100 else f"M{i:04d}" for i in range(1, n_mechanisms + 1)]
    n = len(ids)
    sector = np.array(SECTORS)[np.arange(n) % len(SECTORS)]
    mech = pd.DataFrame({
        "mechanism_id": ids,
        "company_id": [f"C{i % max(1, n // 2):03d}" for i in range(n)],
        "name": [f"{s.title()} mechanism {i:02d}" for i, s in enumerate(sector, start=1)],
        "sector": sector,
        "country": np.array(COUNTRIES)[(np.arange(n) // 2) % len(COUNTRIES)],
        "mechanism_type": np.array(TYPES)[np.arange(n) % len(TYPES)],
        "target_ack_days": 7,
        "target_close_days": 30,
    })
    # indicators: mechanism x indicator
    ind_ids = [i[0] for i in INDICATORS]
    grid = pd.MultiIndex.from_product([ids, ind_ids], names=["mechanism_id", "indicator_id"]).to_frame(index=False)
    meta = pd.DataFrame(INDICATORS, columns=["indicator_id", "criterion", "lower_better"])
    ind = grid.merge(meta, on="indicator_id", how="left")
    quality = pd.Series(np.linspace(0.9, 0.2, n), index=ids)  # M01 best
    base = quality.reindex(ind["mechanism_id"]).to_numpy()
    value = np.clip(base + rng.normal(0, 0.08, len(ind)), 0.01, 0.99)
    value = np.where(ind["lower_better"], 1 - value, value)
    nn = rng.integers(30, 400, len(ind))
    ind["n"] = nn
    ind["value"] = value.round(4)
    half = 1.96 * np.sqrt(value * (1 - value) / nn)
    ind["ci_low"] = np.clip(value - half, 0, 1).round(4)
    ind["ci_high"] = np.clip(value + half, 0, 1).round(4)
    ind["score"] = (np.where(ind["lower_better"], 1 - value, value) * 100).round(1)
    ind["flags"] = ""
    sup = (ind["mechanism_id"] == ids[0]) & ind["indicator_id"].isin(
        ["rights_compatible.child_referral_rate", "rights_compatible.clms_exit_rate"])
    ind.loc[sup, ["n"]] = 3
    ind.loc[sup, ["value", "ci_low", "ci_high", "score"]] = np.nan
    ind.loc[sup, "flags"] = "small_n;suppressed"
    ind["n"] = ind["n"].astype("Int64")
    indicators = ind[["mechanism_id", "indicator_id", "criterion", "value", "ci_low", "ci_high",
                      "n", "score", "flags"]]
    # scores: mean indicator score per criterion (+ overall)
    crit = (indicators.groupby(["mechanism_id", "criterion"], sort=False)["score"].mean()
            .round(1).rename("score").reset_index())
    crit["coverage"] = 1.0
    overall = crit.groupby("mechanism_id", sort=False)["score"].mean().round(1).rename("score").reset_index()
    overall["criterion"] = "overall"
    overall["coverage"] = 1.0
    scores = pd.concat([crit, overall], ignore_index=True)
    scores["band"] = _band(scores["score"])
    scores = scores.merge(mech[["mechanism_id", "sector"]], on="mechanism_id")
    g = scores.groupby(["sector", "criterion"])["score"]
    scores["sector_percentile"] = (g.rank(pct=True) * 100).round(1)
    scores["sector_median"] = g.transform("median").round(1)
    scores = scores[["mechanism_id", "criterion", "score", "coverage", "band", "sector_percentile",
                     "sector_median"]]
    # disaggregation: a few indicators x dimensions x groups
    rows = [(m, i, d, gname) for m in ids for i in ("legitimate.trust_rate", "accessible.awareness_rate",
                                                   "equitable.advice_rate")
            for d, groups in DISAGG.items() for gname in groups]
    dis = pd.DataFrame(rows, columns=["mechanism_id", "indicator_id", "dimension", "group"])
    dv = np.clip(quality.reindex(dis["mechanism_id"]).to_numpy() + rng.normal(0, 0.12, len(dis)), 0.01, 0.99)
    dn = rng.integers(8, 120, len(dis))
    dis["value"] = dv.round(4)
    dh = 1.96 * np.sqrt(dv * (1 - dv) / dn)
    dis["ci_low"] = np.clip(dv - dh, 0, 1).round(4)
    dis["ci_high"] = np.clip(dv + dh, 0, 1).round(4)
    dis["n"] = dn
    dis["flags"] = np.where(dn < 30, "small_n", "")
    sup2 = (dis["mechanism_id"] == ids[min(1, n - 1)]) & (dis["dimension"] == "age_band") & (dis["group"] == "15_17")
    dis.loc[sup2, ["value", "ci_low", "ci_high"]] = np.nan
    dis.loc[sup2, "n"] = 2
    dis.loc[sup2, "flags"] = "small_n;suppressed"
    dis["n"] = dis["n"].astype("Int64")
    # recommendations: the three weakest criteria
    crit_only = scores[scores["criterion"] != "overall"].sort_values(["mechanism_id", "score"])
    rec = crit_only.groupby("mechanism_id").head(3).copy()
    rec["rank"] = rec.groupby("mechanism_id").cumcount() + 1
    rec["indicator_id"] = rec["criterion"] + ".example"
    rec["target_gap"] = (80 - rec["score"]).clip(lower=0).round(1)
    rec["recommendation"] = "Strengthen the " + rec["criterion"].str.replace("_", " ") + " criterion."
    rec["reference"] = "UNGP Principle 31"
    recommendations = rec[["mechanism_id", "rank", "criterion", "indicator_id", "score", "target_gap",
                           "recommendation", "reference"]].reset_index(drop=True)
    catalogue = meta.rename(columns={"lower_better": "direction"})
    catalogue["direction"] = np.where(catalogue["direction"], "lower", "higher")
    catalogue["label"] = catalogue["indicator_id"].str.split(".").str[1].str.replace("_", " ").str.capitalize()
    return {
        "mechanisms": mech,
        "indicator_catalogue": catalogue[["indicator_id", "criterion", "label", "direction"]],
        "indicators": indicators,
        "scores": scores,
        "disaggregation": dis,
        "recommendations": recommendations,
    }


def write_fixture_results(out: str | Path, n_mechanisms: int = 12, seed: int = 7) -> Path:
    """Write :func:`fixture_tables` as a results directory (CSV + Parquet + manifest)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = fixture_tables(n_mechanisms, seed)
    for stem, df in tables.items():
        df.to_parquet(out / f"{stem}.parquet", index=False)
        df.to_csv(out / f"{stem}.csv", index=False)
    manifest = {"tool": "gm-eval", "version": "test-fixture", "created_at": "2025-07-01T00:00:00Z",
                "as_of": "2025-06-30", "k": K, "min_n": 30, "profile": {}, "inputs": {},
                "tables": sorted(tables)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out


def make_results_dir(out: str | Path, n_mechanisms: int = 12, seed: int = 7,
                     use_pipeline: bool = True) -> tuple[Path, str]:
    """Write a results directory with the real pipeline when available, else the fixture.

    Returns
    -------
    (Path, str)
        The results directory and ``"pipeline"`` or ``"fixture"``.
    """
    out = Path(out)
    if use_pipeline:
        try:
            from gm_eval import synth
            from gm_eval.pipeline import score_data_dir
        except ImportError:
            pass
        else:
            data = out.parent / f"{out.name}-data"
            tables = synth.generate(n_mechanisms=n_mechanisms, seed=seed)
            synth.write_data_dir(tables, data)
            score_data_dir(data, out)
            return out, "pipeline"
    return write_fixture_results(out, n_mechanisms, seed), "fixture"
