"""Disaggregation and equity tests: does the mechanism work equally for everyone?

Two results tables (see ``docs/results-format.md``):

``disaggregation``
    Each rate indicator listed in :data:`RATE_SPECS` by group of each
    dimension: ``gender``, ``age_band`` (``under_15``, ``15_17``, ``18_plus``,
    ``unknown``), ``migrant`` (``migrant``, ``non_migrant``, ``unknown``),
    ``channel`` and ``site``. A dimension is used only where its table records
    it: cases have no migrant status, surveys no channel or site. Missing
    labels form the group ``unknown``. Wilson 95% intervals; ``small_n`` below
    ``min_n``.

``equity_tests``
    One test per mechanism, indicator and dimension, over the groups other
    than ``unknown`` that have at least ``min_group_n`` (default 5)
    observations:

    * binary outcomes: chi-square test of independence (groups × outcome),
      Yates-corrected for 2 × 2 as ``pingouin.chi2_independence``; effect size
      Cramér's V; ``small_n`` when an expected count is below 5;
    * Likert outcomes (``satisfaction``, ``trust``, ``fear_retaliation``; the
      indicator is the share answering 4-5 but the test uses the whole 1-5
      scale): Mann-Whitney U between two groups (effect size rank-biserial
      correlation, positive when the first group in alphabetical order rates
      higher), Kruskal-Wallis for three or more (epsilon-squared);
    * representation: the share of 15-17 year-olds among cases with a known
      age, and of women among cases with a known gender, against the
      workforce share (summed over the mechanism's workforce rows), by an
      exact two-sided binomial test; effect size the representation ratio.

    ``p_holm`` applies Holm's correction over all tests of a mechanism;
    ``significant`` is ``p_holm < alpha``. Fewer than two testable groups:
    flag ``small_n`` and no statistic.

All computations run over every mechanism at once on integer codes; the
statistics are the vectorised functions of :mod:`gm_eval.stats`, which are
tested against pingouin and scipy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gm_eval.evidence import Evidence
from gm_eval.stats import (
    DEFAULT_MIN_N,
    _chi2_cells,
    _distinct,
    _join_runs,
    _kruskal_stats,
    _mwu_stats,
    _rank_cells,
    _starts,
    binomtest_two_sided,
    holm_by_group,
    positions_in,
    wilson_interval,
)

__all__ = [
    "DIMENSIONS",
    "AGE_BANDS",
    "RATE_SPECS",
    "DISAGGREGATION_COLUMNS",
    "EQUITY_TEST_COLUMNS",
    "age_band",
    "disaggregate",
    "equity_tests",
    "equity_tables",
]

DIMENSIONS: tuple[str, ...] = ("gender", "age_band", "migrant", "channel", "site")
AGE_BANDS: tuple[str, ...] = ("under_15", "15_17", "18_plus", "unknown")
UNKNOWN = "unknown"

DISAGGREGATION_COLUMNS = ["mechanism_id", "indicator_id", "dimension", "group", "value",
                          "ci_low", "ci_high", "n", "flags"]
EQUITY_TEST_COLUMNS = ["mechanism_id", "indicator_id", "dimension", "test", "statistic",
                       "p_value", "p_holm", "effect_size", "effect_size_name", "significant",
                       "groups", "flags"]

#: dimensions recorded by each table
TABLE_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "cases": ("gender", "age_band", "channel", "site"),
    "worker_survey": ("gender", "age_band", "migrant"),
    "child_survey": ("gender", "age_band"),
}


@dataclass(frozen=True)
class RateSpec:
    """A rate indicator that can be disaggregated.

    Parameters
    ----------
    indicator_id : str
        Registry id (``gm_eval/data/indicators.yaml``).
    table : str
        Source table.
    definition : str
        Eligible rows and success, as in the registry.
    likert : str, optional
        1-5 column behind the rate: the equity test then compares the whole
        scale (Mann-Whitney / Kruskal-Wallis) instead of the binary rate.
    """

    indicator_id: str
    table: str
    definition: str
    likert: str | None = None


#: The rate indicators disaggregated, with their registry definitions.
RATE_SPECS: tuple[RateSpec, ...] = (
    RateSpec("rights_compatible.remedy_rate", "cases",
             "closed cases with outcome remedied, partially_remedied or no_remedy: "
             "share remedied or partially_remedied"),
    RateSpec("transparent.informed_rate", "cases",
             "cases with status closed and anonymous = false: share complainant_informed = true"),
    RateSpec("legitimate.satisfaction_rate", "cases",
             "cases with a rating: share with satisfaction >= 4", likert="satisfaction"),
    RateSpec("equitable.advice_rate", "cases",
             "cases with status closed: share advice_provided = true"),
    RateSpec("engagement_dialogue.dialogue_rate", "cases",
             "cases with status closed: share resolved_by_dialogue = true"),
    RateSpec("rights_compatible.retaliation_rate", "cases",
             "cases: share retaliation_reported = true"),
    RateSpec("legitimate.trust_rate", "worker_survey", "share with trust >= 4", likert="trust"),
    RateSpec("accessible.awareness_rate", "worker_survey", "share aware = yes"),
    RateSpec("accessible.knows_how_rate", "worker_survey", "share knows_how = yes"),
    RateSpec("accessible.fear_of_retaliation_rate", "worker_survey",
             "share fear_retaliation >= 4 (lower is better)", likert="fear_retaliation"),
    RateSpec("transparent.survey_informed_rate", "worker_survey", "share informed_outcome = yes"),
    RateSpec("engagement_dialogue.consultation_rate", "worker_survey", "share consulted = yes"),
    RateSpec("accessible.child_awareness_rate", "child_survey",
             "share knows_where_to_tell = yes (not_sure is not yes)"),
)

REPRESENTATION = {
    # indicator id: (dimension, group tested, workforce numerator column)
    "accessible.young_worker_representation_ratio": ("age_band", "15_17", "aged_15_17"),
    "accessible.female_representation_ratio": ("gender", "female", "female"),
}


# --------------------------------------------------------------------------- helpers
def age_band(age) -> pd.Series:
    """Age bands ``under_15`` (< 15), ``15_17``, ``18_plus``, ``unknown`` (missing).

    Examples
    --------
    >>> age_band(pd.Series([9, 15, 17, 18, None], dtype="Int64")).tolist()
    ['under_15', '15_17', '15_17', '18_plus', 'unknown']
    """
    a = pd.to_numeric(pd.Series(age), errors="coerce").astype(float).to_numpy()
    out = np.select([a < 15, a < 18, a >= 18], ["under_15", "15_17", "18_plus"], UNKNOWN)
    return pd.Series(out.astype(object), index=getattr(age, "index", None))


class _Table:
    """One input table's columns as arrays, each converted once.

    Object and Arrow string columns are factorized once (``codes``) and every
    label test or mapping runs on the few distinct values: repeated
    ``isin``/``str.lower`` passes over a million Python strings would dominate
    the run time.
    """

    def __init__(self, df: pd.DataFrame, evidence: Evidence | None = None, name: str = ""):
        self.df = df
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._evidence, self._name = evidence, name

    def __contains__(self, col: str) -> bool:
        return col in self.df.columns

    def codes(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes (-1 missing) and distinct values of a column (sorted: from
        :meth:`Evidence.factorized`, free for enum columns, when the table is known)."""
        if col not in self._codes:
            if self._evidence is not None:
                c, u = self._evidence.factorized(self._name, col)
            else:
                c, u = pd.factorize(self.df[col])
            small = np.int8 if len(u) < 127 else np.int16 if len(u) < 32767 else np.int32
            self._codes[col] = (c.astype(small), np.asarray(u, dtype=object))
        return self._codes[col]

    def is_(self, col: str, *labels: str) -> np.ndarray:
        """``df[col].isin(labels)`` (False where missing or absent)."""
        if col not in self:
            return np.zeros(len(self.df), dtype=bool)
        c, u = self.codes(col)
        return np.r_[pd.Index(u, dtype=object).isin(labels), False][c]

    def num(self, col: str) -> np.ndarray:
        """Float array, NaN for missing or non-numeric (``pd.to_numeric(errors="coerce")``)."""
        if col not in self:
            return np.full(len(self.df), np.nan)
        s = self.df[col]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            return s.to_numpy(dtype=float, na_value=np.nan)
        return pd.to_numeric(s, errors="coerce").astype(float).to_numpy(na_value=np.nan)

    def state(self, col: str) -> np.ndarray:
        """:meth:`bool` as int8 codes: 1, 0, and 2 for missing."""
        if col not in self:
            return np.full(len(self.df), 2, dtype=np.int8)
        s = self.df[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.to_numpy(dtype=np.int8, na_value=2)
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            c, u = self.codes(col)
            v = _as_bool(pd.Series(u, dtype=object))
            return np.r_[np.where(np.isnan(v), 2, v).astype(np.int8), np.int8(2)][c]
        v = self.bool(col)
        return np.where(np.isnan(v), 2, v).astype(np.int8)

    def bool(self, col: str) -> np.ndarray:
        """Float array 1/0 with NaN for missing (booleans or yes/no text)."""
        if col not in self:
            return np.full(len(self.df), np.nan)
        s = self.df[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            c, u = self.codes(col)
            return np.r_[_as_bool(pd.Series(u, dtype=object)), np.nan][c]
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            return s.to_numpy(dtype=float, na_value=np.nan)
        return _as_bool(s)


def _as_bool(s: pd.Series) -> np.ndarray:
    """Float array 1/0 with NaN for missing (booleans or yes/no text)."""
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        low = s.astype("string").str.lower()
        m = low.map({"yes": 1.0, "true": 1.0, "1": 1.0, "no": 0.0, "false": 0.0, "0": 0.0,
                     "not_sure": 0.0})
        return pd.to_numeric(m, errors="coerce").astype(float).to_numpy()
    return pd.to_numeric(s.astype("Float64"), errors="coerce").astype(float).to_numpy(na_value=np.nan)


def _outcomes(table: str, t: _Table) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """indicator id -> (state of every row as int8: 1 success, 0 failure, 2 not eligible or
    missing; the 1-5 rating behind it as floats, or None). One byte a row: the float
    form (NaN = not eligible) of each indicator need not exist."""
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}

    def where(cond: np.ndarray, state: np.ndarray) -> np.ndarray:
        state[~cond] = 2
        return state

    def rating(v: np.ndarray) -> np.ndarray:
        st = (v >= 4).astype(np.int8)
        st[np.isnan(v)] = 2
        return st

    if table == "cases":
        closed = t.is_("status", "closed")
        known = t.is_("outcome", "remedied", "partially_remedied", "no_remedy")
        rem = t.is_("outcome", "remedied", "partially_remedied").astype(np.int8)
        out["rights_compatible.remedy_rate"] = (where(closed & known, rem), None)
        anon = t.bool("anonymous")
        out["transparent.informed_rate"] = (
            where(closed & (anon == 0), t.state("complainant_informed")), None)
        del anon
        sat = t.num("satisfaction")
        out["legitimate.satisfaction_rate"] = (rating(sat), sat)
        out["equitable.advice_rate"] = (where(closed, t.state("advice_provided")), None)
        out["engagement_dialogue.dialogue_rate"] = (
            where(closed, t.state("resolved_by_dialogue")), None)
        out["rights_compatible.retaliation_rate"] = (t.state("retaliation_reported"), None)
    elif table == "worker_survey":
        for iid, col in (("legitimate.trust_rate", "trust"),
                         ("accessible.fear_of_retaliation_rate", "fear_retaliation")):
            v = t.num(col)
            out[iid] = (rating(v), v)
        for iid, col in (("accessible.awareness_rate", "aware"),
                         ("accessible.knows_how_rate", "knows_how"),
                         ("transparent.survey_informed_rate", "informed_outcome"),
                         ("engagement_dialogue.consultation_rate", "consulted")):
            out[iid] = (t.state(col), None)
    elif table == "child_survey":
        out["accessible.child_awareness_rate"] = (t.state("knows_where_to_tell"), None)
    return out


def _group_codes(table: str, t: _Table, dimension: str
                 ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray] | None:
    """Group of every row as ``(codes, lut, labels)`` (missing -> ``unknown``).

    Row ``i`` is in group ``lut[codes[i]]`` (``codes[i]`` when ``lut`` is None),
    labelled ``labels[...]``. Works on codes throughout: converting millions of
    Arrow strings to Python objects would dominate the run time.
    """
    if dimension not in TABLE_DIMENSIONS.get(table, ()):
        return None
    if dimension == "age_band":
        a = t.num("age")
        codes = (a >= 15).astype(np.int8)
        codes += a >= 18
        codes[np.isnan(a)] = 3
        return codes, None, np.array(AGE_BANDS, dtype=object)
    if dimension == "migrant":
        if "migrant" not in t:
            return None
        m = t.bool("migrant")
        codes = np.where(np.isnan(m), 2, np.where(m == 1, 0, 1))
        return codes.astype(np.int8), None, np.array(["migrant", "non_migrant", UNKNOWN], dtype=object)
    col = {"site": "site_id"}.get(dimension, dimension)
    if col not in t:
        return None
    codes, uniq = t.codes(col)
    labels = np.array([str(u) for u in uniq] + [UNKNOWN], dtype=object)
    lut = np.arange(len(labels), dtype=np.int64)  # code -1 (missing) reads the last entry
    # a literal 'unknown' value and missing values form one group
    lit = np.flatnonzero(labels[:-1] == UNKNOWN)
    if len(lit):
        lut[lit[0]] = len(uniq)
    return codes, lut, labels


def _compact(k1: np.ndarray, size: int, out: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(k1 - 1, return_inverse=True)`` for ``k1`` in [0, size], by counting
    (or hashing, when the key space is much larger than the keys: sites); the
    inverse is written to ``out`` when given."""
    if size > 4 * len(k1):
        codes, uniq = pd.factorize(k1)
        order = np.argsort(uniq)
        rank = np.empty(len(uniq), dtype=np.int64)
        rank[order] = np.arange(len(uniq))
        return uniq[order] - 1, rank.take(codes, out=out)
    counts = np.bincount(k1, minlength=size + 1)
    present = np.flatnonzero(counts)
    remap = np.full(size + 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    return present - 1, remap.take(k1, out=out)


@dataclass
class _Cells:
    """Aggregated counts of every (indicator, dimension), shared by both tables.

    ``combos`` lists ``(indicator_id, dimension, is_likert)``; ``labels`` the
    group labels of each combo. Binary counts, one entry per (combo, mechanism,
    group) with ``n > 0``: ``c, m, g`` (combo, mechanism position, group index
    into the combo's labels), ``s`` (successes), ``n``. Likert counts, one row
    per (combo, mechanism, group) with a rating: ``lc, lm, lg`` and ``lw`` (its
    counts of the values 1-5). ``mechanisms`` and ``case_rows`` (each case's
    mechanism position) serve the representation tests.
    """

    mechanisms: np.ndarray
    combos: list
    labels: list
    c: np.ndarray
    m: np.ndarray
    g: np.ndarray
    s: np.ndarray
    n: np.ndarray
    lc: np.ndarray
    lm: np.ndarray
    lg: np.ndarray
    lw: np.ndarray
    tables: dict


def _cells(evidence: Evidence, dimensions: Sequence[str]) -> _Cells:
    """Aggregated counts per (indicator, dimension), computed once for both tables."""
    unknown_dims = set(dimensions) - set(DIMENSIONS)
    if unknown_dims:
        raise ValueError(f"unknown dimension(s) {sorted(unknown_dims)}; known: {', '.join(DIMENSIONS)}")
    mids = pd.Index(evidence.mechanisms["mechanism_id"]).astype(object)
    nm = len(mids)
    combos, labels = [], []
    bins: list[tuple] = []
    liks: list[tuple] = []
    tables: dict[str, tuple[_Table, np.ndarray]] = {}
    for table in ("cases", "worker_survey", "child_survey"):
        df = evidence.get(table)
        if df is None or len(df) == 0:
            continue
        t = _Table(df, evidence, table)
        mcode = positions_in(df["mechanism_id"], mids).astype(np.int32)
        tables[table] = (t, mcode)
        okm = mcode >= 0
        all_in = bool(okm.all())
        scratch = [np.empty(len(df), dtype=np.intp) for _ in range(4)]
        # per indicator, once: its state on every row (0/1, 2 = no outcome) and the
        # Likert value of every row (0-4, 5 = none)
        outcomes = _outcomes(table, t)
        prepared = []
        for spec in RATE_SPECS:
            if spec.table != table or spec.indicator_id not in outcomes:
                continue
            state, lik = outcomes.pop(spec.indicator_id)
            if not all_in:
                state[~okm] = 2
            lstate = None
            if lik is not None:
                lv = np.round(lik)
                np.clip(lv, 1, 5, out=lv)
                lv -= 1
                with np.errstate(invalid="ignore"):
                    lstate = lv.astype(np.int8)
                del lv
                lstate[np.isnan(lik) | ~okm] = 5
            prepared.append((spec, state, lstate))
        # the binary states of two indicators at once (3 x 3 = 9 values a row): one
        # bincount per pair and dimension instead of two; the last one may be alone
        duos = []
        for j in range(0, len(prepared), 2):
            if j + 1 < len(prepared):
                both = prepared[j][1] * np.int8(3)
                both += prepared[j + 1][1]
                duos.append(([prepared[j], prepared[j + 1]], both, 9))
            else:
                duos.append(([prepared[j]], prepared[j][1], 3))
        for dim in dimensions:
            gc = _group_codes(table, t, dim)
            if gc is None:
                continue
            src, lut, glab = gc
            ng = len(glab)
            # compact code of each (mechanism, group) pair present, -1 outside the
            # mechanisms; in the table's scratch rows (8 bytes a row each, reused)
            k1, base, key, lbase = scratch
            np.multiply(mcode, ng, out=k1)
            if lut is None:
                k1 += src
            else:
                k1 += lut.take(src, out=key)
            if not all_in:
                k1[~okm] = -1
            k1 += 1
            pairs, _ = _compact(k1, nm * ng, out=base)
            pm, pg = pairs // ng, pairs % ng
            npairs = len(pairs)
            base += 1  # pair + 1: the bins of 0 stay empty, dropped below
            have_lbase = False
            counts = {}
            for duo, state, size in duos:  # counts per (pair, state of each indicator)
                np.multiply(base, size, out=key)
                key += state
                cnt = np.bincount(key, minlength=size * (npairs + 1))[size:]
                if size == 3:
                    counts[duo[0][0].indicator_id] = cnt.reshape(-1, 3)
                else:
                    cnt = cnt.reshape(-1, 3, 3)
                    counts[duo[0][0].indicator_id] = cnt.sum(axis=2)
                    counts[duo[1][0].indicator_id] = cnt.sum(axis=1)
            for spec, _state, lstate in prepared:
                c = len(combos)
                combos.append((spec.indicator_id, dim, lstate is not None))
                labels.append(glab)
                cnt = counts[spec.indicator_id]
                sx, n = cnt[:, 1], cnt[:, 0] + cnt[:, 1]
                pos = np.flatnonzero(n)
                bins.append((np.full(len(pos), c), pm[pos], pg[pos], sx[pos], n[pos]))
                if lstate is not None:
                    if not have_lbase:
                        np.multiply(base, 6, out=lbase)  # (pair + 1) * 6
                        have_lbase = True
                    np.add(lbase, lstate, out=key)
                    w = np.bincount(key, minlength=6 * (npairs + 1))[6:].reshape(-1, 6)
                    w = w[:, :5]
                    pl = np.flatnonzero(w.any(axis=1))
                    liks.append((np.full(len(pl), c), pm[pl], pg[pl], w[pl]))

    def cat(parts, i, shape=()):
        if not parts:
            return np.zeros((0, *shape), dtype=np.int64)
        return np.concatenate([p[i] for p in parts])

    return _Cells(np.asarray(mids, dtype=object), combos, labels,
                  cat(bins, 0), cat(bins, 1), cat(bins, 2), cat(bins, 3), cat(bins, 4),
                  cat(liks, 0), cat(liks, 1), cat(liks, 2), cat(liks, 3, (5,)), tables)


def _label_ranks(cells: _Cells) -> tuple[list, np.ndarray]:
    """Each combo's labels as positions in one sorted list of all labels, and that list."""
    if not cells.labels:
        return [], np.zeros(0, dtype=object)
    allv, inv = np.unique(np.concatenate(cells.labels).astype(str), return_inverse=True)
    offsets = np.cumsum([0] + [len(lab) for lab in cells.labels])
    return [inv[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)], allv.astype(object)


def _text(names: np.ndarray, codes: np.ndarray):
    """``names[codes]`` as a column: a string array built by one Arrow ``take`` (what the
    object array would be inferred as, several times faster), or the objects themselves
    when some name is not a string."""
    names = np.asarray(names, dtype=object)
    if all(type(x) is str for x in names.tolist()):
        return pd.array(names, dtype="str").take(np.asarray(codes, dtype=np.int64))
    return names[codes]


def _string_ranks(values: np.ndarray) -> np.ndarray:
    """Rank of each string in sort order (equal strings share a rank)."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    uniq = np.asarray(uniq, dtype=object)
    na = pd.isna(uniq)  # missing last, as pandas sorts
    order = np.r_[np.flatnonzero(~na)[np.argsort(uniq[~na].astype(str), kind="stable")],
                  np.flatnonzero(na)]
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return rank[codes]


# --------------------------------------------------------------------------- disaggregation
def disaggregate(evidence: Evidence, dimensions: Sequence[str] = DIMENSIONS,
                 min_n: int = DEFAULT_MIN_N, alpha: float = 0.05) -> pd.DataFrame:
    """Rate indicators by group (results-format ``disaggregation``).

    Parameters
    ----------
    evidence : Evidence
        Validated tables; ``cases``, ``worker_survey`` and ``child_survey`` are read.
    dimensions : sequence of str
        Any of ``gender, age_band, migrant, channel, site``.
    min_n : int
        ``n`` below this gets ``small_n``.
    alpha : float
        1 - confidence level of the Wilson intervals.

    Returns
    -------
    DataFrame
        ``mechanism_id, indicator_id, dimension, group, value, ci_low, ci_high,
        n, flags``: one row per group with at least one eligible, non-missing
        observation. Counts are raw: suppression happens at publication.

    Examples
    --------
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"]})
    >>> ws = pd.DataFrame({"mechanism_id": ["m"] * 4, "gender": ["female", "female", "male", None],
    ...                    "aware": pd.array([True, False, True, True], dtype="boolean")})
    >>> out = disaggregate(Evidence({"mechanisms": mech, "worker_survey": ws}, pd.Timestamp("2025-01-01")),
    ...                    dimensions=["gender"])
    >>> out[["group", "value", "n"]].values.tolist()
    [['female', 0.5, 2], ['male', 1.0, 1], ['unknown', 1.0, 1]]
    """
    return _disaggregate(evidence, _cells(evidence, dimensions), min_n, alpha)


def _disaggregate(evidence: Evidence, cells: _Cells, min_n: int, alpha: float) -> pd.DataFrame:
    if len(cells.n) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DISAGGREGATION_COLUMNS})
    ranks, allv = _label_ranks(cells)
    ind = np.array([cb[0] for cb in cells.combos], dtype=object)
    dim = np.array([cb[1] for cb in cells.combos], dtype=object)
    # group label of each row as its position in the sorted list of all labels
    offsets = np.cumsum([0] + [len(r) for r in ranks])
    grank = np.concatenate(ranks)[offsets[cells.c] + cells.g]
    order = np.lexsort((grank, _string_ranks(dim)[cells.c], _string_ranks(ind)[cells.c],
                        _string_ranks(cells.mechanisms)[cells.m]))
    c, n = cells.c[order], cells.n[order]
    s = np.round(cells.s[order].astype(float))
    lo, hi = wilson_interval(s, n, alpha)
    out = pd.DataFrame({
        "mechanism_id": _text(cells.mechanisms, cells.m[order]),
        "indicator_id": _text(ind, c),
        "dimension": _text(dim, c),
        "group": _text(allv, grank[order]),
        "value": s / n,
        "ci_low": lo,
        "ci_high": hi,
        "n": n.astype("int64"),
        "flags": _text(np.array(["", "small_n"], dtype=object), (n < min_n).astype(np.int64)),
    })
    return out[DISAGGREGATION_COLUMNS]


# --------------------------------------------------------------------------- tests
def equity_tables(evidence: Evidence, dimensions: Sequence[str] = DIMENSIONS,
                  min_n: int = DEFAULT_MIN_N, alpha: float = 0.05, min_group_n: int = 5
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables, :func:`disaggregate` and :func:`equity_tests`, from one pass over the data.

    The pipeline should call this rather than the two functions separately:
    the group counts they share are computed once.

    Returns
    -------
    disaggregation, equity_tests : DataFrame
        Exactly as returned by :func:`disaggregate` and :func:`equity_tests`.

    Examples
    --------
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"]})
    >>> ws = pd.DataFrame({"mechanism_id": ["m"] * 4, "gender": ["female", "female", "male", None],
    ...                    "aware": pd.array([True, False, True, True], dtype="boolean")})
    >>> d, t = equity_tables(Evidence({"mechanisms": mech, "worker_survey": ws}, pd.Timestamp("2025-01-01")))
    >>> len(d), t["flags"].tolist()
    (4, ['small_n'])
    """
    cells = _cells(evidence, dimensions)
    return (_disaggregate(evidence, cells, min_n, 0.05),
            _equity_tests(evidence, cells, alpha, min_group_n))


def equity_tests(evidence: Evidence, dimensions: Sequence[str] = DIMENSIONS,
                 alpha: float = 0.05, min_group_n: int = 5) -> pd.DataFrame:
    """Tests of gaps between groups, with effect sizes and Holm's correction (``equity_tests``).

    Parameters
    ----------
    evidence : Evidence
        Validated tables (``cases``, ``worker_survey``, ``child_survey``, ``workforce``).
    dimensions : sequence of str
        Dimensions to test (as :func:`disaggregate`).
    alpha : float
        Significance level applied to the Holm-adjusted p-values.
    min_group_n : int
        Groups with fewer observations are left out of a test; a test with
        fewer than two groups left is flagged ``small_n``.

    Returns
    -------
    DataFrame
        ``mechanism_id, indicator_id, dimension, test, statistic, p_value,
        p_holm, effect_size, effect_size_name, significant, groups, flags``;
        ``test`` is ``chi2``, ``mann_whitney``, ``kruskal_wallis`` or
        ``binomial``; ``groups`` lists the groups compared (``;``-separated).

    Examples
    --------
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"]})
    >>> ws = pd.DataFrame({"mechanism_id": ["m"] * 80, "gender": ["female", "male"] * 40,
    ...                    "aware": pd.array([True, False] * 40, dtype="boolean")})
    >>> t = equity_tests(Evidence({"mechanisms": mech, "worker_survey": ws}, pd.Timestamp("2025-01-01")))
    >>> t[["indicator_id", "test", "significant", "groups"]].values.tolist()
    [['accessible.awareness_rate', 'chi2', True, 'female;male']]
    """
    return _equity_tests(evidence, _cells(evidence, dimensions), alpha, min_group_n)


def _representation(evidence: Evidence, cells: _Cells, min_group_n: int) -> dict | None:
    if "cases" not in cells.tables:
        return None
    t, mc = cells.tables["cases"]
    wf = evidence.get("workforce")
    if wf is None or len(wf) == 0:
        return None
    wft = _Table(wf)
    nm = len(cells.mechanisms)
    wm = positions_in(wf["mechanism_id"], pd.Index(cells.mechanisms))
    okw = wm >= 0
    head = np.bincount(wm[okw], weights=np.nan_to_num(wft.num("headcount")[okw]), minlength=nm)
    cols = {k: [] for k in ("m", "indicator_id", "dimension", "statistic", "p_value", "effect_size",
                            "groups", "flags")}
    for iid, (dim, group, col) in REPRESENTATION.items():
        if col not in wft:
            continue
        num = np.bincount(wm[okw], weights=np.nan_to_num(wft.num(col)[okw]), minlength=nm)
        if dim == "age_band":
            age = t.num("age")
            known = ~np.isnan(age)
            hit = known & (age >= 15) & (age <= 17)
        else:
            known = t.is_("gender", "female", "male", "other")
            hit = t.is_("gender", "female")
        ok = mc >= 0
        n = np.bincount(mc[ok & known], minlength=nm)
        k = np.bincount(mc[ok & hit], minlength=nm)
        with np.errstate(divide="ignore", invalid="ignore"):
            p0 = np.where(head > 0, num / head, np.nan)
            ratio = np.where(n > 0, (k / n) / p0, np.nan)
        has_wf = head > 0
        testable = has_wf & (n >= min_group_n) & (p0 > 0) & (p0 < 1)
        p = np.where(testable, binomtest_two_sided(k, np.maximum(n, 1), np.where(testable, p0, 0.5)),
                     np.nan)
        sel = np.flatnonzero(has_wf & (n > 0))
        cols["m"].append(sel)
        cols["indicator_id"].append(np.full(len(sel), iid, dtype=object))
        cols["dimension"].append(np.full(len(sel), dim, dtype=object))
        cols["statistic"].append(np.where(testable, k / np.maximum(n, 1), np.nan)[sel])
        cols["p_value"].append(p[sel])
        cols["effect_size"].append(np.where(testable, ratio, np.nan)[sel])
        cols["groups"].append(np.full(len(sel), group, dtype=object))
        cols["flags"].append(np.where(testable, "", "small_n")[sel].astype(object))
    if not cols["m"]:
        return None
    out = {k: np.concatenate(v) for k, v in cols.items()}
    out["test"] = np.full(len(out["m"]), "binomial", dtype=object)
    out["effect_size_name"] = np.full(len(out["m"]), "representation_ratio", dtype=object)
    return out


def _rate_tests(cells: _Cells, min_group_n: int) -> dict | None:
    """The chi-square, Mann-Whitney and Kruskal-Wallis tests of every (combo, mechanism)."""
    if not cells.combos:
        return None
    nm = max(len(cells.mechanisms), 1)
    ranks, allv = _label_ranks(cells)
    offsets = np.cumsum([0] + [len(r) for r in ranks])
    flat_ranks = np.concatenate(ranks)
    is_lik = np.array([cb[2] for cb in cells.combos], dtype=bool)
    # binary counts of the known groups; a test is one (combo, mechanism): tid = m + c * nm
    grank = flat_ranks[offsets[cells.c] + cells.g]
    known = allv[grank] != UNKNOWN
    tid = cells.m + cells.c * nm
    order = np.lexsort((grank, tid))
    order = order[known[order]]
    tid_k, grank_k = tid[order], grank[order]
    s_k, n_k = cells.s[order].astype(float), cells.n[order]
    parts = []  # (tid, statistic, p_value, effect_size, groups, flags, test, effect_size_name, groups)
    big = (n_k >= min_group_n) & ~is_lik[tid_k // nm]
    if big.any():
        bt, bg, bs, bf = tid_k[big], grank_k[big], s_k[big], (n_k[big] - s_k[big])
        # cells (test, group, outcome 0/1) with a positive count, sorted
        ct = np.repeat(bt, 2)
        cg = np.repeat(bg, 2)
        cy = np.tile([0, 1], len(bt))
        co = np.column_stack([bf, bs]).ravel()
        keep = co > 0
        r = _chi2_cells(ct[keep], cg[keep], cy[keep], co[keep])
        small = (r["min_e"] < 5.0) | (r["dof"] < 1)
        groups = _join_runs(cg[keep][r["row_first"]], _starts(r["row_test"]), allv)
        flags = np.where(small | (r["dof"] == 0), "small_n", "").astype(object)
        parts.append((r["test"], np.where(small, np.nan, r["statistic"]),
                      np.where(small, np.nan, r["p_value"]), np.where(small, np.nan, r["effect_size"]),
                      groups, flags, "chi2", "cramers_v", r["nr"]))
    if len(cells.lc):
        lt = cells.lm + cells.lc * nm
        lg = flat_ranks[offsets[cells.lc] + cells.lg]
        size = cells.lw.sum(axis=1)
        keep = (allv[lg] != UNKNOWN) & (size >= min_group_n) & (size > 0)
        lt, lg, lw = lt[keep], lg[keep], cells.lw[keep]
        o = np.lexsort((lg, lt))
        lt, lg, lw = lt[o], lg[o], lw[o]
        # cells (test, group, value) with a positive count
        ct, cg = np.repeat(lt, 5), np.repeat(lg, 5)
        cv = np.tile(np.arange(5), len(lt))
        cw = lw.ravel().astype(float)
        pos = cw > 0
        if pos.any():
            r = _rank_cells(ct[pos], cg[pos], cv[pos], cw[pos])
            groups = _join_runs(cg[pos][r["gfirst"]], r["first"], allv)
            k = r["k"]
            two, more = k == 2, k > 2
            if two.any():
                u1, p, rbc = _mwu_stats(r)
                parts.append((r["test"][two], u1[two], p[two], rbc[two], groups[two],
                              np.full(two.sum(), "", dtype=object), "mann_whitney", "rank_biserial",
                              k[two]))
            if more.any():
                h, p, eps = _kruskal_stats(r)
                fin = np.isfinite(h)
                parts.append((r["test"][more], np.where(fin, h, 0.0)[more], np.where(fin, p, 1.0)[more],
                              np.where(fin, eps, 0.0)[more], groups[more],
                              np.full(more.sum(), "", dtype=object), "kruskal_wallis", "epsilon_squared",
                              k[more]))
    cols = {k: [] for k in ("tid", "statistic", "p_value", "effect_size", "groups", "flags", "test",
                            "effect_size_name")}
    for tid_, stat, p, eff, groups, flags, test, name, ng in parts:
        # tests of two groups or more (the pandas form kept the labels with a ';')
        ok = ng >= 2
        ok[~ok] = [";" in str(g) for g in groups[~ok]]
        for key, val in zip(("tid", "statistic", "p_value", "effect_size", "groups", "flags"),
                            (tid_, stat, p, eff, groups, flags), strict=True):
            cols[key].append(np.asarray(val)[ok])
        cols["test"].append(np.full(ok.sum(), test, dtype=object))
        cols["effect_size_name"].append(np.full(ok.sum(), name, dtype=object))
    # tests with a known group but fewer than two testable groups: small_n, no statistic
    done = np.concatenate(cols["tid"]) if cols["tid"] else np.zeros(0, dtype=np.int64)
    kt = _distinct(tid_k)
    short = kt[~np.isin(kt, done)]
    if len(short):
        sel = np.isin(tid_k, short)  # rows sorted by (test, label): the labels join in order
        sl = is_lik[short // nm]
        cols["tid"].append(short)
        for key in ("statistic", "p_value", "effect_size"):
            cols[key].append(np.full(len(short), np.nan))
        cols["groups"].append(_join_runs(grank_k[sel], _starts(tid_k[sel]), allv))
        cols["flags"].append(np.full(len(short), "small_n", dtype=object))
        cols["test"].append(np.where(sl, "mann_whitney", "chi2").astype(object))
        cols["effect_size_name"].append(np.where(sl, "rank_biserial", "cramers_v").astype(object))
    if not cols["tid"]:
        cols = {k: [np.zeros(0, dtype=np.int64 if k == "tid" else object)] for k in cols}
    out = {k: np.concatenate(v) for k, v in cols.items()}
    tid = out.pop("tid").astype(np.int64)
    ind = np.array([cb[0] for cb in cells.combos], dtype=object)
    dim = np.array([cb[1] for cb in cells.combos], dtype=object)
    out["m"] = tid % nm
    out["indicator_id"] = ind[tid // nm]
    out["dimension"] = dim[tid // nm]
    # the dtypes of the pandas concatenation this replaces: text columns stay objects
    # when no statistic was computed at all (groups: when every test has one)
    out["_object_cols"] = (["test", "effect_size_name", "groups"] if not parts
                           else [] if len(short) else ["groups"])
    return out


#: dtypes of an equity_tests table without rows when some rate could have been tested
_EMPTY_TEST_DTYPES = {"indicator_id": float, "dimension": float, "statistic": float,
                      "p_value": float, "p_holm": float, "effect_size": float,
                      "significant": "boolean"}


def _equity_tests(evidence: Evidence, cells: _Cells, alpha: float, min_group_n: int) -> pd.DataFrame:
    rate = _rate_tests(cells, min_group_n)
    rep = _representation(evidence, cells, min_group_n)
    if rep is not None and len(rep["m"]) == 0:
        rep = None
    object_cols = rate.pop("_object_cols") if rate is not None else []
    if rate is not None and len(rate["m"]) == 0:
        # no rate test: the dtypes of the pandas concatenation this replaces
        if rep is None:
            return pd.DataFrame({c: pd.Series(dtype=_EMPTY_TEST_DTYPES.get(c, object))
                                 for c in EQUITY_TEST_COLUMNS})
        object_cols = object_cols + ["indicator_id", "dimension"]
    parts = [p for p in (rate, rep) if p is not None]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EQUITY_TEST_COLUMNS})
    t = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    m = t["m"].astype(np.int64)
    order = np.lexsort((_string_ranks(t["dimension"]), _string_ranks(t["indicator_id"]),
                        _string_ranks(cells.mechanisms)[m]))
    t = {k: v[order] for k, v in t.items()}
    m = m[order]
    p = t["p_value"].astype(float)
    p_holm = holm_by_group(p, _string_ranks(cells.mechanisms)[m])  # by mechanism id
    fin = np.isfinite(p_holm)
    significant = pd.array(np.where(fin, p_holm < alpha, False), dtype="boolean")
    significant[~fin] = pd.NA
    out = pd.DataFrame({
        "mechanism_id": _text(cells.mechanisms, m),
        "indicator_id": t["indicator_id"],
        "dimension": t["dimension"],
        "test": t["test"],
        "statistic": t["statistic"].astype(float),
        "p_value": p,
        "p_holm": p_holm,
        "effect_size": t["effect_size"].astype(float),
        "effect_size_name": t["effect_size_name"],
        "significant": significant,
        "groups": t["groups"],
        "flags": t["flags"],
    })
    for c in object_cols:
        out[c] = out[c].astype(object)
    return out[EQUITY_TEST_COLUMNS]
