"""Redesign variants (SPEC section 11): hand-solved scenarios on every mode and backend,
and the config errors a variant can make.

Every expected optimum is worked out by hand in the comment beside it; none was copied from
the engine's output. Every case is solved in each mode on every registered backend that
solves it (``lp``: highs, cbc, glop; ``milp``: highs, cbc; ``cp``: cpsat). ``lp`` and
``milp`` must hit the hand optimum to relative 1e-6; ``cp`` must be within 0.5 % of it
(SPEC section 3). All volumes in these cases are whole numbers, so ``cp`` finds the same
plan and its structural outputs (designs, volumes) are checked too.

Notation: ``N`` patients, ``A`` adoption cost, ``z`` the design choice. The base scenario:
pathway ``resp`` with prevalence 10 per 1000, so a locality of 10,000 people has N = 100;
today's design buys one hospital review per patient at 100 (hosp); the ``integrated``
design has 0.5 community reviews per patient made at 40 by ``hub`` with overhead 0.25, i.e.
50 each including overhead. Adoption is outside the overhead.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from section11 import CP_REL, PENNY, REL, RUN_IDS, RUNS, Scen, solve, write

import optimiser
from optimiser import Status

from conftest import run_cli

@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("variants")


def assert_objective(r: optimiser.Result, mode: str, expected: float) -> None:
    assert r.status == Status.OPTIMAL, r.summary.get("status")
    rel = CP_REL if mode == "cp" else REL
    assert math.isclose(r.objective, expected, rel_tol=rel, abs_tol=PENNY), (r.objective, expected)
    if mode != "cp":  # cp's flow balances hold within half an activity
        assert r.summary["check"]["max_violation"] <= 1e-6, r.summary["check"]


def money(got: float, expected: float) -> None:
    assert math.isclose(got, expected, rel_tol=REL, abs_tol=PENNY), (got, expected)


def vol(r: optimiser.Result, locality: str, step: str, variant: str, provider: str,
        year: int | None = None) -> float:
    a = r.allocation
    m = ((a["locality"] == locality) & (a["step"] == step) & (a["variant"] == variant)
         & (a["provider"] == provider))
    if year is not None:
        m &= a["year"] == year
    assert m.any(), (locality, step, variant, provider, year)
    return float(a.loc[m, "volume"].sum())


def col(r: optimiser.Result, column: str, locality: str, step: str, variant: str,
        provider: str) -> float:
    a = r.allocation
    m = ((a["locality"] == locality) & (a["step"] == step) & (a["variant"] == variant)
         & (a["provider"] == provider))
    assert m.sum() == 1, (locality, step, variant, provider)
    return float(a.loc[m, column].iloc[0])


def close(got: float, expected: float, mode: str) -> None:
    # cp: whole activities, flow within half an activity (and the slack may move an uptake)
    tol = max(1.0, 0.005 * abs(expected)) if mode == "cp" else 1e-6 * max(1.0, abs(expected))
    assert abs(got - expected) <= tol, (got, expected)


# --------------------------------------------------------------------------- scenarios


def resp_pathway(adoption_cost: float, today_settings: str = "[hospital]") -> str:
    return f"""\
pathway: resp
prevalence_per_1000: 10
steps:
  - {{step: review, per_patient: 1.0, settings: {today_settings}}}
variants:
  integrated:
    name: Integrated respiratory service
    replace:
      - {{step: review, per_patient: 0.5, settings: [community]}}
    adoption_cost: {adoption_cost}
"""


PROVIDERS = """\
providers:
  hosp: {setting: hospital, mode: buy, prices: {resp.review: 100}}
  hub: {setting: community, mode: make, costs: {resp.review: 40}, overhead: 0.25}
