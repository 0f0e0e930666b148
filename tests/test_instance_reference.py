"""The integer-coded instance build equals the straightforward pandas one, table by table.

:mod:`reference_instance` is the earlier implementation (joins on text keys, slow at national
scale but easy to read); every scenario here must give identical tables from both.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

import optimiser
import reference_instance
from strategies import scenarios
from test_tables import to_tables

ROOT = Path(__file__).resolve().parent.parent
TABLES = ["localities", "demand", "avoids", "providers", "offers", "arcs", "uses", "resources",
          "caps", "floors", "declared_shares", "designs", "units", "unit_uses", "heads"]


def assert_same(sc: optimiser.Scenario) -> None:
    ref = reference_instance.build(sc.config, list(sc.pathways), sc.tables)
    new = sc.instance
    for name in TABLES:
        a, b = getattr(new, name), getattr(ref, name)
        if name == "offers":  # same rows; the reference orders them YAML, then table
            a = a.reset_index(drop=True)
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                      check_dtype=False, check_exact=False, rtol=1e-12, atol=1e-9,
                                      obj=name)
        assert a.index.name == b.index.name, name
    assert new.budget == ref.budget and new.max_shift == ref.max_shift
    assert new.max_redesigns == ref.max_redesigns


@pytest.mark.parametrize("cfg", ["configs/northshire.yaml", "tests/data/tiny/configs/tiny.yaml"])
def test_shipped_scenarios(cfg):
    assert_same(optimiser.load(ROOT / cfg))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_form(tmp_path, fmt):
    assert_same(optimiser.load(to_tables(ROOT / "configs" / "northshire.yaml", tmp_path, fmt)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_generated_scenarios(gen):
    with tempfile.TemporaryDirectory() as tmp:
        try:
            sc = optimiser.load(gen.write(tmp))
        except optimiser.ConfigError:
            return  # the generator may draw an invalid scenario; nothing to build
        assert_same(sc)


def test_national_benchmark_scenario(tmp_path):
    import subprocess
    import sys

    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--size", "10k",
                    "--forms", "tables", "--out", str(tmp_path)], check=True, capture_output=True)
    assert_same(optimiser.load(tmp_path / "configs" / "national_tables.yaml"))


# SPEC section 11: a pathway with two variants (replace, remove, add with avoids,
# adoption_cost) next to one without; make providers with whole units (with unit uses); a
# whole resource with a cost used per activity and per unit; plain resources with a cost.
RESP = {
    "pathway": "resp",
    "name": "Respiratory",
    "prevalence_per_1000": 20.0,
    "steps": [
        {"step": "diagnosis", "per_patient": 0.1, "settings": ["hospital", "community"]},
        {"step": "follow_up", "per_patient": 2.0, "settings": ["hospital"]},
        {"step": "hospital_review", "per_patient": 0.5, "settings": ["hospital"]},
        {"step": "rehab", "per_patient": {"min": 0.1, "max": 0.3}, "settings": ["community"],
         "avoids": {"follow_up": 0.5}},
    ],
    "variants": {
        "integrated": {
            "name": "Integrated respiratory service",
            "replace": [{"step": "follow_up", "per_patient": 0.6,
                         "settings": ["community", "primary_care"],
                         "max_share": {"community": 0.7}}],
            "add": [{"step": "virtual_review", "per_patient": {"min": 0.2, "max": 1.2},
                     "settings": ["community"], "avoids": {"diagnosis": 0.1}}],
            "remove": ["hospital_review"],
            "adoption_cost": 40000,
        },
        "lean": {  # no name: named by its id
            "replace": [{"step": "diagnosis", "settings": ["community"]}],
            "remove": ["rehab"],
            "adoption_cost": 1000,
        },
    },
}
PLAIN = {"pathway": "plain", "prevalence_per_1000": 5.0,
         "steps": [{"step": "visit", "per_patient": 1.0, "settings": ["hospital"]}]}
SECTION_11 = {
    "scenario": "section 11",
    "pathways": ["../pathways/plain.yaml", "../pathways/resp.yaml"],
    "localities": {"north": {"population": 10000},
                   "south": {"population": 5000, "prevalence_per_1000": {"resp": 30}}},
    "resources": {
        "nurses": {"capacity": 40, "whole": True, "cost": 338.88},
        "beds": {"capacity": 20, "cost": 10},
        "rooms": {"capacity": 1000, "cost": 2.5},
    },
    "providers": {
        "hosp": {"setting": "hospital", "mode": "buy",
                 "prices": {"resp.diagnosis": 120, "resp.follow_up": 100,
                            "resp.hospital_review": 150, "plain.visit": 80},
                 "current_share": {"resp.diagnosis": 0.6}},
        "hub": {"setting": "community", "mode": "make", "fixed_cost": 1000, "overhead": 0.1,
                "costs": {"resp.diagnosis": 60, "resp.follow_up": 40, "resp.rehab": 200,
                          "resp.virtual_review": 30},
                "current_share": {"resp.diagnosis": 0.4},
                "quality": {"default": 0.9, "resp.follow_up": 0.95},
                "uses": {"resp.follow_up": {"nurses": 0.002, "rooms": 0.5},
                         "resp.diagnosis": {"nurses": 0.001}},
                "units": {"resp.follow_up": {"size": 500, "cost": 20000,
                                             "uses": {"beds": 1, "nurses": 0.5}},
                          "resp.rehab": {"size": 100, "cost": 5000}}},
        "gp": {"setting": "primary_care", "mode": "buy", "prices": {"resp.follow_up": 70},
               "quality": {"default": 0.8}},
        "ward": {"setting": "hospital", "mode": "make", "serves": ["north"],
                 "costs": {"resp.hospital_review": 0},
                 "units": {"resp.hospital_review": {"size": 1000, "cost": 650,
                                                    "uses": {"nurses": 0.25}}}},
    },
    "constraints": {"max_redesigns": 1},
}


def _write_section_11(dst: Path, tables: bool) -> Path:
    """The section 11 scenario; with ``tables``, the plain resource ``rooms`` (with its cost)
    and the offers of a variant-only activity and of a removed one come from CSV tables."""
    import copy

    data = copy.deepcopy(SECTION_11)
    (dst / "configs").mkdir(parents=True)
    (dst / "pathways").mkdir()
    for p in (RESP, PLAIN):
        (dst / "pathways" / f"{p['pathway']}.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    if tables:
        (dst / "data").mkdir()
        rooms = data["resources"].pop("rooms")
        pd.DataFrame([{"resource": "rooms", "capacity": rooms["capacity"], "cost": rooms["cost"]}]
                     ).to_csv(dst / "data" / "resources.csv", index=False)
        vr = data["providers"]["hub"]["costs"].pop("resp.virtual_review")
        hr = data["providers"]["hosp"]["prices"].pop("resp.hospital_review")
        pd.DataFrame([{"provider": "hub", "activity": "resp.virtual_review", "cost": vr,
                       "quality": 0.85},
                      {"provider": "hosp", "activity": "resp.hospital_review", "price": hr}],
                     columns=["provider", "activity", "price", "cost", "quality"]
                     ).to_csv(dst / "data" / "offers.csv", index=False)
        data["tables"] = {"resources": "../data/resources.csv", "offers": "../data/offers.csv"}
    cfg = dst / "configs" / "scenario.yaml"
    cfg.write_text(yaml.safe_dump(data, sort_keys=False))
    return cfg


@pytest.mark.parametrize("tables", [False, True], ids=["yaml", "tables"])
def test_variants_and_whole_units(tmp_path, tables):
    sc = optimiser.load(_write_section_11(tmp_path, tables))
    assert_same(sc)
    inst = sc.instance
    # a few numbers by hand, so the two builds cannot agree on a shared misreading
    d = inst.designs
    assert list(zip(d["locality"], d["variant"])) == [
        (loc, w) for loc in ("north", "south") for w in ("current", "integrated", "lean")]
    assert list(d["name"][:3]) == ["Respiratory", "Integrated respiratory service", "lean"]
    assert list(d["adoption_cost"][:3]) == [0, 40000, 1000] and list(d["current"][:3]) == [
        True, False, False]
    assert inst.max_redesigns == 1
    dem = inst.demand.set_index(["locality", "pathway", "variant", "step"])
    assert dem.loc[("north", "plain", "current", "visit"), "design"] == -1
    assert dem.loc[("south", "resp", "lean", "follow_up"), "design"] == 5
    # north: 200 resp patients; integrated follow_up 0.6 each, no baseline demand
    assert dem.loc[("north", "resp", "integrated", "follow_up"), "fixed"] == pytest.approx(120)
    assert dem.loc[("north", "resp", "integrated", "follow_up"), "d0"] == 0
    # today: follow_up 2 * 200 less rehab's minimum 0.1 * 200 * 0.5
    assert dem.loc[("north", "resp", "current", "follow_up"), "d0"] == pytest.approx(390)
    assert sorted(s for (loc, pw, w, s) in dem.index if loc == "north" and w == "integrated") == [
        "diagnosis", "follow_up", "rehab", "virtual_review"]
    assert sorted(s for (loc, pw, w, s) in dem.index if loc == "north" and w == "lean") == [
        "diagnosis", "follow_up", "hospital_review"]
    av = inst.avoids
    assert sorted(zip(av["locality"], av["src"], av["dst"])) == sorted(
        [(loc, "rehab", "follow_up") for loc in ("north", "south") for _ in range(2)]
        + [(loc, "virtual_review", "diagnosis") for loc in ("north", "south")])
    arcs = inst.arcs
    assert (arcs.loc[arcs["variant"] != "current", ["share0", "x0"]] == 0).all().all()
    today = arcs[(arcs["variant"] == "current") & (arcs["step"] == "diagnosis")]
    assert sorted(zip(today["locality"], today["provider"], today["share0"])) == [
        ("north", "hosp", 0.6), ("north", "hub", 0.4), ("south", "hosp", 0.6), ("south", "hub", 0.4)]
    lean_diag = arcs[(arcs["variant"] == "lean") & (arcs["step"] == "diagnosis")]
    assert set(lean_diag["provider"]) == {"hub"}
    caps = inst.caps
    assert list(zip(caps["locality"], caps["step"], caps["setting"], caps["max_share"])) == [
        ("north", "follow_up", "community", 0.7), ("south", "follow_up", "community", 0.7)]
    assert list(zip(inst.units["provider"], inst.units["activity"], inst.units["size"],
                    inst.units["cost"])) == [("hub", "resp.follow_up", 500, 20000),
                                             ("hub", "resp.rehab", 100, 5000),
                                             ("ward", "resp.hospital_review", 1000, 650)]
    assert list(zip(inst.unit_uses["unit"], inst.unit_uses["resource"],
                    inst.unit_uses["amount"])) == [(0, "beds", 1), (0, "nurses", 0.5),
                                                   (2, "nurses", 0.25)]
    assert list(zip(inst.heads["provider"], inst.heads["activity"], inst.heads["resource"])) == [
        ("hub", "resp.diagnosis", "nurses"), ("hub", "resp.follow_up", "nurses"),
        ("ward", "resp.hospital_review", "nurses")]
    res = inst.resources.set_index("resource")
    assert list(res["whole"]) == [True, False, False]
    assert list(res["cost"]) == [338.88, 10, 2.5]
