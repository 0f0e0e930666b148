"""Sweeps (SPEC section 8): one base scenario solved over a grid of varied values and Monte
Carlo samples of demand, in local processes or on a Dask cluster.

    >>> import optimiser
    >>> out = optimiser.sweep("sweeps/budget_and_demand.yaml", workers=2)   # doctest: +SKIP
    >>> out.table["objective"].describe()                                   # doctest: +SKIP

Stages, each its own module: :mod:`.spec` (the sweep file, validated like a config),
:mod:`.plan` (the scenarios, their prevalence draws and keys), :mod:`.worker` (a chunk of
scenarios solved with warm re-solves), :mod:`.run` (chunks on local processes or Dask),
:mod:`.store` (answers kept in ``sweep.db`` as they arrive; a re-run skips what is
answered), :mod:`.report` (``sweep.csv`` and ``sweep_summary.json``) and :mod:`.plots`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .plan import points
from .run import chunks, local, on_dask
from .spec import Sweep, load_sweep
from .store import Store
from .worker import Job, check_settings
from . import report

__all__ = ["SweepResult", "load_sweep", "sweep"]


@dataclass(frozen=True)
class SweepResult:
    """What :func:`sweep` returns (and writes)."""

    table: pd.DataFrame
    """``sweep.csv``'s rows: one per scenario."""
    summary: dict
    """``sweep_summary.json``."""
    solved_now: int
    """Scenarios solved by this call (the rest were answered by an earlier run)."""
    files: tuple[Path, ...] = ()


def sweep(spec: str | os.PathLike[str] | Sweep, *, out: str | os.PathLike[str] | None = None,
          workers: int | None = None, dask=None, mode: str | None = None,
          backend: str | None = None, time_limit: float | None = None,
          mip_gap: float | None = None, allow_paths: tuple = (), plots: bool = True,
          progress: Callable[[int, int, int], None] | None = None) -> SweepResult:
    """Solve every scenario of a sweep and write its outputs into ``out`` (default
    ``runs/sweep-<file name>/``).

    ``workers`` local processes (default one per CPU), or ``dask`` (a scheduler address or a
    ``distributed.Client``) to run on a cluster. Mode and backend: the arguments, else the
    sweep file's, else the base config's. Scenarios already answered in ``out`` with the same
    inputs are not solved again. Raises :class:`~optimiser.errors.ConfigError` for an invalid
    sweep; a scenario that fails is recorded with status ``error`` and never stops the sweep.
    """
    from ..api import choose_backend, solve_options

    sw = spec if isinstance(spec, Sweep) else load_sweep(spec, allow_paths=allow_paths)
    opts = sw.base.config.solve
    mode = mode or sw.config.mode or opts.mode
    name = choose_backend(mode, backend or sw.config.backend, opts.backend)
    options = solve_options(opts, time_limit, mip_gap)
    settings = {"mode": mode, "backend": name, "time_limit": options.time_limit,
                "mip_gap": options.mip_gap}
    pts = points(sw, settings)
    job = Job(key=hashlib.sha256(f"{sw.sha256} {sw.base.input_sha256} {settings}".encode()).hexdigest(),
              base=sw.base, base_path=sw.base.files[0].path,
              allow_paths=tuple(map(str, allow_paths)), mode=mode, backend=name, options=options)
    check_settings(job)
    folder = Path(out) if out is not None else Path("runs") / f"sweep-{sw.name}"
    store = Store(folder)
    try:
        answered = store.answered()
        todo = chunks(pts, answered)
        executor = on_dask(dask) if dask is not None else local(workers)
        total = len(pts)
        done = sum(p.key in answered for p in pts)
        failed = 0
        solved_now = 0
        if progress:
            progress(done, failed, total)
        for records in executor(job, todo):
            new = [r for r in records if r["key"] not in answered]
            store.add(new)
            answered |= {r["key"] for r in new if r["status"] != "error"}
            solved_now += len(new)
            failed += sum(r["status"] == "error" for r in new)
            done += sum(r["status"] != "error" for r in new)
            if progress:
                progress(done, failed, total)
        frame = report.table(sw, pts, store.records([p.key for p in pts]))
    finally:
        store.close()
    summary = report.summary(sw, frame, settings)
    files = report.write(folder, frame, summary, sw, plots=plots)
    return SweepResult(table=frame, summary=summary, solved_now=solved_now, files=tuple(files))