"""


def one_locality(adoption_cost: float, extra: str = "", overrides: tuple = (),
                 today_settings: str = "[hospital]") -> Scen:
    cfg = ("scenario: adoption\npathways: [../pathways/resp.yaml]\nlocalities:\n"
           "  north: {population: 10000}\n" + PROVIDERS + extra)
    return Scen(cfg, (("resp.yaml", resp_pathway(adoption_cost, today_settings)),), overrides)


# --------------------------------------------------------------------------- adoption


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
def test_adoption_worth_its_cost(root, mode, backend):
    r = solve(root, one_locality(3000), mode, backend)
    # today: 100 reviews bought at 100 = 10,000 (baseline, current everywhere).
    # integrated: 0.5 * 100 = 50 reviews made at 40 -> make 2,000, overhead 0.25 * 2,000 = 500,
    # plus adoption 3,000 (outside overhead) = 5,500 < 10,000: adopted. savings 4,500.
    assert_objective(r, mode, 5500)
    s = r.summary
    money(s["baseline_cost"], 10000)
    if mode != "cp":
        money(s["savings"], 4500)
    assert s["designs"] == {"north/resp": "integrated"}
    for part, value in {"buy": 0, "make": 2000, "overhead": 500, "adoption": 3000,
                        "fixed": 0, "expansion": 0, "units": 0, "resources": 0}.items():
        money(s["cost"][part], value)
    assert math.isclose(sum(s["cost"].values()), r.objective, rel_tol=1e-9, abs_tol=0.05)
    # allocation: today's review row (hosp) carries nothing now and 100 at baseline; the
    # integrated review row (hub) carries 50 and nothing at baseline.
    a = r.allocation
    assert list(a.columns[:4]) == ["locality", "pathway", "step", "variant"]
    assert set(a["variant"]) == {"current", "integrated"}
    close(vol(r, "north", "review", "current", "hosp"), 0, mode)
    close(vol(r, "north", "review", "integrated", "hub"), 50, mode)
    assert col(r, "baseline_volume", "north", "review", "current", "hosp") == 100
    assert col(r, "baseline_volume", "north", "review", "integrated", "hub") == 0
    # hub has no arc for today's review (setting), hosp none for the integrated one
    assert not ((a["variant"] == "current") & (a["provider"] == "hub")).any()
    assert not ((a["variant"] == "integrated") & (a["provider"] == "hosp")).any()
    (ad,) = s["adoptions"]
    assert (ad["locality"], ad["pathway"], ad["variant"]) == ("north", "resp", "integrated")
    money(ad["adoption_cost"], 3000)


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
@pytest.mark.parametrize("cost,adopted", [(7400, True), (7600, False)])
def test_adoption_threshold(root, mode, backend, cost, adopted):
    r = solve(root, one_locality(cost), mode, backend)
    # Adopting costs 2,500 + A against 10,000 today: worth it exactly when A < 7,500.
    # A = 7,400: 9,900 (adopted); A = 7,600: 10,100 > 10,000, so today's design stays: 10,000.
    expected = 2500 + cost if adopted else 10000
    assert_objective(r, mode, expected)
    money(r.summary["baseline_cost"], 10000)
    design = "integrated" if adopted else "current"
    assert r.summary["designs"] == {"north/resp": design}
    money(r.summary["cost"]["adoption"], cost if adopted else 0)
    close(vol(r, "north", "review", "current", "hosp"), 0 if adopted else 100, mode)
    close(vol(r, "north", "review", "integrated", "hub"), 50 if adopted else 0, mode)
    assert len(r.summary["adoptions"]) == (1 if adopted else 0)
    if not adopted and mode != "cp":
        money(r.summary["savings"], 0)


# --------------------------------------------------------------------------- max_redesigns


def two_localities(k: int | None) -> Scen:
    cfg = ("scenario: two\npathways: [../pathways/resp.yaml]\nlocalities:\n"
           "  north: {population: 10000}\n  south: {population: 20000}\n" + PROVIDERS
           + "constraints: {max_redesigns: 1}\n")
    over = () if k is None else (f"constraints.max_redesigns={k}",)
    return Scen(cfg, (("resp.yaml", resp_pathway(3000)),), over)


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
def test_max_redesigns_binding(root, mode, backend):
    r = solve(root, two_localities(None), mode, backend)
    # north N = 100: today 10,000; integrated 50 * 50 + 3,000 = 5,500 -> saves 4,500.
    # south N = 200: today 20,000; integrated 100 * 50 + 3,000 = 8,000 -> saves 12,000.
    # K = 1: only one may adopt; south saves more. Total 10,000 + 8,000 = 18,000.
    # (lp too: the redesign row sum z <= 1 is best spent on south, 12,000 per unit of z.)
    # baseline: 300 reviews at 100 = 30,000 (current everywhere); savings 12,000.
    assert_objective(r, mode, 18000)
    money(r.summary["baseline_cost"], 30000)
    assert r.summary["designs"] == {"north/resp": "current", "south/resp": "integrated"}
    money(r.summary["cost"]["adoption"], 3000)
    close(vol(r, "north", "review", "current", "hosp"), 100, mode)
    close(vol(r, "south", "review", "integrated", "hub"), 100, mode)
    close(vol(r, "south", "review", "current", "hosp"), 0, mode)
    if mode != "cp":
        (row,) = r.constraints[r.constraints["kind"] == "max_redesigns"].itertuples()
        assert row.limit == 1 and bool(row.binding)


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
@pytest.mark.parametrize("k,expected,designs", [
    # K = 2: both adopt: 5,500 + 8,000 = 13,500.
    (2, 13500, ("integrated", "integrated")),
    # K = 0: nobody may leave today's design: 30,000 = the baseline.
    (0, 30000, ("current", "current")),
])
def test_max_redesigns_other_limits(root, mode, backend, k, expected, designs):
    r = solve(root, two_localities(k), mode, backend)
    assert_objective(r, mode, expected)
    money(r.summary["baseline_cost"], 30000)
    assert r.summary["designs"] == {"north/resp": designs[0], "south/resp": designs[1]}


# --------------------------------------------------------------------------- variant-only step
# These two cases have avoids, so they use N = 2,000 (population 200,000): cp's flow balance
# holds within half an activity, and at N = 100 that slack alone is worth about 1 % of the
# cost (one rehab fewer leaves 0.5 admissions unpaid), more than SPEC's 0.5 % cp tolerance.


def rehab_variant(adoption_cost: float) -> Scen:
    pw = f"""\
