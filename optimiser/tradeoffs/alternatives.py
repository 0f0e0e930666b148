r"""Near-optimal alternatives (SPEC section 8): plans that cost at most ``(1 + within)`` times
the optimum and differ as much as possible from it and from each other.

The method is Modelling to Generate Alternatives in its Hop-Skip-Jump form (Brill, Chang and
Hopkins 1982), iterated on the arcs' volumes:

1. **Plan 0** is the ordinary solve (:func:`optimiser.solve`, so it is written exactly like
   ``carepath solve`` writes it); its total cost is ``C*``.
2. **Cost cap.** One row is added to the model:
   ``obj @ v + obj_offset <= cap``, ``cap = C* + within * |C*|`` (``(1 + within) * C*`` for
   the usual ``C* >= 0``). Every other row, bound and integrality stays as it is (``milp``:
   running indicators binary and staff increments whole; ``lp``: the relaxation).
3. **Plan k = 1 .. K** minimises its overlap with every earlier plan, under the cap:

   .. math::

      \min_v \; \sum_{a,t} w^{(k)}_{a,t}\, x_{a,t}
            \;+\; \tau \frac{V}{\max(|C^*|, 1)}\,(\mathrm{obj} \cdot v),
      \qquad
      w^{(k)}_{a,t} = \sum_{j=0}^{k-1} \frac{x^{(j)}_{a,t}}{d^{\max}_{a,t}}

   where ``a`` runs over the arcs (locality, pathway, step, provider), ``t`` over the years,
   ``x^{(j)}`` is plan j's volume and ``d^max`` the largest possible demand of the arc's
   step in that year (SPEC 3's ``N * per_patient``, ``N * max`` for an optional step). So
   ``w`` is the share of its step the arc carried, summed over the earlier plans: an arc
   that no earlier plan used costs nothing, and one every plan used fully costs ``k`` per
   activity. Expansion steps, running indicators and payments are free to follow the
   volumes. The second term breaks ties towards the cheaper plan: ``V`` is plan 0's total
   volume and ``tau = 1e-4`` (:data:`TIE_BREAK`), so over the capped region (whose costs
   span at most ``within * |C*|``) it can cost at most ``tau * within * V`` of overlap,
   i.e. a ``2e-6`` share of the volume at ``within = 0.02``.
4. **Stop early** when plan k repeats an earlier plan (every arc's volume within
   ``1e-6 * max(1, d^max)``, :data:`SAME`): the weights then only grow on arcs already
   used, and nothing new is found. Also when a search ends without a plan (time limit,
   solver failure). Fewer than K alternatives are then returned, with a note saying why.

Each plan k >= 1 is then evaluated like a solve: :func:`~optimiser.results.build.build_result`
on the original model (without the cap), so its objective, cost parts and independent check
are its true costs. Shadow prices are left empty for those plans: a plan that is not the
cheapest has no prices of its own.

``cp`` mode is refused: CP-SAT rounds the objective to whole pence per activity, which would
erase the overlap weights (shares of a step, well under a penny per activity), and
scaling them up would change what the mode means. Use ``milp`` (same whole services and
staff increments, volumes continuous).

Outputs (:meth:`Alternatives.write`): ``plan_0`` (the optimum), ``plan_1`` ... each with the
files a solve writes (``summary.json`` gains ``alternative``), plus ``alternatives.csv``
(one row per plan) and ``differences.csv`` (volume per year, locality, pathway, step and
provider in each plan, only where some plan differs from plan 0).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..backends import SolverOutput, Status, get_backend
from ..backends.base import objective_of
from ..errors import ConfigError, SolveFailed
from ..load import Scenario
from ..model import LinearModel, text
from ..results.result import OUTPUT_FILES, Result, folder_lock, write_atomic

TIE_BREAK = 1e-4
"""Weight of the cost in an alternative's objective, relative to its overlap (see the module
docstring)."""
SAME = 1e-6
"""Two plans are the same when every arc's volumes differ by at most ``SAME * max(1, d^max)``
(its step's largest demand); ``differences.csv`` keeps the rows that differ by more."""
MODES = ("lp", "milp")

SUMMARY_COLUMNS = ["plan", "status", "objective", "cost_vs_optimum", "overlap_with_optimum",
                   "distance", "make_share", "services_running", "services"]
TABLE_FILES = ("alternatives.csv", "differences.csv")


@dataclass(frozen=True)
class Alternatives:
    """What :func:`alternatives` returns.

    ``summary`` (``alternatives.csv``) has one row per plan: ``plan`` (0 is the optimum),
    ``status``, ``objective`` (its true total cost), ``cost_vs_optimum`` (fraction above the
    optimum), ``overlap_with_optimum`` (``sum min(x, x*) / sum x*``: the share of the
    optimum's volume left on the same arcs), ``distance`` (``sum |x - x*| / 2 / sum x*``:
    the share moved), ``make_share`` (share of all volume made in-house),
    ``services_running`` (how many make providers have volume) and ``services`` (their
    names). ``differences`` (``differences.csv``) has ``year`` (multi-year plans),
    ``locality``, ``pathway``, ``step``, ``provider`` and the volume in each plan
    (``plan_0``, ``plan_1``, ...), for the arcs where some plan differs from plan 0.
    ``plans`` holds each plan's full :class:`~optimiser.results.result.Result`.
    """

    summary: pd.DataFrame
    differences: pd.DataFrame
    plans: tuple[Result, ...]
    within: float
    requested: int
    """How many alternatives were asked for (``count``)."""
    cost_cap: float | None
    """The cost no alternative exceeds; None when there is no optimum."""
    note: str = ""
    """Why fewer than ``requested`` alternatives were found (empty when all were)."""

    @property
    def optimum(self) -> Result:
        return self.plans[0]

    @property
    def status(self) -> Status:
        """The optimum's status: whether the scenario has a plan at all."""
        return self.plans[0].status

    @property
    def found(self) -> int:
        """Alternatives found (plans other than the optimum)."""
        return len(self.plans) - 1

    def write(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """``plan_0``, ``plan_1``, ... (each as :meth:`Result.write`), ``alternatives.csv`` and
        ``differences.csv`` in ``out_dir``; ``plan_N`` folders left by an earlier run with
        more plans are cleared of their output files (and removed when then empty)."""
        from ..results.csvout import tables_to_csv

        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for k, plan in enumerate(self.plans):
            written += plan.write(folder / f"plan_{k}")
        files = tables_to_csv({"alternatives.csv": self.summary,
                               "differences.csv": self.differences})
        with folder_lock(folder):
            written += [write_atomic(folder / name, data) for name, data in files.items()]
            for stale in folder.glob("plan_*"):
                m = re.fullmatch(r"plan_(\d+)", stale.name)
                if m and int(m.group(1)) >= len(self.plans) and stale.is_dir():
                    _clear_plan_folder(stale)
        return written


def alternatives(
    scenario: Scenario,
    count: int = 3,
    within: float = 0.02,
    *,
    mode: str | None = None,
    backend: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
) -> Alternatives:
    """Up to ``count`` plans costing at most ``(1 + within)`` times the optimum that differ as
    much as possible from the optimum and from each other (see the module docstring).

    ``mode`` is ``lp`` or ``milp`` (default the config's; ``cp`` is refused); ``backend``,
    ``time_limit`` (per solve), ``mip_gap`` and ``threads`` as for :func:`optimiser.solve`.
    Raises ValueError for a ``count`` below 1, a ``within`` outside [0, 1] or an explicit
    ``mode`` it cannot use, :class:`ConfigError` when the config's ``solve.mode`` is ``cp``.
    When the scenario has no plan (infeasible, time limit), ``plans`` holds only that
    result, with its diagnosis, and ``status`` says so: no exception.
    """
    from ..api import choose_backend, solve, solve_options

    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a whole number of at least 1, got {count!r}")
    try:
        within = float(within)
    except (TypeError, ValueError):
        raise ValueError(f"within must be a fraction in [0, 1], got {within!r}") from None
    if not 0.0 <= within <= 1.0:
        raise ValueError(f"within must be a fraction in [0, 1] (0.02 allows 2% above the "
                         f"optimum), got {within!r}")
    opts = scenario.config.solve
    if mode is not None and mode not in MODES:
        raise ValueError(f"alternatives works in mode 'lp' or 'milp', not {mode!r}" + _CP_WHY
                         if mode == "cp" else f"unknown mode {mode!r}; use 'lp' or 'milp'")
    mode = mode or opts.mode
    if mode not in MODES:
        raise ConfigError([scenario.document.issue(
            ("solve", "mode"), f"alternatives works in mode 'lp' or 'milp', not '{mode}'"
            + (_CP_WHY + "; pass --mode milp" if mode == "cp" else ""))])
    count = int(count)

    first = solve(scenario, mode=mode, backend=backend, time_limit=time_limit,
                  mip_gap=mip_gap, threads=threads)
    if not first.solved:
        return Alternatives(summary=_summary_table([first], None, None), differences=_empty(),
                            plans=(first,), within=within, requested=count, cost_cap=None,
                            note=f"the scenario has no plan ({first.status.value})")

    from ..compile import compile_model
    from ..results.build import build_result

    inst = scenario.instance
    T = inst.years.count
    name = choose_backend(mode, backend, opts.backend)
    solver = get_backend(name)
    options = solve_options(opts, time_limit, mip_gap, threads)
    model = compile_model(inst)
    problem = model.relaxed() if mode == "lp" else model
    xs = problem.block("x")
    dem = inst.arcs["dem"].to_numpy(np.int64)
    dmax = np.concatenate([inst.at_year(t).demand["dmax"].to_numpy(float)[dem] for t in range(T)])
    share = np.divide(1.0, dmax, out=np.zeros_like(dmax), where=dmax > 0)
    same = SAME * np.maximum(1.0, dmax)

    best = float(first.objective)
    cap = best + within * abs(best)
    x_star = first.allocation["volume"].to_numpy(float)
    if len(x_star) != xs.stop - xs.start:  # pragma: no cover - allocation is one row per column
        raise SolveFailed("plan 0's allocation does not match the model's flow columns")
    volume = float(x_star.sum())
    capped = _with_cost_cap(problem, cap)
    tie = TIE_BREAK * volume / max(abs(best), 1.0) * problem.obj

    plans: list[Result] = [first]
    flows = [x_star]
    weights = np.zeros_like(x_star)
    note = ""
    if volume <= 0:
        note = "plan 0 has no volume to move"
    for k in range(1, count + 1):
        if note:
            break
        weights = weights + flows[-1] * share
        obj = tie.copy()
        obj[xs] += weights
        started = time.perf_counter()
        try:
            out = solver.solve(replace(capped, obj=obj, obj_offset=0.0), options)
        except SolveFailed as exc:
            note = f"the search for plan {k} failed: {exc}"
            break
        if not out.status.has_solution:
            note = f"the search for plan {k} ended {out.status.value}" + (
                f" ({out.message})" if out.message else "")
            break
        x = out.values[xs]
        repeat = next((j for j, xj in enumerate(flows) if np.all(np.abs(x - xj) <= same)), None)
        if repeat is not None:
            note = f"plan {k} would repeat plan {repeat}"
            break
        evaluated = SolverOutput(out.status, objective_of(problem, out.values), out.values,
                                 None, None, None, time.perf_counter() - started,
                                 out.message, None, out.load_seconds)
        result = build_result(scenario, problem, evaluated, None, mode=mode, backend=name,
                              version=solver.version())
        result.summary["warnings"] = list(first.summary.get("warnings", []))
        plans.append(result)
        flows.append(result.allocation["volume"].to_numpy(float))
    if note and len(plans) - 1 < count:
        note = f"{note}; found {len(plans) - 1} of {count} alternatives"
    else:
        note = ""
    summary = _summary_table(plans, best, x_star)
    for k, plan in enumerate(plans):
        row = summary.iloc[k]
        plan.summary["alternative"] = {
            "plan": k, "of": len(plans) - 1, "within": within,
            "optimum": _round(best, 2), "cost_cap": _round(cap, 2),
            "cost_vs_optimum": _round(row["cost_vs_optimum"], 9),
            "overlap_with_optimum": _round(row["overlap_with_optimum"], 9),
            "distance": _round(row["distance"], 9),
        }
    return Alternatives(summary=summary, differences=_differences(plans, same),
                        plans=tuple(plans), within=within, requested=count, cost_cap=cap,
                        note=note)


_CP_WHY = (" (cp rounds the objective to whole pence per activity, which erases the "
           "overlap weights)")


def _with_cost_cap(model: LinearModel, cap: float) -> LinearModel:
    """The model with one more row, ``cost_cap``: ``obj @ v <= cap - obj_offset``."""
    import scipy.sparse as sp

    nz = np.flatnonzero(model.obj)
    row = sp.csr_array((model.obj[nz], (np.zeros(len(nz), dtype=np.int64), nz)),
                       shape=(1, model.num_cols))
    meta = pd.DataFrame({c: text([None]) for c in model.row_meta.columns if c != "year"})
    meta["name"] = text(["cost_cap"])
    meta["kind"] = text(["cost_cap"])
    meta["year"] = np.zeros(1, dtype=np.int64)
    return replace(
        model,
        A=sp.csr_array(sp.vstack([model.A, row], format="csr")),
        row_lb=np.append(model.row_lb, -np.inf),
        row_ub=np.append(model.row_ub, cap - model.obj_offset),
        row_meta=pd.concat([model.row_meta, meta[model.row_meta.columns]], ignore_index=True),
    )


def _round(v, digits: int):
    return None if v is None or not np.isfinite(v) else round(float(v), digits) + 0.0


def _summary_table(plans: list[Result], best: float | None, x_star: np.ndarray | None) -> pd.DataFrame:
    rows = []
    for k, plan in enumerate(plans):
        row = {"plan": k, "status": plan.status.value, "objective": plan.objective,
               "cost_vs_optimum": np.nan, "overlap_with_optimum": np.nan, "distance": np.nan,
               "make_share": np.nan, "services_running": 0, "services": ""}
        if plan.solved and best is not None:
            a = plan.allocation
            x = a["volume"].to_numpy(float)
            total = float(x_star.sum())
            row["objective"] = round(float(plan.objective), 2) + 0.0
            row["cost_vs_optimum"] = ((plan.objective - best) / abs(best)) if best else 0.0
            row["overlap_with_optimum"] = float(np.minimum(x, x_star).sum()) / total if total else 1.0
            row["distance"] = float(np.abs(x - x_star).sum()) / 2 / total if total else 0.0
            made = (a["mode"] == "make").to_numpy(bool)
            row["make_share"] = float(x[made].sum() / x.sum()) if x.sum() > 0 else np.nan
            running = list(dict.fromkeys(a["provider"].to_numpy(object)[made & (x > 1e-9)].tolist()))
            row["services_running"] = len(running)
            row["services"] = " ".join(running)
        rows.append(row)
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for c in ("cost_vs_optimum", "overlap_with_optimum", "distance", "make_share"):
        out[c] = out[c].astype(float).round(9) + 0.0
    out["status"] = text(out["status"].tolist())
    out["services"] = text(out["services"].tolist())
    return out


def _keys(plans: list[Result]) -> pd.DataFrame:
    a = plans[0].allocation
    cols = (["year"] if "year" in a else []) + ["locality", "pathway", "step", "provider"]
    return a[cols].reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: text([]) for c in ("locality", "pathway", "step", "provider")})


