"""The sweep's charts (PNG, matplotlib), for people who would rather look than read.

:func:`write_plots` writes, into the sweep's folder (each file atomically):

``cost_distribution.png``
    A histogram of the optimal cost over the scenarios that have a plan (status ``optimal``
    or ``feasible``), with vertical lines at the median and at the 5th and 95th percentiles
    (the 5-95% band shaded), today's cost of the base scenario (its baseline allocation,
    discounted over the horizon like the objective) and the budget: the base config's, or
    each budget tried when ``constraints.budget`` is a varied axis (none for a multi-year
    plan, whose cost is a discounted total against yearly budgets).

``savings_vs_<axis>.png``
    One per varied grid axis (``<axis>``: the dotted path with every character other than
    letters, digits, ``-`` and ``_`` replaced by ``_``): the savings (each scenario's own
    today's cost minus its optimal cost) at each value of the axis, over every other axis
    and sample. A box per value (middle half of the scenarios, whiskers from the 5th to the
    95th percentile) when some value has at least 5 scenarios, points otherwise; the line
    joins the medians.

``savings_vs_demand.png``
    Instead, for a sweep of samples only (no grid axis): the savings against the sample's
    overall demand, **today's cost of the sample's demand divided by today's cost of the
    base scenario**, i.e. the prevalence factors weighted by what each pathway costs today
    (a 10% rise in a pathway that costs a third of today's budget counts as +3.3%). One
    number per sample that a commissioner can read as "demand up x%", where a plain mean of
    the factors would weigh a cheap pathway like an expensive one. Points, and the median
    savings within each tenth of the samples (by demand) as a line.

``tornado.png``
    Which input moves the cost most. The rule: one ordinary least-squares regression of the
    optimal cost on every input at once -- each numeric grid axis (booleans as 0/1) and each
    pathway's prevalence factor -- over the scenarios that have a plan. An input's bar spans
    the change in predicted cost when that input goes from its 10th to its 90th percentile
    (over those scenarios) with every other input held at its mean, i.e.
    ``|beta| * (p90 - p10)``, drawn from the prediction at the input's 10th percentile to
    that at its 90th, around the prediction with every input at its mean (the mean cost).
    Bars are sorted by width, widest on top. Inputs with no spread, and axes whose values
    are not all numbers (a string, or ``null`` for "no budget"), are left out and named in
    a note; with fewer scenarios with a plan than inputs plus two the regression is not
    fitted and the chart says so, as it does when no input varies. The fit's R-squared is
    shown: a low one means the cost does not move linearly with the inputs (a budget that
    binds in some scenarios only, for instance), and the bars then show the average slope.

Every chart is titled in words with the scenario's name and the number of scenarios, its
money axes formatted in the config's currency (``£m``, ``£k``), and a note counting the
scenarios without a plan (infeasible, of which how many only because of the budget, time
limit, error), which the chart leaves out. Degenerate sweeps (every scenario infeasible,
one scenario, no samples, constant columns) give charts that say so rather than errors.

matplotlib is imported by :func:`write_plots` only (Agg canvas, no ``pyplot`` state), so
``import optimiser`` stays fast.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PLAN = ("optimal", "feasible")
"""Statuses of a scenario with a plan (and a cost)."""
FACTOR = "prevalence_factor."
"""Prefix of the prevalence factor columns of ``sweep.csv``."""
LOW_Q, HIGH_Q = 0.10, 0.90
"""The tornado's percentiles."""
TORNADO_MAX_BARS = 15
BOX_MIN = 5
"""Boxes instead of points once some axis value has this many scenarios."""

_SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}
_BLUE, _ORANGE, _RED, _GREY = "#1f5a96", "#d9822b", "#c0392b", "#6b6b6b"


# --- the tornado's numbers (pure, tested on their own) -----------------------------------

@dataclass(frozen=True)
class Bar:
    """One input's bar: its 10th and 90th percentiles and the predicted cost at each."""

    input: str
    low: float
    high: float
    cost_low: float
    cost_high: float

    @property
    def width(self) -> float:
        return abs(self.cost_high - self.cost_low)


