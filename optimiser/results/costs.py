"""What a plan costs, part by part, evaluated from volumes (SPEC section 3, Cost).

Used for the optimal plan and for the baseline alike, so both are priced by one rule:

* ``buy``: each buy provider is paid ``max(block_contract, sum price * x)``;
* ``make``: make providers' own activity costs ``sum cost * x``;
* ``fixed``: ``fixed_cost * o`` of make providers that run;
* ``overhead``: ``overhead * (make + fixed)`` per provider;
* ``setup``: ``setup_cost`` of make providers that start: ``max(0, o[t] - o[t-1])`` with
  ``o[-1] = 1`` for a provider with volume today (so in a one-year plan, the make providers
  that run but deliver nothing today);
* ``expansion``: ``expand.cost * k``;
* ``adoption``: ``adoption_cost`` of each design adopted (SPEC section 11);
* ``units``: ``cost * n`` of whole units (their overhead is in ``overhead``);
* ``resources``: ``cost`` per unit used of each resource, per head for a ``whole`` one.

The baseline holds the fewest whole units and heads its volumes need (:mod:`..whole`).

A multi-year plan is priced year by year (:func:`starts` gives each year's starts) and its
objective is the discounted sum (SPEC section 7).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import whole
from ..instance import Instance

PARTS = ("buy", "make", "fixed", "overhead", "expansion", "setup", "adoption", "units",
         "resources")


def provider_index(inst: Instance) -> np.ndarray:
    """Provider row of each arc."""
    return pd.Index(inst.providers["provider"]).get_indexer(inst.arcs["provider"])


def runs_today(inst: Instance) -> np.ndarray:
    """``o[v,-1]``: 1 for a provider with volume today, else 0."""
    vol = np.bincount(provider_index(inst), weights=inst.arcs["x0"].to_numpy(float),
                      minlength=len(inst.providers))
    return (vol > 0).astype(float)


def starts(inst: Instance, running: np.ndarray) -> np.ndarray:
    """Per year and provider, how far it starts: ``max(0, o[t] - o[t-1])``, ``o[-1]`` as
    :func:`runs_today`; ``running`` is ``(years, providers)``, 0 where there is no ``o``."""
    before = np.vstack([runs_today(inst)[None, :], running[:-1]])
    return np.maximum(running - before, 0.0)


def breakdown(inst: Instance, x: np.ndarray, running: np.ndarray, k: np.ndarray,
              started: np.ndarray | None = None, adopted: np.ndarray | None = None,
              n: np.ndarray | None = None, h: np.ndarray | None = None) -> dict[str, float]:
    """Cost parts of one year of a plan: ``x`` per arc, ``running`` (o, 0..1) per provider,
    ``k`` per resource, ``started`` per provider (default: year 0's, from ``running``),
    ``adopted`` per design (what is adopted this year; default none), ``n`` per whole-unit
    activity and ``h`` per whole-head triple (default: the fewest that ``x`` needs)."""
    prov = inst.providers
    p_idx = provider_index(inst)
    n_prov = len(prov)
    spend = np.bincount(p_idx, weights=inst.arcs["unit_cost"].to_numpy(float) * x, minlength=n_prov)
    is_buy = prov["mode"].to_numpy() == "buy"
    paid = np.maximum(prov["block_contract"].to_numpy(float), spend)
    own = np.where(is_buy, 0.0, spend)
    fixed = np.where(is_buy, 0.0, prov["fixed_cost"].to_numpy(float) * running)
    if n is None:
        n = whole.fewest_units(inst, x)
    if h is None:
        h = whole.fewest_heads(inst, x, n)
    unit_cost = inst.units["cost"].to_numpy(float) * np.asarray(n, float)
    units_of = np.bincount(pd.Index(prov["provider"]).get_indexer(inst.units["provider"]),
                           weights=unit_cost, minlength=len(prov))
    overhead = prov["overhead"].to_numpy(float) * (own + fixed + units_of)
    res_cost = inst.resources["cost"].to_numpy(float) * whole.resource_use(inst, x, n, h)
    adoption = (0.0 if adopted is None else
                float(inst.designs["adoption_cost"].to_numpy(float) @ np.asarray(adopted, float)))
    if started is None:
        started = starts(inst, running[None, :])[0]
    setup = prov["setup_cost"].to_numpy(float) * started
    expansion = inst.resources["expand_cost"].to_numpy(float) * k
    parts = {
        "buy": float(paid[is_buy].sum()),
        "make": float(own.sum()),
        "fixed": float(fixed.sum()),
        "overhead": float(overhead.sum()),
        "expansion": float(expansion.sum()),
        "setup": float(setup.sum()),
        "adoption": adoption,
        "units": float(unit_cost.sum()),
        "resources": float(res_cost.sum()),
    }
    parts["total"] = float(sum(parts[p] for p in PARTS))
    return parts


def baseline(inst: Instance) -> dict[str, float]:
    """Today's cost: baseline volumes, make providers with volume running, no expansion,
    today's designs, the fewest whole units and heads the volumes need."""
    p_idx = provider_index(inst)
    volume = np.bincount(p_idx, weights=inst.arcs["x0"].to_numpy(float), minlength=len(inst.providers))
    return breakdown(inst, inst.arcs["x0"].to_numpy(float), (volume > 0).astype(float),
                     np.zeros(len(inst.resources)))
