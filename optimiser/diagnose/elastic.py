"""The elastic model and the deletion filter: why a model has no solution.

**Soft rows** are the requirements a commissioner sets and could change: capacities,
quality floors, the budget, pace of change (today to the first year, and from year to year:
``year_pace``, from ``max_shift`` too), setting caps, minimum volumes, block contracts,
uptake bounds (moved from column bounds into ``uptake_min``/``uptake_max`` rows here so they
can be named and relaxed; a design's optional step has them as rows already, scaled by its
design's ``z``) and the cap on redesigns (``max_redesigns``, SPEC section 11). Flow balance,
the demand floor, running limits and payment definitions are **hard**: they are what the
words mean, not choices. So are the links between the years of a plan (``persistence``: a
service once running keeps running; ``setup``: a start pays its setup; ``held_expansion``:
staff hired are kept; ``design_kept``: a design adopted is kept), one design per locality
and pathway (``design``), and whole units and heads (``units``, ``heads``: they count what
the volumes need; a whole resource's ``capacity`` row, on its heads, is soft as any other).

*Elastic model.* Each soft row ``lb <= a x <= ub`` gains slack columns ``s >= 0``:
``a x + s_lo >= lb`` and ``a x - s_hi <= ub``. Minimising ``sum w * s`` with
``w = 1 / max(1, |limit|)`` finds the least *relative* relaxation that restores a plan,
under the same integrality as the failed solve (so a MILP infeasible only because services
run whole, or staff come in whole increments, is still explained).

*Deletion filter.* Starting from the soft rows that the elastic optimum relaxes or holds
tight, each row is dropped in turn (the latest year's first); if the rest stay infeasible it
goes for good. What remains is irreducible: dropping any one member restores a plan
(Chinneck's filter).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..backends.base import Backend, SolveOptions, Status
from ..errors import SolveFailed
from ..model import LinearModel, text

SOFT_KINDS = ("capacity", "quality", "budget", "pace", "year_pace", "setting_cap", "min_volume",
              "block_contract", "uptake_min", "uptake_max", "max_redesigns")
TOL = 1e-6
WEIGHT_FLOOR = 1e-4
"""Smallest weight of a slack in the elastic objective (see :func:`elastic`)."""
MAX_FILTER = 400
"""Largest candidate set the deletion filter walks (each member costs one solve)."""


def with_uptake_rows(model: LinearModel) -> LinearModel:
    """Uptake bounds ``y in [N*min, N*max]`` as named rows, the columns freed to ``[0, inf)``.

    The uptake of a design's optional step (SPEC section 11: its column has a ``variant``)
    has its range as ``uptake_min``/``uptake_max`` rows already (``N*min*z <= y <= N*max*z``);
    its column is only freed above (``[0, N*max]`` would otherwise hold a relaxed row back)."""
    start, stop = model.blocks.get("y", (0, 0))
    if stop == start:
        return model
    cols = np.arange(start, stop)
    if "variant" in model.col_meta:
        designed = pd.notna(model.col_meta["variant"].to_numpy(object)[cols])
        if designed.any():
            col_ub = model.col_ub.copy()
            col_ub[cols[designed]] = np.inf
            model = replace(model, col_ub=col_ub)
            cols = cols[~designed]
    n = len(cols)
    if n == 0:
        return model
    lo, hi = model.col_lb[cols], model.col_ub[cols]
    meta = model.col_meta.iloc[cols].reset_index(drop=True)
    # the column's own index, ``[l,p,s]`` (``[l,p,s,year]`` in a plan with a horizon)
    key = [str(n)[len("y"):] for n in meta["name"].tolist()]
    rows_min = meta.assign(name=text(["uptake_min" + k for k in key]), kind="uptake_min")
    rows_max = meta.assign(name=text(["uptake_max" + k for k in key]), kind="uptake_max")
    eye = sp.csr_array((np.ones(n), (np.arange(n), cols)), shape=(n, model.num_cols))
    col_lb, col_ub = model.col_lb.copy(), model.col_ub.copy()
    col_lb[cols], col_ub[cols] = 0.0, np.inf
    return replace(
        model,
        col_lb=col_lb,
        col_ub=col_ub,
        A=sp.csr_array(sp.vstack([model.A, eye, eye])),
        row_lb=np.concatenate([model.row_lb, lo, np.full(n, -np.inf)]),
        row_ub=np.concatenate([model.row_ub, np.full(n, np.inf), hi]),
        row_meta=pd.concat([model.row_meta, rows_min[model.row_meta.columns],
                            rows_max[model.row_meta.columns]], ignore_index=True),
    )


def soft_rows(model: LinearModel) -> np.ndarray:
    return model.row_meta["kind"].isin(SOFT_KINDS).to_numpy()


@dataclass(frozen=True)
class Elastic:
    status: Status
    """Status of the elastic solve (OPTIMAL when a relaxation was found)."""
    relax_lo: np.ndarray
    """Per row: how far its lower limit must come down (0 when it holds)."""
    relax_hi: np.ndarray
    """Per row: how far its upper limit must go up."""
    values: np.ndarray | None
    """The relaxed plan's values (original columns)."""