@dataclass(frozen=True)
class Tornado:
    """The regression behind ``tornado.png`` (see the module docstring)."""

    bars: tuple[Bar, ...]
    """Widest first."""
    centre: float | None
    """Predicted cost with every input at its mean (the mean cost)."""
    r2: float | None
    n: int
    """Scenarios with a plan used in the fit."""
    skipped: tuple[tuple[str, str], ...] = ()
    """(input, why) of inputs left out."""
    note: str | None = None
    """Why there are no bars, when there are none."""


def tornado(frame: pd.DataFrame, inputs: list[str]) -> Tornado:
    """Fit cost on ``inputs`` (columns of ``frame``) over the scenarios with a plan."""
    rows = _plan(frame)
    cost = pd.to_numeric(rows.get("objective"), errors="coerce").to_numpy(float) \
        if len(rows) else np.zeros(0)
    n = len(rows)
    if n == 0:
        return Tornado((), None, None, 0, note="no scenario has a plan")
    skipped: list[tuple[str, str]] = []
    cols: list[str] = []
    xs: list[np.ndarray] = []
    for name in inputs:
        x = _numeric(rows[name]) if name in rows else None
        if x is None:
            skipped.append((name, "not a number"))
        elif not np.ptp(x) > 1e-12 * max(1.0, float(np.abs(x).max())):
            skipped.append((name, "no spread"))
        else:
            cols.append(name)
            xs.append(x)
    if not cols:
        return Tornado((), float(cost.mean()), None, n, tuple(skipped), note="no input varies")
    if n < len(cols) + 2:
        return Tornado((), float(cost.mean()), None, n, tuple(skipped),
                       note=f"too few scenarios with a plan ({n}) to separate {len(cols)} "
                            f"input{'s' if len(cols) != 1 else ''}")
    X = np.column_stack(xs)
    mean, sd = X.mean(axis=0), X.std(axis=0)
    Z = np.column_stack([np.ones(n), (X - mean) / sd])   # standardised: budgets and factors
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        return Tornado((), float(cost.mean()), None, n, tuple(skipped),
                       note="the inputs move together, so their effects cannot be separated")
    coef, *_ = np.linalg.lstsq(Z, cost, rcond=None)
    slope = coef[1:] / sd
    centre = float(coef[0])
    resid = cost - Z @ coef
    total = float(((cost - cost.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / total if total > 1e-12 * max(1.0, centre ** 2) else None
    bars = []
    for j, name in enumerate(cols):
        lo, hi = (float(np.quantile(X[:, j], q)) for q in (LOW_Q, HIGH_Q))
        bars.append(Bar(name, lo, hi, centre + slope[j] * (lo - mean[j]),
                        centre + slope[j] * (hi - mean[j])))
    bars.sort(key=lambda b: -b.width)
    return Tornado(tuple(bars), centre, r2, n, tuple(skipped))


def _plan(frame: pd.DataFrame) -> pd.DataFrame:
    if "status" not in frame or "objective" not in frame:
        return frame.iloc[:0]
    obj = pd.to_numeric(frame["objective"], errors="coerce")
    return frame[frame["status"].isin(PLAN) & obj.notna()]


def _numeric(col: pd.Series) -> np.ndarray | None:
    """The column as floats (booleans as 0/1), or None if some value is not a number."""
    vals = []
    for v in col:
        if isinstance(v, (bool, np.bool_)):
            vals.append(float(v))
        elif isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(float(v)):
            vals.append(float(v))
        else:
            return None
    return np.asarray(vals, float)


# --- writing ------------------------------------------------------------------------------

def write_plots(folder, frame: pd.DataFrame, summary: dict, sweep=None) -> list[Path]:
    """Write the sweep's charts into ``folder`` (each atomically); return their paths.

    ``frame`` is ``sweep.csv``'s table, ``summary`` ``sweep_summary.json``'s content and
    ``sweep`` the :class:`~.spec.Sweep` (for the axes in file order, pathway names, today's
    cost and the budget of the base scenario; without it those come from ``summary`` and
    ``frame`` and the base's cost and budget lines are left out). A ``savings_vs_*.png``
    left by an earlier sweep with other axes is removed.
    """
    from ..results.result import write_atomic

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = _Context.of(frame, summary, sweep)
    charts: list[tuple[str, bytes]] = [("cost_distribution.png", _cost_distribution(ctx))]
    used: set[str] = set()
    for path, values in ctx.axes:
        name = f"savings_vs_{_safe(path)}"
        while name in used:
            name += "_"
        used.add(name)
        charts.append((f"{name}.png", _savings_by_axis(ctx, path, values)))
    if not ctx.axes and ctx.factors:
        charts.append(("savings_vs_demand.png", _savings_by_demand(ctx)))
    charts.append(("tornado.png", _tornado_chart(ctx)))
    written = [write_atomic(folder / name, data) for name, data in charts]
    names = {p.name for p in written}
    for old in folder.glob("savings_vs_*.png"):
        if old.name not in names:
            old.unlink(missing_ok=True)
    return written


def _safe(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(path)).strip("_") or "axis"


@dataclass
class _Context:
    frame: pd.DataFrame
    plan: pd.DataFrame
    scenario: str
    currency: str
    axes: list[tuple[str, tuple]]
    factors: list[str]
    """Prevalence factor columns."""
    pathway_names: dict[str, str]
    base_cost: float | None
    """Today's cost of the base scenario."""
    budgets: list[float]
    multi_year: bool

    @classmethod
    def of(cls, frame: pd.DataFrame, summary: dict, sweep) -> _Context:
        summary = summary or {}
        if sweep is not None:
            axes = [(p, tuple(v)) for p, v in sweep.axes]
            base = sweep.base
            names = {p.pathway: re.sub(r"\s*\(.*\)\s*$", "", p.name or p.pathway)
                     for p in base.pathways}
            inst = base.instance
            multi = inst.years.count > 1
            base_cost = _baseline(inst)
            budget = inst.budget if not multi else None
            scenario = base.name
            currency = base.config.currency
        else:
            axes = [(p, tuple(v)) for p, v in (summary.get("varied") or {}).items()]
            names, base_cost, budget, multi = {}, None, None, False
            scenario = summary.get("scenario") or "sweep"
            currency = summary.get("currency") or "GBP"
        budgets: list[float] = []
        if not multi:
            tried = [v for p, vals in axes if p == "constraints.budget" for v in vals]
            if tried:
                budgets = sorted({float(v) for v in tried if _is_number(v)})
            elif budget is not None:
                budgets = [float(budget)]
        factors = [c for c in frame.columns if str(c).startswith(FACTOR)]
        for c in factors:
            names.setdefault(c[len(FACTOR):], c[len(FACTOR):].replace("_", " ").capitalize())
        return cls(frame, _plan(frame), scenario, currency, axes, factors, names, base_cost,
                   budgets, multi)

    # words ------------------------------------------------------------------------------

    def words(self, name: str) -> str:
        """An input or axis in words."""
        if name.startswith(FACTOR):
            return f"{self.pathway_names.get(name[len(FACTOR):], name[len(FACTOR):])} demand"
        return _path_words(name)

    def value(self, name: str, v) -> str:
        """One value of an input or axis, formatted for it."""
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "no budget" if name == "constraints.budget" else "none"
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if not _is_number(v):
            return str(v)
        v = float(v)
        if name.startswith(FACTOR):
            return f"×{v:.2f}"
        if _is_money_path(name):
            return _money(v, self.currency)
        if v.is_integer():
            return f"{int(v):,}"
        return f"{v:,.4g}"

    def status_note(self) -> str:
        """How many scenarios, and those without a plan (left out)."""
        f = self.frame
        total, n = len(f), len(self.plan)
        head = f"{total:,} scenario{'s' if total != 1 else ''}"
        if n == total:
            return head + (", every one with a plan" if total > 1 else ", with a plan")
        parts = []
        status = f["status"] if "status" in f else pd.Series([None] * total)
        rest = status[~f.index.isin(self.plan.index)].fillna("unanswered")
        for s, k in rest.value_counts().items():
            s = str(s)
            if s in PLAN:
                s = f"{s} without a cost"
            text = f"{k:,} {s.replace('_', ' ')}"
            if s == "infeasible" and "budget_breached" in f:
                over = int(f.loc[rest.index, "budget_breached"].where(rest == "infeasible")
                           .fillna(False).astype(bool).sum())
                if over:
                    text += f" ({over:,} only because of the budget)"
            parts.append(text)
        return f"{head}: {n:,} with a plan; not shown: {', '.join(parts)}"


def _baseline(inst) -> float | None:
    """Today's cost of an instance, discounted over its horizon like the objective."""
    try:
        from ..results import costs

        years = inst.years
        return float(years.discount() @ np.array(
            [costs.baseline(inst.at_year(t))["total"] for t in range(years.count)]))
    except Exception:  # a chart without the line rather than no chart
        return None


_PATH_WORDS = (
    (r"constraints\.budget", "the budget"),
    (r"constraints\.max_shift", "the largest shift from today's providers"),
    (r"constraints\.min_quality\.default", "the quality floor"),
    (r"constraints\.min_quality\.(\w+)", "the {0} quality floor"),
    (r"resources\.(\w+)\.capacity", "capacity of {0}"),
    (r"localities\.(\w+)\.population", "population of {0}"),
    (r"localities\.(\w+)\.prevalence_per_1000\.(\w+)", "{1} prevalence per 1,000 in {0}"),
    (r"providers\.(\w+)\.prices\.(\w+)\.(\w+)", "{0}'s price of {1} {2}"),
    (r"providers\.(\w+)\.costs\.(\w+)\.(\w+)", "{0}'s cost of {1} {2}"),
)


def _path_words(path: str) -> str:
    for rx, words in _PATH_WORDS:
        m = re.fullmatch(rx, path)
        if m:
            return words.format(*(g.replace("_", " ") for g in m.groups()))
    return path


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _is_money_path(path: str) -> bool:
    return bool(re.search(r"budget|price|cost", path))


def _is_number(v) -> bool:
    return (isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_))
            and math.isfinite(float(v)))


def _money(v: float, currency: str, decimals: int | None = None) -> str:
    """Short money: £37.46m, £850k, £120."""
    a = abs(v)
    scale, unit = (1e6, "m") if a >= 1e6 else (1e3, "k") if a >= 1e4 else (1.0, "")
    if decimals is None:
        decimals = 2 if unit == "m" else 0
    body = f"{a / scale:,.{decimals}f}{unit}"
    sym = _SYMBOL.get(currency)
    sign = "−" if v < 0 and round(a / scale, decimals) != 0 else ""
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency}"


