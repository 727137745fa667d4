"""Readers for the tables of a data directory (CSV, XLSX, Parquet).

Readers return every cell as text (``NaN`` where blank; Parquet columns keep
their native dates, numbers and booleans) under the contract's column names, indexed by the row number the user sees in their file (the
header is row 1, so the first data row is row 2; for Parquet, which has no
header row, the first record is row 1). Typing and checking is the job of
:mod:`gm_eval.validate`. Columns the contract does not know are dropped here
and never carried further: they may hold names, phone numbers or free text.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gm_eval.contract import TABLE_ORDER, TABLES
from gm_eval.errors import InputError
from gm_eval.io.mapping import Mapping, TableMapping, load_mapping

__all__ = ["RawTable", "FileProblem", "find_table_files", "read_table_file", "read_data_dir"]

SUFFIXES = (".csv", ".xlsx", ".parquet")

#: Largest data directory file we agree to read (bytes).
MAX_FILE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class FileProblem:
    """A problem found while reading a file (before any typing)."""

    row: int | None
    column: str | None
    value: str | None
    problem: str
    expected: str = ""
    severity: str = "error"


@dataclass
class RawTable:
    """One table as read from the user's file, before typing.

    Parameters
    ----------
    name : str
        Contract table name.
    file : str
        File name shown in messages.
    path : pathlib.Path
        Absolute path of the file.
    sha256 : str
        Digest of the file's bytes.
    frame : DataFrame
        Text cells (``NaN`` for blank) under contract column names, indexed by
        the user's row number.
    source_columns : dict
        Contract column name to the user's column name (for messages).
    dropped_columns : list of str
        The user's columns that the contract does not know (dropped).
    problems : list of FileProblem
        Structural problems found while reading.
    mapping : TableMapping
        The mapping applied.
    """

    name: str
    file: str
    path: Path
    sha256: str
    frame: pd.DataFrame
    source_columns: dict[str, str] = field(default_factory=dict)
    dropped_columns: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    mapping: TableMapping = field(default_factory=TableMapping)

    def column_label(self, column: str) -> str:
        """How to name ``column`` to the user: their header, and ours when renamed."""
        theirs = self.source_columns.get(column, column)
        return column if theirs == column else f"{theirs} ({column})"


# ----------------------------------------------------------------------------- finding
def find_table_files(data_dir: str | Path, mapping: Mapping | None = None) -> dict[str, Path]:
    """Locate the file of every table present in ``data_dir``.

    A table's file is named by the mapping (``tables.<name>.file``) or is
    ``<name>.csv``, ``<name>.xlsx`` or ``<name>.parquet`` (case-insensitive).

    Raises
    ------
    gm_eval.errors.InputError
        When the directory is missing, a mapped file is missing, or a table has
        more than one candidate file.
    """
    d = Path(data_dir)
    if not d.exists():
        raise InputError(f"data directory {d}: not found")
    if not d.is_dir():
        raise InputError(f"data directory {d}: not a directory")
    mapping = mapping or Mapping()
    entries = {p.name.lower(): p for p in d.iterdir() if p.is_file()}
    found: dict[str, Path] = {}
    for name in TABLE_ORDER:
        tm = mapping.for_table(name)
        if tm.file:
            rel = Path(tm.file)
            if rel.is_absolute() or ".." in rel.parts:
                raise InputError(f"mapping: file {tm.file!r} for table {name} must be a plain "
                                 f"file name inside {d}")
            p = d / rel
            if not p.is_file():
                raise InputError(f"mapping names {tm.file!r} for table {name}, "
                                 f"but {p} does not exist")
            found[name] = p
            continue
        candidates = [entries[name + s] for s in SUFFIXES if name + s in entries]
        if len(candidates) > 1:
            raise InputError(f"table {name}: several files in {d} "
                             f"({', '.join(p.name for p in candidates)}); keep one")
        if candidates:
            found[name] = candidates[0]
    return found


# ----------------------------------------------------------------------------- cells
def _cell_text(v) -> str | float:
    """One spreadsheet/parquet cell as text; blank as NaN."""
    if v is None:
        return np.nan
    if isinstance(v, float):
        if math.isnan(v):
            return np.nan
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, pd.Timestamp | dt.datetime):
        if pd.isna(v):
            return np.nan
        if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
            return v.strftime("%Y-%m-%d")
        return v.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat()
    s = str(v)
    return s if s.strip() else np.nan


def _series_text(s: pd.Series) -> pd.Series:
    """A column of native values (numbers, dates, booleans) as text, vectorised where possible."""
    if pd.api.types.is_datetime64_any_dtype(s):
        s2 = s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
        midnight = s2.isna() | (s2 == s2.dt.normalize())
        fmt = "%Y-%m-%d" if bool(midnight.all()) else "%Y-%m-%dT%H:%M:%S"
        out = s2.dt.strftime(fmt)
        return out.astype(object).where(s2.notna(), np.nan)
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "true", False: "false"}).astype(object).where(s.notna(), np.nan)
    if pd.api.types.is_integer_dtype(s):
        return s.astype("Int64").astype(str).astype(object).where(s.notna(), np.nan)
    if pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        out = s.astype(object)
        return out.where(out.notna() & (out.astype(str).str.strip() != ""), np.nan)
    return s.map(_cell_text).astype(object)


# ----------------------------------------------------------------------------- readers
def _decode(data: bytes, file: str, encoding: str | None) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    enc = encoding or "utf-8-sig"
    try:
        return data.decode(enc)
    except LookupError:
        raise InputError(f"{file}: unknown encoding {enc!r} in the mapping file") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 1].hex()
        raise InputError(
            f"{file}, line {line}: the file is not {enc.replace('-sig', '')} text "
            f"(byte 0x{bad} at offset {exc.start}). Save it as 'CSV UTF-8' from your "
            "spreadsheet, or name its encoding in the mapping file "
            "(for example `encoding: cp1252` or `latin-1`)."
        ) from None


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, data: bytes, tm: TableMapping, name: str | None = None
              ) -> tuple[pd.DataFrame, list[FileProblem]]:
    text = _decode(data, path.name, tm.encoding)
    if "\x00" in text:
        raise InputError(f"{path.name}: contains NUL bytes; it is not a text CSV file "
                         "(if it is a spreadsheet, give it the .xlsx extension)")
    end = text.find("\n")
    first_line = (text if end < 0 else text[:end]).rstrip("\r")  # no copy of the rest
    if not first_line.strip():
        raise InputError(f"{path.name}: the file is empty (no header row)")
    delim = tm.delimiter or _sniff_delimiter(first_line)
    header = next(csv.reader([first_line], delimiter=delim))
    header = [h.strip() for h in header]
    problems: list[FileProblem] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if h == "":
            problems.append(FileProblem(1, f"column {i + 1}", None, "header cell is blank",
                                        "a column name", "error"))
        elif h in seen:
            raise InputError(f"{path.name}, row 1: column {h!r} appears twice "
                             f"(columns {seen[h] + 1} and {i + 1})")
        seen[h] = i
    fast = _read_csv_arrow(data, text, delim, header, tm, _typed_columns(name, header, tm),
                           _contract_columns(name, header, tm))
    if fast is not None:
        return fast, problems
    # Exact path: field counts per record, to report ragged rows with the row
    # number a user sees, then pandas' parser.
    n_fields = len(header)
    csv.field_size_limit(MAX_FILE_BYTES)
    try:
        lens = np.fromiter((len(r) for r in csv.reader(io.StringIO(text), delimiter=delim)),
                           dtype=np.int64)
    except csv.Error as exc:
        raise InputError(f"{path.name}: cannot be parsed as CSV ({exc})") from None
    blank = lens == 0
    bad = np.flatnonzero((lens != n_fields) & ~blank & (np.arange(len(lens)) > 0))
    for i in bad[:50]:
        problems.append(FileProblem(int(i) + 1, None, None,
                                    f"row has {int(lens[i])} fields but the header has {n_fields}",
                                    f"{n_fields} fields separated by {delim!r}"))
    if len(bad) > 50:
        problems.append(FileProblem(None, None, None,
                                    f"{len(bad) - 50} more rows with the wrong number of fields"))
    if len(bad):
        return pd.DataFrame(columns=header), problems
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False,
                         na_values=[""], skip_blank_lines=False, header=0, names=header,
                         engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path.name}: cannot be parsed as CSV ({exc})") from None
    df.index = np.arange(2, len(df) + 2)
    # Blank cells are NaN already; whitespace-only cells are blanked when typed.
    df = df.dropna(how="all")
    return df, problems


def _contract_columns(name: str | None, header: list[str], tm: TableMapping) -> list[str] | None:
    """The header's columns that are (or are mapped to) contract columns; ``None``: all."""
    table = TABLES.get(name or "")
    if table is None:
        return None
    known = set(table.column_names)
    return [h for h in header if tm.columns.get(h, h) in known]


