"""Solver backends, declared as data: name, import path, modes, capabilities.

Backends are imported only when used, so a missing optional solver never breaks the
others (and highspy and ortools are never imported together by accident).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..errors import SolverUnavailable
from .base import Backend, Capabilities, SolveOptions, SolverOutput, Status

__all__ = ["Backend", "Capabilities", "SolveOptions", "SolverOutput", "Status", "REGISTRY",
           "get_backend", "available_backends", "backend_for"]


@dataclass(frozen=True)
class BackendInfo:
    name: str
    module: str
    cls: str
    modes: tuple[str, ...]
    description: str


REGISTRY: dict[str, BackendInfo] = {
    "highs": BackendInfo("highs", "optimiser.backends.highs", "HighsBackend", ("lp", "milp"),
                         "HiGHS via highspy (default)"),
    "cbc": BackendInfo("cbc", "optimiser.backends.cbc", "CbcBackend", ("lp", "milp"),
                       "COIN-OR CBC (MILP) and CLP (LP) via PuLP"),
    "cpsat": BackendInfo("cpsat", "optimiser.backends.cpsat", "CpSatBackend", ("cp",),
                         "OR-Tools CP-SAT (whole activities, money in pence)"),
    "glop": BackendInfo("glop", "optimiser.backends.glop", "GlopBackend", ("lp",),
                        "OR-Tools GLOP simplex"),
}


def backend_for(mode: str, preferred: str) -> str:
    """``preferred`` when it solves ``mode``, else the first registered backend that does."""
    if preferred in REGISTRY and mode in REGISTRY[preferred].modes:
        return preferred
    return next((n for n, i in REGISTRY.items() if mode in i.modes), preferred)


def get_backend(name: str) -> Backend:
    """An instance of the named backend; SolverUnavailable lists the ones that work."""
    info = REGISTRY.get(name)
    if info is None:
        raise SolverUnavailable(f"unknown backend '{name}'; available: {', '.join(available_backends())}")
    try:
        cls = getattr(importlib.import_module(info.module), info.cls)
    except ImportError as exc:
        raise SolverUnavailable(f"backend '{name}' is not installed ({exc.name or exc}); "
                                f"available: {', '.join(available_backends())}") from None
    return cls()


def available_backends() -> list[str]:
    """Names of backends whose solver module can be imported here."""
    out = []
    for name, info in REGISTRY.items():
        try:
            importlib.import_module(info.module)
        except ImportError:
            continue
        out.append(name)
    return out
