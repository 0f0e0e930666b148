"""Constraint rows in the commissioner's words, each located at the config key that made it.

In a plan of several years (SPEC section 7) every row belongs to a year (``row["year"]``, the
index t); its message names the calendar year, and a ``budget`` row of year t points at
that year's entry of a budget list (``constraints.budget[t]``).

SPEC section 11: a row of a design's step (``row["variant"]`` set) is located where that
design writes the key (a variant's ``replace`` or ``add`` entry; a step it takes over
unchanged, or a key its ``replace`` entry does not give, at today's step); ``max_redesigns``
at ``constraints.max_redesigns``; ``units`` at ``providers.V.units.A``; ``heads`` (a whole
resource's head count per provider and activity) at ``resources.R.whole``; a whole resource's
``capacity`` counts heads.
"""

from __future__ import annotations

import pandas as pd

from ..designs import CURRENT, designs
from ..load import Scenario
from ..results.text import money
from ..results.worth import setting_of as _setting_in


def year_of(scenario: Scenario, row: pd.Series) -> int | None:
    """The calendar year a row belongs to, when the plan has a horizon of several years."""
    years = scenario.instance.years
    if not years.dated or years.count <= 1:
        return None
    return int(years.calendar(int(row.get("year", 0) or 0)))


def _in(scenario: Scenario, row: pd.Series) -> str:
    """`` in 2028`` for a row of a multi-year plan, else nothing."""
    y = year_of(scenario, row)
    return "" if y is None else f" in {y}"


def _config_path(scenario: Scenario, row: pd.Series) -> tuple:
    kind = row["kind"]
    cfg = scenario.config
    if kind == "quality":
        floors = cfg.constraints.min_quality
        return ("constraints", "min_quality",
                row["pathway"] if row["pathway"] in floors else "default")
    if kind == "budget":
        if isinstance(cfg.constraints.budget, list):
            return ("constraints", "budget", int(row.get("year", 0) or 0))
        return ("constraints", "budget")
    return {
        "capacity": ("resources", row["resource"], "capacity"),
        "pace": ("constraints", "max_shift"),
        "year_pace": ("constraints", "max_shift"),
        "min_volume": ("providers", row["provider"], "min_volume"),
        "block_contract": ("providers", row["provider"], "block_contract"),
        "setup": ("providers", row["provider"], "setup_cost"),
        "persistence": ("providers", row["provider"]),
        "held_expansion": ("resources", row["resource"], "expand"),
        "max_redesigns": ("constraints", "max_redesigns"),
        "units": ("providers", row["provider"], "units", row["activity"]),
        "heads": ("resources", row["resource"], "whole"),
    }.get(kind) or ()


def variant_of(row: pd.Series) -> str | None:
    """The design of a row of a pathway with variants (SPEC section 11), else None."""
    w = row.get("variant")
    return w if isinstance(w, str) and w else None


def _given(pdoc, path: tuple) -> bool:
    """Whether the pathway file writes ``path`` (or something under it)."""
    n = len(path)
    return any(tuple(p[:n]) == path for p in pdoc.values)


def step_path(pathway, pdoc, variant: str | None, step: str, key: str) -> tuple:
    """Where ``key`` of ``step`` in design ``variant`` (``None``: today's) is written: the
    step's entry in that design (``steps[i]``, or a variant's ``replace``/``add`` entry),
    today's step when a ``replace`` entry does not give ``key``."""
    today = [s.step for s in pathway.steps]
    for d in designs(pathway):
        if d.variant != (variant or CURRENT):
            continue
        here = [s.step for s in d.steps]
        if step not in here:
            break
        where = tuple(d.where[here.index(step)])
        if where[2:3] == ("replace",) and not _given(pdoc, where + (key,)) and step in today:
            return ("steps", today.index(step))
        return where
    return ("steps", today.index(step)) if step in today else ("variants", variant or CURRENT)


