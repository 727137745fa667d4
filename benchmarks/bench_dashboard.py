"""Benchmark the Voila dashboards in headless Chromium.

One command::

    .venv/bin/python benchmarks/bench_dashboard.py                 # 1,000 mechanisms, 10 viewers
    .venv/bin/python benchmarks/bench_dashboard.py --mechanisms 100 --viewers 4   # quicker

Builds (once, cached under ``benchmarks/out/``) a results directory for
``--mechanisms`` mechanisms with the real pipeline (``gm_eval.synth`` then
``gm_eval.pipeline.score_data_dir``; the documented-format fixture writer when
the pipeline is absent or ``--fixture``), serves it with ``gm-eval dashboard``'s
launcher and shipped configuration, and drives Debian's ``/usr/bin/chromium``
with Playwright to measure:

* first meaningful paint of the sector overview: navigation start to the
  heatmap drawn (and to all five figures), with a preheated kernel waiting
  (the shipped configuration) and for a viewer arriving when none is waiting;
* update time: a dropdown change (sector filter -> heatmap redrawn; mechanism
  -> comparison with the sector median redrawn), median of several changes;
* kernel memory per viewer (RSS and USS of each kernel process, psutil);
* ``--viewers`` concurrent viewers: each page must draw every figure with no
  error message.

Targets: first paint <= 3 s, update <= 500 ms, 10 viewers all served.
Prints the figures and writes them to ``benchmarks/out/bench_dashboard.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]
TARGET_PAINT_S, TARGET_UPDATE_MS = 3.0, 500.0
#: Pause before each timed dropdown change, in milliseconds.
SETTLE_MS = 2000
N_PLOTS = 4  # ranking, distribution, versus median, children's lens (the heatmap is an HTML table)
#: The heatmap table: the server-rendered copy in the page, then the interactive one.
HEATMAP_ANY, HEATMAP_LIVE = ".gm-heatmap", ".gm-out-heatmap .gm-heatmap"
#: The floor page's only figure.
FLOOR_FIGURE = ".gm-out-heatmap .js-plotly-plot"

_TICKS = ("(sel) => [...document.querySelectorAll(sel)].map(e => e.textContent)")


def results_dir(n: int, fixture: bool) -> tuple[Path, str]:
    """A cached results directory for ``n`` mechanisms."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser.results_fixture import make_results_dir

    out = OUT / f"dash-results-{n}{'-fixture' if fixture else ''}"
    if (out / "manifest.json").is_file():
        how = "fixture" if fixture else json.loads((out / "manifest.json").read_text()).get("version", "")
        return out, "cached (" + ("fixture" if how in ("fixture", "test-fixture") else "pipeline") + ")"
    OUT.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    path, how = make_results_dir(out, n, seed=2024, use_pipeline=not fixture)
    return path, f"{how}, built in {time.perf_counter() - t:.0f} s"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_FLOOR_CELLS = (
    "import json\nimport ipywidgets as w\nimport plotly.graph_objects as go\n"
    "from IPython.display import display",
    "out = w.Output()\nout.add_class('gm-out-heatmap')\n"
    "fig = go.Figure(go.Bar(x=['a', 'b'], y=[1, 2]))\n"
    "with out:\n    display({'application/vnd.plotly.v1+json': json.loads(fig.to_json())}, raw=True)\n"
    "w.VBox([w.Dropdown(options=['a', 'b']), out])",
)


def floor_notebooks() -> Path:
    """A folder whose ``sector_overview.ipynb`` is the floor: one dropdown and one small figure."""
    import nbformat

    folder = OUT / "floor-notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in _FLOOR_CELLS]
    nbformat.write(nb, folder / "sector_overview.ipynb")
    return folder


def start(results: Path, port: int, log: Path, notebooks: Path | None = None):
    from gm_eval.dashboard import launch

    fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
    proc = launch(results, port=port, wait=False, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                  notebooks=notebooks)
    proc._log = fh
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError("voila did not start; see " + str(log))


def stop(proc) -> None:
    """Stop Voila and the kernels it started (its own process group only)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            continue
    proc._log.close()


def pool_ready(log: Path, after: int) -> bool:
    """Whether the sector overview's preheated kernel has been (re)filled ``after`` times."""
    text = log.read_text(errors="replace")
    return text.count("Kernel pool of sector_overview.ipynb is filled") > after


