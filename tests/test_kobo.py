"""KoboToolbox / ODK import: exports built from the forms themselves, imported, compared."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gm_eval.errors import InputError
from gm_eval.kobo import LABEL_EXPORT_MESSAGE, import_export, read_export
from gm_eval.surveys import form_items, read_form

FIXTURES = "tests/fixtures/kobo"  # written under tmp_path; the layout mirrors a committed folder
EXTRA_CHOICES = ("hotline", "suggestion_box", "in_person")


# ----------------------------------------------------------------------------- fixtures
def canonical_answers(form: str, n: int, seed: int) -> pd.DataFrame:
    """Answers as a respondent gave them, in canonical form (what the import must produce).

    Includes non-consenting respondents (``_consented`` False), "don't know" answers
    and the skip logic of the form.
    """
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"_consented": rng.random(n) > 0.1})
    if form == "worker_survey":
        df["age"] = rng.integers(15, 65, n)
        df["gender"] = rng.choice(["female", "male", "other", "unknown"], n, p=[.5, .4, .05, .05])
        df["migrant"] = rng.choice(["yes", "no", "prefer_not_to_say"], n, p=[.3, .6, .1])
        df["aware"] = rng.choice(["yes", "no"], n, p=[.7, .3])
        df["knows_how"] = np.where(df["aware"] == "yes", rng.choice(["yes", "no"], n), "")
        for item in ("trust", "independent", "fear_retaliation", "would_use"):
            df[item] = rng.choice(["1", "2", "3", "4", "5", "dont_know"], n,
                                  p=[.1, .15, .2, .3, .2, .05])
        df["used"] = rng.choice(["yes", "no"], n, p=[.3, .7])
        used = df["used"] == "yes"
        df["informed_outcome"] = np.where(used, rng.choice(["yes", "no"], n), "")
        df["satisfied"] = np.where(used, rng.choice(["1", "2", "3", "4", "5"], n), "")
        df["consulted"] = rng.choice(["yes", "no"], n, p=[.2, .8])
    else:
        df["age"] = rng.integers(8, 18, n)
        df["gender"] = rng.choice(["female", "male", "other", "unknown"], n, p=[.48, .48, .02, .02])
        df["in_school"] = rng.choice(["yes", "no"], n)
        df["working"] = rng.choice(["yes", "no"], n)
        ynns = ["yes", "no", "not_sure"]
        for item in ("knows_where_to_tell", "has_trusted_adult", "safe_to_tell", "ever_told"):
            df[item] = rng.choice(ynns, n, p=[.5, .3, .2])
        told = df["ever_told"] == "yes"
        df["listened_to"] = np.where(told, rng.choice(ynns, n), "")
        df["told_what_happened"] = np.where(told, rng.choice(ynns, n), "")
    df["_id"] = np.arange(1000, 1000 + n) * 7 + seed
    # submission times in UTC, some late in the evening (date must not shift)
    base = pd.Timestamp("2025-03-01T06:00:00")
    df["_submission_time"] = base + pd.to_timedelta(rng.integers(0, 20 * 24 * 60, n), unit="min")
    return df


def kobo_export(form: str, answers: pd.DataFrame, *, labels: bool = False,
                extra: bool = True) -> pd.DataFrame:
    """Write canonical answers the way KoboToolbox exports them ("XML values and headers").

    Headers are built from the form's own survey sheet (group paths). A deployer-added
    select_multiple question and two personal-data columns are included when ``extra``.
    """
    sheets = read_form(form)
    items = form_items(sheets["survey"])
    n = len(answers)
    consented = answers["_consented"].to_numpy()
    cols: dict[str, object] = {
        "start": "2025-03-01T08:00:00.000+07:00",
        "end": "2025-03-01T08:10:00.000+07:00",
    }
    for rec in items.itertuples():
        if rec.name in ("consent", "parental_consent", "assent"):
            cols[rec.path] = np.where(consented, "yes", "no")
        else:
            cols[rec.path] = np.where(consented, answers[rec.name].astype(str), "")
    if extra:
        rng = np.random.default_rng(1)
        picks = [rng.choice(EXTRA_CHOICES, size=rng.integers(0, 3), replace=False) for _ in range(n)]
        cols["awareness/channels_known"] = [" ".join(p) for p in picks]
        for ch in EXTRA_CHOICES:  # 1/0 per choice, blank when unanswered
            cols[f"awareness/channels_known/{ch}"] = [
                ("1" if ch in p else "0") if len(p) else "" for p in picks]
        cols["respondent_name"] = [f"DECOY-Name-{i}" for i in range(n)]
        cols["experience/comments"] = ["DECOYTEXT free text, with; separators"] * n
    cols["__version__"] = "vABC123"
    cols["meta/instanceID"] = [f"uuid:inst-{i}" for i in range(n)]
    cols["meta/rootUuid"] = [f"uuid:root-{i}" for i in range(n)]
    cols["_id"] = answers["_id"].astype(str).to_numpy()
    cols["_uuid"] = [f"inst-{i}" for i in range(n)]
    cols["_submission_time"] = answers["_submission_time"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    cols["_validation_status"] = ""
    cols["_notes"] = ""
    cols["_status"] = "submitted_via_web"
    cols["_submitted_by"] = "enumerator_DECOY"
    cols["_tags"] = ""
    cols["_index"] = np.arange(1, n + 1)
    df = pd.DataFrame({k: (v if np.ndim(v) else [v] * n) for k, v in cols.items()})
    if labels:
        df = to_label_export(form, df)
    return df


def to_label_export(form: str, df: pd.DataFrame) -> pd.DataFrame:
    """The same export with "Labels" chosen: label headers and label values."""
    sheets = read_form(form)
    items = form_items(sheets["survey"])
    ch = sheets["choices"]
    out = df.copy()
    for rec in items.itertuples():
        if rec.list_name:
            lab = ch[ch["list_name"] == rec.list_name].set_index("name")["label::English (en)"]
            out[rec.path] = out[rec.path].map(lambda v, lab=lab: lab.get(v, v))
    return out.rename(columns=dict(zip(items["path"], items["label"], strict=True)))


def expected_table(form: str, answers: pd.DataFrame, mechanism_id: str) -> pd.DataFrame:
    """The contract table computed directly from the answers, independently of the importer."""
    a = answers[answers["_consented"]].reset_index(drop=True)
    out = pd.DataFrame({
        "respondent_id": a["_id"].astype(str),
        "mechanism_id": mechanism_id,
        "survey_date": a["_submission_time"].dt.strftime("%Y-%m-%d"),
        "age": a["age"].astype("Int64"),
        "gender": a["gender"],
    })
    yn = {"yes": True, "no": False}
    if form == "worker_survey":
        out["migrant"] = a["migrant"].map(yn).astype("boolean")
        out["aware"] = a["aware"].map(yn).astype("boolean")
        # not asked when unaware: the worker does not know how to use it
        out["knows_how"] = a["knows_how"].map(yn).where(a["aware"] == "yes", False).astype("boolean")
        for item in ("trust", "independent", "fear_retaliation", "would_use"):
            out[item] = pd.to_numeric(a[item], errors="coerce").astype("Int64")
        out["used"] = a["used"].map(yn).astype("boolean")
        out["informed_outcome"] = a["informed_outcome"].map(yn).astype("boolean")
        out["satisfied"] = pd.to_numeric(a["satisfied"], errors="coerce").astype("Int64")
        out["consulted"] = a["consulted"].map(yn).astype("boolean")
    else:
        out["in_school"] = a["in_school"].map(yn).astype("boolean")
        out["working"] = a["working"].map(yn).astype("boolean")
        for item in ("knows_where_to_tell", "has_trusted_adult", "safe_to_tell", "listened_to",
                     "told_what_happened"):
            out[item] = a[item].replace("", pd.NA)
    return out


def write_export(df: pd.DataFrame, path, fmt: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False, sep=";" if fmt == "csv;" else ",")
    return path


def _norm(df: pd.DataFrame) -> pd.DataFrame:
    """Compare as text: dtype details are not what this test is about."""
    return df.astype("object").where(df.notna(), None).astype(str)


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("form", ["worker_survey", "child_survey"])
@pytest.mark.parametrize("fmt", ["csv;", "csv,", "xlsx"])
def test_import_reproduces_answers(tmp_path, form, fmt):
    answers = canonical_answers(form, 60, seed=3)
    suffix = "xlsx" if fmt == "xlsx" else "csv"
    export = write_export(kobo_export(form, answers), tmp_path / FIXTURES / f"{form}.{suffix}", fmt)
    res = read_export(export, form, mechanism_id="acme_ogm")
    exp = expected_table(form, answers, "acme_ogm")
    assert res.submissions == 60
    assert res.without_consent == int((~answers["_consented"]).sum()) > 0
    assert list(res.table.columns) == list(exp.columns)
    pd.testing.assert_frame_equal(_norm(res.table), _norm(exp))


def test_extra_columns_never_reach_output(tmp_path):
    answers = canonical_answers("worker_survey", 30, seed=5)
    export = write_export(kobo_export("worker_survey", answers), tmp_path / "w.csv", "csv;")
    path = import_export(export, "worker_survey", tmp_path / "data", mechanism_id="m1")
    text = path.read_text(encoding="utf-8")
    assert "DECOY" not in text and "hotline" not in text and "uuid" not in text
    res = read_export(export, "worker_survey", mechanism_id="m1")
    assert "awareness/channels_known/hotline" in res.dropped_columns
    assert "_uuid" in res.dropped_columns and "respondent_name" in res.dropped_columns


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    """trust_rate and awareness_rate per mechanism, by the contract definitions."""
    g = df.assign(t=(df["trust"] >= 4).astype("float").where(df["trust"].notna()),
                  a=df["aware"].astype("float"))
    return g.groupby("mechanism_id")[["t", "a"]].mean()


def test_round_trip_indicators_two_mechanisms(tmp_path):
    """Two exports (one per mechanism) appended into one data dir; rates match the answers."""
    data = tmp_path / "data"
    direct = []
    for mech, seed in (("garment_a", 11), ("seafood_b", 12)):
        answers = canonical_answers("worker_survey", 80, seed=seed)
        export = write_export(kobo_export("worker_survey", answers), tmp_path / f"{mech}.xlsx", "xlsx")
        import_export(export, "worker_survey", data, mechanism_id=mech, mode="append")
        a = answers[answers["_consented"]]
        # computed straight from the raw answers, no recoding helper shared with the importer
        trust = pd.to_numeric(a["trust"], errors="coerce")
        direct.append({"mechanism_id": mech,
                       "t": float((trust.dropna() >= 4).mean()),
                       "a": float((a["aware"] == "yes").mean())})
    imported = pd.read_csv(data / "worker_survey.csv")
    assert imported.groupby("mechanism_id").size().to_dict() == {
        "garment_a": int(canonical_answers("worker_survey", 80, 11)["_consented"].sum()),
        "seafood_b": int(canonical_answers("worker_survey", 80, 12)["_consented"].sum())}
    imported["trust"] = imported["trust"].astype("Int64")
    got = _rates(imported)
    want = pd.DataFrame(direct).set_index("mechanism_id")
    pd.testing.assert_frame_equal(got, want, check_names=False)
    # the planted difference between the two exports survives the import
    assert got.loc["garment_a", "t"] != got.loc["seafood_b", "t"]


def test_label_headed_export_refused(tmp_path):
    answers = canonical_answers("worker_survey", 20, seed=2)
    export = write_export(kobo_export("worker_survey", answers, labels=True), tmp_path / "l.xlsx",
                          "xlsx")
    with pytest.raises(InputError, match="XML values and headers"):
        import_export(export, "worker_survey", tmp_path / "data", mechanism_id="m1")
    assert not (tmp_path / "data").exists()


def test_label_values_with_name_headers_refused(tmp_path):
    answers = canonical_answers("worker_survey", 20, seed=2)
    df = kobo_export("worker_survey", answers)
    df["views/trust"] = df["views/trust"].replace({"4": "Agree", "5": "Strongly agree"})
    export = write_export(df, tmp_path / "v.csv", "csv,")
    with pytest.raises(InputError) as exc:
        read_export(export, "worker_survey", mechanism_id="m1")
    assert str(exc.value) == LABEL_EXPORT_MESSAGE


def test_bad_value_named(tmp_path):
    answers = canonical_answers("child_survey", 20, seed=2)
    answers.loc[answers["_consented"].idxmax(), "safe_to_tell"] = "maybe"
    export = write_export(kobo_export("child_survey", answers), tmp_path / "c.csv", "csv,")
    with pytest.raises(InputError, match=r"row \d+, column 'safe_to_tell': 'maybe'"):
        read_export(export, "child_survey", mechanism_id="m1")


def test_mechanism_required_and_from_column(tmp_path):
    answers = canonical_answers("worker_survey", 10, seed=4)
    df = kobo_export("worker_survey", answers)
    export = write_export(df, tmp_path / "a.csv", "csv,")
    with pytest.raises(InputError, match="--mechanism-id"):
        read_export(export, "worker_survey")
    df.insert(2, "intro/mechanism_id", "site_7")
    export = write_export(df, tmp_path / "b.csv", "csv,")
    assert set(read_export(export, "worker_survey").table["mechanism_id"]) == {"site_7"}
    assert set(read_export(export, "worker_survey", "other").table["mechanism_id"]) == {"other"}


def test_stable_id_not_uuid(tmp_path):
    answers = canonical_answers("worker_survey", 10, seed=4)
    df = kobo_export("worker_survey", answers).drop(columns=["_id"])
    export = write_export(df, tmp_path / "a.csv", "csv,")
    res = read_export(export, "worker_survey", "m")
    assert res.table["respondent_id"].str.startswith("root-").all()
    export = write_export(df.drop(columns=["meta/rootUuid"]), tmp_path / "b.csv", "csv,")
    with pytest.raises(InputError, match="stable submission id"):
        read_export(export, "worker_survey", "m")


def test_existing_file_refused_unless_asked(tmp_path):
    answers = canonical_answers("child_survey", 12, seed=9)
    export = write_export(kobo_export("child_survey", answers), tmp_path / "c.csv", "csv,")
    import_export(export, "child_survey", tmp_path / "d", "m1")
    with pytest.raises(InputError, match="exists"):
        import_export(export, "child_survey", tmp_path / "d", "m1")
    with pytest.raises(InputError, match="already holds"):
        import_export(export, "child_survey", tmp_path / "d", "m1", mode="append")
    import_export(export, "child_survey", tmp_path / "d", "m2", mode="append")
    assert len(pd.read_csv(tmp_path / "d" / "child_survey.csv")) == 2 * answers["_consented"].sum()


def test_odk_central_export(tmp_path):
    answers = canonical_answers("child_survey", 25, seed=8)
    df = kobo_export("child_survey", answers, extra=False)
    df = df.drop(columns=["_id", "meta/rootUuid", "_uuid"]).rename(
        columns={"_submission_time": "SubmissionDate"})
    df["SubmissionDate"] = df["SubmissionDate"] + ".000Z"
    df["KEY"] = [f"uuid:k-{i}" for i in range(len(df))]
    df.columns = [c.replace("/", "-") for c in df.columns]
    export = write_export(df, tmp_path / "central.csv", "csv,")
    res = read_export(export, "child_survey", "clms_1")
    exp = expected_table("child_survey", answers, "clms_1")
    exp["respondent_id"] = [f"k-{i}" for i in np.flatnonzero(answers["_consented"])]
    pd.testing.assert_frame_equal(_norm(res.table), _norm(exp))


def test_imported_file_passes_loader(tmp_path):
    """The written CSV is read by the project's loader as a valid contract table."""
    validate = pytest.importorskip("gm_eval.validate")
    if not hasattr(validate, "check_data_dir"):
        pytest.skip("loader not available yet")
    answers = canonical_answers("worker_survey", 40, seed=21)
    export = write_export(kobo_export("worker_survey", answers), tmp_path / "w.csv", "csv;")
    data = tmp_path / "data"
    import_export(export, "worker_survey", data, mechanism_id="m1")
    pd.DataFrame({"mechanism_id": ["m1"], "company_id": ["c1"], "name": ["M1"],
                  "sector": ["garments"], "mechanism_type": ["ogm"]}).to_csv(
        data / "mechanisms.csv", index=False)
    report = validate.check_data_dir(data)
    assert report.ok, report.format()


