"""Infeasible scenarios: the diagnosis names the right culprits, located, with the least
relaxation worked out by hand (issue 4, item 4).

Every case lives in ``tests/infeasible/<name>/config.yaml`` (pathways in
``tests/infeasible/pathways/``). The comment at the top of each config derives by hand
(a) why no plan exists, (b) the irreducible infeasible subset (IIS) of the adjustable
requirements, as constraint row names, and (c) the least relative relaxation (which limit,
by how much in its row's units) and why it is unambiguous. The expectations below repeat
those numbers; none was copied from the engine. Line numbers are those of the key in our
own files (counted from the files, see ``At``).

For every case, on every backend of every mode it names (lp: highs, cbc, glop where the LP
is infeasible too; milp: highs, cbc; cp: cpsat, whose diagnosis is made on the milp model by
HiGHS, so the same exact tolerance applies), we assert:

* status INFEASIBLE and a diagnosis whose culprits are located at ``FILE:LINE`` exactly;
* the least relaxation: the exact set of relaxed rows, each ``relax_by`` (and ``limit``)
  within relative 1e-6, and what its message says;
* the conflict: the exact IIS (or one of the IIS when it is not unique), proven
  (``irreducible``), each member located and described;
* ``integrality_only`` (true exactly for the cases infeasible only because of whole units;
  for those, ``lp`` is feasible on every LP backend at the hand-computed objective);
* generically, for every case and every conflict the engine returns (and for our hand IIS):
  the member set alone is infeasible and dropping any one member restores a plan
  (``feasible_with`` on the compiled model with the uptake bounds as rows).

Where the engine's diagnosis is wrong or misleading, the expectation it SHOULD meet is
written and marked ``xfail(strict=True)`` with the reason (see ``XFAIL_*``).

Solves are cached per (case, mode, backend, overrides); the file runs in well under a minute.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest

import optimiser
from optimiser import Status
from optimiser.backends import SolveOptions, get_backend
from optimiser.compile import compile_model
from optimiser.diagnose.elastic import feasible_with, soft_rows, with_uptake_rows

from conftest import run_cli

EXAMPLE = Path(__file__).resolve().parent.parent / "configs" / "northshire.yaml"

HERE = Path(__file__).parent / "infeasible"
PATHWAYS = HERE / "pathways"
REL = 1e-6

LP_BACKENDS = ("highs", "cbc", "glop")
MILP_BACKENDS = ("highs", "cbc")
CP_BACKENDS = ("cpsat",)


@dataclass(frozen=True)
class At:
    """Where a requirement is written: ``file`` is "config" (the case's config.yaml) or a
    pathway file name under ``tests/infeasible/pathways/``; ``line`` is 1-based."""

    file: str
    line: int


@dataclass(frozen=True)
class Relax:
    by: float
    """relax_by, in the row's units."""
    limit: float | None
    """The limit as stated in the config (None: not checked)."""
    says: tuple[str, ...] = ()
    """Substrings the relaxation message must contain."""


@dataclass(frozen=True)
class Case:
    name: str
    proves: str
    culprit: str
    """The main culprit: the row the least relaxation relaxes (or the pre-solve finding)."""
    relax: dict
    """constraint -> Relax: the exact least relaxation (hand-derived)."""
    iis: tuple
    """The irreducible infeasible subsets (frozensets of row names); one when unique."""
    where: dict
    """constraint -> At, for every culprit and IIS member."""
    lp_infeasible: bool = True
    """False when only whole units make it infeasible (integrality_only)."""
    lp_objective: float | None = None
    """The lp optimum when lp is feasible."""
    presolve: tuple = ()
    """Rows the pre-solve check must name (the case never reaches a solver)."""
    member_says: dict = field(default_factory=dict)
    """conflict member -> substrings its message must contain."""
    presolve_says: tuple = ()
    xfail: dict = field(default_factory=dict)
    """aspect or (aspect, backend) -> reason, aspects: relaxation, messages, conflict,
    member_messages, engine_iis (irreducibility of the engine's conflict)."""

    @property
    def integrality_only(self) -> bool:
        return not self.lp_infeasible

    def runs(self) -> list[tuple[str, str]]:
        out = [("lp", b) for b in LP_BACKENDS] if self.lp_infeasible else []
        out += [("milp", b) for b in MILP_BACKENDS] + [("cp", b) for b in CP_BACKENDS]
        return out


def S(*names: str) -> frozenset:
    return frozenset(names)


# Engine problems (each reproduced in the report):


CASES = [
    Case(
        "cap_no_expand", "capacity too small, no expansion",
        culprit="capacity[nurse]",
        relax={"capacity[nurse]": Relax(50, 150, ("50 short", "capacity 150"))},
        iis=(S("capacity[nurse]"),),
        where={"capacity[nurse]": At("config", 14)},
        member_says={"capacity[nurse]": ("nurse capacity 150",)},
    ),
    Case(
        "cap_max_expand", "capacity too small even at maximum expansion",
        culprit="capacity[nurse]",
        relax={"capacity[nurse]": Relax(40, 100, ("40 short", "2 expansion steps of 30",
                                                   "1.33 more steps"))},
        iis=(S("capacity[nurse]"),),
        where={"capacity[nurse]": At("config", 16)},
    ),
    Case(
        "budget_below_cheapest", "budget below the cheapest plan, above the block contract",
        culprit="budget",
        relax={"budget": Relax(1250, 7000, ("£1,250 short",))},
        iis=(S("budget"),),
        where={"budget": At("config", 23)},
        member_says={"budget": ("£7,000",)},
    ),
    Case(
        "block_above_budget", "block contract above the budget: pre-solve check",
        culprit="budget",
        presolve=("budget",),
        presolve_says=("£9,000", "£8,000"),
        relax={"budget": Relax(1700, 8000)},
        iis=(S("budget", "block_contract[hosp]"),),
        where={"budget": At("config", 24), "block_contract[hosp]": At("config", 21)},
    ),
    Case(
        "quality_above_all", "quality floor above every provider's quality: pre-solve check",
        culprit="quality[north,care]",
        presolve=("quality[north,care]",),
        presolve_says=("0.9", "0.85"),
        relax={"quality[north,care]": Relax(5, 0)},
        iis=(S("quality[north,care]"),),
        where={"quality[north,care]": At("config", 18)},  # min_quality.default
    ),
    Case(
        "quality_needs_capacity",
        "quality floor reachable only beyond the high-quality provider's capacity",
        culprit="quality[north,care]",
        relax={"quality[north,care]": Relax(4, 0, ("floor 0.9", "0.8600"))},
        iis=(S("quality[north,care]", "capacity[nurse]"),),
        where={"quality[north,care]": At("config", 26),  # min_quality.care, not default
               "capacity[nurse]": At("config", 16)},
        member_says={"quality[north,care]": ("floor 0.9",), "capacity[nurse]": ("30",)},
    ),
    Case(
        "pace_vs_setting_cap", "max_shift (config) against max_share (pathway file)",
        culprit="pace[north,care,review,hosp]",
        relax={"pace[north,care,review,hosp]": Relax(20, 70, ("lose 20", "would have to be 0.500"))},
        iis=(S("pace[north,care,review,hosp]", "setting_cap[north,care,review,hospital]"),),
        where={"pace[north,care,review,hosp]": At("config", 24),
               "setting_cap[north,care,review,hospital]": At("review_hosp_capped.yaml", 9)},
        member_says={"pace[north,care,review,hosp]": ("70%",),
                     "setting_cap[north,care,review,hospital]": ("hospital",)},
    ),
    Case(
        "pace_vs_capacity", "pace of change against capacity",
        culprit="pace[north,care,review,hub]",
        relax={"pace[north,care,review,hub]": Relax(20, 80, ("would have to be 0.400",))},
        iis=(S("pace[north,care,review,hub]", "capacity[nurse]"),),
        where={"pace[north,care,review,hub]": At("config", 23), "capacity[nurse]": At("config", 13)},
    ),
    Case(
        "min_volume_forced", "min_volume above all demand, the hub kept open by the pace",
        culprit="min_volume[hub]",
        relax={"min_volume[hub]": Relax(50, 150, ("150", "100"))},
        iis=(S("pace[north,care,review,hub]", "min_volume[hub]"),),
        where={"min_volume[hub]": At("config", 24), "pace[north,care,review,hub]": At("config", 27)},
        member_says={"min_volume[hub]": ("min_volume 150",)},
    ),
    Case(
        "setting_caps_below_one", "max_share caps summing to 0.9 with only capped settings",
        culprit="setting_cap[north,care,review,primary_care]",
        relax={"setting_cap[north,care,review,primary_care]": Relax(10, 50, ("0.600 is needed",))},
        iis=(S("setting_cap[north,care,review,community]",
               "setting_cap[north,care,review,primary_care]"),),
        where={"setting_cap[north,care,review,community]": At("review_split_caps.yaml", 10),
               "setting_cap[north,care,review,primary_care]": At("review_split_caps.yaml", 11)},
    ),
    Case(
        "uptake_min_capacity", "per_patient.min (pathway file) against capacity (config)",
        culprit="uptake_min[north,care,rehab]",
        relax={"uptake_min[north,care,rehab]": Relax(20, 50, ("from 50 to 30",))},
        iis=(S("uptake_min[north,care,rehab]", "capacity[nurse]"),),
        where={"uptake_min[north,care,rehab]": At("rehab_heavy.yaml", 8),
               "capacity[nurse]": At("config", 15)},
        member_says={"uptake_min[north,care,rehab]": ("50",)},
    ),
    Case(
        "uptake_max_budget", "uptake maximum against the budget",
        culprit="budget",
        relax={"budget": Relax(900, 8100, ("£900 short",))},
        iis=(S("budget", "uptake_max[north,care,rehab]"),),
        where={"budget": At("config", 19), "uptake_max[north,care,rehab]": At("rehab_avoids.yaml", 8)},
        member_says={"uptake_max[north,care,rehab]": ("60",)},
    ),
    Case(
        "zero_capacity", "the only provider's resource has no capacity: pre-solve check",
        culprit="capacity[nurse]",
        presolve=("capacity[nurse]",),
        presolve_says=("nurse", "no capacity", "100"),
        relax={"capacity[nurse]": Relax(200, 0)},
        iis=(S("capacity[nurse]"),),
        where={"capacity[nurse]": At("config", 11)},
    ),
    Case(
        "integrality_expansion", "whole expansion steps: 1.5 steps needed, budget for 1.5",
        culprit="capacity[nurse]",
        relax={"capacity[nurse]": Relax(10, 70, ("10 short",))},
        iis=(S("capacity[nurse]", "budget"),),
        where={"capacity[nurse]": At("config", 18), "budget": At("config", 27)},
        lp_infeasible=False, lp_objective=2500,
    ),
    Case(
        "integrality_fixed_cost", "a service runs whole (o binary with a fixed cost)",
        culprit="budget",
        relax={"budget": Relax(400, 2600, ("£400 short",))},
        iis=(S("budget", "capacity[nurse]"),),
        where={"budget": At("config", 28), "capacity[nurse]": At("config", 18)},
        lp_infeasible=False, lp_objective=2500,  # 3000 - 10 * 50
    ),
    Case(
        "integrality_min_volume", "min_volume with o binary: lp feasible, milp not",
        culprit="min_volume[hub]",
        relax={"min_volume[hub]": Relax(20, 60, ("60", "40"))},
        iis=(S("pace[north,care,review,hub]", "min_volume[hub]", "capacity[nurse]"),),
        where={"min_volume[hub]": At("config", 30), "pace[north,care,review,hub]": At("config", 34),
               "capacity[nurse]": At("config", 19)},
        lp_infeasible=False, lp_objective=7600,  # 40 * 40 at the hub + 60 * 100 at hosp
        member_says={"min_volume[hub]": ("min_volume 60",)},
    ),
    Case(
        "multi_capacity_south", "two localities, capacity short in south only",
        culprit="capacity[south_nurse]",
        relax={"capacity[south_nurse]": Relax(60, 240, ("south_nurse is 60 short",))},
        iis=(S("capacity[south_nurse]"),),
        where={"capacity[south_nurse]": At("config", 16)},
    ),
    Case(
        "multi_quality_south", "two localities, quality floor unreachable in south only",
        culprit="quality[south,care]",
        relax={"quality[south,care]": Relax(10, 0, ("in south", "0.8000"))},
        iis=(S("quality[south,care]", "capacity[south_nurse]"),),
        where={"quality[south,care]": At("config", 35), "capacity[south_nurse]": At("config", 18)},
        member_says={"quality[south,care]": ("in south",)},
    ),
    Case(
        "multi_pace_north", "two localities, pace against the setting cap in north only",
        culprit="pace[north,care,review,north_hosp]",
        relax={"pace[north,care,review,north_hosp]": Relax(20, 70, ("in north", "0.500"))},
        iis=(S("pace[north,care,review,north_hosp]", "setting_cap[north,care,review,hospital]"),),
        where={"pace[north,care,review,north_hosp]": At("config", 36),
               "setting_cap[north,care,review,hospital]": At("review_hosp_capped.yaml", 9)},
    ),
    Case(
        "uptake_min_budget", "per_patient.min (pathway file) against the budget (config)",
        culprit="uptake_min[north,care,rehab]",
        relax={"uptake_min[north,care,rehab]": Relax(12, 40, ("from 40 to 28",))},
        iis=(S("uptake_min[north,care,rehab]", "budget"),),
        where={"uptake_min[north,care,rehab]": At("rehab_plus_review.yaml", 8),
               "budget": At("config", 20)},
    ),
    Case(
        "pace_vs_quality", "pace of change against a default quality floor",
        culprit="quality[north,care]",
        relax={"quality[north,care]": Relax(2, 0, ("floor 0.8", "0.7800"))},
        iis=(S("quality[north,care]", "pace[north,care,review,hosp]"),),
        where={"quality[north,care]": At("config", 21), "pace[north,care,review,hosp]": At("config", 22)},
    ),
    Case(
        "two_resources", "two resources short: both relaxed, either is an IIS",
        culprit="capacity[nurse]",
        relax={"capacity[nurse]": Relax(20, 80, ("20 short",)),
               "capacity[room]": Relax(5, 45, ("5 short",))},
        iis=(S("capacity[nurse]"), S("capacity[room]")),
        where={"capacity[nurse]": At("config", 13), "capacity[room]": At("config", 14)},
    ),
    Case(
        "setting_cap_optional", "max_share on an optional step against its minimum uptake",
        culprit="setting_cap[north,care,rehab,community]",
        relax={"setting_cap[north,care,rehab,community]": Relax(6, None)},
        iis=(S("setting_cap[north,care,rehab,community]", "uptake_min[north,care,rehab]"),),
        where={"setting_cap[north,care,rehab,community]": At("rehab_capped.yaml", 10),
               "uptake_min[north,care,rehab]": At("rehab_capped.yaml", 8)},
    ),
    # multi-year plans (SPEC section 7): rows are named with their calendar year
    Case(
        "multiyear_budget_second_year", "two-year budget list, the second year too small",
        culprit="budget[2028]",
        relax={"budget[2028]": Relax(200, 7500, ("budget for 2028 is £200 short",
                                                 "(budget £7,500)"))},
        iis=(S("budget[2028]"),),
        where={"budget[2028]": At("config", 25)},  # the list element, not the key
        member_says={"budget[2028]": ("£7,500", "2028")},
    ),
    Case(
        "multiyear_carry_short", "two-year budget list with carry-over, still short",
        culprit="budget[2028]",
        relax={"budget[2028]": Relax(100, 7500, ("budget for 2028 is £100 short", "carry over"))},
        iis=(S("budget[2027]", "budget[2028]"),),
        where={"budget[2027]": At("config", 21), "budget[2028]": At("config", 21)},
        member_says={"budget[2027]": ("£7,100", "2027"), "budget[2028]": ("£7,500", "2028")},
    ),
    Case(
        "multiyear_year_pace", "year-on-year pace of change against capacity, demand growing",
        culprit="year_pace[north,care,review,hub,2028]",
        relax={"year_pace[north,care,review,hub,2028]": Relax(
            21.5, 0, ("pace of change from 2027 to 2028", "lose 21.5 more care.review in north",
                      "would have to be 0.259"))},
        iis=(S("pace[north,care,review,hub,2027]", "year_pace[north,care,review,hub,2028]",
               "capacity[nurse,2028]"),),
        where={"year_pace[north,care,review,hub,2028]": At("config", 37),
               "pace[north,care,review,hub,2027]": At("config", 37),
               "capacity[nurse,2028]": At("config", 27)},
        member_says={"year_pace[north,care,review,hub,2028]": ("from 2027 to 2028", "90%"),
                     "pace[north,care,review,hub,2027]": ("from today to 2027",),
                     "capacity[nurse,2028]": ("nurse capacity 100 in 2028",)},
    ),
    Case(
        "multiyear_block_above_budget", "block contract above one year's budget: pre-solve check",
        culprit="budget[2028]",
        presolve=("budget[2028]",),
        presolve_says=("£9,000 a year", "budget of £8,500 for 2028"),
        relax={"budget[2028]": Relax(1200, 8500, ("budget for 2028 is £1,200 short",))},
        iis=(S("budget[2028]", "block_contract[hosp,2028]"),),
        where={"budget[2028]": At("config", 29), "block_contract[hosp,2028]": At("config", 26)},
        member_says={"block_contract[hosp,2028]": ("£9,000", "in 2028")},
    ),
]
BY_NAME = {c.name: c for c in CASES}


def config_of(case: Case) -> Path:
    return HERE / case.name / "config.yaml"


def file_of(case: Case, at: At) -> Path:
    return (config_of(case) if at.file == "config" else PATHWAYS / at.file).resolve()


def split_where(where: str) -> tuple[Path, int]:
    m = re.fullmatch(r"(.+):(\d+):(\d+)", where)
    assert m, f"where {where!r} is not FILE:LINE:COL"
    return Path(m.group(1)).resolve(), int(m.group(2))


@functools.lru_cache(maxsize=None)
def load(name: str, overrides: tuple = ()):
    return optimiser.load(config_of(BY_NAME[name]), overrides=list(overrides))


@functools.lru_cache(maxsize=None)
def solve(name: str, mode: str, backend: str, overrides: tuple = ()):
    return optimiser.solve(load(name, overrides), mode=mode, backend=backend)


def params(aspect: str | None = None, cases=CASES):
    """(case, mode, backend) for every run, xfailed where the case says so for ``aspect``."""
    out = []
    for c in cases:
        for mode, backend in c.runs():
            reason = c.xfail.get(aspect) or c.xfail.get((aspect, backend))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(c, mode, backend, id=f"{c.name}-{mode}-{backend}", marks=marks))
    return out


