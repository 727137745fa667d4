"""Pseudonyms equal pandas' keyed hash, cell for cell, whatever the input's form.

The reference is computed independently of :func:`gm_eval.pseudonym.pseudonymise`:
``pandas.util.hash_pandas_object`` on the non-missing values as Python objects, with
the same 16-character key, missing values left missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gm_eval.pseudonym import _siphash_key, pseudonymise

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
OTHER_KEY = bytes(range(16))


def _reference(values, key: bytes = KEY) -> list[int | None]:
    """pandas' own hash of each non-missing value; None where the value is missing."""
    values = list(values)
    present = [v for v in values if not pd.isna(v)]
    hashed = pd.util.hash_pandas_object(pd.Series(present, dtype=object), index=False,
                                        hash_key=_siphash_key(key), categorize=False)
    it = iter(int(h) for h in hashed)
    return [None if pd.isna(v) else next(it) for v in values]


def _check(ids: pd.Series, values=None, key: bytes = KEY) -> pd.Series:
    """Assert ``pseudonymise(ids)`` equals the reference; return it."""
    got = pseudonymise(ids, key)
    assert str(got.dtype) == "UInt64"
    assert got.index.equals(ids.index)
    assert len(got) == len(ids)
    expected = _reference(ids.astype(object) if values is None else values, key)
    assert [None if pd.isna(v) else int(v) for v in got] == expected
    return got


ASCII = ["".join(chr(48 + (i * 7 + j) % 75) for j in range(n)) for i, n in
         enumerate(range(41))]  # every length 0..40: block boundaries 7/8/9, 15/16/17, ...
UNICODE = ["é", "café", "ผู้ร้องเรียน", "🙂", "a🙂b", "Ωmega-ü-" * 3, "日本語のID-0001",
           "é" * 4, "é" * 8, "\u0000", "tab\tnew\nline"]


@pytest.mark.parametrize("dtype", ["str", "object", "string", pd.ArrowDtype(pa.string()),
                                   pd.ArrowDtype(pa.large_string()),
                                   pd.StringDtype("python")])
def test_every_length_and_utf8(dtype):
    values = ASCII + UNICODE + [""]
    _check(pd.Series(values, dtype=dtype), values)


@pytest.mark.parametrize("dtype", ["str", "object", "string", pd.ArrowDtype(pa.string())])
def test_missing_values_stay_missing(dtype):
    values = ["C000123456-XYZ", None, "", "x" * 17, None, "é", None]
    got = _check(pd.Series(values, dtype=dtype), values)
    assert got.isna().tolist() == [v is None for v in values]
    # the empty string is not missing, and differs from the other ids
    assert got.notna()[2] and got[2] not in {got[0], got[3], got[5]}


def test_object_missing_kinds():
    values = ["a", None, np.nan, pd.NA, "b"]
    got = _check(pd.Series(values, dtype=object), values)
    assert got.isna().tolist() == [False, True, True, True, False]


def test_all_missing_and_empty():
    for dtype in ("str", "object"):
        assert pseudonymise(pd.Series([None, None], dtype=dtype), KEY).isna().all()
        empty = pseudonymise(pd.Series([], dtype=dtype), KEY)
        assert len(empty) == 0 and str(empty.dtype) == "UInt64"


def test_non_default_index():
    values = ["b-2", "a-1", None, "c-3" * 5]
    ids = pd.Series(values, index=pd.Index([10, 3, 7, -1], name="row"), dtype="str",
                    name="case_id")
    got = _check(ids, values)
    assert got.index.equals(ids.index)
    ids_obj = pd.Series(values, index=["w", "x", "y", "z"], dtype=object)
    assert _check(ids_obj, values).index.tolist() == ["w", "x", "y", "z"]


def test_slices_and_reordered_rows():
    values = [f"C{i:09d}-XYZ" if i % 5 else None for i in range(300)]
    ids = pd.Series(values, dtype="str")
    part = ids.iloc[37:251:3]
    _check(part, values[37:251:3])
    rev = ids.iloc[::-1]
    _check(rev, values[::-1])


