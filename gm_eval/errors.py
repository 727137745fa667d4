"""Exceptions shared by the package and mapped to exit codes by the CLI."""

from __future__ import annotations

__all__ = ["GmEvalError", "InputError", "ValidationFailed"]


class GmEvalError(Exception):
    """Base class: an expected failure with a message meant for the user (exit 1)."""


class InputError(GmEvalError):
    """Bad input: unreadable file, bad option, invalid data (exit 2)."""


class ValidationFailed(InputError):
    """The data directory failed validation.

    Parameters
    ----------
    report : gm_eval.validate.ValidationReport
        Every problem found, with file, row, column, value and expectation.
    """

    def __init__(self, report):
        self.report = report
        super().__init__(report.format())
