"""The results database of scheduled jobs (SPEC section 9, optimiser/jobs/db.py).

Every test runs on SQLite (a file in a temporary folder) and on PostgreSQL: the server named
by ``CAREPATH_TEST_POSTGRES_URL`` (``.ci/run`` starts one), in a database made for this
test session and dropped after it. Without the variable the PostgreSQL cases are skipped.
"""

from __future__ import annotations

import dataclasses
import math
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import optimiser
from optimiser.errors import CarepathError
from optimiser.jobs import db

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "CAREPATH_TEST_POSTGRES_URL"


# --------------------------------------------------------------------------- databases

@pytest.fixture(scope="session")
def postgres_url():
    """A fresh database on the test server, dropped at the end of the session."""
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server to test against "
                    "(.ci/run starts one; or export postgresql://USER@HOST:PORT/DB)")
    u = make_url(admin)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    name = f"carepath_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(u, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/db/results.db"  # the folder does not exist yet
    return request.getfixturevalue("postgres_url")


def query(url: str, sql: str, **params) -> list[tuple]:
    engine = db._engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def read_frame(url: str, table: str, run_id: str, scenario: str) -> pd.DataFrame:
    engine = db._engine(url)
    try:
        with engine.connect() as conn:
            t = db.metadata.tables[table]
            return pd.read_sql(sa.select(t).where(t.c.run_id == run_id, t.c.scenario == scenario)
                               .order_by(t.c.seq), conn)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- results

@pytest.fixture(scope="module")
def example():
    return optimiser.solve(optimiser.load(ROOT / "configs" / "northshire.yaml"))


@pytest.fixture(scope="module")
def infeasible():
    r = optimiser.solve(optimiser.load(ROOT / "tests" / "infeasible" / "budget_below_cheapest"
                                       / "config.yaml"))
    assert r.status.value == "infeasible" and r.allocation is None
    return r


@pytest.fixture(scope="module")
def five_year():
    return optimiser.solve(optimiser.load(ROOT / "configs" / "northshire_five_year.yaml"))


@pytest.fixture(scope="module")
def whole():
    """SPEC section 11: pathway variants (a design adopted), whole units and whole heads."""
    r = optimiser.solve(optimiser.load(ROOT / "configs" / "community_hospital.yaml"))
    assert r.solved and r.units is not None and len(r.units)
    assert "variant" in r.allocation and "need" in r.resources
    return r


@pytest.fixture(scope="module")
def no_duals():
    """A constraint-programming solve: no shadow prices (NaN in constraints.csv)."""
    r = optimiser.solve(optimiser.load(ROOT / "tests" / "data" / "tiny" / "configs" / "tiny.yaml"),
                        mode="cp")
    assert r.solved and r.constraints["shadow_price"].isna().all()
    return r


def manifest(run_id: str, *names: str, **extra) -> dict:
    return {"job": "monthly-plan", "run_id": run_id, "started": "2027-04-01T02:00:00Z",
            "finished": "2027-04-01T02:03:10Z", "versions": {"carepath": "0.1.0"},
            "inputs": {"configs/northshire.yaml": "0" * 64},
            "scenarios": [{"name": n, "folder": f"runs/x/{n}"} for n in names], **extra}


def new_id() -> str:
    return uuid.uuid4().hex


def expected_counts(*results) -> dict[str, int]:
    present = [r for r in results if r is not None]
    return {"runs": 1, "scenarios": len(results), "summaries": len(present),
            **{table: sum(len(getattr(r, attr)) for r in present if getattr(r, attr) is not None)
               for table, attr in (("allocations", "allocation"), ("constraints", "constraints"),
                                   ("resources", "resources"), ("units", "units"))}}


NOTHING = dict.fromkeys(db.TABLES, 0)


# --------------------------------------------------------------------------- tests

