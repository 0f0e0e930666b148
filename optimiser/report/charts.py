"""The report's charts as inline SVG (matplotlib, Agg-free SVG canvas, no ``pyplot`` state).

Choices, so that a chart reads on paper, in greyscale and with colour-vision deficiency:

* the Okabe-Ito palette, and never colour alone: every series also differs by hatching,
  marker shape or line style, and bars carry their numbers as text;
* every chart has a title in words, axis labels with units (``£m``: the config's currency,
  scaled to millions or thousands), and a text alternative (SVG ``<title>``/``<desc>``,
  ``role="img"``) that states what it shows; the same numbers are in a table beside it;
* SVG with text kept as text (``svg.fonttype: none``): crisp at any zoom and in print,
  searchable, and small; ids are prefixed per chart so several charts share one page.

matplotlib is imported inside :func:`render` only, so ``import optimiser`` stays fast.
"""

from __future__ import annotations

import html
import io
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..results.text import _SYMBOL

# Okabe & Ito (2008), "Color universal design"
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
BLACK = "#000000"
GREY = "#595959"

MAX_ROWS = 20
"""Most rows (categories) a bar chart shows; the table beside it has all of them."""


@dataclass(frozen=True)
class Chart:
    """One chart: its id, title, text alternative and the SVG markup to inline."""

    key: str
    title: str
    alt: str
    svg: str
    note: str = ""


# ---------------------------------------------------------------------------------------
# money on an axis


@dataclass(frozen=True)
class Scale:
    divisor: float
    suffix: str
    symbol: str
    code: str

    def unit(self) -> str:
        """``£m``, ``£k``, ``£``; ``EURm``-style for a currency without a symbol."""
        return f"{self.symbol or self.code}{self.suffix}" if self.symbol else f"{self.code}{self.suffix}"

    def fmt(self, v: float, signed: bool = False, digits: int | None = None) -> str:
        d = digits if digits is not None else (2 if self.suffix else 0)
        x = v / self.divisor
        sign = ("+" if v > 0 else "\u2212" if v < 0 else "") if signed else ("\u2212" if v < 0 else "")
        body = f"{abs(x):,.{d}f}"
        return f"{sign}{self.symbol}{body}{self.suffix}" if self.symbol else f"{sign}{body}{self.suffix} {self.code}"


def money_scale(values, currency: str) -> Scale:
    biggest = max([abs(float(v)) for v in values if v is not None and math.isfinite(float(v))] or [0.0])
    sym = _SYMBOL.get(currency, "")
    if biggest >= 1e6:
        return Scale(1e6, "m", sym, currency)
    if biggest >= 1e4:
        return Scale(1e3, "k", sym, currency)
    return Scale(1.0, "", sym, currency)


def _count_unit(biggest: float) -> tuple[float, str]:
    if biggest >= 1e6:
        return 1e6, " (millions)"
    if biggest >= 2e4:
        return 1e3, " (thousands)"
    return 1.0, ""


# ---------------------------------------------------------------------------------------
# figure plumbing


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    return fig


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9, colors="#222222")
    ax.grid(axis="both", color="#d9d9d9", linewidth=0.6)
    ax.set_axisbelow(True)


_ID = re.compile(r'\bid="([^"]+)"')


