"""``report.html``: one self-contained page a commissioning board can read, print or share.

No network is needed to view it: the CSS and the few lines of JavaScript that sort tables
are inline, the charts are inline SVG, and nothing is loaded from anywhere. Every piece of
text from the run is HTML-escaped.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

from ..results.text import money
from . import charts, data
from .data import Run

TOP_WORTH = 8
"""How many binding limits the page states as sentences (largest |shadow price| first)."""
MAX_TABLE_ROWS = 500
"""Most rows an HTML table holds; the workbook and the CSVs have every row."""

SECTIONS = {
    "headline": "Headline",
    "waterfall": "From today's cost to the plan's",
    "designs": "Pathway designs adopted",
    "make-buy": "Make or buy",
    "hospital": "Activity moved out of hospital",
    "capacity": "Capacity utilisation",
    "units": "Whole units and heads",
    "constraints": "Binding constraints and what relaxing them is worth",
    "quality": "Quality achieved against floors",
    "years": "Year by year",
    "diagnosis": "Why there is no plan",
    "about": "About this run",
}
"""Each section's id and heading, in page order."""

CSS = """
:root { --ink: #1a1a1a; --muted: #4d4d4d; --rule: #c8c8c8; --blue: #0072B2; --band: #f3f6f9; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif;
  color: var(--ink); background: #fff; margin: 0; line-height: 1.45; font-size: 16px; }
main { max-width: 1120px; margin: 0 auto; padding: 0 24px 48px; }
header.top { border-bottom: 3px solid var(--blue); padding: 20px 0 12px; margin-bottom: 8px; }
header.top h1 { margin: 0; font-size: 1.7rem; }
header.top p { margin: 4px 0 0; color: var(--muted); }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; list-style: none; padding: 0; margin: 10px 0 0; font-size: 0.9rem; }
nav a { color: var(--blue); }
section { border-top: 1px solid var(--rule); padding-top: 12px; margin-top: 28px; }
section#headline { border-top: none; margin-top: 12px; }
h2 { font-size: 1.35rem; margin: 0 0 10px; }
h3 { font-size: 1.05rem; margin: 18px 0 6px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 14px; margin: 8px 0 14px; }
.tile { border: 2px solid var(--ink); border-radius: 6px; padding: 12px 16px; background: #fff; }
.tile .label { display: block; font-size: 0.95rem; color: var(--muted); }
.tile .value { display: block; font-size: 2.1rem; font-weight: 700; letter-spacing: -0.01em; }
.tile .sub { display: block; font-size: 0.9rem; color: var(--muted); }
.tile.savings { border-color: var(--blue); background: var(--band); }
p.lead { font-size: 1.2rem; margin: 6px 0 10px; }
ul.points { margin: 6px 0; padding-left: 1.3em; }
ul.points li { margin: 3px 0; }
figure { margin: 10px 0 14px; break-inside: avoid; page-break-inside: avoid; }
figure svg.chart { width: 100%; max-width: 900px; height: auto; display: block; }
figcaption { font-size: 0.88rem; color: var(--muted); margin-top: 4px; }
.note { font-size: 0.9rem; color: var(--muted); }
.warn { border-left: 4px solid #D55E00; padding: 6px 10px; background: #fff6ef; }
.tablewrap { overflow-x: auto; max-height: 34rem; overflow-y: auto; border: 1px solid var(--rule); }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-size: 0.85rem; color: var(--muted); padding: 4px 6px; caption-side: top; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
thead th { position: sticky; top: 0; background: #eef1f4; text-align: left; border-bottom: 2px solid var(--ink); }
td.num { text-align: right; white-space: nowrap; }
th.num { text-align: right; }
td.wrap { overflow-wrap: anywhere; min-width: 14em; }
th button { font: inherit; font-weight: 700; color: inherit; background: none; border: 0; padding: 0;
  cursor: pointer; text-align: inherit; width: 100%; }
th button:focus-visible { outline: 3px solid var(--blue); outline-offset: 2px; }
th button::after { content: " \\2195"; color: #8a8a8a; font-weight: 400; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; color: var(--ink); }
th[aria-sort="descending"] button::after { content: " \\25BC"; color: var(--ink); }
tbody tr:nth-child(even) { background: #fafafa; }
dl.about { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; font-size: 0.9rem; }
dl.about dt { color: var(--muted); }
dl.about dd { margin: 0; overflow-wrap: anywhere; }
@page { size: A4; margin: 14mm; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  .tablewrap { max-height: none; overflow: visible; border: 0; }
  thead th { position: static; }
  th button::after { content: none !important; }
  section { break-before: auto; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

SCRIPT = """
(function () {
  "use strict";
  function cellKey(cell, numeric) {
    var v = cell ? cell.getAttribute("data-v") : null;
    if (numeric) { var x = (v === null || v === "") ? NaN : parseFloat(v); return x; }
    return ((v !== null) ? v : (cell ? cell.textContent : "")).toLowerCase();
  }
  function sortTable(th) {
    var row = th.parentNode, table = th.closest("table"), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(row.children, th);
    var numeric = th.getAttribute("data-type") === "number";
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    var keys = rows.map(function (r, i) { return [cellKey(r.cells[col], numeric), i, r]; });
    keys.sort(function (a, b) {
      var x = a[0], y = b[0], c = 0;
      if (numeric) {
        var nx = isNaN(x), ny = isNaN(y);
        if (nx || ny) { return nx === ny ? a[1] - b[1] : (nx ? 1 : -1); }
        c = x - y;
      } else { c = x < y ? -1 : (x > y ? 1 : 0); }
      if (dir === "descending") { c = -c; }
      return c || a[1] - b[1];
    });
    keys.forEach(function (k) { body.appendChild(k[2]); });
    Array.prototype.forEach.call(row.children, function (h) {
      if (h.hasAttribute("aria-sort")) { h.setAttribute("aria-sort", "none"); }
    });
    th.setAttribute("aria-sort", dir);
  }
  window.carepathSortTable = sortTable;
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable th button"), function (b) {
    b.addEventListener("click", function () { sortTable(b.closest("th")); });
  });
})();
"""


# ---------------------------------------------------------------------------------------
# small builders


def _e(v) -> str:
    return escape("" if v is None else str(v), quote=True)


def _isnum(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
        and math.isfinite(float(v))


class Col:
    """A table column: heading, how a value is shown, and whether it sorts as a number."""

    def __init__(self, key: str, head: str, fmt=None, numeric: bool = False, wrap: bool = False):
        self.key, self.head, self.numeric, self.wrap = key, head, numeric, wrap
        self.fmt = fmt or (lambda v: "" if v is None else str(v))


def table(frame: pd.DataFrame, cols: list[Col], caption: str, tid: str,
          limit: int = MAX_TABLE_ROWS) -> str:
    """A sortable table: each heading a button (keyboard-accessible), ``aria-sort`` on the
    headings, and each numeric cell's exact value in ``data-v`` for sorting."""
    rows = frame.head(limit)
    num = ' class="num" data-type="number"'
    head = "".join(
        f'<th scope="col" aria-sort="none"{num if c.numeric else ""}>'
        f'<button type="button">{_e(c.head)}</button></th>' for c in cols)
    body = []
    for rec in rows.to_dict("records"):
        cells = []
        for c in cols:
            v = rec.get(c.key)
            missing = v is None or (isinstance(v, float) and math.isnan(v))
            shown = "" if missing else c.fmt(v)
            if c.numeric:
                dv = "" if missing or not _isnum(v) else repr(float(v))
                cells.append(f'<td class="num" data-v="{dv}">{_e(shown)}</td>')
            else:
                cells.append(f'<td class="wrap">{_e(shown)}</td>' if c.wrap else f"<td>{_e(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f" Showing {limit:,} of {len(frame):,} rows; the workbook and the CSVs have them all."
            if len(frame) > limit else "")
    return (f'<div class="tablewrap"><table class="sortable" id="{_e(tid)}">'
            f"<caption>{_e(caption)} Select a column heading to sort by it.{_e(more)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def figure(chart: charts.Chart) -> str:
    note = f" {_e(chart.note)}" if chart.note else ""
    return (f'<figure id="fig-{_e(chart.key)}">{chart.svg}'
            f"<figcaption>{_e(chart.title)}.{note} The table below has the same numbers."
            f"</figcaption></figure>")


def section(key: str, body: str, heading: str | None = None) -> str:
    return (f'<section id="{key}" aria-labelledby="{key}-h">'
            f'<h2 id="{key}-h">{_e(heading or SECTIONS[key])}</h2>{body}</section>')


def _count(v) -> str:
    return f"{v:,.0f}"


def _amount(v) -> str:
    """A limit or an amount in its own units: whole numbers from 10,000 up, else 4
    significant digits."""
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:,.4g}"


