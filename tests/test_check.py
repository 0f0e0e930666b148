"""The independent check names the worst violated constraint, whatever its family."""

from __future__ import annotations

import numpy as np
import pytest

import optimiser
from conftest import TINY
from optimiser.compile import compile_model
from optimiser.backends import SolveOptions, get_backend
from optimiser.results.check import check


@pytest.fixture(scope="module")
def solved():
    sc = optimiser.load(TINY)
    model = compile_model(sc.instance).relaxed()
    out = get_backend("highs").solve(model, SolveOptions())
    v = out.values
    inst = sc.instance
    y = np.full(len(inst.demand), np.nan)
    y[np.flatnonzero(inst.demand["optional"].to_numpy(bool))] = v[model.block("y")]
    running = np.full(len(inst.providers), np.nan)
    running[inst.providers["provider"].tolist().index("hub")] = v[model.block("o")][0]
    k = v[model.block("k")]
    return inst, v[model.block("x")], y, running, k


def test_the_optimum_passes(solved):
    inst, x, y, running, k = solved
    c = check(inst, x, y, running, k, integral=False)
    assert c.max_violation < 1e-9 and c.worst == ""


def test_a_short_delivery_names_its_flow_row(solved):
    inst, x, y, running, k = solved
    arcs = inst.arcs
    i = int(np.argmax(x))                  # the busiest arc: 10% short is the worst violation
    x2 = x.copy()
    x2[i] *= 0.5
    c = check(inst, x2, y, running, k, integral=False)
    a = arcs.iloc[i]
    assert c.worst in (f"flow[{a.locality},{a.pathway},{a.step}]",
                       f"pace[{a.locality},{a.pathway},{a.step},{a.provider}]")
    assert c.max_violation > 0.1


def test_negative_volume_and_overused_capacity_are_named(solved):
    inst, x, y, running, k = solved
    x2 = x.copy()
    j = int(np.argmin(x))
    x2[j] = -1e7                            # far below zero: the worst by far
    assert check(inst, x2, y, running, k, integral=False).worst == f"x[{inst.arcs['provider'].iloc[j]}]"
    k2 = k - 10                             # ten increments fewer than none
    assert check(inst, x, y, running, k2, integral=False).worst.startswith(("k[nurse]", "capacity[nurse]"))