def _svg(fig, key: str, title: str, alt: str) -> str:
    """The figure as inline SVG: no XML prologue, ids prefixed with ``key``, sized by CSS,
    with ``role="img"`` and a ``<title>`` and ``<desc>`` for screen readers."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"carepath-{key}",
                                "font.family": "sans-serif",
                                "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial",
                                                    "Helvetica"],
                                "hatch.linewidth": 0.8, "hatch.color": "#000000"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None},
                    bbox_inches="tight", pad_inches=0.08)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    ids = set(_ID.findall(text))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{key}-{old}"
        text = (text.replace(f'id="{old}"', f'id="{new}"')
                .replace(f"url(#{old})", f"url(#{new})")
                .replace(f'href="#{old}"', f'href="#{new}"'))
    head_end = text.index(">")
    head = text[:head_end]
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    head += (f' class="chart" role="img" aria-labelledby="{key}-title {key}-desc" '
             f'preserveAspectRatio="xMidYMid meet"')
    body = text[head_end + 1:]
    return (f"{head}><title id=\"{key}-title\">{html.escape(title)}</title>"
            f"<desc id=\"{key}-desc\">{html.escape(alt)}</desc>{body.strip()}")


def _finish(fig, key: str, title: str, alt: str, note: str = "") -> Chart:
    return Chart(key=key, title=title, alt=alt, svg=_svg(fig, key, title, alt), note=note)


def _trim(labels: list[str], most: int = 28) -> list[str]:
    return [s if len(s) <= most else s[: most - 1] + "\u2026" for s in labels]


# ---------------------------------------------------------------------------------------
# the charts


def waterfall(steps: list[tuple[str, float]], currency: str, span: str = "") -> Chart:
    """Today's cost, one bar per change (plan minus today, by cost part), the plan's cost.
    Parts that do not change are left out of the chart (they are in the table)."""
    shown = [steps[0]] + [s for s in steps[1:-1] if abs(s[1]) >= 0.5] + [steps[-1]]
    sc = money_scale([v for _, v in steps], currency)
    running, bottoms, heights, kinds = steps[0][1], [], [], []
    for i, (_, v) in enumerate(shown):
        if i == 0 or i == len(shown) - 1:
            bottoms.append(0.0)
            heights.append(v)
            kinds.append("total")
        else:
            bottoms.append(running if v >= 0 else running + v)
            heights.append(abs(v))
            kinds.append("up" if v >= 0 else "down")
            running += v
    levels = [steps[0][1]]
    for _, v in shown[1:-1]:
        levels.append(levels[-1] + v)
    levels.append(steps[-1][1])
    low, high = min(levels), max(levels)
    spread = max(high - low, abs(high) * 0.02, 1.0)
    floor = max(0.0, low - 0.6 * spread)
    floor = _nice_floor(floor)
    fig = _figure(8.6, 4.4)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(axis="x", visible=False)
    x = np.arange(len(shown))
    style = {"total": dict(color=BLUE, hatch=None), "down": dict(color=GREEN, hatch=None),
             "up": dict(color=VERMILLION, hatch="///")}
    for i, (b, h, k) in enumerate(zip(bottoms, heights, kinds)):
        base = max(b, floor) if k == "total" else b
        top = b + h
        ax.bar(x[i], (top - base) / sc.divisor, bottom=base / sc.divisor, width=0.62,
               color=style[k]["color"], hatch=style[k]["hatch"], edgecolor=BLACK, linewidth=0.6)
        label = sc.fmt(shown[i][1], signed=(k != "total"))
        ax.text(x[i], top / sc.divisor + (high - floor) * 0.015 / sc.divisor, label,
                ha="center", va="bottom", fontsize=9, color="#111111")
    for i in range(len(shown) - 1):  # connectors at each running level
        ax.plot([x[i] + 0.31, x[i + 1] - 0.31], [levels[i] / sc.divisor] * 2, color=GREY,
                linewidth=0.8, linestyle=(0, (2, 2)))
    ax.set_xticks(x, _wrap([s for s, _ in shown]), fontsize=9)
    ax.set_ylim(floor / sc.divisor, (high + 0.25 * spread) / sc.divisor)
    ax.set_ylabel(f"cost ({sc.unit()}{', ' + span if span else ''})", fontsize=10)
    title = "From today's cost to the plan's"
    ax.set_title(title, fontsize=12, loc="left")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor=BLUE, edgecolor=BLACK, label="total"),
                       Patch(facecolor=GREEN, edgecolor=BLACK, label="saves (lower cost)"),
                       Patch(facecolor=VERMILLION, hatch="///", edgecolor=BLACK,
                             label="adds cost")],
              fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3)
    note = (f"The cost axis starts at {sc.fmt(floor)}, not zero, so that the changes can be seen."
            if floor > 0 else "")
    alt = "Waterfall. " + "; ".join(
        f"{lab}: {sc.fmt(v, signed=(0 < i < len(steps) - 1))}" for i, (lab, v) in enumerate(steps)
        if i in (0, len(steps) - 1) or abs(v) >= 0.5) + "."
    return _finish(fig, "waterfall", title, alt, note)


def _nice_floor(v: float) -> float:
    if v <= 0:
        return 0.0
    step = 10 ** math.floor(math.log10(v)) / 2
    return math.floor(v / step) * step


def _wrap(labels: list[str], width: int = 12) -> list[str]:
    out = []
    for s in labels:
        words, lines, cur = s.split(), [], ""
        for w in words:
            if cur and len(cur) + 1 + len(w) > width:
                lines.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}".strip()
        lines.append(cur)
        out.append("\n".join(lines))
    return out


def make_buy(table: pd.DataFrame, by: str, span: str = "") -> Chart:
    """Stacked horizontal bars: activities made (solid blue) and bought (hatched orange),
    today and in the plan, per ``by``; each plan bar says its share made."""
    t = _largest(table, table["made_plan"] + table["bought_plan"])
    biggest = float(max((t["made_today"] + t["bought_today"]).max(),
                        (t["made_plan"] + t["bought_plan"]).max(), 0.0))
    div, unit = _count_unit(biggest)
    names = list(t[by].astype(str))
    rows = len(names)
    fig = _figure(8.6, 1.0 + 0.62 * rows)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(axis="y", visible=False)
    gap = 2.6
    ys_today = np.arange(rows) * gap
    ys_plan = ys_today + 1.0
    for ys, made, bought, label in ((ys_today, t["made_today"], t["bought_today"], "today"),
                                    (ys_plan, t["made_plan"], t["bought_plan"], "plan")):
        ax.barh(ys, made / div, height=0.9, color=BLUE, edgecolor=BLACK, linewidth=0.5,
                label="made (own services)" if label == "today" else None)
        ax.barh(ys, bought / div, left=made / div, height=0.9, color=ORANGE, hatch="//",
                edgecolor=BLACK, linewidth=0.5, label="bought" if label == "today" else None)
        for y, m, b in zip(ys, made, bought):
            total = m + b
            share = f"{m / total:.0%} made" if total > 0 else "no activity"
            ax.text(total / div + biggest / div * 0.01, y, f"{label}: {share}", va="center",
                    fontsize=8, color="#111111")
    ax.set_yticks((ys_today + ys_plan) / 2, _trim(names), fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, biggest / div * 1.28 if biggest > 0 else 1)
    ax.set_xlabel(f"activities{unit}{', ' + span if span else ''}; top bar today, "
                  "bottom bar the plan", fontsize=9)
    title = f"Make or buy by {by}"
    ax.set_title(title, fontsize=12, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
    alt = f"Stacked bars of activities made and bought by {by}, today and in the plan. " + "; ".join(
        f"{n}: made {_pct(st)} today, {_pct(sp)} in the plan"
        for n, st, sp in zip(table[by], table["share_today"], table["share_plan"])) + "."
    note = f"The {MAX_ROWS} largest are drawn; the table has all {len(table)}." if len(table) > MAX_ROWS else ""
    return _finish(fig, f"makebuy-{by}", title, alt, note)


def _largest(table: pd.DataFrame, size: pd.Series) -> pd.DataFrame:
    """The table when it has at most :data:`MAX_ROWS` rows; else its ``MAX_ROWS`` largest by
    ``size``, in the table's order."""
    if len(table) <= MAX_ROWS:
        return table
    keep = size.sort_values(ascending=False, kind="mergesort").index[:MAX_ROWS]
    return table.loc[sorted(keep)]


