"""The hostile-input corpus (tests/hostile): clear messages, exit 2, nothing written,
inputs byte-identical; legitimate-but-dangerous text is read and neutralised."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from gm_eval.cli import main

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "hostile"
MINIMAL = HERE / "fixtures" / "minimal"
ENTRIES = yaml.safe_load((CORPUS / "corpus.yaml").read_text(encoding="utf-8"))


def _digest(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


def _data_dir(tmp_path: Path, entry: dict) -> Path:
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    target = d / entry["target"]
    suffix = Path(entry["file"]).suffix
    target.unlink()
    shutil.copy(CORPUS / entry["file"], target.with_suffix(suffix))
    return d


def test_corpus_is_large_and_complete():
    assert len(ENTRIES) >= 40
    files = {p.name for p in CORPUS.iterdir()} - {"corpus.yaml", "make_corpus.py"}
    assert {e["file"] for e in ENTRIES} | {"unsafe_mapping.yml"} == files
    assert {e["expect"] for e in ENTRIES} == {"accept", "reject"}


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["expect"] == "reject"],
                         ids=lambda e: e["file"])
def test_hostile_input_is_rejected_cleanly(tmp_path, capsys, entry):
    data = _data_dir(tmp_path, entry)
    before = _digest(data)
    out = tmp_path / "results"
    code = main(["score", str(data), "--out", str(out)])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == 2, text
    assert pytest.importorskip("re").search(entry["match"], text, flags=2), text  # re.I == 2
    assert "Traceback" not in text
    assert not out.exists(), "partial output written"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".results")]
    assert _digest(data) == before, "input modified"


def _all_output_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.glob("*.csv")))


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["expect"] == "accept"],
                         ids=lambda e: e["file"])
def test_hostile_but_legitimate_input_is_neutralised(tmp_path, capsys, entry):
    data = _data_dir(tmp_path, entry)
    before = _digest(data)
    out = tmp_path / "results"
    code = main(["score", str(data), "--out", str(out)])
    text = capsys.readouterr()
    assert code == 0, text
    assert _digest(data) == before
    # No CSV cell the toolkit writes may start a formula.
    for csv in out.glob("*.csv"):
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for col in df.columns:
            starts = df[col].str.match(r"^[=+@\t\r]") | df[col].str.match(r"^-[^0-9.]")
            assert not starts.any(), (csv.name, col, df.loc[starts, col].tolist())
    names = pd.read_parquet(out / "mechanisms.parquet")["name"].tolist()
    if entry["file"].startswith("formula_") and entry["target"] == "mechanisms.csv":
        csv_names = pd.read_csv(out / "mechanisms.csv", dtype=str)["name"].tolist()
        assert any(n.startswith("'") for n in csv_names)
    if entry["file"] in ("thai.csv", "khmer.csv", "bengali.csv"):
        raw = pd.read_csv(data / entry["target"], dtype=str)["name"].tolist()
        assert set(raw) == set(names)
    assert "AAAAAAAAAA" not in _all_output_text(out)


def test_unsafe_yaml_mapping_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(MINIMAL, data)
    pwned = Path("/tmp/gm-eval-pwned")
    pwned.unlink(missing_ok=True)
    code = main(["score", str(data), "--out", str(tmp_path / "out"),
                 "--mapping", str(CORPUS / "unsafe_mapping.yml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "safe YAML" in err and "unsafe_mapping.yml" in err
    assert not pwned.exists()
    assert not (tmp_path / "out").exists()
