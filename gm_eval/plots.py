"""Plotly figures shared by the reports and the dashboards.

Every function takes tidy DataFrames straight from the published results
tables (see ``docs/results-format.md``), already filtered to what should be
shown, and returns a :class:`plotly.graph_objects.Figure` styled with the
``gm_eval`` template: the colour-blind-safe Okabe-Ito palette, large fonts
that stay readable on a projector, no gridline clutter. Values withheld by the
publication boundary (flag ``suppressed``) are never drawn as zero: they are
left out and the figure says so.

Examples
--------
>>> from gm_eval.results import read_results          # doctest: +SKIP
>>> res = read_results("results")                     # doctest: +SKIP
>>> fig = scorecard(res.table("scores").query("mechanism_id == 'M001'"))  # doctest: +SKIP
>>> html = figure_html(fig, include_plotlyjs=True)    # doctest: +SKIP
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from gm_eval.contract import CRITERIA

__all__ = [
    "OKABE_ITO",
    "BAND_COLOURS",
    "TEMPLATE",
    "criterion_label",
    "has_flag",
    "indicator_unit",
    "scorecard",
    "indicator_intervals",
    "time_to_event_curve",
    "case_volume",
    "disaggregation",
    "survey_items",
    "clms_funnel",
    "criteria_heatmap",
    "group_label",
    "GROUP_LABELS",
    "score_distribution",
    "ranking",
    "mechanism_comparison",
    "coverage_heatmap",
    "figure_html",
]

#: Okabe & Ito (2008) colour-blind-safe palette (black moved last).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Score bands, ordered weakest to strongest, as drawn everywhere.
BAND_COLOURS: dict[str, str] = {
    "very_weak": "#D55E00",
    "weak": "#E69F00",
    "adequate": "#56B4E9",
    "strong": "#0072B2",
    "not_covered": "#BBBBBB",
}

_FONT = "Atkinson Hyperlegible, Verdana, DejaVu Sans, Arial, sans-serif"

#: The shared plotly template, registered as ``pio.templates["gm_eval"]``.
TEMPLATE = go.layout.Template(
    layout=dict(
        font=dict(family=_FONT, size=18, color="#1a1a1a"),
        title=dict(font=dict(size=22), x=0, xanchor="left"),
        colorway=list(OKABE_ITO),
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=dict(showgrid=False, linecolor="#444", ticks="outside", automargin=True, title_standoff=12),
        yaxis=dict(gridcolor="#e5e5e5", linecolor="#444", automargin=True, title_standoff=12),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, font=dict(size=16)),
        margin=dict(l=20, r=20, t=80, b=40),
        hoverlabel=dict(font=dict(size=16)),
        colorscale=dict(sequential=[[0, "#f7fbff"], [0.5, "#56B4E9"], [1, "#0072B2"]]),
    )
)
pio.templates["gm_eval"] = TEMPLATE

_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def criterion_label(criterion: str) -> str:
    """Human label of a criterion id (``rights_compatible`` -> ``Rights-compatible``)."""
    special = {
        "rights_compatible": "Rights-compatible",
        "continuous_learning": "Continuous learning",
        "engagement_dialogue": "Engagement and dialogue",
        "overall": "Overall",
    }
    return special.get(criterion, str(criterion).replace("_", " ").capitalize())


def has_flag(flags: pd.Series, flag: str) -> pd.Series:
    """Boolean Series: whether each ``;``-separated ``flags`` value contains ``flag``."""
    f = flags.astype("object").where(flags.notna(), "").astype(str)
    return f.str.contains(rf"(?:^|;){re.escape(flag)}(?:;|$)", regex=True).astype(bool)


def indicator_unit(indicator_id: str, units: dict[str, str] | None = None) -> str:
    """Unit of an indicator: from the catalogue's ``unit`` column when given, else from its id.

    Returns one of ``rate`` (a proportion), ``days``, ``ratio``, ``score`` (or the catalogue's text).
    """
    if units and isinstance(units.get(indicator_id), str):
        return units[indicator_id]
    i = str(indicator_id)
    return "days" if "days" in i else "ratio" if i.endswith("_ratio") else "rate"


def _fig(title: str, height: int = 460) -> go.Figure:
    # Built without per-property validation (5x faster); the tests validate every figure.
    return go.Figure(layout=dict(template=TEMPLATE, title_text=title, height=height), _validate=False)


def _add(fig: go.Figure, trace_cls, **kwargs) -> None:
    """Add a trace built without per-property validation (the tests validate every figure)."""
    fig.add_trace(trace_cls(_validate=False, **kwargs))


def _empty(title: str, message: str) -> go.Figure:
    fig = _fig(title, height=220)
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=18, color="#444"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _criteria_order(values) -> list[str]:
    present = [c for c in (*CRITERIA, "overall") if c in set(values)]
    return present + sorted(set(values) - set(present))


def scorecard(scores: pd.DataFrame, title: str = "Scores on the eight criteria") -> go.Figure:
    """Horizontal bars of one mechanism's criterion scores, coloured by band.

    Parameters
    ----------
    scores : DataFrame
        Rows of the ``scores`` table for one mechanism (``criterion, score,
        coverage, band``; the ``overall`` row is drawn first when present).
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if scores.empty:
        return _empty(title, "No scores available")
    df = scores.copy()
    order = _criteria_order(df["criterion"])
    if "overall" in order:  # overall on top, then the criteria in canonical order
        order = ["overall", *[c for c in order if c != "overall"]]
    df["criterion"] = pd.Categorical(df["criterion"], order, ordered=True)
    df = df.sort_values("criterion", ascending=False)  # plotly draws the first bar at the bottom
    labels = [criterion_label(c) for c in df["criterion"].astype(str)]
    band = df["band"].astype("object").where(df["score"].notna(), "not_covered").fillna("not_covered")
    text = [
        "not covered" if pd.isna(s) else f"{s:.0f}  (coverage {c:.0%})"
        for s, c in zip(df["score"], df["coverage"].fillna(0), strict=True)
    ]
    fig = _fig(title, height=120 + 48 * len(df))
    _add(fig, go.Bar,
        x=df["score"].fillna(0), y=labels, orientation="h", text=text, textposition="outside",
        marker_color=[BAND_COLOURS.get(b, "#999999") for b in band],
        marker_pattern_shape=["/" if b == "not_covered" else "" for b in band],
        hovertemplate="%{y}: %{x:.0f}<extra></extra>", showlegend=False,
    )
    for b in ("very_weak", "weak", "adequate", "strong"):
        _add(fig, go.Bar, x=[None], y=[None], name=b.replace("_", " "), marker_color=BAND_COLOURS[b])
    fig.update_xaxes(range=[0, 150], title_text="score (0-100)", tickvals=[0, 25, 50, 75, 100])
    fig.update_layout(barmode="overlay")
    return fig


def indicator_intervals(indicators: pd.DataFrame, labels: dict[str, str] | None = None,
                        title: str = "Indicators with 95% intervals",
                        units: dict[str, str] | None = None) -> go.Figure:
    """Dot-and-whisker plot of rate indicators (proportions) with their intervals.

    Parameters
    ----------
    indicators : DataFrame
        Rows of the ``indicators`` table for one mechanism. Only rows with a
        value in [0, 1] are drawn (times in days are shown in tables); withheld
        and not-covered rows are listed in a note.
    labels : dict, optional
        ``indicator_id -> label`` (from the indicator catalogue).
    title : str
        Figure title.
    units : dict, optional
        ``indicator_id -> unit`` (catalogue); only ``rate`` indicators are drawn.
    """
    is_rate = indicators["indicator_id"].map(lambda i: indicator_unit(i, units) == "rate").astype(bool)
    df = indicators[indicators["value"].between(0, 1) & is_rate]
    if df.empty:
        return _empty(title, "No rate indicators available")
    labels = labels or {}
    names = [labels.get(i, i.split(".", 1)[-1].replace("_", " ")) for i in df["indicator_id"]]
    colour = [OKABE_ITO[list(CRITERIA).index(c) % 8] if c in CRITERIA else "#777" for c in df["criterion"]]
    fig = _fig(title, height=140 + 40 * len(df))
    _add(fig, go.Scatter,
        x=df["value"], y=names, mode="markers", marker=dict(size=14, color=colour),
        error_x=dict(type="data", symmetric=False, array=(df["ci_high"] - df["value"]).clip(lower=0),
                     arrayminus=(df["value"] - df["ci_low"]).clip(lower=0), thickness=2, width=6),
        customdata=np.stack([df["n"].fillna(0).to_numpy(), df["ci_low"], df["ci_high"]], axis=1),
        hovertemplate="%{y}: %{x:.0%} (95% CI %{customdata[1]:.0%}-%{customdata[2]:.0%}, n=%{customdata[0]})<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(range=[0, 1.02], tickformat=".0%", title_text="share")
    fig.update_yaxes(autorange="reversed")
    return fig


def time_to_event_curve(curve: pd.DataFrame, target_days: float | None = None,
                        title: str = "Time to close", what: str = "closed") -> go.Figure:
    """Kaplan-Meier curve (share not yet closed) with its band and the stated target.

    Parameters
    ----------
    curve : DataFrame
        Rows of ``time_to_event`` for one mechanism and one interval
        (``t, survival, ci_low, ci_high``).
    target_days : float, optional
        The mechanism's own stated target, drawn as a vertical line.
    title : str
        Figure title.
    what : str
        Verb used in the axis label ("closed", "acknowledged").
    """
    if curve.empty:
        return _empty(title, "No time-to-event data")
    df = curve.sort_values("t")
    fig = _fig(title)
    _add(fig, go.Scatter, x=df["t"], y=df["ci_high"], mode="lines", line=dict(width=0, shape="hv"),
                    showlegend=False, hoverinfo="skip")
    _add(fig, go.Scatter, x=df["t"], y=df["ci_low"], mode="lines", line=dict(width=0, shape="hv"),
                    fill="tonexty", fillcolor="rgba(0,114,178,0.18)", name="95% band", hoverinfo="skip")
    _add(fig, go.Scatter, x=df["t"], y=df["survival"], mode="lines", line=dict(color=OKABE_ITO[0], width=3, shape="hv"),
                    name=f"share not yet {what}",
                    hovertemplate="day %{x:.0f}: %{y:.0%} not yet " + what + "<extra></extra>")
    if target_days is not None and pd.notna(target_days):
        fig.add_vline(x=float(target_days), line=dict(color=OKABE_ITO[5], width=3, dash="dash"),
                      annotation_text=f"target {float(target_days):.0f} days", annotation_position="top right",
                      annotation_font=dict(size=16, color=OKABE_ITO[5]))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text=f"not yet {what}")
    fig.update_xaxes(title_text="days since received", rangemode="tozero")
    return fig


def case_volume(volume: pd.DataFrame, dimension: str = "category", title: str | None = None) -> go.Figure:
    """Stacked monthly case counts by category or channel.

    Parameters
    ----------
    volume : DataFrame
        Rows of ``case_volume`` (``month, dimension, group, cases, flags``).
    dimension : {"category", "channel"}
        Which breakdown to draw.
    title : str, optional
        Figure title.
    """
    title = title or f"Cases per month by {dimension}"
    df = volume[volume["dimension"] == dimension]
    if df.empty:
        return _empty(title, "No case volume data")
    shown = df.dropna(subset=["cases"])
    wide = shown.groupby(["month", "group"], sort=True)["cases"].sum().unstack("group")
    fig = _fig(title)
    for i, group in enumerate(wide.columns):
        _add(fig, go.Bar, x=wide.index, y=wide[group], name=str(group).replace("_", " "),
                    marker_color=OKABE_ITO[i % len(OKABE_ITO)],
                    hovertemplate="%{x}: %{y:.0f}<extra>" + str(group).replace("_", " ") + "</extra>")
    withheld = int(df["cases"].isna().sum())
    if withheld:
        fig.add_annotation(text=f"{withheld} small counts withheld for privacy", showarrow=False,
                           x=1, y=-0.22, xref="paper", yref="paper", xanchor="right", font=dict(size=14))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category", title_text="month")
    fig.update_yaxes(title_text="cases")
    return fig


#: Readable labels of group codes (``15_17`` -> "15-17"); others lose their underscores.
GROUP_LABELS: dict[str, str] = {"under_15": "under 15", "15_17": "15-17", "18_plus": "18 and over"}


def group_label(dimension: str, group: object) -> str:
    """Axis label of one group of a breakdown (``age_band``, ``15_17`` -> ``age band: 15-17``)."""
    g = str(group)
    return f"{dimension.replace('_', ' ')}: {GROUP_LABELS.get(g, g.replace('_', ' '))}"


def disaggregation(disagg: pd.DataFrame, title: str = "Results by group") -> go.Figure:
    """Dot-and-whisker plot of one indicator across the groups of each dimension.

    Parameters
    ----------
    disagg : DataFrame
        Rows of ``disaggregation`` for one mechanism and one indicator.
    title : str
        Figure title.
    """
    df = disagg.dropna(subset=["value"])
    if df.empty:
        return _empty(title, "No disaggregated results (withheld or not covered)")
    dims = list(dict.fromkeys(df["dimension"]))
    fig = _fig(title, height=160 + 36 * len(df))
    for i, dim in enumerate(dims):
        d = df[df["dimension"] == dim]
        _add(fig, go.Scatter,
            x=d["value"], y=[group_label(dim, g) for g in d["group"]],
            mode="markers", name=dim.replace("_", " "), marker=dict(size=14, color=OKABE_ITO[i % 8]),
            error_x=dict(type="data", symmetric=False, array=(d["ci_high"] - d["value"]).clip(lower=0),
                         arrayminus=(d["value"] - d["ci_low"]).clip(lower=0), thickness=2),
            hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        )
    fig.update_xaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    return fig


def survey_items(items: pd.DataFrame, title: str = "Survey answers") -> go.Figure:
    """100% stacked bars of answers per survey item.

    Parameters
    ----------
    items : DataFrame
        Rows of ``survey_items`` for one mechanism and one survey
        (``item, response, share``); withheld shares are left out.
    title : str
        Figure title.
    """
    df = items.dropna(subset=["share"])
    if df.empty:
        return _empty(title, "No survey answers available")
    order = ["yes", "not_sure", "no", "5", "4", "3", "2", "1"]
    responses = sorted(df["response"].astype(str).unique(),
                       key=lambda r: order.index(r) if r in order else len(order))
    colours = {"yes": OKABE_ITO[0], "not_sure": "#999999", "no": OKABE_ITO[1]}
    fig = _fig(title, height=160 + 44 * df["item"].nunique())
    for i, resp in enumerate(responses):
        d = df[df["response"].astype(str) == resp]
        _add(fig, go.Bar, y=[str(x).replace("_", " ") for x in d["item"]], x=d["share"], orientation="h",
                    name=resp.replace("_", " "), marker_color=colours.get(resp, OKABE_ITO[(i + 2) % 8]),
                    hovertemplate="%{y}: %{x:.0%}<extra>" + resp + "</extra>")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return fig


def clms_funnel(funnel: pd.DataFrame, title: str = "Child labour monitoring: from identification to exit") -> go.Figure:
    """Funnel of the CLMS stages (identified, referred, remediation started, followed up, out).

    Parameters
    ----------
    funnel : DataFrame
        Rows of ``clms_funnel`` for one mechanism (``stage, count``).
    title : str
        Figure title.
    """
    stages = ["identified", "referred", "remediation_started", "followed_up", "out_of_child_labour"]
    df = funnel.copy()
    df["stage"] = pd.Categorical(df["stage"], stages, ordered=True)
    df = df.sort_values("stage").dropna(subset=["count"])
    if df.empty:
        return _empty(title, "No monitoring data (not applicable or withheld)")
    fig = _fig(title, height=420)
    _add(fig, go.Funnel, y=[s.replace("_", " ") for s in df["stage"].astype(str)], x=df["count"],
                   textinfo="value+percent initial", marker_color=OKABE_ITO[2],
                   textfont=dict(size=18))
    return fig


def criteria_heatmap(scores: pd.DataFrame, labels: dict[str, str] | None = None,
                     title: str = "Scores by mechanism and criterion") -> go.Figure:
    """Heatmap of mechanisms (rows) by criteria (columns), cells annotated with the score.

    Parameters
    ----------
    scores : DataFrame
        Rows of ``scores`` for several mechanisms.
    labels : dict, optional
        ``mechanism_id -> display label`` (names or neutral labels).
    title : str
        Figure title.
    """
    if scores.empty:
        return _empty(title, "No scores available")
    wide = scores.pivot_table(index="mechanism_id", columns="criterion", values="score", aggfunc="first",
                              dropna=False)
    wide = wide.reindex(columns=[c for c in _criteria_order(scores["criterion"]) if c in wide.columns])
    if "overall" in wide.columns:
        wide = wide.sort_values("overall", ascending=False)
    labels = labels or {}
    y = [labels.get(m, m) for m in wide.index]
    text = [["" if pd.isna(v) else f"{v:.0f}" for v in row] for row in wide.to_numpy()]
    fig = _fig(title, height=max(420, 220 + 36 * len(wide)))
    _add(fig, go.Heatmap, z=wide.to_numpy(), x=[criterion_label(c) for c in wide.columns], y=y, zmin=0, zmax=100,
                    colorscale="Cividis", text=text, texttemplate="%{text}", textfont=dict(size=15),
                    colorbar=dict(title="score"), hovertemplate="%{y} / %{x}: %{z:.0f}<extra></extra>")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", tickangle=-30)
    return fig


def score_distribution(scores: pd.DataFrame, highlight: str | None = None,
                       title: str = "Distribution of scores across mechanisms") -> go.Figure:
    """Box and points per criterion; optionally one mechanism highlighted.

    Parameters
    ----------
    scores : DataFrame
        Rows of ``scores`` for several mechanisms.
    highlight : str, optional
        A ``mechanism_id`` drawn as a diamond on top.
    title : str
        Figure title.
    """
    df = scores.dropna(subset=["score"])
    if df.empty:
        return _empty(title, "No scores available")
    order = _criteria_order(df["criterion"])
    fig = _fig(title)
    _add(fig, go.Box, x=[criterion_label(c) for c in df["criterion"]], y=df["score"], boxpoints="all", jitter=0.4,
                pointpos=0, marker=dict(color=OKABE_ITO[0], size=7, opacity=0.6), line_color=OKABE_ITO[0],
                name="mechanisms", showlegend=False)
    if highlight is not None:
        h = df[df["mechanism_id"] == highlight]
        _add(fig, go.Scatter, x=[criterion_label(c) for c in h["criterion"]], y=h["score"], mode="markers",
                        marker=dict(symbol="diamond", size=16, color=OKABE_ITO[5], line=dict(width=1, color="black")),
                        name="this mechanism")
    fig.update_xaxes(categoryorder="array", categoryarray=[criterion_label(c) for c in order], tickangle=-30)
    fig.update_yaxes(range=[0, 100], title_text="score")
    return fig


def ranking(scores: pd.DataFrame, criterion: str = "overall", labels: dict[str, str] | None = None,
            title: str | None = None) -> go.Figure:
    """Mechanisms ranked on one criterion (highest first), coloured by band."""
    title = title or f"Ranking: {criterion_label(criterion).lower()} score"
    df = scores[(scores["criterion"] == criterion)].dropna(subset=["score"]).sort_values("score", ascending=False)
    if df.empty:
        return _empty(title, "No scores available")
    labels = labels or {}
    fig = _fig(title, height=140 + 34 * len(df))
    _add(fig, go.Bar, x=df["score"], y=[labels.get(m, m) for m in df["mechanism_id"]], orientation="h",
                marker_color=[BAND_COLOURS.get(b, "#999") for b in df["band"].fillna("not_covered")],
                text=[f"{s:.0f}" for s in df["score"]], textposition="outside",
                hovertemplate="%{y}: %{x:.0f}<extra></extra>", showlegend=False)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[0, 110], title_text="score (0-100)")
    return fig


