"""pandera, imported without its optional ``hypothesis`` strategies (see :func:`load_pandera`)."""

from __future__ import annotations

import sys

__all__ = ["load_pandera", "pa"]


def load_pandera():
    """Import pandera without its optional ``hypothesis`` data-synthesis strategies.

    When ``hypothesis`` is installed, pandera imports it (about 0.5 s, on every
    ``gm-eval`` run) only to offer strategies that generate example data from a
    schema, which gm-eval never uses. Hiding it during pandera's import makes pandera
    take its documented fallback (no strategies); a ``hypothesis`` already imported
    (by a test run, say) is left alone, and ``hypothesis`` itself stays importable.
    """
    hide = "hypothesis" not in sys.modules
    if hide:
        sys.modules["hypothesis"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import pandera.backends.pandas.builtin_checks  # noqa: F401  (imported lazily otherwise)
        import pandera.pandas as pandera_pandas
    finally:
        if hide:
            del sys.modules["hypothesis"]
    return pandera_pandas


pa = load_pandera()
