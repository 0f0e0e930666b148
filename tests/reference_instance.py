"""Reference build of the instance tables: the straightforward pandas version (joins on
text keys), kept as the independent formulation the integer-coded
:func:`optimiser.instance.build` is checked against (tests/test_instance_reference.py).

Original docstring:

The validated scenario as tidy pandas tables (SPEC section 3's sets and parameters).

No solver is imported here: the tables are what the compiler, the baseline, the solution
check and the reports all read. Every table keeps the order of the config (localities,
pathways, steps, providers as written), so everything downstream is deterministic.

Tables (one row per ...):

* ``demand`` -- locality, pathway and step: ``patients`` N, ``fixed`` (N*per_patient for a
  fixed step, else 0), uptake bounds ``ymin``/``ymax`` (N*min, N*max for an optional step),
  ``dmax`` (largest possible demand) and ``d0`` (baseline demand).
* ``avoids`` -- locality and (optional source, fixed target) pair: ``effect``.
* ``arcs`` -- (l, p, s, v) with ``unit_cost`` (price or cost), ``quality``, baseline share
  ``share0`` and volume ``x0``.
* ``uses`` -- arc and resource: ``amount`` per activity.
* ``providers``, ``resources``, ``caps`` (setting caps), ``floors`` (quality floors).

SPEC section 11 (written here independently of :mod:`optimiser.designs`): a demand row is a
locality and a step of one design of its pathway (``variant``: ``current``, the pathway's own
steps, then each variant's: ``replace`` overlaid, ``remove`` dropped, ``add`` appended);
``design`` is its row in ``designs`` (-1 for a pathway without variants). Only ``current``
rows have baseline demand and shares. ``units``, ``unit_uses`` and ``heads`` list whole units
and whole heads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.schema import BuyProvider, MakeProvider, Pathway, ScenarioConfig, Step
from optimiser.instance import (Instance, years_of, _concat, _floors_frame, _frame, _providers_frame)
from optimiser.tables import TableSet


def build(config: ScenarioConfig, pathways: list[Pathway], tables: TableSet = TableSet()) -> Instance:
    """Tables of the scenario: the YAML's entries, then the rows of its CSV/Parquet tables
    (SPEC section 2.3). Assumes names cross-check and no value is given twice (see
    :mod:`optimiser.checks` and :mod:`optimiser.tables`)."""
    t_loc = tables.frame("localities")
    t_loc = t_loc[~t_loc["locality"].isin(config.localities.keys())]  # a --set YAML entry wins
    localities = _concat([
        _frame([{"locality": k, "population": float(v.population),
                 "population_growth": float(v.population_growth)}
                for k, v in config.localities.items()], ["locality", "population", "population_growth"]),
        t_loc[["locality", "population"]].assign(
            population_growth=t_loc["population_growth"].fillna(0.0)
            if "population_growth" in t_loc else 0.0),
    ]).reset_index(drop=True)
    # Every design of every pathway, (pathway, variant, name, adoption_cost, steps), in order.
    all_designs = [d for p in pathways for d in _designs(p)]
    varied = {p.pathway for p in pathways if p.variants}
    steps = _frame(
        [
            {
                "pathway": p.pathway,
                "variant": w,
                "step": s.step,
                "activity": f"{p.pathway}.{s.step}",
                "optional": s.optional,
                "per_patient": 0.0 if s.optional else float(s.per_patient),
                "umin": float(s.per_patient.min) if s.optional else 0.0,
                "umax": float(s.per_patient.max) if s.optional else 0.0,
                "prevalence": float(p.prevalence_per_1000),
                "pathway_growth": float(p.growth),
            }
            for p, w, _, _, design_steps in all_designs
            for s in design_steps
        ],
        ["pathway", "variant", "step", "activity", "optional", "per_patient", "umin", "umax",
         "prevalence", "pathway_growth"],
    )
    # Designs: per locality, every design of each pathway with variants.
    design_rows = _frame(
        [
            {"pathway": p.pathway, "variant": w, "name": name, "adoption_cost": float(cost),
             "current": w == "current"}
            for p, w, name, cost, _ in all_designs
            if p.pathway in varied
        ],
        ["pathway", "variant", "name", "adoption_cost", "current"],
    )
    designs = localities[["locality"]].merge(design_rows, how="cross")
    designs["current"] = designs["current"].astype(bool)
    t_prev = tables.frame("prevalence").dropna(subset=["prevalence_per_1000"])
    overrides = _concat([
        _frame(
            [
                {"locality": loc, "pathway": pw, "override": float(v)}
                for loc, spec in config.localities.items()
                for pw, v in spec.prevalence_per_1000.items()
            ],
            ["locality", "pathway", "override"],
        ),
        t_prev[["locality", "pathway", "prevalence_per_1000"]].rename(
            columns={"prevalence_per_1000": "override"}),
    ])

    # Demand: locality x step, in config order.
    demand = localities.merge(steps, how="cross")
    demand = demand.merge(overrides, on=["locality", "pathway"], how="left")
    prevalence = demand["override"].fillna(demand["prevalence"])
    demand["patients"] = demand["population"] * prevalence / 1000.0
    demand["effective_prevalence"] = prevalence
    demand["growth"] = (1.0 + demand["population_growth"]) * (1.0 + demand["pathway_growth"])
    n = demand["patients"]
    demand["fixed"] = np.where(demand["optional"], 0.0, n * demand["per_patient"])
    demand["ymin"] = np.where(demand["optional"], n * demand["umin"], 0.0)
    demand["ymax"] = np.where(demand["optional"], n * demand["umax"], 0.0)
    demand["dmax"] = np.where(demand["optional"], demand["ymax"], demand["fixed"])
    # the design's row in ``designs``; -1 for a pathway without variants
    demand = demand.merge(designs[["locality", "pathway", "variant"]].reset_index(names="design"),
                          on=["locality", "pathway", "variant"], how="left")
    demand["design"] = demand["design"].fillna(-1).astype(np.int64)
    demand = demand[
        ["locality", "pathway", "step", "activity", "optional", "patients", "fixed", "ymin",
         "ymax", "dmax", "effective_prevalence", "growth", "variant", "design"]
    ].rename(columns={"effective_prevalence": "prevalence"}).reset_index(drop=True)
    demand.index.name = "dem"
    dem_key = demand.reset_index()[["dem", "locality", "pathway", "variant", "step"]]

    # Avoids, expanded per locality, with both ends as demand row ids (within a design).
    avoid_rows = _frame(
        [
            {"pathway": p.pathway, "variant": w, "src": s.step, "dst": t, "effect": float(e)}
            for p, w, _, _, design_steps in all_designs
            for s in design_steps
            for t, e in s.avoids.items()
        ],
        ["pathway", "variant", "src", "dst", "effect"],
    )
    avoids = localities[["locality"]].merge(avoid_rows, how="cross")
    avoids = avoids.merge(
        dem_key.rename(columns={"step": "src", "dem": "src_dem"}),
        on=["locality", "pathway", "variant", "src"],
    ).merge(dem_key.rename(columns={"step": "dst", "dem": "dst_dem"}),
            on=["locality", "pathway", "variant", "dst"])
    # Baseline demand: optional steps at minimum uptake, fixed ones less what that avoids.
    avoided0 = (
        (avoids["effect"] * demand["ymin"].to_numpy()[avoids["src_dem"].to_numpy()])
        .groupby(avoids["dst_dem"]).sum()
    )
    demand["d0"] = np.where(demand["optional"], demand["ymin"], demand["fixed"])
    demand.loc[avoided0.index, "d0"] -= avoided0.to_numpy()
    # today every locality runs today's design: a variant's steps have no baseline demand
    demand.loc[demand["variant"] != "current", "d0"] = 0.0

    providers = _providers_frame(config)
    all_localities = list(localities["locality"])
    serves = _frame(
        [
            {"provider": name, "locality": loc}
            for name, v in config.providers.items()
            for loc in (all_localities if v.serves == "all" else v.serves)
        ],
        ["provider", "locality"],
    )
    t_off = tables.frame("offers")
    priced = t_off["price"].fillna(t_off["cost"])
    offers = _concat([
        _frame(
            [
                {"provider": name, "activity": act, "unit_cost": float(price)}
                for name, v in config.providers.items()
                for act, price in (v.prices if isinstance(v, BuyProvider) else v.costs).items()
            ],
            ["provider", "activity", "unit_cost"],
        ),
        pd.DataFrame({"provider": t_off["provider"], "activity": t_off["activity"],
                      "unit_cost": priced})[priced.notna().to_numpy()],
    ])
    # quality: the provider's entry for the activity, else its default (YAML or table)
    t_q = t_off[t_off["quality"].notna()]
    qual = _concat([
        _frame(
            [
                {"provider": name, "activity": act, "q": float(q)}
                for name, v in config.providers.items()
                for act, q in v.quality.items()
            ],
            ["provider", "activity", "q"],
        ),
        pd.DataFrame({"provider": t_q["provider"], "activity": t_q["activity"], "q": t_q["quality"]}),
    ])
    is_default = (qual["activity"] == "default").to_numpy()
    offers = offers.merge(qual[~is_default], on=["provider", "activity"], how="left")
    defaults = qual[is_default].drop(columns="activity").rename(columns={"q": "qd"})
    offers = offers.merge(defaults, on="provider", how="left")
    offers["quality"] = offers["q"].fillna(offers["qd"]).astype(float)
    offers = offers[["provider", "activity", "unit_cost", "quality"]]
    step_settings = _frame(
        [
            {"pathway": p.pathway, "variant": w, "step": s.step, "setting": g}
            for p, w, _, _, design_steps in all_designs
            for s in design_steps
            for g in dict.fromkeys(s.settings)
        ],
        ["pathway", "variant", "step", "setting"],
    )

    # Arcs (l,p,s,v): v serves l, v.setting in the step's settings (in the step's design),
    # v has a price/cost for the activity ``pathway.step`` (the same in every design).
    # joined through the providers serving each locality first: joining on setting first
    # would pair every locality with every provider of that setting (locality hubs x
    # localities) before discarding most pairs
    arcs = (
        dem_key.merge(serves, on="locality")
        .merge(providers[["provider", "order", "mode", "setting"]], on="provider")
        .merge(step_settings, on=["pathway", "variant", "step", "setting"])
    )
    arcs["activity"] = arcs["pathway"] + "." + arcs["step"]
    arcs = arcs.merge(offers, on=["provider", "activity"])
    arcs = arcs.sort_values(["dem", "order"], kind="stable").reset_index(drop=True)
    arcs = arcs[["dem", "locality", "pathway", "step", "activity", "variant", "provider", "order",
                 "setting", "mode", "unit_cost", "quality"]]
    arcs.index.name = "arc"

    t_sh = t_off[t_off["current_share"].notna()]
    declared = _concat([
        _frame(
            [
                {"provider": name, "activity": act, "share": float(sh)}
                for name, v in config.providers.items()
                for act, sh in v.current_share.items()
            ],
            ["provider", "activity", "share"],
        ),
        pd.DataFrame({"provider": t_sh["provider"], "activity": t_sh["activity"],
                      "share": t_sh["current_share"]}),
    ])
    arcs["share0"] = _baseline_shares(arcs, declared)
    arcs["x0"] = arcs["share0"] * demand["d0"].to_numpy()[arcs["dem"].to_numpy()]

    t_use = tables.frame("uses").dropna(subset=["amount"])
    uses_rows = _concat([
        _frame(
            [
                {"provider": name, "activity": act, "resource": r, "amount": float(a)}
                for name, v in config.providers.items()
                for act, per in v.uses.items()
                for r, a in per.items()
            ],
            ["provider", "activity", "resource", "amount"],
        ),
        t_use[["provider", "activity", "resource", "amount"]],
    ])
    uses = (
        arcs.reset_index()[["arc", "provider", "activity"]]
        .merge(uses_rows, on=["provider", "activity"])
        .sort_values(["arc", "resource"], kind="stable")[["arc", "resource", "amount"]]
        .reset_index(drop=True)
    )

    t_res = tables.frame("resources")
    t_res = t_res[~t_res["resource"].isin(config.resources.keys())]  # a --set YAML entry wins
    resources = _resources_frame(config, t_res)

    cap_rows = _frame(
        [
            {"pathway": p.pathway, "variant": w, "step": s.step, "setting": g, "max_share": float(m)}
            for p, w, _, _, design_steps in all_designs
            for s in design_steps
            for g, m in s.max_share.items()
        ],
        ["pathway", "variant", "step", "setting", "max_share"],
    )
    caps = dem_key.merge(cap_rows, on=["pathway", "variant", "step"]).drop(columns="variant")
    present = arcs[["dem", "setting"]].drop_duplicates()
    caps = caps.merge(present, on=["dem", "setting"]).sort_values(["dem", "setting"], kind="stable")
    caps = caps.reset_index(drop=True)

    floors = _floors_frame(config, pathways)

    # Whole units: per make provider and activity with ``units``, in config order.
    units = _frame(
        [
            {"provider": name, "activity": act, "size": float(u.size), "cost": float(u.cost)}
            for name, v in config.providers.items()
            if isinstance(v, MakeProvider)
            for act, u in v.units.items()
        ],
        ["provider", "activity", "size", "cost"],
    )
    unit_uses = _frame(
        [
            {"provider": name, "activity": act, "resource": r, "amount": float(a)}
            for name, v in config.providers.items()
            if isinstance(v, MakeProvider)
            for act, u in v.units.items()
            for r, a in u.uses.items()
        ],
        ["provider", "activity", "resource", "amount"],
    )
    unit_uses = (units[["provider", "activity"]].reset_index(names="unit")
                 .merge(unit_uses, on=["provider", "activity"])[["unit", "resource", "amount"]])
    # Whole heads: (provider, activity, resource) of a ``whole`` resource used per activity
    # (on an arc) or per unit.
    whole = resources.loc[resources["whole"], ["resource"]]
    heads = _concat([
        arcs[["provider", "activity"]].drop_duplicates().merge(uses_rows, on=["provider", "activity"]),
        units.reset_index(names="unit").merge(unit_uses, on="unit"),
    ])
    heads = (heads.merge(whole, on="resource")[["provider", "activity", "resource"]]
             .drop_duplicates().sort_values(["provider", "activity", "resource"])
             .reset_index(drop=True))

    return Instance(
        localities=localities[["locality", "population"]],
        demand=demand,
        avoids=avoids[["locality", "pathway", "src", "dst", "effect", "src_dem", "dst_dem"]],
        providers=providers,
        offers=offers,
        arcs=arcs,
        uses=uses,
        resources=resources,
        caps=caps,
        floors=floors,
        max_shift=config.constraints.max_shift,
        declared_shares=declared,
        years=years_of(config),
        designs=designs,
        max_redesigns=config.constraints.max_redesigns,
        units=units,
        unit_uses=unit_uses,
        heads=heads,
    )


def _designs(p: Pathway) -> list[tuple]:
    """The designs of a pathway (SPEC section 11), as ``(pathway, variant, name,
    adoption_cost, steps)``: today's (``current``, the pathway's own steps), then each
    variant's in file order: today's steps less ``remove``, each ``replace`` entry's given
    keys written over its step, then the ``add`` steps."""
    out = [(p, "current", p.name or "today's design", 0.0, list(p.steps))]
    for w, var in p.variants.items():
        steps = []
        for s in p.steps:
            if s.step in var.remove:
                continue
            for change in var.replace:
                if change.step == s.step:
                    given = {k: getattr(change, k) for k in change.model_fields_set if k != "step"}
                    s = Step(**{**dict(s), **given})
            steps.append(s)
        out.append((p, w, var.name or w, float(var.adoption_cost), steps + list(var.add)))
    return out


def _resources_frame(config: ScenarioConfig, t_res: pd.DataFrame) -> pd.DataFrame:
    """The YAML's resources, then those of the resources table the YAML does not declare
    (a table resource is never ``whole``; its ``cost`` column is optional)."""
    rows = [
        {
            "resource": name,
            "capacity": float(r.capacity),
            "expand_step": float(r.expand.step) if r.expand else 0.0,
            "expand_cost": float(r.expand.cost) if r.expand else 0.0,
            "expand_max": int(r.expand.max_steps) if r.expand else 0,
            "whole": bool(r.whole),
            "cost": float(r.cost),
        }
        for name, r in config.resources.items()
    ]
    for rec in t_res.to_dict("records"):
        rows.append({
            "resource": rec["resource"],
            "capacity": float(rec["capacity"]),
            "expand_step": 0.0 if pd.isna(rec.get("expand_step")) else float(rec["expand_step"]),
            "expand_cost": 0.0 if pd.isna(rec.get("expand_cost")) else float(rec["expand_cost"]),
            "expand_max": 0 if pd.isna(rec.get("expand_max_steps")) else int(rec["expand_max_steps"]),
            "whole": False,
            "cost": 0.0 if pd.isna(rec.get("cost", np.nan)) else float(rec["cost"]),
        })
    frame = _frame(rows, ["resource", "capacity", "expand_step", "expand_cost", "expand_max",
                          "whole", "cost"])
    return frame.astype({"whole": bool})


def _baseline_shares(arcs: pd.DataFrame, declared: pd.DataFrame) -> np.ndarray:
    """Today's share of each arc (SPEC section 3, Baseline).

    Declared ``current_share`` applies in every locality the provider serves. For a demand
    row where nobody declares a share, all of it goes to the first listed ``buy`` provider
    with an arc, else the first listed provider with an arc. Only arcs of today's design
    (``current``) carry a share.
    """
    today = (arcs["variant"] == "current").to_numpy()
    share = arcs[["provider", "activity"]].merge(declared, on=["provider", "activity"], how="left")
    share = np.where(today, share["share"].to_numpy(dtype=float), np.nan)
    has_decl = pd.Series(~np.isnan(share)).groupby(arcs["dem"].to_numpy()).transform("any")
    share = np.nan_to_num(share, nan=0.0)
    undeclared = ~has_decl.to_numpy()
    if undeclared.any():
        # buy providers first, then config order
        rank = np.where(arcs["mode"].to_numpy() == "buy", 0, 1) * (int(arcs["order"].max()) + 1) + arcs["order"].to_numpy()
        frame = pd.DataFrame({"dem": arcs["dem"].to_numpy(), "rank": rank})
        first = frame.groupby("dem")["rank"].transform("min").to_numpy() == rank
        share = np.where(undeclared & first, 1.0, share)
    # a variant's design has no share today (SPEC section 11)
    return np.where(today, share, 0.0)
