"""Warm re-solves (optimiser.warm): each re-solve against a cold solve of the same scenario
loaded with the equivalent --set overrides (written here by hand, not by the module), the
derived model against the compiler's, and hand-computed cases from tests/scenarios."""

from __future__ import annotations

import numpy as np
import pytest

import optimiser
from optimiser import Changes, Status, warm_start
from optimiser.compile import compile_model
from optimiser.errors import ConfigError
from optimiser.numerics import NumericsError

from conftest import EXAMPLE, ROOT, TINY

SCEN = ROOT / "tests" / "scenarios"
REL = 1e-6


def num(v: float) -> str:
    return repr(float(v))


def set_strings(sc, ch: Changes) -> list[str]:
    """The --set overrides meaning the same as ``ch`` (independent of optimiser.warm)."""
    out = []
    if ch.budget is not optimiser.warm.BASE:
        out.append("constraints.budget=" + ("" if ch.budget is None else num(ch.budget)))
    out += [f"resources.{r}.capacity={num(v)}" for r, v in ch.capacity.items()]
    for (p, a), v in ch.prices.items():
        word = "prices" if sc.config.providers[p].mode == "buy" else "costs"
        out.append(f"providers.{p}.{word}.{a}={num(v)}")
    pop = {loc: float(spec.population) for loc, spec in sc.config.localities.items()}
    pop.update({k: float(v) for k, v in ch.population.items()})
    default = {p.pathway: float(p.prevalence_per_1000) for p in sc.pathways}
    prev = {loc: {pw: float(spec.prevalence_per_1000.get(pw, default[pw])) for pw in default}
            for loc, spec in sc.config.localities.items()}
    touched = {loc for loc, _ in ch.prevalence}
    for (loc, pw), v in ch.prevalence.items():
        prev[loc][pw] = float(v)
    scale = ch.demand_scale
    if isinstance(scale, dict):
        for loc in prev:
            for pw, f in scale.items():
                prev[loc][pw] *= f
        touched |= set(prev)
    elif scale != 1.0:
        pop = {loc: v * scale for loc, v in pop.items()}
    if ch.population or (not isinstance(scale, dict) and scale != 1.0):
        out += [f"localities.{loc}.population={num(v)}" for loc, v in pop.items()]
    for loc in sorted(touched):
        out.append(f"localities.{loc}.prevalence_per_1000={{"
                   + ", ".join(f"{pw}: {num(v)}" for pw, v in prev[loc].items()) + "}")
    return out


def cold(path, sc, ch: Changes, mode: str):
    return optimiser.solve(optimiser.load(path, overrides=set_strings(sc, ch)), mode=mode,
                           diagnose_infeasible=False)


def assert_same_objective(warm, ref, label=""):
    assert warm.status == ref.status, (label, warm.status, ref.status)
    if ref.status.has_solution:
        assert warm.objective == pytest.approx(ref.objective, rel=REL, abs=1e-6), label


