"""The results database of scheduled jobs (SPEC section 9): SQLite or PostgreSQL.

``carepath run JOB`` calls :func:`write_run` once per run, after the run's folders and
``manifest.json`` are written. Every run is stored in **one transaction**: its ``runs`` row,
a ``scenarios`` row per scenario (failed ones included, with status ``error``), and the
``summaries``, ``allocations``, ``constraints``, ``resources`` and ``units`` rows of every
scenario that has them. Any failure rolls the transaction back, so a run is in the database
completely or not at all; earlier runs are never touched (except the run being replaced
with ``replace=True``, and that in the same transaction).

Tables (created when missing; SQLAlchemy Core, ``metadata`` below):

``runs``
    ``run_id`` (primary key), ``job``, ``started``, ``finished`` (UTC timestamps),
    ``host``, ``versions``, ``options``, ``inputs`` and ``manifest`` (JSON text), ``stored``
    (when the row was written).
``scenarios``
    ``run_id`` -> ``runs``, ``scenario`` (the scenario name; primary key with
    ``run_id``), ``status``, ``objective``, ``baseline_cost``, ``savings``, ``folder``,
    ``message`` (the error of a failed scenario, the diagnosis of an infeasible one, the
    solver's message otherwise).
``summaries``
    one row per scenario with a ``summary.json``: the document as JSON text (``summary``;
    ``diagnosis`` too when there is one) and its key numbers flattened into columns:
    ``cost_buy`` ... ``cost_setup``, ``cost_adoption``, ``cost_units``, ``cost_resources``
    (SPEC section 11), ``allocation_cost``, ``solver_backend``,
    ``solver_mode``, ``solver_seconds``, ``solver_gap``, ``model_variables``, ...,
    ``input_sha256``.
``allocations``, ``constraints``, ``resources``
    the rows of ``allocation.csv``, ``constraints.csv`` and ``resources.csv`` (SPEC 5 and
    the reference's extensions), keyed by ``run_id``, ``scenario`` and ``seq`` (the row's
    0-based position in the CSV), with ``year`` (NULL for a one-year plan). NaN becomes
    NULL. SPEC section 11: ``allocations.variant`` and ``constraints.variant`` (the design;
    NULL when the scenario has no variants), ``resources.provider``, ``activity`` and
    ``need`` (filled for ``whole`` resources, NULL otherwise).
``units``
    the rows of ``units.csv`` (whole units per provider and activity, SPEC section 11),
    keyed like the tables above; none for a scenario without ``units``.

A database made by an earlier version lacks the tables and nullable columns added since:
the tables are created and the columns added (``ALTER TABLE ... ADD COLUMN``) before the
first write, so earlier runs stay and read NULL there.

Child tables reference ``scenarios (run_id, scenario)``, which references ``runs``
(``ON DELETE CASCADE`` both). The primary keys index ``(run_id, scenario)``; the columns a
BI tool filters or joins on (``locality``, ``pathway``, ``provider``, ``resource``,
``kind``, ``status``, ``job``) have their own indexes. On SQLite, foreign keys are enforced
(``PRAGMA foreign_keys=ON`` on every connection) and a write takes the database's write
lock when it begins (``BEGIN IMMEDIATE``).

URLs: ``sqlite:///PATH`` (the folder is created) and ``postgresql://USER@HOST[:PORT]/DB``
(``postgresql://`` and ``postgres://`` without a driver use psycopg 3). A bad URL, an
unreachable server or a refused write raises :class:`DatabaseError` (a
:class:`~optimiser.errors.CarepathError`), so the command line prints one line.
"""

from __future__ import annotations

import json
import math
import re
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url

from ..errors import CarepathError

if TYPE_CHECKING:  # pragma: no cover
    from ..results.result import Result

__all__ = ["DatabaseError", "RunExists", "metadata", "write_run", "completed_run_ids", "counts",
           "resolve_url", "TABLES"]


class DatabaseError(CarepathError):
    """The results database cannot be used: a bad URL, an unreachable server, a refused
    write. When raised by :func:`write_run`, nothing of that run was stored."""


