"""A design once adopted is kept, and its adoption is paid in the year it is adopted.

For every design w other than ``current`` and every year t >= 1 (SPEC section 11 with a
horizon)::

    z[l,p,w,t-1] <= z[l,p,w,t]            (design_kept, row of year t)

Because ``z`` of an adopted design never falls, the adoption in year t is
``z[t] - z[t-1] >= 0`` exactly, and ``adoption_cost * (z[t] - z[t-1])`` (with ``z[-1] = 0``)
is added to year t's spending, outside every overhead: no extra column is needed
(:func:`spend`).
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from .columns import Columns, YearColumns
from .rows import RowBlock, held


def rows(inst: Instance, cols: Columns, t: int) -> RowBlock:
    """Year t's rows (t >= 1)."""
    new = ~inst.designs["current"].to_numpy(bool)
    now = np.where(new, cols.at[t].z_of_design, -1)
    return held("design_kept", inst.designs.assign(
        key=[f"{a},{b},{c}" for a, b, c in zip(inst.designs["locality"], inst.designs["pathway"],
                                               inst.designs["variant"])]),
                "key", cols.at[t - 1].z_of_design, now)


def spend(inst: Instance, now: YearColumns, before: YearColumns | None) -> tuple[np.ndarray, np.ndarray]:
    """Adoption paid in one year: ``adoption_cost * (z[t] - z[t-1])`` for every design other
    than ``current`` (``before`` is None in year 0), as ``(columns, coefficients)``."""
    d = inst.designs
    new = np.flatnonzero(~d["current"].to_numpy(bool) & (d["adoption_cost"].to_numpy(float) > 0))
    cost = d["adoption_cost"].to_numpy(float)[new]
    if before is None:
        return now.z_of_design[new], cost
    return (np.concatenate([now.z_of_design[new], before.z_of_design[new]]),
            np.concatenate([cost, -cost]))
