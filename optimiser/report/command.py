"""The command line's side of reports: ``carepath report RUN_DIR`` and ``solve --report``."""

from __future__ import annotations

import sys
from pathlib import Path

from .data import ReportInputError


def run(run_dir: str) -> int:
    """``carepath report RUN_DIR``: 0 when written; 2, with one line naming the file and what
    is wrong, when RUN_DIR is not a run folder or one of its files cannot be read."""
    from . import write_report

    try:
        written = write_report(run_dir)
    except ReportInputError as exc:
        print(f"carepath: {exc}", file=sys.stderr)
        return 2
    print(_written(written))
    return 0


def after_solve(out_dir: str) -> None:
    """``carepath solve --report``: the report of the run just written into ``out_dir``."""
    from . import write_report

    print(_written(write_report(out_dir)))


def _written(paths: list[Path]) -> str:
    return "Report written to " + ", ".join(str(p) for p in paths)
