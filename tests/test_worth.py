"""Shadow prices turned into sentences, with their ranging (tests/data/tiny)."""

import optimiser
from conftest import TINY


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