@pytest.mark.parametrize("large", [False, True])
def test_chunked_arrow_arrays(large):
    typ = pa.large_string() if large else pa.string()
    chunks = [["a", "bb", None], [], ["C000000001-XYZ", "é" * 9], ["x" * 40, None, ""]]
    arr = pa.chunked_array([pa.array(c, type=typ) for c in chunks], type=typ)
    values = [v for c in chunks for v in c]
    for dtype in (pd.StringDtype("pyarrow"), pd.ArrowDtype(typ)):
        ids = pd.Series(pd.array(arr, dtype=dtype))
        _check(ids, values)
    # a slice that starts inside a chunk (the Arrow arrays have an offset)
    sliced = pd.Series(pd.array(arr.slice(2, 6), dtype=pd.ArrowDtype(typ)))
    _check(sliced, values[2:8])


def test_read_parquet_column(tmp_path):
    values = [f"M{i % 7:02d}-{i:05d}" for i in range(2000)] + [None, "", "é"]
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"case_id": pa.array(values)}), path, row_group_size=300)
    ids = pd.read_parquet(path, columns=["case_id"])["case_id"]  # as the loader reads it
    assert str(ids.dtype) == "str" and pa.array(ids.array).num_chunks > 1
    _check(ids, values)


def test_randomised_ids():
    rng = np.random.default_rng(20261202)
    alphabet = list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_ ")
    alphabet += ["é", "ß", "ก", "ข", "日", "🙂", "\u200b"]
    lengths = rng.integers(0, 70, 10_000)
    values = ["".join(rng.choice(alphabet, n)) for n in lengths]
    for i in rng.choice(10_000, 300, replace=False):
        values[i] = None
    for dtype in ("str", "object"):
        _check(pd.Series(values, dtype=dtype), values)
    _check(pd.Series(values, dtype="str"), values, key=OTHER_KEY)


def test_long_ids():
    values = ["L" * n for n in (255, 256, 257, 300, 1000, 5000)] + ["short", None]
    values += ["é" * 200]  # 400 bytes of UTF-8
    for dtype in ("str", "object"):
        _check(pd.Series(values, dtype=dtype), values)


def _check_against_pandas_route(ids: pd.Series) -> None:
    """pseudonymise(ids) equals pandas' keyed hash of the cells as objects, missing kept."""
    got = pseudonymise(ids, KEY)
    text = ids.astype(object)
    missing = text.isna()
    ref = pd.util.hash_pandas_object(text.where(~missing, ""), index=False,
                                     hash_key=_siphash_key(KEY), categorize=False)
    expected = [None if m else int(h) for h, m in zip(ref, missing, strict=True)]
    assert [None if pd.isna(v) else int(v) for v in got] == expected


def test_non_text_object_values():
    # not strings: pandas hashes their text (str(v)); the result must not change
    for values in ([1, 2, 3], [1, "1", 2.5, None], [b"bytes", "bytes"], [("t", 1), "x"]):
        ids = pd.Series(values, dtype=object)
        _check_against_pandas_route(ids)


def test_numeric_and_categorical_ids():
    for ids in (pd.Series([10, 20, 10]), pd.Series([1.5, np.nan]),
                pd.Series(pd.array([7, None], dtype="Int64")),
                pd.Series(["a", "b", None, "a"], dtype="category")):
        _check_against_pandas_route(ids)


def test_same_id_same_pseudonym_across_forms():
    ids = ["C000123456-XYZ", "é-1", ""]
    forms = [pd.Series(ids, dtype=d) for d in ("str", "object", "string")]
    forms.append(pd.Series(pd.array(pa.chunked_array([ids[:1], ids[1:]]),
                                    dtype=pd.ArrowDtype(pa.string()))))
    got = [pseudonymise(s, KEY).tolist() for s in forms]
    assert all(g == got[0] for g in got)
    assert pseudonymise(forms[0], OTHER_KEY).tolist() != got[0]


def test_bad_key():
    with pytest.raises(ValueError, match="16 bytes"):
        pseudonymise(pd.Series(["a"]), b"short")


# -- the vectorised SipHash itself ---------------------------------------------------

#: SipHash-2-4 test vectors of the reference implementation (Aumasson & Bernstein,
#: github.com/veorq/SipHash vectors.h): key 00 01 .. 0f, message 00 01 .. (n-1),
#: output as little-endian bytes.
SIPHASH_VECTORS = {
    0: "310e0edd47db6f72",
    7: "37d1018bf50002ab",
    8: "6224939a79f5f593",
    15: "e545be4961ca29a1",  # the paper's example: 0xa129ca6149be45e5
    16: "db9bc2577fcc2a3f",
    63: "724506eb4c328a95",
}


