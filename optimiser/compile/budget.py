"""Budget: each year's spending stays within that year's budget, plus what was carried.

When ``constraints.budget`` is set, for every year t (SPEC section 7; one row, ``budget``,
in a one-year plan)::

    spend[t] <= budget[t] + c[t-1]                       (budget)

with ``spend[t]`` year t's Total plus its setup (undiscounted), ``c[-1] = 0``. With
``carry_over``, ``c[t] = budget[t] + c[t-1] - spend[t] >= 0`` is what year t leaves unspent;
the row is written ``spend[t] + c[t] - c[t-1] <= budget[t]`` with ``c[t] >= 0`` (a column
for t < T-1 only: nothing is carried out of the last year). The column counts thousands
(:data:`CARRY_UNIT`), so its coefficient is 1000: beside a fixed or setup cost of millions
a coefficient of 1 would make the row span more than 1e6 (numerically awkward). Allowing ``c[t]`` below the
unspent amount changes no plan's feasibility (any feasible point's true carry is at least
its ``c``), so the ``<=`` row keeps the sense and shadow price of a plain budget. Without
``carry_over``, ``c = 0`` and the row is ``spend[t] <= budget[t]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import YearColumns
from .rows import RowBlock, block

CARRY_UNIT = 1000.0
"""Currency units in one unit of a carry column ``c``."""


def rows(inst: Instance, cols: YearColumns, spend: tuple[np.ndarray, np.ndarray]) -> RowBlock:
    """Year t's row (``inst`` and ``cols`` of year t, ``spend`` its terms); none without a
    budget."""
    if inst.budget is None:
        return block("budget", pd.DataFrame(index=range(0)), [], [], [], [], 0.0, 0.0)
    c, v = spend
    nz = v != 0
    carry_c = [cols.c_out] if cols.c_out >= 0 else []
    carry_c += [cols.c_in] if cols.c_in >= 0 else []
    carry_v = [CARRY_UNIT] if cols.c_out >= 0 else []
    carry_v += [-CARRY_UNIT] if cols.c_in >= 0 else []
    col = np.concatenate([c[nz], np.asarray(carry_c, dtype=np.int64)])
    val = np.concatenate([v[nz], np.asarray(carry_v, dtype=float)])
    return block("budget", pd.DataFrame(index=range(1)), [], np.zeros(len(col)), col, val,
                 -np.inf, float(inst.budget))