def _pct(v) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0%}"


def hospital(table: pd.DataFrame, span: str = "") -> Chart:
    """Paired horizontal bars per pathway: hospital-setting activities today (light, dotted)
    and in the plan (dark, solid), labelled with the change."""
    t = _largest(table, table[["hospital_today", "hospital_plan"]].max(axis=1))
    biggest = float(max(t["hospital_today"].max(), t["hospital_plan"].max(), 0.0))
    div, unit = _count_unit(biggest)
    rows = len(t)
    fig = _figure(8.6, 1.0 + 0.55 * rows)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(axis="y", visible=False)
    y = np.arange(rows) * 2.4
    ax.barh(y, t["hospital_today"] / div, height=0.9, color=SKY, hatch="..", edgecolor=BLACK,
            linewidth=0.5, label="today")
    ax.barh(y + 1.0, t["hospital_plan"] / div, height=0.9, color=BLUE, edgecolor=BLACK,
            linewidth=0.5, label="plan")
    for yy, today, plan in zip(y, t["hospital_today"], t["hospital_plan"]):
        moved = today - plan
        pct = f" ({moved / today:.0%})" if today > 0 else ""
        text = (f"{moved:,.0f} fewer{pct}" if moved > 0.5 else
                f"{-moved:,.0f} more{pct.replace('-', '')}" if moved < -0.5 else "no change")
        ax.text(max(today, plan) / div + biggest / div * 0.01, yy + 0.5, text, va="center",
                fontsize=8, color="#111111")
    ax.set_yticks(y + 0.5, _trim(list(t["pathway"].astype(str))), fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, biggest / div * 1.3 if biggest > 0 else 1)
    ax.set_xlabel(f"activities in hospital settings{unit}{', ' + span if span else ''}",
                  fontsize=9)
    title = "Activity moved out of hospital"
    ax.set_title(title, fontsize=12, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
    alt = "Hospital-setting activities per pathway, today and in the plan. " + "; ".join(
        f"{p}: {a:,.0f} today, {b:,.0f} in the plan" for p, a, b in
        zip(table["pathway"], table["hospital_today"], table["hospital_plan"])) + "."
    note = f"The {MAX_ROWS} largest are drawn; the table has all {len(table)}." if len(table) > MAX_ROWS else ""
    return _finish(fig, "hospital", title, alt, note)


YEAR_COLOURS = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK]
YEAR_HATCHES = [None, "//", "..", "\\\\", "xx", "--", "++", "oo"]


