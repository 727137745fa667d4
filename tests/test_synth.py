"""Tests of gm_eval.synth: contract conformance, realism, planted effects, decoys, writing."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from gm_eval import synth
from gm_eval.contract import TABLE_ORDER, TABLES
from gm_eval.errors import InputError

AS_OF = pd.Timestamp("2025-06-30")
WORKPLACE = ("ogm", "supply_chain", "multi_stakeholder")


@pytest.fixture(scope="module")
def tables():
    return synth.generate()


@pytest.fixture(scope="module", params=[dict(seed=2024), dict(seed=7, n_mechanisms=40)],
                ids=["default", "seed7-40mech"])
def planted_tables(request):
    return synth.generate(**request.param)


def small(seed=1, **kw):
    args = dict(n_mechanisms=12, n_cases=300, seed=seed, n_worker_survey=200, n_child_survey=60,
                n_clms_children=40)
    args.update(kw)
    return synth.generate(**args)


# ---------------------------------------------------------------- helpers (independent)
def km_median(days: np.ndarray, event: np.ndarray) -> float:
    """Kaplan-Meier median by hand: the first time S(t) <= 0.5 (NaN if never)."""
    s = 1.0
    for t in np.unique(days[event]):
        at_risk = np.sum(days >= t)
        s *= 1 - np.sum((days == t) & event) / at_risk
        if s <= 0.5:
            return float(t)
    return float("nan")


def km_medians(cases: pd.DataFrame, as_of=AS_OF) -> pd.Series:
    end = cases["closed_at"].fillna(as_of)
    days = (end - cases["received_at"]).dt.days.to_numpy()
    event = cases["closed_at"].notna().to_numpy()
    mech = cases["mechanism_id"].to_numpy()
    return pd.Series({m: km_median(days[mech == m], event[mech == m]) for m in np.unique(mech)})


def cronbach_alpha(items: pd.DataFrame) -> float:
    x = items.dropna().astype(float).to_numpy()
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def young_ratio(t) -> pd.Series:
    c, wf = t["cases"], t["workforce"]
    known = c[c["age"].notna()]
    share = known.assign(y=known["age"].between(15, 17)).groupby("mechanism_id")["y"].mean()
    w = wf.groupby("mechanism_id")[["aged_15_17", "headcount"]].sum()
    return (share / (w["aged_15_17"] / w["headcount"])).dropna().astype(float)


def rate(df: pd.DataFrame, flag: pd.Series) -> pd.Series:
    return flag.groupby(df["mechanism_id"]).mean().astype(float)


# ---------------------------------------------------------------- determinism
def test_same_seed_same_frames_different_seed_differs():
    a, b, c = small(seed=11), small(seed=11), small(seed=12)
    assert list(a) == list(TABLE_ORDER)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["cases"].equals(c["cases"])
    assert not a["worker_survey"].equals(c["worker_survey"])


def test_table_sizes_use_independent_streams():
    a = small(seed=3)
    b = small(seed=3, n_worker_survey=500)
    pd.testing.assert_frame_equal(a["cases"], b["cases"])
    assert len(b["worker_survey"]) == 500


def test_sizes_and_defaults(tables):
    assert len(tables["mechanisms"]) == 16
    assert len(tables["cases"]) == 16 * synth.CASES_PER_MECHANISM
    m = tables["mechanisms"]
    n_workplace = m["mechanism_type"].isin(WORKPLACE).sum()
    assert len(tables["worker_survey"]) == 100 * n_workplace
    assert len(tables["clms_children"]) == 250 * (m["mechanism_type"] == "clms").sum()
    t = small(n_cases=0, n_worker_survey=0, n_child_survey=0, n_clms_children=0)
    for name in ("cases", "worker_survey", "child_survey", "clms_children", "clms_followups"):
        assert len(t[name]) == 0
        assert set(TABLES[name].column_names) <= set(t[name].columns)


def test_bad_arguments_raise_input_error():
    with pytest.raises(InputError, match="at least 12"):
        synth.generate(n_mechanisms=11)
    with pytest.raises(InputError, match="as_of"):
        synth.generate(as_of="30/06/2025x")
    with pytest.raises(InputError, match="n_cases"):
        synth.generate(n_cases=-1)
    with pytest.raises(InputError, match="seed"):
        synth.generate(seed=-3)


# ---------------------------------------------------------------- contract
@pytest.mark.parametrize("name", TABLE_ORDER)
def test_tables_follow_the_contract(tables, name):
    df = tables[name]
    spec = TABLES[name]
    assert len(df) > 0
    missing = set(spec.column_names) - set(df.columns)
    assert not missing, f"{name} lacks {missing}"
    for col in spec.columns:
        s = df[col.name]
        present = s.dropna()
        if not col.nullable:
            assert s.notna().all(), f"{name}.{col.name} has blanks"
        if col.kind == "enum":
            bad = set(present) - set(col.values)
            assert not bad, f"{name}.{col.name}: {bad}"
        elif col.kind in ("int", "likert"):
            assert pd.api.types.is_integer_dtype(s), f"{name}.{col.name} is {s.dtype}"
            if col.min is not None:
                assert present.min() >= col.min, f"{name}.{col.name} below {col.min}"
            if col.max is not None:
                assert present.max() <= col.max, f"{name}.{col.name} above {col.max}"
        elif col.kind == "bool":
            assert pd.api.types.is_bool_dtype(s), f"{name}.{col.name} is {s.dtype}"
        elif col.kind == "date":
            assert pd.api.types.is_datetime64_any_dtype(s)
            assert present.max() <= AS_OF, f"{name}.{col.name} after as_of"
        if col.pattern:
            assert present.astype(str).str.match(col.pattern).all(), f"{name}.{col.name} pattern"
    if spec.key:
        assert not df.duplicated(list(spec.key)).any(), f"{name} key not unique"
    for early, late in spec.date_order:
        both = df[early].notna() & df[late].notna()
        assert (df.loc[both, late] >= df.loc[both, early]).all(), f"{name}: {late} < {early}"


def test_ids_link_tables(tables):
    ids = set(tables["mechanisms"]["mechanism_id"])
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", i) for i in ids)
    for name in TABLE_ORDER[1:]:
        assert set(tables[name]["mechanism_id"]) <= ids, name
    ch = tables["clms_children"]
    fu = tables["clms_followups"]
    pairs = set(zip(ch["mechanism_id"], ch["child_id"], strict=True))
    assert set(zip(fu["mechanism_id"], fu["child_id"], strict=True)) <= pairs
    sites = set(tables["workforce"]["site_id"])
    c = tables["cases"]
    wp = c["mechanism_id"].isin(tables["workforce"]["mechanism_id"]) & c["site_id"].notna()
    assert set(c.loc[wp, "site_id"]) <= sites


def test_case_status_and_dates(tables):
    c = tables["cases"]
    settled = c["status"].isin(["closed", "withdrawn", "ineligible"])
    assert (c["closed_at"].notna() == settled).all()
    assert (c["status"] == "open").mean() > 0.03  # censoring matters
    assert c["received_at"].min() >= AS_OF - pd.Timedelta(days=3 * 365)
    assert c["outcome"].notna().sum() > 0
    assert c.loc[c["status"] == "open", "outcome"].isna().all()
    # hotlines: assessed (and sometimes removed) only there
    hot = c["mechanism_id"].isin(tables["mechanisms"].query("mechanism_type == 'hotline'")["mechanism_id"])
    assert c.loc[hot, "assessed_at"].notna().mean() > 0.9
    assert c.loc[~hot, "assessed_at"].isna().all()
    assert c.loc[hot, "removed_at"].notna().any()
    assert (c["remedy_due_at"].notna() & c["remedy_completed_at"].notna()).any()


def test_as_of_moves_every_date():
    t = small(as_of="2024-01-15")
    day = pd.Timestamp("2024-01-15")
    for name in TABLE_ORDER:
        for col in TABLES[name].columns_of_kind("date"):
            if t[name][col].notna().any():
                assert t[name][col].max() <= day
    assert t["cases"]["received_at"].max() > day - pd.Timedelta(days=30)


# ---------------------------------------------------------------- realism
def test_mechanism_mix(tables):
    m = tables["mechanisms"]
    assert len(m) >= 12
    assert m["sector"].nunique() >= 4
    assert set(m["mechanism_type"]) == {"ogm", "supply_chain", "multi_stakeholder", "clms", "hotline"}
    per_company = m.groupby("company_id")["mechanism_type"].agg(set)
    assert any({"ogm", "supply_chain"} <= s for s in per_company)  # site OGMs plus a supplier helpline
    assert m["target_ack_days"].isna().any() and m["target_ack_days"].notna().sum() >= 10
    assert m["target_close_days"].isna().any()


def test_extra_mechanisms_are_drawn():
    t = synth.generate(n_mechanisms=60, n_cases=3000, seed=5)
    m = t["mechanisms"]
    assert m["mechanism_id"].is_unique and len(m) == 60
    assert m["company_id"].value_counts().max() >= 2
    assert set(m["mechanism_type"]) == {"ogm", "supply_chain", "multi_stakeholder", "clms", "hotline"}


def test_case_content_is_realistic(tables):
    c = tables["cases"]
    m = tables["mechanisms"].set_index("mechanism_id")
    c = c.assign(sector=c["mechanism_id"].map(m["sector"]), type=c["mechanism_id"].map(m["mechanism_type"]))
    children = c[(c["age"] < 18) & (c["complainant_type"] == "child")]
    assert len(children) >= 30
    assert 0.1 < c["anonymous"].mean() < 0.5
    assert c["satisfaction"].notna().sum() > 100
    for col in ("advice_provided", "resolved_by_dialogue", "appealed", "retaliation_reported",
                "root_cause_recorded", "complainant_informed"):
        assert c[col].any() and (~c[col].fillna(True)).any(), col
    top = c.groupby("type")["category"].agg(lambda s: s.value_counts().index[0])
    assert top["clms"] == "child_labour"
    assert top["hotline"] == "sexual_exploitation_abuse"
    share = pd.crosstab(c["sector"], c["category"], normalize="index")
    assert share.loc["seafood", "forced_labour"] == share["forced_labour"].max()
    for s in ("garments", "electronics"):
        assert share.loc[s, ["wages_benefits", "working_hours"]].sum() > 0.35
    wp = c[c["type"] == "ogm"]
    assert share.loc["agriculture", "child_labour"] > 2 * share.loc["garments", "child_labour"]
    assert wp["site_id"].notna().mean() > 0.9


def test_seasonality():
    t = synth.generate(seed=3, n_cases=8000)
    c = t["cases"]
    sector = c["mechanism_id"].map(t["mechanisms"].set_index("mechanism_id")["sector"])
    month = c["received_at"].dt.month
    agri = month[sector == "agriculture"]
    assert agri.isin([10, 11, 12]).sum() > 1.7 * agri.isin([4, 5, 6]).sum()  # harvest peak
    garm = month[sector == "garments"]
    assert garm.isin([8, 9]).sum() > 1.5 * garm.isin([1, 2]).sum()  # peak season


def test_worker_survey(tables):
    ws = tables["worker_survey"]
    m = tables["mechanisms"].set_index("mechanism_id")
    assert set(ws["mechanism_id"].map(m["mechanism_type"])) <= set(WORKPLACE)
    assert ws["age"].min() >= 14 and ws["age"].between(15, 17).any()
    assert (ws["informed_outcome"].isna() | ws["used"]).all()
    assert (ws["satisfied"].isna() | ws["used"]).all()
    assert ws.loc[ws["used"], "satisfied"].notna().all()
    items = ["trust", "independent", "would_use"]
    alpha = cronbach_alpha(ws[items])
    assert 0.7 <= alpha <= 0.85
    pg = pytest.importorskip("pingouin")
    ref = pg.cronbach_alpha(data=ws[items].dropna().astype(float))[0]
    assert alpha == pytest.approx(ref, abs=1e-9)
    per_mech = ws.groupby("mechanism_id")[items].apply(cronbach_alpha)
    assert 0.6 <= per_mech.median() <= 0.85
    # fear of retaliation goes against trust
    assert ws["fear_retaliation"].astype(float).corr(ws["trust"].astype(float)) < -0.1


def test_child_survey(tables):
    cs = tables["child_survey"]
    assert cs["age"].between(8, 17).all()
    assert (cs["listened_to"].isna() == cs["told_what_happened"].isna()).all()
    assert 0.4 < cs["listened_to"].isna().mean() < 0.9
    assert set(cs["knows_where_to_tell"]) == {"yes", "no", "not_sure"}


def test_clms_followups(tables):
    ch, fu = tables["clms_children"], tables["clms_followups"]
    assert ch["age"].between(5, 17).all()
    merged = fu.merge(ch[["mechanism_id", "child_id", "identified_at"]], on=["mechanism_id", "child_id"])
    offset = (merged["visit_date"] - merged["identified_at"]).dt.days
    assert offset.min() > 60
    first = merged.assign(o=offset).groupby("child_id")["o"].min()
    assert first.between(77, 105).mean() > 0.9  # first visit at about 3 months
    for target in (182, 365):
        assert ((offset - target).abs() <= 14).any()
    followed = set(fu["child_id"])
    assert (~ch["child_id"].isin(followed)).sum() > 0  # some never followed up
    latest = fu.sort_values("visit_date").groupby("child_id").tail(1)
    assert 0.02 < latest["in_child_labour"].mean() < 0.6  # some still in child labour
    assert ch["remediation_started_at"].notna().mean() > 0.5
    types = ch["remediation_types"].dropna().str.split(";").explode()
    assert set(types) <= set(synth._clms.REMEDIATION_TYPES)
    assert (ch["remediation_types"].notna() == ch["remediation_started_at"].notna()).all()


def test_self_assessment(tables):
    sa = tables["self_assessment"]
    cat = synth.question_catalogue()["question_id"]
    assert set(sa["question_id"]) <= set(cat)
    assert sa["question_id"].nunique() == len(cat)
    assert sa["mechanism_id"].nunique() >= 0.7 * len(tables["mechanisms"])
    assert set(sa["answer"]) == {"yes", "partly", "no", "not_applicable"}
    assert 0.1 < sa["evidence"].notna().mean() < 0.8


# ---------------------------------------------------------------- planted effects
def test_planted_effect_ids_are_documented():
    assert set(synth.PLANTED) >= {"young_workers_underrepresented", "fear_of_retaliation",
                                  "slow_to_close", "exemplary"}
    assert set(synth.PLANTED_DESCRIPTIONS) == set(synth.PLANTED)
    assert len(set(synth.PLANTED.values())) == len(synth.PLANTED)  # one mechanism per effect
    doc = (pytest.importorskip("pathlib").Path(__file__).parents[1] / "docs" / "synthetic-data.md")
    text = doc.read_text(encoding="utf-8")
    for effect, mid in synth.PLANTED.items():
        assert effect in text and mid in text


def test_planted_young_workers_underrepresented(planted_tables):
    ratio = young_ratio(planted_tables)
    mid = synth.PLANTED["young_workers_underrepresented"]
    assert ratio.idxmin() == mid
    assert ratio[mid] < 0.2
    others = ratio.drop(mid)
    assert others.min() > 0.5 and 0.8 < others.median() < 1.2
    wf = planted_tables["workforce"].groupby("mechanism_id")[["aged_15_17", "headcount"]].sum()
    assert (wf["aged_15_17"] / wf["headcount"])[mid] > 0.15  # plenty of 15-17s in its workforce


def test_planted_fear_of_retaliation(planted_tables):
    ws = planted_tables["worker_survey"]
    fear = rate(ws, ws["fear_retaliation"] >= 4)
    mid = synth.PLANTED["fear_of_retaliation"]
    assert fear.idxmax() == mid
    assert fear[mid] > 0.55
    assert fear.drop(mid).max() < 0.5 and 0.15 < fear.drop(mid).median() < 0.35


def test_planted_slow_to_close(planted_tables):
    med = km_medians(planted_tables["cases"])
    mid = synth.PLANTED["slow_to_close"]
    target = planted_tables["mechanisms"].set_index("mechanism_id").loc[mid, "target_close_days"]
    assert med.idxmax() == mid
    assert med[mid] > 4 * target
    assert med[mid] > 2 * med.drop(mid).max()


def test_planted_exemplary(planted_tables):
    t = planted_tables
    mid = synth.PLANTED["exemplary"]
    ws, c, m = t["worker_survey"], t["cases"], t["mechanisms"].set_index("mechanism_id")
    assert rate(ws, ws["aware"]).idxmax() == mid
    assert rate(ws, ws["trust"] >= 4).idxmax() == mid
    tack = c["mechanism_id"].map(m["target_ack_days"].fillna(7)).astype(float)
    due = (AS_OF - c["received_at"]).dt.days >= tack
    acked = (c["acknowledged_at"] - c["received_at"]).dt.days <= tack
    ack_rate = rate(c[due], acked[due].fillna(False))
    assert ack_rate[mid] >= 0.95
    med = km_medians(c)
    workplace = m.index[m["mechanism_type"].isin(WORKPLACE)]
    assert med[workplace].idxmin() == mid and med[mid] <= m.loc[mid, "target_close_days"]
    closed = c[(c["status"] == "closed") & ~c["anonymous"]]
    told = closed.dropna(subset=["complainant_informed"])
    informed = rate(told, told["complainant_informed"].astype(bool))
    big = closed["mechanism_id"].value_counts().loc[lambda s: s >= 50].index
    assert informed[mid] >= 0.9 and informed[big].idxmax() == mid
    child = c[(c["age"] < 18) & c["category"].isin(["child_labour", "sexual_exploitation_abuse"])]
    ref = rate(child, child["referred_to"].isin(["child_protection", "law_enforcement", "social_services"]))
    assert ref[mid] >= 0.75 and ref[mid] > ref.median()
    sa = t["self_assessment"]
    assert rate(sa, sa["answer"] == "yes").idxmax() == mid


def test_planted_equity_gap(planted_tables):
    c = planted_tables["cases"]
    closed = c[(c["status"] == "closed") & c["gender"].isin(["female", "male"])]
    remedied = closed["outcome"].isin(["remedied", "partially_remedied"])
    by = remedied.groupby([closed["mechanism_id"], closed["gender"]]).mean().unstack()
    n = closed.groupby(["mechanism_id", "gender"]).size().unstack()
    by = by[(n >= 15).all(axis=1)]
    gap = by["male"] - by["female"]
    mid = synth.PLANTED["equity_gap_women_remedied_less"]
    assert gap.idxmax() == mid
    assert by.loc[mid, "female"] < 0.6 * by.loc[mid, "male"]


# ---------------------------------------------------------------- decoys
def test_decoys_present(tables):
    assert "DECOY" in synth.DECOY_MARKERS
    for name, cols in synth.DECOY_COLUMNS.items():
        for col in cols:
            s = tables[name][col].dropna()
            assert len(s) > 0, f"{name}.{col}"
            assert s.str.contains("DECOY", regex=False).all(), f"{name}.{col}"
    c = tables["cases"]
    assert c["phone"].dropna().str.startswith("+66-DECOY-").all()
    assert c["description"].dropna().str.contains("DECOYTEXT").all()
    assert c["complainant_name"].dropna().str.contains("DECOYNAME").any()
    assert c["complainant_name"].dropna().str.contains("DECOY-Name-").any()
    assert (~c["complainant_name"].dropna().map(str.isascii)).any()  # UTF-8 names too
    # decoys never in contract columns
    for name in TABLE_ORDER:
        df = tables[name][list(TABLES[name].column_names)]
        text = df.select_dtypes(include=["object", "string", "str"])
        if name != "self_assessment":
            assert not text.apply(lambda s: s.astype(str).str.contains("DECOY")).any().any(), name


# ---------------------------------------------------------------- writing
def _text(s: pd.Series, as_bool: bool = False) -> pd.Series:
    """A column as comparable text: ISO dates, True/False, integers without .0, blank for missing.

    ``as_bool`` reads 1/0 as True/False (pandas reads Excel boolean cells next
    to blanks as 1.0/0.0).
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d").fillna("")

    def one(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        if isinstance(v, bool | np.bool_) or (as_bool and not isinstance(v, str)):
            return str(bool(v))
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        if isinstance(v, pd.Timestamp):
            return v.strftime("%Y-%m-%d")
        return str(v)

    return s.astype(object).map(one)


@pytest.fixture(scope="module")
def tiny():
    return synth.generate(n_mechanisms=12, n_cases=120, seed=9, n_worker_survey=60,
                          n_child_survey=24, n_clms_children=12)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_write_round_trip(tiny, tmp_path, fmt):
    out = tmp_path / "data"
    paths = synth.write_data_dir(tiny, out, fmt=fmt)
    assert [p.name for p in paths] == [f"{n}.{fmt}" for n in TABLE_ORDER]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no temporary directory left
    for name in TABLE_ORDER:
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        elif fmt == "xlsx":
            back = pd.read_excel(path, engine="openpyxl")
        else:
            back = pd.read_parquet(path)
        want = tiny[name]
        assert list(back.columns) == list(want.columns), name
        assert len(back) == len(want), name
        for col in want.columns:
            as_bool = pd.api.types.is_bool_dtype(want[col])
            assert _text(back[col], as_bool).tolist() == _text(want[col]).tolist(), f"{fmt} {name}.{col}"
        if fmt == "parquet":
            pd.testing.assert_frame_equal(back, want, check_dtype=False)


def test_csv_dates_are_iso(tiny, tmp_path):
    synth.write_data_dir(tiny, tmp_path / "d")
    head = (tmp_path / "d" / "cases.csv").read_text(encoding="utf-8").splitlines()[1]
    assert re.search(r",\d{4}-\d{2}-\d{2},", head)
    text = (tmp_path / "d" / "cases.csv").read_text(encoding="utf-8")  # fails unless UTF-8
    assert "00:00:00" not in text
    assert not text.isascii()


def test_write_refuses_non_empty_and_overwrites(tiny, tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        synth.write_data_dir(tiny, out)
    synth.write_data_dir(tiny, out, fmt="parquet", overwrite=True)
    synth.write_data_dir(tiny, out, fmt="csv", overwrite=True)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{n}.csv" for n in TABLE_ORDER] + ["notes.txt"])  # no parquet twins
    empty = tmp_path / "empty"
    empty.mkdir()
    synth.write_data_dir(tiny, empty)
    assert len(list(empty.iterdir())) == len(TABLE_ORDER)
    with pytest.raises(InputError, match="format"):
        synth.write_data_dir(tiny, tmp_path / "x", fmt="json")
    with pytest.raises(InputError, match="not tables"):
        synth.write_data_dir({"../evil": tiny["cases"]}, tmp_path / "y")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="not a directory"):
        synth.write_data_dir(tiny, tmp_path / "file", overwrite=True)


def test_failed_write_leaves_nothing(tiny, tmp_path, monkeypatch):
    import gm_eval.synth as mod

    calls = []
    real = mod._write_one

    def flaky(df, path, fmt, bar=None):
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError("disk full")
        real(df, path, fmt, bar)

    monkeypatch.setattr(mod, "_write_one", flaky)
    with pytest.raises(OSError, match="disk full"):
        synth.write_data_dir(tiny, tmp_path / "new")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old"
    monkeypatch.setattr(mod, "_write_one", real)
    synth.write_data_dir(tiny, old)
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    calls.clear()
    monkeypatch.setattr(mod, "_write_one", flaky)
    with pytest.raises(OSError):
        synth.write_data_dir(synth.generate(n_mechanisms=12, n_cases=50, seed=99), old, overwrite=True)
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_written_csv_passes_validator(tables, tmp_path):
    validate = pytest.importorskip("gm_eval.validate")
    synth.write_data_dir(tables, tmp_path / "d")
    report = validate.check_data_dir(tmp_path / "d")
    assert report.ok, report.format()


def test_cli_synth(tmp_path, capsys):
    from gm_eval.cli import main

    out = tmp_path / "cli"
    assert main(["synth", "--out", str(out), "--mechanisms", "12", "--cases", "200", "--seed", "4"]) == 0
    assert "wrote 8 tables" in capsys.readouterr().out
    cases = pd.read_csv(out / "cases.csv")
    assert len(cases) == 200
    assert main(["synth", "--out", str(out), "--mechanisms", "12"]) == 2  # not empty, no --force
    assert main(["synth", "--out", str(tmp_path / "few"), "--mechanisms", "3"]) == 2


def test_progress_bar_goes_to_stderr(capsys):
    small(progress=True)
    err = capsys.readouterr().err
    assert "gm-eval synth" in err
    small()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("seed", [0, 31, 2**31 + 5])
def test_invariants_hold_for_other_seeds_and_dates(seed):
    as_of = pd.Timestamp("2023-02-28")
    t = small(seed=seed, n_cases=400, as_of=as_of)
    c = t["cases"]
    assert (c["closed_at"].notna() == c["status"].isin(["closed", "withdrawn", "ineligible"])).all()
    for name in TABLE_ORDER:
        spec = TABLES[name]
        df = t[name]
        for col in spec.columns_of_kind("date"):
            assert not (df[col] > as_of).any(), f"{name}.{col}"
        for early, late in spec.date_order:
            assert not (df[late] < df[early]).any(), f"{name}: {late} < {early}"
        if spec.key and len(df):
            assert not df.duplicated(list(spec.key)).any(), name
    assert c["age"].dropna().between(5, 100).all()
    assert t["worker_survey"]["age"].dropna().min() >= 14


@pytest.mark.slow
def test_scoring_recovers_planted_effects(tables, tmp_path):
    """End to end: the toolkit's own indicators find what was planted."""
    pipeline = pytest.importorskip("gm_eval.pipeline")
    import gm_eval

    synth.write_data_dir(tables, tmp_path / "d")
    res = pipeline.score(gm_eval.load(tmp_path / "d", as_of="2025-06-30"))
    ind = res["indicators"].pivot(index="mechanism_id", columns="indicator_id", values="value")
    ind = ind.astype(float)
    p = synth.PLANTED
    young = ind["accessible.young_worker_representation_ratio"].dropna()
    assert young.idxmin() == p["young_workers_underrepresented"] and young.min() < 0.2
    fear = ind["accessible.fear_of_retaliation_rate"].dropna()
    assert fear.idxmax() == p["fear_of_retaliation"]
    close = ind["predictable.median_days_to_close"].dropna()
    assert close.idxmax() == p["slow_to_close"] and close.max() > 4 * 30
    overall = res["scores"].query("criterion == 'overall'").set_index("mechanism_id")["score"]
    assert overall.astype(float).idxmax() == p["exemplary"]
    eq = res["equity_tests"]
    gap = eq[(eq["indicator_id"] == "rights_compatible.remedy_rate") & (eq["dimension"] == "gender")]
    gap = gap.set_index("mechanism_id")
    assert bool(gap.loc[p["equity_gap_women_remedied_less"], "significant"])


def test_chunked_csv_equals_one_shot(tiny, tmp_path, monkeypatch):
    import gm_eval.synth as mod

    monkeypatch.setattr(mod, "_CSV_CHUNK", 7)
    synth.write_data_dir(tiny, tmp_path / "d", progress=True)
    for name in ("cases", "self_assessment", "clms_children"):
        want = tiny[name].to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n")
        got = (tmp_path / "d" / f"{name}.csv").read_text(encoding="utf-8")
        assert got.replace("\r\n", "\n") == want
