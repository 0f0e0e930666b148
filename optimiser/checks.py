"""Cross-reference checks between the config and its pathways (SPEC sections 2 and 3).

The schema checks each file alone; these check that the files agree with each other:
names refer to declared things (with ``did you mean``), optional steps avoid fixed steps of
their own pathway, every step with demand can be delivered in every locality, today's
shares add up to 1 on arcs that exist, and quality is known wherever a floor applies.
Every issue points at the key in the file that caused it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

import numpy as np

from .designs import CURRENT, design_issues, designs
from .errors import Issue
from .instance import Instance
from .schema import Pathway, ScenarioConfig
from .tables import TableSet
from .validate import suggest
from .yamlio import Document

SHARE_TOLERANCE = 1e-6
_ID = re.compile(r"[a-z][a-z0-9_]*")
_ACTIVITY = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


def _places(names) -> str:
    """``north, south`` or, for many, ``loc1, loc2, loc3 and 27 more``."""
    names = list(names)
    if len(names) <= 5:
        return ", ".join(names)
    return f"{', '.join(names[:3])} and {len(names) - 3} more localities"


def check_pathways(pathways: list[Pathway], pdocs: list[Document]) -> list[Issue]:
    """Pathway ids are unique; steps are unique and well formed (avoids, max_share)."""
    out: list[Issue] = []
    ids: dict[str, int] = {}
    activities: set[str] = set()
    for n, (p, pdoc) in enumerate(zip(pathways, pdocs)):
        if p.pathway in ids:
            out.append(pdoc.issue(("pathway",), f"pathway '{p.pathway}' is also defined by "
                                  f"{pdocs[ids[p.pathway]].file}"))
        ids.setdefault(p.pathway, n)
        by_id = {}
        for i, s in enumerate(p.steps):
            if s.step in by_id:
                out.append(pdoc.issue(("steps", i, "step"), f"step '{s.step}' is defined twice "
                                      f"(also steps[{by_id[s.step]}])"))
            by_id.setdefault(s.step, i)
            activities.add(f"{p.pathway}.{s.step}")
        for i, s in enumerate(p.steps):
            if len(set(s.settings)) != len(s.settings):
                out.append(pdoc.issue(("steps", i, "settings"), "a setting is listed twice"))
            for g in s.max_share:
                if g not in s.settings:
                    out.append(pdoc.issue(("steps", i, "max_share", g),
                                          f"'{g}' is not among this step's settings"
                                          + suggest(g, s.settings), key=True))
            if s.avoids and not s.optional:
                out.append(pdoc.issue(("steps", i, "avoids"), "only an optional step "
                                      "(per_patient: {min, max}) can avoid demand", key=True))
            for t in s.avoids:
                if t not in by_id:
                    out.append(pdoc.issue(("steps", i, "avoids", t), f"no step '{t}' in pathway "
                                          f"'{p.pathway}'" + suggest(t, by_id), key=True))
                elif p.steps[by_id[t]].optional:
                    out.append(pdoc.issue(("steps", i, "avoids", t), f"'{t}' is an optional step;"
                                          " only fixed steps can have demand avoided", key=True))
        out += design_issues(p, pdoc)
    return out


def _mapping(v) -> dict:
    return v if isinstance(v, dict) else {}


def check_references(data: dict, pathways: list[Pathway], doc: Document,
                     unchecked: set[str] = frozenset(), *,
                     extra_localities: set[str] = frozenset(),
                     extra_resources: set[str] = frozenset(),
                     blind_to: set[str] = frozenset()) -> list[Issue]:
    """Names in the config refer to declared things, with ``did you mean``.

    Runs on the raw document, so that it reports alongside schema errors (one pass).
    Names the schema already rejects (malformed ids and keys) are left to the schema;
    activities of pathways in ``unchecked`` (files that failed to load) are not judged.
    """
    out: list[Issue] = []
    ids = {p.pathway for p in pathways}
    activities = {f"{p.pathway}.{s.step}" for p in pathways for d in designs(p) for s in d.steps}
    declared = data.get("localities")
    localities = {k for k in _mapping(declared) if isinstance(k, str)}
    # a name the schema rejects ('North') still counts as declared in its valid spelling
    localities |= {k.lower() for k in localities}
    localities |= set(extra_localities)  # declared in a localities table
    resources = set(_mapping(data.get("resources"))) | set(extra_resources)
    if declared is None and not extra_localities and "localities" not in blind_to:
        out.append(doc.issue((), "no localities: declare at least one with its population "
                             "(under localities:, or in a localities table)"))
    if isinstance(declared, dict) and not localities:
        out.append(doc.issue(("localities",), "no localities: declare at least one with its "
                             "population"))

    blind = "*" in unchecked  # a pathway file could not be read at all: names unknown

    def unknown_activity(act) -> bool:
        return (not blind and isinstance(act, str) and _ACTIVITY.fullmatch(act) is not None
                and act not in activities and act.split(".")[0] not in unchecked)

    for loc, spec in _mapping(data.get("localities")).items():
        for pw in _mapping(_mapping(spec).get("prevalence_per_1000")):
            if not blind and _ID.fullmatch(str(pw)) and pw not in ids and pw not in unchecked:
                out.append(doc.issue(("localities", loc, "prevalence_per_1000", pw),
                                     f"no pathway '{pw}' is loaded" + suggest(pw, ids), key=True))
    for name, v in _mapping(data.get("providers")).items():
        v = _mapping(v)
        base = ("providers", name)
        serves = v.get("serves")
        if (isinstance(serves, list) and (isinstance(declared, dict) or extra_localities)
                and "localities" not in blind_to):
            # (else the schema said it)
            for i, loc in enumerate(serves):
                if isinstance(loc, str) and _ID.fullmatch(loc) and loc not in localities:
                    out.append(doc.issue(base + ("serves", i), f"no locality '{loc}'"
                                         + suggest(loc, localities)))
        for field in ("prices", "costs", "quality", "current_share", "uses", "units"):
            for act in _mapping(v.get(field)):
                if unknown_activity(act):
                    out.append(doc.issue(base + (field, act), f"no activity '{act}'"
                                         + suggest(act, activities), key=True))
        uses = [(("uses", act), per) for act, per in _mapping(v.get("uses")).items()]
        uses += [(("units", act, "uses"), _mapping(u).get("uses"))
                 for act, u in _mapping(v.get("units")).items()]
        for path, per in uses:
            for r in _mapping(per):
                if (isinstance(r, str) and _ID.fullmatch(r) and r not in resources
                        and "resources" not in blind_to):
                    out.append(doc.issue(base + path + (r,), f"no resource '{r}'"
                                         + suggest(r, resources), key=True))
    from .backends import REGISTRY

    backend = _mapping(data.get("solve")).get("backend")
    if isinstance(backend, str) and _ID.fullmatch(backend) and backend not in REGISTRY:
        out.append(doc.issue(("solve", "backend"), f"unknown backend '{backend}'"
                             + (suggest(backend, REGISTRY) or f"; available: {', '.join(REGISTRY)}")))
    for pw in _mapping(_mapping(data.get("constraints")).get("min_quality")):
        if (not blind and _ID.fullmatch(str(pw)) and pw != "default" and pw not in ids
                and pw not in unchecked):
            out.append(doc.issue(("constraints", "min_quality", pw), f"no pathway '{pw}' is "
                                 "loaded" + suggest(pw, ["default", *ids]), key=True))
    out += _budget_years(data, doc)
    return out


def _budget_years(data: dict, doc: Document) -> list[Issue]:
    """A list of budgets has one per year of the horizon (SPEC section 7)."""
    budget = _mapping(data.get("constraints")).get("budget")
    horizon = data.get("horizon")
    years = _mapping(horizon).get("years", 1) if horizon is not None else 1
    if (not isinstance(budget, list) or not isinstance(years, int) or isinstance(years, bool)
            or years < 1):  # (an invalid years is the schema's to report)
        return []
    if len(budget) == years or not budget:
        return []
    span = f"horizon.years is {years}" if horizon is not None else "there is no horizon: one year"
    return [doc.issue(("constraints", "budget"), f"{len(budget)} budgets for {years} "
                      f"year{'s' if years != 1 else ''} ({span}): give one number for every "
                      "year, or a list of exactly one per year")]


def check_instance(
    config: ScenarioConfig, pathways: list[Pathway], inst: Instance, doc: Document,
    pdocs: list[Document], tables: TableSet = TableSet(),
) -> list[Issue]:
    """Arcs, shares, quality and baseline demand, on the built tables. A value that came
    from a table is located at its cell."""
    out: list[Issue] = []

    def at(path: tuple, message: str, key: bool = False) -> Issue:
        cell = tables.cell(path)
        return replace(cell, message=message) if cell is not None else doc.issue(path, message, key=key)

    if not len(inst.localities):
        out.append(doc.issue(("localities",), "no localities: declare at least one with its "
                             "population (in the YAML or a localities table)"))
    step_at = {
        (f"{p.pathway}.{s.step}", d.variant): (pdoc, where, s)
        for p, pdoc in zip(pathways, pdocs)
        for d in designs(p)
        for s, where in zip(d.steps, d.where)
    }
    arcs, dem = inst.arcs, inst.demand

    # A step with demand but no arc, per activity (and design) listing the localities.
    has_arc = np.zeros(len(dem), dtype=bool)
    has_arc[arcs["dem"].to_numpy(dtype=int)] = True
    missing = dem[(dem["dmax"] > 0) & ~has_arc]
    for (act, variant), rows in missing.groupby(["activity", "variant"], sort=False):
        pdoc, where, step = step_at[(act, variant)]
        offering = list(dict.fromkeys(inst.offers.loc[inst.offers["activity"] == act, "provider"]))
        design = "" if variant == CURRENT else f" (design '{variant}')"
        out.append(pdoc.issue(
            where + ("settings",),
            f"no provider can deliver {act}{design} in {_places(rows['locality'])}: it needs a "
            f"provider with setting {' or '.join(step.settings)} that serves the locality and "
            f"has a price or cost for it (providers with one: {', '.join(offering) or 'none'})"))

    # Whole units need a cost for the activity (SPEC section 11).
    priced = inst.offers[["provider", "activity"]].drop_duplicates()
    unpriced = inst.units.merge(priced, on=["provider", "activity"], how="left", indicator=True)
    for name, act in zip(*(unpriced.loc[unpriced["_merge"] == "left_only", c]
                           for c in ("provider", "activity"))):
        out.append(doc.issue(("providers", name, "units", act), f"units of {act} need a cost "
                             f"for it under costs (write costs: {{{act}: 0}} when everything "
                             "is paid per unit)", key=True))

    # A declared share needs an arc of today's design (a variant's arcs have no share).
    today = arcs[arcs["variant"] == CURRENT]
    decl0 = inst.declared_shares
    pairs = today[["provider", "activity"]].drop_duplicates()
    lost = decl0.merge(pairs, on=["provider", "activity"], how="left", indicator=True)
    lost = lost[(lost["_merge"] == "left_only")
                & lost["activity"].isin({a for a, _ in step_at})]
    shown = 50  # a national table could list thousands: the first 50, then a count
    in_variant = set(zip(arcs["provider"], arcs["activity"]))
    for n, (name, act) in enumerate(zip(lost["provider"][:shown], lost["activity"][:shown])):
        more = (f" (and {len(lost) - shown:,} more shares like this)"
                if n == shown - 1 and len(lost) > shown else "")
        why = ("today (only a redesign variant has it; current shares describe today's design)"
               if (name, act) in in_variant else
               "(no price/cost, setting not allowed, or no locality served)")
        out.append(at(("providers", name, "current_share", act),
                      f"{name} has a current share of {act} but cannot deliver "
                      f"it {why}{more}", key=True))

    # Declared shares add up to 1 per locality and step of today's design.
    decl = today.merge(inst.declared_shares, on=["provider", "activity"])
    if len(decl):
        sums = decl.groupby(["dem", "locality", "activity"], sort=False)["share"].sum()
        bad = sums[(sums - 1.0).abs() > SHARE_TOLERANCE]
        seen: dict[str, list[str]] = defaultdict(list)
        for (_, loc, act), total in bad.items():
            seen[(act, round(total, 9))].append(loc)
        for (act, total), locs in seen.items():
            parts = decl[(decl["activity"] == act) & decl["locality"].isin(locs[:1])]
            detail = ", ".join(f"{r.provider} {r.share:g}" for r in parts.itertuples())
            first = parts["provider"].iloc[0]
            out.append(at(("providers", first, "current_share", act),
                                 f"current shares of {act} in {_places(locs)} add up to "
                                 f"{total:g} ({detail}); they must add up to 1", key=True))

    # Quality known wherever a floor applies.
    floored = set(inst.floors["pathway"])
    noq = arcs[arcs["quality"].isna() & arcs["pathway"].isin(floored)]
    for (prov, act), _ in noq.groupby(["provider", "activity"], sort=False):
        has_map = isinstance(doc.data["providers"].get(prov), dict) and "quality" in doc.data["providers"][prov]
        where = ("providers", prov, "quality") if has_map else ("providers", prov)
        out.append(doc.issue(where, f"no quality for {act} and no quality "
                             f"default, but pathway {act.split('.')[0]} has a quality floor", key=has_map))

    # Baseline demand of a fixed step must not be negative.
    neg = dem[dem["d0"] < -1e-9]
    for act, rows in neg.groupby("activity", sort=False):
        pdoc, where, _ = step_at[(act, CURRENT)]
        out.append(pdoc.issue(where + ("per_patient",), f"baseline demand of {act} is "
                              f"negative in {_places(rows['locality'])} "
                              f"({rows['d0'].min():,.1f}): minimum uptake of the steps that "
                              "avoid it removes more than there is"))
    return out
