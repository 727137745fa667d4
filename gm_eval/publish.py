"""The publication boundary: the only way results leave the package.

:func:`publish` turns computed result tables into published tables:

* only the documented columns of each documented table survive (an allowlist:
  see ``docs/results-format.md``); record ids and free text cannot pass;
* rates whose denominator ``n`` is below ``k`` are withheld (value, interval
  and ``n`` blanked, flag ``suppressed``), except indicators that count no
  people (the self-assessment, whose ``n`` is a number of questions answered
  by the organisation);
* counts from 1 to ``k - 1`` are suppressed, with complementary suppression:
  in every set of cells that add up to a published or derivable total, either
  no cell or at least two cells are suppressed, so a total cannot reveal one;
* Kaplan-Meier step points with fewer than ``k`` cases at risk are dropped.

:func:`write_results` writes the published tables (CSV made safe for
spreadsheets, and Parquet) and the manifest into a temporary directory and
renames it into place at the end: an interrupted or failed run leaves the
previous results directory untouched.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv

from gm_eval.errors import GmEvalError

__all__ = [
    "RESULT_COLUMNS",
    "DEFAULT_K",
    "publish",
    "suppress_rates",
    "suppress_counts",
    "formula_safe",
    "write_results",
    "write_tables",
    "write_manifest",
    "atomic_directory",
]

DEFAULT_K = 5

#: Published tables and their columns, in order (see docs/results-format.md).
RESULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "mechanisms": ("mechanism_id", "company_id", "name", "sector", "country", "mechanism_type",
                   "target_ack_days", "target_close_days"),
    "indicator_catalogue": ("indicator_id", "criterion", "label", "definition", "source",
                            "evidence_kind", "unit", "direction", "target", "floor", "weight",
                            "references"),
    "indicators": ("mechanism_id", "indicator_id", "criterion", "value", "ci_low", "ci_high", "n",
                   "score", "flags"),
    "scores": ("mechanism_id", "criterion", "score", "coverage", "band", "sector_percentile",
               "sector_median"),
    "disaggregation": ("mechanism_id", "indicator_id", "dimension", "group", "value", "ci_low",
                       "ci_high", "n", "flags"),
    "equity_tests": ("mechanism_id", "indicator_id", "dimension", "test", "statistic", "p_value",
                     "p_holm", "effect_size", "effect_size_name", "significant", "groups",
                     "flags"),
    "time_to_event": ("mechanism_id", "interval", "t", "survival", "ci_low", "ci_high",
                      "at_risk"),
    "time_to_event_summary": ("mechanism_id", "interval", "n", "events", "median",
                              "median_ci_low", "median_ci_high", "p90", "p90_ci_low",
                              "p90_ci_high", "target_days", "within_target", "flags"),
    "survey_quality": ("mechanism_id", "survey", "scale", "items", "n_listwise",
                       "cronbach_alpha", "ci_low", "ci_high", "note"),
    "survey_items": ("mechanism_id", "survey", "item", "response", "count", "share", "flags"),
    "case_volume": ("mechanism_id", "month", "dimension", "group", "cases", "flags"),
    "clms_funnel": ("mechanism_id", "stage", "count", "share_of_identified", "flags"),
    "self_assessment": ("mechanism_id", "question_id", "criterion", "question", "child_specific",
                        "answer", "evidence_provided"),
    "recommendations": ("mechanism_id", "rank", "criterion", "indicator_id", "score",
                        "target_gap", "recommendation", "reference"),
    "data_quality": ("table", "file", "rows", "present", "warnings"),
    "warnings": ("table", "column", "problem", "count"),
}

# Rate tables: (denominator column, columns withheld with it).
_RATE_TABLES = {
    "indicators": ("n", ("value", "ci_low", "ci_high", "score", "n")),
    "disaggregation": ("n", ("value", "ci_low", "ci_high", "n")),
    "time_to_event_summary": ("n", ("events", "median", "median_ci_low", "median_ci_high", "p90",
                                    "p90_ci_low", "p90_ci_high", "within_target", "n")),
}
# Count tables: (count column, share columns, partition keys: cells in one partition add up).
_COUNT_TABLES = {
    "case_volume": ("cases", (), ("mechanism_id", "month", "dimension")),
    "survey_items": ("count", ("share",), ("mechanism_id", "survey", "item")),
    "clms_funnel": ("count", ("share_of_identified",), ("mechanism_id",)),
}
# Identifier or free-text columns that must never be published, whatever the table.
_FORBIDDEN = {"case_id", "respondent_id", "child_id", "complainant_name", "respondent_name",
              "child_name", "phone", "description", "comments", "evidence", "_row"}


def _add_flag(flags: pd.Series, mask, flag: str) -> pd.Series:
    """``flags`` (``;``-joined, blank for none) with ``flag`` added where ``mask`` holds.

    Flags take few distinct values: each distinct value is extended once, and the
    rows pick their new value by code (no string operation per row).
    """
    codes, uniques = pd.factorize(flags)
    labels = [str(u) for u in uniques] + [""]  # code -1 (missing): no flag yet
    added = [u if flag in u.split(";") else (flag if u == "" else f"{u};{flag}") for u in labels]
    codes = np.where(codes < 0, len(labels) - 1, codes)
    pick = codes + len(labels) * np.asarray(mask, dtype=bool)
    values = pd.array(labels + added, dtype="str").take(pick)
    return pd.Series(values, index=flags.index, name=flags.name)


def suppress_rates(df: pd.DataFrame, k: int = DEFAULT_K, n_col: str = "n",
                   columns: Iterable[str] = ("value", "ci_low", "ci_high")) -> pd.DataFrame:
    """Withhold rates whose denominator is below ``k``.

    Parameters
    ----------
    df : DataFrame
        A rate table with an ``n`` column and a ``flags`` column (created when absent).
    k : int
        Smallest denominator that may be published.
    n_col : str
        Name of the denominator column.
    columns : iterable of str
        Columns blanked when ``n < k`` (``n_col`` may be among them).

    Returns
    -------
    DataFrame
        A copy with withheld cells blank and ``suppressed`` added to ``flags``.

    Examples
    --------
    >>> df = pd.DataFrame({"value": [0.5, 0.25], "n": [4, 40], "flags": ["", ""]})
    >>> suppress_rates(df, k=5)["value"].tolist()
    [nan, 0.25]
    """
    out = df.copy()
    if "flags" not in out.columns:
        out["flags"] = ""
    n = pd.to_numeric(out[n_col], errors="coerce")
    mask = n.notna() & (n > 0) & (n < k)
    for c in columns:
        if c in out.columns:
            out[c] = out[c].astype("float64") if c == n_col else out[c]
            out.loc[mask, c] = np.nan
    out["flags"] = _add_flag(out["flags"], mask, "suppressed")
    return out


def suppress_counts(df: pd.DataFrame, count_col: str, partition: Iterable[str],
                    k: int = DEFAULT_K, share_cols: Iterable[str] = ()) -> pd.DataFrame:
    """Suppress counts below ``k`` with complementary suppression.

    Every count from 1 to ``k - 1`` is blanked. Then, within each partition
    (cells that add up to a total, e.g. the categories of one month), if exactly
    one cell is blanked, the smallest other non-zero cell is blanked too, so the
    suppressed cell cannot be recovered by subtraction from the total.

    Parameters
    ----------
    df : DataFrame
    count_col : str
        Column of counts.
    partition : iterable of str
        Columns identifying one set of cells that add up to a total.
    k : int
        Smallest count that may be published.
    share_cols : iterable of str
        Columns derived from the count (shares), blanked with it.

    Returns
    -------
    DataFrame
        A copy, with ``flags`` marking suppressed cells.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "a", "a"], "n": [2, 10, 30], "flags": ""})
    >>> suppress_counts(df, "n", ["g"], k=5)["n"].tolist()
    [nan, nan, 30.0]
    """
    out = df.copy()
    if "flags" not in out.columns:
        out["flags"] = ""
    counts = pd.to_numeric(out[count_col], errors="coerce").astype("float64")
    small = counts.notna() & (counts > 0) & (counts < k)
    partition = [p for p in partition if p in out.columns]
    if partition and bool(small.any()):
        work = pd.DataFrame({"c": counts, "small": small}, index=out.index)
        # one integer per partition (vectorised; a row-wise string join took minutes at 500k rows)
        work["key"] = out.groupby(partition, sort=False, dropna=False).ngroup().to_numpy()
        n_small = work.groupby("key")["small"].transform("sum")
        lonely = work[(n_small == 1)]
        if len(lonely):
            candidates = lonely[~lonely["small"] & (lonely["c"] > 0)]
            extra = candidates.sort_values("c").groupby("key").head(1).index
            small = small.copy()
            small.loc[extra] = True
    out[count_col] = counts.where(~small, np.nan)
    for c in share_cols:
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").where(~small, np.nan)
    out["flags"] = _add_flag(out["flags"], small, "suppressed")
    return out


def _suppress_curves(df: pd.DataFrame, k: int) -> pd.DataFrame:
    at_risk = pd.to_numeric(df["at_risk"], errors="coerce")
    return df[at_risk.isna() | (at_risk >= k)].reset_index(drop=True)


#: Evidence kinds whose denominators count questions or documents, not people.
NOT_ABOUT_PEOPLE = ("self_assessment",)


def _not_about_people(tables: dict[str, pd.DataFrame]) -> set[str]:
    cat = tables.get("indicator_catalogue")
    if cat is None or "evidence_kind" not in cat.columns:
        return set()
    return set(cat.loc[cat["evidence_kind"].isin(NOT_ABOUT_PEOPLE), "indicator_id"])


def publish(tables: dict[str, pd.DataFrame], k: int = DEFAULT_K) -> dict[str, pd.DataFrame]:
    """Apply the publication rules to computed result tables.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Result tables named as in ``RESULT_COLUMNS``.
    k : int
        Suppression threshold (default 5).

    Returns
    -------
    dict of str to DataFrame
        Published tables, allowlisted columns only, in documented order.

    Raises
    ------
    gm_eval.errors.GmEvalError
        For an undocumented table name, or a table carrying an identifier or
        free-text column (a bug upstream: nothing is written).
    """
    if k < 1:
        raise GmEvalError(f"k must be at least 1, got {k}")
    out = {}
    for name, df in tables.items():
        if name not in RESULT_COLUMNS:
            raise GmEvalError(f"publish: {name!r} is not a documented result table")
        leaked = _FORBIDDEN & set(df.columns)
        if leaked:
            raise GmEvalError(f"publish: table {name!r} carries record-level columns "
                              f"{sorted(leaked)}; refusing to publish it")
        df = df.copy()
        for c in df.columns:  # enum columns of the evidence (categorical) as plain text
            if isinstance(df[c].dtype, pd.CategoricalDtype):
                df[c] = df[c].astype(object)
        cols = RESULT_COLUMNS[name]
        for c in cols:
            if c not in df.columns:
                df[c] = np.nan
        if name in _RATE_TABLES:
            n_col, cols_w = _RATE_TABLES[name]
            exempt = _not_about_people(tables) if name == "indicators" else set()
            if exempt:
                keep = df["indicator_id"].isin(exempt)
                df = pd.concat([df[keep], suppress_rates(df[~keep], k=k, n_col=n_col,
                                                         columns=cols_w)]).sort_index()
            else:
                df = suppress_rates(df, k=k, n_col=n_col, columns=cols_w)
        if name in _COUNT_TABLES:
            count_col, shares, part = _COUNT_TABLES[name]
            df = suppress_counts(df, count_col, part, k=k, share_cols=shares)
        if name == "time_to_event":
            df = _suppress_curves(df, k)
        out[name] = df[list(cols)].reset_index(drop=True)
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _formula_changes(df: pd.DataFrame) -> dict:
    """The text columns of ``df`` holding a cell that :func:`formula_safe` changes, changed.

    Each column is screened on its distinct values (result tables repeat a few labels
    over many rows); only the columns with a cell to neutralise are copied.
    """
    changes = {}
    for c in df.columns:
        s = df[c]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        # an object column may hold numbers, which are never touched
        try:
            distinct = pd.unique(s)
        except TypeError:  # unhashable cells (not in result tables): look at every cell
            distinct = s.tolist()
        bad = [u for u in distinct if isinstance(u, str) and u.startswith(_FORMULA_START)]
        if bad:
            text = s.astype(object)
            hit = s.isin(bad).to_numpy(dtype=bool, na_value=False)
            text[hit] = "'" + text[hit].astype(str)
            changes[c] = text
    return changes


def formula_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Neutralise spreadsheet formulas in text cells.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return is prefixed with a single quote, so that spreadsheet programs show it
    as text instead of running it (CSV/formula injection). Numbers are untouched.

    Examples
    --------
    >>> formula_safe(pd.DataFrame({"a": ["=HYPERLINK(1)", "ok"]}))["a"].tolist()
    ["'=HYPERLINK(1)", 'ok']
    """
    out = df.copy()
    for c, text in _formula_changes(df).items():
        out[c] = text
    return out