def _typed_columns(name: str | None, header: list[str], tm: TableMapping) -> dict[str, str]:
    """Columns the fast path may type in Arrow: contract dates, whole numbers and yes/no.

    Only columns the mapping neither recodes nor gives a date format. Returns
    ``{header name: kind}``; see :func:`_arrow_typed`.
    """
    table = TABLES.get(name or "")
    if table is None:
        return {}
    kinds = {c.name: c.kind for c in table.columns}
    out: dict[str, str] = {}
    for h in header:
        ours = tm.columns.get(h, h)
        if ours in tm.values or ours in tm.constants:
            continue
        kind = kinds.get(ours)
        if (kind == "date" and not tm.date_format(ours)) or kind in ("int", "likert", "bool"):
            out[h] = "int" if kind == "likert" else kind
    return out


def _arrow_typed(col, kind: str, tm: TableMapping):
    """``col`` (Arrow text) typed when every cell is in the strict form, else ``None``.

    The strict forms are read the same way by validation's text path: dates as
    ``YYYY-MM-DD`` that exist (month and day as written), whole numbers as plain
    integers (no sign, no leading zero), yes/no as one of the words
    of :data:`gm_eval.validate.TRUE_WORDS` / ``FALSE_WORDS`` (and the mapping's)
    in any case. A column with any other cell stays text, and validation checks
    and reports it cell by cell.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        # strict forms only: Arrow's parsers are lenient (2025-02-30 rolls over to
        # March 2, and +5 and 05 read as 5), so each cell is checked as well
        if kind == "date":
            typed = pc.strptime(col, format="%Y-%m-%d", unit="s", error_is_null=False)
            ok = pc.and_(pc.match_substring_regex(col, r"^\d{4}-\d{2}-\d{2}$"),
                         pc.and_(pc.equal(pc.month(typed), pc.cast(pc.utf8_slice_codeunits(col, 5, 7), pa.int64())),
                                 pc.equal(pc.day(typed), pc.cast(pc.utf8_slice_codeunits(col, 8, 10), pa.int64()))))
        elif kind == "int":
            typed = pc.cast(col, pa.int64())
            ok = pc.equal(pc.cast(typed, pa.string()), col)  # written back the same
        else:
            typed = ok = None
        if typed is not None:
            if pc.any(pc.invert(pc.fill_null(ok, True))).as_py():
                return None
            return typed
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if kind == "bool":
        from gm_eval.validate import FALSE_WORDS, TRUE_WORDS

        low = pc.utf8_lower(col)
        yes = pc.is_in(low, value_set=pa.array(sorted(set(TRUE_WORDS) | set(tm.true_words))))
        no = pc.is_in(low, value_set=pa.array(sorted(set(FALSE_WORDS) | set(tm.false_words))))
        known = pc.or_(yes, no)
        if pc.any(pc.and_(pc.is_valid(col), pc.invert(known))).as_py():
            return None
        return pc.if_else(pc.is_valid(col), yes, pa.scalar(None, pa.bool_()))
    return None


def _read_csv_arrow(data: bytes, text: str, delim: str, header: list[str],
                    tm: TableMapping, typed: dict[str, str] | None = None,
                    keep: list[str] | None = None) -> pd.DataFrame | None:
    """Fast path: pyarrow's multi-threaded parser.

    Only the ``keep`` columns (default all) reach pandas; the others (names,
    phone numbers, free text: columns outside the contract) are dropped in Arrow
    once it is known which rows hold anything, and never become Python objects.
    Their names are listed in ``frame.attrs["gm_skipped"]`` for the warning about
    ignored columns.

    Every column is read as text; the ``typed`` ones (see :func:`_typed_columns`)
    whose every cell is in its strict form are then typed in Arrow
    (:func:`_arrow_typed`), and validation takes them as typed, as for Parquet.

    Returns ``None`` (and the caller takes the exact path) when any record has
    the wrong number of fields, so that problems are reported with exact rows.
    Blank lines are kept as empty records, so row numbers stay those of the file.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pv
    except ImportError:  # pragma: no cover
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        payload = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")) or tm.encoding:
        payload = text.encode("utf-8")
    else:
        payload = data
    ragged = []

    def on_invalid(row):
        ragged.append(row)
        return "error"

    try:
        table = pv.read_csv(
            io.BytesIO(payload),
            read_options=pv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24),
            parse_options=pv.ParseOptions(delimiter=delim, newlines_in_values=True,
                                          ignore_empty_lines=False,
                                          invalid_row_handler=on_invalid),
            convert_options=pv.ConvertOptions(
                column_types={c: pa.string() for c in header}, strings_can_be_null=True,
                quoted_strings_can_be_null=True, null_values=[""]),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if ragged:
        return None
    for h, kind in (typed or {}).items():
        i = table.schema.get_field_index(h)
        if i < 0:
            continue
        col = _arrow_typed(table.column(i), kind, tm)
        if col is not None:
            table = table.set_column(i, h, col)
    kept = set(header if keep is None else keep)
    skipped = [h for h in header if h not in kept]
    extra = None  # rows with something in a skipped column: not blank rows
    if skipped:
        import pyarrow.compute as pc

        for h in skipped:
            valid = pc.is_valid(table.column(h))
            extra = valid if extra is None else pc.or_(extra, valid)
        table = table.drop_columns(skipped)
    df = table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype(), pa.int64(): pd.Int64Dtype()}.get)
    df.index = np.arange(2, len(df) + 2)
    blank = df.isna().all(axis=1).to_numpy().copy()
    if extra is not None:
        blank &= ~np.asarray(extra.to_numpy(zero_copy_only=False), dtype=bool)
    df = df[~blank] if blank.any() else df
    df.attrs["gm_skipped"] = skipped
    return df


