"""The leak test: decoy names, phone numbers, free text and record ids planted in the
input must appear nowhere downstream: not in the results, not in any report
(notebook or HTML), not in the dashboards as rendered in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from browser.conftest import free_port, new_page, start_voila, stop_voila, wait_http
from gm_eval import synth
from gm_eval.cli import main

pytestmark = pytest.mark.slow

PLOT = ".js-plotly-plot"
# Record ids of the synthetic data: M01-00001 (case), M01-W00001 / M01-K00001
# (respondents), M04-CH00001 (CLMS child). Site ids (M01-S01) are published by design.
RECORD_ID = re.compile(r"\bM\d{2}-(?:\d{5}|W\d{5}|K\d{5}|CH\d{5})\b")
DECOY = re.compile("|".join(re.escape(m) for m in synth.DECOY_MARKERS), re.IGNORECASE)


def _text_of(path: Path) -> str:
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv(index=False)
    return path.read_bytes().decode("utf-8", errors="replace")


def _leaks(text: str) -> list[str]:
    return sorted({m.group(0) for m in DECOY.finditer(text)}
                  | {m.group(0) for m in RECORD_ID.finditer(text)})[:10]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, chromium_path):
    root = tmp_path_factory.mktemp("leak")
    data, results, reports = root / "data", root / "results", root / "reports"
    synth.write_data_dir(synth.generate(n_mechanisms=12, seed=5), data)
    raw = "".join(_text_of(p) for p in data.iterdir())
    # The planted decoys and record ids really are in the input (the test can fail).
    assert DECOY.search(raw) and RECORD_ID.search(raw)
    assert main(["score", str(data), "--out", str(results)]) == 0
    assert main(["report", str(results), "--out", str(reports), "--workers", "2"]) == 0
    return root, data, results, reports


def test_no_personal_data_in_any_output_file(pipeline):
    _root, _data, results, reports = pipeline
    files = [p for d in (results, reports) for p in d.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".ipynb" for p in files)
    assert any(p.suffix == ".parquet" for p in files)
    leaked = {str(p.relative_to(p.parents[1])): _leaks(_text_of(p)) for p in files}
    leaked = {k: v for k, v in leaked.items() if v}
    assert not leaked, f"personal data or record ids reached outputs: {leaked}"


def test_no_personal_data_in_rendered_dashboards(pipeline, browser, tmp_path):
    _root, _data, results, _reports = pipeline
    port = free_port()
    proc = start_voila(results, port, tmp_path / "voila.log")
    base = f"http://127.0.0.1:{port}"
    mechanisms = pd.read_parquet(results / "mechanisms.parquet")["mechanism_id"].tolist()
    pages = [f"{base}/voila/render/sector_overview.ipynb"] + [
        f"{base}/voila/render/mechanism.ipynb?mechanism={m}" for m in mechanisms[:4]]
    try:
        wait_http(base + "/")
        for url in pages:
            ctx, pg = new_page(browser)
            try:
                pg.goto(url, timeout=90_000)
                pg.wait_for_function(f"document.querySelectorAll('{PLOT}').length >= 1",
                                     timeout=90_000)
                pg.wait_for_timeout(500)
                rendered = pg.content() + "\n" + pg.inner_text("body")
                assert not _leaks(rendered), (url, _leaks(rendered))
                assert mechanisms[0] in rendered or "Mechanism" in rendered
            finally:
                ctx.close()
    finally:
        stop_voila(proc)
