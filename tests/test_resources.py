"""Finding the notebook folders in a checkout or an installed copy, and shipping them in the wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from gm_eval import resources
from gm_eval.dashboard import dashboards_dir
from gm_eval.reports import notebooks_dir

REPO = Path(__file__).resolve().parents[1]


def test_checkout_folders_are_found():
    assert notebooks_dir() == REPO / "notebooks"
    assert dashboards_dir() == REPO / "dashboards"


def test_installed_copy_is_used_when_there_is_no_checkout(tmp_path, monkeypatch):
    missing, installed = tmp_path / "checkout" / "dashboards", tmp_path / "share" / "gm-eval" / "dashboards"
    installed.mkdir(parents=True)
    (installed / "sector_overview.ipynb").write_text("{}")
    monkeypatch.setattr(resources, "candidate_dirs", lambda name: [missing, installed])
    monkeypatch.delenv("GM_EVAL_DASHBOARDS", raising=False)
    assert resources.bundled_dir("dashboards", "sector_overview.ipynb", "GM_EVAL_DASHBOARDS") == installed
    # the environment variable wins, even over a folder that holds the marker
    monkeypatch.setenv("GM_EVAL_DASHBOARDS", str(missing))
    assert resources.bundled_dir("dashboards", "sector_overview.ipynb", "GM_EVAL_DASHBOARDS") == missing.resolve()
    monkeypatch.delenv("GM_EVAL_DASHBOARDS")
    (installed / "sector_overview.ipynb").unlink()
    assert resources.bundled_dir("dashboards", "sector_overview.ipynb", "GM_EVAL_DASHBOARDS") == missing


def test_candidates_include_the_environment_share_folder():
    cands = resources.candidate_dirs("notebooks")
    assert cands[0] == REPO / "notebooks"
    assert Path(sys.prefix) / "share" / "gm-eval" / "notebooks" in cands


def test_pyproject_installs_every_notebook():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    for name in ("notebooks", "dashboards"):
        globs = cfg[f"share/gm-eval/{name}"]
        shipped = {p for g in globs for p in REPO.glob(g)}
        assert shipped == set((REPO / name).glob("*.ipynb")) and shipped


@pytest.mark.slow
def test_the_wheel_carries_the_notebooks(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("gm_eval-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("notebooks", "dashboards"):
        for nb in (REPO / name).glob("*.ipynb"):
            assert any(n.endswith(f".data/data/share/gm-eval/{name}/{nb.name}") for n in names), nb.name