def location(scenario: Scenario, row: pd.Series) -> tuple[str, str]:
    """``(FILE:LINE:COL, key.path)`` of the key that created a constraint row."""
    kind = row["kind"]
    if kind in ("setting_cap", "uptake_min", "uptake_max", "design", "design_kept"):
        pw = row["pathway"]
        idx = [p.pathway for p in scenario.pathways].index(pw)
        pdoc, pathway = scenario.pathway_documents[idx], scenario.pathways[idx]
        if kind == "design":
            path = ("variants",)
        elif kind == "design_kept":
            path = ("variants", variant_of(row) or CURRENT)
        elif kind == "setting_cap":
            path = step_path(pathway, pdoc, variant_of(row), row["step"], "max_share") + (
                "max_share", setting_of(row))
        else:
            path = step_path(pathway, pdoc, variant_of(row), row["step"], "per_patient") + (
                "per_patient", "min" if kind == "uptake_min" else "max")
        issue = pdoc.issue(path, "")
        where = issue.file if not issue.line else f"{issue.file}:{issue.line}:{issue.column}"
        return where, issue.path
    if kind == "units":  # a mapping: its key's line, not its first entry's
        issue = scenario.document.issue(_config_path(scenario, row), "", key=True)
        where = issue.file if not issue.line else f"{issue.file}:{issue.line}:{issue.column}"
        return where, issue.path
    return scenario.locate(_config_path(scenario, row))


def setting_of(row: pd.Series) -> str:
    """The setting of a ``setting_cap`` row."""
    return _setting_in(row["name"])


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


def _design(row: pd.Series) -> str:
    """`` (integrated design)`` for a row of a design's step, else nothing."""
    w = variant_of(row)
    return f" ({w} design)" if w else ""


def _is_whole(scenario: Scenario, resource) -> bool:
    """Whether a resource is counted in whole heads (SPEC section 11)."""
    res = scenario.instance.resources
    return bool("whole" in res and res.loc[res["resource"] == resource, "whole"].any())


def _budget_words(scenario: Scenario, row: pd.Series) -> str:
    y = year_of(scenario, row)
    return "budget" if y is None else f"budget for {y}"


def relaxation_message(scenario: Scenario, row: pd.Series, limit: float, by: float,
                       extra: dict) -> str:
    """What must change, in domain units, for a row relaxed by ``by`` (always > 0)."""
    kind = row["kind"]
    cur = scenario.config.currency
    inst = scenario.instance
    when = _in(scenario, row)
    if kind == "capacity":
        r = inst.resources.set_index("resource").loc[row["resource"]]
        heads = " heads" if _is_whole(scenario, row["resource"]) else ""
        text = (f"{row['resource']} is {_fmt(by)}{heads} short{when} (capacity "
                f"{_fmt(r['capacity'])}{heads}")
        if r["expand_step"] > 0:
            used = extra.get("steps_used")
            most = int(r["expand_max"])
            if used is not None and used < most - 1e-9:
                # expansion was possible but not taken (another limit, e.g. the budget, binds)
                text += (f"; the plan uses {used:g} of {most} expansion steps of "
                         f"{_fmt(r['expand_step'])}")
            else:
                text += (f"; all {most} expansion steps of {_fmt(r['expand_step'])} are used; "
                         f"the shortfall is {by / r['expand_step']:.2f} more steps")
        return text + ")"
    if kind == "budget":
        carried = (inst.years.carry_over and int(row.get("year", 0) or 0) > 0)
        return (f"{_budget_words(scenario, row)} is {money(by, cur)} short (budget "
                f"{money(limit, cur)}" + (", plus what earlier years carry over" if carried else "")
                + ")")
    if kind == "block_contract":
        return (f"{row['provider']}'s block contract of {money(limit, cur)} must fall by "
                f"{money(by, cur)}{when}")
    if kind == "min_volume":
        mv = float(inst.providers.set_index("provider").loc[row["provider"], "min_volume"])
        return f"{row['provider']}'s min_volume of {_fmt(mv)} must fall to {_fmt(mv - by)}{when}"
    if kind == "quality":
        floor = float(inst.floors.set_index("pathway").loc[row["pathway"], "floor"])
        best = extra.get("quality")
        reach = f"; the best reachable alongside the other limits is {best:.4f}" if best is not None else ""
        return (f"{row['pathway']} quality floor {floor:g} in {row['locality']} cannot be met"
                f"{when}{reach}")
    if kind in ("pace", "year_pace"):
        need = extra.get("max_shift")
        y = year_of(scenario, row)
        if kind == "year_pace":
            head = f"pace of change from {y - 1} to {y}" if y is not None else "pace of change from year to year"
        else:
            head = "pace of change" if y is None else f"pace of change from today to {y}"
        return (f"{head}: {row['provider']} must be allowed to lose {_fmt(by)} more "
                f"{row['activity']} in {row['locality']}"
                + (f" (max_shift {inst.max_shift:g} would have to be {need:.3f})" if need is not None else ""))
    if kind == "setting_cap":
        share = extra.get("share")
        return (f"the {setting_of(row)} share of {row['activity']} in {row['locality']}{when} must "
                f"exceed its max_share" + (f": {share:.3f} is needed" if share is not None else "")
                + f" ({_fmt(by)} activities over the cap)")
    if kind == "uptake_min":
        return (f"minimum uptake of {row['activity']} in {row['locality']}{_design(row)}{when} "
                f"must fall by {_fmt(by)} (from {_fmt(limit)} to {_fmt(limit - by)} activities)")
    if kind == "uptake_max":
        return (f"maximum uptake of {row['activity']} in {row['locality']}{_design(row)}{when} "
                f"must rise by {_fmt(by)} (from {_fmt(limit)} to {_fmt(limit + by)} activities)")
    if kind == "max_redesigns":
        return (f"max_redesigns of {_fmt(limit)} must rise to {_fmt(limit + by)}{when} (more "
                "localities must be allowed to leave today's design of a pathway)")
    return f"{row['name']} must be relaxed by {_fmt(by)}"


