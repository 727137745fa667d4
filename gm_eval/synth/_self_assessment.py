"""Synthetic self-assessment answers, one row per mechanism and answered question."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from gm_eval.contract import SELF_ASSESSMENT_ANSWERS
from gm_eval.synth._util import arrow_to_str, str_array, str_col

__all__ = ["question_catalogue", "generate_self_assessment"]

_CATALOGUE = "self_assessment_questions.csv"


def question_catalogue() -> pd.DataFrame:
    """Question ids (and ``child_specific`` when known) from the shipped catalogue.

    Falls back to ``SA01``..``SA32`` (none child-specific) when the catalogue
    ``gm_eval/data/self_assessment_questions.csv`` is not there or unreadable.
    """
    try:
        path = resources.files("gm_eval") / "data" / _CATALOGUE
        if path.is_file():
            with path.open("rb") as fh:
                cat = pd.read_csv(fh, dtype="str")
            if "question_id" in cat.columns and cat["question_id"].notna().all() and len(cat):
                child = cat.get("child_specific", pd.Series(["false"] * len(cat)))
                return pd.DataFrame({
                    "question_id": cat["question_id"].astype("str").str.strip(),
                    "child_specific": child.fillna("false").astype("str").str.strip().str.lower()
                    .isin(["true", "yes", "1"]),
                })
    except (OSError, ValueError, pd.errors.ParserError):
        pass
    return pd.DataFrame({"question_id": [f"SA{i:02d}" for i in range(1, 33)], "child_specific": False})


def generate_self_assessment(p: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Answers for the mechanisms with ``has_self_assessment``.

    ``yes`` is more likely the higher a mechanism's hidden quality;
    child-specific questions are ``not_applicable`` where children are not
    relevant; about 5% of questions are left unanswered; ``evidence`` is free
    text (holding ``DECOYTEXT``) for about half of the ``yes``/``partly`` answers.
    """
    cat = question_catalogue()
    mechs = np.flatnonzero(p["has_self_assessment"].to_numpy())
    nq = len(cat)
    m = np.repeat(mechs, nq)
    qi = np.tile(np.arange(nq), len(mechs))
    n = len(m)
    q = p["q"].to_numpy()[m]
    p_yes = 0.1 + 0.8 * q
    p_partly = 0.6 * (1 - p_yes)
    u = rng.random(n)
    # codes in SELF_ASSESSMENT_ANSWERS order: yes, partly, no, not_applicable
    ans = np.where(u < 0.03, 3, np.where(u < 0.03 + p_yes, 0, np.where(u < 0.03 + p_yes + p_partly, 1, 2)))
    child_q = cat["child_specific"].to_numpy()[qi]
    ans = np.where(child_q & ~p["child_relevant"].to_numpy()[m], 3, ans)
    keep = (rng.random(n) > 0.05) | (q > 0.9)
    m, qi, ans = m[keep], qi[keep], ans[keep]
    n = len(m)
    ev = (ans <= 1) & (rng.random(n) < 0.5)
    pool = pd.Series(["See the grievance procedure, version 3, page 4", "Board minutes of the last review",
                      "Poster photos from all sites", "Annual report section on grievances",
                      "Training attendance list"], dtype="str")
    evidence = (pool.iloc[rng.integers(0, len(pool), n)].reset_index(drop=True)
                + " (DECOYTEXT, ask Somchai DECOYNAME)")
    return pd.DataFrame({
        "mechanism_id": arrow_to_str(str_array(p["mechanism_id"].to_numpy(), m)),
        "question_id": str_col(cat["question_id"].to_numpy(), qi),
        "answer": str_col(SELF_ASSESSMENT_ANSWERS, ans),
        "evidence": evidence.where(ev),
    })
