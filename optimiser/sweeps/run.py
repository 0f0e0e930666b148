"""Running a sweep: scenarios in fixed chunks, solved in local processes or on a Dask
cluster, answers stored as they arrive.

* :func:`chunks`: the scenarios in chunks of :data:`CHUNK`, fixed by the sweep alone (so a
  scenario's answer is the same with one worker, two, or a cluster; see
  :mod:`.worker`). A chunk whose scenarios are all answered already is skipped.
* :func:`local`: one process per worker, started with ``fork`` where available (the base
  scenario is handed over once per process), or this process alone with one worker.
* :func:`on_dask`: the same chunks as tasks of a Dask ``distributed`` cluster, the job sent
  once as a task of its own that every chunk depends on. A task whose worker dies is re-run
  elsewhere by the scheduler (the job too, when no worker holds it any more); the store keeps
  each scenario's first answer only.

Answers are stored (:mod:`.store`) chunk by chunk, and ``progress(done, failed, total)`` is
called after each (the command line draws a progress bar from it; the library prints
nothing).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..errors import CarepathError
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


CONNECT_TIMEOUT = 10
"""Seconds to wait for a Dask scheduler to answer before giving up."""


def on_dask(address) -> Executor:
    """An executor on an existing Dask cluster: ``address`` is a scheduler address
    (``tcp://host:8786``) or a ``distributed.Client``. :class:`CarepathError` when no
    scheduler answers at the address within :data:`CONNECT_TIMEOUT` seconds."""

    def run(job: Job, todo: list[list[Point]]) -> Iterator[list[dict]]:
        from distributed import Client, as_completed

        if not todo:  # every scenario answered already: nothing to send anywhere
            return
        own = not isinstance(address, Client)
        client = connect(address) if own else address
        futures: dict = {}
        try:
            # The job goes to the cluster as a task (its value held in the scheduler's task
            # spec), not as scattered data: the scheduler cannot recompute scattered data,
            # so once every worker holding it had died (a one-worker cluster whose worker is
            # restarted, a node lost with both replicas) every chunk still to run failed with
            # "lost dependencies". A task is simply computed again on a live worker.
            # Keys are unique per run: a client hands back a still-held future of the same
            # key (say the failed chunk of an earlier run), which would answer this run.
            tag = f"{job.key[:12]}-{uuid.uuid4().hex[:8]}"
            shared = client.submit(_hold, job, pure=False, key=f"carepath-job-{tag}")
            futures = {client.submit(_dask_task, shared, c, pure=False, retries=2,
                                     key=f"carepath-sweep-{tag}-{c[0].index}"): c
                       for c in todo}
            # A worker dying under a chunk is not a task failure: the scheduler re-runs the
            # chunk elsewhere (up to ``distributed.scheduler.allowed-failures`` deaths, then
            # KilledWorker, which _answers records as errors for a later run to retry).
            # ``retries`` covers an exception raised by the task itself.
            # as_completed is given the client's loop: it would otherwise look for a default
            # client, and ours is not one (set_as_default=False leaves a caller's alone).
            for f in as_completed(futures, loop=client.loop):
                yield _answers(f, futures[f])
        finally:
            left = [f for f in futures if not f.done()]
            if left and not own:
                client.cancel(left)  # an abandoned sweep stops using a shared cluster
            if own:
                client.close()
    return run


def connect(address: str):
    """A ``distributed.Client`` on the scheduler at ``address``, or :class:`CarepathError`."""
    from distributed import Client

    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:  # refused, timed out, bad address
        why = (str(exc).splitlines() or [type(exc).__name__])[0]
    except Exception as exc:  # something answered, but not as a Dask scheduler does
        why = f"what answers there does not speak the Dask protocol ({type(exc).__name__})"
    raise CarepathError(f"cannot reach the Dask scheduler at {address}: {why}")


def _hold(job: Job) -> Job:
    """The job, as a task's result (see :func:`on_dask`)."""
    return job


_SOLVING = threading.Lock()


def _dask_task(job: Job, chunk: list[Point]) -> list[dict]:
    """:func:`solve_chunk` on a Dask worker, one chunk at a time per worker process. A worker
    may run several tasks at once in threads (``dask worker --nthreads N``), but the warm
    sessions of :mod:`.worker` are per process: two chunks sharing a session at once would
    interleave their solves on one solver (unsafe, and each chunk would no longer start cold,
    breaking determinism). Start workers with ``--nthreads 1`` and one process per core."""
    with _SOLVING:
        return solve_chunk(job, chunk)


def _answers(future, chunk: list[Point]) -> list[dict]:
    """The chunk's records, or an ``error`` record per scenario when the task itself failed
    (a worker killed more often than the retries allow, a process pool broken)."""
    try:
        return future.result()
    except Exception as exc:
        msg = f"the task failed: {type(exc).__name__}: {exc}"[:500]
        return [{"index": p.index, "key": p.key, "status": "error", "message": msg}
                for p in chunk]
