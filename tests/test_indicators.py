"""Every core indicator against hand arithmetic on the fixtures of scoring_fixtures.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scoring_fixtures as F
from statsmodels.duration.survfunc import SurvfuncRight

from gm_eval.contract import CRITERIA
from gm_eval.evidence import Evidence
from gm_eval.indicators import (
    INDICATOR_COLUMNS,
    compute_indicators,
    questions,
    registry,
    self_assessment_scores,
)
from gm_eval.indicators.base import COMPUTATIONS, code_isin, value_runs

CORE = [
    "legitimate.trust_rate",
    "legitimate.satisfaction_rate",
    "accessible.awareness_rate",
    "accessible.child_awareness_rate",
    "accessible.fear_of_retaliation_rate",
    "accessible.anonymous_share",
    "accessible.young_worker_representation_ratio",
    "predictable.ack_within_target_rate",
    "predictable.median_days_to_close",
    "predictable.closed_within_target_rate",
    "equitable.advice_rate",
    "transparent.informed_rate",
    "rights_compatible.child_referral_rate",
    "rights_compatible.retaliation_rate",
    "rights_compatible.clms_remediation_rate",
    "rights_compatible.clms_exit_rate",
    "continuous_learning.repeat_rate",
    "engagement_dialogue.dialogue_rate",
    "engagement_dialogue.consultation_rate",
]


@pytest.fixture(scope="module")
def ind() -> pd.DataFrame:
    return compute_indicators(F.evidence(), min_n=30)


# ------------------------------------------------------------------ registry
def test_registry_holds_every_core_indicator_and_each_has_a_computation():
    reg = registry()
    assert set(CORE) <= set(reg)
    assert {i for i, d in reg.items() if d.core} == set(CORE)
    assert set(reg) == set(COMPUTATIONS)


def test_each_criterion_has_three_indicators_from_two_kinds_of_evidence():
    reg = registry().values()
    for c in CRITERIA:
        mine = [i for i in reg if i.criterion == c]
        assert len(mine) >= 3, c
        assert len({i.evidence_kind for i in mine}) >= 2, c
        assert any(i.evidence_kind == "self_assessment" for i in mine), c


def test_indicators_table_has_contract_columns_and_one_row_per_mechanism_and_indicator(ind):
    assert list(ind.columns) == INDICATOR_COLUMNS
    assert len(ind) == 2 * len(registry())
    assert not ind.duplicated(["mechanism_id", "indicator_id"]).any()


def expect_rate(ind, mech, iid, k, n):
    r = F.row(ind, mech, iid)
    assert r["n"] == n
    assert r["value"] == pytest.approx(k / n)
    lo, hi = F.wilson_by_hand(k, n)
    assert r["ci_low"] == pytest.approx(lo, abs=1e-9)
    assert r["ci_high"] == pytest.approx(hi, abs=1e-9)
    assert "small_n" in r["flags"]


# ------------------------------------------------------------- survey rates
def test_trust_rate(ind):
    # trust 5, 4, 3, NA, 1 -> non-missing 4, >= 4: 2
    expect_rate(ind, "M1", "legitimate.trust_rate", 2, 4)


def test_awareness_rate(ind):
    # aware T, T, F, NA, T -> 3 of 4
    expect_rate(ind, "M1", "accessible.awareness_rate", 3, 4)


def test_child_awareness_rate_not_sure_is_not_yes(ind):
    # yes, no, not_sure, NA, yes -> 2 of 4 (not_sure counts in the denominator, not as yes)
    expect_rate(ind, "M1", "accessible.child_awareness_rate", 2, 4)


def test_fear_of_retaliation_rate(ind):
    # fear 4, 5, 1, 2, NA -> 2 of 4
    expect_rate(ind, "M1", "accessible.fear_of_retaliation_rate", 2, 4)


def test_consultation_rate(ind):
    # consulted T, F, F, F, NA -> 1 of 4
    expect_rate(ind, "M1", "engagement_dialogue.consultation_rate", 1, 4)


# ---------------------------------------------------------------- case rates
def test_satisfaction_rate(ind):
    # ratings c1 5, c2 2, c5 4 -> 2 of 3
    expect_rate(ind, "M1", "legitimate.satisfaction_rate", 2, 3)


def test_anonymous_share_counts_missing_as_not_anonymous(ind):
    # anonymous c3, c6 of all six cases (c4 missing counts as not anonymous)
    expect_rate(ind, "M1", "accessible.anonymous_share", 2, 6)


def test_ack_within_target_excludes_recent_cases_and_counts_unacknowledged(ind):
    # target 3 days; as_of 2024-12-31: c4 (received 12-30) is too recent -> n = 5
    # c1 1 day ok, c2 9 days late, c3 never acknowledged, c5 exactly 3 ok, c6 1 day ok -> 3/5
    expect_rate(ind, "M1", "predictable.ack_within_target_rate", 3, 5)


def test_advice_rate_closed_cases_non_missing(ind):
    # closed: c1 T, c2 F, c5 NA, c6 T -> 2 of 3
    expect_rate(ind, "M1", "equitable.advice_rate", 2, 3)


def test_informed_rate_excludes_anonymous(ind):
    # closed and not anonymous: c1 T, c2 F, c5 T (c6 is anonymous) -> 2 of 3
    expect_rate(ind, "M1", "transparent.informed_rate", 2, 3)


def test_child_referral_rate(ind):
    # under 18 and child_labour/SEA: c3 (14, referred child_protection), c5 (17, none);
    # c2 is 16 but wages_benefits -> 1 of 2
    expect_rate(ind, "M1", "rights_compatible.child_referral_rate", 1, 2)


def test_retaliation_rate(ind):
    # non-missing: c1 F, c2 T, c6 F -> 1 of 3
    expect_rate(ind, "M1", "rights_compatible.retaliation_rate", 1, 3)


def test_repeat_rate(ind):
    # c1: first case. c2 (S1 wages, 03-01): c1 closed 01-05 -> repeat.
    # c3 (S2 child_labour, 06-01): c5 closed 02-11 -> repeat. c4 (S1 wages, 12-30): c2 -> repeat.
    # c5: nothing earlier at S2. c6: only health_safety case -> 3 of 6
    expect_rate(ind, "M1", "continuous_learning.repeat_rate", 3, 6)


def test_repeat_window_is_365_days():
    c = F.cases()
    # move c2 to 366 days after c1 closed (2024-01-05 + 366 = 2025-01-05): c1 is out of the window
    c.loc[1, ["received_at"]] = pd.Timestamp("2025-01-05")
    c.loc[1, ["acknowledged_at", "closed_at"]] = pd.NaT
    c.loc[1, "status"] = "open"
    ev = F.evidence("cases", cases=c, as_of="2025-01-31")
    r = F.row(compute_indicators(ev), "M1", "continuous_learning.repeat_rate")
    # c2 no longer a repeat; c4 (12-30) still repeats c1? c1 closed 2024-01-05 is 360 days before
    # 2024-12-30 -> yes. c3 still repeats c5 -> 2 of 6
    assert r["value"] == pytest.approx(2 / 6)


def test_dialogue_rate(ind):
    # closed: c1 T, c2 F, c5 T, c6 NA -> 2 of 3
    expect_rate(ind, "M1", "engagement_dialogue.dialogue_rate", 2, 3)


def test_young_worker_representation_ratio(ind):
    # known age: c1 30, c2 16, c3 14, c5 17, c6 40 -> 15-17: c2, c5 -> 2/5 = 0.4
    # workforce: (5 + 15) / (100 + 100) = 0.1 -> ratio 4.0, no interval
    r = F.row(ind, "M1", "accessible.young_worker_representation_ratio")
    assert r["value"] == pytest.approx(4.0)
    assert r["n"] == 5
    assert math.isnan(r["ci_low"]) and math.isnan(r["ci_high"])


# ------------------------------------------------------------ Kaplan-Meier
def test_median_days_to_close_kaplan_meier_with_censoring(ind):
    # durations (days): c1 4, c2 20, c5 10, c6 5 closed; c3 open 06-01 -> censored at as_of
    # after 213 days; c4 open 12-30 -> censored after 1 day.
    # t=1 censored (no step); t=4: 5 at risk, 1 event, S = 4/5 = 0.8
    # t=5: 4 at risk, S = 0.8 * 3/4 = 0.6; t=10: 3 at risk, S = 0.6 * 2/3 = 0.4 < 0.5
    # -> median 10 (a naive median of closed cases only would be 7.5)
    r = F.row(ind, "M1", "predictable.median_days_to_close")
    assert r["value"] == 10
    assert r["n"] == 6


def test_closed_within_target_rate_kaplan_meier(ind):
    # target_close_days 10 -> 1 - S(10) = 1 - 0.4 = 0.6 (a naive share of cases closed
    # within 10 days would be 3/6 = 0.5)
    r = F.row(ind, "M1", "predictable.closed_within_target_rate")
    assert r["value"] == pytest.approx(0.6)
    assert r["ci_low"] < 0.6 < r["ci_high"]


def test_median_not_reached_is_empty_and_flagged_not_zero():
    c = F.cases()
    # only c1 closed: S(4) = 5/6 > 0.5, the rest censored -> no median
    c.loc[c["case_id"] != "c1", ["closed_at"]] = pd.NaT
    c.loc[c["case_id"] != "c1", "status"] = "open"
    r = F.row(compute_indicators(F.evidence("cases", cases=c)), "M1",
              "predictable.median_days_to_close")
    assert math.isnan(r["value"])
    assert r["flags"].split(";")[0] == "median_not_reached"


def test_clms_median_days_to_remediation(ind):
    # ch1 30 days (event), ch3 90 (event), ch2 censored at 334, ch4 censored at 60
    # t=30: 4 at risk, S = 0.75; t=90: 2 at risk (ch3, ch2), S = 0.375 -> median 90
    r = F.row(ind, "M2", "predictable.clms_median_days_to_remediation")
    assert r["value"] == 90
    assert r["n"] == 4


# -------------------------------------------------------------------- CLMS
def test_clms_remediation_rate(ind):
    # ch1 and ch3 have remediation_started_at -> 2 of 4
    expect_rate(ind, "M2", "rights_compatible.clms_remediation_rate", 2, 4)


def test_clms_exit_rate_uses_latest_followup(ind):
    # ch1 visits True then False (latest False: out); ch2 True; ch3 False; ch4 none -> 2 of 3
    expect_rate(ind, "M2", "rights_compatible.clms_exit_rate", 2, 3)


def test_clms_followup_within_6_months(ind):
    # identified by 2024-07-01 (as_of - 183 days): ch1, ch2, ch3.
    # ch1 visit after 91 days yes, ch2 after 90 yes, ch3 after 275 no -> 2 of 3
    expect_rate(ind, "M2", "rights_compatible.clms_followup_within_6m_rate", 2, 3)


def test_self_assessment_weighted_share(ind):
    # SA01 yes (weight 1.5), SA02 partly (1), SA03 no (1), SA04 not_applicable:
    # (1.5 * 1 + 1 * 0.5 + 0) / 3.5 = 0.5714..., n = 3 applicable answers
    r = F.row(ind, "M1", "legitimate.self_assessment")
    assert r["value"] == pytest.approx(2 / 3.5)
    assert r["n"] == 3


# ------------------------------------------------------ coverage and flags
def test_missing_table_is_not_covered_never_zero():
    ind = compute_indicators(F.evidence("cases"))
    r = F.row(ind, "M1", "legitimate.trust_rate")
    assert math.isnan(r["value"]) and pd.isna(r["n"])
    assert r["flags"] == "not_covered"
    # M2 has no cases at all
    r = F.row(ind, "M2", "legitimate.satisfaction_rate")
    assert r["flags"] == "not_covered" and math.isnan(r["value"])


def test_missing_column_is_not_covered():
    ind = compute_indicators(F.evidence("cases", cases=F.cases().drop(columns="anonymous")))
    assert F.row(ind, "M1", "accessible.anonymous_share")["flags"] == "not_covered"


def test_clms_indicators_not_applicable_to_other_mechanism_types(ind):
    assert F.row(ind, "M1", "rights_compatible.clms_exit_rate")["flags"] == "not_applicable"
    assert F.row(ind, "M2", "rights_compatible.clms_exit_rate")["flags"] == "small_n"


def test_small_n_follows_min_n():
    ind = compute_indicators(F.evidence("worker_survey"), min_n=4)
    assert F.row(ind, "M1", "legitimate.trust_rate")["flags"] == ""  # n = 4
    assert F.row(ind, "M1", "legitimate.user_satisfaction_rate")["flags"] == "small_n"  # n = 2


def test_parity_ratio_lowest_over_highest():
    from gm_eval.indicators.cases import parity

    # group a: 6 of 10 remedied (0.6); group b: 3 of 10 (0.3); group c has 4 rows (< 5, ignored)
    mech = np.array(["M"] * 24)
    group = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 4, dtype=object)
    success = np.array([1] * 6 + [0] * 4 + [1] * 3 + [0] * 7 + [0] * 4, dtype=bool)
    out = parity(pd.Series(mech), group, success, np.ones(24, dtype=bool))
    assert out.loc["M", "value"] == pytest.approx(0.5)
    assert out.loc["M", "n"] == 20


def test_rate_interval_matches_published_wilson_values():
    # Newcombe (1998), Statistics in Medicine 17:857, example: 81 of 263 ->
    # Wilson 95% interval 0.2553 to 0.3662 (and 0 of 20 -> 0 to 0.1611)
    n = 263
    ws = pd.DataFrame(
        {
            "respondent_id": pd.Series([f"r{i}" for i in range(n)], dtype="object"),
            "mechanism_id": pd.Series(["M1"] * n, dtype="object"),
            "trust": pd.array([5] * 81 + [2] * (n - 81), dtype="Int64"),
        }
    )
    r = F.row(compute_indicators(F.evidence(worker_survey=ws)), "M1", "legitimate.trust_rate")
    assert (round(r["ci_low"], 4), round(r["ci_high"], 4)) == (0.2553, 0.3662)
    assert r["flags"] == ""  # n = 263 >= 30


def test_minimal_tables_give_not_covered_rows_not_zeros():
    """Only the required columns: nothing that needs an absent column is scored 0."""
    ev = F.evidence(
        "cases", "clms_children", "clms_followups",
        cases=F.cases()[["case_id", "mechanism_id", "received_at", "status", "category"]],
        clms_children=F.clms_children()[["child_id", "mechanism_id", "identified_at"]],
        clms_followups=F.clms_followups()[["child_id", "mechanism_id", "visit_date"]],
    )
    ind = compute_indicators(ev)
    covered = set(ind.loc[ind["value"].notna(), "indicator_id"])
    # only the follow-up timing can be computed from these columns
    assert covered == {"rights_compatible.clms_followup_within_6m_rate"}
    assert (ind.loc[ind["value"].isna(), "flags"].str.split(";").str[0]
            .isin(["not_covered", "not_applicable"])).all()


# ------------------------------------------------ vectorised paths vs. direct computations
def _random_cases(seed: int, n: int = 1500, n_mech: int = 6) -> pd.DataFrame:
    """Cases over few sites and categories with closures around the receipts (ties included)."""
    rng = np.random.default_rng(seed)
    day0 = pd.Timestamp("2023-01-01")
    received = day0 + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    closed = received + pd.to_timedelta(rng.integers(-3, 120, n), unit="D")  # a few before receipt
    closed = pd.Series(closed).where(rng.uniform(size=n) > 0.2)
    site = pd.Series(rng.choice(["S1", "S2", "S3"], n), dtype="str").where(rng.uniform(size=n) > 0.15)
    return pd.DataFrame({
        "case_id": pd.Series([f"c{i}" for i in range(n)], dtype="object"),
        "mechanism_id": pd.Series(rng.choice([f"M{i}" for i in range(1, n_mech + 1)], n), dtype="str"),
        "site_id": site,
        "received_at": pd.Series(received).astype("datetime64[ns]"),
        "closed_at": closed.astype("datetime64[ns]"),
        "status": pd.Series(np.where(closed.isna(), "open", "closed"), dtype="object"),
        "category": pd.Series(rng.choice(["wages_benefits", "child_labour", "health_safety"], n),
                              dtype="object"),
    })


def _repeats_by_hand(cases: pd.DataFrame, window: int = 365) -> np.ndarray:
    """For each case: another case of its mechanism, site and category closed in the window."""
    out = np.zeros(len(cases), dtype=bool)
    site = cases["site_id"].astype(object).where(cases["site_id"].notna(), None)
    groups = pd.DataFrame({"m": cases["mechanism_id"].astype(object), "s": site,
                           "c": cases["category"]}).groupby(["m", "s", "c"], dropna=False).indices
    for rows in groups.values():
        closed = cases["closed_at"].to_numpy()[rows]
        for i in rows:
            r = cases["received_at"].iloc[i]
            lo = r - pd.Timedelta(days=window)
            out[i] = bool(((closed >= lo.to_datetime64()) & (closed < r.to_datetime64())).any())
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repeat_flags_match_a_direct_search(seed):
    from gm_eval.indicators.cases import repeat_flags

    c = _random_cases(seed)
    expect = _repeats_by_hand(c)
    np.testing.assert_array_equal(repeat_flags(c), expect)
    np.testing.assert_array_equal(repeat_flags(c, window_days=30), _repeats_by_hand(c, 30))
    # the indicator (codes cached per context, rows grouped by mechanism or not) agrees
    for cases in (c, c.sort_values("mechanism_id", kind="stable").reset_index(drop=True)):
        mech = pd.DataFrame({"mechanism_id": [f"M{i}" for i in range(1, 7)], "mechanism_type": "ogm"})
        ev = Evidence({"mechanisms": mech, "cases": cases}, pd.Timestamp("2025-06-30"))
        ind = compute_indicators(ev, indicator_ids=["continuous_learning.repeat_rate"])
        flags = _repeats_by_hand(cases)
        for mid, r in ind.set_index("mechanism_id").iterrows():
            sel = (cases["mechanism_id"] == mid).to_numpy()
            assert r["n"] == sel.sum()
            assert r["value"] == flags[sel].sum() / sel.sum()


def test_close_indicators_match_survfuncright_per_mechanism():
    from gm_eval import stats as S

    c = _random_cases(4, n=900)
    as_of = pd.Timestamp("2025-01-31")
    mech = pd.DataFrame({"mechanism_id": [f"M{i}" for i in range(1, 7)], "mechanism_type": "ogm",
                         "target_close_days": pd.array([10, 30, None, 60, 5, 400], dtype="Int64")})
    ev = Evidence({"mechanisms": mech, "cases": c}, as_of)
    ind = compute_indicators(ev, indicator_ids=["predictable.median_days_to_close",
                                                "predictable.closed_within_target_rate"])
    ind = ind.set_index(["mechanism_id", "indicator_id"])
    event = (c["closed_at"].notna() & (c["closed_at"] <= as_of)).to_numpy()
    stop = c["closed_at"].where(event, as_of)
    days = (stop - c["received_at"]).dt.days.to_numpy(dtype=float)
    z = 1.959963984540054
    for m, target in zip(mech["mechanism_id"], [10, 30, 30, 60, 5, 400], strict=True):
        sel = (c["mechanism_id"] == m).to_numpy()
        sf = SurvfuncRight(days[sel], event[sel].astype(float))
        median = ind.loc[(m, "predictable.median_days_to_close")]
        q = S.km_quantile(days[sel], event[sel], p=0.5)["value"].iloc[0]
        assert (np.isnan(q) and np.isnan(median["value"])) or median["value"] == q
        assert median["n"] == sel.sum()
        r = ind.loc[(m, "predictable.closed_within_target_rate")]
        times, surv, se = sf.surv_times, sf.surv_prob, sf.surv_prob_se
        if target > days[sel].max() and surv[-1] > 0:  # beyond follow-up: undefined
            assert np.isnan(r["value"]) and np.isnan(r["ci_low"])
            continue
        at = np.flatnonzero(times <= target)
        assert r["value"] == pytest.approx(1 - (surv[at[-1]] if len(at) else 1.0))
        # log(-log) band of S at the last event time <= target where it is defined
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = se / (surv * np.log(surv))
        ok = [i for i in at if np.isfinite(theta[i])]
        if not ok:
            assert np.isnan(r["ci_low"]) and np.isnan(r["ci_high"])
            continue
        i = ok[-1]
        band = sorted([surv[i] ** np.exp(-z * theta[i]), surv[i] ** np.exp(z * theta[i])])
        assert r["ci_low"] == pytest.approx(1 - band[1]) and r["ci_high"] == pytest.approx(1 - band[0])


def test_indicators_do_not_depend_on_row_order():
    # grouped rows are counted run by run, shuffled ones by bincount: the same counts
    ev = F.evidence()
    shuffled = Evidence({k: (v.sample(frac=1, random_state=3).reset_index(drop=True) if k != "mechanisms"
                             else v) for k, v in ev.tables.items()}, ev.as_of)
    a = compute_indicators(ev)
    b = compute_indicators(shuffled)
    pd.testing.assert_frame_equal(a.drop(columns="value"), b.drop(columns="value"))
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-12)


def test_clms_rates_match_a_merge_of_visits_and_children():
    rng = np.random.default_rng(8)
    n_ch, n_fu = 300, 700
    mids = pd.Series(rng.choice(["M1", "M2", "M3"], n_ch), dtype="str")
    ident = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 500, n_ch), unit="D")
    children = pd.DataFrame({
        "child_id": pd.array(np.arange(n_ch) % 250, dtype="UInt64"),  # ids reused across mechanisms
        "mechanism_id": mids, "identified_at": pd.Series(ident).astype("datetime64[ns]"),
    })
    children = children.drop_duplicates(["mechanism_id", "child_id"]).reset_index(drop=True)
    pick = rng.integers(0, len(children), n_fu)
    visit = children["identified_at"].to_numpy()[pick] + pd.to_timedelta(rng.integers(-20, 400, n_fu), unit="D")
    fu = pd.DataFrame({
        "child_id": children["child_id"].to_numpy()[pick],
        "mechanism_id": pd.Series(children["mechanism_id"].to_numpy()[pick], dtype="str"),
        "visit_date": pd.Series(visit).astype("datetime64[ns]").dt.floor("7D"),  # ties of dates
        "in_child_labour": pd.array(rng.uniform(size=n_fu) < 0.4, dtype="boolean"),
    })
    mech = pd.DataFrame({"mechanism_id": ["M1", "M2", "M3"], "mechanism_type": "clms"})
    as_of = pd.Timestamp("2025-06-30")
    ev = Evidence({"mechanisms": mech, "clms_children": children, "clms_followups": fu}, as_of)
    ind = compute_indicators(ev, indicator_ids=["rights_compatible.clms_exit_rate",
                                                "rights_compatible.clms_followup_within_6m_rate"])
    ind = ind.set_index(["mechanism_id", "indicator_id"])
    # latest visit: sort by date keeping the row order of ties, last per child
    last = fu.sort_values("visit_date", kind="stable").groupby(
        [fu["mechanism_id"].astype(object), fu["child_id"]]).tail(1)
    gap = fu.merge(children, on=["mechanism_id", "child_id"])
    gap["days"] = (gap["visit_date"] - gap["identified_at"]).dt.days
    seen = set(map(tuple, gap.loc[gap["days"].between(0, 183), ["mechanism_id", "child_id"]].values))
    for m in ["M1", "M2", "M3"]:
        lm = last[last["mechanism_id"] == m]
        r = ind.loc[(m, "rights_compatible.clms_exit_rate")]
        assert r["n"] == len(lm) and r["value"] == pytest.approx((~lm["in_child_labour"]).mean())
        ch = children[children["mechanism_id"] == m]
        elig = ch[ch["identified_at"] <= as_of - pd.Timedelta(days=183)]
        hit = [(m, c) in seen for c in elig["child_id"]]
        r = ind.loc[(m, "rights_compatible.clms_followup_within_6m_rate")]
        assert r["n"] == len(elig) and r["value"] == pytest.approx(np.mean(hit))


@pytest.mark.parametrize("values", [(), ("b",), ("a", "c"), ("zz",), ("a", "b", "c")])
@pytest.mark.parametrize("column", [
    ["a", "b", None, "c", "b", "a"],  # some missing
    [None, None, None],  # all missing
    ["b"],  # one value
    [],  # empty
])
def test_code_isin_matches_pandas_isin(column, values):
    s = pd.Series(column, dtype=object)
    for sort in (False, True):
        codes, uniq = pd.factorize(s, sort=sort)
        got = code_isin(codes, np.asarray(uniq, dtype=object), values)
        assert got.dtype == bool
        np.testing.assert_array_equal(got, s.isin(list(values)).to_numpy())


def test_indicators_the_same_with_the_enum_codes_of_loading():
    # enum columns arrive factorized (Evidence.codes, sorted labels); without them the
    # context factorizes (order of first appearance): the same table either way
    ev = F.evidence()
    plain = compute_indicators(ev)
    for name, df in ev.tables.items():
        for c in df.columns:
            if df[c].dtype == object:
                ev.factorized(name, c)
    assert ev.codes
    pd.testing.assert_frame_equal(compute_indicators(ev), plain, check_exact=True)


@pytest.mark.parametrize("ids", [
    ["M1", "M1", "M2", "M2", "M2", "M3"],  # grouped in mechanism order
    ["M2", "M2", "M1", "M1", "M2", "M3"],  # grouped, out of order, M2 twice
    ["M3", "X9", "X9", "A0", "M1"],  # ids absent from mechanisms
    ["M1", None, "M1", "M2"],  # a missing id
    ["M2"],  # one row
    ["M1", "M2", "M3", "M1", "M2", "M3"],  # more runs than the run reading takes
])
@pytest.mark.parametrize("dtype", ["str", object])
@pytest.mark.parametrize("max_share", [1 / 16, 1.0])
def test_groups_by_runs_match_a_factorize(ids, dtype, max_share, monkeypatch):
    from gm_eval.indicators import base

    mech = pd.DataFrame({"mechanism_id": ["M1", "M2", "M3"], "mechanism_type": "workplace"})
    ws = pd.DataFrame({"mechanism_id": pd.Series(ids, dtype=dtype)})
    monkeypatch.setattr(base, "value_runs", lambda v: value_runs(v, max_share=max_share))
    g = base.Context(Evidence({"mechanisms": mech, "worker_survey": ws}, F.AS_OF)).groups("worker_survey")
    s = ws["mechanism_id"].astype(object)
    extra = sorted(set(s.dropna()) - set(mech["mechanism_id"]))
    want = pd.Index(list(mech["mechanism_id"]) + extra, name="mechanism_id", dtype=object)
    assert g.labels.name == "mechanism_id" and g.labels.tolist() == want.tolist()
    np.testing.assert_array_equal(g.codes, want.get_indexer(s))
    assert g.codes.dtype == np.int64
    runs = base.Groups(g.codes, g.labels).runs  # as the property finds them from the codes
    assert (g.runs is None) == (runs is None)
    if runs is not None:
        np.testing.assert_array_equal(g.runs[0], runs[0])
        np.testing.assert_array_equal(g.runs[1], runs[1])


def _self_assessment_by_pandas(answers: pd.DataFrame) -> pd.DataFrame:
    """The self-assessment indicators of ``answers`` by :func:`self_assessment_scores`."""
    s = self_assessment_scores(answers)
    s = s.assign(indicator_id=s["criterion"] + ".self_assessment").set_index(["mechanism_id", "indicator_id"])
    return s[["value", "n"]].sort_index()


@pytest.mark.parametrize("case", ["mixed", "one_mechanism", "nothing_applicable", "all_missing"])
def test_self_assessment_by_codes_matches_the_grouped_frame(case, monkeypatch):
    from gm_eval.indicators import self_assessment as sa_mod

    rng = np.random.default_rng(5)
    qids = list(questions()["question_id"]) + ["XX99", None]  # an unknown and a missing question
    answers = ["yes", "partly", "no", "not_applicable", None]
    n = {"mixed": 400, "one_mechanism": 60, "nothing_applicable": 30, "all_missing": 10}[case]
    mids = ["M1"] * n if case == "one_mechanism" else list(rng.choice(["M1", "M2", "M3", "M9"], n))
    ans = {"nothing_applicable": ["not_applicable"] * n, "all_missing": [None] * n}.get(
        case, list(rng.choice(np.array(answers, dtype=object), n)))
    table = pd.DataFrame({"mechanism_id": pd.Series(sorted(mids), dtype="str"),
                          "question_id": pd.Series(rng.choice(np.array(qids, dtype=object), n), dtype="str"),
                          "answer": pd.Series(ans, dtype=object)})
    ev = F.evidence("self_assessment", self_assessment=table)
    ids = [f"{c}.self_assessment" for c in CRITERIA]
    fast = compute_indicators(ev, indicator_ids=ids)
    monkeypatch.setattr(sa_mod, "_exact_sums", lambda *a: False)  # the grouped frame instead
    slow = compute_indicators(ev, indicator_ids=ids)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    want = _self_assessment_by_pandas(table)
    want = want[want.index.get_level_values(0).isin(set(fast["mechanism_id"]))]  # listed mechanisms
    got = fast.dropna(subset=["value"]).set_index(["mechanism_id", "indicator_id"]).sort_index()
    assert got.index.tolist() == want.index.tolist()
    np.testing.assert_array_equal(got["value"].to_numpy(), want["value"].to_numpy())
    np.testing.assert_array_equal(got["n"].to_numpy(dtype="int64"), want["n"].to_numpy())


def test_exact_sums_only_for_half_point_weights():
    from gm_eval.indicators.self_assessment import _exact_sums

    assert _exact_sums(np.array([1.0, 1.5, 2.0, 0.0]), 10_000)
    assert not _exact_sums(np.array([1.0, 0.1]), 10)
    assert not _exact_sums(np.array([1.0, np.nan]), 10)
    assert not _exact_sums(np.array([2.0**40]), 2**20)


@pytest.mark.parametrize("values", [
    [True, None, False, True],  # some missing
    [None, None],  # all missing
    [False],  # one value
    [],  # empty
])
def test_flags_of_nullable_booleans_match_pandas(values):
    from gm_eval.indicators.base import Context, flag

    s = pd.Series(values, dtype="boolean")
    np.testing.assert_array_equal(flag(s), s.fillna(False).to_numpy(dtype=bool))
    ctx = Context(Evidence({"mechanisms": F.mechanisms(), "t": pd.DataFrame({"b": s})}, F.AS_OF))
    np.testing.assert_array_equal(ctx.is_false("t", "b"), (s == False).fillna(False).to_numpy(dtype=bool))  # noqa: E712
    assert ctx.flag("t", "b").dtype == bool and ctx.is_false("t", "b").dtype == bool


@pytest.mark.parametrize("values", [
    [1, 4, None, 5, 3],  # some missing
    [None, None],  # all missing
    [4],  # one value
    [],  # empty
])
@pytest.mark.parametrize("dtype", ["Int64", "Float64", "float64", object])
def test_at_least_matches_the_float_comparison(values, dtype):
    from gm_eval.indicators.base import Context

    s = pd.Series(values, dtype=dtype)
    ctx = Context(Evidence({"mechanisms": F.mechanisms(), "t": pd.DataFrame({"x": s})}, F.AS_OF))
    want = (pd.to_numeric(s, errors="coerce").astype("float64") >= 4).to_numpy(dtype=bool)
    got = ctx.at_least("t", "x", 4)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("keys, values", [
    ([3, 1, 3, 2, 1, 3], [5, 7, 5, 1, 7, 2]),  # unsorted keys, ties of the largest value
    ([1, 1, 2, 2, 2], [2, 1, 9, 9, 9]),  # grouped keys
    ([4, 4, 4], [0, 0, 0]),  # one key, all tied
    ([7], [1]),  # one row
    ([], []),  # empty
])
def test_latest_rows_match_a_lexsort(keys, values):
    from gm_eval.indicators.clms import latest_rows

    k, v = np.array(keys, dtype=np.int64), np.array(values, dtype=np.int64)
    order = np.lexsort((v, k))
    want = order[np.r_[k[order][1:] != k[order][:-1], True]] if len(k) else order
    np.testing.assert_array_equal(latest_rows(k, v), want)
    rng = np.random.default_rng(len(keys))
    k, v = rng.integers(0, 50, 500), rng.integers(0, 10, 500)
    order = np.lexsort((v, k))
    np.testing.assert_array_equal(latest_rows(k, v), order[np.r_[k[order][1:] != k[order][:-1], True]])
