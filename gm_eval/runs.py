"""Runs of equal values in a column: read a grouped column without hashing every row.

Mechanism ids of a table usually come grouped (exports are sorted by mechanism, or
by date within each mechanism): a column of a million ids is then a few thousand
runs, found by comparing neighbours in Arrow, and anything computed per distinct id
is computed per run. This module imports only numpy, pandas and pyarrow (validation
uses it before the statistics modules are imported).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["value_runs", "by_runs", "per_run"]


def value_runs(values: pd.Series, max_share: float = 1 / 16) -> tuple[np.ndarray, np.ndarray] | None:
    """Runs of equal values of an Arrow-backed column: each run's first row and value.

    Parameters
    ----------
    values : Series
        A column (mechanism ids); only Arrow-backed ones are read by runs.
    max_share : float
        Give up when there are more runs than this share of the rows (hashing
        every row is then the cheaper way).

    Returns
    -------
    (starts, values) or None
        ``starts`` (int64) and the value of each run as objects; None when the
        column is not Arrow-backed, empty, holds a missing value or has too many runs.
    """
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    if n == 0 or arr.null_count:
        return None
    change = pc.not_equal(arr.slice(1), arr.slice(0, n - 1))
    if (pc.sum(change).as_py() or 0) + 1 > n * max_share:
        return None
    starts = np.append(0, pc.indices_nonzero(change).to_numpy() + 1).astype(np.int64)
    return starts, arr.take(pa.array(starts)).to_numpy(zero_copy_only=False).astype(object)


def by_runs(values: pd.Series, fn) -> np.ndarray | None:
    """``fn`` of the runs' values (an object array), spread over the rows of each run.

    ``fn`` takes the value of every run at once and returns one result a run; None
    when the column is not read by runs (:func:`value_runs`): hash it.
    """
    runs = value_runs(values)
    if runs is None:
        return None
    starts, vals = runs
    return np.repeat(np.asarray(fn(vals)), np.diff(np.append(starts, len(values))))


def per_run(values: pd.Series, test) -> np.ndarray | None:
    """``test(value)`` (a bool) for every row, computed once per run of equal values.

    Returns None when the column is not read by runs (:func:`value_runs`): hash it.

    Examples
    --------
    >>> s = pd.Series(["a"] * 30 + ["b"] * 2, dtype=pd.StringDtype("pyarrow"))
    >>> int(per_run(s, lambda v: v == "a").sum())  # the test ran twice, once a run
    30
    >>> per_run(pd.Series(["a", "b"] * 16, dtype=pd.StringDtype("pyarrow")), bool) is None
    True
    """
    return by_runs(values, lambda vals: np.fromiter((bool(test(v)) for v in vals), dtype=bool,
                                                    count=len(vals)))
