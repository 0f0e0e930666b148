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


def carried_slack(model, values: np.ndarray, budgets, carry_over: bool):
    """What each year truly leaves of its budget, for reports: ``(rows, slack)`` with the
    budget rows' positions and ``budget[t] + carry[t-1] - spend[t]``, the carry recomputed
    from spending (``c`` may sit anywhere below the unspent amount, so a row's own slack
    says nothing with ``carry_over``). None without a budget or without carry-over."""
    if budgets is None or not carry_over:
        return None
    kinds = model.row_meta["kind"].to_numpy()
    rows = np.flatnonzero(kinds == "budget")
    t = model.row_meta["year"].to_numpy(np.int64)[rows]
    act = (model.A @ values)[rows]
    c = values[model.block("c")]
    c_out = np.array([c[y] if y < len(c) else 0.0 for y in t])
    c_in = np.array([c[y - 1] if 0 < y <= len(c) else 0.0 for y in t])
    spend = act - CARRY_UNIT * (c_out - c_in)
    slack = np.zeros(len(rows))
    carried = 0.0
    for i in np.argsort(t, kind="stable"):  # one row per year: a loop over the years
        slack[i] = budgets[t[i]] + carried - spend[i]
        carried = max(slack[i], 0.0)
    return rows, slack
