"""Assemble a :class:`Result` from the scenario, the model and what the solver returned."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import __version__
from ..backends.base import SolverOutput, Status
from ..instance import Instance
from ..load import Scenario
from ..model import LinearModel
from . import check as check_mod
from . import costs, tables, worth
from .. import whole
from .result import Result


def _round(v: float | None, digits: int = 6) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), digits) + 0.0


def build_result(scenario: Scenario, model: LinearModel, out: SolverOutput,
                 duals: np.ndarray | None, *, mode: str, backend: str, version: str,
                 ranges: tuple[np.ndarray, np.ndarray] | None = None) -> Result:
    inst = scenario.instance
    years = inst.years
    T = years.count
    views = [inst.at_year(t) for t in range(T)]
    factors = years.discount()
    base_by_year = [costs.baseline(v) for v in views]
    base_total = float(factors @ np.array([b["total"] for b in base_by_year]))
    summary: dict = {
        "status": out.status.value,
        "scenario": scenario.name,
        "currency": scenario.config.currency,
        "objective": None,
        "baseline_cost": _round(base_total, 2),
        # today's cost by part, priced like ``cost`` (discounted sums over a horizon); the
        # report's waterfall steps from these to the plan's parts
        "baseline_parts": {p: _round(float(factors @ np.array([b[p] for b in base_by_year])), 2)
                           for p in costs.PARTS},
        "savings": None,
        "cost": None,
        "quality": None,
        "solver": {"backend": backend, "mode": mode, "seconds": round(out.seconds, 3),
                   "gap": _round(out.gap, 9), "version": version, "message": out.message},
        "model": {"variables": model.num_cols, "constraints": model.num_rows,
                  "nonzeros": model.num_nonzeros,
                  "integer_variables": int(model.col_integer.sum()) if mode != "lp" else 0},
        "input_sha256": scenario.input_sha256,
        "inputs": [{"path": f.path, "sha256": f.sha256} for f in scenario.files],
        "overrides": list(scenario.overrides),
        "version": __version__,
    }
    if years.dated:
        summary["horizon"] = {"start": years.start, "years": T,
                              "discount_rate": years.discount_rate,
                              "carry_over": years.carry_over}
    if not out.status.has_solution:
        return Result(status=out.status, objective=None, summary=summary)

    v = out.values
    x, y, running, k = plan_values(inst, model, v)
    z, n, h = whole_values(inst, model, v)
    adopted = adoptions(inst, z)
    started = costs.starts(inst, np.nan_to_num(running))
    parts = [costs.breakdown(views[t], x[t], np.nan_to_num(running[t]), k[t], started[t],
                             adopted[t], n[t], h[t])
             for t in range(T)]
    verdict = check_mod.check_years(inst, x, y, running, k, integral=(mode != "lp"),
                                    z=z, n=n, h=h)
    used = [whole.resource_use(views[t], x[t], n[t], h[t]) for t in range(T)]
    allocation = _by_year(years, [tables.allocation(views[t], x[t]) for t in range(T)])
    summary["objective"] = _round(out.objective, 2)
    summary["savings"] = _round(base_total - out.objective, 2)
    summary["cost"] = {p: _round(float(factors @ np.array([q[p] for q in parts])), 2)
                       for p in costs.PARTS}
    summary["quality"] = tables.quality_achieved(inst, x.sum(axis=0))
    if inst.varied:
        summary["designs"] = chosen_designs(inst, z[-1])
        summary["adoptions"] = tables.adoptions(inst, views, x, z, adopted, years)
    if len(inst.units):
        summary["units"] = {f"{p}/{a}": _round(float(c), 6) for p, a, c in zip(
            inst.units["provider"].tolist(), inst.units["activity"].tolist(), n[-1])}
    summary["check"] = {
        "max_violation": float(f"{verdict.max_violation:.3g}"),
        "worst": verdict.worst,
        "objective_recomputed": _round(verdict.objective, 2),
        "allocation_cost": _round(float(allocation["cost"].sum()), 2),
    }
    summary["make_share"] = _make_share(allocation)
    summary["solver"]["bound"] = _round(out.bound, 2)
    if years.dated:
        summary["by_year"] = plan_years(inst, parts, base_by_year, running, k, started)
        summary["payback_year"] = payback_year(summary["by_year"])
    cons = tables.constraints(model, v, duals, ranges)
    carried = tables.carried_slack(model, v, years.budgets, years.carry_over)
    if carried is not None:  # a carried budget's slack is what the year truly leaves
        rows, slack = carried
        limit = cons["limit"].to_numpy(float)[rows]
        cons.loc[rows, "slack"] = tables.clean(slack)
        cons.loc[rows, "binding"] = np.abs(slack) <= tables.BINDING_TOLERANCE * np.maximum(1.0, np.abs(limit))
    if inst.varied:
        cons.insert(cons.columns.get_loc("activity") + 1, "variant",
                    model.row_meta["variant"].to_numpy(object))
        # the rows of a design the plan does not run hold trivially (no demand, no flow):
        # they are not limits of this plan
        d = inst.designs
        meta = model.row_meta
        design = pd.MultiIndex.from_arrays([d["locality"], d["pathway"], d["variant"]]).get_indexer(
            pd.MultiIndex.from_arrays([meta["locality"], meta["pathway"], meta["variant"]]))
        has = design >= 0
        off = np.zeros(len(meta), dtype=bool)
        off[has] = z[meta["year"].to_numpy(np.int64)[has], design[has]] < 0.5
        cons.loc[off, "binding"] = False
    if years.dated:
        cons.insert(0, "year", years.calendar(model.row_meta["year"].to_numpy(np.int64)))
    return Result(
        status=out.status,
        objective=out.objective,
        summary=summary,
        allocation=allocation,
        constraints=worth.annotate(cons, scenario, x, mode),
        resources=_by_year(years, [tables.resources(views[t], used[t], k[t], x[t], n[t], h[t])
                                   for t in range(T)]),
        units=(_by_year(years, [tables.units(views[t], x[t], n[t]) for t in range(T)])
               if len(inst.units) else None),
    )


def plan_values(inst: Instance, model: LinearModel, v: np.ndarray):
    """A solution's ``x`` (years x arcs), ``y`` (years x demand rows, NaN for fixed steps),
    ``running`` (years x providers, NaN without ``o``) and ``k`` (years x resources)."""
    T = inst.years.count

    def per_year(kind: str, owners, key: str, fill: float) -> np.ndarray:
        out = np.full((T, len(owners)), fill)
        cols = model.col_meta.iloc[model.block(kind)]
        at = _index_of(owners, cols[key])
        out[cols["year"].to_numpy(np.int64), at] = v[model.block(kind)]
        return out

    x = v[model.block("x")].reshape(T, len(inst.arcs))
    y = np.full((T, len(inst.demand)), np.nan)
    opt = np.flatnonzero(inst.demand["optional"].to_numpy(bool))
    y[:, opt] = v[model.block("y")].reshape(T, len(opt))
    running = per_year("o", inst.providers["provider"], "provider", np.nan)
    k = per_year("k", inst.resources["resource"], "resource", 0.0)
    return x, y, running, k


def whole_values(inst: Instance, model: LinearModel, v: np.ndarray):
    """A solution's section 11 columns: ``z`` (years x designs), ``n`` (years x whole-unit
    activities) and ``h`` (years x whole-head triples)."""
    T = inst.years.count
    return tuple(v[model.block(kind)].reshape(T, size)
                 for kind, size in (("z", len(inst.designs)), ("n", len(inst.units)),
                                    ("h", len(inst.heads))))


def adoptions(inst: Instance, z: np.ndarray) -> np.ndarray:
    """Per year and design, how far it is adopted that year: ``z[t] - z[t-1]`` (``z[-1] =
    0``) for a design other than ``current``, 0 for ``current``."""
    new = ~inst.designs["current"].to_numpy(bool)
    before = np.vstack([np.zeros((1, z.shape[1])), z[:-1]])
    return np.where(new, np.maximum(z - before, 0.0), 0.0)


def chosen_designs(inst: Instance, z: np.ndarray) -> dict[str, str]:
    """``locality/pathway`` to its design: the one with the largest ``z`` (``current`` on a
    tie, then the first listed)."""
    d = inst.designs
    frame = pd.DataFrame({"key": [f"{a}/{b}" for a, b in zip(d["locality"], d["pathway"])],
                          "variant": d["variant"].to_numpy(object),
                          "z": np.round(z, 6) + d["current"].to_numpy(bool) * 1e-9})
    best = frame.loc[frame.groupby("key", sort=False)["z"].idxmax()]
    return dict(zip(best["key"].tolist(), best["variant"].tolist()))


def plan_years(inst: Instance, parts: list[dict], base: list[dict], running: np.ndarray,
               k: np.ndarray, started: np.ndarray) -> list[dict]:
    """``summary.json``'s ``by_year`` (SPEC section 7): per year the undiscounted spend,
    baseline, savings, budget and what is carried out of it; and (extensions) the setup
    paid, the make services running and starting, and the staff increments held."""
    years = inst.years
    prov, res = inst.providers, inst.resources
    runs = np.nan_to_num(running) > 0.5
    out, carry = [], 0.0
    for t in range(years.count):
        spend = parts[t]["total"]
        budget = None if years.budgets is None else years.budgets[t]
        if budget is not None and years.carry_over:
            carry = budget + carry - spend
        out.append({
            "year": int(years.calendar(t)),
            "spend": _round(spend, 2),
            "baseline": _round(base[t]["total"], 2),
            "savings": _round(base[t]["total"] - spend, 2),
            "budget": _round(budget, 2),
            "carry": _round(carry if (budget is not None and years.carry_over) else 0.0, 2),
            "setup": _round(parts[t]["setup"], 2),
            "discount_factor": _round(float(years.discount()[t]), 9),
            "running": [str(p) for p in prov["provider"].to_numpy()[runs[t]]],
            "started": [str(p) for p in prov["provider"].to_numpy()[started[t] > 0.5]],
            "expansion_steps": {str(r): _round(float(s), 6)
                                for r, s in zip(res["resource"].tolist(), k[t]) if s > 1e-9},
        })
    return out


def payback_year(by_year: list[dict]) -> int | None:
    """The first year by whose end the plan's cumulative (undiscounted) savings against the
    baseline are not negative; None when they stay negative to the end of the horizon."""
    total = 0.0
    for entry in by_year:
        total += entry["savings"] or 0.0
        if total >= -0.005:
            return entry["year"]
    return None


def _by_year(years, frames: list) -> "pd.DataFrame":
    """One year's table, or every year's stacked with a ``year`` column first (a plan with a
    horizon)."""
    if not years.dated:
        return frames[0]
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "year", np.repeat(years.calendar(np.arange(len(frames))), [len(f) for f in frames]))
    return out


def _index_of(names, wanted) -> np.ndarray:
    return pd.Index(names).get_indexer(wanted)


def _make_share(allocation) -> dict[str, float | None]:
    """Share of volume delivered by make providers, per pathway."""
    g = allocation.assign(made=np.where(allocation["mode"] == "make", allocation["volume"], 0.0))
    g = g.groupby("pathway", sort=False)[["made", "volume"]].sum()
    return {str(p): (_round(r["made"] / r["volume"], 6) if r["volume"] > 0 else None)
            for p, r in g.iterrows()}


__all__ = ["build_result", "Status"]