pathway: resp
prevalence_per_1000: 10
steps:
  - {{step: review, per_patient: 1.0, settings: [hospital]}}
  - {{step: admission, per_patient: 0.2, settings: [hospital]}}
variants:
  rehab:
    add:
      - {{step: virtual_rehab, per_patient: {{min: 0.1, max: 0.3}}, settings: [community], avoids: {{admission: 0.5}}}}
    adoption_cost: {adoption_cost}
"""
    cfg = """\
scenario: variant only intervention
pathways: [../pathways/resp.yaml]
localities:
  north: {population: 200000}
providers:
  hosp: {setting: hospital, mode: buy, prices: {resp.review: 100, resp.admission: 2000}}
  hub: {setting: community, mode: make, costs: {resp.virtual_rehab: 300}}
"""
    return Scen(cfg, (("resp.yaml", pw),))


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
@pytest.mark.parametrize("cost", [100000, 500000])
def test_intervention_only_in_a_variant(root, mode, backend, cost):
    r = solve(root, rehab_variant(cost), mode, backend)
    # N = 2,000. Today: 2,000 reviews * 100 + 400 admissions * 2,000 = 1,000,000 (also the
    # baseline: the rehab step does not exist today, so it has no minimum uptake there).
    # 'rehab' design: each rehab (300) avoids 0.5 admissions (1,000): -700 each, so uptake at
    # its max 0.3 * 2,000 = 600 -> 180,000; admissions 400 - 300 = 100 -> 200,000; reviews
    # 200,000: 580,000 + A, adopted when A < 420,000. A = 100,000: 680,000. A = 500,000:
    # 1,080,000 > 1,000,000: today's design stays, and the rehab's uptake is 0 -- not its
    # minimum 200 -- since its design is not chosen.
    adopted = cost < 420000
    assert_objective(r, mode, 580000 + cost if adopted else 1000000)
    money(r.summary["baseline_cost"], 1000000)
    assert r.summary["designs"] == {"north/resp": "rehab" if adopted else "current"}
    close(vol(r, "north", "virtual_rehab", "rehab", "hub"), 600 if adopted else 0, mode)
    close(vol(r, "north", "admission", "rehab", "hosp"), 100 if adopted else 0, mode)
    close(vol(r, "north", "admission", "current", "hosp"), 0 if adopted else 400, mode)
    close(vol(r, "north", "review", "rehab", "hosp"), 2000 if adopted else 0, mode)
    close(vol(r, "north", "review", "current", "hosp"), 0 if adopted else 2000, mode)
    assert col(r, "baseline_volume", "north", "virtual_rehab", "rehab", "hub") == 0
    assert col(r, "baseline_volume", "north", "admission", "current", "hosp") == 400


# --------------------------------------------------------------------------- avoids


def avoids_by_design(adoption_cost: float) -> Scen:
    pw = f"""\
pathway: resp
prevalence_per_1000: 10
steps:
  - {{step: rehab, per_patient: {{min: 0.1, max: 0.3}}, settings: [community], avoids: {{admission: 0.2}}}}
  - {{step: admission, per_patient: 0.2, settings: [hospital]}}
variants:
  enhanced:
    replace:
      - {{step: rehab, avoids: {{admission: 0.5}}}}
    adoption_cost: {adoption_cost}
"""
    cfg = """\
scenario: avoids within a design
pathways: [../pathways/resp.yaml]
localities:
  north: {population: 200000}
providers:
  hosp: {setting: hospital, mode: buy, prices: {resp.admission: 2000}}
  hub: {setting: community, mode: make, costs: {resp.rehab: 300}}
