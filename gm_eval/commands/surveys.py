"""Survey subcommands: ``import-kobo``, ``self-assessment``, ``sample-size``, ``translations``."""

from __future__ import annotations

import argparse

from gm_eval.cli import EXIT_OK, subcommand
from gm_eval.errors import InputError

__all__: list[str] = []


# --------------------------------------------------------------------------- import-kobo
@subcommand
def _import_kobo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-kobo",
        help="turn a KoboToolbox/ODK export of a gm-eval survey into a contract table",
        description="Read a KoboToolbox or ODK Central export (CSV or XLSX, downloaded with "
        "'XML values and headers') of the worker or child survey and write DATA_DIR/<form>.csv. "
        "Only consenting respondents are kept; every column the contract does not know (names, "
        "comments, metadata) is dropped. A label-headed export is refused (exit 2, nothing "
        "written). See docs/surveys.md.",
    )
    p.add_argument("export", help="the export file (.csv or .xlsx)")
    p.add_argument("--form", required=True, choices=["worker_survey", "child_survey"],
                   help="which form the export is of")
    p.add_argument("--out", required=True, help="data directory to write into")
    p.add_argument("--mechanism-id", default=None,
                   help="mechanism the survey is about (required unless the form has a "
                   "mechanism_id question)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--append", action="store_true",
                      help="add to an existing <form>.csv (e.g. one export per mechanism)")
    mode.add_argument("--force", action="store_true", help="replace an existing <form>.csv")

    def run(a: argparse.Namespace) -> int:
        from gm_eval.kobo import read_export, write_import

        mode = "append" if a.append else "overwrite" if a.force else "new"
        res = read_export(a.export, a.form, a.mechanism_id)
        path = write_import(res, a.out, mode)
        print(f"wrote {path}: {len(res.table)} respondents from {res.submissions} submissions "
              f"({res.without_consent} without consent left out; "
              f"{len(res.dropped_columns)} other columns dropped)")
        for note in res.notes:
            print(f"  note: {note}")
        return EXIT_OK

    p.set_defaults(func=run)


# ----------------------------------------------------------------------- self-assessment
@subcommand
def _self_assessment(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "self-assessment",
        help="write the self-assessment workbook, or read a filled one",
        description="Company self-assessment against the eight effectiveness criteria. "
        "'template' writes the Excel workbook to fill in; put the filled workbook in a data "
        "directory as self_assessment.xlsx. 'mechanism' writes mechanisms.csv from the details "
        "on the workbook's Instructions sheet, so that a company with only the workbook can "
        "run gm-eval score.",
    )
    ss = p.add_subparsers(dest="action", metavar="ACTION")
    ss.required = True
    t = ss.add_parser("template", help="write the workbook (.xlsx)")
    t.add_argument("--out", required=True, help="workbook to write, e.g. self_assessment.xlsx")
    t.add_argument("--mechanism-id", default=None, help="prefill the mechanism id")
    t.add_argument("--force", action="store_true", help="overwrite an existing file")
    m = ss.add_parser("mechanism", help="write mechanisms.csv from a filled workbook")
    m.add_argument("workbook", help="the filled workbook")
    m.add_argument("--out", required=True, help="data directory")
    m.add_argument("--force", action="store_true", help="overwrite an existing mechanisms file")

    def run(a: argparse.Namespace) -> int:
        from pathlib import Path

        from gm_eval import selfassess_workbook as sw

        if a.action == "template":
            out = Path(a.out)
            if out.exists() and not a.force:
                raise InputError(f"{out} exists; use --force to overwrite it")
            sw.write_template(out, mechanism_id=a.mechanism_id)
            n = len(sw.read_questions())
            print(f"wrote {out}: {n} questions on one sheet per criterion; fill in the "
                  "Instructions sheet and the answer column")
            return EXIT_OK
        mech = sw.read_workbook_mechanism(a.workbook)
        sw.read_workbook(a.workbook)  # check the answers now rather than at scoring time
        out_dir = Path(a.out)
        existing = [p for p in out_dir.glob("mechanisms.*")] if out_dir.is_dir() else []
        if existing and not a.force:
            raise InputError(f"{existing[0]} exists; use --force to overwrite it")
        out_dir.mkdir(parents=True, exist_ok=True)
        from gm_eval.publish import formula_safe

        formula_safe(mech).to_csv(out_dir / "mechanisms.csv", index=False)
        print(f"wrote {out_dir / 'mechanisms.csv'} for mechanism {mech['mechanism_id'].iloc[0]}")
        return EXIT_OK

    p.set_defaults(func=run)


