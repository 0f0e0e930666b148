"""Resource cost: a resource with a ``cost`` is paid per unit used, outside every overhead.

For every resource r with ``cost[r] > 0`` (SPEC section 11), added to Total::

    cost[r] * (sum_{arcs} uses * x + sum_{units} unit_uses * n)     (not whole)
    cost[r] * sum_{v,a} h[v,a,r]                                     (whole: per head)

No rows: these are objective terms (:func:`spend`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import YearColumns
from .heads import use_terms


def spend(inst: Instance, cols: YearColumns) -> tuple[np.ndarray, np.ndarray]:
    """One year's resource costs as ``(columns, coefficients)``."""
    res = inst.resources
    price = res["cost"].to_numpy(float)
    if not (price > 0).any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    r, col, amount, head = use_terms(inst, cols)
    direct = head < 0
    h_res = pd.Index(res["resource"]).get_indexer(inst.heads["resource"]).astype(np.int64)
    return (np.concatenate([col[direct], cols.h_of_head]),
            np.concatenate([price[r[direct]] * amount[direct], price[h_res]]))
