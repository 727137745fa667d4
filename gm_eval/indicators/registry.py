"""The indicator registry: declarations read from ``gm_eval/data/indicators.yaml``.

Every indicator is declared once there. This module loads and checks the
declarations; the computations live in the sibling modules and are attached to
ids with :func:`computes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

from gm_eval.contract import CRITERIA, MECHANISM_TYPES, TABLES
from gm_eval.shipped import read_yaml

__all__ = [
    "EVIDENCE_KINDS",
    "UNITS",
    "DIRECTIONS",
    "Indicator",
    "registry",
    "references",
    "indicator",
    "catalogue",
]

EVIDENCE_KINDS = ("case_log", "worker_survey", "child_survey", "clms", "self_assessment", "workforce")
UNITS = ("rate", "ratio", "days", "score")
DIRECTIONS = ("higher_better", "lower_better")


@dataclass(frozen=True)
class Indicator:
    """One indicator declaration.

    Parameters
    ----------
    id : str
        ``criterion.name``.
    criterion : str
        One of :data:`gm_eval.contract.CRITERIA` (the id's prefix).
    label : str
        Short display label.
    sources : tuple of str
        Input tables read.
    evidence_kind : str
        One of :data:`EVIDENCE_KINDS`.
    definition : str
        Exact definition.
    unit : str
        One of :data:`UNITS`; ``rate`` gets a Wilson 95% interval.
    direction : str
        ``higher_better`` or ``lower_better``.
    target, floor : float
        Default values scored 100 and 0.
    weight : float
        Default weight within the criterion.
    references : tuple of str
        Reference keys (see :func:`references`).
    applies_to : tuple of str
        Mechanism types for which absent evidence is a gap (empty: all types).
    core : bool
        Declared in the data contract, section 2.
    """

    id: str
    criterion: str
    label: str
    sources: tuple[str, ...]
    evidence_kind: str
    definition: str
    unit: str
    direction: str
    target: float
    floor: float
    weight: float
    references: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ()
    core: bool = False

    @property
    def higher_better(self) -> bool:
        """Whether larger values are better."""
        return self.direction == "higher_better"


def _check(ind: Indicator, refs: dict[str, str]) -> None:
    problems = []
    if ind.criterion not in CRITERIA:
        problems.append(f"unknown criterion {ind.criterion!r}")
    if ind.evidence_kind not in EVIDENCE_KINDS:
        problems.append(f"unknown evidence_kind {ind.evidence_kind!r}")
    if ind.unit not in UNITS:
        problems.append(f"unknown unit {ind.unit!r}")
    if ind.direction not in DIRECTIONS:
        problems.append(f"unknown direction {ind.direction!r}")
    if ind.target == ind.floor:
        problems.append("target equals floor")
    elif (ind.target > ind.floor) != ind.higher_better:
        problems.append("target and floor contradict the direction")
    if ind.weight < 0:
        problems.append("negative weight")
    for s in ind.sources:
        if s not in TABLES:
            problems.append(f"unknown source table {s!r}")
    for r in ind.references:
        if r not in refs:
            problems.append(f"unknown reference {r!r}")
    for t in ind.applies_to:
        if t not in MECHANISM_TYPES:
            problems.append(f"unknown mechanism type {t!r}")
    if problems:
        raise ValueError(f"indicator {ind.id}: " + "; ".join(problems))


@cache
def _load() -> tuple[dict[str, Indicator], dict[str, str]]:
    doc = read_yaml("indicators.yaml")
    refs = dict(doc["references"])
    out: dict[str, Indicator] = {}
    for raw in doc["indicators"]:
        iid = raw["id"]
        if iid in out:
            raise ValueError(f"indicator {iid} declared twice")
        ind = Indicator(
            id=iid,
            criterion=iid.split(".", 1)[0],
            label=raw["label"],
            sources=tuple(raw["sources"]),
            evidence_kind=raw["evidence_kind"],
            definition=raw["definition"],
            unit=raw["unit"],
            direction=raw["direction"],
            target=float(raw["target"]),
            floor=float(raw["floor"]),
            weight=float(raw["weight"]),
            references=tuple(raw.get("references", ())),
            applies_to=tuple(raw.get("applies_to", ())),
            core=bool(raw.get("core", False)),
        )
        _check(ind, refs)
        out[iid] = ind
    return out, refs


def registry() -> dict[str, Indicator]:
    """Return every indicator declaration, keyed by id, in declaration order."""
    return dict(_load()[0])


def references() -> dict[str, str]:
    """Return the reference list: key to full citation."""
    return dict(_load()[1])


def indicator(indicator_id: str) -> Indicator:
    """Return the declaration of one indicator.

    Raises
    ------
    KeyError
        If the id is not declared.
    """
    try:
        return _load()[0][indicator_id]
    except KeyError:
        raise KeyError(f"unknown indicator {indicator_id!r}") from None


def catalogue() -> pd.DataFrame:
    """The registry as the ``indicator_catalogue`` results table.

    Returns
    -------
    DataFrame
        Columns ``indicator_id, criterion, label, definition, source, evidence_kind,
        unit, direction, target, floor, weight, references`` (default profile values;
        :func:`gm_eval.scoring.apply_profile_to_catalogue` substitutes a profile's).
        ``source`` and ``references`` are ``;``-joined.
    """
    refs = references()
    rows = [
        {
            "indicator_id": i.id,
            "criterion": i.criterion,
            "label": i.label,
            "definition": i.definition,
            "source": ";".join(i.sources),
            "evidence_kind": i.evidence_kind,
            "unit": i.unit,
            "direction": i.direction,
            "target": i.target,
            "floor": i.floor,
            "weight": i.weight,
            "references": "; ".join(refs[r] for r in i.references),
        }
        for i in registry().values()
    ]
    return pd.DataFrame(rows)
