"""The scenarios of a sweep: every grid point times every Monte Carlo sample, each with a
key that changes exactly when its inputs do.

Scenario ``i`` is grid point ``i // n`` (the grid in row-major order over the axes as
written) and sample ``i % n`` (``n`` samples, or one undrawn sample without ``samples``).
Sample ``s`` multiplies each pathway's prevalence by a factor drawn from a lognormal with
mean 1 and coefficient of variation ``cv``: ``exp(N(mu, sigma^2))`` with
``sigma^2 = ln(1 + cv^2)`` and ``mu = -sigma^2 / 2``. The draws are made once, for all
samples and pathways, from ``numpy.random.default_rng(seed)`` (sample-major), so a sample's
factors do not depend on the grid, the number of workers or the order of solving.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from .spec import Sweep


@dataclass(frozen=True)
class Point:
    """One scenario of a sweep."""

    index: int
    grid: tuple[tuple[str, object], ...]
    """(dotted path, value) of each axis."""
    sample: int | None
    """Sample number, or None in a sweep without samples."""
    factors: tuple[tuple[str, float], ...]
    """(pathway, prevalence factor) of the sample (empty without samples)."""
    key: str
    """sha256 of everything that determines the answer: the base inputs, the solve
    settings, the grid values and the factors."""


def factors(sweep: Sweep) -> np.ndarray:
    """Prevalence factors, samples x pathways (ones without samples or with cv 0)."""
    s = sweep.config.samples
    pathways = [p.pathway for p in sweep.base.pathways]
    if s is None:
        return np.ones((1, len(pathways)))
    rng = np.random.default_rng(s.seed)
    if s.prevalence_cv == 0:
        return np.ones((s.n, len(pathways)))
    sigma2 = np.log1p(s.prevalence_cv ** 2)
    return rng.lognormal(mean=-sigma2 / 2, sigma=np.sqrt(sigma2), size=(s.n, len(pathways)))


def points(sweep: Sweep, settings: dict) -> list[Point]:
    """Every scenario in order. ``settings`` (mode, backend, time limit, gap) enter the keys,
    so a sweep solved another way is solved again."""
    pathways = [p.pathway for p in sweep.base.pathways]
    f = factors(sweep)
    sampled = sweep.config.samples is not None
    names = [p for p, _ in sweep.axes]
    grids = [()]
    for _, values in sweep.axes:
        grids = [g + (v,) for g in grids for v in values]
    common = json.dumps({"base": sweep.base.input_sha256, "settings": settings},
                        sort_keys=True)
    out: list[Point] = []
    for g, values in enumerate(grids):
        grid = tuple(zip(names, values))
        for s in range(f.shape[0]):
            fac = tuple(zip(pathways, (float(x) for x in f[s]))) if sampled else ()
            # the sample number counts too: with cv 0 every sample has the same factors, but
            # each is still its own scenario with its own row
            key = hashlib.sha256(json.dumps([common, grid, s if sampled else None, fac],
                                            default=str).encode()).hexdigest()
            out.append(Point(index=g * f.shape[0] + s, grid=grid, sample=s if sampled else None,
                             factors=fac, key=key))
    return out