def _money_formatter(currency: str):
    """A tick formatter in ``£m`` / ``£k`` / ``£`` with as many decimals as the ticks need."""
    from matplotlib.ticker import Formatter

    class Money(Formatter):
        scale, unit, decimals = 1.0, "", 0

        def set_locs(self, locs):
            super().set_locs(locs)
            locs = np.asarray([x for x in locs if np.isfinite(x)], float)
            top = float(np.abs(locs).max()) if len(locs) else 0.0
            steps = np.diff(np.sort(locs))
            step = float(steps[steps > 0].min()) if (steps > 0).any() else max(top, 1.0)
            # the unit by the size of the numbers, smaller when the ticks are close together
            # (no more than 3 decimals of £m or £k; plain amounts with up to 2)
            units = [(1e6, "m"), (1e3, "k"), (1.0, "")]
            units = [u for u in units if top >= (1e6 if u[1] == "m" else 1e4 if u[1] == "k" else 0)]
            for scale, unit in units:
                need = next((d for d in range(4) if abs(round(step / scale, d) - step / scale)
                             <= 1e-6 * step / scale), None)
                if need is not None or unit == "":
                    break
            self.scale, self.unit = scale, unit
            self.decimals = need if need is not None else 2

        def __call__(self, x, pos=None):
            body = f"{abs(x) / self.scale:,.{self.decimals}f}{self.unit}"
            sign = "−" if x < 0 and float(body.rstrip("mk").replace(",", "")) != 0 else ""
            sym = _SYMBOL.get(currency)
            return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency}"

    return Money()


