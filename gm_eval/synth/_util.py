"""Small vectorised helpers shared by the synthetic-data generators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "pick_within_groups",
    "sample_rows",
    "to_dates",
    "ordinal_from_share",
    "nullable_bool",
    "nullable_int",
    "str_col",
    "str_array",
    "arrow_to_str",
    "numbered",
]

_NS_PER_DAY = 86_400 * 10**9


def pick_within_groups(groups: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Choose exactly ``counts[g]`` random members of each group ``g``.

    Parameters
    ----------
    groups : ndarray of int
        Group code of every element (0..G-1).
    counts : ndarray of int
        How many to choose per group (all members when a group is smaller).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of bool
        ``True`` for the chosen elements.
    """
    n = len(groups)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    # one float sort: the integer part orders groups, the fraction shuffles within them
    order = np.argsort(groups + rng.random(n) * 0.5, kind="stable")
    g_sorted = groups[order]
    first = np.searchsorted(g_sorted, g_sorted, side="left")
    pos = np.arange(n) - first
    mask[order] = pos < counts[g_sorted]
    return mask
    order = np.lexsort((rng.random(n), groups))
    g_sorted = groups[order]
    first = np.searchsorted(g_sorted, g_sorted, side="left")
    pos = np.arange(n) - first
    mask[order] = pos < counts[g_sorted]
    return mask


def sample_rows(probs: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one category per element from row ``rows[i]`` of a probability matrix.

    Parameters
    ----------
    probs : ndarray, shape (R, K)
        Each row sums to 1 (normalised here).
    rows : ndarray of int, shape (n,)
        Which row each draw uses.

    Returns
    -------
    ndarray of int, shape (n,)
        Category index 0..K-1.
    """
    p = np.asarray(probs, dtype=float)
    cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int64)
    for k in range(p.shape[1] - 1):
        out += u > cum[rows, k]
    return out


def to_dates(base: np.datetime64, days: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """``base + days`` as a ``datetime64[ns]`` Series, ``NaT`` where not ``valid``."""
    d = np.asarray(days, dtype="int64")
    ns = d * _NS_PER_DAY + np.datetime64(base, "ns").astype("int64")
    if valid is not None:
        ns = np.where(np.asarray(valid, dtype=bool), ns, np.iinfo("int64").min)
    return pd.Series(ns.view("datetime64[ns]"))


def ordinal_from_share(latent: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Five-point Likert answers from a standard-normal latent score.

    ``shift`` is added to the latent; with the fixed cut points a shift of
    ``Phi^-1(p)`` makes the share of answers >= 4 equal to ``p``.
    """
    cuts = np.array([-1.6, -0.7, 0.0, 1.0])
    return (np.searchsorted(cuts, latent + shift) + 1).astype("int64")


def nullable_bool(values: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """A pandas ``boolean`` Series, ``<NA>`` where not ``valid``."""
    arr = pd.arrays.BooleanArray(
        np.asarray(values, dtype=bool),
        np.zeros(len(values), dtype=bool) if valid is None else ~np.asarray(valid, dtype=bool),
    )
    return pd.Series(arr)


def nullable_int(values: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """A pandas ``Int64`` Series, ``<NA>`` where not ``valid``."""
    arr = pd.arrays.IntegerArray(
        np.asarray(values, dtype="int64"),
        np.zeros(len(values), dtype=bool) if valid is None else ~np.asarray(valid, dtype=bool),
    )
    return pd.Series(arr)


def arrow_to_str(arr: pa.Array) -> pd.Series:
    """A pyarrow string array as a pandas ``str`` Series (missing as ``NaN``)."""
    return pd.Series(arr.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get))


def str_array(labels, codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Map integer codes to labels as a pyarrow string array; null where not ``valid``."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    idx = pa.array(np.asarray(codes, dtype="int32"), mask=mask)
    return pa.DictionaryArray.from_arrays(idx, pa.array([str(x) for x in labels], pa.string())).cast(
        pa.string())


def str_col(labels, codes: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """Map integer codes to labels (a ``str`` Series); missing where not ``valid``."""
    return arrow_to_str(str_array(labels, codes, valid))


def numbered(prefix: str | pa.Array, numbers: np.ndarray, width: int,
             valid: np.ndarray | None = None) -> pd.Series:
    """``prefix`` followed by zero-padded ``numbers`` (vectorised with pyarrow).

    ``prefix`` is one string or a pyarrow string array (one per number).
    """
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype="int64")), pa.string()), width, "0")
    head = prefix if isinstance(prefix, pa.Array) else pa.scalar(prefix, pa.string())
    out = pc.binary_join_element_wise(head, digits, "")
    if valid is not None:
        out = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), out, pa.scalar(None, pa.string()))
    return arrow_to_str(out)