# ---------------------------------------------------------------------------------------
# the hand derivations are self-consistent (independent of the engine's diagnosis)
# ---------------------------------------------------------------------------------------

def test_at_least_twenty_cases():
    assert len(CASES) >= 20
    on_disk = {p.parent.name for p in HERE.glob("*/config.yaml")}
    assert on_disk == set(BY_NAME)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_lines_are_the_keys(case):
    """Each expected FILE:LINE holds the key that states the requirement (a check on the
    table above, not on the engine)."""
    words = {"capacity": "capacity", "budget": "budget", "pace": "max_shift",
             "min_volume": "min_volume", "block_contract": "block_contract",
             "quality": ("default", "care"), "setting_cap": None, "uptake_min": "min",
             "uptake_max": "max", "year_pace": "max_shift"}
    for name, at in case.where.items():
        text = file_of(case, at).read_text().splitlines()[at.line - 1]
        kind = name.split("[")[0]
        if kind == "budget" and re.fullmatch(r"\s*- [\d_]+", text):
            continue  # one year's entry of a budget list written as a block list
        if kind == "setting_cap":
            want = (name.rstrip("]").split(",")[3],)
        else:
            w = words[kind]
            want = w if isinstance(w, tuple) else (w,)
        assert any(re.search(rf"\b{x}:", text) for x in want), (name, at, text)


