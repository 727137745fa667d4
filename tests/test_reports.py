"""Report content, planning, file names, HTML export and index (fast: no kernel)."""

from __future__ import annotations

import json
import re

import nbformat
import pandas as pd
import pytest
from conftest_results import write_fixture_results
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gm_eval.errors import InputError
from gm_eval.reports import (
    KINDS,
    Report,
    _plotly_js,
    build_report,
    export_html,
    open_report,
    plan_reports,
    safe_name,
    write_index,
)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return write_fixture_results(tmp_path_factory.mktemp("rep") / "results", n_mechanisms=6).resolve()


# ------------------------------------------------------------------------ file names
@pytest.mark.parametrize("good", ["M001", "site-7.b", "a_b", "X" * 64])
def test_safe_name_keeps_contract_ids(good):
    assert safe_name(good) == good


@pytest.mark.parametrize("bad", ["../etc/passwd", "..", ".", ".hidden", "a/b", "a b", "é", "x" * 65, "", "C:\\x"])
def test_safe_name_never_yields_a_path(bad):
    name = safe_name(bad)
    assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", name) and "/" not in name and name not in {".", ".."}
    assert safe_name(bad) == name  # stable
    assert name != safe_name(bad + "x")


# ---------------------------------------------------------------------------- plans
def test_plan_all_by_default(results, tmp_path):
    tasks = plan_reports(results, tmp_path)
    mech = pd.read_parquet(results / "mechanisms.parquet")
    kinds = [t.kind for t in tasks]
    assert kinds.count("mechanism") == len(mech)
    assert kinds.count("company") == mech["company_id"].nunique()
    assert kinds.count("sector") == mech["sector"].nunique()
    assert kinds.count("data_quality") == 1
    for t in tasks:
        assert t.notebook.startswith(str(tmp_path.resolve())) and t.template.endswith(KINDS[t.kind][0])
        # parameters are JSON-like scalars, paths absolute
        json.dumps(t.parameters)
        assert all(isinstance(v, str | bool) for v in t.parameters.values())
        assert t.parameters["results_dir"] == str(results)


def test_plan_selection_and_unknown_ids(results, tmp_path):
    tasks = plan_reports(results, tmp_path, mechanisms=["M002"], sectors=["garments"])
    assert [(t.kind, t.entity_id) for t in tasks] == [("mechanism", "M002"), ("sector", "garments")]
    with pytest.raises(InputError, match="unknown mechanism"):
        plan_reports(results, tmp_path, mechanisms=["M002", "../../x"])
    with pytest.raises(InputError):
        plan_reports(tmp_path / "missing", tmp_path)


# -------------------------------------------------------------------------- content
def test_mechanism_report_has_every_section_and_escapes_names(results):
    rep = build_report(results, "mechanism", "M002")  # named "Mechanism <2> & Co" in the fixture
    assert set(rep.sections) >= {"header", "summary", "scorecard", "indicators", "timeliness", "volume", "equity",
                                 "surveys", "clms", "self_assessment", "recommendations"}
    header = rep.html("header")
    assert "Mechanism &lt;2&gt; &amp; Co" in header and "<2>" not in header


def test_clms_section_only_where_relevant(results):
    mech = pd.read_parquet(results / "mechanisms.parquet")
    clms = mech.loc[mech["mechanism_type"] == "clms", "mechanism_id"].iloc[0]
    other = mech.loc[mech["mechanism_type"] == "ogm", "mechanism_id"].iloc[0]
    assert "Plotly.newPlot" in build_report(results, "mechanism", clms).html("clms")
    assert "Not applicable" in build_report(results, "mechanism", other).html("clms")


def test_suppressed_values_are_announced(results):
    # the fixture withholds child_referral_rate for M001 and some monthly counts
    rep = build_report(results, "mechanism", "M001")
    assert "withheld" in rep.html("indicators")
    assert "withheld because they concern fewer people" in rep.html("volume")


def test_plotlyjs_embedded_once_per_page(results):
    rep = build_report(results, "mechanism", "M001")
    page = "".join(rep.html(k) for k in rep.sections)
    assert page.count(_plotly_js()) == 1
    assert page.index(_plotly_js()) < page.index("Plotly.newPlot")


def test_neutral_labels_hide_names_and_companies(results):
    mech = pd.read_parquet(results / "mechanisms.parquet")
    sector = mech["sector"].iloc[0]
    rep = build_report(results, "sector", sector, neutral_labels=True)
    page = "".join(rep.html(k) for k in rep.sections).replace(_plotly_js(), "")
    mine = mech[mech["sector"] == sector]
    assert "Mechanism A" in page
    for text in [*mine["name"], *mine["mechanism_id"]]:
        assert text not in page and json.dumps(text)[1:-1] not in page
    named = build_report(results, "sector", sector)
    assert mine["name"].iloc[0] in "".join(named.html(k) for k in named.sections)


