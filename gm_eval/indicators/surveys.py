"""Indicators computed from the worker and child voice surveys."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.indicators.base import Context, computes, share
from gm_eval.indicators.cases import _parity

__all__: list[str] = []

_WS, _CS = "worker_survey", "child_survey"


def _likert_share(ctx: Context, item: str):
    return share(ctx.groups(_WS), ctx.at_least(_WS, item, 4), ctx.notna(_WS, item))


def _yes_share(ctx: Context, name: str, item: str):
    x = ctx.column(name, item)
    if x.dtype == "boolean" or x.dtype == bool:
        yes = ctx.flag(name, item)
    else:
        yes = ctx.equals(name, item, "yes")
    return share(ctx.groups(name), yes, ctx.notna(name, item))


@computes("legitimate.trust_rate")
def trust_rate(ctx: Context):
    return _likert_share(ctx, "trust")


@computes("legitimate.independence_rate")
def independence_rate(ctx: Context):
    return _likert_share(ctx, "independent")


@computes("legitimate.user_satisfaction_rate")
def user_satisfaction_rate(ctx: Context):
    satisfied = ctx.at_least(_WS, "satisfied", 4)
    return share(ctx.groups(_WS), satisfied, ctx.flag(_WS, "used") & ctx.notna(_WS, "satisfied"))


@computes("accessible.awareness_rate")
def awareness_rate(ctx: Context):
    return _yes_share(ctx, _WS, "aware")


@computes("accessible.knows_how_rate")
def knows_how_rate(ctx: Context):
    return _yes_share(ctx, _WS, "knows_how")


@computes("accessible.fear_of_retaliation_rate")
def fear_of_retaliation_rate(ctx: Context):
    return _likert_share(ctx, "fear_retaliation")


@computes("accessible.migrant_use_ratio")
def migrant_use_ratio(ctx: Context):
    g = ctx.groups(_WS)
    migrant = ctx.flag(_WS, "migrant")
    used = ctx.flag(_WS, "used")
    known = ctx.notna(_WS, "migrant") & ctx.notna(_WS, "used")
    m = share(g, used, known & migrant)
    o = share(g, used, known & ~migrant)
    both = m.merge(o, left_index=True, right_index=True, how="left", suffixes=("_m", "_o"))
    both = both[(both["n_m"] > 0) & (both["n_o"] > 0) & (both["value_o"] > 0)]
    return pd.DataFrame({"value": both["value_m"] / both["value_o"], "n": both["n_m"] + both["n_o"]})


def _migrant_groups(ctx: Context) -> tuple[np.ndarray, int]:
    """Group codes of ``migrant``: True 0 (migrant), False 1 (non_migrant), else -1."""
    mig = ctx.column(_WS, "migrant")
    if isinstance(mig.dtype, pd.BooleanDtype) or mig.dtype == bool:
        known = ctx.notna(_WS, "migrant")
        return np.where(known, np.where(ctx.flag(_WS, "migrant"), 0, 1), -1), 2
    group = mig.map({True: "migrant", False: "non_migrant"})
    codes, uniq = pd.factorize(np.asarray(group, dtype=object))
    return codes, len(uniq)


@computes("equitable.informed_parity_migrant")
def informed_parity_migrant(ctx: Context):
    elig = ctx.flag(_WS, "used") & ctx.notna(_WS, "informed_outcome")
    return _parity(ctx.groups(_WS), *_migrant_groups(ctx), ctx.flag(_WS, "informed_outcome"), elig)


@computes("transparent.survey_informed_rate")
def survey_informed_rate(ctx: Context):
    return _yes_share(ctx, _WS, "informed_outcome")


@computes("engagement_dialogue.consultation_rate")
def consultation_rate(ctx: Context):
    return _yes_share(ctx, _WS, "consulted")


@computes("accessible.child_awareness_rate")
def child_awareness_rate(ctx: Context):
    return _yes_share(ctx, _CS, "knows_where_to_tell")


@computes("transparent.child_told_what_happened_rate")
def child_told_what_happened_rate(ctx: Context):
    return _yes_share(ctx, _CS, "told_what_happened")


@computes("engagement_dialogue.child_listened_to_rate")
def child_listened_to_rate(ctx: Context):
    return _yes_share(ctx, _CS, "listened_to")