def mechanism_comparison(scores: pd.DataFrame, labels: dict[str, str] | None = None,
                         title: str = "Criteria side by side") -> go.Figure:
    """Grouped bars: each criterion, one bar per mechanism (a company's mechanisms)."""
    df = scores[scores["criterion"] != "overall"]
    if df.empty:
        return _empty(title, "No scores available")
    labels = labels or {}
    order = _criteria_order(df["criterion"])
    fig = _fig(title, height=520)
    for i, (mid, d) in enumerate(df.groupby("mechanism_id", sort=False)):
        d = d.set_index("criterion").reindex(order)
        _add(fig, go.Bar, x=[criterion_label(c) for c in order], y=d["score"], name=labels.get(mid, mid),
                    marker_color=OKABE_ITO[i % 8], hovertemplate="%{x}: %{y:.0f}<extra>" + str(labels.get(mid, mid)) + "</extra>")
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 100], title_text="score")
    fig.update_xaxes(tickangle=-30)
    return fig


def coverage_heatmap(scores: pd.DataFrame, labels: dict[str, str] | None = None,
                     title: str = "Evidence coverage by criterion") -> go.Figure:
    """Heatmap of ``coverage`` (share of each criterion's weight that had data)."""
    df = scores[scores["criterion"] != "overall"]
    if df.empty:
        return _empty(title, "No scores available")
    wide = df.pivot_table(index="mechanism_id", columns="criterion", values="coverage", aggfunc="first", dropna=False)
    wide = wide.reindex(columns=[c for c in _criteria_order(df["criterion"]) if c in wide.columns])
    labels = labels or {}
    text = [["" if pd.isna(v) else f"{v:.0%}" for v in row] for row in wide.to_numpy()]
    fig = _fig(title, height=max(420, 220 + 32 * len(wide)))
    _add(fig, go.Heatmap, z=wide.to_numpy(), x=[criterion_label(c) for c in wide.columns],
                    y=[labels.get(m, m) for m in wide.index], zmin=0, zmax=1, colorscale="Cividis",
                    text=text, texttemplate="%{text}", colorbar=dict(title="coverage", tickformat=".0%"),
                    hovertemplate="%{y} / %{x}: %{z:.0%}<extra></extra>")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", tickangle=-30)
    return fig


