"""Build the survey forms' ``.xlsx`` files from their CSV sources.

Run ``python -m gm_eval.surveys.build`` (or ``make surveys``) from the
repository: every ``surveys/<form>/`` folder is assembled into
``surveys/build/<form>.xlsx`` and converted with pyxform to check it, so a
form that would not load in KoboToolbox or ODK Collect fails the build.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from openpyxl import Workbook

from gm_eval.errors import InputError
from gm_eval.surveys import FORMS, SHEETS, read_form, surveys_dir

__all__ = ["form_workbook", "build_form", "build_all", "check_xlsform", "docs_with_codebook",
           "main"]


def form_workbook(form: str, source_dir: str | Path | None = None) -> Workbook:
    """Assemble the XLSForm workbook of ``form`` from its CSV sheets.

    Parameters
    ----------
    form : str
        Form name (a folder of ``source_dir``).
    source_dir : str or path-like, optional
        Folder of the form sources (default: the repository's ``surveys/``).

    Returns
    -------
    openpyxl.Workbook
        Sheets ``survey``, ``choices`` and ``settings``, every cell as text.
    """
    sheets = read_form(form, source_dir)
    wb = Workbook()
    wb.remove(wb.active)
    for name in SHEETS:
        df = sheets[name]
        ws = wb.create_sheet(name)
        ws.append(list(df.columns))
        for row in df.itertuples(index=False):
            ws.append([v if v != "" else None for v in row])
        ws.freeze_panes = "C2" if name != "settings" else None
    return wb


def check_xlsform(xlsx: bytes | str | Path) -> str:
    """Convert an XLSForm with pyxform and return the XForm XML.

    ODK Validate (Java) is not run; pyxform's own checks (names, references in
    ``relevant``/``constraint``, choice lists, translations) are.

    Raises
    ------
    gm_eval.errors.InputError
        With pyxform's message when the form does not convert.
    """
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    data = Path(xlsx).read_bytes() if isinstance(xlsx, (str, Path)) else xlsx
    try:
        result = convert(xlsform=io.BytesIO(data), validate=False, file_type=".xlsx")
    except PyXFormError as exc:
        raise InputError(f"XLSForm conversion failed: {exc}") from exc
    return result.xform


def build_form(form: str, out_dir: str | Path | None = None,
               source_dir: str | Path | None = None) -> Path:
    """Write ``<out_dir>/<form>.xlsx`` and check it converts.

    Parameters
    ----------
    form : str
        Form name.
    out_dir : str or path-like, optional
        Output folder (default ``surveys/build``).
    source_dir : str or path-like, optional
        Folder of the form sources (default: the repository's ``surveys/``).

    Returns
    -------
    pathlib.Path
        The written workbook.
    """
    out = Path(out_dir) if out_dir is not None else surveys_dir() / "build"
    buf = io.BytesIO()
    form_workbook(form, source_dir).save(buf)
    check_xlsform(buf.getvalue())
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{form}.xlsx"
    path.write_bytes(buf.getvalue())
    return path


def build_all(out_dir: str | Path | None = None,
              source_dir: str | Path | None = None) -> list[Path]:
    """Build every shipped form; return the written paths."""
    return [build_form(f, out_dir, source_dir) for f in FORMS]


DOCS_START = "<!-- codebook:start -->"
DOCS_END = "<!-- codebook:end -->"


def docs_with_codebook(text: str) -> str:
    """Return ``text`` (docs/surveys.md) with the codebook table between its markers."""
    from gm_eval.surveys import codebook_markdown

    head, sep, rest = text.partition(DOCS_START)
    _, sep2, tail = rest.partition(DOCS_END)
    if not sep or not sep2:
        raise InputError(f"the page has no {DOCS_START} ... {DOCS_END} block")
    return f"{head}{DOCS_START}\n{codebook_markdown()}{DOCS_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: build the forms, print what was written."""
    p = argparse.ArgumentParser(prog="python -m gm_eval.surveys.build", description=__doc__)
    p.add_argument("--out", default=None, help="output folder (default surveys/build)")
    p.add_argument("--docs", action="store_true",
                   help="also regenerate the codebook table in docs/surveys.md")
    a = p.parse_args(argv)
    try:
        if a.docs:
            page = surveys_dir().parent / "docs" / "surveys.md"
            page.write_text(docs_with_codebook(page.read_text(encoding="utf-8")),
                            encoding="utf-8")
            print(f"wrote {page}")
        for path in build_all(a.out):
            print(f"wrote {path}")
    except InputError as exc:
        print(f"surveys build: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
