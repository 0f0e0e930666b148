"""Shadow prices turned into sentences, with their ranging (tests/data/tiny)."""

from pathlib import Path

import pandas as pd
import pytest

import optimiser
from conftest import TINY

ROOT = Path(__file__).resolve().parent.parent


def _row(result, name):
    return result.constraints.set_index("name").loc[name]


def test_capacity_sentence_and_range_in_lp():
    # lp: k is continuous and at its maximum 3 (1,500 h bought at 20,000 per 500 h = £40/h).
    # One more hour of capacity replaces an hour of expansion: saves £40, and keeps doing so
    # until no expansion is left, i.e. for 1,500 more hours.
    r = optimiser.solve(optimiser.load(TINY), mode="lp")
    row = _row(r, "capacity[nurse]")
    assert row["shadow_price"] == -40
    assert row["valid_to"] - row["limit"] == 1500
    assert row["meaning"] == "one more unit of nurse saves £40.00, for up to 1,500 more units"


def test_capacity_sentence_in_milp_comes_from_the_fixed_lp():
    # milp: k = 3 and o = 1 fixed; an hour moves a review from hospital (100) to hub (50 x 1.2)
    r = optimiser.solve(optimiser.load(TINY), mode="milp")
    row = _row(r, "capacity[nurse]")
    assert row["shadow_price"] == -40
    assert row["meaning"].startswith("one more unit of nurse saves £40.00")


def test_flow_sentence_is_the_marginal_cost_of_demand():
    # lp: one more north review is bought from the hospital at its price, 100
    r = optimiser.solve(optimiser.load(TINY), mode="lp")
    assert _row(r, "flow[north,copd,review]")["meaning"] == \
        "each extra copd.review in north costs £100.00"


def test_terminal_lists_worth(tmp_path):
    from conftest import run_cli
    out = run_cli("solve", TINY, "--mode", "lp", "--out", tmp_path)
    assert "one more unit of nurse saves £40.00, for up to 1,500 more units  [capacity[nurse]]" in out.stdout


@pytest.mark.parametrize("mode", ["lp", "milp"])
def test_vectorised_sentences_equal_the_row_by_row_ones(mode):
    """``annotate`` builds sentences one kind at a time; each must equal :func:`sentence`
    applied to its row alone (the reference, readable implementation)."""
    from optimiser.results import worth

    sc = optimiser.load(ROOT / "configs" / "northshire.yaml")
    res = optimiser.solve(sc, mode=mode)
    cons = res.constraints
    arcs = sc.instance.arcs
    x = res.allocation["volume"].to_numpy(float)
    volume = pd.Series(x).groupby([arcs["locality"].to_numpy(), arcs["pathway"].to_numpy()]).sum().to_dict()
    expected = [worth.sentence(r, sc, volume) if b else ""
                for r, b in zip(cons.itertuples(index=False), cons["binding"])]
    assert cons["meaning"].tolist() == expected
    assert sum(bool(e) for e in expected) > 20   # many kinds of binding rows are covered
    assert {"flow", "capacity", "pace"} <= set(cons.loc[cons["meaning"] != "", "kind"])


def _binding_reference(cons, cur, mode, top):
    """The terminal's 'worth' lines as first written (a stable descending sort of all
    binding rows with a sentence); :func:`optimiser.results.text._binding` must print the same."""
    from optimiser.results.tables import DEFINITIONS

    # rows that define a variable (flow balances, payments, the design chosen, ...) are
    # never listed
    b = cons[cons["binding"] & ~cons["kind"].isin(DEFINITIONS)]
    if b.empty:
        return ["No limit binds: the plan is the cheapest without any constraint biting."]
    worth = b[b["meaning"].astype(bool)]
    worth = worth.assign(w=worth["shadow_price"].abs()).sort_values("w", ascending=False, kind="stable")
    out = ["What the binding limits are worth"
           + (" (prices from the LP with open services and staff increments fixed):"
              if mode == "milp" else ":")]
    for r in worth.head(top).itertuples():
        out.append(f"  - {r.meaning}  [{r.name}]")
    rest = len(b) - min(top, len(worth))
    if worth.empty:
        out.append("  " + ", ".join(b["name"].head(top)) + (" ..." if len(b) > top else ""))
        if mode == "cp":
            out.append("  (cp mode gives no shadow prices; solve with --mode lp or milp for them)")
    elif rest > 0:
        out.append(f"  ... and {rest} more binding limits in constraints.csv")
    return out


@pytest.mark.parametrize("mode", ["lp", "milp", "cp"])
def test_terminal_worth_lines_equal_the_reference(mode):
    from optimiser.results.text import _binding

    cons = optimiser.solve(optimiser.load(ROOT / "configs" / "northshire.yaml"), mode=mode).constraints
    for top in (1, 3, 8, 1000):
        assert _binding(cons, "GBP", mode, top) == _binding_reference(cons, "GBP", mode, top)


# ---------------------------------------------------------------------------------------
# SPEC section 11: whole units, whole heads, redesigns and the uptake of a design's step

SECTION_11_PATHWAY = """\
pathway: q
prevalence_per_1000: 10
steps:
  - step: review
    per_patient: 1.0
    settings: [hospital, community]
variants:
  remote:
    replace:
      - {step: review, per_patient: 0.5, settings: [hospital]}
    add:
      - {step: call, per_patient: {min: 0.0, max: 0.5}, settings: [community], avoids: {review: 0.5}}
    adoption_cost: 5000
"""

