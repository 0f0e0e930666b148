"""CSV bytes of a result table, byte for byte what ``DataFrame.to_csv(index=False,
float_format="%.10g", lineterminator="\\n")`` writes, about ten times faster.

pandas formats each cell through several Python calls (a national allocation has millions);
here each column is formatted in one pass and the rows are joined by the C ``csv`` writer,
which quotes exactly as pandas does (``QUOTE_MINIMAL``).
"""

from __future__ import annotations

import csv
import io
import multiprocessing as mp
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pandas as pd


def _format(v) -> str:
    """One cell as pandas writes it."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (float, np.floating)):
        return "%.10g" % v
    return str(v)


def _column(s: pd.Series) -> list[str]:
    """The column's cells as text, each distinct value formatted once (result tables repeat
    names, zeros and prices millions of times)."""
    if pd.api.types.is_float_dtype(s.dtype):
        a = s.to_numpy(dtype=float)
        codes, uniques = pd.factorize(a, use_na_sentinel=True)
        if len(uniques) > len(a) // 2:  # mostly distinct: format directly
            return ["%.10g" % v if v == v else "" for v in a.tolist()]
        text = ["%.10g" % v for v in uniques.tolist()]
    elif isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return _arrow_text(s)
    elif s.dtype == object:
        a = s.to_numpy()
        null = pd.isna(a)
        if null.any():
            a = np.where(null, "", a)
        if pd.api.types.infer_dtype(a, skipna=False) == "string":  # text: nothing to format
            return a.tolist()
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        text = [_format(v) for v in uniques.tolist()]
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        uniques = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
        kind = s.dtype
        if pd.api.types.is_bool_dtype(kind):
            text = ["True" if v else "False" for v in uniques]
        else:
            text = [_format(v) for v in uniques]
    table = np.empty(len(text) + 1, dtype=object)
    table[:-1] = text
    table[-1] = ""  # missing
    return table[codes].tolist()


def _arrow_text(s: pd.Series) -> list[str]:
    """An Arrow-backed text column: distinct values found in C++, missing cells empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = pc.dictionary_encode(arr)
    if len(enc.dictionary) > len(arr) // 2:  # mostly distinct: take the values as they are
        return pc.fill_null(arr, "").to_pylist()
    table = np.empty(len(enc.dictionary) + 1, dtype=object)
    table[:-1] = enc.dictionary.to_pylist()
    table[-1] = ""
    return table[enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)].tolist()


_SPECIAL = re.compile('[,"\n]')


def _quoted(col: list[str]) -> list[str]:
    """``QUOTE_MINIMAL``: a field with a comma, quote or line break is quoted, its quotes
    doubled; one scan of the whole column tells whether any field needs it."""
    if not _SPECIAL.search("\x00".join(col)):
        return col
    return ['"' + v.replace('"', '""') + '"' if ("," in v or '"' in v or "\n" in v) else v
            for v in col]


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    if len(df.columns) < 2:  # a lone empty field is quoted: leave that to the csv module
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([str(c) for c in df.columns])
        if len(df.columns):
            w.writerows(zip(_column(df[df.columns[0]])))
        else:
            buf.write("\n" * len(df))
        return buf.getvalue().encode()
    head = ",".join(_quoted([str(c) for c in df.columns]))
    cols = [_quoted(_column(df[c])) for c in df.columns]
    body = "\n".join(map(",".join, zip(*cols)))
    return (head + "\n" + body + ("\n" if len(df) else "")).encode()


PARALLEL_ROWS = 200_000
"""Tables with more rows than this in all are formatted in two forked processes (POSIX)."""
MIN_CHUNK_ROWS = 50_000
"""Fewest rows a worker formats at once."""
_JOBS: dict[str, pd.DataFrame] = {}
"""The tables being formatted, inherited by forked workers (never pickled)."""


def _chunk(job: tuple[str, int, int]) -> bytes:
    name, start, stop = job
    data = to_csv_bytes(_JOBS[name].iloc[start:stop])
    return data if start == 0 else data[data.index(b"\n") + 1:]  # the header once


def tables_to_csv(tables: dict[str, pd.DataFrame], workers: int | None = None) -> dict[str, bytes]:
    """:func:`to_csv_bytes` of each table, the same bytes. Large tables are cut into row
    ranges formatted by forked processes (the cells are formatted in Python, one core each);
    small ones, platforms without ``fork``, or any failure of the pool, in this process."""
    total = sum(len(t) for t in tables.values())
    workers = workers or min(os.cpu_count() or 1, 4)
    if total < PARALLEL_ROWS or workers < 2 or "fork" not in mp.get_all_start_methods():
        return {name: to_csv_bytes(t) for name, t in tables.items()}
    size = max(total // (2 * workers), MIN_CHUNK_ROWS)
    jobs = [(name, a, min(a + size, len(t))) for name, t in tables.items()
            for a in range(0, max(len(t), 1), size)]
    _JOBS.update(tables)
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            parts = list(pool.map(_chunk, jobs))
    except (OSError, BrokenProcessPool):
        return {name: to_csv_bytes(t) for name, t in tables.items()}
    finally:
        _JOBS.clear()
    out: dict[str, list[bytes]] = {name: [] for name in tables}
    for (name, _, _), part in zip(jobs, parts):
        out[name].append(part)
    return {name: b"".join(p) for name, p in out.items()}
