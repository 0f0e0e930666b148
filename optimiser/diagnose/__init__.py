"""Why there is no plan: pre-solve checks, the least relaxation and a conflicting set.

:func:`diagnose` returns the ``diagnosis.json`` content. See :mod:`.elastic` for the method
and :mod:`.presolve` for the checks made before any solver runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..backends import REGISTRY, SolveOptions, get_backend
from ..load import Scenario
from ..model import LinearModel
from .describe import location, member_message, relaxation_message, setting_of
from .elastic import deletion_filter, elastic, feasible_with, soft_rows, with_uptake_rows
from .presolve import presolve_findings

__all__ = ["diagnose", "presolve_findings"]


def diagnosis_backend(mode: str, name: str) -> str:
    """The backend that diagnoses: the solve's own when it does LP/MILP, else HiGHS."""
    want = "lp" if mode == "lp" else "milp"
    return name if want in REGISTRY.get(name, REGISTRY["highs"]).modes else "highs"


def diagnose(scenario: Scenario, model: LinearModel, *, mode: str, backend: str,
             options: SolveOptions) -> dict:
    """The least relaxation that restores a plan and an irreducible conflicting set."""
    name = diagnosis_backend(mode, backend)
    solver = get_backend(name)
    m = with_uptake_rows(model.relaxed() if mode == "lp" else model)
    el = elastic(m, solver, options, scale=_row_scale(scenario, m))
    out: dict = {"status": "infeasible", "backend": name,
                 "method": "elastic model (least relative relaxation of capacities, quality "
                           "floors, budget, pace, setting caps, minimum volumes, block "
                           "contracts and uptake bounds"
                           + (", and the cap on redesigns" if scenario.instance.varied else "")
                           + "), then a deletion filter",
                 "relaxation": [], "conflict": [], "irreducible": False,
                 "integrality_only": False}
    if not el.status.has_solution:
        out["message"] = ("no relaxation of the adjustable limits restores a plan: the hard "
                          "rules (every step's demand delivered by providers that can deliver "
                          "it) conflict by themselves")
        return out
    meta = m.row_meta
    extra = _extras(scenario, m, el.values)
    for i in np.flatnonzero((el.relax_lo > 0) | (el.relax_hi > 0)):
        row = meta.iloc[i]
        lower = el.relax_lo[i] > 0
        limit = float(m.row_lb[i] if lower else m.row_ub[i])
        by = float(el.relax_lo[i] if lower else el.relax_hi[i])
        if row["kind"] == "min_volume":
            # the row reads sum x - mv * o >= 0: quote mv, and turn the row's slack into a
            # change of mv (slack = change x o, o fractional in lp)
            limit = float(scenario.instance.providers.set_index("provider").loc[row["provider"], "min_volume"])
            o = extra.get(i, {}).get("o", 1.0)
            by = by / o if o > 1e-9 else by
        elif _designed_uptake(row):
            limit = _design_limit(m, i)
        where, key = location(scenario, row)
        out["relaxation"].append({
            "constraint": row["name"], "kind": row["kind"], "where": where, "key": key,
            "limit": round(limit, 6), "relax_by": round(by, 6),
            "message": relaxation_message(scenario, row, limit, by, extra.get(i, {})),
        })
    members, proven = deletion_filter(m, el, solver, options)
    out["irreducible"] = proven
    for i in members:
        row = meta.iloc[i]
        lower = np.isfinite(m.row_lb[i])
        limit = float(m.row_lb[i] if lower else m.row_ub[i])
        if _designed_uptake(row):
            limit = _design_limit(m, i)
        where, key = location(scenario, row)
        out["conflict"].append({"constraint": row["name"], "kind": row["kind"], "where": where,
                                "key": key, "message": member_message(scenario, row, limit)})
    if m.has_integers:
        out["integrality_only"] = feasible_with(m.relaxed(), soft_rows(m), solver, options)
    return out


