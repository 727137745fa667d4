"""The launcher's warm-up against a real Voila server: the first preheated kernel is
taken and shut down, and the first viewer is served by its preheated replacement."""

from __future__ import annotations

import re
import urllib.request

import pytest

from browser.conftest import free_port, start_voila, stop_voila

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_first_preheated_kernel_is_taken_then_viewers_get_its_replacement(results_dir, tmp_path):
    port, log = free_port(), tmp_path / "voila.log"
    proc = start_voila(results_dir, port, log)
    try:
        assert proc.gm_warmed.wait(200), "the warm-up did not finish"
        text = log.read_text(errors="replace")
        used = re.findall(r"Using pre-heated kernel: ([0-9a-f-]{36})", text)
        down = re.findall(r"Kernel shutdown: ([0-9a-f-]{36})", text)
        assert len(used) == 1 and down == used, f"warm-up did not take and shut down a preheated kernel:\n{text}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/render/sector_overview.ipynb",
                                    timeout=120) as resp:
            page = resp.read().decode("utf-8")
        assert '<table class="gm-heatmap"' in page
        text = log.read_text(errors="replace")
        used_now = re.findall(r"Using pre-heated kernel: ([0-9a-f-]{36})", text)
        assert len(used_now) == 2 and used_now[1] != used[0], "the viewer was not served by the replacement"
    finally:
        stop_voila(proc)