class RunExists(DatabaseError):
    """The run is already in the database and ``replace`` was not asked for."""


# --------------------------------------------------------------------------- schema

metadata = sa.MetaData()

_FLOAT = sa.Double()
_TIME = sa.DateTime(timezone=True)


def _key_columns() -> list[sa.Column]:
    return [sa.Column("run_id", sa.String(128), primary_key=True),
            sa.Column("scenario", sa.String(), primary_key=True)]


def _child_key() -> list[Any]:
    """A result table's key and foreign key to its scenario."""
    return [*_key_columns(),
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False,
                      comment="0-based row position in the CSV"),
            sa.Column("year", sa.Integer, nullable=True,
                      comment="calendar year of a multi-year plan; NULL for one year"),
            sa.ForeignKeyConstraint(["run_id", "scenario"],
                                    ["scenarios.run_id", "scenarios.scenario"],
                                    ondelete="CASCADE")]


runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.String(128), primary_key=True),
    sa.Column("job", sa.String(), index=True),
    sa.Column("started", _TIME),
    sa.Column("finished", _TIME),
    sa.Column("host", sa.String()),
    sa.Column("versions", sa.Text, comment="JSON"),
    sa.Column("options", sa.Text, comment="JSON"),
    sa.Column("inputs", sa.Text, comment="JSON: input path -> sha256"),
    sa.Column("manifest", sa.Text, nullable=False, comment="manifest.json"),
    sa.Column("stored", _TIME, nullable=False),
)

scenarios = sa.Table(
    "scenarios", metadata,
    sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("scenario", sa.String(), primary_key=True),
    sa.Column("status", sa.String(), nullable=False, index=True),
    sa.Column("objective", _FLOAT),
    sa.Column("baseline_cost", _FLOAT),
    sa.Column("savings", _FLOAT),
    sa.Column("folder", sa.Text),
    sa.Column("message", sa.Text),
)

summaries = sa.Table(
    "summaries", metadata,
    *_key_columns(),
    sa.ForeignKeyConstraint(["run_id", "scenario"], ["scenarios.run_id", "scenarios.scenario"],
                            ondelete="CASCADE"),
    sa.Column("title", sa.String(), comment="summary.json 'scenario'"),
    sa.Column("currency", sa.String()),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("objective", _FLOAT),
    sa.Column("baseline_cost", _FLOAT),
    sa.Column("savings", _FLOAT),
    sa.Column("cost_buy", _FLOAT),
    sa.Column("cost_make", _FLOAT),
    sa.Column("cost_fixed", _FLOAT),
    sa.Column("cost_overhead", _FLOAT),
    sa.Column("cost_expansion", _FLOAT),
    sa.Column("cost_setup", _FLOAT),
    sa.Column("cost_adoption", _FLOAT),
    sa.Column("cost_units", _FLOAT),
    sa.Column("cost_resources", _FLOAT),
    sa.Column("allocation_cost", _FLOAT, comment="check.allocation_cost: sum of allocations.cost"),
    sa.Column("max_violation", _FLOAT),
    sa.Column("solver_backend", sa.String()),
    sa.Column("solver_mode", sa.String()),
    sa.Column("solver_version", sa.String()),
    sa.Column("solver_message", sa.Text),
    sa.Column("solver_seconds", _FLOAT),
    sa.Column("solver_total_seconds", _FLOAT),
    sa.Column("solver_gap", _FLOAT),
    sa.Column("solver_bound", _FLOAT),
    sa.Column("model_variables", sa.BigInteger),
    sa.Column("model_constraints", sa.BigInteger),
    sa.Column("model_nonzeros", sa.BigInteger),
    sa.Column("model_integer_variables", sa.BigInteger),
    sa.Column("horizon_start", sa.Integer),
    sa.Column("horizon_years", sa.Integer),
    sa.Column("payback_year", sa.Integer),
    sa.Column("input_sha256", sa.String(64)),
    sa.Column("version", sa.String()),
    sa.Column("summary", sa.Text, nullable=False, comment="summary.json"),
    sa.Column("diagnosis", sa.Text, comment="diagnosis.json"),
)

