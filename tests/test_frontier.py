"""``carepath frontier`` and ``optimiser.frontier``: cost against quality floor (SPEC section 8).

Every expected number below is worked out by hand in the comment beside it; none was copied
from the engine's output. The small cases have one locality of 100,000 people and pathways
with prevalence 1 per 1000 and one step at ``per_patient: 1``: a demand of D = 100
activities per pathway. With a floor Q between the qualities qa < qb of two providers at
unit costs ca < cb, the cheapest plan gives the dear one just enough volume to lift the mean
to Q: ``xb = D * (Q - qa) / (qb - qa)``, costing ``D*ca + (cb - ca) * xb``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

import optimiser
from optimiser import cli
from optimiser.errors import ConfigError
from optimiser.tradeoffs import frontier as fr

from conftest import EXAMPLE, run_cli

PNG = b"\x89PNG\r\n\x1a\n"
TOL = fr.TOLERANCE


def write(tmp_path, providers: dict, *, pathways=("care",), floors: dict | None = None,
          resources: dict | None = None, **more) -> str:
    """A config in ``tmp_path/configs`` whose pathways (``tmp_path/pathways``) each have one
    step ``visit`` (demand 100) in the hospital or community setting."""
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "pathways").mkdir(exist_ok=True)
    for p in pathways:
        (tmp_path / "pathways" / f"{p}.yaml").write_text(yaml.safe_dump({
            "pathway": p, "prevalence_per_1000": 1.0,
            "steps": [{"step": "visit", "per_patient": 1.0,
                       "settings": ["hospital", "community"]}]}))
    config = {"scenario": "Frontier case", "currency": "GBP",
              "pathways": [f"../pathways/{p}.yaml" for p in pathways],
              "localities": {"town": {"population": 100_000}},
              "providers": providers, **more}
    if resources:
        config["resources"] = resources
    if floors:
        config["constraints"] = {**config.get("constraints", {}), "min_quality": floors}
    path = tmp_path / "configs" / "case.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def buy(prices: dict, quality: float | None = None, **more) -> dict:
    out = {"setting": "hospital", "mode": "buy", "prices": prices, **more}
    if quality is not None:
        out["quality"] = {"default": quality}
    return out


def two_providers(pathways=("care",)) -> dict:
    """cheap: q 0.8 at £10; dear: q 0.95 at £20, for every pathway's visit."""
    return {"cheap": buy({f"{p}.visit": 10 for p in pathways}, 0.8),
            "dear": buy({f"{p}.visit": 20 for p in pathways}, 0.95)}


def linear_cost(q: float) -> float:
    """Two providers, D = 100: xb = 100 (q - 0.8) / 0.15, cost = 1000 + 10 xb."""
    return 100 * (10 + 10 * (q - 0.8) / 0.15)


def feasible(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["objective"].notna()]


# --------------------------------------------------------------------------- hand-solved


def test_linear_frontier_from_the_cheap_to_the_dear_provider(tmp_path):
    """Without a floor the optimum buys everything from cheap: Q0 = 0.8, cost £1,000. The
    best reachable floor is dear's 0.95 (all 100 from dear, £2,000), and the bound 0.95
    is itself feasible, so Q_max is exact. In between, cost is linear in Q:
    100 * (10 + 10 (Q - 0.8) / 0.15), a slope of 1000 / 0.15 = £6,666.67 per unit of
    floor, and a straight line has no knee."""
    s = optimiser.load(write(tmp_path, two_providers()))
    t = optimiser.frontier(s)
    assert list(t.columns) == fr.COLUMNS
    assert len(t) == 11 and t["point"].tolist() == list(range(1, 12))
    assert t.attrs["q0"] == pytest.approx(0.8, abs=1e-12)
    assert t.attrs["q_max"] == pytest.approx(0.95, abs=1e-12) and t.attrs["q_max_exact"]
    assert t["status"].eq("optimal").all()
    q = t["quality_floor"].to_numpy()
    assert q == pytest.approx(0.8 + 0.015 * np.arange(11), abs=1e-9)  # evenly spaced
    assert t["objective"].to_numpy() == pytest.approx([linear_cost(v) for v in q], abs=0.011)
    assert t["objective"].iloc[0] == pytest.approx(1000, abs=0.01)
    assert t["objective"].iloc[-1] == pytest.approx(2000, abs=0.01)
    # baseline: everything from cheap (first listed buy provider), £1,000
    assert t["savings"].to_numpy() == pytest.approx(1000 - t["objective"].to_numpy(), abs=0.02)
    assert t["cost_increase"].to_numpy() == pytest.approx(t["objective"] - 1000, abs=0.02)
    assert math.isnan(t["marginal_cost"].iloc[0])
    assert t["marginal_cost"].iloc[1:].to_numpy() == pytest.approx(1000 / 0.15, rel=1e-5)
    assert (t["make_share"] == 0).all()
    assert not t["knee"].any() and t.attrs["knee"] is None
    assert t.attrs["floored"] == ["care"] and t.attrs["config_floor"] is None
    # from the first point on, the quality floor itself binds
    assert all("quality[town,care]" in b.split(";") for b in t["binding"].iloc[1:])


