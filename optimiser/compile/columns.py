"""Decision variables (SPEC section 3) as column blocks of the sparse model.

* ``x[l,p,s,v] >= 0``      -- volume on each arc (one column per arc, in arc order);
* ``y[l,p,s] in [N*min, N*max]`` -- uptake of each optional step;
* ``k[r] in [0, max_steps]``, integer -- capacity increments of expandable resources;
* ``o[v] in {0, 1}``      -- make provider runs (when it has a fixed, setup or minimum volume);
* ``pay[v] >= 0``          -- payment to a buy provider with a block contract (its floor is a
  row, so that the block contract gets a shadow price).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..instance import Instance
from ..model import names


@dataclass(frozen=True)
class Columns:
    """Column numbering: for each block, which column each table row maps to."""

    x: np.ndarray
    """Column of each arc (``inst.arcs`` order)."""
    y_of_dem: np.ndarray
    """Column of each demand row's uptake, -1 for fixed steps."""
    k_of_res: np.ndarray
    """Column of each resource's expansion steps, -1 when it cannot expand."""
    o_of_prov: np.ndarray
    """Column of each provider's running indicator, -1 when it has none."""
    pay_of_prov: np.ndarray
    """Column of each provider's block-contract payment, -1 when it has none."""
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    meta: pd.DataFrame
    blocks: dict[str, tuple[int, int]]


_name = names


def build_columns(inst: Instance) -> Columns:
    arcs, dem, prov, res = inst.arcs, inst.demand, inst.providers, inst.resources
    parts: list[pd.DataFrame] = []
    lbs: list[np.ndarray] = []
    ubs: list[np.ndarray] = []
    ints: list[np.ndarray] = []
    blocks: dict[str, tuple[int, int]] = {}
    start = 0

    def add(kind: str, meta: pd.DataFrame, lb, ub, integer: bool) -> np.ndarray:
        nonlocal start
        n = len(meta)
        meta = meta.assign(kind=kind)
        parts.append(meta)
        lbs.append(np.broadcast_to(np.asarray(lb, dtype=float), n).copy())
        ubs.append(np.broadcast_to(np.asarray(ub, dtype=float), n).copy())
        ints.append(np.full(n, integer))
        blocks[kind] = (start, start + n)
        idx = np.arange(start, start + n)
        start += n
        return idx

    x_meta = arcs[["locality", "pathway", "step", "provider", "activity"]].reset_index(drop=True)
    x_meta = x_meta.assign(name=_name("x", x_meta, ["locality", "pathway", "step", "provider"]))
    x = add("x", x_meta, 0.0, np.inf, False)

    opt = dem[dem["optional"].to_numpy(dtype=bool)]
    y_meta = opt[["locality", "pathway", "step", "activity"]].reset_index(drop=True)
    y_meta = y_meta.assign(name=_name("y", y_meta, ["locality", "pathway", "step"]))
    y = add("y", y_meta, opt["ymin"].to_numpy(), opt["ymax"].to_numpy(), False)
    y_of_dem = np.full(len(dem), -1)
    y_of_dem[opt.index.to_numpy()] = y

    exp = res[(res["expand_max"] > 0) & (res["expand_step"] > 0)]
    k_meta = exp[["resource"]].reset_index(drop=True)
    k_meta = k_meta.assign(name=_name("k", k_meta, ["resource"]))
    k = add("k", k_meta, 0.0, exp["expand_max"].to_numpy(dtype=float), True)
    k_of_res = np.full(len(res), -1)
    k_of_res[exp.index.to_numpy()] = k

    with_arcs = prov["provider"].isin(arcs["provider"])
    runs = prov[(prov["mode"] == "make") & with_arcs & (
        (prov["fixed_cost"] > 0) | (prov["min_volume"] > 0) | (prov["setup_cost"] > 0))]
    o_meta = runs[["provider"]].reset_index(drop=True)
    o_meta = o_meta.assign(name=_name("o", o_meta, ["provider"]))
    o = add("o", o_meta, 0.0, 1.0, True)
    o_of_prov = np.full(len(prov), -1)
    o_of_prov[runs.index.to_numpy()] = o

    block = prov[(prov["mode"] == "buy") & (prov["block_contract"] > 0)]
    pay_meta = block[["provider"]].reset_index(drop=True)
    pay_meta = pay_meta.assign(name=_name("pay", pay_meta, ["provider"]))
    pay = add("pay", pay_meta, 0.0, np.inf, False)
    pay_of_prov = np.full(len(prov), -1)
    pay_of_prov[block.index.to_numpy()] = pay

    meta = pd.concat(parts, ignore_index=True)
    for c in ("locality", "pathway", "step", "provider", "resource", "activity"):
        if c not in meta:
            meta[c] = None
    meta = meta[["name", "kind", "locality", "pathway", "step", "provider", "resource", "activity"]]
    return Columns(
        x=x, y_of_dem=y_of_dem, k_of_res=k_of_res, o_of_prov=o_of_prov, pay_of_prov=pay_of_prov,
        lb=np.concatenate(lbs), ub=np.concatenate(ubs), integer=np.concatenate(ints), meta=meta,
        blocks=blocks,
    )