# ---------------------------------------------------------------------------------------
# status, location, least relaxation, conflict
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case,mode,backend", params())
def test_infeasible_and_culprit_located(case, mode, backend):
    r = solve(case.name, mode, backend)
    assert r.status is Status.INFEASIBLE
    assert not r.solved
    d = r.diagnosis
    assert d is not None and d["status"] == "infeasible"
    named = (d.get("presolve") or []) + d["relaxation"] + d["conflict"]
    assert named, "the diagnosis names no requirement"
    hits = [f for f in named if f["constraint"] == case.culprit]
    if case.culprit in case.relax and "relaxation" in case.xfail and not case.presolve:
        # the engine blames another row (see the xfail on test_least_relaxation); the culprit
        # must still be in the conflict
        hits = [f for f in d["conflict"] if f["constraint"] == case.culprit]
    assert hits, f"{case.culprit} not named: {[f['constraint'] for f in named]}"
    for f in hits:
        path, line = split_where(f["where"])
        at = case.where[case.culprit]
        assert (path, line) == (file_of(case, at), at.line), f["where"]


@pytest.mark.parametrize("case,mode,backend", params(cases=[c for c in CASES if c.presolve]))
def test_presolve_finding(case, mode, backend):
    d = solve(case.name, mode, backend).diagnosis
    found = {f["constraint"]: f for f in d["presolve"]}
    assert set(found) == set(case.presolve)
    for name, f in found.items():
        at = case.where[name]
        assert split_where(f["where"]) == (file_of(case, at), at.line)
        for s in case.presolve_says:
            assert s in f["message"], (s, f["message"])


