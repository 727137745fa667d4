"""Indicators computed from child labour monitoring systems (``clms_children``, ``clms_followups``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.indicators.base import Context, computes, days_between, km_summary, share
from gm_eval.indicators.cases import col, supplied

__all__ = ["FOLLOWUP_WINDOW_DAYS", "latest_followup"]

#: "Within 6 months" of identification.
FOLLOWUP_WINDOW_DAYS = 183


def _children(ctx: Context):
    return ctx.table("clms_children")


def latest_followup(children: pd.DataFrame, followups: pd.DataFrame) -> pd.DataFrame:
    """The latest follow-up visit of each identified child.

    Returns
    -------
    DataFrame
        ``mechanism_id, child_id, visit_date, in_child_labour`` for children of
        ``children`` with at least one visit.
    """
    f = followups.sort_values("visit_date", kind="stable")
    last = f.drop_duplicates(["mechanism_id", "child_id"], keep="last")
    keys = children[["mechanism_id", "child_id"]]
    return last.merge(keys, on=["mechanism_id", "child_id"], how="inner")


@computes("rights_compatible.clms_remediation_rate")
def clms_remediation_rate(ctx: Context):
    ch = _children(ctx)
    if not supplied(ch, "remediation_started_at"):
        return None
    return share(ch["mechanism_id"], col(ch, "remediation_started_at").notna())


@computes("rights_compatible.clms_exit_rate")
def clms_exit_rate(ctx: Context):
    ch = _children(ctx)
    fu = ctx.table("clms_followups")
    if fu is None or not supplied(fu, "in_child_labour"):
        return None
    last = latest_followup(ch, fu)
    out_of = (col(last, "in_child_labour") == False).fillna(False)  # noqa: E712
    return share(last["mechanism_id"], out_of)


@computes("rights_compatible.clms_followup_within_6m_rate")
def clms_followup_within_6m_rate(ctx: Context):
    ch = _children(ctx)
    fu = ctx.table("clms_followups")
    if fu is None:
        return None
    ident = pd.to_datetime(ch["identified_at"])
    eligible = ident <= ctx.as_of - pd.Timedelta(days=FOLLOWUP_WINDOW_DAYS)
    v = fu[["mechanism_id", "child_id", "visit_date"]].merge(
        ch[["mechanism_id", "child_id", "identified_at"]], on=["mechanism_id", "child_id"]
    )
    gap = days_between(v["identified_at"], v["visit_date"])
    ok = v.loc[(gap >= 0) & (gap <= FOLLOWUP_WINDOW_DAYS), ["mechanism_id", "child_id"]]
    ok = ok.drop_duplicates()
    key = pd.MultiIndex.from_frame(ch[["mechanism_id", "child_id"]])
    hit = key.isin(pd.MultiIndex.from_frame(ok)) if len(ok) else np.zeros(len(ch), dtype=bool)
    return share(ch["mechanism_id"], hit, eligible)


@computes("predictable.clms_median_days_to_remediation")
def clms_median_days_to_remediation(ctx: Context):
    ch = _children(ctx)
    if not supplied(ch, "remediation_started_at"):
        return None
    start = pd.to_datetime(ch["identified_at"])
    end = pd.to_datetime(col(ch, "remediation_started_at"))
    event = (end.notna() & (end <= ctx.as_of)).to_numpy()
    stop = end.where(event, ctx.as_of)
    km = km_summary(ch["mechanism_id"], days_between(start, stop), event)
    return pd.DataFrame({"value": km["median"], "n": km["n"]})
