"""``gm-eval report``: executed notebooks and offline HTML reports from a results directory."""

from __future__ import annotations

import argparse
import sys

from gm_eval.cli import EXIT_FAILED, EXIT_OK, subcommand


@subcommand
def _report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="render per-mechanism, per-company and per-sector reports to offline HTML",
        description="Execute the report notebooks with papermill for each mechanism, company and "
        "sector (default: all of them plus a data quality report), export each to self-contained "
        "HTML with the code hidden, and write index.html and run_manifest.json. A report that "
        "fails is recorded (cell and error) without stopping the others; the exit code is 1 if "
        "any failed.",
    )
    p.add_argument("results_dir", help="results directory written by `gm-eval score`")
    p.add_argument("--out", required=True, help="reports directory to write")
    p.add_argument("--mechanism", nargs="+", action="extend", metavar="ID", default=None,
                   help="only these mechanisms (repeatable)")
    p.add_argument("--company", nargs="+", action="extend", metavar="ID", default=None,
                   help="only these companies (repeatable)")
    p.add_argument("--sector", nargs="+", action="extend", metavar="NAME", default=None,
                   help="only these sectors (repeatable)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: the number of cores)")
    p.add_argument("--resume", action="store_true",
                   help="re-run only the reports that failed or are missing in the previous run")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask distributed cluster (e.g. tcp://10.0.0.5:8786); workers must "
                   "see the results and reports directories at the same paths")
    p.add_argument("--neutral-labels", action="store_true",
                   help="sector benchmarks show neutral labels instead of mechanism names")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(a: argparse.Namespace) -> int:
        from gm_eval.errors import InputError
        from gm_eval.reports import run_reports

        if a.workers is not None and a.workers < 1:
            raise InputError("--workers must be at least 1")
        summary = run_reports(
            a.results_dir, a.out, mechanisms=a.mechanism, companies=a.company, sectors=a.sector,
            workers=a.workers, resume=a.resume, scheduler=a.scheduler, neutral_labels=a.neutral_labels,
            progress=False if a.no_progress else None, command=["gm-eval", *sys.argv[1:]],
        )
        n = len(summary.records)
        reused = sum(bool(r.get("reused")) for r in summary.records)
        print(f"{n - len(summary.failed)} of {n} reports rendered"
              + (f" ({reused} kept from the previous run)" if reused else "")
              + f"; manifest {summary.manifest}")
        for r in summary.failed:
            err = r.get("error") or {}
            cell = f" (cell {err['cell_index']})" if err.get("cell_index") is not None else ""
            print(f"FAILED {r['kind']} {r['entity_id']}{cell}: {err.get('ename', '')}: "
                  f"{str(err.get('evalue', ''))[:300]}", file=sys.stderr)
        print(summary.index)
        return EXIT_OK if summary.ok else EXIT_FAILED

    p.set_defaults(func=run)
