"""Running a sweep: scenarios in fixed chunks, solved in local processes or on a Dask
cluster, answers stored as they arrive.

* :func:`chunks`: the scenarios in chunks of :data:`CHUNK`, fixed by the sweep alone (so a
  scenario's answer is the same with one worker, two, or a cluster; see
  :mod:`.worker`). A chunk whose scenarios are all answered already is skipped.
* :func:`local`: one process per worker, started with ``fork`` where available (the base
  scenario is handed over once per process), or this process alone with one worker.
* :func:`on_dask`: the same chunks as tasks of a Dask ``distributed`` cluster, the job
  scattered to every worker once. A task whose worker dies is re-run elsewhere by the
  scheduler; the store keeps each scenario's first answer only.

Answers are stored (:mod:`.store`) chunk by chunk, and ``progress(done, failed, total)`` is
called after each (the command line draws a progress bar from it; the library prints
nothing).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from .plan import Point
from .worker import Job, solve_chunk

CHUNK = 20
"""Scenarios per task: large enough that a task's overhead (a cold first solve, moving the
answers) is small beside its warm solves, small enough to balance two workers on a few
hundred scenarios and to lose little when a worker dies."""

Executor = Callable[[Job, list[list[Point]]], Iterator[list[dict]]]


def chunks(points: list[Point], answered: set[str]) -> list[list[Point]]:
    """Fixed chunks of the sweep that still have an unanswered scenario."""
    out = [points[i:i + CHUNK] for i in range(0, len(points), CHUNK)]
    return [c for c in out if any(p.key not in answered for p in c)]


_JOB: Job | None = None


def _init(job: Job) -> None:
    global _JOB
    _JOB = job


def _task(chunk: list[Point]) -> list[dict]:
    return solve_chunk(_JOB, chunk)


def local(workers: int | None = None) -> Executor:
    """An executor of ``workers`` local processes (default: one per CPU)."""
    n = workers or os.cpu_count() or 1

    def run(job: Job, todo: list[list[Point]]) -> Iterator[list[dict]]:
        if n == 1 or len(todo) <= 1:
            for c in todo:
                yield solve_chunk(job, c)
            return
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        with ProcessPoolExecutor(max_workers=min(n, len(todo)), mp_context=ctx,
                                 initializer=_init, initargs=(job,)) as pool:
            pending = {pool.submit(_task, c): c for c in todo}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    chunk = pending.pop(f)
                    yield _answers(f, chunk)
    return run


def on_dask(address) -> Executor:
    """An executor on an existing Dask cluster: ``address`` is a scheduler address
    (``tcp://host:8786``) or a ``distributed.Client``."""

    def run(job: Job, todo: list[list[Point]]) -> Iterator[list[dict]]:
        from distributed import Client, as_completed

        own = not isinstance(address, Client)
        client = Client(address, timeout="30s") if own else address
        try:
            shared = client.scatter(job, broadcast=True, hash=False)
            futures = {client.submit(solve_chunk, shared, c, pure=False, retries=2,
                                     key=f"carepath-sweep-{job.key[:16]}-{c[0].index}"): c
                       for c in todo}
            for f in as_completed(futures):
                yield _answers(f, futures[f])
        finally:
            if own:
                client.close()
    return run


def _answers(future, chunk: list[Point]) -> list[dict]:
    """The chunk's records, or an ``error`` record per scenario when the task itself failed
    (a worker killed more often than the retries allow, a process pool broken)."""
    try:
        return future.result()
    except Exception as exc:
        msg = f"the task failed: {type(exc).__name__}: {exc}"[:500]
        return [{"index": p.index, "key": p.key, "status": "error", "message": msg}
                for p in chunk]
