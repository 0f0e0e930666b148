"""Cost against quality: the epsilon-constraint frontier (SPEC section 8, ``carepath frontier``).

One floor parameter ``Q`` is applied to every pathway whose activities all have a quality
score (a pathway keeps its own ``min_quality`` where that is higher, so its floor is
``max(own, Q)``); everything else in the config stays as it is. For each ``Q`` the plan of
least cost is solved with quality >= ``Q`` as a constraint (the epsilon-constraint method):

* **Low end** ``Q0``: the lowest volume-weighted mean quality of any (locality, pathway[,
  year]) of the floored pathways in the cost-optimal plan of the config as written (pairs
  with no volume have no mean and are left out). A floor at ``Q0`` leaves that optimum
  unchanged, so the frontier starts at the config's own optimal cost.
* **High end** ``Q_max``: the best reachable floor, the largest ``Q`` with a feasible plan
  (every other constraint kept). Feasibility only shrinks as ``Q`` rises, so it is found by
  bisection: the upper bound is the smallest, over pairs with demand, of the best quality
  any of the pair's arcs offers; if that bound itself is feasible it is ``Q_max`` exactly,
  else bisection on feasibility stops when the interval is at most ``tolerance`` (1e-4)
  wide and ``Q_max`` is its feasible end (so it lies within 1e-4 below the true value).
  Each probe only asks for a plan (a MIP gap of 100 %), and a feasible probe moves the
  lower end straight to the lowest quality its plan achieves.
* ``points`` floors evenly spaced from ``Q0`` to ``Q_max`` (both included), each solved
  for least cost in the scenario's mode and backend (or those given).
* **Knee**: with floor and cost each scaled to [0, 1] between the first and last feasible
  points, the point furthest below the chord joining them (the largest ``x - y``). There is
  no knee with fewer than three feasible points, when cost does not rise along the
  frontier, or when no point lies more than 0.001 below the chord (a straight or concave
  frontier has no knee).

:func:`frontier` returns the table (``frontier.csv``); :func:`write` writes it and
``frontier.png``; :func:`render` is the terminal summary. matplotlib is imported only when
the chart is drawn.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..load import Scenario
from ..results.result import Result
from ..results.tables import DEFINITIONS

COLUMNS = ["point", "quality_floor", "status", "objective", "savings", "cost_increase",
           "marginal_cost", "make_share", "binding", "knee"]
"""Columns of ``frontier.csv``."""
TOLERANCE = 1e-4
"""Width of the bisection interval at which ``Q_max`` is accepted."""
KNEE_MIN_DISTANCE = 1e-3
"""A knee must lie at least this far below the chord (floor and cost scaled to [0, 1])."""
DEFAULT_POINTS = 11
FILES = ("frontier.csv", "frontier.png")
_GRID = 1e9
"""Floors are rounded down to this many steps per unit (no float dust in the CSV)."""


@dataclass
class Frontier:
    """A computed frontier: the table and what the chart and the summary need."""

    table: pd.DataFrame
    base: Result
    """The config as written, solved (its diagnosis when it has no plan)."""
    scenario: str
    currency: str
    mode: str
    backend: str
    floored: list[str]
    """Pathways the floor parameter applies to."""
    unfloored: list[str]
    """Pathways left as they are: some activity has no quality score."""
    q0: float | None = None
    q_max: float | None = None
    q_max_exact: bool = False
    """``Q_max`` is the upper bound itself (not a bisection result)."""
    config_floor: float | None = None
    """The lowest floor the config sets on a floored pathway (None without one)."""
    config_floors: int = 0
    """How many distinct floors the config sets on the floored pathways."""
    knee: int | None = None
    """``point`` number of the knee."""
    multi_year: bool = False
    probes: int = 0
    """Feasibility solves of the bisection."""
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``computed``, or the base plan's status when the config itself has no plan."""
        return "computed" if self.base.solved else self.base.status.value

    def attrs(self) -> dict:
        """Plain values stored in the returned table's ``attrs``."""
        return {"scenario": self.scenario, "currency": self.currency, "mode": self.mode,
                "backend": self.backend, "status": self.status, "q0": self.q0,
                "q_max": self.q_max, "q_max_exact": self.q_max_exact, "tolerance": TOLERANCE,
                "knee": self.knee, "config_floor": self.config_floor,
                "floored": list(self.floored), "unfloored": list(self.unfloored),
                "multi_year": self.multi_year, "warnings": list(self.warnings)}


