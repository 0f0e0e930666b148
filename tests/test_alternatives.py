"""Near-optimal alternatives (SPEC section 8, ``carepath alternatives``), checked against
hand-solved answers.

The hand-solved scenario: one locality of 1,000 people, one pathway with one fixed step at
100 per 1,000, so demand D = 1000 * 100 / 1000 = 100 reviews, all in hospital. Three buy
providers: a at £10, b at £10.10, c at £15 (no block contracts, nothing integer).

* Plan 0 (the optimum): all 100 on a, C* = 100 * 10 = £1,000. With within = 0.02 the cap
  is 1.02 * 1000 = £1,020.
* The feasible region under the cap (x_a + x_b + x_c = 100, 10 x_a + 10.1 x_b + 15 x_c <=
  1020, x >= 0) is a quadrilateral with corners
  A = (100, 0, 0) costing 1000, B = (0, 100, 0) costing 1010,
  AC = (96, 0, 4): 10 (100 - c) + 15 c = 1020 -> c = 4,
  BC = (0, 100 - 2.0408, 2.0408): 10.1 (100 - c) + 15 c = 1020 -> c = 10 / 4.9 = 2.0408.
  Each plan minimises a linear overlap, so it sits on a corner (ties go to the cheaper).
* Weights are w = sum over earlier plans of x_j / 100 (100 being the step's largest demand).
  Plan 1: w = (1, 0, 0): overlap x_a, zero at B and BC; the tie goes to the cheaper B
  (£1,010): all 100 on b, overlap with the optimum 0, distance 1.
  Plan 2: w = (1, 1, 0): overlap x_a + x_b = 100 - x_c, least where x_c is largest: AC
  (96 on a, 4 on c), costing exactly the cap £1,020; overlap with the optimum
  min(96, 100) / 100 = 0.96, distance (4 + 4) / 2 / 100 = 0.04.
  Plan 3: w = (1.96, 1, 0.04): A 196, B 100, AC 1.96*96 + 0.04*4 = 188.32,
  BC 97.959 + 0.04*2.041 = 98.04 -> BC (97.959 on b, 2.041 on c), £1,020, overlap 0.
  Plan 4: w = (1.96, 1.9796, 0.0604): A 196, B 197.96, AC 188.16 + 0.2416 = 188.40,
  BC 1.9796*97.959 + 0.0604*2.041 = 194.04 -> AC again, a repeat of plan 2: the search
  stops with 3 alternatives.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser import cli
from optimiser.tradeoffs.alternatives import Alternatives, alternatives

from conftest import EXAMPLE, ROOT, run_cli

PATHWAY = """\
pathway: care
name: One review
prevalence_per_1000: 100
steps:
  - step: review
    per_patient: 1.0
    settings: [hospital]
"""

CONFIG = """\
scenario: three providers
pathways: [../pw/one.yaml]
localities:
  north: {population: 1000}
providers:
  a: {setting: hospital, mode: buy, prices: {care.review: 10}}
  b: {setting: hospital, mode: buy, prices: {care.review: 10.10}}
  c: {setting: hospital, mode: buy, prices: {care.review: 15}}
