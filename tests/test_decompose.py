"""Decomposition (optimiser/decompose.py): independent blocks solved apart give the
monolithic optimum, a plan feasible for the whole model, and the same duals.

The models are independent copies of small scenarios whose optima are known (written out
in tests/scenarios/*/config.yaml), put side by side with a block-diagonal matrix: the
optimum of the whole is the sum of the copies' optima, each found by solving that copy
alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from optimiser import decompose as D
from optimiser.api import load, solve
from optimiser.backends import REGISTRY, SolveOptions, Status, get_backend
from optimiser.backends.base import max_violation
from optimiser.compile import compile_model
from optimiser.errors import ConfigError
from optimiser.model import META_COLUMNS, LinearModel

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "tests" / "scenarios"
TINY = ROOT / "tests" / "data" / "tiny" / "configs" / "tiny.yaml"
INDEPENDENT = ROOT / "tests" / "data" / "decompose" / "configs" / "independent.yaml"
INF = np.inf

# (backend, mode): every backend with every mode it solves
CASES = [(n, m) for n, i in REGISTRY.items() for m in i.modes]


def compiled(path) -> LinearModel:
    return compile_model(load(path).instance)


def side_by_side(models: list[LinearModel]) -> LinearModel:
    """The models as one, sharing nothing: a block-diagonal matrix."""
    return LinearModel(
        obj=np.concatenate([m.obj for m in models]), obj_offset=0.0,
        col_lb=np.concatenate([m.col_lb for m in models]),
        col_ub=np.concatenate([m.col_ub for m in models]),
        col_integer=np.concatenate([m.col_integer for m in models]),
        col_meta=pd.concat([m.col_meta for m in models], ignore_index=True),
        A=sp.csr_array(sp.block_diag([m.A for m in models], format="csr")),
        row_lb=np.concatenate([m.row_lb for m in models]),
        row_ub=np.concatenate([m.row_ub for m in models]),
        row_meta=pd.concat([m.row_meta for m in models], ignore_index=True), blocks={},
        implied_ub=np.concatenate([m.implied_ub for m in models]))


def hand(obj, A, row_lb, row_ub, col_lb, col_ub, integer=None) -> LinearModel:
    A = sp.csr_array(np.asarray(A, dtype=float))
    m, n = A.shape
    meta = lambda k, size: pd.DataFrame({c: [f"{k}{i}" if c == "name" else ("x" if c == "kind" else None)
                                             for i in range(size)] for c in META_COLUMNS})
    return LinearModel(
        obj=np.asarray(obj, float), obj_offset=0.0, col_lb=np.asarray(col_lb, float),
        col_ub=np.asarray(col_ub, float),
        col_integer=np.zeros(n, bool) if integer is None else np.asarray(integer, bool),
        col_meta=meta("c", n), A=A, row_lb=np.asarray(row_lb, float),
        row_ub=np.asarray(row_ub, float), row_meta=meta("r", m), blocks={"x": (0, n)},
        implied_ub=np.where(np.isfinite(col_ub), col_ub, 1e6))


def cp_feasible(model: LinearModel, values: np.ndarray) -> bool:
    """``values`` satisfy the scaled integer model that cp mode solves."""
    from optimiser.backends.cpsat import integral_model

    col_scale, lb, ub, rows, _ = integral_model(model)
    v = np.round(values * col_scale).astype(np.int64)
    return bool(np.all((lb <= v) & (v <= ub))
                and all(lo <= int(c @ v[cols]) <= hi for cols, c, lo, hi in rows))


def problem_for(model: LinearModel, mode: str) -> LinearModel:
    return model.relaxed() if mode == "lp" else model


@pytest.fixture(scope="module")
def parts() -> list[LinearModel]:
    # capacity (lp 6400), expansion (lp 5600, milp 6000), tiny, capacity again
    cap, exp = compiled(SCEN / "capacity" / "config.yaml"), compiled(SCEN / "expansion" / "config.yaml")
    return [cap, exp, compiled(TINY), cap]


def test_components_of_a_hand_built_matrix():
    #        c0 c1 c2 c3 c4
    A = [[1, 0, 2, 0, 0],   # r0: c0, c2
         [0, 0, 1, 0, 0],   # r1: c2          -> {r0, r1, c0, c2}
         [0, 3, 0, 1, 0],   # r2: c1, c3      -> {r2, c1, c3}
         [0, 0, 0, 0, 0]]   # r3: empty       -> {r3};  c4 in no row -> {c4}
    m = hand([1] * 5, A, [0] * 4, [INF] * 4, [0] * 5, [INF] * 5)
    c = D.components(m)
    assert c.count == 4 and c.nontrivial == 2
    lab = np.concatenate([c.row_label, c.col_label])
    names = ["r0", "r1", "r2", "r3", "c0", "c1", "c2", "c3", "c4"]
    groups = {frozenset(n for n, l in zip(names, lab) if l == k) for k in set(lab)}
    assert groups == {frozenset({"r0", "r1", "c0", "c2"}), frozenset({"r2", "c1", "c3"}),
                      frozenset({"r3"}), frozenset({"c4"})}


def test_a_coupling_row_makes_one_component(parts):
    whole = side_by_side(parts)
    assert D.components(whole).nontrivial == len(parts)
    # a budget over everything: one row touching every column
    budget = sp.csr_array(np.ones((1, whole.num_cols)))
    coupled = replace(whole, A=sp.csr_array(sp.vstack([whole.A, budget])),
                      row_lb=np.append(whole.row_lb, -INF), row_ub=np.append(whole.row_ub, 1e12),
                      row_meta=pd.concat([whole.row_meta, whole.row_meta.iloc[:1]], ignore_index=True))
    c = D.components(coupled)
    assert c.count == 1 and c.nontrivial == 1
    assert D.use_decomposition(coupled, "on") is None
    # the scenario configs themselves: a shared budget or block contract couples everything
    assert D.components(compiled(TINY)).count == 1


def test_use_decomposition_settings(parts):
    whole = side_by_side(parts)
    assert D.use_decomposition(whole, "off") is None
    assert D.use_decomposition(whole, "auto") is None  # far below AUTO_MIN_COLUMNS
    assert D.use_decomposition(whole, "on").nontrivial == 4
    with pytest.raises(ValueError):
        D.use_decomposition(whole, "sometimes")


def test_chunks_cover_everything_once_and_keep_block_ranges():
    m = compiled(INDEPENDENT)
    comps = D.components(m)
    assert comps.nontrivial == 3  # one block per locality
    plan = D.plan_chunks(m, comps, target=1)  # every component its own chunk
    assert plan.count == comps.count == 3
    assert sorted(plan.col_order) == list(range(m.num_cols))
    assert sorted(plan.row_order) == list(range(m.num_rows))
    for c in range(plan.count):
        sub = D.submodel(m, plan, c)
        cols = plan.col_order[plan.col_ptr[c]:plan.col_ptr[c + 1]]
        rows = plan.row_order[plan.row_ptr[c]:plan.row_ptr[c + 1]]
        assert (sp.csr_array(m.A)[rows][:, cols] != sub.A).nnz == 0
        # each locality's own columns, every kind's range still contiguous and right
        assert sub.col_meta["locality"].dropna().nunique() == 1
        for kind, (s, e) in sub.blocks.items():
            assert (sub.col_meta["kind"].iloc[s:e] == kind).all()
            assert e - s == (m.col_meta["kind"].iloc[cols] == kind).sum()
    one = D.plan_chunks(m, comps)  # small model, default target: grouped
    assert one.count == 1


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name,mode", CASES)
def test_same_optimum_as_monolithic_and_as_the_copies(parts, name, mode, workers):
    backend = get_backend(name)
    whole = problem_for(side_by_side(parts), mode)
    mono = backend.solve(whole, SolveOptions())
    alone = [backend.solve(problem_for(p, mode), SolveOptions()).objective for p in parts]
    out = D.solve_decomposed(whole, name, SolveOptions(), workers=workers, target=1)
    assert out.status is Status.OPTIMAL and mono.status is Status.OPTIMAL
    assert "decomposed: 4 blocks in 4 sub-models" in out.message
    assert out.objective == pytest.approx(mono.objective, rel=1e-6)
    assert out.objective == pytest.approx(sum(alone), rel=1e-6)
    if mode == "lp":  # scenario comments: capacity 6400, expansion 5600
        assert alone[0] == pytest.approx(6400) and alone[1] == pytest.approx(5600)
    elif mode == "milp":  # expansion in whole steps: 6000
        assert alone[1] == pytest.approx(6000)
    if mode == "cp":  # whole activities: rows may miss by half an activity, as CP-SAT's are
        assert cp_feasible(whole, out.values)
    else:
        assert max_violation(whole, out.values) < 1e-6
    if mode != "lp":
        assert np.allclose(out.values[whole.col_integer], np.round(out.values[whole.col_integer]))
        if out.bound is not None:
            assert out.bound <= out.objective + 1e-6 * abs(out.objective)
            assert out.gap <= 1e-6
    if mode == "lp" and backend.capabilities.duals:
        # capacity's duals are unique (tests/scenarios/capacity): capacity -30, flow 100
        cap_rows = slice(0, 2)
        last = slice(whole.num_rows - 2, whole.num_rows)
        for rows in (cap_rows, last):
            kinds = list(whole.row_meta["kind"].iloc[rows])
            expect = {"capacity": -30.0, "flow": 100.0}
            assert out.row_duals[rows] == pytest.approx([expect[k] for k in kinds], abs=1e-6)
            assert mono.row_duals[rows] == pytest.approx(out.row_duals[rows], abs=1e-6)
        # and the expansion copy's (unique, non-degenerate): capacity -20, flow 80
        kinds = list(whole.row_meta["kind"].iloc[2:4])
        expect = {"capacity": -20.0, "flow": 80.0}
        assert out.row_duals[2:4] == pytest.approx([expect[k] for k in kinds], abs=1e-6)


@pytest.mark.parametrize("name,mode", CASES)
def test_an_infeasible_block_makes_the_whole_infeasible(parts, name, mode):
    bad = compiled(SCEN / "budget_infeasible" / "config.yaml")  # infeasible in every mode
    whole = problem_for(side_by_side([parts[0], bad, parts[1]]), mode)
    out = D.solve_decomposed(whole, name, SolveOptions(), workers=2, target=1)
    assert out.status is Status.INFEASIBLE
    assert out.values is None and out.objective is None
    assert get_backend(name).solve(whole, SolveOptions()).status is Status.INFEASIBLE


def test_an_unbounded_block_makes_the_whole_unbounded(parts):
    # a column in no row with a negative cost and no upper bound: a block of its own
    free = hand([-1.0], np.zeros((0, 1)), [], [], [0], [INF])
    whole = side_by_side([parts[0].relaxed(), free])
    assert D.components(whole).count == 2
    out = D.solve_decomposed(whole, "highs", SolveOptions(), workers=1, target=1)
    assert out.status is Status.UNBOUNDED and out.values is None


def test_empty_rows_and_free_columns_are_blocks_too():
    # r0: c0 >= 2 (cost 1); r1 is empty and 0 lies in its limits; c1 is in no row (cost 3,
    # lower bound 1): optimum 2 + 3 = 5
    m = hand([1, 3], [[1, 0], [0, 0]], [2, -1], [INF, 1], [0, 1], [10, 10])
    out = D.solve_decomposed(m, "highs", SolveOptions(), workers=2, target=1)
    assert out.status is Status.OPTIMAL and out.objective == pytest.approx(5)
    assert out.row_duals == pytest.approx([1, 0])
    # an empty row whose limits exclude 0 cannot hold
    m = hand([1, 3], [[1, 0], [0, 0]], [2, 1], [INF, 2], [0, 1], [10, 10])
    assert D.solve_decomposed(m, "highs", SolveOptions(), workers=1, target=1).status is Status.INFEASIBLE


def test_blocks_share_the_time_limit(parts):
    whole = side_by_side(parts)
    # the limit has passed before the first block starts: no block is solved
    out = D.solve_decomposed(whole, "highs", SolveOptions(time_limit=1e-9), workers=1, target=1)
    assert out.status is Status.TIME_LIMIT and out.values is None
    # a generous limit changes nothing
    out = D.solve_decomposed(whole, "highs", SolveOptions(time_limit=60), workers=2, target=1)
    assert out.status is Status.OPTIMAL


@pytest.mark.parametrize("mode", ["lp", "milp", "cp"])
def test_api_solve_with_decomposition_on_and_off_agree(mode):
    scenario = load(INDEPENDENT)
    off = solve(scenario, mode=mode, decompose="off")
    on = solve(scenario, mode=mode, decompose="on")
    assert on.status is off.status is Status.OPTIMAL
    assert "decomposed: 3 blocks" in on.summary["solver"]["message"]
    assert "decomposed" not in off.summary["solver"]["message"]
    assert on.objective == pytest.approx(off.objective, rel=1e-6)
    assert on.summary["check"]["max_violation"] <= max(1e-6, off.summary["check"]["max_violation"])
    if mode == "lp":
        # shadow prices: the same where the monolithic LP's are unique (all rows here:
        # compare whole columns, both solves come from the same simplex on the same blocks)
        a, b = on.constraints, off.constraints
        assert list(a["name"]) == list(b["name"])
        assert a["shadow_price"].to_numpy(float) == pytest.approx(b["shadow_price"].to_numpy(float), abs=1e-6)


def test_config_option():
    assert load(INDEPENDENT).config.solve.decompose == "auto"
    assert load(INDEPENDENT, overrides=["solve.decompose=off"]).config.solve.decompose == "off"
    with pytest.raises(ConfigError):
        load(INDEPENDENT, overrides=["solve.decompose=sometimes"])


class _Crashing:
    """A backend whose process dies in the middle of a solve (a solver crash)."""

    capabilities = get_backend("highs").capabilities

    def solve(self, model, options):
        import os

        os._exit(3)


def test_a_crashed_solver_process_is_an_error_and_a_solver_error_is_raised(parts, monkeypatch):
    from optimiser.backends import BackendInfo

    monkeypatch.setitem(REGISTRY, "crashing", BackendInfo("crashing", __name__, "_Crashing", ("lp",), ""))
    whole = side_by_side(parts).relaxed()
    out = D.solve_decomposed(whole, "crashing", SolveOptions(), workers=2, target=1)
    assert out.status is Status.ERROR and "a solver process died" in out.message
    # an exception in a worker reaches the caller, as it would from a monolithic solve
    from optimiser.errors import SolverUnavailable

    with pytest.raises(SolverUnavailable, match="LPs only"):
        D.solve_decomposed(side_by_side(parts), "glop", SolveOptions(), workers=2, target=1)


def test_api_auto_and_an_infeasible_scenario(monkeypatch):
    scenario = load(INDEPENDENT)
    assert "decomposed" not in solve(scenario, mode="lp").summary["solver"]["message"]  # small
    monkeypatch.setattr(D, "AUTO_MIN_COLUMNS", 1)
    on = solve(scenario, mode="lp")
    assert "decomposed: 3 blocks" in on.summary["solver"]["message"]
    # the hospital's quality far below the floor: no locality has a plan (the solver says
    # so when the pre-solve checks are skipped)
    bad = load(INDEPENDENT, overrides=["providers.hosp.quality.default=0.5"])
    out = solve(bad, mode="lp", decompose="on", diagnose_infeasible=False)
    assert out.status is Status.INFEASIBLE and "decomposed" in out.summary["solver"]["message"]
