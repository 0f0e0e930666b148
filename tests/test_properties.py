"""Property tests on random valid scenarios (GitHub issue 3, items 3 and 4).

Scenarios come from :mod:`strategies` (every feature of SPEC section 3, tiny and on
coarse number grids); the ``ci`` Hypothesis profile is derandomized, so every run checks
the same examples. Each property states its example count in ``settings(max_examples=...)``:

=========================================  ========
property                                   examples
=========================================  ========
every backend of a mode, same optimum        100
independent check and recomputed total       100
lp <= milp <= today's cost (when feasible)   100
relaxing a constraint never costs more       100
money times k, optimum times k                60
verdicts agree across backends and modes     100
=========================================  ========
total                                        560

Known engine bugs (see ``BUGS``) are recognised by a precise signature, counted, and
kept out of the way of the rest of each property; each has a strict-xfail test below that
replays a minimal reproduction and asserts the correct behaviour, so fixing the bug turns
that test into an unexpected pass (and it must then be removed, with the signature).

``CAREPATH_REPORT=1`` prints, at the end of the module, the largest disagreement seen per
pair of backends and how often each known bug was met.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

import optimiser
from optimiser import Status
from optimiser.backends import REGISTRY, SolveOptions, get_backend
from optimiser.compile import compile_model
from optimiser.model import LinearModel
from optimiser.results import costs

from strategies import (GenScenario, fit_to_baseline, load, reference_baseline, relaxations,
                        scale_money, scenarios)

# --------------------------------------------------------------------------- tolerances

LP_REL = 1e-6
"""SPEC section 3: every lp backend gives the same optimum to relative 1e-6."""
MIP_GAP = 1e-6
"""SPEC's default mip_gap, passed to every milp/cp solve."""
FEAS_ABS = 1e-6
"""Slack for solver feasibility tolerances (about 1e-7 on rows whose coefficients reach
1e5 here): 1e-6 * max(1, |objective|) on top of any relative tolerance."""
CP_REL = 0.005
"""SPEC section 3: the cp optimum agrees with milp within 0.5 %."""
CHECK_MAX = 1e-6
"""``summary.check.max_violation`` (relative to each limit) for lp and milp plans."""
CSV_REL = 2e-9
"""CSV numbers carry 10 significant digits: each within 5e-10 relative of the truth."""
SUMMARY_ABS = 0.02
"""summary.json rounds money to pennies: three parts (fixed, overhead, setup) within 0.005 each."""
TIME_LIMIT = 120.0
"""A safety net only: these models solve in milliseconds."""

MODES = ("lp", "milp", "cp")
BACKENDS = {m: [n for n, i in REGISTRY.items() if m in i.modes] for m in MODES}
OPTS = SolveOptions(time_limit=TIME_LIMIT, mip_gap=MIP_GAP)


def scale(*values: float) -> float:
    return max([1.0, *(abs(v) for v in values)])


def lp_tol(*values: float) -> float:
    # relative 1e-6 (SPEC) plus the solvers' own feasibility slack
    return (LP_REL + FEAS_ABS) * scale(*values)


def milp_tol(*values: float) -> float:
    # Each backend stops once its incumbent is within mip_gap of its bound, so both answers
    # lie in [opt, opt + gap*|incumbent|]: they differ by at most gap*max(|a|, |b|), plus
    # feasibility slack.
    return (MIP_GAP + FEAS_ABS) * scale(*values)


# --------------------------------------------------------------------------- bookkeeping

DISAGREEMENT: dict[str, float] = defaultdict(float)
"""'mode a-b' -> largest relative difference of the optimal objectives seen."""
SEEN: Counter = Counter()
"""Known-bug signatures and other notable outcomes met, by name."""

BUGS = {
    "BUG-1 cbc-infeasible-optimal": (
        "cbc backend (milp): CBC's preprocessing/postsolve ('Postprocessed model is infeasible "
        "- possible tolerance issue') returns a plan violating flow/running/quality rows and "
        "the backend reports it as OPTIMAL, with an objective below the true optimum"),
    "BUG-2 cp-pace-rounding": (
        "cp mode: pace rows ask whole volumes >= a fractional (1-max_shift)*share0*D with no "
        "half-activity slack, so milp-feasible scenarios (e.g. max_shift 0 with a 50/50 split "
        "of an odd demand) are cp-infeasible"),
    "BUG-3 cp-uptake-rounding": (
        "cp mode: an optional step's minimum uptake N*min is rounded up to a whole activity, so "
        "its avoided demand can exceed the fixed step's demand: the demand floor D >= 0 makes "
        "a milp-feasible scenario cp-infeasible"),
    "BUG-4 cp-pay-bound": (
        "cp mode: a block-contract payment's implied upper bound max(block, sum price*dmax) + 0.5 "
        "ignores that whole-activity volumes may exceed a step's demand by up to half an "
        "activity, so the payment row makes a milp-feasible scenario cp-infeasible"),
}


