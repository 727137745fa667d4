"""Plain-language sentences that state each finding for a non-technical reader.

Every function reads published tables and returns a list of short sentences
(plain text; the caller escapes them for HTML). Every number in a sentence is
read from the table it describes, rounded for reading; nothing is estimated
here. When a value was withheld or there was no evidence, the sentence says so
instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from gm_eval.plots import criterion_label, has_flag, indicator_unit

__all__ = [
    "scorecard_sentences",
    "indicator_sentences",
    "time_to_event_sentences",
    "equity_sentences",
    "survey_sentences",
    "clms_sentences",
    "comparison_sentences",
    "sector_sentences",
    "suppression_sentence",
]


def _pct(v: float) -> str:
    return f"{v:.0%}"


def _crit(c: str) -> str:
    return criterion_label(c).lower()


def suppression_sentence(df: pd.DataFrame, what: str = "values") -> list[str]:
    """One sentence when rows of ``df`` carry the ``suppressed`` flag, else none."""
    if df.empty or "flags" not in df:
        return []
    n = int(has_flag(df["flags"], "suppressed").sum())
    if not n:
        return []
    return [f"{n} {what} {'was' if n == 1 else 'were'} withheld because they concern fewer people "
            "than the publication threshold, to protect the people involved."]


def scorecard_sentences(scores: pd.DataFrame, name: str) -> list[str]:
    """Overall score and band, strongest and weakest criteria, criteria without evidence.

    Parameters
    ----------
    scores : DataFrame
        ``scores`` rows of one mechanism.
    name : str
        Display name of the mechanism (or "This mechanism").
    """
    out = []
    overall = scores[scores["criterion"] == "overall"]
    crit = scores[scores["criterion"] != "overall"]
    if len(overall) and pd.notna(overall["score"].iloc[0]):
        o = overall.iloc[0]
        band = str(o["band"]).replace("_", " ") if pd.notna(o["band"]) else "unbanded"
        s = f"Overall, {name} scores {o['score']:.0f} out of 100, which is in the '{band}' band"
        if pd.notna(o.get("coverage")):
            s += f"; the evidence covered {o['coverage']:.0%} of what the method looks for"
        out.append(s + ".")
    scored = crit.dropna(subset=["score"])
    if len(scored) >= 2:
        best = scored.loc[scored["score"].idxmax()]
        worst = scored.loc[scored["score"].idxmin()]
        out.append(f"It does best on being {_crit(best['criterion'])} ({best['score']:.0f}) and worst on being "
                   f"{_crit(worst['criterion'])} ({worst['score']:.0f}).")
    missing = crit[crit["score"].isna()]["criterion"].tolist()
    if missing:
        out.append("There was not enough evidence to score: " + ", ".join(_crit(c) for c in missing) + ".")
    return out


def indicator_sentences(indicators: pd.DataFrame, labels: Mapping[str, str] | None = None,
                        n_best: int = 2, units: Mapping[str, str] | None = None) -> list[str]:
    """The highest- and lowest-scoring indicators, with their values and sample sizes."""
    from gm_eval.tables import format_value

    labels = labels or {}
    df = indicators.dropna(subset=["score", "value"])
    out = []

    def describe(r) -> str:
        label = labels.get(r.indicator_id, r.indicator_id.split(".", 1)[-1].replace("_", " "))
        v = format_value(r.value, indicator_unit(r.indicator_id, dict(units or {})))
        n = "" if pd.isna(r.n) else f" (based on {int(r.n)})"
        return f"{label} {v}{n}"

    if len(df) >= 2:
        top = df.nlargest(n_best, "score")
        low = df.nsmallest(n_best, "score")
        out.append("Strongest results: " + "; ".join(describe(r) for r in top.itertuples()) + ".")
        out.append("Weakest results: " + "; ".join(describe(r) for r in low.itertuples()) + ".")
    small = int(has_flag(indicators["flags"], "small_n").sum())
    if small:
        out.append(f"{small} indicator{'s rest' if small > 1 else ' rests'} on a small sample, so "
                   f"{'they' if small > 1 else 'it'} should be read with care.")
    out += suppression_sentence(indicators, "indicator values")
    return out


def time_to_event_sentences(summary: pd.DataFrame) -> list[str]:
    """Median time to acknowledge and to close, against the mechanism's own targets."""
    out = []
    verbs = {"received_to_acknowledged": "acknowledged", "received_to_closed": "closed"}
    for r in summary[summary["interval"].isin(list(verbs))].itertuples():
        verb = verbs[r.interval]
        if "suppressed" in str(r.flags):
            out.append(f"The time taken for grievances to be {verb} was withheld (too few cases).")
            continue
        if pd.isna(r.median):
            out.append(f"Fewer than half of the grievances had been {verb} by the evaluation date.")
        elif r.median == 0:
            out.append(f"Half of the grievances were {verb} on the day they were received.")
        else:
            days = "day" if r.median == 1 else "days"
            out.append(f"Half of the grievances were {verb} within {r.median:.0f} {days}.")
        if pd.notna(r.target_days) and pd.notna(r.within_target):
            out.append(f"The mechanism's own target is {r.target_days:.0f} days; "
                       f"{_pct(r.within_target)} of grievances were {verb} within it.")
    return out


