"""Typed, validated input tables: the only thing the analysis reads.

An :class:`Evidence` is produced by :func:`gm_eval.load` after every check in
:mod:`gm_eval.validate` has passed. Its tables hold only contract columns
(unknown extra columns were dropped when the files were read), with these
dtypes:

========  =======================================================
kind      dtype
========  =======================================================
id, str   text (``str``, Arrow-backed, when read from Parquet or CSV; else
          ``object``), missing as ``NaN``; record ids (``case_id``,
          ``respondent_id``, ``child_id``) are keyed ``UInt64`` pseudonyms
          (:mod:`gm_eval.pseudonym`), never the user's own ids
enum      ``category`` of lower-case strings: the values present, sorted (so the
          categorical's codes are :meth:`Evidence.factorized`), missing as ``NaN``
multi     ``object`` ``;``-joined lower-case codes
int       ``Int64`` (nullable)
likert    ``Int64`` (nullable, 1-5)
bool      ``boolean`` (nullable)
date      ``datetime64[ns]`` (no time zone, midnight), missing as ``NaT``
text      never kept: ``self_assessment.evidence`` becomes ``evidence_provided`` (boolean)
========  =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SourceFile", "Evidence"]


@dataclass(frozen=True)
class SourceFile:
    """Where a table came from.

    Parameters
    ----------
    table : str
        Contract table name.
    path : str
        File name as given by the user (relative to the data directory when inside it).
    sha256 : str
        Hex digest of the file's bytes.
    rows : int
        Number of data rows read.
    """

    table: str
    path: str
    sha256: str
    rows: int


@dataclass
class Evidence:
    """Validated input tables of one evaluation.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Present tables only, keyed by contract table name.
    as_of : pandas.Timestamp
        Evaluation date: open cases are censored here.
    sources : dict of str to SourceFile
        Provenance of each present table.
    warnings : list
        Non-blocking :class:`gm_eval.validate.Problem` records.
    codes : dict
        Cache of :meth:`factorized` (filled at load for enum columns, lazily otherwise).
    """

    tables: dict[str, pd.DataFrame]
    as_of: pd.Timestamp
    sources: dict[str, SourceFile] = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    codes: dict = field(default_factory=dict, repr=False, compare=False)

    def has(self, name: str) -> bool:
        """Whether table ``name`` was supplied and has at least one row."""
        df = self.tables.get(name)
        return df is not None and len(df) > 0

    def get(self, name: str) -> pd.DataFrame | None:
        """Return table ``name`` or ``None`` when it was not supplied."""
        return self.tables.get(name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def mechanisms(self) -> pd.DataFrame:
        """The mechanisms table (always present)."""
        return self.tables["mechanisms"]

    def factorized(self, name: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes and sorted distinct values of a column, computed once.

        Parameters
        ----------
        name, column : str
            Table and column (present).

        Returns
        -------
        codes : ndarray of signed integers
            Position of each row's value in ``uniques``; -1 for a missing value. Of the
            smallest signed type that holds them (``int8`` for an enum column's few
            values): widen before arithmetic that could overflow it.
        uniques : ndarray of object
            The distinct non-missing values, sorted (as ``pd.factorize(sort=True)``).

        Notes
        -----
        Enum columns are factorised by validation already (their labels are checked
        once each), so their codes cost nothing here. The arrays are shared: do not
        modify them.

        Examples
        --------
        >>> ev = Evidence({"cases": pd.DataFrame({"status": ["open", None, "closed", "open"]})},
        ...               pd.Timestamp("2025-01-01"))
        >>> codes, uniques = ev.factorized("cases", "status")
        >>> codes.tolist(), uniques.tolist()
        ([1, -1, 0, 1], ['closed', 'open'])
        """
        key = (name, column)
        if key not in self.codes:
            codes, uniques = pd.factorize(self.tables[name][column], sort=True)
            small = np.min_scalar_type(-max(len(uniques), 1))
            self.codes[key] = (codes.astype(small), np.asarray(uniques, dtype=object))
        return self.codes[key]

    @property
    def mechanism_ids(self) -> list[str]:
        """Mechanism ids in input order."""
        return self.tables["mechanisms"]["mechanism_id"].tolist()