@pytest.mark.parametrize("case,mode,backend", params("relaxation"))
def test_least_relaxation(case, mode, backend):
    d = solve(case.name, mode, backend).diagnosis
    got = {r["constraint"]: r for r in d["relaxation"]}
    assert set(got) == set(case.relax), {k: v["relax_by"] for k, v in got.items()}
    for name, want in case.relax.items():
        assert got[name]["relax_by"] == pytest.approx(want.by, rel=REL)
        if want.limit is not None:
            assert got[name]["limit"] == pytest.approx(want.limit, rel=REL, abs=1e-9)
        at = case.where[name]
        assert split_where(got[name]["where"]) == (file_of(case, at), at.line)


@pytest.mark.parametrize("case,mode,backend", params("messages"))
def test_relaxation_messages(case, mode, backend):
    d = solve(case.name, mode, backend).diagnosis
    got = {r["constraint"]: r["message"] for r in d["relaxation"]}
    for name, want in case.relax.items():
        if not want.says:
            continue
        assert name in got, f"{name} not relaxed"
        for s in want.says:
            assert s in got[name], (s, got[name])
    for msg in got.values():
        # a relaxation never asks for a negative limit
        assert not re.search(r"(fall to|be) -\d", msg), msg


@pytest.mark.parametrize("case,mode,backend", params("conflict"))
def test_conflict_set(case, mode, backend):
    d = solve(case.name, mode, backend).diagnosis
    got = frozenset(c["constraint"] for c in d["conflict"])
    assert got in case.iis, sorted(got)
    if not case.presolve or "conflict" in case.xfail:
        assert d["irreducible"] is True
    for c in d["conflict"]:
        at = case.where[c["constraint"]]
        assert split_where(c["where"]) == (file_of(case, at), at.line), c


