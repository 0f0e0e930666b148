"""Decision variables (SPEC sections 3 and 7) as column blocks of the sparse model.

For every year ``t`` of the horizon (one year without ``horizon``):

* ``x[l,p,s,v,t] >= 0``      -- volume on each arc (one column per arc, in arc order);
* ``y[l,p,s,t] in [N*min, N*max]`` -- uptake of each optional step, at year-t demand;
* ``k[r,t] in [0, max_steps]``, integer -- capacity increments of expandable resources;
* ``o[v,t] in {0, 1}``      -- make provider runs (when it has a fixed, setup or minimum volume);
* ``pay[v,t] >= 0``          -- payment to a buy provider with a block contract (its floor is a
  row, so that the block contract gets a shadow price);
* ``z[l,p,w,t] in {0, 1}``  -- design w of pathway p runs in locality l (pathways with
  variants only, SPEC section 11);
* ``n[v,a,t] >= 0``, integer -- whole units of a make provider's activity (``units``);
* ``h[v,a,r,t] >= 0``, integer -- whole heads of a ``whole`` resource per provider and activity;

and, linking the years:

* ``u[v,t] in [0, 1]``, t >= 1 -- provider v starts in year t (it pays ``setup_cost``), for
  providers with a ``setup_cost`` (year 0's start is priced on ``o[v,0]``: see :mod:`.setup`);
* ``c[t] >= 0``, t < T-1     -- budget carried from year t into the next (with ``carry_over``),
  in thousands (see :mod:`.budget`).

Blocks are kind-major (all ``x``, then all ``y``, ...) and year-major inside a kind, so
``model.block("x")`` holds ``x`` of year 0's arcs, then year 1's, and so on. With a
``horizon``, every name ends with its calendar year: ``x[north,copd,spirometry,hub,2028]``.
A flow or uptake of a pathway with variants has its design as a last index before the year:
``x[north,copd,virtual_review,hub,integrated]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..instance import Instance
from ..model import names, text, with_variant


@dataclass(frozen=True)
class YearColumns:
    """Column numbering of one year: for each block, which column each table row maps to."""

    x: np.ndarray
    """Column of each arc (``inst.arcs`` order)."""
    y_of_dem: np.ndarray
    """Column of each demand row's uptake, -1 for fixed steps."""
    k_of_res: np.ndarray
    """Column of each resource's expansion steps, -1 when it cannot expand."""
    o_of_prov: np.ndarray
    """Column of each provider's running indicator, -1 when it has none."""
    pay_of_prov: np.ndarray
    """Column of each provider's block-contract payment, -1 when it has none."""
    u_of_prov: np.ndarray
    """Column of each provider's start in this year, -1 when it has none (always in year 0)."""
    z_of_design: np.ndarray
    """Column of each design (``inst.designs`` row)."""
    n_of_unit: np.ndarray
    """Column of each whole-unit provider activity (``inst.units`` row)."""
    h_of_head: np.ndarray
    """Column of each whole-head triple (``inst.heads`` row)."""
    c_in: int
    """Column of the budget carried into this year, -1 when there is none."""
    c_out: int
    """Column of the budget carried out of this year, -1 when there is none."""


@dataclass(frozen=True)
class Columns:
    """The whole column layout; ``at[t]`` numbers year t. The arrays of year 0 are also
    attributes (``cols.x`` is ``cols.at[0].x``) for one-year callers."""

    at: tuple[YearColumns, ...]
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    meta: pd.DataFrame
    blocks: dict[str, tuple[int, int]]

    @property
    def x(self) -> np.ndarray:
        return self.at[0].x

    @property
    def y_of_dem(self) -> np.ndarray:
        return self.at[0].y_of_dem

    @property
    def k_of_res(self) -> np.ndarray:
        return self.at[0].k_of_res

    @property
    def o_of_prov(self) -> np.ndarray:
        return self.at[0].o_of_prov

    @property
    def pay_of_prov(self) -> np.ndarray:
        return self.at[0].pay_of_prov

    @property
    def z_of_design(self) -> np.ndarray:
        return self.at[0].z_of_design

    @property
    def n_of_unit(self) -> np.ndarray:
        return self.at[0].n_of_unit

    @property
    def h_of_head(self) -> np.ndarray:
        return self.at[0].h_of_head


