"""Reports for a board (SPEC section 10): ``report.html`` and ``report.xlsx`` from a run folder.

:func:`write_report` reads what a solve wrote into a folder (so it works on any earlier
run), and writes, each atomically under the folder's lock:

``report.html``
    One self-contained page (inline CSS, SVG charts and a few lines of JavaScript; nothing
    fetched from the network): the headline, a waterfall from today's cost to the plan's,
    make against buy by pathway and locality, activity moved out of hospital, capacity
    utilisation, binding limits with what relaxing them is worth, quality against floors,
    the year-by-year path (multi-year plans) and, for a run without a plan, the diagnosis.
``report.xlsx``
    The same content as sheets (:mod:`optimiser.report.xlsx`).

matplotlib and XlsxWriter are imported when a report is written, not on ``import optimiser``.
"""

from __future__ import annotations

from pathlib import Path

from .data import ReportInputError, Run, read_run

REPORT_FILES = ("report.html", "report.xlsx")


def render(run: Run) -> dict[str, bytes]:
    """Each report file's name and bytes."""
    from . import html, xlsx

    return {"report.html": html.render(run).encode("utf-8"), "report.xlsx": xlsx.render(run)}


def write_report(run_dir: str | Path) -> list[Path]:
    """Write ``report.html`` and ``report.xlsx`` into ``run_dir`` (a folder a solve wrote);
    :class:`ReportInputError` when it is not one or a file in it cannot be read."""
    from ..results.result import write_files

    folder = Path(run_dir)
    run = read_run(folder)
    return write_files(folder, render(run))


__all__ = ["REPORT_FILES", "ReportInputError", "Run", "read_run", "render", "write_report"]
