"""Solver faults: time limits with and without a plan, missing solvers, awkward numbers, Ctrl-C."""

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from optimiser.backends import REGISTRY, BackendInfo, SolveOptions, Status, get_backend
from optimiser.errors import SolverUnavailable
from conftest import ROOT, TINY, run_cli
from test_backends import model

INTEGER = [n for n, i in REGISTRY.items() if {"milp", "cp"} & set(i.modes)]


def _cover(n=400, rows=300, seed=1):
    """Set covering: taking everything is feasible at once, proving optimality takes long."""
    rng = np.random.default_rng(seed)
    A = (rng.random((rows, n)) < 0.03).astype(float)
    A[np.arange(rows), rng.integers(0, n, rows)] = 1
    return model(rng.integers(10, 100, n).astype(float), A, np.ones(rows), np.full(rows, np.inf),
                 np.zeros(n), np.ones(n), integer=np.ones(n, bool))


@pytest.mark.parametrize("name", INTEGER)
def test_time_limit_with_a_plan_is_feasible_and_the_plan_is_real(name):
    m = _cover()
    out = get_backend(name).solve(m, SolveOptions(time_limit=1.0))
    # measured: every backend stops at 1 s with a cover but no proof of optimality
    assert out.status is Status.FEASIBLE
    assert np.all(m.A @ out.values >= 1 - 1e-6)                 # a real cover
    assert np.allclose(out.values, np.round(out.values))        # whole
    assert out.objective == pytest.approx(float(m.obj @ out.values))
    if get_backend(name).capabilities.reports_bound:
        assert out.gap is not None and out.gap > 0


def test_missing_solver_module_is_named(monkeypatch, tmp_path, capsys):
    from optimiser import cli
    monkeypatch.setitem(REGISTRY, "gurobi", BackendInfo("gurobi", "gurobipy_not_here", "X", ("milp",), ""))
    with pytest.raises(SolverUnavailable, match="backend 'gurobi' is not installed"):
        get_backend("gurobi")
    assert cli.main(["solve", str(TINY), "--backend", "gurobi", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "backend 'gurobi' is not installed (gurobipy_not_here); available: highs, cbc" in err
    assert not any(tmp_path.iterdir())


def test_missing_cbc_binary_is_named(monkeypatch, tmp_path, capsys):
    from optimiser import cli
    from optimiser.backends import cbc

    def gone():
        raise SolverUnavailable("the cbc backend needs the CBC solver: pip install cbcbox")
    monkeypatch.setattr(cbc, "cbc_path", gone)
    monkeypatch.setattr(cbc, "clp_path", gone)
    assert cli.main(["solve", str(TINY), "--backend", "cbc", "--out", str(tmp_path)]) == 1
    assert "the cbc backend needs the CBC solver: pip install cbcbox" in capsys.readouterr().err


def test_awkward_numbers_warn(tmp_path):
    # a review price of 0.001 beside an admission price of 3000 in the hospital's payment row:
    # a spread of 3e6 (over 1e6): solved, with a warning naming the row and both coefficients
    out = run_cli("solve", TINY, "--out", tmp_path, "--set", "providers.hosp.prices.copd.review=0.001")
    assert out.returncode == 0, out.stderr
    assert ("warning: numerically awkward: payment[hosp]: coefficients span 3.0e+06 (from -0.001 "
            "on x[north,copd,review,hosp] to -3000 on x[north,copd,admission,hosp])") in out.stderr
    import json
    assert json.loads((tmp_path / "summary.json").read_text())["warnings"]


def test_numbers_beyond_1e9_apart_are_refused(tmp_path):
    # 0.000001 beside 3000: a spread of 3e9, beyond 1e9: refused before any solver runs
    out = run_cli("solve", TINY, "--out", tmp_path, "--set", "providers.hosp.prices.copd.review=0.000001")
    assert out.returncode == 2
    assert "numbers too far apart to solve reliably" in out.stderr
    assert "payment[hosp]: coefficients span 3.0e+09 (from -1e-06 on x[north,copd,review,hosp]" in out.stderr
    assert "Traceback" not in out.stderr and not tmp_path.exists() or not any(tmp_path.iterdir())


SOLVE_FOREVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from test_faults import _cover
    from optimiser.backends import get_backend, SolveOptions
    m = _cover(n=1500, rows=1200, seed=2)
    print("solving", flush=True)
    try:
        get_backend(sys.argv[1]).solve(m, SolveOptions())
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
""")


@pytest.mark.parametrize("name", INTEGER)
def test_ctrl_c_stops_the_solver(name):
    p = subprocess.Popen([sys.executable, "-c", SOLVE_FOREVER, name, str(ROOT / "tests")],
                         stdout=subprocess.PIPE, text=True, cwd=ROOT,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert p.stdout.readline().strip() == "solving"
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    t = time.perf_counter()
    out, _ = p.communicate(timeout=30)
    assert "interrupted" in out
    assert time.perf_counter() - t < 10
    left = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout
    assert left.strip() == ""   # no solver process left behind


def test_ctrl_c_on_the_command_line_exits_130_and_writes_nothing(tmp_path):
    gen = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--localities",
                          "300", "--out", str(tmp_path / "big")], capture_output=True, text=True)
    assert gen.returncode == 0, gen.stderr
    cfg = gen.stdout.strip()
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "optimiser", "solve", cfg, "--mode", "milp",
                          "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=ROOT,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(2.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    if p.returncode == 0:
        pytest.skip("the solve finished before the interrupt arrived")
    assert p.returncode == 130
    assert "carepath: interrupted; no output was written for this run." in err
    assert "Traceback" not in err
    assert not out.exists()