def _pct(v, digits: int = 0) -> str:
    return f"{v:.{digits}%}"


# ---------------------------------------------------------------------------------------
# the page


def render(run: Run) -> str:
    cur = run.currency
    m = lambda v, d=0: money(v, cur, d)  # noqa: E731
    parts = [_headline(run, m)]
    if run.solved:
        parts.append(_waterfall(run, m))
        if "designs" in run.summary:  # a scenario with variants (SPEC section 11)
            parts.append(_designs(run, m))
        parts += [_make_buy(run), _hospital(run), _capacity(run)]
        if run.units is not None or not data.heads(run).empty:
            parts.append(_units(run, m))
        parts += [_constraints(run, m), _quality(run)]
        if run.multi_year:
            parts.append(_years(run, m))
    else:
        parts.append(_diagnosis(run, m))
    parts.append(_about(run, m))
    present = [p.split('id="', 1)[1].split('"', 1)[0] for p in parts]
    nav = "".join(f'<li><a href="#{k}">{_e(SECTIONS[k])}</a></li>' for k in present)
    title = f"{run.scenario}: care pathway plan"
    sub = {"optimal": "optimal plan", "feasible": "feasible plan (stopped within the gap)"}.get(
        run.status, f"no plan ({run.status})")
    if run.multi_year:
        sub += f", {run.years_label}"
    return ("<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta name=\"generator\" content=\"carepath {_e(run.summary.get('version', ''))}\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
            f"<header class=\"top\"><h1>{_e(run.scenario)}</h1><p>Care pathway make-or-buy "
            f"report: {_e(sub)}.</p><nav aria-label=\"Sections\"><ol>{nav}</ol></nav></header>"
            + "".join(parts) + f"</main><script>{SCRIPT}</script></body></html>\n")


