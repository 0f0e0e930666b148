"""Solving a chunk of sweep scenarios, the same way in a local process or on a Dask worker.

Where only numbers change (a budget, capacities, prices or costs, populations, prevalences,
the Monte Carlo prevalence factors) a scenario is a warm re-solve of one compiled model
(:mod:`optimiser.warm`): the base is loaded and compiled once per worker process. A varied
path that changes the model's shape or another kind of number (``constraints.max_shift``,
a quality floor, ...) is applied as ``--set`` to a fresh load of the base; scenarios sharing
those values share one warm session. ``cp`` mode and multi-year plans, which warm
re-solves do not cover, load and solve each scenario cold (factors applied to the tables).

Determinism: chunks are fixed by the sweep (never by the number of workers), and the first
solve of each session in a chunk is cold (in ``milp`` every solve is: a previous plan as a
start did not pay), so a scenario's answer depends only on its chunk, whichever process,
machine or retry solves it. Sessions are kept per process
(:data:`_SESSIONS`, a few at most): this is worker state, not library state.
"""

from __future__ import annotations

import re
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from ..backends import SolveOptions, Status, get_backend
from ..compile import compile_model
from ..errors import CarepathError, ConfigError
from ..load import Scenario, load
from ..model import LinearModel
from ..results import costs
from ..results.tables import DEFINITIONS, carried_slack
from ..warm import Changes, warm_start
from .plan import Point
from .spec import setting

_ID = r"[a-z][a-z0-9_]*"
WARM_PATHS = (
    (re.compile(r"constraints\.budget"), "budget"),
    (re.compile(rf"resources\.({_ID})\.capacity"), "capacity"),
    (re.compile(rf"providers\.({_ID})\.(?:prices|costs)\.({_ID}\.{_ID})"), "prices"),
    (re.compile(rf"localities\.({_ID})\.population"), "population"),
    (re.compile(rf"localities\.({_ID})\.prevalence_per_1000\.({_ID})"), "prevalence"),
)
"""Dotted paths a warm re-solve can change, and the :class:`Changes` field each sets."""
MAX_SESSIONS = 4
SOLVED = ("optimal", "feasible", "infeasible", "unbounded", "time_limit")
"""Statuses that answer the question; a scenario with any other (``error``) is tried again
by a later run of the sweep."""


@dataclass(frozen=True)
class Job:
    """What every worker needs: the loaded base scenario and how to solve."""

    key: str
    """Identifies the job (sweep inputs and settings) for the per-process session cache."""
    base: Scenario
    base_path: str
    allow_paths: tuple[str, ...]
    mode: str
    backend: str
    options: SolveOptions

    @property
    def warm(self) -> bool:
        return self.mode in ("lp", "milp") and self.base.instance.years.count == 1


_SESSIONS: OrderedDict = OrderedDict()


def warm_part(path: str, value) -> tuple[str, object] | None:
    """``(Changes field, entry)`` for a path a warm re-solve can change, else None."""
    for rx, field in WARM_PATHS:
        m = rx.fullmatch(path)
        if m is None:
            continue
        if field == "budget":
            return field, None if value is None else float(value)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        key = m.group(1) if field in ("capacity", "population") else (m.group(1), m.group(2))
        return field, (key, float(value))
    return None


def split(point: Point, warm: bool) -> tuple[Changes, tuple[str, ...]]:
    """The point's warm changes and the ``--set`` overrides that need a fresh load."""
    kw: dict = {"capacity": {}, "prices": {}, "population": {}, "prevalence": {}}
    cold: list[str] = []
    for path, value in point.grid:
        part = warm_part(path, value) if warm else None
        if part is None:
            cold.append(setting(path, value))
        elif part[0] == "budget":
            kw["budget"] = part[1]
        else:
            kw[part[0]][part[1][0]] = part[1][1]
    if point.factors:
        kw["demand_scale"] = dict(point.factors)
    return Changes(**kw), tuple(cold)


def solve_chunk(job: Job, chunk: list[Point]) -> list[dict]:
    """Solve ``chunk`` in order; one record per point (a failure is a record too)."""
    fresh: set = set()
    out = []
    for p in chunk:
        t0 = time.perf_counter()
        try:
            rec = _solve(job, p, fresh)
        except (CarepathError, ValueError) as exc:
            rec = {"status": "error", "message": str(exc).splitlines()[0][:500]}
        except Exception as exc:  # a sweep records a failure and goes on
            rec = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:500],
                   "traceback": traceback.format_exc(limit=5)[-2000:]}
        rec.update(index=p.index, key=p.key, seconds=round(time.perf_counter() - t0, 4))
        out.append(rec)
    return out


def _reload(job: Job, cold: tuple[str, ...]) -> Scenario:
    """The base with ``--set`` overrides, loaded from its files on this worker; refused when
    those files differ from the ones the sweep was started with (a cluster whose workers see
    other files at the same path)."""
    if not cold:
        return job.base
    base = load(job.base_path, overrides=list(cold), allow_paths=list(job.allow_paths))
    if base.input_sha256 != job.base.input_sha256:
        raise CarepathError(f"the base scenario's files at {job.base_path} on this worker differ "
                            "from those the sweep was started with (sha256 "
                            f"{base.input_sha256[:12]} against {job.base.input_sha256[:12]})")
    return base


