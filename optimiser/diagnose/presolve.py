"""Plain impossibilities found before any solver runs, located like every other message.

* a step that needs activity where every provider able to deliver it draws on a resource
  with no capacity (none now, none to buy);
* a quality floor above the best quality any provider of that pathway offers in a
  locality (a volume-weighted mean cannot exceed its largest term);
* block contracts that alone cost more than the budget (take-or-pay is paid whatever
  happens). In a plan of several years (SPEC section 7) block contracts are paid every
  year: without ``carry_over``, a year whose budget is below them has no plan; with it, the
  first year t whose budgets up to t, all carried forward, are below t+1 years of block
  contracts (what could have been carried is at most what earlier years' budgets leave
  after their own block contracts).

Capacity and quality findings hold in every year of a plan alike; they name the first
year's row.
"""

from __future__ import annotations

import numpy as np

from ..load import Scenario
from ..results.text import money


def _at(doc, path) -> tuple[str, str]:
    issue = doc.issue(path, "")
    return (f"{issue.file}:{issue.line}:{issue.column}" if issue.line else issue.file), issue.path


def presolve_findings(scenario: Scenario) -> list[dict]:
    inst, doc = scenario.instance, scenario.document
    out: list[dict] = []

    # 1. steps whose every arc needs a resource that has no capacity at all
    res = inst.resources.assign(most=inst.resources["capacity"]
                                + inst.resources["expand_step"] * inst.resources["expand_max"])
    dead = set(res.loc[res["most"] <= 0, "resource"])
    if dead:
        u = inst.uses[(inst.uses["amount"] > 0) & inst.uses["resource"].isin(dead)]
        blocked = np.zeros(len(inst.arcs), dtype=bool)
        blocked[u["arc"].to_numpy(int)] = True
        dem = inst.demand
        av = inst.avoids
        can_avoid = np.bincount(av["dst_dem"].to_numpy(int), minlength=len(dem),
                                weights=av["effect"].to_numpy(float) * dem["ymax"].to_numpy(float)[av["src_dem"].to_numpy(int)])
        least = np.where(dem["optional"].to_numpy(bool), dem["ymin"].to_numpy(float),
                         np.maximum(0.0, dem["fixed"].to_numpy(float) - can_avoid))
        # a step of a pathway with variants has demand only in the design chosen (SPEC 11)
        least = np.where(dem["design"].to_numpy(np.int64) >= 0, 0.0, least)
        arcs = inst.arcs.assign(blocked=blocked)
        all_blocked = arcs.groupby("dem")["blocked"].all()
        for d in all_blocked[all_blocked].index:
            if least[d] <= 1e-9:
                continue
            row = dem.loc[d]
            names = sorted(set(u.loc[u["arc"].isin(arcs.index[arcs["dem"] == d]), "resource"]))
            where, key = scenario.locate(("resources", names[0], "capacity"))
            out.append({"kind": "capacity", "constraint": _name(scenario, f"capacity[{names[0]}]"),
                        "where": where,
                        "key": key, "message": (
                            f"{row['activity']} in {row['locality']} needs at least {least[d]:,.0f} "
                            f"activities, but every provider able to deliver it draws on "
                            f"{', '.join(names)}, which has no capacity")})

    # 2. quality floors above the best quality on offer
    if len(inst.floors):
        a = inst.arcs.merge(inst.floors, on="pathway")
        best = a.groupby(["locality", "pathway"], sort=False).agg(best=("quality", "max"),
                                                                  floor=("floor", "first"))
        floors = scenario.config.constraints.min_quality
        for (loc, pw), r in best[best["best"] < best["floor"] - 1e-12].iterrows():
            where, key = _at(doc, ("constraints", "min_quality", pw if pw in floors else "default"))
            out.append({"kind": "quality", "constraint": _name(scenario, f"quality[{loc},{pw}]"),
                        "where": where,
                        "key": key, "message": (
                            f"{pw} quality floor {r['floor']:g} in {loc} is above the best quality "
                            f"any provider offers there ({r['best']:g})")})

    # 3. block contracts above the budget (of any year, carry-over counted)
    out += _blocks_above_budget(scenario)
    return out


def _name(scenario: Scenario, name: str, t: int = 0) -> str:
    """A row's name as the model spells it: the calendar year last when there is a horizon."""
    years = scenario.instance.years
    if not years.dated:
        return name
    y = int(years.calendar(t))
    return f"{name[:-1]},{y}]" if name.endswith("]") else f"{name}[{y}]"


def _blocks_above_budget(scenario: Scenario) -> list[dict]:
    inst, cur = scenario.instance, scenario.config.currency
    years = inst.years
    if years.budgets is None:
        return []
    blocks = float(inst.providers["block_contract"].sum())
    budgets = np.asarray(years.budgets, dtype=float)
    listed = isinstance(scenario.config.constraints.budget, list)

    def finding(t: int, message: str) -> dict:
        where, key = scenario.locate(("constraints", "budget", t) if listed else ("constraints", "budget"))
        return {"kind": "budget", "constraint": _name(scenario, "budget", t), "where": where,
                "key": key, "message": message}

    if years.count == 1:
        if blocks > budgets[0] + 1e-9:
            return [finding(0, f"block contracts alone cost {money(blocks, cur)}, above the "
                               f"budget of {money(budgets[0], cur)}")]
        return []
    cal = [int(y) for y in years.calendar(np.arange(years.count))]
    if not years.carry_over:
        bad = np.flatnonzero(blocks > budgets + 1e-9)
        if not listed:  # the same budget every year: one finding says it
            return [finding(0, f"block contracts alone cost {money(blocks, cur)} a year, above "
                               f"the budget of {money(budgets[0], cur)} a year")] if len(bad) else []
        return [finding(int(t), f"block contracts alone cost {money(blocks, cur)} a year, above "
                                f"the budget of {money(budgets[t], cur)} for {cal[t]}")
                for t in bad]
    # with carry-over, year t may spend its budget plus what earlier years left unspent:
    # over years 0..t, spending (at least t+1 years of block contracts) is at most the sum
    # of their budgets. The first year where that fails is certainly short.
    need = blocks * np.arange(1, years.count + 1)
    have = np.cumsum(budgets)
    bad = np.flatnonzero(need > have + 1e-9 * np.maximum(1.0, have))
    if not len(bad):
        return []
    t = int(bad[0])
    if t == 0:
        return [finding(0, f"block contracts alone cost {money(blocks, cur)} a year, above "
                           f"the budget of {money(budgets[0], cur)} for {cal[0]}")]
    return [finding(t, f"block contracts alone cost {money(blocks, cur)} a year, "
                       f"{money(need[t], cur)} over {cal[0]}-{cal[t]}, above the "
                       f"{money(have[t], cur)} budgeted for those years, carry-over included")]