def elastic(model: LinearModel, backend: Backend, options: SolveOptions,
            scale: np.ndarray | None = None) -> Elastic:
    """``scale`` (per row, optional) is the size a relaxation is measured against where the
    limit itself says nothing (a quality row's limit is 0: its scale is floor x volume)."""
    soft = soft_rows(model)
    lo_rows = np.flatnonzero(soft & np.isfinite(model.row_lb))
    hi_rows = np.flatnonzero(soft & np.isfinite(model.row_ub))
    n, k_lo, k_hi = model.num_cols, len(lo_rows), len(hi_rows)
    S = sp.csr_array(sp.coo_array(
        (np.concatenate([np.ones(k_lo), -np.ones(k_hi)]),
         (np.concatenate([lo_rows, hi_rows]), np.arange(k_lo + k_hi))),
        shape=(model.num_rows, k_lo + k_hi)))
    limit = np.concatenate([model.row_lb[lo_rows], model.row_ub[hi_rows]])
    size = np.abs(limit)
    if scale is not None:  # a limit of 0 carries no size: use the row's own scale
        row_scale = np.concatenate([scale[lo_rows], scale[hi_rows]])
        kinds = model.row_meta["kind"].to_numpy()[np.concatenate([lo_rows, hi_rows])]
        special = np.isin(kinds, ["quality", "min_volume"])
        size = np.where(special | (size < 1e-9), np.maximum(size, row_scale), size)
    weights = 1.0 / np.maximum(1.0, size)
    if len(weights) and weights.min() < WEIGHT_FLOOR:
        # the same relative weights, scaled so the smallest (a budget of millions: 1e-8) stays
        # far above the solvers' dual feasibility tolerance (1e-7): below it a simplex
        # treats those costs as zero and stops at any vertex, not the least relaxation
        weights = weights * (WEIGHT_FLOOR / weights.min())
    slack_meta = pd.DataFrame({c: [None] * (k_lo + k_hi) for c in model.col_meta.columns})
    slack_meta["name"] = [f"slack{i}" for i in range(k_lo + k_hi)]
    slack_meta["kind"] = "slack"
    em = replace(
        model,
        obj=np.concatenate([np.zeros(n), weights]),
        obj_offset=0.0,
        col_lb=np.concatenate([model.col_lb, np.zeros(k_lo + k_hi)]),
        col_ub=np.concatenate([model.col_ub, np.full(k_lo + k_hi, np.inf)]),
        col_integer=np.concatenate([model.col_integer, np.zeros(k_lo + k_hi, bool)]),
        col_meta=pd.concat([model.col_meta, slack_meta], ignore_index=True),
        A=sp.csr_array(sp.hstack([model.A, S])),
        implied_ub=None,
    )
    out = backend.solve(em, options)
    relax_lo = np.zeros(model.num_rows)
    relax_hi = np.zeros(model.num_rows)
    if not out.status.has_solution:
        return Elastic(out.status, relax_lo, relax_hi, None)
    s = out.values[n:]
    relax_lo[lo_rows] = np.where(s[:k_lo] > TOL * np.maximum(1, np.abs(limit[:k_lo])), s[:k_lo], 0.0)
    relax_hi[hi_rows] = np.where(s[k_lo:] > TOL * np.maximum(1, np.abs(limit[k_lo:])), s[k_lo:], 0.0)
    return Elastic(out.status, relax_lo, relax_hi, out.values[:n])


def feasible_with(model: LinearModel, enforce: np.ndarray, backend: Backend,
                  options: SolveOptions) -> bool:
    """Whether the model has a solution with only the soft rows in ``enforce`` kept."""
    drop = soft_rows(model) & ~enforce
    m = replace(model, obj=np.zeros(model.num_cols), obj_offset=0.0,
                row_lb=np.where(drop, -np.inf, model.row_lb),
                row_ub=np.where(drop, np.inf, model.row_ub))
    out = backend.solve(m, options)
    if out.status in (Status.ERROR, Status.UNBOUNDED, Status.TIME_LIMIT):
        raise SolveFailed(f"the diagnosis could not decide feasibility: the solver said "
                          f"{out.status.value} ({out.message})")
    return out.status.has_solution


def deletion_filter(model: LinearModel, el: Elastic, backend: Backend,
                    options: SolveOptions) -> tuple[list[int], bool]:
    """An irreducible set of conflicting soft rows, and whether it was proven irreducible."""
    soft = soft_rows(model)
    candidates = soft & ((el.relax_lo > 0) | (el.relax_hi > 0))
    if el.values is not None:
        act = model.A @ el.values
        tight = (np.abs(act - model.row_lb) <= TOL * np.maximum(1, np.abs(model.row_lb))) | (
            np.abs(act - model.row_ub) <= TOL * np.maximum(1, np.abs(model.row_ub)))
        candidates |= soft & tight
    if feasible_with(model, candidates, backend, options):
        candidates = soft.copy()  # the quick set missed a member: start from every soft row
    members = list(np.flatnonzero(candidates))
    if "year" in model.row_meta:
        # later years are tried first, so that of the same conflict repeated in every year
        # of a plan the first year's is kept (a one-year plan keeps the row order)
        year = model.row_meta["year"].to_numpy()
        members.sort(key=lambda i: -int(year[i]))
    if len(members) > MAX_FILTER:
        culprits = list(np.flatnonzero((el.relax_lo > 0) | (el.relax_hi > 0)))
        return culprits, False
    keep = candidates.copy()
    for i in members:
        keep[i] = False
        if feasible_with(model, keep, backend, options):
            keep[i] = True  # needed: without it a plan exists
    found = list(np.flatnonzero(keep))
    # an empty set would mean the hard rules conflict alone: not a set of requirements
    return found, bool(found)
