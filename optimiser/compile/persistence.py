"""Persistence: a make provider that runs keeps running to the end of the horizon.

For every make provider v with a running indicator and every year t >= 1 (SPEC section 7)::

    o[v,t-1] <= o[v,t]              (persistence, row of year t)

written as ``o[v,t-1] - o[v,t] <= 0``. Year 0 has no row: a provider that runs today may
still close in year 0 (``o[v,-1]`` only prices the setup, see :mod:`.setup`).
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from .columns import Columns
from .rows import RowBlock, block


def rows(inst: Instance, cols: Columns, t: int) -> RowBlock:
    """Year t's rows (t >= 1)."""
    now, before = cols.at[t].o_of_prov, cols.at[t - 1].o_of_prov
    has = np.flatnonzero(now >= 0)
    n = len(has)
    return block("persistence", inst.providers.iloc[has][["provider"]], ["provider"],
                 np.concatenate([np.arange(n), np.arange(n)]),
                 np.concatenate([before[has], now[has]]),
                 np.concatenate([np.ones(n), -np.ones(n)]), -np.inf, 0.0)
