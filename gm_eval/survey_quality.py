"""Reliability of the survey scales (results-format ``survey_quality``).

Scales (decided here, stated in every row's ``note``):

``worker_survey`` / ``trust``
    ``trust``, ``independent``, ``would_use`` (1-5). The three items express
    confidence in the mechanism and are meant to be read together.
    ``fear_retaliation`` is **not** part of the scale: fear of consequences is
    a barrier to access, a different construct that is reported on its own
    (``accessible.fear_of_retaliation_rate``); adding it reverse-coded
    usually lowers alpha.
``worker_survey`` / ``trust_with_fear_reversed``
    The same three items plus ``6 - fear_retaliation``: reported only so that
    the decision above can be checked on each evaluation's own data.
``child_survey`` / ``child_voice``
    ``knows_where_to_tell``, ``has_trusted_adult``, ``safe_to_tell`` scored
    ``yes`` = 1, ``no`` or ``not_sure`` = 0: Cronbach's alpha on 0/1 items is
    KR-20. ``listened_to`` and ``told_what_happened`` are left out: they are
    blank for children who never told anyone, so listwise deletion would keep
    only a small, selected group.

Cronbach's alpha uses **listwise deletion** (respondents with any item of the
scale missing are excluded; ``n_listwise`` counts those analysed) and Feldt's
95% interval; see :func:`gm_eval.stats.cronbach_alpha`. One row per mechanism
with responses and one row ``mechanism_id = all`` pooling every mechanism.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gm_eval.evidence import Evidence
from gm_eval.stats import DEFAULT_MIN_N, _alpha_by_codes

__all__ = ["SCALES", "SURVEY_QUALITY_COLUMNS", "survey_quality"]

SURVEY_QUALITY_COLUMNS = ["mechanism_id", "survey", "scale", "items", "n_listwise",
                          "cronbach_alpha", "ci_low", "ci_high", "note"]

#: (survey, scale) -> (items, note). ``-name`` denotes a reverse-coded 1-5 item.
SCALES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("worker_survey", "trust"): (
        ("trust", "independent", "would_use"),
        "items 1-5; fear_retaliation excluded (a barrier, reported separately)",
    ),
    ("worker_survey", "trust_with_fear_reversed"): (
        ("trust", "independent", "would_use", "-fear_retaliation"),
        "sensitivity check: trust scale plus 6 - fear_retaliation",
    ),
    ("child_survey", "child_voice"): (
        ("knows_where_to_tell", "has_trusted_adult", "safe_to_tell"),
        "yes = 1, no or not_sure = 0 (KR-20); listened_to and told_what_happened excluded "
        "(blank for children who never told anyone)",
    ),
}

_METHOD = "Cronbach's alpha, listwise deletion, Feldt 95% CI"


def _item(df: pd.DataFrame, col: str) -> np.ndarray:
    """Item ``col`` as floats (NaN missing): numbers as they are, ``yes``/``true`` 1,
    ``no``/``false``/``not_sure`` 0 (text mapped once per distinct value)."""
    if col not in df.columns:
        return np.full(len(df), np.nan)
    s = df[col]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    codes, uniq = pd.factorize(s)
    low = pd.Series(np.asarray(uniq, dtype=object)).astype("string").str.lower()
    v = low.map({"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0, "not_sure": 0.0})
    v = pd.to_numeric(v, errors="coerce").astype(float).to_numpy(na_value=np.nan)
    return np.r_[v, np.nan][codes]


def _sorted_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(s, sort=True, use_na_sentinel=False)``, sorting only the distinct values."""
    codes, uniq = pd.factorize(s, use_na_sentinel=False)
    uniq = np.asarray(uniq, dtype=object)
    na = pd.isna(uniq)
    order = np.r_[np.flatnonzero(~na)[np.argsort(uniq[~na], kind="stable")], np.flatnonzero(na)]
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return rank[codes], uniq[order]


def survey_quality(evidence: Evidence, ci: float = 0.95, min_n: int = DEFAULT_MIN_N) -> pd.DataFrame:
    """Cronbach's alpha of each survey scale per mechanism and pooled.

    Parameters
    ----------
    evidence : Evidence
        Validated tables; ``worker_survey`` and ``child_survey`` are read.
    ci : float
        Confidence level of Feldt's interval.
    min_n : int
        Rows with fewer complete respondents say so in ``note``.

    Returns
    -------
    DataFrame
        ``mechanism_id, survey, scale, items, n_listwise, cronbach_alpha,
        ci_low, ci_high, note`` (``items`` ``;``-separated, reverse-coded
        items written ``6-name``). Alpha is empty with fewer than 2 complete
        respondents or no variance.

    Examples
    --------
    >>> mech = pd.DataFrame({"mechanism_id": ["m"], "mechanism_type": ["ogm"]})
    >>> ws = pd.DataFrame({"mechanism_id": ["m"] * 5, "trust": [1, 2, 3, 4, 5],
    ...                    "independent": [2, 2, 3, 5, 5], "would_use": [1, 3, 3, 4, 4]})
    >>> out = survey_quality(Evidence({"mechanisms": mech, "worker_survey": ws}, pd.Timestamp("2025-01-01")))
    >>> out.loc[out["scale"] == "trust", ["mechanism_id", "n_listwise", "cronbach_alpha"]].round(3).values.tolist()
    [['all', 5, 0.954], ['m', 5, 0.954]]
    """
    rows = []
    columns: dict[tuple[str, str], np.ndarray] = {}  # each item converted once
    groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for (survey, scale), (items, note) in SCALES.items():
        df = evidence.get(survey)
        if df is None or len(df) == 0:
            continue
        x = []
        for it in items:
            col = it.lstrip("-")
            if (survey, col) not in columns:
                columns[survey, col] = _item(df, col)
            x.append(6 - columns[survey, col] if it.startswith("-") else columns[survey, col])
        if survey not in groups:
            groups[survey] = _sorted_codes(df["mechanism_id"])
        codes, uniq = groups[survey]
        per, pooled = _alpha_by_codes(x, [(codes, len(uniq)), (np.zeros(len(df), np.int64), 1)], ci)
        res = pd.DataFrame({"mechanism_id": np.r_[np.array(["all"], dtype=object), uniq]})
        for c in ("n_listwise", "cronbach_alpha", "ci_low", "ci_high"):
            res[c] = np.r_[pooled[c], per[c]]
        res["survey"] = survey
        res["scale"] = scale
        res["items"] = ";".join(it.replace("-", "6-") if it.startswith("-") else it for it in items)
        small = res["n_listwise"].to_numpy() < min_n
        res["note"] = np.where(small, f"{_METHOD}; {note}; fewer than {min_n} complete respondents",
                               f"{_METHOD}; {note}")
        rows.append(res)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SURVEY_QUALITY_COLUMNS})
    return pd.concat(rows, ignore_index=True)[SURVEY_QUALITY_COLUMNS]