def _headline(run: Run, m) -> str:
    s = run.summary
    span = run.years_label
    rate = (s.get("horizon") or {}).get("discount_rate") or 0.0
    over = (f" over {span}" + (f" (discounted at {rate:.1%} a year)" if rate else "")
            if run.multi_year else "")
    if not run.solved:
        why = {"infeasible": "No plan meets every requirement.",
               "time_limit": "No plan was found within the time limit.",
               "unbounded": "The model is unbounded: check the config's costs."}.get(
            run.status, f"The solver failed: {(s.get('solver') or {}).get('message', '')}")
        tiles = (f'<div class="tiles"><div class="tile"><span class="label">Plan</span>'
                 f'<span class="value" id="headline-status">No plan</span>'
                 f'<span class="sub">status: {_e(run.status)}</span></div>'
                 f'<div class="tile"><span class="label">Today\'s cost{_e(over)}</span>'
                 f'<span class="value" id="headline-baseline">{_e(m(s.get("baseline_cost")))}'
                 f"</span></div></div>")
        extra = ('<p>The sections below explain why and what to relax: '
                 '<a href="#diagnosis">Why there is no plan</a>.</p>' if run.diagnosis else "")
        return section("headline", f'<p class="lead">{_e(why)}</p>{tiles}{extra}')
    obj, base, sav = float(s["objective"]), float(s["baseline_cost"]), float(s["savings"])
    pct = sav / base if base else 0.0
    verb = "saves" if sav >= 0 else "costs"
    lead = (f"The plan costs {m(obj)} against {m(base)} today{over}: it {verb} "
            f"{m(abs(sav))} ({abs(pct):.1%}{'' if sav >= 0 else ' more'}).")
    tiles = (
        '<div class="tiles">'
        f'<div class="tile"><span class="label">Plan cost{_e(over)}</span>'
        f'<span class="value" id="headline-objective">{_e(m(obj))}</span></div>'
        f'<div class="tile"><span class="label">Today\'s cost (baseline)</span>'
        f'<span class="value" id="headline-baseline">{_e(m(base))}</span></div>'
        f'<div class="tile savings"><span class="label">{"Savings" if sav >= 0 else "Extra cost"}</span>'
        f'<span class="value" id="headline-savings">{_e(m(sav))}</span>'
        f'<span class="sub" id="headline-savings-pct">{pct:.1%} of today\'s cost</span></div>'
        "</div>")
    return section("headline", f'<p class="lead" id="headline-sentence">{_e(lead)}</p>{tiles}'
                   f'<h3>Key points</h3><ul class="points">'
                   + "".join(f"<li>{_e(p)}</li>" for p in _key_points(run, m)) + "</ul>")


