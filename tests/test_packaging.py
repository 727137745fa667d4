"""Packaging: environment.yml mirrors pyproject.toml; the CLI documents every subcommand."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from gm_eval.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from PyPI names
CONDA_NAMES = {"pyyaml": "pyyaml"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]
    return dict(_split(r) for r in reqs)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python", "pip")):
            name, spec = _split(dep)
            out[name] = spec
    return out


def test_environment_yml_mirrors_pyproject():
    py, env = _pyproject(), _environment()
    py = {CONDA_NAMES.get(k, k): v for k, v in py.items()}
    assert set(py) == set(env), (
        f"only in pyproject: {sorted(set(py) - set(env))}; "
        f"only in environment.yml: {sorted(set(env) - set(py))}")
    differing = {k: (py[k], env[k]) for k in py if py[k] != env[k]}
    assert not differing, f"version bounds differ: {differing}"


def test_license_is_gpl3_or_later():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["license"] == "GPL-3.0-or-later"
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text()[:500]


def _subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_contract_subcommands_exist():
    assert {"synth", "validate", "score", "report", "dashboard", "demo"} <= set(_subcommands())


@pytest.mark.parametrize("cmd", _subcommands())
def test_every_subcommand_has_help(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([cmd, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"gm-eval {cmd}" in out and "usage:" in out


def test_console_script_runs():
    exe = Path(sys.executable).parent / "gm-eval"
    res = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and res.stdout.startswith("gm-eval ")


def test_bad_input_exit_code(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_data_format_page_is_current():
    from gm_eval.dataformat import render

    page = (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8")
    assert page == render(), "docs/data-format.md is stale: run python -m gm_eval.dataformat"


def _console(args, cwd):
    """``python -m gm_eval ARGS`` (the console entry point) with its output piped."""
    return subprocess.run([sys.executable, "-m", "gm_eval", *args], capture_output=True,
                          text=True, check=False, cwd=cwd)


def test_console_score_exits_at_once_with_every_line_printed(tmp_path):
    from gm_eval import synth

    data = tmp_path / "data"
    synth.write_data_dir(synth.generate(n_mechanisms=12, seed=5), data, fmt="csv")
    res = _console(["score", str(data), "--out", str(tmp_path / "results")], tmp_path)
    assert res.returncode == 0, res.stderr
    # the summary (one line per mechanism after its header) and the last line, both
    # flushed before os._exit ends the process
    lines = res.stdout.splitlines()
    assert lines[0].startswith("mechanism") and len(lines) == 1 + 12 + 1
    assert lines[-1] == f"results written to {(tmp_path / 'results').absolute()}"
    assert "scored and wrote" in res.stderr
    assert (tmp_path / "results" / "manifest.json").is_file()


def test_console_exit_codes_are_those_of_main(tmp_path, monkeypatch):
    from gm_eval import cli

    bad = _console(["score", str(tmp_path / "missing"), "--out", str(tmp_path / "r")], tmp_path)
    assert bad.returncode == 2 and "not found" in bad.stderr
    assert not (tmp_path / "r").exists()
    ok = _console(["--version"], tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("gm-eval ")
    # in-process: only the commands of _EXIT_AT_ONCE end with os._exit
    class Exited(Exception):
        pass

    def fake_exit(code):
        raise Exited(code)

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(cli, "main", lambda argv: 2 if argv[0] == "score" else 0)
    with pytest.raises(Exited) as fast:
        cli.console(["score", "x", "--out", "y"])
    assert fast.value.args == (2,)
    with pytest.raises(SystemExit) as exc:  # any other command: a normal exit
        cli.console(["validate", "x"])
    assert exc.value.code == 0
