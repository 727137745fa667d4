"""Descriptive tables: case volume, survey answers, CLMS funnel, self-assessment answers.

Counts here are raw. The publication step (:mod:`gm_eval.publish`) suppresses
counts below ``k`` and their complements; so that it can, every table has a
``flags`` column (empty here) and the cells of one partition add up to its
total: missing labels are counted as ``unknown`` in ``case_volume``, and
``survey_items`` shares are taken over the answered responses of each item.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.evidence import Evidence
from gm_eval.stats import positions_in

__all__ = [
    "CASE_VOLUME_COLUMNS",
    "SURVEY_ITEMS_COLUMNS",
    "CLMS_FUNNEL_COLUMNS",
    "SELF_ASSESSMENT_COLUMNS",
    "SURVEY_ITEMS",
    "CLMS_STAGES",
    "case_volume",
    "survey_items",
    "clms_funnel",
    "self_assessment_answers",
]

CASE_VOLUME_COLUMNS = ["mechanism_id", "month", "dimension", "group", "cases", "flags"]
SURVEY_ITEMS_COLUMNS = ["mechanism_id", "survey", "item", "response", "count", "share", "flags"]
CLMS_FUNNEL_COLUMNS = ["mechanism_id", "stage", "count", "share_of_identified", "flags"]
SELF_ASSESSMENT_COLUMNS = ["mechanism_id", "question_id", "criterion", "question", "child_specific",
                           "answer", "evidence_provided"]

#: Items tabulated per survey (identifiers and demographics are not items).
SURVEY_ITEMS: dict[str, tuple[str, ...]] = {
    "worker_survey": ("aware", "knows_how", "trust", "independent", "fear_retaliation",
                      "would_use", "used", "informed_outcome", "satisfied", "consulted"),
    "child_survey": ("knows_where_to_tell", "has_trusted_adult", "safe_to_tell", "listened_to",
                     "told_what_happened"),
}
CLMS_STAGES = ("identified", "referred", "remediation_started", "followed_up", "out_of_child_labour")
UNKNOWN = "unknown"


def _mids(evidence: Evidence) -> pd.Index:
    return pd.Index(evidence.mechanisms["mechanism_id"]).astype(object)


def _take_text(labels: np.ndarray, idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``labels[idx]`` as pandas text (``str``): a take from the few labels, not a
    conversion of every row's Python string."""
    return pd.array(labels, dtype="str").take(idx)


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def case_volume(evidence: Evidence) -> pd.DataFrame:
    """Cases received per mechanism, month, and category or channel.

    Returns
    -------
    DataFrame
        ``mechanism_id, month, dimension, group, cases, flags``; ``month`` is
        ``YYYY-MM`` of ``received_at``, ``dimension`` is ``category`` or
        ``channel`` (missing channel counted as ``unknown``); only non-zero
        cells. For each mechanism, month and dimension the cells add up to the
        month's cases.

    Examples
    --------
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"]})
    >>> cases = pd.DataFrame({"mechanism_id": ["m"] * 3, "category": ["other", "other", "wages_benefits"],
    ...     "channel": ["hotline", None, "hotline"],
    ...     "received_at": pd.to_datetime(["2025-01-03", "2025-01-30", "2025-02-01"])})
    >>> out = case_volume(Evidence({"mechanisms": mech, "cases": cases}, pd.Timestamp("2025-03-01")))
    >>> out[out["dimension"] == "channel"][["month", "group", "cases"]].values.tolist()
    [['2025-01', 'hotline', 1], ['2025-01', 'unknown', 1], ['2025-02', 'hotline', 1]]
    """
    cases = evidence.get("cases")
    if cases is None or len(cases) == 0:
        return _empty(CASE_VOLUME_COLUMNS)
    mids = _mids(evidence)
    mcode = positions_in(cases["mechanism_id"], mids)
    rec = pd.to_datetime(cases["received_at"])
    ym = (rec.dt.year * 12 + rec.dt.month - 1).to_numpy(dtype=float, na_value=np.nan)
    ok = (mcode >= 0) & np.isfinite(ym)
    ymin = int(np.nanmin(ym[ok])) if ok.any() else 0
    mcount = int(np.nanmax(ym[ok])) - ymin + 1 if ok.any() else 1
    month_labels = np.array([f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(ymin, ymin + mcount)],
                            dtype=object)
    parts, all_labels, dims = [], [], []
    for dim in ("category", "channel"):
        if dim not in cases.columns:
            continue
        g, labels = evidence.factorized("cases", dim)  # codes cached at load for enums
        labels = np.array([str(x) for x in labels] + [UNKNOWN], dtype=object)
        g = np.where(g < 0, np.int64(len(labels) - 1), g)  # (codes may be int8: widened)
        lit = np.flatnonzero(labels[:-1] == UNKNOWN)
        if len(lit):
            g = np.where(g == lit[0], len(labels) - 1, g)
        ng = len(labels)
        key = (mcode[ok] * mcount + (ym[ok].astype(np.int64) - ymin)) * ng + g[ok]
        cnt = np.bincount(key)
        pos = np.flatnonzero(cnt)
        offset = sum(len(x) for x in all_labels)  # group codes index all dimensions' labels
        parts.append((pos // ng // mcount, np.full(len(pos), len(dims)), pos // ng % mcount,
                      pos % ng + offset, cnt[pos].astype("int64")))
        all_labels.append(labels)
        dims.append(dim)
    if not parts:
        return _empty(CASE_VOLUME_COLUMNS)
    m, d, month, group, count = (np.concatenate(x) for x in zip(*parts, strict=True))
    # mechanism (input order), dimension, month, group (alphabetical, unknown last);
    # every text column is taken once from its few labels, in the final order
    order = np.lexsort((np.arange(len(m)), d, m))
    return pd.DataFrame({
        "mechanism_id": _take_text(mids.to_numpy(), m[order]),
        "month": _take_text(month_labels, month[order]),
        "dimension": _take_text(np.array(dims, dtype=object), d[order]),
        "group": _take_text(np.concatenate(all_labels), group[order]),
        "cases": count[order],
        "flags": _take_text(np.array([""], dtype=object), np.zeros(len(m), dtype=np.intp)),
    })[CASE_VOLUME_COLUMNS]