def _differences(plans: list[Result], same: np.ndarray) -> pd.DataFrame:
    """Volume per arc (and year) in each plan, where some plan differs from plan 0."""
    keys = _keys(plans)
    vols = np.column_stack([p.allocation["volume"].to_numpy(float) for p in plans])
    differs = (np.abs(vols - vols[:, :1]) > same[:, None]).any(axis=1)
    out = keys.iloc[np.flatnonzero(differs)].reset_index(drop=True)
    for k in range(len(plans)):
        out[f"plan_{k}"] = vols[differs, k]
    return out


def _clear_plan_folder(folder: Path) -> None:
    """Remove a stale plan folder's output files, and the folder when nothing else is in it."""
    for name in OUTPUT_FILES:
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass
    staging = folder.parent / f".{folder.name}.carepath-staging"
    if staging.is_dir() and not any(staging.iterdir()):
        shutil.rmtree(staging, ignore_errors=True)
    try:
        folder.rmdir()
    except OSError:
        pass


# ---------------------------------------------------------------------------------------
# the terminal's view


def moves(alts: Alternatives, plan: int) -> list[dict]:
    """How plan ``plan`` differs from plan 0, as moves of volume between providers within a
    step (volumes summed over the years): each ``{locality, pathway, step, from, to,
    volume}``, ``from`` or ``to`` None where uptake of an optional step (or the demand it
    avoids) grew or shrank instead. Largest first."""
    a0 = alts.plans[0].allocation
    ak = alts.plans[plan].allocation
    key = ["locality", "pathway", "step", "provider"]
    frame = a0[key].assign(delta=ak["volume"].to_numpy(float) - a0["volume"].to_numpy(float))
    frame = frame.groupby(key, sort=False, as_index=False)["delta"].sum()
    out: list[dict] = []
    for (loc, pw, st), g in frame.groupby(["locality", "pathway", "step"], sort=False):
        d = g["delta"].to_numpy(float)
        prov = g["provider"].tolist()
        tol = 1e-6 * max(1.0, float(np.abs(d).max()) if len(d) else 1.0)
        gains = sorted(((v, p) for v, p in zip(d, prov) if v > tol), key=lambda t: -t[0])
        losses = sorted(((-v, p) for v, p in zip(d, prov) if v < -tol), key=lambda t: -t[0])
        gi = li = 0
        gains = [list(t) for t in gains]
        losses = [list(t) for t in losses]
        while gi < len(gains) and li < len(losses):
            amount = min(gains[gi][0], losses[li][0])
            out.append({"locality": loc, "pathway": pw, "step": st, "from": losses[li][1],
                        "to": gains[gi][1], "volume": amount})
            gains[gi][0] -= amount
            losses[li][0] -= amount
            if gains[gi][0] <= tol:
                gi += 1
            if losses[li][0] <= tol:
                li += 1
        out += [{"locality": loc, "pathway": pw, "step": st, "from": None, "to": p, "volume": v}
                for v, p in gains[gi:] if v > tol]
        out += [{"locality": loc, "pathway": pw, "step": st, "from": p, "to": None, "volume": v}
                for v, p in losses[li:] if v > tol]
    out.sort(key=lambda m: -m["volume"])
    return out


