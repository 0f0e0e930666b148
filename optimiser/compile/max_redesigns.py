"""Most redesigns: a cap on how many (locality, pathway) pairs leave today's design.

When ``constraints.max_redesigns`` is K (SPEC section 11)::

    sum over localities l, pathways p and designs w != current of z[l,p,w] <= K

(one row per year: in a multi-year plan a design once adopted is kept, so the last year's
row counts every adoption of the horizon).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import YearColumns
from .rows import RowBlock, block


def rows(inst: Instance, cols: YearColumns) -> RowBlock:
    if inst.max_redesigns is None or not inst.varied:
        return block("max_redesigns", pd.DataFrame(index=range(0)), [], [], [], [], 0.0, 0.0)
    new = np.flatnonzero(~inst.designs["current"].to_numpy(bool))
    return block("max_redesigns", pd.DataFrame(index=range(1)), [], np.zeros(len(new)),
                 cols.z_of_design[new], np.ones(len(new)), -np.inf, float(inst.max_redesigns))
