"""HiGHS through highspy: the default backend (LP and MILP, duals, MIP bound)."""

from __future__ import annotations

import time

import highspy
import numpy as np

from ..model import LinearModel
from .base import Backend, Capabilities, SolveOptions, SolverOutput, Status, objective_of
from .interrupt import run_interruptible

_MS = highspy.HighsModelStatus
_LIMITS = {_MS.kTimeLimit, _MS.kIterationLimit, _MS.kSolutionLimit, _MS.kInterrupt}


def _inf(a: np.ndarray) -> np.ndarray:
    return np.clip(a, -highspy.kHighsInf, highspy.kHighsInf)


def _ranges(h: highspy.Highs, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Interval of each row's limit over which its dual holds (HiGHS ranging)."""
    if n == 0:
        return None
    status, rg = h.getRanging()
    if status != highspy.HighsStatus.kOk or not rg.valid:
        return None
    lo = np.asarray(rg.row_bound_dn.value_, dtype=float)
    hi = np.asarray(rg.row_bound_up.value_, dtype=float)
    return (np.where(np.abs(lo) >= highspy.kHighsInf, -np.inf, lo),
            np.where(np.abs(hi) >= highspy.kHighsInf, np.inf, hi))


class HighsBackend(Backend):
    name = "highs"
    capabilities = Capabilities(lp=True, milp=True, duals=True, time_limit=True, mip_gap=True,
                                reports_bound=True)

    @classmethod
    def version(cls) -> str:
        return f"HiGHS {highspy.Highs().version()}"

    def solve(self, model: LinearModel, options: SolveOptions) -> SolverOutput:
        start = time.perf_counter()
        h = self._load(model, options)
        run_interruptible(h.run, h.cancelSolve)
        status = h.getModelStatus()
        if status == _MS.kUnboundedOrInfeasible:
            # presolve could not tell which; the simplex without presolve can
            h = self._load(model, options, presolve=False)
            run_interruptible(h.run, h.cancelSolve)
            status = h.getModelStatus()
        info = h.getInfo()
        mip = model.has_integers
        if status == _MS.kOptimal:
            st = Status.OPTIMAL
        elif status == _MS.kInfeasible:
            st = Status.INFEASIBLE
        elif status in (_MS.kUnbounded, _MS.kUnboundedOrInfeasible):
            st = Status.UNBOUNDED if status == _MS.kUnbounded else Status.INFEASIBLE
        elif status in _LIMITS:
            feasible = info.primal_solution_status == highspy.kSolutionStatusFeasible
            st = Status.FEASIBLE if feasible else Status.TIME_LIMIT
        else:
            st = Status.ERROR
        values = duals = ranges = None
        objective = bound = gap = None
        if st.has_solution:
            sol = h.getSolution()
            values = np.asarray(sol.col_value, dtype=float)
            objective = objective_of(model, values)
            if not mip and sol.dual_valid:
                duals = np.asarray(sol.row_dual, dtype=float)
                ranges = _ranges(h, model.num_rows)
            if mip:
                bound = float(info.mip_dual_bound)
                gap = float(info.mip_gap)
            else:
                gap = 0.0
        return SolverOutput(st, objective, values, duals, bound, gap,
                            time.perf_counter() - start, h.modelStatusToString(status), ranges)

    @staticmethod
    def _load(model: LinearModel, options: SolveOptions, presolve: bool = True) -> highspy.Highs:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", int(options.seed))
        if options.time_limit is not None:
            h.setOptionValue("time_limit", float(options.time_limit))
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        if options.threads:
            h.setOptionValue("threads", int(options.threads))
        if not presolve:
            h.setOptionValue("presolve", "off")
        lp = highspy.HighsLp()
        lp.num_col_ = model.num_cols
        lp.num_row_ = model.num_rows
        lp.col_cost_ = model.obj
        lp.offset_ = float(model.obj_offset)
        lp.col_lower_ = _inf(model.col_lb)
        lp.col_upper_ = _inf(model.col_ub)
        lp.row_lower_ = _inf(model.row_lb)
        lp.row_upper_ = _inf(model.row_ub)
        csc = model.A.tocsc()
        csc.sort_indices()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = model.num_cols
        lp.a_matrix_.num_row_ = model.num_rows
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        h.passModel(lp)
        if model.has_integers:
            idx = np.flatnonzero(model.col_integer).astype(np.int32)
            h.changeColsIntegrality(len(idx), idx, np.full(len(idx), 1, dtype=np.uint8))  # kInteger
        return h
