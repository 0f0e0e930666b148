"""The library entry points: :func:`load` and :func:`solve`. No printing, no exits."""

from __future__ import annotations

import time
from dataclasses import replace

from .backends import REGISTRY, SolveOptions, SolverOutput, Status, backend_for, get_backend
from .diagnose import diagnose, presolve_findings
from . import decompose as decomposition
from . import numerics
from .compile import compile_model
from .errors import ConfigError, SolveFailed, SolverUnavailable
from .load import Scenario, load
from .results.build import build_result
from .results.result import Result
from .warm import Changes, WarmModel, warm_start

MODES = ("lp", "milp", "cp")

__all__ = ["load", "solve", "warm_start", "Changes", "WarmModel", "Result", "Status"]


def choose_backend(mode: str, named: str | None, configured: str) -> str:
    """The named backend, else the configured one if it solves ``mode``, else the first that
    does; :class:`SolverUnavailable` when the named one cannot solve ``mode``."""
    name = named or backend_for(mode, configured)
    info = REGISTRY.get(name)
    if info is not None and mode not in info.modes:
        able = [n for n, i in REGISTRY.items() if mode in i.modes]
        raise SolverUnavailable(f"backend '{name}' cannot solve mode '{mode}'; "
                                f"backends for {mode}: {', '.join(able)}")
    return name


def solve_options(opts, time_limit: float | None = None, mip_gap: float | None = None,
                  threads: int | None = None) -> SolveOptions:
    """The options of a solve: each argument given, else the config's ``solve`` (``opts``)."""
    return SolveOptions(
        time_limit=time_limit if time_limit is not None else opts.time_limit,
        mip_gap=mip_gap if mip_gap is not None else opts.mip_gap,
        threads=threads if threads is not None else opts.threads,
        seed=opts.seed,
    )


def solve(
    scenario: Scenario,
    *,
    mode: str | None = None,
    backend: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
    diagnose_infeasible: bool = True,
    decompose: str | None = None,
) -> Result:
    """Solve a loaded scenario; arguments left as None come from the config's ``solve``.

    Raises :class:`SolverUnavailable` for an unknown or uninstalled backend or a mode the
    backend cannot solve. Infeasibility and time limits are statuses, not exceptions; an
    infeasible result carries ``diagnosis`` (pre-solve findings, or the least relaxation and
    a conflicting set) unless ``diagnose_infeasible`` is False. ``decompose`` (``auto``,
    ``off``, ``on``; default the config's) solves independent blocks of the model
    separately and in parallel (:mod:`optimiser.decompose`); the diagnosis always works on
    the whole model.
    """
    opts = scenario.config.solve
    mode = mode or opts.mode
    if mode not in MODES:
        raise ConfigError([scenario.document.issue(("solve", "mode"), f"unknown mode '{mode}'")])
    name = choose_backend(mode, backend, opts.backend)
    solver = get_backend(name)
    options = solve_options(opts, time_limit, mip_gap, threads)
    started = time.perf_counter()
    model = compile_model(scenario.instance)
    warnings = numerics.check(model)  # NumericsError above 1e9 within a row
    problem = model.relaxed() if mode == "lp" else model
    findings = presolve_findings(scenario) if diagnose_infeasible else []
    compiled = time.perf_counter()
    if findings:
        # plain impossibilities: no solver needed to know there is no plan
        out = SolverOutput(Status.INFEASIBLE, None, None, None, None, None, 0.0, "pre-solve check")
        result = build_result(scenario, problem, out, None, mode=mode, backend=name,
                              version=solver.version())
        diagnosis = _diagnose(scenario, model, mode, name, options)
        diagnosis["presolve"] = findings
        diagnosis["method"] = "pre-solve checks, then " + diagnosis["method"]
        return replace(result, diagnosis=diagnosis)
    # independent blocks (localities that share nothing) solved apart, in parallel
    blocks = decomposition.use_decomposition(problem, decompose or opts.decompose)

    def run(m):
        if blocks is None:
            return solver.solve(m, options)
        return decomposition.solve_decomposed(m, name, options, comps=blocks)

    out = run(problem)
    solved = time.perf_counter()
    duals, ranges = out.row_duals, out.row_ranges
    if out.status.has_solution and problem.has_integers and solver.capabilities.duals:
        # shadow prices of the LP with the integer decisions fixed at their optimum
        fixed = run(model.with_integers_fixed(out.values))
        ok = fixed.status == Status.OPTIMAL
        duals, ranges = (fixed.row_duals, fixed.row_ranges) if ok else (None, None)
    result = build_result(scenario, problem, out, duals, mode=mode, backend=name,
                          version=solver.version(), ranges=ranges)
    if out.status is Status.INFEASIBLE and diagnose_infeasible:
        result = replace(result, diagnosis=_diagnose(scenario, model, mode, name, options))
    finished = time.perf_counter()
    result.summary["solver"]["total_seconds"] = round(finished - started, 3)
    result.summary["warnings"] = warnings
    result.extras["timings"] = {
        **scenario.timings,
        "compile": compiled - started,
        "backend_load": out.load_seconds,
        "solver": (solved - compiled) - out.load_seconds,
        "results": finished - solved,
    }
    return result


def _diagnose(scenario: Scenario, model, mode: str, name: str, options: SolveOptions) -> dict:
    """The diagnosis; if a solver fails inside it, the verdict (infeasible) still stands."""
    try:
        return diagnose(scenario, model, mode=mode, backend=name, options=options)
    except SolveFailed as exc:
        return {"status": "infeasible", "method": "elastic model and deletion filter",
                "relaxation": [], "conflict": [], "irreducible": False,
                "message": f"no plan exists, but the diagnosis could not be completed: {exc}"}
