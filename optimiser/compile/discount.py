"""Discounting: the objective is the present value of every year's spending.

With ``spend[t]`` year t's Total (:mod:`.cost`) plus its setup (:mod:`.setup`) and
``discount_rate`` r (SPEC section 7)::

    minimise  sum_t spend[t] / (1 + r)^t        (year 0 undiscounted)

Budgets (:mod:`.budget`) cap the undiscounted ``spend[t]``. A one-year plan's objective is
its Total.
"""

from __future__ import annotations

import numpy as np


def objective(spend: list[tuple[np.ndarray, np.ndarray]], factors: np.ndarray,
              n_cols: int) -> np.ndarray:
    """The objective vector: each year's spending terms ``(columns, coefficients)`` times its
    discount factor, summed per column."""
    if not spend:
        return np.zeros(n_cols)
    cols = np.concatenate([c for c, _ in spend])
    vals = np.concatenate([v * f for (_, v), f in zip(spend, factors)])
    return np.bincount(cols, weights=vals, minlength=n_cols)
