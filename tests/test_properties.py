"""Property tests on random valid scenarios (GitHub issue 3, items 3 and 4).

Scenarios come from :mod:`strategies` (every feature of SPEC section 3, tiny, on coarse
number grids). The ``ci`` Hypothesis profile is derandomized, so every run checks the same
examples. Each property states its generated-example count in ``settings(max_examples=...)``:

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

On top of those, every run replays (``@example``) the minimal counterexamples these
properties found in earlier engine versions (``COUNTEREXAMPLES``; fixed in 744da20), so they
stay fixed.

Open engine bugs (``OPEN_BUGS``: BUG-6 to BUG-9) are recognised by a precise signature
(on generated scenarios only), counted, and kept out of the way of the rest of the
property; each has a strict-xfail test at the end that replays its minimal reproduction and
asserts what SPEC requires, so a fix turns it into an unexpected pass (then drop the marker
and the signature). They were found with ``HYPOTHESIS_PROFILE=dev`` and larger counts; the
derandomized ``ci`` examples do not currently meet them.

``CAREPATH_REPORT=1`` prints, after the module, the largest relative disagreement seen per
pair of backends and how often each outcome and signature was met (counts include the
explicit examples, and any shrinking).
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
CP_TIME_LIMIT = 20.0
"""cp's limit: CP-SAT solves these in milliseconds too, except when BUG-9 strikes."""

MODES = ("lp", "milp", "cp")
BACKENDS = {m: [n for n, i in REGISTRY.items() if m in i.modes] for m in MODES}
OPTS = SolveOptions(time_limit=TIME_LIMIT, mip_gap=MIP_GAP)
CP_OPTS = SolveOptions(time_limit=CP_TIME_LIMIT, mip_gap=MIP_GAP)


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
"""Outcomes and open-bug signatures met, by name."""

OPEN_BUGS = {
    "BUG-6 cbc-wrongly-infeasible": (
        "cbc backend (milp): CBC's bound tightening ('Bound tightening: infeasibility proved "
        "- skipping solve', with or without preprocess/presolve) declares INFEASIBLE models "
        "that have a verified feasible plan, e.g. a budget up to about 0.6 % above the optimum"),
    "BUG-8 cbc-eight-digits": (
        "cbc backend (lp and milp): values are read from CBC's solution file with 8 significant "
        "digits, so on a row whose limit is near zero (a step whose demand is avoided down to "
        "0) the plan misses by up to 1e-5 and summary.check.max_violation exceeds 1e-6"),
    "BUG-9 cp-slow-proof": (
        "cp mode (performance): CP-SAT with its one default worker needs about 14 s to prove "
        "optimal a 19-variable, 27-row model (two localities, five steps, two providers, "
        "an expandable resource, max_shift 0.2); the generated scenario it came from still "
        "had a 0.65 % gap after 120 s (status FEASIBLE), though its plan was within 0.001 % "
        "of milp"),
    "BUG-7 cp-pace-split": (
        "cp mode: each pace row x >= (1-max_shift)*share0*D may miss by half an activity, but "
        "when a step's demand is split between providers their whole-activity floors can still "
        "add up to more than D + 0.5 (e.g. max_shift 0, shares 50/50 of D = 101.4: 51 + 51 > "
        "101.9), so milp-feasible scenarios are cp-infeasible"),
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
    lines += [f"  {pair:<34} {d:.3e}" for pair, d in sorted(DISAGREEMENT.items())]
    lines += ["outcomes and open-bug signatures met:"]
    lines += [f"  {name:<52} {n}" for name, n in sorted(SEEN.items())]
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        for line in lines:
            tr.write_line(line)


# --------------------------------------------------------------------------- counterexamples

# Minimal reproductions of the engine bugs these properties found (reported with these
# numbers; BUG-1 to BUG-5 fixed in 744da20). Each is replayed by a property via @example.

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
# BUG-1 (cbc, milp): per locality N = 20: s1 36, s2 22, s3 4. The floor 0.71 lets the hub
# (0.6) do at most 0.04 * 62 / 0.15 = 16.5 per locality, 49.6 in all < min_volume 60: it
# cannot run; all to acute: 3 * (36*320 + 22*250 + 4*130) = 52620. cbc said OPTIMAL 47120
# with flow rows broken (max_violation 1.0; CBC: "Postprocessed model is infeasible").

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
# BUG-2 (cp): D = 101; pace: hosp >= 50.5 and gp >= 50.5 (milp 8080). cp asked whole
# volumes >= 51 each, 102 > 101 + 0.5: infeasible.

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
# BUG-3 (cp): N = 1001: rehab in [50.05, 100.1], admissions 50.05 - rehab >= 0, so rehab =
# 50.05 and none left (milp 15015). cp rounded the minimum uptake up to 51 and kept D >= 0
# exact: admissions <= -0.95, infeasible.

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
# BUG-4 (cp): D = 100.6, milp pays 10060. cp's whole volume is 101, so pay >= 10100, but
# pay's implied bound was max(5000, 100 * 100.6) + 0.5 = 10060.5: infeasible.

CP_PAY_WORSE = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cp pay, worse plan
pathways: [../pathways/copd.yaml]
localities:
  north: {population: 732200}
providers:
  acute:
    setting: hospital
    mode: buy
    prices: {copd.s1: 50, copd.s4: 50, copd.s5: 50}
    block_contract: 4400
  v1: {setting: third_sector, mode: make, costs: {copd.s1: 20}, fixed_cost: 22000}
# --- pathways/copd.yaml
pathway: copd
prevalence_per_1000: 20
steps:
- {step: s1, per_patient: 0.2, settings: [hospital, third_sector], max_share: {third_sector: 0.2}}
- {step: s4, per_patient: 0.2, settings: [hospital]}
- {step: s5, per_patient: 0.2, settings: [hospital]}
''')
# BUG-4 again, as a wrong optimum: three steps of 2928.8. milp: all to acute, 439320. The
# pay bound (50 * 8786.4 + 0.5) cut off every whole all-acute plan (50 * 8787 = 439350), so
# cp said OPTIMAL at 443800 (v1 running, fixed cost 22000): 1.0 % off.

CBC_UNUSED_INTEGER = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cbc diagnosis
pathways: [../pathways/care.yaml]
localities:
  north: {population: 1000}
resources:
  nurse:
    capacity: 0
    expand: {step: 20, cost: 100, max_steps: 3}
providers:
  hosp: {setting: hospital, mode: buy, prices: {care.review: 50}, quality: {default: 0.5}}
constraints:
  min_quality: {default: 0.74}
# --- pathways/care.yaml
pathway: care
prevalence_per_1000: 100
steps:
- {step: review, per_patient: 1, settings: [hospital]}
''')
# BUG-5 (cbc, milp): infeasible (quality 0.5 < floor 0.74). The diagnosis' feasibility model
# (zero objective) has k[nurse] in no row at no cost; PuLP dropped it, CBC answered
# "Undefined", the backend said ERROR and optimiser.solve raised SolveFailed.