def frontier(scenario: Scenario, points: int = DEFAULT_POINTS, *, mode: str | None = None,
             backend: str | None = None, time_limit: float | None = None,
             mip_gap: float | None = None, threads: int | None = None) -> pd.DataFrame:
    """The cost against quality frontier of ``scenario`` as a table (``frontier.csv``'s
    columns, one row per point; see the module docstring for the rules).

    ``attrs`` of the table carry ``q0``, ``q_max``, ``knee`` (its ``point``), ``status``
    (``computed``, or the config's own status, e.g. ``infeasible``, when it has no plan:
    then the table has one row with that status), the currency and the pathways floored.
    Raises ``ValueError`` when ``points`` is not a whole number >= 2, and
    :class:`~optimiser.errors.ConfigError` when no pathway has a quality score on every
    activity (there is no floor to raise).
    """
    return compute(scenario, points, mode=mode, backend=backend, time_limit=time_limit,
                   mip_gap=mip_gap, threads=threads).table


def compute(scenario: Scenario, points: int = DEFAULT_POINTS, *, mode: str | None = None,
            backend: str | None = None, time_limit: float | None = None,
            mip_gap: float | None = None, threads: int | None = None,
            diagnose_infeasible: bool = True) -> Frontier:
    """:func:`frontier` with everything the command line prints and draws."""
    from ..api import solve
    from ..errors import ConfigError

    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise ValueError(f"points must be a whole number >= 2 (both ends of the frontier), "
                         f"got {points!r}")
    points = int(points)
    inst = scenario.instance
    floored, unfloored = floorable(scenario)
    if not floored:
        raise ConfigError([scenario.document.issue(("providers",), (
            "no pathway has a quality score on every activity, so there is no quality floor "
            "to raise; give providers a quality default"))])

    def run(s: Scenario, gap: float | None = mip_gap, diagnose: bool = False) -> Result:
        return solve(s, mode=mode, backend=backend, time_limit=time_limit, mip_gap=gap,
                     threads=threads, diagnose_infeasible=diagnose)

    base = run(scenario, diagnose=diagnose_infeasible)
    solver = base.summary["solver"]
    own = dict(zip(inst.floors["pathway"], inst.floors["floor"].astype(float)))
    at_floor = [own[p] for p in floored if p in own]
    out = Frontier(table=_empty(), base=base, scenario=scenario.name,
                   currency=scenario.config.currency, mode=solver["mode"],
                   backend=solver["backend"], floored=floored, unfloored=unfloored,
                   config_floor=min(at_floor) if at_floor else None,
                   config_floors=len(set(at_floor)),
                   multi_year=inst.years.count > 1)
    if not base.solved:
        out.table = _attach(pd.DataFrame([{**_blank_row(1, math.nan), "status": base.status.value}],
                                          columns=COLUMNS), out)
        return out

    q0 = lowest_quality(base, floored)
    hi = quality_bound(scenario, floored)
    if q0 is None:  # nothing of a floored pathway is delivered: any floor up to the bound
        q0 = hi
    q0 = min(_down(q0), hi)
    out.q0 = q0

    # Q_max: the bound, if feasible; else bisection on feasibility (a plan is enough)
    probe_gap = mip_gap if out.mode == "lp" else 1.0
    undecided = 0

    def feasible(q: float) -> tuple[bool, float]:
        nonlocal undecided
        out.probes += 1
        r = run(at_floor_of(scenario, q, floored), gap=probe_gap)
        if r.solved:
            got = lowest_quality(r, floored)
            return True, q if got is None else max(q, _down(got))
        if r.status.value not in ("infeasible",):
            undecided += 1
        return False, q

    lo = q0
    if hi - lo <= 0:
        q_max, exact = lo, True
    else:
        ok, _ = feasible(hi)
        if ok:
            q_max, exact = hi, True
        else:
            while hi - lo > TOLERANCE:
                mid = _down((lo + hi) / 2)
                if not lo < mid < hi:
                    break
                ok, reached = feasible(mid)
                if ok:
                    lo = mid if reached >= hi else reached
                else:
                    hi = mid
            q_max, exact = lo, False
    if undecided:
        out.warnings.append(f"{undecided} feasibility probe(s) ended without an answer (time "
                            "limit or solver failure): the best reachable floor may be higher "
                            "than found; raise --time-limit")
    out.q_max, out.q_max_exact = q_max, exact

    if q_max - q0 < 1.0 / _GRID:
        floors = [q0]
    else:
        step = (q_max - q0) / (points - 1)
        floors = [q0, *(_down(q0 + i * step) for i in range(1, points - 1)), q_max]
    rows = []
    for i, q in enumerate(floors, start=1):
        rows.append(_row(i, q, run(at_floor_of(scenario, q, floored))))
    table = pd.DataFrame(rows, columns=COLUMNS)
    _derive(table)
    out.knee = knee(table)
    if out.knee is not None:
        table.loc[table["point"] == out.knee, "knee"] = True
    lost = table[~table["status"].isin(["optimal", "feasible"])]
    if len(lost):
        which = ", ".join(f"point {p}: {s}" for p, s in zip(lost["point"], lost["status"]))
        out.warnings.append(f"{len(lost)} point(s) have no plan ({which})")
    out.table = _attach(table, out)
    return out