def wait_pool(log: Path, after: int, voila_pid: int, timeout: float = 180) -> None:
    """Wait until the preheated kernel is started ``after + 1`` times and has finished pre-running.

    Voila logs "pool is filled" when the kernel has *started*; the notebook is
    still running in it. A viewer arriving before the pre-run ends is served by
    the same kernel as soon as the running cell ends; to measure the steady
    state, wait until Voila and its kernels use no CPU for a second.
    """
    import psutil

    deadline = time.monotonic() + timeout
    while not pool_ready(log, after):
        if time.monotonic() > deadline:
            raise RuntimeError("the preheated kernel was not ready in time")
        time.sleep(0.2)
    root = psutil.Process(voila_pid)

    def cpu() -> float:
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    quiet_since, last = time.monotonic(), cpu()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu()
        if now - last > 0.02:  # more than 8 % of a core over the last quarter second
            quiet_since = time.monotonic()
        last = now
        if time.monotonic() - quiet_since >= 1.0:
            return
    raise RuntimeError("the preheated kernel did not go idle in time")


def kernels(voila_pid: int) -> list:
    import psutil

    return [p for p in psutil.Process(voila_pid).children(recursive=True)
            if "ipykernel" in " ".join(p.cmdline())]


async def open_page(browser, url: str, timeout_ms: float = 120_000, n_plots: int = N_PLOTS,
                    first: str = HEATMAP_ANY, live: str = HEATMAP_LIVE) -> tuple[object, object, dict]:
    """Open ``url``; return (context, page, timings in seconds from navigation start).

    ``heatmap_s``: the heatmap is visible (``first``: the server-rendered copy
    or the interactive table, whichever comes first); ``interactive_s``: the
    interactive heatmap is visible (``live``); ``all_figures_s``: ``n_plots``
    plotly figures are drawn as well.
    """
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(r.url.split("/")[2] if "://" in r.url else r.url[:5]))
    t0 = time.perf_counter()
    await page.goto(url, wait_until="commit")
    await page.wait_for_selector(first, timeout=timeout_ms)
    t_heat = time.perf_counter() - t0
    await page.wait_for_selector(live, timeout=timeout_ms)
    t_live = time.perf_counter() - t0
    await page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {n_plots}",
                                 timeout=timeout_ms)
    t_all = time.perf_counter() - t0
    return ctx, page, {"heatmap_s": t_heat, "interactive_s": t_live, "all_figures_s": t_all,
                       "hosts": sorted(hosts)}


async def timed_change(page, select: str, label: str, watch: str, then: str | None = None) -> tuple[float, float]:
    """Milliseconds from choosing ``label`` in ``select`` to the text of ``watch`` changing
    (and to the text of ``then`` changing too; NaN without ``then``).

    The page first settles for :data:`SETTLE_MS` (a viewer reads the charts before
    choosing again), so the figures of the previous change are not still being drawn.
    """
    await page.wait_for_timeout(SETTLE_MS)
    before = await page.evaluate(_TICKS, watch)
    before2 = await page.evaluate(_TICKS, then) if then else None
    changed = ("([sel, b]) => { const t = [...document.querySelectorAll(sel)].map(e => e.textContent);"
               " return t.length > 0 && JSON.stringify(t) !== JSON.stringify(b); }")
    t0 = time.perf_counter()
    await page.select_option(select, label=label)
    await page.wait_for_function(changed, arg=[watch, before], timeout=60_000)
    t1 = (time.perf_counter() - t0) * 1000
    if then is None:
        return t1, float("nan")
    await page.wait_for_function(changed, arg=[then, before2], timeout=60_000)
    return t1, (time.perf_counter() - t0) * 1000


