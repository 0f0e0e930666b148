"""Where a sweep's answers are kept as they arrive: ``sweep.db`` (SQLite) in the output folder.

One row per scenario key (``PRIMARY KEY``): an answer that arrives twice (a Dask task
retried after its worker died, a chunk re-solved on resume) is stored once, the first time.
Each chunk is committed in one transaction, so a killed sweep keeps every chunk it finished,
and a re-run skips the scenarios already answered with the same inputs (same key), except
those that failed (``error``), which it tries again.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .worker import SOLVED

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL
)
"""


class Store:
    """The answers of one output folder."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "sweep.db"
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self._db.commit()

    def answered(self) -> set[str]:
        """Keys of scenarios answered (any status but ``error``)."""
        marks = ",".join("?" * len(SOLVED))
        rows = self._db.execute(f"SELECT key FROM results WHERE status IN ({marks})", SOLVED)
        return {k for (k,) in rows}

    def add(self, records: list[dict]) -> int:
        """Store answers not stored yet (an ``error`` is replaced by a later answer);
        returns how many were new."""
        before = self._db.total_changes
        with self._db:
            for r in records:
                self._db.execute(
                    "INSERT INTO results (key, idx, status, record) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET idx=excluded.idx, status=excluded.status, "
                    "record=excluded.record WHERE results.status = 'error'",
                    (r["key"], int(r["index"]), r["status"], json.dumps(r, default=_plain)))
        return self._db.total_changes - before

    def records(self, keys: list[str]) -> list[dict]:
        """The stored answers of ``keys``, in that order (missing ones left out)."""
        found: dict[str, dict] = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            rows = self._db.execute(
                f"SELECT key, record FROM results WHERE key IN ({','.join('?' * len(part))})", part)
            found.update({k: json.loads(rec) for k, rec in rows})
        return [found[k] for k in keys if k in found]

    def count(self, key: str) -> int:
        return self._db.execute("SELECT COUNT(*) FROM results WHERE key = ?", (key,)).fetchone()[0]

    def close(self) -> None:
        self._db.close()


def _plain(v):
    """JSON for numpy scalars."""
    if hasattr(v, "item"):
        return v.item()
    raise TypeError(f"cannot store {type(v).__name__}")
