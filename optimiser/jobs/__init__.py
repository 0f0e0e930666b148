"""Scheduled jobs (SPEC section 9): ``carepath run JOB`` from cron, systemd or a task
scheduler.

    >>> from optimiser.jobs import run_job
    >>> outcome = run_job("jobs/monthly.yaml")          # doctest: +SKIP
    >>> outcome.exit_code, outcome.folder, outcome.rows  # doctest: +SKIP

Modules: :mod:`.spec` (the job file, validated like a config), :mod:`.runid` (the run id),
:mod:`.lock` (one run per output root), :mod:`.folders` (run folders, ``manifest.json``,
``latest``), :mod:`.log` (JSON-lines log), :mod:`.runner` (a run, start to finish),
:mod:`.db` (the results database), :mod:`.cli` (``carepath run``).
"""

from __future__ import annotations

from .runner import JobOutcome, run_job

__all__ = ["run_job", "JobOutcome"]
