"""Compile an :class:`~optimiser.instance.Instance` into one :class:`~optimiser.model.LinearModel`.

Vectorised throughout: every family builds its COO triplets with numpy and pandas joins,
never a Python loop per variable or nonzero (the only loop is over the years of the
horizon). One module per constraint family, each with its math in the docstring.

Every year t of the horizon (SPEC sections 3 and 7) has :mod:`.flow`, :mod:`.demand_floor`,
:mod:`.setting_cap`, :mod:`.capacity`, :mod:`.running`, :mod:`.quality`, block contracts
(:mod:`.cost`) and :mod:`.budget` rows on its own columns, at year-t demand, and section
11's :mod:`.design_choice`, :mod:`.design_uptake`, :mod:`.max_redesigns`, :mod:`.units` and
:mod:`.heads` (with adoption, unit and resource costs in the objective); year 0 has
section 3's pace of change (:mod:`.pace`). Years are linked by :mod:`.persistence`,
:mod:`.setup`, :mod:`.held_expansion`, :mod:`.year_pace`, :mod:`.design_kept` and the carried
budget; the objective is the discounted sum of every year's spending (:mod:`.discount`). A plan without
``horizon`` is one year, and compiles to section 3's model exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..instance import Instance
from ..model import LinearModel
from ..whole import unit_arcs
from . import (budget, capacity, cost, demand_floor, design_choice, design_kept, design_uptake,
               discount, flow, heads, held_expansion, max_redesigns, pace, persistence, quality,
               resource_cost, running, setting_cap, setup, units, year_pace)
from .columns import build_columns
from .rows import demand_terms, in_year, stack


def compile_model(inst: Instance) -> LinearModel:
    """The MILP of SPEC sections 3 and 7 for this instance (``o`` and ``k`` integer)."""
    years = inst.years
    T = years.count
    views = [inst.at_year(t) for t in range(T)]
    cols = build_columns(inst, views)
    n_cols = len(cols.lb)
    at = cols.at
    terms = [demand_terms(views[t], at[t]) for t in range(T)]
    spend = [_spend(views[t], at[t], at[t - 1] if t else None) for t in range(T)]
    obj = discount.objective(spend, years.discount(), n_cols)

    def each(make, first: int = 0, stop: int = T):
        """``make(t)`` for the years ``first .. stop-1``, as year t's rows."""
        out = []
        for t in range(first, stop):
            made = make(t)
            for b in (made if isinstance(made, list) else [made]):
                out.append(in_year(b, t, int(years.calendar(t)) if years.dated else None))
        return out

    families = [
        each(lambda t: flow.rows(views[t], at[t], terms[t])),
        each(lambda t: demand_floor.rows(views[t], at[t], terms[t])),
        each(lambda t: setting_cap.rows(views[t], at[t], terms[t])),
        each(lambda t: capacity.rows(views[t], at[t])),
        each(lambda t: running.rows(views[t], at[t])),
        each(lambda t: cost.block_contract_rows(views[t], at[t])),
        each(lambda t: quality.rows(views[t], at[t])),
        each(lambda t: budget.rows(views[t], at[t], spend[t])),
        each(lambda t: design_choice.rows(views[t], at[t])),
        each(lambda t: design_uptake.rows(views[t], at[t])),
        each(lambda t: max_redesigns.rows(views[t], at[t])),
        each(lambda t: units.rows(views[t], at[t])),
        each(lambda t: heads.rows(views[t], at[t])),
        each(lambda t: pace.rows(views[t], at[t], terms[t]), 0, 1),
        each(lambda t: year_pace.rows(inst, cols, t), 1),
        each(lambda t: persistence.rows(inst, cols, t), 1),
        each(lambda t: setup.rows(inst, cols, t), 1),
        each(lambda t: held_expansion.rows(inst, cols, t), 1),
        each(lambda t: design_kept.rows(inst, cols, t), 1),
    ]
    row, col, val, lb, ub, meta = stack(_by_kind([b for f in families for b in f]))
    implied = _implied_upper_bounds(views, cols)
    A = sp.csr_array(sp.coo_array((val, (row, col)), shape=(len(meta), n_cols)))
    A.sum_duplicates()
    # float dust such as 0.9 - 0.9 = 1e-17 in a quality row is not a coefficient
    A.data[np.abs(A.data) < 1e-12] = 0.0
    A.eliminate_zeros()
    return LinearModel(
        obj=obj, obj_offset=0.0, col_lb=cols.lb, col_ub=cols.ub, col_integer=cols.integer,
        col_meta=cols.meta, A=A, row_lb=lb, row_ub=ub, row_meta=meta, blocks=cols.blocks,
        implied_ub=implied,
    )