def test_run_stored_with_row_counts_of_the_tables(url, example, infeasible):
    run_id = new_id()
    m = manifest(run_id, "northshire", "infeasible", "failed")
    m["scenarios"][2]["error"] = "ValueError: boom"
    written = db.write_run(url, m, [("northshire", example), ("infeasible", infeasible),
                                    ("failed", None)])
    want = expected_counts(example, infeasible, None)
    assert written == want
    assert db.counts(url, run_id) == want
    assert want["allocations"] == len(example.allocation) > 0
    assert run_id in db.completed_run_ids(url)

    rows = dict((r[0], r[1:]) for r in query(
        url, "SELECT scenario, status, objective, folder, message FROM scenarios "
             "WHERE run_id = :r", r=run_id))
    assert rows["northshire"][0] == "optimal"
    assert rows["northshire"][1] == pytest.approx(example.summary["objective"])
    assert rows["northshire"][2] == "runs/x/northshire"
    assert rows["infeasible"][:2] == ("infeasible", None)
    assert "budget" in rows["infeasible"][3]  # the diagnosis in one line
    assert rows["failed"] == ("error", None, "runs/x/failed", "ValueError: boom")

    # the stored tables are the DataFrames (NaN as NULL, in CSV order)
    stored = read_frame(url, "allocations", run_id, "northshire")
    cols = list(example.allocation.columns)
    pd.testing.assert_frame_equal(stored[cols], example.allocation.reset_index(drop=True),
                                  check_dtype=False)
    assert stored["year"].isna().all()  # a one-year plan
    stored = read_frame(url, "constraints", run_id, "northshire")
    assert stored["name"].tolist() == example.constraints["name"].tolist()
    assert stored["binding"].astype(bool).tolist() == example.constraints["binding"].tolist()
    np.testing.assert_allclose(stored["shadow_price"].astype(float),
                               example.constraints["shadow_price"])

    (job, started), = query(url, "SELECT job, started FROM runs WHERE run_id = :r", r=run_id)
    assert job == "monthly-plan" and str(started).startswith("2027-04-01 02:00:00")


def test_joins_by_run_id_give_the_summary_costs(url, example, infeasible):
    run_id = new_id()
    db.write_run(url, manifest(run_id, "northshire", "infeasible"),
                 [("northshire", example), ("infeasible", infeasible)])
    rows = query(url, """
        SELECT s.scenario, r.job, SUM(a.cost), COUNT(*)
        FROM allocations a
        JOIN scenarios s ON s.run_id = a.run_id AND s.scenario = a.scenario
        JOIN runs r ON r.run_id = s.run_id
        WHERE r.run_id = :r
        GROUP BY s.scenario, r.job""", r=run_id)
    assert len(rows) == 1  # the infeasible scenario has no allocation
    scenario, job, total, n = rows[0]
    assert (scenario, job, n) == ("northshire", "monthly-plan", len(example.allocation))
    assert total == pytest.approx(example.summary["check"]["allocation_cost"], rel=1e-9)
    assert total == pytest.approx(example.allocation["cost"].sum(), rel=1e-12)

    (parts, objective, stored_objective, backend, sha), = query(url, """
        SELECT m.cost_buy + m.cost_make + m.cost_fixed + m.cost_overhead + m.cost_expansion
               + m.cost_setup + m.cost_adoption + m.cost_units + m.cost_resources,
               m.objective, s.objective, m.solver_backend, m.input_sha256
        FROM summaries m JOIN scenarios s ON s.run_id = m.run_id AND s.scenario = m.scenario
        WHERE m.run_id = :r AND m.scenario = 'northshire'""", r=run_id)
    assert parts == pytest.approx(example.summary["objective"], abs=0.05)
    assert objective == stored_objective == pytest.approx(example.summary["objective"])
    assert backend == example.summary["solver"]["backend"]
    assert sha == example.summary["input_sha256"]

    # a BI-style filter on an indexed column, joined back to the run
    (n_binding,), = query(url, """
        SELECT COUNT(*) FROM constraints c JOIN runs r ON r.run_id = c.run_id
        WHERE r.job = 'monthly-plan' AND c.run_id = :r AND c.kind = 'capacity'
          AND c.binding""", r=run_id)
    want = example.constraints.query("kind == 'capacity' and binding")
    assert n_binding == len(want)


