"""The survey instruments (XLSForms) shipped with gm-eval.

The forms' sources live in the repository's ``surveys/<form>/`` folder as one
CSV file per XLSForm sheet (``survey.csv``, ``choices.csv``, ``settings.csv``)
so that they stay diffable in git; :mod:`gm_eval.surveys.build` assembles them
into ``surveys/build/<form>.xlsx`` for KoboToolbox or ODK.

Examples
--------
>>> from gm_eval.surveys import read_form
>>> sheets = read_form("child_survey")
>>> sorted(sheets)
['choices', 'settings', 'survey']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gm_eval.errors import InputError

__all__ = [
    "FORMS",
    "SHEETS",
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "METADATA_TYPES",
    "STRUCTURE_TYPES",
    "surveys_dir",
    "read_form",
    "form_items",
    "read_codebook",
    "codebook_markdown",
]

#: Forms shipped with gm-eval; each name is also the contract table it fills.
FORMS: tuple[str, ...] = ("worker_survey", "child_survey")

#: XLSForm sheets kept as one CSV file each, in workbook order.
SHEETS: tuple[str, ...] = ("survey", "choices", "settings")

#: Form languages as written in the ``label::`` column headers (English first).
LANGUAGES: tuple[str, ...] = (
    "English (en)",
    "Thai (th)",
    "Vietnamese (vi)",
    "Khmer (km)",
    "Bahasa Indonesia (id)",
    "Bengali (bn)",
)
DEFAULT_LANGUAGE = LANGUAGES[0]

#: Survey rows that record metadata rather than asking anything.
METADATA_TYPES = frozenset(
    {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
     "username", "email", "audit", "calculate", "hidden"}
)
#: Survey rows that structure the form without holding an answer.
STRUCTURE_TYPES = frozenset({"begin_group", "end_group", "begin_repeat", "end_repeat", "note"})


def surveys_dir() -> Path:
    """Return the folder holding the form sources (``<repository>/surveys``).

    Raises
    ------
    gm_eval.errors.InputError
        When gm-eval runs from an installation without the repository's ``surveys/``.
    """
    d = Path(__file__).resolve().parents[2] / "surveys"
    if not d.is_dir():
        raise InputError(
            f"form sources not found at {d}; the survey sources ship with the gm-eval "
            "repository (git clone), not with an installed package"
        )
    return d


def read_form(form: str, source_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Read the CSV sheets of one form.

    Parameters
    ----------
    form : str
        Form name, one of :data:`FORMS` (or any sub-folder of ``source_dir``).
    source_dir : str or path-like, optional
        Folder holding ``<form>/survey.csv`` etc. (default :func:`surveys_dir`).

    Returns
    -------
    dict of str to DataFrame
        ``survey``, ``choices`` and ``settings`` as text (blank cells are ``""``).
    """
    base = Path(source_dir) if source_dir is not None else surveys_dir()
    folder = base / form
    if not folder.is_dir():
        raise InputError(f"unknown form {form!r}: no folder {folder}")
    sheets = {}
    for sheet in SHEETS:
        path = folder / f"{sheet}.csv"
        sheets[sheet] = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return sheets


def form_items(survey: pd.DataFrame) -> pd.DataFrame:
    """List the questions of a survey sheet with their group path.

    Parameters
    ----------
    survey : DataFrame
        The ``survey`` sheet (as returned by :func:`read_form`).

    Returns
    -------
    DataFrame
        One row per survey row that holds an answer (not a group, note or metadata),
        with columns ``name``, ``type``, ``base_type`` (``select_one``, ``integer``, ...),
        ``list_name`` (choice list for selects, else ``""``), ``path`` (group path
        as in a KoboToolbox export, e.g. ``views/trust``), ``relevant`` and
        ``label`` (the default-language label).
    """
    groups: list[str] = []
    rows = []
    label_col = f"label::{DEFAULT_LANGUAGE}"
    for rec in survey.to_dict("records"):
        typ = " ".join(str(rec.get("type", "")).split())
        name = str(rec.get("name", "")).strip()
        base, _, list_name = typ.partition(" ")
        if base in ("begin_group", "begin_repeat", "begin group", "begin repeat"):
            groups.append(name)
            continue
        if base in ("end_group", "end_repeat"):
            if groups:
                groups.pop()
            continue
        if not typ or base in STRUCTURE_TYPES or base in METADATA_TYPES:
            continue
        rows.append(
            {
                "name": name,
                "type": typ,
                "base_type": base,
                "list_name": list_name.strip(),
                "path": "/".join([*groups, name]),
                "relevant": rec.get("relevant", ""),
                "label": rec.get(label_col, ""),
            }
        )
    return pd.DataFrame(
        rows, columns=["name", "type", "base_type", "list_name", "path", "relevant", "label"]
    )


def read_codebook() -> pd.DataFrame:
    """Return the shipped survey codebook (``gm_eval/data/codebook.csv``).

    Returns
    -------
    DataFrame
        One row per form item: ``form, variable, path, role, table, column, values,
        indicator_ids, criterion, description`` (all text, blanks as ``""``).
        ``role`` is ``consent``, ``demographic``, ``item`` or ``filter``;
        ``indicator_ids`` is ``;``-separated.
    """
    from importlib.resources import files

    path = files("gm_eval") / "data" / "codebook.csv"
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def codebook_markdown() -> str:
    """Render the codebook as a Markdown table (for docs/surveys.md and the methodology page).

    Returns
    -------
    str
        One row per form item: form, variable (with its group path), role, table column,
        values, indicator ids and criterion.
    """
    cb = read_codebook()
    lines = [
        "| form | item (path) | role | table column | values | indicators | criterion |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in cb.itertuples():
        column = f"`{r.table}.{r.column}`" if r.column else "not imported"
        inds = "<br>".join(f"`{i}`" for i in r.indicator_ids.split(";") if i) or "—"
        crit = ", ".join(c for c in r.criterion.split(";") if c) or "—"
        values = r.values.replace("|", "\\|")
        lines.append(f"| {r.form} | `{r.variable}` (`{r.path}`) | {r.role} | {column} | "
                     f"{values} | {inds} | {crit} |")
    return "\n".join(lines) + "\n"