def test_capacity_on_the_good_provider_lowers_the_best_reachable_floor(tmp_path):
    """dear is now made in-house with one nurse hour per visit and 60 hours: at most 60 of
    the 100 visits, so the best mean quality is (60 * 0.95 + 40 * 0.8) / 100 = 0.89, below
    the bound 0.95, and bisection finds it to within 1e-4 (never above it). Cost at any
    floor is still 100 * (10 + 10 (Q - 0.8) / 0.15): £1,600 at 0.89."""
    providers = {"cheap": buy({"care.visit": 10}, 0.8),
                 "dear": {"setting": "community", "mode": "make", "costs": {"care.visit": 20},
                          "quality": {"default": 0.95}, "uses": {"care.visit": {"nurse": 1}}}}
    s = optimiser.load(write(tmp_path, providers, resources={"nurse": {"capacity": 60}}))
    f = fr.compute(s, points=5)
    assert f.q0 == pytest.approx(0.8, abs=1e-12)
    assert 0.89 - TOL <= f.q_max <= 0.89 + 1e-9 and not f.q_max_exact
    t = f.table
    assert t["status"].eq("optimal").all()
    assert t["objective"].to_numpy() == pytest.approx(
        [linear_cost(q) for q in t["quality_floor"]], abs=0.011)
    assert t["objective"].iloc[-1] == pytest.approx(1600, abs=TOL / 0.15 * 1000 + 0.01)
    # the made share rises to 60 % at the top (60 nurse hours, less what 1e-4 of floor
    # leaves unused: 100 * 1e-4 / 0.15 visits)
    assert t["make_share"].iloc[0] == 0
    assert t["make_share"].iloc[-1] == pytest.approx(0.6, abs=TOL / 0.15 + 1e-6)
    assert all(b.split(";") == ["quality[town,care]"] for b in t["binding"].iloc[1:])
    # a floor just above Q_max + tolerance has no plan
    above = optimiser.solve(fr.at_floor_of(s, 0.89 + 2e-6, ["care"]), diagnose_infeasible=False)
    assert above.status.value == "infeasible"


def test_kinked_frontier_has_its_knee_at_the_kink(tmp_path):
    """Three providers: low q 0.8 £10, mid q 0.9 £12, high q 1.0 £30. The lower envelope of
    (quality, unit cost) is low-mid then mid-high (high-low at 0.9 would cost £20 > £12), so
      Q <= 0.9: cost = 100 (10 + 2 (Q - 0.8) / 0.1) = 1000 + 2000 (Q - 0.8)
      Q >= 0.9: cost = 100 (12 + 18 (Q - 0.9) / 0.1) = 1200 + 18000 (Q - 0.9)
    from £1,000 at Q0 = 0.8 to £3,000 at Q_max = 1.0 (the bound, exact). Scaled to [0, 1],
    x = (Q - 0.8) / 0.2 and y = (cost - 1000) / 2000; x - y is 0.4 at Q = 0.9 (point 6 of
    11), 0.32 at 0.88 and 0.92, smaller elsewhere: the knee is point 6."""
    providers = {"low": buy({"care.visit": 10}, 0.8), "mid": buy({"care.visit": 12}, 0.9),
                 "high": buy({"care.visit": 30}, 1.0)}
    t = optimiser.frontier(optimiser.load(write(tmp_path, providers)))

    def cost(q):
        return 1000 + 2000 * (q - 0.8) if q <= 0.9 else 1200 + 18000 * (q - 0.9)

    assert t.attrs["q0"] == pytest.approx(0.8) and t.attrs["q_max"] == pytest.approx(1.0)
    assert t["objective"].to_numpy() == pytest.approx([cost(q) for q in t["quality_floor"]],
                                                      abs=0.011)
    assert t.loc[t["knee"], "point"].tolist() == [6] and t.attrs["knee"] == 6
    assert t.loc[t["knee"], "quality_floor"].iloc[0] == pytest.approx(0.9, abs=1e-9)
    # marginal cost, the slopes above: £2,000 per unit of floor below the kink, £18,000
    # above (£40 and £360 per 0.02 step)
    m = t["marginal_cost"].to_numpy()
    assert m[1:6] == pytest.approx(2_000, rel=1e-5) and m[6:] == pytest.approx(18_000, rel=1e-5)