def note(pair: str, a: float, b: float) -> float:
    d = abs(a - b) / scale(a, b)
    DISAGREEMENT[pair] = max(DISAGREEMENT[pair], d)
    return d


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    if os.environ.get("CAREPATH_REPORT") != "1":
        return
    lines = ["", "carepath property report: largest relative objective difference per pair"]
    lines += [f"  {pair:<22} {d:.3e}" for pair, d in sorted(DISAGREEMENT.items())]
    lines += ["outcomes and known-bug signatures met:"]
    lines += [f"  {name:<52} {n}" for name, n in sorted(SEEN.items())]
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        for line in lines:
            tr.write_line(line)


# --------------------------------------------------------------------------- solving


_BACKEND_CACHE: dict = {}


def backend(name: str):
    if name not in _BACKEND_CACHE:
        _BACKEND_CACHE[name] = get_backend(name)
    return _BACKEND_CACHE[name]


def compiled(gen: GenScenario, overrides=()) -> LinearModel:
    return compile_model(load(gen, overrides).instance)


def solve(model: LinearModel, mode: str, name: str):
    return backend(name).solve(model.relaxed() if mode == "lp" else model, OPTS)


def violation(model: LinearModel, values: np.ndarray, integral: bool) -> float:
    """Largest violation of the model's rows and bounds by ``values``, relative to the
    size of each limit (as the engine's own check measures it)."""
    act = model.A @ values
    parts = [np.zeros(1)]
    for lim, amount in ((model.row_lb, model.row_lb - act), (model.row_ub, act - model.row_ub),
                        (model.col_lb, model.col_lb - values), (model.col_ub, values - model.col_ub)):
        ok = np.isfinite(lim)
        parts.append(amount[ok] / np.maximum(1.0, np.abs(lim[ok])))
    if integral:
        ints = model.col_integer
        parts.append(np.abs(values[ints] - np.round(values[ints])))
    return float(np.max(np.concatenate(parts)))


def cbc_bug(model: LinearModel, mode: str, name: str, out) -> bool:
    """BUG-1's signature: cbc says OPTIMAL for a milp and its plan breaks the model."""
    if name == "cbc" and mode == "milp" and out.status.has_solution \
            and violation(model, out.values, integral=True) > CHECK_MAX:
        SEEN["BUG-1 cbc-infeasible-optimal"] += 1
        return True
    return False


def cp_patched(model: LinearModel, bugs: tuple[str, ...]) -> LinearModel:
    """The model as cp mode would see it with the named cp bugs fixed (a what-if)."""
    kinds = model.row_meta["kind"].to_numpy()
    cols = model.col_meta["kind"].to_numpy()
    row_lb, col_lb = model.row_lb.copy(), model.col_lb.copy()
    implied = model.implied_ub.copy()
    if "BUG-2 cp-pace-rounding" in bugs:
        row_lb[kinds == "pace"] -= 0.5  # the half activity flow balance already has
    if "BUG-3 cp-uptake-rounding" in bugs:
        col_lb[cols == "y"] -= 0.5  # minimum uptake to the nearest whole activity, not up
    if "BUG-4 cp-pay-bound" in bugs:
        implied[cols == "pay"] = 2 * implied[cols == "pay"] + 1e6
    return dataclasses.replace(model, row_lb=row_lb, col_lb=col_lb, implied_ub=implied)


CP_BUGS = ("BUG-2 cp-pace-rounding", "BUG-3 cp-uptake-rounding", "BUG-4 cp-pay-bound")


