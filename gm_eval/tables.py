"""Display tables for reports and dashboards: tidy DataFrame in, escaped HTML out.

Every cell is HTML-escaped (names and ids come from user data), numbers are
formatted for reading (shares as percentages, scores as whole numbers), and
``flags`` are spelled out ("withheld: fewer than k", "small sample", "no
evidence"). A value withheld by the publication boundary is shown as
"withheld", never as 0 or blank.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import pandas as pd

from gm_eval.plots import criterion_label, indicator_unit

__all__ = [
    "FLAG_TEXT",
    "flag_text",
    "html_table",
    "scorecard_table",
    "indicator_table",
    "format_value",
    "self_assessment_table",
    "recommendations_table",
    "equity_table",
    "time_to_event_table",
    "survey_quality_table",
    "data_quality_table",
    "warnings_table",
    "small_n_table",
    "TABLE_CSS",
]

FLAG_TEXT: dict[str, str] = {
    "small_n": "small sample",
    "suppressed": "withheld (too few to publish)",
    "not_covered": "no evidence",
    "not_applicable": "not applicable",
}

#: CSS for the tables (bundled in each page: nothing is fetched).
TABLE_CSS = """
table.gm-table{border-collapse:collapse;font-size:1.05rem;margin:0.5em 0 1.2em;min-width:50%}
table.gm-table th,table.gm-table td{padding:6px 12px;border-bottom:1px solid #ddd;text-align:left !important;vertical-align:top}
table.gm-table th{background:#f2f2f2;font-weight:600}
table.gm-table td.num{text-align:right !important;font-variant-numeric:tabular-nums}
.gm-band{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:0.95em}
.gm-band-strong{background:#0072B2}.gm-band-adequate{background:#56B4E9;color:#000}
.gm-band-weak{background:#E69F00;color:#000}.gm-band-very_weak{background:#D55E00}
.gm-band-not_covered{background:#bbb;color:#000}
.gm-note{background:#fff6e0;border-left:4px solid #E69F00;padding:6px 12px;margin:0.5em 0}
.gm-sentences{font-size:1.15rem;line-height:1.5}
"""


def flag_text(flags) -> str:
    """Readable text for a ``;``-separated ``flags`` value (``""`` when none)."""
    if flags is None or (not isinstance(flags, str) and pd.isna(flags)):
        return ""
    return ", ".join(FLAG_TEXT.get(f, f.replace("_", " ")) for f in str(flags).split(";") if f)


def _truthy(v) -> bool | None:
    """True/False for booleans stored as bool, 0/1 or text; None when missing."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, str):
        return v.strip().lower() in {"true", "yes", "1"}
    return bool(v)


def _yes_no(v, missing: str = "") -> str:
    t = _truthy(v)
    return missing if t is None else ("yes" if t else "no")


def _pct(v) -> str:
    return "" if pd.isna(v) else f"{v:.0%}"


def _num0(v) -> str:
    return "" if pd.isna(v) else f"{v:,.0f}"


def _num1(v) -> str:
    return "" if pd.isna(v) else f"{v:,.1f}"


def _num2(v) -> str:
    return "" if pd.isna(v) else f"{v:.2f}"


def _pvalue(v) -> str:
    return "" if pd.isna(v) else ("< 0.001" if v < 0.001 else f"{v:.3f}")


FORMATS: dict[str, Callable] = {"pct": _pct, "int": _num0, "num1": _num1, "num2": _num2, "p": _pvalue}


def html_table(df: pd.DataFrame, columns: Mapping[str, str] | None = None,
               formats: Mapping[str, str | Callable] | None = None, raw_html: tuple[str, ...] = (),
               caption: str | None = None) -> str:
    """Render ``df`` as an escaped HTML table.

    Parameters
    ----------
    df : DataFrame
        Rows to show, in order.
    columns : mapping, optional
        ``column -> header``; selects and orders columns (default: all, as named).
    formats : mapping, optional
        ``column -> format``: one of ``pct``, ``int``, ``num1``, ``num2``, ``p`` or a callable.
    raw_html : tuple of str
        Columns whose values are already safe HTML built by this module.
    caption : str, optional
        Table caption (escaped).

    Returns
    -------
    str
    """
    columns = dict(columns) if columns is not None else {c: c for c in df.columns}
    formats = dict(formats or {})
    out = ['<table class="gm-table">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in columns.values()) + "</tr></thead><tbody>")
    fmts = {c: (FORMATS[f] if isinstance(f, str) else f) for c, f in formats.items()}
    cols = list(columns)
    for row in df[cols].itertuples(index=False, name=None):
        cells = []
        for c, v in zip(cols, row, strict=True):
            if c in fmts:
                text = html.escape(fmts[c](v))
                cells.append(f'<td class="num">{text}</td>')
            elif c in raw_html:
                cells.append(f"<td>{v}</td>")
            else:
                cells.append("<td>" + ("" if (not isinstance(v, str) and pd.isna(v)) else html.escape(str(v))) + "</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _band_html(band) -> str:
    b = "not_covered" if band is None or (not isinstance(band, str) and pd.isna(band)) else str(band)
    safe = html.escape(b)
    return f'<span class="gm-band gm-band-{safe}">{html.escape(b.replace("_", " "))}</span>'


def scorecard_table(scores: pd.DataFrame) -> str:
    """The eight criteria (and overall) with score, coverage, band and sector position."""
    df = scores.copy()
    df["criterion_label"] = df["criterion"].map(criterion_label)
    df["band_html"] = df["band"].map(_band_html)
    cols = {"criterion_label": "Criterion", "score": "Score (0-100)", "coverage": "Evidence coverage",
            "band_html": "Band"}
    fmts = {"score": "int", "coverage": "pct"}
    if "sector_median" in df and df["sector_median"].notna().any():
        cols["sector_median"] = "Sector median"
        fmts["sector_median"] = "int"
    return html_table(df, cols, fmts, raw_html=("band_html",))


def format_value(value, unit: str, flags="") -> str:
    """An indicator value as read: ``45%``, ``12 days``, ``0.83`` (ratio); ``withheld`` or ``—`` when missing."""
    if value is None or pd.isna(value):
        return "withheld" if "suppressed" in str(flags) else "—"
    if unit == "days":
        return f"{value:.0f} days"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit == "score" and value > 1:
        return f"{value:.0f}"
    return f"{value:.0%}"


def indicator_table(indicators: pd.DataFrame, labels: Mapping[str, str] | None = None,
                    units: Mapping[str, str] | None = None) -> str:
    """Indicators with value, 95% interval, denominator, score and readable flags."""
    df = indicators.copy()
    labels = labels or {}
    df["label"] = df["indicator_id"].map(lambda i: labels.get(i, i))
    df["criterion_label"] = df["criterion"].map(criterion_label)
    unit = df["indicator_id"].map(lambda i: indicator_unit(i, dict(units or {})))

    def fmt_value(row, u) -> str:
        return format_value(row.value, u, row.flags)

    def fmt_ci(row, u) -> str:
        if pd.isna(row.ci_low) or pd.isna(row.ci_high):
            return ""
        if u == "days":
            return f"{row.ci_low:.0f}-{row.ci_high:.0f}"
        if u == "ratio":
            return f"{row.ci_low:.2f}-{row.ci_high:.2f}"
        return f"{row.ci_low:.0%}-{row.ci_high:.0%}"

    df["value_txt"] = [fmt_value(r, u) for r, u in zip(df.itertuples(), unit, strict=True)]
    df["ci_txt"] = [fmt_ci(r, u) for r, u in zip(df.itertuples(), unit, strict=True)]
    df["flag_txt"] = df["flags"].map(flag_text)
    return html_table(
        df,
        {"criterion_label": "Criterion", "label": "Indicator", "value_txt": "Value", "ci_txt": "95% interval",
         "n": "n", "score": "Score", "flag_txt": "Notes"},
        {"n": "int", "score": "int"},
    )


def self_assessment_table(sa: pd.DataFrame) -> str:
    """Self-assessment answers by criterion (evidence shown as provided or not, never its text)."""
    df = sa.copy()
    df["criterion_label"] = df["criterion"].map(criterion_label)
    df["answer_txt"] = df["answer"].astype("object").fillna("not answered").map(lambda a: str(a).replace("_", " "))
    df["evidence_txt"] = df["evidence_provided"].map(lambda v: _yes_no(v, "no"))
    df["child_txt"] = df["child_specific"].map(lambda v: "child-specific" if _truthy(v) else "")
    return html_table(df, {"criterion_label": "Criterion", "question": "Question", "answer_txt": "Answer",
                           "evidence_txt": "Evidence provided", "child_txt": ""})


def recommendations_table(rec: pd.DataFrame, n: int = 5) -> str:
    """The top ``n`` recommendations, by rank."""
    df = rec.sort_values("rank").head(n).copy()
    df["criterion_label"] = df["criterion"].map(criterion_label)
    return html_table(df, {"rank": "#", "criterion_label": "Criterion", "recommendation": "Recommendation",
                           "score": "Current score", "reference": "Reference"}, {"score": "int", "rank": "int"})


def equity_table(tests: pd.DataFrame) -> str:
    """Equity tests with Holm-adjusted p-values and effect sizes."""
    df = tests.copy()
    df["signif"] = df["significant"].map(lambda v: _yes_no(v, "not tested"))
    df["dim"] = df["dimension"].astype(str).str.replace("_", " ")
    return html_table(df, {"indicator_id": "Indicator", "dim": "Compared by", "test": "Test", "p_holm": "p (Holm)",
                           "effect_size": "Effect size", "effect_size_name": "Measure", "signif": "Significant"},
                      {"p_holm": "p", "effect_size": "num2"})


def time_to_event_table(summary: pd.DataFrame) -> str:
    """Median and 90th percentile times with intervals, against the target."""
    df = summary.copy()
    df["interval_txt"] = df["interval"].astype(str).str.replace("received_to_", "received to ").str.replace("_", " ")
    df["median_txt"] = [
        "not reached" if pd.isna(m) else f"{m:.0f}" + ("" if pd.isna(lo) else f" ({lo:.0f}-{hi:.0f})")
        for m, lo, hi in zip(df["median"], df["median_ci_low"], df["median_ci_high"], strict=True)
    ]
    df["flag_txt"] = df["flags"].map(flag_text)
    return html_table(df, {"interval_txt": "Interval", "n": "Cases", "median_txt": "Median days (95% CI)",
                           "p90": "90th percentile days", "target_days": "Target days",
                           "within_target": "Within target", "flag_txt": "Notes"},
                      {"n": "int", "p90": "int", "target_days": "int", "within_target": "pct"})


def survey_quality_table(sq: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """Cronbach's alpha per scale with its 95% interval and listwise n.

    Method notes shared by every row are printed once under the table.
    """
    df = sq.copy()
    names = names or {}
    df["mechanism"] = df["mechanism_id"].map(lambda m: "all mechanisms" if m == "all" else names.get(m, m))
    df["items_txt"] = df["items"].astype(str).str.replace(";", ", ")
    df["ci_txt"] = [
        "" if pd.isna(lo) or pd.isna(hi) else f"{lo:.2f}-{hi:.2f}"
        for lo, hi in zip(df["ci_low"], df["ci_high"], strict=True)
    ]
    notes = [n for n in dict.fromkeys(df["note"].dropna().astype(str)) if n] if "note" in df else []
    cols = {"mechanism": "Mechanism", "survey": "Survey", "scale": "Scale", "items_txt": "Items",
            "n_listwise": "n", "cronbach_alpha": "Cronbach's alpha", "ci_txt": "95% interval"}
    per_row = len(notes) > 3
    if per_row:
        cols["note"] = "Note"
    out = html_table(df, cols, {"n_listwise": "int", "cronbach_alpha": "num2"})
    if notes and not per_row:
        out += "".join(f'<p class="gm-method">{html.escape(n)}</p>' for n in notes)
    return out


def data_quality_table(dq: pd.DataFrame) -> str:
    """Input tables: present or not, rows read, warnings."""
    df = dq.copy()
    df["present_txt"] = df["present"].map(lambda v: _yes_no(v, "no"))
    return html_table(df, {"table": "Table", "file": "File", "present_txt": "Supplied", "rows": "Rows",
                           "warnings": "Warnings"}, {"rows": "int", "warnings": "int"})


def warnings_table(w: pd.DataFrame) -> str:
    """Validation warnings by table, column and problem (counts only, no cell values)."""
    return html_table(w, {"table": "Table", "column": "Column", "problem": "Problem", "count": "Rows"},
                      {"count": "int"})


def small_n_table(indicators: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """Indicators flagged small-sample or withheld, per mechanism."""
    names = names or {}
    df = indicators.copy()
    df["mechanism"] = df["mechanism_id"].map(lambda m: names.get(m, m))
    df["flag_txt"] = df["flags"].map(flag_text)
    return html_table(df, {"mechanism": "Mechanism", "indicator_id": "Indicator", "n": "n", "flag_txt": "Notes"},
                      {"n": "int"})
