"""``gm-eval report`` end to end: parallel batch, a failing entity, resume, Dask (slow: real kernels)."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest
from conftest_results import results_dir_for
from test_notebooks import assert_offline_report_html

from gm_eval.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """A results copy in which one mechanism's scores are missing: its notebook raises."""
    src = results_dir_for(tmp_path_factory.getbasetemp() / "batch_results", n_mechanisms=12, seed=11)
    res = tmp_path_factory.mktemp("batch") / "results"
    shutil.copytree(src, res)
    ids = pd.read_parquet(res / "mechanisms.parquet")["mechanism_id"].astype(str).tolist()
    good, bad = ids[0], ids[1]
    scores = pd.read_parquet(res / "scores.parquet")
    scores[scores["mechanism_id"] != bad].to_parquet(res / "scores.parquet", index=False)
    scores[scores["mechanism_id"] != bad].to_csv(res / "scores.csv", index=False)
    return res.resolve(), good, bad, scores


def _manifest(out):
    data = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    return data, {r["entity_id"]: r for r in data["reports"]}


def test_failure_is_recorded_others_finish_then_resume_reruns_only_it(broken, tmp_path, capsys):
    res, good, bad, scores = broken
    out = tmp_path / "reports"
    code = main(["report", str(res), "--out", str(out), "--mechanism", good, bad, "--workers", "2",
                 "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"FAILED mechanism {bad}" in err

    data, recs = _manifest(out)
    assert data["summary"] == {"planned": 2, "run": 2, "reused": 0, "ok": 1, "failed": 1}
    assert recs[good]["status"] == "ok" and recs[good]["duration_s"] > 0
    failed = recs[bad]
    assert failed["status"] == "failed" and failed["stage"] == "execute"
    assert failed["error"]["ename"] == "ValueError"
    assert "no scores" in failed["error"]["evalue"]
    assert isinstance(failed["error"]["cell_index"], int) and "open_report" in failed["error"]["cell_source"]
    # provenance: versions, parameters, input hashes, template hashes
    assert data["versions"]["papermill"] and data["versions"]["python"]
    assert set(data["results"]["files"]) >= {"scores.parquet", "manifest.json"}
    assert "mechanism_report.ipynb" in data["templates"]
    assert recs[good]["parameters"]["mechanism_id"] == good
    # the good report exists and is offline; the failed one has no HTML
    html = (out / "mechanism" / f"{good}.html").read_text(encoding="utf-8")
    assert_offline_report_html(html)
    assert not (out / "mechanism" / f"{bad}.html").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="mechanism/{good}.html"' in index and 'class="failed"' in index

    # fix the results, resume: only the failed report runs again
    scores.to_parquet(res / "scores.parquet", index=False)
    scores.to_csv(res / "scores.csv", index=False)
    before = os.stat(out / "mechanism" / f"{good}.html").st_mtime_ns
    code = main(["report", str(res), "--out", str(out), "--mechanism", good, bad, "--workers", "2",
                 "--resume", "--no-progress"])
    assert code == 0
    assert "changed since the previous run" in capsys.readouterr().err  # the fix changed the results
    data, recs = _manifest(out)
    assert data["summary"] == {"planned": 2, "run": 1, "reused": 1, "ok": 2, "failed": 0}
    assert recs[good]["reused"] is True and recs[bad]["reused"] is False
    assert os.stat(out / "mechanism" / f"{good}.html").st_mtime_ns == before
    assert_offline_report_html((out / "mechanism" / f"{bad}.html").read_text(encoding="utf-8"))
    assert 'class="failed"' not in (out / "index.html").read_text(encoding="utf-8")


def test_dask_scheduler_runs_the_batch_on_a_cluster(broken, tmp_path):
    from distributed import LocalCluster

    res, good, _bad, _ = broken
    out = tmp_path / "reports"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        code = main(["report", str(res), "--out", str(out), "--mechanism", good,
                     "--scheduler", cluster.scheduler_address, "--no-progress"])
    assert code == 0
    data, recs = _manifest(out)
    assert data["parameters"]["scheduler"] == cluster.scheduler_address
    assert recs[good]["status"] == "ok" and recs[good]["worker_pid"] != os.getpid()
    assert_offline_report_html((out / "mechanism" / f"{good}.html").read_text(encoding="utf-8"))


def test_unreachable_scheduler_is_bad_input(broken, tmp_path, capsys, monkeypatch):
    import gm_eval.reports

    monkeypatch.setattr(gm_eval.reports, "DASK_CONNECT_TIMEOUT", "1s")
    res, good, _bad, _ = broken
    code = main(["report", str(res), "--out", str(tmp_path / "r"), "--mechanism", good,
                 "--scheduler", "tcp://127.0.0.1:9", "--no-progress"])
    assert code == 2
    assert "Dask scheduler" in capsys.readouterr().err
