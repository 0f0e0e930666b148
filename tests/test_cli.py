"""The command line: exit codes for every status, readable output, never a traceback."""

import sys
import types

import pytest

from optimiser import cli
from optimiser.backends import REGISTRY, BackendInfo, SolverOutput, Status
from optimiser.backends.base import Backend, Capabilities

from conftest import EXAMPLE, run_cli


def test_validate_prints_summary(tiny):
    out = run_cli("validate", tiny)
    assert out.returncode == 0, out.stderr
    assert "Tiny test: valid" in out.stdout and "arcs       8" in out.stdout


def test_validate_summary_names_the_horizon(tiny, tmp_path, capsys):
    """A multi-year config's summary gives its years, discount rate and carry-over; a config
    without a horizon has no horizon line."""
    import yaml

    data = yaml.safe_load(tiny.read_text())
    data["pathways"] = [str((tiny.parent / p).resolve()) for p in data["pathways"]]
    data["horizon"] = {"start": 2027, "years": 5, "discount_rate": 0.035}
    data["constraints"]["carry_over"] = True
    cfg = tmp_path / "plan.yaml"
    cfg.write_text(yaml.safe_dump(data, sort_keys=False))
    allow = ["--allow-path", str(tiny.parent.parent)]
    assert cli.main(["validate", str(cfg), *allow]) == 0
    out = capsys.readouterr().out
    assert "  horizon    2027-2031 (5 years, discount 3.5%, carry-over on)" in out.splitlines()
    assert cli.main(["validate", str(cfg), *allow, "--set", "horizon.years=1", "--set",
                     "horizon.discount_rate=0", "--set", "constraints.carry_over=false"]) == 0
    assert "  horizon    2027 (1 year, discount 0%, carry-over off)" in capsys.readouterr().out
    assert cli.main(["validate", str(tiny)]) == 0
    assert "horizon" not in capsys.readouterr().out


def test_solve_writes_outputs_and_exits_0(tiny, tmp_path):
    out = run_cli("solve", tiny, "--out", tmp_path / "o")
    assert out.returncode == 0, out.stderr
    assert "optimal" in out.stdout and "Total cost £1,945,000" in out.stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "allocation.csv", "constraints.csv", "resources.csv", "summary.json"]


def test_module_and_console_script_agree(tiny):
    import shutil
    import subprocess
    exe = shutil.which("carepath")
    if exe is None:
        pytest.skip("console script not on PATH")
    a = subprocess.run([exe, "validate", str(tiny)], capture_output=True, text=True)
    assert a.returncode == 0 and a.stdout == run_cli("validate", tiny).stdout


def test_invalid_input_exits_2_without_traceback(tiny, tmp_path):
    out = run_cli("solve", tiny, "--out", tmp_path, "--set", "constraints.budgt=1",
                  "--set", "providers.hub.overhead=2")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert "--set constraints.budgt=1: constraints.budgt: no key 'budgt' at 'constraints'; " \
           "did you mean 'budget'?" in out.stderr
    assert "--set providers.hub.overhead=2: providers.hub.overhead: must be <= 1, got 2" in out.stderr
    assert not any(tmp_path.iterdir())


def test_missing_file_exits_2(tmp_path):
    out = run_cli("validate", tmp_path / "nope.yaml")
    assert out.returncode == 2 and "nope.yaml: cannot read: No such file or directory" in out.stderr


def test_infeasible_exits_3(tiny, tmp_path):
    # the block contract alone (1,000,000) exceeds a 1,000 budget
    out = run_cli("solve", tiny, "--out", tmp_path, "--set", "constraints.budget=1000")
    assert out.returncode == 3, out.stderr
    assert "infeasible" in out.stdout and "Traceback" not in out.stderr
    assert "block contracts alone cost £1,000,000, above the budget of £1,000" in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diagnosis.json", "summary.json"]


def test_unknown_backend_exits_2_and_lists_backends(tiny, tmp_path):
    out = run_cli("solve", tiny, "--out", tmp_path, "--backend", "gurobi")
    assert out.returncode == 2
    assert "unknown backend 'gurobi'; available: highs, cbc, cpsat, glop" in out.stderr


def test_bad_time_limit_is_a_usage_error(tiny):
    out = run_cli("solve", tiny, "--time-limit", "-3")
    assert out.returncode == 2 and "must be a positive number of seconds" in out.stderr


class _Scripted(Backend):
    """A backend that returns a scripted status (values only when there is a solution)."""
    name = "scripted"
    capabilities = Capabilities(lp=True, milp=True, duals=False, time_limit=True, mip_gap=True,
                                reports_bound=False)
    status = Status.TIME_LIMIT

    @classmethod
    def version(cls):
        return "scripted 1"

    def solve(self, model, options):
        return SolverOutput(self.status, None, None, None, None, None, 0.0, "scripted")


@pytest.mark.parametrize("status, code", [(Status.TIME_LIMIT, 4), (Status.UNBOUNDED, 1),
                                          (Status.ERROR, 1), (Status.INFEASIBLE, 3)])
def test_exit_code_for_each_status(tiny, tmp_path, monkeypatch, capsys, status, code):
    mod = types.ModuleType("scripted_backend")
    mod.Scripted = type("Scripted", (_Scripted,), {"status": status})
    monkeypatch.setitem(sys.modules, "scripted_backend", mod)
    monkeypatch.setitem(REGISTRY, "scripted", BackendInfo("scripted", "scripted_backend", "Scripted",
                                                          ("lp", "milp"), "test"))
    assert cli.main(["solve", str(tiny), "--backend", "scripted", "--out", str(tmp_path)]) == code
    text = capsys.readouterr()
    assert status.value in text.out and "Traceback" not in text.err
    import json
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == status.value


def test_internal_error_is_one_line(tiny, tmp_path, monkeypatch, capsys):
    def boom(*a, **k):
        raise RuntimeError("kaboom")
    monkeypatch.setattr("optimiser.api.compile_model", boom)
    assert cli.main(["solve", str(tiny), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "carepath: internal error: RuntimeError: kaboom (set CAREPATH_DEBUG=1 for details)"


def test_example_solves_from_the_command_line(tmp_path):
    out = run_cli("solve", EXAMPLE, "--out", tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Northshire 2027/28: milp on highs: optimal" in out.stdout
