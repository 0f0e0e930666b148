"""A solve's result: status, objective, tidy tables and summary, and an atomic writer."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .csvout import tables_to_csv

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None

from ..backends.base import Status

OUTPUT_FILES = ("summary.json", "allocation.csv", "constraints.csv", "resources.csv", "units.csv",
                "diagnosis.json", "report.html", "report.xlsx")
"""Files a solve may leave in its folder; those this write does not produce are removed (a
report of an earlier run would describe another plan: ``--report`` writes a new one)."""


@dataclass(frozen=True)
class Result:
    """What :func:`optimiser.solve` returns. Tables are None when there is no solution."""

    status: Status
    objective: float | None
    summary: dict
    allocation: pd.DataFrame | None = None
    constraints: pd.DataFrame | None = None
    resources: pd.DataFrame | None = None
    units: pd.DataFrame | None = None
    """Whole units held per provider and activity (``units.csv``, an extension of SPEC
    section 11); None when the scenario has no ``units``."""
    diagnosis: dict | None = None
    extras: dict = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.status.has_solution

    def files(self) -> dict[str, bytes]:
        """Each output file's name and exact bytes."""
        out = {"summary.json": (json.dumps(self.summary, indent=2, allow_nan=False) + "\n").encode()}
        tables = {name: table for name, table in (("allocation.csv", self.allocation),
                                                  ("constraints.csv", self.constraints),
                                                  ("resources.csv", self.resources),
                                                  ("units.csv", self.units))
                  if table is not None}
        out.update(tables_to_csv(tables))
        if self.diagnosis is not None:
            out["diagnosis.json"] = (json.dumps(self.diagnosis, indent=2, allow_nan=False) + "\n").encode()
        return out

    def write(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write the SPEC's files into ``out_dir``; remove stale ones from earlier runs.

        Each file is replaced atomically; the whole set is written under an exclusive lock
        on the folder, so two runs writing the same folder are serialised (the second waits)
        and the folder always holds one run's complete set.
        """
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        files = self.files()
        return write_files(folder, files, [n for n in OUTPUT_FILES if n not in files])


TMP_PREFIX = ".carepath-"


def write_files(folder: Path, files: dict[str, bytes], remove: list[str] = ()) -> list[Path]:
    """Write each of ``files`` (name to bytes) atomically into ``folder`` and remove the
    files named in ``remove``, all under an exclusive lock on the folder (see
    :meth:`Result.write`)."""
    with folder_lock(folder):
        staging = _staging(folder)
        _remove_stale_temporaries(folder)
        _remove_stale_temporaries(staging)
        written = [write_atomic(folder / name, data, staging) for name, data in files.items()]
        for name in remove:
            if (folder / name).exists():
                (folder / name).unlink()
        if staging != folder:
            try:
                staging.rmdir()
            except OSError:
                pass
    return written


@contextmanager
def folder_lock(folder: Path):
    """An exclusive advisory lock on the folder itself (no lock file is left behind),
    released however the process ends."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _staging(folder: Path) -> Path:
    """Where a file gets its temporary name before it is renamed into ``folder``: a hidden
    folder beside it on the same file system, so that even a kill between naming and
    renaming leaves nothing stray in the output folder (the next write clears it); the
    output folder itself when no such sibling can be made."""
    staging = folder.parent / f".{folder.name}.carepath-staging"
    try:
        staging.mkdir(exist_ok=True)
        if staging.stat().st_dev == folder.stat().st_dev:
            return staging
    except OSError:
        pass
    return folder


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporary files left by a run that was killed while writing (mkstemp fallback)."""
    for p in folder.glob(f"{TMP_PREFIX}*.tmp"):
        try:
            p.unlink()
        except OSError:
            pass


def write_atomic(path: Path, data: bytes, staging: Path | None = None) -> Path:
    """Replace ``path`` with ``data`` so that a reader or a crash sees the old or the new file.

    On Linux the data goes to an unnamed file (``O_TMPFILE``), which vanishes if the process
    dies while writing; once complete and on disk it is linked under a temporary name in
    ``staging`` (default: beside ``path``) and renamed over ``path`` in two consecutive
    system calls. Elsewhere a named temporary file in ``staging`` is used. Either way, a
    temporary left by a killed run is removed by the next write into the folder.
    """
    where = staging if staging is not None else path.parent
    tmp = where / f"{TMP_PREFIX}{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = _unnamed(where)
    if fd is not None:
        try:
            _write_all(fd, data)
            _link_and_rename(fd, tmp, path)
        finally:
            os.close(fd)
        return path
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
    os.fsync(fd)


_LIBC = None


def _link_and_rename(fd: int, tmp: Path, target: Path) -> None:
    """``linkat(/proc/self/fd/N, tmp, AT_SYMLINK_FOLLOW)`` then ``rename(tmp, target)``,
    back to back in C (``os.link`` calls plain ``link``, which refuses the magic link)."""
    import ctypes

    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    src, mid, dst = f"/proc/self/fd/{fd}".encode(), os.fsencode(tmp), os.fsencode(target)
    at_fdcwd, at_symlink_follow = -100, 0x400
    if _LIBC.linkat(at_fdcwd, src, at_fdcwd, mid, at_symlink_follow) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(tmp))
    if _LIBC.rename(mid, dst) != 0:
        err = ctypes.get_errno()
        try:
            os.unlink(mid)
        finally:
            raise OSError(err, os.strerror(err), str(target))


def _unnamed(folder: Path) -> int | None:
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, flag | os.O_WRONLY, 0o644)
    except OSError:
        return None
