"""gm_eval: evaluate grievance mechanisms against the UNGP Principle 31 criteria.

The public API is a handful of functions that notebooks, dashboards and the
command line all call: :func:`load` (read, map and validate a data directory
into :class:`~gm_eval.evidence.Evidence`), :func:`gm_eval.validate.check_data_dir`,
scoring, publishing and plotting helpers.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def load(data_dir, mapping=None, as_of=None, today=None):
    """Read, map and validate a data directory.

    Parameters
    ----------
    data_dir : str or path-like
        Folder holding one file per table (``cases.csv``, ``mechanisms.xlsx``, ...).
    mapping : str, path-like or dict, optional
        Mapping file (YAML) or its parsed content, for a user's own export.
    as_of : str or date, optional
        Evaluation date; default the latest date in the data (never after today).
    today : date, optional
        Today's date, for reproducible checks of future dates (default: the system date).

    Returns
    -------
    gm_eval.evidence.Evidence
        Typed tables ready for scoring.

    Raises
    ------
    gm_eval.errors.ValidationFailed
        With a report of every problem, when any error was found.
    """
    from gm_eval.validate import load as _load

    return _load(data_dir, mapping=mapping, as_of=as_of, today=today)
