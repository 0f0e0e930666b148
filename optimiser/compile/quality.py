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
from ..model import text
from .columns import YearColumns
from .rows import RowBlock, block


def rows(inst: Instance, cols: YearColumns) -> RowBlock:
    # codes of each demand row's locality and pathway (the demand table is far shorter than
    # the arcs); rows numbered in order of each pair's first arc
    dem = inst.demand
    loc_codes, loc_names = pd.factorize(dem["locality"])
    pw_codes, pw_names = pd.factorize(dem["pathway"])
    floors = dict(zip(inst.floors["pathway"], inst.floors["floor"]))
    floor_of = np.array([floors.get(p, np.nan) for p in pw_names], dtype=float)
    a_dem = inst.arcs["dem"].to_numpy(np.int64)
    f = floor_of[pw_codes[a_dem]] if len(a_dem) else np.zeros(0)
    idx = np.flatnonzero(~np.isnan(f))  # floored arcs, in arc order
    P = max(len(pw_names), 1)
    key = loc_codes[a_dem[idx]] * P + pw_codes[a_dem[idx]]
    row, uniq = pd.factorize(key)
    uniq = np.asarray(uniq, dtype=np.int64)
    pairs = pd.DataFrame({"locality": text(np.asarray(loc_names, dtype=object)[uniq // P]),
                          "pathway": text(np.asarray(pw_names, dtype=object)[uniq % P])})
    col = cols.x[idx]
    val = inst.arcs["quality"].to_numpy(float)[idx] - f[idx]
    return block("quality", pairs, ["locality", "pathway"], row, col, val, 0.0, np.inf)
