"""Tests of gm_eval.equity: disaggregation by hand, tests against scipy, planted effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st

from gm_eval.contract import TABLES
from gm_eval.equity import (
    DISAGGREGATION_COLUMNS,
    EQUITY_TEST_COLUMNS,
    age_band,
    disaggregate,
    equity_tests,
)
from gm_eval.evidence import Evidence

AS_OF = pd.Timestamp("2025-06-30")


def _ev(**tables) -> Evidence:
    mids = sorted({m for t in tables.values() for m in t["mechanism_id"]})
    mech = pd.DataFrame({"mechanism_id": mids, "company_id": "c", "mechanism_type": "ogm"})
    return Evidence({"mechanisms": mech, **tables}, AS_OF)


def _synth_evidence(seed: int, n_mechanisms: int = 16) -> Evidence:
    from gm_eval import synth

    tabs = synth.generate(n_mechanisms=n_mechanisms, seed=seed)
    tables = {k: v[[c for c in TABLES[k].column_names if c in v.columns]] for k, v in tabs.items()}
    return Evidence(tables, pd.Timestamp("2025-06-30"))


def test_age_band():
    a = pd.Series([5, 14, 15, 17, 18, 60, None], dtype="Int64")
    assert age_band(a).tolist() == ["under_15", "under_15", "15_17", "15_17", "18_plus", "18_plus",
                                    "unknown"]


def _cases_fixture() -> pd.DataFrame:
    b = pd.array
    return pd.DataFrame({
        "mechanism_id": ["A"] * 8,
        "status": ["closed", "closed", "closed", "closed", "closed", "open", "closed", "withdrawn"],
        "outcome": ["remedied", "no_remedy", "partially_remedied", "not_substantiated", "remedied",
                    None, None, "remedied"],
        "gender": ["female", "female", "male", "male", None, "female", "male", "male"],
        "age": b([16, 30, 40, 12, None, 22, 35, 50], dtype="Int64"),
        "channel": ["hotline", "hotline", "in_person", "in_person", "hotline", None, "hotline",
                    "hotline"],
        "site_id": ["s1"] * 4 + ["s2"] * 4,
        "anonymous": b([False, False, True, False, False, False, False, False], dtype="boolean"),
        "complainant_informed": b([True, False, True, True, None, None, True, True],
                                  dtype="boolean"),
        "satisfaction": b([5, 2, 4, None, 3, None, 4, None], dtype="Int64"),
        "advice_provided": b([True, True, False, None, True, None, False, True], dtype="boolean"),
    })


def test_disaggregation_by_hand():
    out = disaggregate(_ev(cases=_cases_fixture()))
    assert list(out.columns) == DISAGGREGATION_COLUMNS
    r = out[out["indicator_id"] == "rights_compatible.remedy_rate"].set_index(["dimension", "group"])
    # remedy: closed cases with outcome remedied/partially_remedied/no_remedy: rows 0,1,2,4
    # (row 3 not_substantiated, row 7 withdrawn, row 6 no outcome are not eligible)
    assert r.loc[("gender", "female"), ["value", "n"]].tolist() == [0.5, 2]  # rows 0 (yes), 1 (no)
    assert r.loc[("gender", "male"), ["value", "n"]].tolist() == [1.0, 1]  # row 2
    assert r.loc[("gender", "unknown"), ["value", "n"]].tolist() == [1.0, 1]  # row 4
    assert r.loc[("age_band", "15_17"), "n"] == 1 and r.loc[("age_band", "unknown"), "n"] == 1
    assert r.loc[("age_band", "18_plus"), ["value", "n"]].tolist() == [0.5, 2]
    assert r.loc[("channel", "hotline"), ["value", "n"]].tolist() == [2 / 3, 3]
    assert r.loc[("site", "s1"), "n"] == 3 and r.loc[("site", "s2"), "n"] == 1
    assert "migrant" not in set(r.index.get_level_values(0))  # cases do not record it
    lo, hi = st.binomtest(2, 3).proportion_ci(method="wilson")
    assert r.loc[("channel", "hotline"), "ci_low"] == pytest.approx(lo)
    assert r.loc[("channel", "hotline"), "ci_high"] == pytest.approx(hi)
    assert (out["flags"] == "small_n").all()

    # informed: closed and not anonymous, informed non-missing: rows 0 (T), 1 (F), 3 (T), 6 (T)
    inf = out[(out["indicator_id"] == "transparent.informed_rate") & (out["dimension"] == "gender")]
    assert inf.set_index("group")["n"].to_dict() == {"female": 2, "male": 2}
    assert inf.set_index("group")["value"].to_dict() == {"female": 0.5, "male": 1.0}
    # satisfaction >= 4 among rated: rows 0 (5), 1 (2), 2 (4), 4 (3), 6 (4)
    sat = out[(out["indicator_id"] == "legitimate.satisfaction_rate") & (out["dimension"] == "site")]
    assert sat.set_index("group")["value"].to_dict() == {"s1": 2 / 3, "s2": 0.5}
    # advice: status closed (rows 0-4, 6), non-missing: rows 0 T, 1 T, 2 F, 4 T, 6 F
    adv = out[(out["indicator_id"] == "equitable.advice_rate") & (out["dimension"] == "channel")]
    assert adv.set_index("group")[["value", "n"]].to_dict("list") == {"value": [0.75, 0.0], "n": [4, 1]}


def test_survey_dimensions_and_unknown_dimension():
    ws = pd.DataFrame({
        "mechanism_id": ["A"] * 6, "age": pd.array([16, 17, 30, 40, None, 25], dtype="Int64"),
        "gender": ["female"] * 3 + ["male"] * 3,
        "migrant": pd.array([True, True, False, None, False, True], dtype="boolean"),
        "trust": pd.array([5, 4, 1, 2, None, 4], dtype="Int64"),
    })
    out = disaggregate(_ev(worker_survey=ws), dimensions=("migrant", "channel"))
    t = out[out["indicator_id"] == "legitimate.trust_rate"].set_index("group")
    assert t["n"].to_dict() == {"migrant": 3, "non_migrant": 1, "unknown": 1}
    assert t.loc["migrant", "value"] == 1.0 and t.loc["non_migrant", "value"] == 0.0
    assert set(out["dimension"]) == {"migrant"}  # surveys record no channel
    with pytest.raises(ValueError, match="unknown dimension"):
        disaggregate(_ev(worker_survey=ws), dimensions=("religion",))


def _two_mechanism_cases(seed=0, gap=0.35, n=400):
    rng = np.random.default_rng(seed)
    rows = []
    for mid, g in (("A", gap), ("B", 0.0)):
        gender = rng.choice(["female", "male", "unknown"], n, p=[0.46, 0.46, 0.08])
        p = np.where(gender == "female", 0.7 - g, 0.7)
        rem = rng.uniform(size=n) < p
        sat = np.clip(np.round(rng.normal(np.where(gender == "female", 3.0 - 2 * g, 3.0), 1.0)), 1, 5)
        rows.append(pd.DataFrame({
            "mechanism_id": mid, "status": "closed", "gender": gender,
            "outcome": np.where(rem, "remedied", "no_remedy"),
            "satisfaction": pd.array(sat.astype(int), dtype="Int64"),
            "site_id": rng.choice(["s1", "s2", "s3"], n),
            "age": pd.array(rng.integers(18, 60, n), dtype="Int64"),
        }))
    return pd.concat(rows, ignore_index=True)


def test_equity_tests_match_scipy_and_pingouin():
    import pingouin as pg
    from statsmodels.stats.multitest import multipletests

    cases = _two_mechanism_cases()
    t = equity_tests(_ev(cases=cases))
    assert list(t.columns) == EQUITY_TEST_COLUMNS
    idx = t.set_index(["mechanism_id", "indicator_id", "dimension"])
    for mid in ("A", "B"):
        sub = cases[cases["mechanism_id"] == mid]
        # chi-square remedy x gender, 'unknown' left out
        g = sub[sub["gender"].isin(["female", "male"])]
        obs = pd.crosstab(g["gender"], g["outcome"])
        chi2, p, _, _ = st.chi2_contingency(obs.to_numpy())  # Yates for 2x2, as pingouin
        row = idx.loc[(mid, "rights_compatible.remedy_rate", "gender")]
        assert (row["test"], row["groups"]) == ("chi2", "female;male")
        assert row["statistic"] == pytest.approx(chi2) and row["p_value"] == pytest.approx(p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, pgres = pg.chi2_independence(g, x="gender", y="outcome")
        assert row["effect_size"] == pytest.approx(pgres.set_index("test").loc["pearson", "cramer"])
        assert row["effect_size_name"] == "cramers_v"
        # Mann-Whitney on the 1-5 satisfaction scale, female vs male
        x = g.loc[g["gender"] == "female", "satisfaction"].astype(float)
        y = g.loc[g["gender"] == "male", "satisfaction"].astype(float)
        ref = st.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        row = idx.loc[(mid, "legitimate.satisfaction_rate", "gender")]
        assert row["test"] == "mann_whitney"
        assert row["statistic"] == pytest.approx(ref.statistic)
        assert row["p_value"] == pytest.approx(ref.pvalue)
        assert row["effect_size"] == pytest.approx(pg.mwu(x, y)["RBC"].iloc[0])
        # three sites: Kruskal-Wallis
        row = idx.loc[(mid, "legitimate.satisfaction_rate", "site")]
        kw = st.kruskal(*[s["satisfaction"].astype(float) for _, s in sub.groupby("site_id")])
        assert row["test"] == "kruskal_wallis" and row["statistic"] == pytest.approx(kw.statistic)
        # Holm over all tests of the mechanism
        tm = t[t["mechanism_id"] == mid]
        ok = tm["p_value"].notna().to_numpy()
        expect = multipletests(tm["p_value"].to_numpy()[ok], method="holm")[1]
        np.testing.assert_allclose(tm["p_holm"].to_numpy()[ok], expect)
        assert (tm["significant"].to_numpy()[ok] == (expect < 0.05)).all()
    # the planted gap in A is found, the absent one in B is not
    assert idx.loc[("A", "rights_compatible.remedy_rate", "gender"), "significant"]
    assert idx.loc[("A", "legitimate.satisfaction_rate", "gender"), "effect_size"] < 0  # female lower
    assert not idx.loc[("B", "rights_compatible.remedy_rate", "gender"), "significant"]


def test_null_data_not_significant_in_most_seeds():
    # 40 mechanisms (independent draws) where remedy does not depend on gender
    parts = []
    for seed in range(20):
        c = _two_mechanism_cases(seed=seed, gap=0.0, n=200)
        parts.append(c.assign(mechanism_id=c["mechanism_id"] + str(seed)))
    t = equity_tests(_ev(cases=pd.concat(parts, ignore_index=True)), dimensions=("gender",))
    r = t[t["indicator_id"] == "rights_compatible.remedy_rate"]
    assert len(r) == 40 and r["p_value"].notna().all()
    assert r["significant"].sum() <= 3  # Holm keeps false positives rare
    assert (r["p_value"] < 0.05).sum() <= 6  # about 5% of raw p-values below 0.05


def test_small_groups_left_out_and_flagged():
    cases = pd.DataFrame({
        "mechanism_id": "A", "status": "closed",
        "gender": ["female"] * 30 + ["male"] * 4 + [None] * 10,
        "outcome": (["remedied", "no_remedy"] * 22)[:44],
    })
    t = equity_tests(_ev(cases=cases), dimensions=("gender",))
    row = t[t["indicator_id"] == "rights_compatible.remedy_rate"].iloc[0]
    assert row["flags"] == "small_n" and np.isnan(row["p_value"]) and pd.isna(row["significant"])
    assert row["groups"] == "female;male"


def test_representation_binomial_test_by_hand():
    cases = pd.DataFrame({
        "mechanism_id": "A", "status": "open",
        "age": pd.array([16] * 2 + [30] * 98 + [None] * 5, dtype="Int64"),
        "gender": ["female"] * 50 + ["male"] * 50 + ["unknown"] * 5,
    })
    wf = pd.DataFrame({"mechanism_id": ["A", "A"], "site_id": ["s1", "s2"],
                       "headcount": pd.array([600, 400], dtype="Int64"),
                       "female": pd.array([300, 200], dtype="Int64"),
                       "aged_15_17": pd.array([150, 50], dtype="Int64")})
    t = equity_tests(_ev(cases=cases, workforce=wf)).set_index("indicator_id")
    young = t.loc["accessible.young_worker_representation_ratio"]
    # 2 of 100 cases with known age vs workforce share 200/1000 = 0.2: ratio 0.1
    assert young["test"] == "binomial"
    assert young["effect_size"] == pytest.approx(0.02 / 0.2)
    assert young["p_value"] == pytest.approx(st.binomtest(2, 100, 0.2).pvalue)
    assert young["significant"]
    fem = t.loc["accessible.female_representation_ratio"]
    assert fem["effect_size"] == pytest.approx(1.0)
    assert fem["p_value"] == pytest.approx(st.binomtest(50, 100, 0.5).pvalue)
    assert not fem["significant"]


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_effects_recovered_in_synthetic_data(seed):
    from gm_eval.synth import PLANTED

    ev = _synth_evidence(seed)
    t = equity_tests(ev)
    gap = t[(t["indicator_id"] == "rights_compatible.remedy_rate") & (t["dimension"] == "gender")]
    gap = gap.set_index("mechanism_id")
    m02 = PLANTED["equity_gap_women_remedied_less"]
    assert gap.loc[m02, "significant"] and gap.loc[m02, "p_holm"] < 0.01
    others = gap.drop(index=m02)
    assert others["significant"].fillna(False).sum() <= 1  # no planted gap elsewhere
    # women's remedied rate lower than men's in the disaggregation
    d = disaggregate(ev, dimensions=("gender",))
    r = d[(d["mechanism_id"] == m02) & (d["indicator_id"] == "rights_compatible.remedy_rate")]
    r = r.set_index("group")["value"]
    assert r["female"] < 0.5 * r["male"]
    # the under-represented young workers: lowest ratio of all, gap significant after Holm
    rep = t[t["indicator_id"] == "accessible.young_worker_representation_ratio"]
    rep = rep.set_index("mechanism_id")
    m03 = PLANTED["young_workers_underrepresented"]
    assert rep["effect_size"].idxmin() == m03
    assert rep.loc[m03, "significant"]
    assert rep.drop(index=m03)["significant"].fillna(False).sum() <= 1


def test_equity_tables_equals_separate_calls():
    from gm_eval.equity import equity_tables

    ev = _ev(cases=_two_mechanism_cases(seed=3))
    d, t = equity_tables(ev)
    pd.testing.assert_frame_equal(d, disaggregate(ev))
    pd.testing.assert_frame_equal(t, equity_tests(ev))
