"""The output root's layout: run folders, their ``manifest.json``, and ``latest``.

```
OUTPUT_ROOT/
  .carepath-run.lock                  the run lock (lock.py)
  carepath-run.log                    JSON lines, appended (log.py)
  results.db                          the default SQLite database
  20270401T020000Z-3f9a0c1d2e4b/      one folder per run: UTC start, run id prefix
    manifest.json                     "complete": true once the run has finished
    northshire/ tight-budget/ ...     one folder per scenario, as a solve writes it
  latest -> 20270401T020000Z-3f9a0c1d2e4b
```

A run counts as complete when its ``manifest.json`` says ``"complete": true``, which is
written last, after the database transaction committed. A run that was killed (or whose
database write failed) leaves its folder with ``"complete": false`` or no manifest at all:
it is never ``latest`` and never makes a later run skip; it is left for inspection and
listed in the log by the next run (delete it when done with it).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..results.result import write_atomic

MANIFEST = "manifest.json"
LATEST = "latest"
LATEST_TXT = "latest.txt"


def stamp(moment: datetime) -> str:
    """``20270401T020000Z`` (UTC)."""
    return moment.strftime("%Y%m%dT%H%M%SZ")


def iso(moment: datetime) -> str:
    """``2027-04-01T02:00:00.123Z`` (UTC, milliseconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def new_run_folder(root: Path, moment: datetime, run_id: str) -> Path:
    """Create ``ROOT/<stamp>-<run id[:12]>/`` (``-2``, ``-3`` ... when a forced re-run starts
    in the same second)."""
    base = f"{stamp(moment)}-{run_id[:12]}"
    for n in range(1, 1000):
        folder = root / (base if n == 1 else f"{base}-{n}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(root / base)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` atomically."""
    data = (json.dumps(manifest, indent=2, allow_nan=False) + "\n").encode()
    return write_atomic(folder / MANIFEST, data)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def runs(root: Path) -> list[tuple[Path, dict[str, Any] | None]]:
    """Every run folder under ``root`` (oldest first) with its manifest (None if missing)."""
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.iterdir()):
        if p.is_dir() and not p.is_symlink() and p.name[:1].isdigit() and "T" in p.name[:9]:
            out.append((p, read_manifest(p)))
    return out


def completed(root: Path, run_id: str) -> list[tuple[Path, dict[str, Any]]]:
    """Complete runs of ``run_id`` under ``root``, oldest first."""
    return [(p, m) for p, m in runs(root)
            if m is not None and m.get("complete") is True and m.get("run_id") == run_id]


def newest_complete(root: Path) -> Path | None:
    """The newest complete run folder under ``root`` (any run id), or None."""
    done = [p for p, m in runs(root) if m is not None and m.get("complete") is True]
    return done[-1] if done else None


def incomplete(root: Path, exclude: Path | None = None) -> list[Path]:
    """Run folders of runs that did not complete (killed, or their database write failed)."""
    return [p for p, m in runs(root) if p != exclude and (m is None or m.get("complete") is not True)]


def point_latest(root: Path, folder: Path) -> Path:
    """Point ``ROOT/latest`` at ``folder``, atomically: a relative symlink made under a
    temporary name and renamed over the old one. Where symlinks cannot be made (Windows
    without the privilege), ``ROOT/latest.txt`` holds the folder's name instead, written
    atomically. Returns the pointer written."""
    tmp = root / f".{LATEST}.{os.getpid()}.tmp"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(folder.name, tmp, target_is_directory=True)
    except (OSError, NotImplementedError):
        written = write_atomic(root / LATEST_TXT, (folder.name + "\n").encode())
        if (root / LATEST).is_symlink():  # an older pointer would be read first
            (root / LATEST).unlink()
        return written
    try:
        os.replace(tmp, root / LATEST)
    except OSError:
        tmp.unlink()
        raise
    return root / LATEST


def latest(root: Path) -> Path | None:
    """The run folder ``latest`` points at (symlink, else ``latest.txt``), or None."""
    link = root / LATEST
    if link.is_symlink():
        return root / os.readlink(link)
    try:
        name = (root / LATEST_TXT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return root / name if name else None