def _read_xlsx(path: Path, data: bytes, tm: TableMapping
               ) -> tuple[pd.DataFrame, list[FileProblem]]:
    try:
        import openpyxl  # noqa: F401
    except ImportError:  # pragma: no cover
        raise InputError("reading .xlsx needs openpyxl (pip install openpyxl)") from None
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception as exc:  # zipfile.BadZipFile, KeyError, ...
        raise InputError(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    with book:
        sheet = tm.sheet if tm.sheet is not None else book.sheet_names[0]
        if sheet not in book.sheet_names:
            raise InputError(f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(book.sheet_names)})")
        df = pd.read_excel(book, sheet_name=sheet, dtype=object, header=0)
    header = [str(c).strip() for c in df.columns]
    problems = []
    for i, h in enumerate(header):
        if h.startswith("Unnamed:") and df.iloc[:, i].isna().all():
            continue
        if h.startswith("Unnamed:"):
            problems.append(FileProblem(1, f"column {i + 1}", None, "header cell is blank",
                                        "a column name"))
    keep = [i for i, h in enumerate(header) if not h.startswith("Unnamed:")]
    df = df.iloc[:, keep]
    df.columns = [header[i] for i in keep]
    df = df.apply(_series_text) if len(df) else df.astype(object)
    df.index = np.arange(2, len(df) + 2)
    return df.dropna(how="all"), problems


