"""Which labels of the survey forms still need a translator.

Every translatable column of a form (``label``, ``hint``,
``constraint_message`` on the survey sheet; ``label`` on the choices sheet)
has one ``column::Language (code)`` version per language of
:data:`gm_eval.surveys.LANGUAGES`. A text is *untranslated* in a language when
its English version is filled and that language's cell is blank. Translations
are added by hand in the CSV sources (``surveys/<form>/*.csv``), never
machine-filled: a blank cell shows the work left, and the form falls back to
English for it.

Examples
--------
>>> from gm_eval.translations import translation_status
>>> translation_status().columns.tolist()  # doctest: +SKIP
['form', 'language', 'texts', 'translated', 'untranslated', 'share_translated']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gm_eval.surveys import DEFAULT_LANGUAGE, FORMS, LANGUAGES, read_form

__all__ = ["TRANSLATABLE", "untranslated", "translation_status", "language_of"]

#: Translatable columns per sheet.
TRANSLATABLE: dict[str, tuple[str, ...]] = {
    "survey": ("label", "hint", "constraint_message"),
    "choices": ("label",),
}


def language_of(code_or_name: str) -> str:
    """Return the full language name (``"Thai (th)"``) for a code (``th``) or name.

    Raises
    ------
    gm_eval.errors.InputError
        For a language the forms do not carry.
    """
    from gm_eval.errors import InputError

    for lang in LANGUAGES:
        code = lang.rsplit("(", 1)[-1].rstrip(")")
        if code_or_name.lower() in (code.lower(), lang.lower(), lang.split(" (")[0].lower()):
            return lang
    raise InputError(f"unknown language {code_or_name!r}; the forms carry "
                     + ", ".join(LANGUAGES))


def _texts(form: str, source_dir) -> pd.DataFrame:
    """Long table: one row per (sheet, row, field, language) with the cell's text."""
    sheets = read_form(form, source_dir)
    parts = []
    for sheet, fields in TRANSLATABLE.items():
        df = sheets[sheet]
        key = df["name"] if sheet == "survey" else df["list_name"] + "/" + df["name"]
        for fld in fields:
            en_col = f"{fld}::{DEFAULT_LANGUAGE}"
            if en_col not in df.columns:
                continue
            for lang in LANGUAGES[1:]:
                col = f"{fld}::{lang}"
                text = df[col] if col in df.columns else pd.Series("", index=df.index)
                parts.append(pd.DataFrame({
                    "form": form, "sheet": sheet, "name": key, "field": fld,
                    "language": lang, "english": df[en_col].str.strip(),
                    "text": text.str.strip(),
                }))
    long = pd.concat(parts, ignore_index=True)
    return long[long["english"] != ""]


def untranslated(forms: tuple[str, ...] | list[str] = FORMS, languages=None,
                 source_dir: str | Path | None = None) -> pd.DataFrame:
    """List the texts still to translate.

    Parameters
    ----------
    forms : sequence of str
        Forms to check (default both shipped forms).
    languages : sequence of str, optional
        Languages (codes or names) to check; default every non-English language.
    source_dir : str or path-like, optional
        Folder of the form sources (default the repository's ``surveys/``).

    Returns
    -------
    DataFrame
        ``form, sheet, name, field, language, english``: one row per missing text
        (``name`` is the question name, or ``list_name/choice`` for choices).
    """
    long = pd.concat([_texts(f, source_dir) for f in forms], ignore_index=True)
    if languages:
        long = long[long["language"].isin([language_of(x) for x in languages])]
    missing = long[long["text"] == ""]
    return missing.drop(columns="text").reset_index(drop=True)


def translation_status(forms: tuple[str, ...] | list[str] = FORMS, languages=None,
                       source_dir: str | Path | None = None) -> pd.DataFrame:
    """Count translated and untranslated texts per form and language.

    Returns
    -------
    DataFrame
        ``form, language, texts, translated, untranslated, share_translated``.
    """
    long = pd.concat([_texts(f, source_dir) for f in forms], ignore_index=True)
    if languages:
        long = long[long["language"].isin([language_of(x) for x in languages])]
    long = long.assign(translated=long["text"] != "")
    out = (long.groupby(["form", "language"], sort=False)["translated"]
           .agg(texts="size", translated="sum").reset_index())
    out["untranslated"] = out["texts"] - out["translated"]
    out["share_translated"] = (out["translated"] / out["texts"]).round(3)
    return out
