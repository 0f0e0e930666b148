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

from .changes import BASE, Changes
from .session import WarmModel, WarmSolution, warm_start

__all__ = ["BASE", "Changes", "WarmModel", "WarmSolution", "warm_start"]
