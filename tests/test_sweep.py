"""Sweeps (optimiser.sweeps, SPEC section 8).

Every expected value here is either worked out by hand (the arithmetic is in the comments)
or computed by an independent route: a cold ``optimiser.solve(optimiser.load(base,
overrides=[...]))`` of the same scenario, with the ``--set`` strings written by this file
(not by ``optimiser.sweeps.spec.setting``) and the Monte Carlo draws applied as per-locality
``prevalence_per_1000`` overrides (not through ``worker.scale_prevalence`` or a warm
``demand_scale``). The scenarios are tiny, written to ``tmp_path`` as a root holding
``pathways/``, ``configs/`` and ``sweeps/``, so that the base and the pathways are confined
to the root the way SPEC section 2 says.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser.cli import main as cli_main
from optimiser.errors import ConfigError
from optimiser.sweeps import load_sweep, sweep
from optimiser.sweeps import worker as sweep_worker
from optimiser.sweeps.plan import factors, points
from optimiser.sweeps.run import CHUNK

REL = 1e-6

# ---------------------------------------------------------------------------------------------
# The tiny scenarios
# ---------------------------------------------------------------------------------------------

COPD = """\
pathway: copd
name: COPD
prevalence_per_1000: 20
steps:
  - step: review
    per_patient: 1
    settings: [hospital, community]
    max_share: {community: 0.8}
  - step: rehab
    per_patient: {min: 0.1, max: 0.5}
    settings: [community]
    avoids: {admission: 0.5}
  - step: admission
    per_patient: 0.4
    settings: [hospital]
"""

HF = """\
pathway: hf
name: Heart failure
prevalence_per_1000: 10
steps:
  - step: visit
    per_patient: 2
    settings: [hospital, community]
"""

BASE = """\
scenario: Sweep test
pathways: [../pathways/copd.yaml, ../pathways/hf.yaml]
localities:
  north: {population: 100_000}
  south: {population: 50000, prevalence_per_1000: {copd: 10}}
resources:
  nurse: {capacity: 1000, expand: {step: 500, cost: 20000, max_steps: 3}}
providers:
  hosp:
    setting: hospital
    mode: buy
    prices: {copd.review: 100, copd.admission: 3000, hf.visit: 150}
    quality: {default: 0.9}
    block_contract: 1_000_000
  hub:
    setting: community
    mode: make
    fixed_cost: 50000
    overhead: 0.2
    costs: {copd.review: 50, copd.rehab: 300, hf.visit: 80}
    quality: {default: 0.85}
    uses: {copd.review: {nurse: 1}, copd.rehab: {nurse: 2}, hf.visit: {nurse: 0.5}}
constraints:
  budget: 9_000_000
  min_quality: {default: 0.86}
  max_shift: 0.5
"""

# The same scenario planned over two years (north grows 2 % a year), for the cold route.
MULTI = BASE.replace(
    "scenario: Sweep test\n",
    "scenario: Sweep test, two years\nhorizon: {start: 2027, years: 2, discount_rate: 0.05}\n",
).replace("north: {population: 100_000}", "north: {population: 100_000, population_growth: 0.02}")

# Effective prevalence per 1000 in BASE and MULTI, read off the files above by hand: north
# has no override (the pathways' own 20 and 10); south overrides copd to 10.
PREVALENCE = {"north": {"copd": 20.0, "hf": 10.0}, "south": {"copd": 10.0, "hf": 10.0}}

# The hand-solved case: one locality of 1000 people, one pathway at 10 per 1000, so
# N = 1000 * 10 / 1000 = 10 patients, one fixed step at 2 per patient, so demand = 20 visits.
# hosp sells a visit at 10, clinic at 12: the cheapest plan buys all 20 from hosp for
# 20 * 10 = 200. Baseline (no current_share): everything to the first listed buy provider
# with an arc, hosp, so also 200, and savings 0.
HAND_PATHWAY = """\
pathway: visits
name: Visits
prevalence_per_1000: 10
steps:
  - step: see
    per_patient: 2
    settings: [hospital, community]
"""

HAND = """\
scenario: Hand case
pathways: [../pathways/visits.yaml]
localities:
  town: {population: 1000}
providers:
  hosp:
    setting: hospital
    mode: buy
    prices: {visits.see: 10}
  clinic:
    setting: community
    mode: buy
    prices: {visits.see: 12}
constraints:
  budget: 1000