def _responses(evidence: Evidence, table: str, item: str) -> tuple[np.ndarray, np.ndarray]:
    """Response code per row (-1 missing) and the response labels."""
    s = evidence[table][item]
    if pd.api.types.is_bool_dtype(s):
        # yes = 0, no = 1, missing = -1
        codes = 1 - s.to_numpy(dtype="int8", na_value=2).astype(np.int64)
        return codes, np.array(["yes", "no"], dtype=object)
    if pd.api.types.is_numeric_dtype(s):
        v = pd.to_numeric(s, errors="coerce").astype(float).to_numpy(na_value=np.nan)
        ok = np.isfinite(v)
        codes = np.full(len(v), -1, dtype=np.int64)
        w = v[ok]
        lo = w.min() if len(w) else 0.0
        if len(w) and np.array_equal(w, np.floor(w)) and w.max() - lo < 1000:
            # whole numbers in a small range (Likert items): distinct values by counting
            seen = np.flatnonzero(np.bincount((w - lo).astype(np.int64)))
            vals = seen + lo
            lookup = np.full(len(seen) and int(seen[-1]) + 1, -1, dtype=np.int64)
            lookup[seen] = np.arange(len(seen))
            codes[ok] = lookup[(w - lo).astype(np.int64)]
        else:
            vals = np.unique(w)
            codes[ok] = np.searchsorted(vals, w)
        return codes, np.array([str(int(x)) if float(x).is_integer() else str(x) for x in vals],
                               dtype=object)
    codes, uniq = evidence.factorized(table, item)
    return codes, np.array([str(u) for u in uniq], dtype=object)


