"""Demand never goes negative: avoided demand is capped by what there is.

For every fixed step s that optional steps avoid::

    D[l,p,s] = N*per_patient - sum_{s'} effect[s'->s] * y[l,p,s'] >= 0

written as ``sum effect * y <= N*per_patient`` (the row holds ``(D - const) >= -const``, whose
terms are ``-effect * y``).
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from .columns import YearColumns
from .columns import variant_of
from .rows import DemandTerms, RowBlock, block, demand_for_rows


def rows(inst: Instance, cols: YearColumns, terms: DemandTerms) -> RowBlock:
    targets = np.unique(inst.avoids["dst_dem"].to_numpy(np.int64))
    r, c, v, const = demand_for_rows(terms, targets, np.ones(len(targets)))
    meta = inst.demand.iloc[targets][["locality", "pathway", "step", "activity"]].assign(
        variant=variant_of(inst, targets).to_numpy(object))
    return block("demand_floor", meta, ["locality", "pathway", "step"], r, c, v, -const, np.inf)