def _key_points(run: Run, m) -> list[str]:
    s, out = run.summary, []
    if s["status"] == "feasible":
        gap = (s.get("solver") or {}).get("gap") or 0.0
        out.append(f"The solver stopped at a limit: this plan is within {gap:.3%} of the best "
                   "possible.")
    span = f" over {run.years_label}" if run.multi_year else " a year"
    h = data.out_of_hospital(run)
    today, plan = float(h["hospital_today"].sum()), float(h["hospital_plan"].sum())
    if today > 0:
        moved = today - plan
        if abs(moved) >= 0.5:
            out.append(f"{abs(moved):,.0f} {'fewer' if moved > 0 else 'more'} hospital activities"
                       f"{span} ({abs(moved) / today:.0%} of today's hospital activity).")
        else:
            out.append("Hospital activity stays as it is today.")
    mb = data.make_buy(run, "pathway")
    made0, all0 = mb["made_today"].sum(), (mb["made_today"] + mb["bought_today"]).sum()
    made1, all1 = mb["made_plan"].sum(), (mb["made_plan"] + mb["bought_plan"]).sum()
    if all0 > 0 and all1 > 0:
        out.append(f"Own services deliver {made1 / all1:.0%} of activity in the plan, against "
                   f"{made0 / all0:.0%} today.")
    if run.multi_year:
        first = run.by_year[0]
        payback = s.get("payback_year")
        if (first.get("savings") or 0.0) < 0:
            out.append(f"Invest to save: {first['year']} costs {m(-first['savings'])} more than "
                       "today; " + (f"cumulative savings turn positive in {payback}."
                                    if payback is not None else "it does not pay back within the plan."))
        elif payback is not None:
            out.append(f"Saves from the first year ({payback}).")
    b = data.binding(run)
    worth = b[(b["meaning"].fillna("") != "")]
    if len(worth):
        out.append(f"The limit worth most to relax: {worth['meaning'].iloc[0]}.")
    util = data.utilisation(run)
    full = util[util["utilisation"] >= 0.999]["resource"].unique()
    if len(full):
        out.append(f"Fully used: {', '.join(map(str, full[:4]))}"
                   + (f" and {len(full) - 4} more" if len(full) > 4 else "") + ".")
    q = data.quality(run)
    below = q[(q["margin"] < -1e-4)]
    tight = q[(q["margin"].abs() <= 1e-4)]
    if len(below):
        out.append(f"{len(below)} quality floors are not met (see the quality section).")
    elif len(q) and q["floor"].notna().any():
        out.append("Every quality floor is met" + (f"; {len(tight)} exactly at the floor." if len(tight) else "."))
    return out