CBC_WRONGLY_INFEASIBLE = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cbc tight budget
pathways: [../pathways/care.yaml]
localities:
  north: {population: 10000}
  south: {population: 10000}
providers:
  hosp: {setting: hospital, mode: buy, prices: {care.rehab: 50, care.admission: 50}}
  hub: {setting: hospital, mode: make, costs: {care.s1: 20}, setup_cost: 1000}
constraints: {budget: 1555}
# --- pathways/care.yaml
pathway: care
prevalence_per_1000: 10
steps:
- {step: s1, per_patient: {min: 0, max: 0}, settings: [hospital]}
- {step: admission, per_patient: 0.1, settings: [hospital]}
- {step: rehab, per_patient: {min: 0.1, max: 0.2}, settings: [hospital], avoids: {admission: 0.45}}
''')
# BUG-6 (cbc, milp; OPEN): per locality N = 100: rehab 10 (its minimum), admissions
# 10 - 0.45 * 10 = 5.5, all at 50: 775, so 1550 in all, under the budget 1555 (highs, cp:
# optimal 1550, which is today's plan). The hub (setup 1000) only gives the model a binary.
# cbc: INFEASIBLE ("Bound tightening: infeasibility proved - skipping solve"), for every
# budget from 1550 to about 1560; optimal from 1600.

CP_PACE_SPLIT = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cp pace split
pathways: [../pathways/care.yaml]
localities:
  north: {population: 10140}
providers:
  hosp: {setting: hospital, mode: buy, prices: {care.review: 100}, current_share: {care.review: 0.5}}
  gp: {setting: primary_care, mode: buy, prices: {care.review: 60}, current_share: {care.review: 0.5}}
constraints: {max_shift: 0}
# --- pathways/care.yaml
pathway: care
prevalence_per_1000: 100
steps:
- {step: review, per_patient: 0.1, settings: [hospital, primary_care]}
''')
# BUG-7 (cp; OPEN, what the BUG-2 fix leaves): D = 101.4, shares 50/50, max_shift 0: milp
# 50.7 + 50.7, 8112. cp: each pace row x >= 50.7 - 0.5 = 50.2 takes 51; 51 + 51 = 102 >
# 101.4 + 0.5: infeasible. Found as 0.8/0.2 of D = 1863.2 (1491 + 373 > 1863.7).

