"""The fast CSV writer writes exactly the bytes pandas' ``to_csv`` writes for result tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from optimiser.results.csvout import to_csv_bytes


def _pandas(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, float_format="%.10g", lineterminator="\n").encode()


def test_awkward_cells_match_pandas():
    df = pd.DataFrame({
        "name": ["x[a,b]", 'say "hi"', "line\nbreak", "", None, "plain"],
        "value": [1.0, -0.0, np.nan, np.inf, 1e-12, 123456789012.5],
        "count": [1, 2, 3, 4, 5, 6],
        "flag": [True, False, True, False, True, False],
        "mixed": ["a", 1.5, None, True, np.nan, "b,c"],
    })
    df["text"] = pd.Series(["α", "β", None, "γ", "δ", "ε"], dtype=object)
    assert to_csv_bytes(df) == _pandas(df)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True),
                          st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
                          st.integers(-10**12, 10**12), st.booleans()), max_size=20))
def test_random_tables_match_pandas(rows):
    df = pd.DataFrame(rows, columns=["f", "s", "i", "b"])
    df["s"] = df["s"].astype(object)
    assert to_csv_bytes(df) == _pandas(df)


def test_the_example_result_tables_match_pandas(tiny_result):
    for table in (tiny_result.allocation, tiny_result.constraints, tiny_result.resources):
        assert to_csv_bytes(table) == _pandas(table)


@pytest.fixture(scope="module")
def tiny_result():
    import optimiser
    from pathlib import Path

    cfg = Path(__file__).parent / "data" / "tiny" / "configs" / "tiny.yaml"
    return optimiser.solve(optimiser.load(cfg), mode="lp")


def test_forked_formatting_gives_the_same_bytes(monkeypatch, tiny_result):
    """Large tables are cut into row ranges formatted by forked workers; the joined bytes
    must equal one pass (header once, every row once, in order)."""
    from optimiser.results import csvout

    big = pd.concat([tiny_result.constraints] * 40, ignore_index=True)   # ~2,000 rows
    tables = {"a.csv": tiny_result.allocation, "c.csv": big, "r.csv": tiny_result.resources}
    monkeypatch.setattr(csvout, "PARALLEL_ROWS", 10)
    monkeypatch.setattr(csvout, "MIN_CHUNK_ROWS", 7)                       # many small chunks
    got = csvout.tables_to_csv(tables, workers=2)
    assert list(got) == list(tables)
    for name, t in tables.items():
        assert got[name] == to_csv_bytes(t), name
