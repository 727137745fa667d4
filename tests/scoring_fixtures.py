"""Hand-made evidence for the scoring tests (helpers, not tests).

Two mechanisms, as_of 2024-12-31:
M1  ogm, target_ack_days 3, target_close_days 10: six cases, a workforce,
    five worker-survey and five child-survey respondents, four self-assessment answers.
M2  clms, default targets: four identified children with follow-ups, no cases.
Every expected value in the tests is worked out by hand from these rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.evidence import Evidence

AS_OF = pd.Timestamp("2024-12-31")
NA = None


def dates(values):
    return pd.to_datetime(pd.Series(values, dtype="object"))


def ints(values):
    return pd.array(values, dtype="Int64")


def bools(values):
    return pd.array(values, dtype="boolean")


def objs(values):
    return pd.Series(values, dtype="object")


def mechanisms() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mechanism_id": objs(["M1", "M2"]),
            "company_id": objs(["C1", "C2"]),
            "name": objs(["Mill grievance line", "Cocoa CLMS"]),
            "sector": objs(["garments", "agriculture"]),
            "country": objs(["BD", "CI"]),
            "mechanism_type": objs(["ogm", "clms"]),
            "target_ack_days": ints([3, NA]),
            "target_close_days": ints([10, NA]),
        }
    )


def cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": objs(["c1", "c2", "c3", "c4", "c5", "c6"]),
            "mechanism_id": objs(["M1"] * 6),
            "site_id": objs(["S1", "S1", "S2", "S1", "S2", "S1"]),
            "received_at": dates(["2024-01-01", "2024-03-01", "2024-06-01", "2024-12-30",
                                  "2024-02-01", "2024-04-01"]),
            "acknowledged_at": dates(["2024-01-02", "2024-03-10", NA, NA, "2024-02-04",
                                      "2024-04-02"]),
            "closed_at": dates(["2024-01-05", "2024-03-21", NA, NA, "2024-02-11", "2024-04-06"]),
            "status": objs(["closed", "closed", "open", "open", "closed", "closed"]),
            "channel": objs(["hotline", "in_person", "hotline", "hotline", "sms_chat", "in_person"]),
            "complainant_type": objs(["worker", "worker", "child", "worker", "worker", "worker"]),
            "age": ints([30, 16, 14, NA, 17, 40]),
            "gender": objs(["female", "male", "female", "unknown", "female", "male"]),
            "anonymous": bools([False, False, True, NA, False, True]),
            "category": objs(["wages_benefits", "wages_benefits", "child_labour", "wages_benefits",
                              "child_labour", "health_safety"]),
            "outcome": objs(["remedied", "no_remedy", NA, NA, "partially_remedied",
                             "not_substantiated"]),
            "complainant_informed": bools([True, False, NA, NA, True, True]),
            "satisfaction": ints([5, 2, NA, NA, 4, NA]),
            "advice_provided": bools([True, False, NA, NA, NA, True]),
            "resolved_by_dialogue": bools([True, False, NA, NA, True, NA]),
            "appealed": bools([False, True, NA, NA, NA, False]),
            "referred_to": objs(["none", "none", "child_protection", NA, "none", "none"]),
            "referred_at": dates([NA, NA, "2024-06-03", NA, NA, NA]),
            "retaliation_reported": bools([False, True, NA, NA, NA, False]),
            "root_cause_recorded": bools([True, False, NA, NA, NA, True]),
        }
    )


def workforce() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mechanism_id": objs(["M1", "M1"]),
            "site_id": objs(["S1", "S2"]),
            "headcount": ints([100, 100]),
            "female": ints([60, 40]),
            "aged_15_17": ints([5, 15]),
            "migrant": ints([10, 30]),
        }
    )


def worker_survey() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent_id": objs([f"w{i}" for i in range(1, 6)]),
            "mechanism_id": objs(["M1"] * 5),
            "survey_date": dates(["2024-11-01"] * 5),
            "age": ints([25, 30, 35, 40, 45]),
            "gender": objs(["female", "male", "female", "male", "female"]),
            "migrant": bools([True, False, True, False, NA]),
            "aware": bools([True, True, False, NA, True]),
            "knows_how": bools([True, False, False, NA, True]),
            "trust": ints([5, 4, 3, NA, 1]),
            "independent": ints([2, 4, 3, 3, NA]),
            "fear_retaliation": ints([4, 5, 1, 2, NA]),
            "would_use": ints([4, 4, 2, 3, 5]),
            "used": bools([True, False, False, False, True]),
            "informed_outcome": bools([True, NA, NA, NA, False]),
            "satisfied": ints([4, NA, NA, NA, 2]),
            "consulted": bools([True, False, False, False, NA]),
        }
    )


def child_survey() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent_id": objs([f"k{i}" for i in range(1, 6)]),
            "mechanism_id": objs(["M1"] * 5),
            "survey_date": dates(["2024-11-01"] * 5),
            "age": ints([12, 13, 14, 15, 16]),
            "gender": objs(["female", "male", "female", "male", "female"]),
            "in_school": bools([True, True, False, True, True]),
            "working": bools([True, True, True, False, True]),
            "knows_where_to_tell": objs(["yes", "no", "not_sure", NA, "yes"]),
            "has_trusted_adult": objs(["yes", "yes", "no", "yes", "yes"]),
            "safe_to_tell": objs(["yes", "no", "no", "yes", "yes"]),
            "listened_to": objs(["yes", NA, "not_sure", NA, "no"]),
            "told_what_happened": objs(["not_sure", NA, "yes", NA, NA]),
        }
    )


def clms_children() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "child_id": objs(["ch1", "ch2", "ch3", "ch4"]),
            "mechanism_id": objs(["M2"] * 4),
            "identified_at": dates(["2024-01-01", "2024-02-01", "2024-03-01", "2024-11-01"]),
            "age": ints([12, 13, 14, 15]),
            "gender": objs(["female", "male", "female", "male"]),
            "hazardous_work": bools([True, False, True, False]),
            "in_school": bools([False, False, True, False]),
            "referred_at": dates(["2024-01-10", NA, "2024-03-05", NA]),
            "remediation_started_at": dates(["2024-01-31", NA, "2024-05-30", NA]),
            "remediation_types": objs(["school_kit", NA, "income_support", NA]),
            "closed_at": dates([NA, NA, NA, NA]),
        }
    )


def clms_followups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "child_id": objs(["ch1", "ch1", "ch2", "ch3"]),
            "mechanism_id": objs(["M2"] * 4),
            "visit_date": dates(["2024-04-01", "2024-07-01", "2024-05-01", "2024-12-01"]),
            "in_child_labour": bools([True, False, True, False]),
            "in_hazardous_work": bools([True, False, False, False]),
            "attending_school": bools([False, True, False, True]),
        }
    )


def self_assessment() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mechanism_id": objs(["M1"] * 4),
            "question_id": objs(["SA01", "SA02", "SA03", "SA04"]),
            "answer": objs(["yes", "partly", "no", "not_applicable"]),
            "evidence_provided": bools([True, False, False, False]),
        }
    )


ALL = {
    "mechanisms": mechanisms,
    "cases": cases,
    "workforce": workforce,
    "worker_survey": worker_survey,
    "child_survey": child_survey,
    "clms_children": clms_children,
    "clms_followups": clms_followups,
    "self_assessment": self_assessment,
}


def evidence(*names: str, as_of=AS_OF, **replace) -> Evidence:
    """Evidence with the named tables (default: all), optionally replacing some."""
    names = names or tuple(ALL)
    tables = {n: ALL[n]() for n in ("mechanisms", *names)}
    tables.update(replace)
    return Evidence(tables=tables, as_of=pd.Timestamp(as_of))


def row(ind: pd.DataFrame, mechanism_id: str, indicator_id: str) -> pd.Series:
    """The single indicators-table row of one mechanism and indicator."""
    hit = ind[(ind["mechanism_id"] == mechanism_id) & (ind["indicator_id"] == indicator_id)]
    assert len(hit) == 1, (mechanism_id, indicator_id, len(hit))
    return hit.iloc[0]


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Closed-form Wilson interval (independent of gm_eval and statsmodels)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half
