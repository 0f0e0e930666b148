"""Cost: the objective coefficients, and the block-contract floor on what is paid.

Total = buy + make + expansion, with

* buy provider v without a block contract: ``sum price * x`` directly;
* buy provider v with one: ``pay[v]`` with ``pay[v] >= block_contract[v]`` (row
  ``block_contract``, whose shadow price says what the take-or-pay floor costs) and
  ``pay[v] >= sum price * x`` (row ``payment``: ``pay - sum price * x >= 0``);
* make provider v: ``(1 + overhead[v]) * (sum cost * x + fixed_cost[v] * o[v])``, plus
  ``setup_cost[v] * o[v]`` when v delivers nothing today (SPEC 7, one-year horizon:
  ``o[v,-1] = 1`` when it has baseline volume), outside the overhead;
* expansion: ``sum expand.cost[r] * k[r]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from .columns import Columns
from .rows import RowBlock, block


def objective(inst: Instance, cols: Columns, n_cols: int) -> np.ndarray:
    c = np.zeros(n_cols)
    arcs, prov = inst.arcs, inst.providers
    p_idx = pd.Index(prov["provider"]).get_indexer(arcs["provider"])
    uplift = 1.0 + prov["overhead"].to_numpy(float)[p_idx]
    in_pay = cols.pay_of_prov[p_idx] >= 0
    c[cols.x] = np.where(in_pay, 0.0, arcs["unit_cost"].to_numpy(float) * uplift)
    has_o = cols.o_of_prov >= 0
    baseline_vol = np.bincount(p_idx, weights=arcs["x0"].to_numpy(float), minlength=len(prov))
    setup = np.where(baseline_vol > 0, 0.0, prov["setup_cost"].to_numpy(float))
    fixed = (1.0 + prov["overhead"].to_numpy(float)) * prov["fixed_cost"].to_numpy(float) + setup
    c[cols.o_of_prov[has_o]] = fixed[has_o]
    has_k = cols.k_of_res >= 0
    c[cols.k_of_res[has_k]] = inst.resources["expand_cost"].to_numpy(float)[has_k]
    has_pay = cols.pay_of_prov >= 0
    c[cols.pay_of_prov[has_pay]] = 1.0
    return c


def block_contract_rows(inst: Instance, cols: Columns) -> list[RowBlock]:
    prov = inst.providers
    blocked = prov[cols.pay_of_prov >= 0].reset_index()
    pay_cols = cols.pay_of_prov[blocked["index"].to_numpy(np.int64)]
    floor = block("block_contract", blocked[["provider"]], ["provider"], np.arange(len(blocked)),
                  pay_cols, np.ones(len(blocked)), blocked["block_contract"].to_numpy(float), np.inf)
    r_of = pd.Series(np.arange(len(blocked)), index=blocked["provider"])
    arcs = inst.arcs
    mine = arcs["provider"].isin(blocked["provider"]).to_numpy()
    row = np.concatenate([r_of.reindex(arcs["provider"][mine]).to_numpy(np.int64), np.arange(len(blocked))])
    col = np.concatenate([cols.x[mine], pay_cols])
    val = np.concatenate([-arcs["unit_cost"].to_numpy(float)[mine], np.ones(len(blocked))])
    return [floor, block("payment", blocked[["provider"]], ["provider"], row, col, val, 0.0, np.inf)]
