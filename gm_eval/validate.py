"""Validation: type every column, check every table and the links between them.

All problems are collected at once and reported with the file, the row number
as the user sees it, the column (the user's own header when a mapping renamed
it), the offending value and what was expected. Errors stop the run; warnings
(for example an optional table absent) are listed and the run goes on.

Value checks (allowed categories, ranges, patterns, required values) are
pandera schemas generated from :mod:`gm_eval.contract`; typing (dates,
booleans, numbers) and cross-table checks are written here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa_arrow
import pyarrow.compute as pc

from gm_eval._pandera import pa
from gm_eval.contract import TABLE_ORDER, TABLES, Column, Table
from gm_eval.errors import InputError, ValidationFailed
from gm_eval.evidence import Evidence, SourceFile
from gm_eval.io.mapping import Mapping, TableMapping, load_mapping
from gm_eval.io.readers import RawTable, _series_text, find_table_files, read_table_file
from gm_eval.pseudonym import (
    RECORD_ID_COLUMNS,
    get_key,
    pseudonym_columns,
    pseudonymise_tables,
)
from gm_eval.runs import per_run

__all__ = [
    "Problem",
    "ValidationReport",
    "check_data_dir",
    "validate_tables",
    "load",
    "schema_for",
]

#: Details kept per (table, column, problem); the rest are counted.
MAX_DETAILS_PER_KIND = 20
MAX_TEXT = 256
TRUE_WORDS = ("true", "yes", "1", "y", "t")
FALSE_WORDS = ("false", "no", "0", "n", "f")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")
_CODE = re.compile(r"^[a-z0-9_]+$")
MIN_DATE = pd.Timestamp("1990-01-01")


@dataclass(frozen=True)
class Problem:
    """One problem found in the input.

    Parameters
    ----------
    severity : {'error', 'warning'}
    table : str
        Contract table name.
    file : str
        The user's file name (blank when the table is absent).
    row : int or None
        Row number as the user sees it (header = row 1), ``None`` for a file-wide problem.
    column : str or None
        Column as named in the user's file (with the contract name when renamed).
    value : str or None
        The offending value, shortened.
    problem : str
        What is wrong.
    expected : str
        What was expected instead.
    """

    severity: str
    table: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    problem: str
    expected: str = ""

    def format(self) -> str:
        """One readable line: ``file, row R, column C: value 'v' problem (expected ...)``."""
        where = [self.file or f"({self.table})"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        msg = ", ".join(where) + ": "
        if self.value is not None:
            msg += f"value {_show(self.value)} "
        msg += self.problem
        if self.expected:
            msg += f" (expected {self.expected})"
        return msg


def _cell(value) -> str:
    """A typed cell as text; a date at midnight as ``YYYY-MM-DD``, as the user wrote it."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.strftime("%Y-%m-%d")
    return str(value)


def _show(value) -> str:
    s = str(value)
    s = s.encode("unicode_escape").decode("ascii") if not s.isprintable() else s
    if len(s) > 60:
        s = s[:57] + "..."
    return repr(s)