def _session(job: Job, cold: tuple[str, ...]):
    key = (job.key, cold)
    s = _SESSIONS.get(key)
    if s is None and key not in _SESSIONS:
        base = _reload(job, cold)
        if base.instance.years.count > 1:
            _SESSIONS[key] = None
            return key, None
        s = warm_start(base, mode=job.mode, backend=job.backend, time_limit=job.options.time_limit,
                       mip_gap=job.options.mip_gap, threads=job.options.threads)
        _SESSIONS[key] = s
        while len(_SESSIONS) > MAX_SESSIONS:
            _SESSIONS.popitem(last=False)
    _SESSIONS.move_to_end(key)
    return key, s


def _solve(job: Job, p: Point, fresh: set) -> dict:
    changes, cold = split(p, job.warm)
    if not job.warm:
        return _solve_cold(job, p, cold)
    key, session = _session(job, cold)
    if session is None:  # the overrides made a multi-year plan: no warm re-solves
        return _solve_cold(job, p, split(p, False)[1])
    # lp: the previous basis (after a cold first solve per chunk). milp: every solve cold in
    # the live session (presolved, no starting plan): the model is still not reloaded or
    # recompiled, and the previous plan as a MIP start made the example's sweep slower
    # (0.049 s against 0.034 s per sample, benchmarks/README.md)
    strategy = "cold" if (key not in fresh or job.mode == "milp") else None
    fresh.add(key)
    sol = session.solve(changes, strategy=strategy)
    rec = record(sol.instance, sol.model, sol.status, sol.objective, sol.values)
    rec["method"] = sol.method
    if sol.status is Status.INFEASIBLE and sol.instance.budget is not None:
        free = session.solve(replace(changes, budget=None))
        rec.update(_breach(free.status, free.objective))
    return rec


def _solve_cold(job: Job, p: Point, cold: tuple[str, ...]) -> dict:
    inst = scale_prevalence(_reload(job, cold).instance, dict(p.factors))
    model, status, objective, values = _run(job, inst)
    rec = record(inst, model, status, objective, values)
    rec["method"] = "cold"
    if status is Status.INFEASIBLE and inst.budget is not None:
        free = inst.with_budget(None)
        _, st, obj, _ = _run(job, free)
        rec.update(_breach(st, obj))
    return rec


def _run(job: Job, inst):
    model = compile_model(inst)
    problem = model.relaxed() if job.mode == "lp" else model
    out = get_backend(job.backend).solve(problem, job.options)
    return problem, out.status, out.objective, out.values


def _breach(status: Status, objective: float | None) -> dict:
    """An infeasible scenario breaches its budget when it has a plan without one."""
    ok = status.has_solution
    return {"budget_breached": bool(ok), "cost_without_budget": objective if ok else None}


def scale_prevalence(inst, factor: dict[str, float]):
    """The instance with each pathway's prevalence times ``factor[pathway]`` in every
    locality: every demand number (patients, demand bounds, baseline) is proportional to
    it, as are baseline volumes."""
    if not factor or all(f == 1.0 for f in factor.values()):
        return inst
    f = inst.demand["pathway"].map(factor).fillna(1.0).to_numpy(float)
    cols = ("patients", "fixed", "ymin", "ymax", "dmax", "d0", "prevalence")
    demand = inst.demand.assign(**{c: inst.demand[c].to_numpy(float) * f for c in cols})
    x0 = inst.arcs["x0"].to_numpy(float) * f[inst.arcs["dem"].to_numpy(np.int64)]
    return replace(inst, demand=demand, arcs=inst.arcs.assign(x0=x0))


def record(inst, model: LinearModel, status: Status, objective: float | None,
           values: np.ndarray | None) -> dict:
    """The sweep's row for one solved scenario: status, cost, savings against its own
    baseline (discounted over a horizon), the share made in-house and the binding limits
    (every row but flow balances and payment definitions, which always hold with equality).
    Whether there is a budget is read from ``inst.budget`` (year 0's)."""
    years = inst.years
    base = float(years.discount() @ np.array(
        [costs.baseline(inst.at_year(t))["total"] for t in range(years.count)]))
    rec: dict = {"status": status.value, "objective": None, "baseline_cost": base,
                 "savings": None, "make_share": None, "binding": "", "n_binding": 0,
                 "budget_breached": None}
    if not status.has_solution or values is None:
        return rec  # infeasible: decided by a solve without the budget; else unknown
    x = values[model.block("x")]
    made = np.tile(inst.arcs["mode"].to_numpy() == "make", years.count)
    total = float(x.sum())
    act = model.A @ values
    kinds = model.row_meta["kind"].to_numpy()
    tol = 1e-6 * np.maximum(1.0, np.maximum(np.abs(np.nan_to_num(model.row_lb, posinf=0, neginf=0)),
                                            np.abs(np.nan_to_num(model.row_ub, posinf=0, neginf=0))))
    tight = (np.abs(act - model.row_lb) <= tol) | (np.abs(act - model.row_ub) <= tol)
    carried = carried_slack(model, values, years.budgets, years.carry_over)
    if carried is not None:  # a carried budget binds when the year truly leaves nothing
        rows, slack = carried
        tight[rows] = np.abs(slack) <= tol[rows]
    binding = np.flatnonzero(tight & ~np.isin(kinds, list(DEFINITIONS)))
    names = model.row_meta["name"].to_numpy()[binding]
    if inst.budget is not None:
        rec["budget_breached"] = False
    rec.update(objective=float(objective), savings=base - float(objective),
               make_share=float(x[made].sum() / total) if total > 0 else None,
               binding=";".join(map(str, names)), n_binding=int(len(binding)))
    return rec


def check_settings(job: Job) -> None:
    """Refuse before any work what no scenario could do."""
    get_backend(job.backend)
    if job.mode not in ("lp", "milp", "cp"):
        raise ConfigError([job.base.document.issue(("solve", "mode"), f"unknown mode '{job.mode}'")])
