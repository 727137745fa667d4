"""The HTML heatmap of the dashboards, checked against plotly's scale and the report figure."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from plotly.colors import sample_colorscale

from gm_eval import plots
from gm_eval.contract import CRITERIA
from gm_eval.heatmap_table import EMPTY_COLOUR, criteria_heatmap_html, score_colour, text_colour


class _Table(HTMLParser):
    """Rows of an HTML table as lists of (tag, text, attributes)."""

    def __init__(self):
        super().__init__()
        self.rows, self.caption, self._cell, self._in_caption = [], "", None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = [tag, "", dict(attrs)]
            self.rows[-1].append(self._cell)
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data
        elif self._in_caption:
            self.caption += data


def _parse(html: str) -> _Table:
    t = _Table()
    t.feed(html)
    return t


def _scores(rows: dict[str, list[float]]) -> pd.DataFrame:
    cols = [*CRITERIA, "overall"]
    return pd.DataFrame([{"mechanism_id": m, "criterion": c, "score": v}
                         for m, vals in rows.items() for c, v in zip(cols, vals, strict=True)])


@pytest.mark.parametrize("score", [0, 7.5, 12.5, 33.3, 50, 73, 88.8, 100])
def test_colours_match_plotly_cividis(score):
    rgb = sample_colorscale("Cividis", [score / 100])[0]
    want = tuple(round(float(x)) for x in rgb[4:-1].split(","))
    got = score_colour(score)
    assert tuple(int(got[i:i + 2], 16) for i in (1, 3, 5)) == pytest.approx(want, abs=1)


def test_colours_clip_and_missing():
    assert score_colour(-5) == score_colour(0) == "#00224e"
    assert score_colour(140) == score_colour(100) == "#fee838"
    assert score_colour(np.nan) == score_colour(None) == EMPTY_COLOUR


def _contrast(a: str, b: str) -> float:
    def lum(h):
        c = [int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("score", range(0, 101, 5))
def test_text_colour_is_the_more_readable_one(score):
    bg = score_colour(score)
    chosen = text_colour(bg)
    other = "#ffffff" if chosen == "#000000" else "#000000"
    assert _contrast(bg, chosen) >= _contrast(bg, other)
    assert _contrast(bg, chosen) >= 4.5, "every cell reaches WCAG AA contrast"


def test_table_rows_cells_and_order_agree_with_the_report_heatmap():
    scores = _scores({
        "M1": [50, 60, 70, 80, 90, 40, 30, 20, 55.4],
        "M2": [10, np.nan, 30, 40, 50, 60, 70, 80, 67.6],
        "M3": [99, 98, 97, 96, 95, 94, 93, 92, 95.5],
    })
    labels = {"M1": "Alpha", "M2": "Beta", "M3": "Gamma"}
    t = _parse(criteria_heatmap_html(scores, labels, "Scores"))
    assert t.caption == "Scores"
    head, *body = t.rows
    assert [c[1] for c in head[1:]] == [plots.criterion_label(c) for c in (*CRITERIA, "overall")]
    # a second method: the plotly heatmap of the reports, rows top to bottom and its cell texts
    fig = plots.criteria_heatmap(scores, labels)
    tr = fig.data[0]
    assert [r[0][1] for r in body] == list(tr.y) == ["Gamma", "Beta", "Alpha"]
    assert [[c[1] for c in r[1:]] for r in body] == [list(x) for x in tr.text]
    beta = body[1]
    assert beta[2][1] == "" and beta[2][2]["style"].endswith(f"background:{EMPTY_COLOUR}")
    assert "no evidence or withheld" in beta[2][2]["title"]
    assert beta[-1][1] == "68" and "Beta / Overall: 68" == beta[-1][2]["title"]
    assert all(r[0][0] == "th" and r[0][2]["scope"] == "row" for r in body)


def test_explicit_order_and_presentation_size():
    scores = _scores({"A": [1] * 9, "B": [2] * 9})
    t = _parse(criteria_heatmap_html(scores, order=["A", "B"]))
    assert [r[0][1] for r in t.rows[1:]] == ["A", "B"]
    assert "font-size:22px" in criteria_heatmap_html(scores, big=True)
    assert "font-size:14px" in criteria_heatmap_html(scores)


def test_labels_and_title_are_escaped():
    scores = _scores({"M1": [50] * 9})
    out = criteria_heatmap_html(scores, {"M1": '<img src=x onerror="alert(1)">'}, "<b>t</b>")
    assert "<img" not in out and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in out
    assert "<b>t</b>" not in out and "&lt;b&gt;t&lt;/b&gt;" in out


def test_no_scores_gives_a_message():
    out = criteria_heatmap_html(pd.DataFrame(columns=["mechanism_id", "criterion", "score"]))
    assert "no scores available" in out and "<table" not in out
