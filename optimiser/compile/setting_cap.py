"""Setting cap: no setting takes more than its ``max_share`` of a step.

For every locality l, pathway p, step s and setting g with a ``max_share``::

    sum_{v : setting(v) = g} x[l,p,s,v] <= max_share[g] * D[l,p,s]

written as ``sum x - max_share * (D - const) <= max_share * const``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import Columns
from .rows import DemandTerms, RowBlock, block, demand_for_rows


def rows(inst: Instance, cols: Columns, terms: DemandTerms) -> RowBlock:
    caps = inst.caps
    share = caps["max_share"].to_numpy(float)
    arcs = pd.DataFrame({"dem": inst.arcs["dem"].to_numpy(np.int64),
                         "setting": inst.arcs["setting"].to_numpy(), "col": cols.x})
    keyed = pd.DataFrame({"dem": caps["dem"].to_numpy(np.int64), "setting": caps["setting"].to_numpy(),
                          "r": np.arange(len(caps))})
    m = keyed.merge(arcs, on=["dem", "setting"])
    r_d, c_d, v_d, const = demand_for_rows(terms, caps["dem"].to_numpy(np.int64), share)
    row = np.concatenate([m["r"].to_numpy(np.int64), r_d])
    col = np.concatenate([m["col"].to_numpy(np.int64), c_d])
    val = np.concatenate([np.ones(len(m)), -v_d])
    meta = caps[["locality", "pathway", "step", "setting"]].assign(
        activity=caps["pathway"] + "." + caps["step"])
    out = block("setting_cap", meta, ["locality", "pathway", "step", "setting"], row, col, val,
                -np.inf, const)
    return out
