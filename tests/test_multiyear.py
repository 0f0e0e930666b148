"""Multi-year plans (SPEC section 7): hand-solved scenarios, properties, backends, outputs.

Every expected optimum below is worked out by hand in the comment beside it (or comes from
an independent formulation: separate one-year solves, or a closed-form sum); none was
copied from the engine's output. Notation: ``D[t]`` the demand of a step in year t,
``g = (1+population_growth)*(1+growth)``, ``d = 1/(1+discount_rate)``; years are written by
their index t (calendar year ``start + t``; every case starts in 2030 unless it says so).

1. Hand-solved cases: (a) setup paid once, in the year a service starts, and never by one
   that runs today (which may still close in year 0, and pays setup when it reopens);
   setup outside the overhead; the running bound M at year-t demand; (b) persistence, with
   min_volume in every year; (c) carry-over; (d) discounting moves an opening, and carry
   changes it back; (e) held expansion; (f) year-on-year pace with growth; (g) demand
   growth (YAML and localities table); invalid horizons; an infeasible plan's diagnosis.
2. Properties (Hypothesis, derandomized ``ci`` profile): ``years: 1`` is the one-year
   model exactly; ``carry_over`` never raises the optimum.
3. Every mode and backend agree on a rich multi-year scenario; cp within 0.5 % of every
   hand optimum; a decomposed solve equals the whole one.
4. The outputs of a multi-year solve: ``year`` columns, ``by_year``, cost parts, the
   discounted objective and baseline, the independent check.
"""

from __future__ import annotations

import copy
import functools
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optimiser
from optimiser import Status
from optimiser.compile import compile_model

from conftest import run_cli
from strategies import GenScenario, fit_to_baseline, load, reference_baseline, scenarios

OPT = Status.OPTIMAL
INF = Status.INFEASIBLE
REL = 1e-6
"""Relative tolerance on an optimum (SPEC: lp backends agree to 1e-6; milp's gap is 1e-6)."""
PENNY = 0.011
"""summary.json rounds money to pennies."""
START = 2030
FIVE_YEAR = __import__("pathlib").Path(__file__).resolve().parent.parent / "configs" / "northshire_five_year.yaml"


# --------------------------------------------------------------------------- helpers


def scenario(config: dict, *pathways: dict) -> GenScenario:
    """A scenario from mappings; ``pathways`` in config order (files ``../pathways/<id>``)."""
    config = {"scenario": config.pop("scenario", "multi-year case"),
              "pathways": [f"../pathways/{p['pathway']}.yaml" for p in pathways], **config}
    return GenScenario(config, list(pathways))


def pathway(pid: str, prevalence: float, *steps: dict, growth: float | None = None) -> dict:
    out: dict = {"pathway": pid, "prevalence_per_1000": prevalence}
    if growth is not None:
        out["growth"] = growth
    out["steps"] = list(steps)
    return out


def step(sid: str, per_patient, *settings_: str, **more) -> dict:
    return {"step": sid, "per_patient": per_patient, "settings": list(settings_), **more}


@functools.lru_cache(maxsize=None)
def _solve(text: str, overrides: tuple[str, ...], mode: str, backend: str,
           mip_gap: float | None) -> optimiser.Result:
    gen = GenScenario.from_yaml(text)
    return optimiser.solve(load(gen, overrides), mode=mode, backend=backend, time_limit=60,
                           mip_gap=mip_gap)


def solve(gen: GenScenario, *overrides: str, mode: str = "milp", backend: str = "highs",
          mip_gap: float | None = None) -> optimiser.Result:
    """Solve (cached: a case is solved once per mode, backend and overrides)."""
    return _solve(gen.yaml(), tuple(overrides), mode, backend, mip_gap)


def close(a: float, b: float, rel: float = REL, abs_: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b)) + abs_


def volume(result, provider: str, year: int, step_: str | None = None,
           locality: str | None = None) -> float:
    a = result.allocation
    m = (a["provider"] == provider) & (a["year"] == year)
    if step_ is not None:
        m &= a["step"] == step_
    if locality is not None:
        m &= a["locality"] == locality
    return float(a.loc[m, "volume"].sum())


def by_year(result, key: str) -> list:
    return [e[key] for e in result.summary["by_year"]]


def assert_plan_checks(result) -> None:
    """The independent check of the plan (results/check.py) finds nothing broken."""
    assert result.summary["check"]["max_violation"] <= 1e-6, result.summary["check"]
    assert close(result.summary["check"]["objective_recomputed"], result.objective, abs_=PENNY)


MILP_BACKENDS = ("highs", "cbc")


# =========================================================================== 1. by hand

# --------------------------------------------------------------------------- (a) setup

SETUP = scenario(
    {
        "horizon": {"start": START, "years": 3},
        "localities": {"north": {"population": 1000, "population_growth": 1.0}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy",
                     "prices": {"copd.review": 100, "copd.clinic": 100}},
            # runs today (all of the clinic step): o[-1] = 1, it never pays its setup
            "hub_old": {"setting": "primary_care", "mode": "make", "costs": {"copd.clinic": 80},
                        "setup_cost": 10000, "current_share": {"copd.clinic": 1.0}},
            "hub_new": {"setting": "community", "mode": "make", "costs": {"copd.review": 50},
                        "fixed_cost": 7000, "setup_cost": 500},
        },
    },
    pathway("copd", 100,
            step("review", 1, "hospital", "community"),
            step("clinic", 1, "hospital", "primary_care")),
)
# N = 1000 * 100/1000 = 100, g = 2: each step has D = 100, 200, 400.
# clinic: hub_old (80) beats hosp (100) and pays no fixed cost and (running today) no setup:
#   80 * (100 + 200 + 400) = 56000 (hosp would be 70000; even a wrongly charged 10000 setup
#   would not close it, but would show in the objective).
# review: hub_new saves 50 a unit and costs 7000 a year it runs, plus 500 once:
#   never            100*(100+200+400)                      = 70000
#   open in year 0   (5000+7000+500) + (10000+7000) + (20000+7000) = 56500
#   open in year 1   10000 + (10000+7000+500) + (20000+7000)      = 54500  <- optimum
#   open in year 2   10000 + 20000 + (20000+7000+500)             = 57500
# Objective 56000 + 54500 = 110500. Per year: 8000+10000 = 18000; 16000+17500 = 33500;
# 32000+27000 = 59000. Baseline (all review at hosp, clinic at hub_old): 18000, 36000, 72000
# = 126000; savings 15500. Parts: buy 10000; make 10000+20000 (hub_new) + 56000 (hub_old)
# = 86000; fixed 2 * 7000 = 14000; setup 500; 10000+86000+14000+500 = 110500.


