"""An independent check that a solution satisfies every constraint of SPEC section 3.

It re-derives demand, big-M, capacities and floors from the instance tables with pandas,
not from the compiled matrix, so a compile bug cannot hide itself. Each violation is
measured relative to the size of its limit (``violation / max(1, |limit|)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..instance import Instance
from . import costs


@dataclass(frozen=True)
class Check:
    max_violation: float
    """Largest relative violation found (0 when every constraint holds exactly)."""
    worst: str
    """Which constraint it was, e.g. ``flow[north,copd,spirometry]``."""
    objective: float
    """Total cost recomputed from the volumes."""


def _recorder(viol: list[tuple[float, str]], suffix: str = ""):
    def record(name, amount: np.ndarray, limit: np.ndarray) -> None:
        """The worst relative violation of a family; ``name(i)`` names its member ``i``
        (only the worst is named: a national model has millions of members)."""
        amount = np.maximum(np.asarray(amount, dtype=float), 0.0)
        if len(amount) == 0:
            return
        rel = amount / np.maximum(1.0, np.abs(np.asarray(limit, dtype=float)))
        i = int(np.argmax(rel))
        viol.append((float(rel[i]), str(name(i)) + suffix))
    return record


def check(inst: Instance, x: np.ndarray, y: np.ndarray, running: np.ndarray, k: np.ndarray,
          integral: bool) -> Check:
    """``x`` per arc, ``y`` per demand row (NaN for fixed steps), ``running`` per provider
    (NaN where the provider has no running indicator), ``k`` per resource: a one-year plan."""
    return check_years(inst, x[None, :], y[None, :], running[None, :], k[None, :], integral)


def check_years(inst: Instance, x: np.ndarray, y: np.ndarray, running: np.ndarray,
                k: np.ndarray, integral: bool) -> Check:
    """A plan over the horizon (SPEC section 7): each argument of :func:`check` with a
    leading year axis. Every year's section 3 constraints at that year's demand, then what
    links the years: persistence, held expansion, year-on-year pace, the budget with
    carry-over (the carry recomputed as what is left unspent); the objective is the
    discounted sum of each year's Total and setup."""
    years = inst.years
    T = years.count
    viol: list[tuple[float, str]] = []
    spend = np.zeros(T)
    started = costs.starts(inst, np.nan_to_num(running))
    for t in range(T):
        view = inst.at_year(t)
        suffix = f" in {int(years.calendar(t))}" if years.dated and T > 1 else ""
        _one_year(view, x[t], y[t], running[t], k[t], integral, _recorder(viol, suffix))
        spend[t] = costs.breakdown(view, x[t], np.nan_to_num(running[t]), k[t], started[t])["total"]
    record = _recorder(viol)
    label = years.calendar(np.arange(T)) if years.dated else np.arange(T)
    prov, res = inst.providers, inst.resources
    has_o = ~np.isnan(running[0]) if T else np.zeros(0, dtype=bool)
    for t in range(1, T):
        o = np.nan_to_num(running)
        record(lambda i, t=t: f"persistence[{prov['provider'].iloc[np.flatnonzero(has_o)[i]]},{label[t]}]",
               (o[t - 1] - o[t])[has_o], np.ones(int(has_o.sum())))
        record(lambda i, t=t: f"held_expansion[{res['resource'].iloc[i]},{label[t]}]",
               k[t - 1] - k[t], np.maximum(k[t - 1], 1.0))
        if inst.max_shift is not None:
            g = inst.demand["growth"].to_numpy(float)[inst.arcs["dem"].to_numpy(int)]
            need = (1 - inst.max_shift) * g * x[t - 1]
            record(lambda i, t=t: f"year_pace[{inst.arcs['provider'].iloc[i]},"
                                  f"{inst.arcs['activity'].iloc[i]},{label[t]}]", need - x[t], need)
    if years.budgets is not None:
        carry = 0.0
        for t in range(T):
            room = years.budgets[t] + carry
            record(lambda i, t=t: f"budget[{label[t]}]" if years.dated else "budget",
                   np.array([spend[t] - room]), np.array([room]))
            carry = max(room - spend[t], 0.0) if years.carry_over else 0.0
    total = float(years.discount() @ spend)
    worst = max(viol, default=(0.0, ""))
    return Check(max_violation=worst[0], worst=worst[1] if worst[0] > 0 else "", objective=total)


