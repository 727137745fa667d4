"""Time to event: Kaplan-Meier per mechanism for every pair of stage dates.

Work in progress: signature published first; see :func:`intervals`.
"""

from __future__ import annotations

import pandas as pd

from gm_eval.evidence import Evidence

__all__ = ["INTERVALS", "intervals"]

#: interval name -> (table, start column, end column)
INTERVALS: dict[str, tuple[str, str, str]] = {
    "received_to_acknowledged": ("cases", "received_at", "acknowledged_at"),
    "received_to_closed": ("cases", "received_at", "closed_at"),
    "received_to_referred": ("cases", "received_at", "referred_at"),
    "received_to_assessed": ("cases", "received_at", "assessed_at"),
    "received_to_removed": ("cases", "received_at", "removed_at"),
    "identified_to_referred": ("clms_children", "identified_at", "referred_at"),
    "identified_to_remediation": ("clms_children", "identified_at", "remediation_started_at"),
}


def intervals(evidence: Evidence, alpha: float = 0.05, min_n: int = 30
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier curves and summaries for every mechanism and interval.

    Returns
    -------
    curves : DataFrame
        results-format ``time_to_event``.
    summary : DataFrame
        results-format ``time_to_event_summary``.
    """
    raise NotImplementedError
