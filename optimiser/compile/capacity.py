"""Capacity: what providers draw from a shared resource fits what it has.

For every resource r that some arc or whole unit uses::

    sum_{arcs a} uses[v(a), activity(a), r] * x[a] + sum_{units} unit_uses[v,a,r] * n[v,a]
        <= capacity[r] + step[r] * k[r]

with ``k[r]`` integer in ``[0, max_steps]`` when the resource can expand (else absent),
written as ``sum uses * x + unit_uses * n - step * k <= capacity``. A ``whole`` resource
(SPEC section 11) counts its whole heads instead: ``sum_{v,a} h[v,a,r] - step * k <=
capacity`` (see :mod:`.heads`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import YearColumns
from .heads import use_terms
from .rows import RowBlock, block


def rows(inst: Instance, cols: YearColumns) -> RowBlock:
    res = inst.resources
    r, col, amount, head = use_terms(inst, cols)
    direct = head < 0
    h_res = pd.Index(res["resource"]).get_indexer(inst.heads["resource"]).astype(np.int64)
    r = np.concatenate([r[direct], h_res])
    col = np.concatenate([col[direct], cols.h_of_head])
    amount = np.concatenate([amount[direct], np.ones(len(h_res))])
    used_ids = np.unique(r)
    used = res.iloc[used_ids].reset_index()  # keeps resource id
    row_of = np.full(len(res), -1, dtype=np.int64)
    row_of[used_ids] = np.arange(len(used_ids))
    kcol = cols.k_of_res[used["index"].to_numpy(np.int64)]
    has_k = kcol >= 0
    return block("capacity", used[["resource"]], ["resource"],
                 np.concatenate([row_of[r], np.flatnonzero(has_k)]),
                 np.concatenate([col, kcol[has_k]]),
                 np.concatenate([amount, -used["expand_step"].to_numpy(float)[has_k]]),
                 -np.inf, used["capacity"].to_numpy(float))
