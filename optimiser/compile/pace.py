"""Transition pace: no arc loses more than ``max_shift`` of today's share in one go.

For every arc with a baseline share ``share0 > 0``, when ``max_shift`` is set::

    x[l,p,s,v] >= (1 - max_shift) * share0[l,p,s,v] * D[l,p,s]

written as ``x - f * (D - const) >= f * const`` with ``f = (1 - max_shift) * share0``.
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from .columns import YearColumns
from .columns import variant_of
from .rows import DemandTerms, RowBlock, block, demand_for_rows


def rows(inst: Instance, cols: YearColumns, terms: DemandTerms) -> RowBlock:
    arcs = inst.arcs
    if inst.max_shift is None:
        sel = np.zeros(len(arcs), dtype=bool)
    else:
        sel = arcs["share0"].to_numpy(float) > 0
    idx = np.flatnonzero(sel)
    f = (1.0 - (inst.max_shift or 0.0)) * arcs["share0"].to_numpy(float)[idx]
    r_d, c_d, v_d, const = demand_for_rows(terms, arcs["dem"].to_numpy(np.int64)[idx], f)
    row = np.concatenate([np.arange(len(idx)), r_d])
    col = np.concatenate([cols.x[idx], c_d])
    val = np.concatenate([np.ones(len(idx)), -v_d])
    meta = arcs.iloc[idx][["locality", "pathway", "step", "provider", "activity"]].assign(
        variant=variant_of(inst, arcs["dem"].to_numpy(np.int64)[idx]).to_numpy(object))
    return block("pace", meta, ["locality", "pathway", "step", "provider"], row, col, val,
                 const, np.inf)
