"""The sweep's charts (optimiser/sweeps/plots.py): files written as PNGs, the tornado's rule
on a frame whose answer is known by hand, degenerate sweeps, and a real small sweep."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser.sweeps.plots import tornado, write_plots

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "configs" / "northshire.yaml"
PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG and path.stat().st_size > 1000


def _frame(rows: list[dict]) -> pd.DataFrame:
    base = {"status": "optimal", "baseline_cost": 40e6, "budget_breached": None}
    out = pd.DataFrame([{**base, **r} for r in rows])
    out.insert(0, "scenario", range(len(out)))
    if "objective" in out:
        out["savings"] = out["baseline_cost"] - out["objective"]
    return out


def _linear() -> pd.DataFrame:
    """a and b on a full 11 x 11 grid of 0..10, cost = 30m + 100 a + 1 b."""
    a, b = np.meshgrid(np.arange(11), np.arange(11), indexing="ij")
    return _frame([{"a": int(x), "b": int(y), "objective": 30e6 + 100 * x + 1 * y}
                   for x, y in zip(a.ravel(), b.ravel())])


def test_tornado_rule_by_hand():
    # 121 values of a, each of 0..10 eleven times: sorted, positions 11-21 hold 1 and
    # 99-109 hold 9, so the 10th percentile (position 12) is 1 and the 90th (position
    # 108) is 9, likewise for b. a's bar: 100 * (9 - 1) = 800; b's: 1 * (9 - 1) = 8.
    t = tornado(_linear(), ["b", "a"])
    assert [bar.input for bar in t.bars] == ["a", "b"]
    a, b = t.bars
    assert (a.low, a.high, b.low, b.high) == (1.0, 9.0, 1.0, 9.0)
    assert a.width == pytest.approx(800.0, rel=1e-9)
    assert b.width == pytest.approx(8.0, rel=1e-9)
    assert a.width / b.width == pytest.approx(100.0, rel=1e-9)
    # centred on the mean cost, from the prediction at the 10th percentile to the 90th
    assert t.centre == pytest.approx(30e6 + 500 + 5, rel=1e-12)
    assert a.cost_low == pytest.approx(t.centre - 400, abs=1e-6)
    assert a.cost_high == pytest.approx(t.centre + 400, abs=1e-6)
    assert t.r2 == pytest.approx(1.0) and t.n == 121 and not t.skipped


def test_tornado_leaves_out_what_does_not_vary_and_infeasible_scenarios():
    f = _linear()
    f["constant"] = 7.0
    f["label"] = "x"
    f.loc[f["a"] == 10, "status"] = "infeasible"
    f.loc[f["a"] == 10, "objective"] = None
    t = tornado(f, ["a", "b", "constant", "label"])
    assert [bar.input for bar in t.bars] == ["a", "b"]
    assert dict(t.skipped) == {"constant": "no spread", "label": "not a number"}
    assert t.n == 110
    assert tornado(f, ["constant"]).note == "no input varies"
    assert "too few" in tornado(f.iloc[[0, 12, 25]], ["a", "b"]).note


def test_charts_are_pngs_and_named_from_the_axes(tmp_path):
    f = _linear()
    summary = {"scenario": "Synthetic", "currency": "GBP",
               "varied": {"a": list(range(11)), "b": list(range(11))}}
    written = write_plots(tmp_path, f, summary, None)
    names = sorted(p.name for p in written)
    assert names == ["cost_distribution.png", "savings_vs_a.png", "savings_vs_b.png", "tornado.png"]
    assert all(_is_png(p) for p in written)
    assert not list(tmp_path.glob("*.tmp"))
    # a later sweep into the folder with other axes leaves no stale savings chart
    f2 = f.rename(columns={"a": "providers.x.prices.a.b"})
    summary2 = {**summary, "varied": {"providers.x.prices.a.b": list(range(11))}}
    write_plots(tmp_path, f2, summary2, None)
    assert sorted(p.name for p in tmp_path.glob("savings_vs_*.png")) == \
        ["savings_vs_providers_x_prices_a_b.png"]


def _samples(n: int, seed: int = 1, **extra) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n):
        f = rng.lognormal(0, 0.1, 2)
        rows.append({"sample": s, "prevalence_factor.copd": f[0], "prevalence_factor.msk": f[1],
                     "baseline_cost": 40e6 * (0.3 * f[0] + 0.7 * f[1]),
                     "objective": 36e6 * (0.3 * f[0] + 0.7 * f[1]), **extra})
    return _frame(rows)


def _infeasible(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(status="infeasible", objective=None, savings=None, budget_breached=True)


DEGENERATE = {
    "all infeasible, grid": (_infeasible(_linear()), {"a": list(range(11)), "b": list(range(11))}),
    "all infeasible, samples": (_infeasible(_samples(30)), {}),
    "one scenario": (_frame([{"constraints.budget": 38e6, "objective": 35e6}]),
                     {"constraints.budget": [38e6]}),
    "one sample": (_samples(1), {}),
    "no samples, one axis": (_frame([{"localities.north.population": p, "objective": 30e6 + p}
                                     for p in (90_000, 100_000, 110_000)]),
                             {"localities.north.population": [90_000, 100_000, 110_000]}),
    "constant columns": (_samples(25).assign(**{"prevalence_factor.copd": 1.0,
                                                "prevalence_factor.msk": 1.0,
                                                "objective": 35e6, "savings": 5e6}), {}),
    "no budget and text values": (
        _frame([{"constraints.budget": b, "solve.mode": m, "objective": 35e6 + i}
                for i, (b, m) in enumerate([(None, "lp"), (38e6, "lp"), (None, "milp"),
                                            (38e6, "milp")])]),
        {"constraints.budget": [None, 38e6], "solve.mode": ["lp", "milp"]}),
    "errors and time limits": (_samples(12).assign(status=["error", "time_limit"] * 6,
                                                   objective=None, savings=None), {}),
    "no rows": (_frame([]).reindex(columns=["scenario", "status", "objective", "savings",
                                            "baseline_cost"]), {}),
}


@pytest.mark.parametrize("case", list(DEGENERATE))
def test_degenerate_sweeps_give_charts_not_errors(tmp_path, case):
    frame, varied = DEGENERATE[case]
    written = write_plots(tmp_path, frame, {"scenario": case, "currency": "EUR", "varied": varied},
                          None)
    names = {p.name for p in written}
    assert {"cost_distribution.png", "tornado.png"} <= names
    for path in varied:
        assert f"savings_vs_{path.replace('.', '_')}.png" in names
    if not varied and any(c.startswith("prevalence_factor.") for c in frame.columns):
        assert "savings_vs_demand.png" in names
    assert all(_is_png(p) for p in written)


def test_a_real_small_sweep_writes_every_chart(tmp_path):
    from optimiser.sweeps import sweep

    spec = tmp_path / "small.yaml"
    spec.write_text(f"base: {EXAMPLE}\n"
                    "vary:\n  constraints.budget: [37_500_000, 41_260_000]\n"
                    "samples: {n: 8, seed: 7, prevalence_cv: 0.10}\n")
    out = sweep(spec, out=tmp_path / "out", workers=1, allow_paths=(EXAMPLE.parent,))
    assert len(out.table) == 16
    pngs = sorted(p.name for p in out.files if p.suffix == ".png")
    assert pngs == ["cost_distribution.png", "savings_vs_constraints_budget.png", "tornado.png"]
    assert all(_is_png(tmp_path / "out" / n) for n in pngs)
    factors = [c for c in out.table.columns if c.startswith("prevalence_factor.")]
    t = tornado(out.table, ["constraints.budget", *factors])
    assert t.bars and {b.input for b in t.bars} <= {"constraints.budget", *factors}
    assert [b.width for b in t.bars] == sorted((b.width for b in t.bars), reverse=True)


def test_import_optimiser_does_not_import_matplotlib():
    code = "import sys, optimiser, optimiser.sweeps; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
