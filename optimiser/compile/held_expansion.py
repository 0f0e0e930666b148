"""Held expansion: staff increments, once bought, are kept (and paid) every later year.

For every expandable resource r and every year t >= 1 (SPEC section 7)::

    k[r,t-1] <= k[r,t]              (held_expansion, row of year t)

written as ``k[r,t-1] - k[r,t] <= 0``; ``k[r,t]`` lies in ``[0, max_steps]`` and
``expand.cost * k[r,t]`` is paid in every year t (see :mod:`.cost`).
"""

from __future__ import annotations

from ..instance import Instance
from .columns import Columns
from .rows import RowBlock, held


def rows(inst: Instance, cols: Columns, t: int) -> RowBlock:
    """Year t's rows (t >= 1)."""
    return held("held_expansion", inst.resources, "resource", cols.at[t - 1].k_of_res, cols.at[t].k_of_res)