def _read_parquet(path: Path, data: bytes, keep=None, categorical=None
                  ) -> tuple[pd.DataFrame, list[FileProblem]]:
    """Read a Parquet file.

    With ``keep`` (a test on a stripped column name), only the columns it accepts are
    decoded, and the others are listed in ``attrs["gm_skipped"]``; text columns that
    ``categorical`` accepts are read as categoricals (straight from Parquet's dictionary
    pages: their few distinct labels are then cleaned and checked once each).
    """
    skipped: list[str] = []
    try:
        columns, kwargs = None, {}
        if keep is not None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pq.ParquetFile(io.BytesIO(data)).schema_arrow
            names = schema.names
            meta = {n for n in names if n.startswith("__index_level_")}
            columns = [n for n in names if n not in meta and keep(str(n).strip())]
            skipped = [str(n).strip() for n in names if n not in meta and n not in columns]
            text = [n for n in columns if categorical is not None and categorical(str(n).strip())
                    and (pa.types.is_string(schema.field(n).type)
                         or pa.types.is_large_string(schema.field(n).type))]
            if text:
                kwargs["read_dictionary"] = text
        df = pd.read_parquet(io.BytesIO(data), columns=columns, **kwargs)
    except Exception as exc:
        raise InputError(f"{path.name}: not a readable Parquet file ({exc})") from None
    df = df.reset_index(drop=True)
    if skipped:
        df.attrs["gm_skipped"] = skipped
    df.columns = [str(c).strip() for c in df.columns]
    # Typed columns (dates, numbers, booleans, text) stay as they are: validation types
    # them directly. Only mixed object columns are turned into text here.
    for c in df.columns:
        if pd.api.types.is_object_dtype(df[c]):
            df[c] = _series_text(df[c])
    df.index = np.arange(1, len(df) + 1)
    return df, []