def _by_hand(form: str, answers: pd.DataFrame) -> dict[str, tuple[float, int]]:
    """Survey indicator values (value, n) straight from the raw answers, by the definitions."""
    a = answers[answers["_consented"]]

    def share(success, eligible):
        return float(success[eligible].mean()), int(eligible.sum())

    if form == "child_survey":
        out = {}
        for ind, item in (("accessible.child_awareness_rate", "knows_where_to_tell"),
                          ("engagement_dialogue.child_listened_to_rate", "listened_to"),
                          ("transparent.child_told_what_happened_rate", "told_what_happened")):
            out[ind] = share(a[item] == "yes", a[item] != "")
        return out
    num = {k: pd.to_numeric(a[k], errors="coerce")
           for k in ("trust", "independent", "fear_retaliation", "satisfied")}
    knows = np.where(a["aware"] == "no", "no", a["knows_how"])
    return {
        "legitimate.trust_rate": share(num["trust"] >= 4, num["trust"].notna()),
        "legitimate.independence_rate": share(num["independent"] >= 4, num["independent"].notna()),
        "accessible.fear_of_retaliation_rate": share(num["fear_retaliation"] >= 4,
                                                     num["fear_retaliation"].notna()),
        "accessible.awareness_rate": share(a["aware"] == "yes", a["aware"] != ""),
        "accessible.knows_how_rate": share(pd.Series(knows == "yes"), pd.Series(knows != "")),
        "engagement_dialogue.consultation_rate": share(a["consulted"] == "yes", a["consulted"] != ""),
        "transparent.survey_informed_rate": share(a["informed_outcome"] == "yes",
                                                  a["informed_outcome"] != ""),
        "legitimate.user_satisfaction_rate": share(num["satisfied"] >= 4,
                                                   (a["used"] == "yes") & num["satisfied"].notna()),
    }