"""
    return Scen(cfg, (("resp.yaml", pw),))


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
@pytest.mark.parametrize("cost", [200000, 380000])
def test_avoids_act_within_their_design(root, mode, backend, cost):
    r = solve(root, avoids_by_design(cost), mode, backend)
    # N = 2,000, rehab uptake in [200, 600], admissions 400 - effect * rehab.
    # baseline (today, min uptake 200): 60,000 + (400 - 40) * 2,000 = 780,000.
    # today's design (effect 0.2): 300 - 400 = -100 per rehab -> 600: 180,000 + 280 * 2,000
    # = 740,000.
    # enhanced (effect 0.5; the replace keeps per_patient and settings): -700 per rehab ->
    # 600: 180,000 + 100 * 2,000 = 380,000 + A. Adopt when A < 360,000.
    # A = 200,000: 580,000 (enhanced); A = 380,000: 760,000 > 740,000, today's design.
    adopted = cost < 360000
    expected = 380000 + cost if adopted else 740000
    assert_objective(r, mode, expected)
    money(r.summary["baseline_cost"], 780000)
    if mode != "cp":
        money(r.summary["savings"], 780000 - expected)
    mine, other = ("enhanced", "current") if adopted else ("current", "enhanced")
    assert r.summary["designs"] == {"north/resp": mine}
    close(vol(r, "north", "rehab", mine, "hub"), 600, mode)
    close(vol(r, "north", "admission", mine, "hosp"), 100 if adopted else 280, mode)
    close(vol(r, "north", "rehab", other, "hub"), 0, mode)
    close(vol(r, "north", "admission", other, "hosp"), 0, mode)


# --------------------------------------------------------------------------- pace of change


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
@pytest.mark.parametrize("cost,max_shift,expected,design", [
    # max_shift 0.1: today's design keeps >= 90 % of its 100 reviews at hosp: 90 * 100 +
    # 10 * 50 = 9,500. integrated: 50 * 50 + 3,000 = 5,500 < 9,500: adopted, and the pace
    # (today's arcs, demand times z_current = 0) does not stop it.
    (3000, 0.1, 5500, "integrated"),
    # A = 8,000: integrated 10,500 > 9,500: today's design with the pace binding, 9,500.
    (8000, 0.1, 9500, "current"),
    # max_shift 1 (no pace): today's design all at hub 100 * 50 = 5,000 < 5,500.
    (3000, 1.0, 5000, "current"),
])
def test_pace_does_not_block_a_new_design(root, mode, backend, cost, max_shift, expected, design):
    scen = one_locality(cost, extra=f"constraints: {{max_shift: {max_shift}}}\n",
                        today_settings="[hospital, community]")
    r = solve(root, scen, mode, backend)
    assert_objective(r, mode, expected)
    money(r.summary["baseline_cost"], 10000)  # 100 reviews at hosp (first buy provider)
    assert r.summary["designs"] == {"north/resp": design}
    if design == "current":
        hosp = 90 if max_shift < 1 else 0
        close(vol(r, "north", "review", "current", "hosp"), hosp, mode)
        close(vol(r, "north", "review", "current", "hub"), 100 - hosp, mode)
    else:
        close(vol(r, "north", "review", "current", "hosp"), 0, mode)
        close(vol(r, "north", "review", "integrated", "hub"), 50, mode)


# --------------------------------------------------------------------------- baseline


@pytest.mark.parametrize("mode,backend", [RUNS[0]], ids=[RUN_IDS[0]])
def test_baseline_is_current_everywhere(root, mode, backend):
    r = solve(root, two_localities(2), mode, backend)
    # every locality adopts, yet the baseline is today's design: 300 reviews at hosp,
    # 30,000; no adoption, no hub volume; every row of a variant has baseline volume 0.
    money(r.summary["baseline_cost"], 30000)
    bp = r.summary["baseline_parts"]
    money(bp["buy"], 30000)
    for part in ("make", "overhead", "adoption", "units", "resources"):
        money(bp[part], 0)
    a = r.allocation
    assert (a.loc[a["variant"] != "current", "baseline_volume"] == 0).all()
    today = a[a["variant"] == "current"].groupby("locality")["baseline_volume"].sum()
    assert today.to_dict() == {"north": 100, "south": 200}


# --------------------------------------------------------------------------- lp: fractional z


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
@pytest.mark.parametrize("capacity", [30, 20])
def test_lp_design_may_be_fractional(root, mode, backend, capacity):
    extra = ("resources:\n  nurse: {capacity: 30}\n"
             "constraints: {}\n")
    scen = one_locality(3000, extra=extra, overrides=(f"resources.nurse.capacity={capacity}",))
    scen = Scen(scen.config.replace("overhead: 0.25}", "overhead: 0.25, uses: {resp.review: {nurse: 1}}}"),
                scen.pathways, scen.overrides)
    r = solve(root, scen, mode, backend)
    # integrated needs 50 hub reviews, 1 nurse hour each; only C hours exist (C = 30 or 20).
    # milp/cp: z in {0, 1}: integrated is impossible, today's design: 10,000.
    # lp: the hub can carry 50 * z <= C, so z = C / 50 (0.6 or 0.4); each unit of z saves
    # 10,000 - 2,500 - 3,000 = 4,500: objective 10,000 - 4,500 * z = 7,300 (C = 30) or
    # 8,200 (C = 20); adoption 3,000 * z = 1,800 or 1,200. designs: the larger z --
    # integrated (0.6 > 0.4) for C = 30, current (0.6 > 0.4) for C = 20.
    money(r.summary["baseline_cost"], 10000)
    if mode == "lp":
        z = capacity / 50
        assert_objective(r, mode, 10000 - 4500 * z)
        money(r.summary["cost"]["adoption"], 3000 * z)
        close(vol(r, "north", "review", "integrated", "hub"), 50 * z, mode)
        close(vol(r, "north", "review", "current", "hosp"), 100 * (1 - z), mode)
        assert r.summary["designs"] == {"north/resp": "integrated" if z > 0.5 else "current"}
    else:
        assert_objective(r, mode, 10000)
        assert r.summary["designs"] == {"north/resp": "current"}
        money(r.summary["cost"]["adoption"], 0)


# --------------------------------------------------------------------------- multi-year


def three_years() -> Scen:
    extra = ("horizon: {start: 2030, years: 3}\n"
             "constraints: {budget: [10000, 12000, 12000]}\n")
    return one_locality(9000, extra=extra)


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
def test_multi_year_adoption_paid_once_in_its_year(root, mode, backend):
    r = solve(root, three_years(), mode, backend)
    # Each year: today's design 10,000; integrated 2,500 a year, plus A = 9,000 once.
    # adopt in 2030: spend 11,500 > budget 10,000: not allowed.
    # adopt in 2031: 10,000 + 11,500 (<= 12,000) + 2,500 = 24,000.
    # adopt in 2032: 10,000 + 10,000 + 11,500 = 31,500 > never (30,000).
    # So adopt in 2031 and keep it: 24,000. Baseline 30,000 (discount rate 0), savings 6,000.
    # lp: year-0 spend 10,000 + 1,500 z0 <= 10,000 forces z0 = 0; the same plan.
    assert_objective(r, mode, 24000)
    s = r.summary
    money(s["baseline_cost"], 30000)
    money(s["cost"]["adoption"], 9000)
    spend = [y["spend"] for y in s["by_year"]]
    for got, want in zip(spend, [10000, 11500, 2500]):
        money(got, want)
    assert [y["year"] for y in s["by_year"]] == [2030, 2031, 2032]
    assert s["designs"] == {"north/resp": "integrated"}
    (ad,) = s["adoptions"]
    assert ad["variant"] == "integrated" and ad.get("year") == 2031
    money(ad["adoption_cost"], 9000)
    for year, hosp, hub in [(2030, 100, 0), (2031, 0, 50), (2032, 0, 50)]:
        close(vol(r, "north", "review", "current", "hosp", year), hosp, mode)
        close(vol(r, "north", "review", "integrated", "hub", year), hub, mode)


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
def test_multi_year_pace_does_not_block_a_later_adoption(root, mode, backend):
    scen = three_years()
    scen = Scen(scen.config.replace("constraints: {budget: [10000, 12000, 12000]}",
                                    "constraints: {budget: [10000, 12000, 12000], max_shift: 0.1}"),
                scen.pathways)
    r = solve(root, scen, mode, backend)
    # As above, with max_shift 0.1: year 2030 keeps today's design, its hosp volume 100 >= 90;
    # in 2031 the design changes, and today's arcs (demand times z_current = 0) are not held
    # at 90 % of 2030's volume. Same plan: 24,000.
    assert_objective(r, mode, 24000)
    assert r.summary["designs"] == {"north/resp": "integrated"}
    close(vol(r, "north", "review", "current", "hosp", 2031), 0, mode)
    close(vol(r, "north", "review", "integrated", "hub", 2031), 50, mode)


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
def test_multi_year_design_once_adopted_is_kept(root, mode, backend):
    extra = ("horizon: {start: 2030, years: 3}\n"
             "resources:\n  nurse: {capacity: 60}\n")
    scen = one_locality(3000, extra=extra)
    scen = Scen(scen.config.replace("overhead: 0.25}", "overhead: 0.25, uses: {resp.review: {nurse: 1}}}")
                .replace("north: {population: 10000}", "north: {population: 10000, population_growth: 0.5}"),
                scen.pathways)
    r = solve(root, scen, mode, backend)
    # N = 100, 150, 225 (growth 0.5). The hub has 60 nurse hours, one per review.
    # integrated needs 50, 75, 112.5 hub reviews: only 2030 fits. Adopting in 2030 and going
    # back in 2031 would save 10,000 - 2,500 - 3,000 = 4,500, but a design once adopted is
    # kept, so no year can adopt: today's design throughout, 100 * (100 + 150 + 225) = 47,500
    # (= the baseline).
    # lp: z0 <= z1 <= z2 and 112.5 * z2 <= 60, so z = 8/15 in every year; each year saves
    # 75 * N_t * z_t (7,500, 11,250, 16,875 per unit of z) and adoption costs 3,000 * z2
    # once: 47,500 - 8/15 * (35,625 - 3,000) = 47,500 - 17,400 = 30,100.
    money(r.summary["baseline_cost"], 47500)
    if mode == "lp":
        assert_objective(r, mode, 30100)
        money(r.summary["cost"]["adoption"], 1600)  # 3,000 * 8/15, paid in 2030
        money(r.summary["by_year"][0]["spend"] - 10000 + 7500 * 8 / 15, 1600)
        for year, n in [(2030, 100), (2031, 150), (2032, 225)]:
            close(vol(r, "north", "review", "integrated", "hub", year), n / 2 * 8 / 15, mode)
    else:
        assert_objective(r, mode, 47500)
        assert r.summary["designs"] == {"north/resp": "current"}
        assert r.summary["adoptions"] == []
        for year, n in [(2030, 100), (2031, 150), (2032, 225)]:
            close(vol(r, "north", "review", "current", "hosp", year), n, mode)


@pytest.mark.parametrize("mode,backend", RUNS, ids=RUN_IDS)
def test_running_bound_sums_over_every_design(root, mode, backend):
    scen = one_locality(100000, today_settings="[hospital, community]")
    scen = Scen(scen.config.replace("overhead: 0.25}", "overhead: 0.25, fixed_cost: 1000}"),
                scen.pathways)
    r = solve(root, scen, mode, backend)
    # Adoption at 100,000 never pays. Today's design: all 100 reviews at hub, 40 * 1.25 = 50
    # each, plus fixed 1,000 * 1.25 = 1,250 when it runs: 6,250 < 10,000 (milp, cp).
    # lp: o >= x / M with M[hub] summed over the arcs of every design: today's review (100)
    # and the integrated review (0.5 * 100 = 50): M = 150, o = 100/150, fixed part
    # 1,250 * 2/3 = 833.33: 5,833.33 (5,000 + 833.33). (M = 100 would give 6,250.)
    assert_objective(r, mode, 5000 + 1250 * 100 / 150 if mode == "lp" else 6250)
    assert r.summary["designs"] == {"north/resp": "current"}
    close(vol(r, "north", "review", "current", "hub"), 100, mode)


# --------------------------------------------------------------------------- outputs


def test_written_outputs_carry_the_design(root, tmp_path):
    r = solve(root, one_locality(3000), "milp", "highs")
    r.write(tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["designs"] == {"north/resp": "integrated"}
    money(summary["cost"]["adoption"], 3000)
    header = (tmp_path / "out" / "allocation.csv").read_text().splitlines()[0].split(",")
    assert "variant" in header
    rows = (tmp_path / "out" / "allocation.csv").read_text().splitlines()[1:]
    assert any(",integrated," in line for line in rows)
    assert any(",current," in line for line in rows)


# --------------------------------------------------------------------------- config errors


BASE_CONFIG = """\
scenario: errors
pathways: [../pathways/resp.yaml]
localities:
  north: {population: 10000}
