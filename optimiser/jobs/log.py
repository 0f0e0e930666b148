"""The run log: one JSON object per line, appended to ``OUTPUT_ROOT/carepath-run.log``.

Every line has ``time`` (UTC, ISO 8601), ``event``, ``job`` and ``pid``, and ``run_id`` once
known. Events: ``lock_held``, ``stale_lock`` (``pid``/``host``/``started`` of the killed
holder under ``holder``), ``skip``, ``run_start``, ``incomplete_runs``, ``scenario``
(``name``, ``status``, ``objective``, ``seconds``, ``folder``, ``message`` on error),
``database`` (row counts), ``run_finish`` (``exit_code``, ``complete``) and ``error``.
Each line is one ``write`` to a file opened for appending, so lines of two processes never
interleave.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .folders import iso

LOG_NAME = "carepath-run.log"


class RunLog:
    """Appends events to the output root's log."""

    def __init__(self, root: Path, job: str):
        self.path = root / LOG_NAME
        self.job = job
        self.run_id: str | None = None

    def event(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one event; returns it. A log that cannot be written never stops a run."""
        line = {"time": iso(datetime.now(timezone.utc)), "event": event, "job": self.job,
                "pid": os.getpid()}
        if self.run_id is not None:
            line["run_id"] = self.run_id
        line.update(fields)
        data = (json.dumps(line, default=str, allow_nan=False) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError:
            pass
        return line
