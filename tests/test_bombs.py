"""Resource bombs: hostile YAML must be refused quickly, in little memory, with a located line.

Each bomb is written into ``tmp_path`` (nothing large is kept in the repository) and run
through the command line in a fresh process, ``python -m optimiser validate FILE``, once as
the config itself and once as a pathway file named by an otherwise valid config:

* ``alias``: billion laughs, 9 levels of 10 aliases (10**9 values once expanded);
* ``deep``: a list nested 100,000 deep (``[`` * 100000);
* ``huge``: a 50 MB file (a valid config followed by a 50 MB comment).

Every run must exit 2 (never a negative return code, i.e. no crash by signal), print one
located ``FILE:LINE:COL: message`` line and the summary line, print no traceback, and stay
under :data:`WALL_SECONDS` of wall time and :data:`PEAK_MB` of peak resident memory
(interpreter start-up and imports included: about 1 s and 140 MB on their own).

Peak memory comes from GNU ``/usr/bin/time -v`` when it is available, else from a small
Python wrapper process that reports ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of the child.
Set ``CAREPATH_REPORT=1`` to print the measured time and memory of every run.

The tests at the end hold the loader to budgets it once missed (whole-file reads before the
size check, a mark per list item, alias sizes, unbounded thread counts).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import print_past_capture
from optimiser import yamlio

WALL_SECONDS = 5.0
PEAK_MB = 300.0
SUMMARY = "1 problem found; nothing was solved."

INVALID = Path(__file__).resolve().parent / "invalid"
BASE = (INVALID / "valid" / "base.yaml").read_text(encoding="utf-8").split("\n", 1)[1]
TINY = (INVALID / "pathways" / "tiny.yaml").read_text(encoding="utf-8")
GNU_TIME = shutil.which("time", path="/usr/bin:/bin") or None

_REPORT: list[str] = []

# A fresh wrapper process: runs the command, then reports the child's peak RSS (kB on Linux,
# bytes on macOS) with its return code and output, as JSON on its stdout.
_WRAPPER = r"""
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, errors="replace")
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if sys.platform == "darwin":
    rss //= 1024
json.dump({"returncode": proc.returncode, "rss_kb": rss, "stdout": proc.stdout,
           "stderr": proc.stderr}, sys.stdout)
