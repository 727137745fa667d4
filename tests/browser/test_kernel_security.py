"""Dashboard kernels refuse code execution: a viewer who opens the kernel's websocket
directly can exchange widget messages, but an ``execute_request`` never runs."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PLOT = ".js-plotly-plot"


def _msg(msg_type: str, content: dict, channel: str = "shell") -> str:
    return json.dumps({
        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "viewer",
                   "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "content": content, "channel": channel,
        "buffers": [],
    })


async def _probe(ws_url: str, marker: Path) -> list[str]:
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(ws_url)
    replies: list[str] = []
    code = f"open({str(marker)!r}, 'w').write('executed')"
    await conn.write_message(_msg("execute_request", {
        "code": code, "silent": False, "store_history": False, "user_expressions": {},
        "allow_stdin": False, "stop_on_error": True}))
    await conn.write_message(_msg("comm_info_request", {}))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 8
    while loop.time() < deadline:
        try:
            raw = await asyncio.wait_for(conn.read_message(), timeout=deadline - loop.time())
        except TimeoutError:
            break
        if raw is None:
            break
        if isinstance(raw, bytes):
            continue
        replies.append(json.loads(raw).get("msg_type", ""))
    conn.close()
    return replies


def test_kernel_refuses_code_execution(page, server, tmp_path):
    page.goto(f"{server}/voila/render/sector_overview.ipynb", timeout=90_000)
    page.wait_for_function(f"document.querySelectorAll('{PLOT}').length >= 1", timeout=90_000)
    m = re.search(r'"kernelId"\s*:\s*"([0-9a-f-]{36})"', page.content())
    assert m, "kernel id not found in the rendered page"
    ws_url = server.replace("http://", "ws://") + f"/api/kernels/{m.group(1)}/channels"
    marker = tmp_path / "executed.txt"
    # Playwright's sync API owns this thread's event loop: probe from another thread.
    with ThreadPoolExecutor(1) as pool:
        replies = pool.submit(asyncio.run, _probe(ws_url, marker)).result(timeout=60)
    # the connection is live (the allowed widget query is answered) ...
    assert "comm_info_reply" in replies, replies
    # ... but the code was never run, and no execution result came back
    assert not marker.exists(), "the dashboard kernel executed code sent by a viewer"
    assert "execute_reply" not in replies and "execute_result" not in replies, replies
