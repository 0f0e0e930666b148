"""Inputs that look odd but are valid, and must load exactly like their plain form.

The invalid-config corpus (tests/invalid) pins what is refused; this pins the other side of
the same YAML traps: Windows (CRLF) and old-Mac (CR) line endings, a UTF-8 byte-order mark,
YAML 1.2 scalars that YAML 1.1 reads differently (``1e3``, ``0755``, ``no``/``on``/``yes`` as
names), ``_`` separators, anchors and aliases, ``!!str``, explicit document markers and the
deepest nesting allowed. Each variant must give the same validated config as the original,
and errors in a CRLF file must be located on the same line and column as in the LF file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import optimiser
from optimiser.yamlio import MAX_DEPTH, parse_bytes

INVALID = Path(__file__).resolve().parent / "invalid"
BASE = (INVALID / "valid" / "base.yaml").read_text(encoding="utf-8")
TINY = (INVALID / "pathways" / "tiny.yaml").read_text(encoding="utf-8")


def _layout(tmp_path: Path, config: bytes, pathway: bytes | None = None) -> Path:
    """tmp/cases/c.yaml naming ../pathways/tiny.yaml, like the corpus layout."""
    (tmp_path / "cases").mkdir(exist_ok=True)
    (tmp_path / "pathways").mkdir(exist_ok=True)
    (tmp_path / "pathways" / "tiny.yaml").write_bytes(pathway if pathway is not None
                                                      else TINY.encode())
    cfg = tmp_path / "cases" / "c.yaml"
    cfg.write_bytes(config)
    return cfg


def _reference(tmp_path: Path) -> optimiser.Scenario:
    (tmp_path / "ref").mkdir()
    return optimiser.load(_layout(tmp_path / "ref", BASE.encode()))


def _same(a: optimiser.Scenario, b: optimiser.Scenario) -> None:
    assert a.config == b.config
    assert a.pathways == b.pathways
    assert a.instance.arcs.equals(b.instance.arcs)
    assert a.instance.demand.equals(b.instance.demand)


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("variant", ["crlf", "cr", "bom", "bom_crlf", "crlf_no_final_newline"])
def test_line_endings_and_bom_load_like_the_original(tmp_path, variant):
    ref = _reference(tmp_path)
    cfg = {
        "crlf": _crlf(BASE),
        "cr": BASE.replace("\n", "\r").encode(),
        "bom": b"\xef\xbb\xbf" + BASE.encode(),
        "bom_crlf": b"\xef\xbb\xbf" + _crlf(BASE),
        "crlf_no_final_newline": _crlf(BASE.rstrip("\n")),
    }[variant]
    pw = {"crlf": _crlf(TINY), "cr": TINY.replace("\n", "\r").encode(),
          "bom": b"\xef\xbb\xbf" + TINY.encode(), "bom_crlf": b"\xef\xbb\xbf" + _crlf(TINY),
          "crlf_no_final_newline": _crlf(TINY.rstrip("\n"))}[variant]
    (tmp_path / "v").mkdir()
    _same(ref, optimiser.load(_layout(tmp_path / "v", cfg, pw)))


def _issues(path: Path) -> list[tuple]:
    with pytest.raises(optimiser.ConfigError) as info:
        optimiser.load(path)
    return [(i.line, i.column, i.path, i.message) for i in info.value.issues]


@pytest.mark.parametrize("old, new", [
    ("north: {population: 10000}", "north: {population: -1}"),          # schema error
    ("capacity: 500", "capacity: 500\n    capacity: 600"),               # duplicate key
    ("budget: 5000000", "budget: [1, 2"),                                # syntax error
    ("prices: {copd.spirometry: 120", "prices: {copd.spirometri: 120"),  # reference error
])
def test_errors_in_a_crlf_file_are_located_as_in_lf(tmp_path, old, new):
    bad = BASE.replace(old, new)
    assert bad != BASE
    (tmp_path / "lf").mkdir()
    (tmp_path / "crlf").mkdir()
    lf = _issues(_layout(tmp_path / "lf", bad.encode()))
    crlf = _issues(_layout(tmp_path / "crlf", _crlf(bad)))
    assert lf == crlf and lf


def test_tab_inside_a_crlf_file_is_located(tmp_path):
    bad = _crlf(BASE.replace("    capacity: 500", "\tcapacity: 500"))
    assert _issues(_layout(tmp_path, bad)) == [(10, 1, "", "tab used for indentation; "
                                                "indent with spaces")]


@pytest.mark.parametrize("old, new, check", [
    # YAML 1.2: 1e3 is the number 1000 (YAML 1.1 reads it as text)
    ("budget: 5000000", "budget: 5e6",
     lambda s: s.config.constraints.budget == 5_000_000.0),
    ("copd.spirometry: 120,", "copd.spirometry: 1.2e2,",
     lambda s: s.config.providers["city_hospital"].prices["copd.spirometry"] == 120.0),
    # 0755 is decimal 755 (YAML 1.1: octal 493)
    ("north: {population: 10000}", "north: {population: 0755}",
     lambda s: s.config.localities["north"].population == 755),
    ("north: {population: 10000}", "north: {population: 10_000}",
     lambda s: s.config.localities["north"].population == 10_000),
    ("north: {population: 10000}", "north: {population: 0x2710}",
     lambda s: s.config.localities["north"].population == 10_000),
    # no / on / yes / off are plain names (YAML 1.1: booleans)
    ("  north: {population: 10000}", "  north: {population: 10000}\n  'no': {population: 1}\n"
     "  on: {population: 1}\n  yes: {population: 1}\n  off: {population: 1}",
     lambda s: {"no", "on", "yes", "off"} <= set(s.config.localities)
     and s.config.providers["hub"].serves == "all"),
    # a quoted or !!str-tagged name stays text
    ("scenario: Tiny", "scenario: !!str 2027", lambda s: s.name == "2027"),
    ("scenario: Tiny", "scenario: '0755'", lambda s: s.name == "0755"),
    # anchors and aliases for repeated blocks
    ("quality: {default: 0.9}", "quality: &q {default: 0.88}",
     lambda s: s.config.providers["city_hospital"].quality == {"default": 0.88}),
    # explicit document start and end markers
    ("scenario: Tiny", "---\nscenario: Tiny", lambda s: s.name == "Tiny"),
    ("solve: {mode: milp, backend: highs}", "solve: {mode: milp, backend: highs}\n...\n",
     lambda s: s.config.solve.mode == "milp"),
    # comments and blank lines everywhere, trailing spaces
    ("providers:\n", "providers:   # who delivers\n\n\n", lambda s: len(s.config.providers) == 2),
])
def test_yaml_12_forms_are_valid(tmp_path, old, new, check):
    text = BASE.replace(old, new).replace("serves: [north, south]", "serves: all")
    assert text != BASE
    scenario = optimiser.load(_layout(tmp_path, text.encode()))
    assert check(scenario)


def test_alias_reuses_a_block(tmp_path):
    text = BASE.replace("    quality: {default: 0.88}", "    quality: *q").replace(
        "quality: {default: 0.9}", "quality: &q {default: 0.88}")
    scenario = optimiser.load(_layout(tmp_path, text.encode()))
    assert scenario.config.providers["hub"].quality == {"default": 0.88}


def test_nesting_exactly_at_the_limit_is_read():
    text = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    doc = parse_bytes(text.encode(), "f.yaml")
    depth, node = 0, doc.data["a"]
    while node:
        node, depth = node[0], depth + 1
    assert depth == MAX_DEPTH - 2


def test_example_config_copied_with_crlf_loads_the_same(tmp_path):
    root = Path(__file__).resolve().parent.parent
    for sub in ("configs", "pathways"):
        shutil.copytree(root / sub, tmp_path / sub)
        for f in (tmp_path / sub).glob("*.yaml"):
            f.write_bytes(f.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    a = optimiser.load(root / "configs" / "northshire.yaml")
    b = optimiser.load(tmp_path / "configs" / "northshire.yaml")
    _same(a, b)
