"""Sweep throughput: scenarios per second of a 1,000-sample sweep, against solving each
sample from scratch.

    python benchmarks/sweep.py                         # sweeps/demand_uncertainty.yaml
    python benchmarks/sweep.py --scratch 50 --skip-dask
    python benchmarks/sweep.py --sweep sweeps/budget_and_demand.yaml
    python benchmarks/sweep.py --repeat 2             # keep each run's fastest of two

Measured, each in its own fresh Python process, one after the other (run it on a quiet
machine; the load average is recorded before each):

(a) ``optimiser.sweep(SWEEP, workers=1, plots=False)`` into a fresh temporary folder:
    the chunks solved in this process, one after the other;
(b) the same with ``workers=2``: two forked local processes;
(c) the same on a Dask ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
    host="127.0.0.1")`` passed as ``dask=client``. The cluster is started before the clock
    starts (as with ``carepath sweep --dask ADDRESS``, an existing cluster); its start-up is
    reported apart. The worker processes import the package when their first task arrives,
    inside the measured time;
(d) "from scratch": the first ``--scratch`` scenarios (default 100; in the example sweep
    samples 0 to 99) solved as a user would without the sweep machinery:
    ``optimiser.load(base, overrides=...)`` with overrides setting every locality's
    ``prevalence_per_1000`` of every pathway to its effective prevalence in the base (the
    locality's own figure, else the pathway's; a grid value where the grid sets it) times
    the sample's factor, plus the scenario's grid values as ``--set`` would, then
    ``optimiser.solve(...)`` with the config's settings (which builds the result: tables,
    summary, independent check, and the shadow prices of the LP with the integers fixed,
    as every solve does; an infeasible scenario also gets its diagnosis, as by default --
    none of the example's first 100 samples is infeasible). One solve of the unchanged base
    runs first, untimed, so the lazy imports of the first solve are not charged to the
    first scenario. The mean time per scenario is extrapolated to the whole sweep (said so
    in the table). Each scenario's status and objective must equal the sweep's (relative
    1e-6), so the comparison is like for like.

(a), (b) and (c) time the whole ``sweep()`` call: reading and validating the sweep file and
the base, drawing the samples, solving, storing the answers in ``sweep.db``, writing
``sweep.csv`` and ``sweep_summary.json`` (charts off). Their ``sweep.csv`` result columns
(everything but ``seconds``) must be identical. The report, ``benchmarks/sweep_results.md``
(``--results``), is written and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT_COLUMNS = ["status", "objective", "baseline_cost", "savings", "make_share", "n_binding",
                  "binding", "budget_breached", "cost_without_budget", "method", "message", "key"]
"""``sweep.csv`` columns that must agree between runs (``seconds`` is a timing)."""


# --- the measured children -------------------------------------------------------------

def child_sweep(spec: str, folder: str, kind: str) -> dict:
    t0 = time.perf_counter()
    from optimiser.sweeps import sweep

    imported = time.perf_counter() - t0
    extra: dict = {}
    client = cluster = None
    if kind == "dask":
        from distributed import Client, LocalCluster

        t1 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
        extra["cluster_start_s"] = time.perf_counter() - t1
    try:
        t2 = time.perf_counter()
        if kind == "dask":
            out = sweep(spec, out=folder, dask=client, plots=False)
        else:
            out = sweep(spec, out=folder, workers=1 if kind == "local1" else 2, plots=False)
        seconds = time.perf_counter() - t2
    finally:
        if client is not None:
            client.close()
            cluster.close()
    return {"kind": kind, "seconds": seconds, "import_s": imported, "scenarios": len(out.table),
            "solved_now": out.solved_now,
            "statuses": {str(k): int(v) for k, v in out.table["status"].value_counts().items()},
            "solve_seconds_sum": float(out.table["seconds"].sum()), **extra}


def child_scratch(spec: str, count: int) -> dict:
    import optimiser
    from optimiser.sweeps import load_sweep
    from optimiser.sweeps.plan import points
    from optimiser.sweeps.spec import setting

    sw = load_sweep(spec)
    base = sw.base_path
    prev = (sw.base.instance.demand.groupby(["locality", "pathway"], sort=False)["prevalence"]
            .first())
    optimiser.solve(optimiser.load(base))            # untimed: the first solve's imports
    rows = []
    t0 = time.perf_counter()
    for p in points(sw, {})[:count]:
        t = time.perf_counter()
        grid = dict(p.grid)
        factor = dict(p.factors)
        overrides = [setting(path, v) for path, v in p.grid]
        if factor:
            for (loc, pw), v in prev.items():
                path = f"localities.{loc}.prevalence_per_1000.{pw}"
                v = float(grid.get(path, v))
                overrides = [o for o in overrides if not o.startswith(path + "=")]
                overrides.append(f"{path}={v * float(factor.get(pw, 1.0))!r}")
        result = optimiser.solve(optimiser.load(base, overrides=overrides))
        rows.append({"scenario": p.index, "status": result.status.value,
                     "objective": result.objective, "seconds": time.perf_counter() - t})
    return {"kind": "scratch", "seconds": time.perf_counter() - t0, "scenarios": len(rows),
            "rows": rows, "overrides_per_sample": len(prev) if sw.config.samples else 0,
            "grid": bool(sw.axes)}


# --- the parent ------------------------------------------------------------------------

def _busy() -> float:
    """CPU-seconds the whole machine has been busy (``/proc/stat``), or nan."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = f[3] + (f[4] if len(f) > 4 else 0)                 # idle + iowait
    return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_child(args: list[str]) -> dict:
    """One measurement in a fresh process; with how busy the rest of the machine was: the
    CPU-seconds of every other process while it ran (machine busy time minus the child's
    and its children's own CPU time)."""
    import resource

    path = [str(ROOT), os.environ.get("PYTHONPATH")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    load = os.getloadavg()[0]
    r0, b0 = resource.getrusage(resource.RUSAGE_CHILDREN), _busy()
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         cwd=ROOT, env=env)
    r1, b1 = resource.getrusage(resource.RUSAGE_CHILDREN), _busy()
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"child {args} failed with exit code {out.returncode}")
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    own = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {**json.loads(line), "load_before": load, "cpu_s": own,
            "other_cpu_s": max(0.0, (b1 - b0) - own)}


