"""Import KoboToolbox and ODK Central exports of the gm-eval survey forms.

An export of ``worker_survey`` or ``child_survey`` (the forms in ``surveys/``)
becomes the contract table of the same name, ready for ``gm-eval validate`` and
``gm-eval score``. What is expected of the export:

* **XML values and headers** (KoboToolbox: *Data > Downloads*, "Value and
  header format" = "XML values and headers"). Column headers are the form's
  question names with their group path (``views/trust``); answers are choice
  names (``yes``, ``4``, ``not_sure``). A label-headed export is refused with a
  message saying which option to pick; nothing is written.
* CSV (``;`` or ``,`` separated: detected from the header line) or XLSX
  (first sheet). ODK Central's CSV (``SubmissionDate``, ``KEY``, group paths
  joined with ``-``) is read too.
* Questions are found by their **last path segment**, so a deployer may rename
  or add groups. The columns that KoboToolbox adds for a ``select_multiple``
  question (``question/choice``, 1/0, blank when unanswered) are recognised and
  dropped with every other column the contract does not know (names, comments,
  ``_uuid``, ``_notes``, ...): they never reach the output.
* ``respondent_id`` is the stable submission id: ``_id``, else
  ``meta/rootUuid`` (never ``_uuid``, which changes when a submission is
  edited), else ODK Central's ``KEY``. Ids are pseudonymised downstream.
* ``survey_date`` is the UTC date of ``_submission_time`` (``SubmissionDate``).
* ``mechanism_id`` comes from ``--mechanism-id`` or, when the deployer added a
  question named ``mechanism_id``, from that column (the option wins).
* Only consenting respondents are imported (worker: ``consent = yes``; child:
  ``parental_consent = yes`` and ``assent = yes``).
* Recoding: 1-5 scales become integers and ``dont_know`` a blank;
  ``prefer_not_to_say`` becomes a blank; yes/no items become ``true``/``false``;
  ``knows_how`` (asked only of workers aware of the mechanism) is ``false``
  when ``aware`` is ``no``; child items keep ``yes``/``no``/``not_sure``.

Examples
--------
>>> from gm_eval.kobo import import_export
>>> import_export("kobo_export.xlsx", "worker_survey", "data/", mechanism_id="acme_ogm")  # doctest: +SKIP
PosixPath('data/worker_survey.csv')
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gm_eval.contract import ID_PATTERN, TABLES
from gm_eval.errors import InputError

__all__ = ["ImportResult", "read_export", "write_import", "import_export", "LABEL_EXPORT_MESSAGE",
           "FORMS"]

#: Forms that can be imported (each fills the contract table of the same name).
FORMS: tuple[str, ...] = ("worker_survey", "child_survey")

#: Consent questions that must all be ``yes`` for a respondent to be imported.
CONSENT_ITEMS: dict[str, tuple[str, ...]] = {
    "worker_survey": ("consent",),
    "child_survey": ("parental_consent", "assent"),
}

#: Choice names meaning "no answer" (become blank).
MISSING_CODES = frozenset({"dont_know", "prefer_not_to_say", "refused", "not_applicable"})

LABEL_EXPORT_MESSAGE = (
    "this export has question labels as column headers (or answer labels as values). "
    "gm-eval needs the question names: in KoboToolbox open the project, Data > Downloads, "
    "choose 'XML values and headers' as the value and header format, keep 'Include groups "
    "in headers' ticked (the group separator '/' is fine) and export again as CSV or XLSX. "
    "In ODK Central, use 'Download all records' (CSV), which uses names. Nothing was written."
)

_ID_COLUMNS = ("_id", "rootUuid", "KEY")
_SUBMISSION_TIME = ("_submission_time", "SubmissionDate")
_SEPARATORS = (";", ",", "\t")


@dataclass
class ImportResult:
    """An export read into a contract survey table.

    Parameters
    ----------
    table : DataFrame
        The contract table (``worker_survey`` or ``child_survey`` columns, in order).
    form : str
        Form name.
    submissions : int
        Rows in the export.
    without_consent : int
        Submissions dropped because consent (or assent) was not given.
    dropped_columns : list of str
        Export columns not carried into the table (never written anywhere).
    notes : list of str
        Plain-language remarks (for example which id column was used).
    """

    table: pd.DataFrame
    form: str
    submissions: int
    without_consent: int
    dropped_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- reading
def _read_raw(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if suffix in (".xlsx", ".xlsm"):
        try:
            df = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
        except Exception as exc:  # openpyxl raises many kinds
            raise InputError(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    elif suffix in (".csv", ".txt"):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{path.name}: not UTF-8 text; export the data again from "
                             "KoboToolbox or ODK (they write UTF-8)") from None
        header = text.split("\n", 1)[0]
        sep = max(_SEPARATORS, key=header.count)
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                             quoting=csv.QUOTE_MINIMAL)
        except pd.errors.ParserError as exc:
            raise InputError(f"{path.name}: not a readable CSV file ({exc})") from None
    else:
        raise InputError(f"{path.name}: unsupported file type {suffix!r}; export as CSV or XLSX")
    df.columns = [str(c).strip() for c in df.columns]
    return df.apply(lambda s: s.str.strip())


def _is_odk_central(columns: list[str]) -> bool:
    return "SubmissionDate" in columns and "KEY" in columns


def _split_columns(columns: list[str]) -> set[str]:
    """Columns that KoboToolbox adds for each choice of a select_multiple question."""
    present = set(columns)
    return {c for c in columns if "/" in c and c.rsplit("/", 1)[0] in present}


def _form_labels(form: str) -> set[str]:
    """Question and choice labels of the form in every language (empty without sources)."""
    try:
        from gm_eval.surveys import read_form
        sheets = read_form(form)
    except Exception:  # sources absent in an installed package
        return set()
    labels: set[str] = set()
    for sheet in ("survey", "choices"):
        df = sheets[sheet]
        for col in df.columns:
            if col.startswith("label"):
                labels.update(v.strip().lower() for v in df[col] if v.strip())
    return labels


def _codebook(form: str) -> pd.DataFrame:
    from gm_eval.surveys import read_codebook

    cb = read_codebook()
    return cb[cb["form"] == form]


def _locate(columns: list[str], names: list[str], preferred: dict[str, str],
            split: set[str]) -> dict[str, str]:
    """Map each wanted question name to its export column (by last path segment)."""
    by_name: dict[str, list[str]] = {}
    for c in columns:
        if c in split:
            continue
        by_name.setdefault(c.rsplit("/", 1)[-1], []).append(c)
    found = {}
    for name in names:
        cands = by_name.get(name, [])
        if len(cands) == 1:
            found[name] = cands[0]
        elif len(cands) > 1:
            exact = [c for c in cands if c == preferred.get(name)]
            if len(exact) != 1:
                raise InputError(f"question {name!r} appears in several columns "
                                 f"({', '.join(cands)}); keep one")
            found[name] = exact[0]
    return found


def _refuse_if_labelled(df: pd.DataFrame, form: str, found: dict[str, str],
                        items: list[str]) -> None:
    share_found = sum(n in found for n in items) / max(len(items), 1)
    if share_found >= 0.5:
        return
    labels = _form_labels(form)
    headers = [c.lower() for c in df.columns]
    looks_labelled = any(h in labels for h in headers) or any(
        " " in h and not h.startswith("_") for h in headers)
    if looks_labelled:
        raise InputError(LABEL_EXPORT_MESSAGE)
    missing = [n for n in items if n not in found]
    raise InputError(f"this does not look like an export of the {form} form: no column for "
                     f"{', '.join(missing)}. Deploy the form from surveys/ and export it with "
                     "'XML values and headers'.")


# ----------------------------------------------------------------------------- recoding
class _Problems:
    def __init__(self, file: str):
        self.file = file
        self.items: list[str] = []
        self.label_values = False

    def add(self, rows: pd.Index, column: str, values: pd.Series, expected: str) -> None:
        for r, v in zip(rows[:5], values[:5], strict=False):
            self.items.append(f"{self.file}: row {r}, column {column!r}: {v!r} is not {expected}")
        if len(rows) > 5:
            self.items.append(f"{self.file}: column {column!r}: {len(rows) - 5} more such values")

    def raise_if_any(self) -> None:
        if self.label_values:
            raise InputError(LABEL_EXPORT_MESSAGE)
        if self.items:
            raise InputError("the export has values gm-eval cannot read:\n  "
                             + "\n  ".join(self.items[:40]))


def _codes(s: pd.Series) -> pd.Series:
    """Lower-case text with blanks and missing codes as NA."""
    s = s.astype("string").str.strip().str.lower()
    return s.mask((s.isin(MISSING_CODES) | (s == "")).fillna(True).astype(bool))


def _recode(raw: pd.Series, kind: str, col, problems: _Problems, labels: set[str],
            rows: pd.Index) -> pd.Series:
    s = _codes(raw)
    if kind == "bool":
        bad = s.notna() & ~s.isin(["yes", "no", "true", "false", "1", "0"])
        out = s.map({"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False})
        out = out.astype("boolean")
        expected = "yes or no"
    elif kind in ("likert", "int"):
        num = pd.to_numeric(s, errors="coerce")
        whole = num.notna() & (num == np.floor(num))
        lo = col.min if col.min is not None else -np.inf
        hi = col.max if col.max is not None else np.inf
        ok = whole & (num >= lo) & (num <= hi)
        bad = s.notna() & ~ok
        out = num.where(ok).astype("Int64")
        expected = f"a whole number {int(lo)}-{int(hi)}" if np.isfinite(lo) else "a whole number"
    elif kind == "enum":
        bad = s.notna() & ~s.isin(col.values)
        out = s.where(~bad)
        expected = "one of " + ", ".join(col.values)
    else:
        bad = pd.Series(False, index=s.index)
        out = s
        expected = ""
    if bad.any():
        vals = raw[bad]
        if vals.str.strip().str.lower().isin(labels).any():
            problems.label_values = True
        problems.add(rows[bad.to_numpy()], col.name, vals, expected)
    return out


def _submission_dates(raw: pd.Series, file: str) -> pd.Series:
    t = pd.to_datetime(raw.where(raw != ""), errors="coerce", utc=True, format="ISO8601")
    bad = raw.ne("") & t.isna()
    if bad.any():
        raise InputError(f"{file}: {int(bad.sum())} submission times are not ISO date-times "
                         f"(first: {raw[bad].iloc[0]!r})")
    return t.dt.strftime("%Y-%m-%d").astype("string")


# ----------------------------------------------------------------------------- public API
def read_export(path: str | Path, form: str, mechanism_id: str | None = None) -> ImportResult:
    """Read a KoboToolbox or ODK export of a gm-eval form into its contract table.

    Parameters
    ----------
    path : str or path-like
        The export (``.csv`` or ``.xlsx``), downloaded with "XML values and headers".
    form : {"worker_survey", "child_survey"}
        Which form the export is of.
    mechanism_id : str, optional
        Mechanism every submission is about; required unless the export has a
        ``mechanism_id`` question.

    Returns
    -------
    ImportResult
        ``table`` holds exactly the contract columns of ``form``.

    Raises
    ------
    gm_eval.errors.InputError
        Label-headed export, missing questions, unreadable values, no stable id,
        no mechanism id, duplicated submission ids.
    """
    if form not in FORMS:
        raise InputError(f"unknown form {form!r}; choose one of {', '.join(FORMS)}")
    path = Path(path)
    df = _read_raw(path)
    notes: list[str] = []
    if _is_odk_central(list(df.columns)):
        df.columns = [c.replace("-", "/") for c in df.columns]
        notes.append("read as an ODK Central export")
    columns = list(df.columns)
    split = _split_columns(columns)
    table = TABLES[form]
    cb = _codebook(form)
    preferred = dict(zip(cb["variable"], cb["path"], strict=True))
    data_items = [c for c in table.column_names
                  if c not in ("respondent_id", "mechanism_id", "survey_date")]
    consent = list(CONSENT_ITEMS[form])
    wanted = [*consent, *data_items, "mechanism_id", "rootUuid"]
    found = _locate(columns, wanted, preferred, split)
    _refuse_if_labelled(df, form, found, data_items)
    # export row numbers as a spreadsheet shows them (header is row 1)
    rows = pd.Index(np.arange(2, len(df) + 2))
    df.index = rows

    # consent
    missing_consent = [c for c in consent if c not in found]
    if missing_consent:
        raise InputError(f"{path.name}: no column for the consent question(s) "
                         f"{', '.join(missing_consent)}; gm-eval imports only consenting "
                         "respondents, so the export must include them")
    consented = pd.Series(True, index=rows)
    for c in consent:
        consented &= _codes(df[found[c]]).eq("yes").fillna(False).astype(bool)
    n_sub = len(df)
    labels = _form_labels(form)
    sub = df[consented.to_numpy()]

    # stable submission id
    id_col = next((c for c in ("_id", found.get("rootUuid"), "KEY") if c and c in columns), None)
    if id_col is None:
        raise InputError(f"{path.name}: no stable submission id column (_id, meta/rootUuid or "
                         "KEY); export again with the default metadata columns")
    ids = sub[id_col].str.replace(r"^uuid:", "", regex=True)
    if (ids == "").any():
        raise InputError(f"{path.name}: blank submission id in column {id_col!r}")
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].iloc[0]
        raise InputError(f"{path.name}: submission id {dup!r} appears more than once in "
                         f"column {id_col!r}")
    notes.append(f"respondent_id from {id_col}")

    # mechanism
    if mechanism_id is not None:
        mech = pd.Series(mechanism_id, index=sub.index, dtype="string")
    elif "mechanism_id" in found:
        mech = sub[found["mechanism_id"]].astype("string")
        if (mech == "").any():
            raise InputError(f"{path.name}: some submissions have a blank mechanism_id; "
                             "pass --mechanism-id or complete the column")
    else:
        raise InputError(f"{path.name}: which mechanism is this survey about? pass "
                         "--mechanism-id ID (the form has no mechanism_id question)")
    bad_mech = ~mech.str.fullmatch(ID_PATTERN.strip("^$"))
    if bad_mech.any():
        raise InputError(f"mechanism id {mech[bad_mech].iloc[0]!r} is not valid: use letters, "
                         "digits, '_', '.', '-' (at most 64)")

    # survey date
    time_col = next((c for c in _SUBMISSION_TIME if c in columns), None)
    if time_col is None:
        survey_date = pd.Series(pd.NA, index=sub.index, dtype="string")
        notes.append("no _submission_time column: survey_date left blank")
    else:
        survey_date = _submission_dates(sub[time_col], path.name)

    problems = _Problems(path.name)
    out = pd.DataFrame(index=sub.index)
    out["respondent_id"] = ids.astype("string")
    out["mechanism_id"] = mech
    out["survey_date"] = survey_date
    for name in data_items:
        col = table.column(name)
        if name not in found:
            out[name] = pd.Series(pd.NA, index=sub.index, dtype="object")
            notes.append(f"no column for {name}: left blank")
            continue
        out[name] = _recode(sub[found[name]], col.kind, col, problems, labels, sub.index)
    problems.raise_if_any()
    if form == "worker_survey" and "knows_how" in out and "aware" in out:
        # knows_how is asked only of workers aware of the mechanism
        out["knows_how"] = out["knows_how"].mask(out["aware"].eq(False).fillna(False), False)
    used = {found[n] for n in found} | {id_col} | ({time_col} if time_col else set())
    dropped = [c for c in columns if c not in used]
    out = out[list(table.column_names)].reset_index(drop=True)
    return ImportResult(table=out, form=form, submissions=n_sub,
                        without_consent=int((~consented).sum()), dropped_columns=dropped,
                        notes=notes)


def _to_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Booleans as true/false; text that a spreadsheet would run as a formula made inert."""
    from gm_eval.publish import formula_safe

    out = df.copy()
    for c in out.columns:
        if str(out[c].dtype) == "boolean":
            out[c] = out[c].map({True: "true", False: "false"}).astype("object")
    return formula_safe(out)


