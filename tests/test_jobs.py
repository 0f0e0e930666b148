"""Scheduled jobs (optimiser.jobs, SPEC section 9): the job file, the run id, a run's folders,
manifest and ``latest``, skipping an unchanged re-run, the lock, kill -9, exit codes.

Every job here runs the tiny scenario of ``tests/data/tiny`` (a tenth of a second a solve),
copied into ``tmp_path`` as a root holding ``configs/``, ``pathways/``, ``sweeps/`` and
``jobs/`` so that paths are confined as SPEC section 2 says. The results database is the
real SQLite writer (:mod:`optimiser.jobs.db`); its own tests (transactions, PostgreSQL, the
schema) are in ``tests/test_jobs_db.py``. Runs that must be stopped at a known point (a
second run started, or the first killed, while it solves) use the runner's test-only hook
``CAREPATH_JOB_HOLD``: the run waits after each scenario while the named file exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimiser.cli import main as cli_main
from optimiser.errors import ConfigError
from optimiser.jobs import folders, run_job
from optimiser.jobs import db
from optimiser.jobs.lock import LOCK_NAME, RunLock
from optimiser.jobs.runid import fingerprint, run_id, versions
from optimiser.jobs.runner import exit_code
from optimiser.jobs.spec import load_job

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"

JOB = """\
job: nightly
output_root: ../out
scenarios:
  - config: ../configs/tiny.yaml
  - config: ../configs/tiny.yaml
    name: broke
    set: {constraints.budget: 1_000_000}   # below the block contract plus the rest: infeasible
  - config: ../configs/tiny.yaml
    name: slow
    set: {constraints.max_shift: 0.2}
"""

SOLVED_ONLY = """\
job: nightly
output_root: ../out
scenarios:
  - config: ../configs/tiny.yaml
  - config: ../configs/tiny.yaml
    name: slow
    set: {constraints.max_shift: 0.2}
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A root with configs/tiny.yaml, pathways/copd.yaml and jobs/ (job.yaml: three
    scenarios, one infeasible)."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "pathways").mkdir()
    (tmp_path / "jobs").mkdir()
    shutil.copy(TINY / "configs" / "tiny.yaml", tmp_path / "configs" / "tiny.yaml")
    shutil.copy(TINY / "pathways" / "copd.yaml", tmp_path / "pathways" / "copd.yaml")
    (tmp_path / "jobs" / "job.yaml").write_text(JOB)
    return tmp_path


def _cli(*args: str, env: dict | None = None, wait: bool = True):
    """``python -m optimiser ARGS`` in a fresh process (CompletedProcess, or Popen when not
    waiting)."""
    full = {k: v for k, v in os.environ.items() if k not in ("CAREPATH_DEBUG", "CAREPATH_JOB_HOLD")}
    full.update(env or {})
    cmd = [sys.executable, "-m", "optimiser", *map(str, args)]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT, env=full)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=full, timeout=300)


def _run_folders(out: Path) -> list[Path]:
    return [p for p, _ in folders.runs(out)]


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "carepath-run.log").read_text().splitlines()]


# ---------------------------------------------------------------------------------------------
# The job file
# ---------------------------------------------------------------------------------------------