def explain_cp_infeasible(model: LinearModel, milp_objective: float, budget: float | None) -> str | None:
    """Why cp says infeasible where milp found a plan, if it is understood.

    * ``cp-borderline-budget``: milp's optimum is within 0.5 % of the budget, so whole
      activities may honestly not fit (SPEC only promises agreement within 0.5 %);
    * a known cp bug (or a set of them): fixing exactly that in the model (see
      :func:`cp_patched`) restores a cp optimum within 0.5 % of milp.

    None means unexplained: the caller fails.
    """
    if budget is not None and milp_objective >= budget / (1 + CP_REL):
        SEEN["cp-borderline-budget"] += 1
        return "cp-borderline-budget"
    cp = backend("cpsat")
    for bugs in [(b,) for b in CP_BUGS] + [CP_BUGS]:
        out = cp.solve(cp_patched(model, bugs), OPTS)
        if out.status.has_solution and abs(out.objective - milp_objective) <= CP_REL * scale(milp_objective):
            for b in bugs:
                SEEN[b] += 1
            return " + ".join(bugs)
    return None


# --------------------------------------------------------------------------- 1. backends


def solve_everywhere(gen: GenScenario) -> tuple[LinearModel, dict]:
    """The scenario's model and every backend's answer in every mode, ``(mode, backend) ->
    SolverOutput``; a cbc plan with BUG-1's signature is left out."""
    model = compiled(gen)
    outs = {}
    for mode in MODES:
        for name in BACKENDS[mode]:
            out = solve(model, mode, name)
            assert out.status in (Status.OPTIMAL, Status.INFEASIBLE), (mode, name, out.status, out.message)
            if cbc_bug(model, mode, name, out):
                continue  # BUG-1: its plan is not a plan; nothing else to compare
            outs[(mode, name)] = out
    return model, outs


def assert_backends_agree(gen: GenScenario, model: LinearModel, outs: dict) -> None:
    """Same verdict within each mode, same optimum within its tolerance; lp <= milp; cp
    within 0.5 % of milp or both infeasible (unless explained, see explain_cp_infeasible)."""
    for mode, tol in (("lp", lp_tol), ("milp", milp_tol)):
        got = {n: o for (m, n), o in outs.items() if m == mode}
        statuses = {n: o.status for n, o in got.items()}
        assert len(set(statuses.values())) == 1, (mode, statuses)
        names = sorted(got)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if got[a].status is Status.OPTIMAL:
                    oa, ob = got[a].objective, got[b].objective
                    note(f"{mode} {a}-{b}", oa, ob)
                    assert abs(oa - ob) <= tol(oa, ob), (mode, a, oa, b, ob)

    lp, milp, cp = outs[("lp", "highs")], outs[("milp", "highs")], outs[("cp", "cpsat")]
    SEEN[f"verdict lp/milp/cp: {lp.status.value}/{milp.status.value}/{cp.status.value}"] += 1
    # the relaxation: never dearer, and infeasible only if the milp is
    if lp.status is Status.INFEASIBLE:
        assert milp.status is Status.INFEASIBLE
    elif milp.status is Status.OPTIMAL:
        assert lp.objective <= milp.objective + lp_tol(milp.objective)

    if milp.status is Status.OPTIMAL and cp.status is Status.OPTIMAL:
        assert note("cp/milp cpsat-highs", cp.objective, milp.objective) <= CP_REL, (cp.objective, milp.objective)
    elif milp.status is Status.OPTIMAL:
        budget = gen.config.get("constraints", {}).get("budget")
        assert explain_cp_infeasible(model, milp.objective, budget), "cp infeasible, milp optimal"
    else:
        assert cp.status is Status.INFEASIBLE, ("cp found a plan where milp has none", cp.objective)


@settings(max_examples=100)
@given(scenarios())
def test_every_backend_of_a_mode_reaches_the_same_optimum(gen):
    # mostly feasible scenarios: the optimum itself is compared
    assert_backends_agree(gen, *solve_everywhere(gen))


# --------------------------------------------------------------------------- 2. check


