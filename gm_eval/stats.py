"""Statistics: thin, explicit layers over statsmodels, pingouin and scipy.

Every function states the method it uses and overrides the library defaults
that are wrong for this toolkit (see ``/work/shared/design/engineering.md``):

* rates get **Wilson** intervals (statsmodels' default is Wald);
* multiple testing uses **Holm** (statsmodels' default is Holm-Sidak);
* Cronbach's alpha uses **listwise** deletion (pingouin's default is pairwise);
* Kaplan-Meier uses statsmodels' :class:`~statsmodels.duration.survfunc.SurvfuncRight`
  with attribute access.

Single-sample functions (``km_curve``, ``km_quantile``, ``km_at``,
``cronbach_alpha``, ``holm``) call the libraries directly. Their group-wise
counterparts (``km_by_group``, ``holm_by_group``, ``cronbach_alpha_by_group``,
``chi2_by_group``, ``mwu_by_group``) compute the same quantities for all groups
at once with numpy/pandas (a library call per mechanism would be far too slow
for a 1,000-mechanism evaluation) and are tested against the library calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtri as _ndtri

from gm_eval.runs import by_runs

__all__ = [
    "positions_in",
    "wilson_interval",
    "rate_table",
    "km_curve",
    "km_quantile",
    "km_at",
    "km_by_group",
    "holm",
    "holm_by_group",
    "AlphaResult",
    "cronbach_alpha",
    "cronbach_alpha_by_group",
    "chi2_by_group",
    "mwu_by_group",
    "kruskal_by_group",
    "binomtest_two_sided",
    "join_flags",
    "join_labels",
]

DEFAULT_MIN_N = 30


class _LazyScipyStats:
    """``scipy.stats``, imported on first use (about 1 s). Nothing in this module
    needs it when scipy exposes the ufuncs below: the distributions are computed
    with the ``scipy.special`` functions that ``scipy.stats`` itself calls."""

    def __getattr__(self, name):
        from scipy import stats

        return getattr(stats, name)


_sps = _LazyScipyStats()


def _binom_ufunc(name: str):
    """scipy.special's private binomial ufunc ``name`` (``_binom_pmf``, ``_binom_cdf``,
    ``_binom_sf``: Boost's binomial, which is what ``scipy.stats.binom`` evaluates),
    or ``scipy.stats.binom``'s method should scipy rename it."""
    import scipy.special._ufuncs as scu

    f = getattr(scu, name, None)
    if f is None:  # pragma: no cover - depends on scipy's private names
        f = getattr(_sps.binom, name.removeprefix("_binom_"))
    return f


def _chi2_sf(x, df) -> np.ndarray:
    """``scipy.stats.chi2.sf(x, df)`` bit for bit, without importing scipy.stats.

    scipy.stats evaluates ``scipy.special.chdtrc(df, x)`` inside the support
    and returns 1 at ``x <= 0``, 0 at ``x = inf`` and NaN for NaN ``x`` or
    ``df <= 0``; so does this.
    """
    from scipy.special import chdtrc

    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(invalid="ignore"):
        inside = (x > 0) & (x < np.inf) & (df > 0)
        out = np.where(x <= 0, 1.0, 0.0)
        out[inside] = chdtrc(df[inside], x[inside])
        out[np.isnan(x) | ~(df > 0)] = np.nan
    return out


def _norm_sf(x) -> np.ndarray:
    """``scipy.stats.norm.sf(x)``: scipy.stats computes ``scipy.special.ndtr(-x)``."""
    from scipy.special import ndtr

    return ndtr(-np.asarray(x, dtype=float))


def _f_isf(q: float, dfn, dfd) -> np.ndarray:
    """``scipy.stats.f.isf(q, dfn, dfd)`` for ``0 < q < 1``, bit for bit.

    scipy.stats evaluates ``scipy.special.fdtri(dfn, dfd, 1 - q)`` (its
    generic ``isf``), NaN unless both degrees of freedom are positive.
    """
    from scipy.special import fdtri

    dfn, dfd = np.broadcast_arrays(np.asarray(dfn, dtype=float), np.asarray(dfd, dtype=float))
    with np.errstate(invalid="ignore"):
        ok = (dfn > 0) & (dfd > 0)
        out = np.full(dfn.shape, np.nan)
        out[ok] = fdtri(dfn[ok], dfd[ok], 1.0 - q) * 1.0 + 0.0
    return out


def _binom_pmf_at(k, n, p) -> np.ndarray:
    """``scipy.stats.binom.pmf(k, n, p)`` bit for bit: 0 off the support ``0..n`` and at
    non-integer ``k``, NaN unless ``n`` is a non-negative integer and ``0 <= p <= 1``.
    Arrays of one shape."""
    with np.errstate(invalid="ignore"):
        ok = (k >= 0) & (k <= n) & (np.floor(k) == k)
        out = np.zeros(np.shape(k))
        out[ok] = np.clip(_binom_ufunc("_binom_pmf")(k[ok], n[ok], p[ok]), 0, 1)
        out[np.isnan(k) | ~((n >= 0) & (np.floor(n) == n) & (p >= 0) & (p <= 1))] = np.nan
    return out


def _binom_cdf_at(k, n, p) -> np.ndarray:
    """``scipy.stats.binom.cdf(k, n, p)`` bit for bit: 1 from ``k >= n``, 0 below 0."""
    with np.errstate(invalid="ignore"):
        ok = (k >= 0) & (k < n)
        out = np.where(k >= n, 1.0, 0.0)
        out[ok] = np.clip(_binom_ufunc("_binom_cdf")(np.floor(k[ok]), n[ok], p[ok]), 0, 1)
        out[np.isnan(k) | ~((n >= 0) & (np.floor(n) == n) & (p >= 0) & (p <= 1))] = np.nan
    return out


def _binom_sf_at(k, n, p) -> np.ndarray:
    """``scipy.stats.binom.sf(k, n, p)`` bit for bit: 1 below 0, 0 from ``k >= n``."""
    with np.errstate(invalid="ignore"):
        ok = (k >= 0) & (k < n)
        out = np.where(k < 0, 1.0, 0.0)
        out[ok] = np.clip(_binom_ufunc("_binom_sf")(np.floor(k[ok]), n[ok], p[ok]), 0, 1)
        out[np.isnan(k) | ~((n >= 0) & (np.floor(n) == n) & (p >= 0) & (p <= 1))] = np.nan
    return out


