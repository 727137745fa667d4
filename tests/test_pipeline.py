"""The score pipeline and the ``gm-eval score`` command, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scoring_fixtures as F

from gm_eval.cli import main
from gm_eval.contract import CRITERIA
from gm_eval.indicators import INDICATOR_COLUMNS, registry
from gm_eval.pipeline import score, summary_lines
from gm_eval.publish import RESULT_COLUMNS


@pytest.fixture(scope="module")
def tables():
    return score(F.evidence(), k=1)


def test_score_returns_documented_tables_with_documented_columns(tables):
    for name in ("mechanisms", "indicator_catalogue", "indicators", "scores", "recommendations",
                 "data_quality", "warnings"):
        assert name in tables, name
        assert set(RESULT_COLUMNS[name]) <= set(tables[name].columns), name
    for name in tables:
        assert name in RESULT_COLUMNS, name
    assert list(tables["indicators"].columns) == INDICATOR_COLUMNS
    assert len(tables["scores"]) == 2 * (len(CRITERIA) + 1)
    assert len(tables["indicator_catalogue"]) == len(registry())


def test_mechanisms_table_fills_default_targets(tables):
    m = tables["mechanisms"].set_index("mechanism_id")
    assert m.loc["M1", "target_ack_days"] == 3 and m.loc["M2", "target_ack_days"] == 7
    assert m.loc["M1", "target_close_days"] == 10 and m.loc["M2", "target_close_days"] == 30


def test_summary_names_overall_band_and_weakest_criterion(tables):
    lines = summary_lines(tables["scores"])
    sc = tables["scores"]
    m1 = sc[(sc["mechanism_id"] == "M1") & (sc["criterion"] != "overall")].dropna(subset=["score"])
    m1 = m1[m1["band"] != "insufficient_evidence"]  # weakest among criteria with a band
    weakest = m1.loc[m1["score"].idxmin(), "criterion"]
    line = next(s for s in lines if s.startswith("M1 "))
    assert weakest in line
    overall = sc[(sc["mechanism_id"] == "M1") & (sc["criterion"] == "overall")].iloc[0]
    assert f"{overall['score']:.1f}" in line and overall["band"] in line


# ------------------------------------------------------------------ CLI
def _write_fixture_dir(path):
    path.mkdir(parents=True)
    for name, make in F.ALL.items():
        df = make()
        if name == "self_assessment":
            df = df.drop(columns="evidence_provided")
        df.to_csv(path / f"{name}.csv", index=False)
    return path


def test_score_cli_writes_results_and_manifest(tmp_path, capsys):
    data = _write_fixture_dir(tmp_path / "data")
    out = tmp_path / "results"
    rc = main(["score", str(data), "--out", str(out), "--as-of", "2024-12-31", "--k", "1"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "M1" in printed and "overall" in printed
    # the summary printed is that of the scores written (it is no longer read back)
    from gm_eval.results import read_results

    written = summary_lines(read_results(out).table("scores"))
    assert printed.splitlines()[: len(written)] == written
    ind = pd.read_csv(out / "indicators.csv")
    assert list(ind.columns) == INDICATOR_COLUMNS
    r = ind[(ind["mechanism_id"] == "M1") & (ind["indicator_id"] == "legitimate.trust_rate")]
    assert r["value"].iloc[0] == pytest.approx(0.5)  # as in test_indicators, through the files
    man = json.loads((out / "manifest.json").read_text())
    assert man["as_of"] == "2024-12-31" and man["k"] == 1 and man["min_n"] == 30
    assert man["profile"]["indicators"]["legitimate.trust_rate"]["target"] == 0.8
    assert set(man["inputs"]) == set(F.ALL)
    assert "scores" in man["tables"] and (out / "scores.parquet").exists()


def test_score_cli_profile_override_is_applied_and_recorded(tmp_path):
    data = _write_fixture_dir(tmp_path / "data")
    prof = tmp_path / "p.yaml"
    prof.write_text("indicators:\n  legitimate.trust_rate: {target: 0.5, floor: 0.1}\n")
    out = tmp_path / "results"
    assert main(["score", str(data), "--out", str(out), "--k", "1", "--profile", str(prof),
                 "--quiet"]) == 0
    ind = pd.read_csv(out / "indicators.csv")
    r = ind[(ind["mechanism_id"] == "M1") & (ind["indicator_id"] == "legitimate.trust_rate")]
    assert r["score"].iloc[0] == pytest.approx(100)  # 0.5 reaches the new target
    man = json.loads((out / "manifest.json").read_text())
    assert man["profile"]["indicators"]["legitimate.trust_rate"]["target"] == 0.5


def test_score_cli_invalid_input_exits_2_writes_nothing_and_keeps_previous_results(tmp_path):
    data = _write_fixture_dir(tmp_path / "data")
    out = tmp_path / "results"
    assert main(["score", str(data), "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # break the input: an unknown mechanism type
    m = pd.read_csv(data / "mechanisms.csv")
    m.loc[0, "mechanism_type"] = "spaceship"
    m.to_csv(data / "mechanisms.csv", index=False)
    assert main(["score", str(data), "--out", str(out), "--quiet"]) == 2
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    # a fresh output directory is not created at all
    fresh = tmp_path / "fresh"
    assert main(["score", str(data), "--out", str(fresh), "--quiet"]) == 2
    assert not fresh.exists()
    assert not [p for p in tmp_path.iterdir() if p.name not in {"data", "results"}]


def test_score_cli_bad_profile_exits_2(tmp_path):
    data = _write_fixture_dir(tmp_path / "data")
    prof = tmp_path / "p.yaml"
    prof.write_text("indicators:\n  no.such_indicator: {weight: 1}\n")
    out = tmp_path / "results"
    assert main(["score", str(data), "--out", str(out), "--profile", str(prof), "--quiet"]) == 2
    assert not out.exists()


# --------------------------------------------------------- planted effects
@pytest.fixture(scope="module")
def synth_tables(tmp_path_factory):
    from gm_eval import load, synth

    d = tmp_path_factory.mktemp("synth") / "data"
    synth.write_data_dir(synth.generate(n_mechanisms=16, seed=2024), d, fmt="parquet")
    return score(load(d))


def _by_mech(tables, iid):
    ind = tables["indicators"]
    return ind[ind["indicator_id"] == iid].set_index("mechanism_id")["value"].dropna()


def test_planted_effects_are_recovered(synth_tables):
    from gm_eval.synth import PLANTED

    t = synth_tables
    young = _by_mech(t, "accessible.young_worker_representation_ratio")
    assert young.idxmin() == PLANTED["young_workers_underrepresented"]
    fear = _by_mech(t, "accessible.fear_of_retaliation_rate")
    assert fear.idxmax() == PLANTED["fear_of_retaliation"]
    slow = _by_mech(t, "predictable.median_days_to_close")
    assert slow.idxmax() == PLANTED["slow_to_close"]
    parity = _by_mech(t, "equitable.outcome_parity_gender")
    assert parity.idxmin() == PLANTED["equity_gap_women_remedied_less"]
    sc = t["scores"]
    overall = sc[sc["criterion"] == "overall"].set_index("mechanism_id")["score"]
    assert overall.idxmax() == PLANTED["exemplary"]
    # every mechanism gets a band and benchmark columns are filled for scored rows
    assert sc["band"].notna().all()
    scored = sc["score"].notna()
    assert sc.loc[scored, "sector_percentile"].between(0, 100).all()
    assert np.isfinite(sc.loc[scored, "sector_median"]).all()


def test_kaplan_meier_indicators_match_the_time_to_event_tables(tables):
    """The indicator rows and the time_to_event_summary use one Kaplan-Meier estimate."""
    if "time_to_event_summary" not in tables:
        pytest.skip("gm_eval.timetoevent not implemented")
    s = tables["time_to_event_summary"]
    s = s[(s["mechanism_id"] == "M1") & (s["interval"] == "received_to_closed")].iloc[0]
    ind = tables["indicators"]
    assert F.row(ind, "M1", "predictable.median_days_to_close")["value"] == s["median"] == 10
    assert F.row(ind, "M1", "predictable.closed_within_target_rate")["value"] == pytest.approx(
        s["within_target"]
    )


def test_planted_gaps_are_flagged_significant_in_equity_tests(synth_tables):
    from gm_eval.synth import PLANTED

    e = synth_tables["equity_tests"]
    sig = e[e["significant"].fillna(False).astype(bool)]
    young = sig[sig["indicator_id"] == "accessible.young_worker_representation_ratio"]
    assert PLANTED["young_workers_underrepresented"] in set(young["mechanism_id"])
    women = sig[(sig["indicator_id"] == "rights_compatible.remedy_rate")
                & (sig["dimension"] == "gender")]
    assert PLANTED["equity_gap_women_remedied_less"] in set(women["mechanism_id"])
