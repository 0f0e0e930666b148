"""OR-Tools CP-SAT for SPEC's ``cp`` mode: the same compiled model, made integral.

CP-SAT solves over integers only, so the MILP is scaled:

* volumes and uptakes are whole activities (``x``, ``y`` integer; uptake bounds
  ``N*min``, ``N*max`` taken to the nearest whole activity), ``o`` and ``k`` as before;
  block-contract payments ``pay`` and carried budget ``c`` are whole pence;
* every row is multiplied by the smallest power of ten (at most 10^6) that makes its
  coefficients whole; quality rows by 10^4 (quality in steps of 1e-4) and money rows
  (budget, payment, block contract) by 100 (pence), rounding what remains;
* the objective is in pence per unit;
* a row that compares whole volumes with a share of demand (flow balance, pace of change,
  setting caps, the demand floor) may miss by at most half an activity, e.g.
  ``const - 0.5 <= sum x - (D - const) <= const + 0.5``;
* every integer range must fit: a row whose largest possible activity exceeds 2^62 is
  refused with :class:`ScalingError`, naming the row and the numbers involved.

Columns without a finite upper bound take the model's ``implied_ub`` (x is at most its
step's largest demand). Values come back in the model's units; the objective is recomputed
from them in pounds. One worker and a fixed seed by default, so runs are reproducible.
"""

from __future__ import annotations

import math
import time

import numpy as np
from ortools.sat.python import cp_model

from ..compile.budget import CARRY_UNIT
from ..errors import CarepathError
from ..model import LinearModel
from .base import Backend, Capabilities, SolveOptions, SolverOutput, Status, objective_of
from .interrupt import run_interruptible

LIMIT = 2**62
"""Largest magnitude any scaled row or objective may reach (CP-SAT works in int64)."""
MONEY_ROWS = {"budget", "payment", "block_contract"}
QUALITY_ROWS = {"quality"}
MAX_DECIMALS = 6
HALF_ACTIVITY_ROWS = {"flow", "pace", "year_pace", "setting_cap", "demand_floor", "uptake_min",
                      "uptake_max"}
"""Rows that compare whole volumes with a share of demand: they may miss by half an activity."""


class ScalingError(CarepathError):
    """The model's numbers cannot be made whole without overflowing 64-bit integers."""


def _row_scale(coefs: np.ndarray, kind: str) -> float:
    if kind in QUALITY_ROWS:
        return 1e4
    if kind in MONEY_ROWS:
        return 100.0
    for d in range(MAX_DECIMALS + 1):
        m = 10.0**d
        scaled = coefs * m
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return m
    return 10.0**MAX_DECIMALS


