"""The SPEC section 5 files: columns, totals that add up, byte-identical reruns, atomicity."""

import json

import pandas as pd
import pytest

import optimiser
from optimiser.results.tables import ALLOCATION_COLUMNS, CONSTRAINT_COLUMNS, RESOURCE_COLUMNS


@pytest.fixture(scope="module")
def solved(request):
    from conftest import TINY
    return optimiser.solve(optimiser.load(TINY))


def test_columns(solved, tmp_path):
    solved.write(tmp_path)
    assert list(pd.read_csv(tmp_path / "allocation.csv").columns) == ALLOCATION_COLUMNS
    assert list(pd.read_csv(tmp_path / "constraints.csv").columns) == CONSTRAINT_COLUMNS
    assert list(pd.read_csv(tmp_path / "resources.csv").columns) == RESOURCE_COLUMNS
    assert ALLOCATION_COLUMNS == ["locality", "pathway", "step", "provider", "setting", "mode",
                                  "volume", "unit_cost", "cost", "quality", "baseline_volume"]
    assert CONSTRAINT_COLUMNS[:11] == ["name", "kind", "locality", "pathway", "step", "provider",
                                       "resource", "activity", "limit", "slack", "shadow_price"]


def test_summary_parts_add_up(solved):
    s = solved.summary
    assert set(s) >= {"status", "objective", "baseline_cost", "savings", "cost", "quality", "solver",
                      "model", "input_sha256", "version"}
    assert sum(s["cost"].values()) == pytest.approx(s["objective"], abs=0.05)
    assert s["savings"] == pytest.approx(s["baseline_cost"] - s["objective"], abs=0.01)
    # baseline by hand (tests/test_instance.py's numbers): hospital is paid 2,300,000 + 575,000
    # (above its 1m block); the hub 250 rehab x 300 + 50,000 fixed, plus 20% overhead = 150,000
    assert s["baseline_cost"] == pytest.approx(3_025_000)
    assert set(s["solver"]) >= {"backend", "mode", "seconds", "gap", "version"}
    assert set(s["model"]) >= {"variables", "constraints", "nonzeros"}
    assert s["check"]["max_violation"] <= 1e-9
    # allocation costs + whole-provider items = objective
    c = s["cost"]
    top_up = max(0.0, 1_000_000 - solved.allocation.query("provider == 'hosp'")["cost"].sum())
    assert solved.allocation["cost"].sum() + top_up + c["fixed"] * 1.2 + c["expansion"] + c["setup"] \
        == pytest.approx(s["objective"])


def test_quality_keys(solved):
    assert set(solved.summary["quality"]) == {"north/copd", "south/copd"}


def test_rerun_is_byte_identical(tmp_path):
    from conftest import TINY
    for backend in ("highs", "cbc"):
        a, b = tmp_path / f"{backend}1", tmp_path / f"{backend}2"
        for d in (a, b):
            optimiser.solve(optimiser.load(TINY), backend=backend).write(d)
        for name in ("allocation.csv", "constraints.csv", "resources.csv"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), (backend, name)


def test_write_leaves_no_temporary_files_and_removes_stale_tables(tmp_path):
    from conftest import TINY
    optimiser.solve(optimiser.load(TINY)).write(tmp_path)
    infeasible = optimiser.solve(optimiser.load(TINY, overrides=["constraints.budget=1000"]))
    assert infeasible.status is optimiser.Status.INFEASIBLE and infeasible.allocation is None
    infeasible.write(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diagnosis.json", "summary.json"]
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "infeasible"


@pytest.mark.parametrize("unnamed", [True, False])
def test_failed_write_keeps_previous_file(tmp_path, monkeypatch, unnamed):
    from optimiser.results import result as result_mod
    target = tmp_path / "f.txt"
    target.write_bytes(b"old complete version")

    def broken(*args):
        raise OSError("disk full")
    if unnamed:   # O_TMPFILE path: the final link-and-rename fails
        monkeypatch.setattr(result_mod, "_link_and_rename", broken)
    else:         # named-temporary path: the rename fails
        monkeypatch.setattr(result_mod, "_unnamed", lambda folder: None)
        monkeypatch.setattr(result_mod.os, "replace", broken)
    with pytest.raises(OSError):
        result_mod.write_atomic(target, b"new")
    assert target.read_bytes() == b"old complete version"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_stale_temporaries_are_removed_by_the_next_write(tmp_path):
    from conftest import TINY
    (tmp_path / ".carepath-allocation.csv.123.abcd.tmp").write_bytes(b"half")
    optimiser.solve(optimiser.load(TINY)).write(tmp_path)
    assert not list(tmp_path.glob(".carepath-*"))


def test_shadow_price_of_binding_capacity(solved):
    # milp optimum keeps k = 3 increments (the max); one more nurse hour moves one review from
    # the hospital (100) to the hub (50 x 1.2 = 60): the capacity is worth -40 per hour.
    row = solved.constraints.set_index("name").loc["capacity[nurse]"]
    assert row["binding"] and row["shadow_price"] == pytest.approx(-40)
    assert solved.resources.set_index("resource").loc["nurse", "expansion_steps"] == 3