# --------------------------------------------------------------------------- floors


def floorable(scenario: Scenario) -> tuple[list[str], list[str]]:
    """Pathways (config order) whose arcs all have a quality score, and the others."""
    arcs = scenario.instance.arcs
    known = arcs["quality"].notna().groupby(arcs["pathway"], sort=False).all()
    names = [p.pathway for p in scenario.pathways]
    yes = [p for p in names if bool(known.get(p, False))]
    return yes, [p for p in names if p not in yes]


def at_floor_of(scenario: Scenario, q: float, floored: list[str]) -> Scenario:
    """The scenario with floor ``max(own, q)`` on every pathway in ``floored`` (others keep
    their own floor, if any): the instance's ``floors`` table replaced, nothing else."""
    inst = scenario.instance
    own = dict(zip(inst.floors["pathway"], inst.floors["floor"].astype(float)))
    rows = []
    for p in (pw.pathway for pw in scenario.pathways):
        if p in floored:
            rows.append((p, max(own.get(p, -math.inf), float(q))))
        elif p in own:
            rows.append((p, own[p]))
    floors = pd.DataFrame({"pathway": pd.Series([p for p, _ in rows], dtype=object),
                           "floor": np.array([f for _, f in rows], dtype=float)})
    return replace(scenario, instance=replace(inst, floors=floors))


def lowest_quality(result: Result, floored: list[str]) -> float | None:
    """The lowest volume-weighted mean quality over (locality, pathway[, year]) of the
    floored pathways in a plan; None when none of them has any volume."""
    a = result.allocation
    a = a[a["pathway"].isin(floored)]
    keys = [k for k in ("year", "locality", "pathway") if k in a.columns]
    vol = a["volume"].to_numpy(float)
    g = pd.DataFrame({"qx": a["quality"].to_numpy(float) * vol, "x": vol},
                     index=pd.MultiIndex.from_frame(a[keys])).groupby(level=keys, sort=False).sum()
    g = g[g["x"] > 1e-9]
    if g.empty:
        return None
    return float((g["qx"] / g["x"]).min())