def assert_same_model(a, b):
    """Same rows, columns, coefficients, bounds and costs (to 1e-12 relative)."""
    assert (a.num_rows, a.num_cols) == (b.num_rows, b.num_cols)
    assert a.row_meta.equals(b.row_meta) and a.col_meta.equals(b.col_meta)
    assert np.array_equal(a.col_integer, b.col_integer)
    for x, y in ((a.obj, b.obj), (a.col_lb, b.col_lb), (a.col_ub, b.col_ub), (a.row_lb, b.row_lb),
                 (a.row_ub, b.row_ub), (a.implied_ub, b.implied_ub)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-9)
    A, B = a.A.tocsr(), b.A.tocsr()
    A.sort_indices()
    B.sort_indices()
    assert np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices)
    np.testing.assert_allclose(A.data, B.data, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- hand-computed

def test_capacity_scenario_by_hand():
    """tests/scenarios/capacity: N = 100 reviews; hub 40 using 2 nurse hours, hosp 100;
    120 hours -> 60 at the hub (6400). Each case is worked out in its comment."""
    path = SCEN / "capacity" / "config.yaml"
    s = warm_start(optimiser.load(path), mode="lp")
    cases = [
        ({}, 6400.0),                                        # 60*40 + 40*100
        ({"capacity": {"nurse": 150}}, 5500.0),              # 75*40 + 25*100
        ({"capacity": {"nurse": 0}}, 10000.0),               # all hosp
        ({"prices": {("hub", "care.review"): 90}}, 9400.0),  # 60*90 + 40*100
        ({"prices": {("hosp", "care.review"): 30}}, 3000.0),  # hosp cheaper than the hub
        ({"population": {"north": 2000}}, 16400.0),          # N=200: 60*40 + 140*100
        ({"demand_scale": 0.5}, 2000.0),                     # N=50, 100 h: all at the hub
        ({"budget": 6399}, None),                            # below the optimum: infeasible
        ({"budget": 6400}, 6400.0),                          # a budget row the base lacks
        ({"budget": None}, 6400.0),
    ]
    for kw, expected in cases + cases[::-1]:
        got = s.solve(**kw)
        if expected is None:
            assert got.status is Status.INFEASIBLE, kw
            assert got.objective is None and got.values is None
        else:
            assert got.status is Status.OPTIMAL, kw
            assert got.objective == pytest.approx(expected, rel=1e-9), kw


def test_capacity_duals_and_result_by_hand():
    """LP duals of tests/scenarios/capacity (non-degenerate): capacity -30, flow +100; with
    150 hours the same basis holds. Results built on demand carry them and the changed
    limit."""
    path = SCEN / "capacity" / "config.yaml"
    s = warm_start(optimiser.load(path), mode="lp")
    s.solve()
    sol = s.solve(capacity={"nurse": 150})
    rows = sol.model.row_meta["name"].tolist()
    assert sol.duals[rows.index("capacity[nurse]")] == pytest.approx(-30)
    assert sol.duals[rows.index("flow[north,care,review]")] == pytest.approx(100)
    res = sol.result()
    cons = res.constraints.set_index("name")
    assert cons.loc["capacity[nurse]", "limit"] == 150
    assert cons.loc["capacity[nurse]", "shadow_price"] == pytest.approx(-30)
    assert res.objective == pytest.approx(5500)
    assert res.summary["check"]["max_violation"] < 1e-9
    assert res.resources.set_index("resource").loc["nurse", "capacity"] == 150
    assert res.summary["solver"]["start"] == "warm"
    assert any(o == "resources.nurse.capacity=150" for o in res.summary["overrides"])
    alloc = res.allocation.set_index("provider")
    assert alloc.loc["hub", "volume"] == pytest.approx(75)
    assert alloc.loc["hosp", "volume"] == pytest.approx(25)
    # ranging is known while this is the session's latest solve
    assert np.isfinite(cons.loc["capacity[nurse]", "valid_to"])


def test_milp_expansion_by_hand():
    """tests/scenarios/expansion: milp k=2 (6000), lp k=1.6 (5600). With 220 hours the hub
    needs no expansion: 100 reviews at 40 = 4000 in both modes."""
    path = SCEN / "expansion" / "config.yaml"
    sc = optimiser.load(path)
    m = warm_start(sc, mode="milp")
    lp = warm_start(sc, mode="lp")
    assert m.solve().objective == pytest.approx(6000)
    assert lp.solve().objective == pytest.approx(5600)
    assert m.solve(capacity={"nurse": 220}).objective == pytest.approx(4000)
    assert lp.solve(capacity={"nurse": 220}).objective == pytest.approx(4000)
    assert m.solve().objective == pytest.approx(6000)


def test_milp_duals_with_integers_fixed_by_hand():
    """tests/scenarios/min_volume_up (milp 7300): duals of the LP with o fixed at 1:
    min_volume +10, flow b 100, flow a 30; with hub care.b at 105 the same plan costs
    7150 and min_volume's dual is 5, flow a 35."""
    path = SCEN / "min_volume_up" / "config.yaml"
    s = warm_start(optimiser.load(path), mode="milp")
    cases = ((110, 7300, 10, 30), (105, 7150, 5, 35), (110, 7300, 10, 30))
    for price, objective, mv, flow_a in cases:
        sol = s.solve(prices={("hub", "care.b"): price})
        assert sol.objective == pytest.approx(objective)
        rows = sol.model.row_meta["name"].tolist()
        d = sol.duals
        assert d[rows.index("min_volume[hub]")] == pytest.approx(mv)
        assert d[rows.index("flow[north,care,b]")] == pytest.approx(100)
        assert d[rows.index("flow[north,care,a]")] == pytest.approx(flow_a)
        cons = sol.result().constraints.set_index("name")
        assert cons.loc["min_volume[hub]", "shadow_price"] == pytest.approx(mv)


def test_pure_buy_and_budget_infeasible_then_feasible():
    """tests/scenarios/budget_slack: cheapest plan 100 gp reviews at 80 = 8000."""
    path = SCEN / "budget_slack" / "config.yaml"
    s = warm_start(optimiser.load(path), mode="lp")
    assert s.solve().objective == pytest.approx(8000)
    assert s.solve(budget=7999).status is Status.INFEASIBLE
    # feasible again when the gp is cheaper, with the same budget
    assert s.solve(budget=7999, prices={("gp", "care.review"): 70}).objective == pytest.approx(7000)
    assert s.solve(budget=7999).status is Status.INFEASIBLE
    assert s.solve(budget=8000).objective == pytest.approx(8000)
    assert s.solve(budget=None).objective == pytest.approx(8000)
    assert s.solve(population={"north": 500}, budget=4000).objective == pytest.approx(4000)
    inf = s.solve(population={"north": 500}, budget=3999)
    assert inf.status is Status.INFEASIBLE
    res = inf.result(diagnose_infeasible=True)
    assert res.status is Status.INFEASIBLE and res.diagnosis is not None
    assert any(r["kind"] == "budget" for r in res.diagnosis["relaxation"])


# --------------------------------------------------------------------------- against cold solves

def tiny_changes(rng: np.random.Generator) -> list[Changes]:
    """A spread of single and combined changes of tests/data/tiny."""
    singles = [
        Changes(budget=4_500_000), Changes(budget=1_000_000), Changes(budget=None),
        Changes(budget=2_200_000),
        Changes(capacity={"nurse": 400}), Changes(capacity={"nurse": 0}),
        Changes(capacity={"nurse": 5000}),
        Changes(prices={("hosp", "copd.admission"): 3500}),
        Changes(prices={("hosp", "copd.review"): 40}),
        Changes(prices={("hub", "copd.rehab"): 0}),                 # a coefficient vanishes
        Changes(prices={("hub", "copd.review"): 95}),
        Changes(population={"north": 150_000}), Changes(population={"south": 0}),
        Changes(prevalence={("north", "copd"): 30}), Changes(prevalence={("south", "copd"): 12.5}),
        Changes(demand_scale=1.3), Changes(demand_scale={"copd": 0.7}),
        Changes(),
    ]
    combos = []
    for _ in range(8):
        kw = {}
        if rng.random() < 0.5:
            kw["budget"] = [None, 1.5e6, 2.5e6, 4e6][int(rng.integers(4))]
        if rng.random() < 0.5:
            kw["capacity"] = {"nurse": float(rng.integers(0, 3000))}
        if rng.random() < 0.5:
            kw["prices"] = {("hosp", "copd.admission"): float(rng.uniform(1000, 5000)),
                            ("hub", "copd.rehab"): float(rng.uniform(0, 600))}
        if rng.random() < 0.5:
            kw["population"] = {"north": float(rng.integers(0, 200_000))}
        if rng.random() < 0.3:
            kw["prevalence"] = {("south", "copd"): float(rng.uniform(0, 40))}
        if rng.random() < 0.3:
            kw["demand_scale"] = float(rng.uniform(0.5, 1.5))
        combos.append(Changes(**kw))
    out = singles + combos
    rng.shuffle(out)
    return out


@pytest.mark.parametrize("mode", ["lp", "milp"])
def test_tiny_sequence_matches_cold_solves(mode):
    rng = np.random.default_rng(7 if mode == "lp" else 8)
    sc = optimiser.load(TINY)
    s = warm_start(sc, mode=mode)
    seen = {}
    changes = tiny_changes(rng)
    for ch in changes + changes[:6]:          # some twice, after other changes (order-free)
        got = s.solve(ch)
        ref = cold(TINY, sc, ch, mode)
        assert_same_objective(got, ref, ch)
        if got.status.has_solution:
            key = repr(ch)
            if key in seen:
                assert got.objective == pytest.approx(seen[key], rel=1e-9)
            seen[key] = got.objective
            assert got.values is not None and len(got.values) == got.model.num_cols


def test_tiny_sequence_matches_cold_results():
    """The full result built on demand agrees with the cold one: objective, cost parts,
    baseline, every constraint's limit, and the independent check passes."""
    rng = np.random.default_rng(3)
    sc = optimiser.load(TINY)
    s = warm_start(sc, mode="lp")
    for ch in tiny_changes(rng)[:10]:
        got = s.solve(ch)
        ref = cold(TINY, sc, ch, "lp")
        res = got.result()
        assert res.status == ref.status
        assert res.summary["baseline_cost"] == ref.summary["baseline_cost"]
        if not ref.status.has_solution:
            continue
        assert res.summary["objective"] == pytest.approx(ref.summary["objective"], rel=REL)
        assert res.summary["check"]["max_violation"] < 1e-6
        assert res.summary["model"] == ref.summary["model"]
        assert list(res.constraints["name"]) == list(ref.constraints["name"])
        np.testing.assert_allclose(res.constraints["limit"], ref.constraints["limit"], rtol=1e-12)
        keys = ["locality", "provider"]
        assert res.allocation[keys].equals(ref.allocation[keys])
        for col in ("unit_cost", "baseline_volume"):
            np.testing.assert_allclose(res.allocation[col], ref.allocation[col], rtol=1e-12)


def test_derived_model_is_the_compilers():
    """For each change, the session's model equals compile_model of the scenario loaded
    with the equivalent --set overrides (no solver involved)."""
    rng = np.random.default_rng(11)
    for path in (TINY, EXAMPLE, SCEN / "capacity" / "config.yaml"):
        sc = optimiser.load(path)
        s = warm_start(sc, mode="lp")
        assert s._targeted and s._demand_ok
        if path == TINY:
            changes = tiny_changes(rng)
        else:
            changes = [Changes(), Changes(budget=None), Changes(budget=12345.0),
                       Changes(demand_scale=1.2)]
        for ch in changes:
            ref = optimiser.load(path, overrides=set_strings(sc, ch))
            assert_same_model(s.model(ch), compile_model(ref.instance))


def example_changes(rng: np.random.Generator) -> list[Changes]:
    acts = [("northshire_acute", "copd.emergency_admission"),
            ("northshire_acute", "msk.physiotherapy"),
            ("north_hub", "copd.pulmonary_rehab"),
            ("south_east_hub", "heart_failure.nurse_follow_up"),
            ("gp_federation", "copd.annual_review"),
            ("wellbeing_alliance", "falls_frailty.strength_balance")]
    out = []
    for i in range(12):
        kw = {}
        if i % 3 == 0:
            kw["budget"] = float(rng.uniform(3.6e7, 4.2e7))
        if i % 2 == 0:
            kw["capacity"] = {"hub_nurse_hours": float(rng.uniform(0, 20_000)),
                              "podiatry_hours": float(rng.uniform(0, 800))}
        if i % 3 == 1:
            two = rng.choice(len(acts), 2, replace=False)
            kw["prices"] = {acts[j]: float(rng.uniform(20, 4000)) for j in two}
        if i % 4 == 1:
            kw["population"] = {"north": float(rng.uniform(50_000, 150_000))}
        if i % 4 == 2:
            kw["prevalence"] = {("east", "copd"): float(rng.uniform(10, 40))}
        if i % 5 == 3:
            kw["demand_scale"] = {"heart_failure": float(rng.uniform(0.8, 1.2)), "msk": 1.1}
        out.append(Changes(**kw))
    return out


@pytest.mark.parametrize("mode", ["lp", "milp"])
def test_example_sequence_matches_cold_solves(mode):
    rng = np.random.default_rng(21)
    sc = optimiser.load(EXAMPLE)
    s = warm_start(sc, mode=mode, time_limit=60)
    statuses = set()
    for ch in example_changes(rng):
        got = s.solve(ch)
        ref = cold(EXAMPLE, sc, ch, mode)
        if mode == "milp":   # both within the gap of the true optimum
            assert got.status == ref.status
            if ref.status.has_solution:
                assert got.objective == pytest.approx(ref.objective, rel=2e-6)
        else:
            assert_same_objective(got, ref, ch)
        statuses.add(got.status)
    assert Status.OPTIMAL in statuses


def test_recompiling_path_matches_too():
    """When the index maps are not trusted the session recompiles each changed instance."""
    rng = np.random.default_rng(5)
    sc = optimiser.load(TINY)
    s = warm_start(sc, mode="lp")
    s._targeted = False
    for ch in tiny_changes(rng)[:12]:
        assert_same_objective(s.solve(ch), cold(TINY, sc, ch, "lp"), ch)


def test_strategies_and_fallback():
    sc = optimiser.load(EXAMPLE)
    s = warm_start(sc, mode="lp", strategy="warm")
    base = s.solve()
    assert base.method == "cold"               # nothing to start from yet
    ch = Changes(demand_scale=1.1, capacity={"hub_nurse_hours": 5000})
    warm = s.solve(ch)
    assert warm.method == "warm"
    again = s.solve(ch, strategy="cold")
    assert again.method == "cold" and again.objective == pytest.approx(warm.objective, rel=1e-9)
    s.max_warm_iterations = 1
    back = s.solve(strategy="auto")            # needs more than one pivot back to the base
    assert back.method.startswith("cold after")
    assert back.objective == pytest.approx(base.objective, rel=1e-9)


def test_other_backend_solves_cold():
    pytest.importorskip("pulp")
    sc = optimiser.load(SCEN / "capacity" / "config.yaml")
    s = warm_start(sc, mode="lp", backend="cbc")
    got = s.solve(capacity={"nurse": 150})
    assert got.method == "cold (backend)" and got.objective == pytest.approx(5500)
    cons = got.result().constraints.set_index("name")
    assert cons.loc["capacity[nurse]", "shadow_price"] == pytest.approx(-30)


# --------------------------------------------------------------------------- refusals

def test_invalid_changes_are_config_errors():
    s = warm_start(optimiser.load(TINY), mode="lp")
    bad = [
        (dict(capacity={"nurze": 10}), "resources.nurze.capacity", "did you mean 'nurse'"),
        (dict(capacity={"nurse": -1}), "resources.nurse.capacity", ">= 0"),
        (dict(capacity={"nurse": float("nan")}), "resources.nurse.capacity", ">= 0"),
        (dict(prices={("hosp", "copd.rehab"): 10}), "providers.hosp.prices.copd.rehab", "no price"),
        (dict(prices={("hub", "copd.admission"): 10}), "providers.hub.costs.copd.admission",
         "no cost"),
        (dict(prices={("hsop", "copd.review"): 10}), "providers.hsop", "did you mean 'hosp'"),
        (dict(prices={"hosp": 10}), "prices.hosp", "(provider, activity)"),
        (dict(population={"west": 10}), "localities.west.population", "unknown locality"),
        (dict(population={"north": "many"}), "localities.north.population", "str"),
        (dict(prevalence={("north", "asthma"): 3}), "localities.north.prevalence_per_1000.asthma",
         "unknown pathway"),
        (dict(demand_scale=-0.1), "demand_scale", ">= 0"),
        (dict(demand_scale={"cpod": 2}), "demand_scale.cpod", "did you mean 'copd'"),
        (dict(budget=float("inf")), "constraints.budget", ">= 0"),
        (dict(budget=True), "constraints.budget", "bool"),
    ]
    for kw, path, text in bad:
        with pytest.raises(ConfigError) as err:
            s.solve(**kw)
        msg = str(err.value)
        assert path in msg and text in msg, (kw, msg)
    assert s.solve().status is Status.OPTIMAL      # a refused change leaves the session intact
    with pytest.raises(TypeError):
        s.solve(Changes(budget=1), budget=2)
    with pytest.raises(ValueError, match="lp and milp"):
        warm_start(optimiser.load(TINY), mode="cp")
    with pytest.raises(ValueError, match="strategy"):
        s.solve(strategy="lukewarm")


def test_numerically_awkward_change_is_refused_like_a_cold_solve():
    sc = optimiser.load(TINY)
    s = warm_start(sc, mode="lp")
    ch = Changes(prices={("hub", "copd.review"): 1e-7})
    with pytest.raises(NumericsError):
        cold(TINY, sc, ch, "lp")
    with pytest.raises(NumericsError):
        s.solve(ch)
    assert s.solve().objective == pytest.approx(optimiser.solve(sc, mode="lp").objective, rel=REL)


def test_demand_where_nobody_can_deliver_is_refused(tmp_path):
    """A locality with no population may lack arcs; giving it people then is a config
    error, as loading would say."""
    cfg = (SCEN / "pure_buy" / "config.yaml").read_text()
    cfg = cfg.replace("south: {population: 500}", "south: {population: 0}").replace(
        "pharmacy: {setting: primary_care, mode: buy, prices:",
        "pharmacy: {setting: primary_care, mode: buy, serves: [north], prices:").replace(
        "hosp: {setting: hospital, mode: buy, prices:",
        "hosp: {setting: hospital, mode: buy, serves: [north], prices:")
    (tmp_path / "configs").mkdir()
    (tmp_path / "pathways").mkdir()
    review = (SCEN / "pathways" / "review.yaml").read_text()
    (tmp_path / "pathways" / "review.yaml").write_text(review)
    path = tmp_path / "configs" / "c.yaml"
    path.write_text(cfg)
    sc = optimiser.load(path)
    s = warm_start(sc, mode="lp")
    assert s.solve().objective == pytest.approx(8000)
    with pytest.raises(ConfigError, match="no provider can deliver care.review in south"):
        s.solve(population={"south": 100})
    with pytest.raises(ConfigError):
        optimiser.load(path, overrides=["localities.south.population=100"])


def test_overrides_are_the_set_strings():
    sc = optimiser.load(TINY)
    s = warm_start(sc, mode="lp")
    ch = Changes(budget=None, capacity={"nurse": 10}, prices={("hub", "copd.review"): 60.5},
                 population={"south": 1000}, prevalence={("south", "copd"): 11})
    assert s.overrides(ch) == [
        "constraints.budget=", "resources.nurse.capacity=10",
        "providers.hub.costs.copd.review=60.5",
        "localities.south.population=1000", "localities.south.prevalence_per_1000={copd: 11}"]
    assert optimiser.load(TINY, overrides=s.overrides(ch)).instance.budget is None


def test_expanded_overrides_load_the_same_tables():
    sc = optimiser.load(TINY)
    s = warm_start(sc, mode="lp")
    for ch in (Changes(demand_scale=1.25, population={"north": 90_000}),
               Changes(demand_scale={"copd": 0.8}, prevalence={("north", "copd"): 30})):
        inst = optimiser.load(TINY, overrides=s.overrides(ch, expand=True)).instance
        mine = s.instance(ch)
        for col in ("patients", "fixed", "ymin", "ymax", "dmax", "d0"):
            np.testing.assert_allclose(mine.demand[col], inst.demand[col], rtol=1e-15)
        np.testing.assert_allclose(mine.arcs["x0"], inst.arcs["x0"], rtol=1e-15)


def test_time_limit_is_per_call():
    """HiGHS's time limit counts the object's whole run time; each call gets its own."""
    sc = optimiser.load(EXAMPLE)
    s = warm_start(sc, mode="lp", time_limit=5)
    for i in range(3):
        assert s.solve(demand_scale=1 + 0.01 * i).method == ("cold" if i == 0 else "warm")
        h = s._highs.h
        left = h.getOptionValue("time_limit")[1] - h.getRunTime()
        assert 4 < left <= 5
    assert s.solve(time_limit=1e9).status is Status.OPTIMAL


@pytest.mark.parametrize("budget", [None, 50_000_000.0])
def test_a_warm_budget_change_reaches_the_check(budget):
    """A removed or raised budget is the one the independent check uses: with north at
    300,000 people the plan costs more than the loaded budget of £5m, which must not be
    held against it; the check agrees with the cold solve of the same scenario."""
    sc = optimiser.load(TINY)
    assert sc.instance.budget == 5_000_000
    s = warm_start(sc, mode="lp")
    ch = Changes(budget=budget, population={"north": 300_000})
    res = s.solve(ch).result()
    ref = cold(TINY, sc, ch, "lp")
    assert res.status == ref.status == Status.OPTIMAL and res.objective > 5_000_000
    assert res.summary["check"]["max_violation"] == ref.summary["check"]["max_violation"] == 0