def _recomputed_total(gen: GenScenario, folder: Path, mode: str) -> tuple[float, dict]:
    """Total cost rebuilt from the files a solve writes (SPEC section 3's Cost).

    allocation.csv's ``cost`` is the volume's own cost (docs/reference.md): ``price * volume``
    (buy) or ``(1 + overhead) * cost * volume`` (make). On top come, per buy provider, the
    block-contract top-up ``max(0, block - its allocation cost)``; per make provider that
    runs, ``(1 + overhead) * fixed_cost`` and the setup cost (when it has no volume today);
    and ``expand.cost * expansion_steps`` from resources.csv. In milp a provider runs iff it
    has volume; in lp ``o`` is fractional and not in the files, so fixed and setup costs come
    from summary.json (fixed, setup, and the overhead on fixed = overhead - overhead on own
    costs).
    """
    alloc = pd.read_csv(folder / "allocation.csv")
    summary = json.loads((folder / "summary.json").read_text())
    provs = gen.providers
    total = float(alloc["cost"].sum())
    by_prov = alloc.groupby("provider")
    own = {v: float((g["volume"] * g["unit_cost"]).sum()) for v, g in by_prov}
    vol = {v: float(g["volume"].sum()) for v, g in by_prov}
    base_vol = {v: float(g["baseline_volume"].sum()) for v, g in by_prov}
    paid = {v: float(g["cost"].sum()) for v, g in by_prov}
    for v, prov in provs.items():
        if prov["mode"] == "buy":
            total += max(0.0, prov.get("block_contract", 0) - paid.get(v, 0.0))
    if mode == "milp":
        for v, prov in provs.items():
            if prov["mode"] == "make" and vol.get(v, 0.0) > 0:
                total += (1 + prov.get("overhead", 0)) * prov.get("fixed_cost", 0)
                if base_vol.get(v, 0.0) == 0:
                    total += prov.get("setup_cost", 0)
    else:
        c = summary["cost"]
        own_overhead = sum(prov.get("overhead", 0) * own.get(v, 0.0)
                           for v, prov in provs.items() if prov["mode"] == "make")
        total += c["fixed"] + (c["overhead"] - own_overhead) + c["setup"]
    if (folder / "resources.csv").exists():
        res = pd.read_csv(folder / "resources.csv")
        for r in res.itertuples():
            total += r.expansion_steps * gen.config["resources"][r.resource].get("expand", {}).get("cost", 0)
    return total, summary


@settings(max_examples=100)
@given(scenarios(), st.sampled_from([("lp", n) for n in BACKENDS["lp"]] + [("milp", n) for n in BACKENDS["milp"]]))
def test_independent_check_and_total_recomputed_from_the_files(gen, how):
    mode, name = how
    sc = load(gen)
    r = optimiser.solve(sc, mode=mode, backend=name, mip_gap=MIP_GAP, time_limit=TIME_LIMIT)
    assert r.status in (Status.OPTIMAL, Status.INFEASIBLE), (r.status, r.summary["solver"])
    ref = reference_baseline(gen)
    assert r.summary["baseline_cost"] == pytest.approx(ref.cost, rel=1e-9, abs=0.01)
    if r.status is Status.INFEASIBLE:
        assert r.objective is None and r.allocation is None
        return
    check = r.summary["check"]
    bug = name == "cbc" and mode == "milp" and check["max_violation"] > CHECK_MAX
    if bug:  # BUG-1: confirm the signature on the model, then check the rest regardless
        model = compile_model(sc.instance)
        highs = solve(model, "milp", "highs")
        assert highs.status is Status.OPTIMAL and violation(model, highs.values, True) <= CHECK_MAX
        SEEN["BUG-1 cbc-infeasible-optimal"] += 1
    else:
        assert check["max_violation"] <= CHECK_MAX, check
    assert check["objective_recomputed"] == pytest.approx(r.objective, rel=1e-9, abs=0.01)

    with tempfile.TemporaryDirectory(prefix="carepath-out-") as tmp:
        r.write(tmp)
        total, summary = _recomputed_total(gen, Path(tmp), mode)
        alloc = pd.read_csv(Path(tmp) / "allocation.csv")
    obj = r.objective
    tol = CSV_REL * scale(obj) + SUMMARY_ABS + (MIP_GAP * abs(obj) if mode == "milp" else 0.0)
    assert abs(total - obj) <= tol, (total, obj)
    assert summary["objective"] == pytest.approx(obj, abs=0.006)
    parts = summary["cost"]
    assert sum(parts.values()) == pytest.approx(obj, abs=SUMMARY_ABS + CSV_REL * scale(obj))

    # allocation.csv row by row against the scenario as written
    uplift = {v: 1 + p.get("overhead", 0) for v, p in gen.providers.items()}
    unit = [gen.providers[v].get("prices", gen.providers[v].get("costs"))[f"{p}.{s}"]
            for v, p, s in zip(alloc["provider"], alloc["pathway"], alloc["step"])]
    np.testing.assert_allclose(alloc["unit_cost"], unit, rtol=CSV_REL)
    expect = alloc["volume"] * alloc["unit_cost"] * alloc["provider"].map(uplift)
    np.testing.assert_allclose(alloc["cost"], expect, rtol=3 * CSV_REL, atol=1e-6)
    base = [ref.x0[k] for k in zip(alloc["locality"], alloc["pathway"], alloc["step"], alloc["provider"])]
    np.testing.assert_allclose(alloc["baseline_volume"], base, rtol=CSV_REL, atol=1e-9)
    assert set(zip(alloc["locality"], alloc["pathway"], alloc["step"], alloc["provider"])) == set(ref.x0)


