"""Constraint rows in the commissioner's words, each located at the config key that made it."""

from __future__ import annotations

import pandas as pd

from ..load import Scenario
from ..results.text import money


def location(scenario: Scenario, row: pd.Series) -> tuple[str, str]:
    """``(FILE:LINE:COL, key.path)`` of the key that created a constraint row."""
    kind = row["kind"]
    cfg = scenario.config
    if kind in ("setting_cap", "uptake_min", "uptake_max"):
        pw = row["pathway"]
        idx = [p.pathway for p in scenario.pathways].index(pw)
        pdoc, pathway = scenario.pathway_documents[idx], scenario.pathways[idx]
        i = [s.step for s in pathway.steps].index(row["step"])
        if kind == "setting_cap":
            path = ("steps", i, "max_share", _setting(row))
        else:
            path = ("steps", i, "per_patient", "min" if kind == "uptake_min" else "max")
        issue = pdoc.issue(path, "")
    else:
        path = {
            "capacity": ("resources", row["resource"], "capacity"),
            "budget": ("constraints", "budget"),
            "pace": ("constraints", "max_shift"),
            "min_volume": ("providers", row["provider"], "min_volume"),
            "block_contract": ("providers", row["provider"], "block_contract"),
        }.get(kind)
        if kind == "quality":
            floors = cfg.constraints.min_quality
            path = ("constraints", "min_quality",
                    row["pathway"] if row["pathway"] in floors else "default")
        return scenario.locate(path or ())
    where = issue.file if not issue.line else f"{issue.file}:{issue.line}:{issue.column}"
    return where, issue.path


def _setting(row: pd.Series) -> str:
    return str(row["name"]).rstrip("]").split(",")[-1]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


def relaxation_message(scenario: Scenario, row: pd.Series, limit: float, by: float,
                       extra: dict) -> str:
    """What must change, in domain units, for a row relaxed by ``by`` (always > 0)."""
    kind = row["kind"]
    cur = scenario.config.currency
    inst = scenario.instance
    if kind == "capacity":
        r = inst.resources.set_index("resource").loc[row["resource"]]
        text = f"{row['resource']} is {_fmt(by)} short (capacity {_fmt(r['capacity'])}"
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
        return f"budget is {money(by, cur)} short (budget {money(limit, cur)})"
    if kind == "block_contract":
        return (f"{row['provider']}'s block contract of {money(limit, cur)} must fall by "
                f"{money(by, cur)}")
    if kind == "min_volume":
        mv = float(inst.providers.set_index("provider").loc[row["provider"], "min_volume"])
        return f"{row['provider']}'s min_volume of {_fmt(mv)} must fall to {_fmt(mv - by)}"
    if kind == "quality":
        floor = float(inst.floors.set_index("pathway").loc[row["pathway"], "floor"])
        best = extra.get("quality")
        reach = f"; the best reachable alongside the other limits is {best:.4f}" if best is not None else ""
        return (f"{row['pathway']} quality floor {floor:g} in {row['locality']} cannot be met"
                f"{reach}")
    if kind == "pace":
        need = extra.get("max_shift")
        return (f"pace of change: {row['provider']} must be allowed to lose {_fmt(by)} more "
                f"{row['activity']} in {row['locality']}"
                + (f" (max_shift {inst.max_shift:g} would have to be {need:.3f})" if need is not None else ""))
    if kind == "setting_cap":
        share = extra.get("share")
        return (f"the {_setting(row)} share of {row['activity']} in {row['locality']} must exceed "
                f"its max_share" + (f": {share:.3f} is needed" if share is not None else "")
                + f" ({_fmt(by)} activities over the cap)")
    if kind == "uptake_min":
        return (f"minimum uptake of {row['activity']} in {row['locality']} must fall by "
                f"{_fmt(by)} (from {_fmt(limit)} to {_fmt(limit - by)} activities)")
    if kind == "uptake_max":
        return (f"maximum uptake of {row['activity']} in {row['locality']} must rise by "
                f"{_fmt(by)} (from {_fmt(limit)} to {_fmt(limit + by)} activities)")
    return f"{row['name']} must be relaxed by {_fmt(by)}"


def member_message(scenario: Scenario, row: pd.Series, limit: float) -> str:
    """One member of a conflicting set, as the requirement it states."""
    kind = row["kind"]
    cur = scenario.config.currency
    if kind == "capacity":
        return f"{row['resource']} capacity {_fmt(limit)}"
    if kind == "budget":
        return f"budget {money(limit, cur)}"
    if kind == "block_contract":
        return f"{row['provider']} block contract {money(limit, cur)}"
    if kind == "min_volume":
        mv = float(scenario.instance.providers.set_index("provider").loc[row["provider"], "min_volume"])
        return f"{row['provider']} min_volume {_fmt(mv)}"
    if kind == "quality":
        floor = float(scenario.instance.floors.set_index("pathway").loc[row["pathway"], "floor"])
        return f"{row['pathway']} quality floor {floor:g} in {row['locality']}"
    if kind == "pace":
        keep = 1 - scenario.instance.max_shift
        return (f"pace of change on {row['provider']}'s {row['activity']} in {row['locality']} "
                f"(max_shift {scenario.instance.max_shift:g}: keeps at least {keep:.0%} of "
                "today's share)")
    if kind == "setting_cap":
        return f"max_share of {_setting(row)} for {row['activity']} in {row['locality']}"
    if kind == "uptake_min":
        return f"minimum uptake of {row['activity']} in {row['locality']} ({_fmt(limit)})"
    if kind == "uptake_max":
        return f"maximum uptake of {row['activity']} in {row['locality']} ({_fmt(limit)})"
    return str(row["name"])
