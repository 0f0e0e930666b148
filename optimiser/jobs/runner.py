"""Running a job (SPEC section 9): every scenario into a fresh run folder, a manifest, one
database transaction, then ``latest``.

Order of a run, under the output root's lock (:mod:`.lock`):

1. the job and every scenario are validated (:mod:`.spec`; nothing is written if invalid)
   and the run id is computed (:mod:`.runid`);
2. the lock is taken (another run holding it: :class:`~.lock.LockHeld`, exit 5; a stale
   lock of a killed run is taken over and logged);
3. a complete run with the same run id makes this one a skip (exit 0), unless ``force``.
   Complete means: its ``manifest.json`` under the output root says ``"complete": true``
   *and* the database holds the run id (so a new or emptied database is filled again);
4. ``ROOT/<UTC stamp>-<run id[:12]>/`` is created with ``manifest.json``
   (``"complete": false``), and each scenario is solved into its folder, in order; a
   scenario that fails is recorded with status ``error`` and the others still run;
5. the database is written in one transaction (:func:`optimiser.jobs.db.write_run`); if that
   fails the run stays incomplete, ``latest`` does not move, and the exit code is 1;
6. ``manifest.json`` is rewritten with ``"complete": true`` and ``latest`` is moved to the
   run folder (:func:`.folders.point_latest`).

A process killed anywhere before step 6 leaves ``latest`` and earlier runs untouched and its
own folder incomplete. Exit codes: :func:`exit_code`.

Test-only hook: when the environment variable ``CAREPATH_JOB_HOLD`` names a file, the run
waits after each scenario for as long as that file exists (the tests use it to start a
second run, or to kill this one, at a known point). Never set it in production.
"""

from __future__ import annotations

import getpass
import json
import os
import platform
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import CarepathError
from . import folders
from .lock import LockHeld, RunLock, holder_details
from .log import RunLog
from .runid import run_id, versions
from .spec import Job, Planned, load_job, sweeps_module

SOLVED = ("optimal", "feasible", "complete")
"""Scenario statuses that count as solved (``complete``: a sweep whose every point has an
answer, infeasible points included)."""

Echo = Callable[[str], None]


@dataclass(frozen=True)
class JobOutcome:
    """What :func:`run_job` returns."""

    exit_code: int
    """0 all solved, 3 some infeasible, 4 some hit the time limit, 1 a failure."""
    run_id: str
    skipped: bool
    """True when an earlier complete run had the same run id (nothing was solved)."""
    folder: Path
    """This run's folder, or the earlier run's when skipped."""
    manifest: dict[str, Any]
    rows: dict[str, int] | None = None
    """Rows written per database table (None when skipped or the write failed)."""
    complete: bool = True
    stale_lock: dict[str, Any] | None = field(default=None)
    """The details of a stale lock cleared by this run, if any."""


def exit_code(statuses: list[str]) -> int:
    """The job's exit code from its scenarios' statuses: 1 if any failed (``error``,
    ``unbounded``), else 4 if any hit its time limit without a solution, else 3 if any is
    infeasible, else 0."""
    if any(s not in SOLVED and s not in ("infeasible", "time_limit") for s in statuses):
        return 1
    if "time_limit" in statuses:
        return 4
    if "infeasible" in statuses:
        return 3
    return 0


def run_job(path: str | os.PathLike[str], *, force: bool = False,
            allow_paths: list[str | os.PathLike[str]] | tuple = (),
            echo: Echo | None = None) -> JobOutcome:
    """Run the job file at ``path``; ``echo`` receives the human lines (one per scenario).

    Raises :class:`~optimiser.errors.ConfigError` for an invalid job or scenario (nothing
    solved), :class:`~.lock.LockHeld` when another run holds the output root, and
    :class:`~optimiser.errors.CarepathError` when the database cannot be read.
    """
    say = echo or (lambda _line: None)
    job = load_job(path, allow_paths=allow_paths)
    vers = versions(job)
    rid = run_id(job, vers)
    root = job.output_root
    log = RunLog(root, job.name)
    log.run_id = rid
    started = datetime.now(timezone.utc)
    lock = RunLock(root)
    try:
        lock.acquire(holder_details(folders.iso(started)))
    except LockHeld as exc:
        log.event("lock_held", holder=exc.holder, message=str(exc))
        raise
    with lock:
        if lock.stale:
            msg = (f"cleared a stale lock of pid {lock.stale.get('pid', '?')} on host "
                   f"{lock.stale.get('host', '?')} (started {lock.stale.get('started', '?')})")
            log.event("stale_lock", holder=lock.stale, message=msg)
            say(f"{job.name}: {msg}")
        if not force:
            done = _done_before(job, rid, log)
            if done is not None:
                folder, manifest = done
                log.event("skip", folder=str(folder), message="unchanged inputs, versions "
                          "and options: nothing to solve")
                # a run killed between marking itself complete and moving `latest`
                now = folders.latest(root)
                if now is None or now.resolve() != folder.resolve():
                    if folders.newest_complete(root) == folder:
                        folders.point_latest(root, folder)
                        log.event("latest", folder=folder.name, message="latest moved to "
                                  "the newest complete run")
                say(f"{job.name}: skipped: inputs, versions and options are unchanged since "
                    f"run {rid[:12]}, complete in {folder} (--force runs it again)")
                return JobOutcome(0, rid, True, folder, manifest, stale_lock=lock.stale)
        try:  # fail before solving, not after, when the database cannot be reached
            _db().completed_run_ids(job.database)
        except Exception as exc:
            log.event("error", message=f"cannot read the results database: {exc}")
            raise CarepathError(f"cannot read the results database {job.database_shown}: "
                                f"{_why(exc)}; nothing was solved") from exc
        left = folders.incomplete(root)
        if left:
            log.event("incomplete_runs", folders=[p.name for p in left],
                      message="left by runs that did not complete; not used")
        outcome = _execute(job, vers, rid, started, log, force, tuple(allow_paths), say)
        return replace(outcome, stale_lock=lock.stale)


