"""The compiled model of tests/data/tiny, family by family, against the SPEC's math."""

import subprocess
import sys

import numpy as np

import optimiser
from optimiser.compile import compile_model


def _model(tiny):
    return compile_model(optimiser.load(tiny).instance)


def _row(m, name):
    i = int(np.flatnonzero(m.row_meta["name"] == name)[0])
    row = m.A[[i], :].toarray().ravel()
    coefs = {m.col_meta["name"][j]: row[j] for j in np.flatnonzero(row)}
    return coefs, m.row_lb[i], m.row_ub[i]


def test_sizes(tiny):
    m = _model(tiny)
    # columns: 8 arcs x, 2 uptakes y, 1 expansion k, 1 running o (fixed cost), 1 pay (block)
    assert m.num_cols == 13
    assert m.col_integer.sum() == 2      # k and o
    counts = m.row_meta["kind"].value_counts().to_dict()
    assert counts == {"flow": 6, "demand_floor": 2, "setting_cap": 2, "capacity": 1,
                      "running_max": 1, "block_contract": 1, "payment": 1, "quality": 2,
                      "budget": 1, "pace": 6}
    assert m.row_meta["name"].is_unique


def test_flow_with_avoided_demand(tiny):
    coefs, lb, ub = _row(_model(tiny), "flow[north,copd,admission]")
    # x[adm] = 800 - 0.5 y[rehab]  ->  x + 0.5 y = 800
    assert coefs == {"x[north,copd,admission,hosp]": 1.0, "y[north,copd,rehab]": 0.5}
    assert lb == ub == 800


def test_setting_cap_capacity_running_quality_pace(tiny):
    m = _model(tiny)
    coefs, lb, ub = _row(m, "setting_cap[north,copd,review,community]")
    assert coefs == {"x[north,copd,review,hub]": 1.0} and ub == 0.8 * 2000
    coefs, lb, ub = _row(m, "capacity[nurse]")
    # reviews use 1 hour, rehab 2; 500 hours per increment
    assert coefs == {"x[north,copd,review,hub]": 1, "x[north,copd,rehab,hub]": 2,
                     "x[south,copd,review,hub]": 1, "x[south,copd,rehab,hub]": 2, "k[nurse]": -500}
    assert ub == 1000
    coefs, lb, ub = _row(m, "running_max[hub]")
    # M = largest demand of the hub's arcs: reviews 2000 + 500, rehab N*max 1000 + 250
    assert coefs["o[hub]"] == -3750 and ub == 0
    coefs, lb, ub = _row(m, "quality[south,copd]")
    # q - Q with Q = 0.86: hosp 0.9 -> 0.04, hub 0.85 -> -0.01
    assert np.isclose(coefs["x[south,copd,review,hosp]"], 0.04)
    assert np.isclose(coefs["x[south,copd,rehab,hub]"], -0.01) and lb == 0
    coefs, lb, ub = _row(m, "pace[north,copd,admission,hosp]")
    # x >= (1 - 0.5) x 1 x (800 - 0.5 y)  ->  x + 0.25 y >= 400
    assert coefs == {"x[north,copd,admission,hosp]": 1.0, "y[north,copd,rehab]": 0.25} and lb == 400


def test_objective(tiny):
    m = _model(tiny)
    c = dict(zip(m.col_meta["name"], m.obj))
    assert c["x[north,copd,review,hosp]"] == 0          # paid through pay[hosp] (block contract)
    assert c["pay[hosp]"] == 1
    assert np.isclose(c["x[north,copd,review,hub]"], 60)  # 50 x (1 + 0.2)
    assert np.isclose(c["o[hub]"], 60000)                 # 50,000 x 1.2; no setup (runs today)
    assert c["k[nurse]"] == 20000


def test_compile_imports_no_solver():
    code = ("import sys, optimiser.compile, optimiser.load, optimiser.instance;"
            "bad = [m for m in ('highspy', 'pulp', 'ortools') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
