from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny" / "configs" / "tiny.yaml"
EXAMPLE = ROOT / "configs" / "northshire.yaml"


@pytest.fixture
def tiny() -> Path:
    return TINY


def run_cli(*args: str, cwd: Path | None = None):
    """Run ``python -m optimiser`` in a fresh process; return the CompletedProcess."""
    import subprocess

    env = dict(os.environ)
    env.pop("CAREPATH_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "optimiser", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env, timeout=300)


def print_past_capture(config, lines: list[str]) -> None:
    """Write to the terminal even though pytest captures output during tests and teardown."""
    capman = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if capman is None or reporter is None:  # pragma: no cover
        print("\n".join(lines), file=sys.__stderr__)
        return
    with capman.global_and_fixture_disabled():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)
