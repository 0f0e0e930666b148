"""Warm re-solves: the same scenario with other budgets, capacities, prices or demand.

A sweep, a frontier or an analyst's "what if" changes a few numbers of one scenario many
times. Loading, building the tables, compiling and handing the model to the solver again
for every change costs far more than the change itself, and a solver that starts from the
previous optimal basis needs few iterations when the change is local::

    >>> import optimiser
    >>> scenario = optimiser.load("configs/northshire.yaml")
    >>> session = optimiser.warm_start(scenario, mode="lp")
    >>> base = session.solve()                               # the scenario as loaded (cold)
    >>> tight = session.solve(budget=40_000_000, capacity={"hub_nurse_hours": 12_000})
    >>> dear = session.solve(prices={("northshire_acute", "copd.emergency_admission"): 3500})
    >>> tight.status, tight.objective                       # doctest: +SKIP
    >>> tight.result().write("out/tight")                   # doctest: +SKIP

**Every call states all of its changes from the scenario as loaded** (not from the
previous call): ``solve(budget=B)`` after ``solve(capacity=...)`` solves the scenario with
budget ``B`` and the loaded capacities. Calls are therefore independent of their order;
only the starting basis (and so the time taken, and which optimal plan is returned when
several cost the same) depends on what was solved before. The objective agrees with a cold
:func:`optimiser.solve` of the same scenario loaded with the equivalent ``--set`` overrides
(:meth:`WarmModel.overrides`) to solver tolerance.

What can change (:class:`Changes`, or the keywords of :meth:`WarmModel.solve`):

* ``budget`` -- a number, or ``None`` for no budget (``BASE``, the default, keeps the loaded one);
* ``capacity`` -- ``{resource: units}``;
* ``prices`` -- ``{(provider, activity): price}``: a buy provider's price or a make
  provider's cost for an activity it already offers;
* ``population`` -- ``{locality: people}``;
* ``prevalence`` -- ``{(locality, pathway): patients per 1000}`` (the locality's override);
* ``demand_scale`` -- a factor on every locality's population, or ``{pathway: factor}`` on
  that pathway's prevalence in every locality (a Monte Carlo draw of demand).

How: the session compiles the scenario once and keeps the :class:`~optimiser.instance.Instance`,
the :class:`~optimiser.model.LinearModel` and a live ``highspy.Highs`` holding it. A change
is turned into new instance tables (vectorised pandas) and then into the numbers of the
compiled model it touches, through index maps built once: the objective, uptake bounds,
right-hand sides of flow, demand-floor, setting-cap, pace, capacity and budget rows, and the
matrix coefficients that carry prices (block-contract payment rows, the budget row) and
demand (the big-M of running rows). The maps are checked at start-up by re-deriving the
loaded scenario's model and comparing it with the compiler's; if they ever disagree (the
compiler changed), the session recompiles each changed instance instead, which is slower
but still right. Only the numbers that differ from what the solver holds are pushed
(``changeColsCost``, ``changeColsBounds``, ``changeRowsBounds``, ``changeCoeff``), and HiGHS
re-solves from its current basis, without presolve; more changed coefficients than
``changeCoeff`` handles cheaply are passed as a whole model, with the old basis. The model
always holds a budget row (without limit when there is no budget), so that setting or
removing a budget never changes its shape; results drop it again.

Strategies (``strategy``): ``"warm"`` always starts from the basis; ``"cold"`` re-solves
from scratch with presolve (still without reloading or recompiling); ``"auto"`` (default)
starts warm but gives up after as many simplex iterations as the last cold solve took (at
least 1000) and then solves cold in the same session. A local change (a budget, some
capacities, a price, a few localities' demand) costs a handful of pivots. A change that
moves every locality's plan costs a few pivots per locality: on a 100,000-variable model
with 1,470 localities, all demand up 2 % took 1,430 warm iterations (still 6 times faster
than a cold load, build and solve) but all demand up 5 % took 10,870, three times slower
than a presolved cold solve; "auto" bounds that loss. In ``milp`` mode there is no basis to
start from: the session still saves loading, building and compiling, and offers the
previous plan to HiGHS as a starting solution.

Backends other than HiGHS solve each changed model cold (the derived model still saves
loading and compiling). A session is not thread-safe; give each worker process its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import numerics
from .backends import REGISTRY, SolveOptions, SolverOutput, Status, backend_for, get_backend
from .compile import compile_model
from .compile.columns import build_columns
from .errors import ConfigError, Issue, SolveFailed, SolverUnavailable
from .instance import Instance
from .load import Scenario
from .model import LinearModel
from .results.build import build_result
from .results.result import Result
from .validate import suggest

__all__ = ["BASE", "Changes", "WarmModel", "WarmSolution", "warm_start"]

MODES = ("lp", "milp")
STRATEGIES = ("auto", "warm", "cold")
ZERO = 1e-12
"""Coefficients smaller than this are not coefficients (as in :func:`compile_model`)."""
WHERE = "warm_start"
"""The ``file`` of an :class:`Issue` about a requested change."""


class _Base:
    def __repr__(self) -> str:
        return "BASE"

    def __reduce__(self):
        return "BASE"


BASE = _Base()
"""``budget=BASE``: keep the budget of the scenario as loaded (``None`` removes it)."""


@dataclass(frozen=True)
class Changes:
    """Changes to a loaded scenario, all relative to the scenario as loaded.

    Mappings are copied into plain dicts; numbers are checked against the scenario by
    :meth:`WarmModel.solve` (unknown names and negative or non-finite numbers raise
    :class:`~optimiser.errors.ConfigError`).
    """

    budget: float | None | _Base = BASE
    capacity: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[tuple[str, str], float] = field(default_factory=dict)
    population: Mapping[str, float] = field(default_factory=dict)
    prevalence: Mapping[tuple[str, str], float] = field(default_factory=dict)
    demand_scale: float | Mapping[str, float] = 1.0

    def __post_init__(self):
        for name in ("capacity", "prices", "population", "prevalence"):
            value = getattr(self, name)
            if value is None:
                value = {}
            if not isinstance(value, Mapping):
                raise TypeError(f"{name} must be a mapping, not {type(value).__name__}")
            object.__setattr__(self, name, dict(value))
        if isinstance(self.demand_scale, Mapping):
            object.__setattr__(self, "demand_scale", dict(self.demand_scale))

    @property
    def touches_demand(self) -> bool:
        scale = self.demand_scale
        return bool(self.population or self.prevalence or
                    (scale if isinstance(scale, dict) else scale != 1.0))

    @property
    def empty(self) -> bool:
        return (self.budget is BASE and not self.capacity and not self.prices
                and not self.touches_demand)


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


@dataclass(frozen=True)
class _Derived:
    """A changed instance and the session's form of its model (always with a budget row)."""

    inst: Instance
    live: LinearModel
    maps: _Maps
    coeff_slots: np.ndarray | None = None
    """Positions in ``live.A.data`` where any two models derived by the same maps may differ
    (None: anywhere)."""
    coeffs_changed: bool = True
    """Whether the matrix differs from the loaded scenario's."""

    def public(self, mode: str, implied: bool = True) -> LinearModel:
        """The model as :func:`compile_model` builds it for ``inst`` (LP relaxation in lp;
        ``implied_ub`` left out unless ``implied``)."""
        m = self.live
        if m.implied_ub is None and implied:
            from .compile import _implied_upper_bounds

            cols = replace(self.maps.cols, lb=m.col_lb, ub=m.col_ub)
            m = replace(m, implied_ub=_implied_upper_bounds(self.inst, cols))
        if self._drops:
            keep = self.maps.keep_rows
            m = replace(m, A=sp.csr_array(m.A[keep]), row_lb=m.row_lb[keep],
                        row_ub=m.row_ub[keep], row_meta=self.maps.public_row_meta())
        return m.relaxed() if mode == "lp" else m

    @property
    def _drops(self) -> bool:
        return self.inst.budget is None and self.maps.budget_row >= 0

    def public_rows(self, a: np.ndarray | None) -> np.ndarray | None:
        """A per-row array of ``live`` for the rows of :meth:`public`."""
        return np.delete(a, self.maps.budget_row) if (a is not None and self._drops) else a


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
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy '{strategy}'; one of {', '.join(STRATEGIES)}")
        name = backend or backend_for(mode, opts.backend)
        info = REGISTRY.get(name)
        if info is not None and mode not in info.modes:
            able = [n for n, i in REGISTRY.items() if mode in i.modes]
            raise SolverUnavailable(f"backend '{name}' cannot solve mode '{mode}'; "
                                    f"backends for {mode}: {', '.join(able)}")
        self.scenario = scenario
        self.mode = mode
        self.backend = name
        self.strategy = strategy
        self.max_warm_iterations = max_warm_iterations
        self._solver = get_backend(name)
        self.options = SolveOptions(
            time_limit=time_limit if time_limit is not None else opts.time_limit,
            mip_gap=mip_gap if mip_gap is not None else opts.mip_gap,
            threads=threads if threads is not None else opts.threads,
            seed=opts.seed,
        )
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
            from .api import _diagnose  # api imports this module

            result = replace(result, diagnosis=_diagnose(sol.scenario, d.public("milp"),
                                                         self.mode, self.backend, self.options))
        return result


