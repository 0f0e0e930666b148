"""Numerically awkward models: coefficient spreads solvers cannot be trusted with.

Within one row (and within the objective), the ratio of the largest to the smallest
non-zero coefficient is checked: above :data:`WARN` (1e6) the solve goes ahead with a
warning naming the row; above :data:`REFUSE` (1e9) it is refused before any solver runs,
naming the row and the two coefficients (their variables), since the answer could not be
trusted (solvers work to tolerances around 1e-6 to 1e-9).
"""

from __future__ import annotations

import numpy as np

from .errors import CarepathError
from .model import LinearModel

WARN = 1e6
REFUSE = 1e9


class NumericsError(CarepathError):
    """A model whose coefficients span more than REFUSE within one row."""


def _describe(model: LinearModel, row_name: str, cols: np.ndarray, vals: np.ndarray) -> tuple[float, str]:
    a = np.abs(vals)
    i_max, i_min = int(np.argmax(a)), int(np.argmin(a))
    names = model.col_meta["name"].to_numpy()
    ratio = float(a[i_max] / a[i_min])
    text = (f"{row_name}: coefficients span {ratio:.1e} (from {vals[i_min]:.6g} on "
            f"{names[cols[i_min]]} to {vals[i_max]:.6g} on {names[cols[i_max]]})")
    return ratio, text


def check(model: LinearModel) -> list[str]:
    """Warnings for rows spanning more than WARN; NumericsError above REFUSE."""
    A = model.A.tocsr()
    nnz = np.diff(A.indptr)
    absd = np.abs(A.data)
    has = nnz > 0
    starts = A.indptr[:-1][has]
    hi = np.maximum.reduceat(absd, starts) if len(starts) else np.zeros(0)
    lo = np.minimum.reduceat(absd, starts) if len(starts) else np.zeros(0)
    ratio = np.zeros(model.num_rows)
    ratio[has] = hi / lo
    messages: list[tuple[float, str]] = []
    names = model.row_meta["name"].to_numpy()
    for i in np.flatnonzero(ratio > WARN):
        s, e = A.indptr[i], A.indptr[i + 1]
        messages.append(_describe(model, str(names[i]), A.indices[s:e], A.data[s:e]))
    nz = np.flatnonzero(model.obj)
    if len(nz) and np.abs(model.obj[nz]).max() / np.abs(model.obj[nz]).min() > WARN:
        messages.append(_describe(model, "objective", nz, model.obj[nz]))
    bad = [t for r, t in messages if r > REFUSE]
    if bad:
        raise NumericsError("numbers too far apart to solve reliably (more than 1e9 within one "
                            "constraint); check units and typos:\n  " + "\n  ".join(bad[:10])
                            + (f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""))
    return [f"numerically awkward: {t}" for _, t in messages]
