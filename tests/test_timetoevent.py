"""Tests of gm_eval.timetoevent on a hand-worked fixture and against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gm_eval import stats as S
from gm_eval.evidence import Evidence
from gm_eval.timetoevent import INTERVALS, SUMMARY_COLUMNS, interval_durations, intervals

AS_OF = pd.Timestamp("2025-03-01")
D = pd.to_datetime


def _fixture() -> Evidence:
    mech = pd.DataFrame({
        "mechanism_id": ["A", "B", "C"],
        "company_id": ["c", "c", "c"],
        "mechanism_type": ["ogm", "hotline", "clms"],
        "target_ack_days": pd.array([3, None, None], dtype="Int64"),
        "target_close_days": pd.array([20, None, None], dtype="Int64"),
    })
    cases = pd.DataFrame({
        "case_id": ["a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3"],
        "mechanism_id": ["A"] * 5 + ["B"] * 3,
        "received_at": D(["2025-01-01", "2025-01-01", "2025-01-01", "2025-02-19", "2025-01-01",
                          "2025-02-01", "2025-02-20", "2025-02-01"]),
        "acknowledged_at": D(["2025-01-02", "2025-01-05", None, None, "2025-01-03",
                              None, None, None]),
        "closed_at": D(["2025-01-11", "2025-01-21", "2025-01-31", None, "2025-03-10",
                        "2025-02-10", None, "2025-02-03"]),
        "status": ["closed", "closed", "withdrawn", "open", "closed", "closed", "open", "closed"],
        "category": ["other"] * 5 + ["sexual_exploitation_abuse", "sexual_exploitation_abuse", "other"],
        "referred_to": ["none", "child_protection", "law_enforcement", "social_services", None,
                        None, None, None],
        "referred_at": D([None, "2025-01-08", None, None, None, None, None, None]),
        "assessed_at": D([None] * 5 + ["2025-02-02", "2025-02-20", None]),
        "removed_at": D([None] * 5 + ["2025-02-05", None, None]),
    })
    clms = pd.DataFrame({
        "child_id": ["c1", "c2", "c3"],
        "mechanism_id": ["C"] * 3,
        "identified_at": D(["2025-01-01", "2025-01-01", "2025-02-01"]),
        "referred_at": D(["2025-01-11", None, "2025-02-06"]),
        "remediation_started_at": D(["2025-02-01", None, None]),
        "closed_at": D([None, "2025-02-01", None]),
    })
    return Evidence({"mechanisms": mech, "cases": cases, "clms_children": clms}, AS_OF)


def _durs(e, mech, interval):
    d = interval_durations(e)
    d = d[(d["mechanism_id"] == mech) & (d["interval"] == interval)]
    return sorted(zip(d["duration"].tolist(), d["event"].tolist(), strict=True))


def test_inclusion_and_censoring_rules_by_hand():
    e = _fixture()
    # close: a4 open -> censored at as_of (10 days); a3 withdrawn with closed_at -> event;
    # a5 closed after as_of -> not yet observed, censored at as_of (59 days)
    assert _durs(e, "A", "received_to_closed") == [(10, 0), (10, 1), (20, 1), (30, 1), (59, 0)]
    # acknowledgement: unacknowledged a3 (withdrawn) and a4 (open) censored at as_of
    assert _durs(e, "A", "received_to_acknowledged") == [(1, 1), (2, 1), (4, 1), (10, 0), (59, 0)]
    # referral: 'none' and missing referred_to left out; a3 settled without a date left out;
    # a4 open, referred_to set, no date yet -> censored at as_of
    assert _durs(e, "A", "received_to_referred") == [(7, 1), (10, 0)]
    # hotline: b3 settled without assessment left out; b2 open, not removed -> censored (9 days)
    assert _durs(e, "B", "received_to_assessed") == [(0, 1), (1, 1)]
    assert _durs(e, "B", "received_to_removed") == [(4, 1), (9, 0)]
    assert _durs(e, "A", "received_to_assessed") == []
    # CLMS: every child is owed referral and remediation: c2 (closed, neither) and c3 (open,
    # no remediation) are censored at as_of (59 and 28 days)
    assert _durs(e, "C", "identified_to_referred") == [(5, 1), (10, 1), (59, 0)]
    assert _durs(e, "C", "identified_to_remediation") == [(28, 0), (31, 1), (59, 0)]


def test_summary_and_curves_by_hand():
    curves, summary = intervals(_fixture())
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert len(summary) == 3 * len(INTERVALS)
    s = summary.set_index(["mechanism_id", "interval"])

    # A, received_to_closed (target 20):
    #   t=10: at risk 5 (a4 censored at 10 still at risk), 1 event -> S = 4/5 = 0.8
    #   t=20: at risk 3, 1 event -> S = 0.8 * 2/3 = 0.5333
    #   t=30: at risk 2, 1 event -> S = 0.5333 * 1/2 = 0.2667
    #   median = first t with S < 0.5 = 30; within 20 days = 1 - S(20) = 0.4667
    c = curves[(curves["mechanism_id"] == "A") & (curves["interval"] == "received_to_closed")]
    assert c["t"].tolist() == [10, 20, 30]
    assert c["at_risk"].tolist() == [5, 3, 2]
    np.testing.assert_allclose(c["survival"], [0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 / 2])
    r = s.loc[("A", "received_to_closed")]
    assert (r["n"], r["events"], r["median"], r["target_days"]) == (5, 3, 30, 20)
    assert r["within_target"] == pytest.approx(1 - 0.8 * 2 / 3)
    assert np.isnan(r["p90"])  # S never below 0.1
    assert r["flags"] == "small_n"

    # A, acknowledgement (target 3): S(1)=4/5, S(2)=3/5, S(4)=2/5 -> median 4, within 3 = 0.4
    r = s.loc[("A", "received_to_acknowledged")]
    assert (r["median"], r["target_days"]) == (4, 3)
    assert r["within_target"] == pytest.approx(0.4)

    # B uses the default targets 7 and 30; stage intervals have no target
    assert s.loc[("B", "received_to_acknowledged"), "target_days"] == 7
    assert s.loc[("B", "received_to_closed"), "target_days"] == 30
    assert np.isnan(s.loc[("B", "received_to_removed"), "target_days"])
    assert np.isnan(s.loc[("B", "received_to_removed"), "within_target"])
    # B: no case acknowledged, follow-up 9 to 28 days >= target 7: S(7) = 1, none within
    assert s.loc[("B", "received_to_acknowledged"), "within_target"] == 0.0
    r = s.loc[("B", "received_to_removed")]
    assert (r["n"], r["events"]) == (2, 1)
    # at t=4 the risk set is {b1 (4), b2 (9, censored)}: S(4) = 1 - 1/2 = 0.5, never < 0.5,
    # so no median (SurvfuncRight's strict rule)
    assert np.isnan(r["median"])


def test_flags_not_covered_and_not_applicable():
    _, summary = intervals(_fixture())
    f = summary.set_index(["mechanism_id", "interval"])["flags"]
    assert f[("C", "received_to_closed")] == "not_covered"  # no case log for a mechanism
    assert f[("C", "received_to_referred")] == "not_covered"
    assert f[("B", "received_to_referred")] == "not_applicable"  # cases, none to refer
    assert f[("A", "received_to_assessed")] == "not_applicable"  # not a hotline
    assert f[("A", "identified_to_remediation")] == "not_applicable"  # not a CLMS
    assert f[("C", "identified_to_remediation")] == "small_n"
    ev = _fixture()
    ev.tables.pop("clms_children")
    _, summary = intervals(ev)
    f = summary.set_index(["mechanism_id", "interval"])["flags"]
    assert f[("C", "identified_to_referred")] == "not_covered"


@pytest.mark.parametrize("unit", ["ns", "us"])
def test_durations_are_floored_days_of_the_datetime_difference(unit):
    # times of day (which validation would have normalised) and either time unit: the
    # duration is floor((stop - start) / 1 day) as datetime arithmetic computes it
    rng = np.random.default_rng(3)
    n = 400
    start = AS_OF - pd.to_timedelta(rng.integers(-5 * 24, 90 * 24, n), unit="h")
    end = start + pd.to_timedelta(rng.integers(0, 60 * 24, n), unit="h")
    end = end.where(rng.uniform(size=n) > 0.2)
    start = start.where(rng.uniform(size=n) > 0.05)
    mech = pd.DataFrame({"mechanism_id": ["A", "B"], "mechanism_type": ["ogm", "ogm"]})
    cases = pd.DataFrame({
        "mechanism_id": rng.choice(["A", "B"], n),
        "received_at": pd.Series(start).astype(f"datetime64[{unit}]"),
        "closed_at": pd.Series(end).astype(f"datetime64[{unit}]"),
        "status": np.where(pd.isna(end), "open", "closed"),
        "category": "other",
    })
    d = interval_durations(Evidence({"mechanisms": mech, "cases": cases}, AS_OF + pd.Timedelta(hours=7)))
    d = d[d["interval"] == "received_to_closed"]
    observed = end.notna() & (end <= AS_OF)
    stop = pd.Series(end).where(observed, AS_OF)
    days = np.floor((stop - pd.Series(start)) / pd.Timedelta(days=1))
    keep = pd.Series(start).notna() & (pd.Series(start) <= AS_OF) & (days >= 0)
    assert d["duration"].tolist() == days[keep].tolist()
    assert d["event"].tolist() == observed[keep].astype(float).tolist()
    assert d["mechanism_id"].tolist() == cases["mechanism_id"][keep].tolist()


def test_mechanisms_only_evidence():
    ev = Evidence({"mechanisms": _fixture().mechanisms}, AS_OF)
    curves, summary = intervals(ev)
    assert curves.empty and len(summary) == 3 * len(INTERVALS)
    assert (summary["n"] == 0).all()
    assert summary["flags"].isin(["not_covered", "not_applicable"]).all()


def _random_evidence(seed: int, n_mech: int, n_cases: int) -> Evidence:
    rng = np.random.default_rng(seed)
    mids = [f"M{i:04d}" for i in range(n_mech)]
    mech = pd.DataFrame({
        "mechanism_id": mids, "company_id": "c",
        "mechanism_type": rng.choice(["ogm", "hotline"], n_mech),
        "target_ack_days": pd.array(rng.choice([2, 7, -1], n_mech), dtype="Int64"),
        "target_close_days": pd.array(rng.choice([14, 30, 60], n_mech), dtype="Int64"),
    })
    mech["target_ack_days"] = mech["target_ack_days"].mask(mech["target_ack_days"] < 0)
    as_of = pd.Timestamp("2025-06-30")
    rec = as_of - pd.to_timedelta(rng.integers(0, 400, n_cases), unit="D")
    ack = rec + pd.to_timedelta(rng.integers(0, 15, n_cases), unit="D")
    close = rec + pd.to_timedelta(rng.geometric(1 / 40, n_cases), unit="D")
    ack = ack.where((ack <= as_of) & (rng.uniform(size=n_cases) > 0.1))
    close = close.where(close <= as_of)
    cases = pd.DataFrame({
        "case_id": np.arange(n_cases).astype(str),
        "mechanism_id": rng.choice(mids, n_cases),
        "received_at": rec, "acknowledged_at": ack, "closed_at": close,
        "status": np.where(close.isna(), "open", "closed"),
        "category": "other",
    })
    return Evidence({"mechanisms": mech, "cases": cases}, as_of)


def test_summary_matches_statsmodels_per_mechanism():
    e = _random_evidence(7, 12, 2500)
    _, summary = intervals(e)
    d = interval_durations(e)
    s = summary.set_index(["mechanism_id", "interval"])
    targets = e.mechanisms.set_index("mechanism_id")
    for (mid, iv), sub in d.groupby(["mechanism_id", "interval"]):
        q = S.km_quantile(sub["duration"], sub["event"], p=(0.5, 0.9)).set_index("p")
        row = s.loc[(mid, iv)]
        for p, name in [(0.5, "median"), (0.9, "p90")]:
            for col, suffix in [("value", ""), ("ci_low", "_ci_low"), ("ci_high", "_ci_high")]:
                a, b = row[name + suffix], q.loc[p, col]
                assert (np.isnan(a) and np.isnan(b)) or a == b
        col = {"received_to_acknowledged": "target_ack_days",
               "received_to_closed": "target_close_days"}.get(iv)
        if col is None:
            assert np.isnan(row["target_days"]) and np.isnan(row["within_target"])
            continue
        default = 7 if iv == "received_to_acknowledged" else 30
        tgt = targets.loc[mid, col]
        tgt = default if pd.isna(tgt) else float(tgt)
        assert row["target_days"] == tgt
        assert row["within_target"] == pytest.approx(1 - S.km_at(sub["duration"], sub["event"], tgt))


@pytest.mark.slow
def test_1000_mechanisms_by_1000_cases():
    # the scale of the scoring benchmark (its speed is measured there, not here)
    e = _random_evidence(1, 1000, 1_000_000)
    curves, summary = intervals(e)
    assert len(summary) == 1000 * len(INTERVALS)
    closed = summary[summary["interval"] == "received_to_closed"]
    assert closed["n"].sum() == 1_000_000
    assert closed["within_target"].between(0, 1).all()