# --------------------------------------------------------------------------- 3. baseline


@settings(max_examples=100)
@given(scenarios().map(fit_to_baseline))
def test_lp_below_milp_below_todays_cost_when_today_is_feasible(gen):
    # fit_to_baseline moves every limit to today's value (rounded outward), so today's
    # allocation is a feasible plan; confirm that by hand, then the optimum cannot exceed it
    ref = reference_baseline(gen)
    assert ref.violations == []
    sc = load(gen)
    base = costs.baseline(sc.instance)["total"]
    assert base == pytest.approx(ref.cost, rel=1e-9, abs=1e-6)
    arcs = sc.instance.arcs
    x0 = dict(zip(zip(arcs["locality"], arcs["pathway"], arcs["step"], arcs["provider"]), arcs["x0"]))
    assert x0.keys() == ref.x0.keys()
    assert np.allclose([x0[k] for k in ref.x0], list(ref.x0.values()), rtol=1e-12, atol=1e-9)

    model = compile_model(sc.instance)
    lp, milp = solve(model, "lp", "highs"), solve(model, "milp", "highs")
    assert lp.status is Status.OPTIMAL and milp.status is Status.OPTIMAL, (lp.status, milp.status)
    assert lp.objective <= milp.objective + lp_tol(milp.objective)
    assert milp.objective <= base + milp_tol(base), (milp.objective, base)
    SEEN["baseline: optimum strictly cheaper"] += milp.objective < base - milp_tol(base)


# --------------------------------------------------------------------------- 4. relaxing


def binding_keys(gen: GenScenario, model: LinearModel, duals: np.ndarray | None) -> frozenset[str]:
    """Config keys of the constraints with a non-zero lp shadow price."""
    if duals is None:
        return frozenset()
    meta = model.row_meta
    floors = gen.config.get("constraints", {}).get("min_quality", {})
    keys = set()
    for kind, res, pw in meta.loc[np.abs(duals) > 1e-9, ["kind", "resource", "pathway"]].itertuples(index=False):
        if kind == "capacity":
            keys.add(f"resources.{res}.capacity")
        elif kind == "budget":
            keys.add("constraints.budget")
        elif kind == "quality":
            keys.add(f"constraints.min_quality.{pw if pw in floors else 'default'}")
        elif kind == "pace":
            keys.add("constraints.max_shift")
    return frozenset(keys)


@settings(max_examples=100)
@given(st.data())
def test_relaxing_a_constraint_never_raises_the_optimal_cost(data):
    # three in four scenarios are fitted to today's plan (feasible, limits at today's
    # values, so often binding), the rest are raw (often infeasible); relaxations favour constraints
    # with a shadow price, so that the optimum can actually move
    fitted = scenarios(constrained=True).map(fit_to_baseline)
    gen = data.draw(st.one_of(fitted, fitted, fitted, scenarios(constrained=True)), label="scenario")
    tight = compiled(gen)
    lp0 = solve(tight, "lp", "highs")
    prefer = binding_keys(gen, tight, lp0.row_duals) if lp0.status is Status.OPTIMAL else frozenset()
    overrides = data.draw(relaxations(gen, prefer), label="overrides")
    lp_name = data.draw(st.sampled_from(BACKENDS["lp"]), label="lp backend")
    loose = compiled(gen, overrides)
    for mode, name, tol in (("lp", lp_name, lp_tol), ("milp", "highs", milp_tol)):
        before = lp0 if (mode, name) == ("lp", "highs") else solve(tight, mode, name)
        after = solve(loose, mode, name)
        assert after.status in (Status.OPTIMAL, Status.INFEASIBLE)
        if before.status is Status.OPTIMAL:
            assert after.status is Status.OPTIMAL, (mode, overrides)
            assert after.objective <= before.objective + tol(before.objective), (mode, overrides, before.objective, after.objective)
            SEEN[f"relaxed {mode}: cheaper"] += after.objective < before.objective - tol(before.objective)
            SEEN[f"relaxed {mode}: same"] += after.objective >= before.objective - tol(before.objective)
        else:
            SEEN[f"relaxed {mode}: was infeasible"] += 1
            SEEN[f"relaxed {mode}: was infeasible, now optimal"] += after.status is Status.OPTIMAL


