"""Diagnosis of plans without a solution under SPEC section 11 (redesign variants, whole
units and whole heads): the new limits are named and located like every other one.

Each case below is small enough to work out by hand (the docstrings do); the configs are
written into a temporary folder, and every expected location is the line of the key in
that text (found by :func:`line_of`, not copied from the engine).

* the cap on redesigns (``max_redesigns``) is an adjustable limit, located at
  ``constraints.max_redesigns``;
* a whole resource's capacity counts heads, and says so;
* the uptake rows of a design's optional step (``N*min*z <= y <= N*max*z``) quote the
  uptake they state (``N*min``, not the row's 0) and are located where that design writes
  the step: today's ``steps[i]``, or a variant's ``replace``/``add`` entry (falling back to
  today's step for a key a ``replace`` entry does not give);
* ``units`` rows are located at ``providers.V.units.A``, ``heads`` at ``resources.R.whole``;
* the uptake bounds a diagnosis moves into rows are not duplicated for a design's step.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser.compile import compile_model
from optimiser.diagnose import describe
from optimiser.diagnose.elastic import SOFT_KINDS, with_uptake_rows

ROOT = Path(__file__).resolve().parent.parent

RESP = """\
pathway: resp
prevalence_per_1000: 10
steps:
  - step: review
    per_patient: 1.0
    settings: [hospital]
  - step: rehab
    per_patient: {min: 0.1, max: 0.3}
    settings: [community]
variants:
  integrated:
    name: Integrated
    replace:
      - {step: review, settings: [community]}
    add:
      - {step: virtual, per_patient: {min: 0.2, max: 0.5}, settings: [community]}
    remove: [rehab]
    adoption_cost: 10000
"""

RESP2 = """\
pathway: resp
prevalence_per_1000: 10
steps:
  - step: review
    per_patient: 1.0
    settings: [hospital]
variants:
  integrated:
    name: Integrated
    replace:
      - {step: review, settings: [community, primary_care], max_share: {community: 0.3}}
    add:
      - {step: virtual, per_patient: {min: 0.2, max: 0.5}, settings: [community]}
"""

HOSP = """\
  hosp:
    setting: hospital
    mode: buy
    prices: {resp.review: 150}
    quality: {default: 0.9}
"""

CONFIGS = {
    # 1,000 patients: 1,000 reviews today, at the hospital only, each drawing 0.5 consultant
    # hours of 100. The integrated design reviews in the community instead, but no redesign
    # is allowed. By hand: milp must allow one redesign (relative 1/1) rather than 400 more
    # consultant hours (400/100); lp only 0.8 of one (today's design keeps 100 / 0.5 = 200
    # reviews, 0.2 of its demand). The conflict: the consultants and the cap.
    "redesign": ("p.yaml", RESP, """\
scenario: needs a redesign
pathways: [p.yaml]
localities:
  north: {population: 100000}
resources:
  consultants: {capacity: 100}
providers:
""" + HOSP + """\
    uses: {resp.review: {consultants: 0.5}}
  hub:
    setting: community
    mode: make
    costs: {resp.review: 60, resp.rehab: 300, resp.virtual: 20}
    quality: {default: 0.9}
constraints:
  max_redesigns: 0
"""),
    # Today's design is kept (no redesign allowed): at least 100 rehab sessions, each 0.012
    # of a nurse, held in whole heads: 1.2 heads need 2, and there are 1.5. With fractions
    # a plan exists (integrality only). By hand (milp): the least relative relaxation is
    # 16.67 fewer rehab sessions (16.67/100, down to 83.33: exactly one head) rather than
    # 0.5 more heads (0.5/1.5) or a redesign (1/1). Conflict: nurses, the rehab minimum,
    # the cap.
    "heads": ("p.yaml", RESP, """\
scenario: too few nurses
pathways: [p.yaml]
localities:
  north: {population: 100000}
resources:
  nurses: {capacity: 1.5, whole: true, cost: 40000}
providers:
""" + HOSP + """\
  hub:
    setting: community
    mode: make
    costs: {resp.review: 60, resp.rehab: 0, resp.virtual: 20}
    quality: {default: 0.9}
    uses: {resp.rehab: {nurses: 0.012}}
constraints:
  max_redesigns: 0
"""),
    # Today's reviews need 500 consultant hours of 1: the integrated design it must be. Its
    # added virtual step takes up at least 200, each 0.01 nurse hours of 1. By hand: the
    # least relaxation lowers the virtual minimum by 100 (100/200) rather than one more
    # nurse hour (1/1) or 499 consultant hours; it is written in the variant's add entry.
    "forced": ("p2.yaml", RESP2, """\
scenario: forced redesign
pathways: [p2.yaml]
localities:
  north: {population: 100000}
resources:
  consultants: {capacity: 1}
  nurses: {capacity: 1}
  gps: {capacity: 100}