def test_fault_after_allocations_leaves_nothing_of_the_run(url, example, infeasible, monkeypatch):
    earlier = new_id()
    db.write_run(url, manifest(earlier, "northshire"), [("northshire", example)])
    before = db.counts(url, earlier)

    inserted: list[str] = []
    real_insert = db._insert

    def failing_insert(conn, table, records):
        if table.name == "constraints":
            assert "allocations" in inserted  # the fault comes mid-write
            raise RuntimeError("disk on fire")
        real_insert(conn, table, records)
        inserted.append(table.name)

    monkeypatch.setattr(db, "_insert", failing_insert)
    run_id = new_id()
    with pytest.raises(RuntimeError, match="disk on fire"):
        db.write_run(url, manifest(run_id, "northshire", "infeasible"),
                     [("northshire", example), ("infeasible", infeasible)])
    monkeypatch.undo()

    assert db.counts(url, run_id) == NOTHING
    assert run_id not in db.completed_run_ids(url)
    assert db.counts(url, earlier) == before  # earlier runs untouched


def test_value_the_database_refuses_rolls_back_the_run(url, example):
    """A NOT NULL violation in the constraints insert (after runs, scenarios, summaries and
    allocations went in) is a DatabaseError and leaves no row of the run."""
    earlier = new_id()
    db.write_run(url, manifest(earlier, "northshire"), [("northshire", example)])
    before = db.counts(url, earlier)

    broken = example.constraints.copy()
    broken.loc[broken.index[-1], "kind"] = None
    bad = dataclasses.replace(example, constraints=broken)
    run_id = new_id()
    with pytest.raises(db.DatabaseError, match=f"run {run_id} was not stored") as info:
        db.write_run(url, manifest(run_id, "ok", "bad"), [("ok", example), ("bad", bad)])
    assert isinstance(info.value, CarepathError)
    assert "[SQL:" not in str(info.value) and "\n" not in str(info.value)
    assert db.counts(url, run_id) == NOTHING
    assert db.counts(url, earlier) == before

    # the same failure while replacing keeps the run that was there
    with pytest.raises(db.DatabaseError):
        db.write_run(url, manifest(earlier, "bad"), [("bad", bad)], replace=True)
    assert db.counts(url, earlier) == before


def test_existing_run_refused_or_replaced(url, example, infeasible):
    run_id = new_id()
    first = db.write_run(url, manifest(run_id, "northshire", "infeasible"),
                         [("northshire", example), ("infeasible", infeasible)])
    with pytest.raises(db.RunExists, match="already stored"):
        db.write_run(url, manifest(run_id, "northshire"), [("northshire", example)])
    assert db.counts(url, run_id) == first

    again = db.write_run(url, manifest(run_id, "northshire", "infeasible"),
                         [("northshire", example), ("infeasible", infeasible)], replace=True)
    assert again == first and db.counts(url, run_id) == first  # no duplicates

    fewer = db.write_run(url, manifest(run_id, "northshire", "failed"),
                         [("northshire", example), ("failed", None)], replace=True)
    assert db.counts(url, run_id) == fewer == expected_counts(example, None)
    names = {r[0]: r[1] for r in query(url, "SELECT scenario, status FROM scenarios "
                                            "WHERE run_id = :r", r=run_id)}
    assert names == {"northshire": "optimal", "failed": "error"}
    assert db.completed_run_ids(url) >= {run_id}