def _waterfall(run: Run, m) -> str:
    steps, exact = data.waterfall(run)
    span = (f"discounted totals {run.years_label}" if run.multi_year else "")
    chart = charts.waterfall(steps, run.currency, span)
    change = [None] + [v for _, v in steps[1:-1]] + [None]
    total = np.cumsum([steps[0][1]] + [v for _, v in steps[1:-1]]).tolist() + [steps[-1][1]]
    rows = pd.DataFrame({"step": [s for s, _ in steps], "change": change, "total": total})
    est = ("" if exact else
           '<p class="note warn">This run was written before summary.json held today\'s cost by '
           "part: the steps are estimated from allocation.csv (fixed costs and block-contract "
           "top-ups together under fixed costs).</p>")
    rule = ("<p class=\"note\">Each step is the plan's cost part minus today's (bought care, "
            "own services' activity, their fixed costs, overhead, extra staff, setting up "
            "services; and, where the scenario has them, adopting new pathway designs, whole "
            "units and resource costs); the steps add up to the difference between the two "
            "totals.</p>")
    return section("waterfall", est + figure(chart) + rule + table(
        rows, [Col("step", "step"),
               Col("change", "change (plan minus today)", lambda v: ("+" if v > 0 else "") + m(v), True),
               Col("total", "running total", m, True)],
        "Today's cost, the change in each part, and the plan's cost"
        + (" (discounted totals)." if run.multi_year else "."), "t-waterfall"))


def _designs(run: Run, m) -> str:
    """SPEC section 11: which localities leave today's design of a pathway, and what each
    adoption saves (summary.json ``designs`` and ``adoptions``)."""
    chosen = run.summary.get("designs") or {}
    t = data.designs(run)
    pairs = len(chosen)
    if t.empty:
        return section("designs", f"<p id=\"designs-sentence\">Every locality keeps today's design "
                       f"of every pathway ({pairs:,} locality-pathway pairs): no redesign is "
                       "adopted.</p>")
    total = float(t["saves"].sum())
    lead = (f"{len(t):,} of {pairs:,} locality-pathway pairs adopt a new design; together they "
            f"save {m(total)}" + (" (discounted totals)" if run.multi_year else "")
            + " after their adoption costs.")
    note = ("<p class=\"note\">Savings compare each pathway's own activity costs in the "
            "locality (with overhead) today and in the plan, less the adoption cost; fixed, "
            "unit and resource costs are shared by many pathways and are not attributed.</p>")
    cols = [Col("locality", "locality"), Col("pathway", "pathway"), Col("name", "design"),
            *([Col("year", "adopted in", lambda v: f"{v:.0f}", True)] if "year" in t else []),
            Col("adoption_cost", "adoption cost", m, True),
            Col("activity_cost_today", "activity cost today", m, True),
            Col("activity_cost_plan", "activity cost in plan", m, True),
            Col("saves", "saves", m, True)]
    return section("designs", f'<p id="designs-sentence">{_e(lead)}</p>{note}' + table(
        t, cols, "Designs adopted per locality and pathway and what each saves.", "t-designs"))


