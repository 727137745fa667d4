"""The survey forms: they build, convert with pyxform, and match the codebook and the registry."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from gm_eval.contract import TABLES
from gm_eval.kobo import MISSING_CODES
from gm_eval.surveys import FORMS, LANGUAGES, form_items, read_codebook, read_form, surveys_dir
from gm_eval.surveys.build import build_all, check_xlsform, main

CORE_SURVEY_INDICATORS = {  # data contract, section 2
    "legitimate.trust_rate": ("worker_survey", "trust"),
    "accessible.awareness_rate": ("worker_survey", "aware"),
    "accessible.child_awareness_rate": ("child_survey", "knows_where_to_tell"),
    "accessible.fear_of_retaliation_rate": ("worker_survey", "fear_retaliation"),
    "engagement_dialogue.consultation_rate": ("worker_survey", "consulted"),
}
META_COLUMNS = {"respondent_id", "mechanism_id", "survey_date"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    return {p.stem: p for p in build_all(out)}


@pytest.fixture(scope="module")
def codebook():
    return read_codebook()


def items_of(form: str) -> pd.DataFrame:
    return form_items(read_form(form)["survey"])


def test_forms_build_and_convert(built):
    assert set(built) == set(FORMS)
    for form, path in built.items():
        xml = check_xlsform(path)
        for path in items_of(form)["path"]:
            assert f'<bind nodeset="/data/{path}"' in xml, path
        for lang in LANGUAGES:
            assert f'<translation lang="{lang}"' in xml


def test_build_command(tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child_survey.xlsx", "worker_survey.xlsx"]
    assert "wrote" in capsys.readouterr().out


def test_broken_form_fails_build(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(surveys_dir() / "child_survey", src / "child_survey")
    survey = pd.read_csv(src / "child_survey" / "survey.csv", dtype=str, keep_default_na=False)
    survey.loc[survey["name"] == "listened_to", "relevant"] = "${never_asked} = 'yes'"
    survey.to_csv(src / "child_survey" / "survey.csv", index=False)
    from gm_eval.errors import InputError
    from gm_eval.surveys.build import build_form

    with pytest.raises(InputError, match="never_asked"):
        build_form("child_survey", tmp_path / "out", source_dir=src)


@pytest.mark.parametrize("form", FORMS)
def test_form_items_match_codebook_exactly(form, codebook):
    items = items_of(form).set_index("name")
    cb = codebook[codebook["form"] == form].set_index("variable")
    assert sorted(items.index) == sorted(cb.index)
    assert (items["path"] == cb.loc[items.index, "path"]).all()
    # every contract item of the table comes from the form, under its own name
    imported = cb[cb["column"] != ""]
    assert (imported["column"] == imported.index).all()
    assert (imported["table"] == form).all()
    assert set(imported["column"]) == set(TABLES[form].column_names) - META_COLUMNS
    assert set(cb.loc[cb["column"] == "", "role"]) <= {"consent", "filter"}


@pytest.mark.parametrize("form", FORMS)
def test_choice_names_are_contract_values(form):
    sheets = read_form(form)
    items = items_of(form)
    choices = sheets["choices"]
    table = TABLES[form]
    for rec in items[items["list_name"] != ""].itertuples():
        names = set(choices.loc[choices["list_name"] == rec.list_name, "name"]) - MISSING_CODES
        assert names, rec.list_name
        if rec.name not in table.column_names:
            assert names <= {"yes", "no", "not_sure"}, rec.name
            continue
        col = table.column(rec.name)
        allowed = {"bool": {"yes", "no"}, "likert": {str(i) for i in range(1, 6)}}.get(
            col.kind, set(col.values))
        assert names <= allowed, (rec.name, names - allowed)


def test_core_indicators_in_codebook_and_forms(codebook):
    for ind, (form, var) in CORE_SURVEY_INDICATORS.items():
        row = codebook[(codebook["form"] == form) & (codebook["variable"] == var)]
        assert len(row) == 1
        assert ind in row["indicator_ids"].iloc[0].split(";")
        assert var in set(items_of(form)["name"])


def test_registry_survey_indicators_mapped(codebook):
    """Every survey-sourced indicator of the registry has its items in a form, and back."""
    registry = pytest.importorskip("gm_eval.indicators.registry").registry()
    survey = {i.id: i for i in registry.values() if i.evidence_kind in FORMS}
    assert set(CORE_SURVEY_INDICATORS) <= set(survey)
    mapped: dict[str, list] = {}
    for rec in codebook.itertuples():
        for ind in filter(None, rec.indicator_ids.split(";")):
            mapped.setdefault(ind, []).append(rec)
    assert set(mapped) == set(survey), set(mapped) ^ set(survey)
    for ind, rows in mapped.items():
        decl = survey[ind]
        for rec in rows:
            assert rec.form == decl.evidence_kind and rec.form in decl.sources
            assert decl.criterion in rec.criterion.split(";")
            # the item is named in the indicator's definition
            assert re.search(rf"\b{rec.variable}\b", decl.definition), (ind, rec.variable)


def test_codebook_criteria_valid(codebook):
    from gm_eval.contract import CRITERIA

    for rec in codebook.itertuples():
        for c in filter(None, rec.criterion.split(";")):
            assert c in CRITERIA
        assert rec.role in {"consent", "demographic", "item", "filter"}


def test_child_survey_rules():
    sheets = read_form("child_survey")
    survey = sheets["survey"]
    items = items_of("child_survey")
    assert len(items) <= 15
    # no identifying questions: no free text, dates, phones, locations or media
    assert not items["base_type"].isin(
        ["text", "date", "datetime", "geopoint", "image", "audio", "video", "barcode"]).any()
    assert not items["name"].str.contains("name|phone|address|birth|school_name").any()
    # consent and assent, both required, gate the questions
    req = survey.set_index("name")["required"]
    assert req["parental_consent"] == "yes" and req["assent"] == "yes"
    groups = survey[survey["type"] == "begin_group"].set_index("name")["relevant"]
    for g in ("about_you", "telling"):
        assert "${parental_consent} = 'yes'" in groups[g] and "${assent} = 'yes'" in groups[g]
    # three answers for the items
    ch = sheets["choices"]
    for name in ("knows_where_to_tell", "has_trusted_adult", "safe_to_tell", "listened_to",
                 "told_what_happened"):
        lst = items.set_index("name").loc[name, "list_name"]
        assert ch.loc[ch["list_name"] == lst, "name"].tolist() == ["yes", "no", "not_sure"]
    # skip logic: only children who ever told someone
    rel = survey.set_index("name")["relevant"]
    assert rel["listened_to"] == rel["told_what_happened"] == "${ever_told} = 'yes'"
    # closing screen with a placeholder for where to get help
    closing = survey.set_index("name").loc["closing", "label::English (en)"]
    assert "[HELP CONTACT:" in closing


def test_worker_survey_rules():
    survey = read_form("worker_survey")["survey"]
    items = items_of("worker_survey")
    assert survey.set_index("name").loc["consent", "required"] == "yes"
    assert {"age", "gender", "migrant"} <= set(items["name"])
    assert not items["base_type"].isin(["text", "geopoint", "image", "audio"]).any()
    rel = survey.set_index("name")["relevant"]
    assert rel["informed_outcome"] == rel["satisfied"] == "${used} = 'yes'"
    assert rel["knows_how"] == "${aware} = 'yes'"


@pytest.mark.parametrize("form", FORMS)
def test_translation_columns(form):
    sheets = read_form(form)
    for lang in LANGUAGES:
        assert f"label::{lang}" in sheets["survey"].columns
        assert f"label::{lang}" in sheets["choices"].columns
        assert f"hint::{lang}" in sheets["survey"].columns
    # English is complete for every question and choice
    items = items_of(form)
    assert (items["label"].str.strip() != "").all()
    assert (sheets["choices"]["label::English (en)"].str.strip() != "").all()
    assert sheets["settings"]["default_language"].iloc[0] == "English (en)"


def test_docs_codebook_table_is_current():
    """docs/surveys.md embeds the codebook table; regenerate with the build's --docs."""
    from gm_eval.surveys.build import docs_with_codebook

    page = (surveys_dir().parent / "docs" / "surveys.md").read_text(encoding="utf-8")
    assert docs_with_codebook(page) == page, "run: python -m gm_eval.surveys.build --docs"
    assert page.count("| worker_survey |") == (read_codebook()["form"] == "worker_survey").sum()
