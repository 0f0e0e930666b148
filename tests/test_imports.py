"""highspy 1.15 and ortools 9.15 crash when loaded into one process (google/or-tools#5246).
The pinned pair must load and solve side by side, in a fresh process."""

import subprocess
import sys

CODE = r"""
import highspy
from ortools.sat.python import cp_model
from ortools.linear_solver import pywraplp
h = highspy.Highs()
h.setOptionValue("output_flag", False)
x = h.addVariable(lb=0, ub=4)
h.addConstr(x >= 1)
h.minimize(x)
assert abs(h.getInfo().objective_function_value - 1) < 1e-9
m = cp_model.CpModel()
v = m.NewIntVar(0, 10, "v")
m.Add(v >= 3)
m.Minimize(v)
s = cp_model.CpSolver()
assert s.Solve(m) == cp_model.OPTIMAL and s.Value(v) == 3
print("both ok")
"""


def test_highspy_and_ortools_in_one_process():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "both ok" in out.stdout
