"""What a plan costs, part by part, evaluated from volumes (SPEC section 3, Cost).

Used for the optimal plan and for the baseline alike, so both are priced by one rule:

* ``buy``: each buy provider is paid ``max(block_contract, sum price * x)``;
* ``make``: make providers' own activity costs ``sum cost * x``;
* ``fixed``: ``fixed_cost * o`` of make providers that run;
* ``overhead``: ``overhead * (make + fixed)`` per provider;
* ``setup``: ``setup_cost * o`` of make providers that run but deliver nothing today;
* ``expansion``: ``expand.cost * k``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance

PARTS = ("buy", "make", "fixed", "overhead", "expansion", "setup")


def provider_index(inst: Instance) -> np.ndarray:
    """Provider row of each arc."""
    return pd.Index(inst.providers["provider"]).get_indexer(inst.arcs["provider"])


def breakdown(inst: Instance, x: np.ndarray, running: np.ndarray, k: np.ndarray) -> dict[str, float]:
    """Cost parts of a plan: ``x`` per arc, ``running`` (o, 0..1) per provider, ``k`` per resource."""
    prov = inst.providers
    p_idx = provider_index(inst)
    n = len(prov)
    spend = np.bincount(p_idx, weights=inst.arcs["unit_cost"].to_numpy(float) * x, minlength=n)
    is_buy = prov["mode"].to_numpy() == "buy"
    paid = np.maximum(prov["block_contract"].to_numpy(float), spend)
    own = np.where(is_buy, 0.0, spend)
    fixed = np.where(is_buy, 0.0, prov["fixed_cost"].to_numpy(float) * running)
    overhead = prov["overhead"].to_numpy(float) * (own + fixed)
    baseline_volume = np.bincount(p_idx, weights=inst.arcs["x0"].to_numpy(float), minlength=n)
    setup = np.where(baseline_volume > 0, 0.0, prov["setup_cost"].to_numpy(float) * running)
    expansion = inst.resources["expand_cost"].to_numpy(float) * k
    parts = {
        "buy": float(paid[is_buy].sum()),
        "make": float(own.sum()),
        "fixed": float(fixed.sum()),
        "overhead": float(overhead.sum()),
        "expansion": float(expansion.sum()),
        "setup": float(setup.sum()),
    }
    parts["total"] = float(sum(parts[p] for p in PARTS))
    return parts


def baseline(inst: Instance) -> dict[str, float]:
    """Today's cost: baseline volumes, make providers with volume running, no expansion."""
    p_idx = provider_index(inst)
    volume = np.bincount(p_idx, weights=inst.arcs["x0"].to_numpy(float), minlength=len(inst.providers))
    return breakdown(inst, inst.arcs["x0"].to_numpy(float), (volume > 0).astype(float),
                     np.zeros(len(inst.resources)))
