"""Index maps from instance numbers to the compiled model's numbers, built once per session."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import SolveFailed
from ..instance import Instance
from ..load import Scenario
from ..model import LinearModel
from .changes import BASE, Changes, ZERO
from .demand import _Demand

if TYPE_CHECKING:
    from .session import WarmModel


@dataclass(frozen=True)
class _Derived:
    """A changed instance and the session's form of its model (always with a budget row)."""

    inst: Instance
    live: LinearModel
    maps: _Maps
    coeff_slots: np.ndarray | None = None
    """Positions in ``live.A.data`` where any two models derived by the same maps may differ
    (None: anywhere)."""
    coeffs_changed: bool = True
    """Whether the matrix differs from the loaded scenario's."""

    def public(self, mode: str, implied: bool = True) -> LinearModel:
        """The model as :func:`compile_model` builds it for ``inst`` (LP relaxation in lp;
        ``implied_ub`` left out unless ``implied``)."""
        m = self.live
        if m.implied_ub is None and implied:
            from ..compile import _implied_upper_bounds

            cols = replace(self.maps.cols, lb=m.col_lb, ub=m.col_ub)
            m = replace(m, implied_ub=_implied_upper_bounds([self.inst], cols))
        if self._drops:
            keep = self.maps.keep_rows
            m = replace(m, A=sp.csr_array(m.A[keep]), row_lb=m.row_lb[keep],
                        row_ub=m.row_ub[keep], row_meta=self.maps.public_row_meta())
        return m.relaxed() if mode == "lp" else m

    @property
    def _drops(self) -> bool:
        return self.inst.budget is None and self.maps.budget_row >= 0

    def public_rows(self, a: np.ndarray | None) -> np.ndarray | None:
        """A per-row array of ``live`` for the rows of :meth:`public`."""
        return np.delete(a, self.maps.budget_row) if (a is not None and self._drops) else a



# --------------------------------------------------------------------------- model maps

