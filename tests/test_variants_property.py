"""Property tests: SPEC section 11's designs leave section 3's model alone when unused.

SPEC section 11: "a scenario with only ``current`` equals the section 3 model". On random
valid scenarios from :mod:`strategies` (every feature of section 3, no variants):

* ``test_without_variants_the_model_is_section_3s``: no ``z``, ``n`` or ``h`` column, no row
  kind beyond section 3's, no design in any name, and empty design/unit/head tables.
  (There is no independent PuLP formulation of section 3 in tests/ to compare optima
  against; the backends' agreement and the hand-derived baseline are checked in
  tests/test_properties.py.)

The same scenario with one pathway given a variant (changed, removed and added steps, an
adoption cost) and ``constraints.max_redesigns: 0``, so that only ``current`` may run:

* ``test_capped_variant_substitutes_to_the_same_model``: fixing ``z`` at ``current`` (and
  so every column of the variant's design at 0) turns the compiled model into the one
  without the variant -- same column names, bounds, integrality and objective, same row
  names, bounds and matrix -- except that ``M[v]`` of ``running_max`` sums over the arcs of
  every design (SPEC section 11), so it may only grow;
* ``test_capped_variant_has_the_same_optimum`` (highs, lp and milp) and
  ``test_capped_variant_has_the_same_optimum_on_cbc`` (a few examples): the same verdict
  and optimal objective in milp; in lp the same when ``M`` is unchanged, else never higher
  (a larger ``M`` only loosens the LP relaxation of ``o``); each plan of the varied model,
  read on the current design's columns, is a feasible plan of the model without the
  variant at the same objective, and the variant's design carries nothing;
* and, uncapped, a pathway with one more design never costs more than without it.

Examples are few (``max_examples`` below) and derandomized (the ``ci`` profile of
:mod:`strategies`), so a run takes seconds.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import event, given, settings
from hypothesis import strategies as st

from optimiser import Status
from optimiser.backends import SolveOptions, get_backend
from optimiser.compile import compile_model
from optimiser.model import LinearModel

from strategies import ANCHOR, ANCHOR_SETTING, GenScenario, load, scenarios

VARIANT = "alt"
ADDED = "extra"
SECTION_3_ROWS = {"flow", "demand_floor", "setting_cap", "capacity", "running_max",
                  "min_volume", "block_contract", "payment", "quality", "budget", "pace"}
SECTION_11_COLUMNS = {"z", "n", "h"}
OPTS = SolveOptions(time_limit=60.0, mip_gap=1e-6)
REL = 1e-6
"""SPEC section 3's agreement of lp optima, and the default mip_gap."""
FEAS = 1e-6
"""Solver feasibility slack, relative to max(1, |limit|, the row's terms)."""

_BACKENDS: dict = {}


def backend(name: str):
    if name not in _BACKENDS:
        _BACKENDS[name] = get_backend(name)
    return _BACKENDS[name]


def tol(*values: float) -> float:
    return (REL + FEAS) * max([1.0, *(abs(v) for v in values)])


# --------------------------------------------------------------------------- the variant


