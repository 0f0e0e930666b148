"""The readable plan printed on the terminal after a solve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .result import Result
from .tables import DEFINITIONS

_SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}
_KIND_WORDS = {
    "capacity": "capacity of",
    "budget": "budget",
    "quality": "quality floor",
    "pace": "pace of change",
    "setting_cap": "setting cap",
    "block_contract": "block contract",
    "min_volume": "minimum volume",
    "running_max": "running limit",
    "demand_floor": "avoided demand cap",
    "year_pace": "pace of change from year to year",
    "persistence": "service keeps running",
    "held_expansion": "staff increments kept",
    "setup": "setup",
    "max_redesigns": "most redesigns",
    "units": "whole units of",
    "heads": "whole heads of",
    "uptake_min": "least uptake",
    "uptake_max": "most uptake",
}


def money(v: float | None, currency: str = "GBP", decimals: int = 0) -> str:
    if v is None:
        return "n/a"
    sym = _SYMBOL.get(currency)
    sign = "-" if v < 0 else ""
    body = f"{abs(v):,.{decimals}f}"
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency}"


def render(result: Result, out_dir: str | None = None, top: int = 8) -> str:
    s = result.summary
    cur = s.get("currency", "GBP")
    solver = s["solver"]
    lines = [f"{s['scenario']}: {solver['mode']} on {solver['backend']}: {s['status']} "
             f"in {solver['seconds']:.2f} s"]
    if not result.solved:
        lines.append({
            "infeasible": "No plan meets every constraint (exit 3).",
            "time_limit": "No feasible plan was found within the time limit (exit 4); "
                          "raise --time-limit.",
            "unbounded": "The model is unbounded: check the config's costs.",
        }.get(s["status"], f"The solver failed: {solver.get('message', '')}"))
        lines.append(f"Baseline (today) costs {money(s['baseline_cost'], cur)}.")
        if result.diagnosis:
            lines.extend(render_diagnosis(result.diagnosis))
    else:
        if s["status"] == "feasible":
            lines.append(f"Stopped at a limit with a feasible plan; gap {100 * (solver['gap'] or 0):.3f}%.")
        saving = s["savings"] or 0.0
        pct = 100 * saving / s["baseline_cost"] if s["baseline_cost"] else 0.0
        lines.append(f"Total cost {money(s['objective'], cur)} against {money(s['baseline_cost'], cur)} "
                     f"today: {'saves' if saving >= 0 else 'costs'} {money(abs(saving), cur)} "
                     f"({abs(pct):.1f}%{'' if saving >= 0 else ' more'}).")
        c = s["cost"]
        lines.append("  " + ", ".join(f"{k} {money(v, cur)}" for k, v in c.items() if v))
        if s.get("by_year"):
            lines.append("")
            lines.extend(year_table(s, cur))
        if "designs" in s:
            lines.append("")
            lines.extend(designs_text(s, cur))
        if result.units is not None or s.get("whole_heads"):
            lines.append("")
            lines.extend(whole_text(result, cur))
        lines.append("")
        lines.extend(_make_buy(result.allocation, cur))
        lines.append("")
        lines.extend(_binding(result.constraints, cur, s["solver"]["mode"], top))
        chk = s.get("check", {})
        lines.append("")
        lines.append(f"Independent check: worst violation {chk.get('max_violation', 0):.2g}"
                     + (f" ({chk['worst']})" if chk.get("worst") else "")
                     + f"; cost recomputed {money(chk.get('objective_recomputed'), cur)}.")
    if out_dir:
        lines.append(f"Outputs written to {out_dir}")
    return "\n".join(lines)


def _names(names: list[str], most: int = 3) -> str:
    return ", ".join(names[:most]) + (f" +{len(names) - most} more" if len(names) > most else "")


def year_table(s: dict, cur: str) -> list[str]:
    """The year-by-year table of a multi-year plan, and when it pays back."""
    h = s.get("horizon", {})
    rate = h.get("discount_rate") or 0.0
    out = ["Year by year (undiscounted" + (f"; the total above is discounted at {rate:.1%} a year"
                                           if rate else "") + "):"]
    out.append(f"  {'year':<6}{'spend':>14}{'baseline':>14}{'savings':>13}{'budget':>14}"
               f"{'carry':>12}  {'services running':<30}staff increments")
    for e in s["by_year"]:
        new = set(e.get("started", []))
        running = [f"{n} (new)" if n in new else n for n in e.get("running", [])]
        staff = [f"{r} {v:g}" for r, v in e.get("expansion_steps", {}).items()]
        out.append(f"  {e['year']:<6}{money(e['spend'], cur):>14}{money(e['baseline'], cur):>14}"
                   f"{money(e['savings'], cur):>13}{money(e['budget'], cur) if e['budget'] is not None else '-':>14}"
                   f"{money(e['carry'], cur):>12}  {_names(running) or '-':<30}{_names(staff) or '-'}")
    first = s["by_year"][0]
    payback = s.get("payback_year")
    cumulative = sum(e["savings"] or 0.0 for e in s["by_year"])
    if (first["savings"] or 0.0) < 0:
        out.append(f"Invest to save: {first['year']} costs {money(-first['savings'], cur)} more "
                   "than today; " + (f"cumulative savings turn positive in {payback} (payback year)."
                                     if payback is not None else
                                     f"it does not pay back by {s['by_year'][-1]['year']} "
                                     f"(cumulative {money(cumulative, cur)})."))
    elif payback is not None:
        out.append(f"Saves from the first year ({payback}); cumulative savings "
                   f"{money(cumulative, cur)} over {len(s['by_year'])} years.")
    return out


def designs_text(s: dict, cur: str) -> list[str]:
    """Which designs the plan adopts where (SPEC section 11), and what each saves."""
    adopted = s.get("adoptions") or []
    kept = sum(1 for v in s["designs"].values() if v == "current")
    if not adopted:
        return [f"Designs: every locality keeps today's design of every pathway "
                f"({kept} locality-pathway pairs): no redesign is adopted."]
    out = [f"Designs adopted ({len(adopted)} of {len(s['designs'])} locality-pathway pairs; "
           "the rest keep today's):"]
    for a in adopted:
        when = f" from {a['year']}" if "year" in a else ""
        saving = a["saves"]
        out.append(f"  {a['locality']}/{a['pathway']}: {a['name']}{when}: its activities cost "
                   f"{money(a['activity_cost_plan'], cur)} against {money(a['activity_cost_today'], cur)} "
                   f"today; after {money(a['adoption_cost'], cur)} adoption it "
                   + (f"saves {money(saving, cur)}" if saving >= 0 else f"costs {money(-saving, cur)} more"))
    return out


def whole_text(result: Result, cur: str) -> list[str]:
    """Whole units and heads held (SPEC section 11), each against what the volumes need."""
    out = ["Whole units and heads (rounded up to what the volumes need):"]
    u = result.units
    if u is not None:
        last = u[u["year"] == u["year"].max()] if "year" in u else u
        for r in last[(last["units"] > 0) | (last["volume"] > 0)].itertuples():
            out.append(f"  {r.provider} {r.activity}: {r.units:g} units of {r.size:g} for "
                       f"{r.volume:,.1f} activities ({money(r.cost, cur)})")
    res = result.resources
    if res is not None and "provider" in res:
        last = res[res["year"] == res["year"].max()] if "year" in res else res
        for r in last[last["provider"].notna() & ((last["used"] > 0) | (last["need"] > 0))].itertuples():
            out.append(f"  {r.resource} for {r.provider} {r.activity}: {r.used:g} heads for "
                       f"{r.need:.2f} needed")
    return out


def _make_buy(alloc: pd.DataFrame, cur: str) -> list[str]:
    g = alloc.assign(made=alloc["volume"].where(alloc["mode"] == "make", 0.0),
                     made0=alloc["baseline_volume"].where(alloc["mode"] == "make", 0.0))
    g = g.groupby("pathway", sort=False)[["made", "volume", "made0", "baseline_volume", "cost"]].sum()
    span = ""
    if "year" in alloc and alloc["year"].nunique() > 1:
        span = f", all years {alloc['year'].min()}-{alloc['year'].max()}"
    out = [f"Make vs buy by pathway (share of activity made in-house, today -> plan{span}):"]
    out.append(f"  {'pathway':<22}{'today':>8}{'plan':>8}{'activities':>12}{'cost':>14}")
    for p, r in g.iterrows():
        today = r["made0"] / r["baseline_volume"] if r["baseline_volume"] > 0 else 0.0
        plan = r["made"] / r["volume"] if r["volume"] > 0 else 0.0
        out.append(f"  {p:<22}{today:>8.0%}{plan:>8.0%}{r['volume']:>12,.0f}{money(r['cost'], cur):>14}")
    return out


def _binding(cons: pd.DataFrame, cur: str, mode: str, top: int) -> list[str]:
    kinds = cons["kind"].to_numpy()
    bmask = cons["binding"].to_numpy(bool) & ~np.isin(kinds, list(DEFINITIONS))
    n_binding = int(bmask.sum())
    if not n_binding:
        return ["No limit binds: the plan is the cheapest without any constraint biting."]
    b = cons.iloc[np.flatnonzero(bmask)[: top + 1]]  # names shown when nothing has a worth
    if "meaning" in cons:
        meaning = cons["meaning"].to_numpy(object)
        rows = np.flatnonzero(bmask & (meaning != "") & pd.notna(meaning))
    else:
        rows = np.zeros(0, dtype=np.int64)
    n_worth = len(rows)
    # the ``top`` largest |shadow price|, ties in row order (a stable descending sort)
    w = np.abs(cons["shadow_price"].to_numpy(float)[rows])
    if len(rows) > top:
        keep = w >= np.partition(w, len(w) - top)[len(w) - top]
        rows, w = rows[keep], w[keep]
    order = np.lexsort((rows, -w))
    worth = cons.iloc[rows[order]]
    out = ["What the binding limits are worth"
           + (" (prices from the LP with open services and staff increments fixed):"
              if mode == "milp" else ":")]
    for r in worth.head(top).itertuples():
        out.append(f"  - {r.meaning}  [{r.name}]")
    rest = n_binding - min(top, n_worth)
    if worth.empty:
        out.append("  " + ", ".join(b["name"].head(top)) + (" ..." if n_binding > top else ""))
        if mode == "cp":
            out.append("  (cp mode gives no shadow prices; solve with --mode lp or milp for them)")
    elif rest > 0:
        out.append(f"  ... and {rest} more binding limits in constraints.csv")
    return out


def _at(where: str, key: str) -> str:
    """``FILE:LINE:COL: key.path``; a table cell (``FILE:ROW:COLUMN``) has no key path."""
    return f"{where}: {key}" if key else where


def render_diagnosis(d: dict) -> list[str]:
    """The diagnosis as the terminal shows it: what to relax, and what conflicts."""
    lines: list[str] = []
    if d.get("presolve"):
        lines.append("Found before solving:")
        lines.extend(f"  - {f['message']}\n      ({_at(f['where'], f['key'])})" for f in d["presolve"])
    if d.get("message"):
        lines.append(d["message"])
    if d.get("relaxation"):
        lines.append("The least relaxation that gives a plan:")
        lines.extend(f"  - {r['message']}\n      ({_at(r['where'], r['key'])})" for r in d["relaxation"])
    if d.get("conflict"):
        proven = d.get("irreducible")
        lines.append("These requirements conflict" + (" (drop any one and a plan exists):"
                                                        if proven else ":"))
        groups: dict[tuple, list[dict]] = {}
        for c in d["conflict"]:
            groups.setdefault((c["kind"], c["where"], c["key"]), []).append(c)
        for (_, where, key), members in groups.items():
            more = f", and {len(members) - 1} more like it" if len(members) > 1 else ""
            lines.append(f"  - {members[0]['message']}{more}  ({_at(where, key)})")
        if any(len(m) > 1 for m in groups.values()):
            lines.append("  (every member is listed in diagnosis.json)")
    if d.get("integrality_only"):
        lines.append("The conflict comes from whole units (services open or not, staff in whole "
                     "increments): with fractions allowed a plan would exist.")
    return lines
