"""The warm session: :func:`warm_start`, :class:`WarmModel` and its solutions."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from .. import numerics
from ..backends import SolverOutput, Status, get_backend
from ..compile import compile_model
from ..compile.columns import build_columns
from ..errors import ConfigError, Issue, SolveFailed
from ..instance import Instance
from ..load import Scenario
from ..model import LinearModel
from ..results.build import build_result
from ..results.result import Result
from ..validate import suggest
from .changes import BASE, Changes, MODES, STRATEGIES, WHERE, _Base
from .demand import _apply
from .maps import _Derived, _Maps
from .live import _LiveHighs

# --------------------------------------------------------------------------- solutions

@dataclass(eq=False)
class WarmSolution:
    """What one :meth:`WarmModel.solve` found: light, with the full result on demand."""

    status: Status
    objective: float | None
    """Total cost (``obj @ values``), when there is a solution."""
    values: np.ndarray | None
    """Column values of :attr:`model` (``x`` flows first, see ``model.blocks``)."""
    changes: Changes
    method: str
    """``warm`` (from the previous basis), ``cold`` (from scratch, with presolve),
    ``cold after N warm iterations`` (``auto`` gave up on the warm start), or
    ``cold (backend)`` for backends other than HiGHS."""
    iterations: int | None
    """Simplex iterations of this solve (LP), when the backend reports them."""
    seconds: float
    """Wall-clock seconds of the whole call: deriving, pushing and solving."""
    timings: dict[str, float]
    """``derive`` (tables and model numbers), ``push`` (to the solver), ``solve``."""
    warnings: list[str]
    bound: float | None = None
    gap: float | None = None
    message: str = ""
    _session: WarmModel | None = field(default=None, repr=False)
    _derived: _Derived | None = field(default=None, repr=False)
    _duals: np.ndarray | None = field(default=None, repr=False)
    _ranges: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _generation: int = field(default=-1, repr=False)
    _model: LinearModel | None = field(default=None, repr=False)

    @property
    def instance(self) -> Instance:
        """The scenario's tables with the changes applied."""
        return self._derived.inst

    @property
    def model(self) -> LinearModel:
        """The model solved, as :func:`~optimiser.compile.compile_model` would build it for the
        changed tables (its LP relaxation in ``lp`` mode)."""
        if self._model is None:
            self._model = self._derived.public(self._session.mode)
        return self._model

    @property
    def scenario(self) -> Scenario:
        """The loaded scenario with the changed tables; ``overrides`` gains the changes in
        ``--set`` form (``config`` and the documents stay as loaded)."""
        s = self._session
        return replace(s.scenario, instance=self.instance,
                       overrides=tuple(s.scenario.overrides) + tuple(s.overrides(self.changes)))

    @property
    def duals(self) -> np.ndarray | None:
        """Row shadow prices of :attr:`model`: the LP's in ``lp`` mode; in ``milp`` those of the
        LP with the integer decisions fixed (solved on first use)."""
        if self._duals is None and self.status.has_solution and self._session.mode == "milp":
            fixed = self._session._fixed_duals(self, ranging=False)
            self._duals = fixed[0] if fixed else None
        return self._duals

    def result(self, *, diagnose_infeasible: bool = False) -> Result:
        """The full :class:`~optimiser.results.result.Result` (tables, summary, independent
        check), as :func:`optimiser.solve` builds it. Shadow-price ranges (``valid_from``,
        ``valid_to``) are filled while this is the session's latest solve; an infeasible
        result carries a diagnosis when ``diagnose_infeasible``."""
        return self._session._result(self, diagnose_infeasible)



# --------------------------------------------------------------------------- the session

def warm_start(scenario: Scenario, *, mode: str | None = None, backend: str | None = None,
               time_limit: float | None = None, mip_gap: float | None = None,
               threads: int | None = None, strategy: str = "auto") -> WarmModel:
    """A :class:`WarmModel` for ``scenario``: compile once, then re-solve changes warm.

    Arguments left as None come from the config's ``solve`` (as :func:`optimiser.solve`);
    ``mode`` is ``lp`` or ``milp``. See :mod:`optimiser.warm`.
    """
    return WarmModel(scenario, mode=mode, backend=backend, time_limit=time_limit,
                     mip_gap=mip_gap, threads=threads, strategy=strategy)


