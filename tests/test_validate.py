"""Readers and validation: every malformed input names its file, row and column."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gm_eval import load
from gm_eval.cli import main
from gm_eval.errors import InputError, ValidationFailed
from gm_eval.validate import check_data_dir

TODAY = dt.date(2025, 7, 1)

MECHANISMS = """mechanism_id,company_id,name,sector,country,mechanism_type,target_ack_days,target_close_days
M1,C1,Factory helpline,garments,TH,ogm,5,20
M2,C1,Supplier hotline,garments,VN,supply_chain,,
M3,C2,Cocoa CLMS,agriculture,CI,clms,,
"""
CASES = """case_id,mechanism_id,site_id,received_at,acknowledged_at,closed_at,status,channel,complainant_type,age,gender,anonymous,category,severity,outcome,complainant_informed,satisfaction,referred_to
c1,M1,S1,2025-01-10,2025-01-12,2025-01-30,closed,hotline,worker,34,female,no,wages_benefits,medium,remedied,yes,4,none
c2,M1,S1,2025-02-01,2025-02-02,,open,sms_chat,worker,16,male,yes,child_labour,high,,,,child_protection
c3,M2,,2025-03-05,,,open,app_web,unknown,,unknown,true,other,low,,,,
"""
WORKFORCE = """mechanism_id,site_id,headcount,female,aged_15_17,migrant
M1,S1,500,300,20,100
M2,,1200,700,0,400
"""
WORKER_SURVEY = """respondent_id,mechanism_id,survey_date,age,gender,migrant,aware,knows_how,trust,independent,fear_retaliation,would_use,used,informed_outcome,satisfied,consulted
r1,M1,2025-03-01,25,female,no,yes,yes,4,3,2,5,no,,,no
r2,M1,2025-03-01,31,male,yes,no,no,2,2,4,2,no,,,yes
"""
CHILD_SURVEY = """respondent_id,mechanism_id,survey_date,age,gender,in_school,working,knows_where_to_tell,has_trusted_adult,safe_to_tell,listened_to,told_what_happened
k1,M3,2025-03-02,12,female,yes,no,yes,yes,not_sure,,
k2,M3,2025-03-02,15,male,no,yes,not_sure,no,no,yes,no
"""
CLMS_CHILDREN = """child_id,mechanism_id,identified_at,age,gender,hazardous_work,in_school,referred_at,remediation_started_at,remediation_types,closed_at
ch1,M3,2024-06-01,11,male,yes,no,2024-06-10,2024-07-01,school_kit;birth_certificate,
ch2,M3,2024-09-01,14,female,no,yes,,,,
"""
CLMS_FOLLOWUPS = """child_id,mechanism_id,visit_date,in_child_labour,in_hazardous_work,attending_school
ch1,M3,2024-09-01,yes,no,yes
ch1,M3,2024-12-01,no,no,yes
"""
SELF_ASSESSMENT = """mechanism_id,question_id,answer,evidence
M1,SA01,yes,policy document v2
M1,SA02,partly,
"""
BASE = {
    "mechanisms.csv": MECHANISMS,
    "cases.csv": CASES,
    "workforce.csv": WORKFORCE,
    "worker_survey.csv": WORKER_SURVEY,
    "child_survey.csv": CHILD_SURVEY,
    "clms_children.csv": CLMS_CHILDREN,
    "clms_followups.csv": CLMS_FOLLOWUPS,
    "self_assessment.csv": SELF_ASSESSMENT,
}


def write_dir(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        p = root / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


def digest(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


@pytest.fixture
def base_dir(tmp_path) -> Path:
    return write_dir(tmp_path / "data", BASE)


def replace_in(root: Path, file: str, old: str, new: str) -> None:
    p = root / file
    text = p.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {file}"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_valid_directory_loads_with_types(base_dir):
    report = check_data_dir(base_dir, today=TODAY)
    assert report.ok, report.format()
    ev = load(base_dir, today=TODAY)
    cases = ev["cases"]
    assert str(cases["received_at"].dtype) == "datetime64[ns]"
    assert str(cases["anonymous"].dtype) == "boolean"
    assert cases["anonymous"].tolist() == [False, True, True]
    assert str(cases["age"].dtype) == "Int64"
    assert cases["age"].isna().tolist() == [False, False, True]
    # as_of defaults to the latest date in the data
    assert ev.as_of == pd.Timestamp("2025-03-05")
    # free text is reduced to a flag
    sa = ev["self_assessment"]
    assert "evidence" not in sa.columns
    assert sa["evidence_provided"].tolist() == [True, False]
    assert ev["clms_children"]["remediation_types"].iloc[0] == "school_kit;birth_certificate"
    assert ev.sources["cases"].rows == 3


def test_record_ids_are_pseudonymised_consistently(base_dir, monkeypatch):
    monkeypatch.setenv("GM_EVAL_KEY", "00112233445566778899aabbccddeeff")
    ev = load(base_dir, today=TODAY)
    ids = ev["clms_children"]["child_id"]
    assert not ids.astype(str).isin(["ch1", "ch2"]).any()
    assert str(ids.dtype) == "UInt64"
    # follow-ups still join to their child
    assert set(ev["clms_followups"]["child_id"]) == {ids.iloc[0]}
    assert not ev["cases"]["case_id"].astype(str).str.startswith("c").any()
    again = load(base_dir, today=TODAY)["cases"]["case_id"]
    assert again.tolist() == ev["cases"]["case_id"].tolist()
    monkeypatch.setenv("GM_EVAL_KEY", "ffeeddccbbaa99887766554433221100")
    other = load(base_dir, today=TODAY)["cases"]["case_id"]
    assert not set(other) & set(ev["cases"]["case_id"])
    monkeypatch.setenv("GM_EVAL_KEY", "not-a-key")
    with pytest.raises(InputError, match="32 hexadecimal digits"):
        load(base_dir, today=TODAY)


def test_key_file_is_created_private(tmp_path, monkeypatch):
    from gm_eval.pseudonym import get_key, key_path

    monkeypatch.delenv("GM_EVAL_KEY", raising=False)
    monkeypatch.setenv("GM_EVAL_CONFIG_DIR", str(tmp_path / "cfg"))
    key = get_key()
    assert len(key) == 16
    assert key_path().stat().st_mode & 0o777 == 0o600
    assert get_key() == key


def test_extra_columns_are_dropped_and_warned(base_dir):
    replace_in(base_dir, "cases.csv", "referred_to\n", "referred_to,complainant_name,phone\n")
    p = base_dir / "cases.csv"
    lines = p.read_text().splitlines()
    lines = [lines[0]] + [line + ",Somchai DECOY,+66-DECOY-1" for line in lines[1:]]
    p.write_text("\n".join(lines) + "\n")
    ev = load(base_dir, today=TODAY)
    assert "complainant_name" not in ev["cases"].columns
    assert "phone" not in ev["cases"].columns
    assert not ev["cases"].astype(str).apply(lambda s: s.str.contains("DECOY")).any().any()
    assert any("complainant_name" in w.problem for w in ev.warnings)


def test_absent_optional_table_is_a_warning(tmp_path):
    root = write_dir(tmp_path / "d", {"mechanisms.csv": MECHANISMS})
    report = check_data_dir(root, today=TODAY)
    assert report.ok
    absent = {p.table for p in report.warnings if "not supplied" in p.problem}
    assert {"cases", "worker_survey", "clms_children", "self_assessment"} <= absent


# (file, old text, new text, expected file, row, column, words in the problem)
MALFORMED = [
    ("cases.csv", "c1,M1,S1,2025-01-10", "c1,M1,S1,10/01/2025", "cases.csv", 2, "received_at",
     "is not a date"),
    ("cases.csv", "2025-01-12,2025-01-30,closed", "2025-01-12,2025-01-05,closed", "cases.csv", 2,
     "closed_at", "is before received_at"),
    ("cases.csv", "c2,M1,S1,2025-02-01,2025-02-02", "c2,M1,S1,2025-02-01,2025-01-02",
     "cases.csv", 3, "acknowledged_at", "is before received_at"),
    ("cases.csv", "c3,M2,", "c1,M1,", "cases.csv", 4, "case_id", "duplicates row 2"),
    ("cases.csv", "c3,M2,", "c3,M9,", "cases.csv", 4, "mechanism_id",
     "is not a mechanism_id of the mechanisms table"),
    ("cases.csv", "worker,34,female", "worker,200,female", "cases.csv", 2, "age", "out of range"),
    ("cases.csv", "worker,16,male", "worker,-1,male", "cases.csv", 3, "age", "out of range"),
    ("cases.csv", "worker,34,female", "worker,thirty,female", "cases.csv", 2, "age",
     "not a whole number"),
    ("cases.csv", "no,wages_benefits", "no,wages", "cases.csv", 2, "category",
     "not an allowed value"),
    ("cases.csv", "closed,hotline", "done,hotline", "cases.csv", 2, "status",
     "not an allowed value"),
    ("cases.csv", "female,no,wages", "female,perhaps,wages", "cases.csv", 2, "anonymous",
     "not a yes/no value"),
    ("cases.csv", "remedied,yes,4,none", "remedied,yes,6,none", "cases.csv", 2, "satisfaction",
     "out of range"),
    ("cases.csv", "c3,M2,,2025-03-05", "c3,M2,,2031-03-05", "cases.csv", 4, "received_at",
     "in the future"),
    ("cases.csv", "c2,M1,S1,2025-02-01", "c2,M1,S1,", "cases.csv", 3, "received_at", "is blank"),
    ("mechanisms.csv", "M2,C1", "M1,C1", "mechanisms.csv", 3, "mechanism_id",
     "duplicates row 2"),
    ("mechanisms.csv", "M3,C2", "../M3,C2", "mechanisms.csv", 4, "mechanism_id",
     "characters or a form"),
    ("mechanisms.csv", "supply_chain", "brand_helpline", "mechanisms.csv", 3, "mechanism_type",
     "not an allowed value"),
    ("mechanisms.csv", "garments,VN", "garments,Vietnam", "mechanisms.csv", 3, "country",
     "characters or a form"),
    ("worker_survey.csv", "yes,yes,4,3,2", "yes,yes,0,3,2", "worker_survey.csv", 2, "trust",
     "out of range"),
    ("worker_survey.csv", "no,no,2,2,4,2", "no,no,2,2,6,2", "worker_survey.csv", 3,
     "fear_retaliation", "out of range"),
    ("worker_survey.csv", "r2,M1,2025-03-01,31", "r2,M1,2025-03-01,7", "worker_survey.csv", 3,
     "age", "out of range"),
    ("child_survey.csv", "k2,M3,2025-03-02,15", "k2,M3,2025-03-02,19", "child_survey.csv", 3,
     "age", "out of range"),
    ("child_survey.csv", "yes,yes,not_sure", "yes,maybe,not_sure", "child_survey.csv", 2,
     "has_trusted_adult", "not an allowed value"),
    ("workforce.csv", "M1,S1,500,300", "M1,S1,500,600", "workforce.csv", 2, "female",
     "larger than headcount"),
    ("clms_followups.csv", "ch1,M3,2024-12-01", "ch9,M3,2024-12-01", "clms_followups.csv", 3,
     "child_id", "not a child of clms_children"),
    ("clms_followups.csv", "ch1,M3,2024-09-01", "ch1,M3,2024-05-01", "clms_followups.csv", 2,
     "visit_date", "before the child was identified"),
    ("clms_children.csv", "2024-06-01,11,male,yes,no,2024-06-10", "2024-06-01,11,male,yes,no,2024-05-10",
     "clms_children.csv", 2, "referred_at", "is before identified_at"),
    ("clms_children.csv", "2024-07-01,school_kit;birth_certificate",
     "2024-07-01,school kit;<b>cert</b>", "clms_children.csv", 2, "remediation_types",
     "not a list of codes"),
    ("self_assessment.csv", "M1,SA02,partly", "M1,SA02,sometimes", "self_assessment.csv", 3,
     "answer", "not an allowed value"),
    ("self_assessment.csv", "M1,SA02,partly", "M1,SA01,partly", "self_assessment.csv", 3,
     "question_id", "duplicates row 2"),
]


@pytest.mark.parametrize("file,old,new,efile,erow,ecol,words", MALFORMED,
                         ids=[f"{m[3]}:{m[5]}:{m[6]}" for m in MALFORMED])
def test_malformed_input_is_located(base_dir, file, old, new, efile, erow, ecol, words):
    replace_in(base_dir, file, old, new)
    before = digest(base_dir)
    report = check_data_dir(base_dir, today=TODAY)
    assert not report.ok
    hits = [p for p in report.errors + report.warnings
            if p.file == efile and p.row == erow and p.column == ecol and words in p.problem]
    assert hits, report.format()
    line = hits[0].format()
    assert efile in line and f"row {erow}" in line and ecol in line
    assert digest(base_dir) == before


def test_ragged_row_reports_row(base_dir):
    replace_in(base_dir, "cases.csv", "c3,M2,,2025-03-05", "c3,M2,,extra,2025-03-05")
    report = check_data_dir(base_dir, today=TODAY)
    err = [p for p in report.errors if p.file == "cases.csv"]
    assert err and err[0].row == 4 and "fields" in err[0].problem


def test_missing_required_column(base_dir):
    replace_in(base_dir, "cases.csv", "status,channel", "state,channel")
    report = check_data_dir(base_dir, today=TODAY)
    err = [p for p in report.errors if p.column == "status"]
    assert err and err[0].row == 1 and "required column is missing" in err[0].problem


def test_empty_file_and_header_only(base_dir):
    (base_dir / "workforce.csv").write_bytes(b"")
    (base_dir / "cases.csv").write_text(CASES.splitlines()[0] + "\n")
    report = check_data_dir(base_dir, today=TODAY)
    assert any(p.file == "workforce.csv" and "empty" in p.problem for p in report.errors)
    assert any(p.file == "cases.csv" and "no rows" in p.problem for p in report.warnings)


def test_latin1_file_is_refused_with_advice(base_dir):
    (base_dir / "mechanisms.csv").write_bytes(MECHANISMS.replace("Factory", "Fábrica")
                                              .encode("latin-1"))
    report = check_data_dir(base_dir, today=TODAY)
    err = [p for p in report.errors if p.file == "mechanisms.csv"]
    assert err and "UTF-8" in err[0].problem and "line 2" in err[0].problem


def test_bom_utf16_and_thai_text_are_read(tmp_path):
    thai = MECHANISMS.replace("Factory helpline", "สายด่วนโรงงาน")
    root = write_dir(tmp_path / "a", {"mechanisms.csv": b"\xef\xbb\xbf" + thai.encode("utf-8")})
    ev = load(root, today=TODAY)
    assert ev.mechanisms["name"].iloc[0] == "สายด่วนโรงงาน"
    assert ev.mechanisms.columns[0] == "mechanism_id"
    root2 = write_dir(tmp_path / "b", {"mechanisms.csv": thai.encode("utf-16")})
    assert load(root2, today=TODAY).mechanisms["name"].iloc[0] == "สายด่วนโรงงาน"


def test_dates_after_as_of_are_errors(base_dir):
    report = check_data_dir(base_dir, as_of="2025-02-15", today=TODAY)
    bad = {(p.file, p.row, p.column) for p in report.errors}
    assert ("cases.csv", 4, "received_at") in bad
    assert report.as_of == pd.Timestamp("2025-02-15")


def test_excel_serial_and_iso_datetime_dates(base_dir):
    # 45667 is 2025-01-10 in Excel's 1900 date system
    replace_in(base_dir, "cases.csv", "c1,M1,S1,2025-01-10", "c1,M1,S1,45667")
    replace_in(base_dir, "cases.csv", "c3,M2,,2025-03-05", "c3,M2,,2025-03-05T14:22:00Z")
    ev = load(base_dir, today=TODAY)
    assert ev["cases"]["received_at"].tolist()[0] == pd.Timestamp("2025-01-10")
    assert ev["cases"]["received_at"].tolist()[2] == pd.Timestamp("2025-03-05")


def test_errors_are_collected_across_tables(base_dir):
    replace_in(base_dir, "cases.csv", "worker,34,female", "worker,200,female")
    replace_in(base_dir, "worker_survey.csv", "yes,yes,4,3,2", "yes,yes,0,3,2")
    report = check_data_dir(base_dir, today=TODAY)
    assert {p.file for p in report.errors} == {"cases.csv", "worker_survey.csv"}


def test_many_errors_are_counted_beyond_details(tmp_path):
    rows = "".join(f"c{i},M1,,2025-01-01,,,open,,,,,,nonsense,,,,,\n" for i in range(100))
    root = write_dir(tmp_path / "d", {"mechanisms.csv": MECHANISMS,
                                      "cases.csv": CASES.splitlines()[0] + "\n" + rows})
    report = check_data_dir(root, today=TODAY)
    assert report.n_errors == 100
    assert len(report.errors) < 100
    assert "more in cases.csv, column category" in report.format()


def test_load_raises_with_report(base_dir):
    replace_in(base_dir, "cases.csv", "worker,34,female", "worker,200,female")
    with pytest.raises(ValidationFailed) as exc:
        load(base_dir, today=TODAY)
    assert "cases.csv, row 2, column age" in str(exc.value)


def test_xlsx_and_parquet_readers_match_csv(base_dir, tmp_path):
    ev_csv = load(base_dir, today=TODAY)
    for fmt in ("xlsx", "parquet"):
        root = tmp_path / fmt
        root.mkdir()
        for name, df in ev_csv.tables.items():
            if name == "self_assessment":
                continue
            out = df.copy()
            if fmt == "xlsx":
                out.to_excel(root / f"{name}.xlsx", index=False)
            else:
                out.to_parquet(root / f"{name}.parquet", index=False)
        ev = load(root, today=TODAY)
        for name in ("mechanisms", "cases", "clms_children", "worker_survey"):
            # record ids were pseudonymised twice on the way round: compare the rest
            ids = [c for c in ("case_id", "respondent_id", "child_id") if c in ev[name].columns]
            pd.testing.assert_frame_equal(ev[name].drop(columns=ids),
                                          ev_csv[name].drop(columns=ids), obj=f"{fmt}:{name}")
            for c in ids:
                assert ev[name][c].nunique() == ev_csv[name][c].nunique()


def test_xlsx_errors_use_spreadsheet_rows(base_dir, tmp_path):
    df = pd.read_csv(base_dir / "cases.csv", dtype=str)
    df.loc[1, "age"] = "300"
    root = tmp_path / "x"
    root.mkdir()
    shutil.copy(base_dir / "mechanisms.csv", root)
    df.to_excel(root / "cases.xlsx", index=False)
    report = check_data_dir(root, today=TODAY)
    assert [(p.file, p.row, p.column) for p in report.errors] == [("cases.xlsx", 3, "age")]


def test_two_files_for_one_table(base_dir):
    (base_dir / "cases.xlsx").write_bytes(b"x")
    with pytest.raises(InputError, match="several files"):
        check_data_dir(base_dir, today=TODAY)


def test_cli_validate_exit_codes_and_untouched_input(base_dir, capsys):
    before = digest(base_dir)
    assert main(["validate", str(base_dir)]) == 0
    replace_in(base_dir, "cases.csv", "worker,34,female", "worker,200,female")
    before = digest(base_dir)
    assert main(["validate", str(base_dir)]) == 2
    out = capsys.readouterr().out
    assert "cases.csv, row 2, column age: value '200' is out of range" in out
    assert "INVALID" in out
    assert digest(base_dir) == before


def test_validate_cli_on_synthetic_data_and_a_corrupted_copy(tmp_path, capsys):
    from gm_eval import synth

    data = tmp_path / "synth"
    synth.write_data_dir(synth.generate(n_mechanisms=12, seed=3), data)
    before = digest(data)
    assert main(["validate", str(data)]) == 0
    assert "valid: 0 error(s)" in capsys.readouterr().out
    bad = tmp_path / "corrupt"
    shutil.copytree(data, bad)
    p = bad / "cases.csv"
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    row = lines[5].split(",")
    row[header.index("received_at")] = "31/12/2024"
    row[header.index("category")] = "bribery"
    lines[5] = ",".join(row)
    p.write_text("".join(lines), encoding="utf-8")
    corrupt_before = digest(bad)
    assert main(["validate", str(bad)]) == 2
    out = capsys.readouterr().out
    assert "cases.csv, row 6, column received_at: value '31/12/2024' is not a date" in out
    assert "cases.csv, row 6, column category: value 'bribery' is not an allowed value" in out
    assert digest(data) == before and digest(bad) == corrupt_before


# ------------------------------------------------- fast paths against the general ones
def test_duplicate_key_screen_agrees_with_pandas():
    """The Arrow sort screen finds a duplicate complete key exactly when pandas does
    (blank key parts never make a duplicate), on many random small keys."""
    import numpy as np

    from gm_eval.validate import _may_have_duplicates

    rng = np.random.default_rng(3)
    seen = set()
    for trial in range(300):
        n = int(rng.integers(0, 12))
        m = pd.Series(rng.choice(["M1", "M2", None], n), dtype=object)
        c = pd.Series(rng.choice(["a", "b", "c", "d", None, np.nan], n), dtype=object)
        cols = {"mechanism_id": m, "case_id": c}
        if trial % 3 == 0:  # a date part, as clms_followups' key (child, visit_date)
            days = rng.choice([0, 1, -1], n)
            cols["visit_date"] = pd.Series(
                [pd.NaT if d < 0 else pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(d))
                 for d in days], dtype="datetime64[ns]")
        if trial % 2 == 0:  # Arrow-backed strings, as read from Parquet
            cols["case_id"] = c.astype("str")
        kdf = pd.DataFrame(cols)
        expected = bool((kdf.duplicated(keep=False) & kdf.notna().all(axis=1)).any())
        assert _may_have_duplicates(kdf) is expected, kdf
        seen.add(expected)
    assert seen == {True, False}


@pytest.mark.parametrize("storage", ["str", "object"])
def test_one_column_key_screen_agrees_with_pandas(storage):
    """Record-id keys (one text column) are screened on their fingerprints: a duplicate
    is found exactly when pandas finds one, whatever the lengths, chunks or blanks."""
    import pyarrow as pa

    from gm_eval.validate import _may_have_duplicates

    rng = np.random.default_rng(11)
    alphabet = list("abcXYZ019-_é🙂")
    seen = set()
    for trial in range(200):
        n = int(rng.integers(0, 40))
        pool = ["".join(rng.choice(alphabet, int(rng.integers(0, 30)))) for _ in range(n)]
        ids = [None if rng.random() < 0.1 else pool[int(rng.integers(0, max(n, 1)))]
               if rng.random() < 0.05 else pool[i] for i in range(n)]
        if storage == "str" and n > 3 and trial % 2:  # several Arrow chunks
            arr = pa.chunked_array([pa.array(ids[:3], pa.large_string()),
                                    pa.array(ids[3:], pa.large_string())])
            col = pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
        else:
            col = pd.Series(ids, dtype=storage)
        kdf = pd.DataFrame({"case_id": col})
        expected = bool((kdf.duplicated(keep=False) & kdf.notna().all(axis=1)).any())
        assert _may_have_duplicates(kdf) is expected, ids
        seen.add(expected)
    assert seen == {True, False}


def test_text_fingerprints_equal_for_equal_text_and_screen_collisions(tmp_path, monkeypatch):
    import pyarrow as pa

    from gm_eval import pseudonym, synth
    from gm_eval.pseudonym import text_fingerprints

    rng = np.random.default_rng(5)
    values = ["".join(rng.choice(list("ab01-é"), int(k))) for k in rng.integers(0, 40, 20000)]
    fp = text_fingerprints(pa.chunked_array([pa.array(values[:7000]), pa.array(values[7000:])]))
    by_text = {}
    for v, f in zip(values, fp.tolist(), strict=True):
        assert by_text.setdefault(v, f) == f  # equal text, equal fingerprint
    assert len(set(by_text.values())) == len(by_text)  # and here no two texts share one
    binary = text_fingerprints(pa.chunked_array([pa.array([v.encode() for v in values],
                                                          pa.binary())]))
    np.testing.assert_array_equal(binary, fp)
    # a fingerprint shared by different ids only makes validation look: nothing reported
    monkeypatch.setattr(pseudonym, "text_fingerprints",
                        lambda text: np.zeros(len(text), dtype=np.uint64))
    synth.write_data_dir(synth.generate(n_mechanisms=12, n_cases=800, seed=2), tmp_path / "d",
                         fmt="parquet")
    assert load(tmp_path / "d").has("cases")


def test_parquet_duplicate_key_blank_part_and_enum_case(base_dir, tmp_path):
    """Typed (Parquet) input: a duplicated key is reported, a blank key part is not a
    duplicate, enum labels are normalised and checked per distinct value."""
    cases = pd.read_csv(base_dir / "cases.csv", dtype=str)
    cases.loc[2, "case_id"] = "c1"  # M2's c1 is not a duplicate of M1's c1
    dup = cases.iloc[[0]].assign(status="Closed")  # a second M1 c1, label in capitals
    bad = cases.iloc[[1]].assign(case_id="c9", channel="carrier pigeon")
    cases = pd.concat([cases, dup, bad], ignore_index=True)
    for c in ("received_at", "acknowledged_at", "closed_at"):
        cases[c] = pd.to_datetime(cases[c])
    root = tmp_path / "pq"
    shutil.copytree(base_dir, root)
    (root / "cases.csv").unlink()
    cases.to_parquet(root / "cases.parquet", index=False)
    rep = check_data_dir(root, today=TODAY)
    lines = [p.format() for p in rep.errors]
    assert "cases.parquet, row 4, column case_id: value 'c1' duplicates row 1 " \
           "(same mechanism_id, case_id) (expected a unique mechanism_id + case_id)" in lines
    assert any(ln.startswith("cases.parquet, row 5, column channel: value 'carrier pigeon' "
                             "is not an allowed value") for ln in lines)
    assert len(lines) == 2, lines
    dup_free = cases.iloc[:4].copy()  # the three rows and the second M1 c1
    dup_free.loc[3, "case_id"] = None  # blank ids are reported as blank, never as duplicates
    dup_free.to_parquet(root / "cases.parquet", index=False)
    lines = [p.format() for p in check_data_dir(root, today=TODAY).errors]
    assert lines == ["cases.parquet, row 4, column case_id: is blank "
                     "(expected a value: this column is required)"]
    dup_free.loc[3, "case_id"] = "c7"
    dup_free.to_parquet(root / "cases.parquet", index=False)
    ev = load(root, today=TODAY)
    assert ev["cases"]["status"].tolist() == ["closed", "open", "open", "closed"]
    # enum columns: categorical over the values present, sorted (their codes are the
    # evidence's factorized codes)
    status = ev["cases"]["status"]
    assert isinstance(status.dtype, pd.CategoricalDtype)
    assert list(status.cat.categories) == ["closed", "open"]
    np.testing.assert_array_equal(ev.factorized("cases", "status")[0], status.cat.codes)


def test_parquet_dates_with_times_and_other_units_are_normalised(base_dir, tmp_path):
    cases = pd.read_csv(base_dir / "cases.csv", dtype=str)
    cases["received_at"] = pd.to_datetime(cases["received_at"]) + pd.Timedelta(hours=10, minutes=30)
    cases["acknowledged_at"] = pd.to_datetime(cases["acknowledged_at"]).astype("datetime64[s]")
    cases["closed_at"] = pd.to_datetime(cases["closed_at"])
    cases["age"] = cases["age"].astype("Int64")  # signed integers arrive whole
    root = tmp_path / "pq"
    shutil.copytree(base_dir, root)
    (root / "cases.csv").unlink()
    cases.to_parquet(root / "cases.parquet", index=False)
    got = load(root, today=TODAY)["cases"]
    want = load(base_dir, today=TODAY)["cases"]
    for c in ("received_at", "acknowledged_at", "closed_at", "age"):
        pd.testing.assert_series_equal(got[c], want[c])
    assert str(got["received_at"].dtype) == "datetime64[ns]"


def test_pandera_runs_only_when_a_check_fails_and_without_hypothesis(base_dir):
    """Valid data never imports pandera (its checks run directly, :func:`_passes`);
    data failing a check does, without pulling in hypothesis (which stays importable),
    and pandera's failure cases make the report."""
    import subprocess
    import sys

    code = ("import sys, datetime, gm_eval; from gm_eval.validate import check_data_dir; "
            "r = check_data_dir(sys.argv[1], today=datetime.date(2025, 7, 1)); "
            "print(r.ok, 'pandera' in sys.modules, 'hypothesis' in sys.modules); "
            "import hypothesis, pandera; print('importable')")

    def run():
        return subprocess.run([sys.executable, "-c", code, str(base_dir)], capture_output=True,
                              text=True, check=True).stdout.split("\n")

    assert run()[:2] == ["True False False", "importable"]
    replace_in(base_dir, "cases.csv", "worker,34,female", "worker,200,female")
    assert run()[:2] == ["False True False", "importable"]