@dataclass
class ValidationReport:
    """Every problem found, with counts beyond the details kept.

    Attributes
    ----------
    problems : list of Problem
        Detailed problems (at most ``MAX_DETAILS_PER_KIND`` per table, column and problem).
    omitted : Counter
        Further occurrences not detailed, by (severity, file, column, problem).
    rows : dict
        Data rows read per table.
    files : dict
        File name per present table.
    as_of : pandas.Timestamp or None
        The evaluation date used.
    """

    problems: list[Problem] = field(default_factory=list)
    omitted: Counter = field(default_factory=Counter)
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    as_of: pd.Timestamp | None = None

    @property
    def errors(self) -> list[Problem]:
        """Detailed problems of severity error."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Detailed problems of severity warning."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def n_errors(self) -> int:
        """All errors, detailed or counted."""
        return len(self.errors) + sum(n for k, n in self.omitted.items() if k[0] == "error")

    @property
    def n_warnings(self) -> int:
        """All warnings, detailed or counted."""
        return len(self.warnings) + sum(n for k, n in self.omitted.items() if k[0] == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.n_errors == 0

    def add(self, p: Problem, seen: Counter | None = None) -> None:
        """Record a problem, keeping details only up to the per-kind limit."""
        key = (p.severity, p.file, p.column, p.problem)
        if seen is not None:
            seen[key] += 1
            if seen[key] > MAX_DETAILS_PER_KIND:
                self.omitted[key] += 1
                return
        self.problems.append(p)

    def to_frame(self) -> pd.DataFrame:
        """Detailed problems as a DataFrame (one row each)."""
        cols = ["severity", "table", "file", "row", "column", "value", "problem", "expected"]
        return pd.DataFrame([[getattr(p, c) for c in cols] for p in self.problems], columns=cols)

    def format(self, max_problems: int = 200) -> str:
        """The readable report printed by ``gm-eval validate``."""
        lines = []
        if self.files:
            lines.append("tables read: " + ", ".join(
                f"{t} ({self.files[t]}, {self.rows.get(t, 0):,} rows)" for t in self.files))
        if self.as_of is not None:
            lines.append(f"as of: {self.as_of.date().isoformat()}")
        for sev in ("error", "warning"):
            items = [p for p in self.problems if p.severity == sev]
            if not items:
                continue
            lines.append(f"{sev.upper()}S:" if sev == "error" else "WARNINGS:")
            for p in items[:max_problems]:
                lines.append("  " + p.format())
            if len(items) > max_problems:
                lines.append(f"  ... and {len(items) - max_problems} more detailed {sev}s")
            for (s, file, col, prob), n in sorted(self.omitted.items(), key=str):
                if s == sev:
                    where = f"{file}, column {col}" if col else file
                    lines.append(f"  ... and {n:,} more in {where}: {prob}")
        verdict = ("valid" if self.ok else "INVALID") + (
            f": {self.n_errors:,} error(s), {self.n_warnings:,} warning(s)")
        lines.append(verdict)
        return "\n".join(lines)


# ------------------------------------------------------------------- pandera schemas
_SCHEMAS: dict[str, pa.DataFrameSchema] = {}


def _check_functions(c: Column) -> list[tuple[str, str, Callable, bool]]:
    """The value checks of a column: ``(name, error, function, ignore_na)`` each.

    Each function takes the typed column and returns a boolean Series (True: passes);
    missing values pass (whether a column may be blank is the nullable check). The
    same functions run in :func:`_passes` and, wrapped as ``pa.Check``, in pandera.
    """
    checks = []
    if c.kind == "enum":
        checks.append(("isin", f"isin({list(c.values)})", _isin(c.values), False))
    if c.kind in ("int", "likert") and (c.min is not None or c.max is not None):
        lo = -np.inf if c.min is None else c.min
        hi = np.inf if c.max is None else c.max
        checks.append(("in_range", f"in_range({lo}, {hi})", _in_range(lo, hi), False))
    if c.kind in ("id", "str") and c.pattern:
        checks.append(("str_matches", f"str_matches('{c.pattern}')", _matches(c.pattern), True))
    if c.kind in ("id", "str", "multi"):
        checks.append(("str_length", f"str_length(None, {MAX_TEXT})", _max_length(MAX_TEXT),
                       False))
    return checks


def _checks(c: Column) -> list[pa.Check]:
    return [pa.Check(fn, name=name, error=error, ignore_na=ignore_na)
            for name, error, fn, ignore_na in _check_functions(c)]


def _isin(values) -> Callable[[pd.Series], pd.Series]:
    """Like ``pa.Check.isin`` but testing each distinct value once (enums have a handful).

    Missing values pass (as with pandera's ``ignore_na``; whether a column may be
    blank is pandera's nullable check), without pandera copying the column to drop them.
    """
    allowed = set(values)

    def check(s: pd.Series) -> pd.Series:
        if isinstance(s.dtype, pd.CategoricalDtype):  # an enum column being validated
            codes, uniques = s.cat.codes.to_numpy(), s.cat.categories
        else:
            codes, uniques = pd.factorize(s)
        ok_u = np.array([u in allowed for u in uniques] + [True])  # code -1: missing
        return pd.Series(ok_u[codes], index=s.index)

    return check


def _in_range(lo: float, hi: float) -> Callable[[pd.Series], pd.Series]:
    """Like ``pa.Check.in_range`` (bounds included), without copying the column to drop
    missing values (they pass, as with pandera's ``ignore_na``)."""

    def check(s: pd.Series) -> pd.Series:
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            ok = np.isnan(v) | ((v >= lo) & (v <= hi))
        return pd.Series(ok, index=s.index)

    return check


def _max_length(n: int) -> Callable[[pd.Series], pd.Series]:
    """Like ``pa.Check.str_length(max_value=n)``, missing values passing without a copy."""

    def check(s: pd.Series) -> pd.Series:
        lengths = s.str.len().to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(np.isnan(lengths) | (lengths <= n), index=s.index)

    return check


def _matches(pattern: str) -> Callable[[pd.Series], pd.Series]:
    """Like ``pa.Check.str_matches`` but testing each distinct value once (ids repeat a lot)."""
    rx = re.compile(pattern)

    def check(s: pd.Series) -> pd.Series:
        by_runs = per_run(s, lambda u: rx.match(str(u)))  # grouped ids: once a run
        if by_runs is not None:
            return pd.Series(by_runs, index=s.index)
        codes, uniques = pd.factorize(s)
        ok_u = np.array([bool(rx.match(str(u))) for u in uniques] + [True])
        return pd.Series(ok_u[codes], index=s.index)

    return check


def _pattern_words(pattern: str) -> str:
    if pattern == r"^[A-Z]{2}$":
        return "a two-letter ISO 3166-1 country code such as TH"
    return "letters, digits, '_', '.' or '-' only, 1 to 64 characters, not starting with '.'"


def _passes(table: Table, df: pd.DataFrame) -> bool:
    """Whether ``schema_for(table).validate(df)`` would pass, without pandera.

    Runs the schema's own checks (:func:`_check_functions`) and nullable rules directly
    on the typed table. Valid data, the common case, is then never handed to pandera
    (importing it costs about 1.4 s of CPU, holding the GIL); when anything fails, the
    schema runs as before and pandera's failure cases make the report.
    """
    for c in table.columns:
        if c.kind == "text" or c.name not in df.columns:
            continue
        s = df[c.name]
        if not c.nullable and bool(s.isna().any()):
            return False
        try:
            if not all(bool(fn(s).all()) for _, _, fn, _ in _check_functions(c)):
                return False
        except Exception:  # noqa: BLE001 - pandera reports what the check makes of it
            return False
    return True


def schema_for(table: Table) -> pa.DataFrameSchema:
    """The pandera schema of one contract table (value checks on typed columns).

    Columns are not required by the schema (presence is checked earlier, with a
    clearer message); types are not checked (typing is done by the parser).
    """
    if table.name not in _SCHEMAS:
        cols = {
            c.name: pa.Column(None, checks=_checks(c), nullable=c.nullable, required=False)
            for c in table.columns if c.kind != "text"
        }
        _SCHEMAS[table.name] = pa.DataFrameSchema(cols, name=table.name, coerce=False)
    return _SCHEMAS[table.name]


# ------------------------------------------------------------------------- typing
def _unique_map(s: pd.Series, func) -> pd.Series:
    """Apply ``func`` to the distinct values of ``s`` only (fast on long, repetitive columns)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[codes], index=s.index, dtype=object)


def _clean_text(s: pd.Series) -> pd.Series:
    """Text with surrounding white space removed; blank and white-space-only cells missing."""
    t = s.astype("str").str.strip()
    return t.mask(t == "")


class _Typer:
    """Types the columns of one raw table, recording problems."""

    def __init__(self, raw: RawTable, report: ValidationReport, seen: Counter):
        self.raw = raw
        self.report = report
        self.seen = seen
        self.tm: TableMapping = raw.mapping

    def problem(self, rows, column, values, problem, expected, severity="error"):
        label = self.raw.column_label(column) if column else None
        for r, v in zip(rows, values, strict=False):
            self.report.add(Problem(severity, self.raw.name, self.raw.file,
                                    None if r is None else int(r), label,
                                    None if v is None or (isinstance(v, float) and np.isnan(v))
                                    else _cell(v), problem, expected), self.seen)

    def bad(self, s_raw: pd.Series, mask: pd.Series, column: str, problem: str, expected: str):
        if bool(mask.any()):
            idx = s_raw.index[mask.to_numpy()]
            self.problem(idx, column, s_raw[mask].tolist(), problem, expected)

    def whole(self, c: Column, s: pd.Series, num: pd.Series, bad: pd.Series) -> pd.Series:
        """Report the ``bad`` cells of a whole-number column and return it as ``Int64``."""
        self.bad(s, bad, c.name, "is not a whole number",
                 "a whole number" if c.kind == "int" else "a whole number from 1 to 5")
        return num.where(~bad).astype("Float64").round().astype("Int64")

    def type_native(self, c: Column, s: pd.Series) -> pd.Series | None:
        """Type a column that arrived typed (Parquet); ``None`` to fall back to text."""
        kind = c.kind
        if kind == "date" and pd.api.types.is_datetime64_any_dtype(s):
            d = s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
            if not _at_midnight_ns(d):
                d = d.dt.normalize().astype("datetime64[ns]")
            implausible = d.notna() & (d < MIN_DATE)
            if not bool(implausible.any()):
                return d
            self.bad(s, implausible, c.name, "is before 1990", "a date from 1990 on")
            return d.where(~implausible)
        if pd.api.types.is_bool_dtype(s):
            if kind == "bool":
                return s.astype("boolean")
            return None
        if kind in ("int", "likert") and s.dtype.kind == "i":
            return s.astype("Int64")  # signed integers (Parquet int columns): whole already
        if pd.api.types.is_numeric_dtype(s) and kind in ("int", "likert", "bool"):
            num = s.astype("float64")
            if kind == "bool":
                bad = num.notna() & ~num.isin([0.0, 1.0])
                self.bad(s, bad, c.name, "is not a yes/no value", "true/false, yes/no or 1/0")
                return num.where(~bad).map({1.0: True, 0.0: False}).astype("boolean")
            return self.whole(c, s, num, num.notna() & (~np.isfinite(num) | (num % 1 != 0)))
        return None

    def type_column(self, c: Column, s: pd.Series) -> pd.Series:
        if c.kind == "enum" and isinstance(s.dtype, pd.CategoricalDtype):
            return self.type_enum(s.cat.codes.to_numpy(), pd.Series(s.cat.categories), s.index)
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            typed = self.type_native(c, s)
            if typed is not None:
                return typed
            s = _series_text(s)
        kind = c.kind
        if kind == "enum":
            codes, uniques = pd.factorize(s)
            return self.type_enum(codes, pd.Series(uniques, dtype=s.dtype), s.index)
        s = _clean_text(s)
        if kind in ("id", "str"):
            return s
        if kind == "multi":
            def f(v):
                parts = [p.strip().lower().replace(" ", "_") for p in str(v).split(";")]
                return ";".join(p for p in parts if p) or np.nan
            def codes_ok(v) -> bool:  # on the distinct values only
                return not isinstance(v, str) or all(_CODE.match(p) for p in v.split(";"))
            out = _unique_map(s, f)
            bad = ~_unique_map(out, codes_ok).fillna(True).astype(bool)
            self.bad(s, bad, c.name, "is not a list of codes",
                     "lower-case codes separated by ';', e.g. school;income_support")
            return out.where(~bad, np.nan)
        if kind in ("int", "likert"):
            num = pd.to_numeric(s, errors="coerce")
            return self.whole(c, s, num, s.notna() & (num.isna() | (num % 1 != 0)))
        if kind == "bool":
            t = set(TRUE_WORDS) | set(self.tm.true_words)
            f_ = set(FALSE_WORDS) | set(self.tm.false_words)

            def fb(v):
                w = str(v).strip().lower()
                w = w[:-2] if w.endswith(".0") else w
                return True if w in t else False if w in f_ else "?"
            out = _unique_map(s, fb)
            bad = out.eq("?").fillna(False).astype(bool)
            self.bad(s, bad, c.name, "is not a yes/no value",
                     "true/false, yes/no or 1/0" + (
                         " (or the words in the mapping file)" if self.tm.true_words else ""))
            return out.where(~bad, np.nan).astype("boolean")
        if kind == "date":
            return self.type_date(c, s)
        if kind == "text":
            return s.notna().astype("boolean")
        raise ValueError(f"unknown column kind {kind!r}")  # pragma: no cover

    @staticmethod
    def type_enum(codes: np.ndarray, uniques: pd.Series, index: pd.Index) -> pd.Series:
        """An enum column from its codes (-1 blank) and distinct labels.

        An enum has a handful of distinct values: they are cleaned and normalised once
        each (the operations applied to every cell, on the distinct cells). The column
        stays categorical while it is validated (each category is checked once) and
        becomes the evidence's sorted categorical in _finish_validation (:func:`_enums_as_evidence`).
        """
        clean = _clean_text(uniques)
        norm = [None if pd.isna(v) else re.sub(r"[\s\-]+", "_", str(v).strip().lower())
                for v in clean]
        cats = list(dict.fromkeys(v for v in norm if v is not None))
        where = {v: i for i, v in enumerate(cats)}
        # codes of the smallest type from the start (int8: no int64 copy to shrink again)
        recode = np.array([-1 if v is None else where[v] for v in norm] + [-1],
                          dtype=np.min_scalar_type(-max(len(cats), 1)))
        return pd.Series(pd.Categorical.from_codes(recode[codes], categories=cats,
                                                   validate=False), index=index)

    def type_date(self, c: Column, s: pd.Series) -> pd.Series:
        fmt = self.tm.date_format(c.name)
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        if s.notna().sum() == 0:
            return out
        text = s.dropna().astype(str)
        if fmt:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
            expected = f"a date in the mapping file's format {fmt!r}"
        else:
            # The common case first: plain YYYY-MM-DD (one fast C pass); then, for the
            # rest only, ISO date-times (time part dropped).
            parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            rest = parsed.isna()
            if bool(rest.any()):
                t2 = text[rest]
                iso = t2.str.match(_ISO_DATE.pattern)
                parsed[rest] = pd.to_datetime(t2.where(iso).str.slice(0, 10), format="%Y-%m-%d",
                                              errors="coerce")
            expected = "a date as YYYY-MM-DD (or declare your format under 'dates' in a mapping file)"
        unparsed = parsed.isna()
        serial = unparsed & (text.where(unparsed, "").str.match(_SERIAL.pattern)
                             if bool(unparsed.any()) else False)
        if bool(serial.any()):
            days = pd.to_numeric(text[serial], errors="coerce")
            parsed[serial] = EXCEL_EPOCH + pd.to_timedelta(np.floor(days), unit="D")
        parsed = parsed.dt.tz_localize(None) if getattr(parsed.dt, "tz", None) else parsed
        parsed = parsed.dt.normalize().astype("datetime64[ns]")
        bad = parsed.isna()
        self.bad(text, bad, c.name, "is not a date", expected)
        implausible = parsed.notna() & (parsed < MIN_DATE)
        self.bad(text, implausible, c.name, "is before 1990", "a date from 1990 on")
        out.loc[parsed.index] = parsed.where(~implausible)
        return out


_DAY_NS = 86_400_000_000_000
_NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds


def _day_ns(d: pd.Series) -> np.ndarray:
    """A typed date column (``datetime64[ns]``) as int64 nanoseconds, NaT as ``_NAT``."""
    return d.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _at_midnight_ns(d: pd.Series) -> bool:
    """Whether a ``datetime64[ns]`` column holds only midnights (or NaT): nothing to normalise."""
    if d.dtype != np.dtype("datetime64[ns]"):
        return False
    v = _day_ns(d)
    return bool(((v % _DAY_NS == 0) | (v == _NAT)).all())


def _enums_as_evidence(df: pd.DataFrame, codes: dict | None = None) -> pd.DataFrame:
    """Validated enum columns in the :class:`~gm_eval.evidence.Evidence` form: categorical
    over the values present, sorted, missing as NaN (as ``pd.factorize(sort=True)``).

    While a column is validated its categories are its labels in order of appearance;
    here they are narrowed to those used and sorted. No column of Python strings is
    made (a million of them cost 8 MB and a reference count each), and the codes,
    ``int8``, are those of :meth:`gm_eval.evidence.Evidence.factorized`: ``codes``,
    when given, receives each column's codes and labels, keyed by column name.
    """
    out = df
    for name in df.columns:
        if isinstance(df[name].dtype, pd.CategoricalDtype):
            cat = df[name].array
            labels = np.array(list(cat.categories) + [np.nan], dtype=object)
            if out is df:
                out = df.copy(deep=False)
            # as pd.factorize(sort=True): the labels used, sorted, and codes into them
            c = np.asarray(cat.codes)  # int8 for the few labels of an enum
            used = np.flatnonzero(np.bincount(c[c >= 0], minlength=len(labels) - 1))
            vals = labels[used]
            order = np.argsort(vals.astype(str), kind="stable")
            # the smallest signed type (a million int8, not int64: 7 MB less a column)
            recode = np.full(len(labels), -1, dtype=np.min_scalar_type(-max(len(used), 1)))
            recode[used[order]] = np.arange(len(used))  # last: missing stays -1
            sorted_codes = recode[c]
            out[name] = pd.Series(pd.Categorical.from_codes(
                sorted_codes, categories=pd.Index(vals[order], dtype=object), validate=False),
                index=df.index, copy=False)
            if codes is not None:
                codes[name] = (sorted_codes, vals[order])
    return out


def _may_have_duplicates(kdf: pd.DataFrame) -> bool:
    """False when the key columns hold no duplicate complete key (rows with a blank key
    part never count): sorted by Arrow, equal keys are neighbours. True means: look.

    A one-column text key (record ids) is screened on its cells' 64-bit fingerprints
    (:func:`gm_eval.pseudonym.text_fingerprints`, sorted by numpy): distinct
    fingerprints are distinct ids; a repeated one, a duplicate or a rare collision.
    """
    if kdf.shape[1] == 1:
        from gm_eval.pseudonym import _as_arrow_text, text_fingerprints

        text = _as_arrow_text(kdf.iloc[:, 0])
        if text is not None:
            arr, missing = text
            h = text_fingerprints(arr)[~missing]
            h.sort()
            return bool((h[1:] == h[:-1]).any())
    try:
        tb = pa_arrow.Table.from_pandas(kdf, preserve_index=False)
    except (pa_arrow.ArrowException, TypeError, ValueError):  # pragma: no cover - odd dtypes
        return True
    if tb.num_rows < 2 or any(pa_arrow.types.is_null(f.type) for f in tb.schema):
        return False  # an all-blank key part: no complete key at all
    try:
        st = tb.take(pc.sort_indices(tb, sort_keys=[(k, "ascending") for k in tb.column_names]))
        same = None
        for name in st.column_names:
            col = st[name].combine_chunks()
            eq = pc.equal(col.slice(1), col.slice(0, len(col) - 1))  # null where a part is blank
            same = eq if same is None else pc.and_kleene(same, eq)
    except pa_arrow.ArrowNotImplementedError:  # pragma: no cover - a type Arrow cannot sort
        return True
    return bool(pc.any(same).as_py())


# ------------------------------------------------------------------------- checks
def _type_table(raw: RawTable, report: ValidationReport, seen: Counter) -> pd.DataFrame | None:
    t = TABLES[raw.name]
    for fp in raw.problems:
        report.add(Problem(fp.severity, raw.name, raw.file, fp.row, fp.column, fp.value,
                           fp.problem, fp.expected), seen)
    if any(fp.severity == "error" for fp in raw.problems):
        return None
    if raw.dropped_columns:
        names = ", ".join(repr(c) for c in raw.dropped_columns[:12])
        more = f" and {len(raw.dropped_columns) - 12} more" if len(raw.dropped_columns) > 12 else ""
        report.add(Problem("warning", raw.name, raw.file, None, None, None,
                           f"columns not in the data contract are ignored and never reach any "
                           f"output: {names}{more}"))
    missing = [c for c in t.columns if c.required and c.name not in raw.frame.columns]
    for c in missing:
        theirs = raw.mapping.source_name(c.name)
        hint = f" (mapped from {theirs!r})" if theirs != c.name else ""
        report.add(Problem("error", raw.name, raw.file, 1, c.name, None,
                           f"required column is missing{hint}",
                           "a header cell named " + c.name + " (or a mapping to it)"))
    if missing:
        return None
    typer = _Typer(raw, report, seen)
    df = raw.frame
    typed = {}
    for c in t.columns:
        if c.name not in df.columns:
            continue
        typed[c.name if c.kind != "text" else f"{c.name}_provided"] = typer.type_column(c, df[c.name])
    out = pd.DataFrame(typed, index=df.index, copy=False)  # no block consolidation copy
    # pandera value checks (nothing is coerced, so pandera need not copy the table first)
    try:
        if not _passes(t, out):
            schema_for(t).validate(out, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["column"].isin(out.columns) & fc["index"].notna()]
        for rec in fc.itertuples(index=False):
            col = t.column(rec.column)
            is_null = rec.failure_case is None or (isinstance(rec.failure_case, float)
                                                   and np.isnan(rec.failure_case))
            row = int(rec.index)
            raw_value = df.at[row, col.name] if col.name in df.columns else rec.failure_case
            if is_null or str(rec.check).startswith("not_nullable"):
                if col.name in df.columns and pd.notna(df.at[row, col.name]) and str(
                        df.at[row, col.name]).strip():
                    continue  # unparseable, reported already
                typer.problem([row], col.name, [None], "is blank", "a value: this column is required")
                continue
            expected = _check_message(col, str(rec.check))
            typer.problem([row], col.name, [raw_value], _check_problem(col, str(rec.check)), expected)
    # Uniqueness of the table's key.
    key = [k for k in t.key if k in out.columns]
    if key and len(out) and _may_have_duplicates(out[key]):
        kdf = out[key]
        dup = kdf.duplicated(keep=False) & kdf.notna().all(axis=1)
        if bool(dup.any()):
            first = kdf[dup].reset_index().groupby(key, dropna=False)["index"].transform("min")
            later = kdf[dup].reset_index().assign(first=first.to_numpy())
            later = later[later["index"] != later["first"]]
            kcol = key[-1]
            for rec in later.itertuples(index=False):
                d = rec._asdict()
                typer.problem([d["index"]], kcol, [d[kcol]],
                              f"duplicates row {d['first']}" + (
                                  f" (same {', '.join(key)})" if len(key) > 1 else ""),
                              "a unique " + " + ".join(key))
    return out


def _check_problem(col: Column, check: str) -> str:
    if check.startswith("isin"):
        return "is not an allowed value"
    if check.startswith("in_range"):
        return "is out of range"
    if check.startswith("str_matches"):
        return "has characters or a form that is not allowed"
    if check.startswith("str_length"):
        return "is too long"
    return f"fails check {check}"


def _check_message(col: Column, check: str) -> str:
    if check.startswith("isin"):
        return "one of: " + ", ".join(col.values)
    if check.startswith("in_range"):
        return f"a whole number from {col.min:g} to {col.max:g}"
    if check.startswith("str_matches"):
        return _pattern_words(col.pattern or "")
    if check.startswith("str_length"):
        return f"at most {MAX_TEXT} characters"
    return check


@dataclass
class _TableChecks:
    """What the one-table part of the cross-table checks found in a table.

    Each finding is the arguments of one report entry (rows, column, values, problem,
    expected, severity); :func:`_cross_checks` reports them in a fixed order, so that
    the report is the same whether a table was checked by a loader thread as soon as
    it was typed or afterwards with the others.
    """

    links: list = field(default_factory=list)  # mechanism_id known, dates in order
    content: list = field(default_factory=list)  # table-specific consistency
    future: list = field(default_factory=list)  # dates after today or as_of
    latest: pd.Timestamp | None = None  # the table's latest date


def _date_limit(as_of_given: pd.Timestamp | None, today: pd.Timestamp) -> tuple:
    """The latest date allowed in the data, why, and what is expected instead."""
    if as_of_given is None:
        return today, "is in the future", f"a date on or before today ({today.date()})"
    limit = min(as_of_given, today)
    return limit, "is after the evaluation date (as_of)", f"a date on or before {limit.date()}"


def _known_ids(mechanisms: pd.DataFrame | None) -> set | None:
    return set(mechanisms["mechanism_id"].dropna()) if mechanisms is not None else None


def _table_checks(name: str, df: pd.DataFrame, known: set | None, limit: tuple) -> _TableChecks:
    """The checks of :func:`_cross_checks` that need only table ``name`` and the
    mechanism ids (``known``, None when the mechanisms table is unusable)."""
    t, out = TABLES[name], _TableChecks()
    if name != "mechanisms" and known is not None and "mechanism_id" in df.columns:
        ok = per_run(df["mechanism_id"], known.__contains__)  # grouped ids: once a run
        bad = (df["mechanism_id"].notna() & ~df["mechanism_id"].isin(known) if ok is None
               else pd.Series(~ok, index=df.index))
        if bool(bad.any()):
            out.links.append((df.index[bad], "mechanism_id", df.loc[bad, "mechanism_id"],
                              "is not a mechanism_id of the mechanisms table",
                              "an id listed in mechanisms", "error"))
    for early, late in t.date_order:
        if early in df.columns and late in df.columns:
            e, lt = _day_ns(df[early]), _day_ns(df[late])
            bad = (lt < e) & (lt != _NAT)  # a blank early date (NaT) is never later
            if bool(bad.any()):
                out.links.append((df.index[bad], late, df.loc[bad, late].dt.date.astype(str),
                                  f"is before {early}", f"{late} on or after {early}", "error"))
    if name == "workforce":
        for col in ("female", "aged_15_17", "migrant"):
            if col in df.columns:
                bad = df[col].notna() & df["headcount"].notna() & (df[col] > df["headcount"])
                if bool(bad.any()):
                    out.content.append((df.index[bad], col, df.loc[bad, col].astype(str),
                                        "is larger than headcount", f"{col} at most headcount",
                                        "error"))
    if name == "cases" and "closed_at" in df.columns:
        bad = (df["status"] == "open") & df["closed_at"].notna()
        if bool(bad.any()):
            out.content.append((df.index[bad], "status", df.loc[bad, "status"],
                                "is open but closed_at is set (treated as closed on that date)",
                                "status closed, withdrawn or ineligible", "warning"))
    if name == "worker_survey" and "used" in df.columns:
        for col in ("informed_outcome", "satisfied"):
            if col in df.columns:
                bad = (df["used"] == False) & df[col].notna()  # noqa: E712
                if bool(bad.any()):
                    out.content.append((
                        df.index[bad], col, df.loc[bad, col].astype(str),
                        "is answered by a respondent who has not used the mechanism (ignored)",
                        "blank when used = no", "warning"))
    dates = [c for c in t.columns_of_kind("date") if c in df.columns]
    latest = [v for v in (_day_ns(df[c]).max() for c in dates if len(df)) if v != _NAT]
    out.latest = pd.Timestamp(max(latest)) if latest else None  # NaT is the smallest value
    lim, why, expected = limit
    for c in dates:
        bad = _day_ns(df[c]) > lim.value  # NaT never is
        if bool(bad.any()):
            out.future.append((df.index[bad], c, df.loc[bad, c].dt.date.astype(str), why,
                               expected, "error"))
    return out


def _cross_checks(typed: dict[str, pd.DataFrame], raws: dict[str, RawTable],
                  report: ValidationReport, seen: Counter, as_of_given: pd.Timestamp | None,
                  today: pd.Timestamp, checked: dict[str, _TableChecks] | None = None
                  ) -> pd.Timestamp:
    """Checks between tables and of dates; returns the evaluation date.

    ``checked`` holds the one-table part (:func:`_table_checks`) already done for some
    tables, with the same mechanism ids and date limit.
    """
    def emit(name, rows, column, values, problem, expected, severity="error"):
        _Typer(raws[name], report, seen).problem(rows, column, values, problem, expected, severity)

    limit = _date_limit(as_of_given, today)
    known = _known_ids(typed.get("mechanisms"))
    checked = checked or {}
    found = {n: checked[n] if n in checked else _table_checks(n, df, known, limit)
             for n, df in typed.items()}
    for name in typed:
        for f in found[name].links:
            emit(name, *f)
    # Follow-ups must belong to an identified child, on or after identification.
    ch, fu = typed.get("clms_children"), typed.get("clms_followups")
    if fu is not None and len(fu):
        if ch is not None:
            ident, unknown = _followup_children(ch, fu)
            if bool(unknown.any()):
                emit("clms_followups", fu.index[unknown], "child_id", fu.loc[unknown, "child_id"],
                     "is not a child of clms_children for this mechanism",
                     "a child_id listed in clms_children")
            early = ident.notna() & fu["visit_date"].notna() & (fu["visit_date"] < ident)
            if bool(early.any()):
                emit("clms_followups", fu.index[early], "visit_date",
                     fu.loc[early, "visit_date"].dt.date.astype(str),
                     "is before the child was identified", "a visit on or after identified_at")
        else:
            report.add(Problem("error", "clms_followups", raws["clms_followups"].file, None, None,
                               None, "follow-up visits given without clms_children",
                               "a clms_children table for the children visited"))
    for name in ("workforce", "cases", "worker_survey"):
        for f in found[name].content if name in found else ():
            emit(name, *f)
    # Dates: never in the future, never after as_of.
    latest = [f.latest for f in found.values() if f.latest is not None]
    data_latest = max(latest) if latest else None
    if as_of_given is not None and as_of_given > today:
        report.add(Problem("error", "mechanisms", "", None, None, str(as_of_given.date()),
                           "--as-of is in the future", f"a date on or before {today.date()}"))
    for name in typed:
        for f in found[name].future:
            emit(name, *f)
    if as_of_given is not None:
        return as_of_given
    if data_latest is None:
        return today
    return min(data_latest, today)


def _followup_children(ch: pd.DataFrame, fu: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each follow-up's child: its ``identified_at`` (NaT when none; the first child row
    of that mechanism and id) and whether it is unknown (an id that no child row of that
    mechanism has). Series on ``fu``'s index.

    The keys of both tables are coded together (one factorisation of each column) and
    matched in the sorted distinct keys of ``ch``; with a missing key part anywhere,
    pandas' MultiIndex does it (its handling of missing parts is the reference).
    """
    cols = ["mechanism_id", "child_id"]
    if any(df[c].isna().any() for df in (ch, fu) for c in cols):
        keys = ch.drop_duplicates(cols).set_index(cols)["identified_at"]
        idx = pd.MultiIndex.from_frame(fu[cols])
        ident = pd.Series(keys.reindex(idx).to_numpy(), index=fu.index)
        return ident, fu["child_id"].notna() & ~idx.isin(keys.index)
    key = np.zeros(len(ch) + len(fu), dtype=np.int64)
    for c in cols:
        codes, uniq = pd.factorize(pd.concat([ch[c], fu[c]], ignore_index=True))
        key *= len(uniq)
        key += codes
    kc, kf = key[:len(ch)], key[len(ch):]
    uniq, first = np.unique(kc, return_index=True)  # the first row of each child
    pos = np.minimum(np.searchsorted(uniq, kf), len(uniq) - 1)
    found = uniq[pos] == kf if len(uniq) else np.zeros(len(fu), dtype=bool)
    at = ch["identified_at"].to_numpy()
    ident = np.full(len(fu), np.datetime64("NaT"), dtype=at.dtype) if at.dtype.kind == "M" \
        else np.full(len(fu), None, dtype=object)
    if len(uniq):
        ident[found] = at[first[pos[found]]]
    return pd.Series(ident, index=fu.index), pd.Series(~found, index=fu.index)


def _parse_as_of(as_of) -> pd.Timestamp | None:
    if as_of is None or as_of == "":
        return None
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise InputError(f"--as-of {as_of!r} is not a date (expected YYYY-MM-DD)") from None
    if pd.isna(ts):
        raise InputError(f"--as-of {as_of!r} is not a date (expected YYYY-MM-DD)")
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


def _type_one(name: str, raw: RawTable) -> tuple[pd.DataFrame | None, ValidationReport, Counter]:
    """Type and check one table, with its own report and counter (tables are typed in
    parallel; the reports are merged in contract order afterwards)."""
    rep, cnt = ValidationReport(), Counter()
    if len(raw.frame) == 0 and not raw.problems:
        sev = "error" if name == "mechanisms" else "warning"
        rep.add(Problem(sev, name, raw.file, None, None, None, "has a header but no rows",
                        "at least one data row"))
    return _type_table(raw, rep, cnt), rep, cnt


def validate_tables(raws: dict[str, RawTable], as_of=None, today: dt.date | None = None,
                    key: bytes | None = None) -> tuple[Evidence | None, ValidationReport]:
    """Type and check raw tables.

    Parameters
    ----------
    raws : dict of str to RawTable
        As returned by :func:`gm_eval.io.read_data_dir`.
    as_of : str or date, optional
        Evaluation date; default the latest date in the data, never after today.
    today : date, optional
        Today's date (for tests); default the system date.
    key : bytes, optional
        Pseudonymisation key (default: :func:`gm_eval.pseudonym.get_key`).

    Returns
    -------
    evidence : Evidence or None
        ``None`` when there is any error.
    report : ValidationReport
    """
    present = [n for n in TABLE_ORDER if n in raws]
    # Largest tables first, two at a time: pandas and pyarrow release the GIL.
    order = sorted(present, key=lambda n: -len(raws[n].frame))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gm-eval-validate") as pool:
        done = dict(zip(order, pool.map(lambda n: _type_one(n, raws[n]), order), strict=True))
    return _finish_validation(raws, done, as_of=as_of, today=today, key=key)


def _finish_validation(raws: dict[str, RawTable], done: dict, as_of, today, key, ready=None,
                       checked=None, texted=None) -> tuple[Evidence | None, ValidationReport]:
    """Merge the per-table results of :func:`_type_one`, run the cross-table checks and,
    when there is no error, pseudonymise into :class:`Evidence`.

    ``ready`` maps tables to futures of their pseudonyms
    (:func:`gm_eval.pseudonym.pseudonym_columns`, computed while the checks run);
    ``checked`` to the one-table checks already done (:func:`_table_checks`);
    ``texted`` to the tables already converted by :func:`_enums_as_evidence` (with codes).
    """
    report = ValidationReport()
    seen: Counter = Counter()
    as_of_given = _parse_as_of(as_of)
    today_ts = pd.Timestamp(today or dt.date.today()).normalize()
    report.files = {n: r.file for n, r in raws.items()}
    report.rows = {n: len(r.frame) for n, r in raws.items()}
    if "mechanisms" not in raws:
        report.add(Problem("error", "mechanisms", "", None, None, None,
                           "the mechanisms table is required and was not found",
                           "mechanisms.csv, mechanisms.xlsx or mechanisms.parquet"))
    for name in TABLE_ORDER:
        if name not in raws and name != "mechanisms":
            report.add(Problem("warning", name, "", None, None, None,
                               "table not supplied: indicators that need it are reported as "
                               "not covered"))
    typed: dict[str, pd.DataFrame] = {}
    for name in [n for n in TABLE_ORDER if n in raws]:
        # merge in contract order, so the report reads the same every time
        out, rep, cnt = done[name]
        report.problems.extend(rep.problems)
        report.omitted.update(rep.omitted)
        seen.update(cnt)
        if out is not None:
            typed[name] = out
    as_of_ts = _cross_checks(typed, raws, report, seen, as_of_given, today_ts, checked)
    report.as_of = as_of_ts
    if not report.ok:
        return None, report
    texted = dict(texted or {})
    for n, df in typed.items():
        if n not in texted:
            codes: dict = {}
            texted[n] = (_enums_as_evidence(df, codes), codes)
    tables = {n: texted[n][0].reset_index(drop=True) for n in typed}
    enum_codes = {n: texted[n][1] for n in typed}
    # Record ids never travel further than this line: keyed pseudonyms replace them.
    if ready and key is None:
        pseudo = {n: f.result() for n, f in ready.items()}
        missing = any(c in tables[n].columns and c not in pseudo.get(n, {})
                      for n, cols in RECORD_ID_COLUMNS.items() if n in tables for c in cols)
        tables = pseudonymise_tables(tables, get_key() if missing else None, ready=pseudo)
    else:
        tables = pseudonymise_tables(tables, key if key is not None else get_key())
    sources = {n: SourceFile(n, r.file, r.sha256, len(r.frame)) for n, r in raws.items()}
    ev = Evidence(tables=tables, as_of=as_of_ts, sources=sources, warnings=report.warnings,
                  codes={(n, c): v for n, cols in enum_codes.items() for c, v in cols.items()})
    return ev, report


def check_data_dir(data_dir: str | Path, mapping=None, as_of=None,
                   today: dt.date | None = None) -> ValidationReport:
    """Validate a data directory; never raises for problems in the data.

    Parameters
    ----------
    data_dir : path-like
    mapping : path, dict or Mapping, optional
    as_of : str or date, optional
    today : date, optional

    Returns
    -------
    ValidationReport
        ``report.ok`` is False when any error was found.
    """
    _, report = _read_and_validate(data_dir, mapping, as_of, today)
    return report


def _early_pseudonyms(name: str, raw: RawTable, key: bytes) -> dict[str, pd.Series]:
    """The pseudonyms of a table's record ids, computed from the raw table.

    The id columns are typed here on their own, exactly as :func:`_type_table` types
    them (a function of the cells alone), so the pseudonyms can be computed while the
    rest of the table is typed. They are used only if the whole input is valid.
    """
    typer = _Typer(raw, ValidationReport(), Counter())
    ids = {c.name: typer.type_column(c, raw.frame[c.name]) for c in TABLES[name].columns
           if c.name in RECORD_ID_COLUMNS[name] and c.name in raw.frame.columns}
    return pseudonym_columns(name, pd.DataFrame(ids, index=raw.frame.index), key)


def _read_and_validate(data_dir, mapping, as_of, today):
    m: Mapping = load_mapping(mapping)
    files = find_table_files(data_dir, m)

    try:
        # an existing key only: a new one is made (as before) once the data is valid
        early_key = get_key(create=False)
    except InputError:
        early_key = None  # none yet, or unreadable: pseudonymised (or reported) at the end
    ready = {}
    try:  # the date limit of the one-table checks (a bad --as-of is reported at the end)
        limit = _date_limit(_parse_as_of(as_of), pd.Timestamp(today or dt.date.today()).normalize())
    except InputError:
        limit = None
    checked: dict[str, _TableChecks] = {}
    texted: dict[str, tuple[pd.DataFrame, dict]] = {}
    mechanisms: Future = Future()  # the typed mechanisms table (None when unusable)
    if "mechanisms" not in files:
        mechanisms.set_result(None)

    def read_and_type(name: str):
        # Each table is typed and checked as soon as it is read: the large cases table
        # is typed while the other files are still being read (two at a time); its ids
        # are pseudonymised by the other thread, once it is free, while this one types it.
        path = files[name]
        typed = None
        try:
            try:
                raw = read_table_file(name, path, m, contract_only=True)
            except InputError as exc:
                return None, Problem("error", name, path.name, None, None, None,
                                     str(exc).removeprefix(f"{path.name}: ")), None
            if early_key is not None and name in RECORD_ID_COLUMNS:
                ready[name] = pool.submit(_early_pseudonyms, name, raw, early_key)
            typed = _type_one(name, raw)
        finally:
            if name == "mechanisms":
                mechanisms.set_result(typed[0] if typed else None)
        if typed[0] is not None and limit is not None:
            checked[name] = _table_checks(name, typed[0], _known_ids(mechanisms.result()), limit)
        if typed[0] is not None and typed[1].ok:  # the Evidence form, used if all is valid
            codes: dict = {}
            texted[name] = (_enums_as_evidence(typed[0], codes), codes)
        return raw, None, typed

    def size(name: str) -> int:
        try:
            return files[name].stat().st_size
        except OSError:
            return 0  # reported by the reader

    # mechanisms first (every other table's checks need its ids), then the largest first
    order = sorted(files, key=lambda n: (n != "mechanisms", -size(n)))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gm-eval-load") as pool:
        results = dict(zip(order, pool.map(read_and_type, order), strict=True))
        raws: dict[str, RawTable] = {}
        unreadable: list[Problem] = []
        done = {}
        for name in files:  # contract order
            raw, problem, typed = results[name]
            if raw is None:
                unreadable.append(problem)
            else:
                raws[name], done[name] = raw, typed
        ev, report = _finish_validation(raws, done, as_of=as_of, today=today, key=None,
                                        ready=ready if not unreadable else None, checked=checked,
                                        texted=texted)
    if unreadable:
        # A table that could not be read at all is an error, not an absent table.
        names = {p.table for p in unreadable}
        report.problems = unreadable + [
            p for p in report.problems
            if not (p.table in names and p.problem.startswith("table not supplied"))
            and not (p.table == "mechanisms" and "mechanisms" in names and p.file == "")]
        report.files.update({p.table: p.file for p in unreadable})
        ev = None
    return ev, report


def load(data_dir: str | Path, mapping=None, as_of=None, today: dt.date | None = None) -> Evidence:
    """Read, map and validate a data directory into :class:`Evidence`.

    Raises
    ------
    gm_eval.errors.ValidationFailed
        With the full report when any error was found.
    gm_eval.errors.InputError
        When the directory or the mapping file cannot be read.
    """
    ev, report = _read_and_validate(data_dir, mapping, as_of, today)
    if ev is None:
        raise ValidationFailed(report)
    return ev
