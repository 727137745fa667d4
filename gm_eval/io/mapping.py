"""The mapping file: bring your own export without editing it.

A mapping file is YAML (read with ``yaml.safe_load``: tags that would build
Python objects are refused). Every key is optional::

    encoding: utf-8            # default text encoding of CSV files
    tables:
      cases:
        file: grievance_export.xlsx   # file inside the data directory
        sheet: Grievances              # XLSX sheet (default: the first)
        encoding: cp1252               # this file's encoding
        delimiter: ";"                 # CSV separator (default: detected)
        columns:                       # your column: contract column
          Ticket No: case_id
          Date received: received_at
        constants:                     # columns your file lacks
          mechanism_id: HELPLINE-01
        values:                        # your labels: contract values, per column
          category:
            Child labor: child_labour
        dates:                         # strptime formats, per column or "*"
          "*": "%d/%m/%Y"
        booleans:                      # extra words for true and false
          true: [ja, oui]
          false: [nein, non]
        split:                         # separator of multi-value columns
          remediation_types: ","

See ``docs/mapping.md`` for a worked example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gm_eval.contract import TABLES
from gm_eval.errors import InputError

__all__ = ["TableMapping", "Mapping", "load_mapping"]

_TABLE_KEYS = {
    "file", "sheet", "encoding", "delimiter", "columns", "constants", "values",
    "dates", "booleans", "split",
}
_TOP_KEYS = {"encoding", "tables", "booleans", "dates"}


@dataclass(frozen=True)
class TableMapping:
    """How one user file maps onto one contract table.

    Parameters
    ----------
    file : str, optional
        File name inside the data directory.
    sheet : str, optional
        Sheet of an XLSX workbook.
    encoding : str, optional
        Text encoding of a CSV file.
    delimiter : str, optional
        CSV field separator.
    columns : dict
        User column name to contract column name.
    constants : dict
        Contract column to a constant value for every row.
    values : dict
        Contract column to ``{user label: contract value}``.
    dates : dict
        Contract column (or ``"*"``) to a ``strptime`` format.
    true_words, false_words : tuple of str
        Extra words read as true and false (lower case).
    split : dict
        Contract column to the separator used in the user's file.
    """

    file: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    true_words: tuple[str, ...] = ()
    false_words: tuple[str, ...] = ()
    split: dict[str, str] = field(default_factory=dict)

    def date_format(self, column: str) -> str | None:
        """The ``strptime`` format declared for ``column``, if any."""
        return self.dates.get(column, self.dates.get("*"))

    def source_name(self, column: str) -> str:
        """The user's name for a contract column (itself when not renamed)."""
        for theirs, ours in self.columns.items():
            if ours == column:
                return theirs
        return column


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file: one :class:`TableMapping` per table."""

    tables: dict[str, TableMapping] = field(default_factory=dict)
    source: str | None = None

    def for_table(self, name: str) -> TableMapping:
        """The mapping of table ``name`` (an empty one when not mapped)."""
        return self.tables.get(name, TableMapping())


def _fail(where: str, msg: str) -> InputError:
    return InputError(f"mapping file {where}: {msg}")


def _str_dict(where: str, obj: Any, what: str) -> dict[str, str]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise _fail(where, f"'{what}' must be a mapping of names, got {type(obj).__name__}")
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict | list):
            raise _fail(where, f"'{what}': value for {k!r} must be text, got {type(v).__name__}")
        out[str(k)] = "" if v is None else str(v)
    return out


def _words(where: str, obj: Any, what: str) -> tuple[str, ...]:
    if obj is None:
        return ()
    if isinstance(obj, str | int | bool):
        obj = [obj]
    if not isinstance(obj, list):
        raise _fail(where, f"'{what}' must be a list of words")
    return tuple(str(w).strip().lower() for w in obj)


def _parse_table(where: str, name: str, spec: Any, defaults: dict) -> TableMapping:
    if name not in TABLES:
        raise _fail(where, f"unknown table {name!r}; known tables: {', '.join(TABLES)}")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise _fail(where, f"table {name!r} must be a mapping")
    unknown = set(spec) - _TABLE_KEYS
    if unknown:
        raise _fail(where, f"table {name!r}: unknown keys {sorted(map(str, unknown))}; "
                           f"allowed: {sorted(_TABLE_KEYS)}")
    t = TABLES[name]
    known = set(t.column_names)
    columns = _str_dict(where, spec.get("columns"), f"{name}.columns")
    for theirs, ours in columns.items():
        if ours not in known:
            raise _fail(where, f"{name}.columns maps {theirs!r} to {ours!r}, which is not a "
                               f"column of {name} (columns: {', '.join(t.column_names)})")
    constants = _str_dict(where, spec.get("constants"), f"{name}.constants")
    for col in constants:
        if col not in known:
            raise _fail(where, f"{name}.constants: {col!r} is not a column of {name}")
    values_raw = spec.get("values") or {}
    if not isinstance(values_raw, dict):
        raise _fail(where, f"'{name}.values' must map columns to {{label: value}}")
    values = {}
    for col, rec in values_raw.items():
        if col not in known:
            raise _fail(where, f"{name}.values: {col!r} is not a column of {name}")
        values[str(col)] = {k.strip().lower(): v for k, v in
                            _str_dict(where, rec, f"{name}.values.{col}").items()}
    dates = {**defaults.get("dates", {}), **_str_dict(where, spec.get("dates"), f"{name}.dates")}
    for col in dates:
        if col != "*" and col not in known:
            raise _fail(where, f"{name}.dates: {col!r} is not a column of {name}")
    booleans = spec.get("booleans") or defaults.get("booleans") or {}
    if not isinstance(booleans, dict):
        raise _fail(where, f"'{name}.booleans' must have 'true' and/or 'false' lists")
    split = _str_dict(where, spec.get("split"), f"{name}.split")
    for col in split:
        if col not in known:
            raise _fail(where, f"{name}.split: {col!r} is not a column of {name}")
    return TableMapping(
        file=None if spec.get("file") is None else str(spec["file"]),
        sheet=None if spec.get("sheet") is None else str(spec["sheet"]),
        encoding=str(spec.get("encoding") or defaults.get("encoding") or "") or None,
        delimiter=None if spec.get("delimiter") is None else str(spec["delimiter"]),
        columns=columns,
        constants=constants,
        values=values,
        dates=dates,
        # YAML reads bare true/false keys as booleans
        true_words=_words(where, booleans.get(True, booleans.get("true")), "booleans.true"),
        false_words=_words(where, booleans.get(False, booleans.get("false")), "booleans.false"),
        split=split,
    )


def load_mapping(source: str | Path | dict | Mapping | None) -> Mapping:
    """Read and check a mapping file.

    Parameters
    ----------
    source : path, dict, Mapping or None
        A YAML file, its already-parsed content, or ``None`` for no mapping.

    Returns
    -------
    Mapping

    Raises
    ------
    gm_eval.errors.InputError
        When the file cannot be read, is not safe YAML, or names unknown tables,
        columns or keys. The message names the file and, for YAML errors, the line.

    Examples
    --------
    >>> m = load_mapping({"tables": {"cases": {"columns": {"Ticket": "case_id"}}}})
    >>> m.for_table("cases").columns
    {'Ticket': 'case_id'}
    """
    if source is None:
        return Mapping()
    if isinstance(source, Mapping):
        return source
    where = "(inline)"
    if isinstance(source, dict):
        doc = source
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(f"mapping file {path}: not found") from None
        except UnicodeDecodeError as exc:
            raise _fail(where, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise _fail(where, f"cannot be read ({exc.strerror})") from None
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise _fail(where, f"not valid safe YAML{line}: {problem} "
                               "(tags such as !!python/object are refused)") from None
    if doc is None:
        return Mapping(source=where)
    if not isinstance(doc, dict):
        raise _fail(where, "must be a YAML mapping with a 'tables' key")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise _fail(where, f"unknown top-level keys {sorted(map(str, unknown))}; "
                           f"allowed: {sorted(_TOP_KEYS)}")
    defaults = {
        "encoding": doc.get("encoding"),
        "booleans": doc.get("booleans"),
        "dates": _str_dict(where, doc.get("dates"), "dates"),
    }
    tables_doc = doc.get("tables") or {}
    if not isinstance(tables_doc, dict):
        raise _fail(where, "'tables' must map table names to their settings")
    tables = {str(n): _parse_table(where, str(n), s, defaults) for n, s in tables_doc.items()}
    # Top-level defaults apply to tables not listed too.
    if defaults["encoding"] or defaults["booleans"] or defaults["dates"]:
        for n in TABLES:
            if n not in tables:
                tables[n] = _parse_table(where, n, {}, defaults)
    return Mapping(tables=tables, source=where)
