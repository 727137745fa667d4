"""``gm-eval demo``: synthetic data, validation, scoring and reports in one go."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from gm_eval.cli import EXIT_FAILED, EXIT_OK, subcommand


@subcommand
def _demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="synthesise demo data, validate, score and render reports",
        description="Generate the embedded synthetic sector data, validate it, score every "
        "mechanism, render the reports, and print where everything is.",
    )
    p.add_argument("--out", default="demo", help="folder for data/, results/ and reports/ "
                   "(default ./demo; replaced if it holds an earlier demo)")
    p.add_argument("--mechanisms", type=int, default=16, help="number of mechanisms (default 16)")
    p.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    p.add_argument("--workers", type=int, default=None, help="report processes (default: cores)")
    p.add_argument("--no-reports", action="store_true", help="stop after scoring")
    p.set_defaults(func=run_demo)


def run_demo(a: argparse.Namespace) -> int:
    """Run the demo pipeline; return the exit code."""
    from gm_eval import synth
    from gm_eval.validate import check_data_dir

    out = Path(a.out).absolute()
    data, results, reports = out / "data", out / "results", out / "reports"
    if data.exists():
        shutil.rmtree(data)
    tables = synth.generate(n_mechanisms=a.mechanisms, seed=a.seed)
    synth.write_data_dir(tables, data, fmt="csv")
    print(f"[1/4] synthetic data: {len(tables['mechanisms'])} mechanisms, "
          f"{len(tables['cases']):,} cases, {len(tables['worker_survey']):,} worker and "
          f"{len(tables['child_survey']):,} child survey responses, "
          f"{len(tables['clms_children']):,} CLMS children -> {data}")
    report = check_data_dir(data)
    n_warn = report.n_warnings
    print(f"[2/4] validation: {'valid' if report.ok else 'INVALID'} "
          f"({report.n_errors} errors, {n_warn} warnings)")
    if not report.ok:
        print(report.format())
        return EXIT_FAILED
    from gm_eval.pipeline import print_summary, score_data_dir

    score_data_dir(data, results, progress=False)
    print(f"[3/4] scores -> {results}")
    print_summary(results)
    if a.no_reports:
        return EXIT_OK
    from gm_eval.reports import run_reports

    batch = run_reports(results, reports, workers=a.workers)
    index = reports / "index.html"
    print(f"[4/4] reports -> {reports}")
    print(f"\nOpen the reports: {index}")
    print(f"Dashboards:       gm-eval dashboard {results}")
    return EXIT_OK if getattr(batch, "ok", True) else EXIT_FAILED
