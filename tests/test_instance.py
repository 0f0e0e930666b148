"""The instance tables of tests/data/tiny, checked against numbers worked out by hand.

tiny: north 100,000 people x 20/1000 -> N = 2,000; south 50,000 x 10/1000 (override) -> 500.
COPD steps: review 1 per patient (hospital, community; community <= 80%), rehab optional
0.1..0.5 (community) avoiding 0.5 admissions each, admission 0.4 (hospital).
"""

import numpy as np

import optimiser
from optimiser.instance import build


def test_demand_and_baseline(tiny):
    inst = optimiser.load(tiny).instance
    d = inst.demand.set_index(["locality", "step"])
    assert d.loc[("north", "review"), "patients"] == 2000
    assert d.loc[("south", "review"), "patients"] == 500
    assert d.loc[("north", "review"), "fixed"] == 2000          # 2000 x 1
    assert d.loc[("north", "rehab"), ["ymin", "ymax"]].tolist() == [200, 1000]   # 2000 x 0.1, x 0.5
    assert d.loc[("north", "admission"), "dmax"] == 800          # 2000 x 0.4
    # baseline admissions: 800 - 0.5 x 200 (rehab at minimum uptake) = 700; south 200 - 0.5 x 50
    assert d.loc[("north", "admission"), "d0"] == 700
    assert d.loc[("south", "admission"), "d0"] == 175


def test_arcs_and_default_baseline_shares(tiny):
    inst = optimiser.load(tiny).instance
    a = inst.arcs
    # review: hosp + hub; rehab: hub; admission: hosp -> 4 arcs per locality
    assert len(a) == 8
    base = a.set_index(["locality", "step", "provider"])["share0"]
    # nobody declares a share: all goes to the first listed buy provider with an arc (hosp),
    # and rehab, which only the make hub can deliver, to the hub
    assert base[("north", "review", "hosp")] == 1 and base[("north", "review", "hub")] == 0
    assert base[("north", "rehab", "hub")] == 1
    assert a.set_index(["locality", "step", "provider"]).loc[("south", "rehab", "hub"), "x0"] == 50


def test_declared_shares_apply_in_every_locality(tiny):
    sc = optimiser.load(tiny, overrides=[
        "providers.hosp.current_share={copd.review: 0.75}",
        "providers.hub.current_share={copd.review: 0.25}",
    ])
    a = sc.instance.arcs.set_index(["locality", "step", "provider"])
    assert a.loc[("north", "review", "hosp"), "x0"] == 1500     # 0.75 x 2000
    assert a.loc[("south", "review", "hub"), "x0"] == 125       # 0.25 x 500


def test_build_is_pure(tiny):
    sc = optimiser.load(tiny)
    again = build(sc.config, list(sc.pathways))
    for name in ("demand", "arcs", "uses", "caps", "floors"):
        assert getattr(again, name).equals(getattr(sc.instance, name))
    assert np.isclose(again.arcs["x0"].sum(), sc.instance.arcs["x0"].sum())