class WarmModel:
    """A compiled scenario kept live in its solver; :meth:`solve` re-solves changes of it.

    See :mod:`optimiser.warm`. Not thread-safe.
    """

    def __init__(self, scenario: Scenario, *, mode: str | None = None, backend: str | None = None,
                 time_limit: float | None = None, mip_gap: float | None = None,
                 threads: int | None = None, strategy: str = "auto",
                 max_warm_iterations: int | None = None):
        opts = scenario.config.solve
        mode = mode or opts.mode
        if mode not in MODES:
            raise ValueError(f"warm re-solves support modes {' and '.join(MODES)}, not '{mode}'"
                             + ("; cp solves whole activities in pence: use optimiser.solve"
                                if mode == "cp" else ""))
        if scenario.instance.years.count > 1:
            raise ValueError("warm re-solves work on one-year plans; this scenario plans "
                             f"{scenario.instance.years.count} years: use optimiser.solve")
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy '{strategy}'; one of {', '.join(STRATEGIES)}")
        from ..api import choose_backend, solve_options

        name = choose_backend(mode, backend, opts.backend)
        self.scenario = scenario
        self.mode = mode
        self.backend = name
        self.strategy = strategy
        self.max_warm_iterations = max_warm_iterations
        self._solver = get_backend(name)
        self.options = solve_options(opts, time_limit, mip_gap, threads)
        inst0 = scenario.instance
        started = time.perf_counter()
        self._cols = build_columns(inst0)
        live0 = compile_model(_with_budget_row(inst0))
        self._maps = _Maps(scenario, self._cols, live0)
        self._base = _Derived(inst0, live0, self._maps, self._maps.all_slots, False)
        self._warnings0 = numerics.check(self._base.public("milp"))  # refuses as solve() does
        self._targeted, self._demand_ok = self._maps.verify(self)
        self._highs: _LiveHighs | None = None
        self._fixed_lp: _LiveHighs | None = None
        if name == "highs":
            self._highs = _LiveHighs(self._problem(live0), self.options)
        self._generation = 0
        self.setup_seconds = time.perf_counter() - started
        """Seconds spent compiling and loading the model into the solver."""

    # ------------------------------------------------------------------ public

    def solve(self, changes: Changes | None = None, *, budget: float | None | _Base = BASE,
              capacity: Mapping[str, float] | None = None,
              prices: Mapping[tuple[str, str], float] | None = None,
              population: Mapping[str, float] | None = None,
              prevalence: Mapping[tuple[str, str], float] | None = None,
              demand_scale: float | Mapping[str, float] = 1.0,
              time_limit: float | None = None, strategy: str | None = None) -> WarmSolution:
        """Solve the scenario as loaded with these changes (all relative to the loaded
        scenario, never to an earlier call). Give a :class:`Changes` or the keywords, not both.

        Raises :class:`~optimiser.errors.ConfigError` for an unknown name or a negative or
        non-finite number, or a change that would make the config invalid (a step with demand
        that nobody can deliver). Infeasibility and time limits are statuses.
        """
        if changes is None:
            changes = Changes(budget, capacity or {}, prices or {}, population or {},
                              prevalence or {}, demand_scale)
        elif (budget is not BASE or capacity or prices or population or prevalence
              or (demand_scale if isinstance(demand_scale, Mapping) else demand_scale != 1.0)):
            raise TypeError("give either a Changes or keyword changes, not both")
        strategy = strategy or self.strategy
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy '{strategy}'; one of {', '.join(STRATEGIES)}")
        self._check(changes)
        t0 = time.perf_counter()
        derived = self._derive(changes)
        warnings = self._warnings0
        if derived.coeffs_changed:
            warnings = numerics.check(derived.public("milp", implied=False))
        t1 = time.perf_counter()
        limit = time_limit if time_limit is not None else self.options.time_limit
        self._generation += 1
        problem = self._problem(derived.live)
        if self._highs is not None:
            h = self._highs
            h.push(problem, derived.coeff_slots)
            t2 = time.perf_counter()
            cap = None
            if strategy == "auto":
                cap = self.max_warm_iterations or max(1000, h.cold_iterations or 0)
            out, method, iterations = h.run(limit, cold=(strategy == "cold"), warm_cap=cap)
        else:
            t2 = t1
            opts = replace(self.options, time_limit=limit)
            out = self._solver.solve(problem, opts)
            method, iterations = "cold (backend)", None
        t3 = time.perf_counter()
        lp = self.mode == "lp"
        ranges = out.row_ranges if (lp and self._highs is None) else None
        return WarmSolution(
            status=out.status, objective=out.objective, values=out.values, changes=changes,
            method=method, iterations=iterations, seconds=t3 - t0,
            timings={"derive": t1 - t0, "push": t2 - t1, "solve": t3 - t2},
            warnings=list(warnings), bound=out.bound, gap=out.gap, message=out.message,
            _session=self, _derived=derived,
            _duals=derived.public_rows(out.row_duals) if lp else None,
            _ranges=(derived.public_rows(ranges[0]), derived.public_rows(ranges[1]))
            if ranges else None,
            _generation=self._generation,
        )

    def _derive(self, changes: Changes) -> _Derived:
        """The changed instance and model (without solving); ``changes`` must be checked."""
        inst = _apply(self, changes)
        if self._targeted:
            return self._maps.model(self._base, inst, changes)
        live = compile_model(_with_budget_row(inst))
        if live.num_rows != self._base.live.num_rows or live.num_cols != self._base.live.num_cols:
            raise SolveFailed("the changed scenario compiles to a model of another shape")
        return _Derived(inst, live, self._maps)

    def instance(self, changes: Changes | None = None, **kw) -> Instance:
        """The scenario's tables with ``changes`` applied (checked, not solved)."""
        changes = changes or Changes(**kw)
        self._check(changes)
        return _apply(self, changes)

    def model(self, changes: Changes | None = None, **kw) -> LinearModel:
        """The model :func:`~optimiser.compile.compile_model` builds for the changed tables
        (checked, derived, not solved; the MILP, whatever the mode)."""
        changes = changes or Changes(**kw)
        self._check(changes)
        return self._derive(changes).public("milp")

    def overrides(self, changes: Changes, *, expand: bool = False) -> list[str]:
        """``changes`` as ``--set KEY=VALUE`` strings. ``demand_scale`` has no config key: it
        is written ``demand_scale=F`` / ``demand_scale.PATHWAY=F`` unless ``expand``, which
        writes what it means instead -- every locality's population, or every locality's
        ``prevalence_per_1000`` (so that ``load(path, overrides=...)`` gives the same tables;
        for localities declared in the YAML)."""
        out = []
        if changes.budget is not BASE:
            budget = "" if changes.budget is None else _num(changes.budget)
            out.append(f"constraints.budget={budget}")
        out += [f"resources.{r}.capacity={_num(v)}" for r, v in changes.capacity.items()]
        modes = dict(zip(self.scenario.instance.providers["provider"],
                         self.scenario.instance.providers["mode"]))
        out += [f"providers.{p}.{'costs' if modes.get(p) == 'make' else 'prices'}.{a}={_num(v)}"
                for (p, a), v in changes.prices.items()]
        scale = changes.demand_scale
        d = self._maps.demand
        if expand and not isinstance(scale, dict) and scale != 1.0:
            pop = d.pop0.copy()
            for loc, v in changes.population.items():
                pop[d.loc_index.get_loc(loc)] = float(v)
            out += [f"localities.{loc}.population={_num(v * float(scale))}"
                    for loc, v in zip(d.loc_index, pop)]
        else:
            out += [f"localities.{loc}.population={_num(v)}"
                    for loc, v in changes.population.items()]
        touched = list(dict.fromkeys(loc for loc, _ in changes.prevalence))
        if expand and isinstance(scale, dict) and scale:
            touched = list(d.loc_index)
        for loc in touched:
            i = d.loc_index.get_loc(loc)
            prev = {pw: float(d.prev0[i, j]) for j, pw in enumerate(d.pw_index)}
            prev.update({pw: float(v) for (lc, pw), v in changes.prevalence.items() if lc == loc})
            if expand and isinstance(scale, dict):
                prev = {pw: v * float(scale.get(pw, 1.0)) for pw, v in prev.items()}
            if not expand:   # only what was asked for, over the locality's own overrides
                cfg = self.scenario.config.localities.get(loc)
                own = dict(cfg.prevalence_per_1000) if cfg is not None else {}
                prev = {**own, **{pw: v for (lc, pw), v in changes.prevalence.items() if lc == loc}}
            out.append(f"localities.{loc}.prevalence_per_1000={{"
                       + ", ".join(f"{k}: {_num(v)}" for k, v in prev.items()) + "}")
        if not expand:
            if isinstance(scale, dict):
                out += [f"demand_scale.{p}={_num(v)}" for p, v in scale.items()]
            elif scale != 1.0:
                out.append(f"demand_scale={_num(scale)}")
        return out

    # ------------------------------------------------------------------ internals

    def _problem(self, live: LinearModel) -> LinearModel:
        return live.relaxed() if self.mode == "lp" else live

    def _check(self, ch: Changes) -> None:
        issues: list[Issue] = []
        inst = self.scenario.instance

        def bad(path: str, message: str) -> None:
            issues.append(Issue(WHERE, 0, 0, path, message))

        def number(path: str, v, what: str = "a number >= 0") -> None:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                bad(path, f"expected {what}, got {type(v).__name__} {v!r}")
            elif not math.isfinite(float(v)) or float(v) < 0:
                bad(path, f"expected {what}, got {v!r}")

        if ch.budget is not BASE and ch.budget is not None:
            number("constraints.budget", ch.budget)
        resources = list(inst.resources["resource"])
        known = set(resources)
        for r, v in ch.capacity.items():
            if r not in known:
                bad(f"resources.{r}.capacity", f"unknown resource '{r}'" + suggest(r, resources))
            number(f"resources.{r}.capacity", v)
        providers = dict(zip(inst.providers["provider"], inst.providers["mode"]))
        offered = self._maps.offer_index
        for key, v in ch.prices.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                bad(f"prices.{key}", "a price is keyed (provider, activity), e.g. "
                    "('city_hospital', 'copd.spirometry')")
                continue
            p, a = key
            word = "costs" if providers.get(p) == "make" else "prices"
            path = f"providers.{p}.{word}.{a}"
            if p not in providers:
                bad(path, f"unknown provider '{p}'" + suggest(p, providers))
                continue
            if (p, a) not in offered:
                has = [act for (q, act) in offered if q == p]
                bad(path, f"{p} has no {word[:-1]} for '{a}' (a new offer would add arcs: load "
                    f"the scenario with --set instead){suggest(a, has)}")
            number(path, v)
        localities = list(inst.localities["locality"])
        places = set(localities)
        pathways = [p.pathway for p in self.scenario.pathways]
        for loc, v in ch.population.items():
            if loc not in places:
                bad(f"localities.{loc}.population", f"unknown locality '{loc}'"
                    + suggest(loc, localities))
            number(f"localities.{loc}.population", v)
        for key, v in ch.prevalence.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                bad(f"prevalence.{key}", "a prevalence is keyed (locality, pathway)")
                continue
            loc, pw = key
            path = f"localities.{loc}.prevalence_per_1000.{pw}"
            if loc not in places:
                bad(path, f"unknown locality '{loc}'" + suggest(loc, localities))
            if pw not in pathways:
                bad(path, f"unknown pathway '{pw}'" + suggest(pw, pathways))
            number(path, v)
        scale = ch.demand_scale
        if isinstance(scale, dict):
            for pw, v in scale.items():
                if pw not in pathways:
                    bad(f"demand_scale.{pw}", f"unknown pathway '{pw}'" + suggest(pw, pathways))
                number(f"demand_scale.{pw}", v)
        else:
            number("demand_scale", scale)
        if issues:
            raise ConfigError(issues)
        if ch.touches_demand and not self._demand_ok:
            raise SolveFailed("this scenario's demand cannot be re-derived warm (its tables do "
                              "not match what the config and pathways give); load it with "
                              "--set overrides and use optimiser.solve")

    def _fixed_duals(self, sol: WarmSolution, ranging: bool):
        """Duals (and ranges) of the LP with the integers fixed at ``sol``'s values."""
        fixed = sol._derived.live.with_integers_fixed(sol.values)
        if self._highs is None:
            out = self._solver.solve(fixed, self.options)
            ranges = out.row_ranges
        else:
            if self._fixed_lp is None:
                self._fixed_lp = _LiveHighs(fixed, self.options)
            else:
                self._fixed_lp.push(fixed, sol._derived.coeff_slots)
            out, _, _ = self._fixed_lp.run(self.options.time_limit, cold=False, warm_cap=None)
            ranges = self._fixed_lp.ranges() if ranging and out.status is Status.OPTIMAL else None
        if out.status is not Status.OPTIMAL:
            return None
        d = sol._derived
        return (d.public_rows(out.row_duals),
                d.public_rows(ranges[0]) if ranges else None,
                d.public_rows(ranges[1]) if ranges else None)

    def _result(self, sol: WarmSolution, diagnose_infeasible: bool) -> Result:
        d = sol._derived
        problem = sol.model
        duals = ranges = None
        if sol.status.has_solution:
            if self.mode == "lp":
                duals, ranges = sol._duals, sol._ranges
                if (ranges is None and self._highs is not None
                        and sol._generation == self._generation):
                    r = self._highs.ranges()
                    ranges = (d.public_rows(r[0]), d.public_rows(r[1])) if r else None
            elif self._solver.capabilities.duals:
                fixed = self._fixed_duals(sol, ranging=True)
                if fixed:
                    duals = fixed[0]
                    ranges = (fixed[1], fixed[2]) if fixed[1] is not None else None
        out = SolverOutput(sol.status, sol.objective, sol.values, duals, sol.bound, sol.gap,
                           sol.seconds, sol.message, ranges)
        result = build_result(sol.scenario, problem, out, duals, mode=self.mode,
                              backend=self.backend, version=self._solver.version(), ranges=ranges)
        result.summary["solver"]["total_seconds"] = round(sol.seconds, 3)
        result.summary["solver"]["start"] = sol.method
        result.summary["warnings"] = list(sol.warnings)
        if sol.status is Status.INFEASIBLE and diagnose_infeasible:
            from ..api import _diagnose  # api imports this module

            result = replace(result, diagnosis=_diagnose(sol.scenario, d.public("milp"),
                                                         self.mode, self.backend, self.options))
        return result


def _num(v) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


def _with_budget_row(inst: Instance) -> Instance:
    """The instance with a budget row in its model even without a budget (no limit)."""
    return inst.with_budget(np.inf) if inst.budget is None else inst