def test_multi_year_rows_carry_the_year(url, five_year, example):
    run_id = new_id()
    counts = db.write_run(url, manifest(run_id, "five", "one"),
                          [("five", five_year), ("one", example)])
    assert counts == expected_counts(five_year, example)
    for table, attr in (("allocations", "allocation"), ("constraints", "constraints"),
                        ("resources", "resources")):
        df = getattr(five_year, attr)
        per_year = dict(query(url, f"SELECT year, COUNT(*) FROM {table} WHERE run_id = :r "
                                   "AND scenario = 'five' GROUP BY year", r=run_id))
        assert per_year == {int(y): n for y, n in df.groupby("year").size().items()}
        (nulls,), = query(url, f"SELECT COUNT(*) FROM {table} WHERE run_id = :r "
                               "AND scenario = 'one' AND year IS NULL", r=run_id)
        assert nulls == len(getattr(example, attr))
    by_year = {r[0]: r[1] for r in query(url, """
        SELECT year, SUM(cost) FROM allocations WHERE run_id = :r AND scenario = 'five'
        GROUP BY year""", r=run_id)}
    want = five_year.allocation.groupby("year")["cost"].sum()
    assert by_year == pytest.approx({int(y): v for y, v in want.items()})
    (years, payback), = query(url, "SELECT horizon_years, payback_year FROM summaries "
                                   "WHERE run_id = :r AND scenario = 'five'", r=run_id)
    assert years == five_year.summary["horizon"]["years"]
    assert payback == five_year.summary["payback_year"]


def test_nan_becomes_null(url, no_duals, example):
    some = example.constraints.copy()
    some.loc[some.index[:3], "shadow_price"] = np.nan
    some.loc[some.index[0], "meaning"] = np.nan
    partial = dataclasses.replace(example, constraints=some)
    run_id = new_id()
    db.write_run(url, manifest(run_id, "cp", "partial"), [("cp", no_duals), ("partial", partial)])
    got = dict(query(url, "SELECT scenario, COUNT(*) FROM constraints WHERE run_id = :r "
                          "AND shadow_price IS NULL GROUP BY scenario", r=run_id))
    assert got == {"cp": len(no_duals.constraints), "partial": 3}
    (meaning_nulls,), = query(url, "SELECT COUNT(*) FROM constraints WHERE run_id = :r AND "
                                   "scenario = 'partial' AND meaning IS NULL", r=run_id)
    assert meaning_nulls == example.constraints["meaning"].isna().sum() + (
        0 if pd.isna(example.constraints["meaning"].iloc[0]) else 1)
    # nothing stored as a NaN value (PostgreSQL would keep 'NaN'::float, SQLite NULL anyway)
    (nans,), = query(url, "SELECT COUNT(*) FROM constraints WHERE run_id = :r AND "
                          "shadow_price <> shadow_price", r=run_id)
    assert nans == 0


def test_foreign_keys_are_enforced(url, example):
    run_id = new_id()
    db.write_run(url, manifest(run_id, "northshire"), [("northshire", example)])
    engine = db._engine(url)
    try:
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as conn:
                conn.execute(db.metadata.tables["resources"].insert(),
                             [{"run_id": run_id, "scenario": "no such scenario", "seq": 0,
                               "resource": "x"}])
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as conn:
                conn.execute(db.metadata.tables["scenarios"].insert(),
                             [{"run_id": new_id(), "scenario": "orphan", "status": "optimal"}])
    finally:
        engine.dispose()
    assert db.counts(url, run_id) == expected_counts(example)


@pytest.mark.parametrize("bad, message", [
    ("nonsense", "not a database URL"),
    ("mysql://user@host/db", "unsupported database"),
    ("", "no database URL"),
    ("postgresql://postgres@127.0.0.1:1/nowhere", "cannot connect"),
])
def test_bad_url_or_unreachable_server_is_a_clear_error(bad, message, example):
    with pytest.raises(db.DatabaseError, match=message) as info:
        db.write_run(bad, manifest(new_id(), "x"), [("x", example)])
    assert "\n" not in str(info.value)


