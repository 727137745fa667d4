"""Property-based tests (hypothesis): invariants of validators, statistics and scores."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gm_eval import synth
from gm_eval.pipeline import score
from gm_eval.stats import km_curve, wilson_interval
from gm_eval.validate import check_data_dir, load

MINIMAL = Path(__file__).resolve().parent / "fixtures" / "minimal"
TODAY = dt.date(2025, 7, 1)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_estimate(xn):
    x, n = xn
    lo, hi = wilson_interval(np.array([x]), np.array([n]))
    if n == 0:
        assert np.isnan(lo[0]) and np.isnan(hi[0])
        return
    p = x / n
    assert 0.0 <= lo[0] <= p + 1e-12
    assert p - 1e-12 <= hi[0] <= 1.0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=1, max_size=80))
def test_km_curve_is_a_survival_function(obs):
    d = np.array([o[0] for o in obs], dtype=float)
    e = np.array([o[1] for o in obs])
    curve = km_curve(d, e)
    s = curve["survival"].to_numpy()
    assert ((s >= -1e-12) & (s <= 1 + 1e-12)).all()
    assert (np.diff(s) <= 1e-12).all(), "Kaplan-Meier curve increased"
    ok = curve["ci_low"].notna() & curve["ci_high"].notna()
    assert (curve.loc[ok, "ci_low"] <= curve.loc[ok, "survival"] + 1e-9).all()
    assert (curve.loc[ok, "survival"] <= curve.loc[ok, "ci_high"] + 1e-9).all()
    assert (curve["at_risk"].diff().dropna() <= 0).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30))
def test_validator_locates_or_accepts_any_date_text(tmp_path, value):
    d = tmp_path / "d"
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(MINIMAL, d)
    p = d / "cases.csv"
    cell = '"' + value.replace('"', '""') + '"'
    text = p.read_text().replace("c1,M1,S1,2025-01-10,", f"c1,M1,S1,{cell},", 1)
    p.write_text(text, encoding="utf-8")
    report = check_data_dir(d, today=TODAY)
    if report.ok:
        return
    # every problem found is in the cell we changed, or structural (line breaks, NULs)
    for prob in report.errors:
        assert prob.file == "cases.csv"
        assert prob.row is None or prob.row >= 2


@pytest.fixture(scope="module")
def evidence_by_seed(tmp_path_factory):
    cache = {}

    def get(seed: int, n_mech: int):
        if (seed, n_mech) not in cache:
            d = tmp_path_factory.mktemp(f"prop{seed}_{n_mech}")
            synth.write_data_dir(synth.generate(n_mechanisms=n_mech, seed=seed), d / "data")
            cache[(seed, n_mech)] = load(d / "data")
        return cache[(seed, n_mech)]
    return get


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_mech=st.sampled_from([12, 14]))
def test_scored_results_respect_their_ranges(evidence_by_seed, seed, n_mech):
    tables = score(evidence_by_seed(seed, n_mech))
    ind = tables["indicators"]
    cat = tables["indicator_catalogue"].set_index("indicator_id")
    rates = ind[ind["indicator_id"].map(cat["unit"]).eq("rate") & ind["value"].notna()]
    assert rates["value"].between(0, 1).all()
    ci = rates.dropna(subset=["ci_low", "ci_high"])
    assert (ci["ci_low"] <= ci["value"] + 1e-9).all() and (ci["value"] <= ci["ci_high"] + 1e-9).all()
    assert ind["score"].dropna().between(0, 100).all()
    sc = tables["scores"]
    assert sc["score"].dropna().between(0, 100).all()
    assert sc["coverage"].dropna().between(0, 1).all()
    assert ind.loc[ind["flags"].fillna("").str.contains("not_covered"), "value"].isna().all()
    curves = tables["time_to_event"].sort_values(["mechanism_id", "interval", "t"])
    steps = curves.groupby(["mechanism_id", "interval"])["survival"].diff().dropna()
    assert (steps <= 1e-12).all()
    assert isinstance(tables["scores"], pd.DataFrame)