# --- charts -------------------------------------------------------------------------------

def _figure(width: float = 9.0, height: float = 5.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig, note: str | None = None) -> bytes:
    if note:
        fig.text(0.01, 0.01, note, fontsize=8, color=_GREY, ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.05 if note else 0, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color=_GREY,
            transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)


def _cost_label(ctx: _Context) -> str:
    return "optimal total cost (discounted, all years)" if ctx.multi_year else "optimal cost"


def _cost_distribution(ctx: _Context) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    n = len(ctx.plan)
    ax.set_title(f"{ctx.scenario}: cost of the best plan over {len(ctx.frame):,} "
                 f"scenario{'s' if len(ctx.frame) != 1 else ''}", fontsize=12)
    c = pd.to_numeric(ctx.plan["objective"], errors="coerce").to_numpy(float) if n else np.zeros(0)
    if not n:
        _empty(ax, "No scenario has a plan, so there is no cost to show.")
        return _png(fig, ctx.status_note())
    lo, hi = float(c.min()), float(c.max())
    if hi - lo <= 1e-9 * max(1.0, abs(hi)):
        marks = [hi, *([ctx.base_cost] if ctx.base_cost is not None else []), *ctx.budgets[:8]]
        pad = max((max(marks) - min(marks)) * 0.03, abs(hi) * 0.002, 1.0)
        bins = np.linspace(lo - pad, hi + pad, 2)
    else:
        bins = np.histogram_bin_edges(c, bins="auto")
        if len(bins) > 51:
            bins = np.linspace(lo, hi, 51)
        elif len(bins) < 11:
            bins = np.linspace(lo, hi, 11)
    ax.hist(c, bins=bins, color=_BLUE, alpha=0.75, edgecolor="white", label="scenarios")
    med, p05, p95 = (float(np.quantile(c, q)) for q in (0.5, 0.05, 0.95))
    cur = ctx.currency
    if n > 1 and p95 > p05:
        ax.axvspan(p05, p95, color=_BLUE, alpha=0.08, lw=0)
        ax.axvline(p05, color=_BLUE, ls="--", lw=1.2,
                   label=f"5% to 95% of scenarios: {_money(p05, cur)} to {_money(p95, cur)}")
        ax.axvline(p95, color=_BLUE, ls="--", lw=1.2)
    ax.axvline(med, color="black", lw=2, label=f"median: {_money(med, cur)}")
    if ctx.base_cost is not None:
        ax.axvline(ctx.base_cost, color=_ORANGE, ls="-.", lw=2,
                   label=f"today's cost (base scenario): {_money(ctx.base_cost, cur)}")
    if ctx.budgets:
        few = ctx.budgets[:8]
        for i, b in enumerate(few):
            ax.axvline(b, color=_RED, ls=":", lw=1.8, label=None if i else (
                f"budget: {_money(b, cur)}" if len(ctx.budgets) == 1 else
                "budgets tried: " + ", ".join(_money(x, cur) for x in few)
                + (" ..." if len(ctx.budgets) > len(few) else "")))
    ax.xaxis.set_major_formatter(_money_formatter(cur))
    ax.set_xlabel(f"{_cost_label(ctx)} of each scenario")
    ax.set_ylabel("number of scenarios")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.85)
    return _png(fig, ctx.status_note())


