"""Where the notebook folders live: a source checkout, or an installed copy.

The report templates (``notebooks/``) and the dashboards (``dashboards/``) sit
next to the package in a source checkout. A wheel installs copies under
``<data>/share/gm-eval/`` (``[tool.setuptools.data-files]`` in
``pyproject.toml``), where ``<data>`` is the environment's data directory
(``sys.prefix`` for a virtual environment, ``~/.local`` for a user install).
An environment variable overrides both.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

__all__ = ["SHARE", "candidate_dirs", "bundled_dir"]

#: Installed copies live in ``<data>/share/gm-eval/<name>``.
SHARE = Path("share") / "gm-eval"


def candidate_dirs(name: str) -> list[Path]:
    """Folders searched for ``name`` (``notebooks`` or ``dashboards``), in order."""
    out = [Path(__file__).resolve().parent.parent / name]
    for scheme in (None, f"{os.name}_user"):
        try:
            data = sysconfig.get_paths(scheme) if scheme else sysconfig.get_paths()
        except KeyError:
            continue
        out.append(Path(data["data"]) / SHARE / name)
    return list(dict.fromkeys(out))


def bundled_dir(name: str, marker: str, env_var: str) -> Path:
    """The folder ``name`` holding ``marker``.

    Parameters
    ----------
    name : str
        ``notebooks`` or ``dashboards``.
    marker : str
        A file the folder must hold (e.g. ``sector_overview.ipynb``).
    env_var : str
        Environment variable that names the folder instead.

    Returns
    -------
    Path
        The override when set (returned as given, even if it lacks ``marker``,
        so the caller can say what is missing), else the first candidate
        holding ``marker``, else the source-checkout location.
    """
    override = os.environ.get(env_var)
    if override:
        return Path(override).resolve()
    candidates = candidate_dirs(name)
    for folder in candidates:
        if (folder / marker).is_file():
            return folder
    return candidates[0]