def integral_model(model: LinearModel):
    """The scaled integer data: (col_scale, lb, ub, rows as (cols, coefs, lo, hi, name), obj)."""
    kinds = model.col_meta["kind"].to_numpy()
    # pence: a payment is in pounds, a carry in thousands of pounds
    col_scale = np.where(kinds == "pay", 100.0, np.where(kinds == "c", 100.0 * CARRY_UNIT, 1.0))
    ub_src = np.where(np.isfinite(model.col_ub), model.col_ub,
                      model.implied_ub if model.implied_ub is not None else model.col_ub)
    if not np.all(np.isfinite(ub_src)):
        bad = model.col_meta["name"].to_numpy()[~np.isfinite(ub_src)][0]
        raise ScalingError(f"cp mode needs a finite upper bound for every variable; {bad} has none")
    # integer columns keep their (whole) bounds; a continuous one made whole (an uptake in
    # [N*min, N*max]) takes its bounds to the nearest whole activity; an implied bound
    # (x <= demand) gets the half activity that whole-activity rows may use
    ints = model.col_integer
    lb = np.where(ints, np.ceil(model.col_lb * col_scale - 1e-9),
                  np.floor(model.col_lb * col_scale + 0.5))
    ub = np.where(~np.isfinite(model.col_ub), np.ceil((ub_src + 0.5) * col_scale),
                  np.where(ints, np.floor(ub_src * col_scale + 1e-9), np.floor(ub_src * col_scale + 0.5)))
    empty = lb > ub
    lb[empty] = ub[empty] = np.floor(model.col_lb[empty] * col_scale[empty] + 0.5)
    big = np.maximum(np.abs(lb), np.abs(ub))

    A = model.A.tocsr()
    A.sort_indices()
    kinds_r = model.row_meta["kind"].to_numpy()
    names = model.row_meta["name"].to_numpy()
    rows = []
    for i in range(model.num_rows):
        s, e = A.indptr[i], A.indptr[i + 1]
        cols = A.indices[s:e]
        coefs = A.data[s:e] / col_scale[cols]
        m = _row_scale(coefs, kinds_r[i])
        icoef = np.round(coefs * m).astype(np.int64)
        lo, hi = model.row_lb[i] * m, model.row_ub[i] * m
        if kinds_r[i] in HALF_ACTIVITY_ROWS or model.row_lb[i] == model.row_ub[i]:
            # volumes are whole: a row comparing them with a (fractional) share of demand
            # may miss by half an activity
            lo, hi = lo - 0.5 * m, hi + 0.5 * m
        lo_i = -LIMIT if not np.isfinite(lo) else math.ceil(lo - 1e-9 * max(1.0, abs(lo)))
        hi_i = LIMIT if not np.isfinite(hi) else math.floor(hi + 1e-9 * max(1.0, abs(hi)))
        reach = float(np.abs(icoef).astype(float) @ big[cols]) if len(cols) else 0.0
        if reach >= LIMIT or max(abs(lo_i), abs(hi_i)) > LIMIT:
            raise ScalingError(
                f"row {names[i]} cannot be scaled to whole numbers safely: its coefficients "
                f"times 10^{int(round(math.log10(m)))} and its variables' ranges reach "
                f"{reach:.3g}, beyond 2^62; reduce the spread of prices, volumes or capacities")
        rows.append((cols, icoef, lo_i, hi_i))
    obj = np.round(model.obj / col_scale * 100.0).astype(np.int64)
    reach = float(np.abs(obj).astype(float) @ big)
    if reach >= LIMIT:
        raise ScalingError(f"the total cost in pence can reach {reach:.3g}, beyond 2^62")
    return col_scale, lb.astype(np.int64), ub.astype(np.int64), rows, obj


_STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
    cp_model.MODEL_INVALID: Status.ERROR,
}


class CpSatBackend(Backend):
    name = "cpsat"
    capabilities = Capabilities(lp=False, milp=False, duals=False, time_limit=True, mip_gap=True,
                                reports_bound=True, cp=True)

    @classmethod
    def version(cls) -> str:
        from ortools import __version__

        return f"OR-Tools CP-SAT {__version__}"

    def solve(self, model: LinearModel, options: SolveOptions) -> SolverOutput:
        start = time.perf_counter()
        col_scale, lb, ub, rows, obj = integral_model(model)
        m = cp_model.CpModel()
        xs = [m.NewIntVar(int(lb[j]), int(ub[j]), f"c{j}") for j in range(model.num_cols)]
        for cols, coefs, lo, hi in rows:
            if len(cols) == 0:
                if lo > 0 or hi < 0:
                    return SolverOutput(Status.INFEASIBLE, None, None, None, None, None,
                                        time.perf_counter() - start, "empty row out of bounds")
                continue
            expr = cp_model.LinearExpr.WeightedSum([xs[j] for j in cols], coefs.tolist())
            m.AddLinearConstraint(expr, int(lo), int(hi))
        nz = np.flatnonzero(obj)
        m.Minimize(cp_model.LinearExpr.WeightedSum([xs[j] for j in nz], obj[nz].tolist()))
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.num_workers = int(options.threads or 1)
        p.random_seed = int(options.seed)
        p.relative_gap_limit = float(options.mip_gap)
        if options.time_limit is not None:
            p.max_time_in_seconds = float(options.time_limit)
        p.catch_sigint_signal = False  # Ctrl-C is ours: stop the search, then interrupt
        code = run_interruptible(lambda: solver.Solve(m), solver.StopSearch)
        st = _STATUS.get(code)
        if st is None:  # UNKNOWN: stopped before any solution
            st = Status.TIME_LIMIT if options.time_limit is not None else Status.ERROR
        values = objective = bound = gap = None
        if st.has_solution:
            values = np.array([solver.Value(x) for x in xs], dtype=float) / col_scale
            objective = objective_of(model, values)
            bound = solver.BestObjectiveBound() / 100.0
            best = solver.ObjectiveValue() / 100.0
            gap = abs(best - bound) / max(1.0, abs(best))
        return SolverOutput(st, objective, values, None, bound, gap, time.perf_counter() - start,
                            solver.StatusName(code))
