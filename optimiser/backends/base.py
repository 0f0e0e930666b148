"""One interface for every solver backend: capabilities as data, statuses as an enum.

A backend receives a :class:`~optimiser.model.LinearModel` and :class:`SolveOptions` and
returns a :class:`SolverOutput`. The model's integrality decides LP or MIP; ``lp`` mode
passes the relaxation. A backend never reports values it did not get from a solution:
``values`` is ``None`` unless ``status.has_solution``.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..model import LinearModel


class Status(enum.Enum):
    """How a solve ended (``summary.json``'s ``status``)."""

    OPTIMAL = "optimal"
    """Proven optimal (for a MIP: within the configured gap)."""
    FEASIBLE = "feasible"
    """Stopped at a limit with a feasible solution, optimality not proven."""
    INFEASIBLE = "infeasible"
    """No plan satisfies every constraint."""
    TIME_LIMIT = "time_limit"
    """Stopped at the time limit without any feasible solution."""
    UNBOUNDED = "unbounded"
    """The cost can decrease without limit (a modelling error)."""
    ERROR = "error"
    """The solver failed."""

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, declared as data (the registry and tests read it)."""

    lp: bool
    milp: bool
    duals: bool
    """Row duals of an LP."""
    time_limit: bool
    mip_gap: bool
    reports_bound: bool
    """Reports a MIP dual bound (so the achieved gap is known)."""
    cp: bool = False
    """Solves SPEC's ``cp`` mode (whole activities, money in pence)."""
    deterministic: bool = True
    """Same inputs and options give the same answer."""


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float | None = None
    """Seconds; None for no limit."""
    mip_gap: float = 1e-6
    """Relative gap at which a MIP counts as solved."""
    threads: int | None = None
    seed: int = 0
    """Fixed random seed, so that the same inputs give the same answer."""


@dataclass(frozen=True)
class SolverOutput:
    status: Status
    objective: float | None
    """``obj @ values + obj_offset`` as recomputed from the values, when there is a solution."""
    values: np.ndarray | None
    row_duals: np.ndarray | None
    """d(objective)/d(row bound) of an LP, when the backend gives duals."""
    bound: float | None
    gap: float | None
    seconds: float
    message: str = ""
    row_ranges: tuple[np.ndarray, np.ndarray] | None = None
    """For an LP with duals, per row the interval of its active limit over which the dual
    stays valid (simplex ranging), when the backend gives it."""
    load_seconds: float = 0.0
    """Of ``seconds``, the time spent handing the model to the solver (when measured)."""


class Backend(ABC):
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    @classmethod
    @abstractmethod
    def version(cls) -> str:
        """Version of the solver (and its wrapper)."""

    @abstractmethod
    def solve(self, model: LinearModel, options: SolveOptions) -> SolverOutput:
        """Solve ``model`` (a MIP when it has integer columns)."""


def objective_of(model: LinearModel, values: np.ndarray) -> float:
    return float(model.obj @ values + model.obj_offset)


def max_violation(model: LinearModel, values: np.ndarray) -> float:
    """Largest violation of a row or bound by ``values``, relative to the size of the row
    (max of 1, its limit and the sum of its terms' magnitudes: a solver's printed digits
    cannot do better than that)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # infinite limits are masked out
        return _max_violation(model, values)


def _max_violation(model: LinearModel, values: np.ndarray) -> float:
    act = model.A @ values
    size = abs(model.A) @ np.abs(values)
    lo = np.where(np.isfinite(model.row_lb),
                  (model.row_lb - act) / np.maximum.reduce([np.ones_like(act), np.abs(model.row_lb), size]), 0)
    hi = np.where(np.isfinite(model.row_ub),
                  (act - model.row_ub) / np.maximum.reduce([np.ones_like(act), np.abs(model.row_ub), size]), 0)
    clo = np.where(np.isfinite(model.col_lb), (model.col_lb - values) / np.maximum(1, np.abs(model.col_lb)), 0)
    chi = np.where(np.isfinite(model.col_ub), (values - model.col_ub) / np.maximum(1, np.abs(model.col_ub)), 0)
    parts = [a.max() for a in (lo, hi, clo, chi) if len(a)]
    return float(max(0.0, *parts)) if parts else 0.0
