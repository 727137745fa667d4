"""Synthetic sector data with planted, documented effects (``gm-eval synth``).

:func:`generate` returns every table of the data contract as users would have
them in their files: canonical column names, enum values of the contract,
dates as ``datetime64``, booleans as ``boolean``, plus decoy personal-data
columns (names, phone numbers, free text) that must never reach any output.
:func:`write_data_dir` writes them as a data directory.

The data are built so that the toolkit has something true to find. The
planted effects (:data:`PLANTED`) and the generating model are described in
``docs/synthetic-data.md``.

Examples
--------
>>> from gm_eval import synth
>>> tables = synth.generate(n_mechanisms=12, n_cases=600, seed=1)
>>> sorted(tables) == sorted(synth.TABLE_ORDER)
True
>>> tables["mechanisms"]["mechanism_id"].iloc[0]
'M01'
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from gm_eval.contract import TABLE_ORDER
from gm_eval.errors import InputError
from gm_eval.synth._cases import WINDOW_DAYS, generate_cases
from gm_eval.synth._clms import generate_clms, generate_workforce
from gm_eval.synth._decoys import DECOY_MARKERS
from gm_eval.synth._mechanisms import (
    MIN_MECHANISMS,
    PLANTED,
    PLANTED_DESCRIPTIONS,
    SECTORS,
    mechanism_params,
)
from gm_eval.synth._self_assessment import generate_self_assessment, question_catalogue
from gm_eval.synth._surveys import generate_child_survey, generate_worker_survey

__all__ = [
    "generate",
    "write_data_dir",
    "PLANTED",
    "PLANTED_DESCRIPTIONS",
    "DECOY_MARKERS",
    "DECOY_COLUMNS",
    "SECTORS",
    "MIN_MECHANISMS",
    "TABLE_ORDER",
    "FORMATS",
    "question_catalogue",
]

#: File formats :func:`write_data_dir` writes.
FORMATS = ("csv", "xlsx", "parquet")

#: Columns holding decoy personal data, per table; they must never reach an output. All
#: but ``self_assessment.evidence`` (a contract ``text`` column) are outside the contract.
DECOY_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": ("complainant_name", "phone", "description"),
    "worker_survey": ("respondent_name", "phone", "comments"),
    "child_survey": ("child_name", "comments"),
    "clms_children": ("child_name",),
    "self_assessment": ("evidence",),
}

#: Default sizes per mechanism.
CASES_PER_MECHANISM = 150
WORKER_RESPONSES_PER_MECHANISM = 100
CHILD_RESPONSES_PER_MECHANISM = 40
CLMS_CHILDREN_PER_MECHANISM = 250

#: Above this many generated rows a progress bar is shown on stderr.
PROGRESS_ROWS = 200_000
_XLSX_MAX_ROWS = 1_048_575


def _as_of_day(as_of) -> np.datetime64:
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise InputError(f"as_of {as_of!r} is not a date (expected YYYY-MM-DD)") from exc
    if ts is pd.NaT:
        raise InputError(f"as_of {as_of!r} is not a date (expected YYYY-MM-DD)")
    return np.datetime64(ts.date(), "D")


def _count(name: str, value, default: int) -> int:
    if value is None:
        return int(default)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise InputError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def generate(n_mechanisms: int = 16, n_cases: int | None = None, seed: int = 2024,
             as_of="2025-06-30", n_worker_survey: int | None = None,
             n_child_survey: int | None = None, n_clms_children: int | None = None,
             progress: bool | None = None) -> dict[str, pd.DataFrame]:
    """Generate every table of the data contract for a synthetic sector.

    Parameters
    ----------
    n_mechanisms : int, default 16
        Number of grievance mechanisms, at least :data:`MIN_MECHANISMS` (12):
        the first 16 are a fixed, documented core (ids ``M01``..``M16``)
        carrying the planted effects; more are drawn at random (``M17``, ...).
    n_cases : int, optional
        Total cases; default 150 per mechanism, shared by type and size.
    seed : int, default 2024
        Same seed, same tables; each table has its own random stream, so
        changing one table's size leaves the others unchanged.
    as_of : str or date, default "2025-06-30"
        Evaluation date: case logs cover the three years before it and no
        date is later.
    n_worker_survey : int, optional
        Worker survey respondents; default 100 per ogm, supply-chain and
        multi-stakeholder mechanism.
    n_child_survey : int, optional
        Child survey respondents; default 40 per mechanism where children are
        relevant (CLMS, hotlines, agriculture, tourism, ``M01``).
    n_clms_children : int, optional
        Children identified by CLMS mechanisms; default 250 per CLMS.
    progress : bool, optional
        Show a progress bar on stderr; default only for large data.

    Returns
    -------
    dict of str to DataFrame
        Keyed by table name in :data:`gm_eval.contract.TABLE_ORDER`. Decoy
        columns (:data:`DECOY_COLUMNS`) follow the contract columns.

    Raises
    ------
    gm_eval.errors.InputError
        If ``n_mechanisms`` < 12 (the planted effects and the realism checks
        need the first 12 core mechanisms), a size or the seed is negative, or
        ``as_of`` is not a date.

    Examples
    --------
    >>> t = generate(n_mechanisms=12, n_cases=500, seed=7)
    >>> t["cases"]["received_at"].max() <= pd.Timestamp("2025-06-30")
    True
    """
    if isinstance(n_mechanisms, bool) or not isinstance(n_mechanisms, int | np.integer):
        raise InputError(f"n_mechanisms must be a whole number, got {n_mechanisms!r}")
    if n_mechanisms < MIN_MECHANISMS:
        raise InputError(
            f"n_mechanisms must be at least {MIN_MECHANISMS} (got {n_mechanisms}): the planted "
            f"effects ({', '.join(f'{k} {v}' for k, v in PLANTED.items())}) and the sector/type "
            "mix need the first 12 core mechanisms; see docs/synthetic-data.md")
    day = _as_of_day(as_of)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a whole number >= 0, got {seed!r}")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(8)]
    mechanisms, p = mechanism_params(int(n_mechanisms), streams[0])
    typ = p["mechanism_type"]
    n_cases = _count("n_cases", n_cases, CASES_PER_MECHANISM * len(p))
    n_ws = _count("n_worker_survey", n_worker_survey, WORKER_RESPONSES_PER_MECHANISM * int(p["workplace"].sum()))
    n_cs = _count("n_child_survey", n_child_survey, CHILD_RESPONSES_PER_MECHANISM * int(p["child_relevant"].sum()))
    n_cl = _count("n_clms_children", n_clms_children, CLMS_CHILDREN_PER_MECHANISM * int((typ == "clms").sum()))
    show = progress if progress is not None else (n_cases + n_ws + n_cs + n_cl) > PROGRESS_ROWS
    steps = ["cases", "workforce", "worker_survey", "child_survey", "clms", "self_assessment"]
    out: dict[str, pd.DataFrame] = {"mechanisms": mechanisms}
    with tqdm(total=len(steps), desc="gm-eval synth", unit="table", file=sys.stderr,
              disable=not show, leave=False) as bar:
        for step in steps:
            bar.set_postfix_str(step)
            if step == "cases":
                out["cases"] = generate_cases(p, n_cases, day, streams[1])
            elif step == "workforce":
                out["workforce"] = generate_workforce(p, streams[2])
            elif step == "worker_survey":
                out["worker_survey"] = generate_worker_survey(p, n_ws, day, streams[3])
            elif step == "child_survey":
                out["child_survey"] = generate_child_survey(p, n_cs, day, streams[4])
            elif step == "clms":
                out["clms_children"], out["clms_followups"] = generate_clms(
                    p, n_cl, day, WINDOW_DAYS, streams[5])
            else:
                out["self_assessment"] = generate_self_assessment(p, streams[6])
            bar.update(1)
    return {name: out[name] for name in TABLE_ORDER}


_CSV_CHUNK = 100_000


def _write_one(df: pd.DataFrame, path: Path, fmt: str, bar=None) -> None:
    """Write one table; ``bar`` (a tqdm bar counting rows) is advanced as rows are written."""
    if fmt == "csv":
        # in chunks, so that the progress bar moves during the big tables
        for start in range(0, max(len(df), 1), _CSV_CHUNK):
            part = df.iloc[start:start + _CSV_CHUNK]
            part.to_csv(path, index=False, encoding="utf-8", date_format="%Y-%m-%d",
                        mode="w" if start == 0 else "a", header=start == 0)
            if bar is not None:
                bar.update(len(part))
        return
    if fmt == "parquet":
        df.to_parquet(path, index=False, engine="pyarrow")
    else:
        if len(df) > _XLSX_MAX_ROWS:
            raise InputError(f"{path.stem} has {len(df):,} rows, more than an Excel sheet holds "
                             f"({_XLSX_MAX_ROWS:,}); write csv or parquet instead")
        df.to_excel(path, index=False, engine="openpyxl", sheet_name=path.stem[:31])
    if bar is not None:
        bar.update(len(df))


def write_data_dir(tables: dict[str, pd.DataFrame], out_dir, fmt: str = "csv",
                   overwrite: bool = False, progress: bool | None = None) -> list[Path]:
    """Write tables as a data directory: one ``<table>.<fmt>`` file per table.

    The files are written into a temporary sibling directory first and moved
    into place only when all are complete, so a failure leaves nothing
    half-written.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Contract tables (as returned by :func:`generate`).
    out_dir : str or path-like
        Data directory to create (parents are created).
    fmt : {"csv", "xlsx", "parquet"}
        CSV is UTF-8 with ISO dates; XLSX via openpyxl; Parquet via pyarrow.
    overwrite : bool, default False
        Allow writing into a non-empty directory. Files of the same tables in
        any supported format are replaced; other files are left alone.
    progress : bool, optional
        Progress bar on stderr; default only for large tables.

    Returns
    -------
    list of pathlib.Path
        The written files, in table order.

    Raises
    ------
    gm_eval.errors.InputError
        Unknown format or table name, ``out_dir`` non-empty without
        ``overwrite``, ``out_dir`` is a file, or a table too large for XLSX.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    unknown = [t for t in tables if t not in TABLE_ORDER]
    if unknown:
        raise InputError(f"not tables of the data contract: {', '.join(map(str, unknown))}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory")
    non_empty = out.is_dir() and any(out.iterdir())
    if non_empty and not overwrite:
        raise InputError(f"{out} is not empty; choose another directory or overwrite (--force)")
    names = [t for t in TABLE_ORDER if t in tables]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    total = sum(len(tables[t]) for t in names)
    show = progress if progress is not None else total > PROGRESS_ROWS
    try:
        with tqdm(total=total, desc=f"writing {fmt}", unit="row", unit_scale=True, file=sys.stderr,
                  disable=not show, leave=False) as bar:
            for name in names:
                bar.set_postfix_str(name)
                _write_one(tables[name], tmp / f"{name}.{fmt}", fmt, bar)
        if not out.exists():
            os.replace(tmp, out)
        elif not non_empty:
            out.rmdir()
            os.replace(tmp, out)
        else:
            for name in names:  # a table must not be present in two formats
                for f in FORMATS:
                    (out / f"{name}.{f}").unlink(missing_ok=True)
            for name in names:
                os.replace(tmp / f"{name}.{fmt}", out / f"{name}.{fmt}")
            tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / f"{name}.{fmt}" for name in names]
