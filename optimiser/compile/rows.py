"""Row blocks: the common shape every constraint family returns, and the demand expression.

A :class:`RowBlock` holds ``n`` rows as COO triplets with local row numbers, their bounds and
a metadata table; :func:`stack` numbers them globally. :func:`demand_terms` writes SPEC
section 3's demand as ``D[d] = const[d] + sum coef * column`` once, so that flow balance,
setting caps, pace of change and the demand floor all use the same expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..instance import Instance
from ..model import META_COLUMNS, names, text, with_variant
from .columns import YearColumns


@dataclass(frozen=True)
class RowBlock:
    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    meta: pd.DataFrame


def block(kind: str, meta: pd.DataFrame, keys: list[str], row, col, val, lb, ub) -> RowBlock:
    """A row block of ``len(meta)`` rows named ``kind[key1,key2,...]``."""
    n = len(meta)
    meta = meta.reset_index(drop=True).copy()
    meta["name"] = names(kind, meta, keys) if keys else text([kind] * n)
    if "variant" in meta and "variant" not in keys:
        meta["name"] = with_variant(meta["name"], meta["variant"])
    meta["kind"] = text([kind] * n)
    for c in META_COLUMNS:
        if c not in meta:
            meta[c] = 0 if c == "year" else None
    return RowBlock(
        row=np.asarray(row, dtype=np.int64),
        col=np.asarray(col, dtype=np.int64),
        val=np.asarray(val, dtype=float),
        lb=np.broadcast_to(np.asarray(lb, dtype=float), n).copy(),
        ub=np.broadcast_to(np.asarray(ub, dtype=float), n).copy(),
        meta=meta[META_COLUMNS],
    )


@dataclass(frozen=True)
class DemandTerms:
    const: np.ndarray
    """Constant part of each demand row's D (N*per_patient for fixed steps, 0 otherwise)."""
    dem: np.ndarray
    col: np.ndarray
    coef: np.ndarray
    """Variable part as triplets: D[dem] += coef * column."""


def demand_terms(inst: Instance, cols: YearColumns) -> DemandTerms:
    """``D = y`` for an optional step; ``D = N*per_patient - sum effect * y[src]`` otherwise.
    A fixed step of a pathway with variants has ``N*per_patient * z`` of its design in place
    of the constant (SPEC section 11)."""
    dem = inst.demand
    opt = np.flatnonzero(dem["optional"].to_numpy(dtype=bool))
    av = inst.avoids
    src = av["src_dem"].to_numpy(dtype=np.int64)
    fixed = dem["fixed"].to_numpy(dtype=float)
    design = dem["design"].to_numpy(dtype=np.int64)
    by_z = np.flatnonzero((design >= 0) & ~dem["optional"].to_numpy(dtype=bool))
    return DemandTerms(
        const=np.where(design >= 0, 0.0, fixed),
        dem=np.concatenate([opt, av["dst_dem"].to_numpy(dtype=np.int64), by_z]),
        col=np.concatenate([cols.y_of_dem[opt], cols.y_of_dem[src], cols.z_of_design[design[by_z]]]),
        coef=np.concatenate([np.ones(len(opt)), -av["effect"].to_numpy(dtype=float), fixed[by_z]]),
    )


def demand_for_rows(terms: DemandTerms, row_dem: np.ndarray, factor: np.ndarray):
    """Triplets of ``factor[r] * D[row_dem[r]]`` for local rows r, and the constants.

    Returns ``(rows, cols, vals, const)`` where ``const[r] = factor[r] * const[row_dem[r]]``.
    Vectorised: rows are matched to demand terms by sorting on the demand id.
    """
    row_dem = np.asarray(row_dem, dtype=np.int64)
    factor = np.asarray(factor, dtype=float)
    const = factor * terms.const[row_dem]
    if len(terms.dem) == 0 or len(row_dem) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), const
    left = pd.DataFrame({"r": np.arange(len(row_dem)), "dem": row_dem, "f": factor})
    right = pd.DataFrame({"dem": terms.dem, "col": terms.col, "coef": terms.coef})
    m = left.merge(right, on="dem")
    return (m["r"].to_numpy(np.int64), m["col"].to_numpy(np.int64),
            (m["f"] * m["coef"]).to_numpy(float), const)


def held(kind: str, meta: pd.DataFrame, key: str, before: np.ndarray, now: np.ndarray) -> RowBlock:
    """``v[t-1] - v[t] <= 0`` for every owner with a column in both years: ``before`` and
    ``now`` are the owners' columns in years t-1 and t (-1 where an owner has none); ``meta``
    the owners' table, named by its column ``key``."""
    has = np.flatnonzero(now >= 0)
    n = len(has)
    r = np.arange(n)
    return block(kind, meta.iloc[has][[key]], [key], np.concatenate([r, r]),
                 np.concatenate([before[has], now[has]]),
                 np.concatenate([np.ones(n), -np.ones(n)]), -np.inf, 0.0)


def in_year(b: RowBlock, t: int, label: int | None) -> RowBlock:
    """Block ``b`` as year t's rows: ``year`` set, and the calendar year ``label`` (when the
    plan has a horizon) added as the last index of every name."""
    meta = b.meta.assign(year=np.full(len(b.meta), t, dtype=np.int64))
    if label is not None:
        meta["name"] = text([f"{n[:-1]},{label}]" if n.endswith("]") else f"{n}[{label}]"
                             for n in meta["name"].tolist()])
    return RowBlock(b.row, b.col, b.val, b.lb, b.ub, meta)


def stack(blocks: list[RowBlock]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Number all rows globally: ``(row, col, val, lb, ub, meta)``."""
    offsets = np.cumsum([0] + [len(b.meta) for b in blocks])
    row = np.concatenate([b.row + o for b, o in zip(blocks, offsets)]) if blocks else np.zeros(0, np.int64)
    col = np.concatenate([b.col for b in blocks]) if blocks else np.zeros(0, np.int64)
    val = np.concatenate([b.val for b in blocks]) if blocks else np.zeros(0)
    lb = np.concatenate([b.lb for b in blocks]) if blocks else np.zeros(0)
    ub = np.concatenate([b.ub for b in blocks]) if blocks else np.zeros(0)
    meta = pd.concat([b.meta for b in blocks], ignore_index=True) if blocks else pd.DataFrame(columns=META_COLUMNS)
    return row, col, val, lb, ub, meta
