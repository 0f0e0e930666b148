"""Decomposition: solve the independent blocks of a model separately, in parallel, and merge.

When no row links two groups of columns (localities that share no provider, resource,
budget or block contract), the model is block-diagonal up to a permutation and the
objective is separable, so the optimum of the whole is the sum of the blocks' optima, and a
plan is feasible exactly when each block's part is. Simplex and branch-and-bound cost grows
faster than linearly with size, so many small solves beat one large one even on one core;
on several cores the blocks run in parallel processes.

The stages, each a pure function:

* :func:`components`: connected components of the bipartite rows-and-columns graph of ``A``
  (``scipy.sparse.csgraph``); a column in no row, or a row with no entries, is a trivial
  component of its own.
* :func:`plan_chunks`: components grouped into sub-models of about :data:`CHUNK_WEIGHT`
  (nonzeros + rows + columns; measured, see ``benchmarks/decompose.py``), all vectorised:
  rows and columns are stably sorted by chunk once, so each sub-model's rows and columns
  keep their original order (and the column ranges of ``blocks`` stay contiguous).
* :func:`submodel`: chunk ``c`` as a :class:`LinearModel` (matrix, bounds, metadata,
  ``blocks`` and ``implied_ub`` sliced; no objective offset).
* :func:`solve_decomposed`: chunks solved by the named backend, largest first, in a pool of
  processes started with ``fork`` (the model is inherited, not pickled; values, duals and
  ranges are written into shared memory, only scalars come back), or one after another in
  this process where ``fork`` is unavailable or one process is all there is. The chunks
  share the wall-clock time limit: each is given what remains of it.
* :func:`merge`: one :class:`SolverOutput`: the worst status (infeasible if any block is),
  values, duals and ranges put back in place, the objective recomputed on the whole model,
  the MIP bound the sum of the blocks' bounds, the gap recomputed, the wall time.

Every backend of the registry can be used (each receives an ordinary, smaller
``LinearModel``): HiGHS and CBC/CLP for ``lp`` and ``milp``, GLOP for ``lp``, CP-SAT for
``cp``. The diagnosis of an infeasible model always works on the whole model.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing as mp
import os
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .backends.base import SolveOptions, SolverOutput, Status, objective_of
from .model import LinearModel

SETTINGS = ("auto", "off", "on")
"""Values of ``solve.decompose``."""

AUTO_MIN_COLUMNS = 20_000
"""``auto`` decomposes a model with at least this many columns (and two or more non-trivial
blocks). Below it a monolithic solve takes well under a second and starting processes would
eat most of the gain (measured: ``benchmarks/decompose.py``)."""

CHUNK_WEIGHT = 25_000
"""Target size of one sub-model, in nonzeros + rows + columns. HiGHS's dual simplex on the
synthetic national scenario was fastest at about this size (about 100 localities, 7,000
columns): smaller sub-models pay a fixed cost per solve, larger ones the superlinear
growth of the simplex."""

_WORST_FIRST = (Status.INFEASIBLE, Status.ERROR, Status.TIME_LIMIT, Status.UNBOUNDED,
                Status.FEASIBLE, Status.OPTIMAL)
"""Merged status: the first of these that any block has. Infeasible anywhere means
infeasible overall; a block without an answer (error, time limit) leaves the whole
undecided; unbounded needs every other block feasible."""


@dataclass(frozen=True)
class Components:
    """A partition of a model's rows and columns into independent blocks."""

    count: int
    col_label: np.ndarray
    """Block of each column."""
    row_label: np.ndarray
    """Block of each row."""

    @property
    def nontrivial(self) -> int:
        """Blocks with at least one row and one column."""
        has_col = np.bincount(self.col_label, minlength=self.count) > 0
        has_row = np.bincount(self.row_label, minlength=self.count) > 0
        return int((has_col & has_row).sum())


def components(model: LinearModel) -> Components:
    """Connected components of the graph whose nodes are the rows and the columns, with an
    edge for every stored entry of ``A``. Blocks are numbered in order of their first row
    (blocks with no row, i.e. columns in no row, come after those)."""
    A = sp.csr_array(model.A)
    m, n = A.shape
    # rows are nodes 0..m-1 and columns m..m+n-1; only rows have out-edges (undirected below)
    indptr = np.concatenate([A.indptr, np.full(n, A.indptr[-1], dtype=A.indptr.dtype)])
    graph = sp.csr_array((np.ones(len(A.indices)), A.indices + m, indptr), shape=(m + n, m + n))
    count, label = connected_components(graph, directed=False)
    return Components(int(count), label[m:].astype(np.int64), label[:m].astype(np.int64))