def test_job_file_problems_are_located_and_reported_together(tree: Path) -> None:
    job = tree / "jobs" / "bad.yaml"
    job.write_text("""\
job: nightly
output_root: ../out
databse: sqlite:///x.db
backend: higs
scenarios:
  - config: ../configs/tiny.yaml
    set: {constraints.budget: -5}
  - config: ../configs/tiny.yaml
    nme: other
  - config: ../configs/tiny.yaml
    name: Tiny
  - {config: ../configs/tiny.yaml, sweep: ../sweeps/s.yaml, name: both}
  - config: ../configs/missing.yaml
    name: missing
  - config: ../../elsewhere.yaml
    name: outside
""")
    with pytest.raises(ConfigError) as err:
        load_job(job)
    got = [str(i) for i in err.value.issues]
    f = str(job)
    assert f"{f}:3:1: databse: unknown key 'databse'; did you mean 'database'?" in got
    assert f"{f}:4:10: backend: unknown backend 'higs'; did you mean 'highs'?" in got
    assert f"{f}:7:31: scenarios[0].set.constraints.budget: must be >= 0, got -5" in got
    assert f"{f}:9:5: scenarios[1].nme: unknown key 'nme'; did you mean 'name'?" in got
    # names are compared without case (the folders may sit on a case-insensitive disk)
    assert any(g.startswith(f"{f}:11:11: scenarios[2].name: scenario name 'Tiny' is used twice")
               for g in got)
    assert f"{f}:12:5: scenarios[3]: give exactly one of `config` (a scenario config) or " \
           "`sweep` (a sweep file)" in got
    assert f"{f}:13:13: scenarios[4].config: '../configs/missing.yaml' does not exist" in got
    assert any(g.startswith(f"{f}:15:13: scenarios[5].config: '../../elsewhere.yaml' lies outside")
               and "--allow-path" in g for g in got)
    assert len(got) == 8
    # the command line: exit 2, nothing written
    assert cli_main(["run", str(job)]) == 2
    assert not (tree / "out").exists()


def test_default_database_and_names(tree: Path) -> None:
    job = load_job(tree / "jobs" / "job.yaml")
    assert [p.name for p in job.scenarios] == ["tiny", "broke", "slow"]
    assert job.output_root == tree / "out"
    assert job.database == f"sqlite:///{(tree / 'out' / 'results.db').as_posix()}"
    assert job.scenarios[1].overrides == ("constraints.budget=1000000",)


