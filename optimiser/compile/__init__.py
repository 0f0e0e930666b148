"""Compile an :class:`~optimiser.instance.Instance` into one :class:`~optimiser.model.LinearModel`.

Vectorised throughout: every family builds its COO triplets with numpy and pandas joins,
never a Python loop per variable or nonzero. One module per constraint family, each with
its math in the docstring: :mod:`.flow`, :mod:`.demand_floor`, :mod:`.setting_cap`,
:mod:`.capacity`, :mod:`.running`, :mod:`.quality`, :mod:`.pace`, :mod:`.budget`, and the
objective and block contracts in :mod:`.cost`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..instance import Instance
from ..model import LinearModel
from . import budget, capacity, cost, demand_floor, flow, pace, quality, running, setting_cap
from .columns import build_columns
from .rows import demand_terms, stack


def compile_model(inst: Instance) -> LinearModel:
    """The MILP of SPEC section 3 for this instance (``o`` and ``k`` integer)."""
    cols = build_columns(inst)
    terms = demand_terms(inst, cols)
    obj = cost.objective(inst, cols, len(cols.lb))
    blocks = [
        flow.rows(inst, cols, terms),
        demand_floor.rows(inst, cols, terms),
        setting_cap.rows(inst, cols, terms),
        capacity.rows(inst, cols),
        *running.rows(inst, cols),
        *cost.block_contract_rows(inst, cols),
        quality.rows(inst, cols),
        budget.rows(inst, obj),
        pace.rows(inst, cols, terms),
    ]
    row, col, val, lb, ub, meta = stack(blocks)
    implied = _implied_upper_bounds(inst, cols)
    A = sp.csr_array(sp.coo_array((val, (row, col)), shape=(len(meta), len(cols.lb))))
    A.sum_duplicates()
    # float dust such as 0.9 - 0.9 = 1e-17 in a quality row is not a coefficient
    A.data[np.abs(A.data) < 1e-12] = 0.0
    A.eliminate_zeros()
    return LinearModel(
        obj=obj, obj_offset=0.0, col_lb=cols.lb, col_ub=cols.ub, col_integer=cols.integer,
        col_meta=cols.meta, A=A, row_lb=lb, row_ub=ub, row_meta=meta, blocks=cols.blocks,
        implied_ub=implied,
    )


def _implied_upper_bounds(inst: Instance, cols) -> np.ndarray:
    """x <= dmax of its step; pay <= max(block, sum price * (dmax + 1)) over the provider's
    arcs (the extra activity covers whole-activity rounding in cp mode)."""
    ub = cols.ub.copy()
    dmax = inst.demand["dmax"].to_numpy(float)[inst.arcs["dem"].to_numpy(np.int64)]
    ub[cols.x] = dmax
    p_idx = pd.Index(inst.providers["provider"]).get_indexer(inst.arcs["provider"])
    most = np.bincount(p_idx, weights=inst.arcs["unit_cost"].to_numpy(float) * (dmax + 1.0),
                       minlength=len(inst.providers))
    has = cols.pay_of_prov >= 0
    ub[cols.pay_of_prov[has]] = np.maximum(most[has], inst.providers["block_contract"].to_numpy(float)[has])
    return ub