@dataclass(frozen=True)
class Plan:
    """Components grouped into chunks (sub-models); chunk ``c`` has the columns
    ``col_order[col_ptr[c]:col_ptr[c + 1]]`` (ascending) and likewise its rows."""

    count: int
    col_order: np.ndarray
    col_ptr: np.ndarray
    row_order: np.ndarray
    row_ptr: np.ndarray
    col_pos: np.ndarray
    """Position of each column inside its chunk."""
    weight: np.ndarray
    """Nonzeros + rows + columns of each chunk."""
    blocks: int
    """Components in the model."""


def plan_chunks(model: LinearModel, comps: Components, *, target: int = CHUNK_WEIGHT,
                min_chunks: int = 1) -> Plan:
    """Group the components into chunks of about ``target`` weight (nonzeros + rows +
    columns), or into at least ``min_chunks`` chunks when the model is smaller than that
    (while there are enough components); a component larger than ``target`` is one chunk."""
    A = sp.csr_array(model.A)
    k = comps.count
    nnz_row = np.diff(A.indptr)
    weight = (np.bincount(comps.col_label, minlength=k)
              + np.bincount(comps.row_label, weights=nnz_row + 1, minlength=k).astype(np.int64))
    total = int(weight.sum())
    target = max(1, min(int(target), math.ceil(total / max(1, min_chunks))))
    end = np.cumsum(weight)
    bin_ = (end - weight) // target  # the bin in which each component starts
    has_cols = np.bincount(comps.col_label, minlength=k) > 0
    if has_cols.any():
        # a row with no entries goes with some columns: a solver may refuse a model
        # without any (HiGHS: "Empty")
        bin_ = np.where(has_cols, bin_, bin_[comps.col_label[0]])
    _, chunk_of = np.unique(bin_, return_inverse=True)
    chunk_of = chunk_of.astype(np.int64)
    count = int(chunk_of.max()) + 1 if k else 0
    col_chunk = chunk_of[comps.col_label]
    row_chunk = chunk_of[comps.row_label]
    col_order = np.argsort(col_chunk, kind="stable")
    row_order = np.argsort(row_chunk, kind="stable")
    col_ptr = np.concatenate([[0], np.cumsum(np.bincount(col_chunk, minlength=count))])
    row_ptr = np.concatenate([[0], np.cumsum(np.bincount(row_chunk, minlength=count))])
    col_pos = np.empty(len(col_order), dtype=np.int64)
    col_pos[col_order] = np.arange(len(col_order)) - np.repeat(col_ptr[:-1], np.diff(col_ptr))
    return Plan(count, col_order, col_ptr, row_order, row_ptr, col_pos,
                np.bincount(chunk_of, weights=weight, minlength=count).astype(np.int64), k)


def submodel(model: LinearModel, plan: Plan, chunk: int) -> LinearModel:
    """Chunk ``chunk`` of ``plan`` as a model of its own (no objective offset)."""
    cols = plan.col_order[plan.col_ptr[chunk]:plan.col_ptr[chunk + 1]]
    rows = plan.row_order[plan.row_ptr[chunk]:plan.row_ptr[chunk + 1]]
    A = sp.csr_array(model.A)[rows]  # rows of a chunk hold only the chunk's columns
    A = sp.csr_array((A.data, plan.col_pos[A.indices], A.indptr), shape=(len(rows), len(cols)))
    blocks = {kind: (int(np.searchsorted(cols, s)), int(np.searchsorted(cols, e)))
              for kind, (s, e) in model.blocks.items()}
    return LinearModel(
        obj=model.obj[cols], obj_offset=0.0, col_lb=model.col_lb[cols], col_ub=model.col_ub[cols],
        col_integer=model.col_integer[cols], col_meta=model.col_meta.iloc[cols].reset_index(drop=True),
        A=A, row_lb=model.row_lb[rows], row_ub=model.row_ub[rows],
        row_meta=model.row_meta.iloc[rows].reset_index(drop=True), blocks=blocks,
        implied_ub=None if model.implied_ub is None else model.implied_ub[cols],
    )