def variant_of(inst: Instance, dem_rows: np.ndarray) -> pd.Series:
    """The design of each demand row where its pathway has variants, else None (row and
    column names then carry it: see :func:`~optimiser.model.with_variant`)."""
    dem = inst.demand
    dem_rows = np.asarray(dem_rows, dtype=np.int64)
    design = dem["design"].to_numpy(np.int64)[dem_rows]
    return text(np.where(design >= 0, dem["variant"].to_numpy(object)[dem_rows], None))


def dated(kind: str, meta: pd.DataFrame, keys: list[str], year: int | None) -> pd.Series:
    """``kind[key1,...]``, with the calendar year as a last index when ``year`` is given
    (``kind[year]`` for a kind without keys)."""
    if year is None:
        return names(kind, meta, keys) if keys else text([kind] * len(meta))
    if not keys:
        return text([f"{kind}[{year}]"] * len(meta))
    return names(kind, meta.assign(_year=year), [*keys, "_year"])


def build_columns(inst: Instance, views: list[Instance] | None = None) -> Columns:
    """Every year's columns, then the linking ones (see the module docstring); ``views`` are
    the instance's years (:meth:`Instance.at_year`), when the caller has them already."""
    years = inst.years
    T = years.count
    views = views if views is not None else [inst.at_year(t) for t in range(T)]
    arcs, dem, prov, res = inst.arcs, inst.demand, inst.providers, inst.resources

    # which rows of each table have a column of each kind (the same in every year)
    opt = np.flatnonzero(dem["optional"].to_numpy(dtype=bool))
    exp = np.flatnonzero(((res["expand_max"] > 0) & (res["expand_step"] > 0)).to_numpy())
    with_arcs = prov["provider"].isin(arcs["provider"])
    runs = np.flatnonzero((prov["mode"] == "make") & with_arcs & (
        (prov["fixed_cost"] > 0) | (prov["min_volume"] > 0) | (prov["setup_cost"] > 0)))
    blocked = np.flatnonzero(((prov["mode"] == "buy") & (prov["block_contract"] > 0)).to_numpy())
    starts = runs[prov["setup_cost"].to_numpy(float)[runs] > 0] if T > 1 else runs[:0]
    carries = T - 1 if (years.carry_over and years.budgets is not None) else 0

    arcs = arcs.assign(variant=variant_of(inst, arcs["dem"].to_numpy(np.int64)).to_numpy(object))
    dem = dem.assign(variant=variant_of(inst, np.arange(len(dem))).to_numpy(object))
    kinds = [
        # kind, owning table, its rows with a column, described columns, key columns, years,
        # integer
        ("x", arcs, np.arange(len(arcs)),
         ["locality", "pathway", "step", "provider", "activity", "variant"],
         ["locality", "pathway", "step", "provider"], range(T), False),
        ("y", dem, opt, ["locality", "pathway", "step", "activity", "variant"],
         ["locality", "pathway", "step"], range(T), False),
        ("k", res, exp, ["resource"], ["resource"], range(T), True),
        ("o", prov, runs, ["provider"], ["provider"], range(T), True),
        ("pay", prov, blocked, ["provider"], ["provider"], range(T), False),
        ("z", inst.designs, np.arange(len(inst.designs)), ["locality", "pathway", "variant"],
         ["locality", "pathway", "variant"], range(T), True),
        ("n", inst.units, np.arange(len(inst.units)), ["provider", "activity"],
         ["provider", "activity"], range(T), True),
        ("h", inst.heads, np.arange(len(inst.heads)), ["provider", "activity", "resource"],
         ["provider", "activity", "resource"], range(T), True),
        ("u", prov, starts, ["provider"], ["provider"], range(1, T), False),
    ]
    parts: list[pd.DataFrame] = []
    lbs: list[np.ndarray] = []
    ubs: list[np.ndarray] = []
    ints: list[np.ndarray] = []
    blocks: dict[str, tuple[int, int]] = {}
    of: dict[str, list[np.ndarray]] = {}
    start = 0
    for kind, table, rows, described, keys, span, integer in kinds:
        base = table.iloc[rows][described].reset_index(drop=True)
        first = start
        of[kind] = [np.full(len(table), -1, dtype=np.int64) for _ in range(T)]
        for t in span:
            label = int(years.calendar(t)) if years.dated else None
            named = dated(kind, base, keys, label)
            if "variant" in base and "variant" not in keys and base["variant"].notna().any():
                named = _variant_before_year(named, base["variant"], label)
            meta = base.assign(name=named, kind=kind, year=t)
            lb, ub = _bounds(kind, views[t], rows)
            parts.append(meta)
            lbs.append(lb)
            ubs.append(ub)
            ints.append(np.full(len(rows), integer))
            of[kind][t][rows] = np.arange(start, start + len(rows))
            start += len(rows)
        blocks[kind] = (first, start)
    c_cols = np.arange(start, start + carries)
    if carries:
        meta = pd.DataFrame({"year": np.arange(carries)})
        label = years.calendar(meta["year"]) if years.dated else meta["year"]
        parts.append(meta.assign(name=text([f"c[{y}]" for y in label.tolist()]), kind="c"))
        lbs.append(np.zeros(carries))
        ubs.append(np.full(carries, np.inf))
        ints.append(np.zeros(carries, dtype=bool))
    blocks["c"] = (start, start + carries)

    meta = pd.concat(parts, ignore_index=True)
    for c in ("locality", "pathway", "step", "provider", "resource", "activity", "variant"):
        if c not in meta:
            meta[c] = None
    meta = meta[["name", "kind", "locality", "pathway", "step", "provider", "resource", "activity",
                 "variant", "year"]]
    meta["year"] = meta["year"].astype(np.int64)
    at = tuple(
        YearColumns(x=of["x"][t], y_of_dem=of["y"][t], k_of_res=of["k"][t], o_of_prov=of["o"][t],
                    pay_of_prov=of["pay"][t], u_of_prov=of["u"][t], z_of_design=of["z"][t],
                    n_of_unit=of["n"][t], h_of_head=of["h"][t],
                    c_in=int(c_cols[t - 1]) if 0 < t <= carries else -1,
                    c_out=int(c_cols[t]) if t < carries else -1)
        for t in range(T))
    return Columns(at=at, lb=np.concatenate(lbs), ub=np.concatenate(ubs),
                   integer=np.concatenate(ints), meta=meta, blocks=blocks)