def test_direct_checks_agree_with_the_pandera_schema(base_dir):
    """:func:`_passes` passes exactly the typed tables that pandera's schema passes: each
    kind of check (allowed values, range, pattern, length, required) failed in turn."""
    from gm_eval._pandera import pa
    from gm_eval.contract import TABLES
    from gm_eval.io import read_data_dir
    from gm_eval.validate import ValidationReport, _passes, _type_table, schema_for

    def pandera_passes(t, df):
        try:
            schema_for(t).validate(df, lazy=True)
        except pa.errors.SchemaErrors:
            return False
        return True

    raws = read_data_dir(base_dir)
    typed = {n: _type_table(r, ValidationReport(), Counter()) for n, r in raws.items()}
    for name, df in typed.items():
        assert _passes(TABLES[name], df) and pandera_passes(TABLES[name], df), name
    cases, t = typed["cases"], TABLES["cases"]
    spoiled = {
        "enum": ("category", pd.Categorical(["bribery"] + [None] * (len(cases) - 1))),
        "enum as text": ("category", ["bribery"] + [None] * (len(cases) - 1)),
        "range": ("age", pd.array([200] + [None] * (len(cases) - 1), dtype="Int64")),
        "pattern": ("mechanism_id", [".hidden"] + list(cases["mechanism_id"][1:])),
        "length": ("site_id", ["s" * 5000] + list(cases["site_id"][1:])),
        "required": ("mechanism_id", [None] + list(cases["mechanism_id"][1:])),
    }
    for what, (col, values) in spoiled.items():
        bad = cases.copy()
        bad[col] = values
        assert not _passes(t, bad), what
        assert not pandera_passes(t, bad), what
        ok = cases.copy()
        ok[col] = cases[col]
        assert _passes(t, ok), what