def _num(v) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


def _with_budget_row(inst: Instance) -> Instance:
    """The instance with a budget row in its model even without a budget (no limit)."""
    return replace(inst, budget=np.inf) if inst.budget is None else inst


# --------------------------------------------------------------------------- tables

def _apply(session: WarmModel, ch: Changes) -> Instance:
    """The loaded instance with ``ch`` applied (vectorised; the loaded tables are not touched)."""
    maps = session._maps
    inst = session.scenario.instance
    if ch.budget is not BASE:
        inst = replace(inst, budget=None if ch.budget is None else float(ch.budget))
    if ch.capacity:
        cap = inst.resources["capacity"].to_numpy(float).copy()
        idx = maps.res_index.get_indexer(list(ch.capacity))
        cap[idx] = np.fromiter(ch.capacity.values(), float, len(idx))
        inst = replace(inst, resources=inst.resources.assign(capacity=cap))
    if ch.prices:
        unit = inst.offers["unit_cost"].to_numpy(float).copy()
        for key, v in ch.prices.items():
            unit[maps.offer_index[key]] = float(v)
        inst = replace(inst, offers=inst.offers.assign(unit_cost=unit),
                       arcs=inst.arcs.assign(unit_cost=unit[maps.arc_offer]))
    if ch.touches_demand:
        inst = maps.demand.apply(inst, ch)
    return inst


