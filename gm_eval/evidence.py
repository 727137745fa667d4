"""Typed, validated input tables: the only thing the analysis reads.

An :class:`Evidence` is produced by :func:`gm_eval.load` after every check in
:mod:`gm_eval.validate` has passed. Its tables hold only contract columns
(unknown extra columns were dropped when the files were read), with these
dtypes:

========  =======================================================
kind      dtype
========  =======================================================
id, str   ``object`` strings, missing as ``NaN``; record ids (``case_id``,
          ``respondent_id``, ``child_id``) are keyed ``UInt64`` pseudonyms
          (:mod:`gm_eval.pseudonym`), never the user's own ids
enum      ``object`` lower-case strings, missing as ``NaN``
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
    """

    tables: dict[str, pd.DataFrame]
    as_of: pd.Timestamp
    sources: dict[str, SourceFile] = field(default_factory=dict)
    warnings: list = field(default_factory=list)

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

    @property
    def mechanism_ids(self) -> list[str]:
        """Mechanism ids in input order."""
        return self.tables["mechanisms"]["mechanism_id"].tolist()
