"""Write a :class:`~optimiser.model.LinearModel` as CPLEX LP text (readable, diffable).

Used for golden snapshots of each constraint family and for handing a model to another
solver. Names keep the engine's ``kind[key,...]`` form with brackets turned into
parentheses (LP format does not allow ``[``/``]``). Numbers are written with 12
significant digits; terms in column order, rows in model order, so output is stable.
"""

from __future__ import annotations

import numpy as np

from .model import LinearModel


def _name(s: str) -> str:
    return s.replace("[", "(").replace("]", ")").replace(" ", "_")


def _num(v: float) -> str:
    return f"{v:.12g}"


def _terms(coefs: np.ndarray, names: list[str]) -> str:
    out = []
    for c, n in zip(coefs, names):
        sign = "-" if c < 0 else "+"
        mag = abs(c)
        out.append(f"{sign} {n}" if mag == 1 else f"{sign} {_num(mag)} {n}")
    text = " ".join(out) if out else "0 " + (names[0] if names else "")
    return text[2:] if text.startswith("+ ") else text


def to_lp(model: LinearModel) -> str:
    cols = [_name(n) for n in model.col_meta["name"]]
    rows = [_name(n) for n in model.row_meta["name"]]
    lines = ["\\ carepath model", "Minimize"]
    nz = np.flatnonzero(model.obj)
    obj = _terms(model.obj[nz], [cols[j] for j in nz]) if len(nz) else "0"
    if model.obj_offset:
        obj += f" + {_num(model.obj_offset)}"
    lines.append(f" obj: {obj}")
    lines.append("Subject To")
    A = model.A.tocsr()
    A.sort_indices()
    for i in range(model.num_rows):
        s, e = A.indptr[i], A.indptr[i + 1]
        expr = _terms(A.data[s:e], [cols[j] for j in A.indices[s:e]]) if e > s else f"0 {cols[0]}"
        lo, hi = model.row_lb[i], model.row_ub[i]
        if lo == hi:
            lines.append(f" {rows[i]}: {expr} = {_num(lo)}")
        elif np.isfinite(lo) and np.isfinite(hi):
            lines.append(f" {rows[i]}: {_num(lo)} <= {expr} <= {_num(hi)}")
        elif np.isfinite(hi):
            lines.append(f" {rows[i]}: {expr} <= {_num(hi)}")
        else:
            lines.append(f" {rows[i]}: {expr} >= {_num(lo)}")
    lines.append("Bounds")
    for j, n in enumerate(cols):
        lo, hi = model.col_lb[j], model.col_ub[j]
        lo_s = "-inf" if np.isneginf(lo) else _num(lo)
        hi_s = "+inf" if np.isposinf(hi) else _num(hi)
        lines.append(f" {lo_s} <= {n} <= {hi_s}")
    ints = [cols[j] for j in np.flatnonzero(model.col_integer)]
    if ints:
        lines.append("General")
        lines.extend(f" {n}" for n in ints)
    lines.append("End")
    return "\n".join(lines) + "\n"