allocations = sa.Table(
    "allocations", metadata,
    *_child_key(),
    sa.Column("locality", sa.String(), nullable=False, index=True),
    sa.Column("pathway", sa.String(), nullable=False, index=True),
    sa.Column("step", sa.String(), nullable=False),
    sa.Column("provider", sa.String(), nullable=False, index=True),
    sa.Column("variant", sa.String(), comment="design (SPEC 11); NULL without variants"),
    sa.Column("setting", sa.String()),
    sa.Column("mode", sa.String()),
    sa.Column("volume", _FLOAT),
    sa.Column("unit_cost", _FLOAT),
    sa.Column("cost", _FLOAT),
    sa.Column("quality", _FLOAT),
    sa.Column("baseline_volume", _FLOAT),
)

constraints = sa.Table(
    "constraints", metadata,
    *_child_key(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(), nullable=False, index=True),
    sa.Column("locality", sa.String(), index=True),
    sa.Column("pathway", sa.String(), index=True),
    sa.Column("step", sa.String()),
    sa.Column("provider", sa.String(), index=True),
    sa.Column("resource", sa.String(), index=True),
    sa.Column("activity", sa.String()),
    sa.Column("variant", sa.String(), comment="design (SPEC 11); NULL without variants"),
    sa.Column("limit", _FLOAT),
    sa.Column("slack", _FLOAT),
    sa.Column("shadow_price", _FLOAT),
    sa.Column("sense", sa.String(2)),
    sa.Column("binding", sa.Boolean),
    sa.Column("valid_from", _FLOAT),
    sa.Column("valid_to", _FLOAT),
    sa.Column("meaning", sa.Text),
)

resources = sa.Table(
    "resources", metadata,
    *_child_key(),
    sa.Column("resource", sa.String(), nullable=False, index=True),
    sa.Column("provider", sa.String(), comment="whole resources (SPEC 11) only"),
    sa.Column("activity", sa.String(), comment="whole resources (SPEC 11) only"),
    sa.Column("capacity", _FLOAT),
    sa.Column("expansion_steps", _FLOAT),
    sa.Column("used", _FLOAT),
    sa.Column("utilisation", _FLOAT),
    sa.Column("need", _FLOAT, comment="whole resources: use before rounding to heads"),
)

units = sa.Table(
    "units", metadata,
    *_child_key(),
    sa.Column("provider", sa.String(), nullable=False, index=True),
    sa.Column("activity", sa.String(), nullable=False),
    sa.Column("size", _FLOAT),
    sa.Column("units", _FLOAT),
    sa.Column("capacity", _FLOAT),
    sa.Column("volume", _FLOAT),
    sa.Column("utilisation", _FLOAT),
    sa.Column("cost", _FLOAT),
    sa.Column("baseline_units", _FLOAT),
)

TABLES: tuple[str, ...] = ("runs", "scenarios", "summaries", "allocations", "constraints", "resources",
                           "units")
"""Table names, parents before children (insert order; deletes go the other way)."""

_RESULT_TABLES = {"allocations": "allocation", "constraints": "constraints", "resources": "resources",
                  "units": "units"}
"""Database table -> the :class:`Result` attribute holding its DataFrame."""


# --------------------------------------------------------------------------- public API