def _whole_bounds(inst: Instance, at, ub: np.ndarray) -> None:
    """Upper bounds of one year's ``n`` and ``h`` (see :func:`_implied_upper_bounds`)."""
    if not len(inst.units) and not len(inst.heads):
        return
    most = np.zeros(len(ub))
    dmax = inst.demand["dmax"].to_numpy(float)[inst.arcs["dem"].to_numpy(np.int64)]
    most[at.x] = dmax + 1.0
    arc, unit = unit_arcs(inst)
    n_most = np.ceil(np.bincount(unit, weights=most[at.x[arc]], minlength=len(inst.units))
                     / np.maximum(inst.units["size"].to_numpy(float), 1e-12))
    ub[at.n_of_unit] = n_most
    most[at.n_of_unit] = n_most
    _, col, amount, head = heads.use_terms(inst, at)
    mine = head >= 0
    need = np.bincount(head[mine], weights=amount[mine] * most[col[mine]], minlength=len(inst.heads))
    ub[at.h_of_head] = np.ceil(need * (1.0 + 1e-12))


def _by_kind(blocks: list) -> list:
    """Blocks in their family order, the years of a kind together (running and the block
    contract each give two kinds per year)."""
    order = {}
    for b in blocks:
        kind = b.meta["kind"].iloc[0] if len(b.meta) else None
        order.setdefault(kind, []).append(b)
    return [b for group in order.values() for b in group]


def _spend(inst: Instance, cols, before) -> tuple[np.ndarray, np.ndarray]:
    """Year t's spending terms: section 3's Total, the year's setup, and section 11's
    adoptions, whole units and resource costs (``before``: year t-1's columns, None in
    year 0)."""
    parts = [cost.spend(inst, cols), setup.spend(inst, cols),
             design_kept.spend(inst, cols, before), units.spend(inst, cols),
             resource_cost.spend(inst, cols)]
    return (np.concatenate([c for c, _ in parts]).astype(np.int64),
            np.concatenate([v for _, v in parts]).astype(float))


def _implied_upper_bounds(views: list[Instance], cols) -> np.ndarray:
    """y <= N*max (a design's uptake has no column bound); x <= dmax of its step in its
    year; pay <= max(block, sum price * (dmax + 1)) over the
    provider's arcs (the extra activity covers whole-activity rounding in cp mode); c <= the
    sum of all budgets (nothing more can be carried); n <= the units all its arcs' largest
    demand (plus one activity each) needs; h <= the heads that use needs."""
    ub = cols.ub.copy()
    for inst, at in zip(views, cols.at):
        opt = at.y_of_dem >= 0
        ub[at.y_of_dem[opt]] = inst.demand["ymax"].to_numpy(float)[opt]
        _whole_bounds(inst, at, ub)
        dmax = inst.demand["dmax"].to_numpy(float)[inst.arcs["dem"].to_numpy(np.int64)]
        ub[at.x] = dmax
        p_idx = pd.Index(inst.providers["provider"]).get_indexer(inst.arcs["provider"])
        most = np.bincount(p_idx, weights=inst.arcs["unit_cost"].to_numpy(float) * (dmax + 1.0),
                           minlength=len(inst.providers))
        has = at.pay_of_prov >= 0
        ub[at.pay_of_prov[has]] = np.maximum(most[has],
                                             inst.providers["block_contract"].to_numpy(float)[has])
    budgets = views[0].years.budgets
    start, stop = cols.blocks.get("c", (0, 0))
    if stop > start:
        ub[start:stop] = float(sum(budgets)) / budget.CARRY_UNIT
    return ub
