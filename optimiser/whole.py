"""Whole units and heads of a plan, from its volumes (SPEC section 11).

Pure numpy on the instance tables, shared by the costing, the independent check and the
output tables: what volume each whole-unit activity carries, what each (provider,
activity) draws from a ``whole`` resource, and the fewest whole units and heads that
volumes need (rounded up, as the baseline holds them in every mode).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .instance import Instance

ROUNDING = 1e-9
"""Relative slack before rounding up: 2.0000000001 units of need are 2 units, not 3."""


def round_up(need: np.ndarray) -> np.ndarray:
    """The fewest whole numbers covering ``need`` (float dust ignored)."""
    need = np.asarray(need, dtype=float)
    return np.ceil(need - ROUNDING * np.maximum(1.0, np.abs(need)))


def unit_arcs(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """``(arc, unit)`` of every arc whose provider and activity have whole units."""
    units = inst.units
    if not len(units):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = pd.MultiIndex.from_arrays([units["provider"], units["activity"]])
    of = key.get_indexer(pd.MultiIndex.from_arrays([inst.arcs["provider"], inst.arcs["activity"]]))
    arc = np.flatnonzero(of >= 0)
    return arc, of[arc].astype(np.int64)


def unit_volume(inst: Instance, x: np.ndarray) -> np.ndarray:
    """Volume of each ``units`` row (every locality and design of its provider-activity)."""
    arc, unit = unit_arcs(inst)
    return np.bincount(unit, weights=np.asarray(x, float)[arc], minlength=len(inst.units))


def fewest_units(inst: Instance, x: np.ndarray) -> np.ndarray:
    """The fewest whole units each ``units`` row needs for volumes ``x``."""
    return round_up(unit_volume(inst, x) / inst.units["size"].to_numpy(float))


def uses_of(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every use as ``(resource row, arc or -1, unit or -1, amount, head row or -1)``."""
    res = pd.Index(inst.resources["resource"])
    u, uu = inst.uses, inst.unit_uses
    arc = u["arc"].to_numpy(np.int64)
    unit = uu["unit"].to_numpy(np.int64)
    r = np.concatenate([res.get_indexer(u["resource"]), res.get_indexer(uu["resource"])])
    amount = np.concatenate([u["amount"].to_numpy(float), uu["amount"].to_numpy(float)])
    head = np.full(len(r), -1, dtype=np.int64)
    if len(inst.heads):
        key = pd.MultiIndex.from_arrays([inst.heads["provider"], inst.heads["activity"],
                                         inst.heads["resource"]])
        prov = np.concatenate([inst.arcs["provider"].to_numpy(object)[arc],
                               inst.units["provider"].to_numpy(object)[unit]])
        act = np.concatenate([inst.arcs["activity"].to_numpy(object)[arc],
                              inst.units["activity"].to_numpy(object)[unit]])
        name = np.concatenate([u["resource"].to_numpy(object), uu["resource"].to_numpy(object)])
        head = key.get_indexer(pd.MultiIndex.from_arrays([prov, act, name])).astype(np.int64)
    return (r.astype(np.int64), np.concatenate([arc, np.full(len(unit), -1)]),
            np.concatenate([np.full(len(arc), -1), unit]), amount, head)


def _drawn(inst: Instance, x: np.ndarray, n: np.ndarray):
    """Each use's amount drawn at volumes ``x`` and units ``n``, with its resource and head."""
    r, arc, unit, amount, head = uses_of(inst)
    x = np.asarray(x, float)
    n = np.asarray(n, float) if n is not None else np.zeros(len(inst.units))
    level = np.where(arc >= 0, x[np.maximum(arc, 0)] if len(x) else 0.0,
                     n[np.maximum(unit, 0)] if len(n) else 0.0)
    return r, amount * level, head


def head_use(inst: Instance, x: np.ndarray, n: np.ndarray | None) -> np.ndarray:
    """What each ``heads`` row (provider, activity, whole resource) draws, before rounding."""
    _, drawn, head = _drawn(inst, x, n)
    mine = head >= 0
    return np.bincount(head[mine], weights=drawn[mine], minlength=len(inst.heads))


def fewest_heads(inst: Instance, x: np.ndarray, n: np.ndarray | None) -> np.ndarray:
    """The fewest whole heads each ``heads`` row needs."""
    return round_up(head_use(inst, x, n))


def resource_use(inst: Instance, x: np.ndarray, n: np.ndarray | None = None,
                 h: np.ndarray | None = None) -> np.ndarray:
    """What each resource counts against its capacity: its use per activity and per unit,
    or, for a ``whole`` resource, its heads ``h`` (the fewest whole heads when not given)."""
    r, drawn, head = _drawn(inst, x, n)
    direct = head < 0
    use = np.bincount(r[direct], weights=drawn[direct], minlength=len(inst.resources))
    if len(inst.heads):
        heads = fewest_heads(inst, x, n) if h is None else np.asarray(h, float)
        h_res = pd.Index(inst.resources["resource"]).get_indexer(inst.heads["resource"])
        use = use + np.bincount(h_res, weights=heads, minlength=len(inst.resources))
    return use
