"""Whole heads: a ``whole`` resource is held in whole heads per provider and activity.

For every provider v, activity a and resource r with ``whole: true`` that (v, a) uses, per
activity or per unit (SPEC section 11), with ``h[v,a,r]`` integer >= 0 (continuous in
``lp`` mode)::

    h[v,a,r] >= sum over the arcs of (v, a) of uses[v,a,r] * x + unit_uses[v,a,r] * n[v,a]
                                                                          (heads)

written as ``h - sum uses * x - unit_uses * n >= 0``. The resource's capacity row then counts
``sum h`` instead of its use (:mod:`.capacity`), and ``cost[r] * h`` is paid instead of cost
per unit used (:mod:`.resource_cost`).
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance
from ..whole import uses_of
from .columns import YearColumns
from .rows import RowBlock, block


def use_terms(inst: Instance, cols: YearColumns) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every use of every resource as ``(resource row, column, amount, head row)``: per
    activity on ``x``, per unit on ``n``; the head row is -1 unless the resource is whole."""
    r, arc, unit, amount, head = uses_of(inst)
    col = np.where(arc >= 0, cols.x[np.maximum(arc, 0)] if len(cols.x) else -1,
                   cols.n_of_unit[np.maximum(unit, 0)] if len(cols.n_of_unit) else -1)
    return r, col.astype(np.int64), amount, head


def rows(inst: Instance, cols: YearColumns) -> RowBlock:
    _, col, amount, head = use_terms(inst, cols)
    mine = head >= 0
    n = len(inst.heads)
    return block("heads", inst.heads[["provider", "activity", "resource"]],
                 ["provider", "activity", "resource"],
                 np.concatenate([head[mine], np.arange(n)]),
                 np.concatenate([col[mine], cols.h_of_head]),
                 np.concatenate([-amount[mine], np.ones(n)]), 0.0, np.inf)
