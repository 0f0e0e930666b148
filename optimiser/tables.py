"""Bulk numbers from CSV or Parquet tables (SPEC section 2.3), checked column by column.

A scenario may name tables under ``tables:``; each row means exactly what the same entry
written in YAML would mean, and an empty cell means "not given":

=============  =====================================  ==========================================
table          key columns                            value columns
=============  =====================================  ==========================================
localities     locality                               population[, population_growth]
                                                      (declares the locality)
prevalence     locality, pathway                      prevalence_per_1000
offers         provider, activity                     any of price, cost, quality, current_share
uses           provider, activity, resource           amount
resources      resource                               capacity, expand_step, expand_cost,
                                                      expand_max_steps, cost (declares the
                                                      resource; ``cost`` per unit used is
                                                      SPEC section 11's, an extension here)
=============  =====================================  ==========================================

Every check is vectorised (a national table has millions of rows) and every problem is an
:class:`~optimiser.errors.Issue` located as ``FILE:ROW:COLUMN``: ROW is the line number in a
CSV (header = line 1) or the 0-based row index in Parquet. Each kind of problem is reported
for its first :data:`MAX_PER_CHECK` rows, then summarised, so a broken million-row file gives
a readable list rather than a million lines.

The checks here need the YAML side (declared providers, localities, resources and the values
written there) and the loaded pathways; :func:`read` only reads and checks each table alone,
:func:`cross_check` does the rest.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Iterable

import numpy as np
import pandas as pd

from .errors import ConfigError, Issue
from .validate import suggest
from .yamlio import Document

MAX_PER_CHECK = 10
"""Issues listed per table, column and kind of problem before the rest are summarised."""
MAX_TABLE_BYTES = 2 * 1024**3
"""A table file larger than this is refused before it is read."""
MAX_TABLE_ROWS = 50_000_000
"""A table with more rows than this is refused (a Parquet file can decompress to a lot)."""
SUFFIXES = (".csv", ".parquet", ".pq")

_ID = r"[a-z][a-z0-9_]*"


@dataclass(frozen=True)
class Kind:
    """The columns of one kind of table."""

    keys: tuple[str, ...]
    values: dict[str, str]
    """Value column -> rule: ``nonneg`` (finite, >= 0), ``fraction`` ([0, 1]), ``count`` or
    ``growth`` (finite, > -1)."""
    required: tuple[str, ...] = ()
    """Value columns every header must have (and every row fill)."""
    any_of: tuple[str, ...] = ()
    """At least one of these must be in the header."""


KINDS: dict[str, Kind] = {
    "localities": Kind(("locality",), {"population": "nonneg", "population_growth": "growth"},
                       required=("population",)),
    "prevalence": Kind(("locality", "pathway"), {"prevalence_per_1000": "nonneg"},
                       required=("prevalence_per_1000",)),
    "offers": Kind(("provider", "activity"),
                   {"price": "nonneg", "cost": "nonneg", "quality": "fraction",
                    "current_share": "fraction"},
                   any_of=("price", "cost", "quality", "current_share")),
    "uses": Kind(("provider", "activity", "resource"), {"amount": "nonneg"}, required=("amount",)),
    "resources": Kind(("resource",), {"capacity": "nonneg", "expand_step": "nonneg",
                                      "expand_cost": "nonneg", "expand_max_steps": "count",
                                      "cost": "nonneg"},
                      required=("capacity",)),
}
KEY_PATTERN = {
    "locality": _ID, "pathway": _ID, "provider": _ID, "resource": _ID,
    "activity": rf"{_ID}\.{_ID}",
}


@dataclass(frozen=True)
class Table:
    """One table as read: key columns as text, value columns as float (NaN = not given)."""

    kind: str
    file: str
    """Path as shown to the user."""
    frame: pd.DataFrame
    """Key and value columns plus ``row`` (CSV line number or Parquet row index)."""
    csv: bool

    def at(self, row: int, column: str | int, path: str = "") -> Issue:
        return Issue(self.file, int(row), column, path, "")


@dataclass(frozen=True)
class TableSet:
    """The scenario's tables, checked, each keyed by its kind."""

    tables: dict[str, Table] = field(default_factory=dict)
    failed: frozenset[str] = frozenset()
    """Kinds named in the config whose file could not be read: names they would declare are
    unknown, so references to them are not judged (no cascade of errors)."""

    def frame(self, kind: str) -> pd.DataFrame:
        """The table's rows (an empty frame with the right columns when it is not given)."""
        t = self.tables.get(kind)
        if t is not None:
            return t.frame
        spec = KINDS[kind]
        return pd.DataFrame({**{k: pd.Series([], dtype=object) for k in spec.keys},
                             **{v: pd.Series([], dtype=float) for v in spec.values},
                             "row": pd.Series([], dtype=np.int64)})

    def cell(self, path: tuple) -> Issue | None:
        """Where the table cell that gave the YAML-equivalent ``path`` stands
        (``("resources", r, "capacity")``, ``("providers", v, "prices", act)``, ...), as an
        issue without a message; None when no table gave it."""
        found = _find(self, path)
        if found is None:
            return None
        t, row, col = found
        return Issue(t.file, row, col, "", "")

    def locate(self, path: tuple) -> tuple[str, str] | None:
        """``(FILE:ROW:COLUMN, key.path)`` of :meth:`cell` (a cell has no key path)."""
        at = self.cell(path)
        return None if at is None else (f"{at.file}:{at.line}:{at.column}", "")