def test_round_trip_scored_by_engine(tmp_path):
    """Exports imported, loaded and scored by the engine equal the hand-computed values."""
    import gm_eval

    indicators = pytest.importorskip("gm_eval.indicators")
    data = tmp_path / "data"
    want = {}
    mechs = [("garment_a", 31, "worker_survey"), ("seafood_b", 32, "worker_survey"),
             ("garment_a", 33, "child_survey"), ("cocoa_c", 34, "child_survey")]
    for mech, seed, form in mechs:
        answers = canonical_answers(form, 120, seed=seed)
        fmt, suffix = ("xlsx", "xlsx") if seed % 2 else ("csv;", "csv")
        export = write_export(kobo_export(form, answers), tmp_path / f"{mech}_{form}.{suffix}", fmt)
        import_export(export, form, data, mechanism_id=mech, mode="append")
        for ind, v in _by_hand(form, answers).items():
            want[(mech, ind)] = v
    pd.DataFrame({"mechanism_id": ["garment_a", "seafood_b", "cocoa_c"],
                  "company_id": ["acme", "fishco", "choc"], "name": ["A", "B", "C"],
                  "sector": ["garments", "seafood", "agriculture"],
                  "mechanism_type": ["ogm", "supply_chain", "clms"]}).to_csv(
        data / "mechanisms.csv", index=False)
    ev = gm_eval.load(data)
    ids = sorted({ind for _, ind in want})
    got = indicators.compute_indicators(ev, indicator_ids=ids).set_index(
        ["mechanism_id", "indicator_id"])
    assert len(want) == 2 * 8 + 2 * 3  # 2 worker mechanisms x 8, 2 child x 3
    for key, (value, n) in want.items():
        row = got.loc[key]
        assert row["n"] == n, key
        assert row["value"] == pytest.approx(value, rel=1e-12), key
    # planted: the mechanisms differ, so equal values would hide a mix-up
    assert want[("garment_a", "legitimate.trust_rate")] != want[("seafood_b", "legitimate.trust_rate")]


