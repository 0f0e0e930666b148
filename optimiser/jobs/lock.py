"""One run at a time per output root: an advisory lock on ``OUTPUT_ROOT/.carepath-run.lock``.

The lock is ``flock`` (``msvcrt.locking`` on Windows) on a file that stays in place: the
holder writes its pid, host and start time into it and empties it when it finishes. The
kernel releases the lock when the process ends however it ends (``kill -9`` included), so a
run killed mid-way leaves a file with its details but no lock: the next run takes the lock
at once and reports that it cleared a stale lock of that pid. The file is never deleted
(deleting a lock file lets a third process lock a new file while a second still holds the
old one). Keep the output root on a local disk or NFSv4: ``flock`` is not reliable on
older network file systems.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CarepathError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".carepath-run.lock"
_WIN_OFFSET = 1 << 20
"""Windows locks bytes, and a locked byte cannot be read: lock one far past the details."""


class LockHeld(CarepathError):
    """Another run holds the output root's lock (exit code 5)."""

    def __init__(self, root: Path, holder: dict[str, Any]):
        self.root, self.holder = root, holder
        pid, host = holder.get("pid", "?"), holder.get("host", "?")
        started = holder.get("started", "?")
        super().__init__(f"another run (pid {pid} on host {host}, started {started}) holds "
                         f"{root}")


@dataclass
class RunLock:
    """The output root's run lock, held from :meth:`acquire` to :meth:`release`."""

    root: Path
    fd: int | None = None
    stale: dict[str, Any] | None = None
    """Details left by a run that ended without releasing the lock (killed), if any."""

    @property
    def path(self) -> Path:
        return self.root / LOCK_NAME

    def acquire(self, details: dict[str, Any]) -> RunLock:
        """Take the lock without waiting and write ``details`` into the file; raise
        :class:`LockHeld` with the holder's details when another run has it."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                raise LockHeld(self.root, _read(fd))
            self.stale = _read(fd) or None
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(details, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return self

    def release(self) -> None:
        """Empty the file (a clean finish) and release the lock."""
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
        finally:
            os.close(self.fd)  # closing releases the lock
            self.fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_details(started: str) -> dict[str, Any]:
    """What a holder writes into the lock file."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": started}


def _try_lock(fd: int) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    import msvcrt  # pragma: no cover - Windows

    os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    finally:
        os.lseek(fd, 0, os.SEEK_SET)
    return True


def _read(fd: int) -> dict[str, Any]:
    """The details in the lock file ({} when empty or unreadable)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 64 * 1024)
        value = json.loads(raw.decode() or "{}")
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}