@pytest.mark.parametrize("backend", MILP_BACKENDS)
def test_setup_is_paid_once_in_the_year_a_service_starts(backend):
    r = solve(SETUP, backend=backend)
    assert r.status == OPT
    assert close(r.objective, 110500)
    assert [volume(r, "hub_new", START + t) for t in range(3)] == pytest.approx([0, 200, 400])
    assert [volume(r, "hub_old", START + t) for t in range(3)] == pytest.approx([100, 200, 400])
    s = r.summary
    assert s["baseline_cost"] == pytest.approx(126000, abs=PENNY)
    assert s["savings"] == pytest.approx(15500, abs=PENNY)
    assert s["cost"] == pytest.approx({"buy": 10000, "make": 86000, "fixed": 14000,
                                       "overhead": 0, "expansion": 0, "setup": 500,
                                       "adoption": 0, "units": 0, "resources": 0}, abs=PENNY)
    assert by_year(r, "spend") == pytest.approx([18000, 33500, 59000], abs=PENNY)
    assert by_year(r, "baseline") == pytest.approx([18000, 36000, 72000], abs=PENNY)
    # extensions of by_year: what was set up, and who started, year by year
    assert by_year(r, "setup") == pytest.approx([0, 500, 0], abs=PENNY)
    assert by_year(r, "started") == [[], ["hub_new"], []]
    assert_plan_checks(r)


# A service that runs today may close in year 0 (SPEC: o[v,t] <= o[v,t+1] only from year 0
# on); and closing it costs no setup.
CLOSE_TODAY = scenario(
    {
        "horizon": {"start": START, "years": 2},
        "localities": {"north": {"population": 1000}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 90},
                    "fixed_cost": 3000, "setup_cost": 1000,
                    "current_share": {"copd.review": 1.0}},
        },
    },
    pathway("copd", 100, step("review", 1, "hospital", "community")),
)
# D = 100 in both years. The hub: 90*100 + 3000 = 12000 a year; hosp 10000. It closes in
# year 0: 20000 (baseline 2 * 12000 = 24000, savings 4000); no setup anywhere.


def test_a_service_running_today_may_close_in_year_zero():
    r = solve(CLOSE_TODAY)
    assert r.status == OPT
    assert close(r.objective, 20000)
    assert [volume(r, "hub", START + t) for t in range(2)] == pytest.approx([0, 0])
    assert r.summary["baseline_cost"] == pytest.approx(24000, abs=PENNY)
    assert r.summary["cost"]["setup"] == pytest.approx(0, abs=PENNY)
    assert by_year(r, "running") == [[], []]


REOPEN = scenario(
    {
        "horizon": {"start": START, "years": 2},
        "localities": {"north": {"population": 1000, "population_growth": 1.0}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 50},
                    "fixed_cost": 6000, "setup_cost": 500,
                    "current_share": {"copd.review": 1.0}},
        },
    },
    pathway("copd", 100, step("review", 1, "hospital", "community")),
)
# The hub runs today (o[-1] = 1). D = 100, 200. Hub 5000+6000 = 11000 vs hosp 10000 in
# year 0; 10000+6000 = 16000 vs 20000 in year 1.
#   keep it running (no setup: it runs today)        11000 + 16000       = 27000
#   close in year 0, reopen in year 1 (pays setup)   10000 + 16000 + S   = 26000 + S
# setup 500: 26500, it closes and restarts (paying 500 in year 1); setup 2000: 27000, it
# keeps running and pays nothing. Baseline: today's plan, all at the hub (its current
# share), 11000 + 16000 = 27000.


@pytest.mark.parametrize("setup, objective, hub, started", [
    (500, 26500, [0, 200], [[], ["hub"]]),
    (2000, 27000, [100, 200], [[], []]),
])
def test_a_service_that_closes_and_reopens_pays_setup_again(setup, objective, hub, started):
    r = solve(REOPEN, f"providers.hub.setup_cost={setup}")
    assert r.status == OPT
    assert close(r.objective, objective)
    assert [volume(r, "hub", START + t) for t in range(2)] == pytest.approx(hub)
    assert by_year(r, "started") == started
    assert r.summary["cost"]["setup"] == pytest.approx(500 if setup == 500 else 0, abs=PENNY)
    assert r.summary["baseline_cost"] == pytest.approx(27000, abs=PENNY)


SETUP_OVERHEAD = scenario(
    {
        "horizon": {"start": START, "years": 2},
        "localities": {"north": {"population": 1000}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 40},
                    "overhead": 0.5, "setup_cost": 1000},
        },
    },
    pathway("copd", 100, step("review", 1, "hospital", "community")),
)
# D = 100. Hub: 1.5 * 40 * 100 = 6000 a year, plus setup 1000 once, outside the overhead
# (were it inside: 1500): 7000 + 6000 = 13000 (hosp 20000). Parts: make 8000, overhead
# 4000, setup 1000.


def test_setup_is_paid_outside_the_overhead():
    r = solve(SETUP_OVERHEAD)
    assert r.status == OPT
    assert close(r.objective, 13000)
    assert by_year(r, "spend") == pytest.approx([7000, 6000], abs=PENNY)
    assert r.summary["cost"] == pytest.approx({"buy": 0, "make": 8000, "fixed": 0,
                                               "overhead": 4000, "expansion": 0,
                                               "setup": 1000, "adoption": 0, "units": 0,
                                               "resources": 0}, abs=PENNY)


RUNNING_BOUND = scenario(
    {
        "horizon": {"start": START, "years": 2},
        "localities": {"north": {"population": 1000, "population_growth": 1.0}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 50},
                    "fixed_cost": 4000},
        },
    },
    pathway("copd", 100, step("review", 1, "hospital", "community")),
)
# D = 100, 200; M[hub,t] = D[t] (SPEC 7: section 3's M at year-t demand).
# milp: the hub runs in both years: 5000+4000 = 9000, 10000+4000 = 14000: 23000.
# lp: o[t] >= x[t] / M[t], so a hub unit costs 50 + 4000/100 = 90 in year 0 and
# 50 + 4000/200 = 70 in year 1, both below 100: 9000 + 14000 = 23000 too.
# (With year 0's M = 100 in year 1, the hub could take only 100 units there: 26000.)


@pytest.mark.parametrize("mode, backend", [("lp", "highs"), ("lp", "glop"), ("milp", "highs"),
                                           ("milp", "cbc")])
def test_running_bound_follows_the_years_demand(mode, backend):
    r = solve(RUNNING_BOUND, mode=mode, backend=backend)
    assert r.status == OPT
    assert close(r.objective, 23000)
    assert [volume(r, "hub", START + t) for t in range(2)] == pytest.approx([100, 200])


# --------------------------------------------------------------------------- (b) persistence

PERSIST = scenario(
    {
        "horizon": {"start": START, "years": 3},
        "localities": {"north": {"population": 1000}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"a.s": 100, "b.s": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"a.s": 50, "b.s": 50},
                    "fixed_cost": 22000},
        },
    },
    pathway("a", 400, step("s", 1, "hospital", "community"), growth=-0.5),
    pathway("b", 100, step("s", 1, "hospital", "community"), growth=1.0),
)
# a shrinks, b grows: D_a = 400, 200, 100; D_b = 100, 200, 400; together 500, 400, 500.
# Running the hub saves 50 a unit and costs 22000 a year: +3000, -2000, +3000.
# Year by year (no persistence) it would run in years 0 and 2 and close in year 1
# (saving 6000; checked below by three separate one-year solves). With persistence
# (o[0] <= o[1] <= o[2]): never 0; from year 0 3000-2000+3000 = 4000 <- optimum;
# from year 1 1000; from year 2 3000. So it keeps running through year 1.
# Baseline 100 * (500 + 400 + 500) = 140000; optimum 140000 - 4000 = 136000;
# spend 50*500+22000 = 47000, 50*400+22000 = 42000, 47000.