def _find(ts: TableSet, path: tuple) -> tuple[Table, int, str] | None:
    column = {"prices": "price", "costs": "cost", "quality": "quality",
              "current_share": "current_share"}
    if len(path) >= 3 and path[0] == "resources":
        kind, keys = "resources", {"resource": path[1]}
        col = {"capacity": "capacity", "expand": "expand_step"}.get(path[2], "capacity")
    elif len(path) >= 3 and path[0] == "localities" and path[2] in ("population",
                                                                    "population_growth"):
        kind, keys, col = "localities", {"locality": path[1]}, path[2]
    elif len(path) == 4 and path[0] == "localities" and path[2] == "prevalence_per_1000":
        kind, keys, col = "prevalence", {"locality": path[1], "pathway": path[3]}, "prevalence_per_1000"
    elif len(path) == 4 and path[0] == "providers" and path[2] in column:
        kind, keys, col = "offers", {"provider": path[1], "activity": path[3]}, column[path[2]]
    elif len(path) == 5 and path[0] == "providers" and path[2] == "uses":
        kind, keys, col = "uses", {"provider": path[1], "activity": path[3], "resource": path[4]}, "amount"
    else:
        return None
    t = ts.tables.get(kind)
    if t is None:
        return None
    f = t.frame
    mask = np.ones(len(f), dtype=bool)
    for k, v in keys.items():
        mask &= (f[k] == v).to_numpy()
    if col in f:
        mask &= f[col].notna().to_numpy()
    hits = np.flatnonzero(mask)
    return (t, int(f["row"].iloc[hits[0]]), col) if len(hits) else None


# --------------------------------------------------------------------------- reporting


class _Issues:
    """Collects issues, at most :data:`MAX_PER_CHECK` per (table, column, check)."""

    def __init__(self) -> None:
        self.out: list[Issue] = []

    def rows(self, t: Table, mask: np.ndarray, column: str | int, message) -> None:
        """One issue per row where ``mask`` holds; ``message(i)`` takes the frame position."""
        hits = np.flatnonzero(mask)
        if not len(hits):
            return
        rows = t.frame["row"].to_numpy()
        for i in hits[:MAX_PER_CHECK]:
            self.out.append(Issue(t.file, int(rows[i]), column, "", message(int(i))))
        if len(hits) > MAX_PER_CHECK:
            i = int(hits[MAX_PER_CHECK])
            self.out.append(Issue(t.file, int(rows[i]), column, "",
                                  f"{message(i)} (and {len(hits) - MAX_PER_CHECK - 1:,} more "
                                  f"rows like this after this one)"))

    def add(self, issue: Issue) -> None:
        self.out.append(issue)


# --------------------------------------------------------------------------- reading