def test_a_pathway_keeps_its_own_higher_floor(tmp_path):
    """Pathways a and b, each D = 100 with cheap (0.8, £10) and dear (0.95, £20); a has its
    own floor 0.9, b none. The optimum: a at 0.9, c(0.9) = 1000 + 10 * 100 * 0.1 / 0.15 =
    £1,666.67; b at 0.8, £1,000. So Q0 = 0.8 (b's mean), and floor_a = max(0.9, Q):
      Q = 0.80: c(0.9) + c(0.80) = 1666.67 + 1000.00 = 2666.67
      Q = 0.85: c(0.9) + c(0.85) = 1666.67 + 1333.33 = 3000.00
      Q = 0.90: c(0.9) + c(0.90) = 3333.33;  Q = 0.95: 2000 + 2000 = 4000
    Scaled, x = 0, 1/3, 2/3, 1 and y = 0, 0.25, 0.5, 1: x - y is largest (1/6) at point 3."""
    path = write(tmp_path, two_providers(("a", "b")), pathways=("a", "b"), floors={"a": 0.9})
    t = optimiser.frontier(optimiser.load(path), points=4)
    assert t["quality_floor"].to_numpy() == pytest.approx([0.8, 0.85, 0.9, 0.95], abs=1e-9)
    assert t["objective"].to_numpy() == pytest.approx([2666.67, 3000, 3333.33, 4000], abs=0.011)
    assert t.attrs["knee"] == 3 and t.attrs["config_floor"] == 0.9


def test_multi_year_frontier_sums_the_years(tmp_path):
    """The linear case over a two-year horizon with no growth and no discounting: each year
    is the one-year plan, so every point costs twice 100 (10 + 10 (Q - 0.8) / 0.15); Q0 and
    Q_max are unchanged (quality rows are per year, the floor is shared)."""
    path = write(tmp_path, two_providers(), horizon={"start": 2030, "years": 2})
    t = optimiser.frontier(optimiser.load(path), points=3)
    assert t.attrs["q0"] == pytest.approx(0.8) and t.attrs["q_max"] == pytest.approx(0.95)
    assert t["objective"].to_numpy() == pytest.approx([2000, 3000, 4000], abs=0.011)
    assert "quality[town,care,2031]" in t["binding"].iloc[-1].split(";")


def test_pathways_without_quality_scores_are_left_alone(tmp_path):
    """b's only provider has no quality score, so b takes no floor (and its £5 x 100 = £500
    is in every point); a's frontier is the linear one."""
    providers = {"cheap": buy({"a.visit": 10}, 0.8), "dear": buy({"a.visit": 20}, 0.95),
                 "plain": buy({"b.visit": 5})}
    s = optimiser.load(write(tmp_path, providers, pathways=("a", "b")))
    assert fr.floorable(s) == (["a"], ["b"])
    t = optimiser.frontier(s, points=3)
    assert t["objective"].to_numpy() == pytest.approx(
        [500 + linear_cost(q) for q in (0.8, 0.875, 0.95)], abs=0.011)
    assert t.attrs["unfloored"] == ["b"]


def test_no_quality_scores_at_all_is_invalid_input(tmp_path, capsys):
    path = write(tmp_path, {"plain": buy({"care.visit": 5})})
    with pytest.raises(ConfigError, match="no pathway has a quality score on every activity"):
        optimiser.frontier(optimiser.load(path))
    assert cli.main(["frontier", path, "--out", str(tmp_path / "o")]) == 2
    assert "no quality floor to raise" in capsys.readouterr().err


@pytest.mark.parametrize("points", [0, 1, -3, 2.5, True])
def test_library_refuses_too_few_points(tmp_path, points):
    s = optimiser.load(write(tmp_path, two_providers()))
    with pytest.raises(ValueError, match="whole number >= 2"):
        optimiser.frontier(s, points=points)


