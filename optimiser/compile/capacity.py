"""Capacity: what providers draw from a shared resource fits what it has.

For every resource r that some arc uses::

    sum_{arcs a} uses[v(a), activity(a), r] * x[a] <= capacity[r] + step[r] * k[r]

with ``k[r]`` integer in ``[0, max_steps]`` when the resource can expand (else absent),
written as ``sum uses * x - step * k <= capacity``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import YearColumns
from .rows import RowBlock, block


def rows(inst: Instance, cols: YearColumns) -> RowBlock:
    res = inst.resources
    used = res[res["resource"].isin(inst.uses["resource"])].reset_index()  # keeps resource id
    r_of = pd.Series(np.arange(len(used)), index=used["resource"])
    u = inst.uses
    row_u = r_of.reindex(u["resource"]).to_numpy(np.int64)
    col_u = cols.x[u["arc"].to_numpy(np.int64)]
    kcol = cols.k_of_res[used["index"].to_numpy(np.int64)]
    has_k = kcol >= 0
    row = np.concatenate([row_u, np.flatnonzero(has_k)])
    col = np.concatenate([col_u, kcol[has_k]])
    val = np.concatenate([u["amount"].to_numpy(float), -used["expand_step"].to_numpy(float)[has_k]])
    return block("capacity", used[["resource"]], ["resource"], row, col, val, -np.inf,
                 used["capacity"].to_numpy(float))
