"""Tests of gm_eval.stats against published values, hand computation and the libraries."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st

from gm_eval import stats as S

Z95 = st.norm.ppf(0.975)


def wilson_closed_form(x, n, z=Z95):
    """Wilson (1927) score interval written out."""
    x = np.asarray(x, float)
    n = np.asarray(n, float)
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


# ----------------------------------------------------------------------------- Wilson
@pytest.mark.parametrize(
    "x, n, low, high",
    [
        # Newcombe (1998) Stat Med 17:857, Table I, method 3 (score interval)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_published(x, n, low, high):
    lo, hi = S.wilson_interval(x, n)
    assert float(lo) == pytest.approx(low, abs=5e-5)
    assert float(hi) == pytest.approx(high, abs=5e-5)
    clo, chi = wilson_closed_form(x, n)
    assert float(lo) == pytest.approx(max(float(clo), 0.0), abs=1e-12)
    assert float(hi) == pytest.approx(float(chi), abs=1e-12)


def test_wilson_vectorised_matches_closed_form_and_is_not_wald():
    rng = np.random.default_rng(1)
    n = rng.integers(1, 500, size=200)
    x = rng.binomial(n, rng.uniform(0, 1, size=200))
    lo, hi = S.wilson_interval(x, n)
    clo, chi = wilson_closed_form(x, n)
    np.testing.assert_allclose(lo, np.clip(clo, 0, 1), atol=1e-12)
    np.testing.assert_allclose(hi, np.clip(chi, 0, 1), atol=1e-12)
    # Wald would give a zero-width interval at x = 0; Wilson does not
    lo0, hi0 = S.wilson_interval(0, 10)
    assert float(lo0) == 0 and float(hi0) > 0.2


def test_wilson_zero_n_and_missing_are_nan():
    lo, hi = S.wilson_interval(np.array([0, 3, 2]), np.array([0, 10, np.nan]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    assert np.isfinite(lo[1])
    assert np.isnan(lo[2])
    lo, hi = S.wilson_interval(5, 0)
    assert np.isnan(lo) and np.isnan(hi)


def test_rate_table_excludes_nulls_and_flags_small_n():
    d = pd.DataFrame(
        {
            "mechanism_id": ["a"] * 5 + ["b"] * 40 + ["c"] * 2,
            "ok": pd.array([True, True, False, None, None] + [True] * 10 + [False] * 30
                           + [None, None], dtype="boolean"),
        }
    )
    r = S.rate_table(d, ["mechanism_id"], "ok").set_index("mechanism_id")
    assert r.loc["a", "n"] == 3 and r.loc["a", "successes"] == 2
    assert r.loc["a", "value"] == pytest.approx(2 / 3)
    assert r.loc["b", "value"] == pytest.approx(0.25)
    lo, hi = wilson_closed_form(10, 40)
    assert r.loc["b", "ci_low"] == pytest.approx(lo) and r.loc["b", "ci_high"] == pytest.approx(hi)
    assert r.loc["a", "flags"] == "small_n" and r.loc["b", "flags"] == ""
    assert r.loc["c", "n"] == 0 and np.isnan(r.loc["c", "value"]) and np.isnan(r.loc["c", "ci_low"])


# ----------------------------------------------------------------------------- Kaplan-Meier
# Hand-worked example (days): durations and events (1 = event, 0 = censored)
#   t:  2  3  3  5  6  8  8  10
#   e:  1  1  0  1  0  1  1  0
# Censored times tied with an event stay at risk at that time.
#   t=2: at risk 8, 1 event  -> S = 7/8               = 0.875
#   t=3: at risk 7, 1 event  -> S = 0.875 * 6/7       = 0.75
#   t=5: at risk 5, 1 event  -> S = 0.75 * 4/5        = 0.60
#   t=8: at risk 3, 2 events -> S = 0.60 * 1/3        = 0.20
# Greenwood at t=5: S^2 * (1/(8*7) + 1/(7*6) + 1/(5*4)) = 0.36 * 0.0916667 = 0.033
# Median: first t with S < 0.5 is 8. 90th percentile: S never < 0.1 -> NaN.
# S(4) = 0.75 so 1 - S(4) = 0.25 closed within 4 days; S(11) undefined (last obs censored).
HAND_T = [2, 3, 3, 5, 6, 8, 8, 10]
HAND_E = [1, 1, 0, 1, 0, 1, 1, 0]


def test_km_hand_worked_censored_example():
    c = S.km_curve(HAND_T, HAND_E)
    assert c["t"].tolist() == [2, 3, 5, 8]
    np.testing.assert_allclose(c["survival"], [0.875, 0.75, 0.6, 0.2])
    assert c["at_risk"].tolist() == [8, 7, 5, 3]
    # pointwise log(-log) band at t=5 from Greenwood's variance
    se = np.sqrt(0.36 * (1 / 56 + 1 / 42 + 1 / 20))
    theta = se / (0.6 * np.log(0.6))
    z = st.norm.ppf(0.975)
    lo, hi = sorted([0.6 ** np.exp(-z * theta), 0.6 ** np.exp(z * theta)])
    assert c.loc[2, "ci_low"] == pytest.approx(lo) and c.loc[2, "ci_high"] == pytest.approx(hi)
    assert c.loc[2, "ci_low"] < 0.6 < c.loc[2, "ci_high"]
    q = S.km_quantile(HAND_T, HAND_E, p=(0.5, 0.9)).set_index("p")
    assert q.loc[0.5, "value"] == 8
    assert np.isnan(q.loc[0.9, "value"])
    assert S.km_at(HAND_T, HAND_E, 4) == pytest.approx(0.75)
    assert S.km_at(HAND_T, HAND_E, 8) == pytest.approx(0.2)
    assert S.km_at(HAND_T, HAND_E, 1) == 1.0
    assert np.isnan(S.km_at(HAND_T, HAND_E, 11))
    np.testing.assert_allclose(S.km_at(HAND_T, HAND_E, [0, 2, 9.5]), [1.0, 0.875, 0.2])


def test_km_median_ci_matches_statsmodels_directly():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(3)
    t = rng.exponential(20, 300).round(1)
    e = rng.uniform(size=300) < 0.7
    sf = SurvfuncRight(t, e.astype(float))
    q = S.km_quantile(t, e, p=0.5)
    assert q["value"].iloc[0] == sf.quantile(0.5)
    lb, ub = sf.quantile_ci(0.5, method="cloglog")
    assert q["ci_low"].iloc[0] == lb and q["ci_high"].iloc[0] == ub
    assert lb <= q["value"].iloc[0] <= ub


def test_km_edge_cases():
    # all censored: no step, no median, S(t) = 1 within follow-up
    c = S.km_curve([3, 5, 9], [0, 0, 0])
    assert c.empty
    assert np.isnan(S.km_quantile([3, 5, 9], [0, 0, 0], 0.5)["value"].iloc[0])
    assert S.km_at([3, 5, 9], [0, 0, 0], 4) == 1.0
    # all events with ties: S = 1 - share with T <= t; reaches 0
    c = S.km_curve([1, 1, 2, 4], [1, 1, 1, 1])
    np.testing.assert_allclose(c["survival"], [0.5, 0.25, 0.0])
    assert c["at_risk"].tolist() == [4, 2, 1]
    # S(1) = 0.5 exactly: strict rule (S < 0.5) gives median 2, not 1
    assert S.km_quantile([1, 1, 2, 4], [1, 1, 1, 1], 0.5)["value"].iloc[0] == 2
    assert S.km_at([1, 1, 2, 4], [1, 1, 1, 1], 100) == 0.0  # defined: S reached 0
    # n = 1
    c = S.km_curve([7], [1])
    assert c["survival"].tolist() == [0.0] and c["at_risk"].tolist() == [1]
    assert S.km_quantile([7], [1], 0.5)["value"].iloc[0] == 7
    # empty input
    assert S.km_curve([], []).empty
    assert np.isnan(S.km_at([], [], 3))
    # missing durations are dropped
    assert S.km_curve([1, np.nan, 2], [1, 1, 1])["at_risk"].tolist() == [2, 1]


def _random_groups(seed=0, n_groups=25, whole_days=True):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 60, n_groups)
    g = np.repeat([f"m{i:02d}" for i in range(n_groups)], sizes)
    t = rng.integers(0, 60, len(g)).astype(float)
    if not whole_days:  # exercises the sorting path of km_by_group
        t = np.round(t + rng.choice([0.0, 0.5], len(g)), 1)
    e = (rng.uniform(size=len(g)) < rng.uniform(0.2, 1.0, n_groups).repeat(sizes)).astype(int)
    target = pd.Series(rng.choice([7, 14, 30, 90], n_groups), index=[f"m{i:02d}" for i in range(n_groups)])
    df = pd.DataFrame({"g": g, "duration": t, "event": e})
    df["target"] = df["g"].map(target)
    return df


def _assert_groups_match_km_functions(df, curves, summary):
    """Each group of km_by_group equals km_curve, km_quantile and km_at on its rows."""
    for gid, sub in df.dropna(subset=["duration"]).groupby("g"):
        ref = S.km_curve(sub["duration"], sub["event"])
        mine = curves[curves["g"] == gid].reset_index(drop=True).drop(columns="g")
        pd.testing.assert_frame_equal(mine, ref, check_dtype=False, atol=1e-12)
        q = S.km_quantile(sub["duration"], sub["event"], p=(0.5, 0.9)).set_index("p")
        for p, name in [(0.5, "q50"), (0.9, "q90")]:
            for col, suffix in [("value", ""), ("ci_low", "_ci_low"), ("ci_high", "_ci_high")]:
                a, b = summary.loc[gid, name + suffix], q.loc[p, col]
                assert (np.isnan(a) and np.isnan(b)) or a == b, (gid, name + suffix, a, b)
        assert summary.loc[gid, "n"] == len(sub)
        assert summary.loc[gid, "events"] == sub["event"].sum()
        expect = 1 - S.km_at(sub["duration"], sub["event"], sub["target"].iloc[0])
        got = summary.loc[gid, "within_target"]
        assert (np.isnan(got) and np.isnan(expect)) or got == pytest.approx(expect), gid


@pytest.mark.parametrize("seed, whole_days", [(0, True), (1, True), (2, False), (3, False)])
def test_km_by_group_matches_survfuncright_per_group(seed, whole_days):
    df = _random_groups(seed, whole_days=whole_days)
    curves, summary = S.km_by_group(df, "g", probs=(0.5, 0.9), targets=df["target"])
    summary = summary.set_index("g")
    _assert_groups_match_km_functions(df, curves, summary)


@pytest.mark.parametrize("scale, shift", [(1, 0.0), (10**8, 0.0), (1, 0.5)])
def test_km_by_group_edge_cases_match_survfuncright(scale, shift):
    # n = 1 (event, censored), all censored, ties of events and censorings, S reaching 0,
    # a group with only missing durations; scale 10**8 packs (group, time) in 64-bit keys,
    # shift 0.5 takes the sorting path for non-whole times
    groups = {
        "one_event": ([4], [1]),
        "one_censored": ([4], [0]),
        "all_censored": ([1, 3, 3, 8], [0, 0, 0, 0]),
        "ties": ([2, 2, 2, 5, 5, 5, 7, 9], [1, 0, 1, 1, 1, 0, 0, 1]),
        "to_zero": ([1, 1, 2, 4], [1, 1, 1, 1]),
        "zero_time": ([0, 0, 1, 6, 6], [1, 0, 1, 0, 1]),
    }
    rows = [(g, t * scale + shift, e) for g, (ts, es) in groups.items() for t, e in zip(ts, es, strict=True)]
    rows += [("missing", np.nan, 1), ("missing", np.nan, 0)]
    df = pd.DataFrame(rows, columns=["g", "duration", "event"]).sample(frac=1, random_state=1)
    target = {"one_event": 4, "one_censored": 4, "all_censored": 3, "ties": 5, "to_zero": 100,
              "zero_time": 0, "missing": 1}
    df["target"] = df["g"].map(target) * scale + shift
    curves, summary = S.km_by_group(df, "g", probs=(0.5, 0.9), targets=df["target"])
    summary = summary.set_index("g")
    assert summary.loc["missing", "n"] == 0 and np.isnan(summary.loc["missing", "within_target"])
    assert "missing" not in set(curves["g"])
    _assert_groups_match_km_functions(df, curves, summary)


def test_km_by_group_at_a_million_rows_matches_the_one_group_functions():
    # the scale of the scoring benchmark (its speed is measured there, not here);
    # a few of the 1,000 groups are checked against the one-group functions
    rng = np.random.default_rng(0)
    n = 1_000_000
    df = pd.DataFrame({"g": rng.integers(0, 1000, n), "duration": rng.integers(0, 200, n),
                       "event": rng.uniform(size=n) < 0.8, "target": 30})
    curves, summary = S.km_by_group(df, "g", probs=(0.5, 0.9), targets=df["target"])
    assert len(summary) == 1000 and summary["within_target"].between(0, 1).all()
    some = df["g"].isin([0, 417, 999])
    _assert_groups_match_km_functions(df[some], curves[curves["g"].isin([0, 417, 999])],
                                      summary.set_index("g"))


# ----------------------------------------------------------------------------- Holm
def test_holm_against_hand_computation():
    # sorted: 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(S.holm(p), [0.03, 0.06, 0.06, 0.02])
    # Holm, not the statsmodels default Holm-Sidak (which gives 1 - (1 - p)^k)
    from statsmodels.stats.multitest import multipletests

    hs = multipletests(p)[1]
    assert not np.allclose(S.holm(p), hs)
    # NaN left out of the family
    np.testing.assert_allclose(S.holm([0.01, np.nan, 0.04]), [0.02, np.nan, 0.04])
    assert S.holm([0.6, 0.7]).max() == 1.0  # capped at 1


def test_holm_by_group_matches_holm_per_group():
    rng = np.random.default_rng(5)
    g = rng.choice(list("abcde"), 300)
    p = rng.uniform(0, 0.2, 300)
    p[rng.uniform(size=300) < 0.1] = np.nan
    p[:5] = 0.05  # ties
    g[:5] = "a"
    out = S.holm_by_group(p, g)
    for k in np.unique(g):
        m = g == k
        np.testing.assert_allclose(out[m], S.holm(p[m]))


# ----------------------------------------------------------------------------- Cronbach
def _alpha_by_hand(d: pd.DataFrame) -> float:
    d = d.dropna()
    k = d.shape[1]
    return k / (k - 1) * (1 - d.var(ddof=1).sum() / d.sum(axis=1).var(ddof=1))


def test_cronbach_alpha_hand_and_listwise():
    # Items of 5 respondents; by hand: item variances 2.5, 2.3, 1.5 (sum 6.3),
    # totals 4, 7, 9, 13, 14 (mean 9.4, squared deviations 69.2, / 4) have variance 17.3
    # -> alpha = 3/2 * (1 - 6.3 / 17.3) = 0.95376
    d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    assert d.var().tolist() == pytest.approx([2.5, 2.3, 1.5])
    assert d.sum(axis=1).var() == pytest.approx(17.3)
    expect = 1.5 * (1 - 6.3 / 17.3)
    assert expect == pytest.approx(0.95376, abs=1e-5)
    r = S.cronbach_alpha(d)
    assert r.alpha == pytest.approx(expect)
    assert r.n_listwise == 5 and r.k == 3
    assert r.ci_low < r.alpha < r.ci_high
    # Feldt interval by hand
    lo = 1 - (1 - expect) * st.f.ppf(0.975, 4, 8)
    assert r.ci_low == pytest.approx(lo)
    # listwise: a respondent with a missing item is dropped entirely
    d2 = pd.concat([d, pd.DataFrame({"a": [5, 1], "b": [np.nan, 5], "c": [1, np.nan]})],
                   ignore_index=True)
    r2 = S.cronbach_alpha(d2)
    assert r2.n_listwise == 5 and r2.alpha == pytest.approx(expect)
    import pingouin as pg

    pairwise, _ = pg.cronbach_alpha(d2)  # pingouin's default differs
    assert pairwise != pytest.approx(expect)


def test_cronbach_alpha_by_group_matches_pingouin():
    import pingouin as pg

    rng = np.random.default_rng(2)
    n = 400
    latent = rng.normal(size=n)
    d = pd.DataFrame({"g": rng.choice(["x", "y", "z"], n)})
    for i, c in enumerate(["i1", "i2", "i3", "i4"]):
        d[c] = np.clip(np.round(3 + latent * (0.5 + i * 0.2) + rng.normal(size=n)), 1, 5)
        d.loc[rng.uniform(size=n) < 0.05, c] = np.nan
    out = S.cronbach_alpha_by_group(d, "g", ["i1", "i2", "i3", "i4"]).set_index("g")
    for gid, sub in d.groupby("g"):
        a, _ = pg.cronbach_alpha(sub[["i1", "i2", "i3", "i4"]], nan_policy="listwise")
        assert out.loc[gid, "cronbach_alpha"] == pytest.approx(a)
        # pingouin computes Feldt's degrees of freedom from n *before* listwise
        # deletion; we use the respondents actually analysed, so compare its CI
        # on the complete rows only.
        _, ci = pg.cronbach_alpha(sub[["i1", "i2", "i3", "i4"]].dropna())
        assert out.loc[gid, "ci_low"] == pytest.approx(ci[0], abs=5e-4)
        assert out.loc[gid, "ci_high"] == pytest.approx(ci[1], abs=5e-4)
        assert out.loc[gid, "n_listwise"] == len(sub.dropna())
        assert out.loc[gid, "cronbach_alpha"] == pytest.approx(_alpha_by_hand(sub.drop(columns="g")))


# ----------------------------------------------------------------------------- chi-square / MWU
def _tables():
    rng = np.random.default_rng(11)
    rows = []
    for t, (ng, n) in enumerate([(2, 80), (3, 150), (4, 300), (2, 12)]):
        g = rng.choice([f"g{i}" for i in range(ng)], n)
        p = {f"g{i}": 0.3 + 0.1 * i for i in range(ng)}
        y = rng.uniform(size=n) < np.array([p[x] for x in g])
        rows.append(pd.DataFrame({"test": f"t{t}", "group": g, "y": y}))
    return pd.concat(rows, ignore_index=True)


def test_chi2_by_group_matches_scipy_and_pingouin():
    import pingouin as pg

    d = _tables()
    out = S.chi2_by_group(d, ["test"], "group", "y").set_index("test")
    for t, sub in d.groupby("test"):
        obs = pd.crosstab(sub["group"], sub["y"]).to_numpy()
        chi2, p, dof, exp = st.chi2_contingency(obs, correction=True)
        if (exp < 5).any():
            assert out.loc[t, "flags"] == "small_n" and np.isnan(out.loc[t, "p_value"])
            continue
        assert out.loc[t, "statistic"] == pytest.approx(chi2)
        assert out.loc[t, "p_value"] == pytest.approx(p)
        assert out.loc[t, "dof"] == dof
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, res = pg.chi2_independence(sub, x="group", y="y")
        pear = res.set_index("test").loc["pearson"]
        assert out.loc[t, "statistic"] == pytest.approx(pear["chi2"])
        assert out.loc[t, "effect_size"] == pytest.approx(pear["cramer"])
        assert out.loc[t, "groups"] == ";".join(sorted(sub["group"].unique()))
    assert (out["flags"] == "small_n").sum() == 1  # the 12-row table


def test_mwu_by_group_matches_scipy_and_pingouin():
    import pingouin as pg

    rng = np.random.default_rng(4)
    parts = []
    for t, (n1, n2, shift) in enumerate([(40, 60, 0.0), (100, 80, 0.6), (30, 3, 0.0)]):
        a = np.clip(np.round(rng.normal(3 + shift, 1.2, n1)), 1, 5)
        b = np.clip(np.round(rng.normal(3, 1.2, n2)), 1, 5)
        parts.append(pd.DataFrame({"test": f"t{t}", "group": ["female"] * n1 + ["male"] * n2,
                                   "v": np.r_[a, b]}))
    three = pd.DataFrame({"test": "t3", "group": ["a", "b", "c"] * 10, "v": [1, 2, 3] * 10})
    d = pd.concat(parts + [three], ignore_index=True)
    out = S.mwu_by_group(d, ["test"], "group", "v").set_index("test")
    for t in ["t0", "t1"]:
        sub = d[d["test"] == t]
        x = sub.loc[sub["group"] == "female", "v"]
        y = sub.loc[sub["group"] == "male", "v"]
        ref = st.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        assert out.loc[t, "statistic"] == pytest.approx(ref.statistic)
        assert out.loc[t, "p_value"] == pytest.approx(ref.pvalue)
        pgr = pg.mwu(x, y)
        assert out.loc[t, "effect_size"] == pytest.approx(pgr["RBC"].iloc[0])
        assert out.loc[t, "groups"] == "female;male"
    assert out.loc["t1", "p_value"] < 0.01 and out.loc["t1", "effect_size"] > 0
    assert out.loc["t2", "flags"] == "small_n" and np.isnan(out.loc["t2", "p_value"])
    assert out.loc["t3", "flags"] == "not_applicable"


def test_join_flags():
    out = S.join_flags(np.array(["small_n", "", ""]), np.array(["suppressed", "", "not_covered"]))
    assert out.tolist() == ["small_n;suppressed", "", "not_covered"]


def test_kruskal_by_group_matches_scipy():
    rng = np.random.default_rng(8)
    parts = []
    for t, shift in enumerate([0.0, 0.8]):
        for gname, n, sh in [("a", 30, 0.0), ("b", 50, shift), ("c", 40, shift / 2)]:
            v = np.clip(np.round(rng.normal(3 + sh, 1.1, n)), 1, 5)
            parts.append(pd.DataFrame({"test": f"t{t}", "group": gname, "v": v}))
    d = pd.concat(parts, ignore_index=True)
    out = S.kruskal_by_group(d, ["test"], "group", "v").set_index("test")
    for t, sub in d.groupby("test"):
        ref = st.kruskal(*[g["v"] for _, g in sub.groupby("group")])
        assert out.loc[t, "statistic"] == pytest.approx(ref.statistic)
        assert out.loc[t, "p_value"] == pytest.approx(ref.pvalue)
        assert out.loc[t, "effect_size"] == pytest.approx(ref.statistic / (len(sub) - 1))
        assert out.loc[t, "dof"] == 2 and out.loc[t, "groups"] == "a;b;c"
    assert out.loc["t1", "p_value"] < 0.01


def test_rank_and_chi2_tests_accept_frequency_weights():
    rng = np.random.default_rng(9)
    d = pd.DataFrame({"test": "t", "group": rng.choice(["f", "m"], 300),
                      "v": rng.integers(1, 6, 300), "y": rng.uniform(size=300) < 0.4})
    agg_v = d.groupby(["test", "group", "v"]).size().rename("w").reset_index()
    agg_y = d.groupby(["test", "group", "y"]).size().rename("w").reset_index()
    pd.testing.assert_frame_equal(S.mwu_by_group(agg_v, ["test"], "group", "v", weight_col="w"),
                                  S.mwu_by_group(d, ["test"], "group", "v"))
    pd.testing.assert_frame_equal(S.kruskal_by_group(agg_v, ["test"], "group", "v", weight_col="w"),
                                  S.kruskal_by_group(d, ["test"], "group", "v"))
    pd.testing.assert_frame_equal(S.chi2_by_group(agg_y, ["test"], "group", "y", weight_col="w"),
                                  S.chi2_by_group(d, ["test"], "group", "y"))


def test_binomtest_two_sided_matches_scipy():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 300, 600)
    p = rng.uniform(0, 1, 600)
    p[:20], p[20:40], p[40:80] = 0.0, 1.0, 0.5
    k = rng.binomial(n, np.clip(p * rng.uniform(0.5, 1.5, 600), 0, 1))
    ref = np.array([st.binomtest(int(a), int(b), float(c)).pvalue for a, b, c in zip(k, n, p, strict=True)])
    np.testing.assert_allclose(S.binomtest_two_sided(k, n, p), ref, rtol=1e-9, atol=1e-15)
    assert np.isnan(S.binomtest_two_sided(1, 0, 0.5)[0])


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_wilson_is_bit_identical_to_statsmodels_proportion_confint(alpha):
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(1)
    n = rng.integers(1, 50_000, 20_000).astype(float)
    x = np.floor(rng.random(20_000) * (n + 1))
    x[:20], x[20:40] = 0, n[20:40]
    lo, hi = S.wilson_interval(x, n, alpha=alpha)
    slo, shi = proportion_confint(x, n, alpha=alpha, method="wilson")
    assert np.array_equal(lo, np.clip(slo, 0, 1)) and np.array_equal(hi, np.clip(shi, 0, 1))


def test_kaplan_meier_critical_value_is_scipy_norm_ppf():
    from scipy import stats

    for alpha in (0.05, 0.1, 0.01, 0.2):
        assert S._ndtri(1 - alpha / 2) == stats.norm.ppf(1 - alpha / 2)


# ----------------------------------------------------------------------------- distributions
def _bits(a):
    return np.asarray(a, dtype=float).view(np.int64)


def test_distributions_without_scipy_stats_are_bit_identical_to_it():
    # the statistics call scipy.special's ufuncs the way scipy.stats does, support
    # boundaries included, so that scipy.stats (about 1 s to import) is not needed
    rng = np.random.default_rng(12)
    x = np.r_[rng.exponential(4, 3000), 0.0, -0.0, -2.0, np.inf, np.nan, 1e-300, 900.0]
    df = np.r_[rng.integers(1, 30, 3000).astype(float), 1, 1, 2, 3, 4, 5, 0.5]
    np.testing.assert_array_equal(_bits(S._chi2_sf(x, df)), _bits(st.chi2.sf(x, df)))
    for bad_df in (0.0, -1.0, np.nan):
        np.testing.assert_array_equal(_bits(S._chi2_sf(x, bad_df)), _bits(st.chi2.sf(x, bad_df)))
    z = np.r_[rng.normal(0, 4, 3000), np.inf, -np.inf, np.nan, 0.0, -0.0, 40.0, -40.0]
    np.testing.assert_array_equal(_bits(S._norm_sf(z)), _bits(st.norm.sf(z)))
    n = np.r_[rng.integers(-2, 5000, 3000).astype(float), 0.0, 1.0, 2.0, np.nan, np.inf]
    for ci in (0.95, 0.9, 0.99):
        lev = 1 - ci
        for q in (lev / 2, 1 - lev / 2):
            for k in (2, 3, 4):
                np.testing.assert_array_equal(_bits(S._f_isf(q, n - 1.0, (n - 1.0) * (k - 1))),
                                              _bits(st.f.isf(q, n - 1.0, (n - 1.0) * (k - 1))))


def test_binomial_helpers_are_bit_identical_to_scipy_stats():
    rng = np.random.default_rng(13)
    n = rng.integers(0, 400, 6000).astype(float)
    k = np.floor(rng.uniform(-0.2, 1.2, 6000) * (n + 2))
    p = rng.uniform(0, 1, 6000)
    p[:100], p[100:200] = 0.0, 1.0  # degenerate probabilities
    k[200:230] = np.nan
    k[230:260] += 0.5  # not an integer: pmf 0, cdf/sf of the floor
    n[260:290] += 0.5  # invalid n: NaN
    p[290:320] = 1.5  # invalid p: NaN
    np.testing.assert_array_equal(_bits(S._binom_pmf_at(k, n, p)), _bits(st.binom.pmf(k, n, p)))
    np.testing.assert_array_equal(_bits(S._binom_cdf_at(k, n, p)), _bits(st.binom.cdf(k, n, p)))
    np.testing.assert_array_equal(_bits(S._binom_sf_at(k, n, p)), _bits(st.binom.sf(k, n, p)))


def test_binomtest_two_sided_edge_cases_match_scipy():
    cases = [(0, 1, 0.5), (1, 1, 0.5), (0, 10, 0.01), (10, 10, 0.99), (3, 6, 0.5), (0, 5, 0.2),
             (5, 5, 0.2), (1, 1, 0.999), (7, 400, 0.02), (200, 400, 0.5)]
    k, n, p = (np.array(c, dtype=float) for c in zip(*cases, strict=True))
    got = S.binomtest_two_sided(k, n, p)
    ref = [st.binomtest(int(a), int(b), c).pvalue for a, b, c in cases]
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    assert np.isnan(S.binomtest_two_sided([3], [2], [0.5])).all()  # k > n
    assert np.isnan(S.binomtest_two_sided([1], [0], [0.5])).all()  # n = 0


def test_seg_sum_is_pandas_groupby_sum():
    # pandas sums groups with Kahan compensation: _seg_sum must give its bits
    rng = np.random.default_rng(14)
    codes = rng.integers(0, 50, 5000)
    for v in (rng.normal(size=5000) * 1e3, rng.integers(0, 9, 5000).astype(float),
              np.r_[rng.uniform(size=4990), [np.nan] * 10]):
        ref = pd.Series(v).groupby(codes).sum().reindex(range(60), fill_value=0.0).to_numpy()
        np.testing.assert_array_equal(_bits(S._seg_sum(v, codes, 60)), _bits(ref))


def test_rank_and_chi2_kernels_edge_cases_match_scipy():
    # one group, n = 1, every value tied, zero counts in a cell
    d = pd.DataFrame({"test": ["one"] * 5 + ["n1"] + ["tied"] * 8 + ["zero"] * 12,
                      "group": ["a"] * 5 + ["a"] + ["a", "b"] * 4 + ["a"] * 6 + ["b"] * 6,
                      "v": [1, 2, 3, 4, 5, 3] + [2] * 8 + [1, 2, 3, 1, 2, 3, 4, 5, 4, 5, 4, 5],
                      "y": [0, 1, 0, 1, 0, 1] + [1] * 8 + [1] * 6 + [0] * 6})
    mwu = S.mwu_by_group(d, ["test"], "group", "v", min_group_n=1).set_index("test")
    assert (mwu.loc[["one", "n1"], "flags"] == "not_applicable").all()
    assert mwu.loc["tied", "p_value"] == 1.0  # no variation: no evidence of a difference
    sub = d[d["test"] == "zero"]
    ref = st.mannwhitneyu(sub.loc[sub["group"] == "a", "v"], sub.loc[sub["group"] == "b", "v"],
                          alternative="two-sided", method="asymptotic")
    assert mwu.loc["zero", "statistic"] == ref.statistic
    assert mwu.loc["zero", "p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    kw = S.kruskal_by_group(d, ["test"], "group", "v", min_group_n=1).set_index("test")
    assert kw.loc["tied", ["statistic", "p_value", "effect_size"]].tolist() == [0.0, 1.0, 0.0]
    ref = st.kruskal(sub.loc[sub["group"] == "a", "v"], sub.loc[sub["group"] == "b", "v"])
    assert kw.loc["zero", "statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert kw.loc["zero", "p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    chi = S.chi2_by_group(d, ["test"], "group", "y", min_expected=0).set_index("test")
    assert chi.loc["one", "dof"] == 0 and chi.loc["one", "groups"] == "a"
    obs = np.array([[0, 6], [6, 0]])  # the table "zero": two empty cells
    for corr in (True, False):
        chi = S.chi2_by_group(d, ["test"], "group", "y", correction=corr, min_expected=0)
        chi = chi.set_index("test")
        stat, p, dof, _ = st.chi2_contingency(obs, correction=corr)
        assert chi.loc["zero", "statistic"] == pytest.approx(stat, rel=1e-12)
        assert chi.loc["zero", "p_value"] == pytest.approx(p, rel=1e-12) and dof == 1


def test_equity_and_survey_quality_do_not_import_scipy_stats():
    import subprocess
    import sys

    code = (
        "import sys, pandas as pd\n"
        "from gm_eval.evidence import Evidence\n"
        "from gm_eval import equity, survey_quality\n"
        "mech = pd.DataFrame({'mechanism_id': ['m'], 'mechanism_type': ['ogm']})\n"
        "ws = pd.DataFrame({'mechanism_id': ['m'] * 80, 'gender': ['female', 'male'] * 40,\n"
        "                   'trust': [1, 2, 3, 4, 5] * 16, 'independent': [2, 3, 3, 4, 5] * 16,\n"
        "                   'would_use': [1, 2, 4, 4, 5] * 16,\n"
        "                   'aware': pd.array([True, False, False, True] * 20, dtype='boolean')})\n"
        "cases = pd.DataFrame({'mechanism_id': ['m'] * 60, 'gender': ['female', 'male'] * 30,\n"
        "                      'age': pd.array([16, 30, 40] * 20, dtype='Int64')})\n"
        "wf = pd.DataFrame({'mechanism_id': ['m'], 'headcount': [100], 'female': [40],\n"
        "                   'aged_15_17': [10]})\n"
        "ev = Evidence({'mechanisms': mech, 'worker_survey': ws, 'cases': cases, 'workforce': wf},\n"
        "              pd.Timestamp('2025-01-01'))\n"
        "d, t = equity.equity_tables(ev)\n"
        "q = survey_quality.survey_quality(ev)\n"
        "assert t['p_value'].notna().sum() == 4 and q['cronbach_alpha'].notna().sum() == 2\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("seed", range(3))
def test_positions_in_by_runs_equals_by_hashing(seed):
    # Arrow strings in runs (ids grouped, some runs of the same id apart, ids absent from
    # the index) are read by runs; object strings are hashed: the same positions
    rng = np.random.default_rng(seed)
    ids = [f"M{i}" for i in rng.integers(0, 30, 400)]
    values = np.repeat(ids, rng.integers(1, 60, len(ids))).tolist()
    index = pd.Index([f"M{i}" for i in rng.permutation(40)[:25]], dtype=object)
    arrow = pd.Series(values, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    from gm_eval.runs import value_runs

    assert value_runs(arrow) is not None  # the run path is taken
    by_runs = S.positions_in(arrow, index)
    by_hash = S.positions_in(pd.Series(values, dtype=object), index)
    np.testing.assert_array_equal(by_runs, by_hash)
    assert by_runs.dtype == np.int64 and (by_runs == -1).any() and (by_runs >= 0).any()
    want = np.array([index.get_loc(v) if v in index else -1 for v in values])
    np.testing.assert_array_equal(by_runs, want)
