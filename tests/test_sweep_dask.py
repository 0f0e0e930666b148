"""Sweeps on a Dask ``distributed`` cluster (SPEC section 8): the same answers as local
processes, bit for bit; a worker killed mid-sweep loses nothing and stores nothing twice; the
command line's ``--dask ADDRESS``; an unreachable scheduler is a one-line error.

Every cluster here is a real ``distributed.LocalCluster`` on loopback (scheduler in this
process, workers in their own processes under nannies).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

distributed = pytest.importorskip("distributed", reason="dask distributed is not installed")

import pandas as pd  # noqa: E402

from optimiser import cli  # noqa: E402
from optimiser.errors import CarepathError  # noqa: E402
from optimiser.sweeps import sweep  # noqa: E402
from optimiser.sweeps import run as sweep_run  # noqa: E402

from conftest import EXAMPLE, ROOT  # noqa: E402

ALLOW = (str(EXAMPLE.parent),)
# A budget the plan cannot meet in some draws (infeasible, with a budget-free re-solve) and one
# it always meets, with demand uncertain on top: chunks of CHUNK scenarios, each a cold solve
# followed by warm re-solves.
SMALL = f"""\
base: {EXAMPLE}
vary:
  constraints.budget: [37_500_000, 41_260_000]
samples: {{n: 30, seed: 11, prevalence_cv: 0.10}}
"""  # 60 scenarios, 3 chunks
LARGER = SMALL.replace("n: 30", "n: 60")  # 120 scenarios, 6 chunks
COLUMNS = ["scenario", "constraints.budget", "sample", "status", "objective", "baseline_cost",
           "savings", "make_share", "n_binding", "binding", "budget_breached",
           "cost_without_budget", "method", "key"]


def _cluster(n_workers: int = 2, threads: int = 1):
    # no dashboard; the scheduler's plain HTTP endpoints on a free loopback port (they would
    # take port 8787 on every interface otherwise)
    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=threads,
                                    processes=True, host="127.0.0.1", dashboard_address=None,
                                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})


def _same(a, b) -> None:
    """Two sweeps' answers are identical: every column but the timings, exactly."""
    pd.testing.assert_frame_equal(a.table[COLUMNS].reset_index(drop=True),
                                  b.table[COLUMNS].reset_index(drop=True), check_exact=True)
    assert a.summary == b.summary


def _rows(out) -> tuple[int, int, set[str], dict[str, int]]:
    """sweep.db: rows, distinct keys, the keys, rows by status."""
    with closing(sqlite3.connect(out / "sweep.db")) as db:
        n, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM results").fetchone()
        keys = {k for (k,) in db.execute("SELECT key FROM results")}
        by_status = dict(db.execute("SELECT status, COUNT(*) FROM results GROUP BY status"))
    return n, distinct, keys, by_status


def _exactly_once(out, reference) -> None:
    """Every scenario of the sweep (``reference``: its local run, which answered all of them)
    has exactly one row in ``out``'s sweep.db, and there is no other row."""
    expected = set(reference.table["key"])
    assert len(expected) == reference.summary["scenarios"]["total"] == len(reference.table)
    n, distinct, keys, _ = _rows(out)
    assert n == distinct == len(expected)
    assert keys == expected


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask") / "sweeps"
    folder.mkdir()
    (folder / "small.yaml").write_text(SMALL)
    (folder / "larger.yaml").write_text(LARGER)
    return {"small": folder / "small.yaml", "larger": folder / "larger.yaml"}


@pytest.fixture(scope="module")
def local(files, tmp_path_factory):
    """Each sweep solved once in this process (one local worker): the reference."""
    out = tmp_path_factory.mktemp("local")
    return {name: sweep(f, out=out / name, workers=1, allow_paths=ALLOW, plots=False)
            for name, f in files.items()}


@pytest.fixture(scope="module")
def cluster():
    with _cluster() as c:
        yield c


def test_dask_answers_equal_local_answers(files, local, cluster, tmp_path):
    """Two single-thread workers answer every scenario exactly as one local process does:
    chunks are fixed by the sweep and each starts cold, so nothing depends on who solved it."""
    with distributed.Client(cluster) as client:
        res = sweep(files["small"], out=tmp_path, dask=client, allow_paths=ALLOW, plots=False)
        assert res.solved_now == 60
        assert set(res.table["status"]) == {"optimal", "infeasible"}
        _same(res, local["small"])
        _exactly_once(tmp_path, local["small"])
        again = sweep(files["small"], out=tmp_path, dask=client, allow_paths=ALLOW, plots=False)
    assert again.solved_now == 0
    _same(again, local["small"])


def test_workers_with_several_threads_give_the_same_answers(files, local, tmp_path):
    """``dask worker --nthreads 2``: chunks on one process take turns (the warm sessions are
    per process), so the answers are still the local ones and none fails."""
    with _cluster(n_workers=1, threads=2) as cluster, distributed.Client(cluster) as c:
        res = sweep(files["small"], out=tmp_path, dask=c, allow_paths=ALLOW, plots=False)
    assert "error" not in set(res.table["status"])
    _same(res, local["small"])


