"""``gm-eval score``: score a data directory and write the results directory."""

from __future__ import annotations

import argparse

from gm_eval.cli import EXIT_OK, subcommand


@subcommand
def _score(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score a data directory and write the results directory",
        description="Validate DATA_DIR, compute every indicator, score and benchmark each "
        "mechanism, and write the published results (CSV, Parquet, manifest.json) to --out. "
        "On invalid input nothing is written (exit 2) and earlier results survive.",
    )
    p.add_argument("data_dir", help="data directory")
    p.add_argument("--out", required=True, help="results directory (replaced on success)")
    p.add_argument("--as-of", default=None, help="evaluation date YYYY-MM-DD (default: latest date)")
    p.add_argument("--profile", default=None, help="scoring profile YAML (merged over the default)")
    p.add_argument("--mapping", default=None, help="YAML mapping file for your own export")
    p.add_argument("--k", type=int, default=5, help="suppress counts below k (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress and no summary")

    def run(a: argparse.Namespace) -> int:
        from gm_eval.errors import InputError
        from gm_eval.pipeline import score_data_dir

        if a.k < 1:
            raise InputError(f"--k must be at least 1, got {a.k}")
        out = score_data_dir(
            a.data_dir, a.out, as_of=a.as_of, profile=a.profile, mapping=a.mapping, k=a.k,
            progress=not a.quiet, summary=not a.quiet,
        )
        if not a.quiet:
            print(f"results written to {out}")
        return EXIT_OK

    p.set_defaults(func=run)