@dataclass
class _Demand:
    """How the demand table follows from populations and prevalences (as
    :func:`optimiser.instance.build` derives it), per demand row."""

    loc_of_dem: np.ndarray
    pw_of_dem: np.ndarray
    loc_index: pd.Index
    pw_index: pd.Index
    pop0: np.ndarray
    prev0: np.ndarray
    """Effective prevalence per 1000, [locality, pathway]."""
    optional: np.ndarray
    per_patient: np.ndarray
    umin: np.ndarray
    umax: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    effect: np.ndarray
    arc_dem: np.ndarray
    share0: np.ndarray
    has_arc: np.ndarray

    @classmethod
    def build(cls, scenario: Scenario) -> _Demand:
        inst = scenario.instance
        dem = inst.demand
        loc_index = pd.Index(inst.localities["locality"])
        pw_index = pd.Index([p.pathway for p in scenario.pathways])
        loc_of_dem = loc_index.get_indexer(dem["locality"])
        pw_of_dem = pw_index.get_indexer(dem["pathway"])
        steps = {}
        for p in scenario.pathways:
            for s in p.steps:
                steps[f"{p.pathway}.{s.step}"] = (
                    s.optional, 0.0 if s.optional else float(s.per_patient),
                    float(s.per_patient.min) if s.optional else 0.0,
                    float(s.per_patient.max) if s.optional else 0.0)
        params = [steps[a] for a in dem["activity"]]
        per_patient = np.array([t[1] for t in params], dtype=float)
        umin = np.array([t[2] for t in params], dtype=float)
        umax = np.array([t[3] for t in params], dtype=float)
        pop0 = inst.localities["population"].to_numpy(float)
        # effective prevalence per locality and pathway (the locality's override, from the
        # YAML or a table, else the pathway's), as the instance used it
        prev = np.tile(np.array([float(p.prevalence_per_1000) for p in scenario.pathways]),
                       (len(loc_index), 1))
        prev[loc_of_dem, pw_of_dem] = dem["prevalence"].to_numpy(float)
        av = inst.avoids
        has_arc = np.zeros(len(dem), dtype=bool)
        has_arc[inst.arcs["dem"].to_numpy(np.int64)] = True
        return cls(loc_of_dem, pw_of_dem, loc_index, pw_index, pop0, prev,
                   dem["optional"].to_numpy(bool), per_patient, umin, umax,
                   av["src_dem"].to_numpy(np.int64), av["dst_dem"].to_numpy(np.int64),
                   av["effect"].to_numpy(float), inst.arcs["dem"].to_numpy(np.int64),
                   inst.arcs["share0"].to_numpy(float), has_arc)

    def numbers(self, pop: np.ndarray, prev: np.ndarray) -> dict[str, np.ndarray]:
        """``patients, fixed, ymin, ymax, dmax, d0`` per demand row and ``x0`` per arc."""
        n = pop[self.loc_of_dem] * prev[self.loc_of_dem, self.pw_of_dem] / 1000.0
        opt = self.optional
        fixed = np.where(opt, 0.0, n * self.per_patient)
        ymin = np.where(opt, n * self.umin, 0.0)
        ymax = np.where(opt, n * self.umax, 0.0)
        dmax = np.where(opt, ymax, fixed)
        d0 = np.where(opt, ymin, fixed)
        if len(self.src):
            d0 = d0 - np.bincount(self.dst, minlength=len(d0), weights=self.effect * ymin[self.src])
        x0 = self.share0 * d0[self.arc_dem]
        return {"patients": n, "fixed": fixed, "ymin": ymin, "ymax": ymax, "dmax": dmax,
                "d0": d0, "x0": x0}

    def apply(self, inst: Instance, ch: Changes) -> Instance:
        pop = self.pop0.copy()
        if ch.population:
            pop[self.loc_index.get_indexer(list(ch.population))] = np.fromiter(
                ch.population.values(), float, len(ch.population))
        prev = self.prev0.copy()
        for (loc, pw), v in ch.prevalence.items():
            prev[self.loc_index.get_loc(loc), self.pw_index.get_loc(pw)] = float(v)
        scale = ch.demand_scale
        if isinstance(scale, dict):
            for pw, f in scale.items():
                prev[:, self.pw_index.get_loc(pw)] *= float(f)
        elif scale != 1.0:
            pop = pop * float(scale)
        num = self.numbers(pop, prev)
        missing = (num["dmax"] > 0) & ~self.has_arc
        if missing.any():
            dem = inst.demand[missing]
            acts = list(dict.fromkeys(dem["activity"]))
            where = {a: ", ".join(dict.fromkeys(dem.loc[dem["activity"] == a, "locality"]))
                     for a in acts[:10]}
            raise ConfigError([Issue(WHERE, 0, 0, "localities", f"no provider can deliver {a} "
                                     f"in {where[a]} once it has demand (nobody serves it there)")
                               for a in acts[:10]])
        dem = inst.demand.assign(**{k: num[k] for k in ("patients", "fixed", "ymin", "ymax",
                                                         "dmax", "d0")})
        return replace(inst, localities=inst.localities.assign(population=pop), demand=dem,
                       arcs=inst.arcs.assign(x0=num["x0"]))


