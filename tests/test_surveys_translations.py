"""Untranslated-label report of the survey forms."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from gm_eval.errors import InputError
from gm_eval.surveys import FORMS, LANGUAGES, read_form, surveys_dir
from gm_eval.translations import language_of, translation_status, untranslated


def test_status_counts_match_the_sources():
    status = translation_status()
    assert set(status["form"]) == set(FORMS)
    assert set(status["language"]) == set(LANGUAGES[1:])
    for form in FORMS:
        sheets = read_form(form)
        s, c = sheets["survey"], sheets["choices"]
        # independent count: non-blank English texts on the two sheets
        n_texts = sum((s[f"{f}::English (en)"].str.strip() != "").sum()
                      for f in ("label", "hint", "constraint_message"))
        n_texts += (c["label::English (en)"].str.strip() != "").sum()
        sub = status[status["form"] == form]
        assert (sub["texts"] == n_texts).all()
        for lang in LANGUAGES[1:]:
            row = sub[sub["language"] == lang].iloc[0]
            filled = sum(((s[f"{f}::English (en)"].str.strip() != "")
                          & (s[f"{f}::{lang}"].str.strip() != "")).sum()
                         for f in ("label", "hint", "constraint_message"))
            filled += ((c["label::English (en)"] != "") & (c[f"label::{lang}"].str.strip() != "")).sum()
            assert row["translated"] == filled
            assert row["untranslated"] == n_texts - filled


def test_untranslated_list_agrees_with_status():
    status = translation_status(languages=["th"])
    lst = untranslated(languages=["th"])
    assert set(lst["language"]) == {"Thai (th)"}
    assert len(lst) == status["untranslated"].sum()
    # the Yes/No choices are translated into Thai, the consent question is not
    assert not ((lst["sheet"] == "choices") & (lst["name"] == "yes_no/yes")).any()
    assert ((lst["name"] == "consent") & (lst["field"] == "label")).any()


def test_filling_a_label_removes_it(tmp_path):
    src = tmp_path / "src"
    for form in FORMS:
        shutil.copytree(surveys_dir() / form, src / form)
    before = untranslated(["child_survey"], ["km"], source_dir=src)
    path = src / "child_survey" / "survey.csv"
    s = pd.read_csv(path, dtype=str, keep_default_na=False)
    s.loc[s["name"] == "assent", "label::Khmer (km)"] = "(translation under review)"
    s.to_csv(path, index=False)
    after = untranslated(["child_survey"], ["km"], source_dir=src)
    assert len(after) == len(before) - 1
    assert "assent" in set(before["name"]) and "assent" not in set(
        after.loc[after["field"] == "label", "name"])


def test_language_codes():
    assert language_of("th") == "Thai (th)"
    assert language_of("Bengali") == "Bengali (bn)"
    with pytest.raises(InputError):
        language_of("fr")