@pytest.mark.parametrize("backend", MILP_BACKENDS)
def test_a_running_service_keeps_running(backend):
    r = solve(PERSIST, backend=backend)
    assert r.status == OPT
    assert close(r.objective, 136000)
    assert [volume(r, "hub", START + t) for t in range(3)] == pytest.approx([500, 400, 500])
    assert by_year(r, "running") == [["hub"], ["hub"], ["hub"]]
    assert by_year(r, "spend") == pytest.approx([47000, 42000, 47000], abs=PENNY)
    assert by_year(r, "savings") == pytest.approx([3000, -2000, 3000], abs=PENNY)
    assert r.summary["baseline_cost"] == pytest.approx(140000, abs=PENNY)
    assert r.summary["cost"]["fixed"] == pytest.approx(66000, abs=PENNY)
    assert_plan_checks(r)


def test_without_persistence_the_service_would_close_in_the_middle_year():
    """The independent formulation behind PERSIST: each year on its own (no horizon, the
    year's prevalences written in) runs the hub in years 0 and 2 only: 47000 + 40000 +
    47000 = 134000 < 136000."""
    one_year = copy.deepcopy(PERSIST)
    del one_year.config["horizon"]
    for p in one_year.pathways:
        del p["growth"]
    expected = [(47000, 500), (40000, 0), (47000, 500)]
    for t, (objective, hub) in enumerate(expected):
        prev = f"{{a: {400 * 0.5 ** t}, b: {100 * 2 ** t}}}"
        r = solve(one_year, f"localities.north.prevalence_per_1000={prev}")
        assert r.status == OPT
        assert close(r.objective, objective)
        assert float(r.allocation.loc[r.allocation["provider"] == "hub", "volume"].sum()) == \
            pytest.approx(hub)


MIN_VOLUME = scenario(
    {
        "horizon": {"start": START, "years": 2},
        "localities": {"north": {"population": 1000}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 50},
                    "min_volume": 150},
        },
    },
    pathway("copd", 200, step("review", 1, "hospital", "community"), growth=-0.5),
)
# D = 200, 100. The hub (50) would take all 200 in year 0, but once running it runs in
# year 1 too, where min_volume 150 > D = 100: it cannot run in year 1, so not in year 0
# either. All at hosp: 20000 + 10000 = 30000 (year by year it would be 10000 + 10000).
# Growing instead (prevalence 100, growth 1.0: D = 100, 200): year 0 100 < 150, so it
# starts in year 1: 10000 + 50*200 = 20000.


@pytest.mark.parametrize("backend", MILP_BACKENDS)
def test_min_volume_holds_in_every_year_a_service_runs(backend):
    r = solve(MIN_VOLUME, backend=backend)
    assert r.status == OPT
    assert close(r.objective, 30000)
    assert [volume(r, "hub", START + t) for t in range(2)] == pytest.approx([0, 0])
    grown = copy.deepcopy(MIN_VOLUME)
    grown.pathways[0].update(prevalence_per_1000=100, growth=1.0)
    r = solve(grown, backend=backend)
    assert r.status == OPT
    assert close(r.objective, 20000)
    assert [volume(r, "hub", START + t) for t in range(2)] == pytest.approx([0, 200])


# --------------------------------------------------------------------------- (c) carry-over

CARRY = scenario(
    {
        "horizon": {"start": START, "years": 3, "discount_rate": 0.1},
        "localities": {"north": {"population": 1000, "population_growth": 0.5}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
        },
        "constraints": {"budget": [14000, 14000, 20000], "carry_over": True},
    },
    pathway("copd", 100, step("review", 1, "hospital")),
)
# D = 100, 150, 225 at 100 each: spend 10000, 15000, 22500 (the only plan).
# Without carry_over: year 1 spends 15000 > 14000: infeasible. (Budgets are nominal: were
# the discounted 15000/1.1 = 13636 compared, it would pass.)
# With carry_over: c0 = 14000 - 10000 = 4000; year 1: 15000 <= 14000 + 4000, c1 = 3000;
# year 2: 22500 <= 20000 + 3000, c2 = 500. Objective 10000 + 15000/1.1 + 22500/1.21
# = 10000 + 13636.3636... + 18595.0413... = 42231.4049...; the baseline is the same plan.


@pytest.mark.parametrize("backend", MILP_BACKENDS)
def test_carry_over_makes_a_plan_feasible(backend):
    r = solve(CARRY, backend=backend)
    assert r.status == OPT
    expected = 10000 + 15000 / 1.1 + 22500 / 1.1**2
    assert close(r.objective, expected)
    assert by_year(r, "spend") == pytest.approx([10000, 15000, 22500], abs=PENNY)
    assert by_year(r, "budget") == pytest.approx([14000, 14000, 20000], abs=PENNY)
    assert by_year(r, "carry") == pytest.approx([4000, 3000, 500], abs=PENNY)
    assert r.summary["savings"] == pytest.approx(0, abs=PENNY)
    assert_plan_checks(r)


@pytest.mark.parametrize("mode", ["lp", "milp"])
def test_a_carried_budget_reports_what_each_year_truly_leaves(mode):
    """The budget rows' slack is budget + carry - spend (14000 - 10000 = 4000,
    14000 + 4000 - 15000 = 3000, 20000 + 3000 - 22500 = 500, by hand above), whatever value
    the solver gave the carry columns; none binds, so none is listed as binding."""
    r = solve(CARRY, mode=mode)
    b = r.constraints[r.constraints["kind"] == "budget"]
    assert list(b["slack"]) == pytest.approx([4000, 3000, 500], abs=1e-6)
    assert not b["binding"].any()


def test_definitions_are_not_binding_limits():
    """Persistence, setup and kept increments are tight at every optimum (they define o, u
    and k): the terminal's binding limits leave them out, as flow balances. The five-year
    example has all three tight (the hub runs every year, its staff grow)."""
    from optimiser.results.text import _binding

    r = optimiser.solve(optimiser.load(FIVE_YEAR))
    tight = set(r.constraints.loc[r.constraints["binding"], "kind"])
    assert {"persistence", "setup", "held_expansion"} <= tight
    lines = " ".join(_binding(r.constraints, "GBP", "milp", 10_000))
    assert not any(f"{k}[" in lines for k in ("persistence", "setup", "held_expansion"))


CAPPED = scenario(
    {
        "horizon": {"start": START, "years": 2},
        "localities": {"north": {"population": 1000}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 50}},
        },
    },
    pathway("copd", 100, step("review", 1, "hospital", "community",
                              max_share={"community": 0.6})),
)
# D = 100 a year; the hub (50) takes its cap of 60, the hospital (100) the rest: one more
# activity allowed in community saves 100 - 50 = 50 in each year (no discounting), until
# the cap reaches 100 (40 more).


