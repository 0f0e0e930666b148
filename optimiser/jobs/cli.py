"""``carepath run JOB [--force] [--allow-path DIR]`` (SPEC section 9).

Prints one line when the run starts, one per scenario (status, objective, seconds, folder)
and a closing line; the JSON-lines log goes to ``OUTPUT_ROOT/carepath-run.log``. Exit codes:
0 every scenario solved (or the run was skipped as unchanged), 3 at least one infeasible and
the rest solved, 4 at least one hit its time limit without a solution, 5 another run holds
the output root's lock, 2 invalid job or config (nothing solved), 1 any other failure (a
scenario that failed, or the database write: then the run is not complete and ``latest``
does not move).
"""

from __future__ import annotations

import argparse
import sys

LOCK_HELD = 5
"""Exit code when another run holds the output root's lock."""


def _echo(line: str) -> None:
    """A terminal line; a reader that went away (``| head``, a dead mail pipe) must not stop
    an unattended run: the rest goes to the log only."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def add_parser(sub) -> None:
    r = sub.add_parser("run", help="run a scheduled job: its scenarios, manifest, database rows")
    r.add_argument("job", metavar="JOB", help="job file (YAML: job, output_root, database, scenarios)")
    r.add_argument("--force", action="store_true",
                   help="run even if a complete run with the same run id exists")
    r.add_argument("--allow-path", dest="allow_paths", action="append", default=[], metavar="DIR",
                   help="another folder configs, sweeps and pathways may come from (repeatable)")


def run(args: argparse.Namespace) -> int:
    from .lock import LockHeld
    from .runner import run_job

    try:
        outcome = run_job(args.job, force=args.force, allow_paths=tuple(args.allow_paths),
                          echo=_echo)
    except LockHeld as exc:
        print(f"carepath: {exc}; not started (exit {LOCK_HELD})", file=sys.stderr)
        return LOCK_HELD
    return outcome.exit_code
