"""Whole units: a make provider's activity is delivered from whole beds, clinics or teams.

For every make provider v and activity a with ``units`` (SPEC section 11), with ``n[v,a]``
integer >= 0 (continuous in ``lp`` mode), shared by every locality and design::

    sum over the arcs of (v, a) of x <= size[v,a] * n[v,a]        (units)

written as ``sum x - size * n <= 0``; ``cost[v,a] * n[v,a]`` is paid under the provider's
``overhead``: ``(1 + overhead[v]) * cost * n`` (:func:`spend`). A unit's ``uses`` count per
unit in the capacity and heads rows (:mod:`.capacity`, :mod:`.heads`).
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from ..whole import unit_arcs
from .columns import YearColumns
from .rows import RowBlock, block


def rows(inst: Instance, cols: YearColumns) -> RowBlock:
    units = inst.units
    arc, unit = unit_arcs(inst)
    n = len(units)
    return block("units", units[["provider", "activity"]], ["provider", "activity"],
                 np.concatenate([unit, np.arange(n)]),
                 np.concatenate([cols.x[arc], cols.n_of_unit]),
                 np.concatenate([np.ones(len(arc)), -units["size"].to_numpy(float)]), -np.inf, 0.0)


def spend(inst: Instance, cols: YearColumns) -> tuple[np.ndarray, np.ndarray]:
    """``(1 + overhead[v]) * cost * n[v,a]``, as ``(columns, coefficients)``."""
    units = inst.units
    overhead = inst.providers.set_index("provider")["overhead"].reindex(units["provider"])
    return cols.n_of_unit, units["cost"].to_numpy(float) * (1.0 + overhead.to_numpy(float))
