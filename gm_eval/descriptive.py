"""Descriptive tables. Work in progress: signatures published first."""

from __future__ import annotations

import pandas as pd

from gm_eval.evidence import Evidence

__all__ = ["case_volume", "survey_items", "clms_funnel", "self_assessment_answers"]


def case_volume(evidence: Evidence) -> pd.DataFrame:
    """results-format ``case_volume``."""
    raise NotImplementedError


def survey_items(evidence: Evidence) -> pd.DataFrame:
    """results-format ``survey_items``."""
    raise NotImplementedError


def clms_funnel(evidence: Evidence) -> pd.DataFrame:
    """results-format ``clms_funnel``."""
    raise NotImplementedError


def self_assessment_answers(evidence: Evidence, questions_df: pd.DataFrame | None = None
                            ) -> pd.DataFrame:
    """results-format ``self_assessment``."""
    raise NotImplementedError