def _killer(c, pids: dict, done_at: int, log: list):
    """A progress callback that SIGKILLs one busy worker process once ``done_at`` scenarios
    are answered (its nanny starts a new one)."""

    def progress(done: int, failed: int, total: int) -> None:
        log.append((done, failed, total))
        if log[-1][0] + log[-1][1] < done_at or any(isinstance(x, dict) for x in log):
            return
        busy = {w: ks for w, ks in c.processing().items() if ks}
        victim = next(iter(busy), next(iter(pids)))
        os.kill(pids[victim], signal.SIGKILL)
        log.append({"killed": victim, "pid": pids[victim], "busy": list(busy.get(victim, ()))})
    return progress


def _wait_for_restart(c, old_pids: dict) -> dict:
    c.wait_for_workers(len(old_pids), timeout=60)
    return c.run(os.getpid)


def test_a_worker_killed_mid_sweep_loses_nothing_and_stores_nothing_twice(files, local,
                                                                           tmp_path):
    """SIGKILL a worker while it solves a chunk: the scheduler re-runs that chunk on a live
    worker, every scenario is stored exactly once and the answers are the local ones."""
    log: list = []
    with _cluster() as cluster, distributed.Client(cluster) as c:
        pids = c.run(os.getpid)
        res = sweep(files["larger"], out=tmp_path, dask=c, allow_paths=ALLOW, plots=False,
                    progress=_killer(c, pids, sweep_run.CHUNK, log))
        after = _wait_for_restart(c, pids)
    kill = next(x for x in log if isinstance(x, dict))
    assert kill["busy"], "the killed worker was solving a chunk"
    assert kill["pid"] not in after.values()  # it really died; its nanny started another
    assert log[-1] == (120, 0, 120)
    _, _, _, by_status = _rows(tmp_path)
    assert "error" not in by_status
    _exactly_once(tmp_path, local["larger"])
    assert res.solved_now == 120
    _same(res, local["larger"])


def test_a_chunk_whose_worker_keeps_dying_is_recorded_and_a_rerun_fills_it_in(files, local,
                                                                             tmp_path):
    """With ``allowed-failures: 0`` one worker death fails its chunks (KilledWorker): they are
    stored as ``error``, the sweep goes on, and running it again solves exactly those and
    replaces their rows; each scenario still has one row."""
    import dask

    log: list = []
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with _cluster() as cluster, distributed.Client(cluster) as c:
            pids = c.run(os.getpid)
            first = sweep(files["small"], out=tmp_path, dask=c, allow_paths=ALLOW, plots=False,
                          progress=_killer(c, pids, sweep_run.CHUNK, log))
            _wait_for_restart(c, pids)
            failed = int((first.table["status"] == "error").sum())
            assert failed and failed % sweep_run.CHUNK == 0
            assert first.table.loc[first.table["status"] == "error", "message"].str.contains(
                "KilledWorker").all()
            _exactly_once(tmp_path, local["small"])
            second = sweep(files["small"], out=tmp_path, dask=c, allow_paths=ALLOW, plots=False)
    assert second.solved_now == failed
    _, _, _, by_status = _rows(tmp_path)
    assert "error" not in by_status
    _exactly_once(tmp_path, local["small"])
    _same(second, local["small"])


def test_command_line_runs_on_a_cluster_by_address(files, local, cluster, tmp_path, capsys):
    """``carepath sweep SWEEP --dask tcp://HOST:PORT``: the scheduler's address is all it needs
    (no Dask client exists in this process beforehand, as in the real command); the outputs
    are written on this machine and equal the local ones."""
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    with pytest.raises(ValueError):
        distributed.default_client()
    out = tmp_path / "out"
    code = cli.main(["sweep", str(files["small"]), "--dask", address, "--out", str(out),
                     "--allow-path", ALLOW[0], "--no-plots"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "60 scenarios (60 solved now)" in captured.out
    assert f"Outputs written to {out}" in captured.out
    _exactly_once(out, local["small"])
    mine = pd.read_csv(out / "sweep.csv")
    reference = local["small"].files[0]
    assert reference.name == "sweep.csv"
    theirs = pd.read_csv(reference)
    cols = [c for c in COLUMNS if c in theirs.columns]
    pd.testing.assert_frame_equal(mine[cols], theirs[cols], check_exact=True)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_a_clear_error(files, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sweep_run, "CONNECT_TIMEOUT", 2)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(CarepathError, match=f"cannot reach the Dask scheduler at {address}"):
        sweep(files["small"], out=tmp_path / "lib", dask=address, allow_paths=ALLOW, plots=False)
    code = cli.main(["sweep", str(files["small"]), "--dask", address, "--out",
                     str(tmp_path / "cli"), "--allow-path", ALLOW[0], "--no-plots"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"carepath: cannot reach the Dask scheduler at {address}: " in err
    assert "Traceback" not in err


def test_unreachable_scheduler_from_the_console_command(files, tmp_path):
    """The real ``carepath`` process: exit 1, one line naming the address, no traceback (an
    address it cannot even parse fails at once; a refused one after the connect timeout)."""
    env = {k: v for k, v in os.environ.items() if k != "CAREPATH_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "optimiser", "sweep", str(files["small"]), "--dask",
         "nonsense://nowhere:1", "--out", str(tmp_path), "--allow-path", ALLOW[0]],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "carepath: cannot reach the Dask scheduler at nonsense://nowhere:1: " in proc.stderr
    assert "Traceback" not in proc.stderr