def test_parquet_contract_only_read_is_the_same_table(base_dir, tmp_path):
    """Reading only the contract columns of a Parquet file (what ``load`` does) gives the
    table that reading it whole gives, extra columns listed as dropped, with a mapping too."""
    from gm_eval.io.mapping import load_mapping
    from gm_eval.io.readers import read_table_file

    cases = pd.read_csv(base_dir / "cases.csv", dtype=str)
    cases["complainant_name"] = "Somchai"
    cases = cases.rename(columns={"case_id": "Ticket No"})
    cases.insert(2, "Notes", "free text")
    path = tmp_path / "cases.parquet"
    cases.to_parquet(path, index=False)
    mapping = load_mapping({"tables": {"cases": {"columns": {"Ticket No": "case_id"}}}})
    whole = read_table_file("cases", path, mapping)
    part = read_table_file("cases", path, mapping, contract_only=True)
    assert isinstance(part.frame["status"].dtype, pd.CategoricalDtype)  # enum: dictionary read
    pd.testing.assert_frame_equal(part.frame.astype(whole.frame.dtypes.to_dict()), whole.frame)
    assert part.dropped_columns == whole.dropped_columns == ["Notes", "complainant_name"]
    assert part.source_columns == whole.source_columns == {"case_id": "Ticket No"}
    assert part.sha256 == whole.sha256


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_enum_codes_from_validation_are_pd_factorize_sorted(tmp_path, fmt):
    """The enum codes validation hands to the evidence are those of pd.factorize(sort=True)."""
    import numpy as np

    from gm_eval import synth
    from gm_eval.contract import TABLES

    tables = synth.generate(n_mechanisms=12, n_cases=1500, seed=5)
    tables["cases"].loc[3, "status"] = " Closed "  # cleaned and normalised to closed
    tables["cases"].loc[4, "channel"] = None
    synth.write_data_dir(tables, tmp_path / "d", fmt=fmt)
    ev = load(tmp_path / "d")
    enums = {(t, c.name) for t in ev.tables for c in TABLES[t].columns
             if c.kind == "enum" and c.name in ev[t].columns}
    assert enums and enums == set(ev.codes)
    for t, c in sorted(enums):
        want_codes, want_uniques = pd.factorize(ev[t][c], sort=True)
        got_codes, got_uniques = ev.factorized(t, c)
        np.testing.assert_array_equal(got_codes, want_codes, err_msg=f"{t}.{c}")
        assert got_uniques.tolist() == list(want_uniques), (t, c)
    assert ev["cases"].loc[3, "status"] == "closed"