def test_database_url_relative_to_the_job_file_and_from_the_environment(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job = tree / "jobs" / "db.yaml"
    job.write_text(JOB.replace("output_root: ../out\n",
                               "output_root: ../out\ndatabase: sqlite:///../data/r.db\n"))
    assert load_job(job).database == f"sqlite:///{(tree / 'data' / 'r.db').as_posix()}"
    job.write_text(JOB.replace("output_root: ../out\n",
                               "output_root: ../out\ndatabase: postgresql://u:${PGPW}@h/db\n"))
    with pytest.raises(ConfigError, match="environment variable PGPW named here is not set"):
        load_job(job)
    monkeypatch.setenv("PGPW", "s3cret")
    loaded = load_job(job)
    assert loaded.database == "postgresql://u:s3cret@h/db"
    assert "s3cret" not in loaded.database_shown


# ---------------------------------------------------------------------------------------------
# The run id
# ---------------------------------------------------------------------------------------------

def _rid(path: Path) -> str:
    job = load_job(path)
    return run_id(job, versions(job))


def test_run_id_is_stable_and_changes_with_every_input(tree: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tree / "jobs" / "job.yaml"
    first = _rid(path)
    assert _rid(path) == first
    monkeypatch.chdir(tree / "jobs")  # another working directory, a relative path
    assert _rid(Path("job.yaml")) == first
    # a comment in the job file is not an input of any result
    path.write_text("# nightly\n" + JOB)
    assert _rid(path) == first
    # one byte of a config, of a pathway
    cfg = tree / "configs" / "tiny.yaml"
    cfg.write_text(cfg.read_text() + "\n# touched\n")
    changed_config = _rid(path)
    assert changed_config != first
    pw = tree / "pathways" / "copd.yaml"
    pw.write_text(pw.read_text() + "# touched\n")
    changed_pathway = _rid(path)
    assert changed_pathway not in (first, changed_config)
    # an override, an option
    path.write_text(JOB.replace("1_000_000", "1_000_001"))
    changed_set = _rid(path)
    path.write_text(JOB.replace("scenarios:", "time_limit: 30\nscenarios:"))
    changed_option = _rid(path)
    assert len({first, changed_config, changed_pathway, changed_set, changed_option}) == 5
    # the package and solver versions
    job = load_job(path)
    vers = versions(job)
    assert set(vers) == {"carepath", "solvers"} and "highs" in vers["solvers"]
    assert run_id(job, {**vers, "carepath": "99.0"}) != run_id(job, vers)
    assert run_id(job, {**vers, "solvers": {"highs": "HiGHS 0.0"}}) != run_id(job, vers)
    # canonical JSON: the id is the sha256 of it
    canon = json.dumps(fingerprint(job, vers), sort_keys=True, separators=(",", ":"),
                       ensure_ascii=False).encode()
    assert run_id(job, vers) == hashlib.sha256(canon).hexdigest()


# ---------------------------------------------------------------------------------------------
# A run
# ---------------------------------------------------------------------------------------------

def test_a_run_writes_folders_manifest_database_and_latest(tree: Path) -> None:
    lines: list[str] = []
    out = run_job(tree / "jobs" / "job.yaml", echo=lines.append)
    root = tree / "out"
    assert out.exit_code == 3 and not out.skipped and out.complete
    folder = out.folder
    assert folder.parent == root
    stamp, prefix = folder.name.split("-")
    assert len(stamp) == 16 and stamp[8] == "T" and stamp.endswith("Z")
    assert prefix == out.run_id[:12]
    for name in ("tiny", "broke", "slow"):
        assert (folder / name / "summary.json").is_file()
    assert (folder / "broke" / "diagnosis.json").is_file()
    assert not (folder / "broke" / "allocation.csv").exists()

    m = json.loads((folder / "manifest.json").read_text())
    assert m["job"] == "nightly" and m["run_id"] == out.run_id and m["complete"] is True
    assert m["started"] <= m["finished"] and m["started"].endswith("Z")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert m["inputs"] == {"../configs/tiny.yaml": digest(tree / "configs" / "tiny.yaml"),
                           "../pathways/copd.yaml": digest(tree / "pathways" / "copd.yaml")}
    assert m["versions"]["carepath"] and m["versions"]["solvers"]["highs"].startswith("HiGHS")
    assert m["host"] == socket.gethostname() and m["process"]["pid"] == os.getpid()
    assert m["options"]["force"] is False and m["seed"]["tiny"] == {"solver": 0, "samples": None}
    assert m["exit_code"] == 3
    by_name = {s["name"]: s for s in m["scenarios"]}
    assert [s["name"] for s in m["scenarios"]] == ["tiny", "broke", "slow"]
    assert by_name["broke"]["status"] == "infeasible" and by_name["broke"]["objective"] is None
    assert by_name["broke"]["set"] == {"constraints.budget": 1000000}
    for name in ("tiny", "slow"):
        s = by_name[name]
        summary = json.loads((root / s["folder"] / "summary.json").read_text())
        assert s["status"] == "optimal" and s["objective"] == summary["objective"]
        assert s["folder"] == f"{folder.name}/{name}"
    assert m["database"]["rows"] == out.rows
    assert out.rows["runs"] == 1 and out.rows["scenarios"] == 3 and out.rows["allocations"] > 0

    # latest points at the run; the database holds it, joinable by run id
    assert (root / "latest").is_symlink() and os.readlink(root / "latest") == folder.name
    assert folders.latest(root) == folder
    assert db.counts(load_job(tree / "jobs" / "job.yaml").database, out.run_id) == out.rows

    # the terminal: a start line, one line per scenario, a closing line
    assert len(lines) == 5
    assert lines[1].split()[:2] == ["tiny", "optimal"] and "£" in lines[1]
    assert lines[2].split()[:4] == ["broke", "infeasible", "no", "plan"]
    assert "complete" in lines[4] and "exit 3" in lines[4]
    # the log: JSON lines
    events = [e["event"] for e in _log(root)]
    assert events == ["run_start", "scenario", "scenario", "scenario", "database", "run_finish"]
    assert all(e["run_id"] == out.run_id for e in _log(root))


def test_unchanged_rerun_is_skipped_and_force_runs_again(tree: Path, capsys) -> None:
    job = tree / "jobs" / "job.yaml"
    assert cli_main(["run", str(job)]) == 3
    first = _run_folders(tree / "out")
    assert len(first) == 1
    capsys.readouterr()
    # unchanged: nothing solved, exit 0, says so and where the earlier run is
    assert cli_main(["run", str(job)]) == 0
    said = capsys.readouterr().out
    assert "skipped" in said and "unchanged" in said and str(first[0]) in said
    assert _run_folders(tree / "out") == first
    assert _log(tree / "out")[-1]["event"] == "skip"
    # --force: a new folder, latest moves, the database holds the run once
    assert cli_main(["run", str(job), "--force"]) == 3
    now = [p for p in _run_folders(tree / "out") if p not in first]
    assert len(now) == 1 and folders.latest(tree / "out") == now[0]
    url = load_job(job).database
    rid = json.loads((now[0] / "manifest.json").read_text())["run_id"]
    assert db.counts(url, rid)["runs"] == 1 and db.completed_run_ids(url) == {rid}
    # a changed input runs again without --force
    cfg = tree / "configs" / "tiny.yaml"
    cfg.write_text(cfg.read_text().replace("fixed_cost: 50000", "fixed_cost: 50001"))
    assert cli_main(["run", str(job)]) == 3
    assert len(_run_folders(tree / "out")) == 3


def test_a_run_missing_from_the_database_is_not_skipped(tree: Path) -> None:
    """Complete means both: the manifest under the output root and the database row (a new
    or emptied database is filled again)."""
    job = tree / "jobs" / "job.yaml"
    first = run_job(job)
    (tree / "out" / "results.db").unlink()
    again = run_job(job)
    assert not again.skipped and again.folder != first.folder
    assert db.completed_run_ids(load_job(job).database) == {first.run_id}
    assert run_job(job).skipped


def test_exit_codes_of_the_command_line(tree: Path) -> None:
    """0 every scenario solved, 3 one infeasible, 2 an invalid job (in a fresh process, as
    cron runs it)."""
    (tree / "jobs" / "ok.yaml").write_text(SOLVED_ONLY.replace("../out", "../out_ok"))
    done = _cli("run", tree / "jobs" / "ok.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("optimal") >= 2 and "Traceback" not in done.stderr
    done = _cli("run", tree / "jobs" / "job.yaml")
    assert done.returncode == 3, done.stderr
    (tree / "jobs" / "bad.yaml").write_text(JOB.replace("name: slow", "name: broke"))
    done = _cli("run", tree / "jobs" / "bad.yaml")
    assert done.returncode == 2
    assert "scenario name 'broke' is used twice" in done.stderr
    assert "nothing was solved" in done.stderr


def test_exit_code_rules() -> None:
    assert exit_code(["optimal", "feasible", "complete"]) == 0
    assert exit_code(["optimal", "infeasible"]) == 3
    assert exit_code(["time_limit", "infeasible", "optimal"]) == 4
    assert exit_code(["error", "time_limit", "infeasible"]) == 1
    assert exit_code(["unbounded"]) == 1


def test_a_failing_scenario_does_not_stop_the_others(tree: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import optimiser.api

    real = optimiser.api.solve

    def solve(scenario, **kw):
        if scenario.overrides and "max_shift" in scenario.overrides[0]:
            raise RuntimeError("solver crashed")
        return real(scenario, **kw)

    monkeypatch.setattr(optimiser.api, "solve", solve)
    out = run_job(tree / "jobs" / "job.yaml")
    # the others ran and are stored, but a run with a failed scenario is not complete: latest
    # does not move to it, and the next run (the failure gone) runs again rather than skip
    assert out.exit_code == 1 and not out.complete
    status = {s["name"]: (s["status"], s.get("message")) for s in out.manifest["scenarios"]}
    assert status == {"tiny": ("optimal", None), "broke": ("infeasible", None),
                      "slow": ("error", "RuntimeError: solver crashed")}
    assert folders.latest(tree / "out") is None
    monkeypatch.setattr(optimiser.api, "solve", real)
    again = run_job(tree / "jobs" / "job.yaml")
    assert not again.skipped and again.complete and again.exit_code == 3
    assert folders.latest(tree / "out").name == again.folder.name


def test_a_skipped_run_repairs_latest(tree: Path) -> None:
    """A run killed after it was marked complete but before latest moved: the re-run is
    skipped (nothing to solve) and points latest at it."""
    first = run_job(tree / "jobs" / "job.yaml")
    (tree / "out" / "latest").unlink()
    again = run_job(tree / "jobs" / "job.yaml")
    assert again.skipped and folders.latest(tree / "out").name == first.folder.name


def test_a_nan_override_is_a_located_error(tree: Path) -> None:
    job = tree / "jobs" / "nan.yaml"
    job.write_text("job: j\noutput_root: ../out\nscenarios:\n  - config: ../configs/tiny.yaml\n"
                   "    set: {constraints.budget: .nan}\n")
    with pytest.raises(ConfigError) as exc:
        load_job(job)
    assert [str(i) for i in exc.value.issues] == [
        f"{job}:5:31: scenarios[0].set.constraints.budget: must be a finite number"]
    assert not (tree / "out").exists()


def test_a_path_through_a_symbolic_link_is_the_file_checked(tree: Path) -> None:
    """``deep/../../x.yaml`` after a link to a deeper folder names, for the system, a file
    other than the text says; it is refused rather than loading an unchecked file."""
    # followed: jobs/deep -> configs/a/b, then ../.. -> configs/tiny.yaml (inside, checked);
    # as text: jobs/deep/../../tiny.yaml -> tiny.yaml at the root (another file)
    (tree / "configs" / "a" / "b").mkdir(parents=True)
    (tree / "jobs" / "deep").symlink_to(tree / "configs" / "a" / "b", target_is_directory=True)
    (tree / "tiny.yaml").write_text((tree / "configs" / "tiny.yaml").read_text()
                                    .replace("Tiny test", "Another file"))
    job = tree / "jobs" / "link.yaml"
    job.write_text("job: j\noutput_root: ../out\nscenarios:\n"
                   "  - config: deep/../../tiny.yaml\n")
    with pytest.raises(ConfigError) as exc:
        load_job(job)
    assert "symbolic link" in str(exc.value.issues[0])


def test_a_sweep_scenario(tree: Path) -> None:
    (tree / "sweeps").mkdir()
    (tree / "sweeps" / "budget.yaml").write_text(
        "base: ../configs/tiny.yaml\nvary:\n  constraints.budget: [1_000_000, 5_000_000]\n")
    (tree / "jobs" / "sweep.yaml").write_text(
        "job: with-sweep\noutput_root: ../out\nworkers: 1\nplots: false\nscenarios:\n"
        "  - config: ../configs/tiny.yaml\n  - sweep: ../sweeps/budget.yaml\n")
    out = run_job(tree / "jobs" / "sweep.yaml")
    assert out.exit_code == 0
    entry = out.manifest["scenarios"][1]
    assert entry["name"] == "budget" and entry["kind"] == "sweep"
    assert entry["status"] == "complete" and entry["sweep"] == {"total": 2, "optimal": 1,
                                                                "infeasible": 1}
    assert (out.folder / "budget" / "sweep.csv").is_file()
    assert "../sweeps/budget.yaml" in out.manifest["inputs"]


def test_latest_txt_where_symlinks_cannot_be_made(tree: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def no_symlink(*a, **k):
        raise OSError("symbolic links are not available")

    monkeypatch.setattr(os, "symlink", no_symlink)
    out = run_job(tree / "jobs" / "job.yaml")
    root = tree / "out"
    assert not (root / "latest").exists()
    assert (root / "latest.txt").read_text() == out.folder.name + "\n"
    assert folders.latest(root) == out.folder


# ---------------------------------------------------------------------------------------------
# Faults: the database write, the lock, kill -9
# ---------------------------------------------------------------------------------------------

def test_a_fault_in_the_database_write_leaves_no_rows_and_latest_unmoved(
        tree: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    job = tree / "jobs" / "job.yaml"
    first = run_job(job)
    url = load_job(job).database
    cfg = tree / "configs" / "tiny.yaml"
    cfg.write_text(cfg.read_text() + "# next month\n")

    real = db._insert

    def insert(conn, table, records):
        real(conn, table, records)  # runs, scenarios, summaries go in, then the fault
        if table.name == "allocations":
            raise OSError("disk full")

    monkeypatch.setattr(db, "_insert", insert)
    assert cli_main(["run", str(job)]) == 1
    said = capsys.readouterr().out
    assert "database write failed" in said and "latest was not moved" in said
    failed = next(p for p in _run_folders(tree / "out") if p != first.folder)
    m = json.loads((failed / "manifest.json").read_text())
    assert m["complete"] is False and "disk full" in m["error"] and m["exit_code"] == 1
    assert all(n == 0 for n in db.counts(url, m["run_id"]).values())
    assert db.completed_run_ids(url) == {first.run_id}
    assert folders.latest(tree / "out") == first.folder
    # the failed run does not count: the next run solves again and completes
    monkeypatch.setattr(db, "_insert", real)
    again = run_job(job)
    assert not again.skipped and again.run_id == m["run_id"] and again.complete
    assert folders.latest(tree / "out") == again.folder


def test_a_held_lock_refuses_a_second_run_with_exit_5(tree: Path) -> None:
    root = tree / "out"
    holder = {"pid": 424242, "host": "planner-01", "started": "2027-04-01T02:00:00.000Z"}
    lock = RunLock(root).acquire(holder)
    try:
        done = _cli("run", tree / "jobs" / "job.yaml")
    finally:
        lock.release()
    assert done.returncode == 5
    assert (f"another run (pid 424242 on host planner-01, started 2027-04-01T02:00:00.000Z) "
            f"holds {root}") in done.stderr
    assert _run_folders(root) == []
    assert _log(root)[-1]["event"] == "lock_held"
    # released cleanly: the file stays, empty, and the next run is not told of a stale lock
    assert (root / LOCK_NAME).read_text() == ""
    out = run_job(tree / "jobs" / "job.yaml")
    assert out.stale_lock is None and out.exit_code == 3


def test_two_concurrent_runs(tree: Path) -> None:
    """A second run while the first is solving exits 5 naming the first; the first
    completes."""
    hold = tree / "hold"
    hold.touch()
    first = _cli("run", tree / "jobs" / "job.yaml", env={"CAREPATH_JOB_HOLD": str(hold)},
                 wait=False)
    try:
        _wait_for_scenario(tree / "out", "tiny", first)
        second = _cli("run", tree / "jobs" / "job.yaml")
        assert second.returncode == 5, second.stderr
        assert f"another run (pid {first.pid} on host {socket.gethostname()}" in second.stderr
    finally:
        hold.unlink()
        stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 3, stderr
    assert len(_run_folders(tree / "out")) == 1
    assert folders.latest(tree / "out") == _run_folders(tree / "out")[0]


def _wait_for_scenario(root: Path, name: str, proc: subprocess.Popen,
                       known: tuple[Path, ...] = ()) -> Path:
    """The new run folder (not one of ``known``), once scenario ``name`` of it is written."""
    end = time.monotonic() + 120
    while True:
        for folder in set(_run_folders(root)) - set(known):
            m = folders.read_manifest(folder) or {}
            if any(s["name"] == name and s["status"] != "pending" for s in m.get("scenarios", [])):
                return folder
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early ({proc.returncode}): {proc.communicate()}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"scenario {name} was not written")
        time.sleep(0.02)


def test_kill_9_mid_run_leaves_earlier_runs_and_latest_intact(tree: Path) -> None:
    job = tree / "jobs" / "job.yaml"
    root = tree / "out"
    done = run_job(job)
    before = {p: (p / "manifest.json").read_bytes() for p in _run_folders(root)}
    url = load_job(job).database

    cfg = tree / "configs" / "tiny.yaml"
    cfg.write_text(cfg.read_text() + "# next month\n")
    hold = tree / "hold"
    hold.touch()
    victim = _cli("run", job, env={"CAREPATH_JOB_HOLD": str(hold)}, wait=False)
    try:
        partial = _wait_for_scenario(root, "tiny", victim, known=(done.folder,))
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=60)
    finally:
        hold.unlink()
    assert victim.returncode == -signal.SIGKILL
    # the earlier run and latest are untouched; the partial run is not complete anywhere
    assert {p: (p / "manifest.json").read_bytes() for p in before} == before
    assert folders.latest(root) == done.folder
    m = folders.read_manifest(partial)
    assert m is not None and m["complete"] is False
    assert [s["status"] for s in m["scenarios"]] == ["optimal", "pending", "pending"]
    assert db.completed_run_ids(url) == {done.run_id}
    # the lock file still names the killed run, but no one holds the lock
    assert json.loads((root / LOCK_NAME).read_text())["pid"] == victim.pid

    # the next run takes over the stale lock, says so, and is not skipped
    lines: list[str] = []
    after = run_job(job, echo=lines.append)
    assert after.stale_lock is not None and after.stale_lock["pid"] == victim.pid
    assert not after.skipped and after.complete and after.run_id == m["run_id"]
    assert after.folder != partial and folders.latest(root) == after.folder
    assert any(f"cleared a stale lock of pid {victim.pid}" in line for line in lines)
    log = _log(root)
    stale = [e for e in log if e["event"] == "stale_lock"]
    assert len(stale) == 1 and f"cleared a stale lock of pid {victim.pid}" in stale[0]["message"]
    left = [e for e in log if e["event"] == "incomplete_runs"]
    assert left and left[-1]["folders"] == [partial.name]
    # the partial folder is left for inspection
    assert partial.is_dir()
    assert db.completed_run_ids(url) == {done.run_id, after.run_id}


# ---------------------------------------------------------------------------------------------
# The same job against PostgreSQL (CAREPATH_TEST_POSTGRES_URL, as in tests/test_jobs_db.py)
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def postgres_database(monkeypatch: pytest.MonkeyPatch):
    """A fresh database on the test server, named to the job file through an environment
    variable (``${CAREPATH_JOB_TEST_DB}``), dropped afterwards."""
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    admin = os.environ.get("CAREPATH_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip("CAREPATH_TEST_POSTGRES_URL is not set: no PostgreSQL server (.ci/run starts one)")
    u = make_url(admin).set(drivername="postgresql+psycopg")
    name = f"carepath_jobs_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(u, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("CAREPATH_JOB_TEST_DB", url)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def test_a_job_against_postgresql_joins_by_run_id(tree: Path, postgres_database: str) -> None:
    import sqlalchemy as sa

    job = tree / "jobs" / "pg.yaml"
    job.write_text(JOB.replace("output_root: ../out\n",
                               "output_root: ../out\ndatabase: ${CAREPATH_JOB_TEST_DB}\n"))
    out = run_job(job)
    assert out.exit_code == 3 and out.complete
    assert not (tree / "out" / "results.db").exists()
    engine = db._engine(postgres_database)
    try:
        with engine.connect() as conn:
            joined = conn.execute(sa.text(
                "SELECT s.scenario, s.status, r.job, count(a.seq) FROM runs r "
                "JOIN scenarios s ON s.run_id = r.run_id "
                "LEFT JOIN allocations a ON a.run_id = s.run_id AND a.scenario = s.scenario "
                "WHERE r.run_id = :rid GROUP BY s.scenario, s.status, r.job ORDER BY s.scenario"),
                {"rid": out.run_id}).all()
    finally:
        engine.dispose()
    allocs = {n: len((out.folder / n / "allocation.csv").read_text().splitlines()) - 1
              for n in ("tiny", "slow")}
    assert [tuple(r) for r in joined] == [("broke", "infeasible", "nightly", 0),
                                          ("slow", "optimal", "nightly", allocs["slow"]),
                                          ("tiny", "optimal", "nightly", allocs["tiny"])]
    assert db.counts(postgres_database, out.run_id) == out.rows
    again = run_job(job)
    assert again.skipped and again.folder == out.folder