# --------------------------------------------------------------------------- model maps

class _Maps:
    """Where the changeable numbers sit in the compiled model (built once, then verified)."""

    def __init__(self, scenario: Scenario, cols, live0: LinearModel):
        inst = scenario.instance
        self.cols = cols
        kind = live0.row_meta["kind"].to_numpy()
        rows_of = {k: np.flatnonzero(kind == k) for k in pd.unique(kind)}
        empty = np.zeros(0, dtype=np.int64)
        self.rows = lambda k: rows_of.get(k, empty)  # noqa: E731
        budget = self.rows("budget")
        self.budget_row = int(budget[0]) if len(budget) == 1 else -1
        self.keep_rows = np.ones(live0.num_rows, dtype=bool)
        if self.budget_row >= 0:
            self.keep_rows[self.budget_row] = False
        self._row_meta = live0.row_meta
        self._public_meta: pd.DataFrame | None = None
        self.n_cols = live0.num_cols
        # names -> table rows
        self.res_index = pd.Index(inst.resources["resource"])
        offers = inst.offers
        self.offer_index = {(p, a): i for i, (p, a) in
                            enumerate(zip(offers["provider"], offers["activity"]))}
        self.arc_offer = np.fromiter((self.offer_index[(p, a)] for p, a in
                                      zip(inst.arcs["provider"], inst.arcs["activity"])),
                                     np.int64, len(inst.arcs))
        # capacity rows: their resource
        cap_rows = self.rows("capacity")
        self.cap_rows = cap_rows
        self.cap_res = self.res_index.get_indexer(live0.row_meta["resource"].to_numpy()[cap_rows])
        # demand-driven rows: bound = factor * fixed[dem]
        self.demand = _Demand.build(scenario)
        self.flow_rows = self.rows("flow")
        self.floor_rows = self.rows("demand_floor")
        self.floor_dem = np.unique(inst.avoids["dst_dem"].to_numpy(np.int64))
        self.cap_share_rows = self.rows("setting_cap")
        self.caps_dem = inst.caps["dem"].to_numpy(np.int64)
        self.caps_share = inst.caps["max_share"].to_numpy(float)
        self.pace_rows = self.rows("pace")
        arcs = inst.arcs
        if inst.max_shift is None:
            pace_idx = np.zeros(0, dtype=np.int64)
        else:
            pace_idx = np.flatnonzero(arcs["share0"].to_numpy(float) > 0)
        self.pace_dem = arcs["dem"].to_numpy(np.int64)[pace_idx]
        self.pace_f = (1.0 - (inst.max_shift or 0.0)) * arcs["share0"].to_numpy(float)[pace_idx]
        # the objective's ingredients that do not change (see compile/cost.py)
        self.p_idx = pd.Index(inst.providers["provider"]).get_indexer(arcs["provider"])
        self.uplift = 1.0 + inst.providers["overhead"].to_numpy(float)[self.p_idx]
        self.in_pay = cols.pay_of_prov[self.p_idx] >= 0
        self.opt_dem = np.flatnonzero(inst.demand["optional"].to_numpy(bool))
        self.y_cols = cols.y_of_dem[self.opt_dem]
        # coefficient slots that prices and demand set: (row, col) and their positions
        prov = inst.providers
        blocked = prov[cols.pay_of_prov >= 0]["provider"]
        pay_r = pd.Series(self.rows("payment"), index=blocked.to_numpy())
        pay_mine = arcs["provider"].isin(blocked).to_numpy()
        self.pay_arcs = np.flatnonzero(pay_mine)
        runs = prov[cols.o_of_prov >= 0].reset_index()
        run_r = pd.Series(np.arange(len(runs)), index=runs["provider"])
        run_mine = arcs["provider"].isin(runs["provider"]).to_numpy()
        self.run_arc_rows = run_r.reindex(arcs["provider"][run_mine]).to_numpy(np.int64)
        self.run_arc_dem = arcs["dem"].to_numpy(np.int64)[run_mine]
        self.n_runs = len(runs)
        run_cols = cols.o_of_prov[runs["index"].to_numpy(np.int64)]
        budget_cols = np.arange(self.n_cols) if self.budget_row >= 0 else empty
        self.slot_row = np.concatenate([
            np.full(len(budget_cols), self.budget_row, dtype=np.int64),
            pay_r.reindex(arcs["provider"][pay_mine]).to_numpy(np.int64),
            self.rows("running_max")[:self.n_runs] if self.n_runs else empty,
        ])
        self.slot_col = np.concatenate([budget_cols, cols.x[self.pay_arcs],
                                        run_cols]).astype(np.int64)
        self.n_budget_slots = len(budget_cols)
        self.n_pay_slots = len(self.pay_arcs)
        A = live0.A
        if not A.has_sorted_indices:
            raise SolveFailed("compiled matrix without sorted indices")
        self.slot_pos = _positions(A, self.slot_row, self.slot_col)
        self.all_slots = self.slot_pos[self.slot_pos >= 0]
        self._static = None

    def objective(self, inst: Instance, obj0: np.ndarray, *, prices: bool,
                  demand: bool) -> np.ndarray:
        """The objective of :func:`optimiser.compile.cost.objective` for ``inst``, re-deriving
        what prices (flow costs) and demand (whether a make provider pays its setup cost,
        which depends on its baseline volume) touch."""
        obj = obj0.copy()
        cols, prov = self.cols, inst.providers
        if prices:
            unit = inst.arcs["unit_cost"].to_numpy(float)
            obj[cols.x] = np.where(self.in_pay, 0.0, unit * self.uplift)
        if demand:
            baseline_vol = np.bincount(self.p_idx, weights=inst.arcs["x0"].to_numpy(float),
                                       minlength=len(prov))
            setup = np.where(baseline_vol > 0, 0.0, prov["setup_cost"].to_numpy(float))
            overhead = prov["overhead"].to_numpy(float)
            fixed = (1.0 + overhead) * prov["fixed_cost"].to_numpy(float) + setup
            has_o = cols.o_of_prov >= 0
            obj[cols.o_of_prov[has_o]] = fixed[has_o]
        return obj

    def public_row_meta(self) -> pd.DataFrame:
        if self._public_meta is None:
            self._public_meta = self._row_meta[self.keep_rows].reset_index(drop=True)
        return self._public_meta

    def slot_values(self, inst: Instance, obj: np.ndarray, dmax: np.ndarray) -> np.ndarray:
        """The coefficient of every slot: objective in the budget row, ``-price`` in payment
        rows, ``-M`` (the sum of the provider's largest demands) in running rows."""
        price = -inst.arcs["unit_cost"].to_numpy(float)[self.pay_arcs]
        big_m = np.bincount(self.run_arc_rows, weights=dmax[self.run_arc_dem],
                            minlength=self.n_runs)
        return np.concatenate([obj[:self.n_budget_slots] if self.n_budget_slots else obj[:0],
                               price, -big_m])

    def model(self, base: _Derived, inst: Instance, ch: Changes, force: bool = False) -> _Derived:
        """The changed model: the base model with the numbers ``ch`` touches re-derived."""
        m0 = base.live
        row_lb, row_ub, col_lb, col_ub = m0.row_lb, m0.row_ub, m0.col_lb, m0.col_ub
        obj, A = m0.obj, m0.A
        slots = self.all_slots
        if ch.budget is not BASE or force:
            row_ub = row_ub.copy()
            if self.budget_row >= 0:
                row_ub[self.budget_row] = np.inf if inst.budget is None else float(inst.budget)
        if ch.capacity or force:
            row_ub = row_ub.copy()
            row_ub[self.cap_rows] = inst.resources["capacity"].to_numpy(float)[self.cap_res]
        demand = ch.touches_demand or force
        if demand:
            dem = inst.demand
            fixed = dem["fixed"].to_numpy(float)
            row_lb, row_ub = row_lb.copy(), row_ub.copy()
            row_lb[self.flow_rows] = fixed
            row_ub[self.flow_rows] = fixed
            row_lb[self.floor_rows] = -(1.0 * fixed[self.floor_dem])
            row_ub[self.cap_share_rows] = self.caps_share * fixed[self.caps_dem]
            row_lb[self.pace_rows] = self.pace_f * fixed[self.pace_dem]
            col_lb, col_ub = col_lb.copy(), col_ub.copy()
            col_lb[self.y_cols] = dem["ymin"].to_numpy(float)[self.opt_dem]
            col_ub[self.y_cols] = dem["ymax"].to_numpy(float)[self.opt_dem]
        implied = m0.implied_ub
        if ch.prices or demand:
            obj = self.objective(inst, obj, prices=bool(ch.prices) or force, demand=demand)
            implied = None  # filled in by _Derived.public, when asked for
            new = self.slot_values(inst, obj, inst.demand["dmax"].to_numpy(float))
            A, slots = self._matrix(m0.A, new)
        live = replace(m0, obj=obj, col_lb=col_lb, col_ub=col_ub, row_lb=row_lb, row_ub=row_ub,
                       A=A, implied_ub=implied)
        return _Derived(inst, live, self, slots, A is not m0.A)

    def _matrix(self, A0: sp.csr_array, new: np.ndarray) -> tuple[sp.csr_array, np.ndarray | None]:
        """``A0`` with the slot coefficients set to ``new``; the positions that may have
        changed (None when the sparsity pattern changed)."""
        new = np.where(np.abs(new) < ZERO, 0.0, new)
        present = self.slot_pos >= 0
        if np.array_equal(new != 0, present):
            data = A0.data.copy()
            pos = self.slot_pos[present]
            data[pos] = new[present]
            return sp.csr_array((data, A0.indices, A0.indptr), shape=A0.shape), pos
        if self._static is None:
            keep = np.ones(A0.nnz, dtype=bool)
            keep[self.slot_pos[present]] = False
            rows = np.repeat(np.arange(A0.shape[0]), np.diff(A0.indptr))
            self._static = (rows[keep], A0.indices[keep].astype(np.int64), A0.data[keep])
        r, c, v = self._static
        nz = new != 0
        A = sp.csr_array(sp.coo_array((np.concatenate([v, new[nz]]),
                                       (np.concatenate([r, self.slot_row[nz]]),
                                        np.concatenate([c, self.slot_col[nz]]))), shape=A0.shape))
        A.sum_duplicates()
        A.data[np.abs(A.data) < ZERO] = 0.0
        A.eliminate_zeros()
        return A, None

    def verify(self, session: WarmModel) -> tuple[bool, bool]:
        """Whether re-deriving the loaded scenario gives back its tables and its compiled
        model (then the fast maps are used; else changed instances are recompiled)."""
        inst = session.scenario.instance
        d = self.demand
        num = d.numbers(d.pop0, d.prev0)
        dem = inst.demand
        demand_ok = all(np.allclose(num[k], dem[k].to_numpy(float), rtol=1e-12, atol=1e-9)
                        for k in ("patients", "fixed", "ymin", "ymax", "dmax", "d0"))
        demand_ok &= bool(np.allclose(num["x0"], inst.arcs["x0"].to_numpy(float),
                                      rtol=1e-12, atol=1e-9))
        try:
            got = self.model(session._base, inst, Changes(), force=True).live
        except Exception:  # noqa: BLE001 - any surprise means: do not trust the maps
            return False, demand_ok
        m0 = session._base.live
        same = (len(self.flow_rows) == len(dem) and len(self.pace_rows) == len(self.pace_dem)
                and len(self.floor_rows) == len(self.floor_dem)
                and len(self.cap_share_rows) == len(self.caps_dem)
                and len(self.rows("running_max")) >= self.n_runs
                and np.array_equal(got.A.indptr, m0.A.indptr)
                and np.array_equal(got.A.indices, m0.A.indices))
        if same:
            for a, b in ((got.obj, m0.obj), (got.col_lb, m0.col_lb), (got.col_ub, m0.col_ub),
                         (got.row_lb, m0.row_lb), (got.row_ub, m0.row_ub), (got.A.data, m0.A.data)):
                if not np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=False):
                    same = False
                    break
        return bool(same), bool(demand_ok)