@st.composite
def with_capped_variant(draw, capped: bool = True) -> tuple[GenScenario, GenScenario]:
    """A generated scenario, and a copy whose first pathway has a variant ``alt`` (some
    steps replaced, maybe one removed, one step added that only the anchor and perhaps one
    more provider deliver, an adoption cost) and, when ``capped``, ``max_redesigns: 0``."""
    gen = draw(scenarios())
    var = gen.copy()
    p = var.pathways[0]
    pid = p["pathway"]
    steps = p["steps"]
    targets = {t for s in steps for t in s.get("avoids", {})}
    replace = []
    for s in steps:
        if not draw(st.booleans()):
            continue
        change: dict = {"step": s["step"]}
        if isinstance(s["per_patient"], dict):
            lo = draw(st.integers(0, 3))
            change["per_patient"] = {"min": lo / 10, "max": (lo + draw(st.integers(0, 5))) / 10}
        else:
            change["per_patient"] = draw(st.integers(0, 20)) / 10
        if draw(st.booleans()):
            change["settings"] = [ANCHOR_SETTING]  # the anchor still delivers it
            change["max_share"] = {}               # today's caps name other settings
        replace.append(change)
    changed = {c["step"] for c in replace}
    removable = [s["step"] for s in steps if s["step"] not in targets | changed]
    remove = [draw(st.sampled_from(removable))] if removable and draw(st.booleans()) else []
    added = {"step": ADDED, "per_patient": draw(st.integers(1, 10)) / 10,
             "settings": [ANCHOR_SETTING, "community"]}
    variant: dict = {"name": "Alternative design", "replace": replace, "add": [added]}
    if remove:
        variant["remove"] = remove
    variant["adoption_cost"] = 500 * draw(st.integers(0, 10))
    p["variants"] = {VARIANT: variant}
    act = f"{pid}.{ADDED}"
    var.providers[ANCHOR]["prices"][act] = 5 * draw(st.integers(10, 100))
    others = [n for n in var.providers if n != ANCHOR]
    if others and draw(st.booleans()):
        v = var.providers[draw(st.sampled_from(others))]
        money = "prices" if v["mode"] == "buy" else "costs"
        v[money][act] = 5 * draw(st.integers(4, 60))
    if capped:
        var.constraints["max_redesigns"] = 0
    return gen, var


# --------------------------------------------------------------------------- helpers


def compiled(gen: GenScenario) -> LinearModel:
    return compile_model(load(gen).instance)


def solve(model: LinearModel, mode: str, name: str):
    out = backend(name).solve(model.relaxed() if mode == "lp" else model, OPTS)
    assert out.status in (Status.OPTIMAL, Status.INFEASIBLE), (mode, name, out.status, out.message)
    return out


def violation(model: LinearModel, values: np.ndarray, integral: bool) -> float:
    """Largest violation of the model's rows and bounds by ``values``, each relative to
    max(1, |limit|, the row's sum of |terms|)."""
    act = model.A @ values
    terms = abs(model.A) @ np.abs(values)
    parts = [np.zeros(1)]
    for lim, amount, size in ((model.row_lb, model.row_lb - act, terms),
                              (model.row_ub, act - model.row_ub, terms),
                              (model.col_lb, model.col_lb - values, 0.0),
                              (model.col_ub, values - model.col_ub, 0.0)):
        ok = np.isfinite(lim)
        parts.append(amount[ok] / np.maximum(1.0, np.maximum(np.abs(lim), size)[ok]))
    if integral:
        ints = model.col_integer
        parts.append(np.abs(values[ints] - np.round(values[ints])))
    return float(np.max(np.concatenate(parts)))


def _plain(meta) -> list[str]:
    """Names with today's design dropped from them (``x[north,copd,s1,acute,current]`` ->
    ``x[north,copd,s1,acute]``): what the model without variants calls them."""
    return [n[: -len(",current]")] + "]" if w == "current" else n
            for n, w in zip(meta["name"], meta["variant"])]


class Substituted:
    """The varied model with ``z`` fixed at ``current`` and the variant's columns (forced
    to 0 by then) and rows dropped; uptake rows of ``current``, one column each once ``z`` is
    fixed, folded into that column's bounds."""

    def __init__(self, model: LinearModel):
        cm, rm = model.col_meta, model.row_meta
        kind, variant = cm["kind"].to_numpy(object), cm["variant"].to_numpy(object)
        z = kind == "z"
        zval = np.where(z & (variant == "current"), 1.0, 0.0)
        other = np.array([w is not None and w == w and w != "current" for w in variant])
        keep = ~z & ~other
        A = model.A.tocsr()
        shift = A @ zval
        lb, ub = model.row_lb - shift, model.row_ub - shift
        rkind, rvariant = rm["kind"].to_numpy(object), rm["variant"].to_numpy(object)
        r_other = np.array([w is not None and w == w and w != "current" for w in rvariant])
        uptake = np.isin(rkind, ["uptake_min", "uptake_max"]) & ~r_other
        rows = ~np.isin(rkind, ["design", "max_redesigns", "uptake_min", "uptake_max"]) & ~r_other
        self.col_names = np.array(_plain(cm), dtype=object)[keep]
        self.col_lb, self.col_ub = model.col_lb[keep].copy(), model.col_ub[keep].copy()
        self.integer = model.col_integer[keep]
        self.obj = model.obj[keep]
        sub = sp.csr_matrix(A[:, np.flatnonzero(keep)])
        for i in np.flatnonzero(uptake):  # a y column and its z, now one bound
            row = sub.getrow(i)
            assert row.nnz == 1 and row.data[0] == 1.0, rm["name"][i]
            j = row.indices[0]
            self.col_lb[j] = max(self.col_lb[j], lb[i])
            self.col_ub[j] = min(self.col_ub[j], ub[i])
        self.row_names = np.array(_plain(rm), dtype=object)[rows]
        self.row_kind = rkind[rows]
        self.row_lb, self.row_ub = lb[rows], ub[rows]
        self.A = sp.csr_matrix(sub[np.flatnonzero(rows)])
        self.keep = keep
        self.dropped = np.flatnonzero(~keep)
        self.variant_cols = np.flatnonzero(other)
        self.z_cols = np.flatnonzero(z)
        self.zval = zval