class _Maps:
    """Where the changeable numbers sit in the compiled model (built once, then verified)."""

    def __init__(self, scenario: Scenario, cols, live0: LinearModel):
        inst = scenario.instance
        self.cols = cols
        kind = live0.row_meta["kind"].to_numpy()
        rows_of = {k: np.flatnonzero(kind == k) for k in pd.unique(kind)}
        empty = np.zeros(0, dtype=np.int64)
        self.rows = lambda k: rows_of.get(k, empty)  # noqa: E731
        budget = self.rows("budget")
        self.budget_row = int(budget[0]) if len(budget) == 1 else -1
        self.keep_rows = np.ones(live0.num_rows, dtype=bool)
        if self.budget_row >= 0:
            self.keep_rows[self.budget_row] = False
        self._row_meta = live0.row_meta
        self._public_meta: pd.DataFrame | None = None
        self.n_cols = live0.num_cols
        # names -> table rows
        self.res_index = pd.Index(inst.resources["resource"])
        offers = inst.offers
        self.offer_index = {(p, a): i for i, (p, a) in
                            enumerate(zip(offers["provider"], offers["activity"]))}
        self.arc_offer = np.fromiter((self.offer_index[(p, a)] for p, a in
                                      zip(inst.arcs["provider"], inst.arcs["activity"])),
                                     np.int64, len(inst.arcs))
        # capacity rows: their resource
        cap_rows = self.rows("capacity")
        self.cap_rows = cap_rows
        self.cap_res = self.res_index.get_indexer(live0.row_meta["resource"].to_numpy()[cap_rows])
        # demand-driven rows: bound = factor * fixed[dem]
        self.demand = _Demand.build(scenario)
        self.flow_rows = self.rows("flow")
        self.floor_rows = self.rows("demand_floor")
        self.floor_dem = np.unique(inst.avoids["dst_dem"].to_numpy(np.int64))
        self.cap_share_rows = self.rows("setting_cap")
        self.caps_dem = inst.caps["dem"].to_numpy(np.int64)
        self.caps_share = inst.caps["max_share"].to_numpy(float)
        self.pace_rows = self.rows("pace")
        arcs = inst.arcs
        if inst.max_shift is None:
            pace_idx = np.zeros(0, dtype=np.int64)
        else:
            pace_idx = np.flatnonzero(arcs["share0"].to_numpy(float) > 0)
        self.pace_dem = arcs["dem"].to_numpy(np.int64)[pace_idx]
        self.pace_f = (1.0 - (inst.max_shift or 0.0)) * arcs["share0"].to_numpy(float)[pace_idx]
        # the objective's ingredients that do not change (see compile/cost.py)
        self.p_idx = pd.Index(inst.providers["provider"]).get_indexer(arcs["provider"])
        self.uplift = 1.0 + inst.providers["overhead"].to_numpy(float)[self.p_idx]
        self.in_pay = cols.pay_of_prov[self.p_idx] >= 0
        design = inst.demand["design"].to_numpy(np.int64)
        self.designed = design >= 0  # demand rows of pathways with variants (SPEC 11)
        optional = inst.demand["optional"].to_numpy(bool)
        self.opt_dem = np.flatnonzero(optional & ~self.designed)
        self.y_cols = cols.y_of_dem[self.opt_dem]
        # static objective terms on x beyond price * uplift (resource costs per unit used)
        unit0 = arcs["unit_cost"].to_numpy(float)
        self.x_extra = live0.obj[cols.x] - np.where(self.in_pay, 0.0, unit0 * self.uplift)
        # coefficient slots that prices and demand set: (row, col) and their positions
        prov = inst.providers
        blocked = prov[cols.pay_of_prov >= 0]["provider"]
        pay_r = pd.Series(self.rows("payment"), index=blocked.to_numpy())
        pay_mine = arcs["provider"].isin(blocked).to_numpy()
        self.pay_arcs = np.flatnonzero(pay_mine)
        runs = prov[cols.o_of_prov >= 0].reset_index()
        run_r = pd.Series(np.arange(len(runs)), index=runs["provider"])
        run_mine = arcs["provider"].isin(runs["provider"]).to_numpy()
        self.run_arc_rows = run_r.reindex(arcs["provider"][run_mine]).to_numpy(np.int64)
        self.run_arc_dem = arcs["dem"].to_numpy(np.int64)[run_mine]
        self.n_runs = len(runs)
        run_cols = cols.o_of_prov[runs["index"].to_numpy(np.int64)]
        budget_cols = np.arange(self.n_cols) if self.budget_row >= 0 else empty
        # a design's demand terms on its z: flow, demand floor, setting cap and pace rows
        # carry sign * factor * N*per_patient of a fixed step; uptake rows -N*min, -N*max
        z_of = cols.z_of_design
        fixed_designed = self.designed & ~optional
        parts = [(self.flow_rows, np.arange(len(inst.demand)), -1.0),
                 (self.floor_rows, self.floor_dem, 1.0),
                 (self.cap_share_rows, self.caps_dem, -self.caps_share),
                 (self.pace_rows, self.pace_dem, -self.pace_f)]
        z_rows, z_dem, z_fac = [], [], []
        for rows, dems, fac in parts:
            fac = np.broadcast_to(np.asarray(fac, float), len(dems))
            keep = fixed_designed[dems] if len(dems) else np.zeros(0, dtype=bool)
            z_rows.append(rows[keep])
            z_dem.append(dems[keep])
            z_fac.append(fac[keep])
        up_dem = np.flatnonzero(optional & self.designed)
        self.z_fixed = (np.concatenate(z_dem), np.concatenate(z_fac))
        up_min_dem = up_dem[inst.demand["ymin"].to_numpy(float)[up_dem] > 0]
        self.z_uptake = (up_min_dem, up_dem)
        z_slot_rows = np.concatenate(z_rows + [self.rows("uptake_min"), self.rows("uptake_max")])
        z_slot_cols = np.concatenate([z_of[design[d]] for d in
                                      (self.z_fixed[0], up_min_dem, up_dem)])
        self.slot_row = np.concatenate([
            np.full(len(budget_cols), self.budget_row, dtype=np.int64),
            pay_r.reindex(arcs["provider"][pay_mine]).to_numpy(np.int64),
            self.rows("running_max")[:self.n_runs] if self.n_runs else empty,
            z_slot_rows.astype(np.int64),
        ])
        self.slot_col = np.concatenate([budget_cols, cols.x[self.pay_arcs],
                                        run_cols, z_slot_cols]).astype(np.int64)
        self.n_budget_slots = len(budget_cols)
        self.n_pay_slots = len(self.pay_arcs)
        A = live0.A
        if not A.has_sorted_indices:
            raise SolveFailed("compiled matrix without sorted indices")
        self.slot_pos = _positions(A, self.slot_row, self.slot_col)
        self.all_slots = self.slot_pos[self.slot_pos >= 0]
        self._static = None

    def objective(self, inst: Instance, obj0: np.ndarray, *, prices: bool,
                  demand: bool) -> np.ndarray:
        """The objective of :func:`optimiser.compile.cost.objective` for ``inst``, re-deriving
        what prices (flow costs) and demand (whether a make provider pays its setup cost,
        which depends on its baseline volume) touch."""
        obj = obj0.copy()
        cols, prov = self.cols, inst.providers
        if prices:
            unit = inst.arcs["unit_cost"].to_numpy(float)
            obj[cols.x] = np.where(self.in_pay, 0.0, unit * self.uplift) + self.x_extra
        if demand:
            baseline_vol = np.bincount(self.p_idx, weights=inst.arcs["x0"].to_numpy(float),
                                       minlength=len(prov))
            setup = np.where(baseline_vol > 0, 0.0, prov["setup_cost"].to_numpy(float))
            overhead = prov["overhead"].to_numpy(float)
            fixed = (1.0 + overhead) * prov["fixed_cost"].to_numpy(float) + setup
            has_o = cols.o_of_prov >= 0
            obj[cols.o_of_prov[has_o]] = fixed[has_o]
        return obj

    def public_row_meta(self) -> pd.DataFrame:
        if self._public_meta is None:
            self._public_meta = self._row_meta[self.keep_rows].reset_index(drop=True)
        return self._public_meta

    def slot_values(self, inst: Instance, obj: np.ndarray, dmax: np.ndarray) -> np.ndarray:
        """The coefficient of every slot: objective in the budget row, ``-price`` in payment
        rows, ``-M`` (the sum of the provider's largest demands) in running rows."""
        price = -inst.arcs["unit_cost"].to_numpy(float)[self.pay_arcs]
        big_m = np.bincount(self.run_arc_rows, weights=dmax[self.run_arc_dem],
                            minlength=self.n_runs)
        dem = inst.demand
        fixed = dem["fixed"].to_numpy(float)
        z_dem, z_fac = self.z_fixed
        up_min_dem, up_dem = self.z_uptake
        z_vals = np.concatenate([z_fac * fixed[z_dem], -dem["ymin"].to_numpy(float)[up_min_dem],
                                 -dem["ymax"].to_numpy(float)[up_dem]])
        return np.concatenate([obj[:self.n_budget_slots] if self.n_budget_slots else obj[:0],
                               price, -big_m, z_vals])

    def model(self, base: _Derived, inst: Instance, ch: Changes, force: bool = False) -> _Derived:
        """The changed model: the base model with the numbers ``ch`` touches re-derived."""
        m0 = base.live
        row_lb, row_ub, col_lb, col_ub = m0.row_lb, m0.row_ub, m0.col_lb, m0.col_ub
        obj, A = m0.obj, m0.A
        slots = self.all_slots
        if ch.budget is not BASE or force:
            row_ub = row_ub.copy()
            if self.budget_row >= 0:
                row_ub[self.budget_row] = np.inf if inst.budget is None else float(inst.budget)
        if ch.capacity or force:
            row_ub = row_ub.copy()
            row_ub[self.cap_rows] = inst.resources["capacity"].to_numpy(float)[self.cap_res]
        demand = ch.touches_demand or force
        if demand:
            dem = inst.demand
            # the constant part of demand: a design's is on its z (a slot, below)
            fixed = np.where(self.designed, 0.0, dem["fixed"].to_numpy(float))
            row_lb, row_ub = row_lb.copy(), row_ub.copy()
            row_lb[self.flow_rows] = fixed
            row_ub[self.flow_rows] = fixed
            row_lb[self.floor_rows] = -(1.0 * fixed[self.floor_dem])
            row_ub[self.cap_share_rows] = self.caps_share * fixed[self.caps_dem]
            row_lb[self.pace_rows] = self.pace_f * fixed[self.pace_dem]
            col_lb, col_ub = col_lb.copy(), col_ub.copy()
            col_lb[self.y_cols] = dem["ymin"].to_numpy(float)[self.opt_dem]
            col_ub[self.y_cols] = dem["ymax"].to_numpy(float)[self.opt_dem]
        implied = m0.implied_ub
        if ch.prices or demand:
            obj = self.objective(inst, obj, prices=bool(ch.prices) or force, demand=demand)
            implied = None  # filled in by _Derived.public, when asked for
            new = self.slot_values(inst, obj, inst.demand["dmax"].to_numpy(float))
            A, slots = self._matrix(m0.A, new)
        live = replace(m0, obj=obj, col_lb=col_lb, col_ub=col_ub, row_lb=row_lb, row_ub=row_ub,
                       A=A, implied_ub=implied)
        return _Derived(inst, live, self, slots, A is not m0.A)

    def _matrix(self, A0: sp.csr_array, new: np.ndarray) -> tuple[sp.csr_array, np.ndarray | None]:
        """``A0`` with the slot coefficients set to ``new``; the positions that may have
        changed (None when the sparsity pattern changed)."""
        new = np.where(np.abs(new) < ZERO, 0.0, new)
        present = self.slot_pos >= 0
        if np.array_equal(new != 0, present):
            data = A0.data.copy()
            pos = self.slot_pos[present]
            data[pos] = new[present]
            return sp.csr_array((data, A0.indices, A0.indptr), shape=A0.shape), pos
        if self._static is None:
            keep = np.ones(A0.nnz, dtype=bool)
            keep[self.slot_pos[present]] = False
            rows = np.repeat(np.arange(A0.shape[0]), np.diff(A0.indptr))
            self._static = (rows[keep], A0.indices[keep].astype(np.int64), A0.data[keep])
        r, c, v = self._static
        nz = new != 0
        A = sp.csr_array(sp.coo_array((np.concatenate([v, new[nz]]),
                                       (np.concatenate([r, self.slot_row[nz]]),
                                        np.concatenate([c, self.slot_col[nz]]))), shape=A0.shape))
        A.sum_duplicates()
        A.data[np.abs(A.data) < ZERO] = 0.0
        A.eliminate_zeros()
        return A, None

    def verify(self, session: WarmModel) -> tuple[bool, bool]:
        """Whether re-deriving the loaded scenario gives back its tables and its compiled
        model (then the fast maps are used; else changed instances are recompiled)."""
        inst = session.scenario.instance
        d = self.demand
        num = d.numbers(d.pop0, d.prev0)
        dem = inst.demand
        demand_ok = all(np.allclose(num[k], dem[k].to_numpy(float), rtol=1e-12, atol=1e-9)
                        for k in ("patients", "fixed", "ymin", "ymax", "dmax", "d0"))
        demand_ok &= bool(np.allclose(num["x0"], inst.arcs["x0"].to_numpy(float),
                                      rtol=1e-12, atol=1e-9))
        try:
            got = self.model(session._base, inst, Changes(), force=True).live
        except Exception:  # noqa: BLE001 - any surprise means: do not trust the maps
            return False, demand_ok
        m0 = session._base.live
        same = (len(self.flow_rows) == len(dem) and len(self.pace_rows) == len(self.pace_dem)
                and len(self.floor_rows) == len(self.floor_dem)
                and len(self.cap_share_rows) == len(self.caps_dem)
                and len(self.rows("running_max")) >= self.n_runs
                and np.array_equal(got.A.indptr, m0.A.indptr)
                and np.array_equal(got.A.indices, m0.A.indices))
        if same:
            for a, b in ((got.obj, m0.obj), (got.col_lb, m0.col_lb), (got.col_ub, m0.col_ub),
                         (got.row_lb, m0.row_lb), (got.row_ub, m0.row_ub), (got.A.data, m0.A.data)):
                if not np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=False):
                    same = False
                    break
        return bool(same), bool(demand_ok)


def _positions(A: sp.csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Position of each (row, col) in ``A.data`` (sorted indices), -1 where absent."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    n = A.shape[1]
    keys = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr)) * n + A.indices
    want = rows.astype(np.int64) * n + cols
    pos = np.searchsorted(keys, want)
    pos = np.minimum(pos, len(keys) - 1) if len(keys) else pos
    found = len(keys) > 0
    ok = (keys[pos] == want) if found else np.zeros(len(want), dtype=bool)
    return np.where(ok, pos, -1).astype(np.int64)