CBC_EIGHT_DIGITS = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cbc digits
pathways: [../pathways/care.yaml]
localities:
  north: {population: 100000}
providers:
  hosp: {setting: hospital, mode: buy, prices: {care.rehab: 50, care.admission: 200}}
# --- pathways/care.yaml
pathway: care
prevalence_per_1000: 100
steps:
- {step: rehab, per_patient: {min: 0, max: 0.5}, settings: [hospital], avoids: {admission: 0.3}}
- {step: admission, per_patient: 0.1, settings: [hospital]}
''')
# BUG-8 (cbc, lp and milp; OPEN): N = 10000. A rehab (50) avoids 0.3 admissions (worth 60),
# so rehab rises until admissions are gone: 1000 / 0.3 = 3333.33..., optimum 166666.67
# (highs, glop: check 0). cbc reads rehab as 3333.3333 (8 digits): admissions' demand is
# 1e-5, the admission flow misses by 1e-5, check max_violation 1e-5 > 1e-6.

CP_SLOW_PROOF = GenScenario.from_yaml('''
# --- configs/scenario.yaml
scenario: cp slow proof
pathways: [../pathways/heart.yaml]
localities:
  north:
    population: 499800
    prevalence_per_1000: {heart: 10}
  south: {population: 325300}
resources:
  nurse:
    capacity: 88630
    expand: {step: 26300, cost: 5128500, max_steps: 2}
providers:
  acute:
    setting: hospital
    mode: buy
    prices: {heart.s1: 480, heart.s2: 300, heart.s3: 445, heart.s4: 175, heart.s5: 55}
    current_share: {heart.s1: 0.4, heart.s4: 1.0, heart.s5: 1.0}
    uses:
      heart.s2: {nurse: 2}
      heart.s3: {nurse: 0.5}
      heart.s4: {nurse: 1.25}
      heart.s5: {nurse: 2}
  v2:
    setting: hospital
    mode: make
    costs: {heart.s1: 240, heart.s3: 260}
    current_share: {heart.s1: 0.6}
    uses:
      heart.s3: {nurse: 2.5}
constraints: {max_shift: 0.2}
# --- pathways/heart.yaml
pathway: heart
prevalence_per_1000: 50
steps:
- step: s1
  per_patient: {min: 0.0, max: 0.1}
  settings: [community, hospital]
- step: s2
  per_patient: 1.4
  settings: [hospital]
- step: s3
  per_patient: 0.5
  settings: [third_sector, hospital, primary_care]
- step: s4
  per_patient: {min: 0.3, max: 0.4}
  settings: [hospital]
  avoids: {s2: 0.35, s5: 0.4}
- step: s5
  per_patient: 1.2
  settings: [hospital, primary_care, community]
