"""Assemble a :class:`Result` from the scenario, the model and what the solver returned."""

from __future__ import annotations

import math

import numpy as np

from .. import __version__
from ..backends.base import SolverOutput, Status
from ..load import Scenario
from ..model import LinearModel
from . import check as check_mod
from . import costs, tables, worth
from .result import Result


def _round(v: float | None, digits: int = 6) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), digits) + 0.0


def build_result(scenario: Scenario, model: LinearModel, out: SolverOutput,
                 duals: np.ndarray | None, *, mode: str, backend: str, version: str,
                 ranges: tuple[np.ndarray, np.ndarray] | None = None) -> Result:
    inst = scenario.instance
    base = costs.baseline(inst)
    summary: dict = {
        "status": out.status.value,
        "scenario": scenario.name,
        "currency": scenario.config.currency,
        "objective": None,
        "baseline_cost": _round(base["total"], 2),
        "savings": None,
        "cost": None,
        "quality": None,
        "solver": {"backend": backend, "mode": mode, "seconds": round(out.seconds, 3),
                   "gap": _round(out.gap, 9), "version": version, "message": out.message},
        "model": {"variables": model.num_cols, "constraints": model.num_rows,
                  "nonzeros": model.num_nonzeros,
                  "integer_variables": int(model.col_integer.sum()) if mode != "lp" else 0},
        "input_sha256": scenario.input_sha256,
        "inputs": [{"path": f.path, "sha256": f.sha256} for f in scenario.files],
        "overrides": list(scenario.overrides),
        "version": __version__,
    }
    if not out.status.has_solution:
        return Result(status=out.status, objective=None, summary=summary)

    v = out.values
    x = v[model.block("x")]
    y = np.full(len(inst.demand), np.nan)
    opt = np.flatnonzero(inst.demand["optional"].to_numpy(bool))
    y[opt] = v[model.block("y")]
    running = np.full(len(inst.providers), np.nan)
    o_cols = model.col_meta.iloc[model.block("o")]
    running[_index_of(inst.providers["provider"], o_cols["provider"])] = v[model.block("o")]
    k = np.zeros(len(inst.resources))
    k_cols = model.col_meta.iloc[model.block("k")]
    k[_index_of(inst.resources["resource"], k_cols["resource"])] = v[model.block("k")]

    parts = costs.breakdown(inst, x, np.nan_to_num(running), k)
    verdict = check_mod.check(inst, x, y, running, k, integral=(mode != "lp"))
    used = check_mod._resource_use(inst, x)
    allocation = tables.allocation(inst, x)
    summary["objective"] = _round(out.objective, 2)
    summary["savings"] = _round(base["total"] - out.objective, 2)
    summary["cost"] = {p: _round(parts[p], 2) for p in costs.PARTS}
    summary["quality"] = tables.quality_achieved(inst, x)
    summary["check"] = {
        "max_violation": float(f"{verdict.max_violation:.3g}"),
        "worst": verdict.worst,
        "objective_recomputed": _round(verdict.objective, 2),
        "allocation_cost": _round(float(allocation["cost"].sum()), 2),
    }
    summary["make_share"] = _make_share(allocation)
    summary["solver"]["bound"] = _round(out.bound, 2)
    return Result(
        status=out.status,
        objective=out.objective,
        summary=summary,
        allocation=allocation,
        constraints=worth.annotate(tables.constraints(model, v, duals, ranges), scenario,
                                   x, mode),
        resources=tables.resources(inst, used, k),
    )


def _index_of(names, wanted) -> np.ndarray:
    import pandas as pd

    return pd.Index(names).get_indexer(wanted)


def _make_share(allocation) -> dict[str, float | None]:
    """Share of volume delivered by make providers, per pathway."""
    g = allocation.assign(made=np.where(allocation["mode"] == "make", allocation["volume"], 0.0))
    g = g.groupby("pathway", sort=False)[["made", "volume"]].sum()
    return {str(p): (_round(r["made"] / r["volume"], 6) if r["volume"] > 0 else None)
            for p, r in g.iterrows()}


__all__ = ["build_result", "Status"]
