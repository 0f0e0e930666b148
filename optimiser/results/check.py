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
from .. import whole


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
          integral: bool, z: np.ndarray | None = None, n: np.ndarray | None = None,
          h: np.ndarray | None = None) -> Check:
    """``x`` per arc, ``y`` per demand row (NaN for fixed steps), ``running`` per provider
    (NaN where the provider has no running indicator), ``k`` per resource, and section 11's
    ``z`` per design, ``n`` per whole-unit activity, ``h`` per whole-head triple (None:
    none in the scenario): a one-year plan."""
    def lift(a, size):
        return np.zeros((1, size)) if a is None else np.asarray(a, float)[None, :]
    return check_years(inst, x[None, :], y[None, :], running[None, :], k[None, :], integral,
                       lift(z, len(inst.designs)), lift(n, len(inst.units)),
                       lift(h, len(inst.heads)))


def check_years(inst: Instance, x: np.ndarray, y: np.ndarray, running: np.ndarray,
                k: np.ndarray, integral: bool, z: np.ndarray | None = None,
                n: np.ndarray | None = None, h: np.ndarray | None = None) -> Check:
    """A plan over the horizon (SPEC section 7): each argument of :func:`check` with a
    leading year axis. Every year's section 3 and 11 constraints at that year's demand,
    then what links the years: persistence, held expansion, year-on-year pace (relaxed on
    a design that is left), designs kept, the budget with carry-over (the carry recomputed
    as what is left unspent); the objective is the discounted sum of each year's Total,
    setup and adoptions."""
    years = inst.years
    T = years.count
    z = np.zeros((T, len(inst.designs))) if z is None else np.asarray(z, float)
    n = np.zeros((T, len(inst.units))) if n is None else np.asarray(n, float)
    h = np.zeros((T, len(inst.heads))) if h is None else np.asarray(h, float)
    viol: list[tuple[float, str]] = []
    spend = np.zeros(T)
    started = costs.starts(inst, np.nan_to_num(running))
    new = ~inst.designs["current"].to_numpy(bool)
    adopted = np.where(new, z - np.vstack([np.zeros((1, z.shape[1])), z[:-1]]), 0.0)
    for t in range(T):
        view = inst.at_year(t)
        suffix = f" in {int(years.calendar(t))}" if years.dated and T > 1 else ""
        record = _recorder(viol, suffix)
        _one_year(view, x[t], y[t], running[t], k[t], integral, record, z[t], n[t], h[t])
        _whole(view, x[t], z[t], n[t], h[t], integral, record)
        spend[t] = costs.breakdown(view, x[t], np.nan_to_num(running[t]), k[t], started[t],
                                   adopted[t], n[t], h[t])["total"]
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
        d = inst.designs
        record(lambda i, t=t: f"design_kept[{d['locality'].iloc[i]},{d['pathway'].iloc[i]},"
                              f"{d['variant'].iloc[i]},{label[t]}]",
               np.where(new, z[t - 1] - z[t], 0.0), np.ones(len(d)))
        if inst.max_shift is not None:
            a_dem = inst.arcs["dem"].to_numpy(int)
            g = inst.demand["growth"].to_numpy(float)[a_dem]
            need = (1 - inst.max_shift) * g * x[t - 1]
            # an arc of a design that is left may lose everything (SPEC section 11)
            design = inst.demand["design"].to_numpy(int)[a_dem]
            left = np.where(design >= 0, np.maximum(z[t - 1, np.maximum(design, 0)]
                                                    - z[t, np.maximum(design, 0)], 0.0)
                            if len(d) else 0.0, 0.0) * (inst.arcs["variant"].to_numpy(object) == "current")
            dmax = inst.demand["dmax"].to_numpy(float)[a_dem] * g ** (t - 1)
            need = need - (1 - inst.max_shift) * g * dmax * left
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
              integral: bool, record, z: np.ndarray, n: np.ndarray, h: np.ndarray) -> None:
    """Section 3's constraints of one year (all but the budget), violations to ``record``;
    a design's demand and uptake range scale with its ``z`` (SPEC section 11)."""
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
    design = dem["design"].to_numpy(int)
    share = np.where(design >= 0, z[np.maximum(design, 0)] if len(z) else 1.0, 1.0)
    record(at("x", arcs["provider"]), -x, np.zeros(len(x)))
    opt_rows = np.flatnonzero(opt)
    ymin = dem["ymin"].to_numpy(float) * share
    ymax = dem["ymax"].to_numpy(float) * share
    record(key_at("y", opt_rows), ymin[opt] - yv[opt], ymin[opt])
    record(key_at("y", opt_rows), yv[opt] - ymax[opt], ymax[opt])

    # demand: D = y (optional) or N*pp*z - sum effect*y[src]
    av = inst.avoids
    avoided = np.bincount(av["dst_dem"].to_numpy(int), weights=av["effect"].to_numpy(float)
                          * yv[av["src_dem"].to_numpy(int)], minlength=len(dem))
    D = np.where(opt, yv, dem["fixed"].to_numpy(float) * share - avoided)
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
        used = whole.resource_use(inst, x, n, h)
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



def _whole(inst: Instance, x: np.ndarray, z: np.ndarray, n: np.ndarray, h: np.ndarray,
           integral: bool, record) -> None:
    """Section 11's constraints of one year: one design per locality and pathway, at most
    ``max_redesigns`` left ``current``, volumes within whole units, heads covering use."""
    d, units, heads = inst.designs, inst.units, inst.heads
    if len(d):
        pair = pd.Series(z).groupby([d["locality"].to_numpy(object), d["pathway"].to_numpy(object)],
                                    sort=False).sum()
        keys = pair.index.tolist()
        record(lambda i: f"design[{keys[i][0]},{keys[i][1]}]", np.abs(pair.to_numpy() - 1.0),
               np.ones(len(pair)))
        name = lambda i: f"z[{d['locality'].iloc[i]},{d['pathway'].iloc[i]},{d['variant'].iloc[i]}]"  # noqa: E731
        record(name, -z, np.zeros(len(z)))
        record(name, z - 1.0, np.ones(len(z)))
        if integral:
            record(name, np.abs(z - np.round(z)), np.ones(len(z)))
        if inst.max_redesigns is not None:
            left = float(z[~d["current"].to_numpy(bool)].sum())
            record(lambda i: "max_redesigns", np.array([left - inst.max_redesigns]),
                   np.array([float(inst.max_redesigns)]))
    if len(units):
        volume = whole.unit_volume(inst, x)
        cap = units["size"].to_numpy(float) * n
        name = lambda i: f"units[{units['provider'].iloc[i]},{units['activity'].iloc[i]}]"  # noqa: E731
        record(name, volume - cap, cap)
        record(name, -n, np.zeros(len(n)))
        if integral:
            record(name, np.abs(n - np.round(n)), np.ones(len(n)))
    if len(heads):
        need = whole.head_use(inst, x, n)
        name = lambda i: (f"heads[{heads['provider'].iloc[i]},{heads['activity'].iloc[i]},"  # noqa: E731
                          f"{heads['resource'].iloc[i]}]")
        record(name, need - h, need)
        if integral:
            record(name, np.abs(h - np.round(h)), np.ones(len(h)))
