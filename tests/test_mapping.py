"""The mapping file: a foreign case-management export read without editing it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gm_eval import load
from gm_eval.errors import InputError
from gm_eval.io.mapping import load_mapping
from gm_eval.validate import check_data_dir

TODAY = dt.date(2025, 7, 1)

# A helpdesk export with its own headers, French labels, day-first dates, Oui/Non,
# no mechanism column, comma-separated remediation lists and a free-text column.
EXPORT = """Ticket No;Opened;Closed;State;Type of complaint;Anonyme;Age;Sexe;Notes
T-001;03/02/2025;17/02/2025;Fermé;Travail des enfants;Oui;15;F;Mon nom est Marie DECOY
T-002;10/02/2025;;Ouvert;Salaires;Non;34;M;tel +33-DECOY-1
"""
CLMS = """child,identified,types
K1,2024-05-01,"school_kit, birth_certificate"
"""
MECHANISMS = """mechanism_id,company_id,name,sector,mechanism_type
HELP-1,ACME,ACME helpline,agriculture,hotline
"""
MAPPING = """
tables:
  cases:
    file: helpdesk_export.csv
    delimiter: ";"
    columns:
      Ticket No: case_id
      Opened: received_at
      Closed: closed_at
      State: status
      Type of complaint: category
      Anonyme: anonymous
      Age: age
      Sexe: gender
    constants:
      mechanism_id: HELP-1
    values:
      status: {Fermé: closed, Ouvert: open}
      category: {Travail des enfants: child_labour, Salaires: wages_benefits}
      gender: {F: female, M: male}
    dates:
      "*": "%d/%m/%Y"
    booleans:
      true: [oui]
      false: [non]
  clms_children:
    file: clms.csv
    columns: {child: child_id, identified: identified_at, types: remediation_types}
    constants: {mechanism_id: HELP-1}
    split: {remediation_types: ","}
"""


@pytest.fixture
def export_dir(tmp_path):
    d = tmp_path / "export"
    d.mkdir()
    (d / "helpdesk_export.csv").write_text(EXPORT, encoding="utf-8")
    (d / "clms.csv").write_text(CLMS, encoding="utf-8")
    (d / "mechanisms.csv").write_text(MECHANISMS, encoding="utf-8")
    (tmp_path / "mapping.yml").write_text(MAPPING, encoding="utf-8")
    return d, tmp_path / "mapping.yml"


def test_foreign_export_is_mapped(export_dir):
    d, mapping = export_dir
    ev = load(d, mapping=mapping, today=TODAY)
    cases = ev["cases"]
    assert cases["case_id"].nunique() == 2  # pseudonymised at load
    assert cases["mechanism_id"].tolist() == ["HELP-1", "HELP-1"]
    assert cases["received_at"].tolist() == [pd.Timestamp("2025-02-03"), pd.Timestamp("2025-02-10")]
    assert cases["closed_at"].iloc[0] == pd.Timestamp("2025-02-17")
    assert cases["status"].tolist() == ["closed", "open"]
    assert cases["category"].tolist() == ["child_labour", "wages_benefits"]
    assert cases["anonymous"].tolist() == [True, False]
    assert cases["gender"].tolist() == ["female", "male"]
    assert "Notes" not in cases.columns and "notes" not in cases.columns
    assert ev["clms_children"]["remediation_types"].iloc[0] == "school_kit;birth_certificate"


def test_errors_name_the_users_column(export_dir):
    d, mapping = export_dir
    p = d / "helpdesk_export.csv"
    p.write_text(p.read_text().replace("10/02/2025", "2025-02-10"))
    report = check_data_dir(d, mapping=mapping, today=TODAY)
    err = [e for e in report.errors if e.file == "helpdesk_export.csv"]
    assert err and err[0].row == 3
    assert err[0].column == "Opened (received_at)"
    assert "%d/%m/%Y" in err[0].expected


def test_unmapped_label_is_reported(export_dir):
    d, mapping = export_dir
    p = d / "helpdesk_export.csv"
    p.write_text(p.read_text().replace("Salaires", "Heures"))
    report = check_data_dir(d, mapping=mapping, today=TODAY)
    err = [e for e in report.errors if e.column == "Type of complaint (category)"]
    assert err and err[0].value == "Heures" and err[0].row == 3


@pytest.mark.parametrize("text,words", [
    ("tables:\n  casez: {}\n", "unknown table 'casez'"),
    ("tables:\n  cases:\n    columns: {A: not_a_column}\n", "not a column of cases"),
    ("tables:\n  cases:\n    colums: {}\n", "unknown keys"),
    ("!!python/object/apply:os.system ['echo hacked']\n", "safe YAML"),
    ("tables: [1, 2\n", "line"),
    ("just a string\n", "must be a YAML mapping"),
])
def test_bad_mapping_files(tmp_path, text, words):
    p = tmp_path / "m.yml"
    p.write_text(text)
    with pytest.raises(InputError, match="mapping file") as exc:
        load_mapping(p)
    assert words in str(exc.value)


def test_missing_mapped_file(export_dir):
    d, mapping = export_dir
    (d / "clms.csv").unlink()
    with pytest.raises(InputError, match="clms.csv"):
        check_data_dir(d, mapping=mapping, today=TODAY)


def test_mapping_file_may_not_escape_the_data_directory(export_dir, tmp_path):
    d, _ = export_dir
    with pytest.raises(InputError, match="plain file name"):
        check_data_dir(d, mapping={"tables": {"cases": {"file": "../mapping.yml"}}}, today=TODAY)
