"""Typed exceptions carrying the locations the command line prints.

Every problem found in the input is an :class:`Issue` with a file, a line, a column and a
dotted key path; :class:`ConfigError` carries all of them at once, so a user fixes a file in
one pass rather than one error per run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in the input, located as ``FILE:LINE:COL: key.path: message``."""

    file: str
    """Path of the file as the user named it (or ``--set`` for a command-line override)."""
    line: int
    """1-based line (a CSV's line number, or a Parquet row index); 0 when unknown."""
    column: int | str
    """1-based column, or a table's column name; 0 when unknown."""
    path: str
    """Dotted key path inside the file (``providers.north_hub.costs``); may be empty."""
    message: str
    """What is wrong, in the user's terms."""

    def __str__(self) -> str:
        # Command-line overrides have no line: they print as ``--set KEY=VALUE: ...``.
        # A table cell has a column name and may sit on Parquet row 0.
        located = self.line or (isinstance(self.column, str) and self.column)
        where = (f"{self.file}:{self.line}:{_printable(str(self.column))}" if located
                 else _printable(self.file))
        path, message = _printable(self.path), _printable(self.message)
        return f"{where}: {path}: {message}" if path else f"{where}: {message}"


_ESCAPES = ({i: f"\\x{i:02x}" for i in [*range(32), *range(127, 160)]}
            | {0x2028: "\\u2028", 0x2029: "\\u2029"} | {10: "\\n", 13: "\\r", 9: "\\t"})
"""C0 and C1 controls and the Unicode line and paragraph separators: each would break a line."""


def _printable(text: str) -> str:
    """Control characters from the input written as escapes: one issue, one line."""
    return text.translate(_ESCAPES)


class CarepathError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(CarepathError):
    """The input is invalid; ``issues`` lists every problem found, in file order."""

    def __init__(self, issues: list[Issue]):
        self.issues = sorted(set(issues), key=_issue_order)
        super().__init__("\n".join(str(i) for i in self.issues))


def _issue_order(i: Issue) -> tuple:
    col = i.column if isinstance(i.column, int) else 0
    return (i.file, i.line, col, str(i.column), i.path, i.message)


class SolverUnavailable(CarepathError):
    """The requested backend is unknown or its solver is not installed."""


class SolveFailed(CarepathError):
    """The solver itself failed (crash, bad status); not the user's input."""
