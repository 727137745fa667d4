"""``gm_eval.load`` reads, types and pseudonymises tables two at a time: same result as
the one-step ``validate_tables(read_data_dir(...))``, and no key made for invalid data."""

from __future__ import annotations

import pandas as pd
import pytest

from gm_eval import synth
from gm_eval.errors import ValidationFailed
from gm_eval.io import read_data_dir
from gm_eval.pseudonym import key_path
from gm_eval.validate import check_data_dir, load, validate_tables


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("load-parallel")
    synth.write_data_dir(synth.generate(n_mechanisms=12, n_cases=3000, seed=11), d)
    return d


def test_load_equals_validate_tables_of_the_raw_tables(data_dir, monkeypatch):
    monkeypatch.setenv("GM_EVAL_KEY", "00112233445566778899aabbccddeeff")
    ev = load(data_dir)
    ref, report = validate_tables(read_data_dir(data_dir))
    assert report.ok and ref is not None
    assert list(ev.tables) == list(ref.tables)
    for name in ev.tables:
        pd.testing.assert_frame_equal(ev[name], ref[name], check_exact=True)
    # ids really are pseudonyms (the precomputed ones were put in place)
    assert str(ev["cases"]["case_id"].dtype) == "UInt64"
    assert ev["cases"]["case_id"].notna().all()
    assert ev.sources == ref.sources and ev.as_of == ref.as_of


def test_pseudonyms_follow_the_key_file(data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("GM_EVAL_KEY", raising=False)
    monkeypatch.setenv("GM_EVAL_CONFIG_DIR", str(tmp_path / "cfg"))
    first = load(data_dir)["cases"]["case_id"]  # creates the key (no key yet)
    assert key_path().exists()
    second = load(data_dir)["cases"]["case_id"]  # precomputed with the existing key
    assert first.tolist() == second.tolist()


def test_invalid_data_creates_no_key(data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("GM_EVAL_KEY", raising=False)
    monkeypatch.setenv("GM_EVAL_CONFIG_DIR", str(tmp_path / "cfg"))
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in data_dir.iterdir():
        (bad / p.name).write_bytes(p.read_bytes())
    cases = pd.read_csv(bad / "cases.csv", dtype=str, keep_default_na=False)
    cases.loc[3, "status"] = "lost in the mail"
    cases.to_csv(bad / "cases.csv", index=False)
    report = check_data_dir(bad)
    assert not report.ok
    assert any(p.column == "status" and p.row == 5 for p in report.errors)
    with pytest.raises(ValidationFailed):
        load(bad)
    assert not key_path().exists()


@pytest.mark.parametrize("as_of", [None, "2025-03-31"])
def test_cross_table_findings_are_reported_as_by_the_one_step_path(data_dir, tmp_path, as_of):
    """Tables checked by the loader threads as soon as they are typed give the report
    (every problem, in the same order) that checking them all at the end gives."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in data_dir.iterdir():
        (bad / p.name).write_bytes(p.read_bytes())

    def edit(name, fn):
        df = pd.read_csv(bad / f"{name}.csv", dtype=str, keep_default_na=False)
        fn(df)
        df.to_csv(bad / f"{name}.csv", index=False)

    def cases(df):
        df.loc[3, "mechanism_id"] = "NOPE"  # not a mechanism
        df.loc[5, "closed_at"] = "2000-01-01"  # before received_at
        df.loc[7, ["status", "closed_at"]] = ["open", df.loc[7, "received_at"]]  # warning
        df.loc[9, "received_at"] = "2099-01-01"  # in the future / after as_of

    def workforce(df):
        df.loc[0, "female"] = str(int(df.loc[0, "headcount"]) + 1)

    def worker_survey(df):
        df.loc[2, ["used", "satisfied"]] = ["no", "4"]  # warning
        df.loc[4, "mechanism_id"] = "NOPE"

    edit("cases", cases)
    edit("workforce", workforce)
    edit("worker_survey", worker_survey)
    threaded = check_data_dir(bad, as_of=as_of)
    _, one_step = validate_tables(read_data_dir(bad), as_of=as_of)
    assert not threaded.ok
    assert threaded.format() == one_step.format()
    assert [p.format() for p in threaded.problems] == [p.format() for p in one_step.problems]
    kinds = {(p.table, p.column) for p in threaded.problems}
    assert {("cases", "mechanism_id"), ("cases", "closed_at"), ("cases", "status"),
            ("cases", "received_at"), ("workforce", "female"), ("worker_survey", "satisfied"),
            ("worker_survey", "mechanism_id")} <= kinds
