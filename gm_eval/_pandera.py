"""pandera, imported on first use and without its optional ``hypothesis`` strategies.

``pa`` stands for ``pandera.pandas``: the import happens at the first attribute
access (validation reaches for pandera only when a check fails).
"""

from __future__ import annotations

import sys
import threading

__all__ = ["load_pandera", "pa"]

_lock = threading.Lock()
_module = None


def load_pandera():
    """Import ``pandera.pandas`` (once) without its optional data-synthesis strategies.

    When ``hypothesis`` is installed, pandera imports it (about 0.5 s, on every
    ``gm-eval`` run) only to offer strategies that generate example data from a
    schema, which gm-eval never uses. Hiding it during pandera's import makes pandera
    take its documented fallback (no strategies); a ``hypothesis`` already imported
    (by a test run, say) is left alone, and ``hypothesis`` itself stays importable.
    """
    global _module
    with _lock:
        if _module is None:
            hide = "hypothesis" not in sys.modules
            if hide:
                sys.modules["hypothesis"] = None  # type: ignore[assignment]  # -> ImportError
            try:
                import pandera.backends.pandas.builtin_checks  # noqa: F401  (else imported lazily)
                import pandera.pandas as pandera_pandas
            finally:
                if hide:
                    del sys.modules["hypothesis"]
            _module = pandera_pandas
    return _module


class _Pandera:
    """``pandera.pandas``, imported at the first attribute access."""

    def __getattr__(self, name):
        return getattr(load_pandera(), name)


pa = _Pandera()