def _same_model(sub: Substituted, base: LinearModel) -> bool:
    """Assert that the substituted varied model is ``base`` (but for ``running_max``'s
    ``M``, which may only grow); return whether ``M`` is unchanged."""
    bc = list(base.col_meta["name"])
    assert sorted(sub.col_names) == sorted(bc)
    at = {n: j for j, n in enumerate(sub.col_names)}
    perm = np.array([at[n] for n in bc])
    assert np.array_equal(sub.col_lb[perm], base.col_lb)
    assert np.array_equal(sub.col_ub[perm], base.col_ub)
    assert np.array_equal(sub.integer[perm], base.col_integer)
    np.testing.assert_allclose(sub.obj[perm], base.obj, rtol=1e-12, atol=0)

    br = list(base.row_meta["name"])
    assert sorted(sub.row_names) == sorted(br)
    rat = {n: i for i, n in enumerate(sub.row_names)}
    rperm = np.array([rat[n] for n in br], dtype=np.int64)
    np.testing.assert_allclose(sub.row_lb[rperm], base.row_lb, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(sub.row_ub[rperm], base.row_ub, rtol=1e-12, atol=1e-9)
    mine = sub.A[rperm][:, perm].toarray()  # tiny models: dense is fine
    theirs = base.A.toarray()
    big_m = base.row_meta["kind"].to_numpy(object) == "running_max"
    o_col = (base.col_meta["kind"] == "o").to_numpy()
    exempt = np.outer(big_m, o_col)
    np.testing.assert_allclose(mine[~exempt], theirs[~exempt], rtol=1e-12, atol=1e-9)
    # M[v] sums over every design's arcs (SPEC section 11): never smaller than without them
    assert (-mine[exempt] >= -theirs[exempt] - 1e-9).all()
    return bool(np.allclose(mine[exempt], theirs[exempt], rtol=1e-12, atol=0))


def _as_base(sub: Substituted, values: np.ndarray, base: LinearModel) -> np.ndarray:
    at = {n: j for j, n in enumerate(sub.col_names)}
    kept = values[sub.keep]
    return np.array([kept[at[n]] for n in base.col_meta["name"]])


def _as_varied(sub: Substituted, base_values: np.ndarray, base: LinearModel, n_cols: int) -> np.ndarray:
    out = np.zeros(n_cols)
    at = {n: j for j, n in enumerate(base.col_meta["name"])}
    out[np.flatnonzero(sub.keep)] = [base_values[at[n]] for n in sub.col_names]
    out[sub.z_cols] = sub.zval[sub.z_cols]
    return out


def _compare_solves(base: LinearModel, varied: LinearModel, sub: Substituted, same_m: bool,
                    modes: tuple[str, ...], name: str) -> None:
    for mode in modes:
        b, v = solve(base, mode, name), solve(varied, mode, name)
        integral = mode == "milp"
        if mode == "lp" and not same_m:
            event("lp: M grew with the variant's arcs")
            if b.status is Status.OPTIMAL:
                assert v.status is Status.OPTIMAL, (mode, name)
                assert v.objective <= b.objective + tol(b.objective), (mode, name)
            continue
        assert v.status is b.status, (mode, name, b.status, v.status)
        if b.status is not Status.OPTIMAL:
            event(f"{mode}: infeasible")
            continue
        event(f"{mode}: optimal")
        assert abs(v.objective - b.objective) <= tol(b.objective, v.objective), \
            (mode, name, b.objective, v.objective)
        # the varied plan: only today's design runs, and nothing flows in the variant's
        assert np.allclose(v.values[sub.z_cols], sub.zval[sub.z_cols], atol=1e-6)
        assert np.abs(v.values[sub.variant_cols]).max(initial=0.0) <= 1e-6 * max(
            1.0, np.abs(v.values).max())
        # ... read on today's columns, it is an optimal plan of the model without variants
        mine = _as_base(sub, v.values, base)
        assert violation(base, mine, integral) <= FEAS, (mode, name)
        got = float(base.obj @ mine + base.obj_offset)
        assert abs(got - b.objective) <= tol(b.objective), (mode, name, got, b.objective)
        # and the plan without variants, with z at current, is a plan of the varied model
        theirs = _as_varied(sub, b.values, base, len(varied.obj))
        assert violation(varied, theirs, integral) <= FEAS, (mode, name)
        assert abs(float(varied.obj @ theirs + varied.obj_offset) - b.objective) <= tol(b.objective)


# --------------------------------------------------------------------------- properties


@settings(max_examples=20)
@given(scenarios())
def test_without_variants_the_model_is_section_3s(gen):
    inst = load(gen).instance
    assert not inst.varied
    assert len(inst.designs) == len(inst.units) == len(inst.unit_uses) == len(inst.heads) == 0
    assert (inst.demand["design"] == -1).all()
    model = compile_model(inst)
    cols, rows = model.col_meta, model.row_meta
    assert not set(cols["kind"]) & SECTION_11_COLUMNS
    assert set(rows["kind"]) <= SECTION_3_ROWS, set(rows["kind"]) - SECTION_3_ROWS
    assert cols["variant"].isna().all() and rows["variant"].isna().all()
    for names in (cols["name"], rows["name"]):
        assert not names.str.contains("current").any()
    # no resource cost, no unit cost, no adoption: the objective is section 3's Total
    assert (inst.resources["cost"] == 0).all() and not inst.resources["whole"].any()


@settings(max_examples=20)
@given(with_capped_variant())
def test_capped_variant_substitutes_to_the_same_model(pair):
    gen, var = pair
    base, varied = compiled(gen), compiled(var)
    assert set(varied.col_meta["kind"]) >= {"z"}
    assert {"design", "max_redesigns"} <= set(varied.row_meta["kind"])
    sub = Substituted(varied)
    same_m = _same_model(sub, base)
    event("M unchanged" if same_m else "M grew")


@settings(max_examples=15)
@given(with_capped_variant())
def test_capped_variant_has_the_same_optimum(pair):
    gen, var = pair
    base, varied = compiled(gen), compiled(var)
    sub = Substituted(varied)
    _compare_solves(base, varied, sub, _same_model(sub, base), ("lp", "milp"), "highs")


@settings(max_examples=4)
@given(with_capped_variant())
def test_capped_variant_has_the_same_optimum_on_cbc(pair):
    gen, var = pair
    base, varied = compiled(gen), compiled(var)
    sub = Substituted(varied)
    _compare_solves(base, varied, sub, _same_model(sub, base), ("lp", "milp"), "cbc")


@settings(max_examples=12)
@given(with_capped_variant(capped=False))
def test_one_more_design_never_costs_more(pair):
    gen, var = pair
    base, varied = compiled(gen), compiled(var)
    for mode in ("lp", "milp"):
        b, v = solve(base, mode, "highs"), solve(varied, mode, "highs")
        if b.status is Status.OPTIMAL:
            assert v.status is Status.OPTIMAL, mode
            assert v.objective <= b.objective + tol(b.objective), (mode, b.objective, v.objective)
            if mode == "milp":
                z = (varied.col_meta["kind"] == "z") & (varied.col_meta["variant"] == VARIANT)
                event("milp: variant chosen" if v.values[z.to_numpy()].max() > 0.5
                      else "milp: current kept")