objective: min_cost
"""


@pytest.fixture
def three(tmp_path):
    (tmp_path / "pw").mkdir()
    (tmp_path / "pw" / "one.yaml").write_text(PATHWAY)
    (tmp_path / "cfg").mkdir()
    cfg = tmp_path / "cfg" / "three.yaml"
    cfg.write_text(CONFIG)
    return cfg


def volumes(result) -> dict[str, float]:
    return dict(zip(result.allocation["provider"], result.allocation["volume"]))


def test_hand_solved_plans(three):
    alts = alternatives(optimiser.load(three), count=3, within=0.02)
    assert isinstance(alts, Alternatives) and alts.status is optimiser.Status.OPTIMAL
    assert alts.found == 3 and alts.note == ""
    assert alts.cost_cap == pytest.approx(1020)
    expected = [  # (a, b, c), cost: see the module docstring
        ((100, 0, 0), 1000), ((0, 100, 0), 1010), ((96, 0, 4), 1020),
        ((0, 100 - 10 / 4.9, 10 / 4.9), 1020)]
    for plan, ((a, b, c), cost) in zip(alts.plans, expected):
        v = volumes(plan)
        assert [v["a"], v["b"], v["c"]] == pytest.approx([a, b, c], abs=1e-6)
        assert plan.objective == pytest.approx(cost, abs=1e-6)
        assert plan.objective <= alts.cost_cap + 1e-6
        # evaluated like a solve: true costs, recomputed independently, no violation
        assert plan.summary["cost"]["buy"] == pytest.approx(cost, abs=0.01)
        assert plan.summary["check"]["objective_recomputed"] == pytest.approx(cost, abs=0.01)
        assert plan.summary["check"]["max_violation"] < 1e-9
    s = alts.summary
    assert s["plan"].tolist() == [0, 1, 2, 3]
    assert s["objective"].tolist() == pytest.approx([1000, 1010, 1020, 1020])
    assert s["cost_vs_optimum"].tolist() == pytest.approx([0, 0.01, 0.02, 0.02])
    assert s["overlap_with_optimum"].tolist() == pytest.approx([1, 0, 0.96, 0], abs=1e-9)
    assert s["distance"].tolist() == pytest.approx([0, 1, 0.04, 1], abs=1e-9)
    assert s["make_share"].tolist() == [0, 0, 0, 0] and s["services_running"].tolist() == [0] * 4
    # every arc differs somewhere: all three rows, one column per plan
    d = alts.differences
    assert d.columns.tolist() == ["locality", "pathway", "step", "provider",
                                  "plan_0", "plan_1", "plan_2", "plan_3"]
    assert d["provider"].tolist() == ["a", "b", "c"]
    assert d["plan_2"].tolist() == pytest.approx([96, 0, 4], abs=1e-6)
    assert alts.plans[1].summary["alternative"]["plan"] == 1
    assert alts.plans[2].summary["alternative"]["overlap_with_optimum"] == pytest.approx(0.96)


def test_stops_when_a_plan_repeats(three):
    """Plan 4 would be plan 2 again (module docstring): 3 of 5, and the note says why."""
    alts = alternatives(optimiser.load(three), count=5, within=0.02)
    assert alts.found == 3 and alts.requested == 5
    assert "plan 4 would repeat plan 2" in alts.note


def test_no_room_no_alternative(three):
    """within = 0: the cap is £1,000 and only all-on-a costs that, so plan 1 repeats plan 0."""
    alts = alternatives(optimiser.load(three), count=2, within=0.0)
    assert alts.found == 0 and "plan 1 would repeat plan 0" in alts.note
    assert alts.differences.empty and len(alts.summary) == 1


def test_mixed_plan_is_the_most_different_under_a_looser_cap(three):
    """within = 0.5 (cap £1,500): plan 1 still avoids a entirely at least cost (all b,
    £1,010); plan 2 with w = (1, 1, 0) can now afford all 100 on c (£1,500 = the cap)."""
    alts = alternatives(optimiser.load(three), count=2, within=0.5)
    assert volumes(alts.plans[1])["b"] == pytest.approx(100)
    assert volumes(alts.plans[2])["c"] == pytest.approx(100)
    assert alts.plans[2].objective == pytest.approx(1500)


def test_invalid_arguments(three):
    scenario = optimiser.load(three)
    for bad in (dict(count=0), dict(within=-0.01), dict(within=1.5), dict(within=float("nan")),
                dict(mode="cp"), dict(mode="simplex")):
        with pytest.raises(ValueError):
            alternatives(scenario, **bad)
    # cp from the config itself: located at solve.mode, exit 2 on the command line
    with pytest.raises(optimiser.ConfigError, match="solve.mode"):
        alternatives(optimiser.load(three, overrides=["solve.mode=cp"]))


def test_lp_mode(three):
    alts = alternatives(optimiser.load(three), count=1, within=0.02, mode="lp")
    assert alts.plans[1].summary["solver"]["mode"] == "lp"
    assert volumes(alts.plans[1])["b"] == pytest.approx(100)


def test_cli_writes_every_plan_and_the_tables(three, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["alternatives", str(three), "--count", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 alternatives costing at most 2% above the optimum" in printed
    assert "plan 1 moves 100 care.review in north from a to b" in printed
    assert "+1.00%" in printed
    for k in range(4):
        assert (out / f"plan_{k}" / "summary.json").is_file()
        assert (out / f"plan_{k}" / "allocation.csv").is_file()
    table = pd.read_csv(out / "alternatives.csv")
    assert table["objective"].tolist() == pytest.approx([1000, 1010, 1020, 1020])
    diff = pd.read_csv(out / "differences.csv")
    assert diff.columns.tolist()[-4:] == ["plan_0", "plan_1", "plan_2", "plan_3"]
    s1 = json.loads((out / "plan_1" / "summary.json").read_text())
    assert s1["objective"] == 1010 and s1["alternative"]["cost_cap"] == 1020
    # a second run asking for fewer plans leaves no stale plan folder behind
    assert cli.main(["alternatives", str(three), "--count", "1", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "alternatives.csv", "differences.csv", "plan_0", "plan_1"]


def test_cli_infeasible_config_exits_3(three, tmp_path, capsys):
    """Budget £500 < the cheapest plan's £1,000: no plan at all."""
    out = tmp_path / "inf"
    code = cli.main(["alternatives", str(three), "--set", "constraints.budget=500",
                     "--out", str(out)])
    assert code == 3
    assert "infeasible" in capsys.readouterr().out
    assert (out / "plan_0" / "diagnosis.json").is_file()


