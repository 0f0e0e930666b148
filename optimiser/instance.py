"""The validated scenario as tidy pandas tables (SPEC section 3's sets and parameters).

No solver is imported here: the tables are what the compiler, the baseline, the solution
check and the reports all read. Every table keeps the order of the config (localities,
pathways, steps, providers as written), so everything downstream is deterministic.

Tables (one row per ...):

* ``demand`` -- locality, pathway and step: ``patients`` N (from the effective
  ``prevalence`` per 1000: the locality's override, else the pathway's), ``fixed`` (N*per_patient for a
  fixed step, else 0), uptake bounds ``ymin``/``ymax`` (N*min, N*max for an optional step),
  ``dmax`` (largest possible demand) and ``d0`` (baseline demand).
* ``avoids`` -- locality and (optional source, fixed target) pair: ``effect``.
* ``arcs`` -- (l, p, s, v) with ``unit_cost`` (price or cost), ``quality``, baseline share
  ``share0`` and volume ``x0``.
* ``uses`` -- arc and resource: ``amount`` per activity.
* ``providers``, ``resources``, ``caps`` (setting caps), ``floors`` (quality floors).

Every number is year 0's. A multi-year plan (SPEC section 7) adds :class:`Years` and the
demand column ``growth`` (``g[l,p] = (1+population_growth[l]) * (1+growth[p])``);
:meth:`Instance.at_year` gives year t's instance (demand and baseline volumes times
``g**t``, that year's budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .model import text
from .designs import CURRENT, designs
from .schema import BuyProvider, MakeProvider, Pathway, ScenarioConfig
from .tables import TableSet, per_distinct


@dataclass(frozen=True)
class Years:
    """The horizon of a plan (SPEC section 7): one year unless the config has ``horizon``."""

    count: int = 1
    """Years planned (``t = 0 .. count-1``)."""
    start: int | None = None
    """Calendar year of ``t = 0``; None without a ``horizon`` (outputs then have no year)."""
    discount_rate: float = 0.0
    budgets: tuple[float, ...] | None = None
    """Budget of each year (None: no budget)."""
    carry_over: bool = False
    """Unspent budget moves to the next year."""

    @property
    def dated(self) -> bool:
        """The config has a horizon: names and outputs carry the calendar year."""
        return self.start is not None

    def discount(self) -> np.ndarray:
        """``1 / (1 + discount_rate)**t`` per year (year 0 undiscounted)."""
        return (1.0 + self.discount_rate) ** -np.arange(self.count, dtype=float)

    def calendar(self, t) -> np.ndarray:
        """Calendar year of year index ``t`` (``t`` itself without a horizon)."""
        return np.asarray(t) + (self.start or 0)


@dataclass(frozen=True)
class Instance:
    """Section 3's sets and parameters as tables; see the module docstring."""

    localities: pd.DataFrame
    demand: pd.DataFrame
    avoids: pd.DataFrame
    providers: pd.DataFrame
    offers: pd.DataFrame
    arcs: pd.DataFrame
    uses: pd.DataFrame
    resources: pd.DataFrame
    caps: pd.DataFrame
    floors: pd.DataFrame
    max_shift: float | None
    declared_shares: pd.DataFrame
    years: Years = field(default_factory=Years)
    """The horizon, with every year's budget."""
    year: int = 0
    """Which year's numbers these are (see :meth:`at_year`)."""
    designs: pd.DataFrame = field(default_factory=lambda: _empty(
        ["locality", "pathway", "variant", "name"], ["adoption_cost"], ["current"]))
    """Section 11's designs: per locality, every design of each pathway that has variants
    (``current`` included); a demand row's ``design`` is its row here (-1 without variants)."""
    max_redesigns: int | None = None
    """Most (locality, pathway) pairs that may leave ``current``."""
    units: pd.DataFrame = field(default_factory=lambda: _empty(
        ["provider", "activity"], ["size", "cost"]))
    """Whole units: per make provider and activity with ``units``, ``size`` and ``cost``."""
    unit_uses: pd.DataFrame = field(default_factory=lambda: _empty(
        ["resource"], ["amount"], ints=["unit"]))
    """Resource units per whole unit: ``unit`` (row of ``units``), ``resource``, ``amount``."""
    heads: pd.DataFrame = field(default_factory=lambda: _empty(
        ["provider", "activity", "resource"]))
    """Whole heads: per (provider, activity, resource) drawing on a ``whole`` resource."""

    @property
    def varied(self) -> bool:
        """Some pathway has variants: designs are chosen."""
        return len(self.designs) > 0

    @property
    def budget(self) -> float | None:
        """This year's budget (year 0's, or year t's in :meth:`at_year`'s view)."""
        b = self.years.budgets
        return None if b is None else b[self.year]

    def with_budget(self, budget: float | None) -> Instance:
        """The instance with one budget for every year (None: no budget)."""
        return replace(self, years=replace(
            self.years, budgets=None if budget is None else (float(budget),) * self.years.count))

    def at_year(self, t: int) -> Instance:
        """Year t's instance: patients, demand bounds, baseline demand and baseline volumes
        times ``g**t`` (per locality and pathway), year t's budget. ``at_year(0)`` is this
        instance itself."""
        if t == self.year:
            return self
        if self.year != 0:
            raise ValueError("at_year works from year 0's instance")
        f = self.demand["growth"].to_numpy(float) ** t
        scaled = ("patients", "fixed", "ymin", "ymax", "dmax", "d0")
        demand = self.demand.assign(**{c: self.demand[c].to_numpy(float) * f for c in scaled})
        x0 = self.arcs["x0"].to_numpy(float) * f[self.arcs["dem"].to_numpy(np.int64)]
        return replace(self, demand=demand, arcs=self.arcs.assign(x0=x0), year=t)