def _count(v: float) -> str:
    return f"{v:,.0f}" if v >= 9.5 else f"{v:.2g}"


def describe_move(plan: int, m: dict, span: str = "") -> str:
    """``plan 1 moves 1,200 copd.annual_review in north from northshire_acute to north_hub``."""
    what = f"{_count(m['volume'])} {m['pathway']}.{m['step']} in {m['locality']}{span}"
    if m["from"] is None:
        return f"plan {plan} adds {what} at {m['to']}"
    if m["to"] is None:
        return f"plan {plan} drops {what} at {m['from']}"
    return f"plan {plan} moves {what} from {m['from']} to {m['to']}"


def render(alts: Alternatives, out_dir: str | None = None, top: int = 3) -> str:
    """The alternatives as the terminal shows them: one line per plan, then the largest
    differences from the optimum in words."""
    from ..results.text import money, render as render_result

    first = alts.plans[0]
    if not first.solved:
        return render_result(first, out_dir and os.path.join(out_dir, "plan_0"))
    s = first.summary
    cur = s.get("currency", "GBP")
    solver = s["solver"]
    n = alts.found
    lines = [f"{s['scenario']}: {n} alternative{'s' if n != 1 else ''} costing at most "
             f"{100 * alts.within:g}% above the optimum ({solver['mode']} on "
             f"{solver['backend']}; cost cap {money(alts.cost_cap, cur)})"]
    if alts.note:
        lines.append(f"Fewer than asked: {alts.note}.")
    lines.append("")
    lines.append(f"  {'plan':<6}{'cost':>15}{'vs optimum':>12}{'overlap':>9}{'moved':>8}"
                 f"{'made':>7}  services running")
    for r in alts.summary.itertuples():
        vs = "optimum" if r.plan == 0 else f"{100 * r.cost_vs_optimum:+.2f}%"
        lines.append(f"  {r.plan:<6}{money(r.objective, cur):>15}{vs:>12}"
                     f"{r.overlap_with_optimum:>9.0%}{r.distance:>8.0%}"
                     f"{(r.make_share if r.make_share == r.make_share else 0):>7.0%}  "
                     f"{r.services or '-'}")
    if n:
        years = first.summary.get("horizon")
        span = ""
        if years and years.get("years", 1) > 1:
            span = f" over {years['start']}-{years['start'] + years['years'] - 1}"
        lines.append("")
        lines.append("How they differ from the optimum (largest moves; every volume in "
                     "differences.csv):")
        for k in range(1, len(alts.plans)):
            ms = moves(alts, k)
            if not ms:
                lines.append(f"  - plan {k} moves less than one activity")
            for m in ms[:top]:
                lines.append(f"  - {describe_move(k, m, span)}")
            if len(ms) > top:
                lines.append(f"    ... and {len(ms) - top} smaller change"
                             f"{'s' if len(ms) - top != 1 else ''}")
    worst = max((p.summary.get("check", {}).get("max_violation", 0.0) for p in alts.plans),
                default=0.0)
    lines.append("")
    lines.append(f"Independent check of every plan: worst violation {worst:.2g}.")
    if out_dir:
        lines.append(f"Outputs written to {out_dir} (plan_0 to plan_{n}, alternatives.csv, "
                     "differences.csv)")
    return "\n".join(lines)


__all__ = ["Alternatives", "alternatives", "moves", "describe_move", "render", "TIE_BREAK",
           "SAME"]
