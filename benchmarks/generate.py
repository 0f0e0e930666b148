"""Generate synthetic national scenarios for the benchmarks, in two equivalent forms.

A national scenario is many localities (think primary care networks, about 45,000 people
each) grouped into regions (think integrated care boards). Everything is derived from the
shipped example (``configs/northshire.yaml``) and pathways (``pathways/*.yaml``):

* **pathways**: the five shipped pathways, plus ``--variants - 1`` synthetic copies of each
  (``copd_v02``, ``copd_v03``, ...) with jittered prevalence, volumes per patient, uptake
  ranges and avoided-demand effects; written into the scenario's own ``pathways/`` folder.
* **per region**: an acute trust (``acute_<region>``, buy, block contract of about 80 % of
  its baseline activity value), a GP federation (``gpfed_<region>``, buy) and a
  third-sector provider (``vcse_<region>``, buy), each serving the region's localities, with
  today's shares (``current_share``) split between them as in the example; a community
  nurse pool (``nurse_<region>``) and a podiatry pool (``podiatry_<region>``) shared by all
  the region's hubs, both expandable.
* **per locality**: a community hub (``hub_<locality>``, make, fixed cost, minimum volume,
  overhead, unit costs, staff hours drawn from the region's pools and from its own
  expandable physiotherapy hours ``physio_<locality>``); a population; prevalence
  overrides for about a quarter of its pathways.
* **constraints**: the example's quality floors (for every variant too) and ``max_shift``.

Prices, costs and qualities are the example's, varied by variant, region, locality and
activity, so that plans differ everywhere. ``solve`` is ``{mode: lp, backend: highs}``.

Independent regions (the default): regions share no provider, resource or block contract
and there is no budget (a budget is one national row), so the LP splits into one
independent block per region -- the shape a decomposition feature exploits. ``--coupled``
adds what a real national model might have: one national independent-sector provider
(``national_isp``, buy, serving everyone, with a block contract and theatre hours from one
national resource) and a national budget (2 % above the estimated baseline cost).

Each scenario is written in two forms that mean exactly the same model:

* ``configs/national.yaml`` -- plain SPEC YAML (section 2.2) only. Only written while it
  stays below the loader's 40 MiB YAML limit (about 36 MB per million variables, so up to
  about 1.1 M variables); above that the form is
  skipped and ``manifest.json`` says why.
* ``configs/national_tables.yaml`` plus ``data/`` -- SPEC section 2.3 tables: providers are
  declared in YAML (setting, mode, serves, block contract, fixed cost, minimum volume,
  overhead, default quality); localities and populations, prevalence overrides, resources
  and capacities, prices, costs, per-activity qualities, current shares and resource uses
  are rows of ``localities``, ``prevalence``, ``resources``, ``offers`` and ``uses``. A table
  of more than 10,000 rows is written as Parquet, a smaller one as CSV.

Sizes are chosen by target variable count (``--size 10k|100k|1m|3m``) or explicitly with
``--regions``, ``--localities`` and ``--variants``. Variables are about 13.3 per locality
and pathway (arcs, one per locality, step and provider that can deliver it, plus one uptake
per optional step), plus a few per region and locality; ``manifest.json`` gives the exact
count the compiler will produce (checked by ``--verify``).

    python benchmarks/generate.py --size 100k --out /tmp/bench/100k    # prints the config path
    python benchmarks/generate.py --localities 300 --out /tmp/b300    # 300 localities, 10 regions, 5 pathways
    python benchmarks/generate.py --size 10k --out /tmp/b10k --verify    # loads and compares both forms

Generating is vectorised (numpy, pandas, pyarrow); the YAML is written as text.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
BASE_CONFIG = ROOT / "configs" / "northshire.yaml"
YAML_LIMIT = 40 * 1024 * 1024
"""The loader refuses YAML files larger than this (optimiser.yamlio.MAX_BYTES)."""
PARQUET_ROWS = 10_000
"""Tables with more rows than this are written as Parquet, the others as CSV."""

# name: (regions, localities, variants). Localities ~ 30-60 per region (PCNs per ICB);
# variants x 5 = pathways. Calibrated so that the compiled LP has about the target count
# of variables (see manifest.json / --verify).
SIZES = {
    "10k": (3, 48, 3),
    "100k": (7, 245, 6),
    "1m": (42, 1260, 12),
    "3m": (42, 2520, 18),
}

LOCALITIES_PER_REGION = 30
"""Default regions for ``--localities N`` alone: N / 30 (about 42 ICBs for 1,250 PCNs)."""

# The shipped example's providers, by role.
ROLES = {"acute": "northshire_acute", "gpfed": "gp_federation", "vcse": "wellbeing_alliance",
         "hub": "north_hub"}
REGION_ROLES = ("acute", "gpfed", "vcse")
SETTING = {"acute": "hospital", "gpfed": "primary_care", "vcse": "third_sector", "hub": "community"}
QUALITY_RANGE = {"acute": (0.895, 0.915), "gpfed": (0.865, 0.885), "vcse": (0.855, 0.875),
                 "hub": (0.870, 0.890)}
# Hub staff resources of the example -> (scope, resource prefix, expand step, cost per step).
HUB_RESOURCES = {"hub_nurse_hours": ("region", "nurse", 1600, 56_000),
                 "podiatry_hours": ("region", "podiatry", 400, 14_000),
                 "physio_hours": ("locality", "physio", 800, 28_000)}
ISP_ACTIVITIES = ("msk.orthopaedic_outpatient", "msk.joint_replacement",
                  "heart_failure.echocardiography", "type2_diabetes.diabetology_outpatient")
THEATRE_HOURS_PER_JOINT = 2.5


@dataclass
class Scenario:
    """Everything generated, as tables in canonical (config) order."""

    name: str
    pathways: list[dict]            # id, base, file, text
    localities: pd.DataFrame        # locality, region, population
    prevalence: pd.DataFrame        # locality, pathway, prevalence_per_1000 (overrides only)
    resources: pd.DataFrame         # resource, capacity, expand_step, expand_cost, expand_max_steps
    providers: pd.DataFrame         # provider, setting, mode, serves (list), block_contract, ...
    offers: pd.DataFrame            # provider, pidx, activity, price, cost, quality, current_share
    uses: pd.DataFrame              # provider, pidx, activity, resource, amount
    constraints: dict
    counts: dict


# --------------------------------------------------------------------------- pathways

def _sig(x: float, digits: int = 4) -> float:
    """Round to ``digits`` significant figures (a number a person would write)."""
    if x == 0:
        return 0.0
    return float(f"{x:.{digits}g}")


def _base_pathways(cfg: dict) -> list[tuple[str, Path, dict]]:
    out = []
    for rel in cfg["pathways"]:
        path = (BASE_CONFIG.parent / rel).resolve()
        data = yaml.safe_load(path.read_text())
        out.append((data["pathway"], path, data))
    return out


def _variant(data: dict, vid: str, rng: np.random.Generator) -> dict:
    """A jittered copy of a pathway: same steps, settings and caps, different numbers."""
    steps = []
    for s in data["steps"]:
        s = dict(s)
        pp = s["per_patient"]
        if isinstance(pp, dict):
            lo = _sig(pp["min"] * rng.uniform(0.8, 1.2))
            hi = _sig(max(pp["max"] * rng.uniform(0.8, 1.2), lo * 1.5, 0.005))
            s["per_patient"] = {"min": lo, "max": hi}
        else:
            s["per_patient"] = _sig(pp * rng.uniform(0.8, 1.2))
        if s.get("avoids"):
            s["avoids"] = {t: _sig(e * rng.uniform(0.8, 1.2)) for t, e in s["avoids"].items()}
        steps.append(s)
    # demand never goes negative, even at full uptake (with a margin)
    by = {s["step"]: s for s in steps}
    for t in by:
        if isinstance(by[t]["per_patient"], dict):
            continue
        srcs = [s for s in steps if t in (s.get("avoids") or {})]
        load = sum(s["avoids"][t] * s["per_patient"]["max"] for s in srcs)
        cap = 0.9 * by[t]["per_patient"]
        if load > cap:
            for s in srcs:
                s["avoids"][t] = _sig(s["avoids"][t] * cap / load * 0.99)
    return {"pathway": vid, "name": f"{data['name']} (synthetic variant {vid})",
            "prevalence_per_1000": _sig(data["prevalence_per_1000"] * rng.uniform(0.75, 1.25)),
            "steps": steps}


def _flow(d: dict) -> str:
    return "{" + ", ".join(f"{k}: {_num(v)}" for k, v in d.items()) + "}"


def _num(v) -> str:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    return repr(float(v))


def _pathway_text(p: dict, source: str, seed: int, what: str = "Synthetic variant of") -> str:
    lines = [f"# {what} {source}, written by benchmarks/generate.py (seed {seed}).",
             f"pathway: {p['pathway']}", f"name: {p['name']}",
             f"prevalence_per_1000: {_num(p['prevalence_per_1000'])}", "steps:"]
    for s in p["steps"]:
        lines.append(f"  - step: {s['step']}")
        pp = s["per_patient"]
        lines.append(f"    per_patient: {_flow(pp) if isinstance(pp, dict) else _num(pp)}")
        lines.append(f"    settings: [{', '.join(s['settings'])}]")
        if s.get("max_share"):
            lines.append(f"    max_share: {_flow(s['max_share'])}")
        if s.get("avoids"):
            lines.append(f"    avoids: {_flow(s['avoids'])}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- scenario

def build(regions: int, localities: int, variants: int, *, seed: int = 1,
          coupled: bool = False, name: str | None = None) -> Scenario:
    """Generate the scenario in memory (no files)."""
    if localities < regions:
        raise ValueError("need at least one locality per region")
    rng = np.random.default_rng(seed)
    cfg = yaml.safe_load(BASE_CONFIG.read_text())
    base = _base_pathways(cfg)
    provs = cfg["providers"]

    # ---- pathways and activities (variant-major: copd, heart_failure, ..., copd_v02, ...)
    pathways: list[dict] = []
    steps_rows = []
    for v in range(1, variants + 1):
        for pid, path, data in base:
            if v == 1:
                p, vid = data, pid
                # the shipped file, without its redesign variants (SPEC section 11): the
                # national scenario prices today's activities only
                text = None if not data.get("variants") else _pathway_text(
                    data, path.name, seed, "today's design (its variants left out) of")
                pathways.append({"id": pid, "base": pid, "file": path.name, "text": text, "src": path})
            else:
                vid = f"{pid}_v{v:02d}"
                p = _variant(data, vid, rng)
                pathways.append({"id": vid, "base": pid, "file": f"{vid}.yaml",
                                 "text": _pathway_text(p, path.name, seed), "src": path})
            for s in p["steps"]:
                pp = s["per_patient"]
                opt = isinstance(pp, dict)
                steps_rows.append({
                    "pathway": vid, "base_pathway": pid, "step": s["step"],
                    "activity": f"{vid}.{s['step']}", "base_activity": f"{pid}.{s['step']}",
                    "optional": opt, "pp": 0.0 if opt else float(pp),
                    "umin": float(pp["min"]) if opt else 0.0, "umax": float(pp["max"]) if opt else 0.0,
                    "settings": frozenset(s["settings"]), "prevalence": float(p["prevalence_per_1000"]),
                    "avoids": dict(s.get("avoids") or {}),
                })
    acts = pd.DataFrame(steps_rows)
    A = len(acts)
    # price level of each activity in each variant (the shipped pathways at 1.0)
    vf = np.where(acts["pathway"] == acts["base_pathway"], 1.0, rng.uniform(0.9, 1.1, A))

    # ---- localities and regions
    L, R = localities, regions
    loc_names = np.array([f"loc{i:05d}" for i in range(L)], dtype=object)
    reg_names = [f"icb{r:02d}" for r in range(R)]
    reg_of = np.repeat(np.arange(R), [len(c) for c in np.array_split(np.arange(L), R)])
    pop = np.clip(np.round(np.exp(rng.normal(math.log(42_000), 0.35, L)), -1), 12_000, 120_000)
    pop = pop.astype(np.int64)
    loc_df = pd.DataFrame({"locality": loc_names, "region": np.array(reg_names, dtype=object)[reg_of],
                           "population": pop})

    # prevalence: a locality factor (age, deprivation) on about a quarter of its pathways
    P = len(pathways)
    pw_ids = np.array([p["id"] for p in pathways], dtype=object)
    pw_prev = acts.groupby("pathway", sort=False)["prevalence"].first().reindex(pw_ids).to_numpy()
    depriv = np.exp(rng.normal(0.0, 0.15, L))
    over = rng.random((L, P)) < 0.25
    prev_val = np.round(pw_prev[None, :] * depriv[:, None] * rng.uniform(0.9, 1.1, (L, P)), 1)
    prev_eff = np.where(over, prev_val, pw_prev[None, :])               # L x P
    li, pj = np.nonzero(over)
    prev_df = pd.DataFrame({"locality": loc_names[li], "pathway": pw_ids[pj],
                            "prevalence_per_1000": prev_val[li, pj]})

    # ---- demand per locality and activity (for capacities, block contracts, budget)
    p_of_act = pd.Index(pw_ids).get_indexer(acts["pathway"])
    N = pop[:, None] * prev_eff[:, p_of_act] / 1000.0                   # L x A
    optional = acts["optional"].to_numpy()
    dmax = N * np.where(optional, acts["umax"].to_numpy(), acts["pp"].to_numpy())[None, :]
    d0 = N * np.where(optional, acts["umin"].to_numpy(), acts["pp"].to_numpy())[None, :]
    act_index = {a: i for i, a in enumerate(acts["activity"])}
    for i, row in acts.iterrows():
        for tgt, eff in row["avoids"].items():
            j = act_index[f"{row['pathway']}.{tgt}"]
            d0[:, j] -= eff * N[:, i] * row["umin"]
    if (d0 < -1e-9).any():
        raise AssertionError("baseline demand negative: generator bug")

    # ---- offers of each role, per base activity
    base_acts = acts["base_activity"].to_numpy()
    settings = acts["settings"].to_numpy()

    def role_table(role: str):
        src = provs[ROLES[role]]
        table = src["prices"] if "prices" in src else src["costs"]
        base_price = np.array([table.get(a, np.nan) for a in base_acts], dtype=float)
        has = ~np.isnan(base_price) & np.array([SETTING[role] in s for s in settings])
        q = src.get("quality", {})
        qdelta = np.array([q[a] - q["default"] if a in q else np.nan for a in base_acts])
        share = np.array([src.get("current_share", {}).get(a, np.nan) for a in base_acts])
        return base_price, has, qdelta, share

    tabs = {r: role_table(r) for r in ("acute", "gpfed", "vcse", "hub")}

    # today's shares per region: split between the declaring roles, jittered
    shares = {r: np.broadcast_to(tabs[r][3], (R, A)).copy() for r in REGION_ROLES}
    declared = np.stack([~np.isnan(shares[r][0]) for r in REGION_ROLES])   # roles x A
    two = declared.sum(axis=0) == 2
    if two.any():
        first = np.argmax(declared, axis=0)
        second = len(REGION_ROLES) - 1 - np.argmax(declared[::-1], axis=0)
        for a in np.flatnonzero(two):
            r1, r2 = REGION_ROLES[first[a]], REGION_ROLES[second[a]]
            base1 = shares[r1][0, a]
            width = min(0.1, base1 / 2, (1 - base1) / 2)
            s1 = np.round(np.clip(base1 + rng.uniform(-width, width, R), 0.02, 0.98), 3)
            shares[r1][:, a] = s1
            shares[r2][:, a] = np.round(1.0 - s1, 3)
    if not np.allclose(sum(np.nan_to_num(shares[r]) for r in REGION_ROLES)[:, declared.any(axis=0)], 1.0):
        raise AssertionError("shares do not sum to 1: generator bug")

    prov_rows: list[dict] = []
    offer_parts: list[pd.DataFrame] = []
    use_parts: list[pd.DataFrame] = []
    res_rows: list[dict] = []
    # region volume per activity today (for block contracts)
    reg_d0 = np.zeros((R, A))
    np.add.at(reg_d0, reg_of, d0)
    reg_dmax = np.zeros((R, A))
    np.add.at(reg_dmax, reg_of, dmax)
    baseline_cost = 0.0

    # hub uses: base amount per activity and resource
    hub_src = provs[ROLES["hub"]]
    base_use = {res: np.array([hub_src["uses"].get(a, {}).get(res, 0.0) for a in base_acts])
                for res in HUB_RESOURCES}
    hub_has = tabs["hub"][1]
    for res in HUB_RESOURCES:
        base_use[res] = np.where(hub_has, base_use[res], 0.0)

    # per-locality use factors and potential hub load of each resource
    use_factor = rng.uniform(0.9, 1.1, L)
    potential = {res: (dmax * base_use[res][None, :]).sum(axis=1) * use_factor for res in HUB_RESOURCES}

    q_default = {role: np.round(rng.uniform(*QUALITY_RANGE[role], size=R if role != "hub" else L), 3)
                 for role in QUALITY_RANGE}

    def offers_frame(names, pidx, role, price_matrix, has, qd_matrix, share_matrix):
        """Rows for providers ``names`` (one per row of the matrices), activities ``has``."""
        n = len(names)
        cols = np.flatnonzero(has)
        pr = price_matrix[:, cols]
        qd = qd_matrix[:, cols]
        sh = share_matrix[:, cols] if share_matrix is not None else np.full((n, len(cols)), np.nan)
        buy = role != "hub"
        return pd.DataFrame({
            "provider": np.repeat(np.asarray(names, dtype=object), len(cols)),
            "pidx": np.repeat(np.asarray(pidx), len(cols)),
            "activity": np.tile(acts["activity"].to_numpy()[cols], n),
            "price": pr.ravel() if buy else np.nan,
            "cost": np.nan if buy else pr.ravel(),
            "quality": qd.ravel(),
            "current_share": sh.ravel(),
        })

    hub_locs_of_region = [np.flatnonzero(reg_of == r) for r in range(R)]
    pidx = 0
    for r in range(R):
        reg = reg_names[r]
        served = loc_names[hub_locs_of_region[r]].tolist()
        for role in REGION_ROLES:
            base_price, has, qdelta, _ = tabs[role]
            price = np.round(base_price * vf * rng.uniform(0.92, 1.08) * rng.uniform(0.97, 1.03, A), 2)
            qd = np.where(np.isnan(qdelta), np.nan,
                          np.round(np.clip(q_default[role][r] + np.nan_to_num(qdelta), 0, 1), 3))
            sh = shares[role][r]
            if not np.isnan(sh[~has]).all():
                raise AssertionError("share on an activity without an arc")
            spend0 = float(np.nansum(np.where(has, price * reg_d0[r] * np.nan_to_num(sh), 0.0)))
            block = 0.0
            if role == "acute":
                block = float(np.round(0.8 * spend0, -3))
            baseline_cost += max(spend0, block)
            pname = f"{role}_{reg}"
            prov_rows.append({"provider": pname, "setting": SETTING[role], "mode": "buy",
                              "serves": served, "block_contract": block,
                              "quality_default": float(q_default[role][r]), "region": reg})
            offer_parts.append(offers_frame([pname], [pidx], role, price[None, :], has, qd[None, :],
                                            sh[None, :]))
            pidx += 1
        # the region's shared pools
        for res, (scope, prefix, step, cost) in HUB_RESOURCES.items():
            if scope != "region":
                continue
            pot = float(potential[res][hub_locs_of_region[r]].sum())
            res_rows.append({"resource": f"{prefix}_{reg}",
                             "capacity": float(round(pot * rng.uniform(0.15, 0.35))),
                             "expand_step": float(step), "expand_cost": float(round(cost * rng.uniform(0.95, 1.05), -2)),
                             "expand_max_steps": max(1, math.ceil(0.3 * pot / step))})
        # hubs of the region
        locs = hub_locs_of_region[r]
        base_cost, has, qdelta, _ = tabs["hub"]
        lf = rng.uniform(0.85, 1.15, len(locs))
        cost = np.round(base_cost[None, :] * vf[None, :] * lf[:, None]
                        * rng.uniform(0.97, 1.03, (len(locs), A)), 2)
        qdm = np.where(np.isnan(qdelta)[None, :], np.nan,
                       np.round(np.clip(q_default["hub"][locs][:, None] + np.nan_to_num(qdelta)[None, :], 0, 1), 3))
        names = [f"hub_{loc_names[i]}" for i in locs]
        hub_pidx = np.arange(pidx, pidx + len(locs))
        offer_parts.append(offers_frame(names, hub_pidx, "hub", cost, has, qdm, None))
        for k, i in enumerate(locs):
            pw_here = P  # every locality has every pathway
            prov_rows.append({
                "provider": names[k], "setting": SETTING["hub"], "mode": "make", "serves": [loc_names[i]],
                "fixed_cost": float(round(36_000 * pw_here / 5 * rng.uniform(0.8, 1.2), -3)),
                "min_volume": float(round(600 * pw_here / 5 * pop[i] / 100_000 * rng.uniform(0.6, 1.0))),
                "overhead": float(round(rng.uniform(0.15, 0.20), 3)),
                "quality_default": float(q_default["hub"][i]), "region": reg})
        # uses: one row per hub, activity, resource (resources in the example's order)
        for res, (scope, prefix, step, rcost) in HUB_RESOURCES.items():
            cols = np.flatnonzero(base_use[res] > 0)
            amt = np.round(base_use[res][None, cols] * use_factor[locs][:, None], 2)
            if scope == "region":
                rname = np.full(len(locs), f"{prefix}_{reg}", dtype=object)
            else:
                rname = np.array([f"{prefix}_{loc_names[i]}" for i in locs], dtype=object)
            use_parts.append(pd.DataFrame({
                "provider": np.repeat(np.asarray(names, dtype=object), len(cols)),
                "pidx": np.repeat(hub_pidx, len(cols)),
                "act": np.tile(cols, len(locs)),
                "activity": np.tile(acts["activity"].to_numpy()[cols], len(locs)),
                "resource": np.repeat(rname, len(cols)),
                "rorder": list(HUB_RESOURCES).index(res),
                "amount": amt.ravel(),
            }))
        for res, (scope, prefix, step, rcost) in HUB_RESOURCES.items():
            if scope != "locality":
                continue
            for i in locs:
                pot = float(potential[res][i])
                res_rows.append({"resource": f"{prefix}_{loc_names[i]}",
                                 "capacity": float(round(pot * rng.uniform(0.15, 0.35))),
                                 "expand_step": float(step),
                                 "expand_cost": float(round(rcost * rng.uniform(0.95, 1.05), -2)),
                                 "expand_max_steps": max(1, math.ceil(0.3 * pot / step))})
        pidx += len(locs)

    if coupled:
        isp_has = np.isin(base_acts, ISP_ACTIVITIES) & np.array(["hospital" in s for s in settings])
        acute_price = tabs["acute"][0]
        price = np.round(acute_price * vf * 0.93 * rng.uniform(0.97, 1.03, A), 2)
        spend = float(np.sum(np.where(isp_has, price * reg_d0.sum(axis=0) * 0.05, 0.0)))
        prov_rows.append({"provider": "national_isp", "setting": "hospital", "mode": "buy",
                          "serves": "all", "block_contract": float(round(spend, -3)),
                          "quality_default": 0.91, "region": None})
        offer_parts.append(offers_frame(["national_isp"], [pidx], "isp", price[None, :], isp_has,
                                        np.full((1, A), np.nan), None))
        joints = np.flatnonzero(isp_has & (np.char.endswith(base_acts.astype(str), ".joint_replacement")))
        use_parts.append(pd.DataFrame({
            "provider": "national_isp", "pidx": pidx, "act": joints,
            "activity": acts["activity"].to_numpy()[joints], "resource": "theatre_hours",
            "rorder": len(HUB_RESOURCES), "amount": THEATRE_HOURS_PER_JOINT}))
        pot = float((reg_dmax.sum(axis=0)[joints]).sum() * THEATRE_HOURS_PER_JOINT)
        res_rows.append({"resource": "theatre_hours", "capacity": float(round(0.1 * pot)),
                         "expand_step": 2000.0, "expand_cost": 150_000.0,
                         "expand_max_steps": max(1, math.ceil(0.1 * pot / 2000))})
        pidx += 1

    providers = pd.DataFrame(prov_rows)
    for c in ("block_contract", "fixed_cost", "min_volume", "overhead"):
        if c not in providers:
            providers[c] = np.nan
    offers = pd.concat(offer_parts, ignore_index=True)
    # keep the example's activity order inside each provider (it is already) and drop
    # empty rows (an activity the role does not offer never gets here)
    uses = pd.concat(use_parts, ignore_index=True)
    uses = uses.sort_values(["pidx", "act", "rorder"], kind="stable").reset_index(drop=True)
    uses = uses[["provider", "pidx", "activity", "resource", "amount"]]
    resources = pd.DataFrame(res_rows)
    resources["expand_max_steps"] = resources["expand_max_steps"].astype(np.int64)

    floors = cfg["constraints"]["min_quality"]
    min_quality = {"default": floors["default"]}
    for p in pathways:
        if p["base"] in floors:
            min_quality[p["id"]] = floors[p["base"]]
    constraints = {"min_quality": min_quality, "max_shift": cfg["constraints"].get("max_shift", 0.5)}
    if coupled:
        constraints["budget"] = float(round(1.02 * baseline_cost, -3))

    # ---- predicted model size (what compile_model will build)
    arcs_per_act = np.zeros(A, dtype=np.int64)
    for role in ("acute", "gpfed", "vcse", "hub"):
        arcs_per_act += tabs[role][1]
    n_arcs = int(arcs_per_act.sum()) * L
    if coupled:
        n_arcs += int(isp_has.sum()) * L
    n_y = int(optional.sum()) * L
    n_k = len(resources)
    n_o = int((providers["mode"] == "make").sum())
    n_pay = int((providers["block_contract"].fillna(0) > 0).sum())
    counts = {"regions": R, "localities": L, "variants": variants, "pathways": P,
              "activities": A, "providers": len(providers), "resources": len(resources),
              "offers_rows": len(offers), "uses_rows": len(uses), "prevalence_rows": len(prev_df),
              "arcs": n_arcs, "variables": n_arcs + n_y + n_k + n_o + n_pay,
              "estimated_baseline_cost": round(baseline_cost, 2), "coupled": coupled}
    return Scenario(
        name=name or f"Synthetic national {'coupled' if coupled else 'independent regions'}: "
                     f"{R} regions, {L} localities, {P} pathways",
        pathways=pathways, localities=loc_df, prevalence=prev_df, resources=resources,
        providers=providers, offers=offers, uses=uses, constraints=constraints, counts=counts)


# --------------------------------------------------------------------------- writing

def _fmt(values) -> list[str]:
    return [repr(v) for v in np.asarray(values, dtype=float).tolist()]


def _bounds(pidx: np.ndarray, n: int) -> np.ndarray:
    """Start of each provider's rows in a table sorted by provider index (length n + 1)."""
    return np.searchsorted(pidx, np.arange(n + 1))


