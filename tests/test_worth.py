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
    b = cons[cons["binding"] & ~cons["kind"].isin(["flow", "payment"])]
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
