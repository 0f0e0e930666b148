"""Running a make provider: volume only when it runs, and at least its minimum volume.

For every make provider v with a ``fixed_cost``, ``setup_cost`` or ``min_volume``, with
``o[v]`` in {0, 1} (in [0, 1] in ``lp`` mode)::

    sum_{arcs of v} x <= M[v] * o[v]             (running_max)
    sum_{arcs of v} x >= min_volume[v] * o[v]    (min_volume, when min_volume > 0)

``M[v]`` is the sum over v's arcs of the step's largest possible demand (``N*per_patient``
for a fixed step, ``N*max`` for an optional one), fixed so that the LP relaxation is
well defined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import YearColumns
from .rows import RowBlock, block


def rows(inst: Instance, cols: YearColumns) -> list[RowBlock]:
    prov = inst.providers
    runs = prov[cols.o_of_prov >= 0].reset_index()
    ocol = cols.o_of_prov[runs["index"].to_numpy(np.int64)]
    r_of = pd.Series(np.arange(len(runs)), index=runs["provider"])
    arcs = inst.arcs
    mine = arcs["provider"].isin(runs["provider"]).to_numpy()
    arc_rows = r_of.reindex(arcs["provider"][mine]).to_numpy(np.int64)
    arc_cols = cols.x[mine]
    dmax = inst.demand["dmax"].to_numpy(float)[arcs["dem"].to_numpy(np.int64)[mine]]
    big_m = np.bincount(arc_rows, weights=dmax, minlength=len(runs))
    meta = runs[["provider"]]
    upper = block("running_max", meta, ["provider"],
                  np.concatenate([arc_rows, np.arange(len(runs))]),
                  np.concatenate([arc_cols, ocol]),
                  np.concatenate([np.ones(len(arc_cols)), -big_m]), -np.inf, 0.0)
    has_min = runs["min_volume"].to_numpy(float) > 0
    keep = np.cumsum(has_min) - 1
    sel = has_min[arc_rows]
    lower = block("min_volume", meta[has_min], ["provider"],
                  np.concatenate([keep[arc_rows[sel]], np.arange(int(has_min.sum()))]),
                  np.concatenate([arc_cols[sel], ocol[has_min]]),
                  np.concatenate([np.ones(int(sel.sum())), -runs["min_volume"].to_numpy(float)[has_min]]),
                  0.0, np.inf)
    return [upper, lower]