# --------------------------------------------------------------------------- sample-size
def _proportion(text: str) -> float:
    t = text.strip()
    try:
        return float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a proportion: {text!r} (e.g. 0.05 or 5%)") from None


@subcommand
def _sample_size(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sample-size",
        help="how many people to survey to estimate a rate within a margin",
        description="Completed responses needed so that a rate (e.g. the share who trust the "
        "mechanism) is known within +/- MARGIN at the given confidence, with the finite "
        "population correction for a workforce of --population people. See docs/surveys.md.",
    )
    p.add_argument("--margin", required=True, type=_proportion,
                   help="half-width of the interval, e.g. 0.05 or 5%%")
    p.add_argument("--population", type=int, default=None,
                   help="number of people the survey is about (workforce size)")
    p.add_argument("--p", type=_proportion, default=0.5,
                   help="expected rate (default 0.5, the safe choice)")
    p.add_argument("--confidence", type=_proportion, default=0.95,
                   help="confidence level (default 0.95)")
    p.add_argument("--method", choices=["normal", "wilson"], default="normal",
                   help="normal approximation (textbook, default) or Wilson interval")
    p.add_argument("--response-rate", type=_proportion, default=1.0,
                   help="expected share of people approached who answer (default 1)")

    def run(a: argparse.Namespace) -> int:
        from gm_eval.sampling import sample_size

        n = sample_size(a.margin, p=a.p, confidence=a.confidence, population=a.population,
                        method=a.method, response_rate=a.response_rate)
        pop = f" out of {a.population:,}" if a.population else ""
        who = "people to approach" if a.response_rate < 1 else "completed responses"
        print(f"{n}")
        print(f"{who}{pop} for +/-{a.margin:.1%} at {a.confidence:.0%} confidence "
              f"(p = {a.p:g}, {a.method} method)")
        return EXIT_OK

    p.set_defaults(func=run)


# -------------------------------------------------------------------------- translations
@subcommand
def _translations(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "translations",
        help="report which survey labels are still untranslated",
        description="Count, per form and language, the labels, hints and messages of the "
        "survey forms (surveys/<form>/*.csv) that have English text but no translation; "
        "--list prints each of them for translators.",
    )
    p.add_argument("--form", action="append", choices=["worker_survey", "child_survey"],
                   help="form to check (repeatable; default both)")
    p.add_argument("--language", action="append",
                   help="language code or name, e.g. th (repeatable; default all)")
    p.add_argument("--list", action="store_true", help="list every untranslated text")
    p.add_argument("--csv", default=None, help="write the list of untranslated texts to this CSV")

    def run(a: argparse.Namespace) -> int:
        from gm_eval.surveys import FORMS
        from gm_eval.translations import translation_status, untranslated

        forms = a.form or list(FORMS)
        status = translation_status(forms, a.language)
        print(status.to_string(index=False))
        missing = untranslated(forms, a.language)
        if a.list:
            for r in missing.itertuples():
                print(f"{r.form}\t{r.language}\t{r.sheet}:{r.name}:{r.field}\t{r.english}")
        if a.csv:
            missing.to_csv(a.csv, index=False)
            print(f"wrote {a.csv}: {len(missing)} untranslated texts")
        return EXIT_OK

    p.set_defaults(func=run)
