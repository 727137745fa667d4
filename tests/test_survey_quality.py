"""Tests of gm_eval.survey_quality: hand computation, KR-20, pingouin, synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gm_eval.contract import TABLES
from gm_eval.evidence import Evidence
from gm_eval.survey_quality import SURVEY_QUALITY_COLUMNS, survey_quality

AS_OF = pd.Timestamp("2025-06-30")
MECH = pd.DataFrame({"mechanism_id": ["A", "B"], "company_id": "c", "mechanism_type": "ogm"})


def _alpha(d: pd.DataFrame) -> float:
    d = d.dropna()
    k = d.shape[1]
    return k / (k - 1) * (1 - d.var(ddof=1).sum() / d.sum(axis=1).var(ddof=1))


def test_trust_scale_by_hand_listwise():
    i = pd.array
    ws = pd.DataFrame({
        "mechanism_id": ["A"] * 6 + ["B"] * 4,
        "trust": i([1, 2, 3, 4, 5, 5, 2, 3, 4, 5], dtype="Int64"),
        "independent": i([2, 2, 3, 5, 5, None, 1, 3, 4, 4], dtype="Int64"),
        "would_use": i([1, 3, 3, 4, 4, 1, 2, 2, 5, 5], dtype="Int64"),
        "fear_retaliation": i([5, 4, 3, 2, 1, 1, 4, 4, 2, 1], dtype="Int64"),
    })
    out = survey_quality(Evidence({"mechanisms": MECH, "worker_survey": ws}, AS_OF))
    assert list(out.columns) == SURVEY_QUALITY_COLUMNS
    t = out[out["scale"] == "trust"].set_index("mechanism_id")
    # A: the respondent with 'independent' missing is dropped (listwise): the 5 left are the
    # worked example of test_stats (item variances 2.5, 2.3, 1.5; total variance 17.3)
    assert t.loc["A", "n_listwise"] == 5
    assert t.loc["A", "cronbach_alpha"] == pytest.approx(1.5 * (1 - 6.3 / 17.3))
    items = ["trust", "independent", "would_use"]
    assert t.loc["B", "cronbach_alpha"] == pytest.approx(_alpha(ws.loc[6:, items].astype(float)))
    assert t.loc["all", "n_listwise"] == 9
    assert t.loc["all", "cronbach_alpha"] == pytest.approx(_alpha(ws[items].astype(float)))
    assert "listwise" in t.loc["A", "note"] and "fewer than 30" in t.loc["A", "note"]
    assert t.loc["A", "items"] == "trust;independent;would_use"
    # the sensitivity row reverse-codes fear: 6 - fear
    f = out[out["scale"] == "trust_with_fear_reversed"].set_index("mechanism_id")
    d = ws[items].astype(float).assign(fear=6 - ws["fear_retaliation"].astype(float))
    assert f.loc["all", "cronbach_alpha"] == pytest.approx(_alpha(d))
    assert f.loc["all", "items"].endswith("6-fear_retaliation")


def test_child_scale_is_kr20():
    rng = np.random.default_rng(0)
    n = 200
    latent = rng.normal(size=n)
    ans = {}
    for j, c in enumerate(["knows_where_to_tell", "has_trusted_adult", "safe_to_tell"]):
        z = latent + rng.normal(size=n) * (1 + 0.3 * j)
        ans[c] = np.where(z > 0.5, "yes", np.where(z > -0.3, "not_sure", "no")).astype(object)
        ans[c][rng.uniform(size=n) < 0.05] = None
    cs = pd.DataFrame({"mechanism_id": "A", **ans})
    out = survey_quality(Evidence({"mechanisms": MECH, "child_survey": cs}, AS_OF))
    r = out[(out["scale"] == "child_voice") & (out["mechanism_id"] == "A")].iloc[0]
    # KR-20 = k/(k-1) * (1 - sum p_i q_i / population variance of the total), yes = 1
    x = pd.DataFrame({c: cs[c].map({"yes": 1.0, "no": 0.0, "not_sure": 0.0}) for c in ans}).dropna()
    p = x.mean()
    kr20 = 3 / 2 * (1 - (p * (1 - p)).sum() / x.sum(axis=1).var(ddof=0))
    assert r["n_listwise"] == len(x)
    assert r["cronbach_alpha"] == pytest.approx(kr20)
    assert "KR-20" in r["note"]


def test_matches_pingouin_and_synthetic_reliability():
    import pingouin as pg

    from gm_eval import synth

    tabs = synth.generate(n_mechanisms=12, seed=5)
    ws = tabs["worker_survey"][list(TABLES["worker_survey"].column_names)]
    out = survey_quality(Evidence({"mechanisms": tabs["mechanisms"], "worker_survey": ws}, AS_OF))
    t = out[out["scale"] == "trust"].set_index("mechanism_id")
    items = ["trust", "independent", "would_use"]
    for mid, sub in ws.groupby("mechanism_id"):
        a, _ = pg.cronbach_alpha(sub[items].astype(float), nan_policy="listwise")
        assert t.loc[mid, "cronbach_alpha"] == pytest.approx(a)
    # docs/synthetic-data.md: the three trust items load 0.75 on one factor, alpha about 0.75-0.8
    assert 0.7 < t.loc["all", "cronbach_alpha"] < 0.85
    assert t.loc["all", "ci_low"] < t.loc["all", "cronbach_alpha"] < t.loc["all", "ci_high"]
    # fear loads negatively on trust: reverse-coding it keeps alpha in the same range or lower
    f = out[out["scale"] == "trust_with_fear_reversed"].set_index("mechanism_id")
    assert f.loc["all", "cronbach_alpha"] <= t.loc["all", "cronbach_alpha"] + 0.02


def test_no_surveys_gives_empty_table():
    out = survey_quality(Evidence({"mechanisms": MECH}, AS_OF))
    assert out.empty and list(out.columns) == SURVEY_QUALITY_COLUMNS