# --------------------------------------------------------------------------- 5. scaling


@settings(max_examples=60)
@given(scenarios(), st.sampled_from([0.5, 2, 3, 10]))
def test_scaling_all_money_scales_the_optimum(gen, k):
    model, scaled = compiled(gen), compiled(scale_money(gen, k))
    for mode in ("lp", "milp"):
        a, b = solve(model, mode, "highs"), solve(scaled, mode, "highs")
        assert a.status == b.status, (mode, a.status, b.status)
        if a.status is Status.OPTIMAL:
            tol = lp_tol(k * a.objective) if mode == "lp" else milp_tol(k * a.objective)
            assert abs(b.objective - k * a.objective) <= tol, (mode, k, a.objective, b.objective)


# --------------------------------------------------------------------------- 6. verdicts


@settings(max_examples=100)
@given(scenarios(tight=True))
def test_infeasible_and_optimal_verdicts_agree_across_backends(gen):
    # tight scenarios (capped anchor settings, high floors, budgets below today's cost):
    # mostly infeasible, many borderline; the same checks, so the verdicts must agree
    assert_backends_agree(gen, *solve_everywhere(gen))


# --------------------------------------------------------------------------- known bugs

# Minimal reproductions, each replayed as an explicit example of a strict xfail test that
# asserts what SPEC requires. Only the explicit example runs (phases=[Phase.explicit]).

CBC_POSTSOLVE = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cbc postsolve
pathways: [../pathways/copd.yaml]
localities:
  north: {population: 1000}
  south: {population: 1000}
  east: {population: 1000}
providers:
  acute:
    setting: hospital
    mode: buy
    prices: {copd.s1: 320, copd.s2: 250, copd.s3: 130}
    quality: {default: 0.75}
  hub:
    setting: hospital
    mode: make
    costs: {copd.s2: 120}
    min_volume: 60
    quality: {default: 0.6}
constraints:
  min_quality: {default: 0.71}
# --- pathways/copd.yaml
pathway: copd
prevalence_per_1000: 20
steps:
- {step: s1, per_patient: 1.8, settings: [hospital]}
- {step: s2, per_patient: 1.1, settings: [hospital]}
- {step: s3, per_patient: 0.2, settings: [hospital]}
''')
# Per locality N = 20: s1 36, s2 22, s3 4. The floor 0.71 allows the hub (0.6) at most
# 0.04 * 62 / 0.15 = 16.5 reviews per locality, 49.6 in all < min_volume 60: the hub cannot
# run, so everything goes to acute: 3 * (36*320 + 22*250 + 4*130) = 52620 (highs). cbc
# reports OPTIMAL 47120 with flow rows violated (max_violation 1.0); CBC's log says
# "Postprocessed model is infeasible - possible tolerance issue"; `-preprocess off` gives 52620.

CP_PACE = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cp pace
pathways: [../pathways/care.yaml]
localities:
  north: {population: 1010}
providers:
  hosp: {setting: hospital, mode: buy, prices: {care.review: 100}, current_share: {care.review: 0.5}}
  gp: {setting: primary_care, mode: buy, prices: {care.review: 60}, current_share: {care.review: 0.5}}
constraints: {max_shift: 0}
# --- pathways/care.yaml
pathway: care
prevalence_per_1000: 100
steps:
- {step: review, per_patient: 1, settings: [hospital, primary_care]}
''')
# D = 101; pace: hosp >= 50.5 and gp >= 50.5 (milp: 50.5 each, 8080). cp: whole volumes
# >= 51 each, 102 > 101 + 0.5: infeasible.