class atomic_directory:
    """Context manager: build a directory aside, then swap it into place.

    On success the old directory (if any) is replaced as a whole, in one atomic
    exchange on Linux; on any exception (including Ctrl-C), the old directory
    is untouched and the temporary one is removed. A process killed with
    SIGKILL leaves the old directory untouched and a hidden ``.<name>.tmp-*``
    folder, which the next run removes.

    Parameters
    ----------
    target : path-like
        The directory to create or replace.
    """

    def __init__(self, target: str | Path):
        self.target = Path(target).absolute()
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        parent = self.target.parent
        parent.mkdir(parents=True, exist_ok=True)
        if self.target.exists() and not self.target.is_dir():
            raise GmEvalError(f"{self.target} exists and is not a directory")
        for stale in parent.glob(f".{self.target.name}.tmp-*"):
            if stale.is_dir() and not _owner_alive(stale):
                shutil.rmtree(stale, ignore_errors=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-{os.getpid()}-",
                                         dir=parent))
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        if self.target.exists() and _exchange(self.tmp, self.target):
            # One atomic step: the new results are in place, the old ones at tmp.
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = None
        if self.target.exists():
            old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _owner_alive(tmp: Path) -> bool:
    """Whether the process that made a ``.<name>.tmp-<pid>-*`` folder still runs."""
    try:
        pid = int(tmp.name.split(".tmp-", 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != os.getpid()


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the call is not available, and the caller falls back to
    two renames (a window of a few microseconds where ``b`` is absent).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _write_files(df: pd.DataFrame, folder: Path, name: str) -> None:
    """Write one published table as ``name.csv`` (formula-safe, UTF-8, quoted only where
    needed) and ``name.parquet`` (as ``DataFrame.to_parquet``).

    The table is converted to Arrow once for both files (pyarrow's writers, which
    release the GIL); a table that does not convert cleanly is written by pandas.
    Parquet's dictionary encoding is kept for label columns and left out for float
    columns (measurements rarely repeat; encoding them cost half the writing time).
    """
    changes = _formula_changes(df)
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (TypeError, ValueError, pa.ArrowException):
        table = None
    safe = df
    if changes:
        safe = df.copy(deep=False)
        for c, text in changes.items():
            safe[c] = text
    try:
        csv_table = table if not changes else pa.Table.from_pandas(safe, preserve_index=False)
        if csv_table is None:
            raise TypeError("not convertible")
        pv.write_csv(csv_table, folder / f"{name}.csv", pv.WriteOptions(quoting_style="needed"))
    except (TypeError, ValueError, pa.ArrowException):
        safe.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8")
    if table is None or df.attrs:
        df.to_parquet(folder / f"{name}.parquet", index=False)
    else:
        import pyarrow.parquet as pq

        # dictionary pages for the repetitive labels, not for measurements (half the time)
        labels = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
        pq.write_table(table, folder / f"{name}.parquet", compression="snappy",
                       use_dictionary=labels)


def _json_default(o):
    if isinstance(o, pd.Timestamp):
        return o.date().isoformat() if o == o.normalize() else o.isoformat()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_tables(tables: dict[str, pd.DataFrame], directory: str | Path,
                 k: int = DEFAULT_K, published: dict | None = None) -> list[str]:
    """Publish result tables and write each as CSV and Parquet into ``directory``.

    The building block of :func:`write_results`, for writers that fill one results
    directory in parts (``gm-eval score`` writes the statistics tables from a second
    process while the indicators are computed): ``directory`` is normally the
    temporary folder of an :class:`atomic_directory`.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Computed result tables (see ``RESULT_COLUMNS``); ``indicators`` must come with
        its ``indicator_catalogue`` (suppression depends on the evidence kind).
    directory : path-like
        An existing folder.
    k : int
        Suppression threshold.
    published : dict, optional
        Filled with the published tables, as written.

    Returns
    -------
    list of str
        The names of the tables written.
    """
    out = publish(tables, k=k)
    if published is not None:
        published.update(out)
    folder = Path(directory)

    # two tables at a time: pyarrow's CSV and Parquet writers release the GIL
    largest_first = sorted(out, key=lambda n: -len(out[n]))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gm-eval-write") as pool:
        for f in [pool.submit(_write_files, out[n], folder, n) for n in largest_first]:
            f.result()
    return list(out)


def write_manifest(directory: str | Path, manifest: dict, k: int, tables: Iterable[str]) -> None:
    """Write ``manifest.json`` (``manifest`` plus ``k`` and the sorted table names)."""
    man = dict(manifest)
    man["k"] = k
    man["tables"] = sorted(tables)
    (Path(directory) / "manifest.json").write_text(
        json.dumps(man, indent=2, default=_json_default, ensure_ascii=False) + "\n",
        encoding="utf-8")


def write_results(tables: dict[str, pd.DataFrame], manifest: dict, out_dir: str | Path,
                  k: int = DEFAULT_K) -> Path:
    """Publish result tables and write the results directory atomically.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Computed result tables (see ``RESULT_COLUMNS``).
    manifest : dict
        Run metadata (tool version, as_of, profile, inputs...); ``k`` and the
        list of tables written are added.
    out_dir : path-like
        Results directory, replaced as a whole on success.
    k : int
        Suppression threshold.

    Returns
    -------
    pathlib.Path
        The results directory.
    """
    target = Path(out_dir)
    with atomic_directory(target) as tmp:
        names = write_tables(tables, tmp, k=k)
        write_manifest(tmp, manifest, k, names)
    return target.absolute()
