"""Benchmark ``gm_eval.pseudonym.pseudonymise``: vectorised SipHash against pandas' route.

One command::

    .venv/bin/python benchmarks/bench_pseudonym.py            # 1,000,000 ids
    .venv/bin/python benchmarks/bench_pseudonym.py --n 200000 # quicker

Inputs: ``--n`` synthetic ids like ``C000123456-XYZ``, written to Parquet and read
back with ``pandas.read_parquet(..., columns=["case_id"])`` (pandas ``str``: Arrow
``large_string`` in chunks, the dtype the loader sees), and, when it exists, the
``case_id`` column of the scoring benchmark's data
(``$TMPDIR/gm-eval/bench-data/cases.parquet``, made by ``bench_score.py``).

For each input it prints the best of ``--repeat`` runs, CPU (``time.process_time``)
and wall (``time.perf_counter``), of *before* (``pandas.util.hash_pandas_object`` on
an object copy: the previous implementation, kept as the fallback) and *after*
(:func:`~gm_eval.pseudonym.pseudonymise`), and checks that both agree bit for bit.

Then the GIL: each runs in a thread while another thread works (a pure-Python loop,
the worst case for a thread that hands the GIL back and forth; and pandas typing
work: ``str.strip``, ``to_datetime``, ``factorize``); it prints the hashing wall
time and the other thread's rate as a share of its rate alone (median of
``--repeat``). The machine is shared: the 1-minute load average is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gm_eval.pseudonym import _pseudonymise_pandas, _siphash_key, pseudonymise

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:  # not Linux
        return "?"


def _synthetic_ids(n: int, folder: Path) -> pd.Series:
    """``n`` ids like ``C000123456-XYZ``, read back from Parquet as the loader reads them."""
    rng = np.random.default_rng(20261202)
    numbers = rng.permutation(n) * 7 + 100_000
    letters = rng.integers(65, 91, (n, 3)).astype(np.uint8).view("S3").ravel().astype(str)
    ids = [f"C{a:09d}-{b}" for a, b in zip(numbers.tolist(), letters.tolist(), strict=True)]
    path = folder / "ids.parquet"
    pq.write_table(pa.table({"case_id": pa.array(ids)}), path, row_group_size=131_072)
    return pd.read_parquet(path, columns=["case_id"])["case_id"]


def _best(f: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Best CPU and best wall seconds of ``repeat`` calls, and the last result."""
    cpu, wall, out = [], [], None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = f()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall), out


def _python_loop(stop: threading.Event, done: list[int]) -> None:
    n = 0
    while not stop.is_set():
        for _ in range(1000):
            n += 1
    done.append(n)


_DATES = pd.Series(pd.date_range("2020-01-01", periods=200_000, freq="min")
                   .strftime(" %Y-%m-%d %H:%M "), dtype="str")


def _pandas_typing(stop: threading.Event, done: list[int]) -> None:
    n = 0
    while not stop.is_set():
        text = _DATES.str.strip()
        pd.to_datetime(text, format="%Y-%m-%d %H:%M")
        pd.factorize(text)
        n += 1
    done.append(n)


def _other_thread(worker, f: Callable[[], object] | None, seconds: float = 1.0) -> tuple[float, float]:
    """Run ``worker`` in a thread meanwhile ``f`` (or ``seconds`` alone); (wall of f, rate)."""
    stop, done = threading.Event(), []
    th = threading.Thread(target=worker, args=(stop, done))
    t0 = time.perf_counter()
    th.start()
    if f is None:
        time.sleep(seconds)
        wall = 0.0
    else:
        w0 = time.perf_counter()
        f()
        wall = time.perf_counter() - w0
    stop.set()
    th.join()
    return wall, done[0] / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="synthetic ids (default 1,000,000)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each measure (default 5)")
    ap.add_argument("--cases", default=str(Path(tempfile.gettempdir()) / "gm-eval" / "bench-data"
                                           / "cases.parquet"),
                    help="a cases.parquet whose case_id column is also timed, when it exists")
    a = ap.parse_args(argv)
    hash_key = _siphash_key(KEY)
    with tempfile.TemporaryDirectory() as tmp:
        ids = _synthetic_ids(a.n, Path(tmp))
    inputs = {f"{len(ids):,} ids C000123456-XYZ, {ids.dtype}": ids}
    cases = Path(a.cases)
    if cases.exists():
        case_id = pd.read_parquet(cases, columns=["case_id"])["case_id"]
        inputs[f"{len(case_id):,} case_id of {cases.parent.name}, {case_id.dtype}"] = case_id

    print(f"load average {_load()}; best of {a.repeat}")
    for name, s in inputs.items():
        b_cpu, b_wall, before = _best(lambda s=s: _pseudonymise_pandas(s, hash_key), a.repeat)
        f_cpu, f_wall, after = _best(lambda s=s: pseudonymise(s, KEY), a.repeat)
        same = before.equals(after)
        print(f"{name}:")
        print(f"    before (hash_pandas_object): CPU {b_cpu:.3f} s, wall {b_wall:.3f} s")
        print(f"    after  (pseudonymise)      : CPU {f_cpu:.3f} s, wall {f_wall:.3f} s"
              f"   ({b_cpu / f_cpu:.1f}x less CPU; bit-identical: {same})")
        if not same:
            return 1

    print(f"GIL, on the synthetic ids (median of {a.repeat}; load average {_load()}):")
    for wname, worker in (("a pure-Python loop", _python_loop), ("pandas typing", _pandas_typing)):
        solo = statistics.median(_other_thread(worker, None)[1] for _ in range(a.repeat))
        for label, f in (("before", lambda: _pseudonymise_pandas(ids, hash_key)),
                         ("after ", lambda: pseudonymise(ids, KEY))):
            runs = [_other_thread(worker, f) for _ in range(a.repeat)]
            wall = statistics.median(r[0] for r in runs)
            share = statistics.median(r[1] for r in runs) / solo
            print(f"    {label} with {wname:18s} in another thread: hashing wall {wall:.3f} s,"
                  f" the other thread at {share:.0%} of its rate alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