def test_company_and_data_quality_reports(results):
    comp = build_report(results, "company", "C01")
    assert {"comparison", "scores", "strengths", "recommendations"} <= set(comp.sections)
    dq = build_report(results, "data_quality")
    assert "closed_at before acknowledged_at" in dq.html("validation")
    assert "small sample" in dq.html("small_n")


def test_missing_entity_raises(results):
    with pytest.raises(KeyError):
        build_report(results, "mechanism", "NOPE")
    with pytest.raises(ValueError):
        build_report(results, "bogus", "M001")


def test_prepared_content_is_used_only_when_it_matches(results, tmp_path):
    rep = build_report(results, "mechanism", "M003")
    prepared = tmp_path / "p.json"
    prepared.write_text(rep.to_json(), encoding="utf-8")
    got = open_report(str(results), "mechanism", "M003", prepared=str(prepared))
    assert got.sections == rep.sections and got.defer_plotlyjs
    # placeholder instead of the bundle: export_html fills it in
    assert _plotly_js() not in "".join(got.html(k) for k in got.sections)
    other = open_report(str(results), "mechanism", "M004", prepared=str(prepared))
    assert other.entity_id == "M004" and not other.defer_plotlyjs


# ------------------------------------------------------------------- HTML and index
def _fake_executed(rep: Report) -> nbformat.NotebookNode:
    """An executed notebook as papermill would leave it, without starting a kernel."""
    cells = [new_markdown_cell("# Title"), new_code_cell("report.show('scorecard')", execution_count=1,
                                                         outputs=[new_output("display_data", data={
                                                             "text/html": rep.html("scorecard")})])]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def test_export_html_is_offline_with_code_hidden(results, tmp_path):
    rep = open_report(str(results), "mechanism", "M001")
    rep.defer_plotlyjs = True  # as in batch mode: the export must embed plotly.js
    out = export_html(_fake_executed(rep), tmp_path / "r.html", title="A <b>title</b>")
    html = out.read_text(encoding="utf-8")
    assert html.count(_plotly_js()) == 1
    rest = html.replace(_plotly_js(), "")
    assert not re.search(r"<script[^>]*\ssrc\s*=", rest)
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?://", rest)
    assert "report.show" not in rest and 'class="jp-InputPrompt' not in rest
    assert "<title>A &lt;b&gt;title&lt;/b&gt;</title>" in rest


def test_index_links_reports_and_lists_failures(tmp_path):
    (tmp_path / "mechanism").mkdir()
    ok = tmp_path / "mechanism" / "M1.html"
    ok.write_text("x")
    recs = [
        {"kind": "mechanism", "entity_id": "M1", "label": "Site <1>", "status": "ok", "html": str(ok)},
        {"kind": "mechanism", "entity_id": "M2", "label": "M2", "status": "failed", "html": str(ok),
         "error": {"cell_index": 2, "ename": "ValueError", "evalue": "boom <script>"}},
    ]
    html = write_index(tmp_path, recs, {"as_of": "2025-06-30"}).read_text()
    assert '<a href="mechanism/M1.html">Site &lt;1&gt;</a>' in html
    assert '<li class="failed">M2: <strong>failed</strong> in cell 2' in html and "boom &lt;script&gt;" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?://", html)


# ------------------------------------------------------------ runner without kernels
def test_cli_unknown_id_is_bad_input(results, tmp_path, capsys):
    from gm_eval.cli import main

    assert main(["report", str(results), "--out", str(tmp_path / "r"), "--mechanism", "NOPE"]) == 2
    assert "unknown mechanism" in capsys.readouterr().err
    assert not (tmp_path / "r" / "run_manifest.json").exists()


def test_kernel_start_failure_is_retried_once_but_cell_errors_are_not(results, tmp_path, monkeypatch):
    import papermill as pm

    from gm_eval.reports import run_reports

    calls = []

    def flaky(template, output, parameters, **kw):
        calls.append(parameters.get("mechanism_id"))
        if parameters.get("mechanism_id") == "M002":
            raise pm.PapermillExecutionError(3, 1, "boom", "ValueError", "boom", [])
        if len(calls) == 1:
            raise RuntimeError("Address already in use")  # a kernel start-up race
        rep = open_report(parameters["results_dir"], "mechanism", parameters["mechanism_id"],
                          prepared=parameters["prepared"])
        return _fake_executed(rep)

    monkeypatch.setattr(pm, "execute_notebook", flaky)
    summary = run_reports(results, tmp_path, mechanisms=["M001", "M002"], workers=1, progress=False)
    recs = {r["entity_id"]: r for r in summary.records}
    assert calls == ["M001", "M001", "M002"]
    assert recs["M001"]["status"] == "ok" and recs["M001"]["retried"] is True
    assert recs["M002"]["status"] == "failed" and recs["M002"]["error"]["cell_index"] == 3
    assert "retried" not in recs["M002"]
    assert_html = (tmp_path / "mechanism" / "M001.html").read_text(encoding="utf-8")
    assert assert_html.count(_plotly_js()) == 1  # prepared content, plotly.js inserted at export