def figure_html(fig: go.Figure, include_plotlyjs: bool = False, div_id: str | None = None) -> str:
    """HTML fragment for ``fig`` that works offline.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure.
    include_plotlyjs : bool
        Embed the plotly.js bundle inline (do it for the first figure of a
        page only). Never a CDN, never MathJax.
    div_id : str, optional
        Stable element id (makes output reproducible).

    Returns
    -------
    str
        A ``<div>`` with its ``<script>``.
    """
    return pio.to_html(fig, include_plotlyjs=bool(include_plotlyjs), include_mathjax=False, full_html=False,
                       config=_CONFIG, div_id=div_id, default_width="100%", validate=False)


# --- appended by the dashboards work (gm_eval.dashboard): figures the dashboards need ---
__all__ += ["versus_sector_median", "children_lens"]


def versus_sector_median(comparison: pd.DataFrame, label: str = "This mechanism",
                         title: str = "Against the sector median") -> go.Figure:
    """Grouped bars: one mechanism's eight criterion scores beside its sector median.

    Parameters
    ----------
    comparison : DataFrame
        ``criterion, score, sector_median`` (one row per criterion, e.g. from
        :func:`gm_eval.dashboard.compare_to_sector_median`).
    label : str
        Legend label of the mechanism (its name or a neutral label).
    title : str
        Figure title.
    """
    df = comparison[comparison["criterion"] != "overall"]
    if df.empty or df[["score", "sector_median"]].isna().all().all():
        return _empty(title, "No scores available")
    order = _criteria_order(df["criterion"])
    df = df.set_index("criterion").reindex(order)
    x = [criterion_label(c) for c in order]
    fig = _fig(title, height=500)
    fig.add_bar(x=x, y=df["score"], name=str(label), marker_color=OKABE_ITO[0],
                text=["not covered" if pd.isna(s) else f"{s:.0f}" for s in df["score"]],
                textposition="outside", hovertemplate="%{x}: %{y:.0f}<extra></extra>")
    fig.add_bar(x=x, y=df["sector_median"], name="sector median", marker_color="#999999",
                hovertemplate="%{x}: %{y:.0f}<extra>sector median</extra>")
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 110], title_text="score")
    fig.update_xaxes(tickangle=-30)
    return fig


