"""Budget: the total cost stays within the budget.

When ``constraints.budget`` is set::

    Total = obj @ v <= budget

(one row holding the objective's coefficients; see :mod:`.cost`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .rows import RowBlock, block


def rows(inst: Instance, obj: np.ndarray) -> RowBlock:
    if inst.budget is None:
        return block("budget", pd.DataFrame(index=range(0)), [], [], [], [], 0.0, 0.0)
    nz = np.flatnonzero(obj)
    return block("budget", pd.DataFrame(index=range(1)), [], np.zeros(len(nz)), nz, obj[nz],
                 -np.inf, float(inst.budget))