def machine() -> dict:
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 2**20
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {"cpus": os.cpu_count(), "mem_gib": mem, "cpu": cpu,
            "python": platform.python_version(), "highspy": version("highspy"),
            "distributed": version("distributed")}


def compare(folders: dict[str, Path]) -> tuple[bool, str]:
    """Whether every run's sweep.csv has identical result columns (as written)."""
    import pandas as pd

    tables = {k: pd.read_csv(f / "sweep.csv", dtype=str, keep_default_na=False)
              for k, f in folders.items()}
    first_kind, first = next(iter(tables.items()))
    cols = [c for c in first.columns if c != "seconds"]
    notes = []
    for kind, t in tables.items():
        if list(t.columns) != list(first.columns):
            notes.append(f"{kind}: other columns")
        elif not t[cols].equals(first[cols]):
            diff = (t[cols] != first[cols]).any(axis=1)
            notes.append(f"{kind}: {int(diff.sum())} rows differ from {first_kind}")
    return (not notes), ("; ".join(notes) or
                         f"identical ({len(first)} rows, {len(cols)} columns: every column "
                         "but `seconds`)")


def check_scratch(scratch: dict, folder: Path) -> tuple[int, float, list[str]]:
    """Samples checked, largest relative objective difference, mismatches."""
    import pandas as pd

    t = pd.read_csv(folder / "sweep.csv")
    by_scenario = t.set_index("scenario")
    worst, bad = 0.0, []
    for r in scratch["rows"]:
        row = by_scenario.loc[r["scenario"]]
        if row["status"] != r["status"]:
            bad.append(f"scenario {r['scenario']}: {r['status']} from scratch, "
                       f"{row['status']} in the sweep")
            continue
        if r["objective"] is None or pd.isna(row["objective"]):
            continue
        # sweep.csv keeps 10 significant digits, well inside the 1e-6 asked
        rel = abs(r["objective"] - float(row["objective"])) / max(1.0, abs(r["objective"]))
        worst = max(worst, rel)
        if rel > 1e-6:
            bad.append(f"scenario {r['scenario']}: {r['objective']!r} from scratch, "
                       f"{row['objective']!r} in the sweep")
    return len(scratch["rows"]), worst, bad


