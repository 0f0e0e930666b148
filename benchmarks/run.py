"""Benchmark the whole engine from the command line against HiGHS alone and against PuLP.

    python benchmarks/run.py                                   # 10k and 100k, both forms
    python benchmarks/run.py --sizes 10k 100k 1m 3m            # the full measurement
    python benchmarks/run.py --sizes 1m --forms tables --skip-pulp

For each size (``generate.py`` presets: about 10k, 100k, 1M and 3M variables) it
generates the national scenario once (cached in ``--out``), then runs, each as its own
process, one after the other (so that each peak memory figure is that process's own):

1. the engine, for each form (``yaml``: plain YAML; ``tables``: YAML plus Parquet/CSV
   tables): ``carepath solve CONFIG --out DIR --mode lp --backend highs --timings``, the
   whole command as a user runs it. ``--timings`` makes it print per-stage seconds; while
   the installed CLI lacks that flag, ``stages.py`` runs the same CLI code path with timers
   instead (column ``via``);
2. reference 1, *solver only*: the same LP exported to MPS (``solver_only.py export``, not
   timed) and solved by HiGHS alone (``solver_only.py run``): only ``Highs.run()`` is timed;
   the peak memory is that whole process's;
3. reference 2, *PuLP*: the same scenario built from the raw files with dicts and
   ``lpSum`` and solved by ``pulp.HiGHS`` (``pulp_model.py``), end to end. Its objective
   must equal the engine's within 1e-6 relative (an independent check of the whole
   engine); skipped above ``--pulp-max-vars`` (default 2M, so at 3M) or with ``--skip-pulp``.

Wall time and peak RSS of each process come from ``os.wait4`` (the kernel's accounting of
that one child). A failed or timed-out process is reported in its row, never fatal.
Results are merged into ``benchmarks/results.csv`` (one row per size and form; rows of
sizes and forms not run now are kept) and ``benchmarks/results.md`` is rewritten from it.
See ``benchmarks/README.md`` for what each column means.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE_ORDER = ["10k", "100k", "1m", "3m"]
SAMPLE_EVERY = 0.05
"""Seconds between two readings of the engine process's resident memory."""
FORMS = ["yaml", "tables", "tables-mono"]
"""``tables-mono`` is the tables form with ``--set solve.decompose=off``: one monolithic
solve, so the engine's overhead can be read apart from the decomposition's gain."""
EXTRA = {"tables-mono": ["--set", "solve.decompose=off"]}
SOURCE = {"tables-mono": "tables"}
STAGES = ["import", "load", "instance", "compile", "backend_load", "solver", "results", "write", "total"]
TARGETS = [  # (size, form, what, limit, label)
    ("1m", "tables", "x_solver", 1.15, "tables form, whole run <= 1.15x solver-only at 1M variables"),
    ("100k", "tables", "x_solver", 1.5, "tables form, whole run <= 1.5x solver-only at 100k"),
    ("100k", "yaml", "x_solver", 2.5, "YAML form, whole run <= 2.5x solver-only at 100k"),
    ("1m", "tables", "mem_x_solver", 1.5, "tables form, peak memory <= 1.5x solver-only's at 1M"),
    ("1m", "yaml", "mem_x_solver", 1.5, "YAML form, peak memory <= 1.5x solver-only's at 1M"),
    ("3m", "tables", "solver_speedup", -3.0, "decomposed solve >= 3x faster than HiGHS alone at 3M "
     "(independent regions)"),
]
"""A negative limit is a floor: the measured value must be at least its magnitude."""
COLUMNS = [
    "size", "form", "status", "exit_code", "via", "note", "variables", "constraints", "nonzeros",
    "input_mb", "generate_s", "objective",
    *[f"{s}_s" for s in STAGES], "wall_s", "cpu_s", "peak_mb", *[f"{s}_mb" for s in STAGES[:-1]],
    "ref_solver_s", "ref_read_s", "ref_wall_s", "ref_peak_mb", "ref_objective", "ref_rel_diff",
    "x_solver", "x_solver_total", "mem_x_solver", "solver_speedup",
    "pulp_status", "pulp_read_s", "pulp_build_s", "pulp_solve_s", "pulp_wall_s", "pulp_peak_mb",
    "pulp_objective", "pulp_rel_diff", "x_pulp", "mem_x_pulp",
    "machine", "date",
]


