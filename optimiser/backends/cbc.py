"""COIN-OR through PuLP: CBC for MILPs (``COIN_CMD``), CLP for LPs; binaries from ``cbcbox``.

CBC's own LP route (``-initialSolve``) prints wrong row duals (reduced costs of basic
columns non-zero; one-entry rows turned into bounds report dual 0) and calls an infeasible
LP "Status unknown". An LP therefore goes to CLP, the COIN-OR simplex that CBC is built on,
through the same PuLP MPS writer and solution reader, with the dual simplex.

PuLP labels a time-limited MIP "Optimal" and reads values even when CBC found none
(coin-or/pulp#711, #876), so the status here comes from PuLP's *solution* status and CBC's
own status line, never from the label alone, and the objective is recomputed from values.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from importlib import metadata

import numpy as np
import pulp

from ..errors import SolverUnavailable
from ..model import LinearModel
from .base import (Backend, Capabilities, SolveOptions, SolverOutput, Status, max_violation,
                   objective_of)

FEASIBILITY_TOL = 1e-6
from .interrupt import run_interruptible, terminate_children


def cbc_path() -> str:
    """The CBC executable: cbcbox's, else one on PATH."""
    try:
        import cbcbox

        exe = os.path.join(cbcbox.cbc_dist_dir(), "bin", "cbc.exe" if os.name == "nt" else "cbc")
        if os.access(exe, os.X_OK):
            return exe
    except (ImportError, RuntimeError):
        pass
    exe = shutil.which("cbc")
    if exe is None:
        raise SolverUnavailable("the cbc backend needs the CBC solver: pip install cbcbox")
    return exe


class _ClpCmd(pulp.COIN_CMD):
    """PuLP's COIN_CMD pointed at CLP: write MPS, run CLP, read the CBC-format solution."""

    def solve_CBC(self, lp: pulp.LpProblem, use_mps: bool = True) -> int:
        tmp_mps, tmp_sol = self.create_tmp_files(lp.name, "mps", "sol")
        vs, var_names, con_names, _ = lp.writeMPS(tmp_mps, rename=1)
        args = [self.path, tmp_mps]
        if self.timeLimit is not None:
            args += ["-sec", str(self.timeLimit)]
        args += ["-dualS", "-printingOptions", "all", "-solution", tmp_sol]
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, check=False)
        if not os.path.exists(tmp_sol):
            raise pulp.PulpSolverError(f"CLP wrote no solution ({self.path})")
        status, values, dj, pi, slacks, sol_status = self.readsol_MPS(tmp_sol, lp, vs, var_names, con_names)
        lp.assignVarsVals(values)
        lp.assignVarsDj(dj)
        lp.assignConsPi(pi)
        lp.assignConsSlack(slacks, activity=True)
        lp.assignStatus(status, sol_status)
        self.delete_tmp_files(tmp_mps, tmp_sol)
        return status


def clp_path() -> str:
    exe = os.path.join(os.path.dirname(cbc_path()), "clp.exe" if os.name == "nt" else "clp")
    if not os.access(exe, os.X_OK):
        raise SolverUnavailable("the cbc backend's LP solver CLP is missing: pip install cbcbox")
    return exe