def test_a_setting_cap_sentence_names_its_setting_in_every_year():
    r = solve(CAPPED, mode="lp")
    caps = r.constraints[r.constraints["kind"] == "setting_cap"]
    assert list(caps["meaning"]) == [
        f"{START + t}: allowing one more copd.review in community in north saves £50.00, for "
        "up to 40 more" for t in range(2)]  # the price holds until the hub has all 100


@pytest.mark.parametrize("backend", MILP_BACKENDS)
def test_without_carry_over_the_same_budgets_are_infeasible(backend):
    r = solve(CARRY, "constraints.carry_over=false", backend=backend)
    assert r.status == INF


def test_without_carry_over_the_command_line_exits_3(tmp_path):
    path = CARRY.write(tmp_path)
    out = run_cli("solve", path, "--out", tmp_path / "out", "--set", "constraints.carry_over=false")
    assert out.returncode == 3, out.stdout + out.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["status"] == "infeasible"
    ok = run_cli("solve", path, "--out", tmp_path / "ok")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    summary = json.loads((tmp_path / "ok" / "summary.json").read_text())
    assert [e["carry"] for e in summary["by_year"]] == pytest.approx([4000, 3000, 500], abs=PENNY)


def test_one_budget_number_holds_in_every_year():
    """``budget: 14000`` is 14000 in each year: with carry_over, year 2 (22500) would need
    14000 + c1 where c1 = 14000 + (14000 - 10000) - 15000 = 3000: 17000 < 22500,
    infeasible; 15000 for all: c0 5000, c1 5000, year 2 needs 22500 <= 20000: infeasible;
    17500 for all: c0 7500, c1 10000, 22500 <= 27500, c2 = 5000: optimal."""
    assert solve(CARRY, "constraints.budget=14000").status == INF
    assert solve(CARRY, "constraints.budget=15000").status == INF
    r = solve(CARRY, "constraints.budget=17500")
    assert r.status == OPT
    assert by_year(r, "budget") == pytest.approx([17500] * 3, abs=PENNY)
    assert by_year(r, "carry") == pytest.approx([7500, 10000, 5000], abs=PENNY)


# A carry that changes the plan, not only its feasibility: a hub saves money over the
# horizon but its setup is paid up front, in the year a tight budget forbids it.
CARRY_CHOICE = scenario(
    {
        "horizon": {"start": START, "years": 2},
        "localities": {"north": {"population": 1000}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 40},
                    "setup_cost": 5000},
        },
        "constraints": {"budget": [10000, 6000], "carry_over": True},
    },
    pathway("copd", 100, step("review", 1, "hospital", "community")),
)
# D = 100 a year. Hub from year 0: 4000 + 5000 = 9000, then 4000: 13000 <- cheapest
# (from year 1: 10000 + 9000 = 19000; never 20000). Budgets 10000, 6000: year 0 9000 <=
# 10000, c0 = 1000; year 1 4000 <= 7000, c1 = 3000. With budgets [9500, 3900] and no
# carry there is no plan: the hub from year 0 spends 4000 > 3900 in year 1 (its cheapest
# year-1 plan), from year 1 spends 9000 > 3900, never spends 10000 > 9500 in year 0. With
# carry: the hub from year 0, c0 = 9500 - 9000 = 500, year 1 4000 <= 3900 + 500, c1 = 400.


def test_carry_over_lets_an_early_saving_fund_a_later_year():
    r = solve(CARRY_CHOICE)
    assert r.status == OPT and close(r.objective, 13000)
    assert by_year(r, "carry") == pytest.approx([1000, 3000], abs=PENNY)
    tight = "constraints.budget=[9500, 3900]"
    assert solve(CARRY_CHOICE, tight, "constraints.carry_over=false").status == INF
    r = solve(CARRY_CHOICE, tight)
    assert r.status == OPT and close(r.objective, 13000)
    assert by_year(r, "carry") == pytest.approx([500, 400], abs=PENNY)
    assert by_year(r, "started") == [["hub"], []]


# --------------------------------------------------------------------------- (d) discounting

DISCOUNT = scenario(
    {
        "horizon": {"start": START, "years": 2, "discount_rate": 0.0},
        "localities": {"north": {"population": 1000, "population_growth": 1.0}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 40},
                    "fixed_cost": 5000, "setup_cost": 6000},
        },
    },
    pathway("copd", 100, step("review", 1, "hospital", "community")),
)
# D = 100, 200. The hub saves 60 a unit: net of its fixed cost +1000 in year 0, +7000 in
# year 1; its setup (6000) is paid in the year it opens. With d = 1/(1+r):
#   never        10000 + d*20000
#   open year 0  (4000+5000+6000) + d*(8000+5000)      = 15000 + d*13000
#   open year 1  10000 + d*(8000+5000+6000)            = 10000 + d*19000
# open year 0 - open year 1 = 5000 - d*6000: year 0 when d > 5/6 (r < 0.2), year 1 when
# r > 0.2.
#   r = 0:    15000 + 13000 = 28000 (year 1: 29000, never 30000)          -> opens in year 0
#   r = 0.25: d = 0.8: 15000 + 10400 = 25400; 10000 + 15200 = 25200 <- ; never 26000
#                                                                           -> opens in year 1


@pytest.mark.parametrize("backend", MILP_BACKENDS)
@pytest.mark.parametrize("rate, objective, opens, baseline", [
    (0.0, 28000, 0, 30000),
    (0.25, 25200, 1, 26000),  # baseline 10000 + 0.8 * 20000
])
def test_discounting_moves_the_opening_year(backend, rate, objective, opens, baseline):
    r = solve(DISCOUNT, f"horizon.discount_rate={rate}", backend=backend)
    assert r.status == OPT
    assert close(r.objective, objective)
    hub = [volume(r, "hub", START + t) for t in range(2)]
    assert hub == pytest.approx([100 if opens == 0 else 0, 200])
    assert by_year(r, "started") == [["hub"] if t == opens else [] for t in range(2)]
    assert r.summary["baseline_cost"] == pytest.approx(baseline, abs=PENNY)
    assert r.summary["savings"] == pytest.approx(baseline - objective, abs=PENNY)
    assert r.summary["cost"]["setup"] == pytest.approx(6000 * (1 if opens == 0 else 0.8), abs=PENNY)


# With budgets [20000, 15000] at r = 0.25: opening in year 1 (optimal above) spends 19000
# in year 1 > 15000, and never spends 20000 > 15000; so without carry_over the hub must
# open in year 0: 15000 + 0.8 * 13000 = 25400 (15000 <= 20000, 13000 <= 15000). With
# carry_over, year 0 spends 10000 and carries 10000: 19000 <= 25000, c1 = 15000 + 10000 -
# 19000 = 6000: the unconstrained optimum 25200 again. Carry lowers the optimum.