def quality_bound(scenario: Scenario, floored: list[str]) -> float:
    """An upper bound on any reachable floor: the smallest, over (locality, pathway) of the
    floored pathways with demand, of the best quality among the pair's arcs."""
    inst = scenario.instance
    arcs = inst.arcs
    dmax = inst.demand["dmax"].to_numpy(float)[arcs["dem"].to_numpy(np.int64)]
    m = arcs["pathway"].isin(floored).to_numpy() & (dmax > 0)
    if not m.any():
        return 1.0
    best = arcs.loc[m, "quality"].groupby([arcs.loc[m, "locality"], arcs.loc[m, "pathway"]]).max()
    return float(best.min())


def _down(q: float) -> float:
    """``q`` rounded down to the 1e-9 grid (float dust within 1e-15 of a step counts as
    on it)."""
    return math.floor(q * _GRID + 1e-6) / _GRID


# --------------------------------------------------------------------------- table


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def _blank_row(point: int, q: float) -> dict:
    return {"point": point, "quality_floor": q, "status": "", "objective": math.nan,
            "savings": math.nan, "cost_increase": math.nan, "marginal_cost": math.nan,
            "make_share": math.nan, "binding": "", "knee": False}


def _row(point: int, q: float, r: Result) -> dict:
    row = _blank_row(point, q)
    row["status"] = r.status.value
    if not r.solved:
        return row
    s = r.summary
    row["objective"] = s["objective"]
    row["savings"] = s["savings"]
    a = r.allocation
    total = float(a["volume"].sum())
    made = float(a.loc[a["mode"] == "make", "volume"].sum())
    row["make_share"] = round(made / total, 6) if total > 0 else math.nan
    c = r.constraints
    kinds = c["kind"].to_numpy()
    bind = c["binding"].to_numpy(bool) & ~np.isin(kinds, list(DEFINITIONS))
    row["binding"] = ";".join(c["name"].to_numpy(object)[bind].tolist())
    return row


def _derive(table: pd.DataFrame) -> None:
    """``cost_increase`` against the first feasible point and ``marginal_cost`` (d cost /
    d floor) from the previous feasible point."""
    ok = table["objective"].notna().to_numpy()
    if not ok.any():
        return
    cost = table["objective"].to_numpy(float)
    q = table["quality_floor"].to_numpy(float)
    idx = np.flatnonzero(ok)
    inc = np.full(len(table), np.nan)
    inc[idx] = np.round(cost[idx] - cost[idx[0]], 2) + 0.0
    marg = np.full(len(table), np.nan)
    for a, b in zip(idx[:-1], idx[1:]):
        if q[b] > q[a]:
            marg[b] = round((cost[b] - cost[a]) / (q[b] - q[a]), 2) + 0.0
    table["cost_increase"] = inc
    table["marginal_cost"] = marg


def knee(table: pd.DataFrame) -> int | None:
    """The ``point`` furthest below the chord from the first to the last feasible point,
    floor and cost each scaled to [0, 1] between them; None with fewer than three feasible
    points, a cost that does not rise, or no point more than :data:`KNEE_MIN_DISTANCE`
    below the chord."""
    ok = table[table["objective"].notna()]
    if len(ok) < 3:
        return None
    q = ok["quality_floor"].to_numpy(float)
    c = ok["objective"].to_numpy(float)
    dq, dc = q[-1] - q[0], c[-1] - c[0]
    if dq <= 0 or dc <= 1e-9 * max(1.0, abs(c[0])):
        return None
    x, y = (q - q[0]) / dq, (c - c[0]) / dc
    below = (x - y) / math.sqrt(2.0)  # distance below the chord y = x
    below[[0, -1]] = -math.inf
    i = int(np.argmax(below))
    return int(ok["point"].iloc[i]) if below[i] > KNEE_MIN_DISTANCE else None