@pytest.mark.parametrize("case,mode,backend", params("member_messages",
                                                     [c for c in CASES if c.member_says]))
def test_conflict_messages(case, mode, backend):
    d = solve(case.name, mode, backend).diagnosis
    got = {c["constraint"]: c["message"] for c in d["conflict"]}
    for name, says in case.member_says.items():
        assert name in got
        for s in says:
            assert s in got[name], (s, got[name])


@pytest.mark.parametrize("case,mode,backend", params())
def test_integrality_only(case, mode, backend):
    d = solve(case.name, mode, backend).diagnosis
    want = case.integrality_only and mode != "lp"
    assert bool(d.get("integrality_only", False)) is want


@pytest.mark.parametrize("case,backend", [(c, b) for c in CASES if c.integrality_only
                                          for b in LP_BACKENDS],
                         ids=lambda v: v.name if isinstance(v, Case) else v)
def test_lp_relaxation_feasible(case, backend):
    """The integrality-only cases have a plan when fractions are allowed."""
    r = solve(case.name, "lp", backend)
    assert r.status is Status.OPTIMAL
    assert r.objective == pytest.approx(case.lp_objective, rel=REL)
    assert r.diagnosis is None


# ---------------------------------------------------------------------------------------
# irreducibility, proven generically on the compiled model
# ---------------------------------------------------------------------------------------

