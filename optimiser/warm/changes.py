"""What a warm re-solve may change: :class:`Changes` (see :mod:`optimiser.warm`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