def children_lens(lens: pd.DataFrame, title: str = "Children's lens") -> go.Figure:
    """Bars with 95% intervals for the child-lens indicators of one mechanism.

    Withheld values (``status == "suppressed"``) and missing evidence
    (``status == "not_covered"``) are drawn as labelled empty slots, never as zero.

    Parameters
    ----------
    lens : DataFrame
        ``label, value, ci_low, ci_high, status`` (e.g. from
        :func:`gm_eval.dashboard.children_lens`), values as proportions.
    title : str
        Figure title.
    """
    if lens.empty:
        return _empty(title, "No children's indicators")
    v = lens["value"].astype("float64")
    ok = lens["status"].eq("ok") & v.notna()
    text = np.where(ok, (v * 100).round(0).astype("Int64").astype("str") + "%",
                    np.where(lens["status"].eq("suppressed"), "withheld (fewer than k)",
                             "not covered"))
    fig = _fig(title, height=440)
    fig.add_bar(
        x=lens["label"], y=v.where(ok, 0), text=text, textposition="outside", marker_color=OKABE_ITO[1],
        error_y=dict(type="data", symmetric=False,
                     array=(lens["ci_high"].astype("float64") - v).clip(lower=0).where(ok, 0),
                     arrayminus=(v - lens["ci_low"].astype("float64")).clip(lower=0).where(ok, 0)),
        hovertemplate="%{x}: %{text}<extra></extra>", showlegend=False,
    )
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%")
    return fig
