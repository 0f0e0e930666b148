"""Plain impossibilities found before any solver runs, located like every other message.

* a step that needs activity where every provider able to deliver it draws on a resource
  with no capacity (none now, none to buy);
* a quality floor above the best quality any provider of that pathway offers in a
  locality (a volume-weighted mean cannot exceed its largest term);
* block contracts that alone cost more than the budget (take-or-pay is paid whatever
  happens).
"""

from __future__ import annotations

import numpy as np

from ..load import Scenario
from ..results.text import money


def _at(doc, path) -> tuple[str, str]:
    issue = doc.issue(path, "")
    return (f"{issue.file}:{issue.line}:{issue.column}" if issue.line else issue.file), issue.path


def presolve_findings(scenario: Scenario) -> list[dict]:
    inst, doc, cur = scenario.instance, scenario.document, scenario.config.currency
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
        arcs = inst.arcs.assign(blocked=blocked)
        all_blocked = arcs.groupby("dem")["blocked"].all()
        for d in all_blocked[all_blocked].index:
            if least[d] <= 1e-9:
                continue
            row = dem.loc[d]
            names = sorted(set(u.loc[u["arc"].isin(arcs.index[arcs["dem"] == d]), "resource"]))
            where, key = scenario.locate(("resources", names[0], "capacity"))
            out.append({"kind": "capacity", "constraint": f"capacity[{names[0]}]", "where": where,
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
            out.append({"kind": "quality", "constraint": f"quality[{loc},{pw}]", "where": where,
                        "key": key, "message": (
                            f"{pw} quality floor {r['floor']:g} in {loc} is above the best quality "
                            f"any provider offers there ({r['best']:g})")})

    # 3. block contracts above the budget
    if inst.budget is not None:
        blocks = float(inst.providers["block_contract"].sum())
        if blocks > inst.budget + 1e-9:
            where, key = _at(doc, ("constraints", "budget"))
            out.append({"kind": "budget", "constraint": "budget", "where": where, "key": key,
                        "message": (f"block contracts alone cost {money(blocks, cur)}, above the "
                                    f"budget of {money(inst.budget, cur)}")})
    return out
