"""Self-assessment workbook: generate, fill with openpyxl, read back, score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from gm_eval.contract import CRITERIA, SELF_ASSESSMENT_ANSWERS
from gm_eval.errors import InputError
from gm_eval.selfassess_workbook import (
    CRITERION_TITLES,
    MARKER_SHEET,
    is_template_workbook,
    read_questions,
    read_workbook,
    read_workbook_mechanism,
    write_template,
)

MECH = {"mechanism_id": "acme_ogm", "company_id": "acme", "name": "Acme worker helpline",
        "sector": "garments", "country": "TH", "mechanism_type": "ogm"}


def fill(path, answers: dict[str, tuple[str, str | None]], mechanism: dict | None = None):
    """Fill the workbook the way a person would: type into the answer/evidence cells."""
    wb = load_workbook(path)
    for ws in wb.worksheets:
        if ws.title in ("Instructions", MARKER_SHEET):
            continue
        for row in ws.iter_rows(min_row=2):
            qid = row[0].value
            if qid in answers:
                row[3].value, row[4].value = answers[qid]
    if mechanism:
        for key, value in mechanism.items():
            dn = wb.defined_names[f"gm_{key}"]
            for sheet, ref in dn.destinations:
                wb[sheet][ref.replace("$", "")].value = value
    wb.save(path)


def planted_answers(seed: int = 0) -> dict[str, tuple[str, str | None]]:
    q = read_questions()
    rng = np.random.default_rng(seed)
    picks = rng.choice(list(SELF_ASSESSMENT_ANSWERS) + ["blank"], len(q),
                       p=[.4, .2, .2, .1, .1])
    out = {}
    for i, (qid, a) in enumerate(zip(q["question_id"], picks, strict=True)):
        if a == "blank":
            continue
        shown = a.upper() if i % 7 == 0 else a  # people type in any case
        out[qid] = (shown, f"policy document p.{i}" if i % 3 == 0 else None)
    return out


def test_template_structure(tmp_path):
    q = read_questions()
    path = write_template(tmp_path / "sa.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "Instructions"
    crit_sheets = [CRITERION_TITLES[c] for c in CRITERIA if (q["criterion"] == c).any()]
    assert wb.sheetnames[1:-1] == crit_sheets
    assert wb[MARKER_SHEET].sheet_state == "veryHidden"
    n_rows = 0
    for c in CRITERIA:
        if (q["criterion"] == c).any():
            ws = wb[CRITERION_TITLES[c]]
            assert [x.value for x in ws[1]] == ["question_id", "question", "child_specific",
                                              "answer", "evidence"]
            ids = [r[0].value for r in ws.iter_rows(min_row=2)]
            assert ids == q.loc[q["criterion"] == c, "question_id"].tolist()
            n_rows += len(ids)
            dvs = ws.data_validations.dataValidation
            assert len(dvs) == 1 and dvs[0].formula1 == '"yes,partly,no,not_applicable"'
            assert str(dvs[0].sqref) == f"D2:D{len(ids) + 1}"
    assert n_rows == len(q)
    assert is_template_workbook(path)


def test_round_trip_answers(tmp_path):
    path = write_template(tmp_path / "sa.xlsx", mechanism_id="acme_ogm")
    answers = planted_answers(1)
    fill(path, answers)
    got = read_workbook(path)
    assert list(got.columns) == ["mechanism_id", "question_id", "answer", "evidence"]
    assert set(got["mechanism_id"]) == {"acme_ogm"}
    want = {k: (v[0].lower(), v[1]) for k, v in answers.items()}
    back = {r.question_id: (r.answer, None if pd.isna(r.evidence) else r.evidence)
            for r in got.itertuples()}
    assert back == want


def test_bad_answer_names_cell(tmp_path):
    q = read_questions()
    path = write_template(tmp_path / "sa.xlsx", mechanism_id="m1")
    first = q.iloc[0]
    fill(path, {first["question_id"]: ("maybe", None)})
    with pytest.raises(InputError, match=rf"sheet '{CRITERION_TITLES[first['criterion']]}', "
                                         r"cell D2: answer 'maybe'"):
        read_workbook(path)


def test_mechanism_id_required(tmp_path):
    path = write_template(tmp_path / "sa.xlsx")
    with pytest.raises(InputError, match="mechanism id"):
        read_workbook(path)
    assert set(read_workbook(path, mechanism_id="x1")["mechanism_id"]) <= {"x1"}


def test_plain_workbook_not_detected(tmp_path):
    p = tmp_path / "self_assessment.xlsx"
    pd.DataFrame({"mechanism_id": ["m"], "question_id": ["SA01"], "answer": ["yes"]}).to_excel(
        p, index=False)
    assert not is_template_workbook(p)
    assert not is_template_workbook(tmp_path / "missing.xlsx")


def test_mechanism_details(tmp_path):
    path = write_template(tmp_path / "sa.xlsx")
    fill(path, {}, MECH)
    got = read_workbook_mechanism(path).iloc[0].to_dict()
    assert got == MECH
    path2 = write_template(tmp_path / "sa2.xlsx", mechanism_id="only_id")
    with pytest.raises(InputError, match="company_id"):
        read_workbook_mechanism(path2)


def _expected_scores(answers: dict[str, tuple[str, str | None]]) -> pd.Series:
    """Weighted share yes (partly 0.5) of applicable answers per criterion, by hand."""
    q = read_questions().set_index("question_id")
    credit = {"yes": 1.0, "partly": 0.5, "no": 0.0}
    num: dict[str, float] = {}
    den: dict[str, float] = {}
    for qid, (a, _) in answers.items():
        a = a.lower()
        if a == "not_applicable":
            continue
        c, w = q.loc[qid, "criterion"], float(q.loc[qid, "weight"])
        num[c] = num.get(c, 0.0) + w * credit[a]
        den[c] = den.get(c, 0.0) + w
    return pd.Series({f"{c}.self_assessment": num[c] / den[c] for c in den})


def test_workbook_only_company_gets_scores(tmp_path):
    """A data dir with the workbook (and mechanisms.csv written from it) loads and scores."""
    import gm_eval

    indicators = pytest.importorskip("gm_eval.indicators")
    data = tmp_path / "data"
    data.mkdir()
    path = write_template(data / "self_assessment.xlsx")
    answers = planted_answers(7)
    fill(path, answers, MECH)
    read_workbook_mechanism(path).to_csv(data / "mechanisms.csv", index=False)
    ev = gm_eval.load(data)
    assert len(ev["self_assessment"]) == len(answers)
    ids = [i for i in indicators.registry() if i.endswith(".self_assessment")]
    ind = indicators.compute_indicators(ev, indicator_ids=ids)
    got = ind.dropna(subset=["value"]).set_index("indicator_id")["value"].sort_index()
    want = _expected_scores(answers).sort_index()
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got.to_numpy(dtype=float), want.to_numpy(), rtol=1e-12)