def use_decomposition(model: LinearModel, setting: str = "auto") -> Components | None:
    """The components to solve separately, or None for a monolithic solve: ``off`` never;
    ``on`` whenever the model has two or more blocks (trivial ones included); ``auto`` when
    it has at least :data:`AUTO_MIN_COLUMNS` columns and two or more non-trivial blocks."""
    if setting not in SETTINGS:
        raise ValueError(f"decompose must be one of {', '.join(SETTINGS)}, not {setting!r}")
    if (setting == "off" or model.num_cols == 0
            or (setting == "auto" and model.num_cols < AUTO_MIN_COLUMNS)):
        return None
    comps = components(model)
    if comps.count < 2 or (setting == "auto" and comps.nontrivial < 2):
        return None
    return comps


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# -- solving ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    model: LinearModel
    plan: Plan
    backend: str
    options: SolveOptions
    deadline: float | None
    """``time.monotonic()`` by which every chunk must be done (system-wide on Linux)."""
    values: np.ndarray
    duals: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    stop: np.ndarray
    """Non-zero once no further chunk should start (one is infeasible)."""


@dataclass(frozen=True)
class _Done:
    """What one chunk's solve returns to the parent: scalars only (arrays are in place)."""

    chunk: int
    status: Status | None
    """None: not started, since another block is infeasible."""
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    message: str
    has_values: bool
    has_duals: bool
    has_ranges: bool


def _solve_chunk(job: _Job, chunk: int) -> _Done:
    from .backends import get_backend

    if job.stop[0]:
        return _Done(chunk, None, None, None, None, 0.0, "not started", False, False, False)
    options = job.options
    if job.deadline is not None:
        left = job.deadline - time.monotonic()
        if left <= 0:
            return _Done(chunk, Status.TIME_LIMIT, None, None, None, 0.0, "time limit reached "
                         "before this block started", False, False, False)
        options = replace(options, time_limit=left)
    sub = submodel(job.model, job.plan, chunk)
    out = get_backend(job.backend).solve(sub, options)
    cols = job.plan.col_order[job.plan.col_ptr[chunk]:job.plan.col_ptr[chunk + 1]]
    rows = job.plan.row_order[job.plan.row_ptr[chunk]:job.plan.row_ptr[chunk + 1]]
    has_values = out.values is not None
    if has_values:
        job.values[cols] = out.values
    has_duals = out.row_duals is not None
    if has_duals:
        job.duals[rows] = out.row_duals
    has_ranges = out.row_ranges is not None
    if has_ranges:
        job.lo[rows], job.hi[rows] = out.row_ranges
    return _Done(chunk, out.status, out.objective, out.bound, out.gap, out.seconds, out.message,
                 has_values, has_duals or len(rows) == 0, has_ranges or len(rows) == 0)


_WORKER_JOB: _Job | None = None
"""The job, in a worker process (set by the pool's initializer, inherited through fork)."""


_BUSY = False
"""In a worker: solving a chunk (Ctrl-C then stops the solver; between chunks it is ignored)."""


def _on_sigint(signum, frame) -> None:
    if _BUSY:
        raise KeyboardInterrupt