def _units(run: Run, m) -> str:
    """SPEC section 11: whole units held per provider and activity (units.csv) and the
    whole heads of ``whole`` resources (resources.csv rows with a provider)."""
    out = []
    yr = lambda t: [Col("year", "year", str, True)] if "year" in t else []  # noqa: E731
    u = run.units
    if u is not None and len(u):
        out.append("<h3>Whole units</h3>" + table(u, yr(u) + [
            Col("provider", "provider"), Col("activity", "activity"),
            Col("size", "activities per unit", _amount, True),
            Col("units", "units held", lambda v: f"{v:,.4g}", True),
            Col("baseline_units", "units today", lambda v: f"{v:,.4g}", True),
            Col("volume", "activities", _count, True),
            Col("utilisation", "utilisation", lambda v: _pct(v, 1), True),
            Col("cost", "cost (with overhead)", m, True)],
            "Whole units (beds, clinics, teams) per provider and activity: how many the plan "
            "holds, the activities they carry and what they cost.", "t-units"))
    h = data.heads(run)
    if len(h):
        out.append("<h3>Whole heads</h3>" + table(h, yr(h) + [
            Col("resource", "resource"), Col("provider", "provider"), Col("activity", "activity"),
            Col("used", "heads held", lambda v: f"{v:,.4g}", True),
            Col("need", "heads needed before rounding", lambda v: f"{v:,.4g}", True)],
            "Resources held in whole heads, per provider and activity.", "t-heads"))
    return section("units", "".join(out) or "<p>No whole units or heads.</p>")


def _make_buy(run: Run) -> str:
    span = f"all years {run.years_label}" if run.multi_year else ""
    out = []
    for by in ("pathway", "locality"):
        t = data.make_buy(run, by)
        out.append(f"<h3>By {by}</h3>" + figure(charts.make_buy(t, by, span)) + table(
            t, [Col(by, by), Col("made_today", "made today", _count, True),
                Col("bought_today", "bought today", _count, True),
                Col("share_today", "share made today", _pct, True),
                Col("made_plan", "made in plan", _count, True),
                Col("bought_plan", "bought in plan", _count, True),
                Col("share_plan", "share made in plan", _pct, True),
                Col("cost_plan", "cost of activity in plan", lambda v: money(v, run.currency), True)],
            f"Activities made by own services and bought, by {by}"
            + (f", summed over {run.years_label}." if run.multi_year else "."), f"t-makebuy-{by}"))
    return section("make-buy", "".join(out))


def _hospital(run: Run) -> str:
    t = data.out_of_hospital(run)
    if float(t["hospital_today"].sum() + t["hospital_plan"].sum()) <= 0:
        return section("hospital", '<p>No activity is delivered in a hospital setting (a setting '
                       "whose name contains \u201chospital\u201d), today or in the plan.</p>")
    span = f"all years {run.years_label}" if run.multi_year else ""
    t = t.assign(moved_share=(t["moved"] / t["hospital_today"]).where(t["hospital_today"] > 0))
    return section("hospital", figure(charts.hospital(t, span)) + table(
        t, [Col("pathway", "pathway"), Col("hospital_today", "in hospital today", _count, True),
            Col("hospital_plan", "in hospital in plan", _count, True),
            Col("moved", "moved out", _count, True),
            Col("moved_share", "moved out (% of today)", _pct, True),
            Col("share_today", "hospital share today", _pct, True),
            Col("share_plan", "hospital share in plan", _pct, True)],
        "Activities delivered in hospital settings (settings whose name contains "
        "\u201chospital\u201d), today and in the plan"
        + (f", summed over {run.years_label}." if run.multi_year else "."), "t-hospital"))


def _capacity(run: Run) -> str:
    t = data.utilisation(run)
    if t.empty:
        return section("capacity", "<p>The scenario has no capacity-limited resources.</p>")
    cols = ([Col("year", "year", str, True)] if "year" in t else []) + [
        Col("resource", "resource"), Col("capacity", "capacity", _count, True),
        Col("expansion_steps", "expansion steps", lambda v: f"{v:g}", True),
        Col("available", "available", _count, True), Col("used", "used", _count, True),
        Col("utilisation", "utilisation", lambda v: _pct(v, 1), True)]
    return section("capacity", figure(charts.utilisation(t)) + table(
        t, cols, "Each resource's capacity, expansion bought, use and utilisation.", "t-capacity"))


