"""Indicators computed from child labour monitoring systems (``clms_children``, ``clms_followups``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.indicators.base import Context, computes, days_between, km_summary, share

__all__ = ["FOLLOWUP_WINDOW_DAYS", "latest_followup", "latest_rows"]

#: "Within 6 months" of identification.
FOLLOWUP_WINDOW_DAYS = 183

_CH, _FU = "clms_children", "clms_followups"


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


def latest_rows(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The row of each distinct key with the largest value (the last such row on ties).

    The rows a stable sort by ``(key, value)`` puts last in each key
    (``np.lexsort((values, keys))``), found with one stable sort by key only
    (nothing to do when the rows are grouped by key already) and a maximum per key.

    Parameters
    ----------
    keys : ndarray of int
        Key of each row.
    values : ndarray of int64
        Value of each row.

    Returns
    -------
    ndarray of int64
        One row position per distinct key, in increasing key order.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")  # rows in order within each key
    k, v = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    top = np.repeat(np.maximum.reduceat(v, starts), np.diff(np.append(starts, len(k))))
    at = np.flatnonzero(v == top)  # the rows with their key's largest value
    kept = at[np.r_[k[at][1:] != k[at][:-1], True]]  # the last of them in each key
    return order[kept].astype(np.int64)


def _child_keys(ctx: Context) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """(mechanism, child) of every child and every visit as integers in one code space.

    Returns the children's keys, the visits' keys and the visits' mechanism labels
    (the key is ``mechanism position in those labels * children + child code``).
    """

    def build():
        fc, f_labels = ctx.groups(_FU)
        cc, c_labels = ctx.groups(_CH)
        # children's mechanisms as positions among the visits' labels (-1: no visit there)
        cc = np.append(f_labels.get_indexer(c_labels), -1).astype(np.int64)[cc]
        ids = pd.concat([ctx.evidence.tables[_CH]["child_id"], ctx.evidence.tables[_FU]["child_id"]],
                        ignore_index=True)
        child, uniq = pd.factorize(ids, use_na_sentinel=False)  # a missing id matches a missing id
        k = max(len(uniq), 1)
        n_ch = len(cc)
        ch_key = np.where(cc >= 0, cc * k + child[:n_ch], -1)
        return ch_key, fc * k + child[n_ch:], f_labels

    return ctx.derived("clms.keys", build)


@computes("rights_compatible.clms_remediation_rate")
def clms_remediation_rate(ctx: Context):
    if not ctx.supplied(_CH, "remediation_started_at"):
        return None
    return share(ctx.groups(_CH), ctx.notna(_CH, "remediation_started_at"))


@computes("rights_compatible.clms_exit_rate")
def clms_exit_rate(ctx: Context):
    if not ctx.evidence.has(_FU) or not ctx.supplied(_FU, "in_child_labour"):
        return None
    ch_key, fu_key, f_labels = _child_keys(ctx)
    # the latest visit of each (mechanism, child): visit date, then row order (a stable sort)
    v, v_na = ctx.nanoseconds(_FU, "visit_date")
    last = latest_rows(fu_key, np.where(v_na, np.iinfo(np.int64).max, v))  # a missing date sorts last
    # each latest visit counts once per child row with its key (an inner merge)
    ch_sorted = np.sort(ch_key[ch_key >= 0])
    times = np.searchsorted(ch_sorted, fu_key[last], side="right") - np.searchsorted(
        ch_sorted, fu_key[last], side="left")
    out_of = ctx.is_false(_FU, "in_child_labour")[last]
    codes = ctx.groups(_FU)[0][last]
    n = np.bincount(codes, weights=times, minlength=len(f_labels)).astype(np.int64)
    k = np.bincount(codes, weights=times * out_of, minlength=len(f_labels)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    res = pd.DataFrame({"successes": k, "n": n, "value": value}, index=f_labels)
    return res[n > 0]


@computes("rights_compatible.clms_followup_within_6m_rate")
def clms_followup_within_6m_rate(ctx: Context):
    if not ctx.evidence.has(_FU):
        return None
    from gm_eval.stats import _DAY_NS

    ident = ctx.nanoseconds(_CH, "identified_at")
    eligible = ~ident[1] & (ident[0] <= ctx.as_of_ns - FOLLOWUP_WINDOW_DAYS * _DAY_NS)
    ch_key, fu_key, _ = _child_keys(ctx)
    valid = ch_key >= 0
    children = pd.Index(ch_key[valid])
    if not children.is_unique:  # a child listed twice: the merge itself
        return _followup_by_merge(ctx, eligible)
    # each visit's child (unique keys): the gap from that child's identification
    row = children.get_indexer(fu_key)
    rows = np.flatnonzero(valid)
    matched = row >= 0
    child = rows[row[matched]]
    v = ctx.nanoseconds(_FU, "visit_date")
    gap = days_between((ident[0][child], ident[1][child]), (v[0][matched], v[1][matched]))
    hit = np.zeros(len(ch_key), dtype=bool)
    hit[child[(gap >= 0) & (gap <= FOLLOWUP_WINDOW_DAYS)]] = True
    return share(ctx.groups(_CH), hit, eligible)


def _followup_by_merge(ctx: Context, eligible: np.ndarray):
    """``clms_followup_within_6m_rate`` by merging every visit with every child row of its key."""
    ch = ctx.table(_CH)
    fu = ctx.table(_FU)
    v = fu[["mechanism_id", "child_id", "visit_date"]].merge(
        ch[["mechanism_id", "child_id", "identified_at"]], on=["mechanism_id", "child_id"]
    )
    gap = days_between(v["identified_at"], v["visit_date"])
    ok = v.loc[(gap >= 0) & (gap <= FOLLOWUP_WINDOW_DAYS), ["mechanism_id", "child_id"]]
    ok = ok.drop_duplicates()
    key = pd.MultiIndex.from_frame(ch[["mechanism_id", "child_id"]])
    hit = key.isin(pd.MultiIndex.from_frame(ok)) if len(ok) else np.zeros(len(ch), dtype=bool)
    return share(ctx.groups(_CH), hit, eligible)


@computes("predictable.clms_median_days_to_remediation")
def clms_median_days_to_remediation(ctx: Context):
    if not ctx.supplied(_CH, "remediation_started_at"):
        return None
    s = ctx.nanoseconds(_CH, "identified_at")
    e, e_na = ctx.nanoseconds(_CH, "remediation_started_at")
    event = ~e_na & (e <= ctx.as_of_ns)
    stop = np.where(event, e, ctx.as_of_ns)
    dur = days_between(s, (stop, np.zeros(len(stop), dtype=bool)))
    km = km_summary(ctx.groups(_CH), dur, event)
    return pd.DataFrame({"value": km["median"], "n": km["n"]})
