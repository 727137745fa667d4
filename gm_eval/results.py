"""Reading a results directory (published tables only).

Reports and dashboards read evaluations through :func:`read_results`; they
never see input data. Table names are checked against the documented list, so
no path is ever built from a user-supplied string.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import pandas as pd

from gm_eval.errors import InputError
from gm_eval.publish import RESULT_COLUMNS

__all__ = ["Results", "read_results"]


class Results:
    """A published results directory.

    Parameters
    ----------
    path : path-like
        Directory written by ``gm-eval score``.

    Examples
    --------
    >>> res = read_results("results")  # doctest: +SKIP
    >>> res.table("scores").head()  # doctest: +SKIP
    """

    def __init__(self, path: str | Path):
        self.path = Path(path).absolute()
        self._cache: dict[str, pd.DataFrame] = {}

    @cached_property
    def manifest(self) -> dict:
        """The run manifest (``manifest.json``)."""
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

    def has(self, name: str) -> bool:
        """Whether table ``name`` was written."""
        return name in self.manifest.get("tables", []) and name in RESULT_COLUMNS

    def table(self, name: str) -> pd.DataFrame:
        """One published table as a DataFrame (an empty one with the documented columns
        when the table was not written).

        Raises
        ------
        KeyError
            When ``name`` is not a documented table.
        """
        if name not in RESULT_COLUMNS:
            raise KeyError(f"unknown results table {name!r}")
        if name not in self._cache:
            if not self.has(name):
                df = pd.DataFrame(columns=list(RESULT_COLUMNS[name]))
            else:
                pq = self.path / f"{name}.parquet"
                df = pd.read_parquet(pq) if pq.exists() else pd.read_csv(self.path / f"{name}.csv")
            self._cache[name] = df
        return self._cache[name].copy()

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name in RESULT_COLUMNS:
            return self.table(name)
        raise AttributeError(name)

    @property
    def mechanism_ids(self) -> list[str]:
        """Mechanism ids, in published order."""
        return self.table("mechanisms")["mechanism_id"].astype(str).tolist()

    @property
    def as_of(self) -> str:
        """Evaluation date as ISO text."""
        return str(self.manifest.get("as_of", ""))


def read_results(path: str | Path) -> Results:
    """Open a results directory written by ``gm-eval score``.

    Raises
    ------
    gm_eval.errors.InputError
        When the directory or its manifest is missing or unreadable.
    """
    p = Path(path)
    if not p.is_dir():
        raise InputError(f"results directory {p}: not found")
    man = p / "manifest.json"
    if not man.is_file():
        raise InputError(f"results directory {p}: no manifest.json (was it written by "
                         "`gm-eval score`?)")
    res = Results(p)
    try:
        res.manifest  # noqa: B018
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{man}: not valid JSON ({exc})") from None
    return res
