"""The dashboard warm-up against a small stand-in for Voila's HTTP interface."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from gm_eval.warmup import warm_up

KERNEL = "0f1e2d3c-4b5a-4697-8877-66554433aa11"


class _Voila(BaseHTTPRequestHandler):
    """Serves a page naming a kernel, with an _xsrf cookie, and records shutdown requests."""

    page = f'<script id="jupyter-config-data" type="application/json">{{"kernelId": "{KERNEL}"}}</script>'
    seen: list = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        url = urlparse(self.path)
        self.seen.append(("GET", url.path, parse_qs(url.query), self.headers))
        if url.path == "/voila/render/sector_overview.ipynb":
            body = self.page.encode()
            self.send_response(200)
            self.send_header("Set-Cookie", "_xsrf=abc123; Path=/")
        elif url.path == "/":
            body = b"tree"
            self.send_response(200)
        else:
            body = b"no"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        url = urlparse(self.path)
        self.seen.append(("POST", url.path, parse_qs(url.query), self.headers))
        self.send_response(204 if url.path.startswith("/voila/api/shutdown/") else 404)
        self.end_headers()


@pytest.fixture()
def fake_voila():
    _Voila.seen = []
    _Voila.page = f'<script id="jupyter-config-data" type="application/json">{{"kernelId": "{KERNEL}"}}</script>'
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Voila)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1], _Voila
    srv.shutdown()
    srv.server_close()


def test_takes_the_page_and_shuts_its_kernel_down(fake_voila):
    port, handler = fake_voila
    ok, msg = warm_up(port, timeout=20)
    assert ok, msg
    posts = [s for s in handler.seen if s[0] == "POST"]
    assert [p[1] for p in posts] == [f"/voila/api/shutdown/{KERNEL}"]
    assert posts[0][3].get("X-XSRFToken") == "abc123", "the XSRF cookie is echoed as Jupyter requires"
    assert "shut down" in msg


def test_token_and_base_url_are_used(fake_voila):
    port, handler = fake_voila
    ok, msg = warm_up(port, token="s3cret-token", base_url="/", timeout=20)
    assert ok, msg
    for method, _path, query, _headers in handler.seen:
        assert query.get("token") == ["s3cret-token"], f"{method} without the token"
    post = next(s for s in handler.seen if s[0] == "POST")
    assert post[3].get("Authorization") == "token s3cret-token"


def test_a_page_without_kernel_is_reported_not_raised(fake_voila):
    port, handler = fake_voila
    handler.page = "<html>no kernel here</html>"
    ok, msg = warm_up(port, timeout=20)
    assert not ok and "no kernel id" in msg
    assert not [s for s in handler.seen if s[0] == "POST"]


def test_no_server_is_reported_not_raised():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    ok, msg = warm_up(port, timeout=1)
    assert not ok and "did not answer" in msg