def _header(sc: Scenario, form: str, seed: int) -> list[str]:
    c = sc.counts
    return [
        f"# {sc.name}",
        f"# Written by benchmarks/generate.py (seed {seed}), form: {form}.",
        f"# {c['regions']} regions, {c['localities']} localities, {c['pathways']} pathways, "
        f"{c['providers']} providers, {c['resources']} resources; about {c['variables']:,} variables.",
        f"scenario: {json.dumps(sc.name)}",
        "currency: GBP",
        "pathways:",
        *[f"  - ../pathways/{p['file']}" for p in sc.pathways],
    ]


def _tail(sc: Scenario) -> list[str]:
    cons = sc.constraints
    lines = ["constraints:"]
    if "budget" in cons:
        lines.append(f"  budget: {_num(cons['budget'])}")
    lines.append("  min_quality:")
    lines += [f"    {k}: {_num(v)}" for k, v in cons["min_quality"].items()]
    lines.append(f"  max_shift: {_num(cons['max_shift'])}")
    lines += ["objective: min_cost", "solve: {mode: lp, backend: highs}"]
    return lines


def _provider_head(row) -> list[str]:
    serves = row["serves"]
    lines = [f"  {row['provider']}:", f"    setting: {row['setting']}", f"    mode: {row['mode']}",
             f"    serves: {serves if isinstance(serves, str) else '[' + ', '.join(serves) + ']'}"]
    if row["mode"] == "buy":
        if row["block_contract"] > 0:
            lines.append(f"    block_contract: {_num(row['block_contract'])}")
    else:
        lines.append(f"    fixed_cost: {_num(row['fixed_cost'])}")
        lines.append(f"    min_volume: {_num(row['min_volume'])}")
        lines.append(f"    overhead: {_num(row['overhead'])}")
    return lines


