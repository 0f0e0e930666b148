"""The library entry points: :func:`load` and :func:`solve`. No printing, no exits."""

from __future__ import annotations

import time

from .backends import REGISTRY, SolveOptions, Status, backend_for, get_backend
from .compile import compile_model
from .errors import ConfigError, SolverUnavailable
from .load import Scenario, load
from .results.build import build_result
from .results.result import Result

MODES = ("lp", "milp", "cp")

__all__ = ["load", "solve", "Result", "Status"]


def solve(
    scenario: Scenario,
    *,
    mode: str | None = None,
    backend: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
) -> Result:
    """Solve a loaded scenario; arguments left as None come from the config's ``solve``.

    Raises :class:`SolverUnavailable` for an unknown or uninstalled backend or a mode the
    backend cannot solve. Infeasibility and time limits are statuses, not exceptions.
    """
    opts = scenario.config.solve
    mode = mode or opts.mode
    if mode not in MODES:
        raise ConfigError([scenario.document.issue(("solve", "mode"), f"unknown mode '{mode}'")])
    # the named backend, else the configured one if it solves this mode, else the first that does
    name = backend or backend_for(mode, opts.backend)
    info = REGISTRY.get(name)
    if info is not None and mode not in info.modes:
        able = [n for n, i in REGISTRY.items() if mode in i.modes]
        raise SolverUnavailable(f"backend '{name}' cannot solve mode '{mode}'; "
                                f"backends for {mode}: {', '.join(able)}")
    solver = get_backend(name)
    options = SolveOptions(
        time_limit=time_limit if time_limit is not None else opts.time_limit,
        mip_gap=mip_gap if mip_gap is not None else opts.mip_gap,
        threads=threads if threads is not None else opts.threads,
        seed=opts.seed,
    )
    started = time.perf_counter()
    model = compile_model(scenario.instance)
    problem = model.relaxed() if mode == "lp" else model
    out = solver.solve(problem, options)
    duals = out.row_duals
    if out.status.has_solution and problem.has_integers:
        # shadow prices of the LP with the integer decisions fixed at their optimum
        fixed = solver.solve(model.with_integers_fixed(out.values), options)
        duals = fixed.row_duals if fixed.status == Status.OPTIMAL else None
    result = build_result(scenario, problem, out, duals, mode=mode, backend=name,
                          version=solver.version())
    result.summary["solver"]["total_seconds"] = round(time.perf_counter() - started, 3)
    return result
