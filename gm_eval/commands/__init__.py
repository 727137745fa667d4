"""Subcommands of the ``gm-eval`` command line beyond synth and validate."""