def test_xlsx_with_typed_cells(tmp_path):
    """Kobo's XLSX stores numbers and date-times as typed cells, not text."""
    answers = canonical_answers("worker_survey", 40, seed=17)
    df = kobo_export("worker_survey", answers).astype(object)
    df["_id"] = answers["_id"].astype(int)
    df["_submission_time"] = answers["_submission_time"]
    for col in ("demographics/age", "views/trust", "experience/satisfied"):
        num = pd.to_numeric(df[col], errors="coerce")
        df[col] = [int(v) if pd.notna(v) else (s or None) for v, s in zip(num, df[col], strict=True)]
    export = write_export(df, tmp_path / "typed.xlsx", "xlsx")
    res = read_export(export, "worker_survey", mechanism_id="m")
    pd.testing.assert_frame_equal(_norm(res.table), _norm(expected_table("worker_survey", answers, "m")))


def test_imported_csv_is_formula_safe(tmp_path):
    """A formula typed into a survey answer is written inert, then refused by validation."""
    import pandas as pd

    from gm_eval.kobo import _to_csv_frame

    df = pd.DataFrame({"respondent_id": ["1", "2"], "gender": ["=HYPERLINK(\"x\")", "female"],
                       "aware": pd.array([True, None], dtype="boolean")})
    out = _to_csv_frame(df)
    assert out["gender"].tolist() == ["'=HYPERLINK(\"x\")", "female"]
    assert out["aware"].tolist()[0] == "true"
