"""The SPEC section 5 tables built from a solution: allocation, constraints, resources.

Every number is cleaned of solver dust (``|v| < 1e-9`` becomes 0, no ``-0``) so that the same
inputs and backend give byte-identical CSVs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from ..model import LinearModel, text
from ..compile.budget import CARRY_UNIT
from . import costs
from .. import whole

ALLOCATION_COLUMNS = ["locality", "pathway", "step", "provider", "setting", "mode", "volume",
                      "unit_cost", "cost", "quality", "baseline_volume"]
CONSTRAINT_COLUMNS = ["name", "kind", "locality", "pathway", "step", "provider", "resource",
                      "activity", "limit", "slack", "shadow_price", "sense", "binding",
                      "valid_from", "valid_to", "meaning"]
RESOURCE_COLUMNS = ["resource", "capacity", "expansion_steps", "used", "utilisation"]
BINDING_TOLERANCE = 1e-6
UNIT_COLUMNS = ["provider", "activity", "size", "units", "capacity", "volume", "utilisation",
                "cost", "baseline_units"]
DEFINITIONS = frozenset({"flow", "payment", "persistence", "setup", "held_expansion", "design",
                         "design_kept"})
"""Row kinds that define a variable rather than limit the plan (flow balances, payments,
a service's running and start, kept staff increments, one design per locality and pathway
and its keeping): tight at every optimum, they are never listed among the binding limits."""


def clean(a: np.ndarray | pd.Series) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return np.where(np.abs(a) < 1e-9, 0.0, a) + 0.0


def allocation(inst: Instance, x: np.ndarray) -> pd.DataFrame:
    """One row per arc. ``cost`` is the volume's own cost in Total: ``price * volume`` for a
    buy provider, ``(1 + overhead) * cost * volume`` for a make provider (block-contract
    top-ups, fixed, setup and expansion costs are whole-provider items, in summary.json)."""
    arcs = inst.arcs
    uplift = 1.0 + inst.providers["overhead"].to_numpy(float)[costs.provider_index(inst)]
    volume = clean(x)
    out = pd.DataFrame({
        "locality": text(arcs["locality"]),
        "pathway": text(arcs["pathway"]),
        "step": text(arcs["step"]),
        "provider": text(arcs["provider"]),
        "setting": text(arcs["setting"]),
        "mode": text(arcs["mode"]),
        "volume": volume,
        "unit_cost": arcs["unit_cost"].to_numpy(float),
        "cost": clean(volume * arcs["unit_cost"].to_numpy(float) * uplift),
        "quality": arcs["quality"].to_numpy(float),
        "baseline_volume": clean(arcs["x0"].to_numpy(float)),
    })
    if inst.varied:  # SPEC section 11: the design each row belongs to
        out.insert(3, "variant", text(arcs["variant"]))
    return out


def constraints(model: LinearModel, values: np.ndarray, duals: np.ndarray | None,
                ranges: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per constraint: its limit, slack and (when known) shadow price.

    ``shadow_price`` is d(Total)/d(limit): the change in optimal total cost per unit the
    limit is raised (negative for a capacity worth having more of)."""
    act = model.A @ values
    lb, ub = model.row_lb, model.row_ub
    eq = lb == ub
    upper = ~eq & np.isfinite(ub)
    limit = np.where(eq | ~upper, lb, ub)
    slack = np.where(eq, np.abs(act - lb), np.where(upper, ub - act, act - lb))
    sense = np.where(eq, "=", np.where(upper, "<=", ">="))
    out = model.row_meta.reset_index(drop=True)
    out["limit"] = clean(limit)
    out["slack"] = clean(slack)
    out["shadow_price"] = clean(duals) if duals is not None else np.nan
    out["sense"] = text(sense)
    out["binding"] = np.abs(slack) <= BINDING_TOLERANCE * np.maximum(1.0, np.abs(limit))
    # the range of the limit over which the shadow price holds (simplex ranging)
    out["valid_from"] = clean(ranges[0]) if ranges is not None else np.nan
    out["valid_to"] = clean(ranges[1]) if ranges is not None else np.nan
    out["meaning"] = text([""] * len(out))
    return out[CONSTRAINT_COLUMNS]


