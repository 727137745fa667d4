"""Indicators: the registry (declarations) and the group-wise computations.

Every indicator is declared once in ``gm_eval/data/indicators.yaml`` and
computed by one function registered with :func:`gm_eval.indicators.base.computes`.

Public API
----------
registry, indicator, references, catalogue, Indicator
    The declarations.
compute_indicators
    The ``indicators`` table for every mechanism at once.
questions
    The self-assessment question catalogue.
"""

from __future__ import annotations

# Importing the computation modules registers their functions.
from gm_eval.indicators import cases, clms, self_assessment, surveys  # noqa: F401
from gm_eval.indicators.engine import INDICATOR_COLUMNS, compute_indicators
from gm_eval.indicators.registry import (
    Indicator,
    catalogue,
    indicator,
    references,
    registry,
)
from gm_eval.indicators.self_assessment import questions, self_assessment_scores

__all__ = [
    "INDICATOR_COLUMNS",
    "Indicator",
    "catalogue",
    "compute_indicators",
    "indicator",
    "questions",
    "references",
    "registry",
    "self_assessment_scores",
]
