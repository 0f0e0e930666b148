"""Flow balance: all of a step's demand is delivered, by someone.

For every locality l, pathway p and step s::

    sum_v x[l,p,s,v] = D[l,p,s]

with ``D = y`` for an optional step and ``D = N*per_patient - sum effect[s'->s] * y[s']``
for a fixed one, written as ``sum_v x - (D - const) = const``.
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from .columns import YearColumns
from .columns import variant_of
from .rows import DemandTerms, RowBlock, block, demand_for_rows


def rows(inst: Instance, cols: YearColumns, terms: DemandTerms) -> RowBlock:
    dem = inst.demand
    n = len(dem)
    r_d, c_d, v_d, const = demand_for_rows(terms, np.arange(n), np.ones(n))
    row = np.concatenate([inst.arcs["dem"].to_numpy(np.int64), r_d])
    col = np.concatenate([cols.x, c_d])
    val = np.concatenate([np.ones(len(cols.x)), -v_d])
    meta = dem[["locality", "pathway", "step", "activity"]].assign(
        variant=variant_of(inst, np.arange(n)).to_numpy(object))
    return block("flow", meta, ["locality", "pathway", "step"], row, col, val, const, const)
