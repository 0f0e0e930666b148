"""Changed instance tables: populations, prevalences and demand scale through to demand."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..designs import CURRENT, designs
from ..errors import ConfigError, Issue
from ..instance import Instance, baseline_demand, demand_numbers
from ..load import Scenario
from .changes import BASE, Changes, WHERE

if TYPE_CHECKING:
    from .session import WarmModel


# --------------------------------------------------------------------------- tables

def _apply(session: WarmModel, ch: Changes) -> Instance:
    """The loaded instance with ``ch`` applied (vectorised; the loaded tables are not touched)."""
    maps = session._maps
    inst = session.scenario.instance
    if ch.budget is not BASE:
        inst = inst.with_budget(ch.budget)
    if ch.capacity:
        cap = inst.resources["capacity"].to_numpy(float).copy()
        idx = maps.res_index.get_indexer(list(ch.capacity))
        cap[idx] = np.fromiter(ch.capacity.values(), float, len(idx))
        inst = replace(inst, resources=inst.resources.assign(capacity=cap))
    if ch.prices:
        unit = inst.offers["unit_cost"].to_numpy(float).copy()
        for key, v in ch.prices.items():
            unit[maps.offer_index[key]] = float(v)
        inst = replace(inst, offers=inst.offers.assign(unit_cost=unit),
                       arcs=inst.arcs.assign(unit_cost=unit[maps.arc_offer]))
    if ch.touches_demand:
        inst = maps.demand.apply(inst, ch)
    return inst


@dataclass
class _Demand:
    """How the demand table follows from populations and prevalences (as
    :func:`optimiser.instance.build` derives it), per demand row."""

    loc_of_dem: np.ndarray
    pw_of_dem: np.ndarray
    loc_index: pd.Index
    pw_index: pd.Index
    pop0: np.ndarray
    prev0: np.ndarray
    """Effective prevalence per 1000, [locality, pathway]."""
    optional: np.ndarray
    per_patient: np.ndarray
    umin: np.ndarray
    umax: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    effect: np.ndarray
    arc_dem: np.ndarray
    share0: np.ndarray
    has_arc: np.ndarray
    today: np.ndarray
    """Demand rows of today's designs (the others have no baseline demand, SPEC 11)."""

    @classmethod
    def build(cls, scenario: Scenario) -> _Demand:
        inst = scenario.instance
        dem = inst.demand
        loc_index = pd.Index(inst.localities["locality"])
        pw_index = pd.Index([p.pathway for p in scenario.pathways])
        loc_of_dem = loc_index.get_indexer(dem["locality"])
        pw_of_dem = pw_index.get_indexer(dem["pathway"])
        steps = {}
        for p in scenario.pathways:
            for d in designs(p):  # a step of a variant's design may differ from today's
                for s in d.steps:
                    steps[(f"{p.pathway}.{s.step}", d.variant)] = (
                        s.optional, 0.0 if s.optional else float(s.per_patient),
                        float(s.per_patient.min) if s.optional else 0.0,
                        float(s.per_patient.max) if s.optional else 0.0)
        params = [steps[k] for k in zip(dem["activity"], dem["variant"])]
        per_patient = np.array([t[1] for t in params], dtype=float)
        umin = np.array([t[2] for t in params], dtype=float)
        umax = np.array([t[3] for t in params], dtype=float)
        pop0 = inst.localities["population"].to_numpy(float)
        # effective prevalence per locality and pathway (the locality's override, from the
        # YAML or a table, else the pathway's), as the instance used it
        prev = np.tile(np.array([float(p.prevalence_per_1000) for p in scenario.pathways]),
                       (len(loc_index), 1))
        prev[loc_of_dem, pw_of_dem] = dem["prevalence"].to_numpy(float)
        av = inst.avoids
        has_arc = np.zeros(len(dem), dtype=bool)
        has_arc[inst.arcs["dem"].to_numpy(np.int64)] = True
        return cls(loc_of_dem, pw_of_dem, loc_index, pw_index, pop0, prev,
                   dem["optional"].to_numpy(bool), per_patient, umin, umax,
                   av["src_dem"].to_numpy(np.int64), av["dst_dem"].to_numpy(np.int64),
                   av["effect"].to_numpy(float), inst.arcs["dem"].to_numpy(np.int64),
                   inst.arcs["share0"].to_numpy(float), has_arc,
                   (dem["variant"] == CURRENT).to_numpy(bool))

    def numbers(self, pop: np.ndarray, prev: np.ndarray) -> dict[str, np.ndarray]:
        """``patients, fixed, ymin, ymax, dmax, d0`` per demand row and ``x0`` per arc."""
        n, fixed, ymin, ymax, dmax = demand_numbers(
            pop[self.loc_of_dem], prev[self.loc_of_dem, self.pw_of_dem], self.optional,
            self.per_patient, self.umin, self.umax)
        d0 = baseline_demand(self.optional, fixed, ymin, self.src, self.dst, self.effect)
        d0 = np.where(self.today, d0, 0.0)
        x0 = self.share0 * d0[self.arc_dem]
        return {"patients": n, "fixed": fixed, "ymin": ymin, "ymax": ymax, "dmax": dmax,
                "d0": d0, "x0": x0}

    def apply(self, inst: Instance, ch: Changes) -> Instance:
        pop = self.pop0.copy()
        if ch.population:
            pop[self.loc_index.get_indexer(list(ch.population))] = np.fromiter(
                ch.population.values(), float, len(ch.population))
        prev = self.prev0.copy()
        for (loc, pw), v in ch.prevalence.items():
            prev[self.loc_index.get_loc(loc), self.pw_index.get_loc(pw)] = float(v)
        scale = ch.demand_scale
        if isinstance(scale, dict):
            for pw, f in scale.items():
                prev[:, self.pw_index.get_loc(pw)] *= float(f)
        elif scale != 1.0:
            pop = pop * float(scale)
        num = self.numbers(pop, prev)
        missing = (num["dmax"] > 0) & ~self.has_arc
        if missing.any():
            dem = inst.demand[missing]
            acts = list(dict.fromkeys(dem["activity"]))
            where = {a: ", ".join(dict.fromkeys(dem.loc[dem["activity"] == a, "locality"]))
                     for a in acts[:10]}
            raise ConfigError([Issue(WHERE, 0, 0, "localities", f"no provider can deliver {a} "
                                     f"in {where[a]} once it has demand (nobody serves it there)")
                               for a in acts[:10]])
        dem = inst.demand.assign(**{k: num[k] for k in ("patients", "fixed", "ymin", "ymax",
                                                         "dmax", "d0")})
        return replace(inst, localities=inst.localities.assign(population=pop), demand=dem,
                       arcs=inst.arcs.assign(x0=num["x0"]))
