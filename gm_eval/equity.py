"""Disaggregation and equity tests. Work in progress: signatures published first."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gm_eval.evidence import Evidence

__all__ = ["DIMENSIONS", "disaggregate", "equity_tests", "age_band"]

DIMENSIONS: tuple[str, ...] = ("gender", "age_band", "migrant", "channel", "site")


def age_band(age) -> pd.Series:
    """Age bands ``under_15, 15_17, 18_plus, unknown``."""
    raise NotImplementedError


def disaggregate(evidence: Evidence, dimensions: Sequence[str] = DIMENSIONS, min_n: int = 30
                 ) -> pd.DataFrame:
    """results-format ``disaggregation`` table."""
    raise NotImplementedError


def equity_tests(evidence: Evidence, alpha: float = 0.05, min_group_n: int = 5) -> pd.DataFrame:
    """results-format ``equity_tests`` table."""
    raise NotImplementedError