def _empty(texts: list[str], floats: list[str] = (), bools: list[str] = (),
           ints: list[str] = ()) -> pd.DataFrame:
    """An empty table with these columns."""
    return pd.DataFrame({**{c: pd.Series([], dtype=np.int64) for c in ints},
                         **{c: pd.Series([], dtype=object) for c in texts},
                         **{c: pd.Series([], dtype=float) for c in floats},
                         **{c: pd.Series([], dtype=bool) for c in bools}})


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """A table of ``rows``; text columns are plain Python objects, since pandas' Arrow-backed
    strings make every join's ``take`` many times slower on tables of this shape."""
    df = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(
        {c: pd.Series([], dtype=object) for c in columns})  # joins on empty text keys work
    text = [c for c in df.columns if pd.api.types.is_string_dtype(df[c]) and df[c].dtype != object]
    return df.astype({c: object for c in text}) if text else df


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Rows of the YAML, then rows of the table (which may be empty or absent)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _codes(values, index: dict[str, int]) -> np.ndarray:
    """Integer code of each name (all known: the checks ran before), one lookup per
    distinct name."""
    return per_distinct(values, index.__getitem__, np.int64, 0)


def demand_numbers(population: np.ndarray, prevalence: np.ndarray, optional: np.ndarray,
                   per_patient: np.ndarray, umin: np.ndarray, umax: np.ndarray):
    """Per demand row (SPEC section 3, Patients and Demand): patients
    ``N = population * prevalence / 1000``, the fixed part ``N * per_patient`` of a fixed
    step, uptake bounds ``N * min``, ``N * max`` of an optional one, and the largest demand.
    Returns ``(N, fixed, ymin, ymax, dmax)``."""
    n = population * prevalence / 1000.0
    fixed = np.where(optional, 0.0, n * per_patient)
    ymin = np.where(optional, n * umin, 0.0)
    ymax = np.where(optional, n * umax, 0.0)
    return n, fixed, ymin, ymax, np.where(optional, ymax, fixed)


