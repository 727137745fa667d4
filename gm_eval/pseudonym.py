"""Keyed pseudonyms for record ids (cases, survey respondents, children).

Record ids are replaced at load time, before any computation, by a keyed hash
kept as an unsigned 64-bit integer, so nothing downstream ever holds a user's own
case, respondent or child ids. Pseudonyms are stable for one key (joins between
tables, such as CLMS children and their follow-up visits, keep working) and cannot
be reversed or recomputed without the key.

The hash is the one ``pandas.util.hash_pandas_object(ids, index=False,
hash_key=k, categorize=False)`` gives, bit for bit:

1. ``k`` is a 16-character ASCII key derived from the 128-bit secret (94 symbols a
   character, about 105 bits), and SipHash-2-4's 128-bit key is ``k.encode()``;
2. each id is hashed as its UTF-8 bytes with SipHash-2-4 (8-byte little-endian
   blocks, the last one holding the 0-7 remaining bytes and ``len << 56``; 2
   compression rounds a block, 4 finalisation rounds);
3. the 64-bit result is redistributed by pandas' splitmix64-style mixer
   (``h ^= h >> 30; h *= 0xbf58476d1ce4e5b9; h ^= h >> 27;
   h *= 0x94d049bb133111eb; h ^= h >> 31``).

Text ids held by Arrow (pandas ``str``, as the loader types them) are hashed by a
vectorised SipHash over all the rows of a slice at once (numpy operations on
``uint64`` arrays, reading the bytes straight from the Arrow buffers: no Python
object per cell, and the GIL released for most of the time, so other tables can be
typed meanwhile). Ids longer than 256 bytes, and other columns (object columns,
whose cells are Python objects already, numbers, ...) go through
``hash_pandas_object`` itself. Missing ids stay missing.

The key lives in local configuration and is never written to any output:

1. the environment variable ``GM_EVAL_KEY`` (32 hexadecimal digits), else
2. the file ``$GM_EVAL_CONFIG_DIR/pseudonym.key`` (default
   ``~/.config/gm-eval/pseudonym.key``), created with a random key and
   permissions 0600 on first use.

A company that keeps its key can recompute the pseudonym of one of its own case
ids with :func:`pseudonymise` to follow it up; nobody else can.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from gm_eval.errors import InputError

__all__ = [
    "RECORD_ID_COLUMNS",
    "text_fingerprints",
    "key_path",
    "get_key",
    "pseudonymise",
    "pseudonym_columns",
    "pseudonymise_tables",
]

#: Columns holding record ids, per table.
RECORD_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": ("case_id",),
    "worker_survey": ("respondent_id",),
    "child_survey": ("respondent_id",),
    "clms_children": ("child_id",),
    "clms_followups": ("child_id",),
}


def key_path() -> Path:
    """Where the local pseudonymisation key is kept."""
    base = os.environ.get("GM_EVAL_CONFIG_DIR")
    root = Path(base) if base else Path.home() / ".config" / "gm-eval"
    return root / "pseudonym.key"


def get_key(create: bool = True) -> bytes:
    """The 16-byte pseudonymisation key from the environment or local configuration.

    Parameters
    ----------
    create : bool
        Create a random key file when none exists.

    Raises
    ------
    gm_eval.errors.InputError
        When ``GM_EVAL_KEY`` or the key file does not hold 32 hexadecimal digits.
    """
    env = os.environ.get("GM_EVAL_KEY")
    if env:
        return _parse_key(env, "GM_EVAL_KEY")
    path = key_path()
    if path.exists():
        return _parse_key(path.read_text(encoding="ascii", errors="replace").strip(), str(path))
    if not create:
        raise InputError(f"no pseudonymisation key at {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return bytes.fromhex(key)


def _parse_key(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 16:
        raise InputError(f"{where}: the pseudonymisation key must be 32 hexadecimal digits")
    return key


_ALPHABET = "".join(chr(c) for c in range(33, 127))  # 94 printable ASCII characters


def _siphash_key(key: bytes) -> str:
    """The 16-character ASCII key pandas' SipHash takes (about 105 bits of the secret)."""
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in key)


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Replace ids by keyed 64-bit hashes (unsigned integers).

    Arrow text ids (pandas ``str``, as the loader types them) are hashed by
    :func:`_hash_text`, a vectorised SipHash-2-4 that reads the UTF-8 bytes straight
    from the Arrow buffers and releases the GIL for most of its time; other columns
    (object, numbers, ...) go through ``pandas.util.hash_pandas_object``. Both give
    the same pseudonym for the same id.

    Parameters
    ----------
    ids : Series
        Record ids (text); missing values stay missing.
    key : bytes
        16-byte secret key.

    Returns
    -------
    Series
        ``UInt64`` pseudonyms, same index.

    Raises
    ------
    ValueError
        When ``key`` is not 16 bytes long.

    Examples
    --------
    >>> k = bytes(range(16))
    >>> a = pseudonymise(pd.Series(["c1", "c2", "c1"]), k)
    >>> bool(a[0] == a[2] and a[0] != a[1])
    True
    """
    if len(key) != 16:
        raise ValueError("key must be 16 bytes")
    hash_key = _siphash_key(key)
    text = _as_arrow_text(ids)
    if text is None:
        return _pseudonymise_pandas(ids, hash_key)
    arr, missing = text
    hashed = _hash_text(arr, missing, hash_key)
    return pd.Series(pd.arrays.IntegerArray(hashed, missing), index=ids.index)


def _pseudonymise_pandas(ids: pd.Series, hash_key: str) -> pd.Series:
    """:func:`pseudonymise` through ``pandas.util.hash_pandas_object`` (any dtype)."""
    text = ids.astype(object)
    missing = text.isna()
    hashed = pd.util.hash_pandas_object(text.where(~missing, ""), index=False,
                                        hash_key=hash_key, categorize=False)
    out = pd.Series(hashed.to_numpy(dtype=np.uint64), index=ids.index, dtype="UInt64")
    return out.mask(missing)


# -- vectorised SipHash-2-4 ---------------------------------------------------------
#
# pandas hashes a text cell as SipHash-2-4 of its UTF-8 bytes, keyed by the 16 bytes
# of ``hash_key.encode("utf8")`` (pandas/_libs/hashing.pyx, after the reference
# implementation), then redistributes the 64-bit result with a splitmix64-style mixer
# (pandas/core/util/hashing.py, _hash_ndarray). The same computation here runs on
# all the rows of a slice at once, as numpy operations on uint64 arrays (which wrap
# around on overflow and release the GIL).

#: Ids longer than this (in UTF-8 bytes) are hashed by pandas (those rows only).
_MAX_FAST_BYTES = 256
#: Rows hashed together: 32,768 (about 4 MB of work arrays) stay in the processor's
#: cache, about twice as fast as 131,072 on the 2-core reference machine. Each step is
#: about 180 numpy calls, each of which gives the GIL away and must take it back.
_ROWS_PER_STEP = 32768
#: ... up to this many, when a step is slow: another thread holding the GIL makes every
#: numpy call wait (up to ``sys.getswitchinterval()``, 5 ms), so a starved hash takes
#: bigger steps, with fewer calls for the same rows.
_MAX_ROWS_PER_STEP = 1 << 20
#: A step slower than this (seconds, about ten times its usual time) counts as starved.
_SLOW_STEP = 0.03

_TEXT_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
               pa.types.is_large_binary)
#: ``_TAIL[r]`` keeps the low ``r`` bytes of a word (all 8 from ``r = 8``).
_TAIL = np.array([(1 << (8 * r)) - 1 for r in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _as_arrow_text(ids: pd.Series) -> tuple[pa.ChunkedArray, np.ndarray] | None:
    """The ids as Arrow text and their missing-value mask, or None when not Arrow text.

    ``str``/``string`` with Arrow storage (what the loader makes) and ``ArrowDtype``
    string or binary columns qualify; their arrays are used as they are (no copy).
    Object columns do not: their cells are Python objects already, and converting
    them to Arrow costs about as much CPU, holding the GIL, as pandas' own hashing.
    """
    dtype = ids.dtype
    arrow = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype) and (
            any(t(dtype.pyarrow_dtype) for t in _TEXT_TYPES)
            or pa.types.is_string_view(dtype.pyarrow_dtype)))
    if not arrow:
        return None
    arr = pa.array(ids.array)
    if not isinstance(arr, pa.ChunkedArray):
        arr = pa.chunked_array([arr], type=arr.type)
    if not any(t(arr.type) for t in _TEXT_TYPES):  # string_view
        arr = arr.cast(pa.large_string())
    return arr, ids.isna().to_numpy(dtype=bool)


def _hash_text(text: pa.ChunkedArray, missing: np.ndarray, hash_key: str) -> np.ndarray:
    """pandas' hash of every cell of Arrow text (missing cells: any value).

    Parameters
    ----------
    text : pyarrow.ChunkedArray
        ``string``, ``large_string``, ``binary`` or ``large_binary``.
    missing : ndarray of bool
        Cells not to hash (their result is arbitrary), one per row of ``text``.
    hash_key : str
        pandas' 16-character hash key.

    Returns
    -------
    ndarray of uint64
        Equal to ``pandas.util.hash_array`` of the cells as Python objects
        (``categorize=False``).

    Notes
    -----
    The rows are hashed ``_ROWS_PER_STEP`` at a time, whatever the chunks (a step
    that spans chunks concatenates them): the number of numpy calls, and so of times
    the GIL is taken back, is about 180 a step. A step slower than ``_SLOW_STEP``
    seconds (the GIL held by another thread) makes the next steps four times bigger,
    up to ``_MAX_ROWS_PER_STEP``.
    """
    key = hash_key.encode("utf8")
    out = np.empty(len(missing), dtype=np.uint64)
    step, row = _ROWS_PER_STEP, 0
    while row < len(text):
        started = time.perf_counter()
        part = _rows_as_one_array(text, row, step)
        n = len(part)
        skip = missing[row:row + n]
        offsets = _offsets(part)
        long = (offsets[1:] - offsets[:-1]) > _MAX_FAST_BYTES
        long &= ~skip
        h = _mix(_siphash24(part, key, skip | long, offsets))
        if long.any():  # rare: pandas hashes them (no wide padding for every row)
            where = np.flatnonzero(long)
            slow = np.array(part.take(pa.array(where)).to_pylist(), dtype=object)
            h[where] = pd.util.hash_array(slow, hash_key=hash_key, categorize=False)
        out[row:row + n] = h
        row += n
        if time.perf_counter() - started > _SLOW_STEP * step / _ROWS_PER_STEP:
            step = min(4 * step, _MAX_ROWS_PER_STEP)
    return out


_FOLD = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection mod 2**64
_FOLD_SHIFT = np.uint64(29)


def text_fingerprints(text: pa.ChunkedArray) -> np.ndarray:
    """A cheap 64-bit fingerprint of every cell of Arrow text: equal text, equal value.

    Not a pseudonym (no key, not collision-resistant): a screen for equal values. Two
    cells with different fingerprints certainly differ; two with the same one may not
    (look at them). Each message word of a cell (:func:`_message_words`, as SipHash
    reads them) is folded in with a multiply and a shift, about a tenth of SipHash's work, ``_ROWS_PER_STEP`` rows at a time (in the
    processor's cache). Missing cells get an arbitrary value.

    Parameters
    ----------
    text : pyarrow.ChunkedArray
        ``string``, ``large_string``, ``binary`` or ``large_binary``.

    Returns
    -------
    ndarray of uint64
    """
    out = np.empty(len(text), dtype=np.uint64)
    for row in range(0, len(text), _ROWS_PER_STEP):
        part = _rows_as_one_array(text, row, _ROWS_PER_STEP)
        offsets = _offsets(part)
        h = np.zeros(len(part), dtype=np.uint64)
        for rows, m in _message_words(part, offsets, offsets[1:] - offsets[:-1]):
            g = h if rows is None else h[rows]
            g ^= m
            g *= _FOLD
            g ^= g >> _FOLD_SHIFT
            if rows is not None:
                h[rows] = g
        out[row:row + len(part)] = h
    return out


def _rows_as_one_array(text: pa.ChunkedArray, row: int, n: int) -> pa.Array:
    """Rows ``row .. row + n`` of Arrow text as one array (chunks it spans concatenated,
    with large offsets: no overflow)."""
    chunks = [c for c in text.slice(row, n).chunks if len(c)]
    if len(chunks) == 1:
        return chunks[0]
    large = pa.large_binary() if pa.types.is_binary(text.type) or pa.types.is_large_binary(
        text.type) else pa.large_string()
    return pa.concat_arrays([c.cast(large) for c in chunks])


def _message_words(arr: pa.Array, offsets: np.ndarray, lengths: np.ndarray):
    """Yield ``(rows, word)``: word ``j`` of every cell's message, for ``j = 0, 1, ...``.

    A cell of ``L`` bytes (``lengths``: 0 for cells to treat as empty) is one 8-byte
    little-endian word per full block, then a last word holding its 0-7 remaining
    bytes and ``L << 56`` (``L // 8 + 1`` words, as SipHash pads). Word ``j`` of every
    row is read at once from a zero-padded copy of the data buffer, through a view of
    it with 8-byte items at every byte position (``start + 8 j``), and masked to the
    row's remaining bytes. ``rows`` is None while every row has a word ``j``, then the
    rows that still do; ``word`` holds their words (uint64).
    """
    n = len(arr)
    lo, hi = int(offsets[0]), int(offsets[-1])
    buf = np.zeros(hi - lo + 8, dtype=np.uint8)
    if hi > lo:
        buf[:hi - lo] = np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=hi - lo, offset=lo)
    # 8 bytes read at any byte position p <= hi - lo, little-endian (unaligned view)
    words_at = np.ndarray((hi - lo + 1,), dtype="<u8", buffer=buf, strides=(1,))
    pos = offsets[:-1] - lo
    nwords = (lengths >> 3) + 1
    len_word = lengths.astype(np.uint64)
    len_word &= np.uint64(0xFF)
    len_word <<= np.uint64(56)
    all_rows = int(nwords.min()) if n else 0  # words every row has
    for j in range(int(nwords.max()) if n else 0):
        if j < all_rows:
            rows = None
            p, rest, lw = pos + 8 * j, lengths, len_word
        else:
            rows = np.flatnonzero(nwords > j)
            p, rest, lw = pos[rows] + 8 * j, lengths[rows], len_word[rows]
        m = words_at[p].astype(np.uint64, copy=False)
        if j >= all_rows - 1:  # the last word of some rows: its tail bytes and len << 56
            keep = _TAIL.take(rest - 8 * j, mode="clip")
            m &= keep
            np.invert(keep, out=keep)
            keep &= lw
            m |= keep
        yield rows, m


def _offsets(arr: pa.Array) -> np.ndarray:
    """The ``len(arr) + 1`` value offsets of an Arrow text array, as int64."""
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    dtype = np.dtype(np.int64 if large else np.int32)
    buf = arr.buffers()[1]
    if buf is None:  # an empty array may have no buffers
        return np.zeros(len(arr) + 1, dtype=np.int64)
    off = np.frombuffer(buf, dtype=dtype, count=len(arr) + 1, offset=arr.offset * dtype.itemsize)
    return off.astype(np.int64)


def _siphash24(arr: pa.Array, key: bytes, skip: np.ndarray | None = None,
               offsets: np.ndarray | None = None) -> np.ndarray:
    """SipHash-2-4 of the bytes of each cell of an Arrow text array (all at once).

    Parameters
    ----------
    arr : pyarrow.Array
        ``string``, ``large_string``, ``binary`` or ``large_binary``.
    key : bytes
        16-byte key (``k0``, ``k1``: its two little-endian halves).
    skip : ndarray of bool, optional
        Cells not to hash: they are hashed as empty (used for missing values, whose
        bytes are arbitrary, and for cells hashed otherwise).
    offsets : ndarray of int64, optional
        ``_offsets(arr)``, when already computed.

    Returns
    -------
    ndarray of uint64
        The raw SipHash-2-4 values (before pandas' mixer).

    Notes
    -----
    The message words of every row are read at once, word ``j`` of all rows together
    (:func:`_message_words`); block ``j`` is compressed on the rows that have at least
    ``j + 1`` words.
    """
    n = len(arr)
    if offsets is None:
        offsets = _offsets(arr)
    lengths = offsets[1:] - offsets[:-1]
    if skip is not None and skip.any():
        lengths = np.where(skip, 0, lengths)
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:16], "little")
    # the state, as pairs that a SipRound updates alike: a = (v0, v2), b = (v1, v3)
    a = np.empty((2, n), dtype=np.uint64)
    b = np.empty((2, n), dtype=np.uint64)
    a[0], a[1] = k0 ^ 0x736F6D6570736575, k0 ^ 0x6C7967656E657261
    b[0], b[1] = k1 ^ 0x646F72616E646F6D, k1 ^ 0x7465646279746573
    tmp = np.empty((2, n), dtype=np.uint64)
    for rows, m in _message_words(arr, offsets, lengths):  # block j on the rows that have it
        if rows is None:
            sa, sb, t = a, b, tmp
        else:
            sa, sb, t = a[:, rows], b[:, rows], tmp[:, :len(rows)]
        sb[1] ^= m  # v3 ^= m
        _sipround(sa, sb, t)
        _sipround(sa, sb, t)
        sa[0] ^= m  # v0 ^= m
        if rows is not None:
            a[:, rows], b[:, rows] = sa, sb
    a[1] ^= np.uint64(0xFF)  # v2 ^= 0xff
    for _ in range(4):
        _sipround(a, b, tmp)
    h = a[0]
    h ^= a[1]
    h ^= b[0]
    h ^= b[1]
    return h


_ROT1 = np.array([[13], [16]], dtype=np.uint64)  # v1, v3 in the first half-round
_ROT2 = np.array([[17], [21]], dtype=np.uint64)  # ... in the second
_ROT1_R, _ROT2_R = np.uint64(64) - _ROT1, np.uint64(64) - _ROT2
_U32 = np.uint64(32)


def _sipround(a: np.ndarray, b: np.ndarray, tmp: np.ndarray) -> None:
    """One SipRound, in place, on the state pairs ``a = (v0, v2)``, ``b = (v1, v3)``.

    The reference's 14 operations on ``v0..v3`` pair up (``v0 += v1`` with
    ``v2 += v3``, ...): 16 numpy calls a round instead of 26, each on twice as many
    values, so fewer hand-overs of the GIL. ``tmp`` is scratch, shaped like ``a``.
    """
    a += b  # v0 += v1; v2 += v3
    np.left_shift(b, _ROT1, out=tmp)  # v1 <<<= 13; v3 <<<= 16
    np.right_shift(b, _ROT1_R, out=b)
    b |= tmp
    b ^= a  # v1 ^= v0; v3 ^= v2
    _rotl32(a[0], tmp[0])  # v0 <<<= 32
    a += b[::-1]  # v0 += v3; v2 += v1
    np.left_shift(b, _ROT2, out=tmp)  # v1 <<<= 17; v3 <<<= 21
    np.right_shift(b, _ROT2_R, out=b)
    b |= tmp
    b ^= a[::-1]  # v1 ^= v2; v3 ^= v0
    _rotl32(a[1], tmp[0])  # v2 <<<= 32


def _rotl32(x: np.ndarray, tmp: np.ndarray) -> None:
    """Rotate the uint64 values of ``x`` by 32 bits, in place."""
    np.left_shift(x, _U32, out=tmp)
    np.right_shift(x, _U32, out=x)
    x |= tmp


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(h: np.ndarray) -> np.ndarray:
    """pandas' redistribution of 64-bit hashes (``_hash_ndarray``), in place."""
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    return h


def pseudonym_columns(name: str, df: pd.DataFrame, key: bytes) -> dict[str, pd.Series]:
    """The pseudonyms of the record-id columns of table ``name`` (by column).

    Positioned like ``df``'s rows; computed ahead, while other tables are still being
    checked, and put in place by :func:`pseudonymise_tables`.
    """
    return {c: pseudonymise(df[c], key) for c in RECORD_ID_COLUMNS.get(name, ()) if c in df.columns}


def pseudonymise_tables(tables: dict[str, pd.DataFrame], key: bytes | None,
                        ready: dict[str, dict[str, pd.Series]] | None = None
                        ) -> dict[str, pd.DataFrame]:
    """Pseudonymise every record-id column of typed input tables.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Typed input tables; they are left unchanged (new frames are returned).
    key : bytes or None
        The 16-byte key (only used for columns not in ``ready``).
    ready : dict, optional
        Pseudonyms already computed by :func:`pseudonym_columns` on the same rows,
        in the same order, by table and column.

    Returns
    -------
    dict of str to DataFrame
    """
    ready = ready or {}
    out = dict(tables)
    for name, cols in RECORD_ID_COLUMNS.items():
        if name in out:
            df = out[name].copy(deep=False)  # copy-on-write: the input keeps its ids
            for c in cols:
                if c in df.columns:
                    done = ready.get(name, {}).get(c)
                    if done is not None and len(done) == len(df):
                        df[c] = pd.Series(done.array, index=df.index)
                    else:
                        if key is None:
                            raise ValueError("key must be 16 bytes")
                        df[c] = pseudonymise(df[c], key)
            out[name] = df
    return out