def _constraints(run: Run, m) -> str:
    b = data.binding(run)
    mode = (run.summary.get("solver") or {}).get("mode", "")
    if b.empty:
        return section("constraints", "<p>No limit binds: the plan is the cheapest without any "
                       "constraint biting.</p>")
    worth = b[b["meaning"].fillna("") != ""].head(TOP_WORTH)
    intro = ("<p>A binding limit is one the plan runs up against. The shadow price is the change "
             "in total cost if the limit were one unit looser, so it says what relaxing it is "
             "worth" + (" (from the LP with the open services and staff increments fixed)"
                        if mode == "milp" else "") + ".</p>")
    if len(worth):
        items = "".join(f"<li>{_e(s)} <span class=\"note\">[{_e(n)}]</span></li>"
                        for s, n in zip(worth["meaning"], worth["name"]))
        listing = f"<h3>Worth most</h3><ol class=\"points\" id=\"worth-list\">{items}</ol>"
    elif mode == "cp":
        listing = "<p>cp mode gives no shadow prices; solve with --mode lp or milp for them.</p>"
    else:
        listing = "<p>No binding limit has a non-zero shadow price.</p>"
    cols = ([Col("year", "year", str, True)] if "year" in b else []) + [
        Col("name", "constraint", wrap=True), Col("kind", "kind"),
        Col("limit", "limit", _amount, True),
        Col("shadow_price", "shadow price", lambda v: m(v, 2), True),
        Col("meaning", "what relaxing it is worth")]
    return section("constraints", intro + listing + f"<h3>Every binding limit ({len(b):,})</h3>"
                   + table(b, cols, "Binding limits (flow balances and block-contract payments "
                           "left out), largest shadow price first.", "t-constraints"))


def _quality(run: Run) -> str:
    q = data.quality(run)
    if q.empty or q["achieved"].isna().all():
        return section("quality", "<p>No quality scores are known for this plan.</p>")
    note = ("<p class=\"note\">Floors are read back from the quality rows of constraints.csv "
            "(each is <code>sum (quality - floor) &times; volume &ge; 0</code>); achieved "
            "quality is volume-weighted" + (" over every year" if run.multi_year else "")
            + ".</p>")
    return section("quality", figure(charts.quality(q)) + note + table(
        q, [Col("locality", "locality"), Col("pathway", "pathway"),
            Col("achieved", "achieved", lambda v: f"{v:.4f}", True),
            Col("floor", "floor", lambda v: f"{v:.4f}", True),
            Col("margin", "margin above floor", lambda v: f"{v:+.4f}", True)],
        "Quality achieved per locality and pathway against its floor.", "t-quality"))


def _years(run: Run, m) -> str:
    t = data.years(run)
    s = run.summary
    payback = s.get("payback_year")
    first = run.by_year[0]
    cumulative = float(t["savings"].sum())
    if (first.get("savings") or 0.0) < 0:
        line = (f"Invest to save: {first['year']} costs {m(-first['savings'])} more than today; "
                + (f"cumulative savings turn positive in {payback} (payback year)."
                   if payback is not None else
                   f"it does not pay back by {run.by_year[-1]['year']} (cumulative {m(cumulative)})."))
    else:
        line = (f"Saves from the first year; cumulative savings {m(cumulative)} over "
                f"{len(t)} years.")
    cols = [Col("year", "year", str, True), Col("spend", "spend", m, True),
            Col("baseline", "today's cost", m, True), Col("savings", "savings", m, True),
            Col("budget", "budget", m, True), Col("carry", "carried forward", m, True),
            Col("setup", "setup", m, True), Col("running", "services running"),
            Col("staff", "staff increments held")]
    return section("years", f'<p id="payback">{_e(line)}</p>' + figure(charts.years(t, run.currency))
                   + table(t, cols, "Each year undiscounted: spend, today's cost at that year's "
                           "demand, savings, budget, what is carried into the next year, "
                           "setup, services running and staff increments.", "t-years"))


def _at(where, key) -> str:
    return f"{where}: {key}" if key else str(where or "")