# --------------------------------------------------------------------------- processes

def _sample_rss(pid: int, start: float, samples: list, done: threading.Event) -> None:
    """Append (seconds since start, RSS MiB) every SAMPLE_EVERY seconds until ``done``."""
    path = f"/proc/{pid}/status"
    while not done.is_set():
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        samples.append((time.perf_counter() - start, int(line.split()[1]) / 1024))
                        break
        except (OSError, ValueError, IndexError):
            pass
        done.wait(SAMPLE_EVERY)


def measure(cmd: list[str], *, timeout: float, log: Path, sample: bool = False) -> dict:
    """Run ``cmd`` as its own process (group); return exit code, wall and CPU seconds, peak
    RSS (MiB, from ``wait4``), stdout and stderr, and with ``sample`` its RSS over time.
    Killed after ``timeout`` seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log.with_suffix(".out"), "w+b") as out, open(log.with_suffix(".err"), "w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        samples: list[tuple[float, float]] = []
        done = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(proc.pid, start, samples, done), daemon=True)
        if sample:
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
        wall = time.perf_counter() - start
        if sample:
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    return {"rc": proc.returncode, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024, "stdout": stdout, "stderr": stderr,
            "timed_out": timed_out.is_set(), "samples": samples}


def stage_memory(timings: dict, samples: list, startup: float) -> dict:
    """Peak sampled RSS (MiB) during each stage. Stages run one after the other in STAGES
    order (their seconds add up to ``total``), starting ``startup`` seconds after the process
    (interpreter start-up); a stage shorter than the sampling interval gets the sample
    nearest to it."""
    out, t = {}, startup
    for stage in STAGES[:-1]:
        d = timings.get(stage)
        if d is None:
            continue
        inside = [rss for ts, rss in samples if t <= ts <= t + d]
        if not inside and samples:
            inside = [min(samples, key=lambda p: abs(p[0] - (t + d / 2)))[1]]
        out[stage] = max(inside) if inside else None
        t += d
    return out


def python_startup() -> float:
    """Seconds from starting the interpreter to running its first line (median of 3)."""
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True)
        times.append(time.perf_counter() - t)
    return sorted(times)[1]


def _json_line(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def _timings(stderr: str) -> dict | None:
    """The ``timings: {json}`` line; ``total`` may be spelt ``total_in_process``."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("timings:"):
            try:
                t = json.loads(line.split(":", 1)[1])
            except json.JSONDecodeError:
                return None
            if "total" not in t and "total_in_process" in t:
                t["total"] = t["total_in_process"]
            return t
    return None


def _why(m: dict) -> str:
    if m["timed_out"]:
        return "timed out"
    lines = [ln for ln in m["stderr"].strip().splitlines() if ln.strip() and not ln.startswith("timings:")]
    return f"exit {m['rc']}: " + (" | ".join(lines[-3:])[:300] if lines else "no message")


def _carepath() -> list[str]:
    exe = Path(sys.executable).parent / "carepath"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("carepath")
    return [found] if found else [sys.executable, "-m", "optimiser"]