''')
# BUG-9 (cp, performance; OPEN): milp (highs, milliseconds) 20440195.51; cp finds
# 20439735.00 at once but proves it optimal only after about 14 s with one worker (7 s with
# two); with a 5 s limit it stops FEASIBLE with a 0.8 % gap.

COUNTEREXAMPLES = {"BUG-1": CBC_POSTSOLVE, "BUG-2": CP_PACE, "BUG-3": CP_UPTAKE, "BUG-4": CP_PAY,
                   "BUG-4b": CP_PAY_WORSE, "BUG-5": CBC_UNUSED_INTEGER}


# --------------------------------------------------------------------------- solving


_BACKEND_CACHE: dict = {}


def backend(name: str):
    if name not in _BACKEND_CACHE:
        _BACKEND_CACHE[name] = get_backend(name)
    return _BACKEND_CACHE[name]


def compiled(gen: GenScenario, overrides=()) -> LinearModel:
    return compile_model(load(gen, overrides).instance)


def solve(model: LinearModel, mode: str, name: str):
    return backend(name).solve(model.relaxed() if mode == "lp" else model,
                               CP_OPTS if mode == "cp" else OPTS)


def violation(model: LinearModel, values: np.ndarray, integral: bool) -> float:
    """Largest violation of the model's rows and bounds by ``values``: each relative to
    max(1, |limit|, sum of the row's |terms|), since a solver's tolerances (1e-7 to 1e-6 on
    its scaled rows) cannot do better than that on a row such as pay - sum price*x >= 0."""
    act = model.A @ values
    terms = abs(model.A) @ np.abs(values)
    parts = [np.zeros(1)]
    for lim, amount, size in ((model.row_lb, model.row_lb - act, terms),
                              (model.row_ub, act - model.row_ub, terms),
                              (model.col_lb, model.col_lb - values, 0.0),
                              (model.col_ub, values - model.col_ub, 0.0)):
        ok = np.isfinite(lim)
        parts.append(amount[ok] / np.maximum(1.0, np.maximum(np.abs(lim), size)[ok]))
    if integral:
        ints = model.col_integer
        parts.append(np.abs(values[ints] - np.round(values[ints])))
    return float(np.max(np.concatenate(parts)))


def cp_pace_split(model: LinearModel, milp_objective: float) -> bool:
    """BUG-7's signature: cp is infeasible, and giving every pace row one more half
    activity (so a whole volume may fall short of its share by up to one activity) makes
    cp optimal within 0.5 % of milp."""
    pace = (model.row_meta["kind"] == "pace").to_numpy()
    if not pace.any():
        return False
    row_lb = model.row_lb.copy()
    row_lb[pace] -= 0.5
    out = backend("cpsat").solve(dataclasses.replace(model, row_lb=row_lb), OPTS)
    if out.status is Status.OPTIMAL and abs(out.objective - milp_objective) <= CP_REL * scale(milp_objective):
        SEEN["BUG-7 cp-pace-split"] += 1
        return True
    return False


def cbc_digits(gen: GenScenario, sc, mode: str, name: str, check: dict) -> bool:
    """BUG-8's signature (generated scenarios only): a cbc plan whose only fault is CBC's
    8-significant-digit solution file -- the engine's check (relative to each limit) finds at
    most 1e-4 on a row whose limit is near zero, while relative to the row's own terms the
    plan holds to 1e-6, and highs' plan for the same scenario passes the check."""
    if not gen.tags or name != "cbc" or not CHECK_MAX < check["max_violation"] <= 1e-4:
        return False
    model = compile_model(sc.instance)
    out = solve(model, mode, "cbc")
    if violation(model, out.values, integral=mode == "milp") > CHECK_MAX:
        return False
    highs = optimiser.solve(sc, mode=mode, backend="highs", mip_gap=MIP_GAP, time_limit=TIME_LIMIT)
    if highs.summary["check"]["max_violation"] > CHECK_MAX:
        return False
    SEEN["BUG-8 cbc-eight-digits"] += 1
    return True


def cp_borderline(milp_objective: float, budget: float | None) -> bool:
    """milp's optimum lies within 0.5 % of the budget: whole activities may honestly not
    fit under it (SPEC only promises cp within 0.5 % of milp), so cp may say infeasible."""
    if budget is not None and milp_objective >= budget / (1 + CP_REL):
        SEEN["cp infeasible: borderline budget"] += 1
        return True
    return False


# --------------------------------------------------------------------------- 1. backends


def solve_everywhere(gen: GenScenario) -> tuple[LinearModel, dict]:
    """The scenario's model and every backend's answer in every mode, ``(mode, backend) ->
    SolverOutput`` (cbc's milp answer left out when it has BUG-6's signature)."""
    model = compiled(gen)
    outs = {}
    for mode in MODES:
        for name in BACKENDS[mode]:
            out = solve(model, mode, name)
            milp = outs.get(("milp", "highs"))
            if mode == "cp" and gen.tags and out.status is Status.FEASIBLE and milp.status is Status.OPTIMAL \
                    and abs(out.objective - milp.objective) <= CP_REL * scale(milp.objective):
                # BUG-9's signature: no proof within the limit, but a plan within 0.5 % of milp;
                # judge that plan as cp's answer
                SEEN["BUG-9 cp-slow-proof"] += 1
                out = dataclasses.replace(out, status=Status.OPTIMAL)
            assert out.status in (Status.OPTIMAL, Status.INFEASIBLE), (mode, name, out.status, out.message)
            outs[(mode, name)] = out
    # BUG-6's signature: cbc says infeasible though we hold a plan verified feasible here
    # (generated scenarios only: a replayed counterexample must pass outright)
    cbc, highs = outs[("milp", "cbc")], outs[("milp", "highs")]
    if gen.tags and cbc.status is Status.INFEASIBLE and highs.status is Status.OPTIMAL \
            and violation(model, highs.values, integral=True) <= CHECK_MAX:
        SEEN["BUG-6 cbc-wrongly-infeasible"] += 1
        del outs[("milp", "cbc")]
    return model, outs


def assert_backends_agree(gen: GenScenario, model: LinearModel, outs: dict) -> None:
    """Same verdict within each mode and the same optimum within its tolerance; every plan
    satisfies the model; lp <= milp; cp within 0.5 % of milp, or both infeasible (cp may
    be infeasible on a borderline budget, see cp_borderline)."""
    for (mode, name), out in outs.items():
        if out.status is Status.OPTIMAL and mode != "cp":  # cp's rows hold within half an activity
            assert violation(model, out.values, integral=mode == "milp") <= CHECK_MAX, (mode, name)
    # generated scenarios carry tags; the replayed counterexamples (read from YAML) none,
    # and no open-bug signature excuses them
    where = "" if gen.tags else " (replayed)"
    for mode, tol in (("lp", lp_tol), ("milp", milp_tol)):
        got = {n: o for (m, n), o in outs.items() if m == mode}
        statuses = {n: o.status for n, o in got.items()}
        assert len(set(statuses.values())) == 1, (mode, statuses)
        names = sorted(got)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if got[a].status is Status.OPTIMAL:
                    oa, ob = got[a].objective, got[b].objective
                    note(f"{mode} {a}-{b}{where}", oa, ob)
                    assert abs(oa - ob) <= tol(oa, ob), (mode, a, oa, b, ob)

    lp, milp, cp = outs[("lp", "highs")], outs[("milp", "highs")], outs[("cp", "cpsat")]
    SEEN[f"verdict lp/milp/cp: {lp.status.value}/{milp.status.value}/{cp.status.value}"] += 1
    # the relaxation: never dearer, and infeasible only if the milp is
    if lp.status is Status.INFEASIBLE:
        assert milp.status is Status.INFEASIBLE
    elif milp.status is Status.OPTIMAL:
        assert lp.objective <= milp.objective + lp_tol(milp.objective)

    if milp.status is Status.OPTIMAL and cp.status is Status.OPTIMAL:
        d = note(f"cp/milp cpsat-highs{where}", cp.objective, milp.objective)
        assert d <= CP_REL, ("cp off milp", cp.objective, milp.objective)
    elif milp.status is Status.OPTIMAL:
        budget = gen.config.get("constraints", {}).get("budget")
        explained = cp_borderline(milp.objective, budget) or (
            bool(gen.tags) and cp_pace_split(model, milp.objective))
        assert explained, ("cp infeasible, milp optimal", milp.objective)
    else:
        assert cp.status is Status.INFEASIBLE, ("cp found a plan where milp has none", cp.objective)


@settings(max_examples=100)
@given(scenarios())
@example(CBC_POSTSOLVE)
@example(CP_PACE)
@example(CP_UPTAKE)
@example(CP_PAY)
@example(CP_PAY_WORSE)
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
@given(scenarios(), st.sampled_from([(m, n) for m in ("lp", "milp") for n in BACKENDS[m]]))
@example(CBC_POSTSOLVE, ("milp", "cbc"))
@example(CBC_UNUSED_INTEGER, ("milp", "cbc"))
def test_independent_check_and_total_recomputed_from_the_files(gen, how):
    mode, name = how
    sc = load(gen)
    # SPEC 4: an infeasible model is a status (with a diagnosis), never an exception
    r = optimiser.solve(sc, mode=mode, backend=name, mip_gap=MIP_GAP, time_limit=TIME_LIMIT)
    assert r.status in (Status.OPTIMAL, Status.INFEASIBLE), (r.status, r.summary["solver"])
    ref = reference_baseline(gen)
    assert r.summary["baseline_cost"] == pytest.approx(ref.cost, rel=1e-9, abs=0.01)
    if r.status is Status.INFEASIBLE:
        assert r.objective is None and r.allocation is None and r.diagnosis
        return
    check = r.summary["check"]
    if not cbc_digits(gen, sc, mode, name, check):
        assert check["max_violation"] <= CHECK_MAX, check
    # The solver's objective prices its own variables (pay, o, k); the check prices the
    # volumes. They differ by what the solver's feasibility tolerance lets rows like
    # pay >= sum price * x miss by: within the 1e-6 relative the check itself accepts.
    obj_tol = FEAS_ABS * scale(r.objective) + 0.01
    assert abs(check["objective_recomputed"] - r.objective) <= obj_tol

    with tempfile.TemporaryDirectory(prefix="carepath-out-") as tmp:
        r.write(tmp)
        total, summary = _recomputed_total(gen, Path(tmp), mode)
        alloc = pd.read_csv(Path(tmp) / "allocation.csv")
    obj = r.objective
    # CSV digits, summary pennies, the solver's own slack (above) and, in milp, a provider
    # the solver keeps running without volume (worth at most the gap)
    tol = CSV_REL * scale(obj) + SUMMARY_ABS + obj_tol + (MIP_GAP * abs(obj) if mode == "milp" else 0.0)
    assert abs(total - obj) <= tol, (total, obj)
    assert summary["objective"] == pytest.approx(obj, abs=0.006)
    parts = summary["cost"]  # SPEC 5: the parts add up to the objective
    assert abs(sum(parts.values()) - obj) <= SUMMARY_ABS + obj_tol, (parts, obj)

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
    rows = meta.loc[np.abs(duals) > 1e-9, ["kind", "resource", "pathway"]]
    for kind, res, pw in rows.itertuples(index=False):
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
    # Three in four scenarios are fitted to today's plan (feasible, limits at today's
    # values, so often binding), the rest are raw (often infeasible). Relaxations (more
    # capacity, a larger budget, a lower quality floor, a larger max_shift; one or two at a
    # time) favour constraints with an lp shadow price, so that the optimum can move.
    fit = data.draw(st.sampled_from([True, True, True, False]), label="fitted")
    gen = data.draw(scenarios(constrained=True), label="scenario")
    if fit:
        gen = fit_to_baseline(gen)
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
            assert after.objective <= before.objective + tol(before.objective), \
                (mode, overrides, before.objective, after.objective)
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


# --------------------------------------------------------------------------- open bugs


@pytest.mark.xfail(strict=True, reason=OPEN_BUGS["BUG-6 cbc-wrongly-infeasible"])
@settings(phases=[Phase.explicit])
@given(scenarios())
@example(CBC_WRONGLY_INFEASIBLE)
def test_bug6_cbc_milp_finds_the_plan_that_exists(gen):
    sc = load(gen)
    highs = optimiser.solve(sc, mode="milp", backend="highs")
    cbc = optimiser.solve(sc, mode="milp", backend="cbc")
    assert highs.status is Status.OPTIMAL
    assert cbc.status is Status.OPTIMAL, cbc.status
    assert abs(cbc.objective - highs.objective) <= milp_tol(highs.objective)


@pytest.mark.xfail(strict=True, reason=OPEN_BUGS["BUG-7 cp-pace-split"])
@settings(phases=[Phase.explicit])
@given(scenarios())
@example(CP_PACE_SPLIT)
def test_bug7_cp_agrees_with_milp_when_a_frozen_step_is_split(gen):
    sc = load(gen)
    milp = optimiser.solve(sc, mode="milp", backend="highs")
    cp = optimiser.solve(sc, mode="cp", backend="cpsat")
    assert milp.status is Status.OPTIMAL
    assert cp.status is Status.OPTIMAL, cp.status
    assert abs(cp.objective - milp.objective) <= CP_REL * scale(milp.objective)


@pytest.mark.xfail(strict=True, reason=OPEN_BUGS["BUG-8 cbc-eight-digits"])
@settings(phases=[Phase.explicit])
@given(scenarios(), st.sampled_from(["lp", "milp"]))
@example(CBC_EIGHT_DIGITS, "lp")
@example(CBC_EIGHT_DIGITS, "milp")
def test_bug8_cbc_plan_passes_the_check_when_demand_is_avoided_to_zero(gen, mode):
    r = optimiser.solve(load(gen), mode=mode, backend="cbc")
    assert r.status is Status.OPTIMAL
    assert r.summary["check"]["max_violation"] <= CHECK_MAX, r.summary["check"]


@pytest.mark.xfail(strict=True, reason=OPEN_BUGS["BUG-9 cp-slow-proof"])
@settings(phases=[Phase.explicit])
@given(scenarios())
@example(CP_SLOW_PROOF)
def test_bug9_cp_proves_a_small_model_optimal_within_seconds(gen):
    r = optimiser.solve(load(gen), mode="cp", backend="cpsat", time_limit=5)
    assert r.status is Status.OPTIMAL, (r.status, r.summary["solver"]["gap"])