def read(spec: dict[str, str], cfg_path: FsPath, shown_dir: str, roots: list[FsPath],
         doc: Document) -> tuple[TableSet, list[Issue], list[tuple[str, str]]]:
    """Read every named table and check each alone.

    Returns the tables that could be read, the issues found and, per file, its shown path
    and sha256 digest (for the run's input hash).
    """
    issues = _Issues()
    tables: dict[str, Table] = {}
    digests: list[tuple[str, str]] = []
    for kind, rel in spec.items():
        if rel is None:
            continue
        where = ("tables", kind)
        try:
            resolved = _confine(cfg_path, rel, roots, doc, where)
        except ConfigError as exc:
            issues.out += exc.issues
            continue
        shown = os.path.normpath(os.path.join(shown_dir, rel))
        try:
            table, digest = _read_one(kind, resolved, shown, issues)
        except ConfigError as exc:
            issues.out += exc.issues
            continue
        digests.append((shown, digest))
        if table is not None:
            tables[kind] = table
    failed = frozenset(k for k, v in spec.items() if v is not None and k not in tables)
    return TableSet(tables, failed), issues.out, digests


def _confine(cfg_path: FsPath, rel: str, roots: list[FsPath], doc: Document, where: tuple) -> FsPath:
    """A table path must be a .csv/.parquet file under an allowed root (like pathways)."""
    from .load import confine

    return confine(cfg_path, rel, roots, doc, where, SUFFIXES, "a .csv or .parquet")


