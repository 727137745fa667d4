"""The ``gm-eval`` command line: a thin layer over the public API.

Every subcommand parses its arguments, calls one function of the package and
maps exceptions to exit codes: 0 success, 1 an internal failure (for example a
report that failed to render), 2 bad input (the message names file, row,
column and problem). Nothing is written when the input is invalid.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from gm_eval import __version__
from gm_eval.errors import GmEvalError, InputError

__all__ = ["main", "console", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_BAD_INPUT"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

#: Subcommand registrars, in the order they appear in ``--help``. Each takes the
#: subparsers action, adds one subcommand and sets ``func`` (args -> exit code).
_REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = []


def subcommand(register: Callable[[argparse._SubParsersAction], None]):
    """Decorator: add a subcommand registrar to the parser."""
    _REGISTRARS.append(register)
    return register


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


# --------------------------------------------------------------------------- synth
@subcommand
def _synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="write a realistic synthetic data directory",
        description="Write a realistic synthetic sector data directory with planted, "
        "documented effects (see docs/synthetic-data.md).",
    )
    p.add_argument("--out", required=True, help="data directory to create")
    p.add_argument("--mechanisms", type=int, default=16, help="number of mechanisms (default 16)")
    p.add_argument("--cases", type=int, default=None,
                   help="total number of cases (default: about 150 per mechanism)")
    p.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    p.add_argument("--format", choices=["csv", "xlsx", "parquet"], default="csv",
                   help="file format of the tables (default csv)")
    p.add_argument("--as-of", default=None, help="evaluation date YYYY-MM-DD (default 2025-06-30)")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty --out directory")

    def run(a: argparse.Namespace) -> int:
        from gm_eval import synth

        kwargs = {"n_mechanisms": a.mechanisms, "n_cases": a.cases, "seed": a.seed}
        if a.as_of:
            kwargs["as_of"] = a.as_of
        tables = synth.generate(**kwargs)
        paths = synth.write_data_dir(tables, a.out, fmt=a.format, overwrite=a.force)
        rows = ", ".join(f"{name} {len(df):,}" for name, df in tables.items())
        print(f"wrote {len(paths)} tables to {a.out} ({rows})")
        return EXIT_OK

    p.set_defaults(func=run)


# ------------------------------------------------------------------------ validate
@subcommand
def _validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check a data directory against the data contract",
        description="Check every table and the links between them. Exit 0 when valid, "
        "2 with a report naming file, row, column, value and problem otherwise.",
    )
    p.add_argument("data_dir", help="data directory")
    p.add_argument("--mapping", default=None, help="YAML mapping file for your own export")
    p.add_argument("--as-of", default=None, help="evaluation date YYYY-MM-DD (default: latest date)")
    p.add_argument("--max-problems", type=int, default=200,
                   help="list at most this many problems (default 200; all are counted)")

    def run(a: argparse.Namespace) -> int:
        from gm_eval.validate import check_data_dir

        report = check_data_dir(a.data_dir, mapping=a.mapping, as_of=a.as_of)
        print(report.format(max_problems=a.max_problems))
        return EXIT_OK if report.ok else EXIT_BAD_INPUT

    p.set_defaults(func=run)


def build_parser() -> argparse.ArgumentParser:
    """Return the ``gm-eval`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gm-eval",
        description="Evaluate grievance mechanisms against the eight UNGP Principle 31 "
        "effectiveness criteria.",
    )
    parser.add_argument("--version", action="version", version=f"gm-eval {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _load_plugins()
    for register in _REGISTRARS:
        register(sub)
    return parser


def _load_plugins() -> None:
    """Import the modules that register further subcommands (score, report, ...)."""
    import importlib

    for mod in _PLUGIN_MODULES:
        importlib.import_module(mod)


#: Modules that add subcommands with :func:`subcommand` when imported.
_PLUGIN_MODULES: tuple[str, ...] = (
    "gm_eval.commands.score",
    "gm_eval.commands.demo",
    "gm_eval.commands.dashboard",
    "gm_eval.commands.surveys",
    "gm_eval.commands.report",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        _err(f"gm-eval {args.command}: {exc}")
        return EXIT_BAD_INPUT
    except GmEvalError as exc:
        _err(f"gm-eval {args.command}: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _err(f"gm-eval {args.command}: interrupted; nothing was written")
        return 130
    except Exception as exc:  # an unexpected failure: a short message, no traceback
        if os.environ.get("GM_EVAL_DEBUG"):
            raise
        _err(f"gm-eval {args.command}: internal error ({type(exc).__name__}: {exc}). "
             "Nothing was written. Set GM_EVAL_DEBUG=1 to see the traceback, and please "
             "report it.")
        return EXIT_FAILED


#: Subcommands after which :func:`console` ends the process at once: their work is
#: done and written, and tearing down the interpreter only frees memory (about
#: 0.14 s after scoring 1,000,000 cases, freeing the evidence object by object).
_EXIT_AT_ONCE = frozenset({"score"})


def console(argv: Sequence[str] | None = None) -> None:
    """The ``gm-eval`` console script (and ``python -m gm_eval``): :func:`main`, then exit.

    After a subcommand of ``_EXIT_AT_ONCE`` the output streams are flushed and the
    process ends with ``os._exit``, skipping the interpreter's teardown (nothing is
    left to do: every file written is closed, every child process waited for).
    Otherwise, and when flushing fails, it exits normally with ``sys.exit``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    code = main(argv)
    if argv[:1] and argv[0] in _EXIT_AT_ONCE:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed or broken stream: let Python report it
            sys.exit(code)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    # Run through the imported module so that plugin subcommands register on it.
    from gm_eval.cli import console as _console

    _console()
