"""Quality floor: each locality's pathway keeps its volume-weighted mean quality.

For every locality l and pathway p with a floor ``Q[p]`` (its own ``min_quality``, else
``default``)::

    sum_{s, v} (q[v, p.s] - Q[p]) * x[l,p,s,v] >= 0

which is ``sum q*x / sum x >= Q[p]`` without dividing by a variable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import Columns
from .rows import RowBlock, block


def rows(inst: Instance, cols: Columns) -> RowBlock:
    # an inner merge keeps the left (arc) order
    floored = inst.arcs.reset_index().merge(inst.floors, on="pathway", how="inner", sort=False)
    pairs = floored[["locality", "pathway"]].drop_duplicates().reset_index(drop=True)
    row = pd.MultiIndex.from_frame(pairs).get_indexer(
        pd.MultiIndex.from_frame(floored[["locality", "pathway"]]))
    col = cols.x[floored["arc"].to_numpy(np.int64)]
    val = (floored["quality"] - floored["floor"]).to_numpy(float)
    return block("quality", pairs, ["locality", "pathway"], row, col, val, 0.0, np.inf)