SECTION_11_CONFIG = """\
scenario: worth of section 11
pathways: [q.yaml]
localities:
  north: {population: 100000}
  south: {population: 50000}
resources:
  nurses: {capacity: 1, whole: true, cost: 6000}
providers:
  hosp:
    setting: hospital
    mode: buy
    prices: {q.review: 150}
  hub:
    setting: community
    mode: make
    costs: {q.review: 0, q.call: 20}
    units:
      q.review: {size: 300, cost: 30000, uses: {nurses: 1}}
constraints:
  max_redesigns: 1
"""


@pytest.fixture(scope="module")
def section_11(tmp_path_factory):
    """1,000 patients in north and 500 in south, one review each today, from the hospital
    at 150. The ``remote`` design halves the reviews (hospital only) and adds up to 0.5
    calls a patient at 20, each avoiding half a review; adopting it costs 5,000. The hub
    makes reviews from whole units of 300 (30,000 each, 0 per review), each needing one
    whole nurse (6,000 a head); there is one nurse. One redesign is allowed.

    By hand (lp): north adopts (150,000 today; 250 x 150 + 500 x 20 + 5,000 = 52,500);
    south keeps today's design with one unit at the hub (300 reviews) and 200 at the
    hospital."""
    folder = tmp_path_factory.mktemp("s11")
    (folder / "q.yaml").write_text(SECTION_11_PATHWAY)
    (folder / "w.yaml").write_text(SECTION_11_CONFIG)
    sc = optimiser.load(folder / "w.yaml")
    return sc, optimiser.solve(sc, mode="lp")


def test_section_11_sentences_by_hand(section_11):
    _, r = section_11
    assert r.objective == pytest.approx(52_500 + 200 * 150 + 30_000 + 6_000)
    # a unit given free (300 reviews at the hub instead of the hospital): 300 x 150
    row = _row(r, "units[hub,q.review]")
    assert row["shadow_price"] == pytest.approx(-150)
    assert row["meaning"] == \
        "one more whole unit of hub's q.review (300 activities) is worth £45,000.00"
    # one more nurse: a second unit, 300 reviews at 150 less the unit (30,000) and head (6,000)
    row = _row(r, "capacity[nurses]")
    assert row["shadow_price"] == pytest.approx(-9_000)
    assert row["meaning"].startswith("one more head of nurses saves £9,000.00")
    # a head more needed for the same unit: the one nurse holds no unit, 300 reviews go back
    # to the hospital and the unit is not bought: 45,000 - 30,000
    row = _row(r, "heads[hub,q.review,nurses]")
    assert row["shadow_price"] == pytest.approx(15_000)
    assert row["meaning"] == "each extra head of nurses for hub's q.review costs £15,000.00"
    # a second redesign: south's hospital reviews (500 x 150 at the margin) become the remote
    # design's 125 reviews and 250 calls and its adoption: 75,000 - 28,750
    row = _row(r, "max_redesigns")
    assert row["shadow_price"] == pytest.approx(-46_250)
    assert row["meaning"] == "allowing one more redesign saves £46,250.00"
    # the design row only says which design runs: no sentence, never a binding limit
    assert (r.constraints.loc[r.constraints["kind"] == "design", "meaning"] == "").all()


def test_section_11_vectorised_sentences_equal_the_row_by_row_ones(section_11):
    from optimiser.results import worth

    for sc, res in (section_11,
                    (lambda s: (s, optimiser.solve(s, mode="lp")))(
                        optimiser.load(ROOT / "configs" / "community_hospital.yaml"))):
        cons = res.constraints
        arcs = sc.instance.arcs
        x = res.allocation["volume"].to_numpy(float)
        volume = pd.Series(x).groupby([arcs["locality"].to_numpy(),
                                       arcs["pathway"].to_numpy()]).sum().to_dict()
        expected = [worth.sentence(r, sc, volume) if b else ""
                    for r, b in zip(cons.itertuples(index=False), cons["binding"])]
        assert cons["meaning"].tolist() == expected
        said = set(cons.loc[cons["meaning"] != "", "kind"])
        assert {"units", "heads", "capacity"} <= said


def test_design_uptake_sentences_name_the_design(section_11):
    """An uptake row of a design's step (its limit scaled by the design's z) is named with
    its design; a minimum is lowered, a maximum raised."""
    from types import SimpleNamespace

    from optimiser.results import worth

    sc, _ = section_11
    row = dict(name="uptake_max[north,q,call,remote]", kind="uptake_max", locality="north",
               pathway="q", step="call", provider=None, resource=None, activity="q.call",
               variant="remote", limit=0.0, valid_from=-500.0, valid_to=0.0)
    up = SimpleNamespace(**row, shadow_price=-55.0)
    assert worth.sentence(up, sc, {}) == \
        "allowing one more q.call in north (remote design) saves £55.00"
    low = SimpleNamespace(**{**row, "kind": "uptake_min", "name": "uptake_min[north,q,call,remote]"},
                          shadow_price=12.5)
    assert worth.sentence(low, sc, {}) == \
        "lowering the minimum uptake of q.call in north (remote design) by one saves £12.50"
    cols = {k: [v] for k, v in row.items()}
    assert worth._sentences("uptake_max", {**cols, "shadow_price": [-55.0]}, "GBP", {}) == \
        [worth.sentence(up, sc, {})]
    assert worth._sentences("uptake_min", {**cols, "shadow_price": [12.5]}, "GBP", {}) == \
        [worth.sentence(low, sc, {})]

