"""The Voila dashboards in a real browser (Debian chromium driven by Playwright).

One Voila server with the shipped configuration serves both dashboards for a
12-mechanism results directory scored by the real pipeline. Screenshots land
in ``test-artifacts/``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from browser.conftest import network_hosts, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLOT = ".js-plotly-plot"
#: Text that must never reach a viewer: Python tracebacks, error outputs, notebook source.
FORBIDDEN = ("Traceback", "Error", "error", "build_sector_overview", "build_mechanism_view",
             "query_string()", "import ", "results_dir")


def _open(page, url: str, n_plots: int, timeout: float = 60_000) -> None:
    page.goto(url)
    page.wait_for_function(f"document.querySelectorAll('{PLOT}').length >= {n_plots}", timeout=timeout)


def _clean(page) -> str:
    text = page.inner_text("body")
    for bad in FORBIDDEN:
        assert bad not in text, f"{bad!r} visible on the page"
    html = page.content()
    assert "build_sector_overview(" not in html and "build_mechanism_view(" not in html, "source in HTML"
    return text


def _only_local(page) -> None:
    hosts = network_hosts(page.urls)
    assert hosts == {"127.0.0.1"}, f"requests to other hosts: {sorted(hosts - {'127.0.0.1'})}"


def _texts(page, selector: str) -> list[str]:
    """textContent of every match (SVG text has no innerText)."""
    return page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")


#: Row labels of the heatmap table (one per mechanism, top to bottom).
HEAT_ROWS = ".gm-out-heatmap tbody th"


def _rows(page) -> list[str]:
    """Mechanism labels of the interactive heatmap table, top to bottom."""
    return _texts(page, HEAT_ROWS)


def _ticks(page, out_class: str, axis: str = "ytick") -> list[str]:
    """Tick labels of a figure, top to bottom (or left to right) as drawn on screen."""
    return page.eval_on_selector_all(
        f".{out_class} .{axis} text",
        "els => els.map(e => [e.textContent, e.getBoundingClientRect()])"
        ".sort((a, b) => (a[1].top - b[1].top) || (a[1].left - b[1].left)).map(x => x[0])")


@pytest.fixture(scope="module")
def tables(results_dir):
    mech = pd.read_parquet(results_dir / "mechanisms.parquet")
    scores = pd.read_parquet(results_dir / "scores.parquet")
    return mech, scores


@pytest.fixture(scope="module")
def overview(browser, server):
    """One sector overview page shared by the tests below, which run in file order."""
    from browser.conftest import new_page

    ctx, pg = new_page(browser)
    _open(pg, f"{server}/voila/render/sector_overview.ipynb", 4)
    pg.wait_for_selector(".gm-out-heatmap .gm-heatmap")
    yield pg
    ctx.close()


def test_sector_overview_renders_names_and_figures(overview, tables):
    page = overview
    mech, scores = tables
    text = _clean(page)
    assert "12 of 12 mechanisms shown" in text
    best = scores[scores["criterion"] == "overall"].sort_values("score", ascending=False)["mechanism_id"].iloc[0]
    best_name = mech.set_index("mechanism_id").loc[best, "name"]
    heat = _rows(page)
    assert sorted(heat) == sorted(mech["name"]), "the heatmap rows are the 12 mechanism names"
    assert heat[0] == best_name, "the heatmap starts with the best overall score"
    cells = page.eval_on_selector_all(".gm-out-heatmap tbody tr:first-child td", "els => els.map(e => e.textContent)")
    want = scores[scores["mechanism_id"] == best].set_index("criterion")["score"]
    assert cells[-1] == f"{want['overall']:.0f}", "the last column is the overall score"
    assert page.locator(".gm-first-paint").count() == 0, "the server-rendered copy is gone once interactive"
    assert _ticks(page, "gm-out-ranking")[0] == best_name, "the ranking starts with the best overall score"
    assert page.locator(f".gm-out-children {PLOT}").count() == 1
    assert page.locator(f".gm-out-median {PLOT}").count() == 1
    _only_local(page)
    screenshot(page, "sector_overview")


def test_filter_and_mechanism_dropdowns_change_the_charts(overview, tables):
    page = overview
    mech, _ = tables
    before = _rows(page)
    sector = mech["sector"].value_counts().index[0]  # the sector with most mechanisms
    expected = sorted(mech.loc[mech["sector"] == sector, "name"])
    assert sorted(before) != expected
    page.select_option(".gm-filter-sector select", label=sector)
    page.wait_for_function(
        "([sel, want]) => JSON.stringify([...document.querySelectorAll(sel)].map(e => e.textContent)"
        ".sort()) === JSON.stringify(want)", arg=[HEAT_ROWS, expected], timeout=20_000)
    after = _rows(page)
    assert sorted(after) == expected
    # the mechanism dropdown redraws the comparison with the sector median
    legend_before = _texts(page, ".gm-out-median .legendtext")
    options = _texts(page, ".gm-select-mechanism select option")
    assert len(options) == len(after)
    current = page.eval_on_selector(".gm-select-mechanism select", "e => e.options[e.selectedIndex].textContent")
    others = [o for o in options if o != current]
    if others:
        page.select_option(".gm-select-mechanism select", label=others[0])
        page.wait_for_function(
            "(b) => { const t = [...document.querySelectorAll('.gm-out-median .legendtext')]"
            ".map(e => e.textContent); return t.length && JSON.stringify(t) !== JSON.stringify(b); }",
            arg=legend_before, timeout=20_000)
        assert others[0].replace("\xa0", " ") in _texts(page, ".gm-out-median .legendtext")
    _clean(page)
    _only_local(page)
    screenshot(page, "sector_overview_filtered")


def test_presentation_mode_hides_names(overview, tables):
    page = overview
    mech, _ = tables
    page.select_option(".gm-filter-sector select", label="(all)")
    page.click(".gm-present-toggle")
    page.wait_for_function(
        "([sel, n]) => { const t = [...document.querySelectorAll(sel)].map(e => e.textContent);"
        " return t.length === n && t.every(x => /^Mechanism [A-Z]+$/.test(x)); }",
        arg=[HEAT_ROWS, len(mech)], timeout=20_000)
    after = _rows(page)
    assert sorted(after) == sorted(f"Mechanism {chr(65 + i)}" for i in range(len(mech)))
    page.wait_for_selector(".gm-dash.gm-present")
    text = page.inner_text("body")
    for name in mech["name"]:
        assert name not in text, f"{name!r} still visible in presentation mode"
    size = page.eval_on_selector(".gm-present-toggle", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 22, "presentation mode uses large type"
    _only_local(page)
    screenshot(page, "sector_overview_presentation")


def test_mechanism_drilldown_from_query_and_breakdown(page, server, tables):
    mech, _ = tables
    mid = mech["mechanism_id"].iloc[2]
    _open(page, f"{server}/voila/render/mechanism.ipynb?mechanism={mid}", 2)
    text = _clean(page)
    assert mech.set_index("mechanism_id").loc[mid, "name"] in page.inner_text(".gm-dash h2")
    assert "Recommendations" in text
    title_sel = ".gm-out-disaggregation .gtitle"
    before = _texts(page, title_sel)
    page.select_option(".gm-select-dimension select", label="Age band")
    page.wait_for_function(
        "(b) => { const t = [...document.querySelectorAll('.gm-out-disaggregation .gtitle')]"
        ".map(e => e.textContent); return t.length && JSON.stringify(t) !== JSON.stringify(b); }",
        arg=before, timeout=20_000)
    assert "age band" in _texts(page, title_sel)[0]
    _only_local(page)


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "<script>alert(1)</script>"],
                         ids=["path_traversal", "script"])
def test_hostile_query_strings_give_a_clean_message(page, server, hostile):
    from urllib.parse import quote

    _open(page, f"{server}/voila/render/mechanism.ipynb?mechanism={quote(hostile)}", 1)
    page.wait_for_selector(".gm-message")
    text = _clean(page)
    assert "Unknown mechanism in the link" in text
    assert "passwd" not in page.content() and "alert(1)" not in page.inner_text("body")
    assert "<script>alert" not in page.content()
    assert page.dialogs == [], "a script from the query string ran"
    _only_local(page)


def test_sector_overview_heatmap_is_in_the_page_sent_by_the_server(browser, server, tables):
    """The heatmap is HTML inside the page itself (first paint with no JavaScript),
    and the static copy gives way to the interactive heatmap once the page loads."""
    import urllib.request

    from browser.conftest import new_page

    mech, scores = tables
    with urllib.request.urlopen(f"{server}/voila/render/sector_overview.ipynb", timeout=90) as resp:
        served = resp.read().decode("utf-8")
    start = served.index('<div class="gm-first-paint">')
    static = served[start:served.index("</table>", start)]
    assert '<table class="gm-heatmap"' in static
    for name in mech["name"]:
        assert f'scope="row" style="padding:3px 7px;text-align:left;font-weight:500;white-space:nowrap">{name}</th>' \
            in static, f"{name!r} is not a row of the server-rendered heatmap"
    assert "<b>12</b> of 12 mechanisms shown" in served[start:]
    for bad in ("build_sector_overview", "show_sector_overview", "Traceback"):
        assert bad not in served
    # with JavaScript disabled the page still shows the heatmap (what a viewer sees first)
    ctx, pg = new_page(browser, java_script_enabled=False)
    try:
        pg.goto(f"{server}/voila/render/sector_overview.ipynb")
        rows = pg.eval_on_selector_all(".gm-first-paint tbody th", "els => els.map(e => e.textContent)")
        best = scores[scores["criterion"] == "overall"].sort_values("score", ascending=False)["mechanism_id"]
        assert rows[0] == mech.set_index("mechanism_id").loc[best.iloc[0], "name"]
        assert sorted(rows) == sorted(mech["name"])
        assert pg.is_visible(".gm-first-paint .gm-heatmap"), "the static heatmap is visible before any script"
        screenshot(pg, "sector_overview_first_paint")
    finally:
        ctx.close()