# --------------------------------------------------------------------------- helpers
def positions_in(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (-1 when absent or missing), fast on Arrow strings.

    Arrow strings grouped in runs of equal values (mechanism ids of a table sorted or
    grouped by mechanism) are read by runs (:func:`gm_eval.runs.by_runs`); others are
    hashed.

    Examples
    --------
    >>> positions_in(pd.Series(["b", "a", None, "z"]), pd.Index(["a", "b"])).tolist()
    [1, 0, -1, -1]
    """
    pos = by_runs(values, lambda u: index.get_indexer(pd.Index(u, dtype=object)).astype(np.int64))
    if pos is not None:
        return pos
    codes, uniq = pd.factorize(values)
    pos = index.get_indexer(pd.Index(uniq).astype(object))
    # code -1 (missing) picks the appended -1
    return np.append(pos, -1).astype(np.int64)[codes]


#: ``NaT`` as int64 nanoseconds, and one day in nanoseconds.
_NAT = np.iinfo(np.int64).min
_DAY_NS = 86_400_000_000_000


def _nanoseconds(values) -> tuple[np.ndarray, np.ndarray]:
    """Dates as int64 nanoseconds since 1970 and the mask of missing ones.

    A ``datetime64[ns]`` column is viewed, not copied. Differences of the
    nanoseconds give exactly what the datetime arithmetic gives:
    ``(b - a) // _DAY_NS`` is ``(b - a).dt.days`` and ``(b - a) / _DAY_NS`` is
    ``(b - a) / np.timedelta64(1, "D")`` (where neither is missing).
    """
    if not (isinstance(values, pd.Series | pd.Index) and values.dtype == "datetime64[ns]"):
        values = pd.to_datetime(values)  # (a copy even when already datetime64[ns])
    ns = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return ns, ns == _NAT


def join_flags(*flags: pd.Series | np.ndarray) -> np.ndarray:
    """Join several string arrays of flags into one ``;``-separated array.

    Empty strings are skipped, so ``join_flags(["small_n", ""], ["", ""])`` gives
    ``["small_n", ""]``.

    Examples
    --------
    >>> join_flags(np.array(["small_n", ""]), np.array(["not_covered", ""])).tolist()
    ['small_n;not_covered', '']
    """
    cols = [np.asarray(f, dtype=object) for f in flags]
    if not cols:
        return np.array([], dtype=object)
    out = np.full(len(cols[0]), "", dtype=object)
    for c in cols:
        c = np.where(pd.isna(c), "", c).astype(str)
        out = np.where(out == "", c, np.where(c == "", out, out + ";" + c))
    return out.astype(object)


# --------------------------------------------------------------------------- rates
def wilson_interval(successes, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for binomial proportions, vectorised.

    Computes ``statsmodels.stats.proportion.proportion_confint(method="wilson")``
    (statsmodels' default would be the Wald interval, which is wrong near 0 and 1)
    with the same operations, so the results are identical to the last bit (tested),
    without importing statsmodels and ``scipy.stats`` on the indicators' path.

    Parameters
    ----------
    successes, n : array_like
        Counts of successes and trials (broadcast together).
    alpha : float
        1 - confidence level (0.05 gives 95% intervals).

    Returns
    -------
    low, high : numpy.ndarray of float
        Bounds in [0, 1]; ``NaN`` where ``n == 0`` or either input is missing.

    Examples
    --------
    >>> low, high = wilson_interval([81, 0], [263, 20])
    >>> np.round(low, 4).tolist(), np.round(high, 4).tolist()
    ([0.2553, 0.0], [0.3662, 0.1611])
    """
    x = np.asarray(pd.to_numeric(pd.Series(np.ravel(successes)), errors="coerce"), dtype=float)
    m = np.asarray(pd.to_numeric(pd.Series(np.ravel(n)), errors="coerce"), dtype=float)
    shape = np.broadcast(np.asarray(successes), np.asarray(n)).shape
    x, m = np.broadcast_arrays(x.reshape(np.shape(successes)), m.reshape(np.shape(n)))
    x = np.ravel(x).astype(float)
    m = np.ravel(m).astype(float)
    ok = np.isfinite(x) & np.isfinite(m) & (m > 0)
    low = np.full(x.shape, np.nan)
    high = np.full(x.shape, np.nan)
    if ok.any():
        lo, hi = _wilson(x[ok], m[ok], alpha)
        low[ok] = np.clip(lo, 0.0, 1.0)
        high[ok] = np.clip(hi, 0.0, 1.0)
    return low.reshape(shape), high.reshape(shape)


def _wilson(count: np.ndarray, nobs: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """``statsmodels.stats.proportion.proportion_confint(count, nobs, alpha, method="wilson")``,
    the same operations in the same order (bit-identical results; tested against it),
    without importing statsmodels and scipy.stats (about 1 s) in every run."""
    crit = -_ndtri(alpha / 2.0)  # = scipy.stats.norm.isf(alpha / 2)
    q_ = count / nobs
    crit2 = crit**2
    denom = 1 + crit2 / nobs
    center = (q_ + crit2 / (2 * nobs)) / denom
    dist = crit * np.sqrt(q_ * (1.0 - q_) / nobs + crit2 / (4.0 * nobs**2))
    dist /= denom
    return np.clip(center - dist, 0, 1), np.clip(center + dist, 0, 1)


def rate_table(
    df: pd.DataFrame,
    group_cols: str | Sequence[str],
    success_col: str,
    alpha: float = 0.05,
    min_n: int = DEFAULT_MIN_N,
) -> pd.DataFrame:
    """Group-wise rate with a Wilson interval.

    Parameters
    ----------
    df : DataFrame
        One row per unit (case, respondent, child).
    group_cols : str or sequence of str
        Grouping columns (for example ``["mechanism_id"]``). Missing group
        labels form their own group.
    success_col : str
        Boolean (or 0/1) column; missing values are excluded from ``n``.
    alpha : float
        1 - confidence level.
    min_n : int
        ``n`` below this gets the flag ``small_n``.

    Returns
    -------
    DataFrame
        ``*group_cols, successes, n, value, ci_low, ci_high, flags``; one row per
        group present in ``df`` (groups whose values are all missing have
        ``n = 0`` and ``value`` NaN).

    Examples
    --------
    >>> d = pd.DataFrame({"mechanism_id": ["a", "a", "a", "b"],
    ...                   "ok": pd.array([True, False, None, True], dtype="boolean")})
    >>> rate_table(d, "mechanism_id", "ok")[["mechanism_id", "successes", "n", "value"]]
      mechanism_id  successes  n  value
    0            a          1  2    0.5
    1            b          1  1    1.0
    """
    cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    y = pd.to_numeric(df[success_col].astype("Float64"), errors="coerce")
    work = df[cols].copy()
    work["_s"] = y.fillna(0).astype(float).to_numpy()
    work["_n"] = y.notna().astype(int).to_numpy()
    out = work.groupby(cols, dropna=False, sort=True, observed=True)[["_s", "_n"]].sum()
    out = out.reset_index().rename(columns={"_s": "successes", "_n": "n"})
    out["successes"] = out["successes"].round().astype("int64")
    out["n"] = out["n"].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = np.where(out["n"] > 0, out["successes"] / out["n"].where(out["n"] > 0), np.nan)
    out["ci_low"], out["ci_high"] = wilson_interval(out["successes"].to_numpy(), out["n"].to_numpy(), alpha)
    out["flags"] = np.where(out["n"] < min_n, "small_n", "").astype(object)
    return out


# --------------------------------------------------------------------------- Kaplan-Meier
def _km_input(durations, events) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=float)
    if t.shape != e.shape:
        raise ValueError("durations and events must have the same length")
    ok = np.isfinite(t) & np.isfinite(e)
    return t[ok], (e[ok] > 0).astype(float)


def _survfunc(durations, events):
    from statsmodels.duration.survfunc import SurvfuncRight

    t, e = _km_input(durations, events)
    if len(t) == 0:
        return None
    return SurvfuncRight(t, e)


def _loglog_ci(sp: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log) confidence band for S(t) (Kalbfleisch-Prentice)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = se / (sp * np.log(sp))  # sd of log(-log S), up to sign
        lo = sp ** np.exp(-z * theta)
        hi = sp ** np.exp(z * theta)
    low = np.minimum(lo, hi)
    high = np.maximum(lo, hi)
    bad = ~np.isfinite(theta)
    low[bad] = np.nan
    high[bad] = np.nan
    return low, high


def km_curve(durations, events, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan-Meier survival curve of one sample (statsmodels ``SurvfuncRight``).

    Parameters
    ----------
    durations : array_like
        Time from start to event or censoring (days). Missing values are dropped.
    events : array_like
        1/True for an observed event, 0/False for right censoring.
    alpha : float
        1 - confidence level of the pointwise band.

    Returns
    -------
    DataFrame
        ``t, survival, ci_low, ci_high, at_risk``: one row per distinct event
        time (S is 1 before the first row). The band is the pointwise
        log(-log) interval from Greenwood's variance; NaN where the variance is
        undefined (S = 0).

    Examples
    --------
    >>> km_curve([1, 2, 2, 3], [1, 1, 0, 1])[["t", "survival", "at_risk"]]
         t  survival  at_risk
    0  1.0      0.75        4
    1  2.0      0.50        3
    2  3.0      0.00        1
    """
    sf = _survfunc(durations, events)
    cols = ["t", "survival", "ci_low", "ci_high", "at_risk"]
    if sf is None or len(sf.surv_times) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols}).astype({"at_risk": "int64"})
    z = _ndtri(1 - alpha / 2)  # = scipy.stats.norm.ppf
    sp = np.round(np.asarray(sf.surv_prob, dtype=float), _SP_DECIMALS)
    lo, hi = _loglog_ci(sp, np.asarray(sf.surv_prob_se, dtype=float), z)
    return pd.DataFrame(
        {
            "t": np.asarray(sf.surv_times, dtype=float),
            "survival": sp,
            "ci_low": lo,
            "ci_high": hi,
            "at_risk": np.asarray(sf.n_risk).astype("int64"),
        }
    )


def km_quantile(durations, events, p: float | Sequence[float] = (0.5, 0.9),
                alpha: float = 0.05) -> pd.DataFrame:
    """Quantiles of the time to event with confidence intervals (Kaplan-Meier).

    The ``p``-quantile is the first event time at which S(t) < 1 - p
    (``SurvfuncRight.quantile``, the SAS convention with a strict inequality);
    its interval inverts the log(-log) Z-test (``SurvfuncRight.quantile_ci``,
    ``method="cloglog"``).

    Parameters
    ----------
    durations, events : array_like
        As in :func:`km_curve`.
    p : float or sequence of float
        Probabilities: 0.5 for the median, 0.9 for the 90th percentile.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        ``p, value, ci_low, ci_high``. ``value`` is NaN when S(t) never drops
        below 1 - p; ``ci_high`` is NaN when the upper limit is not reached
        (statsmodels returns ``inf``), as R's ``survfit`` prints ``NA``.

    Examples
    --------
    >>> km_quantile([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], p=0.5)["value"].tolist()
    [4.0]
    """
    ps = [float(p)] if np.ndim(p) == 0 else [float(x) for x in p]
    sf = _survfunc(durations, events)
    rows = []
    for q in ps:
        if sf is None or len(sf.surv_times) == 0:
            rows.append((q, np.nan, np.nan, np.nan))
            continue
        sf.surv_prob = np.round(sf.surv_prob, _SP_DECIMALS)  # see _SP_DECIMALS
        value = float(sf.quantile(q))
        with np.errstate(divide="ignore", invalid="ignore"):
            lb, ub = sf.quantile_ci(q, alpha=alpha, method="cloglog")
        lb, ub = float(lb), float(ub)
        rows.append((q, value, lb, ub if np.isfinite(ub) else np.nan))
    return pd.DataFrame(rows, columns=["p", "value", "ci_low", "ci_high"])


def km_at(durations, events, t) -> float | np.ndarray:
    """Kaplan-Meier estimate of S(t) = P(T > t) at given times.

    ``1 - km_at(d, e, 30)`` is the estimated share of events within 30 days.
    S is a right-continuous step function: an event at exactly ``t`` counts as
    happened by ``t``. Beyond the largest observed time S is undefined unless it
    has reached 0, and NaN is returned.

    Parameters
    ----------
    durations, events : array_like
        As in :func:`km_curve`.
    t : float or array_like
        Time(s) at which to evaluate S.

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``t``.

    Examples
    --------
    >>> float(km_at([1, 2, 2, 3], [1, 1, 0, 1], 2))
    0.5
    """
    tt = np.asarray(t, dtype=float)
    sf = _survfunc(durations, events)
    if sf is None:
        out = np.full(tt.shape, np.nan)
        return float(out) if out.ndim == 0 else out
    times = np.asarray(sf.surv_times, dtype=float)
    sp = np.round(np.asarray(sf.surv_prob, dtype=float), _SP_DECIMALS)
    idx = np.searchsorted(times, tt, side="right") - 1
    out = np.where(idx >= 0, sp[np.clip(idx, 0, None)] if len(sp) else 1.0, 1.0)
    tmax = float(np.max(sf.time))
    reached_zero = len(sp) > 0 and sp[-1] == 0
    out = np.where((tt > tmax) & ~reached_zero, np.nan, out)
    return float(out) if np.ndim(out) == 0 else out


def _group_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each index in ``starts`` (sorted, first is 0).

    Summed sequentially from zero within each segment, so the floating-point
    result is identical to ``np.cumsum`` on that segment alone.
    """
    if len(values) == 0:
        return np.asarray(values, dtype=float)
    seg = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(values))))
    return pd.Series(np.asarray(values, dtype=float)).groupby(seg).cumsum().to_numpy()