"""
HAND_COST = 20 * 10  # 20 visits at 10

# The grid of the correctness test: budget, a capacity, a price and a population (warm
# paths) and max_shift (a cold path). 2^5 = 32 scenarios, so two chunks of CHUNK=20.
GRID = {
    "constraints.budget": [1_950_000, 2_400_000],
    "resources.nurse.capacity": [1000, 2500],
    "providers.hosp.prices.copd.review": [100, 60],
    "localities.north.population": [100_000, 80_000],
    "constraints.max_shift": [0.5, 0.2],
}
SOLVED = {"optimal", "feasible"}


def put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_world(root: Path) -> Path:
    put(root, "pathways/copd.yaml", COPD)
    put(root, "pathways/hf.yaml", HF)
    put(root, "configs/base.yaml", BASE)
    put(root, "configs/multi.yaml", MULTI)
    put(root, "pathways/visits.yaml", HAND_PATHWAY)
    put(root, "configs/hand.yaml", HAND)
    return root


def sweep_text(base: str, grid: dict, samples: str | None = None, extra: str = "") -> str:
    lines = [f"base: {base}"]
    if grid:
        lines.append("vary:")
        lines += [f"  {k}: {json.dumps(v)}" for k, v in grid.items()]
    if samples:
        lines.append(f"samples: {samples}")
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
def world(tmp_path) -> Path:
    return make_world(tmp_path / "w")


def as_set(path: str, value) -> str:
    """The ``--set`` string of one grid value, written here (ints plain, floats by repr)."""
    return f"{path}={value!r}" if isinstance(value, float) else f"{path}={value}"


def grid_rows(grid: dict) -> list[tuple]:
    """Grid points in row-major order over the axes as written (the documented order)."""
    return list(itertools.product(*grid.values()))


PREVALENCE_PATH = re.compile(r"localities\.(\w+)\.prevalence_per_1000\.(\w+)")


def sample_sets(grid: dict, values: tuple, factor: dict[str, float]) -> list[str]:
    """The grid's ``--set`` strings, then each locality's prevalence override set to its
    effective prevalence (PREVALENCE, or the grid's value for it) times the sample's factor."""
    prev = {loc: dict(v) for loc, v in PREVALENCE.items()}
    out = []
    for path, value in zip(grid, values):
        m = PREVALENCE_PATH.fullmatch(path)
        if m:
            prev[m.group(1)][m.group(2)] = float(value)
        else:
            out.append(as_set(path, value))
    return out + [f"localities.{loc}.prevalence_per_1000.{pw}={v * factor[pw]!r}"
                  for loc, p in prev.items() for pw, v in p.items()]


def cold(base: Path, sets: list[str], mode: str | None = None):
    return optimiser.solve(optimiser.load(base, overrides=sets), mode=mode,
                           diagnose_infeasible=False)


def check_against_cold(table: pd.DataFrame, base: Path, sets_of_row, mode: str | None = None):
    """Every row's status, objective, baseline and (when infeasible under a budget) cost
    without the budget against a cold solve of the same scenario."""
    for _, row in table.iterrows():
        sets = sets_of_row(row)
        ref = cold(base, sets, mode)
        assert row["status"] == ref.status.value, (row["scenario"], sets)
        assert row["baseline_cost"] == pytest.approx(ref.summary["baseline_cost"], rel=REL)
        if ref.status.value in SOLVED:
            assert row["objective"] == pytest.approx(ref.objective, rel=REL), \
                (row["scenario"], sets)
            assert row["savings"] == pytest.approx(row["baseline_cost"] - row["objective"], rel=REL)
        else:
            assert pd.isna(row["objective"])
        if ref.status.value == "infeasible":
            free = cold(base, sets + ["constraints.budget="], mode)
            assert bool(row["budget_breached"]) is free.status.has_solution
            if free.status.has_solution:
                assert row["cost_without_budget"] == pytest.approx(free.objective, rel=REL)


# ---------------------------------------------------------------------------------------------
# 1. The sweep file
# ---------------------------------------------------------------------------------------------


def issues_of(path: Path, **kw) -> list:
    with pytest.raises(ConfigError) as exc:
        load_sweep(path, **kw)
    return exc.value.issues


def test_unknown_key_suggests(world):
    f = put(world, "sweeps/s.yaml", "base: ../configs/base.yaml\nsample: {n: 3}\n")
    (i,) = issues_of(f)
    assert (i.line, i.column, i.path) == (2, 1, "sample")
    assert "did you mean 'samples'" in i.message


def test_missing_base(world):
    f = put(world, "sweeps/s.yaml", "vary:\n  constraints.budget: [1, 2]\n")
    (i,) = issues_of(f)
    assert "base" in i.message and "missing" in i.message


def test_base_confined_to_root(world, tmp_path):
    # a base outside the folder that holds the sweep file's folder: refused, unless allowed
    make_world(tmp_path / "elsewhere")
    f = put(world, "sweeps/s.yaml", sweep_text("../../elsewhere/configs/hand.yaml",
                                               {"constraints.budget": [150, 300]}))
    (i,) = issues_of(f)
    assert (i.line, i.column, i.path) == (1, 7, "base")  # "base: " is 6 characters
    assert "outside" in i.message and "--allow-path" in i.message
    sw = load_sweep(f, allow_paths=[tmp_path / "elsewhere"])
    assert sw.axes == (("constraints.budget", (150, 300)),)


def test_base_that_does_not_exist(world):
    f = put(world, "sweeps/s.yaml", "base: ../configs/nope.yaml\nsamples: {n: 2}\n")
    (i,) = issues_of(f)
    assert (i.line, i.path) == (1, "base") and "does not exist" in i.message


def test_refused_value_located_at_its_entry(world):
    f = put(world, "sweeps/s.yaml", (
        "base: ../configs/base.yaml\n"
        "vary:\n"
        "  constraints.budget: [2000000, 3000000]\n"
        "  localities.north.population:\n"
        "    - 1000\n"
        "    - -5\n"))
    (i,) = issues_of(f)
    # line 6 is "    - -5": four spaces, "-", a space, then the value at column 7
    assert (i.file, i.line, i.column) == (str(f), 6, 7)
    assert i.path == "vary.localities.north.population[1]"
    assert "-5" in i.message and "refused by the base" in i.message


def test_refused_value_in_a_range_located_at_the_axis(world):
    f = put(world, "sweeps/s.yaml", (
        "base: ../configs/base.yaml\n"
        "vary:\n"
        "  localities.north.population: {from: -10, to: 10, steps: 3}\n"))
    (i,) = issues_of(f)
    assert i.line == 3 and i.path == "vary.localities.north.population"
    assert "-10" in i.message


def test_range_expands_as_documented(world):
    f = put(world, "sweeps/s.yaml", (
        "base: ../configs/base.yaml\n"
        "vary:\n"
        "  localities.north.population: {from: 90_000, to: 110_000, steps: 5}\n"
        "  constraints.max_shift: {from: 0, to: 1, steps: 3}\n"))
    sw = load_sweep(f)
    (p1, v1), (p2, v2) = sw.axes
    # (110000 - 90000) / 4 = 5000 apart, all whole: ints
    assert (p1, v1) == ("localities.north.population", (90_000, 95_000, 100_000, 105_000, 110_000))
    assert all(type(v) is int for v in v1)
    # 0, 0.5, 1: the spacing is not whole, so floats
    assert p2 == "constraints.max_shift" and v2 == (0.0, 0.5, 1.0)
    assert [type(v) for v in v2] == [float, float, float]
    assert sw.grid_size == 15 and sw.size == 15


def test_samples_n_zero_refused(world):
    f = put(world, "sweeps/s.yaml", "base: ../configs/base.yaml\nsamples: {n: 0}\n")
    (i,) = issues_of(f)
    assert i.path == "samples.n" and i.line == 2


def test_nothing_varies_refused(world):
    f = put(world, "sweeps/s.yaml", "base: ../configs/base.yaml\n")
    (i,) = issues_of(f)
    assert "vary" in i.message and "samples" in i.message


def test_duplicate_key_refused(world):
    f = put(world, "sweeps/s.yaml",
            "base: ../configs/base.yaml\nbase: ../configs/multi.yaml\nsamples: {n: 2}\n")
    (i,) = issues_of(f)
    assert (i.line, i.path) == (2, "base") and "duplicate" in i.message


def test_invalid_base_reports_the_base_problems(world):
    f = put(world, "sweeps/s.yaml", "base: ../pathways/copd.yaml\nsamples: {n: 2}\n")
    issues = issues_of(f)
    head = [i for i in issues if i.path == "base"]
    assert len(head) == 1 and "not valid" in head[0].message
    assert any(i.file.endswith("copd.yaml") and "scenario" in i.message for i in issues)


def test_invalid_base_names_the_base_and_its_problems_as_written(world, monkeypatch, capsys):
    """The header names the base as the user wrote it (relative), and the base's own
    problems carry that name too (ConfigError sorts issues by file, so the header need not
    come first)."""
    monkeypatch.chdir(world)
    put(world, "sweeps/s.yaml", "base: ../pathways/copd.yaml\nsamples: {n: 2}\n")
    assert cli_main(["sweep", "sweeps/s.yaml", "--no-plots"]) == 2
    lines = capsys.readouterr().err.splitlines()
    head = [ln for ln in lines if ln.startswith("sweeps/s.yaml:")]
    assert len(head) == 1 and "the base scenario pathways/copd.yaml is not valid" in head[0]
    assert any(ln.startswith("pathways/copd.yaml") for ln in lines), lines
    assert not any(ln.startswith(str(world)) for ln in lines), lines


def test_sweep_file_unknown_mode_is_a_located_error(world, monkeypatch, capsys):
    put(world, "sweeps/m.yaml", "base: ../configs/hand.yaml\nmode: quantum\nsamples: {n: 2}\n")
    monkeypatch.chdir(world)
    code = cli_main(["sweep", "sweeps/m.yaml", "--no-plots", "--out", "o"])
    err = capsys.readouterr().err
    assert code == 2  # the cli docstring: 2 for an invalid sweep file
    assert err.startswith("sweeps/m.yaml:2:7: mode: ")


def test_cli_invalid_sweep_exit_2(world, monkeypatch, capsys):
    monkeypatch.chdir(world)
    put(world, "sweeps/bad.yaml", (
        "base: ../configs/base.yaml\n"
        "vary:\n"
        "  localities.north.population:\n"
        "    - 1000\n"
        "    - -5\n"
        "samples: {n: 2, sed: 3}\n"))
    code = cli_main(["sweep", "sweeps/bad.yaml", "--no-plots", "--out", str(world / "out")])
    out = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out.err and out.out == ""
    lines = out.err.splitlines()
    # FILE:LINE:COL: key.path: message, every problem at once (schema problems come first:
    # the values are checked against the base only for a valid sweep file)
    assert lines[0] == "sweeps/bad.yaml:6:17: samples.sed: unknown key 'sed'; did you mean 'seed'?"
    assert lines[-1].startswith("1 problem found")
    assert not (world / "out").exists()
    put(world, "sweeps/bad.yaml", (
        "base: ../configs/base.yaml\n"
        "vary:\n"
        "  localities.north.population:\n"
        "    - 1000\n"
        "    - -5\n"))
    assert cli_main(["sweep", "sweeps/bad.yaml", "--no-plots"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"sweeps/bad\.yaml:5:7: vary\.localities\.north\.population\[1\]: "
                        r"value -5 is refused by the base scenario: .*", err[0]), err


# ---------------------------------------------------------------------------------------------
# 2. The plan
# ---------------------------------------------------------------------------------------------

SETTINGS = {"mode": "milp", "backend": "highs", "time_limit": None, "mip_gap": 1e-6}


def test_scenario_order_grid_then_samples(world):
    grid = {"constraints.budget": [2_000_000, 3_000_000],
            "localities.north.population": [100_000, 90_000, 80_000]}
    f = put(world, "sweeps/s.yaml",
            sweep_text("../configs/base.yaml", grid, "{n: 2, seed: 1, prevalence_cv: 0.1}"))
    pts = points(load_sweep(f), SETTINGS)
    # row-major over the axes as written, each grid point once per sample: 2 * 3 * 2 = 12
    expected = [(b, p, s) for b in grid["constraints.budget"]
                for p in grid["localities.north.population"] for s in range(2)]
    assert len(pts) == 12
    for i, (p, (b, pop, s)) in enumerate(zip(pts, expected)):
        assert p.index == i
        assert p.grid == (("constraints.budget", b), ("localities.north.population", pop))
        assert p.sample == s
        assert [pw for pw, _ in p.factors] == ["copd", "hf"]
    # a sample's factors are the same at every grid point
    assert pts[0].factors == pts[2].factors == pts[10].factors
    assert pts[1].factors == pts[11].factors != pts[0].factors


def test_without_samples_no_factors(world):
    f = put(world, "sweeps/s.yaml", sweep_text("../configs/base.yaml",
                                               {"constraints.budget": [2_000_000, 3_000_000]}))
    pts = points(load_sweep(f), SETTINGS)
    assert [(p.index, p.sample, p.factors) for p in pts] == [(0, None, ()), (1, None, ())]


def test_seed_decides_the_draws(world):
    def draws(name, samples, grid=None):
        f = put(world, f"sweeps/{name}.yaml",
                sweep_text("../configs/base.yaml", grid or {}, samples))
        return factors(load_sweep(f))

    a = draws("a", "{n: 5, seed: 7, prevalence_cv: 0.2}")
    b = draws("b", "{n: 5, seed: 7, prevalence_cv: 0.2}")
    c = draws("c", "{n: 5, seed: 8, prevalence_cv: 0.2}")
    assert a.shape == (5, 2)  # samples x pathways
    np.testing.assert_array_equal(a, b)
    assert not np.any(a == c)
    # drawn once, sample-major: fewer samples are a prefix, and a grid changes nothing
    np.testing.assert_array_equal(draws("d", "{n: 3, seed: 7, prevalence_cv: 0.2}"), a[:3])
    np.testing.assert_array_equal(
        draws("e", "{n: 5, seed: 7, prevalence_cv: 0.2}", {"constraints.budget": [1, 2]}), a)


@pytest.mark.parametrize("cv", [0.1, 0.25])
def test_lognormal_mean_one_and_cv(world, cv):
    n = 20_000
    f = put(world, "sweeps/s.yaml", sweep_text("../configs/base.yaml", {},
                                               f"{{n: {n}, seed: 3, prevalence_cv: {cv}}}"))
    draws = factors(load_sweep(f))
    assert draws.shape == (n, 2) and np.all(draws > 0)
    # Lognormal with mean 1 and cv c: sd = c, w = 1 + c^2, excess kurtosis
    # w^4 + 2 w^3 + 3 w^2 - 6. Standard errors over n draws: mean c / sqrt(n); sample sd
    # about c * sqrt((kurtosis - 1) / (4 n)) (kurtosis = excess + 3). cv 0.1: 7.1e-4 and
    # 5.2e-4; cv 0.25: 1.8e-3 and 1.5e-3. Tolerance: 5 standard errors (the sd term also
    # covers the cv = sd / mean ratio, whose mean is within 5e-3 of 1).
    w = 1 + cv * cv
    kurt = w ** 4 + 2 * w ** 3 + 3 * w ** 2 - 6 + 3
    se_mean = cv / math.sqrt(n)
    se_sd = cv * math.sqrt((kurt - 1) / (4 * n))
    for col in draws.T:
        assert abs(col.mean() - 1) < 5 * se_mean
        assert abs(col.std(ddof=1) / col.mean() - cv) < 5 * se_sd + cv * 5 * se_mean
    # the two pathways draw independently
    assert abs(np.corrcoef(draws.T)[0, 1]) < 5 / math.sqrt(n)


def test_cv_zero_gives_ones(world):
    f = put(world, "sweeps/s.yaml", sweep_text("../configs/base.yaml", {},
                                               "{n: 4, seed: 3, prevalence_cv: 0}"))
    sw = load_sweep(f)
    np.testing.assert_array_equal(factors(sw), np.ones((4, 2)))
    assert all(p.factors == (("copd", 1.0), ("hf", 1.0)) for p in points(sw, SETTINGS))


def test_keys(world, tmp_path):
    def keys(name, base, grid, samples=None, settings=SETTINGS, root=world):
        f = put(root, f"sweeps/{name}.yaml", sweep_text(base, grid, samples))
        return [p.key for p in points(load_sweep(f), settings)]

    grid = {"constraints.budget": [2_000_000, 3_000_000]}
    a = keys("a", "../configs/base.yaml", grid)
    assert len(set(a)) == 2
    # the same inputs under another sweep name, or in a copy of the whole folder: same keys
    assert keys("renamed", "../configs/base.yaml", grid) == a
    copy = shutil.copytree(world, tmp_path / "copy")
    assert keys("a", "../configs/base.yaml", grid, root=copy) == a
    # one value changed: only its point's key changes
    b = keys("b", "../configs/base.yaml", {"constraints.budget": [2_000_000, 2_500_000]})
    assert b[0] == a[0] and b[1] != a[1]
    # another base file (one number differs): every key changes
    put(world, "configs/base2.yaml", BASE.replace("fixed_cost: 50000", "fixed_cost: 60000"))
    c = keys("c", "../configs/base2.yaml", grid)
    assert not set(c) & set(a)
    # another mode (or backend): every key changes
    d = keys("d", "../configs/base.yaml", grid, settings={**SETTINGS, "mode": "lp"})
    assert not set(d) & set(a)
    # samples: another seed changes every key, the same seed none
    s1 = keys("s1", "../configs/base.yaml", grid, "{n: 2, seed: 1, prevalence_cv: 0.1}")
    s2 = keys("s2", "../configs/base.yaml", grid, "{n: 2, seed: 1, prevalence_cv: 0.1}")
    s3 = keys("s3", "../configs/base.yaml", grid, "{n: 2, seed: 2, prevalence_cv: 0.1}")
    assert s1 == s2 and len(set(s1)) == 4 and not set(s1) & set(s3)


def test_split_warm_and_cold_paths():
    from optimiser.sweeps.plan import Point

    grid = (("constraints.budget", 2_400_000), ("resources.nurse.capacity", 2500),
            ("providers.hosp.prices.copd.review", 60), ("localities.north.population", 80_000),
            ("constraints.max_shift", 0.2))
    p = Point(index=0, grid=grid, sample=0, factors=(("copd", 1.1), ("hf", 0.9)), key="k")
    changes, cold_sets = sweep_worker.split(p, warm=True)
    assert cold_sets == ("constraints.max_shift=0.2",)
    assert changes.budget == 2_400_000
    assert changes.capacity == {"nurse": 2500.0}
    assert changes.prices == {("hosp", "copd.review"): 60.0}
    assert changes.population == {"north": 80_000.0}
    assert changes.demand_scale == {"copd": 1.1, "hf": 0.9}
    _, all_cold = sweep_worker.split(p, warm=False)
    assert len(all_cold) == 5


# ---------------------------------------------------------------------------------------------
# 3. The answers, against cold solves
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    """The 32-scenario grid, solved once with one worker (shared by several tests)."""
    root = make_world(tmp_path_factory.mktemp("grid"))
    f = put(root, "sweeps/grid.yaml", sweep_text("../configs/base.yaml", GRID))
    res = sweep(f, out=root / "out", workers=1, plots=False)
    return root, f, res


def test_grid_answers_equal_cold_solves(grid_run):
    root, _, res = grid_run
    rows = grid_rows(GRID)
    t = res.table
    assert len(t) == 32 == len(rows) and res.solved_now == 32
    assert list(t["scenario"]) == list(range(32))
    for i, values in enumerate(rows):
        assert tuple(t.loc[i, list(GRID)]) == values
    # both outcomes happen in this grid (else the test proves little)
    assert {"optimal", "infeasible"} <= set(t["status"])
    assert t["budget_breached"].astype(object).eq(True).any()
    check_against_cold(t, root / "configs" / "base.yaml",
                       lambda row: [as_set(p, v) for p, v in zip(GRID, rows[row["scenario"]])])


def test_grid_summary_quantiles_and_binding(grid_run):
    _, _, res = grid_run
    t, s = res.table, res.summary
    solved = t[t["status"].isin(SOLVED)]
    obj = solved["objective"].to_numpy(float)
    sav = solved["savings"].to_numpy(float)
    for name, q in {"min": 0, "p05": .05, "p10": .1, "p25": .25, "p50": .5, "p75": .75,
                    "p90": .9, "p95": .95, "max": 1}.items():
        assert s["objective"][name] == pytest.approx(np.quantile(obj, q), abs=0.006)
        assert s["savings"][name] == pytest.approx(np.quantile(sav, q), abs=0.006)
    assert s["objective"]["mean"] == pytest.approx(obj.mean(), abs=0.006)
    # scenario counts by status
    assert s["scenarios"]["total"] == 32
    assert sum(v for k, v in s["scenarios"].items() if k != "total") == 32
    assert s["scenarios"]["infeasible"] == int((t["status"] == "infeasible").sum())
    # budget breach: breached rows over rows with a budget (all 32 here)
    assert s["budget_breach_probability"] == pytest.approx(
        t["budget_breached"].astype(object).eq(True).sum() / 32, abs=1e-6)
    # a limit binding in k of the n solved scenarios has k / n
    n = len(solved)
    counts: dict[str, int] = {}
    for names in solved["binding"].fillna(""):
        for name in filter(None, str(names).split(";")):
            counts[name] = counts.get(name, 0) + 1
    assert s["binding"] == pytest.approx({k: v / n for k, v in counts.items()}, abs=1e-6)
    assert list(s["binding"].values()) == sorted(s["binding"].values(), reverse=True)


# budgets chosen so that, with these draws, some scenarios fit and some breach the budget
SAMPLE_GRID = {"constraints.budget": [2_400_000, 3_000_000], "constraints.max_shift": [0.5, 0.2]}
# warm paths only, demand ones among them: the factor multiplies the varied population and
# the varied prevalence of south's copd; a make provider's cost too. 16 points x 2 samples.
WARM_SAMPLE_GRID = {"constraints.budget": [2_400_000, 3_000_000],
                    "localities.north.population": [100_000, 90_000],
                    "localities.south.prevalence_per_1000.copd": [10, 14],
                    "providers.hub.costs.copd.review": [50, 40]}


@pytest.mark.parametrize("config,mode,grid,n", [
    ("base", "milp", WARM_SAMPLE_GRID, 2),  # warm: demand_scale on a warm session
    ("base", "lp", SAMPLE_GRID, 3),        # warm and cold paths, lp relaxation
    ("base", "cp", {"constraints.budget": [2_400_000, 3_000_000]}, 2),    # cold (cp)
    ("multi", "milp", {"constraints.budget": [2_450_000, 3_000_000],
                       "localities.north.population": [100_000, 90_000]}, 2),  # cold (years)
])
def test_sample_answers_equal_cold_solves(world, config, mode, grid, n):
    f = put(world, "sweeps/s.yaml", sweep_text(f"../configs/{config}.yaml", grid,
                                               f"{{n: {n}, seed: 11, prevalence_cv: 0.15}}"))
    res = sweep(f, out=world / "out", workers=1, mode=mode, plots=False)
    t = res.table
    rows = grid_rows(grid)
    assert len(t) == len(rows) * n
    pws = ["copd", "hf"]
    factor_cols = [f"prevalence_factor.{pw}" for pw in pws]
    assert list(t.columns[1:len(grid) + 2 + len(pws)]) == [*grid, "sample", *factor_cols]
    assert not np.allclose(t[factor_cols].to_numpy(float), 1.0)
    assert {"optimal", "infeasible"} <= set(t["status"])  # both outcomes checked below
    if mode == "cp" or config == "multi":
        assert set(t["method"]) == {"cold"}  # no warm re-solves there (worker docstring)
    elif mode == "lp":
        assert "warm" in set(t["method"])
    for i, values in enumerate(rows):  # grid point i // n, sample i % n
        block = t.iloc[i * n:(i + 1) * n]
        assert list(block["sample"]) == list(range(n))
        assert [tuple(r) for r in block[list(grid)].itertuples(index=False)] == [values] * n
        np.testing.assert_array_equal(block[factor_cols].to_numpy(float),
                                      t.iloc[:n][factor_cols].to_numpy(float))

    def sets(row):
        values = rows[row["scenario"] // n]
        fac = {pw: float(row[f"prevalence_factor.{pw}"]) for pw in pws}
        return sample_sets(grid, values, fac)

    check_against_cold(t, world / "configs" / f"{config}.yaml", sets, mode)


# ---------------------------------------------------------------------------------------------
# 4. A hand-solved case
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["milp", "lp", "cp"])
def test_hand_budget_breach(world, mode):
    # budget 150 < 200: no plan within it, but one without it costing 200: breached.
    # budget 300 >= 200: optimal at 200, not breached. Breach probability 1 / 2.
    f = put(world, "sweeps/b.yaml", sweep_text("../configs/hand.yaml",
                                               {"constraints.budget": [150, 300]}))
    res = sweep(f, out=world / "out", workers=1, mode=mode, plots=False)
    t = res.table
    assert list(t["status"]) == ["infeasible", "optimal"]
    low, high = t.iloc[0], t.iloc[1]
    assert bool(low["budget_breached"]) is True
    assert low["cost_without_budget"] == pytest.approx(HAND_COST, rel=REL)
    assert pd.isna(low["objective"])
    assert bool(high["budget_breached"]) is False
    assert pd.isna(high["cost_without_budget"])
    assert high["objective"] == pytest.approx(HAND_COST, rel=REL)
    assert list(t["baseline_cost"]) == pytest.approx([HAND_COST, HAND_COST], rel=REL)
    assert high["savings"] == pytest.approx(0, abs=1e-6)
    assert high["make_share"] == 0  # both providers buy
    s = res.summary
    assert s["budget_breach_probability"] == 0.5
    assert s["scenarios"] == {"total": 2, "infeasible": 1, "optimal": 1}
    assert s["objective"]["min"] == s["objective"]["max"] == pytest.approx(HAND_COST)


@pytest.mark.parametrize("mode", ["milp", "lp", "cp"])
@pytest.mark.parametrize("base", ["hand", "hand_nobudget"])
def test_breach_with_the_budget_from_the_sweep(world, mode, base):
    # budgets none, 150 and 300 against the hand cost of 200, the base with a budget of
    # 1000 or with none: no budget -> no breach question (empty); 150 -> breached; 300 ->
    # not breached. Of the 2 scenarios with a budget, 1 is breached: probability 0.5.
    put(world, "configs/hand_nobudget.yaml", HAND.split("constraints:")[0])
    f = put(world, "sweeps/b.yaml", (f"base: ../configs/{base}.yaml\n"
                                     "vary:\n  constraints.budget: [~, 150, 300]\n"))
    res = sweep(f, out=world / "out", workers=1, mode=mode, plots=False)
    t = res.table
    assert list(t["status"]) == ["optimal", "infeasible", "optimal"]
    assert list(t["budget_breached"].astype(object).where(t["budget_breached"].notna(), None)) \
        == [None, True, False]
    assert res.summary["budget_breach_probability"] == 0.5


def test_hand_binding_frequency(world):
    # budgets 200, 250, 300 against a cost of 200: the budget row is tight in the first
    # only (flow and payment rows always hold with equality and are not counted), so it
    # binds in 1 of 3 solved scenarios; no budget is breached.
    f = put(world, "sweeps/b.yaml", sweep_text("../configs/hand.yaml",
                                               {"constraints.budget": [200, 250, 300]}))
    res = sweep(f, out=world / "out", workers=1, plots=False)
    t = res.table
    assert list(t["status"]) == ["optimal"] * 3
    assert list(t["objective"]) == pytest.approx([HAND_COST] * 3, rel=REL)
    assert list(t["binding"].fillna("")) == ["budget", "", ""]
    assert list(t["n_binding"]) == [1, 0, 0]
    assert res.summary["binding"] == {"budget": pytest.approx(1 / 3, abs=1e-6)}
    assert res.summary["binding_by_kind"] == {"budget": pytest.approx(1 / 3, abs=1e-6)}
    assert res.summary["budget_breach_probability"] == 0


def test_mode_is_part_of_the_key(world):
    f = put(world, "sweeps/b.yaml", sweep_text("../configs/hand.yaml",
                                               {"constraints.budget": [150, 300]}))
    assert sweep(f, out=world / "out", workers=1, plots=False).solved_now == 2
    assert sweep(f, out=world / "out", workers=1, mode="lp", plots=False).solved_now == 2
    assert sweep(f, out=world / "out", workers=1, mode="lp", plots=False).solved_now == 0
    with sqlite3.connect(world / "out" / "sweep.db") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 4


# ---------------------------------------------------------------------------------------------
# 5. Resume
# ---------------------------------------------------------------------------------------------

RESULT_COLUMNS = ["scenario", *GRID, "status", "objective", "baseline_cost", "savings",
                  "make_share", "n_binding", "binding", "budget_breached",
                  "cost_without_budget", "method", "message", "key"]


def db_rows(folder: Path, sql: str, args=()):
    with sqlite3.connect(folder / "sweep.db") as db:
        return db.execute(sql, args).fetchall()


def spy_solve(monkeypatch, fail: set[int] = frozenset()) -> list[int]:
    """Record the index of every scenario the worker solves (workers=1: in this process);
    raise for the indices in ``fail``."""
    seen: list[int] = []
    real = sweep_worker._solve

    def solve(job, p, fresh):
        seen.append(p.index)
        if p.index in fail:
            raise RuntimeError(f"boom {p.index}")
        return real(job, p, fresh)

    monkeypatch.setattr(sweep_worker, "_solve", solve)
    return seen


def test_resume_skips_answered_and_resolves_deleted(grid_run, tmp_path, monkeypatch):
    root, f, first = grid_run
    out = shutil.copytree(root / "out", tmp_path / "out")
    seen = spy_solve(monkeypatch)
    again = sweep(f, out=out, workers=1, plots=False)
    assert again.solved_now == 0 and seen == []
    pd.testing.assert_frame_equal(again.table, first.table)
    # delete two answers of the first chunk (scenarios 0-19): only they are stored again;
    # the chunk is re-solved whole, the second chunk (20-31) is not touched
    db_rows(out, "DELETE FROM results WHERE idx IN (3, 7)")
    assert db_rows(out, "SELECT COUNT(*) FROM results") == [(30,)]
    progress: list[tuple] = []
    third = sweep(f, out=out, workers=1, plots=False, progress=lambda *a: progress.append(a))
    assert third.solved_now == 2
    assert set(seen) <= set(range(CHUNK)) and {3, 7} <= set(seen)
    assert progress[0] == (30, 0, 32) and progress[-1] == (32, 0, 32)
    pd.testing.assert_frame_equal(third.table[RESULT_COLUMNS], first.table[RESULT_COLUMNS])
    assert db_rows(out, "SELECT COUNT(*), COUNT(DISTINCT key) FROM results") == [(32, 32)]


def test_extended_grid_reuses_answers(world):
    # the keys do not depend on the sweep file, only on each scenario's inputs: a value
    # added to an axis is the only scenario solved by the re-run
    f = put(world, "sweeps/b.yaml", sweep_text("../configs/hand.yaml",
                                               {"constraints.budget": [150, 300]}))
    first = sweep(f, out=world / "out", workers=1, plots=False)
    put(world, "sweeps/b.yaml", sweep_text("../configs/hand.yaml",
                                           {"constraints.budget": [150, 300, 250]}))
    second = sweep(f, out=world / "out", workers=1, plots=False)
    assert second.solved_now == 1 and len(second.table) == 3
    assert list(second.table["key"][:2]) == list(first.table["key"])
    assert second.table.loc[2, "objective"] == pytest.approx(HAND_COST, rel=REL)


def test_error_is_retried(world, monkeypatch):
    f = put(world, "sweeps/b.yaml", sweep_text("../configs/hand.yaml",
                                               {"constraints.budget": [150, 200, 300]}))
    out = world / "out"
    seen = spy_solve(monkeypatch, fail={1})
    progress: list[tuple] = []
    first = sweep(f, out=out, workers=1, plots=False, progress=lambda *a: progress.append(a))
    # the failure never stops the sweep: scenario 1 is an error with a message, the rest solved
    assert seen == [0, 1, 2]
    assert list(first.table["status"]) == ["infeasible", "error", "optimal"]
    assert first.table.loc[1, "message"] == "RuntimeError: boom 1"
    assert first.summary["scenarios"] == {"total": 3, "infeasible": 1, "error": 1, "optimal": 1}
    # breach probability over the scenarios with a budget and an answer: 1 of 2
    assert first.summary["budget_breach_probability"] == 0.5
    assert progress[-1] == (2, 1, 3)
    assert db_rows(out, "SELECT status FROM results WHERE idx = 1") == [("error",)]
    # a re-run (the fault gone) tries the error again and only it
    monkeypatch.undo()
    seen = spy_solve(monkeypatch)
    second = sweep(f, out=out, workers=1, plots=False)
    assert second.solved_now == 1 and 1 in seen
    assert list(second.table["status"]) == ["infeasible", "optimal", "optimal"]
    # budget 200 against a cost of 200: optimal at 200 (hand case above)
    assert second.table.loc[1, "objective"] == pytest.approx(HAND_COST, rel=REL)
    assert pd.isna(second.table.loc[1, "message"])
    assert db_rows(out, "SELECT COUNT(*), COUNT(DISTINCT key) FROM results") == [(3, 3)]
    # an error written into the store by hand is retried the same way
    db_rows(out, "UPDATE results SET status = 'error' WHERE idx = 2")
    assert sweep(f, out=out, workers=1, plots=False).solved_now == 1
    assert db_rows(out, "SELECT status FROM results WHERE idx = 2") == [("optimal",)]


# ---------------------------------------------------------------------------------------------
# 6. Failures are never fatal
# ---------------------------------------------------------------------------------------------

COMBO = {"providers.hosp.setting": ["hospital", "other"],
         "providers.clinic.setting": ["community", "other"]}


def test_failing_combination_recorded(world, monkeypatch, capsys):
    # Each value alone is valid (the other provider still delivers visits.see), so the sweep
    # file passes; with both moved to "other" no provider can deliver it, and that scenario
    # fails to load. By hand: (hospital, community) 200 and (hospital, other) 200 from hosp;
    # (other, community) 20 visits from the clinic at 12 = 240, baseline the same (the clinic
    # is then the first buy provider with an arc); (other, other) an error.
    f = put(world, "sweeps/combo.yaml", sweep_text("../configs/hand.yaml", COMBO))
    load_sweep(f)
    res = sweep(f, out=world / "lib", workers=1, plots=False)
    t = res.table
    assert list(t["status"]) == ["optimal", "optimal", "optimal", "error"]
    assert list(t["objective"][:3]) == pytest.approx([200, 200, 240], rel=REL)
    assert list(t["baseline_cost"][:3]) == pytest.approx([200, 200, 240], rel=REL)
    assert "no provider can deliver visits.see" in t.loc[3, "message"]
    monkeypatch.chdir(world)
    code = cli_main(["sweep", "sweeps/combo.yaml", "--out", "cli", "--workers", "1", "--no-plots"])
    out = capsys.readouterr()
    # exit 1: some scenario failed (the sweep/cli docstring's rule); everything else written
    assert code == 1 and "Traceback" not in out.err
    assert "1 error" in out.out and "3 optimal" in out.out
    csv = pd.read_csv(world / "cli" / "sweep.csv")
    assert list(csv["status"]) == ["optimal", "optimal", "optimal", "error"]
    # (the file is named as the run's working folder sees it: absolute in the library run
    # from elsewhere, relative here)
    assert "no provider can deliver visits.see" in csv.loc[3, "message"]


def test_worker_exception_recorded_cli_exit_1(world, monkeypatch, capsys):
    put(world, "sweeps/b.yaml", sweep_text("../configs/hand.yaml",
                                           {"constraints.budget": [150, 300]}))
    spy_solve(monkeypatch, fail={0})
    monkeypatch.chdir(world)
    code = cli_main(["sweep", "sweeps/b.yaml", "--out", "o", "--workers", "1", "--no-plots"])
    out = capsys.readouterr()
    assert code == 1 and "Traceback" not in out.err
    csv = pd.read_csv(world / "o" / "sweep.csv")
    assert list(csv["status"]) == ["error", "optimal"]
    assert csv.loc[0, "message"] == "RuntimeError: boom 0"


def test_dead_worker_process_recorded_and_retried(grid_run, tmp_path, monkeypatch):
    # workers=2 forks: the patched chunk runner is inherited by the children. The process
    # solving the second chunk (scenarios 20-31) dies; the pool breaks, the sweep still
    # finishes, every scenario of a lost chunk is an error, and a re-run solves them.
    import os

    from optimiser.sweeps import run as sweep_run

    root, f, first = grid_run
    real = sweep_run.solve_chunk

    def dying(job, chunk):
        if chunk[0].index == CHUNK:
            os._exit(3)
        return real(job, chunk)

    monkeypatch.setattr(sweep_run, "solve_chunk", dying)
    out = tmp_path / "out"
    broken = sweep(f, out=out, workers=2, plots=False)
    t = broken.table
    assert len(t) == 32
    assert set(t["status"][CHUNK:]) == {"error"}
    assert all(m.startswith("the task failed: ") for m in t["message"][CHUNK:])
    lost = int((t["status"] == "error").sum())
    monkeypatch.undo()
    again = sweep(f, out=out, workers=2, plots=False)
    assert again.solved_now == lost
    pd.testing.assert_frame_equal(again.table[RESULT_COLUMNS], first.table[RESULT_COLUMNS])


# ---------------------------------------------------------------------------------------------
# 7. Determinism
# ---------------------------------------------------------------------------------------------


def test_one_or_two_workers_same_answers(grid_run, tmp_path):
    root, f, first = grid_run
    two = sweep(f, out=tmp_path / "two", workers=2, plots=False)
    assert two.solved_now == 32
    pd.testing.assert_frame_equal(two.table[RESULT_COLUMNS], first.table[RESULT_COLUMNS])


# ---------------------------------------------------------------------------------------------
# 8. The command line and the files
# ---------------------------------------------------------------------------------------------


def test_cli_summary_and_files(world, monkeypatch, capsys):
    monkeypatch.chdir(world)
    put(world, "sweeps/b.yaml", sweep_text("../configs/hand.yaml",
                                           {"constraints.budget": [150, 300]},
                                           "{n: 2, seed: 5, prevalence_cv: 0}"))
    code = cli_main(["sweep", "sweeps/b.yaml", "--out", "o", "--workers", "1", "--no-plots"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    # 2 budgets x 2 samples (cv 0: factor 1, so the hand case twice over)
    assert lines[0].startswith("b: 4 scenarios (4 solved now): ")
    assert "2 infeasible" in lines[0] and "2 optimal" in lines[0]
    assert "cost: median £200" in out
    assert "the budget is breached in 50.0% of scenarios" in out
    assert lines[-1] == "Outputs written to o"
    folder = world / "o"
    assert {p.name for p in folder.iterdir()} >= {"sweep.csv", "sweep_summary.json", "sweep.db"}
    csv = pd.read_csv(folder / "sweep.csv")
    assert list(csv.columns) == [
        "scenario", "constraints.budget", "sample", "prevalence_factor.visits", "status",
        "objective", "baseline_cost", "savings", "make_share", "n_binding", "binding",
        "budget_breached", "cost_without_budget", "method", "seconds", "message", "key"]
    assert list(csv["constraints.budget"]) == [150, 150, 300, 300]
    assert list(csv["sample"]) == [0, 1, 0, 1]
    assert list(csv["prevalence_factor.visits"]) == [1.0] * 4
    assert list(csv["objective"].fillna(-1)) == [-1, -1, 200, 200]
    summary = json.loads((folder / "sweep_summary.json").read_text())
    assert summary["scenarios"] == {"total": 4, "infeasible": 2, "optimal": 2}
    assert summary["budget_breach_probability"] == 0.5
    assert summary["varied"] == {"constraints.budget": [150, 300]}
    assert summary["samples"] == {"n": 2, "seed": 5, "prevalence_cv": 0.0}
    assert summary["objective"]["p50"] == 200
    assert summary["currency"] == "GBP"
    # a second run solves nothing and says so
    assert cli_main(["sweep", "sweeps/b.yaml", "--out", "o", "--workers", "1", "--no-plots"]) == 0
    assert "(0 solved now)" in capsys.readouterr().out


def test_an_override_that_makes_a_multi_year_plan_is_solved_cold(world):
    """Varying horizon.years turns the one-year base into a two-year plan for one scenario:
    warm re-solves cover one year only, so that scenario is solved cold, not failed."""
    put(world, "configs/h1.yaml", BASE + "horizon: {start: 2030, years: 1}\n")
    f = put(world, "sweeps/h.yaml", sweep_text("../configs/h1.yaml", {"horizon.years": [1, 2]},
                                               extra="mode: lp\n"))
    t = sweep(f, out=world / "out", workers=1, plots=False).table
    assert list(t["status"]) == ["optimal", "optimal"]
    one = optimiser.solve(optimiser.load(world / "configs/h1.yaml"), mode="lp")
    two = optimiser.solve(optimiser.load(world / "configs/h1.yaml", overrides=["horizon.years=2"]),
                          mode="lp")
    assert list(t["objective"]) == pytest.approx([one.objective, two.objective], rel=REL)