def write_run(url: str, manifest: Mapping[str, Any],
              scenarios: Sequence[tuple[str, Result | BaseException | None]], *,
              replace: bool = False) -> dict[str, int]:
    """Store one run in one transaction; return the rows written per table.

    ``manifest`` is the run's ``manifest.json`` (``run_id`` required; ``job``, ``started``,
    ``finished``, ``host``, ``versions``, ``options``, ``inputs`` and each scenario's
    ``folder`` and ``message``/``error`` are used when present). ``scenarios`` pairs each
    scenario name with its :class:`~optimiser.results.Result`, or with ``None`` (or the
    exception) when it failed: it then gets a ``scenarios`` row with status ``error`` and
    nothing else.

    A ``run_id`` already stored raises :class:`RunExists` unless ``replace=True``
    (``carepath run --force``): then the stored run's rows are deleted and the new ones
    written in the same transaction, so a reader sees the old run or the new one, never
    both or neither. Any failure rolls the whole transaction back and raises
    (:class:`DatabaseError` for what the database refused): nothing of the run stays.
    """
    run_id = manifest.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise DatabaseError("the manifest has no run_id; the run was not stored in the database")
    rows = _run_rows(manifest, scenarios)
    engine = _engine(url)
    phase = "cannot connect"
    try:
        with engine.connect():
            pass
        phase = "cannot create the tables"
        _ensure_schema(engine)
        phase = f"run {run_id} was not stored"
        with _transaction(engine, write=True) as conn:
            if conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_id)).first():
                if not replace:
                    raise RunExists(f"results database {_safe(engine.url)}: run {run_id} is already "
                                    "stored (run with --force to replace it)")
                _delete_run(conn, run_id)
            for name in TABLES:
                _insert(conn, metadata.tables[name], rows[name])
    except sa_exc.SQLAlchemyError as exc:
        raise _error(engine.url, phase, exc) from exc
    finally:
        engine.dispose()
    return {name: len(rows[name]) for name in TABLES}


def completed_run_ids(url: str) -> set[str]:
    """The run ids stored in the database (each stored run is complete: a run is written
    in one transaction). Empty when the database or its tables do not exist yet; nothing
    is created."""
    engine = _engine(url, create=False)
    if engine is None:
        return set()
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("runs"):
                return set()
            return set(conn.scalars(sa.select(runs.c.run_id)))
    except sa_exc.SQLAlchemyError as exc:
        raise _error(engine.url, "cannot read the stored runs", exc) from exc
    finally:
        engine.dispose()


def counts(url: str, run_id: str) -> dict[str, int]:
    """Rows per table (``runs`` ... ``resources``) stored for ``run_id``; 0 for a table
    that does not exist yet."""
    engine = _engine(url, create=False)
    if engine is None:
        return dict.fromkeys(TABLES, 0)
    try:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            out = {}
            for name in TABLES:
                table = metadata.tables[name]
                out[name] = (conn.scalar(sa.select(sa.func.count()).select_from(table)
                                         .where(table.c.run_id == run_id))
                             if name in present else 0)
            return out
    except sa_exc.SQLAlchemyError as exc:
        raise _error(engine.url, f"cannot count the rows of run {run_id}", exc) from exc
    finally:
        engine.dispose()


