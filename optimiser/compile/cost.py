"""Cost: the objective coefficients, and the block-contract floor on what is paid.

Total = buy + make + expansion, with

* buy provider v without a block contract: ``sum price * x`` directly;
* buy provider v with one: ``pay[v]`` with ``pay[v] >= block_contract[v]`` (row
  ``block_contract``, whose shadow price says what the take-or-pay floor costs) and
  ``pay[v] >= sum price * x`` (row ``payment``: ``pay - sum price * x >= 0``);
* make provider v: ``(1 + overhead[v]) * (sum cost * x + fixed_cost[v] * o[v])``;
* expansion: ``sum expand.cost[r] * k[r]``;

each in every year t, with that year's columns (held increments ``k[r,t]`` are paid every
year). Setup costs are in :mod:`.setup`, the discounted objective in :mod:`.discount`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instance import Instance
from . import setup
from .columns import YearColumns
from .rows import RowBlock, block


def spend(inst: Instance, cols: YearColumns) -> tuple[np.ndarray, np.ndarray]:
    """Total of one year (``inst`` and ``cols`` of that year) as sparse terms
    ``(columns, coefficients)``: buy, make, fixed, overhead, expansion, and the setup of a
    start in year 0 (priced on ``o[v,0]``, see :mod:`.setup`)."""
    arcs, prov = inst.arcs, inst.providers
    p_idx = pd.Index(prov["provider"]).get_indexer(arcs["provider"])
    uplift = 1.0 + prov["overhead"].to_numpy(float)[p_idx]
    in_pay = cols.pay_of_prov[p_idx] >= 0
    x_val = np.where(in_pay, 0.0, arcs["unit_cost"].to_numpy(float) * uplift)
    has_o = cols.o_of_prov >= 0
    fixed = (1.0 + prov["overhead"].to_numpy(float)) * prov["fixed_cost"].to_numpy(float)
    if inst.year == 0:
        fixed = fixed + setup.year_zero(inst)
    has_k = cols.k_of_res >= 0
    has_pay = cols.pay_of_prov >= 0
    return (np.concatenate([cols.x, cols.o_of_prov[has_o], cols.k_of_res[has_k],
                            cols.pay_of_prov[has_pay]]),
            np.concatenate([x_val, fixed[has_o],
                            inst.resources["expand_cost"].to_numpy(float)[has_k],
                            np.ones(int(has_pay.sum()))]))


def block_contract_rows(inst: Instance, cols: YearColumns) -> list[RowBlock]:
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