@pytest.mark.parametrize("seed", range(4))
def test_followup_children_match_the_multiindex_reference(seed):
    # the coded join of follow-ups to their children, against pandas' MultiIndex
    # (drop_duplicates keeps a child's first row; an id known only in another
    # mechanism is unknown here)
    from gm_eval.validate import _followup_children

    rng = np.random.default_rng(seed)
    n_ch, n_fu = 60, 200
    ch = pd.DataFrame({
        "mechanism_id": pd.Series(rng.choice(["M1", "M2", "M3"], n_ch), dtype="str"),
        "child_id": pd.Series([f"c{i}" for i in rng.integers(0, 40, n_ch)], dtype="str"),
        "identified_at": pd.to_datetime("2024-01-01") + pd.to_timedelta(
            rng.integers(0, 300, n_ch), unit="D"),
    })
    ch.loc[rng.integers(0, n_ch, 5), "identified_at"] = pd.NaT
    fu = pd.DataFrame({
        "mechanism_id": pd.Series(rng.choice(["M1", "M2", "M3", "M4"], n_fu), dtype="str"),
        "child_id": pd.Series([f"c{i}" for i in rng.integers(0, 50, n_fu)], dtype="str"),
    }, index=pd.RangeIndex(1, n_fu + 1))
    keys = ch.drop_duplicates(["mechanism_id", "child_id"]).set_index(
        ["mechanism_id", "child_id"])["identified_at"]
    idx = pd.MultiIndex.from_frame(fu[["mechanism_id", "child_id"]])
    want_ident = pd.Series(keys.reindex(idx).to_numpy(), index=fu.index)
    want_unknown = fu["child_id"].notna() & ~idx.isin(keys.index)
    ident, unknown = _followup_children(ch, fu)
    pd.testing.assert_series_equal(ident, want_ident)
    pd.testing.assert_series_equal(unknown, pd.Series(want_unknown, index=fu.index))
    assert 0 < unknown.sum() < n_fu and ident.notna().sum() > 0  # both kinds present
    # with a missing key part the MultiIndex route is taken: the same answer
    fu2 = fu.copy()
    fu2.loc[3, "child_id"] = None
    ident2, unknown2 = _followup_children(ch, fu2)
    assert not unknown2.loc[3]
    pd.testing.assert_series_equal(ident2.drop(3), ident.drop(3))