def cli_has_timings() -> bool:
    try:
        out = subprocess.run(_carepath() + ["solve", "--help"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--timings" in out.stdout


# --------------------------------------------------------------------------- machine

def machine() -> dict:
    info = {"cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "python": platform.python_version()}
    try:
        mem = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        info["ram_gib"] = round(int(mem["MemTotal"].split()[0]) / 2**20, 1)
        info["available_gib"] = round(int(mem["MemAvailable"].split()[0]) / 2**20, 1)
    except (OSError, KeyError, ValueError):
        pass
    try:
        cpu = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")]
        info["cpu"] = cpu[0].split(":", 1)[1].strip() if cpu else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    info["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    try:
        import highspy
        import pulp

        info["highs"] = highspy.Highs().version()
        info["pulp"] = pulp.__version__
    except Exception:  # reported as missing
        pass
    return info


def machine_text(m: dict) -> str:
    return (f"{m.get('cores')} cores ({m.get('usable_cores')} usable), {m.get('ram_gib', '?')} GiB RAM "
            f"({m.get('available_gib', '?')} GiB available), {m.get('cpu', '?')}; load average "
            f"{', '.join(map(str, m.get('load_avg', [])))}; Python {m.get('python')}, "
            f"HiGHS {m.get('highs', '?')}, PuLP {m.get('pulp', '?')}")


# --------------------------------------------------------------------------- one size

def _rel(a, b) -> float | None:
    if a is None or b is None:
        return None
    return abs(a - b) / max(1.0, abs(b))


def _ratio(a, b) -> float | None:
    return a / b if a is not None and b not in (None, 0) else None


def ensure_scenario(size: str, folder: Path, args, log) -> dict | None:
    manifest = folder / "manifest.json"
    if manifest.exists() and not args.regenerate:
        m = json.loads(manifest.read_text())
        if m.get("size") == size and m.get("seed") == args.seed and m.get("coupled") == args.coupled:
            log(f"[{size}] scenario cached in {folder}")
            return m
    cmd = [sys.executable, str(HERE / "generate.py"), "--size", size, "--out", str(folder),
           "--seed", str(args.seed), "--coupled" if args.coupled else "--independent-regions"]
    log(f"[{size}] generating: {' '.join(cmd[1:])}")
    m = measure(cmd, timeout=args.timeout, log=folder.parent / f"{size}-generate")
    if m["rc"] != 0:
        log(f"[{size}] generation failed: {_why(m)}")
        return None
    data = json.loads(manifest.read_text())
    data["generate_wall_s"] = round(m["wall_s"], 2)
    data["generate_peak_mb"] = round(m["peak_mb"])
    manifest.write_text(json.dumps(data, indent=2) + "\n")
    log(f"[{size}] generated in {m['wall_s']:.1f} s (peak {m['peak_mb']:.0f} MB): "
        f"{data['variables']:,} variables")
    return data


def run_engine(config: Path, out_dir: Path, args, use_timings: bool, log_path: Path,
               extra: list[str] = ()) -> dict:
    shutil.rmtree(out_dir, ignore_errors=True)
    tail = [str(config), "--out", str(out_dir), "--mode", "lp", "--backend", "highs", *extra]
    if use_timings:
        cmd, via = _carepath() + ["solve", *tail, "--timings"], "carepath --timings"
    else:
        cmd, via = [sys.executable, str(HERE / "stages.py"), "solve", *tail], "stages.py"
    best = None
    for _ in range(args.repeat):
        m = measure(cmd, timeout=args.timeout, log=log_path, sample=True)
        if best is None or (m["rc"] == 0 and m["wall_s"] < best["wall_s"]) or best["rc"] != 0:
            best = m
    best["via"] = via
    best["timings"] = _timings(best["stderr"])
    best["stage_mb"] = stage_memory(best["timings"], best["samples"], args.startup) if best["timings"] else {}
    summary = out_dir / "summary.json"
    best["summary"] = json.loads(summary.read_text()) if summary.exists() else None
    return best


def run_size(size: str, args, use_timings: bool, mach: str, log) -> list[dict]:
    work = Path(args.out)
    folder = work / "scenarios" / size
    runs = work / "runs" / size
    runs.mkdir(parents=True, exist_ok=True)
    date = dt.datetime.now().isoformat(timespec="seconds")
    manifest = ensure_scenario(size, folder, args, log)
    rows = []
    if manifest is None:
        return [{"size": size, "form": f, "status": "error", "note": "generation failed",
                 "machine": mach, "date": date} for f in args.forms]

    engine: dict[str, dict] = {}
    for form in args.forms:
        row = {"size": size, "form": form, "machine": mach, "date": date,
               "generate_s": manifest.get("generate_wall_s", manifest.get("generate_seconds"))}
        info = manifest["forms"].get(SOURCE.get(form, form))
        if info is None or "config" not in info:
            row.update(status="skipped", note=(info or {}).get("skipped", "form not generated"))
            log(f"[{size}] {form}: skipped: {row['note']}")
            rows.append(row)
            continue
        config = folder / info["config"]
        row["input_mb"] = round(info["bytes"] / 1e6, 2)
        log(f"[{size}] {form}: carepath solve {config.name} --mode lp --backend highs")
        m = run_engine(config, runs / form, args, use_timings, runs / f"engine-{form}",
                       EXTRA.get(form, []))
        s = m["summary"]
        row.update(exit_code=m["rc"], via=m["via"], wall_s=m["wall_s"], cpu_s=m["cpu_s"],
                   peak_mb=m["peak_mb"])
        if m["timings"]:
            row.update({f"{k}_s": m["timings"].get(k) for k in STAGES})
            row.update({f"{k}_mb": v for k, v in m["stage_mb"].items()})
        if s:
            row.update(status=s.get("status"), objective=s.get("objective"),
                       variables=s["model"]["variables"], constraints=s["model"]["constraints"],
                       nonzeros=s["model"]["nonzeros"])
        if m["rc"] != 0 or not s:
            row["status"] = row.get("status") or "error"
            row["note"] = _why(m)
        log(f"[{size}] {form}: {row.get('status')} in {m['wall_s']:.1f} s, peak {m['peak_mb']:.0f} MB"
            + (f" ({row['note']})" if row.get("note") else ""))
        engine[form] = row
        rows.append(row)

    ok_forms = [f for f in ("tables", "yaml") if engine.get(f, {}).get("status") == "optimal"]
    if len(ok_forms) == 2:
        diff = _rel(engine["yaml"]["objective"], engine["tables"]["objective"])
        if diff is not None and diff > 1e-9:
            for f in ok_forms:
                engine[f]["note"] = f"yaml and tables objectives differ ({diff:.1e} relative)"

    # reference 1: solver only
    ref = {}
    export_from = next((folder / manifest["forms"][f]["config"] for f in ok_forms), None)
    if export_from is None:
        note = "solver-only reference skipped: no form solved"
        log(f"[{size}] {note}")
    else:
        mps = runs / "model.mps"
        log(f"[{size}] solver only: exporting {export_from.name} to MPS")
        e = measure([sys.executable, str(HERE / "solver_only.py"), "export", str(export_from), str(mps)],
                    timeout=args.timeout, log=runs / "export")
        if e["rc"] != 0 or not mps.exists():
            log(f"[{size}] MPS export failed: {_why(e)}")
            ref["note"] = f"MPS export failed: {_why(e)}"
        else:
            log(f"[{size}] solver only: highspy readModel + run() on {mps.stat().st_size / 1e6:.0f} MB MPS")
            best = None
            for _ in range(args.repeat):
                r = measure([sys.executable, str(HERE / "solver_only.py"), "run", str(mps)],
                            timeout=args.timeout, log=runs / "solver-only")
                j = _json_line(r["stdout"])
                if j is None:
                    best = best or {"note": f"solver-only run failed: {_why(r)}"}
                    continue
                if best is None or "ref_solver_s" not in best or j["run_s"] < best["ref_solver_s"]:
                    best = {"ref_solver_s": j["run_s"], "ref_read_s": j["read_s"], "ref_wall_s": r["wall_s"],
                            "ref_peak_mb": r["peak_mb"], "ref_objective": j["objective"],
                            "ref_status": j["status"]}
            ref = best or {}
            if not args.keep_mps:
                mps.unlink(missing_ok=True)
            if "ref_solver_s" in ref:
                log(f"[{size}] solver only: {ref['ref_status']}, run() {ref['ref_solver_s']:.2f} s, "
                    f"process peak {ref['ref_peak_mb']:.0f} MB")

    # reference 2: PuLP
    pulp = {}
    pulp_from = next((folder / manifest["forms"][f]["config"] for f in ("tables", "yaml")
                      if "config" in manifest["forms"].get(f, {})), None)
    if args.skip_pulp:
        pulp["note"] = "PuLP skipped (--skip-pulp)"
    elif manifest["variables"] > args.pulp_max_vars:
        pulp["note"] = (f"PuLP skipped: {manifest['variables']:,} variables > --pulp-max-vars "
                        f"{args.pulp_max_vars:,.0f} (too slow and too much memory for a shared machine)")
    elif pulp_from is None:
        pulp["note"] = "PuLP skipped: no form written"
    else:
        log(f"[{size}] PuLP: building from {pulp_from.name} with lpSum, solving with pulp.HiGHS")
        r = measure([sys.executable, str(HERE / "pulp_model.py"), str(pulp_from)],
                    timeout=args.timeout, log=runs / "pulp")
        j = _json_line(r["stdout"])
        if j is None:
            pulp["note"] = f"PuLP run failed: {_why(r)}"
        else:
            pulp = {"pulp_status": j["status"], "pulp_read_s": j["read_s"], "pulp_build_s": j["build_s"],
                    "pulp_solve_s": j["solve_s"], "pulp_wall_s": r["wall_s"], "pulp_peak_mb": r["peak_mb"],
                    "pulp_objective": j["objective"]}
            log(f"[{size}] PuLP: {j['status']} in {r['wall_s']:.1f} s (build {j['build_s']:.1f} s, "
                f"solve {j['solve_s']:.1f} s), peak {r['peak_mb']:.0f} MB")
    if pulp.get("note"):
        log(f"[{size}] {pulp['note']}")

    for row in rows:
        if row.get("status") == "skipped":
            continue
        row.update({k: v for k, v in ref.items() if k.startswith("ref_") and k != "ref_status"})
        row.update({k: v for k, v in pulp.items() if k.startswith("pulp_")})
        notes = [row.get("note"), ref.get("note"), pulp.get("note")]
        obj = row.get("objective")
        row["ref_rel_diff"] = _rel(ref.get("ref_objective"), obj)
        row["pulp_rel_diff"] = _rel(pulp.get("pulp_objective"), obj)
        if row["ref_rel_diff"] is not None and row["ref_rel_diff"] > 1e-6:
            notes.append(f"solver-only objective differs by {row['ref_rel_diff']:.1e}")
        if row["pulp_rel_diff"] is not None and row["pulp_rel_diff"] > 1e-6:
            notes.append(f"PuLP objective differs by {row['pulp_rel_diff']:.1e}")
        row["note"] = "; ".join(n for n in notes if n) or None
        if row.get("status") == "optimal":
            row["x_solver"] = _ratio(row.get("wall_s"), ref.get("ref_solver_s"))
            row["x_solver_total"] = _ratio(row.get("total_s"), ref.get("ref_solver_s"))
            row["mem_x_solver"] = _ratio(row.get("peak_mb"), ref.get("ref_peak_mb"))
            # the engine's solve stage against HiGHS alone (> 1: faster, e.g. decomposed)
            row["solver_speedup"] = _ratio(ref.get("ref_solver_s"), row.get("solver_s"))
            row["x_pulp"] = _ratio(row.get("wall_s"), pulp.get("pulp_wall_s"))
            row["mem_x_pulp"] = _ratio(row.get("peak_mb"), pulp.get("pulp_peak_mb"))
    return rows


# --------------------------------------------------------------------------- reporting

def _fmt(v, digits=2) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


INT_COLUMNS = {"exit_code", "variables", "constraints", "nonzeros"}


def _num(v, key=""):
    if v in (None, ""):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return int(f) if key in INT_COLUMNS else f


def read_results(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k, v in list(r.items()):
            if k not in ("size", "form", "status", "via", "note", "machine", "date", "pulp_status"):
                r[k] = _num(v, k)
            elif v == "":
                r[k] = None
    return rows


def write_results(rows: list[dict], path: Path) -> None:
    order = {s: i for i, s in enumerate(SIZE_ORDER)}
    rows = sorted(rows, key=lambda r: (order.get(r["size"], 99), FORMS.index(r["form"]) if r["form"] in FORMS else 9))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (round(v, 4) if isinstance(v, float) and not k.endswith(("objective", "rel_diff"))
                            else v) for k, v in r.items()})
    tmp.replace(path)


def markdown(rows: list[dict], mach: str, command: str) -> str:
    order = {s: i for i, s in enumerate(SIZE_ORDER)}
    rows = sorted(rows, key=lambda r: (order.get(r["size"], 99), FORMS.index(r["form"]) if r["form"] in FORMS else 9))
    by = {(r["size"], r["form"]): r for r in rows}
    out = ["# Benchmark results", "",
           f"Machine: {mach}.", "", f"Last command: `{command}`. Dates per row in `results.csv`.", "",
           "Engine = the whole `carepath solve CONFIG --mode lp --backend highs` process (wall "
           "clock, interpreter start included); solver only = `Highs.run()` alone on the same LP "
           "read from MPS; PuLP = the same scenario built with `lpSum` and solved by `pulp.HiGHS`, "
           "end to end. Peak = the process's maximum resident memory.", "",
           "## Targets (issue 5)", "", "| target | measured | met |", "| --- | ---: | :---: |"]
    for size, form, key, limit, label in TARGETS:
        r = by.get((size, form))
        v = r.get(key) if r else None
        met = None if v is None else (v >= -limit) if limit < 0 else (v <= limit)
        out.append(f"| {label} | {'' if v is None else f'{v:.2f}x'} | "
                   f"{'not measured' if v is None else ('yes' if met else '**no**')} |")
    out += ["", "## Whole runs", "",
            "| size | form | status | variables | rows | nonzeros | input MB | engine s | solver-only s | "
            "x solver | engine peak MB | solver-only peak MB | x mem | PuLP s | x PuLP | PuLP peak MB | "
            "objective | checks |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
            "---: | ---: | ---: | --- |"]
    for r in rows:
        checks = []
        for key, name in (("ref_rel_diff", "solver-only"), ("pulp_rel_diff", "PuLP")):
            if r.get(key) is not None:
                checks.append(f"{name} {'=' if r[key] <= 1e-6 else '≠'} ({r[key]:.0e})")
        if r.get("note"):
            checks.append(str(r["note"]).replace("|", "/"))
        out.append("| " + " | ".join([
            r["size"], r["form"], _fmt(r.get("status")), _fmt(r.get("variables")), _fmt(r.get("constraints")),
            _fmt(r.get("nonzeros")), _fmt(r.get("input_mb"), 1), _fmt(r.get("wall_s")), _fmt(r.get("ref_solver_s")),
            _fmt(r.get("x_solver")), _fmt(r.get("peak_mb"), 0), _fmt(r.get("ref_peak_mb"), 0),
            _fmt(r.get("mem_x_solver")), _fmt(r.get("pulp_wall_s")), _fmt(r.get("x_pulp")),
            _fmt(r.get("pulp_peak_mb"), 0), _fmt(r.get("objective")), "; ".join(checks)]) + " |")
    out += ["", "## Stages of the engine run (seconds)", "",
            "| size | form | via | " + " | ".join(STAGES) + " | wall | peak MB |",
            "| --- | --- | --- |" + " ---: |" * (len(STAGES) + 2)]
    for r in rows:
        if r.get("status") == "skipped":
            continue
        out.append(f"| {r['size']} | {r['form']} | {_fmt(r.get('via'))} | "
                   + " | ".join(_fmt(r.get(f"{s}_s")) for s in STAGES)
                   + f" | {_fmt(r.get('wall_s'))} | {_fmt(r.get('peak_mb'), 0)} |")
    out += ["", "## Memory of the engine run by stage (peak resident MB while in the stage, sampled "
            f"every {SAMPLE_EVERY} s)", "",
            "| size | form | " + " | ".join(STAGES[:-1]) + " | process peak |",
            "| --- | --- |" + " ---: |" * len(STAGES)]
    for r in rows:
        if r.get("status") == "skipped" or r.get("total_s") is None:
            continue
        out.append(f"| {r['size']} | {r['form']} | "
                   + " | ".join(_fmt(r.get(f"{s}_mb"), 0) for s in STAGES[:-1])
                   + f" | {_fmt(r.get('peak_mb'), 0)} |")
    measured = [r for r in rows if r.get("variables") and r.get("total_s") is not None]
    if measured:
        out += ["", "## Scaling: seconds (and peak MB) per million variables", "",
                "A stage whose figure grows from one size to the next grows faster than the model.", "",
                "| stage | " + " | ".join(f"{r['size']} {r['form']}" for r in measured) + " |",
                "| --- |" + " ---: |" * len(measured)]
        for s in STAGES:
            out.append(f"| {s} | " + " | ".join(
                _fmt(None if r.get(f"{s}_s") is None else r[f"{s}_s"] / (r["variables"] / 1e6))
                for r in measured) + " |")
        out.append("| wall | " + " | ".join(_fmt(r["wall_s"] / (r["variables"] / 1e6)) for r in measured) + " |")
        out.append("| solver only | " + " | ".join(
            _fmt(None if r.get("ref_solver_s") is None else r["ref_solver_s"] / (r["variables"] / 1e6))
            for r in measured) + " |")
        out.append("| peak MB | " + " | ".join(_fmt(r["peak_mb"] / (r["variables"] / 1e6), 0) for r in measured) + " |")
        out.append("| solver-only peak MB | " + " | ".join(
            _fmt(None if r.get("ref_peak_mb") is None else r["ref_peak_mb"] / (r["variables"] / 1e6), 0)
            for r in measured) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the engine (see benchmarks/README.md).")
    ap.add_argument("--sizes", nargs="+", choices=SIZE_ORDER, default=["10k", "100k"])
    ap.add_argument("--forms", nargs="+", choices=FORMS, default=FORMS)
    ap.add_argument("--skip-pulp", action="store_true", help="do not run the PuLP reference")
    ap.add_argument("--pulp-max-vars", type=float, default=2e6,
                    help="skip PuLP above this many variables (default 2e6: skipped at 3m)")
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "carepath-bench"),
                    help="work folder for scenarios, outputs, logs (default: %(default)s)")
    ap.add_argument("--results", type=Path, default=HERE,
                    help="folder for results.csv and results.md (default: benchmarks/)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per process (default 3600)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measured process; the fastest is kept")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--coupled", action="store_true",
                    help="coupled regions (national provider and budget) instead of independent ones")
    ap.add_argument("--regenerate", action="store_true", help="regenerate cached scenarios")
    ap.add_argument("--keep-mps", action="store_true", help="keep the exported MPS files")
    ap.add_argument("--via", choices=["auto", "cli", "stages"], default="auto",
                    help="cli: carepath --timings; stages: stages.py; auto: cli when it has --timings")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)

    Path(args.out).mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    mach = machine()
    mtext = machine_text(mach)
    log(f"machine: {mtext}")
    use_timings = args.via == "cli" or (args.via == "auto" and cli_has_timings())
    log("engine runs: " + ("carepath solve --timings" if use_timings else
                           "benchmarks/stages.py (the CLI's code path, timed)"
                           + (" because the CLI has no --timings" if args.via == "auto" else "")))
    # warm the page cache so that the first measured process does not pay for cold imports
    subprocess.run([sys.executable, "-c", "import optimiser.api, optimiser.cli, highspy, pulp, pyarrow"],
                   capture_output=True)
    args.startup = python_startup()

    csv_path = args.results / "results.csv"
    existing = read_results(csv_path)
    new_rows = []
    for size in sorted(args.sizes, key=SIZE_ORDER.index):
        rows = run_size(size, args, use_timings, mtext, log)
        new_rows += rows
        keys = {(r["size"], r["form"]) for r in rows}
        existing = [r for r in existing if (r["size"], r["form"]) not in keys] + rows
        write_results(existing, csv_path)       # after every size: a crash loses nothing
        command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
        (args.results / "results.md").write_text(markdown(read_results(csv_path), mtext, command.strip()))

    print()
    print(markdown(new_rows, mtext, "this run"))
    log(f"results: {csv_path} and {args.results / 'results.md'}; load average now "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
