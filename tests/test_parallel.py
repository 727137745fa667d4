"""The background job of ``score``: a forked child process, a thread, and the fallbacks."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from gm_eval.parallel import BackgroundJob, SharedQueue, fork_enabled

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

    def spy(self, fn, fork=None, **kwargs):
        real(self, fn, fork, **kwargs)
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

    def spy(self, fn, fork=None, **kwargs):
        real(self, fn, fork, **kwargs)
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


@linux
def test_shared_queue_hands_each_number_to_one_process():
    q = SharedQueue(200)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        got = []
        while (i := q.claim()) is not None:
            got.append(i)
        os.write(w, bytes(got))
        os._exit(0)
    os.close(w)
    mine = []
    while (i := q.claim()) is not None:
        mine.append(i)
    os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        theirs = list(f.read())
    q.close()
    assert sorted(mine + theirs) == list(range(200))  # each number once, none lost
    with pytest.raises(ValueError):
        SharedQueue(256)


def test_fallback_replaces_the_rerun_of_a_failed_child():
    job = BackgroundJob(lambda: 1 / 0, fork=True, fallback=lambda: "the rest, here")
    assert job.result() == "the rest, here"


@linux
@pytest.mark.parametrize("how", ["raises", "dies"])
def test_statistics_jobs_of_a_failed_child_are_done_by_the_main_process(
        tmp_path, monkeypatch, how):
    # the child takes jobs from the shared queue and fails on the first; the main
    # process does its own part, the jobs left in the queue, and the child's again:
    # the results directory is the one of an in-process run
    import json

    import gm_eval
    from gm_eval import parallel, pipeline, synth
    from gm_eval.publish import write_results

    data = tmp_path / "data"
    synth.write_data_dir(synth.generate(n_mechanisms=12, seed=5), data)
    parent = os.getpid()
    real_jobs = pipeline._statistics_jobs

    def failing_jobs(evidence, min_n):
        def wrap(fn):
            def run():
                if os.getpid() != parent:
                    if how == "dies":
                        os._exit(7)
                    raise RuntimeError("child failure")
                return fn()
            return run
        return {names: wrap(fn) for names, fn in real_jobs(evidence, min_n).items()}

    monkeypatch.setattr(pipeline, "_statistics_jobs", failing_jobs)
    monkeypatch.setattr(parallel, "fork_enabled", lambda: True)
    split = pipeline.score_data_dir(data, tmp_path / "split", progress=False)
    monkeypatch.setattr(pipeline, "_statistics_jobs", real_jobs)
    monkeypatch.setattr(parallel, "fork_enabled", lambda: False)
    manifest = json.loads((split / "manifest.json").read_text())
    for key in ("k", "tables"):
        manifest.pop(key)
    whole = write_results(pipeline.score(gm_eval.load(data)), manifest, tmp_path / "whole")
    names = sorted(p.name for p in split.iterdir())
    assert names == sorted(p.name for p in whole.iterdir()) and len(names) == 2 * 16 + 1
    for name in names:
        assert (split / name).read_bytes() == (whole / name).read_bytes(), name
