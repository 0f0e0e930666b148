"""What each binding limit is worth, in sentences a commissioner can act on.

A shadow price is d(total cost)/d(limit) (LP duals; in ``milp`` those of the LP with the
integer decisions fixed). Each kind of limit turns it into the move a commissioner would
make: one more hour of staff, one more activity moved to a setting, a lower minimum volume,
a floor raised by 0.01. Where the backend gives ranging, the sentence says how far the
price holds.

SPEC section 11 adds: one more whole unit of a provider's activity (``units``: the row's price
is per activity and a unit holds ``size`` of them, so the sentence says what a unit given
free of its cost and staff is worth), one more head of a ``whole`` resource needed
(``heads``), one more redesign (``max_redesigns``), and the uptake range of a design's
optional step (``uptake_min``/``uptake_max``, named with its design). A whole resource's
``capacity`` counts heads. ``design`` and ``design_kept`` rows define the design chosen and
get no sentence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..load import Scenario
from ..model import text
from .text import _SYMBOL, money

TINY = 1e-9


def _span(up: bool, limit: float, lo: float, hi: float, unit: str) -> str:
    """", valid up to +820 hours" from the ranging interval, when it is finite."""
    if up and np.isfinite(hi) and hi > limit:
        return f", for up to {hi - limit:,.0f} more{unit}"
    if not up and np.isfinite(lo) and lo < limit:
        return f", for up to {limit - lo:,.0f} fewer{unit}"
    return ""


def setting_of(name) -> str:
    """The setting of a ``setting_cap[l,p,s,setting(,year)]`` row name."""
    return str(name).rstrip("]").split("[", 1)[1].split(",")[3]


def _whole(scenario: Scenario) -> frozenset:
    """Resources counted in whole heads (SPEC section 11)."""
    res = scenario.instance.resources
    if "whole" not in res:
        return frozenset()
    return frozenset(res.loc[res["whole"].to_numpy(bool), "resource"].tolist())


def _sizes(scenario: Scenario) -> dict:
    """``(provider, activity)`` to the size of one whole unit."""
    u = scenario.instance.units
    return dict(zip(zip(u["provider"].tolist(), u["activity"].tolist()), u["size"].tolist()))


def _design(variant) -> str:
    """`` (integrated design)`` for a row of a pathway with variants, else nothing."""
    return f" ({variant} design)" if isinstance(variant, str) and variant else ""


def sentence(row, scenario: Scenario, volume: dict) -> str:
    sp = row.shadow_price
    if pd.isna(sp) or abs(sp) <= TINY:
        return ""
    cur = scenario.config.currency
    lo, hi, limit = row.valid_from, row.valid_to, row.limit
    kind = row.kind
    if kind == "capacity":
        verb = "saves" if sp < 0 else "costs"
        what = "head" if row.resource in _whole(scenario) else "unit"
        return (f"one more {what} of {row.resource} {verb} {money(abs(sp), cur, 2)}"
                + _span(True, limit, lo, hi, f" {what}s"))
    if kind == "units":
        size = _sizes(scenario).get((row.provider, row.activity), 1.0)
        verb = "is worth" if sp < 0 else "costs"
        return (f"one more whole unit of {row.provider}'s {row.activity} ({size:,g} "
                f"activities) {verb} {money(abs(sp) * size, cur, 2)}")
    if kind == "heads":
        verb = "costs" if sp > 0 else "saves"
        return (f"each extra head of {row.resource} for {row.provider}'s {row.activity} "
                f"{verb} {money(abs(sp), cur, 2)}")
    if kind == "max_redesigns":
        verb = "saves" if sp < 0 else "costs"
        return f"allowing one more redesign {verb} {money(abs(sp), cur, 2)}"
    if kind == "uptake_max":  # y <= N*max*z of a design's optional step
        verb = "saves" if sp < 0 else "costs"
        where = f"{row.locality}{_design(getattr(row, 'variant', None))}"
        return f"allowing one more {row.activity} in {where} {verb} {money(abs(sp), cur, 2)}"
    if kind == "uptake_min":  # y >= N*min*z
        verb = "saves" if sp > 0 else "costs"
        where = f"{row.locality}{_design(getattr(row, 'variant', None))}"
        return (f"lowering the minimum uptake of {row.activity} in {where} by one {verb} "
                f"{money(abs(sp), cur, 2)}")
    if kind == "flow":
        return (f"each extra {row.activity} in {row.locality} costs {money(sp, cur, 2)}"
                if sp > 0 else f"each extra {row.activity} in {row.locality} saves "
                f"{money(-sp, cur, 2)}")
    if kind == "setting_cap":
        setting = setting_of(row.name)
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


def _money(values, cur: str, decimals: int = 0) -> list[str]:
    """:func:`money` of many values."""
    sym = _SYMBOL.get(cur)
    if sym:
        return [f"{'-' if v < 0 else ''}{sym}{abs(v):,.{decimals}f}" for v in values]
    return [f"{'-' if v < 0 else ''}{abs(v):,.{decimals}f} {cur}" for v in values]


def _spans(up: bool, limit, lo, hi, unit: str) -> list[str]:
    """:func:`_span` of many rows."""
    if up:
        return [f", for up to {h - m:,.0f} more{unit}" if (h == h and h != np.inf and h > m) else ""
                for m, h in zip(limit, hi)]
    return [f", for up to {m - lo_:,.0f} fewer{unit}" if (lo_ == lo_ and lo_ != -np.inf and lo_ < m)
            else "" for m, lo_ in zip(limit, lo)]


_FIELDS = ("shadow_price", "limit", "valid_from", "valid_to", "name", "activity", "locality",
           "provider", "resource", "pathway", "variant")


def _verbs(sp: list, saves_when_negative: bool = True) -> list[str]:
    """``saves``/``costs`` per shadow price: ``saves`` for a negative one (a limit raised),
    or, with ``saves_when_negative`` False, for a positive one (a minimum lowered)."""
    return ["saves" if (v < 0 if saves_when_negative else v > 0) else "costs" for v in sp]


def _sentences(kind: str, f: dict[str, list], cur: str, volume: dict,
               whole: frozenset = frozenset(), sizes: dict | None = None) -> list[str] | None:
    """:func:`sentence` for every row of ``f`` (columns as lists, all rows of one ``kind``),
    in one pass per kind (``whole``: resources counted in heads; ``sizes``: the size of a
    whole unit per provider and activity)."""
    sp = f["shadow_price"]
    col = f
    limit, lo, hi = f["limit"], f["valid_from"], f["valid_to"]
    if kind == "flow":
        m = _money([abs(v) for v in sp], cur, 2)
        return [f"each extra {a} in {loc} {'costs' if v > 0 else 'saves'} {mm}"
                for a, loc, v, mm in zip(col["activity"], col["locality"], sp, m)]
    if kind == "capacity":
        m = _money([abs(v) for v in sp], cur, 2)
        if whole:
            heads = [r in whole for r in col["resource"]]
            t_units, t_heads = (_spans(True, limit, lo, hi, " units"),
                                _spans(True, limit, lo, hi, " heads"))
            return [f"one more {'head' if h else 'unit'} of {r} {'saves' if v < 0 else 'costs'} "
                    f"{mm}{th if h else tu}"
                    for r, v, mm, h, tu, th in zip(col["resource"], sp, m, heads, t_units, t_heads)]
        return [f"one more unit of {r} {'saves' if v < 0 else 'costs'} {mm}{t}"
                for r, v, mm, t in zip(col["resource"], sp, m, _spans(True, limit, lo, hi, " units"))]
    if kind == "units":
        size = [(sizes or {}).get(k, 1.0) for k in zip(col["provider"], col["activity"])]
        m = _money([abs(v) * z for v, z in zip(sp, size)], cur, 2)
        return [f"one more whole unit of {p}'s {a} ({z:,g} activities) "
                f"{'is worth' if v < 0 else 'costs'} {mm}"
                for p, a, z, v, mm in zip(col["provider"], col["activity"], size, sp, m)]
    if kind == "heads":
        m = _money([abs(v) for v in sp], cur, 2)
        return [f"each extra head of {r} for {p}'s {a} {vb} {mm}"
                for r, p, a, vb, mm in zip(col["resource"], col["provider"], col["activity"],
                                           _verbs(sp), m)]
    if kind == "max_redesigns":
        return [f"allowing one more redesign {vb} {mm}"
                for vb, mm in zip(_verbs(sp), _money([abs(v) for v in sp], cur, 2))]
    if kind == "uptake_max":
        m = _money([abs(v) for v in sp], cur, 2)
        return [f"allowing one more {a} in {loc}{_design(w)} {vb} {mm}"
                for a, loc, w, vb, mm in zip(col["activity"], col["locality"],
                                             col.get("variant") or [None] * len(sp), _verbs(sp), m)]
    if kind == "uptake_min":
        m = _money([abs(v) for v in sp], cur, 2)
        return [f"lowering the minimum uptake of {a} in {loc}{_design(w)} by one {vb} {mm}"
                for a, loc, w, vb, mm in zip(col["activity"], col["locality"],
                                             col.get("variant") or [None] * len(sp),
                                             _verbs(sp, False), m)]
    if kind == "setting_cap":
        settings = [setting_of(n) for n in f["name"]]
        m = _money([-v for v in sp], cur, 2)
        return [f"allowing one more {a} in {g} in {loc} saves {mm}{t}"
                for a, g, loc, mm, t in zip(col["activity"], settings, col["locality"], m,
                                            _spans(True, limit, lo, hi, ""))]
    if kind == "pace":
        m = _money(sp, cur, 2)
        return [f"letting {p} lose one more {a} in {loc} saves {mm}{t}"
                for p, a, loc, mm, t in zip(col["provider"], col["activity"], col["locality"], m,
                                            _spans(False, limit, lo, hi, ""))]
    if kind == "min_volume":
        m = _money(sp, cur, 2)
        return [f"lowering {p}'s min_volume by one saves {mm}{t}"
                for p, mm, t in zip(col["provider"], m, _spans(False, limit, lo, hi, ""))]
    if kind == "block_contract":
        one = money(1, cur, 0)
        return [f"each {one} off {p}'s block contract saves {mm}"
                for p, mm in zip(col["provider"], _money(sp, cur, 2))]
    if kind == "budget":
        one = money(1, cur, 0)
        return [f"each {one} more budget saves {mm}" for mm in _money([-v for v in sp], cur, 2)]
    if kind == "quality":
        amounts = [v * 0.01 * volume.get((loc, pw, t), 0.0)
                   for v, loc, pw, t in zip(sp, col["locality"], col["pathway"], col["t"])]
        return [f"raising the {pw} quality floor in {loc} by 0.01 costs about {mm}"
                for pw, loc, mm in zip(col["pathway"], col["locality"], _money(amounts, cur))]
    return None


def annotate(cons: pd.DataFrame, scenario: Scenario, x: np.ndarray, mode: str) -> pd.DataFrame:
    """Fill ``meaning`` for binding rows with a non-zero shadow price (the same sentences as
    :func:`sentence`, built one kind at a time: a national model has millions of rows)."""
    arcs = scenario.instance.arcs
    sp = cons["shadow_price"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        mask = cons["binding"].to_numpy(bool) & ~np.isnan(sp) & (np.abs(sp) > TINY)
    if not mask.any():
        return cons
    volume = None
    kinds = cons["kind"].to_numpy()
    x = np.atleast_2d(x)
    if (kinds[mask] == "quality").any():
        T = x.shape[0]
        volume = (pd.Series(x.ravel()).groupby([np.tile(arcs["locality"].to_numpy(), T),
                                                np.tile(arcs["pathway"].to_numpy(), T),
                                                np.repeat(np.arange(T), len(arcs))])
                  .sum().to_dict())
    meaning = cons["meaning"].to_numpy(dtype=object).copy()
    columns = {c: cons[c].to_numpy() for c in _FIELDS if c in cons.columns}
    # the year index of each row (0 in a one-year plan); its calendar year heads a sentence
    # of a multi-year plan
    years = scenario.instance.years
    columns["t"] = (cons["year"].to_numpy() - (years.start or 0) if "year" in cons.columns
                    else np.zeros(len(cons), dtype=np.int64))
    cur = scenario.config.currency
    whole, sizes = _whole(scenario), _sizes(scenario)
    rows = np.flatnonzero(mask)
    for kind in pd.unique(kinds[rows]):
        idx = rows[kinds[rows] == kind]
        made = _sentences(str(kind), {c: a[idx].tolist() for c, a in columns.items()}, cur,
                          volume or {}, whole, sizes)
        if made is None:  # a kind without a sentence keeps its empty meaning
            continue
        if years.count > 1 and years.dated:
            made = [f"{y}: {m}" for y, m in zip(cons["year"].to_numpy()[idx].tolist(), made)]
        meaning[idx] = made
    return cons.assign(meaning=text(meaning).set_axis(cons.index))
