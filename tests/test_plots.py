"""Figures, display tables and plain-language sentences (no kernel needed)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest_results import write_fixture_results

from gm_eval import narrative, plots, tables
from gm_eval.contract import CRITERIA


@pytest.fixture(scope="module")
def res(tmp_path_factory):
    """The documented-format fixture: its content is known, so values can be checked."""
    from gm_eval.reports import load_results

    return load_results(write_fixture_results(tmp_path_factory.mktemp("plots") / "results", n_mechanisms=6))


def _validated(fig: go.Figure) -> go.Figure:
    """Check ``fig`` against plotly's full validation (raises on any invalid property); return it."""
    assert isinstance(fig, go.Figure)
    go.Figure(fig.to_dict())
    return fig


# ----------------------------------------------------------------------------- figures
def test_every_figure_is_valid_and_uses_the_shared_theme(res):
    s = res.table("scores")
    m = s["mechanism_id"].iloc[0]
    one = lambda name: res.for_mechanisms(name, [m])  # noqa: E731
    tte = one("time_to_event")
    figs = [
        plots.scorecard(one("scores")),
        plots.indicator_intervals(one("indicators")),
        plots.time_to_event_curve(tte[tte["interval"] == "received_to_closed"], 30),
        plots.case_volume(one("case_volume"), "category"),
        plots.case_volume(one("case_volume"), "channel"),
        plots.disaggregation(one("disaggregation")),
        plots.survey_items(one("survey_items")),
        plots.clms_funnel(res.table("clms_funnel")),
        plots.criteria_heatmap(s),
        plots.score_distribution(s, highlight=m),
        plots.ranking(s),
        plots.mechanism_comparison(s),
        plots.coverage_heatmap(s),
    ]
    for fig in figs:
        v = _validated(fig)
        assert v.layout.template.layout.font.size >= 16  # readable on a projector
        assert list(v.layout.template.layout.colorway) == list(plots.OKABE_ITO)
        assert len(v.data) >= 1


def test_okabe_ito_palette_is_the_published_one():
    # Okabe & Ito (2008), "Color Universal Design", RGB values
    assert set(plots.OKABE_ITO) == {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
                                    "#000000"}


def test_scorecard_orders_criteria_and_shows_missing_as_not_covered():
    s = pd.DataFrame({"criterion": ["overall", *CRITERIA], "score": [50, 80, np.nan, 10, 20, 30, 40, 60, 70],
                      "coverage": [0.9, 1, 0, 1, 1, 1, 1, 1, 1],
                      "band": ["adequate", "strong", None, "very_weak", "weak", "weak", "weak", "adequate", "adequate"]})
    fig = _validated(plots.scorecard(s))
    bars = fig.data[0]
    # drawn bottom-up: overall last (top), legitimate right under it
    assert list(bars.y)[-1] == "Overall" and list(bars.y)[-2] == "Legitimate"
    i = list(bars.y).index("Accessible")
    assert bars.text[i] == "not covered"
    assert bars.marker.color[i] == plots.BAND_COLOURS["not_covered"]
    assert bars.text[list(bars.y).index("Legitimate")] == "80  (coverage 100%)"


def test_withheld_counts_are_not_drawn_as_zero():
    vol = pd.DataFrame({"month": ["2025-01", "2025-01", "2025-02", "2025-02"], "dimension": ["category"] * 4,
                        "group": ["a", "b", "a", "b"], "cases": [10.0, np.nan, 7.0, 12.0],
                        "flags": ["", "suppressed", "", ""]})
    fig = _validated(plots.case_volume(vol, "category"))
    by_group = {t.name: dict(zip(t.x, t.y, strict=True)) for t in fig.data}
    assert by_group["a"] == {"2025-01": 10.0, "2025-02": 7.0}
    assert "2025-01" not in by_group["b"] or np.isnan(by_group["b"]["2025-01"])
    assert any("1 small counts withheld" in a.text for a in fig.layout.annotations)


def test_time_to_event_curve_marks_the_target():
    curve = pd.DataFrame({"t": [0, 5, 20], "survival": [1, 0.6, 0.2], "ci_low": [1, 0.5, 0.1],
                          "ci_high": [1, 0.7, 0.3]})
    fig = _validated(plots.time_to_event_curve(curve, target_days=30))
    assert any(sh.x0 == 30 for sh in fig.layout.shapes)
    assert list(fig.data[-1].y) == [1, 0.6, 0.2]


def test_empty_inputs_give_a_message_not_an_error():
    empty = pd.DataFrame(columns=["mechanism_id", "criterion", "score", "coverage", "band"])
    fig = _validated(plots.scorecard(empty))
    assert "No scores" in fig.layout.annotations[0].text