@pytest.mark.parametrize("args, words", [
    (["--within", "-0.1"], "--within: must lie in [0, 1] (of the optimal cost"),
    (["--within", "2"], "--within: must lie in [0, 1] (of the optimal cost"),
    (["--count", "0"], "--count: must be a whole number >= 1"),
    (["--mode", "cp"], "alternatives works in mode lp or milp"),
])
def test_cli_invalid_input_exits_2(three, args, words, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["alternatives", str(three), *args])
    assert exc.value.code == 2
    assert words in capsys.readouterr().err


def test_cli_invalid_within_in_a_fresh_process(three):
    out = run_cli("alternatives", three, "--within", "-1")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "--within" in out.stderr


def test_cli_cp_from_config_exits_2(three, capsys):
    assert cli.main(["alternatives", str(three), "--set", "solve.mode=cp"]) == 2
    assert "alternatives works in mode 'lp' or 'milp'" in capsys.readouterr().err


def test_example_two_alternatives_within_two_percent(tmp_path, capsys):
    out = tmp_path / "ns"
    assert cli.main(["alternatives", str(EXAMPLE), "--count", "2", "--out", str(out)]) == 0
    table = pd.read_csv(out / "alternatives.csv")
    best = table["objective"][0]
    assert len(table) == 3
    assert (table["objective"] <= 1.02 * best + 0.01).all()
    assert (table["distance"][1:] > 0.05).all()  # they really differ
    for k in range(3):
        s = json.loads((out / f"plan_{k}" / "summary.json").read_text())
        assert s["status"] == "optimal" and s["check"]["max_violation"] < 1e-6
        assert s["objective"] == pytest.approx(table["objective"][k], abs=0.01)
    # plan 0 is written exactly like a solve
    solo = tmp_path / "solo"
    assert cli.main(["solve", str(EXAMPLE), "--out", str(solo)]) == 0
    for name in ("allocation.csv", "constraints.csv", "resources.csv"):
        assert (out / "plan_0" / name).read_bytes() == (solo / name).read_bytes()
    diff = pd.read_csv(out / "differences.csv")
    v = diff[["plan_0", "plan_1", "plan_2"]].to_numpy()
    assert (np.abs(v - v[:, :1]).max(axis=1) > 1e-6).all()


def test_multi_year_differences_have_years():
    scenario = optimiser.load(ROOT / "configs" / "northshire_five_year.yaml")
    alts = alternatives(scenario, count=1, within=0.02)
    assert alts.found == 1
    assert alts.differences.columns[0] == "year"
    assert set(alts.differences["year"]) <= set(range(2027, 2032))
    assert alts.plans[1].objective <= 1.02 * alts.plans[0].objective + 0.01
    assert alts.plans[1].summary["check"]["max_violation"] < 1e-6