def read_table_file(name: str, path: str | Path, mapping: Mapping | TableMapping | None = None,
                    contract_only: bool = False) -> RawTable:
    """Read one table's file and apply its mapping.

    Parameters
    ----------
    name : str
        Contract table name.
    path : path-like
        The file (``.csv``, ``.xlsx`` or ``.parquet``).
    mapping : Mapping or TableMapping, optional
    contract_only : bool
        Decode only the columns that map to contract columns, where the format
        allows (Parquet: the others, such as names, phone numbers and free text, are
        never read into memory; enum columns come as categoricals of the same text).
        The table returned holds the same values either way.

    Returns
    -------
    RawTable

    Raises
    ------
    gm_eval.errors.InputError
        When the file cannot be read at all (missing, empty, wrong encoding,
        not a workbook). Row-level problems are returned in ``problems``.
    """
    table = TABLES[name]
    path = Path(path)
    if isinstance(mapping, Mapping) or mapping is None:
        tm = (mapping or Mapping()).for_table(name)
    else:
        tm = mapping
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path.name}: {size:,} bytes is larger than {MAX_FILE_BYTES:,}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    sha = hashlib.sha256(data).hexdigest()
    if not data or data.isspace():  # (strip() would copy the whole file)
        raise InputError(f"{path.name}: the file is empty (no header row)")
    suffix = path.suffix.lower()
    if suffix == ".csv" or suffix in (".txt", ".tsv"):
        df, problems = _read_csv(path, data, tm, name)
    elif suffix in (".xlsx", ".xlsm"):
        workbook_reader = _self_assessment_workbook_reader(name, path)
        if workbook_reader is not None:
            df, problems = workbook_reader, []
        else:
            df, problems = _read_xlsx(path, data, tm)
    elif suffix == ".parquet":
        known_names = set(table.column_names)
        # enum columns that the mapping does not recode or split
        enums = {c.name for c in table.columns if c.kind == "enum"} - set(tm.values) - set(tm.split)

        def keep(column: str) -> bool:
            return tm.columns.get(column, column) in known_names

        def categorical(column: str) -> bool:
            return tm.columns.get(column, column) in enums

        df, problems = (_read_parquet(path, data, keep, categorical) if contract_only
                        else _read_parquet(path, data))
    else:
        raise InputError(f"{path.name}: unsupported file type {suffix!r} "
                         "(use .csv, .xlsx or .parquet)")
    del data
    skipped = df.attrs.pop("gm_skipped", [])  # columns outside the contract, never read
    # Rename the user's columns to ours; drop the ones we do not know.
    known = set(table.column_names)
    rename = {theirs: ours for theirs, ours in tm.columns.items() if theirs in df.columns}
    df = df.rename(columns=rename)
    source_columns = {ours: theirs for theirs, ours in rename.items()}
    dupes = [c for c in set(df.columns) if list(df.columns).count(c) > 1]
    if dupes:
        raise InputError(f"{path.name}: after mapping, column(s) {sorted(dupes)} appear twice; "
                         "map only one of your columns to each contract column")
    dropped = [c for c in df.columns if c not in known] + list(skipped)
    df = df[[c for c in df.columns if c in known]]
    for col, value in tm.constants.items():
        if col in df.columns:
            raise InputError(f"mapping: {name}.constants sets {col!r}, but {path.name} "
                             "already has that column")
        df[col] = value
        source_columns[col] = f"constant {col}"
    # Value recodes and multi-value separators, on text.
    for col, rec in tm.values.items():
        if col in df.columns:
            key = df[col].str.strip().str.lower()
            df[col] = key.map(rec).where(key.isin(list(rec)), df[col])
    for col, sep in tm.split.items():
        if col in df.columns and sep != ";":
            df[col] = df[col].str.split(sep).map(
                lambda parts: ";".join(p.strip() for p in parts) if isinstance(parts, list) else parts)
    return RawTable(name=name, file=path.name, path=path.resolve(), sha256=sha, frame=df,
                    source_columns=source_columns, dropped_columns=dropped,
                    problems=problems, mapping=tm)


def _self_assessment_workbook_reader(name: str, path: Path) -> pd.DataFrame | None:
    """Read a filled self-assessment workbook written by ``gm-eval self-assessment template``."""
    if name != "self_assessment":
        return None
    try:
        from gm_eval import selfassess_workbook
    except ImportError:
        return None
    is_template = getattr(selfassess_workbook, "is_template_workbook", None)
    if is_template is None or not is_template(path):
        return None
    df = selfassess_workbook.read_workbook(path)
    df = df.astype(object).where(df.notna(), np.nan)
    df.index = np.arange(1, len(df) + 1)
    return df


def read_data_dir(data_dir: str | Path, mapping=None) -> dict[str, RawTable]:
    """Read every table present in ``data_dir``.

    Parameters
    ----------
    data_dir : path-like
    mapping : path, dict or Mapping, optional

    Returns
    -------
    dict of str to RawTable
        Present tables in contract order.
    """
    m = load_mapping(mapping)
    files = find_table_files(data_dir, m)
    return {name: read_table_file(name, path, m) for name, path in files.items()}
