"""The sliced message wait that the dashboards' Voila server runs with."""

from __future__ import annotations

import asyncio
import threading
import time
from queue import Empty

import pytest

from gm_eval.voila_server import patch_get_msg


class _Socket:
    """A socket whose message is ready at ``ready_at`` but whose first long poll
    misses the wake-up (it sleeps its whole timeout and reports nothing), as an
    edge-triggered wake-up lost by zmq.asyncio does."""

    def __init__(self, ready_at: float | None, miss_first: bool = True):
        self.ready_at, self.miss_first, self.polls = ready_at, miss_first, []

    def ready(self) -> bool:
        return self.ready_at is not None and time.monotonic() >= self.ready_at

    async def poll(self, timeout_ms):
        self.polls.append(timeout_ms)
        t = None if timeout_ms is None else timeout_ms / 1000
        if self.miss_first and len(self.polls) == 1:
            await asyncio.sleep(t if t is not None else 3600)
            return 0
        end = None if t is None else time.monotonic() + t
        while not self.ready():
            if end is not None and time.monotonic() >= end:
                return 0
            await asyncio.sleep(0.01)
        return 1


class _Channel:
    """The shape of jupyter_client's AsyncZMQSocketChannel.get_msg."""

    def __init__(self, socket):
        self.socket = socket

    async def get_msg(self, timeout=None):
        timeout_ms = None if timeout is None else int(timeout * 1000)
        if await self.socket.poll(timeout_ms):
            return {"msg": "reply"}
        raise Empty


@pytest.fixture()
def channel_class():
    class C(_Channel):
        pass

    patch_get_msg(C, slice_s=0.2)
    return C


def _run(coro):
    """Run ``coro`` on a fresh event loop in its own thread (other tests may leave a
    loop set, or patched, in the main thread)."""
    out: dict = {}

    def target():
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def test_unpatched_wait_misses_the_reply_for_the_whole_timeout():
    sock = _Socket(ready_at=time.monotonic())
    with pytest.raises(Empty):
        _run(_Channel(sock).get_msg(timeout=1.0))
    assert sock.polls == [1000], "one poll for the whole timeout, which misses the ready reply"


def test_sliced_wait_recovers_a_missed_wake_up_within_one_slice(channel_class):
    sock = _Socket(ready_at=time.monotonic())
    assert _run(channel_class(sock).get_msg(timeout=30)) == {"msg": "reply"}
    assert sock.polls == [200, 200], "the missed slice, then the next poll finds the reply"


def test_sliced_wait_still_times_out_and_waits_for_late_messages(channel_class):
    sock = _Socket(ready_at=None, miss_first=False)
    with pytest.raises(Empty):
        _run(channel_class(sock).get_msg(timeout=0.7))
    assert len(sock.polls) >= 2 and all(0 <= p <= 200 for p in sock.polls), "sliced until the deadline"
    late = _Socket(ready_at=time.monotonic() + 0.5, miss_first=False)
    assert _run(channel_class(late).get_msg(timeout=None)) == {"msg": "reply"}
    assert all(p is not None and p <= 200 for p in late.polls)


def test_short_waits_are_passed_through_and_patching_twice_is_harmless(channel_class):
    sock = _Socket(ready_at=None, miss_first=False)
    with pytest.raises(Empty):
        _run(channel_class(sock).get_msg(timeout=0.1))
    assert sock.polls == [100]
    patch_get_msg(channel_class, slice_s=0.2)
    sock = _Socket(ready_at=time.monotonic())
    assert _run(channel_class(sock).get_msg(timeout=5)) == {"msg": "reply"}


def test_the_real_channel_class_is_patched_by_main(monkeypatch):
    import jupyter_client.channels as channels

    original = channels.AsyncZMQSocketChannel.get_msg
    monkeypatch.setattr(channels.AsyncZMQSocketChannel, "get_msg", original)
    patch_get_msg()
    assert channels.AsyncZMQSocketChannel.get_msg.__gm_eval_original__ is original
