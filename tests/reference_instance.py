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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.schema import BuyProvider, Pathway, ScenarioConfig
from optimiser.instance import (Instance, years_of, _concat, _floors_frame, _frame, _providers_frame,
                                _resources_frame)
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
    steps = _frame(
        [
            {
                "pathway": p.pathway,
                "step": s.step,
                "activity": f"{p.pathway}.{s.step}",
                "optional": s.optional,
                "per_patient": 0.0 if s.optional else float(s.per_patient),
                "umin": float(s.per_patient.min) if s.optional else 0.0,
                "umax": float(s.per_patient.max) if s.optional else 0.0,
                "prevalence": float(p.prevalence_per_1000),
                "pathway_growth": float(p.growth),
            }
            for p in pathways
            for s in p.steps
        ],
        ["pathway", "step", "activity", "optional", "per_patient", "umin", "umax", "prevalence",
         "pathway_growth"],
    )
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
    demand = demand[
        ["locality", "pathway", "step", "activity", "optional", "patients", "fixed", "ymin",
         "ymax", "dmax", "effective_prevalence", "growth"]
    ].rename(columns={"effective_prevalence": "prevalence"}).reset_index(drop=True)
    demand.index.name = "dem"
    dem_key = demand.reset_index()[["dem", "locality", "pathway", "step"]]

    # Avoids, expanded per locality, with both ends as demand row ids.
    avoid_rows = _frame(
        [
            {"pathway": p.pathway, "src": s.step, "dst": t, "effect": float(e)}
            for p in pathways
            for s in p.steps
            for t, e in s.avoids.items()
        ],
        ["pathway", "src", "dst", "effect"],
    )
    avoids = localities[["locality"]].merge(avoid_rows, how="cross")
    avoids = avoids.merge(
        dem_key.rename(columns={"step": "src", "dem": "src_dem"}), on=["locality", "pathway", "src"]
    ).merge(dem_key.rename(columns={"step": "dst", "dem": "dst_dem"}), on=["locality", "pathway", "dst"])
    # Baseline demand: optional steps at minimum uptake, fixed ones less what that avoids.
    avoided0 = (
        (avoids["effect"] * demand["ymin"].to_numpy()[avoids["src_dem"].to_numpy()])
        .groupby(avoids["dst_dem"]).sum()
    )
    demand["d0"] = np.where(demand["optional"], demand["ymin"], demand["fixed"])
    demand.loc[avoided0.index, "d0"] -= avoided0.to_numpy()

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
            {"pathway": p.pathway, "step": s.step, "setting": g}
            for p in pathways
            for s in p.steps
            for g in dict.fromkeys(s.settings)
        ],
        ["pathway", "step", "setting"],
    )

    # Arcs (l,p,s,v): v serves l, v.setting in the step's settings, v has a price/cost.
    # joined through the providers serving each locality first: joining on setting first
    # would pair every locality with every provider of that setting (locality hubs x
    # localities) before discarding most pairs
    arcs = (
        dem_key.merge(serves, on="locality")
        .merge(providers[["provider", "order", "mode", "setting"]], on="provider")
        .merge(step_settings, on=["pathway", "step", "setting"])
    )
    arcs["activity"] = arcs["pathway"] + "." + arcs["step"]
    arcs = arcs.merge(offers, on=["provider", "activity"])
    arcs = arcs.sort_values(["dem", "order"], kind="stable").reset_index(drop=True)
    arcs = arcs[["dem", "locality", "pathway", "step", "activity", "provider", "order", "setting",
                 "mode", "unit_cost", "quality"]]
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
            {"pathway": p.pathway, "step": s.step, "setting": g, "max_share": float(m)}
            for p in pathways
            for s in p.steps
            for g, m in s.max_share.items()
        ],
        ["pathway", "step", "setting", "max_share"],
    )
    caps = dem_key.merge(cap_rows, on=["pathway", "step"])
    present = arcs[["dem", "setting"]].drop_duplicates()
    caps = caps.merge(present, on=["dem", "setting"]).sort_values(["dem", "setting"], kind="stable")
    caps = caps.reset_index(drop=True)

    floors = _floors_frame(config, pathways)

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
    )


def _baseline_shares(arcs: pd.DataFrame, declared: pd.DataFrame) -> np.ndarray:
    """Today's share of each arc (SPEC section 3, Baseline).

    Declared ``current_share`` applies in every locality the provider serves. For a demand
    row where nobody declares a share, all of it goes to the first listed ``buy`` provider
    with an arc, else the first listed provider with an arc.
    """
    share = arcs[["provider", "activity"]].merge(declared, on=["provider", "activity"], how="left")
    share = share["share"].to_numpy(dtype=float)
    has_decl = pd.Series(~np.isnan(share)).groupby(arcs["dem"].to_numpy()).transform("any")
    share = np.nan_to_num(share, nan=0.0)
    undeclared = ~has_decl.to_numpy()
    if undeclared.any():
        # buy providers first, then config order
        rank = np.where(arcs["mode"].to_numpy() == "buy", 0, 1) * (int(arcs["order"].max()) + 1) + arcs["order"].to_numpy()
        frame = pd.DataFrame({"dem": arcs["dem"].to_numpy(), "rank": rank})
        first = frame.groupby("dem")["rank"].transform("min").to_numpy() == rank
        share = np.where(undeclared & first, 1.0, share)
    return share