def _one_year(inst: Instance, x: np.ndarray, y: np.ndarray, running: np.ndarray, k: np.ndarray,
              integral: bool, record) -> None:
    """Section 3's constraints of one year (all but the budget), violations to ``record``."""
    dem, arcs, prov, res = inst.demand, inst.arcs, inst.providers, inst.resources

    def at(prefix: str, *cols, index: np.ndarray | None = None):
        """``prefix[c1,c2,...]`` of member ``i`` (through ``index`` when given)."""
        def name(i: int) -> str:
            j = int(index[i]) if index is not None else i
            return f"{prefix}[{','.join(str(np.asarray(c)[j]) for c in cols)}]"
        return name

    dl, dp, ds = (dem[c].to_numpy() for c in ("locality", "pathway", "step"))

    def key_at(prefix: str, index: np.ndarray | None = None, *more):
        def name(i: int) -> str:
            j = int(index[i]) if index is not None else i
            extra = "".join(f",{np.asarray(c)[i]}" for c in more)
            return f"{prefix}[{dl[j]},{dp[j]},{ds[j]}{extra}]"
        return name

    opt = dem["optional"].to_numpy(bool)
    yv = np.where(opt, np.nan_to_num(y), 0.0)
    record(at("x", arcs["provider"]), -x, np.zeros(len(x)))
    opt_rows = np.flatnonzero(opt)
    record(key_at("y", opt_rows), dem["ymin"].to_numpy()[opt] - yv[opt], dem["ymin"].to_numpy()[opt])
    record(key_at("y", opt_rows), yv[opt] - dem["ymax"].to_numpy()[opt], dem["ymax"].to_numpy()[opt])

    # demand: D = y (optional) or N*pp - sum effect*y[src]
    av = inst.avoids
    avoided = np.bincount(av["dst_dem"].to_numpy(int), weights=av["effect"].to_numpy(float)
                          * yv[av["src_dem"].to_numpy(int)], minlength=len(dem))
    D = np.where(opt, yv, dem["fixed"].to_numpy(float) - avoided)
    record(key_at("demand_floor"), -D, dem["fixed"].to_numpy(float))
    delivered = np.bincount(arcs["dem"].to_numpy(int), weights=x, minlength=len(dem))
    record(key_at("flow"), np.abs(delivered - D), D)

    caps = inst.caps
    if len(caps):
        by = pd.DataFrame({"dem": arcs["dem"].to_numpy(int), "setting": arcs["setting"], "x": x})
        got = caps.merge(by.groupby(["dem", "setting"], as_index=False)["x"].sum(), on=["dem", "setting"], how="left")
        lim = got["max_share"].to_numpy(float) * D[got["dem"].to_numpy(int)]
        record(key_at("setting_cap", got["dem"].to_numpy(int), got["setting"].to_numpy()),
               got["x"].fillna(0).to_numpy(float) - lim, lim)

    if len(res):
        used = _resource_use(inst, x)
        lim = res["capacity"].to_numpy(float) + res["expand_step"].to_numpy(float) * k
        record(at("capacity", res["resource"]), used - lim, lim)
        record(at("k", res["resource"]), k - res["expand_max"].to_numpy(float), res["expand_max"].to_numpy(float))
        record(at("k", res["resource"]), -k, np.zeros(len(k)))
        if integral:
            record(at("k", res["resource"]), np.abs(k - np.round(k)), np.ones(len(k)))

    p_idx = costs.provider_index(inst)
    vol = np.bincount(p_idx, weights=x, minlength=len(prov))
    has_o = ~np.isnan(running)
    if has_o.any():
        big_m = np.bincount(p_idx, weights=dem["dmax"].to_numpy(float)[arcs["dem"].to_numpy(int)], minlength=len(prov))
        o = np.nan_to_num(running)
        name = at("running", prov["provider"], index=np.flatnonzero(has_o))
        record(name, (vol - big_m * o)[has_o], big_m[has_o])
        record(name, (prov["min_volume"].to_numpy(float) * o - vol)[has_o], prov["min_volume"].to_numpy(float)[has_o])
        if integral:
            record(name, np.abs(o - np.round(o))[has_o], np.ones(int(has_o.sum())))

    if len(inst.floors):
        fl = arcs.reset_index().merge(inst.floors, on="pathway", how="inner")
        xf = x[fl["arc"].to_numpy(int)]
        margin = pd.DataFrame({"l": fl["locality"], "p": fl["pathway"],
                               "m": (fl["quality"] - fl["floor"]).to_numpy(float) * xf,
                               "v": xf}).groupby(["l", "p"], sort=False).sum()
        record(at("quality", margin.index.get_level_values(0), margin.index.get_level_values(1)),
               -margin["m"].to_numpy(), margin["v"].to_numpy())

    if inst.max_shift is not None and inst.year == 0:  # later years: year_pace
        need = (1 - inst.max_shift) * arcs["share0"].to_numpy(float) * D[arcs["dem"].to_numpy(int)]
        record(key_at("pace", arcs["dem"].to_numpy(int), arcs["provider"].to_numpy()), need - x, need)



def _resource_use(inst: Instance, x: np.ndarray) -> np.ndarray:
    """Units of each resource used by volumes ``x`` (in ``inst.resources`` order)."""
    u = inst.uses
    r_idx = pd.Index(inst.resources["resource"]).get_indexer(u["resource"])
    return np.bincount(r_idx, weights=u["amount"].to_numpy(float) * x[u["arc"].to_numpy(int)],
                       minlength=len(inst.resources))