def _done_before(job: Job, rid: str, log: RunLog) -> tuple[Path, dict] | None:
    """The newest complete run of ``rid`` that the database also holds, or None."""
    found = folders.completed(job.output_root, rid)
    if not found:
        return None
    try:
        in_db = rid in _db().completed_run_ids(job.database)
    except Exception as exc:
        log.event("error", message=f"cannot read the results database: {exc}")
        raise CarepathError(f"cannot read the results database {job.database_shown}: "
                            f"{_why(exc)}") from exc
    if not in_db:
        log.event("not_in_database", folder=str(found[-1][0]), message="a complete run of "
                  "this run id exists but the database does not hold it: running again")
        return None
    return found[-1]


def _db():
    """The results database writer (:mod:`optimiser.jobs.db`)."""
    from . import db

    return db


def _execute(job: Job, vers: dict, rid: str, started: datetime, log: RunLog, force: bool,
             allow_paths: tuple, say: Echo) -> JobOutcome:
    root = job.output_root
    folder = folders.new_run_folder(root, started, rid)
    manifest = _manifest(job, vers, rid, started, folder, force, allow_paths)
    folders.write_manifest(folder, manifest)
    log.event("run_start", folder=folder.name, force=force,
              scenarios=[p.name for p in job.scenarios], database=job.database_shown)
    say(f"{job.name}: run {rid[:12]} into {folder} ({len(job.scenarios)} scenario"
        f"{'s' if len(job.scenarios) != 1 else ''})")
    results: list[tuple[str, Any]] = []
    try:
        for i, p in enumerate(job.scenarios):
            entry, result = _solve(job, p, folder, allow_paths)
            manifest["scenarios"][i].update(entry)
            # a sweep has no plan tables: its scenarios row takes the manifest entry's
            # status, and its answers stay in its folder's sweep.csv
            results.append((p.name, result if p.kind == "config" else None))
            folders.write_manifest(folder, manifest)
            log.event("scenario", **{k: manifest["scenarios"][i][k] for k in
                                     ("name", "status", "objective", "seconds", "folder")},
                      **({"message": entry["message"]} if "message" in entry else {}))
            say(_line(manifest["scenarios"][i], p))
            _hold()
    except BaseException as exc:
        log.event("error", message=f"run stopped: {type(exc).__name__}: {exc}", complete=False)
        raise
    code = exit_code([s["status"] for s in manifest["scenarios"]])
    manifest["finished"] = folders.iso(datetime.now(timezone.utc))
    manifest["exit_code"] = code
    folders.write_manifest(folder, manifest)
    try:
        # replace: a run id stored without a complete folder (killed after the commit) or
        # run again with --force gets this run's rows, in the same transaction
        rows = _db().write_run(job.database, {**manifest, "complete": True}, results,
                               replace=True)
    except Exception as exc:
        why = f"database write failed: {_why(exc)}"
        manifest.update(exit_code=1, error=why)
        folders.write_manifest(folder, manifest)
        log.event("error", message=why, folder=folder.name)
        log.event("run_finish", exit_code=1, complete=False, folder=folder.name)
        say(f"{job.name}: {why}; the run is not complete and latest was not moved")
        return JobOutcome(1, rid, False, folder, manifest, None, complete=False)
    manifest["database"]["rows"] = rows
    log.event("database", rows=rows, database=job.database_shown)
    failed = [s["name"] for s in manifest["scenarios"] if s["status"] == "error"]
    if failed:
        # stored for inspection, but not complete: the next run tries again, latest stays
        manifest["complete"] = False
        folders.write_manifest(folder, manifest)
        log.event("run_finish", exit_code=code, complete=False, folder=folder.name,
                  message=f"failed: {', '.join(failed)}")
        say(_closing(job, manifest, rows, folder)
            + f"; not complete ({', '.join(failed)} failed): latest was not moved")
        return JobOutcome(code, rid, False, folder, manifest, rows, complete=False)
    manifest["complete"] = True
    folders.write_manifest(folder, manifest)
    pointer = folders.point_latest(root, folder)
    log.event("run_finish", exit_code=code, complete=True, folder=folder.name,
              latest=pointer.name)
    say(_closing(job, manifest, rows, folder))
    return JobOutcome(code, rid, False, folder, manifest, rows)