def _key(v):
    """Axis values compared as numbers where they are numbers (90000 == 90000.0)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return ("bool", bool(v))
    if _is_number(v):
        return float(v)
    return ("str", str(v))


def _savings_by_axis(ctx: _Context, path: str, values: tuple) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    words = ctx.words(path)
    ax.set_title(f"{ctx.scenario}: savings against {words}\n({path}, "
                 f"{len(ctx.frame):,} scenario{'s' if len(ctx.frame) != 1 else ''})", fontsize=11)
    if path not in ctx.frame:
        _empty(ax, f"The table has no column {path}.")
        return _png(fig, ctx.status_note())
    index = {}
    for i, v in enumerate(values):
        index.setdefault(_key(v), i)
    savings = pd.to_numeric(ctx.plan.get("savings"), errors="coerce")
    groups: list[np.ndarray] = [np.zeros(0)] * len(values)
    codes = (ctx.plan[path].map(lambda v: index.get(_key(v), -1)) if len(ctx.plan)
             else pd.Series([], dtype=int))
    for i in range(len(values)):
        s = savings[codes == i].to_numpy(float) if len(ctx.plan) else np.zeros(0)
        groups[i] = s[np.isfinite(s)]
    numeric = all(_is_number(v) for v in values) and len(values) > 0
    pos = (np.asarray([float(v) for v in values], float) if numeric
           else np.arange(len(values), dtype=float))
    filled = [i for i, g in enumerate(groups) if len(g)]
    if not filled:
        _empty(ax, "No scenario has a plan, so there are no savings to show.")
        return _png(fig, ctx.status_note())
    spacing = float(np.diff(np.unique(pos)).min()) if len(np.unique(pos)) > 1 else 1.0
    boxes = max(len(g) for g in groups) >= BOX_MIN
    if boxes:
        ax.boxplot([groups[i] for i in filled], positions=pos[filled], widths=0.55 * spacing,
                   whis=(5, 95), showfliers=False, patch_artist=True, manage_ticks=False,
                   boxprops={"facecolor": "#cfe0f1", "edgecolor": _BLUE},
                   medianprops={"color": _BLUE, "lw": 0}, whiskerprops={"color": _BLUE},
                   capprops={"color": _BLUE})
    else:
        for i in filled:
            jitter = (np.arange(len(groups[i])) - (len(groups[i]) - 1) / 2) * 0.04 * spacing
            ax.plot(pos[i] + jitter, groups[i], "o", color=_BLUE, alpha=0.6, ms=5,
                    label="a scenario" if i == filled[0] else None)
    medians = [float(np.median(groups[i])) for i in filled]
    ax.plot(pos[filled], medians, "-o", color="black", lw=2, ms=4, label="median savings")
    cur = ctx.currency
    allv = np.concatenate([groups[i] for i in filled])
    if allv.min() < 0 < allv.max() or abs(allv).max() == 0:
        ax.axhline(0, color=_GREY, lw=1)
    ax.yaxis.set_major_formatter(_money_formatter(cur))
    ax.set_ylabel("savings: today's cost − optimal cost")
    # x axis: every value labelled when there are few, with the scenarios without a plan
    total = ctx.frame[path].map(lambda v: index.get(_key(v), -1))
    missing = [int((total == i).sum()) - len(groups[i]) for i in range(len(values))]
    if len(values) <= 12:
        labels = [ctx.value(path, v) + (f"\n{m} without a plan" if m else "")
                  for v, m in zip(values, missing)]
        ax.set_xticks(pos, labels, fontsize=9 if len(values) <= 6 else 8)
    elif numeric and _is_money_path(path):
        ax.xaxis.set_major_formatter(_money_formatter(cur))
    elif not numeric:
        step = math.ceil(len(values) / 12)
        ax.set_xticks(pos[::step], [ctx.value(path, v) for v in values[::step]], fontsize=8)
    ax.set_xlabel(_capital(words) or path)
    ax.grid(True, axis="y", alpha=0.3)
    if boxes:
        from matplotlib.patches import Patch

        handles, _ = ax.get_legend_handles_labels()
        handles.append(Patch(facecolor="#cfe0f1", edgecolor=_BLUE,
                             label="middle half of scenarios; whiskers 5% to 95%"))
        ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.85)
    else:
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return _png(fig, ctx.status_note())


def _savings_by_demand(ctx: _Context) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_title(f"{ctx.scenario}: savings against demand\n({len(ctx.frame):,} demand sample"
                 f"{'s' if len(ctx.frame) != 1 else ''})", fontsize=11)
    plan = ctx.plan
    if not len(plan):
        _empty(ax, "No scenario has a plan, so there are no savings to show.")
        return _png(fig, ctx.status_note())
    s = pd.to_numeric(plan["savings"], errors="coerce").to_numpy(float)
    today = pd.to_numeric(plan.get("baseline_cost"), errors="coerce").to_numpy(float)
    if ctx.base_cost and np.isfinite(today).all():
        x = today / ctx.base_cost
        how = "today's cost of the sample's demand ÷ today's cost of the base scenario"
    else:
        x = plan[ctx.factors].apply(pd.to_numeric, errors="coerce").mean(axis=1).to_numpy(float)
        how = "mean prevalence factor of the pathways"
    ok = np.isfinite(x) & np.isfinite(s)
    x, s = x[ok], s[ok]
    ax.plot(x, s, "o", color=_BLUE, alpha=max(0.15, min(0.7, 30 / max(len(x), 1))), ms=4,
            label="a sample", mec="none")
    if len(x) >= 20:
        edges = np.quantile(x, np.linspace(0, 1, 11))
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, 9)
        mids = [(float(np.median(x[which == k])), float(np.median(s[which == k])))
                for k in range(10) if (which == k).any()]
        ax.plot(*zip(*mids), "-o", color="black", lw=2, ms=4,
                label="median savings in each tenth of the samples")
    if len(s) and (s.min() < 0 < s.max()):
        ax.axhline(0, color=_GREY, lw=1)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{(v - 1) * 100:+.0f}%"
                                               if abs(v - 1) > 1e-9 else "as base"))
    ax.yaxis.set_major_formatter(_money_formatter(ctx.currency))
    ax.set_xlabel(f"demand against the base scenario ({how})", fontsize=9)
    ax.set_ylabel("savings: today's cost − optimal cost")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return _png(fig, ctx.status_note())


def _tornado_chart(ctx: _Context) -> bytes:
    inputs = [p for p, _ in ctx.axes] + ctx.factors
    t = tornado(ctx.frame, inputs)
    bars = t.bars[:TORNADO_MAX_BARS]
    fig = _figure(10.0, max(4.5, 1.6 + 0.62 * len(bars)))
    ax = fig.add_subplot()
    ax.set_title(f"{ctx.scenario}: which input moves the cost most\n"
                 f"each bar: the change in optimal cost as one input goes from its 10th to "
                 f"its 90th percentile,\nthe others held at their means", fontsize=11)
    notes = []
    if t.skipped:
        notes.append("left out: " + ", ".join(f"{ctx.words(n)} ({why})" for n, why in t.skipped))
    if len(t.bars) > len(bars):
        notes.append(f"{len(t.bars) - len(bars)} more input(s) with smaller effects not shown")
    if not bars:
        why = t.note or "no input varies"
        _empty(ax, why[0].upper() + why[1:] + ".")
        return _png(fig, "; ".join([ctx.status_note(), *notes]))
    cur = ctx.currency
    ys = np.arange(len(bars))[::-1]
    for y, b in zip(ys, bars):
        ax.barh(y, b.cost_low - t.centre, left=t.centre, height=0.6, color=_BLUE,
                label="input at its 10th percentile" if y == ys[0] else None)
        ax.barh(y, b.cost_high - t.centre, left=t.centre, height=0.6, color=_ORANGE,
                label="input at its 90th percentile" if y == ys[0] else None)
        right = max(b.cost_low, b.cost_high)
        ax.annotate(f" {_money(b.width, cur)}", (right, y), va="center", fontsize=8, color="black")
    labels = [f"{_capital(ctx.words(b.input))}\n"
              f"{ctx.value(b.input, b.low)} to {ctx.value(b.input, b.high)}" for b in bars]
    ax.set_yticks(ys, labels, fontsize=8)
    ax.axvline(t.centre, color="black", lw=1.2, label=f"mean cost: {_money(t.centre, cur)}")
    lo = min(min(b.cost_low, b.cost_high) for b in bars)
    hi = max(max(b.cost_low, b.cost_high) for b in bars)
    pad = (hi - lo) * 0.18 or max(abs(t.centre) * 0.001, 1.0)
    ax.set_xlim(lo - pad * 0.3, hi + pad)
    ax.xaxis.set_major_formatter(_money_formatter(cur))
    ax.set_xlabel(f"predicted {_cost_label(ctx)}")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.85)
    fit = (f"linear fit of cost on {len(t.bars)} input{'s' if len(t.bars) != 1 else ''} over "
           f"{t.n:,} scenarios with a plan" + (f", R² {t.r2:.2f}" if t.r2 is not None else ""))
    return _png(fig, "; ".join([fit, ctx.status_note(), *notes]))