def _init_worker(job: _Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    # Ctrl-C reaches the whole process group. A handler (unlike SIG_IGN) is not inherited
    # by a solver's own process (CBC, CLP), which therefore stops too.
    signal.signal(signal.SIGINT, _on_sigint)


def _work(chunk: int) -> _Done | None:
    global _BUSY
    _BUSY = True
    try:
        return _solve_chunk(_WORKER_JOB, chunk)
    except KeyboardInterrupt:  # the solver was stopped; the parent ends the pool
        return None
    finally:
        _BUSY = False


def _shared(n: int) -> np.ndarray:
    """A float array in anonymous shared memory: a forked child's writes are seen here."""
    if n == 0:
        return np.zeros(0)
    return np.frombuffer(mmap.mmap(-1, 8 * n), dtype=float)


def solve_decomposed(model: LinearModel, backend: str, options: SolveOptions, *,
                     comps: Components | None = None, workers: int | None = None,
                     target: int = CHUNK_WEIGHT) -> SolverOutput:
    """Solve ``model`` block by block with the named backend and merge the answers.

    ``workers`` processes (default: the CPUs this process may use, at most one per chunk);
    one means in this process. Each process solves with ``threads`` divided among them.
    """
    start = time.perf_counter()
    deadline = None if options.time_limit is None else time.monotonic() + options.time_limit
    comps = comps if comps is not None else components(model)
    workers = max(1, workers or cpu_count())
    plan = plan_chunks(model, comps, target=target, min_chunks=4 * workers)
    workers = max(1, min(workers, plan.count))
    if "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        workers = 1  # no fork (not Linux), or inside a pool's worker: one after another
    if options.threads and workers > 1:
        options = replace(options, threads=max(1, options.threads // workers))
    elif workers > 1:
        options = replace(options, threads=1)  # one process per core
    make = _shared if workers > 1 else np.zeros
    job = _Job(model, plan, backend, options, deadline, make(model.num_cols),
               make(model.num_rows), make(model.num_rows), make(model.num_rows), make(1))
    order = np.argsort(-plan.weight, kind="stable")  # largest first: the pool balances the tail
    done: list[_Done] = []
    if workers == 1:
        for c in order:
            done.append(_solve_chunk(job, int(c)))
            if done[-1].status is Status.INFEASIBLE:
                break
    else:
        try:
            done = _in_processes(job, order, workers)
        except BrokenProcessPool as exc:  # a solver crashed and took its process with it
            return SolverOutput(Status.ERROR, None, None, None, None, None,
                                time.perf_counter() - start, f"a solver process died: {exc}")
    out = merge(model, plan, done, job.values, job.duals, (job.lo, job.hi),
                time.perf_counter() - start)
    return replace(out, message=f"{out.message} (decomposed: {comps.count} blocks in "
                                f"{plan.count} sub-models, {workers} process{'es' * (workers > 1)})")


def _in_processes(job: _Job, order: np.ndarray, workers: int) -> list[_Done]:
    """Chunks solved in ``workers`` forked processes, largest first; stops starting new
    ones once a chunk is infeasible."""
    done: list[_Done] = []
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"),
                               initializer=_init_worker, initargs=(job,))
    futures = [pool.submit(_work, int(c)) for c in order]
    pending = set(futures)
    try:
        while pending:
            # short waits, so that Ctrl-C is seen at once
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for fut in finished:
                d = fut.result()  # the chunk's exception, or BrokenProcessPool
                if d is None:  # the worker's solver was stopped by Ctrl-C
                    raise KeyboardInterrupt
                if d.status is not None:
                    done.append(d)
            if any(d.status is Status.INFEASIBLE for d in done):
                break  # the whole is infeasible: no further chunk is started
    finally:
        # chunks in progress finish (a CBC process is never orphaned; after Ctrl-C they
        # stop at once, their solvers having seen it too: same process group)
        job.stop[0] = 1.0
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True)
    return done


def merge(model: LinearModel, plan: Plan, done: list[_Done], values: np.ndarray,
          duals: np.ndarray, ranges: tuple[np.ndarray, np.ndarray], seconds: float) -> SolverOutput:
    """One answer for the whole model from its chunks' answers (``done``, any order; a
    chunk missing from it was not solved, which only happens once one is infeasible)."""
    statuses = {d.status for d in done}
    if len(done) < plan.count and Status.INFEASIBLE not in statuses:
        statuses.add(Status.ERROR)
    status = next(s for s in _WORST_FIRST if s in statuses) if statuses else Status.OPTIMAL
    worst = next((d for d in done if d.status is status), None)
    message = worst.message if worst is not None else ""
    if not status.has_solution:
        return SolverOutput(status, None, None, None, None, None, seconds, message)
    values = np.array(values, dtype=float)  # out of shared memory
    objective = objective_of(model, values)
    row_duals = row_ranges = None
    if not model.has_integers and all(d.has_duals for d in done):
        row_duals = np.array(duals, dtype=float)
        if all(d.has_ranges for d in done):
            row_ranges = (np.array(ranges[0], dtype=float), np.array(ranges[1], dtype=float))
    bound = gap = None
    parts = []
    for d in done:
        ints = model.col_integer[plan.col_order[plan.col_ptr[d.chunk]:plan.col_ptr[d.chunk + 1]]]
        if d.bound is not None:
            parts.append(d.bound)
        elif not ints.any() and d.status is Status.OPTIMAL:
            parts.append(d.objective)  # an LP block: its optimum is its bound
        else:
            parts = None
            break
    if parts is not None and any(d.bound is not None for d in done):
        bound = float(sum(parts)) + model.obj_offset
        gap = abs(objective - bound) / max(1.0, abs(objective))
    elif all(d.gap is not None for d in done):
        gap = max((d.gap for d in done), default=0.0)
    return SolverOutput(status, objective, values, row_duals, bound, gap, seconds, message,
                        row_ranges)


__all__ = ["AUTO_MIN_COLUMNS", "CHUNK_WEIGHT", "SETTINGS", "Components", "Plan", "components",
           "merge", "plan_chunks", "solve_decomposed", "submodel", "use_decomposition"]
