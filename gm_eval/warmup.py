"""Warm up a freshly started dashboard server before the first viewer arrives.

Voila pre-runs the sector overview in a preheated kernel as soon as it starts.
On this stack (Voila 0.5, jupyter_client 8, pyzmq 27) the pre-run of the
*first* kernel of a fresh server intermittently waits for an execute reply
that its kernel client never notices (the kernel is idle, the reply is not
read), until the 60 s per-cell timeout: the first viewer then waits a minute
(seen in about one server start in five; kernels started later were never
affected in the benchmarks). Voila issue #1395 reports the same "stuck on
Executing x of y" symptom.

:func:`warm_up` takes that first kernel itself, as a presenter opening the
page once would, and then shuts it down; the kernel that Voila starts to
replace it is the one the first viewer gets. It is best effort: any failure
is reported, never raised, and the server keeps serving.
"""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["warm_up"]

_KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-fA-F-]{36})"')


def warm_up(port: int, host: str = "127.0.0.1", base_url: str = "/", token: str | None = None,
            notebook: str = "sector_overview.ipynb", timeout: float = 180.0) -> tuple[bool, str]:
    """Request ``notebook`` once, then shut down the kernel that served it.

    Parameters
    ----------
    port, host, base_url, token
        Where the Voila server listens (``host`` must be reachable from here:
        use 127.0.0.1 for a server bound to 0.0.0.0) and its token, if any.
    notebook : str
        The preheated dashboard.
    timeout : float
        Seconds to wait for the server to answer and for the page to complete.

    Returns
    -------
    (bool, str)
        Whether the kernel was taken and shut down, and a one-line account.
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    root = f"http://{host}:{int(port)}{base_url}"
    query = "?" + urllib.parse.urlencode({"token": token}) if token else ""
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    while True:  # wait for the server to listen
        try:
            with opener.open(root + query, timeout=10):
                break
        except urllib.error.HTTPError:
            break  # it answers (a 404 or 403 is still an answer)
        except OSError:
            if time.monotonic() > deadline:
                return False, "the dashboard server did not answer"
            time.sleep(0.2)
    try:
        with opener.open(f"{root}voila/render/{notebook}{query}",
                         timeout=max(deadline - time.monotonic(), 10)) as resp:
            page = resp.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return False, f"could not open {notebook}: {exc}"
    found = _KERNEL_ID.search(page)
    if not found:
        return False, f"{notebook} gave no kernel id"
    kernel_id = found.group(1)
    xsrf = next((c.value for c in jar if c.name == "_xsrf"), "")
    req = urllib.request.Request(f"{root}voila/api/shutdown/{kernel_id}{query}", data=b"", method="POST",
                                 headers={"X-XSRFToken": xsrf, **({"Authorization": f"token {token}"}
                                                                    if token else {})})
    try:
        with opener.open(req, timeout=30):
            pass
    except OSError as exc:
        return False, f"served in {time.monotonic() - t0:.1f} s but could not shut its kernel down: {exc}"
    return True, f"first preheated kernel taken and shut down after {time.monotonic() - t0:.1f} s"