def _positions(A: sp.csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Position of each (row, col) in ``A.data`` (sorted indices), -1 where absent."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    n = A.shape[1]
    keys = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr)) * n + A.indices
    want = rows.astype(np.int64) * n + cols
    pos = np.searchsorted(keys, want)
    pos = np.minimum(pos, len(keys) - 1) if len(keys) else pos
    found = len(keys) > 0
    ok = (keys[pos] == want) if found else np.zeros(len(want), dtype=bool)
    return np.where(ok, pos, -1).astype(np.int64)


# --------------------------------------------------------------------------- the live solver

class _LiveHighs:
    """A ``highspy.Highs`` and the model it holds; pushes differences, keeps the basis."""

    COEFF_PASS = 50_000
    """Above this many changed coefficients the whole model is passed again (with the basis)."""

    def __init__(self, model: LinearModel, options: SolveOptions):
        from .backends import highs as hb

        self._hb = hb
        self.options = options
        self.model = model
        self.h = hb.load_model(model, options)
        self.cold_iterations: int | None = None

    def push(self, new: LinearModel, slots: np.ndarray | None) -> None:
        hb, h, old = self._hb, self.h, self.model
        if new is old:
            return
        if new.num_rows != old.num_rows or new.num_cols != old.num_cols:
            self.h = hb.load_model(new, self.options)
            self.model = new
            self._mip_start = None
            return
        i = np.flatnonzero(new.obj != old.obj).astype(np.int32)
        if len(i):
            h.changeColsCost(len(i), i, new.obj[i])
        i = np.flatnonzero((new.col_lb != old.col_lb) | (new.col_ub != old.col_ub)).astype(np.int32)
        if len(i):
            h.changeColsBounds(len(i), i, hb._inf(new.col_lb[i]), hb._inf(new.col_ub[i]))
        i = np.flatnonzero((new.row_lb != old.row_lb) | (new.row_ub != old.row_ub)).astype(np.int32)
        if len(i):
            h.changeRowsBounds(len(i), i, hb._inf(new.row_lb[i]), hb._inf(new.row_ub[i]))
        i = np.flatnonzero(new.col_integer != old.col_integer).astype(np.int32)
        if len(i):
            h.changeColsIntegrality(len(i), i, new.col_integer[i].astype(np.uint8))
        rows, cols, vals = _coefficient_changes(old.A, new.A, slots)
        if len(rows) > self.COEFF_PASS:
            basis = h.getBasis()
            h.passModel(hb.to_highs_lp(new))
            if new.has_integers:
                idx = np.flatnonzero(new.col_integer).astype(np.int32)
                h.changeColsIntegrality(len(idx), idx, np.ones(len(idx), dtype=np.uint8))
            if basis.valid:
                h.setBasis(basis)
        else:
            for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist()):
                h.changeCoeff(r, c, v)
        self.model = new

    def run(self, time_limit: float | None, *, cold: bool, warm_cap: int | None):
        """Solve; returns ``(SolverOutput, method, simplex iterations)``."""
        import highspy

        from .backends.interrupt import run_interruptible

        hb, h = self._hb, self.h
        ms = highspy.HighsModelStatus
        start = time.perf_counter()
        mip = self.model.has_integers
        if cold:
            h.clearSolver()
        warm = (not mip) and h.getBasis().valid
        started_from = None
        if mip and self._mip_start is not None and not cold:
            sol = highspy.HighsSolution()
            sol.col_value = self._mip_start
            sol.value_valid = True
            h.setSolution(sol)
            started_from = "cold with the previous plan as a start"

        def go(cap: int | None) -> None:
            # HiGHS counts the object's whole run time against time_limit: offset it
            left = (None if time_limit is None
                    else max(0.0, time_limit - (time.perf_counter() - start)))
            h.setOptionValue("time_limit",
                             highspy.kHighsInf if left is None else h.getRunTime() + left)
            h.setOptionValue("simplex_iteration_limit", int(cap) if cap else 2_147_483_647)
            run_interruptible(h.run, h.cancelSolve)

        go(warm_cap if warm else None)
        method = "warm" if warm else (started_from or "cold")
        iterations = int(h.getInfo().simplex_iteration_count)
        if warm and warm_cap and h.getModelStatus() == ms.kIterationLimit:
            h.clearSolver()
            go(None)
            method = f"cold after {iterations} warm iterations"
            iterations += int(h.getInfo().simplex_iteration_count)
        if h.getModelStatus() == ms.kUnboundedOrInfeasible:
            # presolve could not tell which; the simplex without presolve can
            h.setOptionValue("presolve", "off")
            h.clearSolver()
            go(None)
            h.setOptionValue("presolve", "choose")
        h.setOptionValue("simplex_iteration_limit", 2_147_483_647)
        if method != "warm" and not mip:
            self.cold_iterations = int(h.getInfo().simplex_iteration_count)
        out = hb.read_output(h, self.model, start, ranging=False)
        if out.status in (Status.ERROR, Status.UNBOUNDED):
            h.clearSolver()  # do not start the next solve from here
        self._mip_start = out.values if (mip and out.values is not None) else None
        return out, method, (None if mip else iterations)

    _mip_start = None

    def ranges(self):
        return self._hb._ranges(self.h, self.model.num_rows)


def _coefficient_changes(old: sp.csr_array, new: sp.csr_array, slots: np.ndarray | None):
    """``(rows, cols, values)`` of the coefficients of ``new`` that differ from ``old``
    (a value of 0 deletes one)."""
    if new is old:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    same = (old.indptr is new.indptr or np.array_equal(old.indptr, new.indptr)) and \
        (old.indices is new.indices or np.array_equal(old.indices, new.indices))
    if same:
        pos = np.arange(len(new.data)) if slots is None else slots
        pos = pos[new.data[pos] != old.data[pos]]
        rows = np.searchsorted(new.indptr, pos, side="right") - 1
        return rows.astype(np.int64), new.indices[pos].astype(np.int64), new.data[pos]
    diff = (new - old).tocoo()
    diff.eliminate_zeros()
    r, c = diff.row.astype(np.int64), diff.col.astype(np.int64)
    # entries present in both with the same value cancel; those that changed, appeared or
    # vanished remain: their new value (0 for a vanished one)
    vals = np.asarray(new[r, c]).ravel() if len(r) else np.zeros(0)
    return r, c, vals
