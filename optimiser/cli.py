"""The ``carepath`` command: validate and solve scenario configs (SPEC section 4).

Thin: parse arguments, call the library, print, and map outcomes to exit codes:
0 solved, 2 invalid input, 3 infeasible, 4 no solution within the time limit, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from . import _IMPORT_STARTED, __version__
from .backends import REGISTRY, Status
from .errors import CarepathError, ConfigError, SolverUnavailable
from .numerics import NumericsError

EXIT = {Status.OPTIMAL: 0, Status.FEASIBLE: 0, Status.INFEASIBLE: 3, Status.TIME_LIMIT: 4,
        Status.UNBOUNDED: 1, Status.ERROR: 1}


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got '{text}'") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got '{text}'")
    return v


def _fraction(hint: str = ""):
    """An argument type: a number in [0, 1] (``hint`` says what it means)."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a fraction{hint}, got '{text}'") from None
        if not 0 <= v <= 1:
            raise argparse.ArgumentTypeError(f"must lie in [0, 1]{hint}, got '{text}'")
        return v
    return parse


def _whole(least: int, hint: str = ""):
    """An argument type: a whole number >= ``least`` (``hint`` says why)."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if v < least:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {least}{hint}, got '{text}'")
        return v
    return parse


_gap = _fraction()
_points = _whole(2, " (both ends of the frontier)")
_alt_count = _whole(1, " (alternatives besides the optimum)")
_alt_within = _fraction(" (of the optimal cost: 0.02 allows 2% more)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="carepath", description="Care pathway make-or-buy optimiser.")
    p.add_argument("--version", action="version", version=f"carepath {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("config", metavar="CONFIG", help="scenario config (YAML)")
        sp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value by its dotted path (repeatable)")
        sp.add_argument("--allow-path", dest="allow_paths", action="append", default=[], metavar="DIR",
                        help="another folder pathway files may come from (repeatable)")

    v = sub.add_parser("validate", help="load and check a config; print a short summary")
    common(v)
    e = sub.add_parser("explain", help="say why a config has no plan (exit 3), or that it has one")
    common(e)
    e.add_argument("--mode", choices=["lp", "milp", "cp"], help="override solve.mode")
    e.add_argument("--backend", metavar="NAME", help="override solve.backend")
    def solver(sp: argparse.ArgumentParser, each: str = "the solver", mode=None) -> None:
        """--mode, --backend, --time-limit, --mip-gap and --threads."""
        if mode is None:
            sp.add_argument("--mode", choices=["lp", "milp", "cp"], help="override solve.mode")
        else:
            sp.add_argument("--mode", type=mode, metavar="lp|milp", help="override solve.mode")
        sp.add_argument("--backend", metavar="NAME", help=f"override solve.backend ({', '.join(REGISTRY)})")
        sp.add_argument("--time-limit", type=_positive, metavar="S", help=f"seconds {each} may run")
        sp.add_argument("--mip-gap", type=_gap, metavar="G", help="relative MIP gap (default 1e-6)")
        sp.add_argument("--threads", type=int, metavar="N", help="solver threads (CP-SAT workers)")

    s = sub.add_parser("solve", help="solve a config and write the plan")
    common(s)
    s.add_argument("--out", metavar="DIR", help="output folder (default runs/<scenario-slug>/)")
    solver(s)
    s.add_argument("--timings", action="store_true",
                   help="print seconds per stage to stderr as one JSON line (for benchmarks)")
    s.add_argument("--report", action="store_true",
                   help="also write report.html and report.xlsx into the output folder")
    f = sub.add_parser("frontier", help="cost against quality floor: frontier.csv and frontier.png")
    common(f)
    f.add_argument("--points", type=_points, default=11, metavar="N",
                   help="floors from the cost-optimal level to the best reachable (default 11)")
    f.add_argument("--out", metavar="DIR", help="output folder (default runs/<scenario-slug>/frontier/)")
    solver(f, "each solve")
    a = sub.add_parser("alternatives", help="near-optimal plans that differ most from the optimum "
                       "and from each other")
    common(a)
    a.add_argument("--count", type=_alt_count, default=3, metavar="K",
                   help="alternatives to look for besides the optimum (default 3)")
    a.add_argument("--within", type=_alt_within, default=0.02, metavar="F",
                   help="cost allowed above the optimum, as a fraction (default 0.02 = 2%%)")
    a.add_argument("--out", metavar="DIR",
                   help="output folder (default runs/<scenario-slug>/alternatives/)")
    solver(a, "each solve", _alt_mode)
    r = sub.add_parser("report", help="write report.html and report.xlsx for a run folder")
    r.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by carepath solve")
    from .sweeps.cli import add_parser as add_sweep

    add_sweep(sub)
    from .jobs.cli import add_parser as add_run

    add_run(sub)
    return p


_STARTED = 0.0


def run() -> None:
    """The ``carepath`` console command: :func:`main`, then leave without tearing down the
    interpreter. Every output file is complete and synced by then; freeing millions of
    objects one by one would only add seconds to a national run."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    global _STARTED
    _STARTED = time.perf_counter()
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        n = len(exc.issues)
        print(f"{n} problem{'s' if n != 1 else ''} found; nothing was solved.", file=sys.stderr)
        return 2
    except NumericsError as exc:
        print(f"carepath: {exc}", file=sys.stderr)
        return 2
    except SolverUnavailable as exc:
        print(f"carepath: {exc}", file=sys.stderr)
        return 2 if exc.args and "unknown backend" in str(exc) else 1
    except CarepathError as exc:
        print(f"carepath: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("carepath: interrupted; no output was written for this run.", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        # a native solver's worker threads may still be winding down: leave without
        # interpreter teardown, which could abort in their destructors
        os._exit(130)
    except BrokenPipeError:
        # the reader went away (``carepath ... | head``): nothing more to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"carepath: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback for the user; CAREPATH_DEBUG=1 shows it
        if os.environ.get("CAREPATH_DEBUG"):
            raise
        print(f"carepath: internal error: {type(exc).__name__}: {exc} "
              "(set CAREPATH_DEBUG=1 for details)", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "sweep":
        from .sweeps.cli import run as run_sweep

        return run_sweep(args)
    if args.command == "run":
        from .jobs.cli import run as run_job

        return run_job(args)
    if args.command == "report":
        from .report.command import run as run_report

        return run_report(args.run_dir)
    from .api import load, solve

    scenario = load(args.config, overrides=args.overrides, allow_paths=args.allow_paths)
    if args.command == "validate":
        print(_describe(scenario))
        return 0
    if args.command == "frontier":
        return _frontier(args, scenario)
    if args.command == "alternatives":
        return _alternatives(args, scenario)
    from .results.text import money, render_diagnosis

    if args.command == "explain":
        result = solve(scenario, mode=args.mode, backend=args.backend)
        if result.solved:
            print(f"{scenario.name}: feasible: a plan exists (total cost "
                  f"{money(result.objective, scenario.config.currency)}, {result.status.value}).")
            return 0
        print(f"{scenario.name}: {result.status.value}.")
        if result.diagnosis:
            print("\n".join(render_diagnosis(result.diagnosis)))
        return EXIT[result.status]
    result = solve(scenario, mode=args.mode, backend=args.backend, time_limit=args.time_limit,
                   mip_gap=args.mip_gap, threads=args.threads)
    out_dir = args.out or os.path.join("runs", scenario.slug)
    for w in result.summary.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    wrote = time.perf_counter()
    result.write(out_dir)
    from .results.text import render

    print(render(result, out_dir))
    if args.report:
        from .report.command import after_solve

        try:
            after_solve(out_dir)
        except CarepathError as exc:  # the plan stands: its exit code is the solve's
            print(f"carepath: the report could not be written: {exc}", file=sys.stderr)
    if args.timings:
        import json

        t = dict(result.extras.get("timings", {}))
        t["write"] = time.perf_counter() - wrote
        t["import"] = _STARTED - _IMPORT_STARTED
        t["total_in_process"] = time.perf_counter() - _IMPORT_STARTED
        print("timings: " + json.dumps({k: round(v, 4) for k, v in t.items()}), file=sys.stderr)
    return EXIT[result.status]


def _frontier(args: argparse.Namespace, scenario) -> int:
    """``carepath frontier``: the cost against quality trade-off (exit 3 when the config itself
    has no plan, 4 when its own solve hits the time limit)."""
    from .tradeoffs import frontier as fr

    f = fr.compute(scenario, args.points, mode=args.mode, backend=args.backend,
                   time_limit=args.time_limit, mip_gap=args.mip_gap, threads=args.threads)
    out_dir = args.out or os.path.join("runs", scenario.slug, "frontier")
    for w in f.base.summary.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    fr.write(f, out_dir)
    print(fr.render(f, out_dir))
    return 0 if f.base.solved else EXIT[f.base.status]


def _alt_mode(text: str) -> str:
    if text not in ("lp", "milp"):
        why = (" (cp rounds costs to whole pence per activity, which erases the overlap "
               "weights); use milp" if text == "cp" else "")
        raise argparse.ArgumentTypeError(f"alternatives works in mode lp or milp, not '{text}'{why}")
    return text


def _alternatives(args: argparse.Namespace, scenario) -> int:
    """``carepath alternatives``: near-optimal plans that differ most, each written like a
    solve into OUT/plan_k, with alternatives.csv and differences.csv (exit 3 when the config
    itself has no plan, 4 when its own solve finds none within the time limit)."""
    from .tradeoffs import alternatives as alt

    found = alt.alternatives(scenario, args.count, args.within, mode=args.mode,
                             backend=args.backend, time_limit=args.time_limit,
                             mip_gap=args.mip_gap, threads=args.threads)
    out_dir = args.out or os.path.join("runs", scenario.slug, "alternatives")
    for w in found.optimum.summary.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    found.write(out_dir)
    print(alt.render(found, out_dir))
    return 0 if found.status.has_solution else EXIT[found.status]


def _describe(scenario) -> str:
    inst = scenario.instance
    steps = sum(len(p.steps) for p in scenario.pathways)
    optional = sum(s.optional for p in scenario.pathways for s in p.steps)
    return (f"{scenario.name}: valid\n"
            f"  localities {len(inst.localities)} (population {inst.localities['population'].sum():,.0f})\n"
            f"  pathways   {len(scenario.pathways)} ({', '.join(p.pathway for p in scenario.pathways)})\n"
            f"  steps      {steps} ({optional} optional)\n"
            f"  providers  {len(inst.providers)} ({(inst.providers['mode'] == 'buy').sum()} buy, "
            f"{(inst.providers['mode'] == 'make').sum()} make)\n"
            f"  resources  {len(inst.resources)}{_describe_whole(inst)}\n"
            f"  arcs       {len(inst.arcs)}" + _describe_variants(scenario)
            + _describe_horizon(inst.years))


def _describe_whole(inst) -> str:
    """`` (1 in whole heads; 1 activity in whole units)``; nothing without them (SPEC 11)."""
    whole = int(inst.resources["whole"].sum())
    parts = ([f"{whole} in whole heads"] if whole else []) + (
        [f"{len(inst.units)} activit{'y' if len(inst.units) == 1 else 'ies'} in whole units"]
        if len(inst.units) else [])
    return f" ({'; '.join(parts)})" if parts else ""


def _describe_variants(scenario) -> str:
    """``designs    copd: integrated; heart_failure: virtual_ward (max 3 redesigns)``;
    nothing without variants (SPEC section 11)."""
    varied = [f"{p.pathway}: {', '.join(p.variants)}" for p in scenario.pathways if p.variants]
    if not varied:
        return ""
    cap = scenario.instance.max_redesigns
    return (f"\n  designs    {'; '.join(varied)}"
            + (f" (max {cap} redesign{'s' if cap != 1 else ''})" if cap is not None else ""))


def _describe_horizon(years) -> str:
    """``horizon    2027-2031 (5 years, discount 3.5%, carry-over on)``; nothing without a
    horizon."""
    if not years.dated:
        return ""
    first, last = int(years.calendar(0)), int(years.calendar(years.count - 1))
    span = f"{first}-{last}" if last != first else f"{first}"
    n = f"{years.count} year{'s' if years.count != 1 else ''}"
    return (f"\n  horizon    {span} ({n}, discount {years.discount_rate * 100:g}%, "
            f"carry-over {'on' if years.carry_over else 'off'})")