def _diagnosis(run: Run, m) -> str:
    d = run.diagnosis
    skipped = ("<p class=\"note\">The plan sections (waterfall, make or buy, hospital activity, "
               "capacity, binding limits, quality) are left out: there is no plan to show.</p>")
    if not d:
        return section("diagnosis", skipped + "<p>No diagnosis was written for this run "
                       "(diagnosis.json is missing). <code>carepath explain CONFIG</code> gives one "
                       "for an infeasible config.</p>")
    out = [skipped]
    if d.get("presolve"):
        out.append("<h3>Found before solving</h3><ul class=\"points\">" + "".join(
            f"<li>{_e(f.get('message'))} <span class=\"note\">({_e(_at(f.get('where'), f.get('key')))})"
            "</span></li>" for f in d["presolve"]) + "</ul>")
    if d.get("message"):
        out.append(f"<p>{_e(d['message'])}</p>")
    if d.get("relaxation"):
        rel = pd.DataFrame([{"message": r.get("message"), "constraint": r.get("constraint"),
                             "kind": r.get("kind"), "limit": r.get("limit"),
                             "relax_by": r.get("relax_by"), "at": _at(r.get("where"), r.get("key"))}
                            for r in d["relaxation"]])
        out.append("<h3>The least relaxation that gives a plan</h3><ul class=\"points\" "
                   "id=\"relaxation-list\">" + "".join(f"<li>{_e(x)}</li>" for x in rel["message"])
                   + "</ul>" + table(rel, [
                       Col("message", "what to relax"), Col("constraint", "constraint"),
                       Col("kind", "kind"),
                       Col("limit", "limit", _amount, True),
                       Col("relax_by", "relax by", _amount, True),
                       Col("at", "set at")],
                       "Each requirement to relax and by how much (domain units).", "t-relaxation"))
    if d.get("conflict"):
        con = pd.DataFrame([{"message": c.get("message"), "constraint": c.get("constraint"),
                             "kind": c.get("kind"), "at": _at(c.get("where"), c.get("key"))}
                            for c in d["conflict"]])
        proven = " (drop any one and a plan exists)" if d.get("irreducible") else ""
        out.append(f"<h3>These requirements conflict{_e(proven)}</h3>" + table(con, [
            Col("message", "requirement"), Col("constraint", "constraint"), Col("kind", "kind"),
            Col("at", "set at")], "The conflicting requirements.", "t-conflict"))
    if d.get("integrality_only"):
        out.append("<p>The conflict comes from whole units (services open or not, staff in whole "
                   "increments): with fractions allowed a plan would exist.</p>")
    return section("diagnosis", "".join(out))


def _about(run: Run, m) -> str:
    s = run.summary
    solver = s.get("solver") or {}
    model = s.get("model") or {}
    chk = s.get("check") or {}
    items = [
        ("scenario", run.scenario), ("status", run.status),
        ("solver", f"{solver.get('mode', '')} on {solver.get('backend', '')} "
                   f"({solver.get('version', '')}), {solver.get('seconds', '')} s"),
        ("model", f"{model.get('variables', '')} variables, {model.get('constraints', '')} "
                  f"constraints, {model.get('nonzeros', '')} nonzeros"),
    ]
    if s.get("cost"):
        items.append(("cost parts", ", ".join(f"{k} {m(v)}" for k, v in s["cost"].items() if v)))
    if chk:
        items.append(("independent check", f"worst violation {chk.get('max_violation', 0):.2g}; "
                      f"cost recomputed {m(chk.get('objective_recomputed'))}"))
    if s.get("overrides"):
        items.append(("overrides", " ".join(f"--set {o}" for o in s["overrides"])))
    items.append(("inputs", ", ".join(str(f.get("path")) for f in s.get("inputs") or [])))
    items.append(("input sha256", s.get("input_sha256", "")))
    items.append(("carepath", s.get("version", "")))
    items.append(("run folder", run.folder.name))
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    return section("about", f'<dl class="about">{body}</dl><p class="note">Made from the run '
                   "folder's summary.json, allocation.csv, constraints.csv, resources.csv"
                   + (", units.csv" if run.units is not None else "") + " and "
                   "diagnosis.json; report.xlsx holds the same tables.</p>")