def yaml_text(sc: Scenario, seed: int) -> str:
    """Form (a): the whole scenario as SPEC YAML."""
    out = _header(sc, "YAML only", seed)
    out.append("localities:")
    prev = sc.prevalence
    prev_line = {}
    if len(prev):
        txt = prev["pathway"] + ": " + pd.Series(_fmt(prev["prevalence_per_1000"]), index=prev.index)
        prev_line = txt.groupby(prev["locality"], sort=False).agg(", ".join).to_dict()
    for loc, pop in zip(sc.localities["locality"], sc.localities["population"]):
        if loc in prev_line:
            out.append(f"  {loc}: {{population: {int(pop)}, prevalence_per_1000: {{{prev_line[loc]}}}}}")
        else:
            out.append(f"  {loc}: {{population: {int(pop)}}}")
    out.append("resources:")
    for r in sc.resources.itertuples(index=False):
        out.append(f"  {r.resource}: {{capacity: {_num(r.capacity)}, expand: {{step: {_num(r.expand_step)}, "
                   f"cost: {_num(r.expand_cost)}, max_steps: {int(r.expand_max_steps)}}}}}")
    out.append("providers:")

    of = sc.offers
    n = len(sc.providers)
    is_buy = of["price"].notna().to_numpy()
    val = np.where(is_buy, of["price"].to_numpy(), of["cost"].to_numpy())
    acts = of["activity"].to_numpy()
    val_lines = ["      " + a + ": " + v for a, v in zip(acts, _fmt(val))]
    ob = _bounds(of["pidx"].to_numpy(), n)
    qmask = of["quality"].notna().to_numpy()
    q_lines = ["      " + a + ": " + v for a, v in zip(acts[qmask], _fmt(of["quality"].to_numpy()[qmask]))]
    qb = _bounds(of["pidx"].to_numpy()[qmask], n)
    smask = of["current_share"].notna().to_numpy()
    s_lines = ["      " + a + ": " + v
               for a, v in zip(acts[smask], _fmt(of["current_share"].to_numpy()[smask]))]
    sb = _bounds(of["pidx"].to_numpy()[smask], n)
    # uses: one flow mapping per provider and activity
    us = sc.uses
    u_txt = (us["resource"] + ": " + pd.Series(_fmt(us["amount"]), index=us.index)).tolist()
    u_key = list(zip(us["pidx"].tolist(), us["activity"].tolist()))
    u_lines, u_pidx = [], []
    prev_key = None
    for key, t in zip(u_key, u_txt):
        if key == prev_key:
            u_lines[-1] += ", " + t
        else:
            u_lines.append(t)
            u_pidx.append(key)
            prev_key = key
    u_lines = [f"      {k[1]}: {{{t}}}" for k, t in zip(u_pidx, u_lines)]
    ub = _bounds(np.array([k[0] for k in u_pidx], dtype=np.int64), n)

    for j, row in enumerate(sc.providers.to_dict("records")):
        out += _provider_head(row)
        out.append("    prices:" if row["mode"] == "buy" else "    costs:")
        out += val_lines[ob[j]:ob[j + 1]]
        out.append("    quality:")
        out.append(f"      default: {_num(row['quality_default'])}")
        out += q_lines[qb[j]:qb[j + 1]]
        if sb[j + 1] > sb[j]:
            out.append("    current_share:")
            out += s_lines[sb[j]:sb[j + 1]]
        if ub[j + 1] > ub[j]:
            out.append("    uses:")
            out += u_lines[ub[j]:ub[j + 1]]
    out += _tail(sc)
    return "\n".join(out) + "\n"