@pytest.mark.parametrize("backend", MILP_BACKENDS)
def test_carry_over_lowers_the_optimum_when_a_later_budget_binds(backend):
    budget = ("horizon.discount_rate=0.25", "constraints.budget=[20000, 15000]")
    r = solve(DISCOUNT, *budget, backend=backend)
    assert r.status == OPT
    assert close(r.objective, 25400)
    assert by_year(r, "started") == [["hub"], []]
    assert by_year(r, "carry") == pytest.approx([0, 0], abs=PENNY)
    r = solve(DISCOUNT, *budget, "constraints.carry_over=true", backend=backend)
    assert r.status == OPT
    assert close(r.objective, 25200)
    assert by_year(r, "started") == [[], ["hub"]]
    assert by_year(r, "spend") == pytest.approx([10000, 19000], abs=PENNY)
    assert by_year(r, "carry") == pytest.approx([10000, 6000], abs=PENNY)


# --------------------------------------------------------------------------- (e) held expansion

HELD = scenario(
    {
        "horizon": {"start": START, "years": 3},
        "localities": {"north": {"population": 1000}},
        "resources": {"nurse": {"capacity": 100,
                                "expand": {"step": 100, "cost": 3000, "max_steps": 3}}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 50},
                    "uses": {"copd.review": {"nurse": 1}}},
        },
    },
    pathway("copd", 100, step("review", 1, "hospital", "community"), growth=1.0),
)
# Growing: D = 100, 200, 400. A step (100 nurse hours, 3000 a year) lets the hub take 100
# more units, saving 5000 > 3000; so k = 0, 1, 3 (capacity 100, 200, 400 = demand).
# Spend 50*100 = 5000; 50*200 + 3000 = 13000; 50*400 + 9000 = 29000: 47000 (baseline
# 10000 + 20000 + 40000 = 70000). Expansion paid 0 + 3000 + 9000 = 12000: the step bought
# in year 1 is paid again in year 2.

HELD_SHRINKING = copy.deepcopy(HELD)
HELD_SHRINKING.pathways[0].update(prevalence_per_1000=400, growth=-0.5)
# Shrinking: D = 400, 200, 100. Steps bought are held: k0 <= k1 <= k2, each paid every
# year. Value of the j-th step held from year 0 (year 0 needs 3, year 1 one, year 2 none):
# step 1: +2000 (year 0) +2000 (year 1) -3000 (year 2) = +1000; steps 2, 3: 2000 - 3000 -
# 3000 = -4000 each; a step first bought in year 1 or 2 only loses. So k = 1, 1, 1:
# spend 50*200 + 100*200 + 3000 = 33000; 50*200 + 3000 = 13000; 50*100 + 3000 = 8000:
# 54000 (k = 0,0,0: 35000+15000+5000 = 55000; were steps not held, k = 3,1,0 would give
# 29000 + 13000 + 5000 = 47000). Expansion 3 * 3000 = 9000.


@pytest.mark.parametrize("backend", MILP_BACKENDS)
@pytest.mark.parametrize("case, objective, steps, expansion, hub", [
    ("growing", 47000, [0, 1, 3], 12000, [100, 200, 400]),
    ("shrinking", 54000, [1, 1, 1], 9000, [200, 200, 100]),
])
def test_expansion_steps_are_held_and_paid_every_year(backend, case, objective, steps,
                                                      expansion, hub):
    gen = HELD if case == "growing" else HELD_SHRINKING
    r = solve(gen, backend=backend)
    assert r.status == OPT
    assert close(r.objective, objective)
    assert r.summary["cost"]["expansion"] == pytest.approx(expansion, abs=PENNY)
    res = r.resources
    assert list(res["year"]) == [START, START + 1, START + 2]
    assert list(res["expansion_steps"]) == pytest.approx(steps)
    assert [volume(r, "hub", START + t) for t in range(3)] == pytest.approx(hub)
    assert by_year(r, "expansion_steps") == [{"nurse": s} if s else {} for s in steps]
    assert_plan_checks(r)


# --------------------------------------------------------------------------- (f) pace

PACE = scenario(
    {
        "horizon": {"start": START, "years": 3},
        "localities": {"north": {"population": 1000, "population_growth": 0.5}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy", "prices": {"copd.review": 100}},
            "hub": {"setting": "community", "mode": "make", "costs": {"copd.review": 50}},
        },
        "constraints": {"max_shift": 0.5},
    },
    pathway("copd", 100, step("review", 1, "hospital", "community")),
)
# g = 1.5: D = 100, 150, 225; today all at hosp. The hub (50 < 100) takes all it may:
#   year 0: hosp >= (1-0.5) * 1.0 * 100 = 50 (section 3's pace)
#   year 1: hosp >= 0.5 * 1.5 * 50 = 37.5        (x[t] >= (1-max_shift) * g * x[t-1])
#   year 2: hosp >= 0.5 * 1.5 * 37.5 = 28.125
# hub 50, 112.5, 196.875. Spend 5000+2500 = 7500; 3750+5625 = 9375; 2812.5+9843.75 =
# 12656.25; objective 29531.25. (Without g in the rule, hosp would fall to 50, 25, 12.5 and
# the objective to 7500 + 8750 + 11875 = 28125.)
# Baseline 10000 + 15000 + 22500 = 47500.


@pytest.mark.parametrize("mode, backend", [("lp", "highs"), ("lp", "cbc"), ("lp", "glop"),
                                           ("milp", "highs"), ("milp", "cbc")])
def test_year_on_year_pace_grows_with_demand(mode, backend):
    r = solve(PACE, mode=mode, backend=backend)
    assert r.status == OPT
    assert close(r.objective, 29531.25)
    assert [volume(r, "hosp", START + t) for t in range(3)] == pytest.approx([50, 37.5, 28.125])
    assert [volume(r, "hub", START + t) for t in range(3)] == pytest.approx([50, 112.5, 196.875])
    assert by_year(r, "spend") == pytest.approx([7500, 9375, 12656.25], abs=PENNY)
    assert r.summary["baseline_cost"] == pytest.approx(47500, abs=PENNY)
    c = r.constraints.set_index("name")
    for t in (1, 2):
        row = c.loc[f"year_pace[north,copd,review,hosp,{START + t}]"]
        assert row["year"] == START + t and bool(row["binding"])
        assert row["kind"] == "year_pace"
        assert not bool(c.loc[f"year_pace[north,copd,review,hub,{START + t}]", "binding"])
    if mode == "lp":
        # Moving one more unit off hosp in year 2 saves 50; the year-2 row's shadow price
        # (d Total / d limit, limit 0 on x2 - 0.75 x1) is +50 in the undiscounted plan.
        assert c.loc[f"year_pace[north,copd,review,hosp,{START + 2}]", "shadow_price"] == \
            pytest.approx(50, rel=1e-6)
    assert_plan_checks(r)


# --------------------------------------------------------------------------- (g) growth