providers:
""" + HOSP + """\
    uses: {resp.review: {consultants: 0.5}}
  hub:
    setting: community
    mode: make
    costs: {resp.review: 60, resp.virtual: 20}
    quality: {default: 0.9}
    uses: {resp.virtual: {nurses: 0.01}}
  gp:
    setting: primary_care
    mode: make
    costs: {resp.review: 50}
    quality: {default: 0.9}
    uses: {resp.review: {gps: 0.1}}
"""),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("diagnose_whole")
    for name, (pname, ptext, ctext) in CONFIGS.items():
        (out / pname).write_text(ptext)
        (out / f"{name}.yaml").write_text(ctext)
    return out


_SOLVED: dict = {}


def solve(folder: Path, name: str, mode: str, overrides=()):
    key = (name, mode, tuple(overrides))
    if key not in _SOLVED:
        _SOLVED[key] = optimiser.solve(optimiser.load(folder / f"{name}.yaml",
                                                      overrides=list(overrides)), mode=mode)
    return _SOLVED[key]


def line_of(text: str, pattern: str) -> int:
    """1-based line of the only line of ``text`` matching ``pattern``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if re.search(pattern, line)]
    assert len(hits) == 1, (pattern, hits)
    return hits[0]


def at(entry: dict) -> tuple[str, int]:
    m = re.fullmatch(r"(.+):(\d+):(\d+)", entry["where"])
    assert m, entry["where"]
    return Path(m.group(1)).name, int(m.group(2))


def by_name(entries: list[dict]) -> dict[str, dict]:
    return {e["constraint"]: e for e in entries}


def test_redesign_cap_is_relaxed_and_located(folder):
    cfg = CONFIGS["redesign"][2]
    for mode, by in (("milp", 1.0), ("lp", 0.8)):
        r = solve(folder, "redesign", mode)
        assert r.status.value == "infeasible"
        d = r.diagnosis
        assert "max_redesigns" in SOFT_KINDS and "cap on redesigns" in d["method"]
        (rel,) = d["relaxation"]
        assert rel["constraint"] == "max_redesigns" and rel["kind"] == "max_redesigns"
        assert rel["limit"] == 0 and rel["relax_by"] == pytest.approx(by, rel=1e-6)
        assert rel["key"] == "constraints.max_redesigns"
        assert at(rel) == ("redesign.yaml", line_of(cfg, r"max_redesigns:"))
        assert rel["message"].startswith(f"max_redesigns of 0 must rise to {by:g}")
        conflict = by_name(d["conflict"])
        assert set(conflict) == {"capacity[consultants]", "max_redesigns"} and d["irreducible"]
        assert conflict["max_redesigns"]["message"].startswith("max_redesigns 0")
        assert at(conflict["capacity[consultants]"]) == ("redesign.yaml",
                                                          line_of(cfg, r"consultants: \{capacity"))


def test_whole_heads_and_the_uptake_of_todays_design(folder):
    cfg, pathway = CONFIGS["heads"][2], CONFIGS["heads"][1]
    assert solve(folder, "heads", "lp").status.value == "optimal"  # 1.2 heads of 1.5
    r = solve(folder, "heads", "milp")
    d = r.diagnosis
    assert r.status.value == "infeasible" and d["integrality_only"]
    (rel,) = d["relaxation"]
    assert rel["constraint"] == "uptake_min[north,resp,rehab,current]"
    # the row is y - 100 z >= 0: the limit quoted is the uptake it states, 100
    assert rel["limit"] == pytest.approx(100) and rel["relax_by"] == pytest.approx(100 / 6)
    assert rel["message"] == ("minimum uptake of resp.rehab in north (current design) must fall "
                              "by 16.67 (from 100 to 83.33 activities)")
    assert rel["key"] == "steps[1].per_patient.min"
    assert at(rel) == ("p.yaml", line_of(pathway, r"\{min: 0\.1"))
    conflict = by_name(d["conflict"])
    assert set(conflict) == {"capacity[nurses]", "uptake_min[north,resp,rehab,current]",
                             "max_redesigns"} and d["irreducible"]
    assert conflict["capacity[nurses]"]["message"] == "nurses capacity 1.5 heads"
    assert conflict["uptake_min[north,resp,rehab,current]"]["message"] == \
        "minimum uptake of resp.rehab in north (current design) (100)"
    assert at(conflict["max_redesigns"]) == ("heads.yaml", line_of(cfg, r"max_redesigns:"))
    # a whole resource short: in heads
    ch = optimiser.load(ROOT / "configs" / "community_hospital.yaml")
    row = _row(kind="capacity", name="capacity[band5_nurses]", resource="band5_nurses")
    assert describe.relaxation_message(ch, row, 6, 2, {"steps_used": 0}) == (
        "band5_nurses is 2 heads short (capacity 6 heads; the plan uses 0 of 6 expansion steps "
        "of 1)")