def tables_text(sc: Scenario, seed: int, files: dict[str, str]) -> str:
    """Form (b): providers declared in YAML, bulk numbers in tables."""
    out = _header(sc, "YAML + tables (SPEC 2.3)", seed)
    out.append("tables:")
    out += [f"  {k}: ../data/{v}" for k, v in files.items()]
    out.append("providers:")
    for row in sc.providers.to_dict("records"):
        out += _provider_head(row)
        out.append(f"    quality: {{default: {_num(row['quality_default'])}}}")
    out += _tail(sc)
    return "\n".join(out) + "\n"


def _write_table(df: pd.DataFrame, folder: Path, stem: str) -> str:
    """Parquet when large, CSV when small; empty cells (NaN) are written as missing."""
    if len(df) > PARQUET_ROWS:
        import pyarrow as pa
        import pyarrow.parquet as pq

        name = f"{stem}.parquet"
        table = pa.Table.from_pandas(df, preserve_index=False)  # NaN -> null
        pq.write_table(table, folder / name)
    else:
        name = f"{stem}.csv"
        df.to_csv(folder / name, index=False, lineterminator="\n")
    return name


def write(sc: Scenario, out: Path, *, seed: int = 1, forms=("yaml", "tables")) -> dict:
    """Write the pathways, both forms and ``manifest.json`` into ``out``; return the manifest."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("pathways", "configs", "data"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir()
    for p in sc.pathways:
        if p["text"] is None:
            shutil.copy(p["src"], out / "pathways" / p["file"])
        else:
            (out / "pathways" / p["file"]).write_text(p["text"])
    manifest = {"name": sc.name, "seed": seed, **sc.counts, "forms": {}}
    if "yaml" in forms:
        text = yaml_text(sc, seed)
        size = len(text.encode())
        if size > YAML_LIMIT:
            manifest["forms"]["yaml"] = {"skipped": f"YAML would be {size / 2**20:.1f} MiB, over the "
                                                    f"loader's {YAML_LIMIT / 2**20:.0f} MiB limit"}
        else:
            path = out / "configs" / "national.yaml"
            path.write_text(text)
            manifest["forms"]["yaml"] = {"config": str(path.relative_to(out)), "bytes": size}
    if "tables" in forms:
        data = out / "data"
        files = {
            "localities": _write_table(sc.localities[["locality", "population"]], data, "localities"),
            "prevalence": _write_table(sc.prevalence, data, "prevalence"),
            "offers": _write_table(sc.offers[["provider", "activity", "price", "cost", "quality",
                                              "current_share"]], data, "offers"),
            "uses": _write_table(sc.uses[["provider", "activity", "resource", "amount"]], data, "uses"),
            "resources": _write_table(sc.resources, data, "resources"),
        }
        text = tables_text(sc, seed, files)
        path = out / "configs" / "national_tables.yaml"
        path.write_text(text)
        size = len(text.encode()) + sum((data / f).stat().st_size for f in files.values())
        manifest["forms"]["tables"] = {"config": str(path.relative_to(out)), "bytes": size,
                                       "tables": files}
    manifest["write_seconds"] = round(time.perf_counter() - t0, 3)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def generate(out: Path, *, size: str | None = None, regions: int | None = None,
             localities: int | None = None, variants: int | None = None, seed: int = 1,
             coupled: bool = False, forms=("yaml", "tables")) -> dict:
    """Build and write one scenario; returns its manifest (with ``generate_seconds``)."""
    t0 = time.perf_counter()
    R, L, V = SIZES[size] if size else (None, None, None)
    R, L, V = regions or R, localities or L, variants or V
    if L is None:
        raise ValueError("give --size or --localities")
    R = R or max(1, round(L / LOCALITIES_PER_REGION))
    V = V or 1
    sc = build(R, L, V, seed=seed, coupled=coupled)
    built = time.perf_counter() - t0
    manifest = write(sc, out, seed=seed, forms=forms)
    manifest["size"] = size
    manifest["build_seconds"] = round(built, 3)
    manifest["generate_seconds"] = round(time.perf_counter() - t0, 3)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# --------------------------------------------------------------------------- checking

def verify(out: Path) -> list[str]:
    """Load every written form with the engine, compile it and compare: the model sizes must
    match the manifest and the two forms must compile to the same model (same columns,
    rows, coefficients, bounds and costs). Returns a list of problems (empty when fine)."""
    from optimiser import load
    from optimiser.compile import compile_model

    manifest = json.loads((out / "manifest.json").read_text())
    models, problems = {}, []
    for form, info in manifest["forms"].items():
        if "config" not in info:
            continue
        t0 = time.perf_counter()
        try:
            m = compile_model(load(out / info["config"]).instance)
        except Exception as exc:  # report, do not stop
            problems.append(f"{form}: {type(exc).__name__}: {str(exc)[:2000]}")
            continue
        print(f"{form}: loaded and compiled in {time.perf_counter() - t0:.1f} s: "
              f"{m.num_cols:,} variables, {m.num_rows:,} rows, {m.num_nonzeros:,} nonzeros", file=sys.stderr)
        if m.num_cols != manifest["variables"]:
            problems.append(f"{form}: {m.num_cols} variables, manifest predicts {manifest['variables']}")
        models[form] = m
    if len(models) == 2:
        a, b = models["yaml"], models["tables"]
        same = (a.num_cols == b.num_cols and a.num_rows == b.num_rows
                and (a.A != b.A).nnz == 0
                and all(np.array_equal(getattr(a, f), getattr(b, f))
                        for f in ("obj", "col_lb", "col_ub", "row_lb", "row_ub", "col_integer"))
                and a.col_meta["name"].equals(b.col_meta["name"])
                and a.row_meta["name"].equals(b.row_meta["name"]))
        if not same:
            problems.append("the YAML and tables forms compile to different models")
        else:
            print("yaml and tables forms compile to identical models", file=sys.stderr)
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=list(SIZES), help="preset by target variable count")
    ap.add_argument("--localities", type=int, help="localities (with no --size: the scenario's size)")
    ap.add_argument("--regions", type=int, help=f"regions (default: localities / {30}, or the preset's)")
    ap.add_argument("--variants", type=int,
                    help="variants of each shipped pathway, the shipped one included (default 1, or the preset's)")
    ap.add_argument("--seed", type=int, default=1)
    grp = ap.add_mutually_exclusive_group()
    grp.add_argument("--independent-regions", dest="coupled", action="store_false",
                     help="regions share nothing; no budget (default)")
    grp.add_argument("--coupled", dest="coupled", action="store_true",
                     help="add a national provider, a national resource and a national budget")
    ap.set_defaults(coupled=False)
    ap.add_argument("--forms", nargs="+", choices=["yaml", "tables"], default=["yaml", "tables"])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--verify", action="store_true",
                    help="load both forms with the engine and check they compile to the same model")
    a = ap.parse_args(argv)
    if not (a.size or a.localities):
        ap.error("give --size, or --localities (with --regions and --variants if wanted)")
    m = generate(a.out, size=a.size, regions=a.regions, localities=a.localities,
                 variants=a.variants, seed=a.seed, coupled=a.coupled, forms=a.forms)
    print(json.dumps({k: m[k] for k in ("regions", "localities", "pathways", "providers", "resources",
                                        "variables", "generate_seconds")}), file=sys.stderr)
    for form, info in m["forms"].items():
        print(f"{form}: {info.get('config') or info.get('skipped')} ({info.get('bytes', 0) / 1e6:.1f} MB)",
              file=sys.stderr)
    # stdout: the config to solve (plain YAML when written, else the tables form)
    written = [info["config"] for info in m["forms"].values() if "config" in info]
    if written:
        print(a.out / written[0])
    if a.verify:
        problems = verify(a.out)
        for p in problems:
            print("PROBLEM:", p, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
