"""Indicators computed from the worker and child voice surveys."""

from __future__ import annotations

import pandas as pd

from gm_eval.indicators.base import Context, computes, flag, share
from gm_eval.indicators.cases import col, parity

__all__: list[str] = []


def _ws(ctx: Context):
    return ctx.table("worker_survey")


def _cs(ctx: Context):
    return ctx.table("child_survey")


def _likert_share(ctx: Context, item: str):
    w = _ws(ctx)
    x = col(w, item)
    return share(w["mechanism_id"], x >= 4, x.notna())


def _yes_share(df: pd.DataFrame, item: str):
    x = col(df, item)
    if x.dtype == "boolean" or x.dtype == bool:
        return share(df["mechanism_id"], x, x.notna())
    return share(df["mechanism_id"], x == "yes", x.notna())


@computes("legitimate.trust_rate")
def trust_rate(ctx: Context):
    return _likert_share(ctx, "trust")


@computes("legitimate.independence_rate")
def independence_rate(ctx: Context):
    return _likert_share(ctx, "independent")


@computes("legitimate.user_satisfaction_rate")
def user_satisfaction_rate(ctx: Context):
    w = _ws(ctx)
    s = col(w, "satisfied")
    used = flag(col(w, "used"))
    return share(w["mechanism_id"], s >= 4, used & s.notna().to_numpy())


@computes("accessible.awareness_rate")
def awareness_rate(ctx: Context):
    return _yes_share(_ws(ctx), "aware")


@computes("accessible.knows_how_rate")
def knows_how_rate(ctx: Context):
    return _yes_share(_ws(ctx), "knows_how")


@computes("accessible.fear_of_retaliation_rate")
def fear_of_retaliation_rate(ctx: Context):
    return _likert_share(ctx, "fear_retaliation")


@computes("accessible.migrant_use_ratio")
def migrant_use_ratio(ctx: Context):
    w = _ws(ctx)
    mig = col(w, "migrant")
    used = col(w, "used")
    known = (mig.notna() & used.notna()).to_numpy()
    m = share(w["mechanism_id"], used, known & flag(mig))
    o = share(w["mechanism_id"], used, known & ~flag(mig))
    both = m.merge(o, left_index=True, right_index=True, how="left", suffixes=("_m", "_o"))
    both = both[(both["n_m"] > 0) & (both["n_o"] > 0) & (both["value_o"] > 0)]
    return pd.DataFrame({"value": both["value_m"] / both["value_o"], "n": both["n_m"] + both["n_o"]})


@computes("equitable.informed_parity_migrant")
def informed_parity_migrant(ctx: Context):
    w = _ws(ctx)
    inf = col(w, "informed_outcome")
    mig = col(w, "migrant")
    group = mig.map({True: "migrant", False: "non_migrant"})
    elig = flag(col(w, "used")) & inf.notna().to_numpy()
    return parity(w["mechanism_id"], group, inf, elig)


@computes("transparent.survey_informed_rate")
def survey_informed_rate(ctx: Context):
    return _yes_share(_ws(ctx), "informed_outcome")


@computes("engagement_dialogue.consultation_rate")
def consultation_rate(ctx: Context):
    return _yes_share(_ws(ctx), "consulted")


@computes("accessible.child_awareness_rate")
def child_awareness_rate(ctx: Context):
    return _yes_share(_cs(ctx), "knows_where_to_tell")


@computes("transparent.child_told_what_happened_rate")
def child_told_what_happened_rate(ctx: Context):
    return _yes_share(_cs(ctx), "told_what_happened")


@computes("engagement_dialogue.child_listened_to_rate")
def child_listened_to_rate(ctx: Context):
    return _yes_share(_cs(ctx), "listened_to")
