"""Monolithic against decomposed solve of one scenario: wall time and objective difference.

    python benchmarks/decompose.py CONFIG [--set KEY=VALUE ...] [--mode lp] [--repeat 3]
    python benchmarks/decompose.py --generate 3000 --out /tmp/indep      # write, then measure

The scenario is loaded and compiled once; then the monolithic solve (the backend on the
whole model) and the decomposed one (:func:`optimiser.decompose.solve_decomposed`,
component detection included) alternate ``--repeat`` times, so that a change in the load of
a shared machine hits both alike. Reported: model size, blocks and sub-models, each run's
wall seconds, best and median of each, the speed-up of the best runs, the relative
objective difference and the decomposed plan's worst row or bound violation on the whole
model (``max_violation``).

A scenario splits only when its localities share nothing the model couples: no provider
serving several localities with a block contract, no shared resource, no budget. For
``--generate N`` this script writes such a scenario from ``configs/northshire.yaml`` (each
locality its own hub and its own staff resources; the acute trust, GP federation and
third sector serve everyone, paid per activity; no budget): about 68 variables per
locality. To decouple another config, ``--set providers.ACUTE.block_contract=0`` drops a
block contract (a provider without one has no payment variable).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimiser import decompose as D  # noqa: E402
from optimiser.backends import SolveOptions, get_backend  # noqa: E402
from optimiser.backends.base import max_violation  # noqa: E402
from optimiser.compile import compile_model  # noqa: E402
from optimiser.load import load  # noqa: E402


def generate(localities: int, out: Path, seed: int = 1) -> Path:
    """An independent-localities scenario (see the module docstring); returns its config."""
    rng = np.random.default_rng(seed)
    base = yaml.safe_load((ROOT / "configs" / "northshire.yaml").read_text())
    (out / "configs").mkdir(parents=True, exist_ok=True)
    (out / "pathways").mkdir(parents=True, exist_ok=True)
    for p in base["pathways"]:
        (out / "pathways" / Path(p).name).write_text((ROOT / "configs" / p).read_text())
    hub = next(v for v in base["providers"].values() if v["mode"] == "make")
    providers = {k: dict(v, serves="all") for k, v in base["providers"].items() if v["mode"] == "buy"}
    for v in providers.values():
        v.pop("block_contract", None)
    names = [f"loc{i:05d}" for i in range(localities)]
    resources, locs = {}, {}
    for n in names:
        locs[n] = {"population": int(rng.integers(20_000, 120_000))}
        rename = {r: f"{r}_{n}" for r in base["resources"]}
        resources.update({rename[r]: dict(v, capacity=int(v["capacity"] * rng.uniform(0.3, 1.2)))
                          for r, v in base["resources"].items()})
        factor = float(rng.uniform(0.85, 1.15))
        providers[f"hub_{n}"] = dict(
            hub, serves=[n], costs={a: round(c * factor, 2) for a, c in hub["costs"].items()},
            uses={a: {rename[r]: h for r, h in u.items()} for a, u in hub["uses"].items()})
    config = {
        "scenario": f"Independent {localities} localities",
        "pathways": [f"../pathways/{Path(p).name}" for p in base["pathways"]],
        "localities": locs, "resources": resources, "providers": providers,
        "constraints": {k: v for k, v in base["constraints"].items() if k != "budget"},
        "solve": {"mode": "lp", "backend": "highs"},
    }
    path = out / "configs" / "independent.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _children_cpu() -> float:
    """CPU seconds of this process's finished (waited-for) child processes."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(config: Path, overrides: list[str], mode: str, backend: str, repeat: int,
            workers: int | None) -> dict:
    t = time.perf_counter()
    model = compile_model(load(config, overrides=overrides).instance)
    problem = model.relaxed() if mode == "lp" else model
    prepared = time.perf_counter() - t
    solver = get_backend(backend)
    comps = D.components(problem)
    print(f"{config}: {problem.num_cols:,} variables, {problem.num_rows:,} rows, "
          f"{problem.num_nonzeros:,} nonzeros; {comps.count:,} blocks ({comps.nontrivial:,} "
          f"non-trivial); load+compile {prepared:.2f} s; {mode}, {backend}", flush=True)
    procs = min(workers or D.cpu_count(), D.cpu_count())
    mono_s, dec_s, mono_cpu, dec_idle = [], [], [], []
    mono = dec = None
    for i in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        mono = solver.solve(problem, SolveOptions())
        mono_s.append(time.perf_counter() - t)
        mono_cpu.append(time.process_time() - c)
        t, c, k = time.perf_counter(), time.process_time(), _children_cpu()
        dec = D.solve_decomposed(problem, backend, SolveOptions(), workers=workers)
        dec_s.append(time.perf_counter() - t)
        parent, children = time.process_time() - c, _children_cpu() - k
        # what the decomposed run would take on idle CPUs: the parent's own work, then
        # the workers' CPU time shared among them
        dec_idle.append(parent + children / procs)
        print(f"  run {i + 1}: monolithic {mono_s[-1]:.3f} s (CPU {mono_cpu[-1]:.3f} s; "
              f"{mono.status.value}), decomposed {dec_s[-1]:.3f} s (CPU: parent {parent:.3f} s, "
              f"workers {children:.3f} s; {dec.status.value}; {dec.message})", flush=True)
    rel = (abs(dec.objective - mono.objective) / max(1.0, abs(mono.objective))
           if mono.objective is not None and dec.objective is not None else None)
    viol = max_violation(problem, dec.values) if dec.values is not None else None
    res = {"variables": problem.num_cols, "blocks": comps.nontrivial,
           "monolithic_best": min(mono_s), "monolithic_median": statistics.median(mono_s),
           "decomposed_best": min(dec_s), "decomposed_median": statistics.median(dec_s),
           "speedup_best": min(mono_s) / min(dec_s), "objective_rel_diff": rel,
           "speedup_cpu": min(mono_cpu) / min(dec_idle),
           "max_violation": viol}
    print(f"best: monolithic {res['monolithic_best']:.3f} s, decomposed {res['decomposed_best']:.3f} s "
          f"-> x{res['speedup_best']:.2f}; median {res['monolithic_median']:.3f} / "
          f"{res['decomposed_median']:.3f} s; from CPU times (as on idle CPUs: monolithic CPU "
          f"against parent CPU + workers' CPU / {procs}) x{res['speedup_cpu']:.2f}; "
          f"objective relative difference {rel:.2e}; "
          f"decomposed plan's max violation {viol:.2e}")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config", nargs="?", type=Path)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--generate", type=int, metavar="N", help="write an N-locality independent scenario")
    ap.add_argument("--out", type=Path, default=Path("/tmp/carepath-decompose"))
    ap.add_argument("--mode", default="lp", choices=["lp", "milp", "cp"])
    ap.add_argument("--backend", default="highs")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, help="processes (default: the CPUs available)")
    a = ap.parse_args(argv)
    config = generate(a.generate, a.out) if a.generate else a.config
    if config is None:
        ap.error("give a CONFIG or --generate N")
    measure(config, a.overrides, a.mode, a.backend, a.repeat, a.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