def test_figure_html_is_offline():
    fig = plots.scorecard(pd.DataFrame({"criterion": ["legitimate"], "score": [50.0], "coverage": [1.0],
                                        "band": ["adequate"]}))
    with_js = plots.figure_html(fig, include_plotlyjs=True)
    without = plots.figure_html(fig)
    from gm_eval.reports import _plotly_js

    bundle = _plotly_js()
    assert with_js.count(bundle) == 1 and bundle not in without  # inline, only when asked
    for h in (with_js.replace(bundle, ""), without):
        assert not re.search(r"<script[^>]+src=", h)
        assert "cdn.plot.ly" not in h and "http" not in h
        assert not re.search(r"mathjax[^'\"]*\.js", h, re.I)  # MathJax is never loaded


# ------------------------------------------------------------------------------ tables
def test_tables_escape_user_text():
    df = pd.DataFrame({"name": ["<script>alert(1)</script> & Co"], "n": [3]})
    h = tables.html_table(df, {"name": "Mechanism", "n": "n"}, {"n": "int"})
    assert "<script>" not in h and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in h


def test_indicator_table_spells_out_withheld_and_flags():
    ind = pd.DataFrame({"indicator_id": ["a.rate", "b.rate", "predictable.median_days_to_close"],
                        "criterion": ["legitimate"] * 3, "value": [0.456, np.nan, 12.4], "ci_low": [0.4, np.nan, 10],
                        "ci_high": [0.5, np.nan, 15], "n": [120, 3, 80], "score": [45.6, np.nan, 70],
                        "flags": ["", "suppressed;small_n", np.nan]})
    h = tables.indicator_table(ind)
    assert "46%" in h and "40%-50%" in h and "12 days" in h
    assert "withheld" in h and "small sample" in h
    assert ">0%<" not in h  # a withheld value is never shown as zero


def test_flag_text():
    assert tables.flag_text("small_n;not_covered") == "small sample, no evidence"
    assert tables.flag_text(np.nan) == "" and tables.flag_text("") == ""


# --------------------------------------------------------------------------- narrative
def test_scorecard_sentences_state_the_numbers_of_the_table():
    s = pd.DataFrame({"criterion": ["overall", "legitimate", "accessible", "predictable"],
                      "score": [61.6, 82.4, 40.5, np.nan], "coverage": [0.75, 1, 1, 0],
                      "band": ["adequate", "strong", "weak", None]})
    text = " ".join(narrative.scorecard_sentences(s, "Site A"))
    assert "Site A scores 62 out of 100" in text and "'adequate' band" in text and "75%" in text
    assert "best on being legitimate (82)" in text and "worst on being accessible (40)" in text
    assert "not enough evidence to score: predictable" in text


def test_sentences_never_invent_numbers(res):
    """Every number in a sentence appears, rounded, in the table it describes."""
    m = res.table("mechanisms")["mechanism_id"].iloc[2]  # the CLMS mechanism of the fixture
    fun = res.for_mechanisms("clms_funnel", [m])
    sents = narrative.clms_sentences(fun)
    allowed = {f"{v:.0f}" for v in fun["count"].dropna()} | {f"{v:.0%}".rstrip("%") for v in
                                                               fun["share_of_identified"].dropna()}
    numbers = set(re.findall(r"\d+", " ".join(sents)))
    assert numbers and numbers <= allowed


def test_time_and_equity_sentences():
    summ = pd.DataFrame({"interval": ["received_to_closed"], "median": [21.0], "target_days": [30],
                         "within_target": [0.634], "flags": [""]})
    t = " ".join(narrative.time_to_event_sentences(summ))
    assert "within 21 days" in t and "target is 30 days" in t and "63%" in t
    tests_ = pd.DataFrame({"indicator_id": ["transparent.informed_rate"] * 2, "dimension": ["gender", "migrant"],
                           "p_holm": [0.0004, 0.6], "significant": [True, False]})
    e = narrative.equity_sentences(tests_)
    assert len(e) == 1 and "differ by gender" in e[0] and "< 0.001" in e[0]
    none = narrative.equity_sentences(tests_.assign(significant=False))
    assert "none showed a difference" in none[0]


def test_suppression_sentence_counts_withheld_rows():
    df = pd.DataFrame({"flags": ["suppressed", "", "small_n;suppressed", np.nan]})
    assert narrative.suppression_sentence(df, "values")[0].startswith("2 values were withheld")
    assert narrative.suppression_sentence(df.iloc[[1]], "values") == []


def test_breakdown_labels_are_readable():
    disagg = pd.DataFrame({"dimension": ["age_band"] * 3 + ["migrant"], "group": ["under_15", "15_17", "18_plus", "yes"],
                           "value": [0.2, 0.4, 0.6, 0.5], "ci_low": [0.1, 0.3, 0.5, 0.4],
                           "ci_high": [0.3, 0.5, 0.7, 0.6]})
    fig = plots.disaggregation(disagg)
    assert list(fig.data[0].y) == ["age band: under 15", "age band: 15-17", "age band: 18 and over"]
    assert list(fig.data[1].y) == ["migrant: yes"]
