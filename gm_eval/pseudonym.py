"""Keyed pseudonyms for record ids (cases, survey respondents, children).

Record ids are replaced at load time, before any computation, by a keyed hash
(SipHash-2-4 keyed from a 128-bit secret, via ``pandas.util.hash_pandas_object``,
kept as an unsigned 64-bit integer),
so nothing downstream ever holds a user's own case, respondent or child ids.
Pseudonyms are stable for one key (joins between tables, such as CLMS children
and their follow-up visits, keep working) and cannot be reversed or recomputed
without the key.

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
from pathlib import Path

import numpy as np
import pandas as pd

from gm_eval.errors import InputError

__all__ = [
    "RECORD_ID_COLUMNS",
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

    Examples
    --------
    >>> k = bytes(range(16))
    >>> a = pseudonymise(pd.Series(["c1", "c2", "c1"]), k)
    >>> bool(a[0] == a[2] and a[0] != a[1])
    True
    """
    if len(key) != 16:
        raise ValueError("key must be 16 bytes")
    text = ids.astype(object)
    missing = text.isna()
    hashed = pd.util.hash_pandas_object(text.where(~missing, ""), index=False,
                                        hash_key=_siphash_key(key), categorize=False)
    out = pd.Series(hashed.to_numpy(dtype=np.uint64), index=ids.index, dtype="UInt64")
    return out.mask(missing)


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
