"""Persistence: a make provider that runs keeps running to the end of the horizon.

For every make provider v with a running indicator and every year t >= 1 (SPEC section 7)::

    o[v,t-1] <= o[v,t]              (persistence, row of year t)

written as ``o[v,t-1] - o[v,t] <= 0``. Year 0 has no row: a provider that runs today may
still close in year 0 (``o[v,-1]`` only prices the setup, see :mod:`.setup`).
"""

from __future__ import annotations

from ..instance import Instance
from .columns import Columns
from .rows import RowBlock, held


def rows(inst: Instance, cols: Columns, t: int) -> RowBlock:
    """Year t's rows (t >= 1)."""
    return held("persistence", inst.providers, "provider", cols.at[t - 1].o_of_prov, cols.at[t].o_of_prov)