def _read_one(kind: str, path: FsPath, shown: str, issues: _Issues) -> tuple[Table | None, str]:
    import pyarrow as pa

    def fail(msg: str, line: int = 0) -> ConfigError:
        return ConfigError([Issue(shown, line, 0, "", msg)])

    from .load import read_file

    raw, digest = read_file(path, shown, MAX_TABLE_BYTES, "tables are limited to {limit:,}")
    csv = path.suffix.lower() == ".csv"
    try:
        arrow = _read_csv(raw, shown) if csv else _read_parquet(raw, shown)
    except ConfigError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        what = "CSV" if csv else "Parquet"
        raise fail(f"cannot be read as {what}: {exc}".rstrip()) from None
    spec = KINDS[kind]
    header_line = 1 if csv else 0
    names = list(arrow.column_names)
    known = [*spec.keys, *spec.values]
    bad_header = False
    seen: set[str] = set()
    for c in names:
        if c in seen:
            issues.add(Issue(shown, header_line, c, "", f"column '{c}' appears twice"))
            bad_header = True
        seen.add(c)
        if c not in known:
            msg = (f"unknown column '{c}' in a {kind} table; its columns are "
                   f"{', '.join(known)}" + suggest(c, known))
            issues.add(Issue(shown, header_line, c, "", msg))
            bad_header = True
    for c in (*spec.keys, *spec.required):
        if c not in names:
            issues.add(Issue(shown, header_line, 0, "", f"missing column '{c}' (a {kind} table "
                             f"has {', '.join(spec.keys)}, then {', '.join(spec.values)})"))
            bad_header = True
    if spec.any_of and not any(c in names for c in spec.any_of):
        issues.add(Issue(shown, header_line, 0, "", f"a {kind} table needs at least one of the "
                         f"columns {', '.join(spec.any_of)}"))
        bad_header = True
    if bad_header:
        return None, digest
    if arrow.num_rows > MAX_TABLE_ROWS:
        raise fail(f"{arrow.num_rows:,} rows; tables are limited to {MAX_TABLE_ROWS:,}")

    first = 2 if csv else 0
    frame = {"row": np.arange(first, first + arrow.num_rows, dtype=np.int64)}
    empty_key = np.zeros(arrow.num_rows, dtype=bool)
    blank = np.ones(arrow.num_rows, dtype=bool)  # CSV blank lines are skipped
    for c in spec.keys:
        col = _text(arrow.column(c))
        frame[c] = col
        e = pd.isna(col) | (col == "")
        empty_key |= e
        blank &= e
    values: dict[str, np.ndarray] = {}
    bad_cells: dict[str, np.ndarray] = {}
    for c in spec.values:
        if c in names:
            vals, bad, was_empty = _numbers(arrow.column(c))
            values[c], bad_cells[c] = vals, bad
            blank &= was_empty
        else:
            values[c] = np.full(arrow.num_rows, np.nan)
    keep = ~blank if csv else np.ones(arrow.num_rows, dtype=bool)
    df = pd.DataFrame({"row": frame["row"], **{c: frame[c] for c in spec.keys}, **values})
    table = Table(kind, shown, df, csv)
    # checks on each row alone
    raw = {c: arrow.column(c) for c in bad_cells}
    for c in spec.keys:
        col = df[c]
        issues.rows(table, keep & empty_key & (col.isna().to_numpy() | per_distinct(col, lambda u: u == "")), c,
                    lambda i, c=c: f"{c} is empty")
        pattern = rf"default|{KEY_PATTERN[c]}" if (kind, c) == ("offers", "activity") else KEY_PATTERN[c]
        ok = per_distinct(col, lambda u, rx=re.compile(pattern): u == "" or rx.fullmatch(u) is not None)
        ok |= col.isna().to_numpy()
        issues.rows(table, keep & ~ok, c,
                    lambda i, c=c, col=col: _bad_key(c, col.iloc[i]))
    for c, bad in bad_cells.items():
        issues.rows(table, keep & bad, c,
                    lambda i, c=c: f"{c} must be a number, got {_cell(raw[c], i)}")
    for c, rule in spec.values.items():
        v = df[c].to_numpy()
        given = ~np.isnan(v)
        with np.errstate(invalid="ignore"):
            if c in spec.required and c in names:
                miss = keep & ~given & ~bad_cells.get(c, np.zeros(len(v), dtype=bool))
                issues.rows(table, miss, c, lambda i, c=c: f"{c} is empty")
            issues.rows(table, keep & given & ~np.isfinite(v), c,
                        lambda i, c=c: f"{c} must be a finite number, got {df[c].iloc[i]}")
            fin = given & np.isfinite(v)
            if rule == "growth":
                issues.rows(table, keep & fin & (v <= -1), c,
                            lambda i, c=c: f"{c} must be above -1, got {df[c].iloc[i]:g}")
            else:
                issues.rows(table, keep & fin & (v < 0), c,
                            lambda i, c=c: f"{c} must be >= 0, got {df[c].iloc[i]:g}")
            if rule == "fraction":
                issues.rows(table, keep & fin & (v > 1), c,
                            lambda i, c=c: f"{c} must lie in [0, 1], got {df[c].iloc[i]:g}")
            if rule == "count":
                issues.rows(table, keep & fin & (v >= 0) & (v != np.round(v)), c,
                            lambda i, c=c: f"{c} must be a whole number, got {df[c].iloc[i]:g}")
    if kind == "resources":
        exp = ["expand_step", "expand_cost", "expand_max_steps"]
        n_given = sum((~np.isnan(df[c].to_numpy())).astype(int) for c in exp)
        part = keep & (n_given > 0) & (n_given < 3)
        issues.rows(table, part, exp[0] if exp[0] in names else 0,
                    lambda i: "expand needs all of expand_step, expand_cost and "
                              "expand_max_steps (or none)")
    # the same keys twice
    df = df[keep].reset_index(drop=True)
    table = Table(kind, shown, df, csv)
    dup = df.duplicated(list(spec.keys), keep=False).to_numpy() & ~empty_key[keep]
    if dup.any():
        firsts = df[dup].groupby(list(spec.keys), sort=False)["row"].transform("first").to_numpy()
        later = np.zeros(len(df), dtype=bool)
        later[np.flatnonzero(dup)] = firsts != df["row"].to_numpy()[dup]
        first_of = pd.Series(firsts, index=np.flatnonzero(dup))
        issues.rows(table, later, spec.keys[-1],
                    lambda i: f"{_describe_keys(df, spec.keys, i)} is given twice (also "
                              f"{_row_word(table)} {first_of[i]})")
    return table, digest


def _row_word(t: Table) -> str:
    return "line" if t.csv else "row"


def _describe_keys(df: pd.DataFrame, keys: Iterable[str], i: int) -> str:
    return " ".join(f"{k} '{df[k].iloc[i]}'" for k in keys)


def _bad_key(column: str, value) -> str:
    what = ("'pathway.step' (lower-case letters, digits and _)" if column == "activity"
            else "a name: lower-case letter, then lower-case letters, digits and _")
    return f"{column} must be {what}, got '{value}'"