def test_password_hidden_and_driver_chosen():
    with pytest.raises(db.DatabaseError) as info:
        db.write_run("postgresql://carepath:s3cret@127.0.0.1:1/nowhere", manifest(new_id()), [])
    assert "s3cret" not in str(info.value)
    assert "postgresql+psycopg://carepath:***@127.0.0.1:1/nowhere" in str(info.value)


def test_missing_sqlite_database_is_not_created_by_readers(tmp_path):
    url = f"sqlite:///{tmp_path}/none/results.db"
    assert db.completed_run_ids(url) == set()
    assert db.counts(url, "x") == NOTHING
    assert not (tmp_path / "none").exists()


def test_relative_sqlite_path_resolved_against_the_job_folder(tmp_path):
    got = db.resolve_url("sqlite:///../runs/results.db", tmp_path / "jobs")
    assert got == f"sqlite:///{(tmp_path / 'runs' / 'results.db').resolve()}"
    assert db.resolve_url("postgresql://u@h/d", tmp_path) == "postgresql://u@h/d"


def test_manifest_without_run_id_or_duplicate_names(tmp_path, example):
    url = f"sqlite:///{tmp_path}/r.db"
    with pytest.raises(db.DatabaseError, match="run_id"):
        db.write_run(url, {"job": "j"}, [("x", example)])
    with pytest.raises(db.DatabaseError, match="twice"):
        db.write_run(url, manifest("r1", "x"), [("x", example), ("x", example)])
    assert math.isfinite(db.write_run(url, manifest("r1", "x"), [("x", example)])["allocations"])


# --------------------------------------------------------------------------- SPEC section 11

def test_variants_units_and_whole_heads_are_stored(url, whole, example):
    """The cost parts of section 11, the design of each allocation and constraint row, the
    provider and activity of a whole resource's rows, and units.csv as the units table."""
    run_id = new_id()
    written = db.write_run(url, manifest(run_id, "whole", "plain"), [("whole", whole),
                                                                    ("plain", example)])
    assert written == expected_counts(whole, example)
    assert written["units"] == len(whole.units) > 0
    (adoption, units, res, total, objective), = query(url, """
        SELECT cost_adoption, cost_units, cost_resources,
               cost_buy + cost_make + cost_fixed + cost_overhead + cost_expansion + cost_setup
               + cost_adoption + cost_units + cost_resources, objective
        FROM summaries WHERE run_id = :r AND scenario = 'whole'""", r=run_id)
    cost = whole.summary["cost"]
    assert (adoption, units, res) == (cost["adoption"], cost["units"], cost["resources"])
    assert adoption > 0 and units > 0 and res > 0
    assert total == pytest.approx(objective, abs=0.05)

    for table, attr in (("allocations", "allocation"), ("constraints", "constraints"),
                        ("resources", "resources"), ("units", "units")):
        df = getattr(whole, attr).reset_index(drop=True)
        stored = read_frame(url, table, run_id, "whole")
        cols = [c for c in df.columns if c not in ("binding", "meaning", "sense")]
        same = [f[cols].astype(object).where(f[cols].notna(), None) for f in (stored, df)]
        pd.testing.assert_frame_equal(*same, check_dtype=False)
    adopted = query(url, "SELECT DISTINCT variant FROM allocations WHERE run_id = :r AND "
                         "scenario = 'whole' AND volume > 0 AND pathway = 'heart_failure'",
                    r=run_id)
    assert {v for v, in adopted} == {"virtual_ward"}
    heads = query(url, "SELECT resource, provider, activity, used, need FROM resources "
                       "WHERE run_id = :r AND scenario = 'whole' AND provider IS NOT NULL",
                  r=run_id)
    assert [h[:3] for h in heads] == [("band5_nurses", "westvale_community",
                                       "falls_frailty.rehabilitation")]
    assert heads[0][3] == math.ceil(heads[0][4] - 1e-9)  # whole heads for what is needed
    # a scenario without whole resources or units: NULL there, and no units rows
    assert query(url, "SELECT DISTINCT provider FROM resources WHERE run_id = :r AND "
                      "scenario = 'plain'", r=run_id) == [(None,)]
    (n,), = query(url, "SELECT COUNT(*) FROM units WHERE run_id = :r AND scenario = 'plain'",
                  r=run_id)
    assert n == 0


