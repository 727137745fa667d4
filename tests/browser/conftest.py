"""Fixtures for the browser tests: a results directory, a Voila server, Chromium.

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright (never a
downloaded browser). Locally the tests skip when it is absent; with ``CI=true``
its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from browser.results_fixture import make_results_dir

CHROMIUM = os.environ.get("GM_EVAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).is_file() or shutil.which(CHROMIUM):
        return CHROMIUM
    reason = f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: browser tests are required in CI", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 90.0) -> None:
    """Wait until ``url`` answers 200."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s ({last})")


def start_voila(results_dir: Path, port: int, log: Path, pool_size: int | None = None):
    """Start the dashboards with :func:`gm_eval.dashboard.launch` in their own process group."""
    from gm_eval.dashboard import launch

    overrides = None
    if pool_size is not None:
        overrides = {"VoilaConfiguration": {"default_pool_size": pool_size, "preheat_kernel": pool_size > 0}}
    fh = open(log, "wb")  # noqa: SIM115 - closed in stop_voila
    proc = launch(results_dir, port=port, wait=False, overrides=overrides, stdout=fh,
                  stderr=subprocess.STDOUT, start_new_session=True)
    proc._gm_log = fh  # type: ignore[attr-defined]
    return proc


def stop_voila(proc) -> None:
    """Stop the Voila server and every kernel it started (its process group only)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # kernels left in the group
    except ProcessLookupError:
        pass
    proc._gm_log.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return _chromium_or_skip()


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory, chromium_path) -> Path:
    """12 mechanisms scored by the real pipeline (the fixture writer if it is absent)."""
    out, _how = make_results_dir(tmp_path_factory.mktemp("dash") / "results", 12, seed=11)
    return out


@pytest.fixture(scope="session")
def server(results_dir, tmp_path_factory):
    """Base URL of a Voila server with the shipped configuration."""
    port = free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    proc = start_voila(results_dir, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/")
        yield base
    finally:
        stop_voila(proc)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser, **context_options):
    """A new context and page that records every request (and websocket) URL and any dialog."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, **context_options)
    pg = ctx.new_page()
    pg.urls = []  # type: ignore[attr-defined]
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.urls.append(r.url))
    pg.on("websocket", lambda ws: pg.urls.append(ws.url))
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    return ctx, pg


def screenshot(pg, name: str) -> None:
    """Save the whole dashboard as ``test-artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = pg.viewport_size
    pg.set_viewport_size({"width": 1400, "height": 3600})  # the dashboard scrolls inside the page
    try:
        pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    finally:
        pg.set_viewport_size(size)


@pytest.fixture
def page(browser, request):
    """A fresh page; a screenshot is kept in ``test-artifacts/`` at the end."""
    ctx, pg = new_page(browser)
    yield pg
    try:
        screenshot(pg, request.node.name)
    except Exception:  # noqa: BLE001 - a screenshot is a bonus, never the failure
        pass
    ctx.close()


def network_hosts(urls: list[str]) -> set[str]:
    """Hosts of the network requests among ``urls`` (``data:`` and ``blob:`` are local)."""
    from urllib.parse import urlsplit

    return {urlsplit(u).hostname or "" for u in urls if urlsplit(u).scheme not in ("data", "blob", "about")}