def _cell(raw, i: int) -> str:
    v = raw[i].as_py()
    return f"'{v}'" if isinstance(v, str) else repr(v)


def _read_csv(raw: bytes, shown: str):
    import pyarrow as pa
    import pyarrow.csv as pcsv

    head = raw.split(b"\n", 1)[0]
    names = [c.strip() for c in head.decode("utf-8", "replace").rstrip("\r\n").split(",")]
    if not head.strip():
        raise ConfigError([Issue(shown, 1, 0, "", "the file is empty: a table starts with a "
                                 "header line naming its columns")])
    types = {c: pa.string() for c in names}
    try:
        return pcsv.read_csv(
            pa.BufferReader(raw),
            parse_options=pcsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=False),
            convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                quoted_strings_can_be_null=False),
            read_options=pcsv.ReadOptions(use_threads=True),
        )
    except pa.ArrowInvalid as exc:
        line = _bad_line(raw, len(names))
        msg = str(exc).replace("CSV parse error: ", "").split("\n")[0]
        if line:
            raise ConfigError([Issue(shown, line, 0, "", msg)]) from None
        raise


def _bad_line(raw: bytes, width: int) -> int:
    """The first line whose number of fields is not the header's (to locate a parse error)."""
    import csv as csvmod
    import io

    text = io.StringIO(raw.decode("utf-8", "replace"), newline="")
    for n, fields in enumerate(csvmod.reader(text), start=1):
        if fields and len(fields) != width:
            return n
    return 0


