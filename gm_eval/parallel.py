"""Run one job on the second core: in a forked child process, else in a thread.

The statistics tables of a ``score`` run do not depend on the indicators, so
they can be computed at the same time. In a *thread* the two halves share the
GIL (most of pandas' work is Python code between short C loops) and the run is
no faster; a forked child process gets its own interpreter and sees the
validated evidence without copying it (copy-on-write). Its result comes back
pickled through a pipe (about 0.2 s for the statistics tables of a
1,000,000-case evaluation).

Forking is used on Linux only, after loading, when no other Python thread is
running. Arrow's and OpenBLAS's worker threads are recreated in the child by
their own fork handlers. Set ``GM_EVAL_NO_FORK=1`` to compute in a thread
instead. When the child fails in any way (an exception, a crash, a result that
does not unpickle), the job is run again in the calling process, so the
outcome and any error are exactly those of an in-process run.

:class:`SharedQueue` hands out numbered jobs to both processes (a pipe, one byte
per job): ``gm-eval score`` gives the child the statistics jobs one at a time and
the main process takes the rest once its own part is done, so neither waits for
the other (the ``fallback`` of :class:`BackgroundJob` then redoes a failed
child's share).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["fork_enabled", "BackgroundJob", "SharedQueue"]


def fork_enabled() -> bool:
    """Whether :class:`BackgroundJob` may fork (Linux, not disabled, no other Python thread)."""
    if os.environ.get("GM_EVAL_NO_FORK", "").strip() not in ("", "0"):
        return False
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")):
        return False
    # a Python thread holding a lock at fork time would leave it locked in the child
    return threading.active_count() == 1


def _die_with_parent() -> None:
    """Ask Linux to kill this (child) process when its parent dies (``PR_SET_PDEATHSIG``)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


class BackgroundJob:
    """Start ``fn()`` now, in a forked child process when possible, else in a thread.

    Parameters
    ----------
    fn : callable
        Takes no argument; returns a picklable value (when forked). It must not
        write files the parent also writes: only its return value comes back.
    fork : bool, optional
        Force (True) or forbid (False) forking; default :func:`fork_enabled`.
    fallback : callable, optional
        What :meth:`result` runs in the calling process when the forked child failed
        (default ``fn`` again): for a job whose share of the work is only known then
        (see :class:`SharedQueue`).

    Examples
    --------
    >>> job = BackgroundJob(lambda: sum(range(10)))
    >>> job.result()
    45
    """

    def __init__(self, fn: Callable[[], Any], fork: bool | None = None,
                 fallback: Callable[[], Any] | None = None):
        self._fn = fn
        self._fallback = fallback
        self._pid: int | None = None
        self._future: Future | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._data: bytes = b""
        self._reader: threading.Thread | None = None
        self.forked = False
        if fork if fork is not None else fork_enabled():
            self._fork()
        else:
            self._thread()

    # ------------------------------------------------------------------ starting
    def _thread(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gm-eval-job")
        self._future = self._pool.submit(self._fn)

    def _fork(self) -> None:
        r, w = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, ValueError, OSError):
                pass
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child (covered by the pipeline tests)
            code = 1
            try:
                os.close(r)
                _die_with_parent()
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                try:
                    payload = pickle.dumps(("ok", self._fn()), protocol=pickle.HIGHEST_PROTOCOL)
                    code = 0
                except BaseException:  # noqa: BLE001 - the parent reruns the job in-process
                    payload = pickle.dumps(("failed", None))
                with os.fdopen(w, "wb") as f:
                    f.write(payload)
                for stream in (sys.stdout, sys.stderr):
                    stream.flush()
            finally:
                os._exit(code)
        os.close(w)
        self._pid = pid
        self.forked = True
        # read as the child writes (a pipe holds 64 KB): the child never blocks on us
        self._reader = threading.Thread(target=self._read, args=(r,), daemon=True,
                                        name="gm-eval-job-reader")
        self._reader.start()

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as f:
            self._data = f.read()

    # ------------------------------------------------------------------ results
    def result(self) -> Any:
        """The job's return value (re-raises its exception, from an in-process rerun)."""
        if not self.forked:
            assert self._future is not None and self._pool is not None
            try:
                return self._future.result()
            finally:
                self._pool.shutdown(wait=True)  # the job is over: let its thread end
                self._pool = None
        assert self._reader is not None
        self._reader.join()
        ok = self._wait() == 0
        data, self._data = self._data, b""
        if ok:
            try:
                status, value = pickle.loads(data)
                if status == "ok":
                    return value
            except Exception:  # noqa: BLE001 - a truncated or odd payload: rerun below
                pass
        return (self._fallback or self._fn)()

    def _wait(self) -> int:
        if self._pid is None:
            return -1
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        """Stop the job if it still runs (kill the child; a thread is left to finish)."""
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._wait()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class SharedQueue:
    """The numbers ``0 .. n - 1``, each handed out once, to this process and to the
    processes it forks after making the queue (and to its threads).

    A pipe holding one byte per number, its writing end closed: reading one byte is
    atomic, so each number goes to exactly one reader, and an empty queue reads as
    the end of the pipe (no lock, no blocking). ``gm-eval score`` hands out its
    statistics jobs this way: the forked child takes jobs from the start, the main
    process joins in when its own part is done, and neither waits for the other.

    Parameters
    ----------
    n : int
        How many numbers (at most 255).

    Examples
    --------
    >>> q = SharedQueue(3)
    >>> [q.claim(), q.claim(), q.claim(), q.claim()]
    [0, 1, 2, None]
    >>> q.close()
    """

    def __init__(self, n: int):
        if not 0 <= n < 256:
            raise ValueError(f"SharedQueue holds 0 to 255 numbers, not {n}")
        self._r, w = os.pipe()
        try:
            os.write(w, bytes(range(n)))
        finally:
            os.close(w)

    def claim(self) -> int | None:
        """The next number, or None when all are taken."""
        b = os.read(self._r, 1)
        return b[0] if b else None

    def close(self) -> None:
        """Close the pipe (numbers not taken are dropped)."""
        if self._r >= 0:
            os.close(self._r)
            self._r = -1