OPTS = SolveOptions(time_limit=30)


@functools.lru_cache(maxsize=None)
def elastic_model(name: str, lp: bool, overrides: tuple = ()):
    model = compile_model(load(name, overrides).instance)
    return with_uptake_rows(model.relaxed() if lp else model)


def feasible(name: str, lp: bool, members: frozenset) -> bool:
    m = elastic_model(name, lp)
    names = m.row_meta["name"].to_numpy()
    soft = soft_rows(m)
    enforce = np.isin(names, list(members)) & soft
    assert int(enforce.sum()) == len(members), f"unknown or hard rows among {sorted(members)}"
    return feasible_with(m, enforce, get_backend("highs"), OPTS)


@functools.lru_cache(maxsize=None)
def irreducible(name: str, lp: bool, members: frozenset) -> tuple[bool, list]:
    """(the set is infeasible, members whose removal does NOT restore a plan)."""
    return (not feasible(name, lp, members),
            sorted(i for i in members if not feasible(name, lp, members - {i})))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hand_iis_is_irreducible(case):
    """Our hand-derived IIS: infeasible together, feasible without any one member -- in
    every mode the case is infeasible in; and with every soft row dropped there is a plan."""
    for lp in ((True, False) if case.lp_infeasible else (False,)):
        assert feasible(case.name, lp, frozenset())
        for iis in case.iis:
            infeasible, needless = irreducible(case.name, lp, iis)
            assert infeasible and not needless, (lp, sorted(iis), needless)
    if not case.lp_infeasible:
        for iis in case.iis:
            assert feasible(case.name, True, iis)


@pytest.mark.parametrize("case,mode,backend", params("engine_iis"))
def test_engine_conflict_is_irreducible(case, mode, backend):
    """Whatever conflict the engine returns: the members alone admit no plan, and dropping
    any one of them restores one (re-solved here, not trusted)."""
    d = solve(case.name, mode, backend).diagnosis
    members = frozenset(c["constraint"] for c in d["conflict"])
    assert members
    infeasible, needless = irreducible(case.name, mode == "lp", members)
    assert infeasible, f"{sorted(members)} admit a plan on their own"
    assert not needless, f"dropping {needless} leaves the rest infeasible"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hand_relaxation_is_exact(case):
    """Our least relaxation, applied alone, restores a plan, and 99.99 % of it does not (in
    every mode the case is infeasible in) -- checked on the compiled model with every soft
    row kept, whatever the engine reports. A row's limit moves by ``by`` in its own units; a
    minimum volume (whose row limit is 0) is lowered in the config instead."""
    highs = get_backend("highs")
    for lp in ((True, False) if case.lp_infeasible else (False,)):
        for frac, want in ((1.0, True), (1 - 1e-4, False)):
            overrides = tuple(
                f"providers.{n[len('min_volume['):-1]}.min_volume={r.limit - frac * r.by!r}"
                for n, r in case.relax.items() if n.startswith("min_volume["))
            m = elastic_model(case.name, lp, overrides)
            lb, ub = m.row_lb.copy(), m.row_ub.copy()
            names = list(m.row_meta["name"])
            for n, r in case.relax.items():
                if n.startswith("min_volume["):
                    continue
                i = names.index(n)
                if np.isfinite(lb[i]):
                    lb[i] -= frac * r.by
                else:
                    ub[i] += frac * r.by
            shifted = replace(m, row_lb=lb, row_ub=ub)
            got = feasible_with(shifted, soft_rows(shifted), highs, OPTS)
            assert got is want, (lp, frac)


# ---------------------------------------------------------------------------------------
# specific behaviours
# ---------------------------------------------------------------------------------------