def _read_parquet(raw: bytes, shown: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(pa.BufferReader(raw))
    meta = file.metadata
    if meta.num_rows > MAX_TABLE_ROWS:
        raise ConfigError([Issue(shown, 0, 0, "", f"{meta.num_rows:,} rows; tables are limited "
                                 f"to {MAX_TABLE_ROWS:,}")])
    return file.read()


def per_distinct(values, fn, dtype=bool, missing=False) -> np.ndarray:
    """``fn(value)`` for every cell, evaluated once per distinct value (a national table
    repeats a few thousand names millions of times); ``missing`` where the cell is empty."""
    col = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    per = np.fromiter((fn(u) for u in uniques), dtype=dtype, count=len(uniques))
    out = np.full(len(codes), missing, dtype=dtype)
    has = codes >= 0
    out[has] = per[codes[has]]
    return out


def _text(col) -> pd.Series:
    """A key column as Python strings (object dtype: pandas' joins are fastest on these)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = pc.cast(col, pa.string())
    # through the distinct values: one Python string per name, shared by its rows
    enc = pc.dictionary_encode(col)
    names = np.empty(len(enc.dictionary) + 1, dtype=object)
    names[:-1] = enc.dictionary.to_pylist()
    names[-1] = None
    idx = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)
    return pd.Series(names[idx], dtype=object)


def _numbers(col) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A value column as float64 (NaN = empty), the cells that are not numbers, and the
    cells that were empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    n = len(col)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type):
        vals = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        vals = np.array(vals, dtype=float)
        empty = np.isnan(vals) & np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return vals, np.zeros(n, dtype=bool), empty
    if pa.types.is_null(col.type):
        return np.full(n, np.nan), np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        # booleans, dates, ...: never numbers
        bad = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return np.full(n, np.nan), bad, ~bad
    stripped = pc.utf8_trim_whitespace(col)
    empty = np.asarray(pc.fill_null(pc.equal(stripped, ""), True).to_numpy(zero_copy_only=False), dtype=bool)
    text = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)
    try:
        vals = np.array(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        return vals, np.zeros(n, dtype=bool), empty
    except pa.ArrowInvalid:
        pass
    s = pd.Series(text.to_pandas(), dtype=object)
    vals = np.array(pd.to_numeric(s, errors="coerce"), dtype=float)
    bad = np.isnan(vals) & ~empty
    for i in np.flatnonzero(bad):  # YAML-style numbers: 1_000, nan/inf spellings
        vals[i], bad[i] = _yaml_number(s.iloc[i])
    return vals, bad, empty


_NUMBER = re.compile(r"[-+]?(\d[\d_]*)?(\.\d[\d_]*)?([eE][-+]?\d+)?")


def _yaml_number(text: str) -> tuple[float, bool]:
    t = str(text)
    if _NUMBER.fullmatch(t) and any(ch.isdigit() for ch in t) and "__" not in t:
        try:
            return float(t.replace("_", "")), False
        except ValueError:
            pass
    return np.nan, True


# --------------------------------------------------------------------------- cross-checks


def cross_check(ts: TableSet, data: dict, pathways, doc: Document) -> list[Issue]:
    """Names in the tables refer to declared things; a value is not given twice; ``price``
    belongs to ``buy`` providers and ``cost`` to ``make`` ones."""
    issues = _Issues()
    yaml_locs = _keys(data.get("localities"))
    yaml_res = _keys(data.get("resources"))
    providers = {k: v for k, v in _mapping(data.get("providers")).items() if isinstance(k, str)}
    modes = {k: _mapping(v).get("mode") for k, v in providers.items()}
    pathway_ids = {p.pathway for p in pathways}
    from .designs import designs

    activities = {f"{p.pathway}.{s.step}" for p in pathways for d in designs(p) for s in d.steps}
    locs = set(yaml_locs) | set(ts.frame("localities")["locality"])
    res = set(yaml_res) | set(ts.frame("resources")["resource"])

    def unknown(t: Table, column: str, known: set[str], what: str, extra: str = "") -> None:
        col = t.frame[column]
        rx = re.compile(KEY_PATTERN[column])
        miss = per_distinct(col, lambda u: isinstance(u, str) and rx.fullmatch(u) is not None
                           and u not in known)
        issues.rows(t, miss, column,
                    lambda i: f"no {what} '{col.iloc[i]}'{extra}" + suggest(col.iloc[i], known))

    for kind, t in ts.tables.items():
        f = t.frame
        if "locality" in f and "localities" not in ts.failed:
            unknown(t, "locality", locs, "locality")
        if "pathway" in f:
            unknown(t, "pathway", pathway_ids, "pathway", " is loaded")
        if "provider" in f:
            unknown(t, "provider", set(providers), "provider", " is declared in the YAML "
                    "(providers are declared there, with their setting and mode)")
        if "resource" in f and kind != "resources" and "resources" not in ts.failed:
            unknown(t, "resource", res, "resource")
        if "activity" in f:
            act = f["activity"]
            known = activities | ({"default"} if kind == "offers" else set())
            rx = re.compile(KEY_PATTERN["activity"] + ("|default" if kind == "offers" else ""))
            miss = per_distinct(act, lambda u: isinstance(u, str) and rx.fullmatch(u) is not None
                               and u not in known)
            issues.rows(t, miss, "activity",
                        lambda i, act=act: f"no activity '{act.iloc[i]}'" + suggest(act.iloc[i], activities))

    off = ts.tables.get("offers")
    if off is not None:
        f = off.frame
        mode = f["provider"].map(modes).to_numpy()
        for c, wrong, right in (("price", "make", "cost"), ("cost", "buy", "price")):
            mask = (mode == wrong) & f[c].notna().to_numpy()
            issues.rows(off, mask, c, lambda i, c=c, wrong=wrong, right=right:
                        f"{f['provider'].iloc[i]} is a {wrong} provider: it has a {right}, "
                        f"not a {c}")
        both = f["price"].notna().to_numpy() & f["cost"].notna().to_numpy()
        issues.rows(off, both & ~np.isin(mode, ["buy", "make"]), "cost",
                    lambda i: "a row gives a price or a cost, not both")
        dflt = (f["activity"] == "default").to_numpy()
        for c in ("price", "cost", "current_share"):
            issues.rows(off, dflt & f[c].notna().to_numpy(), c,
                        lambda i, c=c: f"activity 'default' only carries a quality (the "
                                       f"provider's default); {c} needs an activity")

    _twice(ts, data, doc, issues, modes)
    return issues.out


def _yaml_entries(kind: str, data: dict) -> list[tuple[tuple, tuple, str]]:
    """Values written in the YAML that a ``kind`` table could also give: (its key values,
    its YAML path, the table column that would give it)."""
    out: list[tuple[tuple, tuple, str]] = []
    if kind == "localities":
        for loc in _mapping(data.get("localities")):
            out.append(((loc,), ("localities", loc), "locality"))
    elif kind == "prevalence":
        for loc, spec in _mapping(data.get("localities")).items():
            for pw in _mapping(_mapping(spec).get("prevalence_per_1000")):
                out.append(((loc, pw), ("localities", loc, "prevalence_per_1000", pw),
                            "prevalence_per_1000"))
    elif kind == "resources":
        for r in _mapping(data.get("resources")):
            out.append(((r,), ("resources", r), "resource"))
    elif kind == "offers":
        for v, spec in _mapping(data.get("providers")).items():
            spec = _mapping(spec)
            for fld, col in (("prices", "price"), ("costs", "cost"), ("quality", "quality"),
                             ("current_share", "current_share")):
                for act in _mapping(spec.get(fld)):
                    out.append(((v, act), ("providers", v, fld, act), col))
    elif kind == "uses":
        for v, spec in _mapping(data.get("providers")).items():
            for act, per in _mapping(_mapping(spec).get("uses")).items():
                for r in _mapping(per):
                    out.append(((v, act, r), ("providers", v, "uses", act, r), "amount"))
    return out


def _twice(ts: TableSet, data: dict, doc: Document, issues: _Issues, modes: dict) -> None:
    """A value given in YAML and in a table is an error naming both places (a locality or
    resource declared in both is one); a value from ``--set`` is not, it wins (see
    :func:`overridden`)."""
    for kind, t in ts.tables.items():
        entries = [e for e in _yaml_entries(kind, data) if not _from_override(doc, e[1])]
        if not entries:
            continue
        keys = list(KINDS[kind].keys)
        y = pd.DataFrame([(*k, col, i) for i, (k, _, col) in enumerate(entries)],
                         columns=[*keys, "column", "entry"])
        f = t.frame.reset_index(names="pos")
        hit = f[["pos", *keys]].merge(y, on=keys)
        if not len(hit):
            continue
        pos, cols = hit["pos"].to_numpy(), hit["column"].to_numpy()
        given = np.ones(len(hit), dtype=bool)
        for c in set(cols) & set(KINDS[kind].values):
            sel = cols == c
            given[sel] = f[c].notna().to_numpy()[pos[sel]]
        hit = hit[given].drop_duplicates("pos")
        mask = np.zeros(len(f), dtype=bool)
        mask[hit["pos"].to_numpy()] = True
        entry_of = dict(zip(hit["pos"], hit["entry"]))

        def msg(i: int, kind=kind, keys=keys, t=t) -> str:
            _, path, col = entries[entry_of[i]]
            where = doc.issue(path, "", key=True)
            what = " ".join(f"{k} '{t.frame[k].iloc[i]}'" for k in keys)
            if col in ("locality", "resource"):
                return (f"{col} '{t.frame[col].iloc[i]}' is declared twice: here and in "
                        f"{where.file}:{where.line}:{where.column} ({where.path})")
            return (f"{col} of {what} is given twice: here and in {where.file}:{where.line}:"
                    f"{where.column} ({where.path})")

        col = "activity" if kind == "offers" else keys[-1] if len(keys) == 1 else next(iter(KINDS[kind].values))
        issues.rows(t, mask, col, msg)


def _from_override(doc: Document, path: tuple) -> bool:
    return any(tuple(path[:n]) in doc.origin for n in range(len(path), 0, -1))


def overridden(ts: TableSet, doc: Document) -> TableSet:
    """The tables with every cell that a ``--set`` override also gives blanked: the override
    wins, as it does over a value written in the YAML. (``--set`` can change a provider's
    prices, costs, quality, shares and uses, and a YAML locality's prevalence; it never
    declares a locality or resource, so those stay in their table.)"""
    if not doc.origin or not ts.tables:
        return ts
    out = dict(ts.tables)
    for path in doc.origin:
        found = _find(TableSet(out), tuple(path)) if len(path) >= 4 else None
        if found is None:
            continue
        t, row, col = found
        f = t.frame.copy()
        f.loc[f["row"] == row, col] = np.nan
        out[t.kind] = Table(t.kind, t.file, f, t.csv)
    return TableSet(out, ts.failed)


def _mapping(v) -> dict:
    return v if isinstance(v, dict) else {}


def _keys(v) -> set[str]:
    return {k for k in _mapping(v) if isinstance(k, str)}
