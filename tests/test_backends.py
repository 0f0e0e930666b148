"""Every backend on hand-made models: statuses, objectives and duals (one suite, all backends)."""

import numpy as np
import pandas as pd
import pulp
import pytest
import scipy.sparse as sp

from optimiser.backends import REGISTRY, SolveOptions, Status, get_backend
from optimiser.backends import cbc as cbc_mod
from optimiser.errors import SolverUnavailable
from optimiser.model import META_COLUMNS, LinearModel

BACKENDS = list(REGISTRY)
LP = [n for n, i in REGISTRY.items() if "lp" in i.modes]
MILP = [n for n, i in REGISTRY.items() if "milp" in i.modes]
INTEGER = [n for n, i in REGISTRY.items() if {"milp", "cp"} & set(i.modes)]


def model(obj, A, row_lb, row_ub, col_lb, col_ub, integer=None) -> LinearModel:
    A = sp.csr_array(np.asarray(A, dtype=float))
    n, m = A.shape[1], A.shape[0]
    meta = lambda k, size: pd.DataFrame({c: [f"{k}{i}" if c == "name" else None for i in range(size)]
                                         for c in META_COLUMNS})
    return LinearModel(
        obj=np.asarray(obj, float), obj_offset=0.0, col_lb=np.asarray(col_lb, float),
        col_ub=np.asarray(col_ub, float),
        col_integer=np.zeros(n, bool) if integer is None else np.asarray(integer, bool),
        col_meta=meta("c", n), A=A, row_lb=np.asarray(row_lb, float), row_ub=np.asarray(row_ub, float),
        row_meta=meta("r", m), blocks={"x": (0, n)})


INF = np.inf


@pytest.mark.parametrize("name", LP)
def test_lp_optimum_and_duals(name):
    # min 2x + 3y  s.t.  x + y >= 5,  x <= 3 (a one-entry row, on purpose)
    # optimum x = 3, y = 2, cost 12; raising 5 by one costs a y (3); raising 3 by one
    # swaps a y for an x (-1). Non-degenerate, so the duals are unique.
    m = model([2, 3], [[1, 1], [1, 0]], [5, -INF], [INF, 3], [0, 0], [INF, INF])
    out = get_backend(name).solve(m, SolveOptions())
    assert out.status is Status.OPTIMAL
    assert out.objective == pytest.approx(12, rel=1e-9)
    assert out.values == pytest.approx([3, 2], abs=1e-7)
    assert out.row_duals == pytest.approx([3, -1], abs=1e-7)


@pytest.mark.parametrize("name", LP)
def test_lp_infeasible(name):
    m = model([1, 1], [[1, 1], [1, 1]], [5, -INF], [INF, 3], [0, 0], [INF, INF])
    out = get_backend(name).solve(m, SolveOptions())
    assert out.status is Status.INFEASIBLE and out.values is None and out.objective is None


@pytest.mark.parametrize("name", LP)
def test_lp_unbounded(name):
    m = model([-1, 0], [[1, 1]], [1], [INF], [0, 0], [INF, INF])
    out = get_backend(name).solve(m, SolveOptions())
    assert out.status is Status.UNBOUNDED and out.values is None


@pytest.mark.parametrize("name", INTEGER)
def test_mip_optimum(name):
    # max x + y (min -x - y) with 2x + 2y <= 3, integers: x + y <= 1.5 -> 1 (LP would give 1.5)
    m = model([-1, -1], [[2, 2]], [-INF], [3], [0, 0], [10, 10], integer=[True, True])
    out = get_backend(name).solve(m, SolveOptions())
    assert out.status is Status.OPTIMAL and out.objective == pytest.approx(-1)
    if name in LP:
        lp = get_backend(name).solve(m.relaxed(), SolveOptions())
        assert lp.objective == pytest.approx(-1.5)


@pytest.mark.parametrize("name", INTEGER)
def test_mip_integer_infeasible(name):
    # 2x = 1 has no integer solution (the LP relaxation has x = 0.5)
    m = model([1], [[2]], [1], [1], [0], [10], integer=[True])
    assert get_backend(name).solve(m, SolveOptions()).status is Status.INFEASIBLE


