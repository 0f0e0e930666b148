"""The solver-neutral sparse model every backend receives.

``minimise obj @ v + obj_offset  s.t.  row_lb <= A @ v <= row_ub,  col_lb <= v <= col_ub``,
with ``col_integer`` marking integer columns. Columns and rows carry tidy metadata tables
(kind, locality, pathway, step, provider, resource, activity, year) so results can be read back
without the solver. Infinite bounds are ``numpy.inf``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

META_COLUMNS = ["name", "kind", "locality", "pathway", "step", "provider", "resource", "activity",
                "variant", "year"]
"""Row and column metadata; ``year`` is the year index t (0 in a one-year plan); ``variant``
is the design of a row or column of a pathway with variants (SPEC section 11), else None."""


def names(kind: str, df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """``kind[key1,key2,...]`` per row of ``df`` (Python strings: one pass, no pandas string
    ops, which convert to and from Arrow at every step)."""
    cols = [df[k].tolist() for k in keys]
    if len(cols) == 1:
        out = [f"{kind}[{a}]" for a in cols[0]]
    elif len(cols) == 2:
        out = [f"{kind}[{a},{b}]" for a, b in zip(*cols)]
    elif len(cols) == 3:
        out = [f"{kind}[{a},{b},{c}]" for a, b, c in zip(*cols)]
    elif len(cols) == 4:
        out = [f"{kind}[{a},{b},{c},{d}]" for a, b, c, d in zip(*cols)]
    elif len(cols) == 5:
        out = [f"{kind}[{a},{b},{c},{d},{e}]" for a, b, c, d, e in zip(*cols)]
    else:
        out = [f"{kind}[{','.join(map(str, t))}]" for t in zip(*cols)]
    return text(out)


def with_variant(named: pd.Series, variant: pd.Series) -> pd.Series:
    """Names with the design added as their last index where ``variant`` is given
    (``flow[north,copd,review]`` -> ``flow[north,copd,review,integrated]``): a step of a
    pathway with variants exists once per design."""
    v = variant.to_numpy(object)
    has = np.flatnonzero(pd.notna(v))
    if not len(has):
        return named
    out = named.to_numpy(object).copy()
    out[has] = [f"{n[:-1]},{w}]" for n, w in zip(out[has].tolist(), v[has].tolist())]
    return text(out)


def text(values) -> pd.Series:
    """A text column kept as Python objects: pandas 3 would otherwise convert it to Arrow
    strings, and every join, take and CSV cell would convert it back."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return pd.Series(arr, dtype=object)


@dataclass(frozen=True)
class LinearModel:
    """A (mixed-integer) linear program in CSR form with named, described rows and columns."""

    obj: np.ndarray
    obj_offset: float
    col_lb: np.ndarray
    col_ub: np.ndarray
    col_integer: np.ndarray
    col_meta: pd.DataFrame
    A: sp.csr_array
    row_lb: np.ndarray
    row_ub: np.ndarray
    row_meta: pd.DataFrame
    blocks: dict[str, tuple[int, int]]
    """Column ranges ``[start, stop)`` by kind: ``x`` flows, ``y`` uptakes, ``k`` expansion
    steps, ``o`` running indicators, ``pay`` block-contract payments, ``z`` designs, ``n``
    whole units, ``h`` whole heads, ``u`` starts, ``c`` carried budget (kind-major,
    year-major inside a kind)."""
    implied_ub: np.ndarray | None = None
    """Finite upper bounds every feasible point respects (x <= the step's largest demand,
    pay <= max(block, all demand at its prices)), for solvers that need finite domains
    (CP-SAT). Not passed to LP/MILP solvers: a redundant bound could take a row's dual."""

    @property
    def num_cols(self) -> int:
        return len(self.obj)

    @property
    def num_rows(self) -> int:
        return self.A.shape[0]

    @property
    def num_nonzeros(self) -> int:
        return int(self.A.nnz)

    @property
    def has_integers(self) -> bool:
        return bool(self.col_integer.any())

    def block(self, kind: str) -> slice:
        start, stop = self.blocks.get(kind, (0, 0))
        return slice(start, stop)

    def relaxed(self) -> LinearModel:
        """The LP relaxation: every column continuous."""
        return replace(self, col_integer=np.zeros_like(self.col_integer))

    def with_integers_fixed(self, values: np.ndarray) -> LinearModel:
        """The LP with each integer column fixed at its (rounded) value in ``values``."""
        lb, ub = self.col_lb.copy(), self.col_ub.copy()
        ints = self.col_integer
        fixed = np.clip(np.round(values[ints]), lb[ints], ub[ints])
        lb[ints] = fixed
        ub[ints] = fixed
        return replace(self, col_lb=lb, col_ub=ub, col_integer=np.zeros_like(ints))