def test_cost_columns_are_every_cost_part():
    from optimiser.results.costs import PARTS

    assert db._COST_PARTS == PARTS
    assert {f"cost_{p}" for p in PARTS} <= set(db.summaries.c.keys())


NEW_COLUMNS = {"summaries": ["cost_adoption", "cost_units", "cost_resources"],
               "allocations": ["variant"], "constraints": ["variant"],
               "resources": ["provider", "activity", "need"]}
"""Columns added with SPEC section 11 (a database made before lacks them)."""


def _make_old_schema(url: str) -> None:
    """Turn the database into one made by the version before SPEC section 11: no units
    table, none of :data:`NEW_COLUMNS`."""
    engine = db._engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE units")
            for table, cols in NEW_COLUMNS.items():
                for c in cols:
                    conn.exec_driver_sql(f'ALTER TABLE {table} DROP COLUMN "{c}"')
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            assert not inspector.has_table("units")
            for table, cols in NEW_COLUMNS.items():
                assert not set(cols) & {c["name"] for c in inspector.get_columns(table)}
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def own_url(request, tmp_path):
    """A database of the test's own (its schema is changed): a SQLite file, or a database
    made on the test server for this test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.db"
        return
    request.getfixturevalue("postgres_url")  # skips without a server
    u = make_url(os.environ[PG_ENV])
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    name = f"carepath_old_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(u, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def test_database_of_an_earlier_version_gains_the_new_columns(own_url, whole, example):
    """A database made before SPEC section 11 keeps its runs: the next write adds the units
    table and the new columns (NULL for the runs stored before) and stores the new run
    whole."""
    url = own_url
    first = new_id()
    db.write_run(url, manifest(first, "plain"), [("plain", example)])
    _make_old_schema(url)

    second = new_id()
    written = db.write_run(url, manifest(second, "whole"), [("whole", whole)])
    assert written == expected_counts(whole)
    assert db.counts(url, first) == expected_counts(example)  # earlier run kept
    assert db.counts(url, second) == written
    (adoption_old,), = query(url, "SELECT cost_adoption FROM summaries WHERE run_id = :r",
                             r=first)
    assert adoption_old is None
    (adoption_new,), = query(url, "SELECT cost_adoption FROM summaries WHERE run_id = :r",
                             r=second)
    assert adoption_new == whole.summary["cost"]["adoption"]
    (n_variant,), = query(url, "SELECT COUNT(*) FROM allocations WHERE run_id = :r AND "
                               "variant IS NOT NULL", r=second)
    assert n_variant == len(whole.allocation)
    # and again: nothing left to add, the schema is as this version makes it
    third = new_id()
    db.write_run(url, manifest(third, "whole"), [("whole", whole)])
    engine = db._engine(url)
    try:
        with engine.connect() as conn:
            assert db._missing_columns(conn) == {}
    finally:
        engine.dispose()


def test_a_missing_required_column_is_still_refused(tmp_path, example):
    """Only nullable columns are added: a table without one this version needs to be filled
    is refused, and nothing of the run is stored."""
    url = f"sqlite:///{tmp_path}/odd.db"
    db.write_run(url, manifest(new_id(), "plain"), [("plain", example)])
    engine = db._engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_units_provider")
            conn.exec_driver_sql('ALTER TABLE units DROP COLUMN "provider"')
    finally:
        engine.dispose()
    run_id = new_id()
    with pytest.raises(db.DatabaseError, match="table units has no column provider"):
        db.write_run(url, manifest(run_id, "plain"), [("plain", example)])
    assert run_id not in db.completed_run_ids(url)
