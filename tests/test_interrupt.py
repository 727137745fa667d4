"""No loss on interruption: a killed `gm-eval score` leaves the previous results usable."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gm_eval import synth
from gm_eval.results import read_results

pytestmark = pytest.mark.slow
GM_EVAL = [sys.executable, "-m", "gm_eval"]


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt")
    small, big = root / "small", root / "big"
    synth.write_data_dir(synth.generate(n_mechanisms=12, seed=1), small)
    synth.write_data_dir(synth.generate(n_mechanisms=60, n_cases=60_000, seed=2), big)
    return root, small, big


def _score(data: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*GM_EVAL, "score", str(data), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_until_loaded(proc: subprocess.Popen, timeout: float = 120) -> None:
    """Read the run's progress until it has loaded the data (it is then scoring, and has
    written nothing yet): a signal sent now lands in the middle of the run, whatever the
    machine's speed. A fixed delay could land after the results were swapped in."""
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        if line.startswith("loaded "):
            return
        if time.monotonic() > deadline:
            break
    raise AssertionError("the run never reported loading its data")


@pytest.mark.parametrize("sig,delay", [(signal.SIGINT, 0.3), (signal.SIGKILL, 0.5)])
def test_killed_run_keeps_previous_results(dirs, sig, delay):
    root, small, big = dirs
    out = root / f"results-{sig.name}-{delay}"
    first = _score(small, out)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    before = _digest(out)
    before_data = _digest(big)
    proc = _score(big, out)
    _wait_until_loaded(proc)
    time.sleep(delay)  # into the scoring
    finished = proc.poll() is not None
    proc.send_signal(sig)
    code = proc.wait(timeout=120)
    after = _digest(out)
    print(f"{sig.name} after {delay}s: finished={finished}, exit={code}")
    if finished or code == 0:
        # the run completed before the signal: the new results must be complete
        assert read_results(out).table("scores").shape[0] > 0
    else:
        assert after == before, "previous results were altered by an interrupted run"
        res = read_results(out)
        assert len(res.table("mechanisms")) == 12
        if sig == signal.SIGINT:
            assert code in (130, -signal.SIGINT)
            assert not list(root.glob(f".{out.name}.tmp-*")), "temporary folder left behind"
    assert _digest(big) == before_data
    # a later run cleans up and succeeds
    again = _score(small, out)
    assert again.wait(timeout=300) == 0
    assert not list(root.glob(f".{out.name}.tmp-*"))