CP_UPTAKE = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cp uptake
pathways: [../pathways/care.yaml]
localities:
  north: {population: 10010}
providers:
  hosp: {setting: hospital, mode: buy, prices: {care.rehab: 300, care.admission: 2000}}
# --- pathways/care.yaml
pathway: care
prevalence_per_1000: 100
steps:
- {step: rehab, per_patient: {min: 0.05, max: 0.1}, settings: [hospital], avoids: {admission: 1.0}}
- {step: admission, per_patient: 0.05, settings: [hospital]}
''')
# N = 1001: rehab in [50.05, 100.1], admissions 50.05 - rehab >= 0, so rehab = 50.05 and no
# admissions (milp 15015, today's plan). cp: rehab >= 51 whole, admissions <= -0.95 < 0:
# infeasible (rounding the minimum uptake to the nearest whole, 50, would give 15000).

CP_PAY = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cp pay
pathways: [../pathways/care.yaml]
localities:
  north: {population: 1000}
providers:
  hosp: {setting: hospital, mode: buy, prices: {care.review: 100}, block_contract: 5000}
# --- pathways/care.yaml
pathway: care
prevalence_per_1000: 100
steps:
- {step: review, per_patient: 1.006, settings: [hospital]}
''')
# D = 100.6: milp pays 10060. cp: whole volume within half an activity of 100.6 is 101, so
# pay >= 10100, but pay's implied bound is max(5000, 100 * 100.6) + 0.5 = 10060.5: infeasible.


@pytest.mark.xfail(strict=True, reason=BUGS["BUG-1 cbc-infeasible-optimal"])
@settings(phases=[Phase.explicit])
@example(CBC_POSTSOLVE)
@given(scenarios())
def test_bug1_cbc_milp_plan_is_feasible_and_optimal(gen):
    sc = load(gen)
    highs = optimiser.solve(sc, mode="milp", backend="highs")
    cbc = optimiser.solve(sc, mode="milp", backend="cbc")
    assert cbc.summary["check"]["max_violation"] <= CHECK_MAX, cbc.summary["check"]
    assert abs(cbc.objective - highs.objective) <= milp_tol(highs.objective)


@pytest.mark.xfail(strict=True, reason=BUGS["BUG-2 cp-pace-rounding"])
@settings(phases=[Phase.explicit])
@example(CP_PACE)
@given(scenarios())
def test_bug2_cp_agrees_with_milp_under_a_pace_of_change(gen):
    _cp_agrees(gen)


@pytest.mark.xfail(strict=True, reason=BUGS["BUG-3 cp-uptake-rounding"])
@settings(phases=[Phase.explicit])
@example(CP_UPTAKE)
@given(scenarios())
def test_bug3_cp_agrees_with_milp_when_avoidance_empties_a_step(gen):
    _cp_agrees(gen)


@pytest.mark.xfail(strict=True, reason=BUGS["BUG-4 cp-pay-bound"])
@settings(phases=[Phase.explicit])
@example(CP_PAY)
@given(scenarios())
def test_bug4_cp_agrees_with_milp_with_a_block_contract(gen):
    _cp_agrees(gen)


def _cp_agrees(gen: GenScenario) -> None:
    sc = load(gen)
    milp = optimiser.solve(sc, mode="milp", backend="highs")
    cp = optimiser.solve(sc, mode="cp", backend="cpsat")
    assert milp.status is Status.OPTIMAL
    assert cp.status is Status.OPTIMAL, cp.status
    assert abs(cp.objective - milp.objective) <= CP_REL * scale(milp.objective)


@pytest.mark.parametrize("case", [CP_PACE, CP_UPTAKE, CP_PAY], ids=["pace", "uptake", "pay"])
def test_known_cp_bugs_are_what_the_signatures_say(case):
    """Each cp reproduction is explained by exactly its own what-if fix (keeps the
    signatures used above honest)."""
    model = compiled(case)
    milp = solve(model, "milp", "highs")
    assert milp.status is Status.OPTIMAL
    assert solve(model, "cp", "cpsat").status is Status.INFEASIBLE
    fixed = [b for b in CP_BUGS
             if (o := backend("cpsat").solve(cp_patched(model, (b,)), OPTS)).status.has_solution
             and abs(o.objective - milp.objective) <= CP_REL * scale(milp.objective)]
    assert len(fixed) == 1, fixed
