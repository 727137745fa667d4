"""The publication boundary: suppression, complementary suppression, allowlist,
formula-safe writing and atomic replacement of the results directory."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gm_eval.errors import GmEvalError
from gm_eval.publish import (
    formula_safe,
    publish,
    suppress_counts,
    suppress_rates,
    write_results,
)
from gm_eval.results import read_results


def test_rates_with_small_denominator_are_withheld():
    df = pd.DataFrame({"mechanism_id": ["A", "A", "B"], "indicator_id": ["x", "y", "x"],
                       "criterion": "legitimate", "value": [1.0, 0.5, 0.2],
                       "ci_low": [0.4, 0.3, 0.1], "ci_high": [1.0, 0.7, 0.3], "n": [3, 40, 5],
                       "score": [100, 50, 20], "flags": ["small_n", "", "small_n"]})
    out = publish({"indicators": df}, k=5)["indicators"]
    assert out.loc[0, ["value", "ci_low", "ci_high", "n", "score"]].isna().all()
    assert out.loc[0, "flags"] == "small_n;suppressed"
    assert out.loc[1, "value"] == 0.5 and out.loc[2, "value"] == 0.2  # n == k is published
    assert out.loc[2, "flags"] == "small_n"


def test_self_assessment_indicators_are_not_suppressed():
    ind = pd.DataFrame({"mechanism_id": ["A", "A"], "indicator_id": ["a.sa", "a.rate"],
                        "criterion": "legitimate", "value": [0.75, 0.5], "n": [4, 4],
                        "flags": ["", ""]})
    cat = pd.DataFrame({"indicator_id": ["a.sa", "a.rate"],
                        "evidence_kind": ["self_assessment", "worker_survey"]})
    out = publish({"indicators": ind, "indicator_catalogue": cat}, k=5)["indicators"]
    assert out.loc[0, "value"] == 0.75 and out.loc[0, "n"] == 4
    assert np.isnan(out.loc[1, "value"]) and "suppressed" in out.loc[1, "flags"]


def test_counts_suppressed_with_a_complement():
    df = pd.DataFrame({"mechanism_id": "A", "month": "2025-01", "dimension": "category",
                       "group": ["wages", "child_labour", "other", "safety"],
                       "cases": [40, 2, 9, 0]})
    out = publish({"case_volume": df}, k=5)["case_volume"]
    # 2 is suppressed; 9 (the smallest other non-zero cell) goes too; zero stays
    assert out["cases"].tolist()[0] == 40
    assert np.isnan(out["cases"].tolist()[1]) and np.isnan(out["cases"].tolist()[2])
    assert out["cases"].tolist()[3] == 0
    assert out["flags"].tolist() == ["", "suppressed", "suppressed", ""]


def test_shares_go_with_their_counts():
    df = pd.DataFrame({"mechanism_id": "A", "survey": "worker", "item": "aware",
                       "response": ["yes", "no", "missing"], "count": [3, 50, 4],
                       "share": [3 / 57, 50 / 57, 4 / 57]})
    out = suppress_counts(df, "count", ["mechanism_id", "survey", "item"], k=5,
                          share_cols=["share"])
    assert out["share"].isna().tolist() == [True, False, True]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=6), min_size=1, max_size=5),
       st.integers(2, 10))
def test_property_no_lonely_suppressed_cell(groups, k):
    rows = [{"g": f"g{i}", "c": c} for i, cells in enumerate(groups) for c in cells]
    df = pd.DataFrame(rows)
    out = suppress_counts(df, "c", ["g"], k=k)
    sup = out["c"].isna()
    # every published count is zero or at least k
    pub = out.loc[~sup, "c"]
    assert ((pub == 0) | (pub >= k)).all()
    # no partition has exactly one suppressed cell unless nothing else could be suppressed
    for g, part in out.assign(sup=sup, orig=df["c"]).groupby("g"):
        if part["sup"].sum() == 1:
            others = part[~part["sup"] & (part["orig"] > 0)]
            assert others.empty, (g, part)
    # nothing at or above k is suppressed except complements
    assert (df.loc[sup, "c"] > 0).all()


def test_curve_points_with_few_at_risk_are_dropped():
    df = pd.DataFrame({"mechanism_id": "A", "interval": "received_to_closed",
                       "t": [0, 5, 10, 20], "survival": [1, 0.8, 0.5, 0.2],
                       "at_risk": [50, 20, 6, 3]})
    out = publish({"time_to_event": df}, k=5)["time_to_event"]
    assert out["t"].tolist() == [0, 5, 10]


def test_record_ids_and_unknown_tables_are_refused():
    with pytest.raises(GmEvalError, match="record-level"):
        publish({"indicators": pd.DataFrame({"case_id": [1], "value": [1.0]})})
    with pytest.raises(GmEvalError, match="not a documented"):
        publish({"raw_cases": pd.DataFrame({"x": [1]})})


def test_undocumented_columns_are_dropped():
    df = pd.DataFrame({"mechanism_id": ["A"], "company_id": ["C"], "name": ["N"],
                       "sector": ["s"], "mechanism_type": ["ogm"], "secret": ["x"]})
    out = publish({"mechanisms": df})["mechanisms"]
    assert "secret" not in out.columns
    assert out.columns[0] == "mechanism_id"


@pytest.mark.parametrize("cell,expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("plain", "plain"),
    ("a=b", "a=b"),
])
def test_formula_safe(cell, expected):
    out = formula_safe(pd.DataFrame({"a": [cell], "n": [-3]}))
    assert out["a"].iloc[0] == expected
    assert out["n"].iloc[0] == -3


def test_formula_safe_against_a_cell_by_cell_reference():
    """Screening distinct values gives what testing every cell with the regex does, on
    object columns mixing text, numbers and blanks, on ``str`` and categorical columns,
    on a non-default index; numbers are left alone."""
    import re

    rng = np.random.default_rng(5)
    pool = ["=1+1", "+x", "-", "-3", "@a", "\tt", "\rr", "\nn", "ok", "a=b", "", " =x"]
    n = 3000
    text = [pool[i] for i in rng.integers(0, len(pool), n)]
    mixed = [v if i % 5 else (-7 if i % 2 else np.nan) for i, v in enumerate(text)]
    df = pd.DataFrame({"obj": np.array(mixed, dtype=object), "s": pd.array(text, dtype="str"),
                       "cat": pd.Categorical(text), "num": rng.normal(size=n)},
                      index=np.arange(n) * 3 + 7)

    def reference(v):
        return "'" + v if isinstance(v, str) and re.match(r"^[=+\-@\t\r\n]", v) else v

    out = formula_safe(df)
    got, want = out["obj"].tolist(), [reference(v) for v in mixed]
    assert [type(v) for v in got] == [type(v) for v in want]
    assert [v for v in got if v == v] == [v for v in want if v == v]  # NaN aside
    assert out["s"].tolist() == [reference(v) for v in text]
    assert out["cat"].tolist() == [reference(v) for v in text]  # text categories too
    assert out["num"].equals(df["num"])
    assert out.index.equals(df.index)
    assert df["s"].tolist() == text  # the input is left as it was


def _tables(value: float) -> dict[str, pd.DataFrame]:
    return {"indicators": pd.DataFrame({"mechanism_id": ["A"], "indicator_id": ["x"],
                                        "criterion": ["legitimate"], "value": [value],
                                        "n": [50], "flags": [""]})}


def test_write_results_replaces_atomically(tmp_path):
    out = tmp_path / "res"
    write_results(_tables(0.25), {"as_of": pd.Timestamp("2025-01-31")}, out)
    res = read_results(out)
    assert res.manifest["as_of"] == "2025-01-31" and res.manifest["k"] == 5
    assert res.table("indicators")["value"].iloc[0] == 0.25
    (out / "stale.txt").write_text("from an earlier run")
    write_results(_tables(0.75), {}, out)
    assert not (out / "stale.txt").exists()
    assert read_results(out).table("indicators")["value"].iloc[0] == 0.75
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_failed_write_keeps_previous_results(tmp_path, monkeypatch):
    out = tmp_path / "res"
    write_results(_tables(0.25), {}, out)
    before = (out / "indicators.csv").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    import pyarrow.parquet as pq

    monkeypatch.setattr(pq, "write_table", boom)
    with pytest.raises(OSError):
        write_results(_tables(0.75), {}, out)
    assert (out / "indicators.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    assert json.loads((out / "manifest.json").read_text())["tables"] == ["indicators"]


def test_suppress_rates_doc_example():
    df = pd.DataFrame({"value": [0.5, 0.25], "n": [4, 40]})
    out = suppress_rates(df, k=5)
    assert out["flags"].tolist() == ["suppressed", ""]


def test_add_flag_matches_a_row_by_row_reference():
    """Flags are extended per distinct value; the result is what a row-by-row join gives."""
    import numpy as np

    from gm_eval.publish import _add_flag

    rng = np.random.default_rng(11)
    pool = np.array(["", "small_n", "suppressed", "small_n;suppressed", "not_covered", None],
                    dtype=object)
    for dtype in (object, "str"):
        for _ in range(50):
            n = int(rng.integers(0, 30))
            flags = pd.Series(rng.choice(pool, n), dtype=dtype, index=rng.permutation(n) + 7)
            mask = rng.random(n) < 0.5
            want = []
            for f, m in zip(flags.tolist(), mask, strict=True):
                f = "" if f is None or (isinstance(f, float) and np.isnan(f)) else f
                if m and "suppressed" not in f.split(";"):
                    f = "suppressed" if f == "" else f + ";suppressed"
                want.append(f)
            got = _add_flag(flags, pd.Series(mask, index=flags.index), "suppressed")
            assert got.tolist() == want
            assert got.index.equals(flags.index) and str(got.dtype) == "str"
