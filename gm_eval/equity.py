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
    binomtest_two_sided,
    chi2_by_group,
    holm_by_group,
    join_flags,
    join_labels,
    kruskal_by_group,
    mwu_by_group,
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


def _as_bool(s: pd.Series) -> np.ndarray:
    """Float array 1/0 with NaN for missing (booleans or yes/no text)."""
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        low = s.astype("string").str.lower()
        m = low.map({"yes": 1.0, "true": 1.0, "1": 1.0, "no": 0.0, "false": 0.0, "0": 0.0,
                     "not_sure": 0.0})
        return pd.to_numeric(m, errors="coerce").astype(float).to_numpy()
    return pd.to_numeric(s.astype("Float64"), errors="coerce").astype(float).to_numpy(na_value=np.nan)


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").astype(float).to_numpy(na_value=np.nan)


def _is(df: pd.DataFrame, col: str, *labels: str) -> np.ndarray:
    if col not in df.columns:
        return np.zeros(len(df), dtype=bool)
    return df[col].isin(labels).fillna(False).to_numpy(dtype=bool)


def _bool(df: pd.DataFrame, col: str) -> np.ndarray:
    return _as_bool(df[col]) if col in df.columns else np.full(len(df), np.nan)


def _outcomes(table: str, df: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """indicator id -> (success as 1/0/NaN over all rows (NaN = not eligible), likert or None)."""
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    if table == "cases":
        closed = _is(df, "status", "closed")
        known = _is(df, "outcome", "remedied", "partially_remedied", "no_remedy")
        rem = _is(df, "outcome", "remedied", "partially_remedied").astype(float)
        out["rights_compatible.remedy_rate"] = (np.where(closed & known, rem, np.nan), None)
        anon = _bool(df, "anonymous")
        out["transparent.informed_rate"] = (
            np.where(closed & (anon == 0), _bool(df, "complainant_informed"), np.nan), None)
        sat = _num(df, "satisfaction")
        out["legitimate.satisfaction_rate"] = (np.where(np.isnan(sat), np.nan, sat >= 4), sat)
        out["equitable.advice_rate"] = (np.where(closed, _bool(df, "advice_provided"), np.nan), None)
        out["engagement_dialogue.dialogue_rate"] = (
            np.where(closed, _bool(df, "resolved_by_dialogue"), np.nan), None)
        out["rights_compatible.retaliation_rate"] = (_bool(df, "retaliation_reported"), None)
    elif table == "worker_survey":
        for iid, col in (("legitimate.trust_rate", "trust"),
                         ("accessible.fear_of_retaliation_rate", "fear_retaliation")):
            v = _num(df, col)
            out[iid] = (np.where(np.isnan(v), np.nan, v >= 4), v)
        for iid, col in (("accessible.awareness_rate", "aware"),
                         ("accessible.knows_how_rate", "knows_how"),
                         ("transparent.survey_informed_rate", "informed_outcome"),
                         ("engagement_dialogue.consultation_rate", "consulted")):
            out[iid] = (_bool(df, col), None)
    elif table == "child_survey":
        out["accessible.child_awareness_rate"] = (_bool(df, "knows_where_to_tell"), None)
    return out


def _group_codes(table: str, df: pd.DataFrame, dimension: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer group code of every row and the labels (missing -> ``unknown``).

    Works on codes throughout: converting millions of Arrow strings to Python
    objects would dominate the run time.
    """
    if dimension not in TABLE_DIMENSIONS.get(table, ()):
        return None
    if dimension == "age_band":
        a = _num(df, "age")
        codes = np.select([a < 15, a < 18, a >= 18], [0, 1, 2], 3)
        return codes.astype(np.int64), np.array(AGE_BANDS, dtype=object)
    if dimension == "migrant":
        if "migrant" not in df:
            return None
        m = _as_bool(df["migrant"])
        codes = np.where(np.isnan(m), 2, np.where(m == 1, 0, 1))
        return codes.astype(np.int64), np.array(["migrant", "non_migrant", UNKNOWN], dtype=object)
    col = {"site": "site_id"}.get(dimension, dimension)
    if col not in df:
        return None
    codes, uniq = pd.factorize(df[col])
    labels = np.array([str(u) for u in uniq] + [UNKNOWN], dtype=object)
    codes = np.where(codes < 0, len(uniq), codes).astype(np.int64)
    # a literal 'unknown' value and missing values form one group
    lit = np.flatnonzero(labels[:-1] == UNKNOWN)
    if len(lit):
        codes = np.where(codes == lit[0], len(uniq), codes)
    return codes, labels


def _compact(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Like ``np.unique(key, return_inverse=True)`` for keys in [-1, size), by counting."""
    if size > 50_000_000:
        return np.unique(key, return_inverse=True)
    counts = np.bincount(key + 1, minlength=size + 1)
    present = np.flatnonzero(counts)
    remap = np.full(size + 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    return present - 1, remap[key + 1]


def _cells(evidence: Evidence, dimensions: Sequence[str]) -> list:
    """Aggregated counts per (indicator, dimension), computed once for both tables."""
    unknown_dims = set(dimensions) - set(DIMENSIONS)
    if unknown_dims:
        raise ValueError(f"unknown dimension(s) {sorted(unknown_dims)}; known: {', '.join(DIMENSIONS)}")
    return list(_iter_cells(evidence, dimensions))


def _iter_cells(evidence: Evidence, dimensions: Sequence[str]):
    """Yield aggregated counts per (indicator, dimension).

    Yields tuples ``(spec, dimension, binary, likert)`` where ``binary`` has
    columns ``m, group, s, n`` (mechanism position, label, successes, n) and
    ``likert`` (or None) has ``m, group, value, w``.
    """
    mids = pd.Index(evidence.mechanisms["mechanism_id"]).astype(object)
    for table in ("cases", "worker_survey", "child_survey"):
        df = evidence.get(table)
        if df is None or len(df) == 0:
            continue
        mcode = positions_in(df["mechanism_id"], mids)
        okm = mcode >= 0
        # per indicator, once: rows with an outcome (0/1 as int) and the Likert rows (0-4)
        outcomes = _outcomes(table, df)
        prepared = []
        for spec in RATE_SPECS:
            if spec.table != table or spec.indicator_id not in outcomes:
                continue
            y, lik = outcomes[spec.indicator_id]
            idx = np.flatnonzero(okm & ~np.isnan(y))
            yi = y[idx].astype(np.int64)
            lk = None
            if lik is not None:
                il = np.flatnonzero(okm & ~np.isnan(lik))
                lk = (il, np.clip(np.round(lik[il]), 1, 5).astype(np.int64) - 1)
            prepared.append((spec, idx, yi, lk))
        for dim in dimensions:
            gc = _group_codes(table, df, dim)
            if gc is None:
                continue
            gcode, glab = gc
            ng = len(glab)
            # compact code of each (mechanism, group) pair present
            pairs, pair = _compact(np.where(okm, mcode * ng + gcode, -1), len(mids) * ng)
            pm, pg = pairs // ng, pairs % ng
            npairs = len(pairs)
            for spec, idx, yi, lk in prepared:
                cnt = np.bincount(pair[idx] * 2 + yi, minlength=2 * npairs)
                sx, n = cnt[1::2], cnt[0::2] + cnt[1::2]
                pos = np.flatnonzero(n)
                binary = pd.DataFrame({"m": pm[pos], "group": glab[pg[pos]],
                                       "s": sx[pos].astype(float), "n": n[pos]})
                likert = None
                if lk is not None:
                    il, v = lk
                    w = np.bincount(pair[il] * 5 + v, minlength=npairs * 5)
                    pl = np.flatnonzero(w)
                    likert = pd.DataFrame({"m": pm[pl // 5], "group": glab[pg[pl // 5]],
                                           "value": (pl % 5 + 1).astype(float), "w": w[pl]})
                yield spec, dim, binary, likert


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


def _disaggregate(evidence: Evidence, cells, min_n: int, alpha: float) -> pd.DataFrame:
    mids = np.asarray(evidence.mechanisms["mechanism_id"].astype(object).to_numpy())
    parts = []
    for spec, dim, binary, _ in cells:
        if binary.empty:
            continue
        b = binary.copy()
        b["indicator_id"] = spec.indicator_id
        b["dimension"] = dim
        parts.append(b)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DISAGGREGATION_COLUMNS})
    d = pd.concat(parts, ignore_index=True)
    n = d["n"].to_numpy()
    s = np.round(d["s"].to_numpy())
    lo, hi = wilson_interval(s, n, alpha)
    out = pd.DataFrame({
        "mechanism_id": mids[d["m"].to_numpy()],
        "indicator_id": d["indicator_id"].to_numpy(),
        "dimension": d["dimension"].to_numpy(),
        "group": d["group"].astype(str).to_numpy(),
        "value": s / n,
        "ci_low": lo,
        "ci_high": hi,
        "n": n.astype("int64"),
        "flags": np.where(n < min_n, "small_n", "").astype(object),
    })
    return out.sort_values(["mechanism_id", "indicator_id", "dimension", "group"],
                           kind="mergesort").reset_index(drop=True)[DISAGGREGATION_COLUMNS]


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


def _representation(evidence: Evidence, min_group_n: int) -> pd.DataFrame:
    cases, wf = evidence.get("cases"), evidence.get("workforce")
    if cases is None or wf is None or len(cases) == 0 or len(wf) == 0:
        return pd.DataFrame()
    mids = pd.Index(evidence.mechanisms["mechanism_id"]).astype(object)
    nm = len(mids)
    mc = positions_in(cases["mechanism_id"], mids)
    wm = positions_in(wf["mechanism_id"], mids)
    okw = wm >= 0
    head = np.bincount(wm[okw], weights=np.nan_to_num(_num(wf, "headcount")[okw]), minlength=nm)
    rows = []
    for iid, (dim, group, col) in REPRESENTATION.items():
        if col not in wf.columns:
            continue
        num = np.bincount(wm[okw], weights=np.nan_to_num(_num(wf, col)[okw]), minlength=nm)
        if dim == "age_band":
            age = _num(cases, "age")
            known = ~np.isnan(age)
            hit = known & (age >= 15) & (age <= 17)
        else:
            known = _is(cases, "gender", "female", "male", "other")
            hit = _is(cases, "gender", "female")
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
        rows.append(pd.DataFrame({
            "m": sel, "indicator_id": iid, "dimension": dim, "test": "binomial",
            "statistic": np.where(testable, k / np.maximum(n, 1), np.nan)[sel],
            "p_value": p[sel],
            "effect_size": np.where(testable, ratio, np.nan)[sel],
            "effect_size_name": "representation_ratio",
            "groups": group,
            "flags": np.where(testable, "", "small_n")[sel].astype(object),
        }))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


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


def _equity_tests(evidence: Evidence, cells, alpha: float, min_group_n: int) -> pd.DataFrame:
    mids = np.asarray(evidence.mechanisms["mechanism_id"].astype(object).to_numpy())
    nm = max(len(mids), 1)
    # Every (indicator, dimension, mechanism) is one test with an integer id, so that
    # each statistic is computed once for all tests together.
    combos, bins, liks = [], [], []
    for spec, dim, binary, likert in cells:
        c = len(combos)
        combos.append((spec.indicator_id, dim, likert is not None))
        bins.append(binary.assign(tid=binary["m"].to_numpy() + c * nm, likert=likert is not None))
        if likert is not None:
            liks.append(likert.assign(tid=likert["m"].to_numpy() + c * nm))
    parts = []
    if combos:
        b = pd.concat(bins, ignore_index=True)
        b = b[b["group"] != UNKNOWN]
        known_groups = join_labels(b["tid"].to_numpy(), b["group"].to_numpy())
        big = b[b["n"] >= min_group_n]
        results = []
        bb = big[~big["likert"].to_numpy()]
        if len(bb):
            long = pd.concat([bb.assign(y=1, w=bb["s"]), bb.assign(y=0, w=bb["n"] - bb["s"])],
                             ignore_index=True)
            r = chi2_by_group(long, ["tid"], "group", "y", weight_col="w")
            r["test"], r["effect_size_name"] = "chi2", "cramers_v"
            r.loc[r["dof"] == 0, "flags"] = "small_n"  # one outcome only: nothing to test
            results.append(r)
        if liks:
            lk = pd.concat(liks, ignore_index=True)
            lk = lk[lk["group"] != UNKNOWN]
            size = lk.groupby(["tid", "group"])["w"].transform("sum")
            lk = lk[size.to_numpy() >= min_group_n]
            k_groups = lk.groupby("tid")["group"].nunique()
            kg = lk["tid"].map(k_groups).to_numpy()
            if (kg == 2).any():
                r = mwu_by_group(lk[kg == 2], ["tid"], "group", "value", min_group_n, weight_col="w")
                r["test"], r["effect_size_name"] = "mann_whitney", "rank_biserial"
                results.append(r)
            if (kg > 2).any():
                r = kruskal_by_group(lk[kg > 2], ["tid"], "group", "value", min_group_n,
                                     weight_col="w")
                r["test"], r["effect_size_name"] = "kruskal_wallis", "epsilon_squared"
                results.append(r)
        res = pd.concat(results, ignore_index=True) if results else pd.DataFrame(
            columns=["tid", "statistic", "p_value", "effect_size", "groups", "flags", "test",
                     "effect_size_name"])
        res = res[res["groups"].astype(str).str.contains(";", regex=False)]
        # tests with a known group but fewer than two testable groups: small_n, no statistic
        short = known_groups.index.difference(pd.Index(res["tid"]))
        is_lik = np.array([combos[t // nm][2] for t in short], dtype=bool)
        res = pd.concat([res, pd.DataFrame({
            "tid": short, "statistic": np.nan, "p_value": np.nan, "effect_size": np.nan,
            "groups": known_groups.reindex(short).to_numpy(), "flags": "small_n",
            "test": np.where(is_lik, "mann_whitney", "chi2"),
            "effect_size_name": np.where(is_lik, "rank_biserial", "cramers_v"),
        })], ignore_index=True)
        tid = res["tid"].to_numpy().astype(np.int64)
        res["m"] = tid % nm
        res["indicator_id"] = [combos[c][0] for c in tid // nm]
        res["dimension"] = [combos[c][1] for c in tid // nm]
        parts.append(res[["m", "indicator_id", "dimension", "test", "statistic", "p_value",
                          "effect_size", "effect_size_name", "groups", "flags"]])
    rep = _representation(evidence, min_group_n)
    if len(rep):
        parts.append(rep)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EQUITY_TEST_COLUMNS})
    t = pd.concat(parts, ignore_index=True)
    t["mechanism_id"] = mids[t["m"].to_numpy().astype(np.int64)]
    t["p_value"] = pd.to_numeric(t["p_value"]).astype(float)
    t["p_holm"] = holm_by_group(t["p_value"].to_numpy(), t["mechanism_id"].to_numpy())
    t["significant"] = pd.array(np.where(np.isfinite(t["p_holm"]), t["p_holm"] < alpha, False),
                                dtype="boolean")
    t.loc[~np.isfinite(t["p_holm"]), "significant"] = pd.NA
    t["flags"] = join_flags(t["flags"].fillna(""))
    for c in ("statistic", "effect_size"):
        t[c] = pd.to_numeric(t[c]).astype(float)
    return t.sort_values(["mechanism_id", "indicator_id", "dimension"], kind="mergesort") \
        .reset_index(drop=True)[EQUITY_TEST_COLUMNS]
