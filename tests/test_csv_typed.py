"""The CSV reader's typed fast path gives exactly what the text path gives.

The fast path types date, whole-number and yes/no columns in Arrow when every
cell is in its strict form; any other column stays text for validation. The
loaded evidence and the validation report must be identical either way,
whatever the cells hold.
"""

from __future__ import annotations

import pandas as pd
import pytest

import gm_eval.io.readers as readers
from gm_eval import load, synth
from gm_eval.validate import check_data_dir


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("csvtyped") / "data"
    synth.write_data_dir(synth.generate(n_mechanisms=12, n_cases=1200, seed=3), out, fmt="csv")
    return out


def _both(data_dir, monkeypatch, **kw):
    typed = load(data_dir, **kw)
    with monkeypatch.context() as m:
        m.setattr(readers, "_typed_columns", lambda *a, **k: {})
        text = load(data_dir, **kw)
    return typed, text


def test_clean_data_is_typed_in_arrow_and_loads_identically(clean_dir, monkeypatch):
    raw = readers.read_table_file("cases", clean_dir / "cases.csv")
    assert str(raw.frame["received_at"].dtype).startswith("datetime64")
    assert str(raw.frame["anonymous"].dtype) == "boolean"
    typed, text = _both(clean_dir, monkeypatch)
    assert list(typed.tables) == list(text.tables)
    for name in typed.tables:
        pd.testing.assert_frame_equal(typed.tables[name], text.tables[name], check_exact=True)


def _excel_serial(iso: str) -> str:
    return str((pd.Timestamp(iso) - pd.Timestamp("1899-12-30")).days)


#: Other ways of writing a cell's own value that validation accepts; each keeps its
#: column as text (the first two are in the strict form and typed in Arrow).
ODD = {
    "received_at": [lambda v: v, lambda v: pd.Timestamp(v).strftime("%Y-%-m-%-d"), lambda v: v + "T10:30:00",
                    lambda v: " " + v, _excel_serial],
    "age": [lambda v: v, lambda v: "+" + v, lambda v: "0" + v, lambda v: v + ".0", lambda v: " " + v],
    "anonymous": [lambda v: v, lambda v: v.upper(), lambda v: v[0], lambda v: " " + v,
                  lambda v: {"true": "1.0", "false": "0.0"}.get(v.lower(), v)],
}


@pytest.mark.parametrize("column, i", [(c, i) for c, fs in ODD.items() for i in range(len(fs))])
def test_odd_but_valid_cells_give_the_same_evidence(clean_dir, tmp_path, monkeypatch, column, i):
    d = tmp_path / "d"
    d.mkdir()
    for f in clean_dir.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    cases = pd.read_csv(d / "cases.csv", dtype=str, keep_default_na=False)
    row = int(cases.index[cases[column] != ""][3])
    cases.loc[row, column] = ODD[column][i](cases.loc[row, column])
    cases.to_csv(d / "cases.csv", index=False)
    typed, text = _both(d, monkeypatch)
    for name in typed.tables:
        pd.testing.assert_frame_equal(typed.tables[name], text.tables[name], check_exact=True)


@pytest.mark.parametrize("column, value, words", [
    ("received_at", "2025-02-30", "is not a date"),
    ("received_at", "1985-01-01", "before 1990"),
    ("age", "200", "out of range"),
    ("age", "12a", "not a whole number"),
    ("anonymous", "maybe", "yes/no"),
])
def test_bad_cells_are_reported_the_same_way(clean_dir, tmp_path, monkeypatch, column, value, words):
    d = tmp_path / "d"
    d.mkdir()
    for f in clean_dir.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    cases = pd.read_csv(d / "cases.csv", dtype=str, keep_default_na=False)
    cases.loc[3, column] = value
    cases.to_csv(d / "cases.csv", index=False)
    typed = check_data_dir(d)
    with monkeypatch.context() as m:
        m.setattr(readers, "_typed_columns", lambda *a, **k: {})
        text = check_data_dir(d)
    assert typed.format() == text.format()
    located = [p for p in typed.errors if p.file == "cases.csv" and p.column == column]
    assert located and located[0].row == 5 and words in typed.format()


def test_mapping_recodes_and_formats_keep_columns_as_text(tmp_path):
    from gm_eval.io.mapping import load_mapping

    tm = load_mapping({"tables": {"cases": {"dates": {"received_at": "%d/%m/%Y"},
                                            "values": {"anonymous": {"oui": "yes", "non": "no"}},
                                            "columns": {"Age": "age"}}}}).for_table("cases")
    kinds = readers._typed_columns("cases", ["received_at", "closed_at", "anonymous", "Age", "status"], tm)
    assert kinds == {"closed_at": "date", "Age": "int"}
    assert readers._typed_columns("not_a_table", ["x"], tm) == {}


def test_strict_forms_only():
    import pyarrow as pa

    from gm_eval.io.mapping import Mapping

    tm = Mapping().for_table("cases")
    col = pa.chunked_array([["2024-01-05", None, "2024-12-31"]])
    out = readers._arrow_typed(col, "date", tm)
    assert out is not None and out.type == pa.timestamp("s")
    for bad in (["2024-02-30"], ["2024-2-5"], ["05/01/2024"]):
        assert readers._arrow_typed(pa.chunked_array([bad]), "date", tm) is None
    assert readers._arrow_typed(pa.chunked_array([["-3", "12", None]]), "int", tm).to_pylist() == [-3, 12, None]
    for bad in (["+5"], ["05"], ["5.0"], ["1e3"]):
        assert readers._arrow_typed(pa.chunked_array([bad]), "int", tm) is None
    yn = readers._arrow_typed(pa.chunked_array([["yes", "N", "true", None, "0"]]), "bool", tm)
    assert yn.to_pylist() == [True, False, True, None, False]
    assert readers._arrow_typed(pa.chunked_array([["yes", "perhaps"]]), "bool", tm) is None


def test_columns_outside_the_contract_never_reach_pandas_and_rows_keep_their_meaning(clean_dir, tmp_path):
    raw = readers.read_table_file("cases", clean_dir / "cases.csv")
    assert not {"complainant_name", "phone", "description"} & set(raw.frame.columns)
    assert raw.dropped_columns == ["complainant_name", "phone", "description"]
    # a row that holds only a note in an extra column is not a blank row: it is reported
    d = tmp_path / "d"
    d.mkdir()
    for f in clean_dir.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    cases = pd.read_csv(d / "cases.csv", dtype=str, keep_default_na=False)
    note = {c: "" for c in cases.columns} | {"description": "see the paper log"}
    pd.concat([cases, pd.DataFrame([note])]).to_csv(d / "cases.csv", index=False)
    report = check_data_dir(d)
    last = len(cases) + 2
    assert any(p.file == "cases.csv" and p.row == last for p in report.errors)
    assert "see the paper log" not in report.format(), "extra columns never reach any output"