GROWTH = scenario(
    {
        "horizon": {"start": 2027, "years": 3, "discount_rate": 0.1},
        "localities": {"north": {"population": 1000, "population_growth": 0.1},
                       "south": {"population": 2000, "population_growth": -0.2}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy",
                     "prices": {"copd.review": 10, "copd.rehab": 7}},
        },
    },
    pathway("copd", 100,
            step("review", 2, "hospital"),
            step("rehab", {"min": 0.5, "max": 1}, "hospital"),
            growth=0.05),
)
# N = 100 (north), 200 (south); g_north = 1.1 * 1.05 = 1.155, g_south = 0.8 * 1.05 = 0.84.
# review D = 2N g^t: north 200, 231, 266.805; south 400, 336, 282.24.
# rehab (optional, no benefit): minimum uptake 0.5 N g^t: north 50, 57.75, 66.70125;
# south 100, 84, 70.56.
# Year cost = 10 * review + 7 * rehab: 6000 + 7*150 = 7050; 5670 + 7*141.75 = 6662.25;
# 5490.45 + 7*137.26125 = 6451.27875.
# Objective sum_t cost[t] / 1.1^t; baseline the same plan (rehab at its minimum).


def _growth_expected():
    g = {"north": 1.1 * 1.05, "south": 0.8 * 1.05}
    n = {"north": 100, "south": 200}
    review = {(loc, t): 2 * n[loc] * g[loc] ** t for loc in n for t in range(3)}
    rehab = {(loc, t): 0.5 * n[loc] * g[loc] ** t for loc in n for t in range(3)}
    cost = [sum(10 * review[loc, t] + 7 * rehab[loc, t] for loc in n) for t in range(3)]
    return review, rehab, cost


def test_demand_grows_with_population_and_prevalence():
    review, rehab, cost = _growth_expected()
    assert review["north", 2] == pytest.approx(266.805)
    assert review["south", 2] == pytest.approx(282.24)
    assert cost == pytest.approx([7050, 6662.25, 6451.27875])
    r = solve(GROWTH)
    assert r.status == OPT
    assert close(r.objective, sum(c / 1.1**t for t, c in enumerate(cost)))
    for (loc, t), v in review.items():
        assert volume(r, "hosp", 2027 + t, "review", loc) == pytest.approx(v, rel=1e-9)
    for (loc, t), v in rehab.items():
        assert volume(r, "hosp", 2027 + t, "rehab", loc) == pytest.approx(v, rel=1e-9)
    assert by_year(r, "spend") == pytest.approx(cost, abs=PENNY)
    assert by_year(r, "baseline") == pytest.approx(cost, abs=PENNY)
    assert r.summary["baseline_cost"] == pytest.approx(r.objective, abs=PENNY)
    a = r.allocation
    base = a.groupby(["year", "locality", "step"])["baseline_volume"].sum()
    assert base[(2029, "north", "review")] == pytest.approx(review["north", 2])
    assert base[(2029, "south", "rehab")] == pytest.approx(rehab["south", 2])


def test_population_growth_from_a_localities_table(tmp_path):
    """``population_growth`` in the localities table means what it means in YAML; an empty
    cell is 0. north N = 100, g = 2; south N = 100, g = 1; two steps at 100 each:
    north 20000 * 2^t, south 20000: 40000, 60000, 100000 = 200000."""
    gen = scenario(
        {
            "horizon": {"start": START, "years": 3},
            "tables": {"localities": "data/localities.csv"},
            "providers": {"hosp": {"setting": "hospital", "mode": "buy",
                                   "prices": {"copd.review": 100, "copd.clinic": 100}}},
        },
        pathway("copd", 100, step("review", 1, "hospital"), step("clinic", 1, "hospital")),
    )
    path = gen.write(tmp_path)
    (path.parent / "data").mkdir()
    (path.parent / "data" / "localities.csv").write_text(
        "locality,population,population_growth\nnorth,1000,1.0\nsouth,1000,\n")
    r = optimiser.solve(optimiser.load(path), backend="highs")
    assert r.status == OPT
    assert close(r.objective, 200000)
    assert by_year(r, "spend") == pytest.approx([40000, 60000, 100000], abs=PENNY)


@pytest.mark.parametrize("override, message", [
    ("constraints.budget=[1, 2]", "budget"),                 # 2 budgets for 3 years
    ("localities.north.population_growth=-1", "population_growth"),  # must stay above -1
    ("horizon.years=0", "years"),
])
def test_invalid_horizons_are_config_errors(override, message):
    with pytest.raises(optimiser.ConfigError) as err:
        load(GROWTH, [override])
    assert message in str(err.value)


DIAGNOSE = scenario(
    {
        "horizon": {"start": START, "years": 2},
        "localities": {"north": {"population": 1000}},
        "providers": {"hosp": {"setting": "hospital", "mode": "buy",
                               "prices": {"care.review": 100, "care.rehab": 100}}},
        "constraints": {"budget": 5000},
    },
    pathway("care", 100, step("rehab", {"min": 0.1, "max": 0.2}, "hospital"),
            step("review", 1, "hospital")),
)
# N = 100: every year needs at least 100*100 + 10*100 = 11000 > 5000: infeasible. SPEC 4:
# an infeasible model is exit 3 (with a diagnosis), never a traceback. (At f9e6e44 the
# diagnosis raised ValueError here -- diagnose._extras read year 0's uptakes from the y
# block of every year -- and the command line exited 1 with "internal error".)


def test_an_infeasible_multi_year_plan_with_an_optional_step_is_diagnosed(tmp_path):
    r = optimiser.solve(load(DIAGNOSE), backend="highs")
    assert r.status == INF and r.diagnosis is not None
    out = run_cli("solve", DIAGNOSE.write(tmp_path), "--out", tmp_path / "out")
    assert out.returncode == 3, out.stderr


# =========================================================================== 2. properties

GROWTHS = st.sampled_from([-0.2, -0.1, -0.05, 0.0, 0.02, 0.05, 0.1, 0.3])
RATES = st.sampled_from([0.0, 0.01, 0.035, 0.1, 0.5])


@st.composite
def one_year_pairs(draw):
    """A generated one-year scenario, and the same with ``horizon: {years: 1}``, arbitrary
    growth rates (which cannot act in year 0), a one-element budget list and carry_over."""
    gen = draw(scenarios())
    multi = gen.copy()
    multi.config["horizon"] = {"start": START, "years": 1, "discount_rate": draw(RATES)}
    for spec in multi.config["localities"].values():
        spec["population_growth"] = draw(GROWTHS)
    for p in multi.pathways:
        p["growth"] = draw(GROWTHS)
    cons = multi.constraints
    if "budget" in cons:
        cons["budget"] = [cons["budget"]]
    cons["carry_over"] = True
    return gen, multi