def test_siphash24_reference_vectors():
    from gm_eval.pseudonym import _siphash24

    key = bytes(range(16))
    lengths = sorted(SIPHASH_VECTORS)
    for typ in (pa.binary(), pa.large_binary()):
        got = _siphash24(pa.array([bytes(range(n)) for n in lengths], type=typ), key)
        assert [int(h) for h in got] == [int.from_bytes(bytes.fromhex(SIPHASH_VECTORS[n]), "little")
                                         for n in lengths]
    assert int(_siphash24(pa.array([bytes(range(15))]), key)[0]) == 0xA129CA6149BE45E5


def test_siphash24_equals_pandas_before_its_mixer():
    from pandas._libs.hashing import hash_object_array

    from gm_eval.pseudonym import _siphash24

    hash_key = _siphash_key(KEY)
    messages = [bytes(range(n)) for n in range(80)] + [bytes([255] * n) for n in range(20)]
    raw = hash_object_array(np.array(messages, dtype=object), hash_key)
    got = _siphash24(pa.array(messages, type=pa.binary()), hash_key.encode("utf8"))
    assert np.array_equal(got, raw)


def test_fast_path_is_used_for_text(monkeypatch):
    import gm_eval.pseudonym as ps

    def no_pandas(*args, **kwargs):
        raise AssertionError("pandas route used")

    monkeypatch.setattr(ps, "_pseudonymise_pandas", no_pandas)
    values = ["C000123456-XYZ", None, "é"]
    for dtype in ("str", "string", pd.ArrowDtype(pa.string()), pd.ArrowDtype(pa.large_string())):
        _check(pd.Series(values, dtype=dtype), values)
    _check(pd.Series(pd.array(pa.array([b"ab", None, b"\xff"]), dtype=pd.ArrowDtype(pa.binary()))),
           [b"ab", None, b"\xff"])


def test_fast_path_in_small_steps(monkeypatch):
    import gm_eval.pseudonym as ps

    monkeypatch.setattr(ps, "_ROWS_PER_STEP", 7)  # many steps, each an offset Arrow slice
    monkeypatch.setattr(ps, "_MAX_FAST_BYTES", 20)  # some ids hashed by pandas in each step
    rng = np.random.default_rng(7)
    values = ["".join(rng.choice(list("abcé🙂-0123"), n)) for n in rng.integers(0, 30, 500)]
    values[::11] = [None] * len(values[::11])
    arr = pa.chunked_array([pa.array(values[:123]), pa.array(values[123:])])
    _check(pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow"))), values)
    _check(pd.Series(values, dtype="str"), values)
    raw = [None if v is None else v.encode() for v in values]
    binary = pa.chunked_array([pa.array(raw[:100], pa.binary()), pa.array(raw[100:], pa.binary())])
    _check(pd.Series(pd.array(binary, dtype=pd.ArrowDtype(pa.binary()))), raw)


def test_slow_steps_grow_and_give_the_same_pseudonyms(monkeypatch):
    # a step slower than _SLOW_STEP (the GIL held elsewhere) makes the next ones 4x bigger
    import gm_eval.pseudonym as ps

    sizes = []
    real = ps._siphash24

    def spy(arr, *args, **kwargs):
        sizes.append(len(arr))
        return real(arr, *args, **kwargs)

    monkeypatch.setattr(ps, "_siphash24", spy)
    monkeypatch.setattr(ps, "_ROWS_PER_STEP", 7)
    monkeypatch.setattr(ps, "_MAX_ROWS_PER_STEP", 100)
    values = [f"id-{i}" for i in range(1000)]
    values[::13] = [None] * len(values[::13])
    arr = pa.chunked_array([pa.array(values[:333]), pa.array(values[333:])])
    monkeypatch.setattr(ps, "_SLOW_STEP", 0.0)  # every step is slow
    _check(pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow"))), values)
    assert sizes[:4] == [7, 28, 100, 100] and sum(sizes) == 1000
    sizes.clear()
    monkeypatch.setattr(ps, "_SLOW_STEP", 1e9)  # none is
    _check(pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow"))), values)
    assert set(sizes[:-1]) == {7} and sum(sizes) == 1000


def test_same_series_as_the_pandas_route():
    from gm_eval.pseudonym import _pseudonymise_pandas

    values = ["C000123456-XYZ", None, "", "é" * 130, "x"]
    for dtype in ("str", "object", "string"):
        ids = pd.Series(values, index=[5, 4, 3, 2, 1], dtype=dtype, name="case_id")
        pd.testing.assert_series_equal(pseudonymise(ids, KEY),
                                       _pseudonymise_pandas(ids, _siphash_key(KEY)))
