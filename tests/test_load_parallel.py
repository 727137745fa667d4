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