def _same_model(a, b) -> None:
    assert a.A.shape == b.A.shape
    assert (a.A != b.A).nnz == 0
    for field in ("obj", "col_lb", "col_ub", "col_integer", "row_lb", "row_ub"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.obj_offset == b.obj_offset
    assert list(a.col_meta["kind"]) == list(b.col_meta["kind"])
    assert list(a.row_meta["kind"]) == list(b.row_meta["kind"])


@settings(max_examples=25, deadline=None)
@given(one_year_pairs())
def test_a_one_year_horizon_is_the_one_year_model(pair):
    gen, multi = pair
    one, many = load(gen), load(multi)
    _same_model(compile_model(one.instance), compile_model(many.instance))
    for mode in ("lp", "milp"):
        a = optimiser.solve(one, mode=mode, backend="highs", time_limit=60)
        b = optimiser.solve(many, mode=mode, backend="highs", time_limit=60)
        assert a.status == b.status
        if not a.status.has_solution:
            continue
        assert close(a.objective, b.objective, rel=1e-9)
        va = a.allocation["volume"].to_numpy(float)
        vb = b.allocation.drop(columns="year")["volume"].to_numpy(float)
        assert list(b.allocation["year"]) == [START] * len(b.allocation)
        assert list(a.allocation.columns) == list(b.allocation.drop(columns="year").columns)
        assert np.allclose(va, vb, rtol=1e-9, atol=1e-9)
        assert a.summary["baseline_cost"] == b.summary["baseline_cost"]
        assert a.summary["cost"] == b.summary["cost"]
        (entry,) = b.summary["by_year"]
        assert entry["year"] == START
        assert entry["spend"] == pytest.approx(b.objective, abs=PENNY)


@st.composite
def multi_year(draw):
    """A generated scenario with a two- or three-year horizon, growth, discounting and a
    budget per year near that year's (roughly grown) cost today."""
    gen = fit_to_baseline(draw(scenarios(constrained=True)))
    years = draw(st.integers(2, 3))
    gen.config["horizon"] = {"start": START, "years": years, "discount_rate": draw(RATES)}
    grow = []
    for spec in gen.config["localities"].values():
        spec["population_growth"] = draw(GROWTHS)
        grow.append(spec["population_growth"])
    for p in gen.pathways:
        p["growth"] = draw(GROWTHS)
    g = (1 + sum(grow) / len(grow)) * (1 + sum(p["growth"] for p in gen.pathways) / len(gen.pathways))
    today = reference_baseline(gen).cost
    gen.constraints["budget"] = [100 * math.ceil(today * g**t * draw(st.integers(75, 125)) / 100 / 100)
                                 for t in range(years)]
    gen.constraints.pop("carry_over", None)
    return gen


@settings(max_examples=25, deadline=None)
@given(multi_year(), st.sampled_from(["lp", "milp"]))
def test_carry_over_never_raises_the_optimum(gen, mode):
    # (no diagnosis of infeasible plans, for speed: test_an_infeasible_multi_year_plan_...)
    without = optimiser.solve(load(gen), mode=mode, backend="highs", time_limit=60,
                              diagnose_infeasible=False)
    carried = optimiser.solve(load(gen, ["constraints.carry_over=true"]), mode=mode,
                              backend="highs", time_limit=60, diagnose_infeasible=False)
    assert without.status in (OPT, INF) and carried.status in (OPT, INF)
    if without.status == OPT:
        assert carried.status == OPT  # never the reverse
        assert carried.objective <= without.objective + 2e-6 * max(1.0, abs(without.objective))
    if carried.status == OPT:
        assert carried.summary["check"]["max_violation"] <= 1e-6
        spend, budget, carry = (by_year(carried, k) for k in ("spend", "budget", "carry"))
        before = 0.0
        for s, b, c in zip(spend, budget, carry):
            # the year's rule, and what it leaves: c[t] = budget[t] + c[t-1] - spend[t] >= 0
            assert s <= b + before + 0.02 + 1e-6 * b
            assert c == pytest.approx(b + before - s, abs=0.03)
            assert c >= -0.02 - 1e-6 * b
            before = c


# =========================================================================== 3. backends

RICH = scenario(
    {
        "scenario": "rich multi-year",
        "horizon": {"start": 2027, "years": 3, "discount_rate": 0.035},
        "localities": {"north": {"population": 50000, "population_growth": 0.1},
                       "south": {"population": 20000}},
        "resources": {"nurse": {"capacity": 1500,
                                "expand": {"step": 500, "cost": 12000, "max_steps": 4}}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy",
                     "prices": {"copd.review": 100, "copd.admission": 2000},
                     "quality": {"default": 0.9}, "block_contract": 300000},
            "hub": {"setting": "community", "mode": "make",
                    "costs": {"copd.review": 45, "copd.rehab": 300},
                    "fixed_cost": 30000, "setup_cost": 40000, "min_volume": 500,
                    "overhead": 0.1, "quality": {"default": 0.88},
                    "uses": {"copd.review": {"nurse": 1}, "copd.rehab": {"nurse": 2}}},
            "charity": {"setting": "third_sector", "mode": "buy",
                        "prices": {"copd.rehab": 380}, "quality": {"default": 0.86},
                        "current_share": {"copd.rehab": 1.0}},
        },
        "constraints": {"budget": [800_000, 760_000, 820_000], "carry_over": True,
                        "min_quality": {"default": 0.87}, "max_shift": 0.4},
    },
    pathway("copd", 20,
            step("review", 2, "hospital", "community", max_share={"community": 0.8}),
            step("rehab", {"min": 0.1, "max": 0.4}, "community", "third_sector",
                 avoids={"admission": 0.5}),
            step("admission", 0.3, "hospital"),
            growth=0.0),
)
# N = 1000 (north, g = 1.1: 1000, 1100, 1210), 400 (south). Whole activities in every
# year, so cp's rounding is small. No hand optimum: the backends and modes must agree.
# The budgets are tight enough that year 1 needs what year 0 carries.

CP_REL = 0.005


@functools.lru_cache(maxsize=None)
def rich(mode: str, backend: str):
    return solve(RICH, mode=mode, backend=backend, mip_gap=1e-6)


def test_rich_scenario_uses_every_multi_year_feature():
    """Sanity of the shared scenario: optimal, and the features it means to exercise act
    (a setup is paid, staff are expanded, some year spends more than its own budget)."""
    r = rich("milp", "highs")
    assert r.status == OPT
    assert r.summary["cost"]["setup"] > 0
    assert r.summary["cost"]["expansion"] > 0
    assert any(e["spend"] > e["budget"] for e in r.summary["by_year"])
    assert len(r.summary["by_year"]) == 3
    assert_plan_checks(r)


@pytest.mark.parametrize("backend", ["cbc", "glop"])
def test_every_lp_backend_agrees(backend):
    ref, r = rich("lp", "highs"), rich("lp", backend)
    assert ref.status == r.status == OPT
    assert close(r.objective, ref.objective, rel=1e-6)


def test_every_milp_backend_agrees():
    ref, r = rich("milp", "highs"), rich("milp", "cbc")
    assert ref.status == r.status == OPT
    assert close(r.objective, ref.objective, rel=1e-6)


def test_lp_is_a_relaxation_and_cp_agrees_with_milp():
    lp, milp, cp = rich("lp", "highs"), rich("milp", "highs"), rich("cp", "cpsat")
    assert lp.objective <= milp.objective * (1 + 1e-6)
    assert cp.status in (OPT, Status.FEASIBLE)
    assert abs(cp.objective - milp.objective) <= CP_REL * milp.objective