def _manifest(job: Job, vers: dict, rid: str, started: datetime, folder: Path, force: bool,
              allow_paths: tuple) -> dict[str, Any]:
    c = job.config
    inputs: dict[str, str] = {}
    for p in job.scenarios:
        inputs.update(dict(p.inputs))
    return {
        "job": job.name,
        "run_id": rid,
        "folder": folder.name,
        "started": folders.iso(started),
        "finished": None,
        "complete": False,
        "exit_code": None,
        "inputs": inputs,
        "versions": vers,
        "options": {"mode": c.mode, "backend": c.backend, "time_limit": c.time_limit,
                    "mip_gap": c.mip_gap, "workers": c.workers, "plots": c.plots,
                    "force": force, "allow_paths": [str(Path(a).resolve()) for a in allow_paths]},
        "seed": {p.name: {"solver": p.settings["seed"],
                          "samples": (p.sweep.config.samples.seed
                                      if p.sweep is not None and p.sweep.config.samples else None)}
                 for p in job.scenarios},
        "host": socket.gethostname(),
        "process": {"pid": os.getpid(), "user": _user(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "job_file": str(Path(job.file).resolve()),
        "output_root": str(job.output_root),
        "database": {"url": job.database_shown},
        "scenarios": [{"name": p.name, "kind": p.kind,
                       "source": p.inputs[0][0],
                       "set": {o.split("=", 1)[0]: json.loads(o.split("=", 1)[1])
                               for o in p.overrides},
                       **{k: p.settings[k] for k in ("mode", "backend", "time_limit", "mip_gap")},
                       "status": "pending", "objective": None, "seconds": None,
                       "folder": f"{folder.name}/{p.name}"}
                      for p in job.scenarios],
    }


def _solve(job: Job, p: Planned, run_folder: Path, allow_paths: tuple) -> tuple[dict, Any]:
    """Solve one scenario into ``run_folder/<name>``; its manifest entry and its Result
    (None for a sweep or a failure). Never raises for a failure of the scenario itself."""
    target = run_folder / p.name
    s = p.settings
    t0 = time.perf_counter()
    entry: dict[str, Any] = {"currency": p.scenario.config.currency}
    result = None
    try:
        if p.kind == "config":
            from ..api import solve

            result = solve(p.scenario, mode=s["mode"], backend=s["backend"],
                           time_limit=s["time_limit"], mip_gap=s["mip_gap"], threads=s["threads"])
            result.write(target)
            entry.update(status=result.status.value, objective=result.objective)
        else:
            res = sweeps_module().sweep(p.sweep, out=target, workers=job.config.workers,
                                        mode=s["mode"], backend=s["backend"],
                                        time_limit=s["time_limit"], mip_gap=s["mip_gap"],
                                        allow_paths=allow_paths, plots=job.config.plots)
            counts = dict(res.summary["scenarios"])
            entry.update(status="error" if counts.get("error") else "complete",
                         objective=None, sweep=counts)
    except Exception as exc:
        if os.environ.get("CAREPATH_DEBUG"):
            raise
        entry.update(status="error", objective=None, message=_why(exc))
        result = None
    entry["seconds"] = round(time.perf_counter() - t0, 3)
    return entry, result


def _why(exc: BaseException) -> str:
    """One line for an error: our own errors say what happened already; others are named."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return (first if isinstance(exc, CarepathError) else f"{type(exc).__name__}: {first}")[:500]


def _line(entry: dict[str, Any], p: Planned) -> str:
    """One human line for a scenario."""
    from ..results.text import money

    if entry.get("sweep"):
        counts = entry["sweep"]
        what = f"{counts.get('total', 0):,} scenarios (" + ", ".join(
            f"{v:,} {k}" for k, v in counts.items() if k != "total") + ")"
    elif entry["status"] == "error":
        what = entry.get("message", "")
    elif entry["objective"] is None:
        what = {"infeasible": "no plan", "time_limit": "no plan in time"}.get(entry["status"], "-")
    else:
        what = money(entry["objective"], entry.get("currency", "GBP"))
    return (f"  {p.name:<20} {entry['status']:<10} {what:>16}  {entry['seconds']:7.1f} s  "
            f"{entry['folder']}")


def _closing(job: Job, manifest: dict, rows: dict[str, int], folder: Path) -> str:
    statuses = [s["status"] for s in manifest["scenarios"]]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
    total = sum(rows.values()) if isinstance(rows, dict) else 0
    return (f"{job.name}: complete ({counts}); {total:,} rows written to "
            f"{job.database_shown}; latest -> {folder.name} (exit {manifest['exit_code']})")


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None


def _hold() -> None:
    """Test-only: wait while the file named by ``CAREPATH_JOB_HOLD`` exists."""
    hold = os.environ.get("CAREPATH_JOB_HOLD")
    while hold and os.path.exists(hold):
        time.sleep(0.02)