#: Survival probabilities are rounded to this many decimals before quantiles are
#: read off, so that float noise (0.5000000000000001) cannot move a median.
_SP_DECIMALS = 12


def km_by_group(
    df: pd.DataFrame,
    group_cols: str | Sequence[str],
    duration_col: str = "duration",
    event_col: str = "event",
    probs: Sequence[float] = (0.5, 0.9),
    alpha: float = 0.05,
    targets: pd.Series | np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier for every group at once (vectorised product-limit).

    Gives the same numbers as calling :func:`km_curve`, :func:`km_quantile`
    and :func:`km_at` (that is, statsmodels ``SurvfuncRight``) on each group,
    without a Python loop over groups.

    Parameters
    ----------
    df : DataFrame
        One row per subject: group columns, a duration (>= 0) and an event
        indicator (1 event, 0 censored). Rows with a missing duration are dropped.
    group_cols : str or sequence of str
        Grouping columns.
    duration_col, event_col : str
        Column names.
    probs : sequence of float
        Quantiles to estimate (median 0.5, 90th percentile 0.9).
    alpha : float
        1 - confidence level.
    targets : array_like, optional
        One target time per row of ``df`` (constant within a group); when
        given, the summary gets ``target`` and ``within_target`` = 1 - S(target).

    Returns
    -------
    curves : DataFrame
        ``*group_cols, t, survival, ci_low, ci_high, at_risk`` at each event time.
    summary : DataFrame
        ``*group_cols, n, events`` and, for each ``p`` in ``probs``, columns
        ``q{100p}``, ``q{100p}_ci_low``, ``q{100p}_ci_high`` (``q50``, ``q90``),
        plus ``target, within_target`` when ``targets`` is given.

    Examples
    --------
    >>> d = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 2, "duration": [1, 2, 2, 3, 5, 6],
    ...                   "event": [1, 1, 0, 1, 1, 0]})
    >>> curves, summary = km_by_group(d, "g")
    >>> summary[["g", "n", "events", "q50"]]
       g  n  events  q50
    0  a  4       3  3.0
    1  b  2       1  NaN
    """
    cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    dur = pd.to_numeric(df[duration_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    keep = np.isfinite(dur)
    ev = pd.to_numeric(df[event_col], errors="coerce").fillna(0).to_numpy(dtype=float) > 0
    codes, uniques = _factorize_groups(df[cols])
    tgt = None
    if targets is not None:
        tgt_all = np.asarray(pd.to_numeric(pd.Series(np.asarray(targets)), errors="coerce"), dtype=float)
        tgt = np.full(len(uniques), np.nan)
        tgt[codes[keep]] = tgt_all[keep]  # constant within group: any row will do
    curve, summ = _km_arrays(codes[keep], dur[keep], ev[keep], len(uniques), probs, alpha, tgt)
    ug = curve.pop("group")
    curves = uniques.iloc[ug].reset_index(drop=True)
    for name, values in curve.items():
        curves[name] = values
    summary = uniques.reset_index(drop=True).copy()
    for name, values in summ.items():
        summary[name] = values
    return curves, summary


def _km_arrays(g: np.ndarray, t: np.ndarray, e: np.ndarray, n_groups: int,
               probs: Sequence[float] = (0.5, 0.9), alpha: float = 0.05,
               tgt: np.ndarray | None = None) -> tuple[dict, dict]:
    """The product-limit computation of :func:`km_by_group` on plain arrays.

    Parameters
    ----------
    g : numpy.ndarray of int
        Group code of each subject, in ``[0, n_groups)``.
    t : numpy.ndarray of float
        Finite durations (>= 0).
    e : numpy.ndarray of bool
        Event observed.
    n_groups : int
        Number of groups (groups without subjects get ``n = 0``).
    probs, alpha
        As in :func:`km_by_group`.
    tgt : numpy.ndarray of float, optional
        Target time of each group.

    Returns
    -------
    curve : dict of str to numpy.ndarray
        ``group, t, survival, ci_low, ci_high, at_risk``, one entry per event
        time, sorted by group then time.
    summary : dict of str to numpy.ndarray
        One entry per group: the summary columns of :func:`km_by_group`.
    """
    ug, ut, cnt, d = _distinct_times(g, t, e, n_groups)
    return _km_from_distinct(ug, ut, cnt, d, n_groups, probs, alpha, tgt)


def _km_from_distinct(ug: np.ndarray, ut: np.ndarray, cnt: np.ndarray, d: np.ndarray, n_groups: int,
                      probs: Sequence[float] = (0.5, 0.9), alpha: float = 0.05,
                      tgt: np.ndarray | None = None) -> tuple[dict, dict]:
    """:func:`_km_arrays` from the distinct (group, time) pairs of :func:`_distinct_times`."""
    z = _ndtri(1 - alpha / 2)  # = scipy.stats.norm.ppf
    n_obs = np.bincount(ug, weights=cnt, minlength=n_groups).astype("int64")
    n_ev = np.bincount(ug, weights=d, minlength=n_groups).astype("int64")
    tmax = np.full(n_groups, np.nan)
    is_last = _segment_ends(ug)
    tmax[ug[is_last]] = ut[is_last]
    # at risk just before each time: group size minus those with smaller times
    n_risk = n_obs[ug] - _exclusive_group_cumsum(cnt, ug)

    # keep event times only (compress=True in statsmodels)
    m = d > 0
    ug, ut, d, n_risk = ug[m], ut[m], d[m].astype(float), n_risk[m].astype(float)
    gstarts = np.flatnonzero(_segment_starts(ug))
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = 1 - d / n_risk
        tiny = frac < 1e-16
        logsp = np.log(np.where(tiny, 1e-16, frac))
        sp = np.exp(_group_cumsum(logsp, gstarts))
        sp[tiny] = 0.0
        sp = np.round(sp, _SP_DECIMALS)
        denom = np.clip(n_risk * (n_risk - d), 1e-12, np.inf)
        gw = d / denom
        bad = (n_risk == d) | (n_risk == 0)
        gw[bad] = 0.0
        # a bad time at or before: the variance is undefined from there on
        bad_so_far = (_exclusive_group_cumsum(bad.astype(np.int64), ug) + bad) > 0
        se = np.sqrt(_group_cumsum(gw, gstarts)) * sp
        se[bad_so_far] = np.nan
        se[(sp == 0) & ~np.isfinite(se)] = np.nan
    lo, hi = _loglog_ci(sp, se, z)
    curve = {"group": ug, "t": ut, "survival": sp, "ci_low": lo, "ci_high": hi,
             "at_risk": n_risk.astype("int64")}

    summary: dict[str, np.ndarray] = {"n": n_obs.astype("int64"), "events": n_ev}
    is_last = _segment_ends(ug)
    for p in probs:
        name = f"q{round(p * 100):d}"
        val = np.full(n_groups, np.nan)
        low = np.full(n_groups, np.nan)
        high = np.full(n_groups, np.nan)
        gg, first = _first_in_group(ug, sp < 1 - p)
        val[gg] = ut[first]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (np.log(-np.log(sp)) - np.log(-np.log(1 - p))) / ((-1 / (sp * np.log(sp))) * se)
        ok = np.abs(r) <= z
        gg, first = _first_in_group(ug, ok)
        low[gg] = ut[first]
        gg, li = _last_in_group(ug, ok)
        high[gg] = np.where(is_last[li], np.nan, ut[np.minimum(li + 1, len(ut) - 1)])
        summary[name] = val
        summary[f"{name}_ci_low"] = low
        summary[f"{name}_ci_high"] = high
    if tgt is not None:
        s_at = np.ones(n_groups)
        # last event time <= target within each group
        gg, li = _last_in_group(ug, np.isfinite(tgt[ug]) & (ut <= tgt[ug]))
        s_at[gg] = sp[li]
        reached_zero = np.zeros(n_groups, dtype=bool)
        reached_zero[ug[is_last]] = sp[is_last] == 0
        defined = np.isfinite(tgt) & (n_obs > 0) & ((tgt <= tmax) | reached_zero)
        summary["target"] = tgt
        summary["within_target"] = np.where(defined, 1 - s_at, np.nan)
    return curve, summary


def _segment_starts(sorted_codes: np.ndarray) -> np.ndarray:
    """True where a run of equal values of a sorted array begins."""
    new = np.ones(len(sorted_codes), dtype=bool)
    np.not_equal(sorted_codes[1:], sorted_codes[:-1], out=new[1:])
    return new


def _segment_ends(sorted_codes: np.ndarray) -> np.ndarray:
    """True where a run of equal values of a sorted array ends."""
    last = np.ones(len(sorted_codes), dtype=bool)
    np.not_equal(sorted_codes[1:], sorted_codes[:-1], out=last[:-1])
    return last


def _first_in_group(sorted_codes: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Groups with a True in ``mask``, and the position of the first in each."""
    idx = np.flatnonzero(mask)
    g = sorted_codes[idx]
    first = _segment_starts(g)
    return g[first], idx[first]


