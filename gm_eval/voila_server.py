"""Run Voila with one fix to its kernel client: ``python -m gm_eval.voila_server ARGS``.

:func:`gm_eval.dashboard.launch` starts Voila through this module, with the
same arguments as ``python -m voila``.

The problem it fixes: Voila runs a dashboard's cells with nbclient, which waits
for each cell's execute reply with a single ``poll`` on the kernel client's
shell socket lasting the whole cell timeout (60 s here). With zmq.asyncio's
edge-triggered wake-ups, that poll sometimes misses the reply that has already
arrived (seen after the cell that creates the widgets, which sends a burst of
messages on the other channels): the kernel is idle, the outputs are there,
and the page waits the full 60 s. In the benchmarks this hit about one page in
ten on a fresh server (Voila issue #1395 reports the same "stuck on Executing
x of y" symptom).

The fix: :func:`patch_get_msg` makes jupyter_client's
``AsyncZMQSocketChannel.get_msg`` poll in slices of at most half a second.
Each new poll checks the socket afresh, so a missed wake-up costs at most one
slice. Nothing else changes: it still returns the next message, or raises
``queue.Empty`` once the timeout has passed.
"""

from __future__ import annotations

import sys
import time
from queue import Empty

__all__ = ["SLICE_S", "patch_get_msg", "main"]

#: Longest single poll, in seconds.
SLICE_S = 0.5


def patch_get_msg(channel_class=None, slice_s: float = SLICE_S) -> None:
    """Make ``channel_class.get_msg`` wait in polls of at most ``slice_s`` seconds.

    Parameters
    ----------
    channel_class : type, optional
        Default ``jupyter_client.channels.AsyncZMQSocketChannel``.
    slice_s : float
        Longest single poll in seconds.
    """
    if channel_class is None:
        from jupyter_client.channels import AsyncZMQSocketChannel as channel_class
    original = getattr(channel_class.get_msg, "__gm_eval_original__", channel_class.get_msg)

    async def get_msg(self, timeout: float | None = None):
        if timeout is not None and timeout <= slice_s:
            return await original(self, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            part = slice_s if deadline is None else max(0.0, min(slice_s, deadline - time.monotonic()))
            try:
                return await original(self, part)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    get_msg.__gm_eval_original__ = original  # type: ignore[attr-defined]
    get_msg.__doc__ = original.__doc__
    channel_class.get_msg = get_msg


def main(argv: list[str] | None = None) -> None:
    """Apply :func:`patch_get_msg`, then run Voila's command line with ``argv``."""
    patch_get_msg()
    from voila.app import main as voila_main

    sys.argv = ["voila", *(sys.argv[1:] if argv is None else argv)]
    voila_main()


if __name__ == "__main__":
    main()
