"""Setting cap: no setting takes more than its ``max_share`` of a step.

For every locality l, pathway p, step s and setting g with a ``max_share``::

    sum_{v : setting(v) = g} x[l,p,s,v] <= max_share[g] * D[l,p,s]

written as ``sum x - max_share * (D - const) <= max_share * const``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from ..model import text
from .columns import YearColumns
from .columns import variant_of
from .rows import DemandTerms, RowBlock, block, demand_for_rows


def rows(inst: Instance, cols: YearColumns, terms: DemandTerms) -> RowBlock:
    caps = inst.caps
    share = caps["max_share"].to_numpy(float)
    # settings as integer codes, so the join is on one integer key (dem, setting)
    codes, uniques = pd.factorize(np.concatenate([inst.arcs["setting"].to_numpy(object),
                                                  caps["setting"].to_numpy(object)]))
    G = max(len(uniques), 1)
    n_arcs = len(inst.arcs)
    arcs = pd.DataFrame({"key": inst.arcs["dem"].to_numpy(np.int64) * G + codes[:n_arcs],
                         "col": cols.x})
    keyed = pd.DataFrame({"key": caps["dem"].to_numpy(np.int64) * G + codes[n_arcs:],
                          "r": np.arange(len(caps))})
    m = keyed.merge(arcs, on="key")
    r_d, c_d, v_d, const = demand_for_rows(terms, caps["dem"].to_numpy(np.int64), share)
    row = np.concatenate([m["r"].to_numpy(np.int64), r_d])
    col = np.concatenate([m["col"].to_numpy(np.int64), c_d])
    val = np.concatenate([np.ones(len(m)), -v_d])
    meta = caps[["locality", "pathway", "step", "setting"]].assign(
        activity=text([f"{p}.{s}" for p, s in zip(caps["pathway"].tolist(), caps["step"].tolist())]
                      ).set_axis(caps.index),
        variant=variant_of(inst, caps["dem"].to_numpy(np.int64)).to_numpy(object))
    out = block("setting_cap", meta, ["locality", "pathway", "step", "setting"], row, col, val,
                -np.inf, const)
    return out
