"""Time ``gm_eval.synth`` at sector scale and print the figures.

Usage::

    python benchmarks/bench_synth.py                      # 1,000 mechanisms, 1,000,000 cases
    python benchmarks/bench_synth.py --cases 100000 --mechanisms 100 --write parquet

Prints wall-clock and CPU seconds per table (each table is generated from its
own random stream, so the stages are timed separately) and, with ``--write``,
the time to write the data directory. No assertion is made: timing depends on
the machine and its load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mechanisms", type=int, default=1000)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--worker-survey", type=int, default=500_000)
    ap.add_argument("--child-survey", type=int, default=100_000)
    ap.add_argument("--clms-children", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--write", choices=["csv", "xlsx", "parquet"], default=None,
                    help="also time write_data_dir in this format (into a temporary directory)")
    a = ap.parse_args(argv)

    from gm_eval import synth
    from gm_eval.synth._cases import WINDOW_DAYS, generate_cases
    from gm_eval.synth._clms import generate_clms, generate_workforce
    from gm_eval.synth._mechanisms import mechanism_params
    from gm_eval.synth._self_assessment import generate_self_assessment
    from gm_eval.synth._surveys import generate_child_survey, generate_worker_survey

    as_of = np.datetime64("2025-06-30")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(a.seed).spawn(8)]
    rows = []

    def stage(name, fn):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        n_rows = len(out[0]) if name == "mechanisms" else (
            sum(len(x) for x in out) if isinstance(out, tuple) else len(out))
        rows.append((name, n_rows,
                     time.perf_counter() - w, time.process_time() - c))
        return out

    _, p = stage("mechanisms", lambda: mechanism_params(a.mechanisms, streams[0]))
    stage("cases", lambda: generate_cases(p, a.cases, as_of, streams[1]))
    stage("workforce", lambda: generate_workforce(p, streams[2]))
    stage("worker_survey", lambda: generate_worker_survey(p, a.worker_survey, as_of, streams[3]))
    stage("child_survey", lambda: generate_child_survey(p, a.child_survey, as_of, streams[4]))
    stage("clms (children + follow-ups)",
          lambda: generate_clms(p, a.clms_children, as_of, WINDOW_DAYS, streams[5]))
    stage("self_assessment", lambda: generate_self_assessment(p, streams[6]))

    w, c = time.perf_counter(), time.process_time()
    tables = synth.generate(n_mechanisms=a.mechanisms, n_cases=a.cases, seed=a.seed,
                            n_worker_survey=a.worker_survey, n_child_survey=a.child_survey,
                            n_clms_children=a.clms_children, progress=False)
    total_wall, total_cpu = time.perf_counter() - w, time.process_time() - c

    print(f"gm_eval.synth benchmark: {a.mechanisms:,} mechanisms, seed {a.seed}")
    print(f"{'stage':<30}{'rows':>12}{'wall s':>10}{'cpu s':>10}")
    for name, n, wall, cpu in rows:
        print(f"{name:<30}{n:>12,}{wall:>10.2f}{cpu:>10.2f}")
    n_total = sum(len(df) for df in tables.values())
    print(f"{'generate() total':<30}{n_total:>12,}{total_wall:>10.2f}{total_cpu:>10.2f}")
    if a.write:
        with tempfile.TemporaryDirectory() as tmp:
            w = time.perf_counter()
            paths = synth.write_data_dir(tables, Path(tmp) / "data", fmt=a.write, progress=False)
            wall = time.perf_counter() - w
            size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"{'write_data_dir(' + a.write + ')':<30}{size:>10,.0f}MB{wall:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
