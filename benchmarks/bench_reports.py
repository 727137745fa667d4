"""Benchmark ``gm-eval report``: 100 mechanism reports (notebook and offline HTML).

One command::

    .venv/bin/python benchmarks/bench_reports.py              # 100 mechanisms, 2 workers
    .venv/bin/python benchmarks/bench_reports.py --n 20       # a quick run

Steps:

1. synthesise and score a sector of ``--n`` mechanisms (cached in ``--work``);
2. the *floor*: execute an empty notebook (one parameters cell) with papermill
   and the same ``python3`` kernel, ``--floor-runs`` times; the median is what
   papermill itself costs per notebook (kernel start, execution, save);
3. render the ``--n`` mechanism reports with :func:`gm_eval.reports.run_reports`
   (``--workers`` processes, default 2), notebook and HTML, and read the
   per-report timings from the run manifest.

Prints the total wall time, seconds per report (median of the per-report
durations: prepare + execute + export in one worker), the ratio of that to
the floor, and the throughput ratio: wall seconds per report against wall
seconds per empty notebook run through the same kind of 2-process pool (the
like-for-like floor when both cores are busy). Targets on this 2-core machine:
all 100 reports in at most 120 s, and per report at most 1.5 times the floor.
Note that the floor is measured with nothing else running while the reports
run two at a time on two cores, so the ratio is a conservative measure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_TOTAL_S = 120.0
TARGET_RATIO = 1.5


def _results(work: Path, n: int, seed: int) -> Path:
    res = work / f"results_{n}_{seed}"
    if (res / "manifest.json").exists():
        return res
    from gm_eval import synth
    from gm_eval.pipeline import score_data_dir

    data = work / f"data_{n}_{seed}"
    synth.write_data_dir(synth.generate(n_mechanisms=n, seed=seed), data, fmt="parquet", overwrite=True)
    score_data_dir(data, res, progress=False)
    return res


def _floor(work: Path, runs: int) -> list[float]:
    import nbformat
    import papermill as pm

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('results_dir: str = ""\nmechanism_id: str = ""')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = work / "empty.ipynb"
    nbformat.write(nb, src)
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        pm.execute_notebook(str(src), str(work / f"empty_out_{i}.ipynb"), parameters={"mechanism_id": "M1"},
                            kernel_name="python3", progress_bar=False, log_output=False,
                            request_save_on_cell_execute=False)
        times.append(time.perf_counter() - t0)
    return times


def _run_empty(args: tuple[str, str]) -> float:
    import papermill as pm

    t0 = time.perf_counter()
    pm.execute_notebook(args[0], args[1], parameters={"mechanism_id": "M1"}, kernel_name="python3",
                        progress_bar=False, log_output=False, request_save_on_cell_execute=False)
    return time.perf_counter() - t0


def _floor_batch(work: Path, n: int, workers: int) -> float:
    """Wall seconds per notebook when ``n`` empty notebooks run in the same kind of pool."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("forkserver")
    jobs = [(str(work / "empty.ipynb"), str(work / f"empty_batch_{i}.ipynb")) for i in range(n)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        list(pool.map(_run_empty, jobs[:workers]))  # warm the workers, as the report pool is warmed
        t0 = time.perf_counter()
        list(pool.map(_run_empty, jobs))
        return (time.perf_counter() - t0) / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="mechanism reports to render (default 100)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--floor-runs", type=int, default=5)
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "gm-eval-bench-reports"),
                    help="cache and output folder")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    a = ap.parse_args(argv)

    from gm_eval.reports import run_reports

    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = _results(work, a.n, a.seed)
    print(f"results: {res} ({time.perf_counter() - t0:.1f} s to prepare, cached)")

    floor = statistics.median(_floor(work, a.floor_runs))
    print(f"floor (empty notebook, papermill, python3 kernel): {floor:.2f} s one at a time")
    floor_batch = _floor_batch(work, a.n, a.workers)
    print(f"floor in a batch of {a.n} with {a.workers} workers: {floor_batch:.2f} s wall per notebook")

    import pandas as pd

    ids = pd.read_parquet(res / "mechanisms.parquet")["mechanism_id"].astype(str).tolist()[: a.n]
    out = work / "reports"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    summary = run_reports(res, out, mechanisms=ids, workers=a.workers, progress=False)
    wall = time.perf_counter() - t0
    ok = [r for r in summary.records if r["status"] == "ok"]
    per = statistics.median(r["duration_s"] for r in ok) if ok else float("nan")
    parts = {k: statistics.median(r[k] for r in ok) for k in ("prepare_s", "execute_s", "export_s")} if ok else {}
    ratio = per / floor
    figures = {
        "reports": len(summary.records), "ok": len(ok), "workers": a.workers, "total_wall_s": round(wall, 1),
        "wall_per_report_s": round(wall / max(len(summary.records), 1), 3),
        "per_report_s_median": round(per, 3), **{k: round(v, 3) for k, v in parts.items()},
        "floor_s": round(floor, 3), "ratio_to_floor": round(ratio, 2),
        "floor_batch_wall_per_notebook_s": round(floor_batch, 3),
        "ratio_wall_to_floor_batch": round(wall / max(len(summary.records), 1) / floor_batch, 2),
        "load_average_1m": round(__import__("os").getloadavg()[0], 2),
        "html_mb_median": round(statistics.median(Path(r["html"]).stat().st_size for r in ok) / 1e6, 2)
        if ok else None,
    }
    print(f"{len(ok)} of {len(summary.records)} reports rendered in {wall:.1f} s with {a.workers} workers "
          f"(target <= {TARGET_TOTAL_S:.0f} s for 100): {wall / max(len(ok), 1):.2f} s wall per report")
    print(f"per report (one worker): median {per:.2f} s = prepare {parts.get('prepare_s', 0):.2f} + execute "
          f"{parts.get('execute_s', 0):.2f} + export {parts.get('export_s', 0):.2f}; ratio to floor "
          f"{ratio:.2f} (target <= {TARGET_RATIO})")
    print(f"throughput: {figures['wall_per_report_s']:.2f} s wall per report vs {floor_batch:.2f} s for an empty "
          f"notebook in the same pool: ratio {figures['ratio_wall_to_floor_batch']:.2f} (target <= {TARGET_RATIO}); "
          f"load average {figures['load_average_1m']}")
    print(json.dumps(figures))
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0 if len(ok) == len(summary.records) else 1


if __name__ == "__main__":
    sys.exit(main())