def _last_in_group(sorted_codes: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Groups with a True in ``mask``, and the position of the last in each."""
    idx = np.flatnonzero(mask)
    g = sorted_codes[idx]
    last = _segment_ends(g)
    return g[last], idx[last]


def _exclusive_group_cumsum(counts: np.ndarray, sorted_codes: np.ndarray) -> np.ndarray:
    """Integer sum of ``counts`` over the earlier positions of the same group (exact)."""
    cs = np.cumsum(counts)
    before = cs - counts
    starts = np.flatnonzero(_segment_starts(sorted_codes))
    lengths = np.diff(np.append(starts, len(counts)))
    return before - np.repeat(before[starts], lengths)


def _distinct_times(g: np.ndarray, t: np.ndarray, e: np.ndarray, n_groups: int):
    """Distinct (group, time) pairs sorted by group then time, with counts and events.

    Whole-number times are packed with the group code and the event flag into
    one integer key and sorted (32-bit keys when they fit: a fast vectorised
    sort of millions of rows); other times are sorted with ``lexsort``.

    Returns
    -------
    group : numpy.ndarray of int64
    time : numpy.ndarray of float
    count, events : numpy.ndarray of int64
        Subjects, and events among them, at each (group, time).
    """
    e = np.asarray(e, dtype=bool)
    if len(t) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.astype(float), z, z
    tmin, tmaxall = float(t.min()), float(t.max())
    integer = tmin >= 0 and tmaxall < 2**52 and bool(np.all(t == np.floor(t)))
    width = int(tmaxall) + 1 if integer else 0
    if integer and n_groups * width < 2**61:
        key = t.astype(np.int64)  # in place from here: fewer million-row temporaries
        key *= 2
        key += e
        key += np.multiply(g, 2 * width, dtype=np.int64)
        if n_groups * width < 2**30:
            key = key.astype(np.int32)
        return _distinct_packed(key, width)
    order = np.lexsort((t, g))
    gs, ts, es = g[order], t[order], e[order]
    new = np.r_[True, (np.diff(gs) != 0) | (np.diff(ts) != 0)]
    starts = np.flatnonzero(new)
    cnt = np.diff(np.r_[starts, len(gs)])
    return gs[starts].astype(np.int64), ts[starts], cnt, np.add.reduceat(es.astype(np.int64), starts)


def _distinct_packed(key: np.ndarray, width: int):
    """:func:`_distinct_times` from packed keys ``(group * width + time) * 2 + event``.

    ``key`` (whole times in ``[0, width)``) is sorted in place.
    """
    if len(key) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.astype(float), z, z
    key.sort()
    starts = np.flatnonzero(_segment_starts(key >> 1))
    cnt = np.diff(np.append(starts, len(key)))
    d = np.add.reduceat((key & 1).astype(np.int64), starts)
    pair = (key[starts] >> 1).astype(np.int64)
    return pair // width, (pair % width).astype(float), cnt, d


def join_labels(keys, labels) -> pd.Series:
    """``;``-joined sorted distinct labels per key, without a pandas call per key.

    Examples
    --------
    >>> join_labels([2, 1, 2, 2], ["b", "x", "a", "b"]).to_dict()
    {1: 'x', 2: 'a;b'}
    """
    k = np.asarray(keys)
    lab = np.asarray(labels, dtype=object)
    if not all(type(x) is str for x in lab.tolist()):
        lab = pd.Series(lab).astype(str).to_numpy(dtype=object)
    if len(k) == 0:
        return pd.Series(dtype=object)
    lcode, luniq = pd.factorize(lab, sort=True)
    kcode, kuniq = pd.factorize(k, sort=True)
    pair = _distinct(kcode.astype(np.int64) * len(luniq) + lcode)
    kk, ll = pair // len(luniq), pair % len(luniq)
    starts = np.flatnonzero(np.r_[True, kk[1:] != kk[:-1]])
    joined = _join_runs(ll, starts, np.asarray(luniq, dtype=object))
    return pd.Series(joined, index=np.asarray(kuniq)[kk[starts]], dtype=object)


def _join_runs(codes: np.ndarray, starts: np.ndarray, names: np.ndarray) -> np.ndarray:
    """``";".join(names[codes[a:b]])`` for each run ``a:b`` between ``starts``, as objects.

    Runs of at most four codes are identified by one integer, so that each
    distinct combination (``female;male`` for most tests) is joined once.
    """
    lens = np.diff(np.r_[starts, len(codes)])
    out = np.empty(len(starts), dtype=object)
    short = lens <= 4 if len(names) < 2**15 else np.zeros(len(starts), dtype=bool)
    if short.any():
        sig = np.zeros(len(starts), dtype=np.int64)
        for j in range(4):
            has = short & (lens > j)
            sig[has] |= (codes[starts[has] + j].astype(np.int64) + 1) << (15 * j)
        usig, inv = np.unique(sig[short], return_inverse=True)
        texts = []
        for s in usig.tolist():
            parts = []
            while s:
                parts.append(names[(s & 0x7FFF) - 1])
                s >>= 15
            texts.append(";".join(parts))
        out[short] = np.array(texts, dtype=object)[inv]
    names_list = names.tolist()
    for i in np.flatnonzero(~short).tolist():
        a = starts[i]
        out[i] = ";".join([names_list[c] for c in codes[a:a + lens[i]].tolist()])
    return out


def _factorize_groups(keys: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer codes for the distinct rows of ``keys`` (sorted), and those rows."""
    if len(keys.columns) == 1:
        c = keys.columns[0]
        v = keys[c]
        if pd.api.types.is_integer_dtype(v.dtype) and not isinstance(v.dtype, pd.api.extensions.ExtensionDtype) \
                and len(v) and v.min() >= 0 and v.max() < 50_000_000:
            # non-negative integer keys: sorted distinct values by counting, no hashing
            a = v.to_numpy()
            present = np.flatnonzero(np.bincount(a))
            remap = np.zeros(int(a.max()) + 1, dtype=np.int64)
            remap[present] = np.arange(len(present))
            return remap[a], pd.DataFrame({c: present.astype(a.dtype)})
        codes, uniq = pd.factorize(v, sort=True, use_na_sentinel=False)
        return codes.astype(np.int64), pd.DataFrame({c: uniq})
    mi = pd.MultiIndex.from_frame(keys)
    codes, uniq = pd.factorize(mi, sort=True, use_na_sentinel=False)
    uniq_df = pd.MultiIndex.from_tuples(list(uniq), names=keys.columns).to_frame(index=False)
    return codes.astype(np.int64), uniq_df


# --------------------------------------------------------------------------- multiple testing
def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values.

    Calls ``statsmodels.stats.multitest.multipletests(method="holm")``
    explicitly (its default is Holm-Sidak). Missing p-values stay missing and
    do not count towards the number of tests.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        res = multipletests(p[ok], alpha=0.05, method="holm")
        out[ok] = res[1]
    return out


def holm_by_group(pvalues, groups) -> np.ndarray:
    """Holm adjustment within each group, vectorised (same as :func:`holm` per group).

    Parameters
    ----------
    pvalues : array_like
        Raw p-values; NaN are left out of the family and stay NaN.
    groups : array_like
        Family label per p-value (for example the mechanism id).

    Examples
    --------
    >>> holm_by_group([0.01, 0.04, 0.03, 0.2], ["a", "a", "a", "b"]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.2]
    """
    p = np.asarray(pvalues, dtype=float)
    g = pd.factorize(np.asarray(groups))[0]  # -1: missing family, left out
    ok = np.flatnonzero(np.isfinite(p) & (g >= 0))
    o = ok[np.lexsort((p[ok], g[ok]))]  # by family, then p (stable: ties keep their order)
    gs, ps = g[o], p[o]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]]) if len(o) else np.zeros(0, np.int64)
    size = np.diff(np.r_[starts, len(o)])
    m = np.repeat(size, size)
    rank = np.arange(len(o)) - np.repeat(starts, size)
    adj = np.minimum(1.0, (m - rank) * ps)
    adj = pd.Series(adj).groupby(gs, sort=False).cummax().to_numpy()
    out = np.full(len(p), np.nan)
    out[o] = np.minimum(adj, 1.0)
    return out


