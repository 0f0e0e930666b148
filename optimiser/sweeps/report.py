"""A sweep's answers as a table and a summary (SPEC section 8).

``sweep.csv``: one row per scenario, in scenario order: ``scenario``, one column per varied
path (named by the path), ``sample`` and ``prevalence_factor.<pathway>`` (with samples),
``status``, ``objective``, ``baseline_cost``, ``savings``, ``make_share``, ``n_binding``,
``binding`` (the binding limits' names, ``;``-separated), ``budget_breached``,
``cost_without_budget``, ``method``, ``seconds``, ``message``, ``key``.

``sweep_summary.json``: ``scenarios`` (total, and by status), ``objective`` and ``savings``
quantiles over the scenarios with a plan (``min, p05, p10, p25, p50, p75, p90, p95, max,
mean``), ``budget_breach_probability`` (the share of scenarios with a budget whose cheapest
plan costs more than it: no plan within the budget, but one without it), ``binding`` (for
each limit that binds somewhere, the share of scenarios with a plan in which it binds; most
frequent first) and ``binding_by_kind`` (the share in which some limit of that kind binds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .plan import Point
from .spec import Sweep

QUANTILES = {"min": 0.0, "p05": 0.05, "p10": 0.10, "p25": 0.25, "p50": 0.50, "p75": 0.75,
             "p90": 0.90, "p95": 0.95, "max": 1.0}
FIELDS = ["status", "objective", "baseline_cost", "savings", "make_share", "n_binding", "binding",
          "budget_breached", "cost_without_budget", "method", "seconds", "message", "key"]


def table(sweep: Sweep, points: list[Point], records: list[dict]) -> pd.DataFrame:
    """One row per scenario of ``points`` that has a record."""
    by_key = {r["key"]: r for r in records}
    rows = []
    for p in points:
        r = by_key.get(p.key)
        if r is None:
            continue
        row = {"scenario": p.index, **dict(p.grid)}
        if p.sample is not None:
            row["sample"] = p.sample
            row.update({f"prevalence_factor.{pw}": f for pw, f in p.factors})
        row.update({f: r.get(f) for f in FIELDS})
        row["key"] = p.key
        rows.append(row)
    columns = ["scenario", *(path for path, _ in sweep.axes)]
    if sweep.config.samples is not None:
        columns += ["sample", *(f"prevalence_factor.{p.pathway}" for p in sweep.base.pathways)]
    return pd.DataFrame(rows, columns=columns + FIELDS)


def _quantiles(v: np.ndarray) -> dict | None:
    if not len(v):
        return None
    out = {k: float(np.quantile(v, q)) for k, q in QUANTILES.items()}
    out["mean"] = float(v.mean())
    return {k: round(x, 2) for k, x in out.items()}


def summary(sweep: Sweep, frame: pd.DataFrame, settings: dict) -> dict:
    solved = frame[frame["status"].isin(["optimal", "feasible"])]
    counts = frame["status"].value_counts()
    with_budget = frame[frame["budget_breached"].notna()]
    binds: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for names in solved["binding"].fillna(""):
        listed = [n for n in str(names).split(";") if n]
        for n in listed:
            binds[n] = binds.get(n, 0) + 1
        for k in {n.split("[", 1)[0] for n in listed}:
            kinds[k] = kinds.get(k, 0) + 1
    n = max(len(solved), 1)
    return {
        "sweep": sweep.file,
        "base": sweep.base_path,
        "scenario": sweep.base.name,
        "currency": sweep.base.config.currency,
        "settings": settings,
        "varied": {path: list(values) for path, values in sweep.axes},
        "samples": sweep.config.samples.model_dump() if sweep.config.samples else None,
        "scenarios": {"total": int(len(frame)), **{str(k): int(v) for k, v in counts.items()}},
        "objective": _quantiles(solved["objective"].to_numpy(float)),
        "savings": _quantiles(solved["savings"].to_numpy(float)),
        "budget_breach_probability": (round(float(with_budget["budget_breached"].astype(bool).mean()), 6)
                                      if len(with_budget) else None),
        "binding": {k: round(v / n, 6) for k, v in sorted(binds.items(), key=lambda kv: (-kv[1], kv[0]))},
        "binding_by_kind": {k: round(v / n, 6) for k, v in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))},
        "input_sha256": {"sweep": sweep.sha256, "base": sweep.base.input_sha256},
    }


def write(folder, frame: pd.DataFrame, summary_: dict, sweep: Sweep, *, plots: bool = True) -> list:
    """``sweep.csv``, ``sweep_summary.json`` and (with ``plots``) the PNG charts, each written
    atomically into ``folder``."""
    import json
    from pathlib import Path

    from ..results.result import write_atomic

    folder = Path(folder)
    written = [
        write_atomic(folder / "sweep.csv", frame.to_csv(index=False, float_format="%.10g").encode()),
        write_atomic(folder / "sweep_summary.json",
                     (json.dumps(summary_, indent=2, allow_nan=False, default=_json) + "\n").encode()),
    ]
    if plots:
        from .plots import write_plots

        written += write_plots(folder, frame, summary_, sweep)
    return written


def _json(v):
    if hasattr(v, "item"):
        return v.item()
    raise TypeError(type(v).__name__)
