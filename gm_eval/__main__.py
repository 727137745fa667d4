"""``python -m gm_eval``: the gm-eval command line."""

from gm_eval.cli import console

console()
