"""The live HiGHS model: changed numbers pushed in, re-solved from the last basis."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from ..backends import SolveOptions, Status
from ..model import LinearModel

# --------------------------------------------------------------------------- the live solver

class _LiveHighs:
    """A ``highspy.Highs`` and the model it holds; pushes differences, keeps the basis."""

    COEFF_PASS = 50_000
    """Above this many changed coefficients the whole model is passed again (with the basis)."""

    def __init__(self, model: LinearModel, options: SolveOptions):
        from ..backends import highs as hb

        self._hb = hb
        self.options = options
        self.model = model
        self.h = hb.load_model(model, options)
        self.cold_iterations: int | None = None

    def push(self, new: LinearModel, slots: np.ndarray | None) -> None:
        hb, h, old = self._hb, self.h, self.model
        if new is old:
            return
        if new.num_rows != old.num_rows or new.num_cols != old.num_cols:
            self.h = hb.load_model(new, self.options)
            self.model = new
            self._mip_start = None
            return
        i = np.flatnonzero(new.obj != old.obj).astype(np.int32)
        if len(i):
            h.changeColsCost(len(i), i, new.obj[i])
        i = np.flatnonzero((new.col_lb != old.col_lb) | (new.col_ub != old.col_ub)).astype(np.int32)
        if len(i):
            h.changeColsBounds(len(i), i, hb._inf(new.col_lb[i]), hb._inf(new.col_ub[i]))
        i = np.flatnonzero((new.row_lb != old.row_lb) | (new.row_ub != old.row_ub)).astype(np.int32)
        if len(i):
            h.changeRowsBounds(len(i), i, hb._inf(new.row_lb[i]), hb._inf(new.row_ub[i]))
        i = np.flatnonzero(new.col_integer != old.col_integer).astype(np.int32)
        if len(i):
            h.changeColsIntegrality(len(i), i, new.col_integer[i].astype(np.uint8))
        rows, cols, vals = _coefficient_changes(old.A, new.A, slots)
        if len(rows) > self.COEFF_PASS:
            basis = h.getBasis()
            h.passModel(hb.to_highs_lp(new))
            if new.has_integers:
                idx = np.flatnonzero(new.col_integer).astype(np.int32)
                h.changeColsIntegrality(len(idx), idx, np.ones(len(idx), dtype=np.uint8))
            if basis.valid:
                h.setBasis(basis)
        else:
            for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist()):
                h.changeCoeff(r, c, v)
        self.model = new

    def run(self, time_limit: float | None, *, cold: bool, warm_cap: int | None):
        """Solve; returns ``(SolverOutput, method, simplex iterations)``."""
        import highspy

        from ..backends.interrupt import run_interruptible

        hb, h = self._hb, self.h
        ms = highspy.HighsModelStatus
        start = time.perf_counter()
        mip = self.model.has_integers
        if cold:
            h.clearSolver()
        warm = (not mip) and h.getBasis().valid
        started_from = None
        if mip and self._mip_start is not None and not cold:
            sol = highspy.HighsSolution()
            sol.col_value = self._mip_start
            sol.value_valid = True
            h.setSolution(sol)
            started_from = "cold with the previous plan as a start"

        def go(cap: int | None) -> None:
            # HiGHS counts the object's whole run time against time_limit: offset it
            left = (None if time_limit is None
                    else max(0.0, time_limit - (time.perf_counter() - start)))
            h.setOptionValue("time_limit",
                             highspy.kHighsInf if left is None else h.getRunTime() + left)
            h.setOptionValue("simplex_iteration_limit", int(cap) if cap else 2_147_483_647)
            run_interruptible(h.run, h.cancelSolve)

        go(warm_cap if warm else None)
        method = "warm" if warm else (started_from or "cold")
        iterations = int(h.getInfo().simplex_iteration_count)
        if warm and warm_cap and h.getModelStatus() == ms.kIterationLimit:
            h.clearSolver()
            go(None)
            method = f"cold after {iterations} warm iterations"
            iterations += int(h.getInfo().simplex_iteration_count)
        if h.getModelStatus() == ms.kUnboundedOrInfeasible:
            # presolve could not tell which; the simplex without presolve can
            h.setOptionValue("presolve", "off")
            h.clearSolver()
            go(None)
            h.setOptionValue("presolve", "choose")
        h.setOptionValue("simplex_iteration_limit", 2_147_483_647)
        if method != "warm" and not mip:
            self.cold_iterations = int(h.getInfo().simplex_iteration_count)
        out = hb.read_output(h, self.model, start, ranging=False)
        if out.status in (Status.ERROR, Status.UNBOUNDED):
            h.clearSolver()  # do not start the next solve from here
        self._mip_start = out.values if (mip and out.values is not None) else None
        return out, method, (None if mip else iterations)

    _mip_start = None

    def ranges(self):
        return self._hb._ranges(self.h, self.model.num_rows)


def _coefficient_changes(old: sp.csr_array, new: sp.csr_array, slots: np.ndarray | None):
    """``(rows, cols, values)`` of the coefficients of ``new`` that differ from ``old``
    (a value of 0 deletes one)."""
    if new is old:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    same = (old.indptr is new.indptr or np.array_equal(old.indptr, new.indptr)) and \
        (old.indices is new.indices or np.array_equal(old.indices, new.indices))
    if same:
        pos = np.arange(len(new.data)) if slots is None else slots
        pos = pos[new.data[pos] != old.data[pos]]
        rows = np.searchsorted(new.indptr, pos, side="right") - 1
        return rows.astype(np.int64), new.indices[pos].astype(np.int64), new.data[pos]
    diff = (new - old).tocoo()
    diff.eliminate_zeros()
    r, c = diff.row.astype(np.int64), diff.col.astype(np.int64)
    # entries present in both with the same value cancel; those that changed, appeared or
    # vanished remain: their new value (0 for a vanished one)
    vals = np.asarray(new[r, c]).ravel() if len(r) else np.zeros(0)
    return r, c, vals