# --------------------------------------------------------------------------- reliability
class AlphaResult(NamedTuple):
    """Cronbach's alpha with its Feldt confidence interval."""

    alpha: float
    ci_low: float
    ci_high: float
    n_listwise: int
    k: int


def cronbach_alpha(df_items: pd.DataFrame, ci: float = 0.95) -> AlphaResult:
    """Cronbach's alpha of a scale, **listwise** deletion, Feldt interval.

    Calls ``pingouin.cronbach_alpha(nan_policy="listwise")``: respondents with
    any missing item are dropped (pingouin's default, pairwise, would mix
    different respondents per item pair). Feldt's interval is recomputed here
    from the number of respondents actually analysed (pingouin 0.7 takes its
    degrees of freedom from the row count *before* listwise deletion and
    rounds the bounds to 3 decimals).

    Parameters
    ----------
    df_items : DataFrame
        One column per item, one row per respondent, numeric.
    ci : float
        Confidence level.

    Returns
    -------
    AlphaResult
        ``alpha, ci_low, ci_high, n_listwise, k``; NaN when fewer than 2
        complete respondents or fewer than 2 items.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(cronbach_alpha(d).alpha, 3)
    0.954
    """
    import pingouin as pg

    data = df_items.apply(pd.to_numeric, errors="coerce").astype(float)
    k = data.shape[1]
    complete = data.dropna(how="any")
    n = len(complete)
    if k < 2 or n < 2 or complete.var(ddof=1).sum() == 0 and complete.sum(axis=1).var(ddof=1) == 0:
        return AlphaResult(np.nan, np.nan, np.nan, n, k)
    a, _ = pg.cronbach_alpha(data=data, nan_policy="listwise", ci=ci)
    lo, hi = _feldt(np.array([a]), np.array([n]), k, ci)
    return AlphaResult(float(a), float(lo[0]), float(hi[0]), int(n), int(k))


