"""Time each stage on synthetic scenarios and report peak memory and model size.

    python benchmarks/run.py --localities 100 1000

Stages: load+validate (YAML, schema, checks, instance tables), compile, solve (HiGHS),
results (tables, summary, independent check), write. Numbers are wall-clock seconds on
this machine; peak RSS is the process's high-water mark so far (it only grows).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import optimiser
from optimiser.backends import SolveOptions, get_backend
from optimiser.compile import compile_model
from optimiser.results.build import build_result

from generate import generate


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(localities: int, mode: str) -> dict:
    tmp = Path(tempfile.mkdtemp())
    cfg = generate(localities, tmp)
    t = {}
    s = time.perf_counter()
    sc = optimiser.load(cfg)
    t["load"] = time.perf_counter() - s
    s = time.perf_counter()
    model = compile_model(sc.instance)
    t["compile"] = time.perf_counter() - s
    problem = model.relaxed() if mode == "lp" else model
    s = time.perf_counter()
    out = get_backend("highs").solve(problem, SolveOptions())
    t["solve"] = time.perf_counter() - s
    s = time.perf_counter()
    res = build_result(sc, problem, out, out.row_duals, mode=mode, backend="highs", version="")
    t["results"] = time.perf_counter() - s
    s = time.perf_counter()
    res.write(tmp / "out")
    t["write"] = time.perf_counter() - s
    return {"localities": localities, "mode": mode, "yaml_mb": cfg.stat().st_size / 1e6,
            "vars": model.num_cols, "rows": model.num_rows, "nnz": model.num_nonzeros,
            "status": out.status.value, **t, "peak_mb": peak_mb()}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--localities", type=int, nargs="+", default=[30, 300])
    ap.add_argument("--mode", default="lp")
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    head = f"{'locs':>6} {'yamlMB':>7} {'vars':>9} {'rows':>9} {'nnz':>10} {'load':>7} {'compile':>8} " \
           f"{'solve':>7} {'results':>8} {'write':>6} {'peakMB':>7} status"
    print(head)
    for n in a.localities:
        r = bench(n, a.mode)
        print(f"{r['localities']:>6} {r['yaml_mb']:>7.2f} {r['vars']:>9,} {r['rows']:>9,} {r['nnz']:>10,} "
              f"{r['load']:>7.2f} {r['compile']:>8.2f} {r['solve']:>7.2f} {r['results']:>8.2f} "
              f"{r['write']:>6.2f} {r['peak_mb']:>7.0f} {r['status']}")
