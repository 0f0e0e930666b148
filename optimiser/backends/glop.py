"""OR-Tools GLOP (through pywraplp) for ``lp`` mode: a second, independent LP solver."""

from __future__ import annotations

import time

import numpy as np
from ortools.linear_solver import pywraplp

from ..errors import SolverUnavailable
from ..model import LinearModel
from .base import Backend, Capabilities, SolveOptions, SolverOutput, Status, objective_of
from .interrupt import run_interruptible

_STATUS = {
    pywraplp.Solver.OPTIMAL: Status.OPTIMAL,
    pywraplp.Solver.FEASIBLE: Status.FEASIBLE,
    pywraplp.Solver.INFEASIBLE: Status.INFEASIBLE,
    pywraplp.Solver.UNBOUNDED: Status.UNBOUNDED,
    pywraplp.Solver.ABNORMAL: Status.ERROR,
    pywraplp.Solver.MODEL_INVALID: Status.ERROR,
}


class GlopBackend(Backend):
    name = "glop"
    capabilities = Capabilities(lp=True, milp=False, duals=True, time_limit=True, mip_gap=False,
                                reports_bound=False)

    @classmethod
    def version(cls) -> str:
        from ortools import __version__

        return f"OR-Tools GLOP {__version__}"

    def solve(self, model: LinearModel, options: SolveOptions) -> SolverOutput:
        if model.has_integers:
            raise SolverUnavailable("the glop backend solves LPs only; use --mode lp")
        start = time.perf_counter()
        s = pywraplp.Solver.CreateSolver("GLOP")
        inf = s.infinity()
        clip = lambda a: np.clip(a, -inf, inf)  # noqa: E731
        lb, ub = clip(model.col_lb), clip(model.col_ub)
        xs = [s.NumVar(float(lb[j]), float(ub[j]), f"c{j}") for j in range(model.num_cols)]
        A = model.A.tocsr()
        rlb, rub = clip(model.row_lb), clip(model.row_ub)
        cons = []
        for i in range(model.num_rows):
            c = s.RowConstraint(float(rlb[i]), float(rub[i]), f"r{i}")
            for j, v in zip(A.indices[A.indptr[i]:A.indptr[i + 1]], A.data[A.indptr[i]:A.indptr[i + 1]]):
                c.SetCoefficient(xs[j], float(v))
            cons.append(c)
        objective = s.Objective()
        for j in np.flatnonzero(model.obj):
            objective.SetCoefficient(xs[j], float(model.obj[j]))
        objective.SetOffset(float(model.obj_offset))
        objective.SetMinimization()
        if options.time_limit is not None:
            s.SetTimeLimit(int(options.time_limit * 1000))
        code = run_interruptible(s.Solve, s.InterruptSolve)
        if code == pywraplp.Solver.INFEASIBLE:
            # GLOP reports a dual-infeasible (unbounded) LP as INFEASIBLE too: a feasible
            # point of the constraints alone tells the two apart
            objective.Clear()
            if s.Solve() == pywraplp.Solver.OPTIMAL:
                code = pywraplp.Solver.UNBOUNDED
        st = _STATUS.get(code, Status.ERROR)
        if code == pywraplp.Solver.NOT_SOLVED and options.time_limit is not None:
            st = Status.TIME_LIMIT
        values = duals = obj = None
        if st.has_solution:
            values = np.array([x.solution_value() for x in xs], dtype=float)
            obj = objective_of(model, values)
            duals = np.array([c.dual_value() for c in cons], dtype=float)
        return SolverOutput(st, obj, values, duals, None, 0.0 if st is Status.OPTIMAL else None,
                            time.perf_counter() - start, str(code))