def test_override_is_located_at_the_command_line():
    """A requirement set by --set is located there, and the amount follows the new limit:
    max_shift 0.35 keeps hosp >= 65 > 50, so the pace is relaxed by 15 (limit 65)."""
    r = solve("pace_vs_setting_cap", "milp", "highs", ("constraints.max_shift=0.35",))
    assert r.status is Status.INFEASIBLE
    (rel,) = r.diagnosis["relaxation"]
    assert rel["constraint"] == "pace[north,care,review,hosp]"
    assert rel["relax_by"] == pytest.approx(15, rel=REL)
    assert rel["limit"] == pytest.approx(65, rel=REL)
    assert rel["where"] == "--set constraints.max_shift=0.35"
    assert rel["key"] == "constraints.max_shift"


@pytest.mark.parametrize("shortfall", [421_280.19, 2_000_000.0])
def test_budget_shortfall_on_the_example_is_exact(shortfall):
    """Independent formulation: with no other limit in the way, the least relaxation of a
    budget B below the optimum C* without a budget is exactly C* - B, whatever the elastic
    MILP opens. (Northshire's budget
    caps a cost of about £37m: the elastic weights of budget slack, 1/B, are below a
    simplex's dual tolerance unless scaled; unscaled, it reported £1,846,952 for the first
    case.)"""
    free = optimiser.solve(optimiser.load(EXAMPLE, overrides=["constraints.budget="]),
                           mode="milp", backend="highs")
    budget = free.objective - shortfall
    r = optimiser.solve(optimiser.load(EXAMPLE, overrides=[f"constraints.budget={budget:.2f}"]),
                        mode="milp", backend="highs")
    assert r.status is Status.INFEASIBLE
    rel = [f for f in r.diagnosis["relaxation"] if f["kind"] == "budget"]
    assert len(rel) == 1, r.diagnosis["relaxation"]
    assert rel[0]["relax_by"] == pytest.approx(shortfall, rel=1e-6, abs=0.05)


def test_multi_locality_culprit_stays_in_its_locality():
    for name, loc, other in (("multi_capacity_south", "south", "north"),
                             ("multi_quality_south", "south", "north"),
                             ("multi_pace_north", "north", "south")):
        d = solve(name, "milp", "highs").diagnosis
        for f in d["relaxation"] + d["conflict"]:
            assert other not in f["constraint"], f
            assert f" in {other}" not in f["message"], f


def test_expansion_message_says_steps_taken():
    d = solve("integrality_expansion", "milp", "highs").diagnosis
    (rel,) = d["relaxation"]
    assert "0.50 more steps" not in rel["message"]
    assert re.search(r"\b1 (of 5 )?(expansion )?step", rel["message"]), rel["message"]


# ---------------------------------------------------------------------------------------
# multi-year plans
# ---------------------------------------------------------------------------------------

def test_budget_list_entry_is_located_at_its_column():
    """A year's budget in a flow list is located at that entry, not at the key:
    ``  budget: [7100, 7500]`` has 7100 at column 12 and 7500 at column 18."""
    d = solve("multiyear_carry_short", "milp", "highs").diagnosis
    where = {c["constraint"]: (c["where"], c["key"]) for c in d["conflict"]}
    path = _rel(config_of(BY_NAME["multiyear_carry_short"]))
    assert where["budget[2027]"][1] == "constraints.budget[0]"
    assert where["budget[2028]"][1] == "constraints.budget[1]"
    assert where["budget[2027]"][0].endswith(":21:12") and where["budget[2028]"][0].endswith(":21:18")
    assert path.split("/")[-2] in where["budget[2027]"][0]


def test_carry_over_counts_in_the_presolve_check():
    """With carry_over, 2028's budget of 8500 below the 9000 block contract is not certainly
    short: 2027 may carry 10000 - 9000 = 1000 into it (18000 <= 18500 over both years), so
    the pre-solve check stays silent. The plan is still infeasible: each year's cheapest
    spend is 9700 (block 9000 + 10 reviews at gp), 19400 over two years against 18500. The
    gap of 900 goes on 2027's budget (weight 1/10000 < 1/8500 for 2028's); the conflict is
    both years' budgets and both years' block contracts (drop 2027's block and it spends
    7000, carrying 3000)."""
    r = solve("multiyear_block_above_budget", "milp", "highs", ("constraints.carry_over=true",))
    assert r.status is Status.INFEASIBLE
    d = r.diagnosis
    assert not d.get("presolve")
    (rel,) = d["relaxation"]
    assert rel["constraint"] == "budget[2027]" and rel["relax_by"] == pytest.approx(900, rel=REL)
    assert "budget for 2027 is £900 short (budget £10,000)" in rel["message"]
    assert {c["constraint"] for c in d["conflict"]} == {
        "budget[2027]", "budget[2028]", "block_contract[hosp,2027]", "block_contract[hosp,2028]"}