def _designed_uptake(row: pd.Series) -> bool:
    """An uptake row of a design's optional step (SPEC section 11): ``y - N*min*z >= 0`` or
    ``y - N*max*z <= 0``, its limit 0."""
    w = row.get("variant")
    return row["kind"] in ("uptake_min", "uptake_max") and isinstance(w, str) and bool(w)


def _design_limit(m: LinearModel, i: int, A=None) -> float:
    """The uptake limit a design's uptake row states when its design is chosen: ``N*min``
    (or ``N*max``), the coefficient of its ``z`` (``A``: ``m.A`` as CSR, when at hand)."""
    start, stop = m.blocks.get("z", (0, 0))
    A = m.A.tocsr() if A is None else A
    lo, hi = A.indptr[i], A.indptr[i + 1]
    cols, vals = A.indices[lo:hi], A.data[lo:hi]
    on = (cols >= start) & (cols < stop)
    return float(abs(vals[on].sum())) if on.any() else 0.0


def _row_scale(scenario: Scenario, m: LinearModel) -> np.ndarray:
    """The size each row's relaxation is measured against, where its limit says nothing.

    Rows whose limit is 0 (a setting cap or pace row of an optional step, written against
    the uptake variable; a year-to-year pace row) are measured by their magnitude, the
    largest |coefficient x upper bound| in the row; quality rows by floor x the locality's
    pathway volume in the row's year; minimum volume rows by the minimum volume itself; the
    uptake rows of a design's step (limit 0, SPEC section 11) by the uptake they state.
    """
    inst = scenario.instance
    meta = m.row_meta
    A = m.A.tocsr()
    ub = np.where(np.isfinite(m.col_ub), m.col_ub,
                  m.implied_ub if m.implied_ub is not None else 0.0)
    ub = np.nan_to_num(np.where(np.isfinite(ub), ub, 0.0))
    weighted = sp.csr_array((np.abs(A.data) * ub[A.indices], A.indices, A.indptr), shape=A.shape)
    magnitude = weighted.max(axis=1).toarray().ravel() if A.nnz else np.zeros(m.num_rows)
    scale = magnitude
    vol: dict[int, pd.Series] = {}
    floor = inst.floors.set_index("pathway")["floor"]
    mv = inst.providers.set_index("provider")["min_volume"]
    for i in np.flatnonzero(meta["kind"].isin(["quality", "min_volume"]).to_numpy()):
        row = meta.iloc[i]
        if row["kind"] == "quality":
            t = _year(row)
            if t not in vol:
                vol[t] = inst.at_year(t).demand.groupby(["locality", "pathway"])["dmax"].sum()
            scale[i] = float(floor.get(row["pathway"], 0.0) * vol[t].get((row["locality"], row["pathway"]), 0.0))
        else:
            scale[i] = float(mv.get(row["provider"], 0.0))
    if "variant" in meta:
        designed = (meta["kind"].isin(["uptake_min", "uptake_max"]).to_numpy()
                    & pd.notna(meta["variant"].to_numpy(object)))
        for i in np.flatnonzero(designed):
            scale[i] = _design_limit(m, i, A) or scale[i]
    return scale


def _year(row: pd.Series) -> int:
    """The year index t of a row (0 in a one-year plan)."""
    t = row.get("year", 0)
    return 0 if t is None or pd.isna(t) else int(t)


