"""Ctrl-C during a solve: stop the solver cleanly, then let KeyboardInterrupt through.

Native solvers hold the main thread inside C code, where Python cannot see a signal. So the
solve runs in a worker thread while the main thread waits in short steps; on Ctrl-C the
backend's ``cancel`` tells the solver to stop (HiGHS ``cancelSolve``, CP-SAT
``StopSearch``, GLOP ``InterruptSolve``, CBC/CLP subprocesses terminated), the worker is
given a moment to finish, and KeyboardInterrupt is raised so that no answer from an
interrupted solver is ever read. The command line turns it into exit 130.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_interruptible(fn: Callable[[], T], cancel: Callable[[], None]) -> T:
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="carepath-solver")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        # keep asking: a solver process may start after the first request (CBC after PuLP
        # has written its MPS file)
        for _ in range(50):
            cancel()
            worker.join(0.2)
            if not worker.is_alive():
                break
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


def terminate_children(names: tuple[str, ...]) -> None:
    """Send SIGTERM to this process's child processes with one of ``names`` (Linux /proc)."""
    me = os.getpid()
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().split()
            comm, ppid = fields[1].strip("()"), int(fields[3])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == me and comm in names:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