def resources(inst: Instance, used: np.ndarray, k: np.ndarray, x: np.ndarray | None = None,
              n: np.ndarray | None = None, h: np.ndarray | None = None) -> pd.DataFrame:
    """One row per resource; with ``whole`` resources (SPEC section 11), one row per
    provider and activity for each of them instead (``used``: the heads held, ``need``: what
    the activity draws before rounding), and ``provider``/``activity`` empty on the others."""
    res = inst.resources
    total = res["capacity"].to_numpy(float) + res["expand_step"].to_numpy(float) * k
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(total > 0, used / total, np.nan)
    out = pd.DataFrame({
        "resource": res["resource"].to_numpy(),
        "capacity": res["capacity"].to_numpy(float),
        "expansion_steps": clean(k),
        "used": clean(used),
        "utilisation": clean(util),
    })
    if not res["whole"].any():
        return out
    heads = inst.heads
    r_of = pd.Index(res["resource"]).get_indexer(heads["resource"])
    held = np.asarray(h, float) if h is not None else whole.fewest_heads(inst, x, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_util = np.where(total[r_of] > 0, held / total[r_of], np.nan)
    per_head = pd.DataFrame({
        "resource": heads["resource"].to_numpy(object),
        "provider": heads["provider"].to_numpy(object),
        "activity": heads["activity"].to_numpy(object),
        "capacity": res["capacity"].to_numpy(float)[r_of],
        "expansion_steps": clean(np.asarray(k, float)[r_of]),
        "used": clean(held),
        "utilisation": clean(h_util),
        "need": clean(whole.head_use(inst, x, n)),
        "order": r_of,
    })
    # a whole resource nothing draws on keeps one row of its own, like any other
    alone = ~res["whole"].to_numpy(bool) | ~res["resource"].isin(heads["resource"]).to_numpy()
    rest = out[alone].assign(provider=None, activity=None, need=np.nan,
                             order=np.flatnonzero(alone))
    both = pd.concat([rest, per_head], ignore_index=True).sort_values("order", kind="stable")
    return both[["resource", "provider", "activity", "capacity", "expansion_steps", "used",
                 "utilisation", "need"]].reset_index(drop=True)


def units(inst: Instance, x: np.ndarray, n: np.ndarray) -> pd.DataFrame:
    """Whole units held per provider and activity (SPEC section 11; ``units.csv``):
    ``units`` n, the ``capacity`` they give (``size * n``), the ``volume`` they carry,
    ``cost`` (``(1 + overhead) * cost * n``) and the ``baseline_units`` today's volumes need."""
    u = inst.units
    size = u["size"].to_numpy(float)
    n = np.asarray(n, float)
    volume = whole.unit_volume(inst, x)
    overhead = inst.providers.set_index("provider")["overhead"].reindex(u["provider"]).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(size * n > 0, volume / (size * n), np.nan)
    return pd.DataFrame({
        "provider": u["provider"].to_numpy(object),
        "activity": u["activity"].to_numpy(object),
        "size": size,
        "units": clean(n),
        "capacity": clean(size * n),
        "volume": clean(volume),
        "utilisation": clean(util),
        "cost": clean(u["cost"].to_numpy(float) * n * (1.0 + overhead)),
        "baseline_units": whole.fewest_units(inst, inst.arcs["x0"].to_numpy(float)) + 0.0,
    })[UNIT_COLUMNS]


def adoptions(inst: Instance, views: list[Instance], x: np.ndarray, z: np.ndarray,
              adopted: np.ndarray, years) -> list[dict]:
    """Per (locality, pathway) whose plan leaves ``current`` (SPEC section 11), what the
    adoption saves: the pathway's own activity costs in that locality today against the
    plan's, less the adoption cost (discounted sums over a horizon). Fixed, unit and
    resource costs are shared by many pathways and are not attributed."""
    d = inst.designs
    factors = years.discount()
    key = pd.MultiIndex.from_arrays([d["locality"], d["pathway"]])
    pairs = key.unique()
    arcs = inst.arcs
    pair_of_arc = pairs.get_indexer(pd.MultiIndex.from_arrays([arcs["locality"], arcs["pathway"]]))
    uplift = 1.0 + inst.providers["overhead"].to_numpy(float)[costs.provider_index(inst)]
    on = pair_of_arc >= 0
    today = np.zeros(len(pairs))
    plan = np.zeros(len(pairs))
    for t, view in enumerate(views):
        price = view.arcs["unit_cost"].to_numpy(float) * uplift
        today += factors[t] * np.bincount(pair_of_arc[on], weights=(price * view.arcs["x0"].to_numpy(float))[on],
                                          minlength=len(pairs))
        plan += factors[t] * np.bincount(pair_of_arc[on], weights=(price * x[t])[on], minlength=len(pairs))
    paid = factors @ (adopted * d["adoption_cost"].to_numpy(float))
    out = []
    last = z[-1]
    for i in np.flatnonzero(~d["current"].to_numpy(bool) & (last > 0.5)):
        j = pairs.get_loc(key[i])
        first = int(np.argmax(z[:, i] > 0.5))
        entry = {"locality": str(d["locality"].iloc[i]), "pathway": str(d["pathway"].iloc[i]),
                 "variant": str(d["variant"].iloc[i]), "name": str(d["name"].iloc[i])}
        if years.dated:
            entry["year"] = int(years.calendar(first))
        entry.update({
            "adoption_cost": round(float(paid[i]), 2) + 0.0,
            "activity_cost_today": round(float(today[j]), 2) + 0.0,
            "activity_cost_plan": round(float(plan[j]), 2) + 0.0,
            "saves": round(float(today[j] - plan[j] - paid[i]), 2) + 0.0,
        })
        out.append(entry)
    return out


def quality_achieved(inst: Instance, x: np.ndarray) -> dict[str, float | None]:
    """Volume-weighted mean quality per ``locality/pathway`` (None where nothing is known)."""
    arcs = inst.arcs
    q = arcs["quality"].to_numpy(float)
    known = ~np.isnan(q)
    frame = pd.DataFrame({"locality": arcs["locality"], "pathway": arcs["pathway"],
                          "qx": np.where(known, q * x, 0.0), "x": np.where(known, x, 0.0)})
    g = frame.groupby(["locality", "pathway"], sort=False).sum()
    return {f"{loc}/{pw}": (round(q / v, 6) if v > 1e-9 else None)
            for (loc, pw), q, v in zip(g.index.tolist(), g["qx"].tolist(), g["x"].tolist())}


def carried_slack(model, values: np.ndarray, budgets, carry_over: bool):
    """What each year truly leaves of its budget, for reports: ``(rows, slack)`` with the
    budget rows' positions and ``budget[t] + carry[t-1] - spend[t]``, the carry recomputed
    from spending (``c`` may sit anywhere below the unspent amount, so a row's own slack
    says nothing with ``carry_over``). None without a budget or without carry-over."""
    if budgets is None or not carry_over:
        return None
    kinds = model.row_meta["kind"].to_numpy()
    rows = np.flatnonzero(kinds == "budget")
    t = model.row_meta["year"].to_numpy(np.int64)[rows]
    act = (model.A @ values)[rows]
    c = values[model.block("c")]
    c_out = np.array([c[y] if y < len(c) else 0.0 for y in t])
    c_in = np.array([c[y - 1] if 0 < y <= len(c) else 0.0 for y in t])
    spend = act - CARRY_UNIT * (c_out - c_in)
    slack = np.zeros(len(rows))
    carried = 0.0
    for i in np.argsort(t, kind="stable"):  # one row per year: a loop over the years
        slack[i] = budgets[t[i]] + carried - spend[i]
        carried = max(slack[i], 0.0)
    return rows, slack