async def run(args) -> dict:
    from playwright.async_api import async_playwright

    results, how = results_dir(args.mechanisms, args.fixture)
    print(f"results: {results} ({how})")
    OUT.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), OUT / "bench_dashboard_voila.log"
    url = f"http://127.0.0.1:{port}/voila/render/sector_overview.ipynb"
    report: dict = {"mechanisms": args.mechanisms, "results": how, "load_avg_start": os.getloadavg()}
    proc = start(results, port, log)
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            # 1. first paint with a preheated kernel waiting (the shipped configuration)
            warm = []
            for i in range(args.repeats):
                wait_pool(log, i, proc.pid)
                ctx, page, t = await open_page(browser, url)
                warm.append(t)
                if i < args.repeats - 1:
                    await ctx.close()
            report["first_paint_preheated"] = warm
            # 2. updates on the last page
            sel_sector, sel_mech = ".gm-filter-sector select", ".gm-select-mechanism select"
            sectors = [s for s in await page.eval_on_selector_all(
                f"{sel_sector} option", "els => els.map(e => e.textContent)") if s != "(all)"]
            filt, filt_all = [], []
            for s in (sectors * args.repeats)[: max(3, args.repeats)]:
                heat, rank = await timed_change(page, sel_sector, s, ".gm-out-heatmap tbody th",
                                                ".gm-out-ranking .ytick text")
                filt.append(heat)
                filt_all.append(rank)
            await page.select_option(sel_sector, label="(all)")
            await page.wait_for_function(
                "n => document.body.innerText.includes(`${n} of ${n} mechanisms shown`)",
                arg=f"{args.mechanisms:,}", timeout=60_000)
            names = await page.eval_on_selector_all(f"{sel_mech} option", "els => els.map(e => e.textContent)")
            current = await page.eval_on_selector(sel_mech, "e => e.options[e.selectedIndex].textContent")
            pick = []
            for name in [n for n in names if n != current][: max(3, args.repeats)]:
                pick.append((await timed_change(page, sel_mech, name, ".gm-out-median .legendtext"))[0])
            report["update_filter_ms"], report["update_mechanism_ms"] = filt, pick
            report["update_filter_ranking_ms"] = filt_all
            await ctx.close()
            # 3. a viewer arriving when no preheated kernel is waiting
            # (the first takes the waiting kernel; the second arrives 0.3 s later, while
            # the replacement kernel is still starting)
            wait_pool(log, args.repeats - 1, proc.pid)
            first = asyncio.create_task(open_page(browser, url))
            await asyncio.sleep(0.3)
            ctx2, _, cold = await open_page(browser, url)
            ctx1, _, _ = await first
            report["first_paint_cold"] = cold
            await ctx1.close()
            await ctx2.close()
            # 4. concurrent viewers
            await asyncio.sleep(2)
            t0 = time.perf_counter()
            outcomes = await asyncio.gather(*[open_page(browser, url, 180_000) for _ in range(args.viewers)],
                                            return_exceptions=True)
            wall = time.perf_counter() - t0
            ok, errors, pages = 0, [], []
            for o in outcomes:
                if isinstance(o, BaseException):
                    errors.append(f"{type(o).__name__}: {str(o)[:200]}")
                    continue
                ctx, page, t = o
                text = await page.inner_text("body")
                bad = [w for w in ("Traceback", "Error", "could not be drawn", "No results") if w in text]
                if bad:
                    errors.append(f"page shows {bad}")
                else:
                    ok += 1
                pages.append((ctx, t))
            report["viewers"] = {"n": args.viewers, "served_ok": ok, "errors": errors, "wall_s": wall,
                                 "all_figures_s": sorted(t["all_figures_s"] for _, t in pages),
                                 "heatmap_s": sorted(t["heatmap_s"] for _, t in pages)}
            # 5. kernel memory per viewer while they are all connected
            import psutil

            mem = []
            for k in kernels(proc.pid):
                try:
                    full = k.memory_full_info()
                    mem.append((full.rss / 2**20, full.uss / 2**20))
                except psutil.Error:
                    pass
            report["kernel_memory_mb"] = {"kernels": len(mem),
                                          "rss_median": statistics.median(m[0] for m in mem) if mem else None,
                                          "uss_median": statistics.median(m[1] for m in mem) if mem else None,
                                          "rss_total": sum(m[0] for m in mem)}
            report["hosts"] = sorted({h for _, t in pages for h in t["hosts"]}
                                     | {h for t in warm for h in t["hosts"]})
            for ctx, _ in pages:
                await ctx.close()
            await browser.close()
    finally:
        stop(proc)
    # 6. the floor: Voila with the same configuration serving one dropdown and one small figure
    if args.floor:
        port, flog = free_port(), OUT / "bench_dashboard_floor.log"
        proc = start(results, port, flog, floor_notebooks())
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                floor = []
                for i in range(args.repeats):
                    wait_pool(flog, i, proc.pid)
                    ctx, _, t = await open_page(browser, f"http://127.0.0.1:{port}/voila/render/"
                                                "sector_overview.ipynb", n_plots=1,
                                                first=FLOOR_FIGURE, live=FLOOR_FIGURE)
                    floor.append(t)
                    await ctx.close()
                await browser.close()
            report["floor_first_paint"] = floor
        finally:
            stop(proc)
    report["load_avg_end"] = os.getloadavg()
    return report


