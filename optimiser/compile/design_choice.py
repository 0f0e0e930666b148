"""Design choice: every locality runs exactly one design of each pathway with variants.

For every locality l and pathway p with variants (SPEC section 11), over its designs w
(``current`` and each variant)::

    sum_w z[l,p,w] = 1        (design)

with ``z`` in {0, 1} (in [0, 1] in ``lp`` mode). A design's demand terms carry its ``z``
(see :func:`.rows.demand_terms` and :mod:`.design_uptake`), so the steps of a design that
is not chosen have no demand and no flow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import YearColumns
from .rows import RowBlock, block


def rows(inst: Instance, cols: YearColumns) -> RowBlock:
    d = inst.designs
    pair, _ = pd.factorize(pd.MultiIndex.from_arrays([d["locality"], d["pathway"]]))
    pair = np.asarray(pair, dtype=np.int64)
    first = np.unique(pair, return_index=True)[1]
    meta = d.iloc[np.sort(first)][["locality", "pathway"]]
    return block("design", meta, ["locality", "pathway"], pair, cols.z_of_design,
                 np.ones(len(d)), 1.0, 1.0)
