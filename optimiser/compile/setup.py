"""Setup: a make provider pays its ``setup_cost`` once, in the year it starts.

For every make provider v with a ``setup_cost`` and every year t (SPEC section 7)::

    u[v,t] >= o[v,t] - o[v,t-1]        (setup)

with ``o[v,-1] = 1`` when v has baseline volume (it runs today), else 0, and
``setup_cost[v] * u[v,t]`` added to year t's spending, outside the overhead.

Year 0 needs no column: with ``o[v,-1] = 1`` the row says ``u >= o - 1 <= 0``, so nothing is
paid; with ``o[v,-1] = 0`` it says ``u[v,0] >= o[v,0]``, and as ``setup_cost >= 0`` and
``u`` appears nowhere else, ``u[v,0] = o[v,0]`` at every optimum. So year 0's setup is priced
on ``o[v,0]`` directly (:func:`year_zero`), and ``u`` and its rows exist for ``t >= 1``
only (a one-year plan has none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import Columns, YearColumns
from .rows import RowBlock, block


def baseline_volume(inst: Instance) -> np.ndarray:
    """Each provider's volume today (year 0's baseline)."""
    p_idx = pd.Index(inst.providers["provider"]).get_indexer(inst.arcs["provider"])
    return np.bincount(p_idx, weights=inst.arcs["x0"].to_numpy(float),
                       minlength=len(inst.providers))


def year_zero(inst: Instance) -> np.ndarray:
    """Setup paid on ``o[v,0]``: ``setup_cost`` of a provider that does not run today."""
    return np.where(baseline_volume(inst) > 0, 0.0, inst.providers["setup_cost"].to_numpy(float))


def spend(inst: Instance, cols: YearColumns) -> tuple[np.ndarray, np.ndarray]:
    """Setup paid in one year t >= 1: ``setup_cost[v] * u[v,t]``, as ``(columns, coefficients)``."""
    has_u = cols.u_of_prov >= 0
    return cols.u_of_prov[has_u], inst.providers["setup_cost"].to_numpy(float)[has_u]


def rows(inst: Instance, cols: Columns, t: int) -> RowBlock:
    """``u[v,t] - o[v,t] + o[v,t-1] >= 0`` for year t >= 1."""
    now, before = cols.at[t], cols.at[t - 1]
    has = np.flatnonzero(now.u_of_prov >= 0)
    n = len(has)
    r = np.arange(n)
    return block("setup", inst.providers.iloc[has][["provider"]], ["provider"],
                 np.concatenate([r, r, r]),
                 np.concatenate([now.u_of_prov[has], now.o_of_prov[has], before.o_of_prov[has]]),
                 np.concatenate([np.ones(n), -np.ones(n), np.ones(n)]), 0.0, np.inf)
