"""Golden LP snapshots: one tiny scenario per row kind, its compiled model checked in as LP.

Each case ``tests/golden/<kind>/`` holds ``config.yaml`` (whose header comment writes the
family's SPEC section 3 math for that scenario by hand; the snapshot was checked against
it line by line) and ``model.lp``, the model as :func:`optimiser.export.to_lp` writes it.

* ``test_snapshot``: the compiled text equals the snapshot exactly (diff on failure);
* ``test_every_row_kind_has_a_golden_case``: every family module of
  :mod:`optimiser.compile` and every row kind it can emit has a case;
* ``test_snapshot_shows_its_kind``: the snapshot of case K holds at least one row of kind K
  (of kind ``VARIANT_CASES[K]`` for a case showing a variant of a kind, e.g. ``budget_carry``);
* ``test_discount_case_discounts``: the case of the row-less :mod:`optimiser.compile.discount`
  shows its effect in the objective (it differs from the same model undiscounted);
* ``test_carried_budget_case_carries``: the carried-budget case's rows show the ``c`` columns;
* ``test_resource_cost_case_costs``: the case of the row-less :mod:`optimiser.compile.resource_cost`
  shows its effect in the objective (per unit used, per unit's use, per whole head);
* ``test_adoption_is_paid_once``: in the multi-year ``design_kept`` case, undiscounted, the
  adoption terms telescope to ``adoption_cost * z`` of the last year;
* ``test_whole_cases_imply_bounds``: the implied upper bounds of ``n`` and ``h`` (not in the
  LP text) are the ones worked out in the cases' comments;
* ``test_multi_year_names_end_with_their_year``: with a horizon, every row and column name
  ends with its calendar year (``budget[2027]`` for a kind without an index).

These tests never write a snapshot. To change them on purpose, run
``python tests/golden/regenerate.py`` and review what it prints.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import optimiser
import optimiser.compile

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
EXAMPLE = ROOT / "configs" / "northshire.yaml"
REGENERATE = "python tests/golden/regenerate.py"

_spec = importlib.util.spec_from_file_location("golden_regenerate", GOLDEN / "regenerate.py")
regen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regen)

# Every module of optimiser/compile/ that builds rows, with the row kinds it emits. A new
# family module (or a new kind in one of these) needs an entry here and a golden case.
FAMILY_KINDS: dict[str, set[str]] = {
    "flow": {"flow"},
    "demand_floor": {"demand_floor"},
    "setting_cap": {"setting_cap"},
    "capacity": {"capacity"},
    "running": {"running_max", "min_volume"},
    "cost": {"block_contract", "payment"},
    "quality": {"quality"},
    "budget": {"budget"},
    "pace": {"pace"},
    "year_pace": {"year_pace"},
    "persistence": {"persistence"},
    "setup": {"setup"},
    "held_expansion": {"held_expansion"},
    # SPEC section 11: designs, whole units and whole heads
    "design_choice": {"design"},
    "design_uptake": {"uptake_min", "uptake_max"},
    "max_redesigns": {"max_redesigns"},
    "design_kept": {"design_kept"},
    "units": {"units"},
    "heads": {"heads"},
}
# Modules of optimiser/compile/ that build no rows of their own.
HELPER_MODULES = {"columns", "rows"}
# Family modules that build no rows but shape the model otherwise (the objective), with the
# golden case that shows each; a test of its own checks that the case shows the effect.
ROWLESS_FAMILIES: dict[str, str] = {"discount": "discount", "resource_cost": "resource_cost"}
# Golden cases that show a variant of a row kind which has its own case, with that kind.
VARIANT_CASES: dict[str, str] = {"budget_carry": "budget", "capacity_whole": "capacity",
                                  "year_pace_design": "year_pace"}
# Kinds whose rows have no index, so their row is named ``K`` rather than ``K(...)`` (and
# ``K(2027)`` in a plan with a horizon).
UNINDEXED = {"budget", "max_redesigns"}

CASES = regen.cases()
CASE_IDS = [c.name for c in CASES]
ROW_CASES = [c for c in CASES if c.name not in set(ROWLESS_FAMILIES.values())]


@functools.cache
def _instance(config: Path):
    return optimiser.load(config).instance


@functools.cache
def _model(config: Path):
    return optimiser.compile.compile_model(_instance(config))


def _case_model(case: Path):
    return _model(case / "config.yaml")


@functools.cache
def _text(case: Path) -> str:
    return regen.render(_case_model(case))


def _row_lines(lp: str) -> list[str]:
    """Lines of the ``Subject To`` section of LP text."""
    lines = lp.splitlines()
    return lines[lines.index("Subject To") + 1:lines.index("Bounds")]


def _row_names(lp: str) -> list[str]:
    """Names of the rows in the ``Subject To`` section of LP text."""
    return [ln.split(":", 1)[0].strip() for ln in _row_lines(lp)]


def _objective_line(lp: str) -> str:
    lines = lp.splitlines()
    return lines[lines.index("Minimize") + 1]


def _is_row_of(name: str, kind: str) -> bool:
    """An LP row name of kind ``kind``: ``K(...)``, or for an unindexed kind ``K`` (one year)
    or ``K(YYYY)`` (a plan with a horizon)."""
    if kind in UNINDEXED:
        return name == kind or re.fullmatch(rf"{re.escape(kind)}\(\d{{4}}\)", name) is not None
    return name.startswith(f"{kind}(")


def _literal_kinds(module: str) -> set[str]:
    """Row kinds written as a literal first argument of ``block(...)`` in a compile module."""
    path = Path(optimiser.compile.__path__[0]) / f"{module}.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and node.args
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "block"
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def test_cases_exist():
    assert CASES, f"no golden cases under {GOLDEN}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_snapshot(case: Path):
    path = case / regen.SNAPSHOT
    rel = path.relative_to(ROOT)
    hint = (f"If the change is intended, run `{REGENERATE} {case.name}`, then check every changed "
            f"row against the hand-written math in {rel.parent}/config.yaml before committing.")
    if not path.exists():
        pytest.fail(f"{rel} is missing. {hint}")
    new, old = _text(case), path.read_text()
    if new != old:
        pytest.fail(f"compiled model of {rel.parent}/config.yaml differs from {rel}:\n"
                    f"{regen.diff(old, new, str(rel))}\n{hint}", pytrace=False)


def test_every_row_kind_has_a_golden_case():
    problems = []
    modules = {m.name for m in pkgutil.iter_modules(optimiser.compile.__path__)}
    for name in sorted(modules - HELPER_MODULES - set(ROWLESS_FAMILIES)):
        if name not in FAMILY_KINDS:
            problems.append(f"family module {name} has no golden snapshot (map it to its row kinds "
                            f"in FAMILY_KINDS in tests/test_golden.py and add tests/golden/<kind>/)")
    for name in sorted(set(FAMILY_KINDS) - modules):
        problems.append(f"FAMILY_KINDS names module {name}, which optimiser/compile/ does not have")
    for name, case in sorted(ROWLESS_FAMILIES.items()):
        if name not in modules:
            problems.append(f"ROWLESS_FAMILIES names module {name}, which optimiser/compile/ does not have")
        if name in FAMILY_KINDS:
            problems.append(f"module {name} is both in FAMILY_KINDS and ROWLESS_FAMILIES")
        if case not in CASE_IDS:
            problems.append(f"row-less family module {name} has no golden case tests/golden/{case}/")
    mapped = set().union(*FAMILY_KINDS.values())

    # kinds written literally in the source: a new kind in an existing module shows up here
    for name in sorted(modules):
        extra = _literal_kinds(name) - FAMILY_KINDS.get(name, set())
        for kind in sorted(extra):
            problems.append(f"module {name} emits row kind {kind!r}, not mapped to it in FAMILY_KINDS")

    # kinds actually emitted by every golden case and the example scenario
    seen: dict[str, str] = {}
    for config in [c / "config.yaml" for c in CASES] + [EXAMPLE]:
        for kind in _model(config).row_meta["kind"].unique():
            seen.setdefault(kind, str(config.relative_to(ROOT)))
    for kind in sorted(set(seen) - mapped):
        problems.append(f"row kind {kind!r} (emitted by {seen[kind]}) is not mapped to a family module")

    can_emit = mapped | set(seen)
    for case, kind in sorted(VARIANT_CASES.items()):
        if case not in CASE_IDS:
            problems.append(f"VARIANT_CASES names tests/golden/{case}/, which does not exist")
        if kind not in can_emit:
            problems.append(f"golden case tests/golden/{case}/ is a variant of row kind {kind!r}, "
                            f"which the compiler does not emit")
    have = set(CASE_IDS) - set(ROWLESS_FAMILIES.values()) - set(VARIANT_CASES)
    for kind in sorted(can_emit - have):
        problems.append(f"row kind {kind!r} has no golden case tests/golden/{kind}/")
    for name in sorted(have - can_emit):
        problems.append(f"golden case tests/golden/{name}/ names no row kind the compiler emits")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.name for c in ROW_CASES])
def test_snapshot_shows_its_kind(case: Path):
    kind = VARIANT_CASES.get(case.name, case.name)
    path = case / regen.SNAPSHOT
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing; run `{REGENERATE} {case.name}`")
    names = _row_names(path.read_text())
    mine = [n for n in names if _is_row_of(n, kind)]
    assert mine, f"snapshot {path.relative_to(ROOT)} has no row named {kind}(...): {names}"
    # and the compiler itself tags those rows with that kind (names are not a coincidence)
    meta = _case_model(case).row_meta
    tagged = meta.loc[meta["kind"] == kind, "name"].str.replace("[", "(").str.replace("]", ")")
    assert sorted(tagged) == sorted(mine)


def _snapshot(name: str) -> str:
    path = GOLDEN / name / regen.SNAPSHOT
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing; run `{REGENERATE} {name}`")
    return path.read_text()


def test_discount_case_discounts():
    """The discount module emits no row: its case shows it in the objective, which is the
    undiscounted one times (1 + r)^-t on every column of year t, and differs from it."""
    case = GOLDEN / ROWLESS_FAMILIES["discount"]
    inst = _instance(case / "config.yaml")
    r, T = inst.years.discount_rate, inst.years.count
    assert r > 0 and T >= 2, f"{case.name} needs a discount_rate and at least two years"
    model = _case_model(case)
    flat = optimiser.compile.compile_model(
        dataclasses.replace(inst, years=dataclasses.replace(inst.years, discount_rate=0.0)))
    year = model.col_meta["year"].to_numpy()
    assert list(model.col_meta["name"]) == list(flat.col_meta["name"])
    assert model.obj == pytest.approx(flat.obj * (1.0 + r) ** -year.astype(float), rel=1e-12)
    assert (model.obj[year >= 1] != flat.obj[year >= 1]).any()
    # discounting touches the objective only: every row (budgets cap undiscounted spending)
    assert (model.A != flat.A).nnz == 0
    assert list(model.row_lb) == list(flat.row_lb) and list(model.row_ub) == list(flat.row_ub)
    # and the snapshot shows it
    snap = _snapshot(case.name)
    assert _objective_line(snap) != _objective_line(regen.render(flat))
    assert _row_lines(snap) == _row_lines(regen.render(flat))


def test_carried_budget_case_carries():
    """With carry_over, year t's budget row holds +c[t] (t < T-1) and -c[t-1] (t >= 1), with
    one coefficient (the carry column's unit) throughout; the snapshot shows them."""
    from optimiser.compile import budget

    unit = float(getattr(budget, "CARRY_UNIT", 1.0))
    (name,) = [c for c, k in VARIANT_CASES.items() if k == "budget"]
    case = GOLDEN / name
    inst = _instance(case / "config.yaml")
    years = inst.years
    T = years.count
    assert years.carry_over and years.budgets is not None and T >= 3, \
        f"{name} needs carry_over, a budget and at least three years (first, middle, last)"
    model = _case_model(case)
    cmeta = model.col_meta
    c_cols = cmeta.index[cmeta["kind"] == "c"].to_numpy()
    labels = [int(y) for y in years.calendar(range(T))]
    assert list(cmeta.loc[c_cols, "name"]) == [f"c[{y}]" for y in labels[:-1]]
    assert list(cmeta.loc[c_cols, "year"]) == list(range(T - 1))
    assert (model.obj[c_cols] == 0).all()
    meta = model.row_meta
    rows = meta.index[meta["kind"] == "budget"].to_numpy()
    assert list(meta.loc[rows, "name"]) == [f"budget[{y}]" for y in labels]
    A = model.A.tocsr()
    for t, i in enumerate(rows):
        got = {int(j): float(A[i, j]) for j in c_cols if A[i, j] != 0}
        want = {}
        if t < T - 1:
            want[int(c_cols[t])] = unit
        if t >= 1:
            want[int(c_cols[t - 1])] = -unit
        assert got == want, f"budget row of year {labels[t]}"
        assert model.row_ub[i] == years.budgets[t]
    lines = [ln for ln in _row_lines(_snapshot(name)) if _is_row_of(ln.split(":")[0].strip(), "budget")]
    assert len(lines) == T and all("c(" in ln for ln in lines)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_multi_year_names_end_with_their_year(case: Path):
    """In a plan with a horizon, every row and column name ends with its calendar year:
    ``kind[keys...,YYYY]``, or ``kind[YYYY]`` for an unindexed kind such as ``budget``; a
    one-year plan without a horizon has no year in its names."""
    years = _instance(case / "config.yaml").years
    model = _case_model(case)
    for what, meta in (("row", model.row_meta), ("column", model.col_meta)):
        for name, kind, t in zip(meta["name"], meta["kind"], meta["year"]):
            if not years.dated:
                if kind in UNINDEXED:
                    assert name == kind, f"{what} {name}"
                continue
            y = int(years.calendar(int(t)))
            if kind in UNINDEXED or kind == "c":
                assert name == f"{kind}[{y}]", f"{what} {name} of year {y}"
            else:
                assert name.startswith(f"{kind}[") and name.endswith(f",{y}]"), \
                    f"{what} {name} of year {y}"


def test_resource_cost_case_costs():
    """The resource_cost module emits no row: its case shows it in the objective, which is
    the one without resource costs plus ``cost * uses`` on ``x`` and ``n`` for a resource
    counted per unit used, and ``cost`` on ``h`` for a whole one (outside every overhead)."""
    case = GOLDEN / ROWLESS_FAMILIES["resource_cost"]
    inst = _instance(case / "config.yaml")
    assert (inst.resources["cost"] > 0).all() and inst.resources["whole"].any()
    model = _case_model(case)
    free = optimiser.compile.compile_model(
        dataclasses.replace(inst, resources=inst.resources.assign(cost=0.0)))
    assert list(model.col_meta["name"]) == list(free.col_meta["name"])
    extra = dict(zip(model.col_meta["name"], model.obj - free.obj))
    # by hand (see the case's comment): nurse 30 an hour, band5 40000 a head
    assert extra == pytest.approx({
        "x[north,care,review,hosp]": 30 * 0.5,
        "x[north,care,review,hub]": 30 * 2,       # band5 is paid per head, not per use
        "n[hub,care.review]": 30 * 5,             # per unit, without the hub's overhead
        "h[hub,care.review,band5]": 40000,
    })
    # costs touch the objective only
    assert (model.A != free.A).nnz == 0
    assert list(model.row_lb) == list(free.row_lb) and list(model.row_ub) == list(free.row_ub)
    snap = _snapshot(case.name)
    assert _objective_line(snap) != _objective_line(regen.render(free))
    assert _row_lines(snap) == _row_lines(regen.render(free))


def test_adoption_is_paid_once():
    """Adoption is paid in the year a design is adopted: ``cost * (z[t] - z[t-1])`` summed
    over the years, undiscounted, is ``cost * z`` of the last year only."""
    case = GOLDEN / "design_kept"
    inst = _instance(case / "config.yaml")
    flat = optimiser.compile.compile_model(
        dataclasses.replace(inst, years=dataclasses.replace(inst.years, discount_rate=0.0)))
    T = inst.years.count
    assert T >= 3
    z = flat.col_meta.index[flat.col_meta["kind"] == "z"]
    got = {n: c for n, c in zip(flat.col_meta.loc[z, "name"], flat.obj[z]) if c != 0}
    assert got == {f"z[north,care,lean,{inst.years.calendar(T - 1)}]": 1000.0}


@pytest.mark.parametrize("case, want", [
    ("units", {"n[hub,care.review]": 6}),
    ("heads", {"n[hub,care.review]": 4, "h[hosp,care.review,band5]": 1,
               "h[hub,care.review,band5]": 2}),
    ("capacity_whole", {"n[hub,care.review]": 5, "h[hosp,care.review,band5]": 2,
                        "h[hub,care.review,band5]": 6}),
])
def test_whole_cases_imply_bounds(case: str, want: dict):
    model = _case_model(GOLDEN / case)
    meta = model.col_meta
    mine = meta["kind"].isin(["n", "h"]).to_numpy()
    assert model.implied_ub is not None
    got = dict(zip(meta.loc[mine, "name"], model.implied_ub[mine]))
    assert got == want
    assert model.col_integer[mine].all()