def survey_items(evidence: Evidence) -> pd.DataFrame:
    """Answer counts and shares per mechanism, survey, item and response.

    Responses: ``yes``/``no`` for yes-no items, ``1``-``5`` for Likert items,
    ``yes``/``no``/``not_sure`` for the child survey. ``share`` is the count
    over the item's answered responses in that mechanism (blanks excluded).

    Returns
    -------
    DataFrame
        ``mechanism_id, survey, item, response, count, share, flags``.

    Examples
    --------
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"]})
    >>> ws = pd.DataFrame({"mechanism_id": ["m"] * 3,
    ...                    "aware": pd.array([True, True, None], dtype="boolean")})
    >>> out = survey_items(Evidence({"mechanisms": mech, "worker_survey": ws}, pd.Timestamp("2025-01-01")))
    >>> out[["item", "response", "count", "share"]].values.tolist()
    [['aware', 'yes', 2, 1.0]]
    """
    mids = _mids(evidence)
    parts = []
    for survey, items in SURVEY_ITEMS.items():
        df = evidence.get(survey)
        if df is None or len(df) == 0:
            continue
        mcode = positions_in(df["mechanism_id"], mids)
        known = bool((mcode >= 0).all())
        slots = np.empty_like(mcode)  # scratch: one key a row
        for item in items:
            if item not in df.columns:
                continue
            r, labels = _responses(evidence, survey, item)
            nr = max(len(labels), 1)
            # one bincount of (mechanism, response + 1): slot 0 of a mechanism counts its
            # blanks, dropped; rows of unknown mechanisms go to a last, dropped slot
            np.multiply(mcode, nr + 1, out=slots)
            slots += r
            slots += 1
            if not known:
                slots[mcode < 0] = len(mids) * (nr + 1)
            cnt = np.bincount(slots, minlength=len(mids) * (nr + 1) + 1)
            cnt = cnt[:len(mids) * (nr + 1)].reshape(len(mids), nr + 1)[:, 1:].ravel()
            if not cnt.any():
                continue
            pos = np.flatnonzero(cnt)
            tot = cnt.reshape(len(mids), nr).sum(axis=1)
            m = pos // nr
            parts.append(pd.DataFrame({
                "mechanism_id": mids.to_numpy()[m], "survey": survey, "item": item,
                "response": labels[pos % nr], "count": cnt[pos].astype("int64"),
                "share": cnt[pos] / tot[m],
            }))
    if not parts:
        return _empty(SURVEY_ITEMS_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["flags"] = ""
    return out[SURVEY_ITEMS_COLUMNS]


def clms_funnel(evidence: Evidence) -> pd.DataFrame:
    """Children at each stage of a child labour monitoring system.

    Stages: ``identified`` (every child), ``referred`` (``referred_at`` set),
    ``remediation_started`` (``remediation_started_at`` set), ``followed_up``
    (at least one visit in ``clms_followups``), ``out_of_child_labour`` (the
    latest visit found ``in_child_labour = false``). ``share_of_identified``
    divides by the identified count. Stages after ``identified`` are not
    nested: a child may be followed up without a recorded referral.

    Returns
    -------
    DataFrame
        ``mechanism_id, stage, count, share_of_identified, flags``: five rows
        per mechanism with CLMS children.

    Examples
    --------
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["clms"]})
    >>> ch = pd.DataFrame({"mechanism_id": ["m", "m"], "child_id": ["a", "b"],
    ...     "referred_at": pd.to_datetime(["2025-01-05", None]),
    ...     "remediation_started_at": pd.to_datetime([None, None])})
    >>> fu = pd.DataFrame({"mechanism_id": ["m", "m"], "child_id": ["a", "a"],
    ...     "visit_date": pd.to_datetime(["2025-03-01", "2025-06-01"]),
    ...     "in_child_labour": pd.array([True, False], dtype="boolean")})
    >>> out = clms_funnel(Evidence({"mechanisms": mech, "clms_children": ch, "clms_followups": fu},
    ...                            pd.Timestamp("2025-07-01")))
    >>> out["count"].tolist()
    [2, 1, 0, 1, 1]
    """
    ch = evidence.get("clms_children")
    if ch is None or len(ch) == 0:
        return _empty(CLMS_FUNNEL_COLUMNS)
    mids = _mids(evidence)
    nm = len(mids)
    mcode = positions_in(ch["mechanism_id"], mids)
    ok = mcode >= 0

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(mcode[ok & mask], minlength=nm)

    def notna(col: str) -> np.ndarray:
        return ch[col].notna().to_numpy() if col in ch.columns else np.zeros(len(ch), dtype=bool)

    ident = count(np.ones(len(ch), dtype=bool))
    referred = count(notna("referred_at"))
    remediated = count(notna("remediation_started_at"))
    followed = np.zeros(nm, dtype=np.int64)
    out_cl = np.zeros(nm, dtype=np.int64)
    fu = evidence.get("clms_followups")
    if fu is not None and len(fu) and "child_id" in ch.columns:
        f = fu[["mechanism_id", "child_id", "visit_date"]].copy()
        f["icl"] = fu["in_child_labour"].astype("boolean") if "in_child_labour" in fu else pd.NA
        f = f.sort_values(["mechanism_id", "child_id", "visit_date"], kind="mergesort")
        last = f.drop_duplicates(["mechanism_id", "child_id"], keep="last")
        known = ch.loc[ok, ["mechanism_id", "child_id"]].drop_duplicates()
        last = last.merge(known, on=["mechanism_id", "child_id"], how="inner")
        lm = positions_in(last["mechanism_id"], mids)
        followed = np.bincount(lm, minlength=nm)
        exit_ = (last["icl"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
        out_cl = np.bincount(lm[exit_], minlength=nm)
    has = np.flatnonzero(ident > 0)
    counts = np.column_stack([ident, referred, remediated, followed, out_cl])[has]
    out = pd.DataFrame({
        "mechanism_id": np.repeat(mids.to_numpy()[has], len(CLMS_STAGES)),
        "stage": np.tile(np.array(CLMS_STAGES, dtype=object), len(has)),
        "count": counts.ravel().astype("int64"),
        "share_of_identified": (counts / ident[has][:, None]).ravel(),
    })
    out["flags"] = ""
    return out[CLMS_FUNNEL_COLUMNS]


def self_assessment_answers(evidence: Evidence, questions_df: pd.DataFrame | None = None
                            ) -> pd.DataFrame:
    """Each mechanism's answer to every catalogue question.

    Parameters
    ----------
    evidence : Evidence
        Validated tables; ``self_assessment`` is read (``evidence`` text was
        reduced to ``evidence_provided`` when loading).
    questions_df : DataFrame, optional
        The question catalogue (``question_id, criterion, question,
        child_specific``); default the shipped one
        (:func:`gm_eval.indicators.self_assessment.questions`).

    Returns
    -------
    DataFrame
        ``mechanism_id, question_id, criterion, question, child_specific,
        answer, evidence_provided``: for every mechanism that answered at least
        one question, every catalogue question in catalogue order (``answer``
        empty when unanswered), then any answered question that is not in the
        catalogue (criterion and wording empty).

    Examples
    --------
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"]})
    >>> sa = pd.DataFrame({"mechanism_id": ["m"], "question_id": ["Q2"], "answer": ["yes"],
    ...                    "evidence_provided": pd.array([True], dtype="boolean")})
    >>> q = pd.DataFrame({"question_id": ["Q1", "Q2"], "criterion": ["legitimate", "accessible"],
    ...                   "question": ["First?", "Second?"], "child_specific": [False, True]})
    >>> out = self_assessment_answers(Evidence({"mechanisms": mech, "self_assessment": sa},
    ...                                        pd.Timestamp("2025-01-01")), q)
    >>> out[["question_id", "answer"]].fillna("").values.tolist()
    [['Q1', ''], ['Q2', 'yes']]
    """
    sa = evidence.get("self_assessment")
    if sa is None or len(sa) == 0:
        return _empty(SELF_ASSESSMENT_COLUMNS)
    if questions_df is None:
        from gm_eval.indicators.self_assessment import questions

        questions_df = questions()
    q = questions_df[["question_id", "criterion", "question", "child_specific"]].copy()
    q["question_id"] = q["question_id"].astype(object)
    q["_order"] = np.arange(len(q))
    a = sa[["mechanism_id", "question_id", "answer"]].copy()
    a["evidence_provided"] = sa["evidence_provided"].astype("boolean") \
        if "evidence_provided" in sa.columns else pd.array([pd.NA] * len(sa), dtype="boolean")
    a["mechanism_id"] = a["mechanism_id"].astype(object)
    a["question_id"] = a["question_id"].astype(object)
    mech_order = {m: i for i, m in enumerate(_mids(evidence))}
    answered = pd.Index(a["mechanism_id"].unique())
    grid = pd.MultiIndex.from_product([answered, q["question_id"]],
                                      names=["mechanism_id", "question_id"]).to_frame(index=False)
    grid = grid.merge(q, on="question_id", how="left")
    out = grid.merge(a, on=["mechanism_id", "question_id"], how="outer")
    out["_order"] = out["_order"].fillna(len(q))
    out["_m"] = out["mechanism_id"].map(mech_order).fillna(len(mech_order))
    out = out.sort_values(["_m", "mechanism_id", "_order", "question_id"], kind="mergesort")
    out["child_specific"] = out["child_specific"].astype("boolean")
    return out.reset_index(drop=True)[SELF_ASSESSMENT_COLUMNS]
