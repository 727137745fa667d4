"""Run every benchmark in turn and print its figures: ``make bench``.

``--quick`` runs each at a reduced size (a smoke run, not the recorded figures).
Each benchmark is its own script and can be run alone; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHES = {
    "synth": (["bench_synth.py"], ["--mechanisms", "100", "--cases", "50000",
                                   "--worker-survey", "20000", "--child-survey", "5000",
                                   "--clms-children", "5000"]),
    "score": (["bench_score.py"], ["--small"]),
    "score-csv": (["bench_score.py", "--format", "csv"], ["--small"]),
    "pseudonym": (["bench_pseudonym.py"], ["--n", "200000", "--repeat", "2"]),
    "reports": (["bench_reports.py"], ["--n", "10", "--floor-runs", "2"]),
    "dashboard": (["bench_dashboard.py"], ["--mechanisms", "100", "--viewers", "3",
                                           "--repeats", "1"]),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="reduced sizes (smoke run)")
    ap.add_argument("names", nargs="*", metavar="NAME",
                    help=f"benchmarks to run: {', '.join(BENCHES)} (default all)")
    a = ap.parse_args(argv)
    unknown = set(a.names) - set(BENCHES)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed = []
    for name in a.names or list(BENCHES):
        script, quick = BENCHES[name]
        cmd = [sys.executable, str(HERE / script[0]), *script[1:], *(quick if a.quick else [])]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call(cmd)
        print(f"=== {name}: exit {code} after {time.perf_counter() - t0:.1f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