def write_import(result: ImportResult, out_dir: str | Path, mode: str = "new") -> Path:
    """Write an :class:`ImportResult` as ``<out_dir>/<form>.csv``.

    Parameters
    ----------
    result : ImportResult
        From :func:`read_export`.
    out_dir : str or path-like
        Data directory (created if needed).
    mode : {"new", "append", "overwrite"}
        What to do when ``<form>.csv`` already exists: refuse (``new``), add the
        rows (``append``: e.g. one export per mechanism; ``mechanism_id`` and
        ``respondent_id`` must stay unique together), or replace it.

    Returns
    -------
    pathlib.Path
        The written CSV file (written whole or not at all).
    """
    if mode not in ("new", "append", "overwrite"):
        raise InputError(f"mode must be new, append or overwrite, got {mode!r}")
    form = result.form
    out_dir = Path(out_dir)
    target = out_dir / f"{form}.csv"
    frame = _to_csv_frame(result.table)
    if target.exists():
        if mode == "new":
            raise InputError(f"{target} exists; use --append to add these respondents or "
                             "--force to replace it. Nothing was written.")
        if mode == "append":
            old = pd.read_csv(target, dtype=str, keep_default_na=False)
            if list(old.columns) != list(frame.columns):
                raise InputError(f"{target} does not have the {form} columns; cannot append")
            key = ["mechanism_id", "respondent_id"]
            both = pd.concat([old.astype("object"), frame.astype("object")], ignore_index=True)
            both[key] = both[key].astype(str)
            if both.duplicated(key).any():
                raise InputError(f"{target} already holds some of these submissions "
                                 "(same mechanism_id and respondent_id); nothing was written")
            frame = both
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".csv.tmp")
    frame.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(target)
    return target


def import_export(path: str | Path, form: str, out_dir: str | Path,
                  mechanism_id: str | None = None, mode: str = "new") -> Path:
    """Import an export and write ``<out_dir>/<form>.csv``.

    Parameters
    ----------
    path : str or path-like
        The KoboToolbox or ODK export (CSV or XLSX, "XML values and headers").
    form : {"worker_survey", "child_survey"}
        Which form the export is of.
    out_dir : str or path-like
        Data directory (created if needed).
    mechanism_id : str, optional
        Mechanism the survey is about (see :func:`read_export`).
    mode : {"new", "append", "overwrite"}
        See :func:`write_import`.

    Returns
    -------
    pathlib.Path
        The written CSV file. Nothing is written when the export is refused.
    """
    if mode not in ("new", "append", "overwrite"):
        raise InputError(f"mode must be new, append or overwrite, got {mode!r}")
    return write_import(read_export(path, form, mechanism_id), out_dir, mode)