def member_message(scenario: Scenario, row: pd.Series, limit: float) -> str:
    """One member of a conflicting set, as the requirement it states."""
    kind = row["kind"]
    cur = scenario.config.currency
    when = _in(scenario, row)
    if kind == "capacity":
        heads = " heads" if _is_whole(scenario, row["resource"]) else ""
        return f"{row['resource']} capacity {_fmt(limit)}{heads}{when}"
    if kind == "budget":
        y = year_of(scenario, row)
        return f"budget {money(limit, cur)}" + (f" for {y}" if y is not None else "")
    if kind == "block_contract":
        return f"{row['provider']} block contract {money(limit, cur)}{when}"
    if kind == "min_volume":
        mv = float(scenario.instance.providers.set_index("provider").loc[row["provider"], "min_volume"])
        return f"{row['provider']} min_volume {_fmt(mv)}{when}"
    if kind == "quality":
        floor = float(scenario.instance.floors.set_index("pathway").loc[row["pathway"], "floor"])
        return f"{row['pathway']} quality floor {floor:g} in {row['locality']}{when}"
    if kind == "pace":
        keep = 1 - scenario.instance.max_shift
        y = year_of(scenario, row)
        return (f"pace of change on {row['provider']}'s {row['activity']} in {row['locality']}"
                + (f" from today to {y}" if y is not None else "")
                + f" (max_shift {scenario.instance.max_shift:g}: keeps at least {keep:.0%} of "
                "today's share)")
    if kind == "year_pace":
        keep = 1 - scenario.instance.max_shift
        y = year_of(scenario, row)
        span = f" from {y - 1} to {y}" if y is not None else " from year to year"
        return (f"pace of change on {row['provider']}'s {row['activity']} in {row['locality']}"
                f"{span} (max_shift {scenario.instance.max_shift:g}: keeps at least {keep:.0%} of "
                "last year's volume, grown with demand)")
    if kind == "setting_cap":
        return f"max_share of {setting_of(row)} for {row['activity']} in {row['locality']}{when}"
    if kind == "uptake_min":
        return (f"minimum uptake of {row['activity']} in {row['locality']}{_design(row)}{when} "
                f"({_fmt(limit)})")
    if kind == "uptake_max":
        return (f"maximum uptake of {row['activity']} in {row['locality']}{_design(row)}{when} "
                f"({_fmt(limit)})")
    if kind == "max_redesigns":
        return (f"max_redesigns {_fmt(limit)}{when} (at most {_fmt(limit)} locality-pathway pairs "
                "leave today's design)")
    if kind == "units":
        return (f"{row['provider']}'s {row['activity']} is delivered from whole units{when}")
    if kind == "heads":
        return (f"{row['resource']} is held in whole heads for {row['provider']}'s "
                f"{row['activity']}{when}")
    return str(row["name"])