def resolve_url(url: str, base: str | Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``base`` (a job file's
    folder: ``sqlite:///../runs/results.db``); other URLs unchanged."""
    u = _parse(url)
    db = u.database
    if u.get_backend_name() == "sqlite" and db and db != ":memory:" and not db.startswith("file:") \
            and not Path(db).is_absolute():
        return str(u.set(database=str((Path(base) / db).resolve())).render_as_string(hide_password=False))
    return url


# --------------------------------------------------------------------------- engine and transactions

def _parse(url: str) -> URL:
    if not isinstance(url, str) or not url.strip():
        raise DatabaseError("no database URL given (expected sqlite:///PATH or "
                            "postgresql://USER@HOST/DBNAME)")
    try:
        u = make_url(url.strip())
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise DatabaseError(f"not a database URL: {_mask(url)!r} (expected sqlite:///PATH or "
                            f"postgresql://USER@HOST/DBNAME)") from exc
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    backend = u.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"unsupported database {u.drivername!r} in {_safe(u)}: use sqlite:///PATH "
                            "or postgresql://USER@HOST/DBNAME")
    return u


def _engine(url: str, *, create: bool = True) -> Engine | None:
    """An engine for ``url``. SQLite: the file's folder is made (``create``) or, when the
    file does not exist and ``create`` is false, None."""
    u = _parse(url)
    connect_args: dict[str, Any] = {}
    if u.get_backend_name() == "sqlite":
        db = u.database or ""
        if db and db != ":memory:" and not db.startswith("file:"):
            path = Path(db)
            if not create and not path.exists():
                return None
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"results database {_safe(u)}: cannot create the folder "
                                    f"{path.parent}: {exc.strerror or exc}") from exc
        connect_args["timeout"] = 60  # wait for another writer's lock rather than fail
    elif "connect_timeout" not in u.query:
        connect_args["connect_timeout"] = 15
    try:
        engine = sa.create_engine(u, connect_args=connect_args)
    except (sa_exc.SQLAlchemyError, ImportError) as exc:
        raise DatabaseError(f"results database {_safe(u)}: {_reason(exc)}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy, not the sqlite3 module, emits BEGIN (see _sqlite_begin): the module's
    # own handling starts a transaction only at the first INSERT/UPDATE/DELETE, so a SELECT
    # before it would run outside the transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn) -> None:
    immediate = conn.get_execution_options().get("carepath_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def _transaction(engine: Engine, *, write: bool = False) -> Iterator[sa.Connection]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with engine.connect() as conn:
        if write:
            conn.execution_options(carepath_write=True)
        with conn.begin():
            yield conn


def _ensure_schema(engine: Engine) -> None:
    """Create the missing tables and add the missing nullable columns (a database made by
    an earlier version); refuse tables that lack a column that cannot be added so."""
    for attempt in (1, 2):
        try:
            with _transaction(engine, write=True) as conn:
                metadata.create_all(conn, checkfirst=True)
            break
        except (sa_exc.IntegrityError, sa_exc.ProgrammingError):
            if attempt == 2:  # another process created them at the same moment: look again
                raise
    for attempt in (1, 2):
        try:
            with _transaction(engine, write=True) as conn:
                _add_columns(engine, conn)
            break
        except (sa_exc.OperationalError, sa_exc.ProgrammingError):
            if attempt == 2:  # another process added them at the same moment: look again
                raise


def _missing_columns(conn: sa.Connection) -> dict[str, list[sa.Column]]:
    inspector = sa.inspect(conn)
    out = {}
    for name in TABLES:
        have = {c["name"] for c in inspector.get_columns(name)}
        missing = [c for c in metadata.tables[name].columns if c.name not in have]
        if missing:
            out[name] = missing
    return out


def _add_columns(engine: Engine, conn: sa.Connection) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for each nullable column a table lacks (inside the
    caller's write transaction: on SQLite it holds the write lock, on PostgreSQL the
    ALTER's own lock, so two writers do not both add a column)."""
    missing = _missing_columns(conn)
    for name, cols in missing.items():
        bad = [c.name for c in cols if c.primary_key or not c.nullable]
        if bad:
            raise DatabaseError(
                f"results database {_safe(engine.url)}: table {name} has no column "
                f"{', '.join(bad)} (made by another version of carepath?); use a new "
                "database or add the columns")
    preparer = engine.dialect.identifier_preparer
    for name, cols in missing.items():
        for col in cols:
            spec = sa.schema.CreateColumn(col).compile(dialect=engine.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {preparer.quote(name)} ADD COLUMN {spec}")


def _delete_run(conn: sa.Connection, run_id: str) -> None:
    for name in reversed(TABLES):
        table = metadata.tables[name]
        conn.execute(table.delete().where(table.c.run_id == run_id))


def _insert(conn: sa.Connection, table: sa.Table, records: list[dict]) -> None:
    """One executemany per table."""
    if records:
        conn.execute(table.insert(), records)


# --------------------------------------------------------------------------- rows

def _run_rows(manifest: Mapping[str, Any],
              scenario_results: Sequence[tuple[str, Any]]) -> dict[str, list[dict]]:
    """Every row of the run, per table, built before the database is touched."""
    run_id = manifest["run_id"]
    entries = {e.get("name"): e for e in (manifest.get("scenarios") or [])
               if isinstance(e, Mapping)}
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    rows["runs"].append({
        "run_id": run_id,
        "job": _text(manifest.get("job")),
        "started": _when(manifest.get("started"), "started"),
        "finished": _when(manifest.get("finished"), "finished"),
        "host": _text(manifest.get("host")) or socket.gethostname(),
        "versions": _json(manifest.get("versions")),
        "options": _json(manifest.get("options")),
        "inputs": _json(manifest.get("inputs")),
        "manifest": _json(dict(manifest)),
        "stored": datetime.now(timezone.utc),
    })
    seen: set[str] = set()
    for item in scenario_results:
        name, result = item[0], item[1]
        if not isinstance(name, str) or not name:
            raise DatabaseError(f"run {run_id}: scenario name {name!r} is not a non-empty string")
        if name in seen:
            raise DatabaseError(f"run {run_id}: scenario {name!r} appears twice")
        seen.add(name)
        entry = entries.get(name) or {}
        message = entry.get("message") or entry.get("error")
        if result is None or isinstance(result, BaseException):
            status = "error"
            if isinstance(result, BaseException):
                message = message or f"{type(result).__name__}: {result}"
            elif entry.get("status") not in (None, "error"):
                status = str(entry["status"])  # a sweep: its answers are in its folder
            rows["scenarios"].append({
                "run_id": run_id, "scenario": name, "status": status, "objective": None,
                "baseline_cost": None, "savings": None, "folder": _text(entry.get("folder")),
                "message": _text(message) or ("the scenario failed before it had a result"
                                              if status == "error" else None)})
            continue
        summary = result.summary or {}
        status = getattr(result.status, "value", result.status)
        rows["scenarios"].append({
            "run_id": run_id, "scenario": name, "status": str(status),
            "objective": _num(summary["objective"] if summary.get("objective") is not None
                              else result.objective),  # as summary.json has it
            "baseline_cost": _num(summary.get("baseline_cost")),
            "savings": _num(summary.get("savings")),
            "folder": _text(entry.get("folder")),
            "message": _text(message) or _result_message(result)})
        rows["summaries"].append(_summary_row(run_id, name, str(status), result))
        for table_name, attr in _RESULT_TABLES.items():
            rows[table_name].extend(_table_records(metadata.tables[table_name],
                                                   getattr(result, attr, None), run_id, name))
    return rows


def _result_message(result) -> str | None:
    diagnosis = result.diagnosis or {}
    relaxed = [r.get("message") for r in diagnosis.get("relaxation") or [] if isinstance(r, Mapping)]
    if any(relaxed):
        return "; ".join(m for m in relaxed if m)
    return _text(((result.summary or {}).get("solver") or {}).get("message"))


_COST_PARTS = ("buy", "make", "fixed", "overhead", "expansion", "setup", "adoption", "units",
               "resources")
"""summary.json ``cost`` parts stored as ``cost_<part>`` columns (costs.PARTS)."""


def _summary_row(run_id: str, name: str, status: str, result) -> dict:
    s = result.summary or {}
    cost = s.get("cost") or {}
    solver = s.get("solver") or {}
    model = s.get("model") or {}
    check = s.get("check") or {}
    horizon = s.get("horizon") or {}
    return {
        "run_id": run_id, "scenario": name,
        "title": _text(s.get("scenario")), "currency": _text(s.get("currency")),
        "status": _text(s.get("status")) or status,
        "objective": _num(s.get("objective")), "baseline_cost": _num(s.get("baseline_cost")),
        "savings": _num(s.get("savings")),
        **{f"cost_{part}": _num(cost.get(part)) for part in _COST_PARTS},
        "allocation_cost": _num(check.get("allocation_cost")),
        "max_violation": _num(check.get("max_violation")),
        "solver_backend": _text(solver.get("backend")), "solver_mode": _text(solver.get("mode")),
        "solver_version": _text(solver.get("version")), "solver_message": _text(solver.get("message")),
        "solver_seconds": _num(solver.get("seconds")),
        "solver_total_seconds": _num(solver.get("total_seconds")),
        "solver_gap": _num(solver.get("gap")), "solver_bound": _num(solver.get("bound")),
        **{f"model_{k}": _int(model.get(k))
           for k in ("variables", "constraints", "nonzeros", "integer_variables")},
        "horizon_start": _int(horizon.get("start")), "horizon_years": _int(horizon.get("years")),
        "payback_year": _int(s.get("payback_year")),
        "input_sha256": _text(s.get("input_sha256")), "version": _text(s.get("version")),
        "summary": _json(s),
        "diagnosis": _json(result.diagnosis) if result.diagnosis is not None else None,
    }


def _table_records(table: sa.Table, df: pd.DataFrame | None, run_id: str, name: str) -> list[dict]:
    """The DataFrame's rows as insert parameters: one column at a time converted to Python
    values (NaN -> None, numpy scalars -> int/float/bool/str); columns the table has and the
    frame lacks (``year`` of a one-year plan) are None, extra frame columns are left out."""
    if df is None or len(df) == 0:
        return []
    n = len(df)
    columns: dict[str, np.ndarray] = {}
    for col in table.columns:
        if col.name == "run_id":
            values = np.full(n, run_id, dtype=object)
        elif col.name == "scenario":
            values = np.full(n, name, dtype=object)
        elif col.name == "seq":
            values = np.arange(n).astype(object)
        elif col.name not in df.columns:
            values = np.full(n, None, dtype=object)
        else:
            values = _python_values(df[col.name], col.type, f"{table.name}.{col.name}")
        columns[col.name] = values
    keys = list(columns)
    return [dict(zip(keys, row)) for row in zip(*columns.values())]


def _python_values(s: pd.Series, sql_type: sa.types.TypeEngine, where: str) -> np.ndarray:
    missing = s.isna().to_numpy()
    try:
        if isinstance(sql_type, (sa.Float, sa.Double)):
            a = s.to_numpy(dtype=float, na_value=np.nan)
            out = a.astype(object)  # Python floats
            out[np.isnan(a)] = None
            return out
        if isinstance(sql_type, sa.Integer):
            a = s.where(~missing, 0).to_numpy()
            ints = a.astype(np.int64)
            if not np.array_equal(ints, a.astype(float)):
                raise ValueError("not whole numbers")
            out = ints.astype(object)
        elif isinstance(sql_type, sa.Boolean):
            out = s.where(~missing, False).to_numpy().astype(bool).astype(object)
        else:
            out = s.astype(object).to_numpy(dtype=object).copy()
            if not missing.all():
                kinds = pd.api.types.infer_dtype(out[~missing], skipna=True)
                if kinds != "string":
                    out[~missing] = np.asarray(out[~missing].astype(str), dtype=object)
    except (TypeError, ValueError) as exc:
        raise DatabaseError(f"column {where} holds values of the wrong type: {exc}") from exc
    out[missing] = None
    return out


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _int(v: Any) -> int | None:
    f = _num(v)
    return None if f is None or math.isinf(f) else int(f)


def _text(v: Any) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else str(v)


def _json(v: Any) -> str | None:
    if v is None:
        return None
    return json.dumps(v, ensure_ascii=False, default=_json_default)


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (datetime, Path)):
        return str(v)
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    return str(v)


def _when(v: Any, key: str) -> datetime | None:
    """An ISO 8601 time (or datetime) as an aware UTC datetime; naive means UTC."""
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        t = v
    else:
        text = str(v).strip()
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            compact = re.fullmatch(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z", text)
            if compact is None:
                raise DatabaseError(f"manifest {key!r} is not an ISO 8601 time: {text!r}") from None
            t = datetime(*map(int, compact.groups()), tzinfo=timezone.utc)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


# --------------------------------------------------------------------------- errors

def _safe(u: URL | str) -> str:
    if isinstance(u, URL):
        return u.render_as_string(hide_password=True)
    return _mask(u)


def _mask(text: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(text))


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # SQLAlchemy's own text ends with the statement, parameters and a help link: drop them
    lines = [line for line in lines if not line.startswith(("[SQL:", "[parameters:", "(Background on"))]
    return " ".join(lines) or type(exc).__name__


def _error(u: URL, phase: str, exc: sa_exc.SQLAlchemyError) -> DatabaseError:
    return DatabaseError(f"results database {_safe(u)}: {phase}: {_reason(exc)}")
