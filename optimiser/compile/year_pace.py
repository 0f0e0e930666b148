"""Pace of change from year to year: no arc loses more than ``max_shift`` of last year's
volume, grown with demand.

For every arc (l,p,s,v) and every year t >= 1, when ``max_shift`` is set (SPEC section 7)::

    x[l,p,s,v,t] >= (1 - max_shift) * g[l,p] * x[l,p,s,v,t-1]     (year_pace)

written as ``x[t] - (1 - max_shift) * g * x[t-1] >= 0``, with
``g[l,p] = (1 + population_growth[l]) * (1 + growth[p])``. Year 0 keeps section 3's pace
against today's shares (:mod:`.pace`).

Changing design is not itself limited by the pace (SPEC section 11): on an arc of the
``current`` design of a pathway with variants, the row is relaxed when that design is left
in year t::

    x[t] - f * x[t-1] + f * dmax[t-1] * (z[current,t-1] - z[current,t]) >= 0

with ``f = (1 - max_shift) * g`` and ``dmax[t-1]`` the step's largest demand in year t-1 (so
``f * x[t-1]`` never exceeds the relaxation); ``z[current]`` only falls, as a design once
adopted is kept. Arcs of other designs need no relaxation: those designs are never left.
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from ..designs import CURRENT
from .columns import Columns, variant_of
from .rows import RowBlock, block


def rows(inst: Instance, cols: Columns, t: int) -> RowBlock:
    """Year t's rows (t >= 1); none without ``max_shift``."""
    arcs = inst.arcs
    n = len(arcs) if inst.max_shift is not None else 0
    f = (1.0 - (inst.max_shift or 0.0)) * inst.demand["growth"].to_numpy(float)[
        arcs["dem"].to_numpy(np.int64)[:n]]
    r = np.arange(n)
    dem_rows = arcs["dem"].to_numpy(np.int64)[:n]
    design = inst.demand["design"].to_numpy(np.int64)[dem_rows]
    left = np.flatnonzero((design >= 0) & (arcs["variant"].to_numpy(object)[:n] == CURRENT))
    dmax = inst.demand["dmax"].to_numpy(float)[dem_rows[left]] * \
        inst.demand["growth"].to_numpy(float)[dem_rows[left]] ** (t - 1)
    relax = f[left] * dmax
    z_before, z_now = cols.at[t - 1].z_of_design[design[left]], cols.at[t].z_of_design[design[left]]
    meta = arcs.iloc[:n][["locality", "pathway", "step", "provider", "activity"]].assign(
        variant=variant_of(inst, dem_rows).to_numpy(object))
    return block("year_pace", meta, ["locality", "pathway", "step", "provider"],
                 np.concatenate([r, r, left, left]),
                 np.concatenate([cols.at[t].x[:n], cols.at[t - 1].x[:n], z_before, z_now]),
                 np.concatenate([np.ones(n), -f, relax, -relax]), 0.0, np.inf)
