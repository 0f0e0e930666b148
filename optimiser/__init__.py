"""carepath: make-or-buy optimisation of care pathways for commissioners.

>>> import optimiser
>>> scenario = optimiser.load("configs/northshire.yaml")   # validated, or ConfigError
>>> result = optimiser.solve(scenario, mode="milp", backend="highs")
>>> result.status, result.objective, result.allocation      # doctest: +SKIP
>>> result.write("out/")                                    # doctest: +SKIP
>>> session = optimiser.warm_start(scenario, mode="lp")      # compile once, re-solve changes
>>> session.solve(budget=40_000_000).objective               # doctest: +SKIP
>>> optimiser.sweep("sweeps/budget_and_demand.yaml").table  # grid x samples   # doctest: +SKIP
>>> optimiser.frontier(scenario), optimiser.alternatives(scenario)           # doctest: +SKIP
"""

import time as _time

_IMPORT_STARTED = _time.perf_counter()
"""When the package began importing (``carepath solve --timings`` reports import time)."""

__version__ = "0.1.0"

from .api import solve, warm_start  # noqa: E402
from .backends.base import Status  # noqa: E402
from .errors import CarepathError, ConfigError, Issue, SolveFailed, SolverUnavailable  # noqa: E402
from .load import Scenario, load  # noqa: E402
from .results.result import Result  # noqa: E402
from .sweeps import SweepResult, sweep  # noqa: E402
from .tradeoffs.alternatives import Alternatives, alternatives  # noqa: E402
from .tradeoffs.frontier import frontier  # noqa: E402
from .warm import Changes, WarmModel, WarmSolution  # noqa: E402

__all__ = ["load", "solve", "warm_start", "sweep", "SweepResult", "frontier", "alternatives",
           "Alternatives",
           "Changes", "WarmModel", "WarmSolution", "Scenario",
           "Result", "Status", "ConfigError", "Issue", "CarepathError", "SolverUnavailable",
           "SolveFailed", "__version__"]