providers:
  hosp: {setting: hospital, mode: buy, prices: {resp.review: 100, resp.admission: 2000}}
  hub: {setting: community, mode: make, costs: {resp.review: 40}}
"""

TODAY = """\
pathway: resp
prevalence_per_1000: 10
steps:
  - {step: review, per_patient: 1.0, settings: [hospital]}
  - {step: admission, per_patient: 0.2, settings: [hospital]}
variants:
"""


def column(text: str, line: int, token: str, nth: int = 1) -> int:
    """1-based column of the nth ``token`` on 1-based ``line`` of ``text``."""
    s = text.splitlines()[line - 1]
    i = -1
    for _ in range(nth):
        i = s.index(token, i + 1)
    return i + 1


def validate(tmp_path: Path, monkeypatch, capsys, config: str, pathway: str):
    (tmp_path / "configs").mkdir()
    (tmp_path / "pathways").mkdir()
    (tmp_path / "configs" / "c.yaml").write_text(config)
    (tmp_path / "pathways" / "resp.yaml").write_text(pathway)
    from optimiser.cli import main

    monkeypatch.chdir(tmp_path)
    code = main(["validate", "configs/c.yaml"])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.err.splitlines()


def one_line(lines: list[str]) -> str:
    problems = [s for s in lines if not s.endswith("found; nothing was solved.")]
    assert len(problems) == 1, lines
    assert lines[-1] == "1 problem found; nothing was solved.", lines
    return problems[0]


def test_variant_named_current(tmp_path, monkeypatch, capsys):
    pw = TODAY + "  current:\n    adoption_cost: 1000\n"
    code, lines = validate(tmp_path, monkeypatch, capsys, BASE_CONFIG, pw)
    assert code == 2
    line = one_line(lines)
    assert line.startswith(f"pathways/resp.yaml:7:{column(pw, 7, 'current')}: variants.current: "), line
    assert "current" in line.split(": ", 2)[2]


def test_replace_unknown_step_suggests(tmp_path, monkeypatch, capsys):
    pw = TODAY + "  v:\n    replace:\n      - {step: reveiw, per_patient: 0.5}\n"
    code, lines = validate(tmp_path, monkeypatch, capsys, BASE_CONFIG, pw)
    assert code == 2
    line = one_line(lines)
    assert line.startswith(f"pathways/resp.yaml:9:{column(pw, 9, 'reveiw')}: "
                           "variants.v.replace[0].step: "), line
    assert "reveiw" in line and "did you mean 'review'?" in line


def test_remove_unknown_step_suggests(tmp_path, monkeypatch, capsys):
    pw = TODAY + "  v:\n    remove: [admision]\n"
    code, lines = validate(tmp_path, monkeypatch, capsys, BASE_CONFIG, pw)
    assert code == 2
    line = one_line(lines)
    assert line.startswith(f"pathways/resp.yaml:8:{column(pw, 8, 'admision')}: "
                           "variants.v.remove[0]: "), line
    assert "admision" in line and "did you mean 'admission'?" in line


def test_add_clashes_with_an_existing_step(tmp_path, monkeypatch, capsys):
    pw = TODAY + "  v:\n    add:\n      - {step: admission, per_patient: 0.1, settings: [hospital]}\n"
    code, lines = validate(tmp_path, monkeypatch, capsys, BASE_CONFIG, pw)
    assert code == 2
    line = one_line(lines)
    assert line.startswith(f"pathways/resp.yaml:9:{column(pw, 9, 'admission')}: "
                           "variants.v.add[0].step: "), line
    assert "admission" in line.split(": ", 2)[2]


def test_add_of_a_removed_step_is_fine(tmp_path, monkeypatch, capsys):
    # remove + add of the same id is a legitimate redesign of the step (not a clash)
    pw = (TODAY + "  v:\n    remove: [admission]\n    add:\n"
          "      - {step: admission, per_patient: 0.1, settings: [hospital]}\n")
    code, lines = validate(tmp_path, monkeypatch, capsys, BASE_CONFIG, pw)
    assert code == 0, lines


def test_avoids_across_designs(tmp_path, monkeypatch, capsys):
    # design 'a' adds a rehab avoiding 'virtual', a step only design 'b' has
    pw = (TODAY + "  a:\n    add:\n"
          "      - {step: rehab, per_patient: {min: 0.1, max: 0.3}, settings: [hospital], "
          "avoids: {virtual: 0.5}}\n"
          "  b:\n    add:\n      - {step: virtual, per_patient: 0.5, settings: [community]}\n")
    cfg = BASE_CONFIG.replace("resp.admission: 2000}", "resp.admission: 2000, resp.rehab: 300}"
                              ).replace("resp.review: 40}", "resp.review: 40, resp.virtual: 20}")
    code, lines = validate(tmp_path, monkeypatch, capsys, cfg, pw)
    assert code == 2
    line = one_line(lines)
    assert line.startswith(f"pathways/resp.yaml:9:{column(pw, 9, 'virtual')}: "
                           "variants.a.add[0].avoids.virtual: "), line
    assert "'virtual'" in line


def test_avoids_of_a_removed_step(tmp_path, monkeypatch, capsys):
    # today's rehab avoids admission; design 'v' removes admission but keeps rehab's avoids:
    # the avoids would cross designs. Located at the removal.
    pw = ("pathway: resp\nprevalence_per_1000: 10\nsteps:\n"
          "  - {step: rehab, per_patient: {min: 0.1, max: 0.3}, settings: [hospital], "
          "avoids: {admission: 0.5}}\n"
          "  - {step: admission, per_patient: 0.2, settings: [hospital]}\n"
          "variants:\n  v:\n    remove: [admission]\n")
    cfg = BASE_CONFIG.replace("resp.review: 100, ", "resp.rehab: 300, ").replace(
        "  hub: {setting: community, mode: make, costs: {resp.review: 40}}\n", "")
    code, lines = validate(tmp_path, monkeypatch, capsys, cfg, pw)
    assert code == 2
    line = one_line(lines)
    assert line.startswith(f"pathways/resp.yaml:8:{column(pw, 8, 'admission')}: "
                           "variants.v.remove[0]: "), line


def test_design_step_with_demand_and_no_arc(tmp_path, monkeypatch, capsys):
    # design 'v' moves review to primary care; nobody has that setting
    pw = TODAY + "  v:\n    replace:\n      - {step: review, settings: [primary_care]}\n"
    code, lines = validate(tmp_path, monkeypatch, capsys, BASE_CONFIG, pw)
    assert code == 2
    line = one_line(lines)
    assert line.startswith(f"pathways/resp.yaml:9:{column(pw, 9, '[primary_care]')}: "
                           "variants.v.replace[0].settings: "), line
    assert "resp.review" in line and "north" in line


def test_added_step_with_demand_and_no_arc(tmp_path, monkeypatch, capsys):
    pw = TODAY + "  v:\n    add:\n      - {step: visit, per_patient: 0.5, settings: [home]}\n"
    cfg = BASE_CONFIG.replace("resp.review: 40}", "resp.review: 40, resp.visit: 30}")
    code, lines = validate(tmp_path, monkeypatch, capsys, cfg, pw)
    assert code == 2
    line = one_line(lines)
    assert line.startswith(f"pathways/resp.yaml:9:{column(pw, 9, '[home]')}: "
                           "variants.v.add[0].settings: "), line
    assert "resp.visit" in line


def test_units_on_a_buy_provider(tmp_path, monkeypatch, capsys):
    cfg = BASE_CONFIG.replace(
        "  hosp: {setting: hospital, mode: buy, prices: {resp.review: 100, resp.admission: 2000}}\n",
        "  hosp:\n    setting: hospital\n    mode: buy\n"
        "    prices: {resp.review: 100, resp.admission: 2000}\n"
        "    units: {resp.review: {size: 10, cost: 5}}\n")
    code, lines = validate(tmp_path, monkeypatch, capsys, cfg, TODAY.replace("variants:\n", ""))
    assert code == 2
    line = one_line(lines)
    assert line.startswith("configs/c.yaml:10:5: providers.hosp.units: "), line
    assert "buy" in line


def test_units_on_an_activity_without_costs(tmp_path, monkeypatch, capsys):
    cfg = BASE_CONFIG + ("  clinic:\n    setting: community\n    mode: make\n"
                         "    units:\n      resp.review: {size: 10, cost: 5}\n")
    code, lines = validate(tmp_path, monkeypatch, capsys, cfg, TODAY.replace("variants:\n", ""))
    assert code == 2
    line = one_line(lines)
    assert line.startswith("configs/c.yaml:12:7: providers.clinic.units.resp.review: "), line
    assert "costs" in line


def test_validate_exits_2_in_a_fresh_process(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "pathways").mkdir()
    (tmp_path / "configs" / "c.yaml").write_text(BASE_CONFIG)
    pw = TODAY + "  v:\n    remove: [admision]\n"
    (tmp_path / "pathways" / "resp.yaml").write_text(pw)
    p = run_cli("validate", "configs/c.yaml", cwd=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert (f"pathways/resp.yaml:8:{column(pw, 8, 'admision')}: variants.v.remove[0]: "
            in p.stderr), p.stderr


# --------------------------------------------------------------------------- infeasible


def test_explain_names_max_redesigns_in_the_conflict(root, monkeypatch, capsys):
    scen = one_locality(3000, extra="constraints:\n  budget: 8000\n  max_redesigns: 0\n")
    cfg = write(root, scen)
    # Today's design costs 10,000 > budget 8,000; the integrated design would cost 5,500 but
    # max_redesigns 0 forbids it. Conflict: {budget, max_redesigns}. The least relaxation:
    # the budget by 2,000 (10,000 - 8,000).
    lines = scen.config.splitlines()
    budget_line = next(i for i, s in enumerate(lines, 1) if "budget:" in s)
    k_line = next(i for i, s in enumerate(lines, 1) if "max_redesigns:" in s)
    from optimiser.cli import main

    monkeypatch.chdir(cfg.parent.parent)
    code = main(["explain", "configs/c.yaml"])
    out = capsys.readouterr()
    assert code == 3, out.out + out.err
    assert "Traceback" not in out.out + out.err
    assert f"configs/c.yaml:{budget_line}:" in out.out and f"configs/c.yaml:{k_line}:" in out.out

    code = main(["solve", "configs/c.yaml", "--out", "run"])
    capsys.readouterr()
    assert code == 3
    d = json.loads((cfg.parent.parent / "run" / "diagnosis.json").read_text())
    assert {f["constraint"] for f in d["conflict"]} == {"budget", "max_redesigns"}
    (rel,) = d["relaxation"]
    assert rel["constraint"] == "budget" and math.isclose(rel["relax_by"], 2000, rel_tol=1e-6)


def test_every_variant_problem_in_one_pass(tmp_path, monkeypatch, capsys):
    # SPEC 4: every problem in a file is reported in one pass. Variant 'a' removes an
    # unknown step; variant 'b' adds a step whose max_share names a setting it does not
    # have. Both must be reported together.
    pw = (TODAY + "  a:\n    remove: [reviw]\n  b:\n    add:\n"
          "      - {step: visit, per_patient: 0.5, settings: [hospital], "
          "max_share: {community: 0.5}}\n")
    cfg = BASE_CONFIG.replace("resp.admission: 2000}", "resp.admission: 2000, resp.visit: 10}")
    code, lines = validate(tmp_path, monkeypatch, capsys, cfg, pw)
    assert code == 2
    assert lines[-1] == "2 problems found; nothing was solved.", lines
    assert any(s.startswith(f"pathways/resp.yaml:8:{column(pw, 8, 'reviw')}: "
                            "variants.a.remove[0]: ") for s in lines), lines
    assert any(s.startswith(f"pathways/resp.yaml:11:{column(pw, 11, '{community')}: "
                            "variants.b.add[0].max_share: ") for s in lines), lines
