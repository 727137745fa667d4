"""The mechanisms x criteria heatmap as a plain HTML table.

The dashboards draw their heatmap as a table rather than a plotly figure: it
needs no JavaScript, so the server can send it inside the page itself (the
sector overview shows it before the interactive controls have loaded), a
filter change redraws it in milliseconds, a projector shows its numbers
sharply at any size, and a screen reader reads it as a table.

Cells carry the score as text and are coloured with the same Cividis scale
(0 to 100) as :func:`gm_eval.plots.criteria_heatmap` in the reports, so the
two views read the same way; the text colour is chosen per cell for contrast.
Every label and value is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np
import pandas as pd
from plotly.colors import get_colorscale

from gm_eval.contract import CRITERIA

__all__ = ["CIVIDIS", "score_colour", "text_colour", "heatmap_matrix", "criteria_heatmap_html"]

#: Plotly's "Cividis" colour scale (colour-vision-deficiency friendly), the one
#: the reports' heatmap uses, as (position, "#rrggbb") stops;
#: :func:`score_colour` interpolates it linearly between 0 and 100 as plotly
#: does for ``zmin=0, zmax=100``.
CIVIDIS: tuple[tuple[float, str], ...] = tuple((float(p), c) for p, c in get_colorscale("Cividis"))

#: Colour of a cell with no score (no evidence, or withheld to protect privacy).
EMPTY_COLOUR = "#f2f2f2"


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


_POS = np.array([p for p, _ in CIVIDIS])
_RGB = np.stack([_rgb(c) for _, c in CIVIDIS])


def score_colour(score: float) -> str:
    """Background colour of a 0-100 score on the Cividis scale (clipped to 0-100).

    Returns
    -------
    str
        ``#rrggbb``; :data:`EMPTY_COLOUR` for a missing score.
    """
    if score is None or pd.isna(score):
        return EMPTY_COLOUR
    x = min(max(float(score), 0.0), 100.0) / 100.0
    rgb = [np.interp(x, _POS, _RGB[:, j]) for j in range(3)]
    return "#" + "".join(f"{round(v):02x}" for v in rgb)


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of an sRGB colour."""
    c = _rgb(hex_colour) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2])


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (WCAG ratio)."""
    lum = _luminance(background)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def criterion_label(criterion: str) -> str:
    """Human label of a criterion id; the same wording as the plots."""
    from gm_eval.plots import criterion_label as label

    return label(criterion)


def heatmap_matrix(scores: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """Mechanisms x criteria scores in display order.

    Parameters
    ----------
    scores : DataFrame
        Rows of ``scores`` (``mechanism_id, criterion, score``) for several mechanisms.
    order : list of str, optional
        Row order (mechanism ids). Default: best overall score first, as
        :func:`gm_eval.plots.criteria_heatmap` orders them.

    Returns
    -------
    DataFrame
        Index ``mechanism_id``; columns the criteria present (canonical order),
        then ``overall``; missing scores are NaN.
    """
    wide = scores.pivot_table(index="mechanism_id", columns="criterion", values="score", aggfunc="first",
                              dropna=False)
    present = set(wide.columns)
    cols = [c for c in (*CRITERIA, "overall") if c in present] + sorted(present - {*CRITERIA, "overall"})
    wide = wide.reindex(columns=cols)
    if order is not None:
        wide = wide.reindex(index=[m for m in order if m in wide.index])
    elif "overall" in wide.columns:
        wide = wide.sort_values("overall", ascending=False, kind="stable")
    wide.columns.name = None
    return wide


def criteria_heatmap_html(scores: pd.DataFrame, labels: Mapping[str, str] | None = None,
                          title: str = "Scores by mechanism and criterion", order: list[str] | None = None,
                          big: bool = False) -> str:
    """The heatmap as a self-contained HTML table (inline styles, no script).

    Parameters
    ----------
    scores : DataFrame
        Rows of ``scores`` for the mechanisms to show.
    labels : mapping, optional
        ``mechanism_id -> display label`` (names, or neutral labels in presentation mode).
    title : str
        Caption of the table.
    order : list of str, optional
        Row order; default best overall first.
    big : bool
        Presentation mode: larger type.

    Returns
    -------
    str
        ``<table class="gm-heatmap">``: one header row of criteria, one row per
        mechanism (``<th scope="row">`` holding its label), one cell per score
        with the rounded score as text and a ``title`` for hover; an empty cell
        where there is no score.
    """
    labels = labels or {}
    esc = lambda s: html.escape(str(s), quote=True)  # noqa: E731
    if scores.empty:
        return (f'<div class="gm-heatmap gm-heatmap-empty"><b>{esc(title)}</b>: '
                "no scores available.</div>")
    wide = heatmap_matrix(scores, order)
    font = 22 if big else 14
    pad = "6px 10px" if big else "3px 7px"
    cell = f"padding:{pad};text-align:center;min-width:{64 if big else 48}px;font-variant-numeric:tabular-nums"
    head = "".join(
        f'<th scope="col" style="padding:{pad};font-weight:{"700" if c == "overall" else "600"};'
        f'text-align:center;vertical-align:bottom">{esc(criterion_label(c))}</th>'
        for c in wide.columns)
    rows = []
    names = {c: criterion_label(c) for c in wide.columns}
    for mid, vals in zip(wide.index, wide.to_numpy(dtype=float), strict=True):
        label = esc(labels.get(mid, mid))
        tds = []
        for c, v in zip(wide.columns, vals, strict=True):
            bg = score_colour(v)
            weight = ";font-weight:700" if c == "overall" else ""
            if np.isnan(v):
                tds.append(f'<td style="{cell};background:{bg}" title="{label} / {esc(names[c])}: '
                           'no evidence or withheld"></td>')
            else:
                tds.append(f'<td style="{cell};background:{bg};color:{text_colour(bg)}{weight}" '
                           f'title="{label} / {esc(names[c])}: {v:.0f}">{v:.0f}</td>')
        rows.append(f'<tr><th scope="row" style="padding:{pad};text-align:left;font-weight:500;'
                    f'white-space:nowrap">{label}</th>{"".join(tds)}</tr>')
    return (f'<table class="gm-heatmap" style="border-collapse:separate;border-spacing:2px;'
            f'font-size:{font}px;font-family:sans-serif;margin:0.4em 0">'
            f'<caption style="caption-side:top;text-align:left;font-weight:700;font-size:{font + 4}px;'
            f'padding:0.3em 0">{esc(title)}</caption>'
            f'<thead><tr><td></td>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
