"""The background job of ``score``: a forked child process, a thread, and the fallbacks."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from gm_eval.parallel import BackgroundJob, fork_enabled

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")


def _frame() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({
        "mechanism_id": pd.Series([f"M{i % 7}" for i in range(5000)], dtype="str"),
        "value": rng.random(5000),
        "n": pd.array(rng.integers(0, 50, 5000), dtype="Int64"),
        "flag": pd.array(rng.random(5000) < 0.5, dtype="boolean"),
    })
    return {"t": df, "pid": pd.DataFrame({"pid": [os.getpid()]})}


@linux
def test_forked_job_runs_in_another_process_and_returns_the_same_tables():
    expected = _frame()
    job = BackgroundJob(_frame, fork=True)
    assert job.forked
    got = job.result()
    pd.testing.assert_frame_equal(got["t"], expected["t"], check_exact=True)
    assert got["pid"]["pid"].iloc[0] != os.getpid()


def test_thread_job_returns_the_value():
    job = BackgroundJob(lambda: sum(range(10)), fork=False)
    assert not job.forked
    assert job.result() == 45


@linux
def test_a_failing_child_is_rerun_in_process_and_its_error_raised_here():
    calls = []

    def fn():
        calls.append(os.getpid())  # only the parent's call is visible here
        raise ValueError("bad input 42")

    job = BackgroundJob(fn, fork=True)
    with pytest.raises(ValueError, match="bad input 42"):
        job.result()
    assert calls == [os.getpid()]


@linux
def test_a_child_that_dies_is_replaced_by_an_in_process_run():
    parent = os.getpid()

    def fn():
        if os.getpid() != parent:
            os._exit(3)  # a crash in the child
        return "computed here"

    assert BackgroundJob(fn, fork=True).result() == "computed here"


def test_fork_can_be_disabled(monkeypatch):
    monkeypatch.setenv("GM_EVAL_NO_FORK", "1")
    assert not fork_enabled()
    assert not BackgroundJob(lambda: 1).forked


@linux
def test_close_stops_a_running_child():
    import time

    job = BackgroundJob(lambda: time.sleep(60), fork=True)
    t0 = time.perf_counter()
    job.close()
    assert time.perf_counter() - t0 < 5


@linux
def test_score_gives_identical_tables_forked_and_in_a_thread(monkeypatch):
    import scoring_fixtures as F

    from gm_eval import parallel
    from gm_eval.pipeline import score

    ev = F.evidence()
    started = []
    real = parallel.BackgroundJob.__init__

    def spy(self, fn, fork=None):
        real(self, fn, fork)
        started.append(self.forked)

    monkeypatch.setattr(parallel.BackgroundJob, "__init__", spy)
    # other tests may leave a daemon thread (tqdm's monitor) that disables forking
    monkeypatch.setattr(parallel, "fork_enabled", lambda: True)
    forked = score(ev, k=1)
    monkeypatch.setattr(parallel, "fork_enabled", lambda: False)
    threaded = score(ev, k=1)
    assert started == [True, False]
    assert list(forked) == list(threaded)
    for name in forked:
        pd.testing.assert_frame_equal(forked[name], threaded[name], check_exact=True)


def test_fork_is_not_used_while_another_python_thread_runs():
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        assert not fork_enabled()
        assert not BackgroundJob(lambda: 1).forked
    finally:
        stop.set()
        t.join()


@linux
def test_score_data_dir_in_two_processes_writes_what_write_results_of_score_writes(
        tmp_path, monkeypatch):
    import json

    import gm_eval
    from gm_eval import parallel, synth
    from gm_eval.pipeline import score, score_data_dir
    from gm_eval.publish import write_results

    data = tmp_path / "data"
    synth.write_data_dir(synth.generate(n_mechanisms=12, seed=5), data)
    forks = []
    real = parallel.BackgroundJob.__init__

    def spy(self, fn, fork=None):
        real(self, fn, fork)
        forks.append(self.forked)

    monkeypatch.setattr(parallel.BackgroundJob, "__init__", spy)
    # other tests may leave a daemon thread (tqdm's monitor) that disables forking
    monkeypatch.setattr(parallel, "fork_enabled", lambda: True)
    split = score_data_dir(data, tmp_path / "split", progress=False)
    assert forks == [True]
    monkeypatch.setattr(parallel, "fork_enabled", lambda: False)
    ev = gm_eval.load(data)
    manifest = json.loads((split / "manifest.json").read_text())
    for key in ("k", "tables"):
        manifest.pop(key)
    whole = write_results(score(ev), manifest, tmp_path / "whole")
    names = sorted(p.name for p in split.iterdir())
    assert names == sorted(p.name for p in whole.iterdir())
    assert len(names) == 2 * 16 + 1
    for name in names:
        assert (split / name).read_bytes() == (whole / name).read_bytes(), name