def _variant_before_year(named: pd.Series, variant: pd.Series, label: int | None) -> pd.Series:
    """Names with the design as their last index, before the calendar year if any."""
    if label is None:
        return with_variant(named, variant)
    suffix = f",{label}]"
    bare = text([n[: -len(suffix)] + "]" for n in named.tolist()])
    return text([f"{n[:-1]}{suffix}" for n in with_variant(bare, variant).tolist()])


def _bounds(kind: str, inst: Instance, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of one year's columns of ``kind`` (``rows`` of its owning table). The uptake
    of a design's optional step is only ``>= 0``: its z-scaled range is a row
    (:mod:`.design_uptake`), and a column bound of ``N*max`` beside it would take that row's
    shadow price (solvers need not say which of the two binds); the compiler's implied
    bounds hold ``N*max`` for solvers that need finite domains."""
    n = len(rows)
    if kind == "y":
        designed = inst.demand["design"].to_numpy(np.int64)[rows] >= 0
        return (np.where(designed, 0.0, inst.demand["ymin"].to_numpy(float)[rows]),
                np.where(designed, np.inf, inst.demand["ymax"].to_numpy(float)[rows]))
    if kind == "k":
        return np.zeros(n), inst.resources["expand_max"].to_numpy(float)[rows]
    if kind in ("o", "u", "z"):
        return np.zeros(n), np.ones(n)
    return np.zeros(n), np.full(n, np.inf)