def _feldt(a: np.ndarray, n: np.ndarray, k: int, ci: float) -> tuple[np.ndarray, np.ndarray]:
    lev = 1 - ci
    df1 = n - 1.0
    df2 = df1 * (k - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = 1 - (1 - a) * _f_isf(lev / 2, df1, df2)
        upper = 1 - (1 - a) * _f_isf(1 - lev / 2, df1, df2)
    return lower, upper


def cronbach_alpha_by_group(
    df: pd.DataFrame, group_cols: str | Sequence[str], items: Sequence[str], ci: float = 0.95
) -> pd.DataFrame:
    """Cronbach's alpha per group, listwise, vectorised (same as :func:`cronbach_alpha`).

    alpha = k / (k - 1) * (1 - sum of item variances / variance of the total),
    computed on the respondents with every item present.

    Returns
    -------
    DataFrame
        ``*group_cols, n_listwise, cronbach_alpha, ci_low, ci_high``.

    Examples
    --------
    >>> d = pd.DataFrame({"g": ["x"] * 5, "a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5],
    ...                   "c": [1, 3, 3, 4, 4]})
    >>> float(round(cronbach_alpha_by_group(d, "g", ["a", "b", "c"])["cronbach_alpha"].iloc[0], 3))
    0.954
    """
    cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    items = list(items)
    x = [pd.to_numeric(df[c], errors="coerce").astype(float).to_numpy(na_value=np.nan) for c in items]
    codes, keys = _factorize_groups(df[cols])
    r = _alpha_by_codes(x, [(codes, len(keys))], ci)[0]
    present = r["n_listwise"] > 0
    out = keys[present].reset_index(drop=True)
    for c in ("n_listwise", "cronbach_alpha", "ci_low", "ci_high"):
        out[c] = r[c][present]
    # groups with no complete respondent
    allg = df[cols].drop_duplicates().sort_values(cols).reset_index(drop=True)
    out = allg.merge(out, on=cols, how="left")
    out["n_listwise"] = out["n_listwise"].fillna(0).astype("int64")
    return out


def _alpha_by_codes(x: Sequence[np.ndarray], groupings: Sequence[tuple[np.ndarray, int]],
                    ci: float = 0.95) -> list[dict[str, np.ndarray]]:
    """Cronbach's alpha (listwise) and Feldt bounds of each group, for several groupings.

    ``x`` holds the items (float arrays, NaN missing); each grouping is
    ``(codes, ngroups)``, every row's group in ``0..ngroups-1``. Returns per
    grouping ``n_listwise`` (0 for a group without complete respondents, whose
    other values are NaN), ``cronbach_alpha``, ``ci_low``, ``ci_high``. The
    variances are pandas' grouped ``var`` (Welford, in row order), the sums run
    item by item in order: the same operations, and bits, as the original
    per-column pandas form of :func:`cronbach_alpha_by_group`.
    """
    k = len(x)
    complete = np.ones(len(groupings[0][0]), dtype=bool)
    for v in x:
        complete &= ~np.isnan(v)
    work = np.empty((int(complete.sum()), k + 1))
    for j, v in enumerate(x):
        work[:, j] = v[complete]
    # the total, summed item by item from the first (as pandas' row sum over
    # one-column blocks did)
    work[:, k] = work[:, 0]
    for j in range(1, k):
        work[:, k] += work[:, j]
    work = pd.DataFrame(work)
    results = []
    for codes, ngroups in groupings:
        grp = work.groupby(np.asarray(codes, dtype=np.int64)[complete], sort=True)
        var = grp.var(ddof=1)
        n = grp.size()
        v = var.to_numpy()
        sum_var = v[:, 0].copy()  # item variances summed in order, NaN if any is NaN
        for j in range(1, k):
            sum_var += v[:, j]
        tot = v[:, k]
        with np.errstate(invalid="ignore", divide="ignore"):
            a = (k / (k - 1)) * (1 - sum_var / tot) if k >= 2 else np.full(len(tot), np.nan)
        a = np.where((tot > 0) & np.isfinite(tot), a, np.nan)
        nn = n.to_numpy().astype(float)
        lo, hi = _feldt(a, nn, k, ci)
        at = var.index.to_numpy()
        out = {"n_listwise": np.zeros(ngroups, dtype=np.int64)}
        out["n_listwise"][at] = n.to_numpy()
        for c, val in (("cronbach_alpha", a), ("ci_low", np.where(nn >= 2, lo, np.nan)),
                       ("ci_high", np.where(nn >= 2, hi, np.nan))):
            out[c] = np.full(ngroups, np.nan)
            out[c][at] = val
        results.append(out)
    return results


# --------------------------------------------------------------------------- group comparisons
def chi2_by_group(
    df: pd.DataFrame,
    test_cols: Sequence[str],
    group_col: str,
    outcome_col: str,
    correction: bool = True,
    min_expected: float = 5.0,
    weight_col: str | None = None,
) -> pd.DataFrame:
    """Chi-square tests of independence (groups × outcome) for many tables at once.

    Reproduces the ``pearson`` row of ``pingouin.chi2_independence`` (which
    follows ``scipy.stats.chi2_contingency``): Yates' continuity correction when
    the table has one degree of freedom, Cramér's V = sqrt(chi2 / (n (min(r, c) - 1)))
    from the same statistic.

    Parameters
    ----------
    df : DataFrame
        One row per unit with the test-identifying columns, a group label and
        an outcome (any hashable; missing rows are dropped).
    test_cols : sequence of str
        Columns that identify one test (for example mechanism, indicator, dimension).
    group_col, outcome_col : str
        The two variables tested for independence.
    correction : bool
        Yates' correction for 2 × 2 tables.
    min_expected : float
        Tables with any expected count below this are flagged ``small_n`` and
        get no statistic.
    weight_col : str, optional
        Frequency weights: each row stands for this many units (for tests
        run on already aggregated counts).

    Returns
    -------
    DataFrame
        ``*test_cols, statistic, dof, p_value, effect_size, n, groups, flags``
        (``groups`` lists the group labels compared, ``;``-separated).

    Examples
    --------
    >>> d = pd.DataFrame({"t": "x", "g": ["a"] * 40 + ["b"] * 40,
    ...                   "y": [1] * 30 + [0] * 10 + [1] * 15 + [0] * 25})
    >>> r = chi2_by_group(d, ["t"], "g", "y")
    >>> float(round(r["statistic"].iloc[0], 3)), float(round(r["p_value"].iloc[0], 4))
    (9.956, 0.0016)
    """
    test_cols = list(test_cols)
    d = df[test_cols + [group_col, outcome_col]].copy()
    d["_w"] = 1.0 if weight_col is None else pd.to_numeric(df[weight_col]).astype(float).to_numpy()
    d = d.dropna(subset=[group_col, outcome_col])
    cnt = (
        d.groupby(test_cols + [group_col, outcome_col], sort=True, observed=True)["_w"]
        .sum()
        .rename("o")
        .reset_index()
    )
    cnt = cnt[cnt["o"] > 0]
    cols_out = test_cols + ["statistic", "dof", "p_value", "effect_size", "n", "groups", "flags"]
    if cnt.empty:
        return pd.DataFrame(columns=cols_out)
    tid, tkeys = _factorize_groups(cnt[test_cols])
    rcode = pd.factorize(cnt[group_col], sort=True)[0]
    ccode = pd.factorize(cnt[outcome_col], sort=True)[0]
    r = _chi2_cells(tid, rcode, ccode, cnt["o"].to_numpy(dtype=float), correction)
    small = (r["min_e"] < min_expected) | (r["dof"] < 1)
    labels = join_labels(r["row_test"], cnt[group_col].to_numpy()[r["row_first"]])
    out = tkeys.iloc[r["test"]].reset_index(drop=True)
    out["statistic"] = np.where(small, np.nan, r["statistic"])
    out["dof"] = r["dof"].astype(float)
    out["p_value"] = np.where(small, np.nan, r["p_value"])
    out["effect_size"] = np.where(small, np.nan, r["effect_size"])
    out["n"] = r["n"].astype("int64")
    out["groups"] = labels.reindex(r["test"]).to_numpy()
    out["flags"] = np.where(small, "small_n", "").astype(object)
    return out[cols_out]


def _seg_sum(values, codes, n: int) -> np.ndarray:
    """Sum of ``values`` per code ``0..n-1``, bit-identical to pandas' groupby sum.

    pandas sums each group in row order with Kahan compensation (and skips
    NaN); on integer-valued floats whose total stays below 2**53 every partial
    sum is exact, so ``np.bincount`` gives the same bits much faster.
    """
    v = np.asarray(values, dtype=float)
    codes = np.asarray(codes, dtype=np.int64)
    if len(v) == 0:
        return np.zeros(n)
    with np.errstate(invalid="ignore"):
        exact = bool(np.all(v == np.round(v))) and np.abs(v).sum() < 2.0**53
    if exact:
        return np.bincount(codes, weights=v, minlength=n)
    return pd.Series(v).groupby(codes).sum().reindex(np.arange(n), fill_value=0.0).to_numpy()


def _distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (``np.unique``, which numpy 2
    computes by hashing first, is many times slower on these arrays)."""
    s = np.sort(a)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def _starts(keys: np.ndarray) -> np.ndarray:
    """Indices where a sorted key array changes (0 first)."""
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)


def _test_positions(tid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First cell of each test (``tid`` sorted) and each cell's test position."""
    tstart = _starts(tid)
    return tstart, np.repeat(np.arange(len(tstart)), np.diff(np.r_[tstart, len(tid)]))


def _chi2_cells(tid, row, col, o, correction: bool = True) -> dict[str, np.ndarray]:
    """Chi-square statistics of many contingency tables given as their nonzero cells.

    Parameters
    ----------
    tid, row, col : array of int
        Table id, row (group) code and column (outcome) code of each cell;
        cells sorted by ``(tid, row, col)``, each at most once. Codes order the
        rows and columns as their labels sort.
    o : array of float
        Observed count of each cell (positive).
    correction : bool
        Yates' continuity correction for tables with one degree of freedom.

    Returns
    -------
    dict of arrays
        Per table, in ``tid`` order: ``test`` (the tid), ``statistic``,
        ``dof``, ``p_value``, ``effect_size`` (Cramér's V), ``n``, ``min_e``
        (smallest expected count), ``nr`` (rows); per distinct row:
        ``row_test`` and ``row_first`` (its first cell). Every table is
        completed to all its rows × all its columns before the sums, which run
        in ``(row, col)`` order as in :func:`chi2_by_group`'s original pandas
        form, so the bits do not depend on this implementation.
    """
    tid = np.asarray(tid, dtype=np.int64)
    row = np.asarray(row, dtype=np.int64)
    col = np.asarray(col, dtype=np.int64)
    o = np.asarray(o, dtype=float)
    tstart, ti = _test_positions(tid)
    ntest = len(tstart)
    rnew = np.r_[True, (ti[1:] != ti[:-1]) | (row[1:] != row[:-1])]
    rfirst = np.flatnonzero(rnew)
    rti = ti[rfirst]
    nrow = len(rfirst)
    nr = np.bincount(rti, minlength=ntest)
    ncode = int(col.max()) + 1
    ck = _distinct(ti * ncode + col)  # the columns of each table, sorted
    cti, ccol = ck // ncode, ck % ncode
    nc = np.bincount(cti, minlength=ntest)
    cfirst = np.r_[0, np.cumsum(nc)[:-1]]
    # the complete table: each row of a table with each of its columns
    rep = nc[rti]
    fr = np.repeat(np.arange(nrow), rep)
    fc = cfirst[rti[fr]] + (np.arange(len(fr)) - np.repeat(np.cumsum(rep) - rep, rep))
    ft = rti[fr]
    cell_key = (np.cumsum(rnew) - 1) * ncode + col
    full_key = fr * ncode + ccol[fc]
    pos = np.minimum(np.searchsorted(cell_key, full_key), len(cell_key) - 1)
    of = np.where(cell_key[pos] == full_key, o[pos], 0.0)
    tot = _seg_sum(of, ft, ntest)
    rs = _seg_sum(of, fr, nrow)
    cs = _seg_sum(of, fc, len(ck))
    e = rs[fr] * cs[fc] / tot[ft]
    dof = (nr - 1) * (nc - 1)
    if correction:
        diff = e - of
        o_adj = np.where(dof[ft] == 1, of + np.sign(diff) * np.minimum(0.5, np.abs(diff)), of)
    else:
        o_adj = of
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(e > 0, (o_adj - e) ** 2 / e, 0.0)
    stat = _seg_sum(c, ft, ntest)
    min_e = np.minimum.reduceat(e, _starts(ft)) if len(e) else np.zeros(0)
    dofv = dof.astype(float)
    kmin = np.minimum(nr, nc) - 1
    p = np.where(dofv >= 1, _chi2_sf(stat, np.maximum(dofv, 1)), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.sqrt(stat / (tot * kmin))
    return {"test": tid[tstart], "statistic": stat, "dof": dof, "p_value": p, "effect_size": v,
            "n": tot, "min_e": min_e, "nr": nr, "row_test": tid[rfirst], "row_first": rfirst}


def _rank_cells(tid, g, v, w) -> dict[str, np.ndarray]:
    """Midranks, rank sums and tie terms of many rank tests given as weighted cells.

    Parameters
    ----------
    tid, g, v : array of int
        Test id, group code and value code of each cell, sorted by ``(tid, g, v)``,
        each cell at most once; codes order the groups and values as they sort.
    w : array of float
        Weight (number of observations) of each cell, positive.

    Returns
    -------
    dict of arrays
        Per test, in ``tid`` order: ``test`` (the tid), ``N``, ``tie`` (sum of
        ``t**3 - t`` over tied values), ``k`` (groups), ``min_n``; per group:
        ``gtest`` (test position), ``gfirst`` (first cell), ``n``, ``R`` (rank
        sum), and ``first`` (position of each test's first group). The sums run
        in the order of :func:`mwu_by_group`'s original pandas form (values
        within a group, groups within a value), with the same bits.
    """
    tid = np.asarray(tid, dtype=np.int64)
    g = np.asarray(g, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    w = np.asarray(w, dtype=float)
    tstart, ti = _test_positions(tid)
    ntest = len(tstart)
    nv = int(v.max()) + 1
    tvk, tvi = np.unique(ti * nv + v, return_inverse=True)  # (test, value), sorted
    t = _seg_sum(w, tvi, len(tvk))
    tv_t = tvk // nv
    tv_start = _starts(tv_t)
    with np.errstate(invalid="ignore"):
        integral = bool(np.all(t == np.round(t))) and t.sum() < 2.0**53
    if integral:  # exact, as the compensated cumulative sum
        cum = np.cumsum(t)
        below = cum - np.repeat((cum - t)[tv_start], np.diff(np.r_[tv_start, len(t)])) - t
    else:
        below = _group_cumsum(t, tv_start) - t
    rank = below + (t + 1) / 2
    tie = t**3 - t
    rs = rank[tvi] * w
    gnew = np.r_[True, (ti[1:] != ti[:-1]) | (g[1:] != g[:-1])]
    gfirst = np.flatnonzero(gnew)
    gi = np.cumsum(gnew) - 1
    ngroup = len(gfirst)
    n = _seg_sum(w, gi, ngroup)
    gtest = ti[gfirst]
    first = _starts(gtest)
    return {"test": tid[tstart], "N": _seg_sum(t, tv_t, ntest), "tie": _seg_sum(tie, tv_t, ntest),
            "k": np.bincount(gtest, minlength=ntest), "min_n": np.minimum.reduceat(n, first),
            "gtest": gtest, "gfirst": gfirst, "n": n, "R": _seg_sum(rs, gi, ngroup), "first": first}


def _mwu_stats(r: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U of the first group, two-sided p-value and rank-biserial r of each test of
    :func:`_rank_cells` (meaningful where ``k == 2``)."""
    n = r["N"]
    n1 = r["n"][r["first"]]
    n2 = n - n1
    u1 = r["R"][r["first"]] - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(n1 * n2 / 12 * ((n + 1) - r["tie"] / (n * (n - 1))))
        u = np.maximum(u1, n1 * n2 - u1)
        zz = (u - mu - 0.5) / sd
        p = np.clip(2 * _norm_sf(zz), 0, 1)
        p = np.where(sd == 0, 1.0, p)  # every value identical: no evidence of a difference
        rbc = 1 - 2 * (n1 * n2 - u1) / (n1 * n2)
    return u1, p, rbc


def _kruskal_stats(r: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H (tie-corrected), p-value and epsilon-squared of each test of :func:`_rank_cells`."""
    ssum = _seg_sum(r["R"] ** 2 / r["n"], r["gtest"], len(r["test"]))
    n = r["N"]
    k = r["k"]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = 12 / (n * (n + 1)) * ssum - 3 * (n + 1)
        corr = 1 - r["tie"] / (n**3 - n)
        h = h / corr
        p = _chi2_sf(h, np.maximum(k - 1, 1))
        eps = h / (n - 1)
    return h, p, eps


def _rank_table(df, test_cols, group_col, value_col, weight_col):
    """:func:`_rank_cells` of a frame of units, the test keys and each test's groups."""
    v = pd.to_numeric(df[value_col], errors="coerce").astype(float)
    d = df[test_cols + [group_col]].copy()
    d["_v"] = v.to_numpy()
    d["_w"] = 1.0 if weight_col is None else pd.to_numeric(df[weight_col]).astype(float).to_numpy()
    d = d.dropna(subset=[group_col, "_v"])
    d = d[d["_w"] > 0]
    if d.empty:
        return None, None, None
    tid, tkeys = _factorize_groups(d[test_cols])
    gcode, guniq = pd.factorize(d[group_col].astype(str).to_numpy(), sort=True)
    vcode, vuniq = pd.factorize(d["_v"].to_numpy(), sort=True)
    ng, nv = len(guniq), len(vuniq)
    ck, ci = np.unique((tid * ng + gcode) * nv + vcode, return_inverse=True)
    w = _seg_sum(d["_w"].to_numpy(), ci, len(ck))
    r = _rank_cells(ck // (ng * nv), ck // nv % ng, ck % nv, w)
    groups = join_labels(r["test"][r["gtest"]], np.asarray(guniq, dtype=object)[ck[r["gfirst"]] // nv % ng])
    return r, tkeys, groups.to_numpy()


def mwu_by_group(
    df: pd.DataFrame,
    test_cols: Sequence[str],
    group_col: str,
    value_col: str,
    min_group_n: int = 5,
    weight_col: str | None = None,
) -> pd.DataFrame:
    """Mann-Whitney U tests of an ordinal outcome between two groups, for many tests at once.

    Reproduces ``pingouin.mwu`` (two-sided ``scipy.stats.mannwhitneyu`` with the
    normal approximation, tie correction and continuity correction, which is
    what scipy uses whenever there are ties, as with Likert data) and its
    rank-biserial correlation ``RBC = 1 - 2 U_y / (n_x n_y)``, where ``x`` is the
    first group label in sort order (positive RBC: ``x`` tends to rate higher).

    Parameters
    ----------
    df : DataFrame
        One row per unit with test-identifying columns, a group label (exactly
        two distinct labels per test; tests with another number are flagged
        ``not_applicable``) and a numeric value.
    test_cols : sequence of str
        Columns identifying a test.
    group_col, value_col : str
        Group label and ordinal outcome.
    min_group_n : int
        Tests where a group has fewer observations are flagged ``small_n``.
    weight_col : str, optional
        Frequency weights (rows standing for several units with equal values).

    Returns
    -------
    DataFrame
        ``*test_cols, statistic (U of the first group), p_value, effect_size (RBC),
        n, groups, flags``.

    Examples
    --------
    >>> d = pd.DataFrame({"t": "x", "g": ["a"] * 6 + ["b"] * 6,
    ...                   "v": [5, 4, 4, 5, 3, 4, 2, 3, 1, 2, 3, 4]})
    >>> r = mwu_by_group(d, ["t"], "g", "v")
    >>> float(r["statistic"].iloc[0]), float(round(r["effect_size"].iloc[0], 3))
    (32.5, 0.806)
    """
    test_cols = list(test_cols)
    cols_out = test_cols + ["statistic", "p_value", "effect_size", "n", "groups", "flags"]
    r, tkeys, groups = _rank_table(df, test_cols, group_col, value_col, weight_col)
    if r is None:
        return pd.DataFrame(columns=cols_out)
    u1, p, rbc = _mwu_stats(r)
    not_app = r["k"] != 2
    small = ~not_app & (r["min_n"] < min_group_n)
    bad = not_app | small
    out = tkeys.iloc[r["test"]].reset_index(drop=True)
    out["statistic"] = np.where(bad, np.nan, u1)
    out["p_value"] = np.where(bad, np.nan, p)
    out["effect_size"] = np.where(bad, np.nan, rbc)
    out["n"] = np.round(r["N"]).astype("int64")
    out["groups"] = groups
    out["flags"] = np.where(not_app, "not_applicable", np.where(small, "small_n", "")).astype(object)
    return out[cols_out]


def kruskal_by_group(
    df: pd.DataFrame,
    test_cols: Sequence[str],
    group_col: str,
    value_col: str,
    min_group_n: int = 5,
    weight_col: str | None = None,
) -> pd.DataFrame:
    """Kruskal-Wallis H tests of an ordinal outcome across groups, for many tests at once.

    Same statistic and p-value as ``scipy.stats.kruskal`` (and ``pingouin.kruskal``):
    H from the rank sums with the tie correction, chi-square with ``k - 1``
    degrees of freedom. Effect size epsilon-squared = H / (n - 1)
    (Tomczak and Tomczak 2014).

    Returns
    -------
    DataFrame
        ``*test_cols, statistic, dof, p_value, effect_size, n, groups, flags``;
        ``not_applicable`` with fewer than 2 groups, ``small_n`` when a group
        has fewer than ``min_group_n`` observations.

    Examples
    --------
    >>> d = pd.DataFrame({"t": "x", "g": list("aaaaabbbbbccccc"),
    ...                   "v": [1, 2, 2, 3, 1, 3, 4, 3, 4, 5, 5, 5, 4, 5, 4]})
    >>> float(round(kruskal_by_group(d, ["t"], "g", "v")["statistic"].iloc[0], 3))
    10.24
    """
    test_cols = list(test_cols)
    cols_out = test_cols + ["statistic", "dof", "p_value", "effect_size", "n", "groups", "flags"]
    r, tkeys, groups = _rank_table(df, test_cols, group_col, value_col, weight_col)
    if r is None:
        return pd.DataFrame(columns=cols_out)
    h, p, eps = _kruskal_stats(r)
    k = r["k"]
    not_app = k < 2
    small = ~not_app & (r["min_n"] < min_group_n)
    bad = not_app | small | ~np.isfinite(h)
    out = tkeys.iloc[r["test"]].reset_index(drop=True)
    out["statistic"] = np.where(bad, np.nan, h)
    out["dof"] = (k - 1).astype(float)
    out["p_value"] = np.where(bad, np.nan, p)
    out["effect_size"] = np.where(bad, np.nan, eps)
    out["n"] = np.round(r["N"]).astype("int64")
    out["groups"] = groups
    out["flags"] = np.where(not_app, "not_applicable", np.where(small, "small_n", "")).astype(object)
    # every value identical (no ranks to compare): H undefined, no evidence of a difference
    same = ~not_app & ~small & ~np.isfinite(h)
    out.loc[same, ["statistic", "p_value", "effect_size"]] = [0.0, 1.0, 0.0]
    return out[cols_out]


def binomtest_two_sided(k, n, p) -> np.ndarray:
    """Exact two-sided binomial test p-values, vectorised.

    Same definition as ``scipy.stats.binomtest(k, n, p).pvalue`` (the
    probabilities of all outcomes no more likely than ``k``, with scipy's
    relative tolerance 1e-7), computed for arrays without a Python loop.

    Examples
    --------
    >>> binomtest_two_sided([2, 30], [150, 150], [0.2, 0.2]).round(6).tolist()
    [0.0, 1.0]
    """
    k, n, p = (np.asarray(x, dtype=float) for x in np.broadcast_arrays(k, n, p))
    k, n, p = k.ravel(), n.ravel(), p.ravel()
    out = np.full(k.shape, np.nan)
    ok = np.isfinite(k) & np.isfinite(n) & np.isfinite(p) & (n > 0) & (p >= 0) & (p <= 1) & (k >= 0) & (k <= n)
    k, n, p = k[ok], n[ok], p[ok]
    d = _binom_pmf_at(k, n, p) * (1 + 1e-7)
    mean = n * p
    pv = np.ones(len(k))
    lower = k < mean
    upper = k > mean
    # k below the mean: smallest x >= ceil(np) with pmf(x) <= d; add P(X >= x)
    lo = np.ceil(mean)
    hi = n + 1
    for _ in range(64):
        if not np.any(lo < hi):
            break
        act = lo < hi
        mid = np.floor((lo + hi) / 2)
        cond = _binom_pmf_at(mid, n, p) <= d
        hi = np.where(act & cond, mid, hi)
        lo = np.where(act & ~cond, mid + 1, lo)
    p_low = _binom_cdf_at(k, n, p) + _binom_sf_at(lo - 1, n, p)
    # k above the mean: largest x <= floor(np) with pmf(x) <= d; add P(X <= x)
    lo2 = np.full(len(k), -1.0)
    hi2 = np.floor(mean)
    for _ in range(64):
        if not np.any(lo2 < hi2):
            break
        act = lo2 < hi2
        mid = np.ceil((lo2 + hi2) / 2)
        cond = _binom_pmf_at(mid, n, p) <= d
        lo2 = np.where(act & cond, mid, lo2)
        hi2 = np.where(act & ~cond, mid - 1, hi2)
    p_high = np.where(lo2 >= 0, _binom_cdf_at(lo2, n, p), 0.0) + _binom_sf_at(k - 1, n, p)
    pv = np.where(lower, p_low, np.where(upper, p_high, 1.0))
    out[ok] = np.minimum(pv, 1.0)
    return out
