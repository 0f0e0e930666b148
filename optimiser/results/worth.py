"""What each binding limit is worth, in sentences a commissioner can act on.

A shadow price is d(total cost)/d(limit) (LP duals; in ``milp`` those of the LP with the
integer decisions fixed). Each kind of limit turns it into the move a commissioner would
make: one more hour of staff, one more activity moved to a setting, a lower minimum volume,
a floor raised by 0.01. Where the backend gives ranging, the sentence says how far the
price holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..load import Scenario
from .text import money

TINY = 1e-9


def _span(up: bool, limit: float, lo: float, hi: float, unit: str) -> str:
    """", valid up to +820 hours" from the ranging interval, when it is finite."""
    if up and np.isfinite(hi) and hi > limit:
        return f", for up to {hi - limit:,.0f} more{unit}"
    if not up and np.isfinite(lo) and lo < limit:
        return f", for up to {limit - lo:,.0f} fewer{unit}"
    return ""


def sentence(row, scenario: Scenario, volume: dict) -> str:
    sp = row.shadow_price
    if pd.isna(sp) or abs(sp) <= TINY:
        return ""
    cur = scenario.config.currency
    lo, hi, limit = row.valid_from, row.valid_to, row.limit
    kind = row.kind
    if kind == "capacity":
        verb = "saves" if sp < 0 else "costs"
        return (f"one more unit of {row.resource} {verb} {money(abs(sp), cur, 2)}"
                + _span(True, limit, lo, hi, " units"))
    if kind == "flow":
        return (f"each extra {row.activity} in {row.locality} costs {money(sp, cur, 2)}"
                if sp > 0 else f"each extra {row.activity} in {row.locality} saves "
                f"{money(-sp, cur, 2)}")
    if kind == "setting_cap":
        setting = str(row.name).rstrip("]").split(",")[-1]
        return (f"allowing one more {row.activity} in {setting} in {row.locality} saves "
                f"{money(-sp, cur, 2)}" + _span(True, limit, lo, hi, ""))
    if kind == "pace":
        return (f"letting {row.provider} lose one more {row.activity} in {row.locality} "
                f"saves {money(sp, cur, 2)}" + _span(False, limit, lo, hi, ""))
    if kind == "min_volume":
        return (f"lowering {row.provider}'s min_volume by one saves {money(sp, cur, 2)}"
                + _span(False, limit, lo, hi, ""))
    if kind == "block_contract":
        return f"each {money(1, cur, 0)} off {row.provider}'s block contract saves {money(sp, cur, 2)}"
    if kind == "budget":
        return f"each {money(1, cur, 0)} more budget saves {money(-sp, cur, 2)}"
    if kind == "quality":
        vol = volume.get((row.locality, row.pathway), 0.0)
        return (f"raising the {row.pathway} quality floor in {row.locality} by 0.01 costs about "
                f"{money(sp * 0.01 * vol, cur)}")
    return ""


def annotate(cons: pd.DataFrame, scenario: Scenario, x: np.ndarray, mode: str) -> pd.DataFrame:
    """Fill ``meaning`` for binding rows with a non-zero shadow price."""
    arcs = scenario.instance.arcs
    volume = pd.Series(x).groupby([arcs["locality"].to_numpy(), arcs["pathway"].to_numpy()]).sum().to_dict()
    mask = cons["binding"] & cons["shadow_price"].notna() & (cons["shadow_price"].abs() > TINY)
    out = cons.copy()
    fields = ["shadow_price", "valid_from", "valid_to", "limit", "kind", "resource", "activity",
              "locality", "name", "provider", "pathway"]
    flow = mask & (cons["kind"] == "flow")
    other = mask & ~flow
    if flow.any():  # one per locality and step: the bulk of a national model, in one pass
        cur = scenario.config.currency
        f = cons.loc[flow]
        out.loc[flow, "meaning"] = [
            f"each extra {a} in {loc} {'costs' if sp > 0 else 'saves'} {money(abs(sp), cur, 2)}"
            for a, loc, sp in zip(f["activity"].tolist(), f["locality"].tolist(),
                                  f["shadow_price"].tolist())]
    rows = cons.loc[other, [f for f in fields if f in cons.columns]]
    out.loc[other, "meaning"] = [sentence(r, scenario, volume) for r in rows.itertuples(index=False)]
    return out