def _attach(table: pd.DataFrame, out: Frontier) -> pd.DataFrame:
    table = table.astype({"point": int, "quality_floor": float, "objective": float,
                          "savings": float, "cost_increase": float, "marginal_cost": float,
                          "make_share": float, "knee": bool})
    table["status"] = table["status"].astype(object)
    table["binding"] = table["binding"].astype(object)
    table.attrs = out.attrs()
    return table


# --------------------------------------------------------------------------- outputs


def files(f: Frontier) -> dict[str, bytes]:
    """Each output file's name and bytes (the chart only when some point has a plan)."""
    from ..results.csvout import to_csv_bytes

    out = {"frontier.csv": to_csv_bytes(f.table)}
    if f.table["objective"].notna().any():
        out["frontier.png"] = chart(f)
    return out


def write(f: Frontier, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``frontier.csv`` and ``frontier.png`` into ``out_dir``, each atomically, under
    the folder lock a solve uses; a stale chart from an earlier run is removed when this
    one has none."""
    from ..results.result import folder_lock, write_atomic

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = files(f)
    with folder_lock(folder):
        written = [write_atomic(folder / name, body) for name, body in data.items()]
        for name in FILES:
            if name not in data and (folder / name).exists():
                (folder / name).unlink()
    return written


def _money_axis(currency: str, top: float):
    """``(label, formatter)`` for a cost axis: £m, £k or £ by the size of ``top``."""
    from ..results.text import _SYMBOL

    scale, unit = (1e6, "m") if top >= 1e6 else (1e3, "k") if top >= 1e4 else (1.0, "")
    sym = _SYMBOL.get(currency)

    def fmt(v: float, _pos=None) -> str:
        body = f"{v / scale:,.{_decimals(top, scale)}f}{unit}"
        return f"{sym}{body}" if sym else f"{body} {currency}"

    return (f"{sym}{unit}" if sym else f"{unit} {currency}".strip()), fmt


def _decimals(top: float, scale: float) -> int:
    v = top / scale
    return 0 if v >= 100 else 1 if v >= 10 else 2


def chart(f: Frontier) -> bytes:
    """``frontier.png``: total cost against the quality floor, the knee marked and
    annotated, and the config's own floor where it has one (Agg, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from ..results.text import money

    t = f.table[f.table["objective"].notna()]
    q = t["quality_floor"].to_numpy(float)
    c = t["objective"].to_numpy(float)
    unit, fmt = _money_axis(f.currency, float(np.nanmax(np.abs(c))) if len(c) else 0.0)

    fig = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(q, c, "-o", color="#1f5a96", lw=2, ms=5, label="least cost at the floor")
    if len(t) and int(t["point"].iloc[0]) == 1:
        ax.annotate("cost-optimal plan", (q[0], c[0]), xytext=(8, -4), textcoords="offset points",
                    fontsize=8, color="#1f5a96", va="top")
    if f.knee is not None:
        k = t[t["point"] == f.knee].iloc[0]
        kq, kc = float(k["quality_floor"]), float(k["objective"])
        ax.plot([kq], [kc], "o", ms=13, mfc="none", mec="#c0392b", mew=2.2, label="knee")
        after = t[t["point"] > f.knee]
        slope = ""
        if len(after) and pd.notna(after["marginal_cost"].iloc[0]):
            slope = f"\nthen {fmt(after['marginal_cost'].iloc[0] / 100)} per +0.01"
        ax.annotate(f"knee: floor {kq:.4f}\n{money(kc, f.currency)}{slope}", (kq, kc),
                    xytext=(-110, 40), textcoords="offset points", fontsize=9,
                    arrowprops={"arrowstyle": "->", "color": "#c0392b"}, color="#c0392b")
    if f.config_floor is not None:
        several = f.config_floors > 1
        ax.axvline(f.config_floor, color="#7f8c8d", ls=":", lw=1.5,
                   label=f"config's {'lowest ' if several else ''}floor {f.config_floor:g}")
    ax.yaxis.set_major_formatter(FuncFormatter(fmt))
    ax.set_xlabel("quality floor (volume-weighted mean quality, every floored pathway)")
    ax.set_ylabel(f"total cost{' (discounted, all years)' if f.multi_year else ''} ({unit})")
    ax.set_title(f"{f.scenario}: cost against quality ({f.mode} on {f.backend})", fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=9, frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def render(f: Frontier, out_dir: str | None = None) -> str:
    """The terminal summary: the range, one line per point, the knee."""
    from ..results.text import money, render_diagnosis

    cur = f.currency
    lines = [f"{f.scenario}: cost against quality floor, {f.mode} on {f.backend}"]
    if not f.base.solved:
        lines.append({
            "infeasible": "The config itself has no plan (infeasible), so there is no frontier.",
            "time_limit": "No plan of the config itself was found within the time limit, so "
                          "there is no frontier; raise --time-limit.",
        }.get(f.base.status.value, f"The config itself could not be solved "
                                   f"({f.base.status.value}), so there is no frontier."))
        if f.base.diagnosis:
            lines.extend(render_diagnosis(f.base.diagnosis))
        if out_dir:
            lines.append(f"Outputs written to {out_dir}")
        return "\n".join(lines)
    lines.append("Floor raised on " + ", ".join(f.floored)
                 + (f"; not on {', '.join(f.unfloored)} (an activity without a quality score)"
                    if f.unfloored else "") + ".")
    how = "exact" if f.q_max_exact else f"bisection to {TOLERANCE:g}"
    lines.append(f"From {f.q0:.4f} (the lowest quality in the cost-optimal plan) to {f.q_max:.4f} "
                 f"(the best reachable, {how}).")
    lines.append("")
    t = f.table
    lines.append(f"  {'point':>5}  {'floor':>7}  {'status':<9}{'total cost':>15}{'vs first':>13}"
                 f"{'per +0.01':>12}{'make':>7}{'binding':>9}")
    for r in t.itertuples():
        nb = len(r.binding.split(";")) if r.binding else 0
        lines.append(
            f"  {r.point:>5}  {r.quality_floor:>7.4f}  {r.status:<9}"
            f"{money(r.objective, cur) if pd.notna(r.objective) else '-':>15}"
            f"{money(r.cost_increase, cur) if pd.notna(r.cost_increase) else '-':>13}"
            f"{money(r.marginal_cost / 100, cur) if pd.notna(r.marginal_cost) else '-':>12}"
            f"{format(r.make_share, '.0%') if pd.notna(r.make_share) else '-':>7}"
            f"{nb if pd.notna(r.objective) else '-':>9}" + ("  <- knee" if r.knee else ""))
    lines.append("")
    if f.knee is not None:
        k = t[t["point"] == f.knee].iloc[0]
        before = t[(t["point"] <= f.knee) & t["marginal_cost"].notna()]["marginal_cost"]
        after = t[(t["point"] > f.knee) & t["marginal_cost"].notna()]["marginal_cost"]
        text = (f"Knee at point {f.knee}: floor {k['quality_floor']:.4f} for "
                f"{money(k['objective'], cur)} ({money(k['cost_increase'], cur)} above the "
                "first point)")
        if len(before) and len(after):
            text += (f"; each +0.01 of floor costs about {money(before.mean() / 100, cur)} up to "
                     f"it and {money(after.mean() / 100, cur)} beyond")
        lines.append(text + ".")
    elif len(t) >= 3:
        lines.append("No knee: the cost rises about evenly with the floor.")
    for w in f.warnings:
        lines.append(f"warning: {w}")
    if out_dir:
        lines.append(f"Outputs written to {out_dir}")
    return "\n".join(lines)
