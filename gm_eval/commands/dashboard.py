"""``gm-eval dashboard RESULTS_DIR``: serve the Voila dashboards."""

from __future__ import annotations

import argparse

from gm_eval.cli import subcommand

__all__: list[str] = []


@subcommand
def _dashboard(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dashboard",
        help="serve the Voila dashboards (sector overview, mechanism drill-down)",
        description="Serve the sector overview and mechanism dashboards for a results "
        "directory with Voila: notebook sources stripped, tracebacks hidden, idle kernels "
        "culled, a per-cell timeout. Binds to 127.0.0.1 unless --ip names another address, "
        "which then requires --token. Open http://127.0.0.1:PORT/voila/render/sector_overview.ipynb",
    )
    p.add_argument("results_dir", help="results directory written by `gm-eval score`")
    p.add_argument("--port", type=int, default=8866, help="TCP port (default 8866)")
    p.add_argument("--ip", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; a LAN address needs --token)")
    p.add_argument("--token", default=None,
                   help="token viewers must add to the URL (?token=...); required off 127.0.0.1")
    p.add_argument("--base-url", default="/",
                   help="URL prefix when served behind a reverse proxy under a path, e.g. /gm-eval/")
    p.add_argument("--pool-size", type=int, default=None,
                   help="preheated kernels kept ready per dashboard (default 1; 0 disables)")

    def run(a: argparse.Namespace) -> int:
        from gm_eval.dashboard import launch

        overrides = None
        if a.pool_size is not None:
            overrides = {"VoilaConfiguration": {"default_pool_size": max(a.pool_size, 0),
                                                "preheat_kernel": a.pool_size > 0}}
        proc = launch(a.results_dir, port=a.port, ip=a.ip, token=a.token, overrides=overrides,
                      base_url=a.base_url, wait=False)
        host = "127.0.0.1" if a.ip == "localhost" else a.ip
        root = f"http://{host}:{a.port}{a.base_url}voila/render"
        print(f"gm-eval dashboard: serving {a.results_dir} (Ctrl-C to stop)")
        print(f"  sector overview: {root}/sector_overview.ipynb")
        print(f"  mechanism:       {root}/mechanism.ipynb?mechanism=ID")
        if a.token:
            print("  viewers add ?token=... (or &token=...) to these addresses")
        try:
            return int(proc.wait())
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            return 0

    p.set_defaults(func=run)