def baseline_demand(optional: np.ndarray, fixed: np.ndarray, ymin: np.ndarray,
                    src: np.ndarray, dst: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """Today's demand per row: optional steps at minimum uptake, fixed ones less what that
    uptake avoids (``effect`` per unit of row ``src``, taken from row ``dst``)."""
    d0 = np.where(optional, ymin, fixed)
    if len(src):
        d0 = d0 - np.bincount(dst, minlength=len(d0), weights=effect * ymin[src])
    return d0


def _per_locality(n_localities: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (locality, item) pair, locality-major: the two index arrays."""
    return (np.repeat(np.arange(n_localities, dtype=np.int64), n),
            np.tile(np.arange(n, dtype=np.int64), n_localities))


def _take(names: list[str], codes: np.ndarray) -> pd.Series:
    """The names at ``codes``, as Python objects."""
    return text(np.asarray(names, dtype=object)[codes])


def build(config: ScenarioConfig, pathways: list[Pathway], tables: TableSet = TableSet()) -> Instance:
    """Tables of the scenario: the YAML's entries, then the rows of its CSV/Parquet tables
    (SPEC section 2.3). Assumes names cross-check and no value is given twice (see
    :mod:`optimiser.checks` and :mod:`optimiser.tables`).

    Names are turned into integer codes once (localities, steps, providers, settings,
    resources in config order) and every join below is arithmetic or an integer join: a
    national scenario has millions of arcs, and joins on text keys dominated the build.
    A demand row is ``dem = locality * steps + step``.
    """
    # huge but finite inputs may overflow to inf here: the numerics check reports them
    with np.errstate(over="ignore", invalid="ignore"):
        return _build(config, pathways, tables)


def _build(config: ScenarioConfig, pathways: list[Pathway], tables: TableSet) -> Instance:
    """See :func:`build`."""
    t_loc = tables.frame("localities")
    t_loc = t_loc[~t_loc["locality"].isin(config.localities.keys())]  # a --set YAML entry wins
    loc_names = [*config.localities.keys(), *t_loc["locality"].tolist()]
    population = np.concatenate([
        np.array([float(v.population) for v in config.localities.values()], dtype=float),
        t_loc["population"].to_numpy(dtype=float)])
    pop_growth = np.concatenate([
        np.array([float(v.population_growth) for v in config.localities.values()], dtype=float),
        t_loc["population_growth"].fillna(0.0).to_numpy(dtype=float)
        if "population_growth" in t_loc else np.zeros(len(t_loc))])
    localities = pd.DataFrame({"locality": _take(loc_names, np.arange(len(loc_names))),
                               "population": population})
    loc_index = {n: i for i, n in enumerate(loc_names)}
    L = len(loc_names)

    # Steps of every design of every pathway (SPEC section 11): a pathway without variants
    # has one design, ``current``, and its steps are section 3's.
    pw_designs = [(p, d) for p in pathways for d in designs(p)]
    steps = [(p, s) for p, d in pw_designs for s in d.steps]
    S = len(steps)
    st_variant = [d.variant for p, d in pw_designs for _ in d.steps]
    varied = {p.pathway for p in pathways if p.variants}
    design_names = [(p.pathway, d.variant) for p, d in pw_designs if p.pathway in varied]
    design_index = {k: i for i, k in enumerate(design_names)}
    st_design = np.array([design_index.get((p.pathway, w), -1) for (p, _), w
                          in zip(steps, st_variant)], dtype=np.int64)
    st_current = np.array([w == CURRENT for w in st_variant], dtype=bool)
    pw_names = [p.pathway for p in pathways]
    pw_index = {n: i for i, n in enumerate(pw_names)}
    st_pathway = [p.pathway for p, _ in steps]
    st_step = [s.step for _, s in steps]
    st_activity = [f"{p.pathway}.{s.step}" for p, s in steps]
    act_names = list(dict.fromkeys(st_activity))
    act_index = {a: i for i, a in enumerate(act_names)}
    st_act = np.array([act_index[a] for a in st_activity], dtype=np.int64)
    AC = len(act_names)
    st_pw = np.array([pw_index[p.pathway] for p, _ in steps], dtype=np.int64)
    optional = np.array([s.optional for _, s in steps], dtype=bool)
    per_patient = np.array([0.0 if s.optional else float(s.per_patient) for _, s in steps])
    umin = np.array([float(s.per_patient.min) if s.optional else 0.0 for _, s in steps])
    umax = np.array([float(s.per_patient.max) if s.optional else 0.0 for _, s in steps])

    # prevalence per locality and pathway: the pathway's, else the locality's override
    prev = np.tile(np.array([float(p.prevalence_per_1000) for p in pathways]), (L, 1))
    y_over = [(loc_index[loc], pw_index[pw], float(v)) for loc, spec in config.localities.items()
              for pw, v in spec.prevalence_per_1000.items()]
    if y_over:
        li, pi, val = (np.array(c) for c in zip(*y_over))
        prev[li.astype(np.int64), pi.astype(np.int64)] = val
    t_prev = tables.frame("prevalence").dropna(subset=["prevalence_per_1000"])
    if len(t_prev):
        prev[_codes(t_prev["locality"], loc_index), _codes(t_prev["pathway"], pw_index)] = \
            t_prev["prevalence_per_1000"].to_numpy(dtype=float)

    pw_growth = np.array([float(p.growth) for p in pathways], dtype=float)
    # Demand: locality x step, in config order.
    d_loc, d_st = _per_locality(L, S)
    d_prev = prev[d_loc, st_pw[d_st]]
    opt = optional[d_st]
    n, fixed, ymin, ymax, dmax = demand_numbers(population[d_loc], d_prev, opt, per_patient[d_st],
                                                umin[d_st], umax[d_st])
    demand = pd.DataFrame({
        "locality": _take(loc_names, d_loc),
        "pathway": _take(st_pathway, d_st),
        "step": _take(st_step, d_st),
        "activity": _take(st_activity, d_st),
        "optional": opt,
        "patients": n,
        "fixed": fixed,
        "ymin": ymin,
        "ymax": ymax,
        "dmax": dmax,
        "prevalence": d_prev,
        "growth": (1.0 + pop_growth[d_loc]) * (1.0 + pw_growth[st_pw[d_st]]),
        "variant": _take(st_variant, d_st),
        "design": np.where(st_design[d_st] >= 0, d_loc * len(design_names) + st_design[d_st], -1),
    })
    demand.index.name = "dem"

    # Avoids, expanded per locality, with both ends as demand row ids (within a design).
    step_at = {(p.pathway, w, s.step): i for i, ((p, s), w) in enumerate(zip(steps, st_variant))}
    av = [(step_at[(p.pathway, w, s.step)], step_at[(p.pathway, w, t)], float(e))
          for (p, s), w in zip(steps, st_variant) for t, e in s.avoids.items()]
    A = len(av)
    a_src = np.array([a[0] for a in av], dtype=np.int64)
    a_dst = np.array([a[1] for a in av], dtype=np.int64)
    a_eff = np.array([a[2] for a in av], dtype=float)
    a_loc, a_i = _per_locality(L, A)
    avoids = pd.DataFrame({
        "locality": _take(loc_names, a_loc),
        "pathway": _take(st_pathway, a_src[a_i]),
        "src": _take(st_step, a_src[a_i]),
        "dst": _take(st_step, a_dst[a_i]),
        "effect": a_eff[a_i],
        "src_dem": a_loc * S + a_src[a_i],
        "dst_dem": a_loc * S + a_dst[a_i],
    })
    d0 = baseline_demand(opt, fixed, ymin, avoids["src_dem"].to_numpy(),
                         avoids["dst_dem"].to_numpy(), avoids["effect"].to_numpy())
    d0 = np.where(st_current[d_st], d0, 0.0)  # today every locality runs today's design
    demand["d0"] = d0

    prov_items = list(config.providers.items())
    prov_names = [name for name, _ in prov_items]
    prov_index = {n: i for i, n in enumerate(prov_names)}
    providers = _providers_frame(config)
    prov_mode = [v.mode for _, v in prov_items]
    prov_setting = [v.setting for _, v in prov_items]
    set_names = list(dict.fromkeys([*prov_setting, *(g for _, s in steps for g in s.settings)]))
    set_index = {g: i for i, g in enumerate(set_names)}
    prov_set = np.array([set_index[g] for g in prov_setting], dtype=np.int64)
    allowed = np.zeros((S, len(set_names)), dtype=bool)
    for i, (_, s) in enumerate(steps):
        allowed[i, [set_index[g] for g in s.settings]] = True

    sv = [(i, loc_index[loc]) for i, (_, v) in enumerate(prov_items)
          for loc in (loc_names if v.serves == "all" else v.serves)]
    serves = pd.DataFrame({"p": np.array([a for a, _ in sv], dtype=np.int64),
                           "l": np.array([b for _, b in sv], dtype=np.int64)})

    # Offers: YAML entries, then table rows with a price or cost.
    t_off = tables.frame("offers")
    priced = t_off["price"].fillna(t_off["cost"])
    y_off = [(name, act, float(price)) for name, v in prov_items
             for act, price in (v.prices if isinstance(v, BuyProvider) else v.costs).items()]
    t_priced = t_off[priced.notna().to_numpy()]
    off_p = np.concatenate([np.array([prov_index[a] for a, _, _ in y_off], dtype=np.int64),
                            _codes(t_priced["provider"], prov_index)])
    off_a = np.concatenate([np.array([act_index[b] for _, b, _ in y_off], dtype=np.int64),
                            _codes(t_priced["activity"], act_index)])
    off_cost = np.concatenate([np.array([c for _, _, c in y_off], dtype=float),
                               priced[priced.notna()].to_numpy(dtype=float)])
    # quality: the provider's entry for the activity, else its default (YAML or table)
    t_q = t_off[t_off["quality"].notna()]
    y_q = [(name, act, float(q)) for name, v in prov_items for act, q in v.quality.items()]
    q_p = np.concatenate([np.array([prov_index[a] for a, _, _ in y_q], dtype=np.int64),
                          _codes(t_q["provider"], prov_index)])
    q_act = [b for _, b, _ in y_q] + t_q["activity"].tolist()
    q_val = np.concatenate([np.array([c for _, _, c in y_q], dtype=float),
                            t_q["quality"].to_numpy(dtype=float)])
    q_default = np.array([a == "default" for a in q_act], dtype=bool)
    prov_default_q = np.full(len(prov_names), np.nan)
    prov_default_q[q_p[q_default]] = q_val[q_default]
    explicit = pd.Series(q_val[~q_default], index=q_p[~q_default] * AC + _codes(
        [a for a, d in zip(q_act, q_default) if not d], act_index))
    off_key = off_p * AC + off_a
    off_q = explicit.reindex(off_key).to_numpy(dtype=float) if len(explicit) else np.full(len(off_key), np.nan)
    off_q = np.where(np.isnan(off_q), prov_default_q[off_p], off_q)
    offers = pd.DataFrame({"provider": _take(prov_names, off_p), "activity": _take(act_names, off_a),
                           "unit_cost": off_cost, "quality": off_q})

    # Arcs (l,p,s,v): v serves l, v.setting in the step's settings, v has a price/cost
    # (an offer for an activity applies to its step in every design that has it).
    po = pd.DataFrame({"p": off_p, "a": off_a, "unit_cost": off_cost, "quality": off_q})
    if AC != S:
        po = po.merge(pd.DataFrame({"a": st_act, "s": np.arange(S, dtype=np.int64)}), on="a")
    else:  # one design per pathway: activity code = step code
        po["s"] = po["a"]
    po = po[allowed[po["s"].to_numpy(np.int64), prov_set[po["p"].to_numpy(np.int64)]]]
    j = serves.merge(po, on="p")
    a_p, a_l, a_s = j["p"].to_numpy(), j["l"].to_numpy(), j["s"].to_numpy()
    a_dem = a_l * S + a_s
    order = np.lexsort((a_p, a_dem))
    a_p, a_l, a_s, a_dem = a_p[order], a_l[order], a_s[order], a_dem[order]
    arcs = pd.DataFrame({
        "dem": a_dem,
        "locality": _take(loc_names, a_l),
        "pathway": _take(st_pathway, a_s),
        "step": _take(st_step, a_s),
        "activity": _take(st_activity, a_s),
        "variant": _take(st_variant, a_s),
        "provider": _take(prov_names, a_p),
        "order": a_p,
        "setting": _take(prov_setting, a_p),
        "mode": _take(prov_mode, a_p),
        "unit_cost": j["unit_cost"].to_numpy(dtype=float)[order],
        "quality": j["quality"].to_numpy(dtype=float)[order],
    })
    arcs.index.name = "arc"

    t_sh = t_off[t_off["current_share"].notna()]
    y_sh = [(name, act, float(sh)) for name, v in prov_items for act, sh in v.current_share.items()]
    declared = pd.DataFrame({
        "provider": pd.Series([a for a, _, _ in y_sh] + t_sh["provider"].tolist(), dtype=object),
        "activity": pd.Series([b for _, b, _ in y_sh] + t_sh["activity"].tolist(), dtype=object),
        "share": np.concatenate([np.array([c for _, _, c in y_sh], dtype=float),
                                 t_sh["current_share"].to_numpy(dtype=float)]),
    })
    arc_key = a_p * AC + st_act[a_s]
    decl_key = _codes(declared["provider"], prov_index) * AC + _codes(declared["activity"], act_index)
    arcs["share0"] = _baseline_shares(arcs, declared, arc_key, decl_key, st_current[a_s])
    arcs["x0"] = arcs["share0"] * d0[a_dem]

    # Uses: per arc, the resource units of its provider and activity, by resource name.
    t_use = tables.frame("uses").dropna(subset=["amount"])
    y_use = [(name, act, r, float(a)) for name, v in prov_items
             for act, per in v.uses.items() for r, a in per.items()]
    t_res = tables.frame("resources")
    t_res = t_res[~t_res["resource"].isin(config.resources.keys())]  # a --set YAML entry wins
    res_names = [*config.resources.keys(), *t_res["resource"].tolist()]
    res_index = {r: i for i, r in enumerate(res_names)}
    u_key = np.concatenate([
        np.array([prov_index[a] * AC + act_index[b] for a, b, _, _ in y_use], dtype=np.int64),
        _codes(t_use["provider"], prov_index) * AC + _codes(t_use["activity"], act_index)])
    u_res = np.concatenate([np.array([res_index[c] for _, _, c, _ in y_use], dtype=np.int64),
                            _codes(t_use["resource"], res_index)])
    u_amt = np.concatenate([np.array([d for _, _, _, d in y_use], dtype=float),
                            t_use["amount"].to_numpy(dtype=float)])
    ju = pd.DataFrame({"arc": np.arange(len(arc_key), dtype=np.int64), "key": arc_key}).merge(
        pd.DataFrame({"key": u_key, "r": u_res, "amount": u_amt}), on="key")
    res_rank = np.argsort(np.argsort(np.array(res_names, dtype=object), kind="stable"), kind="stable")
    u_arc, u_r = ju["arc"].to_numpy(), ju["r"].to_numpy()
    order = np.lexsort((res_rank[u_r] if len(u_r) else u_r, u_arc))
    uses = pd.DataFrame({"arc": u_arc[order], "resource": _take(res_names, u_r[order]),
                         "amount": ju["amount"].to_numpy(dtype=float)[order]})

    resources = _resources_frame(config, t_res)

    # Setting caps: per demand row and capped setting that has an arc there.
    cr = [(i, set_index[g], float(m)) for i, (_, s) in enumerate(steps) for g, m in s.max_share.items()]
    C = len(cr)
    c_st = np.array([c[0] for c in cr], dtype=np.int64)
    c_set = np.array([c[1] for c in cr], dtype=np.int64)
    c_m = np.array([c[2] for c in cr], dtype=float)
    c_loc, c_i = _per_locality(L, C)
    c_dem = c_loc * S + c_st[c_i]
    G = len(set_names)
    present = np.zeros(L * S * G, dtype=bool)
    present[a_dem * G + prov_set[a_p]] = True
    keep = present[c_dem * G + c_set[c_i]]
    set_rank = np.argsort(np.argsort(np.array(set_names, dtype=object), kind="stable"), kind="stable")
    c_dem, c_i = c_dem[keep], c_i[keep]
    order = np.lexsort((set_rank[c_set[c_i]] if len(c_i) else c_i, c_dem))
    c_dem, c_i = c_dem[order], c_i[order]
    caps = pd.DataFrame({
        "dem": c_dem,
        "locality": _take(loc_names, c_dem // S if S else c_dem),
        "pathway": _take(st_pathway, c_st[c_i]),
        "step": _take(st_step, c_st[c_i]),
        "setting": _take(set_names, c_set[c_i]),
        "max_share": c_m[c_i],
    })

    floors = _floors_frame(config, pathways)
    years = years_of(config)

    # Designs (SPEC section 11): per locality, every design of every pathway with variants.
    dz = [(p.pathway, d) for p, d in pw_designs if p.pathway in varied]
    z_loc, z_i = _per_locality(L, len(dz))
    designs_frame = pd.DataFrame({
        "locality": _take(loc_names, z_loc),
        "pathway": _take([p for p, _ in dz], z_i),
        "variant": _take([d.variant for _, d in dz], z_i),
        "name": _take([d.name for _, d in dz], z_i),
        "adoption_cost": np.array([d.adoption_cost for _, d in dz], dtype=float)[z_i],
        "current": np.array([d.variant == CURRENT for _, d in dz], dtype=bool)[z_i],
    })
    units, unit_uses = _units_frames(config)
    heads = _heads_frame(arcs, uses, units, unit_uses, resources)

    return Instance(
        localities=localities,
        demand=demand,
        avoids=avoids,
        providers=providers,
        offers=offers,
        arcs=arcs,
        uses=uses,
        resources=resources,
        caps=caps,
        floors=floors,
        max_shift=config.constraints.max_shift,
        declared_shares=declared,
        years=years,
        designs=designs_frame,
        max_redesigns=config.constraints.max_redesigns,
        units=units,
        unit_uses=unit_uses,
        heads=heads,
    )


def _units_frames(config: ScenarioConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Whole units (SPEC section 11): one row per make provider and activity with ``units``
    (``size``, ``cost``), in config order; and each unit's ``uses`` (``unit`` row, resource,
    amount per unit)."""
    rows = [(name, act, float(u.size), float(u.cost), u.uses)
            for name, v in config.providers.items() if isinstance(v, MakeProvider)
            for act, u in v.units.items()]
    units = pd.DataFrame({"provider": text([r[0] for r in rows]),
                          "activity": text([r[1] for r in rows]),
                          "size": np.array([r[2] for r in rows], dtype=float),
                          "cost": np.array([r[3] for r in rows], dtype=float)})
    per = [(i, res, float(a)) for i, r in enumerate(rows) for res, a in r[4].items()]
    unit_uses = pd.DataFrame({"unit": np.array([p[0] for p in per], dtype=np.int64),
                              "resource": text([p[1] for p in per]),
                              "amount": np.array([p[2] for p in per], dtype=float)})
    return units, unit_uses


def _heads_frame(arcs: pd.DataFrame, uses: pd.DataFrame, units: pd.DataFrame,
                 unit_uses: pd.DataFrame, resources: pd.DataFrame) -> pd.DataFrame:
    """Whole heads (SPEC section 11): one row per (provider, activity, resource) that uses a
    ``whole`` resource, per activity or per unit; in provider, activity, resource order."""
    whole = set(resources.loc[resources["whole"], "resource"])
    if not whole:
        return pd.DataFrame({c: pd.Series([], dtype=object)
                             for c in ("provider", "activity", "resource")})
    by_arc = uses[uses["resource"].isin(whole)]
    a = by_arc["arc"].to_numpy(np.int64)
    per_unit = unit_uses[unit_uses["resource"].isin(whole)]
    u = per_unit["unit"].to_numpy(np.int64)
    found = pd.DataFrame({
        "provider": text(np.concatenate([arcs["provider"].to_numpy(object)[a],
                                         units["provider"].to_numpy(object)[u]])),
        "activity": text(np.concatenate([arcs["activity"].to_numpy(object)[a],
                                         units["activity"].to_numpy(object)[u]])),
        "resource": text(np.concatenate([by_arc["resource"].to_numpy(object),
                                         per_unit["resource"].to_numpy(object)])),
    }).drop_duplicates()
    return found.sort_values(["provider", "activity", "resource"], kind="stable").reset_index(drop=True)


def years_of(config: ScenarioConfig) -> Years:
    """The horizon of the config (one undated year without ``horizon``)."""
    h = config.horizon
    count = h.years if h is not None else 1
    b = config.constraints.budget
    budgets = None if b is None else (tuple(float(v) for v in b) if isinstance(b, list)
                                      else (float(b),) * count)
    return Years(count=count, start=None if h is None else h.start,
                 discount_rate=0.0 if h is None else float(h.discount_rate),
                 budgets=budgets, carry_over=config.constraints.carry_over)


def _providers_frame(config: ScenarioConfig) -> pd.DataFrame:
    """One row per provider, in config order (``order``), with its whole-provider numbers."""
    return _frame(
        [
            {
                "provider": name,
                "order": i,
                "mode": v.mode,
                "setting": v.setting,
                "block_contract": float(v.block_contract) if isinstance(v, BuyProvider) else 0.0,
                "fixed_cost": float(v.fixed_cost) if isinstance(v, MakeProvider) else 0.0,
                "min_volume": float(v.min_volume) if isinstance(v, MakeProvider) else 0.0,
                "overhead": float(v.overhead) if isinstance(v, MakeProvider) else 0.0,
                "setup_cost": float(v.setup_cost) if isinstance(v, MakeProvider) else 0.0,
            }
            for i, (name, v) in enumerate(config.providers.items())
        ],
        ["provider", "order", "mode", "setting", "block_contract", "fixed_cost", "min_volume",
         "overhead", "setup_cost"],
    )


def _resources_frame(config: ScenarioConfig, t_res: pd.DataFrame) -> pd.DataFrame:
    """The YAML's resources, then those of the resources table not declared in the YAML."""
    return _concat([
        _frame(
            [
                {
                    "resource": name,
                    "capacity": float(r.capacity),
                    "expand_step": float(r.expand.step) if r.expand else 0.0,
                    "expand_cost": float(r.expand.cost) if r.expand else 0.0,
                    "expand_max": int(r.expand.max_steps) if r.expand else 0,
                    "whole": bool(r.whole),
                    "cost": float(r.cost),
                }
                for name, r in config.resources.items()
            ],
            ["resource", "capacity", "expand_step", "expand_cost", "expand_max", "whole", "cost"],
        ),
        pd.DataFrame({
            "resource": pd.Series(t_res["resource"].tolist(), dtype=object),
            "capacity": t_res["capacity"].to_numpy(dtype=float),
            "expand_step": t_res["expand_step"].fillna(0.0).to_numpy(dtype=float),
            "expand_cost": t_res["expand_cost"].fillna(0.0).to_numpy(dtype=float),
            "expand_max": t_res["expand_max_steps"].fillna(0).to_numpy().astype(int),
            "whole": np.zeros(len(t_res), dtype=bool),
            "cost": (t_res["cost"].fillna(0.0).to_numpy(dtype=float) if "cost" in t_res
                     else np.zeros(len(t_res))),
        }),
    ]).reset_index(drop=True)


def _floors_frame(config: ScenarioConfig, pathways: list[Pathway]) -> pd.DataFrame:
    """The quality floor of each pathway that has one (its own, else ``default``)."""
    floors_map = config.constraints.min_quality
    return _frame(
        [
            {"pathway": p.pathway, "floor": float(floors_map.get(p.pathway, floors_map["default"]
                                                               if "default" in floors_map else np.nan))}
            for p in pathways
        ],
        ["pathway", "floor"],
    ).dropna().reset_index(drop=True)


def _baseline_shares(arcs: pd.DataFrame, declared: pd.DataFrame, arc_key: np.ndarray,
                     decl_key: np.ndarray, today: np.ndarray) -> np.ndarray:
    """Today's share of each arc (SPEC section 3, Baseline).

    Declared ``current_share`` applies in every locality the provider serves. For a demand
    row where nobody declares a share, all of it goes to the first listed ``buy`` provider
    with an arc, else the first listed provider with an arc. ``arc_key`` and ``decl_key``
    code (provider, activity) of each arc and each declaration; ``today`` marks the arcs of
    today's designs (the arcs of a variant's design have no share: SPEC section 11).
    """
    share = (pd.Series(declared["share"].to_numpy(dtype=float), index=decl_key)
             .reindex(arc_key).to_numpy(dtype=float)) if len(declared) else np.full(len(arc_key), np.nan)
    share = np.where(today, share, np.nan)
    dem = arcs["dem"].to_numpy()
    n_dem = int(dem.max()) + 1 if len(dem) else 0
    declared_any = np.zeros(n_dem, dtype=bool)
    declared_any[dem[~np.isnan(share)]] = True
    share = np.nan_to_num(share, nan=0.0)
    undeclared = ~declared_any[dem]
    if undeclared.any():
        # buy providers first, then config order
        order = arcs["order"].to_numpy()
        rank = np.where(arcs["mode"].to_numpy() == "buy", 0, 1) * (int(order.max()) + 1) + order
        best = np.full(n_dem, np.iinfo(np.int64).max)
        np.minimum.at(best, dem, rank)
        share = np.where(undeclared & (best[dem] == rank), 1.0, share)
    return np.where(today, share, 0.0)