def report(spec: str, runs: dict, scratch: dict | None, same: tuple[bool, str],
           checked: tuple | None, info: dict, repeat: int) -> str:
    n = runs[next(iter(runs))]["scenarios"] if runs else 0
    lines = [
        "# Sweep throughput",
        "",
        f"`python benchmarks/sweep.py --sweep {spec}` on {date.today().isoformat()}: "
        f"{info['cpus']} CPUs ({info['cpu']}), {info['mem_gib']:.1f} GiB memory, "
        f"Python {info['python']}, highspy {info['highspy']}, distributed {info['distributed']}.",
        "",
        f"{n:,} scenarios. Each run in a fresh process; wall-clock seconds of the whole "
        "`sweep()` call (read and validate, draw, solve, store, write `sweep.csv` and "
        "`sweep_summary.json`; no charts)"
        + (f", the fastest of {repeat} rounds" if repeat > 1 else "") + ". "
        "*CPU s, this run*: CPU-seconds of the measured process and its workers; *other "
        "processes*: CPU-seconds the rest of the machine used meanwhile (near 0 when quiet).",
        "",
        "| run | scenarios | seconds | scenarios / s | speed-up vs from scratch | "
        "CPU s, this run | CPU s, other processes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    per_scratch = (scratch["seconds"] / scratch["scenarios"]
                   if scratch and scratch["scenarios"] else None)
    names = {"local1": "(a) local, `workers=1`", "local2": "(b) local, `workers=2`",
             "dask": "(c) Dask `LocalCluster`, 2 workers x 1 thread"}
    for kind, r in runs.items():
        rate = r["scenarios"] / r["seconds"]
        up = f"{per_scratch * rate:.1f}x" if per_scratch else ""
        lines.append(f"| {names[kind]} | {r['scenarios']:,} | {r['seconds']:.1f} | {rate:.1f} | "
                     f"{up} | {r['cpu_s']:.1f} | {r['other_cpu_s']:.1f} |")
    if scratch:
        k = scratch["scenarios"]
        lines.append(f"| (d) from scratch, `load` + `solve` per scenario | {k:,} measured; "
                     f"{n:,} extrapolated | {scratch['seconds']:.1f} measured; "
                     f"{per_scratch * n:.0f} extrapolated | {1 / per_scratch:.2f} | 1.0x | "
                     f"{scratch['cpu_s']:.1f} | {scratch['other_cpu_s']:.1f} |")
    lines += ["", "Details:", ""]
    for kind, r in runs.items():
        st = ", ".join(f"{v:,} {k}" for k, v in r["statuses"].items())
        extra = (f"; cluster start-up {r['cluster_start_s']:.1f} s (not in the figure)"
                 if "cluster_start_s" in r else "")
        lines.append(f"* {names[kind]}: {st}; the scenarios' own solve times add up to "
                     f"{r['solve_seconds_sum']:.1f} s; importing the package "
                     f"{r['import_s']:.2f} s (not in the figure){extra}.")
    if scratch:
        secs = sorted(x["seconds"] for x in scratch["rows"])
        med = secs[len(secs) // 2]
        lines.append(f"* (d): the first {scratch['scenarios']} scenarios, each "
                     f"`optimiser.load(base, overrides)` ({scratch['overrides_per_sample']} "
                     "`localities.<l>.prevalence_per_1000.<pathway>` overrides"
                     + (" and the grid's values" if scratch.get("grid") else "")
                     + f") + `optimiser.solve(...)`: {per_scratch:.3f} s per scenario "
                     "on average "
                     f"(median {med:.3f} s, from {secs[0]:.3f} to {secs[-1]:.3f} s), "
                     "extrapolated to the whole sweep by the mean.")
    lines.append(f"* Same answers, (a) (b) (c){' in every round' if repeat > 1 else ''}: "
                 f"{same[1]}.")
    if checked:
        k, worst, bad = checked
        lines.append(f"* From scratch against the sweep: {k} scenarios, status equal and largest "
                     f"relative objective difference {worst:.1e}"
                     + (f"; MISMATCHES: {'; '.join(bad[:5])}" if bad else " (within 1e-6)") + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", default="sweeps/demand_uncertainty.yaml")
    ap.add_argument("--scratch", type=int, default=100,
                    help="scenarios solved from scratch (0: none)")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run everything N times, keep each run's fastest")
    ap.add_argument("--results", default=str(ROOT / "benchmarks" / "sweep_results.md"))
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        kind = a.child[0]
        out = child_scratch(a.sweep, int(a.child[1])) if kind == "scratch" else \
            child_sweep(a.sweep, a.child[1], kind)
        print(json.dumps(out))
        return 0
    info = machine()
    kinds = ("local1", "local2", *(() if a.skip_dask else ("dask",)))
    with tempfile.TemporaryDirectory(prefix="carepath-sweep-bench-") as tmp:
        folders: dict[str, Path] = {}
        runs: dict[str, dict] = {}
        scratch = None
        for rep in range(a.repeat):
            for kind in kinds:
                name = f"{kind}-{rep + 1}"
                folders[name] = Path(tmp) / name
                print(f"running {name} ...", file=sys.stderr, flush=True)
                r = run_child(["--sweep", a.sweep, "--child", kind, str(folders[name])])
                print(f"  {r['seconds']:.1f} s", file=sys.stderr, flush=True)
                if kind not in runs or r["seconds"] < runs[kind]["seconds"]:
                    runs[kind] = r
            if a.scratch > 0:
                print(f"running {a.scratch} scenarios from scratch ...", file=sys.stderr,
                      flush=True)
                r = run_child(["--sweep", a.sweep, "--child", "scratch", str(a.scratch)])
                print(f"  {r['seconds']:.1f} s", file=sys.stderr, flush=True)
                if scratch is None or r["seconds"] < scratch["seconds"]:
                    scratch = r
        checked = check_scratch(scratch, folders["local1-1"]) if scratch else None
        same = compare(folders)
    text = report(a.sweep, runs, scratch, same, checked, info, a.repeat)
    Path(a.results).write_text(text)
    print(text)
    ok = same[0] and (checked is None or not checked[2])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
