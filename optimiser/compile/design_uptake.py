"""Uptake of a design's optional step: its range scales with the design's ``z``.

For every optional step s of a design w of a pathway with variants (SPEC section 11)::

    y[l,p,s] >= N * min * z[l,p,w]      (uptake_min, when min > 0)
    y[l,p,s] <= N * max * z[l,p,w]      (uptake_max)

so a design that is not chosen takes up nothing, and a chosen one takes up what section 3
allows. The column's own bounds are ``[0, N*max]``. Steps of pathways without variants keep
section 3's bounds on the column and have no rows here.
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from .columns import YearColumns, variant_of
from .rows import RowBlock, block


def rows(inst: Instance, cols: YearColumns) -> list[RowBlock]:
    dem = inst.demand
    design = dem["design"].to_numpy(np.int64)
    opt = np.flatnonzero(dem["optional"].to_numpy(bool) & (design >= 0))
    ymin = dem["ymin"].to_numpy(float)[opt]
    ymax = dem["ymax"].to_numpy(float)[opt]
    meta = dem.iloc[opt][["locality", "pathway", "step", "activity"]].assign(
        variant=variant_of(inst, opt).to_numpy(object))
    ycol, zcol = cols.y_of_dem[opt], cols.z_of_design[design[opt]]
    keys = ["locality", "pathway", "step"]
    low = np.flatnonzero(ymin > 0)
    r = np.arange(len(low))
    lower = block("uptake_min", meta.iloc[low], keys, np.concatenate([r, r]),
                  np.concatenate([ycol[low], zcol[low]]),
                  np.concatenate([np.ones(len(low)), -ymin[low]]), 0.0, np.inf)
    r = np.arange(len(opt))
    upper = block("uptake_max", meta, keys, np.concatenate([r, r]), np.concatenate([ycol, zcol]),
                  np.concatenate([np.ones(len(opt)), -ymax]), -np.inf, 0.0)
    return [lower, upper]
