"""Warm re-solves against cold load+build+solve, per changed scenario.

    python benchmarks/warm.py                      # a ~100k-variable synthetic scenario
    python benchmarks/warm.py --size 10k           # smaller (the generator's sizes)
    python benchmarks/warm.py --config PATH        # an existing scenario

For each change (budget, capacities, prices, populations, prevalence, demand scale), the
cold figure is what a sweep without warm starts pays: load the config with the change as
``--set`` overrides (YAML, schema, checks, tables), compile, and solve with HiGHS from
scratch. The warm figure is one :meth:`optimiser.warm.WarmModel.solve` call on a session
created once: derive the changed tables and model numbers, push the differences to the
live HiGHS model, re-solve from the previous basis. Both objectives are printed and must
agree (relative 1e-6). Wall-clock seconds on this machine; they vary with its load.
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import optimiser
from optimiser import Changes
from optimiser.backends import SolveOptions, get_backend
from optimiser.compile import compile_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402


def make_scenario(out: Path, size: str) -> Path:
    """Generate a scenario with benchmarks/generate.py, whichever interface it has."""
    params = inspect.signature(generate).parameters
    if "size" in params:                       # generate(out, *, size=..., forms=...)
        kw = {"forms": ("yaml",)} if "forms" in params else {}
        manifest = generate(out, size=size, **kw)
        return out / manifest["forms"]["yaml"]["config"]
    per_locality = 68                          # the first generator: ~68 variables a locality
    target = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}[size]
    return generate(max(1, round(target / per_locality)), out)


def changes_for(sc: optimiser.Scenario, base_objective: float,
                seed: int) -> list[tuple[str, Changes]]:
    """About a dozen sweep-like changes, named from the scenario's own tables."""
    rng = np.random.default_rng(seed)
    inst = sc.instance
    res = inst.resources.set_index("resource")["capacity"]
    used = [r for r in res.index if r in set(inst.uses["resource"])]
    arcs = inst.arcs
    buy = arcs[arcs["mode"] == "buy"].groupby(["provider", "activity"], sort=False).size()
    big_buy = buy.sort_values(ascending=False).index[0]
    make = arcs[arcs["mode"] == "make"].groupby(["provider", "activity"], sort=False).size()
    one_make = make.index[int(rng.integers(len(make)))] if len(make) else big_buy
    price = inst.offers.set_index(["provider", "activity"])["unit_cost"]
    pop = inst.localities.set_index("locality")["population"]
    locs = list(pop.index)
    pick = [locs[i] for i in rng.choice(len(locs), min(10, len(locs)), replace=False)]
    pathways = [p.pathway for p in sc.pathways]
    five = [used[i] for i in rng.choice(len(used), min(5, len(used)), replace=False)]
    prev_loc = pick[0]
    dem = inst.demand
    n0 = dem[(dem["locality"] == prev_loc) & (dem["pathway"] == pathways[0])]["patients"].iloc[0]
    prev0 = n0 / pop[prev_loc] * 1000
    return [
        ("budget 2% above the optimum", Changes(budget=base_objective * 1.02)),
        ("budget 1% below the optimum", Changes(budget=base_objective * 0.99)),
        (f"capacity of {len(five)} resources -25%",
         Changes(capacity={r: float(res[r]) * 0.75 for r in five})),
        ("capacity of 1 resource x2", Changes(capacity={used[0]: float(res[used[0]]) * 2})),
        (f"price of {big_buy[0]} {big_buy[1]} +10% ({buy.iloc[0]} arcs)",
         Changes(prices={big_buy: float(price[big_buy]) * 1.1})),
        (f"cost of {one_make[0]} {one_make[1]} -30%",
         Changes(prices={one_make: float(price[one_make]) * 0.7})),
        ("population of 1 locality +10%", Changes(population={pick[0]: float(pop[pick[0]]) * 1.1})),
        (f"population of {len(pick)} localities -5%",
         Changes(population={loc: float(pop[loc]) * 0.95 for loc in pick})),
        (f"prevalence of {pathways[0]} in 1 locality +20%",
         Changes(prevalence={(prev_loc, pathways[0]): float(prev0) * 1.2})),
        (f"demand of pathway {pathways[1 % len(pathways)]} x1.05 everywhere",
         Changes(demand_scale={pathways[1 % len(pathways)]: 1.05})),
        ("all demand x1.02 everywhere", Changes(demand_scale=1.02)),
        ("back to the scenario as loaded", Changes()),
    ]


