"""HiGHS through highspy: the default backend (LP and MILP, duals, MIP bound)."""

from __future__ import annotations

import time
from dataclasses import replace

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
        h = load_model(model, options)
        loaded = time.perf_counter() - start
        run_interruptible(h.run, h.cancelSolve)
        if h.getModelStatus() == _MS.kUnboundedOrInfeasible:
            # presolve could not tell which; the simplex without presolve can
            h = load_model(model, options, presolve=False)
            run_interruptible(h.run, h.cancelSolve)
        return replace(read_output(h, model, start), load_seconds=loaded)

    @staticmethod
    def _load(model: LinearModel, options: SolveOptions, presolve: bool = True) -> highspy.Highs:
        return load_model(model, options, presolve)


def status_of(h: highspy.Highs) -> Status:
    """The :class:`Status` of the last run, from the model status and the primal solution
    status (never from a label)."""
    status = h.getModelStatus()
    if status == _MS.kOptimal:
        return Status.OPTIMAL
    if status == _MS.kInfeasible:
        return Status.INFEASIBLE
    if status in (_MS.kUnbounded, _MS.kUnboundedOrInfeasible):
        return Status.UNBOUNDED if status == _MS.kUnbounded else Status.INFEASIBLE
    if status in _LIMITS:
        feasible = h.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible
        return Status.FEASIBLE if feasible else Status.TIME_LIMIT
    return Status.ERROR


def read_output(h: highspy.Highs, model: LinearModel, start: float,
                ranging: bool = True) -> SolverOutput:
    """What the last run of ``h`` on ``model`` found, as a :class:`SolverOutput` (with the
    rows' ranging of an LP unless ``ranging`` is False: it costs several solves' worth of
    linear algebra on a large model)."""
    status = h.getModelStatus()
    st = status_of(h)
    info = h.getInfo()
    mip = model.has_integers
    values = duals = ranges = None
    objective = bound = gap = None
    if st.has_solution:
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=float)
        objective = objective_of(model, values)
        if not mip and sol.dual_valid:
            duals = np.asarray(sol.row_dual, dtype=float)
            ranges = _ranges(h, model.num_rows) if ranging else None
        if mip:
            bound = float(info.mip_dual_bound)
            gap = float(info.mip_gap)
        else:
            gap = 0.0
    return SolverOutput(st, objective, values, duals, bound, gap,
                        time.perf_counter() - start, h.modelStatusToString(status), ranges)


def set_options(h: highspy.Highs, options: SolveOptions, presolve: bool = True) -> None:
    """Quiet output, the seed, limits and threads of ``options`` on ``h``."""
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("time_limit", float(options.time_limit) if options.time_limit is not None
                     else highspy.kHighsInf)
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("presolve", "choose" if presolve else "off")


def load_model(model: LinearModel, options: SolveOptions, presolve: bool = True) -> highspy.Highs:
    """A new :class:`highspy.Highs` holding ``model`` (CSC passed directly) and ``options``."""
    h = highspy.Highs()
    set_options(h, options, presolve)
    h.passModel(to_highs_lp(model))
    if model.has_integers:
        idx = np.flatnonzero(model.col_integer).astype(np.int32)
        h.changeColsIntegrality(len(idx), idx, np.full(len(idx), 1, dtype=np.uint8))  # kInteger
    return h


def to_highs_lp(model: LinearModel) -> highspy.HighsLp:
    """``model`` as a :class:`highspy.HighsLp` (continuous; integrality is set separately)."""
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
    return lp
