"""Scoring: the 0-100 mapping, coverage, bands, profile overrides, benchmarks, recommendations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scoring_fixtures as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gm_eval.contract import CRITERIA
from gm_eval.errors import InputError
from gm_eval.indicators import compute_indicators, registry
from gm_eval.recommend import recommendations
from gm_eval.scoring import (
    INSUFFICIENT,
    band_of,
    benchmark,
    criterion_scores,
    load_profile,
    score_indicators,
)


def _table(rows):
    """A minimal indicators table: rows of (mechanism, indicator_id, value, n, flags)."""
    reg = registry()
    return pd.DataFrame(
        {
            "mechanism_id": [r[0] for r in rows],
            "indicator_id": [r[1] for r in rows],
            "criterion": [reg[r[1]].criterion for r in rows],
            "value": [r[2] for r in rows],
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": pd.array([r[3] for r in rows], dtype="Int64"),
            "score": np.nan,
            "flags": [r[4] if len(r) > 4 else "" for r in rows],
        }
    )


def test_linear_mapping_between_floor_and_target_both_directions():
    p = load_profile()
    t = _table(
        [
            # trust: floor 0.3 -> 0, target 0.8 -> 100; 0.55 is half way -> 50
            ("A", "legitimate.trust_rate", 0.55, 100),
            ("B", "legitimate.trust_rate", 0.95, 100),  # above target: clipped to 100
            ("C", "legitimate.trust_rate", 0.10, 100),  # below floor: clipped to 0
            # fear (lower is better): target 0.1 -> 100, floor 0.5 -> 0; 0.2 -> 75
            ("A", "accessible.fear_of_retaliation_rate", 0.2, 100),
            # median days: target 30, floor 120; 75 days -> 50
            ("A", "predictable.median_days_to_close", 75.0, 100),
        ]
    )
    s = score_indicators(t, p)["score"].tolist()
    assert s == pytest.approx([50.0, 100.0, 0.0, 75.0, 50.0])


def test_missing_value_and_n_below_k_get_no_score():
    p = load_profile()
    t = _table(
        [
            ("A", "legitimate.trust_rate", np.nan, None, "not_covered"),
            ("B", "legitimate.trust_rate", 0.9, 4, "small_n"),  # n < k = 5
            ("C", "legitimate.trust_rate", 0.9, 5, "small_n"),
        ]
    )
    s = score_indicators(t, p, k=5)["score"]
    assert math.isnan(s[0]) and math.isnan(s[1]) and s[2] == 100


def test_criterion_score_is_weighted_mean_and_coverage_is_weight_share():
    p = load_profile()
    # legitimate weights: trust 2, satisfaction 1.5, independence 1, user_satisfaction 1, SA 1
    t = _table(
        [
            ("A", "legitimate.trust_rate", 0.8, 100),  # 100
            ("A", "legitimate.satisfaction_rate", 0.3, 100),  # 0
            ("A", "legitimate.independence_rate", np.nan, None, "not_covered"),
            ("A", "legitimate.user_satisfaction_rate", np.nan, None, "not_covered"),
            ("A", "legitimate.self_assessment", np.nan, None, "not_covered"),
        ]
    )
    sc = criterion_scores(score_indicators(t, p), p)
    r = sc[sc["criterion"] == "legitimate"].iloc[0]
    # (2 * 100 + 1.5 * 0) / 3.5 = 57.14; coverage 3.5 / 6.5
    assert r["score"] == pytest.approx(200 / 3.5)
    assert r["coverage"] == pytest.approx(3.5 / 6.5)
    assert r["band"] == "adequate"  # coverage 0.54 >= 0.5, score >= 50
    # every criterion plus overall, once
    assert sc["criterion"].tolist() == [*CRITERIA, "overall"]
    other = sc[sc["criterion"] == "accessible"].iloc[0]
    assert math.isnan(other["score"]) and other["coverage"] == 0 and other["band"] == INSUFFICIENT


def test_not_applicable_indicators_leave_the_coverage_denominator():
    p = load_profile()
    # rights_compatible weights: referral 2, retaliation 1.5, clms 1.5+1.5+1, remedy 1.5, SA 1
    rows = [("A", "rights_compatible.child_referral_rate", 0.95, 100)]
    for iid in ("clms_remediation_rate", "clms_exit_rate", "clms_followup_within_6m_rate"):
        rows.append(("A", f"rights_compatible.{iid}", np.nan, None, "not_applicable"))
    for iid in ("retaliation_rate", "remedy_rate", "self_assessment"):
        rows.append(("A", f"rights_compatible.{iid}", np.nan, None, "not_covered"))
    sc = criterion_scores(score_indicators(_table(rows), p), p)
    r = sc[sc["criterion"] == "rights_compatible"].iloc[0]
    assert r["coverage"] == pytest.approx(2 / (2 + 1.5 + 1.5 + 1))


def test_overall_is_weighted_mean_of_covered_criteria():
    p = load_profile({"criterion_weights": {"legitimate": 3}})
    t = _table(
        [
            ("A", "legitimate.trust_rate", 0.8, 100),  # legitimate 100
            ("A", "accessible.awareness_rate", 0.4, 100),  # accessible 0
        ]
    )
    sc = criterion_scores(score_indicators(t, p), p)
    o = sc[sc["criterion"] == "overall"].iloc[0]
    assert o["score"] == pytest.approx((3 * 100 + 1 * 0) / 4)  # 6 uncovered criteria left out
    leg = sc.loc[sc["criterion"] == "legitimate", "coverage"].iloc[0]
    acc = sc.loc[sc["criterion"] == "accessible", "coverage"].iloc[0]
    assert o["coverage"] == pytest.approx((3 * leg + acc) / 10)


def test_bands_and_insufficient_evidence():
    p = load_profile()
    got = band_of([80, 75, 60, 30, 10, 90, np.nan], [1, 1, 1, 1, 1, 0.3, 1], p)
    assert got.tolist() == ["strong", "strong", "adequate", "weak", "failing", INSUFFICIENT,
                            INSUFFICIENT]


def test_profile_override_changes_scores_as_documented(tmp_path):
    ev = F.evidence()
    ind = compute_indicators(ev)
    base = score_indicators(ind, load_profile(), k=1)
    path = tmp_path / "profile.yaml"
    path.write_text(
        "indicators:\n"
        "  predictable.median_days_to_close: {target: 5, floor: 15}\n"
        "  legitimate.trust_rate: {weight: 0}\n"
        "bands:\n  - {band: pass, min: 40}\n  - {band: fail, min: 0}\n"
        "coverage_threshold: 0.1\n",
        encoding="utf-8",
    )
    prof = load_profile(path)
    new = score_indicators(ind, prof, k=1)
    # median 10 days: default (target 30, floor 120) -> 100; override -> (15 - 10) / 10 = 50
    pick = lambda t: F.row(t, "M1", "predictable.median_days_to_close")["score"]  # noqa: E731
    assert pick(base) == 100 and pick(new) == pytest.approx(50)
    # untouched indicators keep their defaults
    assert prof["indicators"]["legitimate.satisfaction_rate"]["target"] == 0.85
    # trust weight 0: legitimacy no longer moves with trust
    sc = criterion_scores(new, prof)
    leg = sc[(sc["mechanism_id"] == "M1") & (sc["criterion"] == "legitimate")].iloc[0]
    w = {"satisfaction_rate": 1.5, "independence_rate": 1, "user_satisfaction_rate": 1,
         "self_assessment": 1}
    s = {k: F.row(new, "M1", f"legitimate.{k}")["score"] for k in w}
    assert leg["score"] == pytest.approx(sum(w[k] * s[k] for k in w) / sum(w.values()))
    assert set(sc["band"]) <= {"pass", "fail", INSUFFICIENT}


@pytest.mark.parametrize(
    "bad",
    [
        {"indicators": {"no.such": {"target": 1}}},
        {"indicators": {"legitimate.trust_rate": {"target": 0.2}}},  # below floor 0.3
        {"indicators": {"legitimate.trust_rate": {"weight": -1}}},
        {"bands": [{"band": "a", "min": 10}, {"band": "b", "min": 50}]},
        {"min_n": "many"},
        {"colour": "blue"},
    ],
)
def test_bad_profiles_are_input_errors(bad):
    with pytest.raises(InputError):
        load_profile(bad)


def test_benchmark_percentile_and_median_within_sector():
    mechs = pd.DataFrame({"mechanism_id": ["a", "b", "c", "d"], "sector": ["x", "x", "x", "y"]})
    scores = pd.DataFrame(
        {
            "mechanism_id": ["a", "b", "c", "d"],
            "criterion": "overall",
            "score": [10.0, 20.0, 30.0, 99.0],
            "coverage": 1.0,
            "band": "weak",
        }
    )
    out = benchmark(scores, mechs)
    # sector x: 10, 20, 30 -> percentile (below + tied/2)/3: 16.7, 50, 83.3; median 20
    assert out["sector_percentile"].tolist()[:3] == pytest.approx([100 / 6, 50, 500 / 6])
    assert out["sector_median"].tolist() == [20, 20, 20, 99]
    assert out["sector_percentile"].iloc[3] == 50


_REG = list(registry().values())
_SPAN = {"rate": 1.0, "score": 1.0, "ratio": 2.0, "days": 400.0}


@st.composite
def _evidence_and_improvement(draw):
    """Values for every indicator (some missing) and a better version of some of them."""
    n = len(_REG)
    frac = st.floats(0, 1, allow_nan=False)
    base = [draw(frac) * _SPAN[i.unit] for i in _REG]
    missing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    better = []
    for i, v in zip(_REG, base, strict=True):
        step = draw(frac) * _SPAN[i.unit] * draw(st.sampled_from([0.0, 0.1, 0.5]))
        better.append(v + step if i.higher_better else max(0.0, v - step))
    return base, better, missing


def _indicators(values, missing):
    return _table(
        [
            ("A", i.id, np.nan if m else v, None if m else 100, "not_covered" if m else "")
            for i, v, m in zip(_REG, values, missing, strict=True)
        ]
    )


@settings(max_examples=30, deadline=None)
@given(_evidence_and_improvement())
def test_scores_never_fall_when_evidence_improves(case):
    """Moving any indicators towards their better direction never lowers a criterion or overall score."""
    base, better, missing = case
    p = load_profile()
    a, b = (
        criterion_scores(score_indicators(_indicators(v, missing), p), p)
        .set_index("criterion")["score"]
        for v in (base, better)
    )
    assert (a.isna() == b.isna()).all()
    both = a.notna()
    assert (b[both] >= a[both] - 1e-9).all()


def _trust_evidence(trust_high: int, n: int = 40):
    ws = pd.DataFrame(
        {
            "respondent_id": pd.Series([f"r{i}" for i in range(n)], dtype="object"),
            "mechanism_id": pd.Series(["M1"] * n, dtype="object"),
            "trust": pd.array([5] * trust_high + [1] * (n - trust_high), dtype="Int64"),
        }
    )
    return F.evidence("cases", worker_survey=ws)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 35), st.integers(1, 5))
def test_more_trusting_workers_raise_legitimacy_end_to_end(k, step):
    """From raw survey rows: more workers with trust >= 4 never lowers the legitimacy score."""
    p = load_profile()
    ids = [i.id for i in _REG if i.criterion == "legitimate"]
    out = []
    for kk in (k, k + step):
        ind = score_indicators(compute_indicators(_trust_evidence(kk), indicator_ids=ids), p)
        sc = criterion_scores(ind, p)
        out.append(sc[(sc["mechanism_id"] == "M1") & (sc["criterion"] == "legitimate")]["score"].iloc[0])
    assert out[1] >= out[0]
    trust = (k + step) / 40
    assert out[1] > out[0] or trust <= 0.3 or k / 40 >= 0.8  # strictly inside (floor, target)


def test_recommendations_rank_largest_weighted_gaps_and_name_uncovered_criteria():
    p = load_profile()
    ind = score_indicators(compute_indicators(F.evidence()), p, k=1)
    sc = criterion_scores(ind, p)
    rec = recommendations(ind, sc, p, max_gaps=3)
    m1 = rec[rec["mechanism_id"] == "M1"]
    assert m1["rank"].tolist() == list(range(1, len(m1) + 1))
    gaps = m1[m1["indicator_id"].notna()]
    assert len(gaps) == 3
    # the gaps listed are the largest (100 - score) * weight among M1's indicators
    w = {i: s["weight"] for i, s in p["indicators"].items()}
    scored = ind[(ind["mechanism_id"] == "M1") & ind["score"].notna()]
    weighted = ((100 - scored["score"]) * scored["indicator_id"].map(w)).sort_values(ascending=False)
    assert gaps["score"].notna().all()
    top = ((100 - gaps["score"]) * gaps["indicator_id"].map(w)).tolist()
    assert top == pytest.approx(weighted.iloc[:3].tolist())
    assert (gaps["recommendation"].str.len() > 40).all() and gaps["reference"].notna().all()
    # M2 (CLMS only) has no evidence for e.g. legitimacy -> a "start collecting" line
    m2 = rec[(rec["mechanism_id"] == "M2") & rec["indicator_id"].isna()]
    assert "legitimate" in set(m2["criterion"])
    assert m2["recommendation"].str.startswith("Start collecting").all()