def equity_sentences(tests: pd.DataFrame, labels: Mapping[str, str] | None = None) -> list[str]:
    """Which differences between groups remain significant after Holm correction."""
    if tests.empty:
        return ["No comparison between groups was possible."]
    labels = labels or {}
    sig = tests[tests["significant"].astype("boolean").fillna(False).astype(bool)]
    if sig.empty:
        return [f"Across {len(tests)} comparisons between groups (gender, age, migrant status and others), "
                "none showed a difference larger than chance would explain."]
    out = []
    for r in sig.itertuples():
        label = labels.get(r.indicator_id, r.indicator_id.split(".", 1)[-1].replace("_", " "))
        p = "" if pd.isna(r.p_holm) else (" (adjusted p < 0.001)" if r.p_holm < 0.001
                                           else f" (adjusted p = {r.p_holm:.3f})")
        out.append(f"Results for {label} differ by {str(r.dimension).replace('_', ' ')}{p}: "
                   "some groups are served less well than others.")
    return out


def survey_sentences(items: pd.DataFrame) -> list[str]:
    """Share answering yes to key awareness items of the worker and child surveys."""
    wording = {
        ("worker_survey", "aware"): "of workers surveyed know the mechanism exists",
        ("worker_survey", "knows_how"): "of workers know how to use it",
        ("worker_survey", "consulted"): "of workers say they were asked for their views on it",
        ("child_survey", "knows_where_to_tell"): "of children surveyed know where to tell someone about a problem",
        ("child_survey", "safe_to_tell"): "of children feel it is safe to tell",
        ("child_survey", "has_trusted_adult"): "of children have a trusted adult to talk to",
    }
    out = []
    yes = items[items["response"].astype(str) == "yes"]
    for r in yes.itertuples():
        text = wording.get((r.survey, r.item))
        if text is None:
            continue
        if pd.isna(r.share):
            out.append(f"The answer on whether respondents {r.item.replace('_', ' ')} was withheld (too few answers).")
        else:
            out.append(f"{_pct(r.share)} {text}.")
    return out


def clms_sentences(funnel: pd.DataFrame) -> list[str]:
    """The child labour monitoring funnel in words."""
    f = funnel.set_index("stage")
    if "identified" not in f.index or pd.isna(f.loc["identified", "count"]):
        return []
    ident = f.loc["identified", "count"]
    out = [f"The monitoring system identified {ident:.0f} children in child labour."]
    phrases = {"referred": "were referred for support", "remediation_started": "started remediation",
               "out_of_child_labour": "were out of child labour at their latest follow-up visit"}
    for stage, phrase in phrases.items():
        if stage not in f.index:
            continue
        c, share = f.loc[stage, "count"], f.loc[stage, "share_of_identified"]
        if pd.isna(c):
            out.append(f"The number who {phrase} was withheld (too few to publish).")
        else:
            out.append(f"{c:.0f} ({_pct(share)} of those identified) {phrase}.")
    return out


def comparison_sentences(scores: pd.DataFrame, names: Mapping[str, str]) -> list[str]:
    """Where each of a company's mechanisms is strongest and weakest."""
    out = []
    crit = scores[scores["criterion"] != "overall"].dropna(subset=["score"])
    for mid, d in crit.groupby("mechanism_id", sort=False):
        if len(d) < 2:
            continue
        best, worst = d.loc[d["score"].idxmax()], d.loc[d["score"].idxmin()]
        out.append(f"{names.get(mid, mid)} is strongest on being {_crit(best['criterion'])} "
                   f"({best['score']:.0f}) and weakest on being {_crit(worst['criterion'])} ({worst['score']:.0f}).")
    overall = scores[scores["criterion"] == "overall"].dropna(subset=["score"])
    if len(overall) >= 2:
        top = overall.loc[overall["score"].idxmax()]
        low = overall.loc[overall["score"].idxmin()]
        out.append(f"Overall scores range from {low['score']:.0f} ({names.get(low['mechanism_id'], low['mechanism_id'])}) "
                   f"to {top['score']:.0f} ({names.get(top['mechanism_id'], top['mechanism_id'])}).")
    return out


def sector_sentences(scores: pd.DataFrame) -> list[str]:
    """Sector median overall score and the criteria where the sector is weakest and strongest."""
    out = []
    overall = scores[scores["criterion"] == "overall"].dropna(subset=["score"])
    if len(overall):
        out.append(f"Across {len(overall)} mechanisms, the median overall score is {overall['score'].median():.0f} "
                   f"out of 100 (from {overall['score'].min():.0f} to {overall['score'].max():.0f}).")
    med = (scores[scores["criterion"] != "overall"].dropna(subset=["score"])
           .groupby("criterion")["score"].median())
    if len(med) >= 2:
        out.append(f"The sector is weakest on being {_crit(med.idxmin())} (median {med.min():.0f}) and strongest "
                   f"on being {_crit(med.idxmax())} (median {med.max():.0f}).")
    return out
