"""Survey-scale reliability. Work in progress: signature published first."""

from __future__ import annotations

import pandas as pd

from gm_eval.evidence import Evidence

__all__ = ["survey_quality"]


def survey_quality(evidence: Evidence, ci: float = 0.95) -> pd.DataFrame:
    """results-format ``survey_quality`` table."""
    raise NotImplementedError