class CbcBackend(Backend):
    name = "cbc"
    capabilities = Capabilities(lp=True, milp=True, duals=True, time_limit=True, mip_gap=True,
                                reports_bound=False)

    @classmethod
    def version(cls) -> str:
        try:
            box = metadata.version("cbcbox")
        except metadata.PackageNotFoundError:
            box = "?"
        return f"CBC/CLP (cbcbox {box}) via PuLP {pulp.__version__}"

    def solve(self, model: LinearModel, options: SolveOptions) -> SolverOutput:
        out = self._solve(model, options, preprocess=True)
        if out.status.has_solution and max_violation(model, out.values) > FEASIBILITY_TOL:
            # CBC's preprocessing can hand back a plan that breaks rows ("Postprocessed model
            # is infeasible - possible tolerance issue") and still say Optimal: try without
            out = self._solve(model, options, preprocess=False)
            if out.status.has_solution and max_violation(model, out.values) > FEASIBILITY_TOL:
                return SolverOutput(Status.ERROR, None, None, None, None, None, out.seconds,
                                    "CBC returned a plan that breaks the constraints")
        return out

    def _solve(self, model: LinearModel, options: SolveOptions, preprocess: bool) -> SolverOutput:
        start = time.perf_counter()
        # integrality matters only for columns that appear somewhere: a MIP whose integer
        # columns are all unused is an LP (and CBC's MIP route calls an infeasible LP
        # "Status unknown")
        used = (np.bincount(model.A.indices, minlength=model.num_cols) > 0) | (model.obj != 0)
        mip = bool((model.col_integer & used).any())
        prob, cons = _build(model)
        if cons is None:  # an empty row that can never hold
            return SolverOutput(Status.INFEASIBLE, None, None, None, None, None,
                                time.perf_counter() - start, "empty row out of bounds")
        if mip:
            seeds = [f"randomSeed {options.seed + 1}", f"randomCbcSeed {options.seed + 1}"]
            extra = [] if preprocess else ["preprocess off"]
            solver = pulp.COIN_CMD(path=cbc_path(), msg=False, mip=True, timeLimit=options.time_limit,
                                   gapRel=options.mip_gap, threads=options.threads,
                                   options=seeds + extra)
        else:
            solver = _ClpCmd(path=clp_path(), msg=False, mip=False, timeLimit=options.time_limit)
        try:
            run_interruptible(lambda: prob.solve(solver),
                              lambda: terminate_children(("cbc", "clp")))
        except pulp.PulpSolverError as exc:
            return SolverOutput(Status.ERROR, None, None, None, None, None,
                                time.perf_counter() - start, str(exc))
        st = _status(prob, options)
        values = duals = None
        objective = None
        if st.has_solution:
            values = np.array([v.varValue if v.varValue is not None else np.nan
                               for v in prob._carepath_vars], dtype=float)
            # PuLP leaves out a column that is in no row and costs nothing: any value
            # within its bounds will do; take the one nearest zero
            unused = np.isnan(values)
            values[unused] = np.clip(0.0, model.col_lb[unused], model.col_ub[unused])
            whole = unused & model.col_integer
            values[whole] = np.ceil(values[whole] - 1e-9)
            objective = objective_of(model, values)
            if not mip:
                duals = np.zeros(model.num_rows)
                for i, c in cons.items():
                    duals[i] += c.pi if c.pi is not None else 0.0
        return SolverOutput(st, objective, values, duals, None, 0.0 if st == Status.OPTIMAL and not mip else None,
                            time.perf_counter() - start, pulp.LpStatus[prob.status])


def _status(prob: pulp.LpProblem, options: SolveOptions) -> Status:
    sol = prob.sol_status
    if prob.status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return Status.INFEASIBLE
    if prob.status == pulp.LpStatusUnbounded or sol == pulp.LpSolutionUnbounded:
        return Status.UNBOUNDED
    if sol == pulp.LpSolutionOptimal and prob.status == pulp.LpStatusOptimal:
        return Status.OPTIMAL
    if sol == pulp.LpSolutionIntegerFeasible:
        return Status.FEASIBLE  # "Stopped on time - objective value ...": a solution, not proven
    if sol == pulp.LpSolutionNoSolutionFound and options.time_limit is not None:
        return Status.TIME_LIMIT
    return Status.ERROR


def _build(model: LinearModel) -> tuple[pulp.LpProblem, dict[int, pulp.LpConstraint] | None]:
    prob = pulp.LpProblem("carepath", pulp.LpMinimize)
    lb, ub = model.col_lb, model.col_ub
    cat = np.where(model.col_integer, pulp.LpInteger, pulp.LpContinuous)
    # PuLP >= 3.3 attaches variables to the problem (LpVariable(...) alone is deprecated)
    new_var = prob.add_variable if hasattr(prob, "add_variable") else pulp.LpVariable
    xs = np.array([
        new_var(f"c{i}", None if np.isneginf(lb[i]) else float(lb[i]),
                None if np.isposinf(ub[i]) else float(ub[i]), cat=cat[i])
        for i in range(model.num_cols)
    ], dtype=object)
    prob._carepath_vars = xs
    nz = np.flatnonzero(model.obj)
    prob.setObjective(pulp.LpAffineExpression(zip(xs[nz], model.obj[nz].tolist()),
                                              constant=float(model.obj_offset)))
    cons: dict[int, pulp.LpConstraint] = {}
    A = model.A
    ptr, idx, val = A.indptr, A.indices, A.data.tolist()
    for i in range(model.num_rows):
        lo, hi = float(model.row_lb[i]), float(model.row_ub[i])
        s, e = ptr[i], ptr[i + 1]
        if np.isneginf(lo) and np.isposinf(hi):
            continue  # a free row (e.g. a requirement switched off by the diagnosis)
        if s == e:
            if lo > 1e-9 or hi < -1e-9:
                return prob, None
            continue
        expr = pulp.LpAffineExpression(zip(xs[idx[s:e]], val[s:e]))
        if lo == hi:
            c = pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", lo)
        elif np.isinf(lo):
            c = pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}", hi)
        elif np.isinf(hi):
            c = pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}", lo)
        else:  # a ranged row: the model has none today; keep the lower side's dual
            c = pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}", lo)
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}_hi", hi))
        prob.addConstraint(c)
        cons[i] = c
    return prob, cons