def test_knee_rule():
    """No knee with fewer than three feasible points, on a straight line, or when cost does
    not rise; infeasible rows are skipped."""
    def table(q, c):
        return pd.DataFrame({"point": range(1, len(q) + 1), "quality_floor": q, "objective": c})

    assert fr.knee(table([0.8, 0.9], [1.0, 2.0])) is None
    assert fr.knee(table([0.8, 0.85, 0.9], [1.0, 1.5, 2.0])) is None
    assert fr.knee(table([0.8, 0.85, 0.9], [5.0, 5.0, 5.0])) is None
    assert fr.knee(table([0.8, 0.85, 0.9, 0.95], [1.0, 1.1, 1.3, 3.0])) == 3
    assert fr.knee(table([0.8, 0.85, 0.9, 0.95], [1.0, 1.1, np.nan, 3.0])) == 2


# --------------------------------------------------------------------------- command line


def test_cli_writes_csv_and_png_into_the_default_folder(tmp_path):
    path = write(tmp_path, two_providers())
    out = run_cli("frontier", path, "--points", "4", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    folder = tmp_path / "runs" / "frontier-case" / "frontier"
    assert sorted(p.name for p in folder.iterdir()) == ["frontier.csv", "frontier.png"]
    assert (folder / "frontier.png").read_bytes()[:8] == PNG
    t = pd.read_csv(folder / "frontier.csv")
    assert list(t.columns) == fr.COLUMNS and len(t) == 4
    assert t["objective"].tolist() == pytest.approx([1000, 1333.33, 1666.67, 2000], abs=0.011)
    assert "From 0.8000" in out.stdout and "to 0.9500" in out.stdout
    assert "£1,333" in out.stdout and "No knee" in out.stdout


def test_cli_example_config_costs_rise_with_the_floor(tmp_path, capsys):
    out_dir = tmp_path / "o"
    assert cli.main(["frontier", str(EXAMPLE), "--points", "5", "--out", str(out_dir)]) == 0
    printed = capsys.readouterr().out
    assert "Outputs written to" in printed
    assert (out_dir / "frontier.png").read_bytes()[:8] == PNG
    t = pd.read_csv(out_dir / "frontier.csv")
    assert len(t) == 5 and t["status"].isin(["optimal", "feasible"]).all()
    c = t["objective"].to_numpy()
    assert (np.diff(c) >= -1e-6 * c[:-1]).all()  # non-decreasing (within the MIP gap)
    assert (np.diff(t["quality_floor"]) > 0).all()
    # the first point is the config's own optimum (a floor at Q0 changes nothing)
    base = optimiser.solve(optimiser.load(EXAMPLE))
    assert c[0] == pytest.approx(base.objective, rel=1e-6)
    assert t["knee"].sum() <= 1


@pytest.mark.parametrize("points", ["0", "-2", "three"])
def test_cli_bad_points_exit_2(tmp_path, capsys, points):
    path = write(tmp_path, two_providers())
    with pytest.raises(SystemExit) as exc:
        cli.main(["frontier", path, "--points", points, "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --points: " in err and f"got '{points}'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_cli_infeasible_config_exits_3(tmp_path, capsys):
    """A budget of £500 is below the cheapest plan (£1,000): no frontier; the diagnosis is
    printed; frontier.csv holds one row with the status and no chart is drawn."""
    path = write(tmp_path, two_providers(), constraints={"budget": 500})
    out_dir = tmp_path / "o"
    assert cli.main(["frontier", path, "--out", str(out_dir)]) == 3
    printed = capsys.readouterr().out
    assert "has no plan (infeasible)" in printed and "budget" in printed
    assert sorted(p.name for p in out_dir.iterdir()) == ["frontier.csv"]
    t = pd.read_csv(out_dir / "frontier.csv")
    assert t["status"].tolist() == ["infeasible"]


def test_cli_invalid_config_exits_2(tmp_path, capsys):
    path = write(tmp_path, two_providers())
    assert cli.main(["frontier", path, "--set", "constraints.budgt=1", "--out",
                     str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'budget'?" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_import_does_not_load_matplotlib():
    import subprocess
    import sys

    code = ("import sys, optimiser; assert 'matplotlib' not in sys.modules; "
            "print(optimiser.frontier)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