def _extras(scenario: Scenario, m: LinearModel, values: np.ndarray) -> dict[int, dict]:
    """Per relaxed row, the domain numbers its message quotes (reachable quality, needed
    max_shift or share, expansion steps taken), read off the relaxed plan in the row's
    year."""
    inst = scenario.instance
    T = inst.years.count
    arcs = inst.arcs
    dem = inst.demand
    X = values[m.block("x")].reshape(T, len(arcs))
    opt = np.flatnonzero(dem["optional"].to_numpy(bool))
    Y = np.zeros((T, len(dem)))
    Y[:, opt] = values[m.block("y")].reshape(T, len(opt))
    av = inst.avoids
    src, dst = av["src_dem"].to_numpy(int), av["dst_dem"].to_numpy(int)
    effect = av["effect"].to_numpy(float)
    demands: dict[int, np.ndarray] = {}
    # SPEC section 11: a fixed step of a design has demand N*per_patient*z of its design
    design = dem["design"].to_numpy(np.int64) if "design" in dem else np.full(len(dem), -1)
    Z = (values[m.block("z")].reshape(T, len(inst.designs)) if len(inst.designs)
         else np.ones((T, 0)))

    def D(t: int) -> np.ndarray:
        """Year t's demand per demand row in the relaxed plan."""
        if t not in demands:
            y = Y[t]
            avoided = np.bincount(dst, minlength=len(dem), weights=effect * y[src])
            fixed = inst.at_year(t).demand["fixed"].to_numpy(float)
            if len(inst.designs):
                fixed = fixed * np.where(design >= 0, Z[t][np.maximum(design, 0)], 1.0)
            demands[t] = np.where(dem["optional"].to_numpy(bool), y, fixed - avoided)
        return demands[t]

    out: dict[int, dict] = {}
    meta = m.row_meta
    o_cols = m.col_meta.iloc[m.block("o")]
    o_val = dict(zip(zip(o_cols["provider"], o_cols["year"].astype(int)), values[m.block("o")]))
    for i in np.flatnonzero((meta["kind"] == "min_volume").to_numpy()):
        row = meta.iloc[i]
        out[i] = {"o": float(o_val.get((row["provider"], _year(row)), 1.0))}
    k_cols = m.col_meta.iloc[m.block("k")]
    k_used = dict(zip(zip(k_cols["resource"], k_cols["year"].astype(int)), values[m.block("k")]))
    for i in np.flatnonzero((meta["kind"] == "capacity").to_numpy()):
        row = meta.iloc[i]
        key = (row["resource"], _year(row))
        if key in k_used:
            out[i] = {"steps_used": float(k_used[key])}
    growth = dem["growth"].to_numpy(float)
    arc_variant = arcs["variant"].to_numpy(object) if "variant" in arcs else None

    def of_design(row: pd.Series, sel: np.ndarray) -> np.ndarray:
        """``sel`` narrowed to the arcs of the row's design (a pathway with variants has a
        step's arcs once per design)."""
        w = row.get("variant")
        if arc_variant is None or not isinstance(w, str) or not w:
            return sel
        return sel & (arc_variant == w)

    for i in np.flatnonzero(meta["kind"].isin(["quality", "pace", "year_pace", "setting_cap"]).to_numpy()):
        row = meta.iloc[i]
        t = _year(row)
        x = X[t]
        if row["kind"] == "quality":
            sel = ((arcs["locality"] == row["locality"]) & (arcs["pathway"] == row["pathway"])).to_numpy()
            vol = x[sel].sum()
            if vol > 0:
                out[i] = {"quality": float((arcs["quality"].to_numpy(float)[sel] * x[sel]).sum() / vol)}
        elif row["kind"] in ("pace", "year_pace"):
            sel = np.flatnonzero(of_design(row, ((arcs["locality"] == row["locality"])
                                                 & (arcs["activity"] == row["activity"])
                                                 & (arcs["provider"] == row["provider"])).to_numpy()))
            if len(sel):
                a = sel[0]
                d = int(arcs["dem"].iloc[a])
                if row["kind"] == "pace":  # against today's share of year t's demand
                    base = arcs["share0"].iloc[a] * D(t)[d]
                else:  # against last year's volume, grown with demand
                    base = growth[d] * X[t - 1][a] if t >= 1 else 0.0
                if base > 0:
                    out[i] = {"max_shift": float(max(0.0, 1 - x[a] / base))}
        else:
            setting = setting_of(row)
            sel = of_design(row, ((arcs["locality"] == row["locality"])
                                  & (arcs["activity"] == row["activity"])
                                  & (arcs["setting"] == setting)).to_numpy())
            d = D(t)[arcs["dem"].to_numpy()[sel][0]] if sel.any() else 0
            if d > 0:
                out[i] = {"share": float(x[sel].sum() / d)}
    return out