def _floor_line(r: dict) -> list[str]:
    runs = [t["heatmap_s"] for t in r.get("floor_first_paint", [])]
    if not runs:
        return []
    return [f"floor (same Voila and configuration, one dropdown + one small figure, preheated): "
            f"{statistics.median(runs):.2f} s (runs {', '.join(f'{x:.2f}' for x in runs)})"]


def summary(r: dict) -> str:
    med = statistics.median
    warm = [t["heatmap_s"] for t in r["first_paint_preheated"]]
    warm_all = [t["all_figures_s"] for t in r["first_paint_preheated"]]
    v = r["viewers"]
    km = r["kernel_memory_mb"]
    lines = [
        f"mechanisms: {r['mechanisms']:,} ({r['results']})",
        f"first paint, preheated kernel: heatmap {med(warm):.2f} s (runs {', '.join(f'{x:.2f}' for x in warm)})"
        f"  [target <= {TARGET_PAINT_S:.0f} s: {'OK' if med(warm) <= TARGET_PAINT_S else 'MISSED'}]; "
        f"interactive {med(t['interactive_s'] for t in r['first_paint_preheated']):.2f} s, "
        f"all {N_PLOTS} plotly figures {med(warm_all):.2f} s",
        f"first paint, no kernel waiting: heatmap {r['first_paint_cold']['heatmap_s']:.2f} s, "
        f"interactive {r['first_paint_cold']['interactive_s']:.2f} s, "
        f"all figures {r['first_paint_cold']['all_figures_s']:.2f} s",
        f"update, sector filter -> heatmap: median {med(r['update_filter_ms']):.0f} ms "
        f"({', '.join(f'{x:.0f}' for x in r['update_filter_ms'])})  [target <= {TARGET_UPDATE_MS:.0f} ms: "
        f"{'OK' if med(r['update_filter_ms']) <= TARGET_UPDATE_MS else 'MISSED'}]; "
        f"ranking chart redrawn too: median {med(r['update_filter_ranking_ms']):.0f} ms",
        f"update, mechanism -> comparison chart: median {med(r['update_mechanism_ms']):.0f} ms "
        f"({', '.join(f'{x:.0f}' for x in r['update_mechanism_ms'])})  [target <= {TARGET_UPDATE_MS:.0f} ms: "
        f"{'OK' if med(r['update_mechanism_ms']) <= TARGET_UPDATE_MS else 'MISSED'}]",
        f"{v['n']} concurrent viewers: {v['served_ok']}/{v['n']} served without error in {v['wall_s']:.1f} s "
        f"(heatmap shown after {med(v['heatmap_s']) if v['heatmap_s'] else float('nan'):.1f} s median, "
        f"{max(v['heatmap_s'], default=float('nan')):.1f} s slowest; "
        f"slowest page complete {max(v['all_figures_s'], default=float('nan')):.1f} s)"
        + (f"; errors: {v['errors']}" if v["errors"] else "")
        + f"  [{'OK' if v['served_ok'] == v['n'] else 'MISSED'}]",
        f"kernel memory per viewer: RSS median {km['rss_median']:.0f} MB, USS median {km['uss_median']:.0f} MB "
        f"({km['kernels']} kernels, {km['rss_total']:.0f} MB RSS in all)",
        f"hosts requested: {', '.join(r['hosts'])}",
        *_floor_line(r),
        f"load average (1, 5, 15 min) at start {tuple(round(x, 1) for x in r['load_avg_start'])}, "
        f"at end {tuple(round(x, 1) for x in r['load_avg_end'])}",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mechanisms", type=int, default=1000)
    ap.add_argument("--viewers", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3, help="first-paint runs and dropdown changes")
    ap.add_argument("--no-floor", dest="floor", action="store_false",
                    help="skip the floor measurement (Voila serving a trivial notebook)")
    ap.add_argument("--fixture", action="store_true",
                    help="use the documented-format fixture writer instead of the scoring pipeline")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).is_file():
        print(f"{CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    report = asyncio.run(run(args))
    (OUT / "bench_dashboard.json").write_text(json.dumps(report, indent=2, default=str))
    print(summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
