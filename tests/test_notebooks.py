"""The report notebook templates: committed clean, parameterised, executable, offline HTML."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from conftest_results import results_dir_for

from gm_eval.reports import KINDS, _plotly_js, export_html, notebooks_dir

ROOT = Path(__file__).resolve().parent.parent

#: Expected parameters of each template: name -> papermill's inferred type.
PARAMETERS = {
    "mechanism_report.ipynb": {"results_dir": "str", "mechanism_id": "str", "prepared": "str"},
    "company_report.ipynb": {"results_dir": "str", "company_id": "str", "prepared": "str"},
    "sector_benchmark.ipynb": {"results_dir": "str", "sector": "str", "neutral_labels": "bool", "prepared": "str"},
    "data_quality.ipynb": {"results_dir": "str", "prepared": "str"},
}


def _committed_notebooks() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(ROOT.glob("**/*.ipynb"))
    return [ROOT / p for p in out.splitlines() if p and (ROOT / p).exists()]


def test_every_template_exists():
    assert {t for t, _ in KINDS.values()} == set(PARAMETERS)
    for name in PARAMETERS:
        assert (notebooks_dir() / name).is_file()


def test_no_committed_notebook_has_outputs():
    nbs = _committed_notebooks()
    assert any(p.parent.name == "notebooks" for p in nbs)
    for path in nbs:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name} cell {i} has outputs"
                assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_template_parameters_and_kernel(name):
    path = notebooks_dir() / name
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = pm.inspect_notebook(str(path))
    assert {k: v["inferred_type_name"] for k, v in params.items()} == PARAMETERS[name]
    # JSON-like scalars only
    for p in params.values():
        assert isinstance(json.loads(p["default"].replace("False", "false").replace("True", "true")), str | bool)


def _entities(results: Path) -> dict[str, str]:
    import pandas as pd

    mech = pd.read_parquet(results / "mechanisms.parquet")
    first = mech.iloc[0]
    return {"mechanism": str(first["mechanism_id"]), "company": str(first["company_id"]),
            "sector": str(first["sector"]), "data_quality": ""}


def assert_offline_report_html(html: str) -> None:
    """The checks every exported report must pass (shared with the batch tests)."""
    bundle = _plotly_js()
    assert html.count(bundle) == 1, "plotly.js must be embedded exactly once"
    assert "Plotly.newPlot" in html, "no figure embedded"
    rest = html.replace(bundle, "")
    assert not re.search(r"<script[^>]*\ssrc\s*=", rest, re.I), "external script"
    assert not re.search(r"<link[^>]*href\s*=\s*[\"']?(https?:)?//", rest, re.I), "external stylesheet"
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?://", rest, re.I)
    assert "cdn.plot.ly" not in rest and "cdnjs" not in rest and "require.js" not in rest
    # code hidden: no prompt, no editor, no highlighted source, none of the templates' calls
    # (markdown cells legitimately render inside a jp-InputArea)
    assert not re.search(r'class="[^"]*(jp-InputPrompt|jp-CodeMirrorEditor|highlight)', rest)
    assert "open_report(" not in rest and "report.show(" not in rest
    for m in re.finditer(r'<div class="jp-Cell jp-CodeCell[^"]*"', rest):
        nxt = rest.find('<div class="jp-Cell ', m.end())
        assert "jp-InputArea" not in rest[m.end():nxt if nxt > 0 else None], "a code cell shows its input"
    assert "Traceback" not in rest and "jp-OutputArea-error" not in rest


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
def test_template_executes_on_results_and_exports_offline_html(kind, tmp_path_factory, tmp_path):
    results = results_dir_for(tmp_path_factory.getbasetemp() / "nb_results", n_mechanisms=12, seed=11)
    template, param = KINDS[kind]
    entity = _entities(results)[kind]
    params = {"results_dir": str(results.resolve())}
    if param:
        params[param] = entity
    if kind == "sector":
        params["neutral_labels"] = True
    out = tmp_path / f"{kind}.ipynb"
    nb = pm.execute_notebook(str(notebooks_dir() / template), str(out), parameters=params, kernel_name="python3",
                             progress_bar=False)
    html_path = export_html(nb, tmp_path / f"{kind}.html", title=f"{kind} {entity}")
    html = html_path.read_text(encoding="utf-8")
    assert_offline_report_html(html)
    assert len(re.findall(r"<h2", html)) >= 4  # the section headings
    if kind == "sector":
        import pandas as pd

        mech = pd.read_parquet(results / "mechanisms.parquet")
        assert "Mechanism A" in html
        for name in mech.loc[mech["sector"] == entity, "name"]:
            assert name not in html.replace(_plotly_js(), ""), "neutral labels must hide names"