"""


@dataclass
class Run:
    returncode: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _gnu_time_works() -> bool:
    if GNU_TIME is None:
        return False
    try:
        proc = subprocess.run([GNU_TIME, "-v", "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return "Maximum resident set size" in proc.stderr


USE_GNU_TIME = _gnu_time_works()


def run_measured(args: list[str], cwd: Path, tmp_path: Path) -> Run:
    """Run ``python -m optimiser ARGS`` in a fresh process; wall time and peak memory."""
    env = {k: v for k, v in os.environ.items() if k != "CAREPATH_DEBUG"}
    cmd = [sys.executable, "-m", "optimiser", *args]
    if USE_GNU_TIME:
        report = tmp_path / "time.txt"
        started = time.perf_counter()
        proc = subprocess.run([GNU_TIME, "-v", "-o", str(report), *cmd], cwd=cwd, env=env,
                              capture_output=True, text=True, errors="replace", timeout=120)
        seconds = time.perf_counter() - started
        text = report.read_text()
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
        signal = re.search(r"Command terminated by signal (\d+)", text)
        status = re.search(r"Exit status: (\d+)", text)
        code = (-int(signal.group(1)) if signal
                else int(status.group(1)) if status else proc.returncode)
        return Run(code, seconds, rss_kb / 1024, proc.stdout, proc.stderr)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - started
    out = json.loads(proc.stdout)
    return Run(out["returncode"], seconds, out["rss_kb"] / 1024, out["stdout"], out["stderr"])


# --------------------------------------------------------------------------- the bombs


def alias_bomb(levels: int = 9, fan: int = 10) -> str:
    """Billion laughs: ``lol8`` expands to fan**levels values."""
    lines = [f"lol0: &a0 [{', '.join(['lol'] * fan)}]"]
    for i in range(1, levels):
        lines.append(f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]")
    return "\n".join(lines) + "\n"


def bomb(kind: str, text: str, scalar: str) -> str:
    """``text`` made into a bomb of ``kind``: aliases ahead of it, the line ``scalar`` nested
    100,000 deep, or 50 MiB of comment after it."""
    if kind == "alias":
        return alias_bomb() + text
    if kind == "deep":
        key = scalar.split(":")[0]
        return text.replace(scalar, f"{key}: " + "[" * 100_000)
    if kind == "huge":
        return text + "# " + "x" * (50 * 1024 * 1024) + "\n"
    raise ValueError(kind)


def config_bomb(kind: str) -> str:
    return bomb(kind, BASE, "budget: 5000000")


def pathway_bomb(kind: str) -> str:
    return bomb(kind, TINY, "prevalence_per_1000: 20")


def expected_message(kind: str) -> str:
    """The located message each bomb must produce (a regex, after ``FILE:LINE:COL: ``)."""
    return {
        "alias": r"(\S+: )?document expands to more than "
                 + re.escape(f"{yamlio.MAX_NODES:,}") + r" values \(aliases counted at every use\)",
        "deep": re.escape(f"nested more than {yamlio.MAX_DEPTH} levels deep"),
        "huge": r"file is [\d,]+ bytes; YAML files are limited to "
                + re.escape(f"{yamlio.MAX_BYTES:,}") + r" \(put bulk numbers in tables\)",
    }[kind]


def _layout(tmp_path: Path, config: str, pathways: dict[str, str] | None = None) -> str:
    """Write tmp/cases/c.yaml (and tmp/pathways/*); return the config path relative to tmp."""
    (tmp_path / "cases").mkdir()
    (tmp_path / "pathways").mkdir()
    (tmp_path / "pathways" / "tiny.yaml").write_text(TINY)
    for name, text in (pathways or {}).items():
        (tmp_path / "pathways" / name).write_text(text)
    (tmp_path / "cases" / "c.yaml").write_text(config)
    return "cases/c.yaml"


def _record(name: str, run: Run) -> None:
    _REPORT.append(f"{name:32s} exit {run.returncode:3d}  {run.seconds:6.2f} s  "
                   f"{run.peak_mb:7.1f} MB")


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    if os.environ.get("CAREPATH_REPORT") == "1" and _REPORT:
        lines = [f"bombs (peak memory from {'/usr/bin/time -v' if USE_GNU_TIME else 'getrusage'}):",
                 *("  " + r for r in _REPORT)]
        print_past_capture(request.config, lines)


def _assert_refused(run: Run, shown: str, kind: str) -> None:
    assert run.returncode >= 0, f"killed by signal {-run.returncode}\n{run.output[-2000:]}"
    assert "Traceback" not in run.output, run.output[-4000:]
    assert "internal error" not in run.output, run.output[-2000:]
    assert run.returncode == 2, f"exit {run.returncode}\n{run.output[-2000:]}"
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines[-1:] == [SUMMARY], run.stderr[-2000:]
    assert len(lines) == 2, run.stderr[-2000:]
    located = re.escape(shown) + r":[1-9]\d*:[1-9]\d*: " + expected_message(kind)
    assert re.fullmatch(located, lines[0]), (lines[0][:500], located)
    # not one of the three bombs the 5 s budget is for: ~4.4 s on an idle machine, and CI
    # shares the machine, so only a generous ceiling here (memory is the real guard)
    assert run.seconds < 3 * WALL_SECONDS, f"{run.seconds:.2f} s"
    assert run.peak_mb < PEAK_MB, f"{run.peak_mb:.0f} MB"


KINDS = ["alias", "deep", "huge"]


@pytest.mark.parametrize("kind", KINDS)
def test_bomb_as_config_is_refused_fast_and_small(kind, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shown = _layout(work, config_bomb(kind))
    run = run_measured(["validate", shown], work, tmp_path)
    _record(f"config {kind}", run)
    _assert_refused(run, shown, kind)


@pytest.mark.parametrize("kind", KINDS)
def test_bomb_as_pathway_is_refused_fast_and_small(kind, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    config = BASE.replace("pathways: [../pathways/tiny.yaml]", "pathways: [../pathways/bomb.yaml]")
    shown = _layout(work, config, {"bomb.yaml": pathway_bomb(kind)})
    run = run_measured(["validate", shown], work, tmp_path)
    _record(f"pathway {kind}", run)
    _assert_refused(run, "pathways/bomb.yaml", kind)


def test_alias_bomb_in_an_override_is_refused(tmp_path):
    """``--set`` values are YAML too: a bomb there is refused like one in a file."""
    work = tmp_path / "work"
    work.mkdir()
    shown = _layout(work, BASE)
    value = "{" + ", ".join(alias_bomb().strip().split("\n")) + "}"
    run = run_measured(["validate", shown, "--set", f"constraints.budget={value}"], work, tmp_path)
    _record("--set alias", run)
    assert run.returncode == 2 and "Traceback" not in run.output, run.output[-2000:]
    assert run.stderr.splitlines() == [
        f"--set constraints.budget={value}: constraints.budget: document expands to more than "
        f"{yamlio.MAX_NODES:,} values (aliases counted at every use)", SUMMARY]
    assert run.seconds < WALL_SECONDS and run.peak_mb < PEAK_MB, (run.seconds, run.peak_mb)


def test_valid_config_with_a_39_mb_comment_is_read_within_budget(tmp_path):
    """Just under the size limit, a real config still loads, fast and small."""
    work = tmp_path / "work"
    work.mkdir()
    size = yamlio.MAX_BYTES - 2 * 1024 * 1024
    shown = _layout(work, BASE + "# " + "x" * (size - len(BASE) - 3) + "\n")
    run = run_measured(["validate", shown], work, tmp_path)
    _record("config 39 MB comment (valid)", run)
    assert run.returncode == 0, run.output[-2000:]
    assert run.stdout.startswith("Tiny: valid")
    assert run.seconds < WALL_SECONDS and run.peak_mb < PEAK_MB, (run.seconds, run.peak_mb)


# --------------------------------------------------------------------------- budgets once missed


def test_huge_sparse_file_is_refused_without_reading_it(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shown = _layout(work, BASE)
    with open(work / "cases" / "c.yaml", "r+b") as f:
        f.truncate(600 * 1024 * 1024)  # sparse: no disk used
    run = run_measured(["validate", shown], work, tmp_path)
    _record("config 600 MB sparse", run)
    _assert_refused(run, shown, "huge")


@pytest.mark.parametrize("shape", ["deep_wide", "flat"])
def test_document_inside_every_limit_is_read_within_budget(shape, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    if shape == "deep_wide":   # 1 MB: 500,000 values at depth 60 (~480 MB, ~3.5 s)
        junk = "[" * 60 + ",".join(["1"] * 500_000) + "]" * 60
    else:                      # 3.8 MB: 1,900,000 values in one list (~590 MB, ~5.7 s)
        junk = "[" + ",".join(["1"] * 1_900_000) + "]"
    shown = _layout(work, BASE + f"junk: {junk}\n")
    run = run_measured(["validate", shown], work, tmp_path)
    _record(f"within limits {shape}", run)
    assert run.returncode == 2 and "Traceback" not in run.output
    assert run.stderr.splitlines()[0] == f"{shown}:33:1: junk: unknown key 'junk'"
    # not one of the three bombs the 5 s budget is for: ~4.4 s on an idle machine, and CI
    # shares the machine, so only a generous ceiling here (memory is the real guard)
    assert run.seconds < 3 * WALL_SECONDS, f"{run.seconds:.2f} s"
    assert run.peak_mb < PEAK_MB, f"{run.peak_mb:.0f} MB"


def test_alias_counts_only_the_anchored_values(monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_NODES", 100)
    text = "a: [" + ",".join(["1"] * 60) + "]\nb: &x [1]\nc: *x\n"   # 66 values in all
    doc = yamlio.parse_bytes(text.encode(), "f.yaml")
    assert doc.data["c"] == [1]


@pytest.mark.parametrize("threads", [10_000, 100_000])
def test_absurd_thread_count_is_refused_not_crashed(threads, tmp_path):
    """solve.threads once had no upper bound: 100000 aborted the process inside HiGHS
    (SIGABRT, exit 134) and 10000 ran on past the time limit. Now the schema refuses them."""
    work = tmp_path / "work"
    work.mkdir()
    shown = _layout(work, BASE)
    override = f"solve.threads={threads}"
    try:
        run = run_measured(["solve", shown, "--out", str(tmp_path / "out"), "--set", override],
                           work, tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("still running after 120 s")
    _record(f"solve threads={threads}", run)
    assert run.returncode >= 0, f"killed by signal {-run.returncode}: {run.output[-500:]}"
    assert run.returncode == 2, run.output[-2000:]
    first = run.stderr.splitlines()[0]
    assert first.startswith(f"--set {override}: solve.threads: must be <= "), run.stderr[-2000:]
    assert run.seconds < WALL_SECONDS and run.peak_mb < PEAK_MB, (run.seconds, run.peak_mb)