def utilisation(table: pd.DataFrame) -> Chart:
    """Horizontal bars of each resource's use as a share of what is available (capacity plus
    expansion bought); a dashed line at 100 %, full resources hatched and labelled ``full``.
    A multi-year plan has one bar per year (told apart by hatching and the year in the
    label)."""
    multi = "year" in table and table["year"].nunique() > 1
    peak = table.groupby("resource", sort=False)["utilisation"].max().sort_values(
        ascending=False, kind="mergesort")
    keep = list(peak.index[:MAX_ROWS if not multi else max(1, 40 // table["year"].nunique())])
    t = table[table["resource"].isin(keep)]
    years = sorted(t["year"].unique()) if multi else [None]
    per = len(years)
    fig = _figure(8.6, 1.0 + 0.36 * len(keep) * per + 0.3 * len(keep))
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(axis="y", visible=False)
    centres = []
    for i, res in enumerate(keep):
        base = i * (per + 0.8)
        centres.append(base + (per - 1) / 2)
        for j, yr in enumerate(years):
            row = t[(t["resource"] == res) & ((t["year"] == yr) if yr is not None else True)]
            if row.empty:
                continue
            u = float(row["utilisation"].iloc[0]) if pd.notna(row["utilisation"].iloc[0]) else 0.0
            full = u >= 0.999
            colour = YEAR_COLOURS[j % len(YEAR_COLOURS)] if multi else BLUE
            hatch = (YEAR_HATCHES[j % len(YEAR_HATCHES)] if multi else ("///" if full else None))
            ax.barh(base + j, u * 100, height=0.82, color=colour, hatch=hatch, edgecolor=BLACK,
                    linewidth=0.5, label=(str(yr) if multi and i == 0 else None))
            used, avail = float(row["used"].iloc[0]), float(row["available"].iloc[0])
            label = (f"{yr}: " if multi else "") + f"{u:.0%}" + (" full" if full else "") + \
                f" ({used:,.0f} of {avail:,.0f})"
            ax.text(min(u * 100, 100) + 1.5, base + j, label, va="center", fontsize=8)
    ax.axvline(100, color=BLACK, linestyle=(0, (4, 3)), linewidth=1)
    ax.set_yticks(centres, _trim([str(r) for r in keep]), fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 150)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("utilisation (% of capacity, including expansion bought)", fontsize=9)
    title = "Capacity utilisation by resource"
    ax.set_title(title, fontsize=12, loc="left")
    if multi:
        ax.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0),
                  ncols=min(per, 6))
    alt = "Utilisation per resource. " + "; ".join(
        (f"{r.resource} {r.year}" if multi else f"{r.resource}") + f": {r.utilisation:.0%}"
        for r in table.itertuples() if pd.notna(r.utilisation)) + "."
    n_res = table["resource"].nunique()
    note = f"The {len(keep)} busiest of {n_res} resources are drawn; the table has all." \
        if n_res > len(keep) else ""
    return _finish(fig, "utilisation", title, alt, note)


def quality(table: pd.DataFrame) -> Chart:
    """Dot plot per locality and pathway: quality achieved (filled circle) against the floor
    (black bar); the closest to their floor first."""
    t = table.copy()
    t["order"] = t["margin"].fillna(np.inf)
    t = t.sort_values(["order"], kind="mergesort").head(MAX_ROWS * 2)
    rows = len(t)
    fig = _figure(8.6, 1.0 + 0.3 * rows)
    ax = fig.add_subplot()
    _style(ax)
    y = np.arange(rows)
    ax.scatter(t["achieved"], y, s=42, color=BLUE, edgecolor=BLACK, linewidth=0.5, zorder=3,
               label="achieved", marker="o")
    has = t["floor"].notna()
    ax.scatter(t["floor"][has], y[has.to_numpy()], s=160, color=BLACK, marker="|", zorder=4,
               linewidths=2, label="floor")
    for yy, a, f in zip(y, t["achieved"], t["floor"]):
        if pd.notna(a):
            txt = f"{a:.3f}" + (f" ({a - f:+.3f})" if pd.notna(f) else "")
            ax.annotate(txt, (a, yy), xytext=(7, 0), textcoords="offset points", ha="left",
                        va="center", fontsize=7, color="#111111")
    ax.set_yticks(y, _trim([f"{loc} / {pw}" for loc, pw in zip(t["locality"], t["pathway"])], 34),
                  fontsize=8)
    ax.invert_yaxis()
    vals = pd.concat([t["achieved"], t["floor"]]).dropna()
    if len(vals):
        lo, hi = float(vals.min()), float(vals.max())
        pad = max((hi - lo) * 0.08, 0.004)
        ax.set_xlim(lo - pad, hi + max((hi - lo) * 0.3, 0.012))
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xlabel("volume-weighted quality score (0 to 1)", fontsize=9)
    title = "Quality achieved against floors"
    ax.set_title(title, fontsize=12, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
    alt = "Quality achieved and floor per locality and pathway. " + "; ".join(
        f"{r.locality}/{r.pathway}: {r.achieved:.3f}" + (f" against a floor of {r.floor:.3f}"
                                                         if pd.notna(r.floor) else "")
        for r in table.itertuples() if pd.notna(r.achieved)) + "."
    note = (f"The {rows} closest to their floor are drawn; the table has all {len(table)}."
            if len(table) > rows else "")
    return _finish(fig, "quality", title, alt, note)


def years(table: pd.DataFrame, currency: str) -> Chart:
    """Lines per year: the plan's spend (solid, circles), today's cost at that year's demand
    (dashed, squares) and the budget (dotted, triangles); each line labelled at its end."""
    sc = money_scale(list(table["spend"]) + list(table["baseline"]) + list(table["budget"].dropna()),
                     currency)
    fig = _figure(8.6, 4.2)
    ax = fig.add_subplot()
    _style(ax)
    x = table["year"].to_numpy()
    series = [("plan's spend", table["spend"], BLUE, "-", "o"),
              ("today's cost (baseline)", table["baseline"], ORANGE, "--", "s")]
    if table["budget"].notna().any():
        series.append(("budget", table["budget"], BLACK, ":", "^"))
    for label, vals, colour, ls, mk in series:
        ax.plot(x, vals / sc.divisor, color=colour, linestyle=ls, marker=mk, linewidth=2,
                markersize=6, markeredgecolor=BLACK, markeredgewidth=0.5, label=label)
        last = vals.dropna()
        if len(last):
            ax.annotate(label, (x[-1], float(vals.iloc[-1]) / sc.divisor), xytext=(8, 0),
                        textcoords="offset points", va="center", fontsize=8, color="#111111")
    ax.set_xticks(x, [str(v) for v in x])
    ax.set_xlim(x.min() - 0.3, x.max() + 1.2)
    ax.set_ylabel(f"{sc.unit()} a year (undiscounted)", fontsize=10)
    ax.set_xlabel("year", fontsize=9)
    ax.margins(y=0.12)
    title = "Year by year: spend, today's cost and budget"
    ax.set_title(title, fontsize=12, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3)
    alt = "Year by year. " + "; ".join(
        f"{r.year}: spend {sc.fmt(r.spend)}, today's cost {sc.fmt(r.baseline)}"
        + (f", budget {sc.fmt(r.budget)}" if pd.notna(r.budget) else "")
        for r in table.itertuples()) + "."
    return _finish(fig, "years", title, alt, "The cost axis does not start at zero.")