def cold(path: Path, session: optimiser.WarmModel, ch: Changes, mode: str,
         time_limit: float | None = None) -> tuple[float, float | None]:
    """Seconds of load (with the change as --set) + compile + HiGHS solve, and the objective."""
    t = time.perf_counter()
    sc = optimiser.load(path, overrides=session.overrides(ch, expand=True))
    model = compile_model(sc.instance)
    problem = model.relaxed() if mode == "lp" else model
    out = get_backend("highs").solve(problem, SolveOptions(time_limit=time_limit))
    return time.perf_counter() - t, out.objective


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="100k")
    ap.add_argument("--config", type=Path, help="an existing scenario instead of generating one")
    ap.add_argument("--out", type=Path,
                    help="folder for the generated scenario (default: a temp folder)")
    ap.add_argument("--mode", default="lp", choices=["lp", "milp"])
    ap.add_argument("--cold", type=int, default=99,
                    help="measure the cold solve for at most this many changes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per solve (both ways)")
    a = ap.parse_args(argv)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    if a.config:
        path = a.config
    else:
        out = a.out or Path(tempfile.mkdtemp(prefix="carepath-warm-"))
        t = time.perf_counter()
        path = make_scenario(out, a.size)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")

    t0 = time.perf_counter()
    sc = optimiser.load(path)
    t1 = time.perf_counter()
    session = optimiser.warm_start(sc, mode=a.mode, time_limit=a.time_limit)
    t2 = time.perf_counter()
    base = session.solve()
    t3 = time.perf_counter()
    m = base.model
    print(f"model: {m.num_cols:,} variables, {m.num_rows:,} rows, {m.num_nonzeros:,} nonzeros; "
          f"mode {a.mode}; index maps verified: {session._targeted}")
    print(f"session: load {t1 - t0:.2f} s, compile + load into HiGHS {t2 - t1:.2f} s, "
          f"first solve (cold, presolve) {t3 - t2:.2f} s, {base.iterations} iterations, "
          f"{base.status.value}, objective {base.objective or float('nan'):,.2f}")
    if not base.status.has_solution:
        print("no plan for the scenario as loaded: nothing to compare against")
        return 1
    print()
    head = (f"{'change':48s} {'status':10s} {'start':>6s} {'iters':>6s} {'derive':>7s} "
            f"{'push':>6s} {'solve':>6s} {'warm s':>7s} {'cold s':>7s} {'ratio':>6s}  "
            "objective agrees")
    print(head)
    print("-" * len(head))
    rows = []
    tol = 1e-6 if a.mode == "lp" else 2e-6   # milp: each within its gap (1e-6) of the optimum
    for i, (label, ch) in enumerate(changes_for(sc, base.objective, a.seed)):
        sol = session.solve(ch)
        cold_s = cold_obj = None
        if i < a.cold:
            cold_s, cold_obj = cold(path, session, ch, a.mode, a.time_limit)
        agree = ("-" if cold_s is None else
                 "yes" if (cold_obj is None and sol.objective is None) or
                 (cold_obj is not None and sol.objective is not None and
                  abs(cold_obj - sol.objective) <= tol * max(1.0, abs(cold_obj))) else
                 f"NO (cold {cold_obj})")
        start = ("warm" if sol.method == "warm" else "cold*" if sol.method.startswith("cold after")
                 else "+start" if "start" in sol.method else "cold")
        t = sol.timings
        ratio = f"{cold_s / sol.seconds:6.0f}" if cold_s else "     -"
        print(f"{label[:48]:48s} {sol.status.value:10s} {start:>6s} {sol.iterations or 0:>6d} "
              f"{t['derive']:7.3f} {t['push']:6.3f} {t['solve']:6.3f} {sol.seconds:7.3f} "
              f"{cold_s if cold_s is not None else float('nan'):7.2f} {ratio}  {agree}", flush=True)
        rows.append((label, sol, cold_s))
    warm = [s.seconds for _, s, _ in rows]
    colds = [c for _, _, c in rows if c is not None]
    print()
    print(f"warm per change: median {statistics.median(warm):.3f} s, "
          f"mean {statistics.mean(warm):.3f} s, max {max(warm):.3f} s")
    if colds:
        mean_cold = statistics.mean(colds)
        warm_measured = sum(w for (_, _, c), w in zip(rows, warm) if c is not None)
        print(f"cold load+build+solve per change: mean {mean_cold:.2f} s")
        print(f"speed-up: median change {mean_cold / statistics.median(warm):.0f}x, "
              f"slowest change {mean_cold / max(warm):.1f}x, "
              f"whole sequence {sum(colds) / warm_measured:.1f}x")
    print("start: warm = from the previous basis; cold* = 'auto' gave up on the warm start "
          "and solved from scratch in the same session (no reload, no recompile); +start = "
          "milp from scratch with the previous plan offered as a starting solution")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