TWO_PLACES = scenario(
    {
        "horizon": {"start": START, "years": 3, "discount_rate": 0.1},
        "localities": {"north": {"population": 1000, "population_growth": 1.0},
                       "south": {"population": 1000, "population_growth": 0.5}},
        "providers": {
            "hosp": {"setting": "hospital", "mode": "buy",
                     "prices": {"copd.review": 100, "copd.clinic": 100}},
            "hub_old": {"setting": "primary_care", "mode": "make", "serves": ["south"],
                        "costs": {"copd.clinic": 80}, "setup_cost": 10000,
                        "current_share": {"copd.clinic": 1.0}},
            "hub_new": {"setting": "community", "mode": "make", "serves": ["north"],
                        "costs": {"copd.review": 50}, "fixed_cost": 7000, "setup_cost": 500},
        },
        "constraints": {"max_shift": 0.5},
    },
    pathway("copd", 100,
            step("review", 1, "hospital", "community"),
            step("clinic", 1, "hospital", "primary_care")),
)
# Two localities that share only the hospital (a buy provider without a block contract):
# the model splits into independent blocks; solving them apart (decompose: on, an
# extension of the SPEC) must give the same optimum as the whole model.


@pytest.mark.parametrize("mode", ["lp", "milp"])
def test_decomposed_multi_year_plan_has_the_same_optimum(mode):
    s = load(TWO_PLACES)
    whole = optimiser.solve(s, mode=mode, backend="highs", decompose="off")
    split = optimiser.solve(s, mode=mode, backend="highs", decompose="on")
    assert whole.status == split.status == OPT
    assert close(whole.objective, split.objective)
    assert split.summary["check"]["max_violation"] <= 1e-6
    assert by_year(split, "spend") == pytest.approx(by_year(whole, "spend"), abs=PENNY)


HAND_OPTIMA = {
    # case: (scenario, overrides, the optimum worked out by hand above)
    "setup": (SETUP, (), 110500),
    "close_today": (CLOSE_TODAY, (), 20000),
    "reopen": (REOPEN, ("providers.hub.setup_cost=500",), 26500),
    "setup_overhead": (SETUP_OVERHEAD, (), 13000),
    "running_bound": (RUNNING_BOUND, (), 23000),
    "persistence": (PERSIST, (), 136000),
    "min_volume": (MIN_VOLUME, (), 30000),
    "carry": (CARRY, (), 10000 + 15000 / 1.1 + 22500 / 1.1**2),
    "carry_tight": (CARRY_CHOICE, ("constraints.budget=[9500, 3900]",), 13000),
    "discount_0": (DISCOUNT, (), 28000),
    "discount_25": (DISCOUNT, ("horizon.discount_rate=0.25",), 25200),
    "discount_budget": (DISCOUNT, ("horizon.discount_rate=0.25",
                                   "constraints.budget=[20000, 15000]"), 25400),
    "held_growing": (HELD, (), 47000),
    "held_shrinking": (HELD_SHRINKING, (), 54000),
    "pace": (PACE, (), 29531.25),
    "growth": (GROWTH, (), sum(c / 1.1**t for t, c in enumerate(_growth_expected()[2]))),
}


@pytest.mark.parametrize("case", sorted(HAND_OPTIMA))
def test_cp_agrees_with_the_hand_optimum(case):
    """SPEC 3: cp (whole activities, pence) within 0.5 % of the milp optimum."""
    gen, overrides, objective = HAND_OPTIMA[case]
    r = solve(gen, *overrides, mode="cp", backend="cpsat")
    assert r.status == OPT
    assert abs(r.objective - objective) <= CP_REL * objective


# =========================================================================== 4. outputs


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("multiyear-out")
    r = rich("milp", "highs")
    r.write(out)
    return r, out


def test_tables_carry_calendar_years(written):
    r, out = written
    years = [2027, 2028, 2029]
    for name in ("allocation.csv", "constraints.csv", "resources.csv"):
        table = pd.read_csv(out / name)
        assert table.columns[0] == "year", name
        assert sorted(table["year"].unique()) == years, name
    alloc = pd.read_csv(out / "allocation.csv")
    # one block of arcs per year, the same arcs in each
    per_year = [alloc[alloc["year"] == y][["locality", "step", "provider"]].to_numpy().tolist()
                for y in years]
    assert per_year[0] == per_year[1] == per_year[2]
    # every year meets its own demand: review D = 2N g^t
    review = alloc[alloc["step"] == "review"].groupby(["year", "locality"])["volume"].sum()
    for t, y in enumerate(years):
        assert review[(y, "north")] == pytest.approx(2000 * 1.1**t, rel=1e-6)
        assert review[(y, "south")] == pytest.approx(800, rel=1e-6)


def test_summary_by_year_adds_up(written):
    r, out = written
    s = json.loads((out / "summary.json").read_text())
    rate = 0.035
    entries = s["by_year"]
    assert [e["year"] for e in entries] == [2027, 2028, 2029]
    for e in entries:
        assert {"year", "spend", "baseline", "savings", "budget", "carry"} <= set(e)
        assert e["savings"] == pytest.approx(e["baseline"] - e["spend"], abs=PENNY)
    assert [e["budget"] for e in entries] == [800_000, 760_000, 820_000]
    carry = 0.0
    for e in entries:  # c[t] = budget[t] + c[t-1] - spend[t], and spend within the budget
        assert e["spend"] <= e["budget"] + carry + PENNY
        carry = e["budget"] + carry - e["spend"]
        assert e["carry"] == pytest.approx(carry, abs=0.03)
    discounted = [e["spend"] / (1 + rate) ** t for t, e in enumerate(entries)]
    assert s["objective"] == pytest.approx(sum(discounted), abs=0.05)
    base = [e["baseline"] / (1 + rate) ** t for t, e in enumerate(entries)]
    assert s["baseline_cost"] == pytest.approx(sum(base), abs=0.05)
    assert s["savings"] == pytest.approx(s["baseline_cost"] - s["objective"], abs=PENNY)
    parts = s["cost"]
    assert set(parts) >= {"buy", "make", "fixed", "overhead", "expansion", "setup"}
    assert sum(parts.values()) == pytest.approx(s["objective"], abs=0.05)
    assert s["check"]["max_violation"] <= 1e-6


def test_baseline_by_year_is_todays_plan_at_that_years_demand(written):
    """by_year baselines, by hand from RICH: today every review and admission at hosp
    (first buy provider), rehab at its minimum 0.1 N at the charity (380); admissions
    0.3 N - 0.5 * 0.1 N = 0.25 N. Per patient: 2*100 + 0.1*380 + 0.25*2000 = 738; the
    hosp's payment (200 + 500 = 700 a patient) is above its block contract 300000 as soon
    as N >= 429 (always: N = 1400, 1500, 1610). Year t: 738 * (1000 * 1.1^t + 400)."""
    r, _ = written
    expected = [738 * (1000 * 1.1**t + 400) for t in range(3)]
    assert by_year(r, "baseline") == pytest.approx(expected, abs=PENNY)
    assert r.summary["baseline_cost"] == pytest.approx(
        sum(b / 1.035**t for t, b in enumerate(expected)), abs=0.05)
