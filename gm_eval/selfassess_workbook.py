"""The company self-assessment workbook: an Excel template and its reader.

``gm-eval self-assessment template --out self_assessment.xlsx`` writes the
shipped question catalogue (``gm_eval/data/self_assessment_questions.csv``) as
a workbook a company fills in by hand:

* ``Instructions``: how to answer, and the mechanism's details (id, company,
  name, sector, country, type) in named cells (``gm_mechanism_id``, ...);
* one sheet per criterion, one row per question: ``question_id``,
  ``question``, ``child_specific``, ``answer`` (a dropdown: yes, partly, no,
  not_applicable) and ``evidence`` (where the proof can be found);
* a very hidden marker sheet ``_gm_eval`` with ``A1 = gm_eval_workbook`` and
  ``B1 = self_assessment``.

**Detection rule** (used by the loader): a data directory's
``self_assessment.xlsx`` is read with :func:`read_workbook` when
:func:`is_template_workbook` is true, i.e. the workbook has the marker sheet
above; any other ``self_assessment.xlsx`` is read as a plain table. Rows whose
answer is blank are unanswered and left out.

Examples
--------
>>> from gm_eval.selfassess_workbook import write_template, read_workbook
>>> write_template("sa.xlsx", mechanism_id="acme_ogm")  # doctest: +SKIP
>>> read_workbook("sa.xlsx").columns.tolist()  # doctest: +SKIP
['mechanism_id', 'question_id', 'answer', 'evidence']
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from gm_eval.contract import CRITERIA, ID_PATTERN, MECHANISM_TYPES, SELF_ASSESSMENT_ANSWERS
from gm_eval.errors import InputError

__all__ = [
    "MARKER_SHEET",
    "CRITERION_TITLES",
    "MECHANISM_FIELDS",
    "read_questions",
    "write_template",
    "is_template_workbook",
    "read_workbook",
    "read_workbook_mechanism",
]

MARKER_SHEET = "_gm_eval"
_MARKER = ("gm_eval_workbook", "self_assessment")
FORMAT_VERSION = "1"
INSTRUCTIONS_SHEET = "Instructions"
HEADER = ("question_id", "question", "child_specific", "answer", "evidence")

CRITERION_TITLES: dict[str, str] = {
    "legitimate": "Legitimate",
    "accessible": "Accessible",
    "predictable": "Predictable",
    "equitable": "Equitable",
    "transparent": "Transparent",
    "rights_compatible": "Rights-compatible",
    "continuous_learning": "Continuous learning",
    "engagement_dialogue": "Engagement and dialogue",
}

#: Mechanism details asked on the Instructions sheet: (column, prompt, required).
MECHANISM_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("mechanism_id", "Mechanism id (letters, digits, _ . -; no spaces)", True),
    ("company_id", "Company id (letters, digits, _ . -)", True),
    ("name", "Name of the grievance mechanism", True),
    ("sector", "Sector (e.g. garments, seafood, agriculture, electronics, tourism)", True),
    ("country", "Country (ISO 2-letter code, e.g. TH)", False),
    ("mechanism_type", "Type: " + ", ".join(MECHANISM_TYPES), True),
)

_INSTRUCTIONS = (
    "How to fill in this workbook",
    "1. Enter the mechanism's details below (the mechanism id is required).",
    "2. Go through the sheets, one per UNGP Principle 31 effectiveness criterion.",
    "3. For each question choose an answer in the 'answer' column: yes, partly, no or "
    "not_applicable. Leave it blank if you do not know: blank answers are not counted.",
    "4. In 'evidence', say where the proof is (a document, a web page, a record). "
    "Do not write names of complainants or other personal data.",
    "5. Do not rename sheets or columns or change the question ids. Save as .xlsx and put "
    "the file in your data folder as self_assessment.xlsx, then run: gm-eval score DATA_DIR "
    "--out RESULTS_DIR.",
    "Answers: yes = fully in place and documented; partly = in place for some sites, users or "
    "stages, or not documented; no = not in place; not_applicable = the question does not apply "
    "to this mechanism (it is left out of the score).",
)


# ----------------------------------------------------------------------------- catalogue
def read_questions(path: str | Path | None = None) -> pd.DataFrame:
    """Read the self-assessment question catalogue.

    Parameters
    ----------
    path : str or path-like, optional
        A catalogue CSV (default the shipped ``gm_eval/data/self_assessment_questions.csv``).

    Returns
    -------
    DataFrame
        At least ``question_id``, ``criterion``, ``question``, ``child_specific`` (bool).
    """
    if path is None:
        from gm_eval.indicators import questions  # the catalogue's one loader

        q = questions()
    else:
        q = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"question_id", "criterion", "question"} - set(q.columns)
    if missing:
        raise InputError(f"question catalogue lacks column(s) {', '.join(sorted(missing))}")
    if "child_specific" not in q.columns:
        q["child_specific"] = "false"
    q["child_specific"] = (q["child_specific"].astype(str).str.strip().str.lower()
                           .isin(["true", "yes", "1"]))
    bad = ~q["criterion"].isin(CRITERIA)
    if bad.any():
        raise InputError(f"question catalogue: unknown criterion {q.loc[bad, 'criterion'].iloc[0]!r}")
    return q


# ----------------------------------------------------------------------------- template
def write_template(out: str | Path, questions: pd.DataFrame | None = None,
                   mechanism: dict | None = None, mechanism_id: str | None = None) -> Path:
    """Write the self-assessment workbook.

    Parameters
    ----------
    out : str or path-like
        ``.xlsx`` file to write (its folder is created).
    questions : DataFrame, optional
        Question catalogue (default :func:`read_questions`).
    mechanism : dict, optional
        Mechanism details to prefill (keys of :data:`MECHANISM_FIELDS`).
    mechanism_id : str, optional
        Shortcut to prefill only the mechanism id.

    Returns
    -------
    pathlib.Path
        The written workbook.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    q = read_questions() if questions is None else questions
    details = dict(mechanism or {})
    if mechanism_id is not None:
        details["mechanism_id"] = mechanism_id
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"{out}: the workbook must have the .xlsx extension")

    wb = Workbook()
    ws = wb.active
    ws.title = INSTRUCTIONS_SHEET
    bold = Font(bold=True)
    ws["A1"] = "gm-eval self-assessment: grievance mechanism effectiveness (UNGP Principle 31)"
    ws["A1"].font = Font(bold=True, size=14)
    row = 3
    for i, line in enumerate(_INSTRUCTIONS):
        ws.cell(row=row, column=1, value=line).font = bold if i == 0 else Font()
        row += 1
    row += 1
    ws.cell(row=row, column=1, value="Mechanism details").font = bold
    row += 1
    fill = PatternFill("solid", fgColor="FFF2CC")
    type_dv = DataValidation(type="list", formula1='"' + ",".join(MECHANISM_TYPES) + '"',
                             allow_blank=True)
    ws.add_data_validation(type_dv)
    for col, prompt, required in MECHANISM_FIELDS:
        ws.cell(row=row, column=1, value=prompt + (" *" if required else ""))
        cell = ws.cell(row=row, column=2, value=details.get(col))
        cell.fill = fill
        ref = f"'{INSTRUCTIONS_SHEET}'!$B${row}"
        wb.defined_names[f"gm_{col}"] = DefinedName(f"gm_{col}", attr_text=ref)
        if col == "mechanism_type":
            type_dv.add(cell)
        row += 1
    ws.column_dimensions["A"].width = 70
    ws.column_dimensions["B"].width = 40
    for r in range(3, 3 + len(_INSTRUCTIONS)):
        ws.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")

    answer_list = '"' + ",".join(SELF_ASSESSMENT_ANSWERS) + '"'
    for crit in CRITERIA:
        sub = q[q["criterion"] == crit]
        if sub.empty:
            continue
        sh = wb.create_sheet(CRITERION_TITLES[crit])
        sh.append(list(HEADER))
        for c in sh[1]:
            c.font = bold
        for rec in sub.itertuples(index=False):
            sh.append([rec.question_id, rec.question,
                       "yes" if rec.child_specific else "no", None, None])
        last = len(sub) + 1
        dv = DataValidation(type="list", formula1=answer_list, allow_blank=True,
                            showErrorMessage=True, errorTitle="Answer",
                            error="Choose yes, partly, no or not_applicable")
        sh.add_data_validation(dv)
        dv.add(f"D2:D{last}")
        for r in range(2, last + 1):
            sh.cell(row=r, column=4).fill = fill
            sh.cell(row=r, column=5).fill = fill
            sh.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        for letter, width in zip("ABCDE", (12, 80, 14, 16, 50), strict=True):
            sh.column_dimensions[letter].width = width
        sh.freeze_panes = "A2"

    mk = wb.create_sheet(MARKER_SHEET)
    mk.append(list(_MARKER))
    mk.append(["version", FORMAT_VERSION])
    mk.append(["questions", len(q)])
    mk.sheet_state = "veryHidden"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


