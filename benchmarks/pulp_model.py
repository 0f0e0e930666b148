"""Reference 2: the same scenario written the way a PuLP user would write it, solved by HiGHS.

    python benchmarks/pulp_model.py CONFIG [--time-limit S]

Independent of the engine: it reads the raw files itself (the config with PyYAML, the
pathway files, and the CSV/Parquet tables when the config names ``tables:``), builds SPEC
section 3's LP with plain dicts, ``LpVariable`` and ``lpSum`` (``o`` and ``k`` continuous,
as in ``--mode lp``), and solves it with ``pulp.HiGHS`` (HiGHS through highspy). Prints one
JSON line: seconds to read, build and solve (PuLP's solve includes passing the model to
HiGHS column by column and row by row), the objective, and the model size. Its objective
must equal the engine's (``benchmarks/run.py`` checks 1e-6 relative): a check of the whole
engine (loader, instance, compiler, backend) against a second implementation of the math.

Covers what the generated scenarios use: prevalence overrides, optional steps and avoids,
setting caps, shared resources with expansion, make providers with fixed cost, minimum
volume and overhead, block contracts, quality floors, pace of change and a budget.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402

import pandas as pd  # noqa: E402
import pulp  # noqa: E402
import yaml  # noqa: E402

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(path: str):
    with open(path) as f:
        return yaml.load(f, Loader=LOADER)


def _table(path: str) -> pd.DataFrame:
    return pd.read_parquet(path) if path.endswith((".parquet", ".pq")) else pd.read_csv(path)


def read(config: str) -> dict:
    """The scenario as plain dicts, from YAML and (when named) tables."""
    cfg = _yaml(config)
    here = os.path.dirname(os.path.abspath(config))
    pathways = [_yaml(os.path.join(here, p)) for p in cfg["pathways"]]
    pop = {k: float(v["population"]) for k, v in (cfg.get("localities") or {}).items()}
    prev = {(k, p): float(x) for k, v in (cfg.get("localities") or {}).items()
            for p, x in (v.get("prevalence_per_1000") or {}).items()}
    resources = {k: (float(v["capacity"]), float(v.get("expand", {}).get("step", 0)),
                     float(v.get("expand", {}).get("cost", 0)), float(v.get("expand", {}).get("max_steps", 0)))
                 for k, v in (cfg.get("resources") or {}).items()}
    provs = cfg["providers"]
    unit, quality, share = {}, {}, {}
    uses = defaultdict(dict)
    for v, spec in provs.items():
        for a, c in (spec.get("prices") or spec.get("costs") or {}).items():
            unit[v, a] = float(c)
        for a, q in (spec.get("quality") or {}).items():
            quality[v, a] = float(q)
        for a, s in (spec.get("current_share") or {}).items():
            share[v, a] = float(s)
        for a, per in (spec.get("uses") or {}).items():
            for r, amt in per.items():
                uses[v, a][r] = float(amt)
    tables = {k: _table(os.path.join(here, p)) for k, p in (cfg.get("tables") or {}).items()}
    if "localities" in tables:
        t = tables["localities"]
        pop.update(zip(t["locality"], t["population"].astype(float)))
    if "prevalence" in tables:
        t = tables["prevalence"].dropna(subset=["prevalence_per_1000"])
        prev.update(zip(zip(t["locality"], t["pathway"]), t["prevalence_per_1000"].astype(float)))
    if "resources" in tables:
        t = tables["resources"]
        for c in ("expand_step", "expand_cost", "expand_max_steps"):
            if c not in t:
                t[c] = 0.0
        t = t.fillna({"expand_step": 0.0, "expand_cost": 0.0, "expand_max_steps": 0.0})
        for r, cap, st, co, mx in zip(t["resource"], t["capacity"], t["expand_step"], t["expand_cost"],
                                      t["expand_max_steps"]):
            resources[r] = (float(cap), float(st), float(co), float(mx))
    if "offers" in tables:
        t = tables["offers"]
        for col, target in (("price", unit), ("cost", unit), ("quality", quality), ("current_share", share)):
            if col in t:
                sel = t[col].notna()
                target.update(zip(zip(t["provider"][sel], t["activity"][sel]), t[col][sel].astype(float)))
    if "uses" in tables:
        t = tables["uses"]
        for v, a, r, amt in zip(t["provider"], t["activity"], t["resource"], t["amount"]):
            uses[v, a][r] = float(amt)
    return {"cfg": cfg, "pathways": pathways, "pop": pop, "prev": prev, "resources": resources,
            "providers": provs, "unit": unit, "quality": quality, "share": share, "uses": uses}


def build(d: dict) -> tuple[pulp.LpProblem, dict]:
    cfg, provs = d["cfg"], d["providers"]
    cons = cfg.get("constraints") or {}
    floors = cons.get("min_quality") or {}
    max_shift = cons.get("max_shift")
    budget = cons.get("budget")
    localities = list(d["pop"])
    serving = defaultdict(list)                # locality -> providers, in config order
    for v, spec in provs.items():
        for loc in (localities if spec.get("serves", "all") == "all" else spec["serves"]):
            serving[loc].append(v)

    prob = pulp.LpProblem("carepath_reference", pulp.LpMinimize)
    x, y = {}, {}
    prov_terms = defaultdict(list)             # provider -> [(x, unit cost)]
    prov_dmax = defaultdict(float)             # provider -> big M
    res_terms = defaultdict(list)              # resource -> [(x, amount)]
    n_rows = 0
    for loc in localities:
        for pw in d["pathways"]:
            p = pw["pathway"]
            n = d["pop"][loc] * d["prev"].get((loc, p), float(pw["prevalence_per_1000"])) / 1000.0
            steps = pw["steps"]
            # uptakes of optional steps
            for s in steps:
                pp = s["per_patient"]
                if isinstance(pp, dict):
                    y[loc, p, s["step"]] = pulp.LpVariable(f"y_{loc}_{p}_{s['step']}",
                                                           n * float(pp["min"]), n * float(pp["max"]))
            avoided = defaultdict(list)        # target step -> [(y, effect)]
            for s in steps:
                for t, e in (s.get("avoids") or {}).items():
                    avoided[t].append((y[loc, p, s["step"]], float(e)))
            floor = floors.get(p, floors.get("default"))
            quality_terms = []
            for s in steps:
                st, a = s["step"], f"{p}.{s['step']}"
                pp = s["per_patient"]
                if isinstance(pp, dict):
                    demand = y[loc, p, st]
                    dmax = n * float(pp["max"])
                else:
                    demand = n * float(pp) - pulp.lpSum(e * yv for yv, e in avoided.get(st, []))
                    dmax = n * float(pp)
                if not isinstance(pp, dict) and st in avoided:
                    prob += demand >= 0, f"floor_{loc}_{p}_{st}"
                    n_rows += 1
                arcs = []
                for v in serving[loc]:
                    spec = provs[v]
                    if spec["setting"] in s["settings"] and (v, a) in d["unit"]:
                        xv = pulp.LpVariable(f"x_{loc}_{a}_{v}", 0)
                        x[loc, p, st, v] = xv
                        arcs.append((v, xv))
                        prov_terms[v].append((xv, d["unit"][v, a]))
                        prov_dmax[v] += dmax
                        for r, amt in d["uses"].get((v, a), {}).items():
                            res_terms[r].append((xv, amt))
                        if floor is not None:
                            q = d["quality"].get((v, a), d["quality"].get((v, "default")))
                            quality_terms.append((xv, q - float(floor)))
                prob += pulp.lpSum(xv for _, xv in arcs) == demand, f"flow_{loc}_{p}_{st}"
                n_rows += 1
                for g, m in (s.get("max_share") or {}).items():
                    mine = [xv for v, xv in arcs if provs[v]["setting"] == g]
                    if mine:
                        prob += pulp.lpSum(mine) <= float(m) * demand, f"cap_{loc}_{p}_{st}_{g}"
                        n_rows += 1
                if max_shift is not None:
                    declared = {v: d["share"][v, a] for v, _ in arcs if (v, a) in d["share"]}
                    if not declared and arcs:
                        buys = [v for v, _ in arcs if provs[v]["mode"] == "buy"]
                        declared = {(buys or [arcs[0][0]])[0]: 1.0}
                    for v, xv in arcs:
                        sh = declared.get(v, 0.0)
                        if sh > 0:
                            prob += xv >= (1 - float(max_shift)) * sh * demand, f"pace_{loc}_{a}_{v}"
                            n_rows += 1
            if floor is not None and quality_terms:
                prob += pulp.lpSum(c * xv for xv, c in quality_terms) >= 0, f"quality_{loc}_{p}"
                n_rows += 1

    # capacity and expansion
    k = {}
    cost_terms = []
    for r, terms in res_terms.items():
        cap, step, cost, max_steps = d["resources"][r]
        rhs = cap
        if step > 0 and max_steps > 0:
            k[r] = pulp.LpVariable(f"k_{r}", 0, max_steps)
            rhs = cap + step * k[r]
            cost_terms.append((k[r], cost))
        prob += pulp.lpSum(a * xv for xv, a in terms) <= rhs, f"capacity_{r}"
        n_rows += 1
    for r, (cap, step, cost, max_steps) in d["resources"].items():
        if r not in res_terms and step > 0 and max_steps > 0:
            k[r] = pulp.LpVariable(f"k_{r}", 0, max_steps)   # unused: stays at 0
            cost_terms.append((k[r], cost))

    # providers: running indicators, block contracts, costs
    o, pay = {}, {}
    for v, spec in provs.items():
        terms = prov_terms.get(v, [])
        if spec["mode"] == "make":
            oh = 1.0 + float(spec.get("overhead", 0.0))
            fixed = float(spec.get("fixed_cost", 0.0))
            min_volume = float(spec.get("min_volume", 0.0))
            cost_terms += [(xv, oh * c) for xv, c in terms]
            if terms and (fixed > 0 or min_volume > 0):
                o[v] = pulp.LpVariable(f"o_{v}", 0, 1)
                volume = pulp.lpSum(xv for xv, _ in terms)
                prob += volume <= prov_dmax[v] * o[v], f"running_{v}"
                n_rows += 1
                if min_volume > 0:
                    prob += volume >= min_volume * o[v], f"min_volume_{v}"
                    n_rows += 1
                cost_terms.append((o[v], oh * fixed))
        else:
            block = float(spec.get("block_contract", 0.0))
            if block > 0:
                pay[v] = pulp.LpVariable(f"pay_{v}", 0)
                prob += pay[v] >= block, f"block_{v}"
                prob += pay[v] >= pulp.lpSum(c * xv for xv, c in terms), f"payment_{v}"
                n_rows += 2
                cost_terms.append((pay[v], 1.0))
            else:
                cost_terms += terms
    total = pulp.lpSum(c * var for var, c in cost_terms)
    prob += total
    if budget is not None:
        prob += total <= float(budget), "budget"
        n_rows += 1
    size = {"variables": len(x) + len(y) + len(k) + len(o) + len(pay), "constraints": n_rows}
    return prob, size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="PuLP reference model (see module docstring)")
    ap.add_argument("config")
    ap.add_argument("--time-limit", type=float)
    a = ap.parse_args(argv)
    t_import = time.perf_counter() - T0
    t0 = time.perf_counter()
    data = read(a.config)
    t1 = time.perf_counter()
    prob, size = build(data)
    t2 = time.perf_counter()
    solver = pulp.HiGHS(msg=False, timeLimit=a.time_limit)
    status = prob.solve(solver)
    t3 = time.perf_counter()
    print(json.dumps({"status": pulp.LpStatus[status], "objective": pulp.value(prob.objective),
                      **size, "import_s": round(t_import, 3), "read_s": round(t1 - t0, 3),
                      "build_s": round(t2 - t1, 3), "solve_s": round(t3 - t2, 3),
                      "total_s": round(t3 - T0, 3), "pulp": pulp.__version__}))
    return 0 if pulp.LpStatus[status] == "Optimal" else 1


if __name__ == "__main__":
    sys.exit(main())