def test_capabilities_match_the_registry():
    for name in BACKENDS:
        b = get_backend(name)
        caps = b.capabilities
        assert {m for m in ("lp", "milp", "cp") if getattr(caps, m)} == set(REGISTRY[name].modes)
        assert caps.duals == (name in LP)     # every LP backend gives row duals
        assert b.version()


def test_every_mode_has_two_independent_solvers():
    for mode in ("lp", "milp"):
        assert len([n for n, i in REGISTRY.items() if mode in i.modes]) >= 2


def test_unknown_backend_lists_available():
    with pytest.raises(SolverUnavailable, match="unknown backend 'gurobi'; available: highs, cbc, cpsat, glop"):
        get_backend("gurobi")


class _FakeProb:
    def __init__(self, status, sol_status):
        self.status, self.sol_status = status, sol_status


@pytest.mark.parametrize("status, sol_status, limit, expected", [
    # coin-or/pulp#711: "Stopped on time - objective value" -> labelled Optimal, with a solution
    (pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible, 5, Status.FEASIBLE),
    # stopped on time with no integer solution: never read the values
    (pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound, 5, Status.TIME_LIMIT),
    (pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound, None, Status.ERROR),
    (pulp.LpStatusInfeasible, pulp.LpSolutionNoSolutionFound, None, Status.INFEASIBLE),  # "Integer infeasible"
    (pulp.LpStatusOptimal, pulp.LpSolutionOptimal, None, Status.OPTIMAL),
    (pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded, None, Status.UNBOUNDED),
    (pulp.LpStatusUndefined, pulp.LpSolutionNoSolutionFound, None, Status.ERROR),
])
def test_pulp_status_is_read_from_the_solution_status(status, sol_status, limit, expected):
    assert cbc_mod._status(_FakeProb(status, sol_status), SolveOptions(time_limit=limit)) is expected


def _hard_mip(n=60, seed=3):
    """A random equality knapsack family: hard to find any feasible point quickly."""
    rng = np.random.default_rng(seed)
    A = rng.integers(50, 1000, size=(8, n))
    rhs = (A.sum(axis=1) // 2) + 1
    return model(rng.integers(1, 100, n), A, rhs, rhs, np.zeros(n), np.ones(n), integer=np.ones(n, bool))


@pytest.mark.parametrize("name", INTEGER)
def test_time_limit_never_reports_values_without_a_solution(name):
    # no solver finds a point of this family in half a second (measured: both stop at 0.5 s)
    out = get_backend(name).solve(_hard_mip(), SolveOptions(time_limit=0.5))
    assert out.status is Status.TIME_LIMIT
    assert out.values is None and out.objective is None


def test_cp_refuses_numbers_it_cannot_scale_safely():
    from optimiser.backends.cpsat import ScalingError
    # 1e12 per unit on a variable ranging to 1e9: 1e21 pence reach, beyond 2^62 (4.6e18)
    m = model([1e12], [[1]], [1], [np.inf], [0], [1e9], integer=[True])
    with pytest.raises(ScalingError, match=r"beyond 2\^62"):
        get_backend("cpsat").solve(m, SolveOptions())


def test_cp_flow_balance_within_half_an_activity():
    # x = 2.5 exactly is impossible in whole activities; cp accepts 2 or 3 (within 0.5),
    # and the cheaper one (2) is chosen: cost 2 x 10 = 20
    m = model([10], [[1]], [2.5], [2.5], [0], [10], integer=[False])
    out = get_backend("cpsat").solve(m, SolveOptions())
    assert out.status is Status.OPTIMAL and out.values.tolist() == [2.0] and out.objective == 20


def test_cp_is_reproducible():
    # the same model, seed and one worker give the same plan twice
    m = _hard_mip(n=14, seed=5)
    a = get_backend("cpsat").solve(m, SolveOptions(time_limit=5))
    b = get_backend("cpsat").solve(m, SolveOptions(time_limit=5))
    assert a.status is b.status
    if a.status.has_solution:
        assert a.values.tolist() == b.values.tolist()