# ----------------------------------------------------------------------------- reading
def is_template_workbook(path: str | Path) -> bool:
    """Whether ``path`` is a workbook written by :func:`write_template` (has the marker sheet)."""
    from openpyxl import load_workbook

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return False
    try:
        wb = load_workbook(path, read_only=True)
    except Exception:  # not a workbook at all
        return False
    try:
        if MARKER_SHEET not in wb.sheetnames:
            return False
        ws = wb[MARKER_SHEET]
        first = next(ws.iter_rows(min_row=1, max_row=1, max_col=2, values_only=True), ())
        return tuple(first) == _MARKER
    finally:
        wb.close()


def _normalise_answer(v) -> str | None:
    if v is None:
        return None
    s = re.sub(r"[\s\-/]+", "_", str(v).strip().lower())
    if s == "":
        return None
    return {"n_a": "not_applicable", "na": "not_applicable", "not_relevant": "not_applicable",
            "partially": "partly", "partial": "partly"}.get(s, s)


def _defined_value(wb, name: str):
    dn = wb.defined_names.get(name)
    if dn is None:
        return None
    for sheet, ref in dn.destinations:
        v = wb[sheet][ref.replace("$", "")].value
        return None if v is None or str(v).strip() == "" else str(v).strip()
    return None


def read_workbook(path: str | Path, mechanism_id: str | None = None) -> pd.DataFrame:
    """Read a filled self-assessment workbook into the contract ``self_assessment`` table.

    Parameters
    ----------
    path : str or path-like
        A workbook written by :func:`write_template` and filled in.
    mechanism_id : str, optional
        Overrides the mechanism id written on the Instructions sheet.

    Returns
    -------
    DataFrame
        ``mechanism_id, question_id, answer, evidence`` (text; evidence blank as NA),
        one row per answered question, in workbook order.

    Raises
    ------
    gm_eval.errors.InputError
        Not a gm-eval workbook, no mechanism id, an answer outside
        yes/partly/no/not_applicable (the sheet and cell are named), or a question
        answered twice.
    """
    from openpyxl import load_workbook

    path = Path(path)
    if not is_template_workbook(path):
        raise InputError(f"{path.name}: not a gm-eval self-assessment workbook (write one "
                         "with: gm-eval self-assessment template --out FILE.xlsx)")
    wb = load_workbook(path, data_only=True)
    mech = mechanism_id or _defined_value(wb, "gm_mechanism_id")
    if not mech:
        raise InputError(f"{path.name}: enter the mechanism id on the '{INSTRUCTIONS_SHEET}' sheet")
    if not re.fullmatch(ID_PATTERN.strip("^$"), mech):
        raise InputError(f"{path.name}: mechanism id {mech!r} is not valid: use letters, digits, "
                         "'_', '.', '-' (no spaces, at most 64)")
    rows, problems = [], []
    for ws in wb.worksheets:
        if ws.title in (INSTRUCTIONS_SHEET, MARKER_SHEET):
            continue
        values = list(ws.iter_rows(values_only=True))
        if not values:
            continue
        header = [str(h).strip().lower() if h is not None else "" for h in values[0]]
        if "question_id" not in header or "answer" not in header:
            problems.append(f"sheet {ws.title!r}: the header row must keep the columns "
                            "question_id and answer")
            continue
        iq, ia = header.index("question_id"), header.index("answer")
        ie = header.index("evidence") if "evidence" in header else None
        for r, vals in enumerate(values[1:], start=2):
            qid = vals[iq] if iq < len(vals) else None
            if qid is None or str(qid).strip() == "":
                continue
            ans = _normalise_answer(vals[ia] if ia < len(vals) else None)
            if ans is None:
                continue
            if ans not in SELF_ASSESSMENT_ANSWERS:
                cell = f"{chr(ord('A') + ia)}{r}"
                problems.append(f"sheet {ws.title!r}, cell {cell}: answer {vals[ia]!r} is not one "
                                f"of {', '.join(SELF_ASSESSMENT_ANSWERS)}")
                continue
            ev = vals[ie] if ie is not None and ie < len(vals) else None
            ev = None if ev is None or str(ev).strip() == "" else str(ev).strip()
            rows.append((mech, str(qid).strip(), ans, ev))
    wb.close()
    if problems:
        raise InputError(f"{path.name}:\n  " + "\n  ".join(problems))
    df = pd.DataFrame(rows, columns=["mechanism_id", "question_id", "answer", "evidence"])
    dup = df["question_id"].duplicated()
    if dup.any():
        raise InputError(f"{path.name}: question {df.loc[dup, 'question_id'].iloc[0]!r} is "
                         "answered more than once")
    return df.astype({"mechanism_id": "string", "question_id": "string", "answer": "string",
                      "evidence": "string"})


def read_workbook_mechanism(path: str | Path) -> pd.DataFrame:
    """Read the mechanism details of a filled workbook as a one-row ``mechanisms`` table.

    For a company whose data directory holds only the workbook: the loader (or the
    user, via ``gm-eval self-assessment mechanism``) can write ``mechanisms.csv`` from it.

    Returns
    -------
    DataFrame
        One row with the columns of :data:`MECHANISM_FIELDS` (blanks as NA).

    Raises
    ------
    gm_eval.errors.InputError
        When a required detail is blank.
    """
    from openpyxl import load_workbook

    path = Path(path)
    if not is_template_workbook(path):
        raise InputError(f"{path.name}: not a gm-eval self-assessment workbook")
    wb = load_workbook(path, data_only=True)
    rec = {col: _defined_value(wb, f"gm_{col}") for col, _, _ in MECHANISM_FIELDS}
    wb.close()
    missing = [col for col, _, req in MECHANISM_FIELDS if req and not rec[col]]
    if missing:
        raise InputError(f"{path.name}: fill in {', '.join(missing)} on the "
                         f"'{INSTRUCTIONS_SHEET}' sheet")
    return pd.DataFrame([rec]).astype("string")