def test_carry_over_presolve_names_the_first_short_year():
    """Budgets 9500, 8400, 10000 with carry_over: 2027 can carry at most 500, 2028 has 8400 +
    500 = 8900 < 9000 for its block contract: over 2027-2028, 18000 of block contracts
    against 17900 budgeted. Named at the 2028 entry."""
    r = solve("multiyear_block_above_budget", "milp", "highs",
              ("constraints.budget=[9500, 8400, 10000]", "constraints.carry_over=true"))
    (f,) = r.diagnosis["presolve"]
    assert f["constraint"] == "budget[2028]" and f["key"] == "constraints.budget[1]"
    assert "£18,000 over 2027-2028, above the £17,900 budgeted for those years" in f["message"]


def test_one_budget_for_every_year_gives_one_presolve_finding():
    r = solve("multiyear_block_above_budget", "milp", "highs", ("constraints.budget=8500",))
    (f,) = r.diagnosis["presolve"]
    assert f["key"] == "constraints.budget"
    assert "£9,000 a year, above the budget of £8,500 a year" in f["message"]
    # every year is short alike: 9700 - 8500 = 1200 each
    got = {x["constraint"]: x["relax_by"] for x in r.diagnosis["relaxation"]}
    assert got == {f"budget[{y}]": pytest.approx(1200, rel=REL) for y in (2027, 2028, 2029)}
    assert all(x["key"] == "constraints.budget" for x in r.diagnosis["relaxation"])


def test_one_year_messages_name_no_year():
    """A plan without a horizon keeps its one-year wording (no calendar year)."""
    d = solve("budget_below_cheapest", "milp", "highs").diagnosis
    assert d["relaxation"][0]["message"] == "budget is £1,250 short (budget £7,000)"
    assert d["conflict"][0]["message"] == "budget £7,000"


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------

def _rel(p: Path) -> str:
    return str(p.resolve().relative_to(Path(__file__).resolve().parent.parent))


class Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(*args, fresh: bool, capsys=None) -> Ran:
    """``python -m optimiser ARGS`` in a fresh process (``fresh``), else ``cli.main`` in this
    one (same code path, without paying the interpreter start-up again)."""
    if fresh:
        p = run_cli(*args)
        return Ran(p.returncode, p.stdout, p.stderr)
    import os

    from optimiser.cli import main

    root = Path(__file__).resolve().parent.parent
    here = os.getcwd()
    os.chdir(root)
    try:
        code = main([str(a) for a in args])
    finally:
        os.chdir(here)
    out = capsys.readouterr()
    return Ran(code, out.out, out.err)


@pytest.mark.parametrize("name,fresh", [("pace_vs_setting_cap", True), ("block_above_budget", True),
                                        ("cap_no_expand", False), ("uptake_min_capacity", False),
                                        ("multi_quality_south", False),
                                        ("multiyear_year_pace", False),
                                        ("multiyear_budget_second_year", False)])
def test_cli_explain_infeasible(name, fresh, capsys):
    case = BY_NAME[name]
    p = cli("explain", _rel(config_of(case)), fresh=fresh, capsys=capsys)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    at = case.where[case.culprit]
    loc = f"{_rel(file_of(case, at))}:{at.line}:"
    assert loc in p.stdout, p.stdout
    if not case.presolve:
        r = case.relax[case.culprit]
        assert all(s in p.stdout for s in r.says), p.stdout
        assert "These requirements conflict (drop any one and a plan exists)" in p.stdout
        for member in case.iis[0]:
            at = case.where[member]
            assert f"{_rel(file_of(case, at))}:{at.line}:" in p.stdout, (member, p.stdout)


def test_cli_explain_feasible():
    p = cli("explain", _rel(config_of(BY_NAME["cap_no_expand"])),
            "--set", "resources.nurse.capacity=200", fresh=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "feasible" in p.stdout and "Traceback" not in p.stdout + p.stderr


@pytest.mark.parametrize("name,mode,fresh", [("integrality_expansion", "cp", True),
                                             ("pace_vs_capacity", "milp", False),
                                             ("zero_capacity", "lp", False)])
def test_cli_solve_writes_diagnosis(name, mode, fresh, tmp_path, capsys):
    case = BY_NAME[name]
    out = tmp_path / "run"
    p = cli("solve", _rel(config_of(case)), "--out", out, "--mode", mode, fresh=fresh, capsys=capsys)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert sorted(f.name for f in out.iterdir()) == ["diagnosis.json", "summary.json"]
    d = json.loads((out / "diagnosis.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    named = {f["constraint"] for f in (d.get("presolve") or []) + d["relaxation"] + d["conflict"]}
    assert case.culprit in named
    if not case.presolve:
        (rel,) = [r for r in d["relaxation"] if r["constraint"] == case.culprit]
        assert math.isclose(rel["relax_by"], case.relax[case.culprit].by, rel_tol=REL)
        assert d.get("integrality_only", False) is (case.integrality_only and mode != "lp")
