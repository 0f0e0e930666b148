"""The command line's side of reports: ``carepath report RUN_DIR`` and ``solve --report``."""

from __future__ import annotations

import sys
from pathlib import Path

from .data import ReportInputError


def run(run_dir: str) -> int:
    """``carepath report RUN_DIR``: 0 when written; 2, with one line naming the file and what
    is wrong, when RUN_DIR is not a run folder or one of its files cannot be read. A
    scheduled job's run folder gets a report in each scenario folder."""
    from . import write_report

    folders = _scenario_folders(Path(run_dir))
    try:
        written = [p for f in folders for p in write_report(f)]
    except ReportInputError as exc:
        print(f"carepath: {exc}", file=sys.stderr)
        return 2
    print(_written(written))
    return 0


def _scenario_folders(folder: Path) -> list[Path]:
    """A solve's folder itself; for a scheduled job's run folder (``manifest.json``, no
    ``summary.json``), each of its scenarios' folders that a solve wrote."""
    if (folder / "summary.json").exists() or not (folder / "manifest.json").exists():
        return [folder]
    import json

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        names = [s["name"] for s in manifest.get("scenarios", [])]
    except (OSError, ValueError, TypeError, KeyError):
        return [folder]
    found = [folder / n for n in names if (folder / n / "summary.json").exists()]
    return found or [folder]


def after_solve(out_dir: str) -> None:
    """``carepath solve --report``: the report of the run just written into ``out_dir``."""
    from . import write_report

    print(_written(write_report(out_dir)))


def _written(paths: list[Path]) -> str:
    return "Report written to " + ", ".join(str(p) for p in paths)
