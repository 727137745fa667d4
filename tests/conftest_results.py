"""Fixture results directories for the report, plot and notebook tests.

Until the scoring pipeline (``gm_eval.pipeline.score_data_dir``) is available,
:func:`write_fixture_results` writes a small results directory in exactly the
format documented in ``docs/results-format.md`` (CSV and Parquet per table plus
``manifest.json``). When the pipeline is importable, :func:`results_dir_for`
scores a synthetic data directory with it instead, so the tests run on the real
thing.

The tables are plausible rather than statistically exact; they carry the
shapes reports must handle: small-n and suppressed cells, a criterion that is
not covered, a CLMS mechanism, a hotline, mechanisms without any survey.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gm_eval.contract import CRITERIA

__all__ = ["write_fixture_results", "results_dir_for", "fixture_mechanisms"]

INDICATORS = (
    ("legitimate.trust_rate", "legitimate", "worker_survey", "higher", 0.8),
    ("legitimate.satisfaction_rate", "legitimate", "cases", "higher", 0.8),
    ("accessible.awareness_rate", "accessible", "worker_survey", "higher", 0.9),
    ("accessible.child_awareness_rate", "accessible", "child_survey", "higher", 0.8),
    ("accessible.fear_of_retaliation_rate", "accessible", "worker_survey", "lower", 0.1),
    ("accessible.anonymous_share", "accessible", "cases", "higher", 0.3),
    ("predictable.ack_within_target_rate", "predictable", "cases", "higher", 0.9),
    ("predictable.median_days_to_close", "predictable", "cases", "lower", 30),
    ("predictable.closed_within_target_rate", "predictable", "cases", "higher", 0.8),
    ("equitable.advice_rate", "equitable", "cases", "higher", 0.7),
    ("transparent.informed_rate", "transparent", "cases", "higher", 0.9),
    ("rights_compatible.child_referral_rate", "rights_compatible", "cases", "higher", 0.98),
    ("rights_compatible.retaliation_rate", "rights_compatible", "cases", "lower", 0.02),
    ("rights_compatible.clms_remediation_rate", "rights_compatible", "clms_children", "higher", 0.98),
    ("rights_compatible.clms_exit_rate", "rights_compatible", "clms_children", "higher", 0.9),
    ("continuous_learning.repeat_rate", "continuous_learning", "cases", "lower", 0.1),
    ("engagement_dialogue.dialogue_rate", "engagement_dialogue", "cases", "higher", 0.5),
    ("engagement_dialogue.consultation_rate", "engagement_dialogue", "worker_survey", "higher", 0.5),
)

SECTORS = ("garments", "agriculture", "seafood")
TYPES = ("ogm", "supply_chain", "clms", "hotline", "ogm", "multi_stakeholder")


def fixture_mechanisms(n: int) -> pd.DataFrame:
    """The ``mechanisms`` table of a fixture with ``n`` mechanisms."""
    ids = [f"M{i + 1:03d}" for i in range(n)]
    return pd.DataFrame(
        {
            "mechanism_id": ids,
            "company_id": [f"C{(i // 3) + 1:02d}" for i in range(n)],
            "name": [f"Mechanism <{i + 1}> & Co" if i == 1 else f"Site {i + 1} helpline" for i in range(n)],
            "sector": [SECTORS[(i // 3) % len(SECTORS)] for i in range(n)],
            "country": [("GH", "BD", "TH", "CI")[i % 4] for i in range(n)],
            "mechanism_type": [TYPES[i % len(TYPES)] for i in range(n)],
            "target_ack_days": [7 if i % 2 else 5 for i in range(n)],
            "target_close_days": [30 if i % 2 else 45 for i in range(n)],
        }
    )


def _band(score: float) -> str:
    if pd.isna(score):
        return "not_covered"
    return "strong" if score >= 75 else "adequate" if score >= 50 else "weak" if score >= 25 else "very_weak"


def _write(out: Path, name: str, df: pd.DataFrame) -> None:
    df.to_csv(out / f"{name}.csv", index=False)
    df.to_parquet(out / f"{name}.parquet", index=False)


def write_fixture_results(out: str | Path, n_mechanisms: int = 6, seed: int = 7) -> Path:
    """Write a results directory in the documented format.

    Parameters
    ----------
    out : str or path-like
        Directory to create (emptied first).
    n_mechanisms : int
        Number of mechanisms (at least 4: one CLMS and one hotline).
    seed : int
        Random seed.

    Returns
    -------
    pathlib.Path
        The results directory.
    """
    rng = np.random.default_rng(seed)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    mech = fixture_mechanisms(n_mechanisms)
    ids = mech["mechanism_id"].tolist()
    tables: dict[str, pd.DataFrame] = {"mechanisms": mech}

    tables["indicator_catalogue"] = pd.DataFrame(
        {
            "indicator_id": [i[0] for i in INDICATORS],
            "criterion": [i[1] for i in INDICATORS],
            "label": [i[0].split(".")[1].replace("_", " ") for i in INDICATORS],
            "definition": ["see data contract"] * len(INDICATORS),
            "source": [i[2] for i in INDICATORS],
            "evidence_kind": ["rate"] * len(INDICATORS),
            "unit": ["days" if "days" in i[0] else "proportion" for i in INDICATORS],
            "direction": [i[3] for i in INDICATORS],
            "target": [i[4] for i in INDICATORS],
            "floor": [0.0] * len(INDICATORS),
            "weight": [1.0] * len(INDICATORS),
            "references": ["UNGP 31"] * len(INDICATORS),
        }
    )

    rows = []
    for m_i, m in enumerate(ids):
        mtype = mech["mechanism_type"].iloc[m_i]
        for ind, crit, source, direction, _target in INDICATORS:
            n = int(rng.integers(8, 400))
            flags = []
            value = float(rng.uniform(0.05, 0.95))
            if "days" in ind:
                value = float(rng.uniform(5, 60))
            if source == "clms_children" and mtype != "clms":
                value, n, flags = np.nan, 0, ["not_covered"]
            elif source == "child_survey" and m_i % 2:
                value, n, flags = np.nan, 0, ["not_covered"]
            elif ind == "rights_compatible.child_referral_rate" and m_i % 3 == 0:
                value, n, flags = np.nan, 3, ["suppressed", "small_n"]
            elif n < 30:
                flags = ["small_n"]
            lo = hi = np.nan
            if not np.isnan(value) and "days" not in ind:
                half = 1.96 * np.sqrt(value * (1 - value) / max(n, 1))
                lo, hi = max(0.0, value - half), min(1.0, value + half)
            score = np.nan if np.isnan(value) else float(
                100 * (value if direction == "higher" else 1 - min(value / 60 if "days" in ind else value, 1))
            )
            rows.append((m, ind, crit, value, lo, hi, n, score, ";".join(flags)))
    ind_df = pd.DataFrame(
        rows, columns=["mechanism_id", "indicator_id", "criterion", "value", "ci_low", "ci_high", "n", "score", "flags"]
    )
    tables["indicators"] = ind_df

    crit_scores = ind_df.groupby(["mechanism_id", "criterion"], sort=False).agg(
        score=("score", "mean"), coverage=("score", lambda s: s.notna().mean())
    ).reset_index()
    overall = crit_scores.groupby("mechanism_id", sort=False).agg(
        score=("score", "mean"), coverage=("coverage", "mean")
    ).reset_index().assign(criterion="overall")
    scores = pd.concat([crit_scores, overall], ignore_index=True)
    scores["band"] = scores["score"].map(_band)
    mech_sector = mech.set_index("mechanism_id")["sector"]
    scores["sector"] = scores["mechanism_id"].map(mech_sector)
    grp = scores.groupby(["sector", "criterion"])["score"]
    scores["sector_percentile"] = grp.rank(pct=True) * 100
    scores["sector_median"] = grp.transform("median")
    scores = scores.drop(columns="sector")
    tables["scores"] = scores[["mechanism_id", "criterion", "score", "coverage", "band", "sector_percentile", "sector_median"]]

    dis = []
    groups = {"gender": ["female", "male"], "age_band": ["15_17", "18_plus", "under_15"], "migrant": ["yes", "no"], "channel": ["hotline", "in_person"]}
    for m in ids:
        for dim, gs in groups.items():
            for g in gs:
                n = int(rng.integers(2, 120))
                v = float(rng.uniform(0.2, 0.9))
                flags = "suppressed" if n < 5 else ("small_n" if n < 30 else "")
                if n < 5:
                    v = np.nan
                dis.append((m, "transparent.informed_rate", dim, g, v, v - 0.1 if v == v else np.nan, v + 0.1 if v == v else np.nan, n, flags))
    tables["disaggregation"] = pd.DataFrame(
        dis, columns=["mechanism_id", "indicator_id", "dimension", "group", "value", "ci_low", "ci_high", "n", "flags"]
    )

    eq = []
    for m_i, m in enumerate(ids):
        for dim in ("gender", "age_band", "migrant"):
            p = float(rng.uniform(0.0005, 0.6)) if m_i else 0.001
            eq.append((m, "transparent.informed_rate", dim, "chi2", float(rng.uniform(0, 12)), p, min(1.0, p * 3),
                       float(rng.uniform(0, 0.4)), "cramers_v", min(1.0, p * 3) < 0.05, ";".join(groups[dim]), ""))
    tables["equity_tests"] = pd.DataFrame(
        eq, columns=["mechanism_id", "indicator_id", "dimension", "test", "statistic", "p_value", "p_holm",
                     "effect_size", "effect_size_name", "significant", "groups", "flags"]
    )

    tte, tts = [], []
    for m_i, m in enumerate(ids):
        target_close = int(mech["target_close_days"].iloc[m_i])
        for interval, target in (("received_to_acknowledged", int(mech["target_ack_days"].iloc[m_i])),
                                 ("received_to_closed", target_close)):
            t = np.concatenate([[0.0], np.sort(rng.uniform(1, 120, 25)).round()])
            surv = np.concatenate([[1.0], np.linspace(0.96, 0.1, 25)])
            for ti, si, ar in zip(t, surv, range(len(t), 0, -1), strict=True):
                tte.append((m, interval, float(ti), float(si), max(0.0, si - 0.08), min(1.0, si + 0.08), int(ar * 4)))
            med = float(t[np.argmax(surv <= 0.5)])
            tts.append((m, interval, 100, 80, med, med - 3, med + 4, float(t[-3]), np.nan, np.nan, target,
                        float(1 - surv[np.searchsorted(t, target, side="right") - 1]), ""))
    tables["time_to_event"] = pd.DataFrame(
        tte, columns=["mechanism_id", "interval", "t", "survival", "ci_low", "ci_high", "at_risk"])
    tables["time_to_event_summary"] = pd.DataFrame(
        tts, columns=["mechanism_id", "interval", "n", "events", "median", "median_ci_low", "median_ci_high",
                      "p90", "p90_ci_low", "p90_ci_high", "target_days", "within_target", "flags"])

    sq = [("all", "worker_survey", "trust_scale", "trust;independent;would_use", 420, 0.78, 0.72, 0.83, "")]
    for m in ids[:2]:
        sq.append((m, "worker_survey", "trust_scale", "trust;independent;would_use", 60, 0.55, 0.35, 0.7,
                   "alpha below 0.6: interpret with care"))
    tables["survey_quality"] = pd.DataFrame(
        sq, columns=["mechanism_id", "survey", "scale", "items", "n_listwise", "cronbach_alpha", "ci_low", "ci_high", "note"])

    si = []
    for m_i, m in enumerate(ids):
        for item in ("aware", "knows_how", "consulted"):
            counts = rng.integers(3, 90, 2)
            for resp, c in zip(("yes", "no"), counts, strict=True):
                sup = c < 5
                si.append((m, "worker_survey", item, resp, np.nan if sup else float(c),
                           np.nan if sup else float(c / counts.sum()), "suppressed" if sup else ""))
        if m_i % 2 == 0:
            for item in ("knows_where_to_tell", "safe_to_tell"):
                counts = rng.integers(6, 40, 3)
                for resp, c in zip(("yes", "no", "not_sure"), counts, strict=True):
                    si.append((m, "child_survey", item, resp, float(c), float(c / counts.sum()), ""))
    tables["survey_items"] = pd.DataFrame(
        si, columns=["mechanism_id", "survey", "item", "response", "count", "share", "flags"])

    cv = []
    months = [f"2025-{mm:02d}" for mm in range(1, 7)]
    for m in ids:
        for month in months:
            for dim, gs in (("category", ["wages_benefits", "health_safety", "child_labour"]),
                            ("channel", ["hotline", "in_person"])):
                for g in gs:
                    c = int(rng.integers(0, 25))
                    cv.append((m, month, dim, g, np.nan if 0 < c < 5 else float(c), "suppressed" if 0 < c < 5 else ""))
    tables["case_volume"] = pd.DataFrame(cv, columns=["mechanism_id", "month", "dimension", "group", "cases", "flags"])

    cl = []
    for m_i, m in enumerate(ids):
        if mech["mechanism_type"].iloc[m_i] != "clms":
            continue
        counts = [200, 180, 150, 120, 95]
        for stage, c in zip(("identified", "referred", "remediation_started", "followed_up", "out_of_child_labour"),
                            counts, strict=True):
            cl.append((m, stage, float(c), c / counts[0], ""))
    tables["clms_funnel"] = pd.DataFrame(cl, columns=["mechanism_id", "stage", "count", "share_of_identified", "flags"])

    sa = []
    answers = ("yes", "partly", "no", "not_applicable")
    for m_i, m in enumerate(ids):
        for q_i, crit in enumerate(CRITERIA):
            sa.append((m, f"Q{q_i + 1:02d}", crit, f"Does the mechanism meet the {crit.replace('_', ' ')} criterion?",
                       crit == "accessible", answers[(m_i + q_i) % 4], bool((m_i + q_i) % 2)))
    tables["self_assessment"] = pd.DataFrame(
        sa, columns=["mechanism_id", "question_id", "criterion", "question", "child_specific", "answer", "evidence_provided"])

    rec = []
    for m in ids:
        worst = ind_df[ind_df["mechanism_id"] == m].dropna(subset=["score"]).nsmallest(3, "score")
        for rank, row in enumerate(worst.itertuples(), start=1):
            rec.append((m, rank, row.criterion, row.indicator_id, row.score, 80 - row.score,
                        f"Improve {row.indicator_id.split('.')[1].replace('_', ' ')}.", "UNGP 31"))
    tables["recommendations"] = pd.DataFrame(
        rec, columns=["mechanism_id", "rank", "criterion", "indicator_id", "score", "target_gap", "recommendation", "reference"])

    tables["data_quality"] = pd.DataFrame(
        [("mechanisms", "mechanisms.csv", n_mechanisms, True, 0), ("cases", "cases.csv", 1200, True, 3),
         ("worker_survey", "worker_survey.csv", 800, True, 0), ("clms_followups", "", 0, False, 0)],
        columns=["table", "file", "rows", "present", "warnings"])
    tables["warnings"] = pd.DataFrame(
        [("cases", "closed_at", "closed_at before acknowledged_at", 3)], columns=["table", "column", "problem", "count"])

    for name, df in tables.items():
        _write(out, name, df)
    manifest = {
        "tool": "gm-eval", "version": "0.1.0", "created_at": "2026-01-01T00:00:00Z", "as_of": "2025-06-30",
        "k": 5, "min_n": 30, "profile": {"name": "default"},
        "inputs": {"cases": {"file": "cases.csv", "sha256": hashlib.sha256(b"fixture").hexdigest(), "rows": 1200}},
        "tables": sorted(tables),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out


_CACHE: dict[tuple, Path] = {}


def results_dir_for(base: Path, n_mechanisms: int = 6, seed: int = 7) -> Path:
    """A results directory under ``base``, built once per process.

    Uses the real pipeline (synthetic data scored by
    ``gm_eval.pipeline.score_data_dir``) when it is available, the documented
    format written by :func:`write_fixture_results` otherwise.
    """
    key = (str(base), n_mechanisms, seed)
    if key in _CACHE and _CACHE[key].exists():
        return _CACHE[key]
    out = Path(base) / f"results_{n_mechanisms}_{seed}"
    try:
        from gm_eval import synth
        from gm_eval.pipeline import score_data_dir
    except ImportError:
        write_fixture_results(out, n_mechanisms=n_mechanisms, seed=seed)
    else:
        data = Path(base) / f"data_{n_mechanisms}_{seed}"
        try:
            synth.write_data_dir(synth.generate(n_mechanisms=n_mechanisms, seed=seed), data, overwrite=True)
            score_data_dir(data, out, progress=False)
        except Exception as exc:  # noqa: BLE001 - the pipeline is another engineer's work in progress
            warnings.warn(f"scoring pipeline failed ({type(exc).__name__}: {exc}); "
                          "using the documented-format fixture instead", stacklevel=2)
            write_fixture_results(out, n_mechanisms=n_mechanisms, seed=seed)
    _CACHE[key] = out
    return out