def test_uptake_of_a_variants_added_step(folder):
    pathway = CONFIGS["forced"][1]
    for mode in ("milp", "lp"):
        d = solve(folder, "forced", mode).diagnosis
        (rel,) = d["relaxation"]
        assert rel["constraint"] == "uptake_min[north,resp,virtual,integrated]"
        assert rel["key"] == "variants.integrated.add[0].per_patient.min"
        assert at(rel) == ("p2.yaml", line_of(pathway, r"step: virtual"))
        assert rel["limit"] == pytest.approx(200)
        # lp: today's design keeps 1 / 0.5 = 2 reviews (z 0.998), so the floor is 199.6
        assert rel["relax_by"] == pytest.approx(100 if mode == "milp" else 99.6)
        assert "(integrated design)" in rel["message"] and "from 200 to 100 activities" in rel["message"]
        assert set(by_name(d["conflict"])) == {"capacity[consultants]", "capacity[nurses]",
                                               "uptake_min[north,resp,virtual,integrated]"}


def _row(**kw) -> pd.Series:
    base = dict(name="", kind="", locality="north", pathway="resp", step=None, provider=None,
                resource=None, activity=None, variant=None, year=0)
    return pd.Series({**base, **kw})


def test_locations_of_design_steps_units_and_heads(folder):
    sc = optimiser.load(folder / "forced.yaml")
    pathway = CONFIGS["forced"][1]
    # a key the replace entry gives: there
    where, key = describe.location(sc, _row(
        kind="setting_cap", name="setting_cap[north,resp,review,community,integrated]",
        step="review", activity="resp.review", variant="integrated"))
    assert key == "variants.integrated.replace[0].max_share.community"
    assert where.endswith(f"p2.yaml:{line_of(pathway, 'max_share')}:" + where.rsplit(':', 1)[1])
    # a key it does not give: today's step
    _, key = describe.location(sc, _row(kind="uptake_max", step="review", variant="integrated",
                                        activity="resp.review"))
    assert key == "steps[0].per_patient.max"
    # today's design
    _, key = describe.location(sc, _row(kind="uptake_min", step="review", variant="current",
                                        activity="resp.review"))
    assert key == "steps[0].per_patient.min"
    # the design rows: the pathway's variants
    assert describe.location(sc, _row(kind="design"))[1] == "variants"
    assert describe.location(sc, _row(kind="design_kept", variant="integrated"))[1] == \
        "variants.integrated"

    ch = optimiser.load(ROOT / "configs" / "community_hospital.yaml")
    where, key = describe.location(ch, _row(kind="units", provider="westvale_community",
                                            activity="falls_frailty.rehabilitation"))
    assert key == "providers.westvale_community.units.falls_frailty.rehabilitation"
    text = (ROOT / "configs" / "community_hospital.yaml").read_text().splitlines()
    assert "falls_frailty.rehabilitation" in text[int(where.split(":")[-2]) - 1]
    where, key = describe.location(ch, _row(kind="heads", provider="westvale_community",
                                            activity="falls_frailty.rehabilitation",
                                            resource="band5_nurses"))
    assert key == "resources.band5_nurses.whole"
    assert "whole: true" in text[int(where.split(":")[-2]) - 1]
    _, key = describe.location(ch, _row(kind="capacity", resource="band5_nurses"))
    assert key == "resources.band5_nurses.capacity"
    assert describe.member_message(ch, _row(kind="capacity", resource="band5_nurses"), 6) == \
        "band5_nurses capacity 6 heads"
    assert describe.member_message(ch, _row(kind="capacity", resource="community_beds"), 24) == \
        "community_beds capacity 24"
    assert describe.member_message(ch, _row(
        kind="heads", provider="westvale_community", activity="falls_frailty.rehabilitation",
        resource="band5_nurses"), 0) == ("band5_nurses is held in whole heads for "
                                         "westvale_community's falls_frailty.rehabilitation")
    assert describe.member_message(ch, _row(
        kind="units", provider="westvale_community", activity="falls_frailty.rehabilitation"),
        0) == "westvale_community's falls_frailty.rehabilitation is delivered from whole units"


def test_uptake_rows_of_design_steps_are_not_duplicated():
    """The diagnosis turns uptake column bounds into named rows; a design's optional step
    has its rows already (scaled by z): its column is only freed above."""
    sc = optimiser.load(ROOT / "configs" / "northshire.yaml")
    model = compile_model(sc.instance)
    m = with_uptake_rows(model)
    names = m.row_meta["name"]
    assert names.is_unique
    start, stop = model.blocks["y"]
    designed = pd.notna(model.col_meta["variant"].to_numpy(object)[start:stop])
    assert designed.any() and (~designed).any()
    assert np.isinf(m.col_ub[start:stop][designed]).all()
    assert (m.col_lb[start:stop][designed] == 0).all()
    added = len(m.row_meta) - len(model.row_meta)
    assert added == 2 * int((~designed).sum())
    kinds = model.row_meta["kind"]
    assert {"uptake_min", "uptake_max"} <= set(kinds)  # the design steps' own rows


def test_presolve_allows_a_design_that_avoids_a_dead_resource(folder):
    r = solve(folder, "forced", "milp", ["resources.consultants.capacity=0",
                                         "resources.nurses.capacity=10"])
    assert r.status.value == "optimal"
