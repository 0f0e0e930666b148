"""Golden LP snapshots: one tiny scenario per row kind, its compiled model checked in as LP.

Each case ``tests/golden/<kind>/`` holds ``config.yaml`` (whose header comment writes the
family's SPEC section 3 math for that scenario by hand; the snapshot was checked against
it line by line) and ``model.lp``, the model as :func:`optimiser.export.to_lp` writes it.

* ``test_snapshot``: the compiled text equals the snapshot exactly (diff on failure);
* ``test_every_row_kind_has_a_golden_case``: every family module of
  :mod:`optimiser.compile` and every row kind it can emit has a case;
* ``test_snapshot_shows_its_kind``: the snapshot of case K holds at least one row of kind K.

These tests never write a snapshot. To change them on purpose, run
``python tests/golden/regenerate.py`` and review what it prints.
"""

from __future__ import annotations

import ast
import functools
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
}
# Modules of optimiser/compile/ that build no rows of their own.
HELPER_MODULES = {"columns", "rows"}
# Kinds whose rows have no index, so their row is named ``K`` rather than ``K(...)``.
UNINDEXED = {"budget"}

CASES = regen.cases()
CASE_IDS = [c.name for c in CASES]


@functools.cache
def _model(config: Path):
    return optimiser.compile.compile_model(optimiser.load(config).instance)


def _case_model(case: Path):
    return _model(case / "config.yaml")


@functools.cache
def _text(case: Path) -> str:
    return regen.render(_case_model(case))


def _row_names(lp: str) -> list[str]:
    """Names of the rows in the ``Subject To`` section of LP text."""
    lines = lp.splitlines()
    start, end = lines.index("Subject To") + 1, lines.index("Bounds")
    return [ln.split(":", 1)[0].strip() for ln in lines[start:end]]


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
    for name in sorted(modules - HELPER_MODULES):
        if name not in FAMILY_KINDS:
            problems.append(f"family module {name} has no golden snapshot (map it to its row kinds "
                            f"in FAMILY_KINDS in tests/test_golden.py and add tests/golden/<kind>/)")
    for name in sorted(set(FAMILY_KINDS) - modules):
        problems.append(f"FAMILY_KINDS names module {name}, which optimiser/compile/ does not have")
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
    have = set(CASE_IDS)
    for kind in sorted(can_emit - have):
        problems.append(f"row kind {kind!r} has no golden case tests/golden/{kind}/")
    for name in sorted(have - can_emit):
        problems.append(f"golden case tests/golden/{name}/ names no row kind the compiler emits")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_snapshot_shows_its_kind(case: Path):
    kind = case.name
    path = case / regen.SNAPSHOT
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing; run `{REGENERATE} {kind}`")
    names = _row_names(path.read_text())
    mine = [n for n in names if n.startswith(f"{kind}(") or (kind in UNINDEXED and n == kind)]
    assert mine, f"snapshot {path.relative_to(ROOT)} has no row named {kind}(...): {names}"
    # and the compiler itself tags those rows with that kind (names are not a coincidence)
    meta = _case_model(case).row_meta
    tagged = meta.loc[meta["kind"] == kind, "name"].str.replace("[", "(").str.replace("]", ")")
    assert sorted(tagged) == sorted(mine)
