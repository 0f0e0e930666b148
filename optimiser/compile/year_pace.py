"""Pace of change from year to year: no arc loses more than ``max_shift`` of last year's
volume, grown with demand.

For every arc (l,p,s,v) and every year t >= 1, when ``max_shift`` is set (SPEC section 7)::

    x[l,p,s,v,t] >= (1 - max_shift) * g[l,p] * x[l,p,s,v,t-1]     (year_pace)

written as ``x[t] - (1 - max_shift) * g * x[t-1] >= 0``, with
``g[l,p] = (1 + population_growth[l]) * (1 + growth[p])``. Year 0 keeps section 3's pace
against today's shares (:mod:`.pace`).
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from .columns import Columns
from .rows import RowBlock, block


def rows(inst: Instance, cols: Columns, t: int) -> RowBlock:
    """Year t's rows (t >= 1); none without ``max_shift``."""
    arcs = inst.arcs
    n = len(arcs) if inst.max_shift is not None else 0
    f = (1.0 - (inst.max_shift or 0.0)) * inst.demand["growth"].to_numpy(float)[
        arcs["dem"].to_numpy(np.int64)[:n]]
    r = np.arange(n)
    return block("year_pace", arcs.iloc[:n][["locality", "pathway", "step", "provider", "activity"]],
                 ["locality", "pathway", "step", "provider"], np.concatenate([r, r]),
                 np.concatenate([cols.at[t].x[:n], cols.at[t - 1].x[:n]]),
                 np.concatenate([np.ones(n), -f]), 0.0, np.inf)
