"""The invalid-config corpus: every case must be refused with exactly the expected messages.

Each case is a full scenario config in ``tests/invalid/cases/NAME.yaml`` (a small edit of
``tests/invalid/valid/base.yaml``); errors in pathway files use their own files in
``tests/invalid/pathways/``. The expectations live at the top of the case, as comments:

    # one line saying what is wrong
    # set: KEY=VALUE          (zero or more: --set overrides to apply)
    # allow-path: DIR         (zero or more: --allow-path folders, relative to tests/invalid)
    # cli                     (also run the command line on this case)
    # xfail: REASON           (the engine does not give this message yet; see REASON)
    # expect: LINE            (one or more: the exact printed form of each problem)

The header is part of the file, so its lines count in the line numbers of the expectations.
A case whose file cannot hold comments (the 0-byte file) keeps its header in
``NAME.expect`` beside it. In ``expect`` lines, ``{file}`` stands for the case's path as
given (``cases/NAME.yaml``) and ``{root}`` for the absolute path of ``tests/invalid``.
Every load runs with ``tests/invalid`` as the working folder, so pathway files print as
``pathways/NAME.yaml``.

An ``xfail`` case states the message the engine SHOULD give; it is marked
``xfail(strict=True)`` so it turns into a failure, to be unmarked, once the engine is fixed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import optimiser

HERE = Path(__file__).resolve().parent
INVALID = HERE / "invalid"
CASES = INVALID / "cases"
SUMMARY_SUFFIX = "found; nothing was solved."


@dataclass
class Case:
    name: str
    description: str = ""
    overrides: list[str] = field(default_factory=list)
    allow_paths: list[str] = field(default_factory=list)
    cli: bool = False
    xfail: str | None = None
    expect: list[str] = field(default_factory=list)

    @property
    def shown(self) -> str:
        """The config's path as passed to load / the CLI (relative to tests/invalid)."""
        return f"cases/{self.name}.yaml"


def _header_lines(path: Path) -> list[str]:
    sidecar = path.with_suffix(".expect")
    raw = sidecar.read_bytes() if sidecar.exists() else path.read_bytes()
    out = []
    for line in raw.split(b"\n"):
        if not line.startswith(b"#"):
            break
        out.append(line.decode("utf-8"))  # headers are ASCII/UTF-8 even in non-UTF-8 cases
    return out


def _parse(path: Path) -> Case:
    case = Case(path.stem)
    root = str(INVALID.resolve())
    for n, line in enumerate(_header_lines(path)):
        body = line[1:].strip()
        key, sep, value = body.partition(":")
        value = value.strip()
        if n == 0 and not (sep and key in ("expect", "set", "allow-path", "xfail")):
            case.description = body
        elif body == "cli":
            case.cli = True
        elif key == "set":
            case.overrides.append(value)
        elif key == "allow-path":
            case.allow_paths.append(value)
        elif key == "xfail":
            case.xfail = value
        elif key == "expect":
            case.expect.append(value.replace("{file}", case.shown).replace("{root}", root))
    return case


ALL = [_parse(p) for p in sorted(CASES.glob("*.yaml"))]


def _params(cases: list[Case]) -> list:
    return [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                     if c.xfail else [])
        for c in cases
    ]


def _diff(actual: list[str], expected: list[str]) -> str:
    missing = [e for e in expected if e not in actual]
    extra = [a for a in actual if a not in expected]
    return ("\nmissing:\n  " + "\n  ".join(missing or ["(none)"])
            + "\nunexpected:\n  " + "\n  ".join(extra or ["(none)"]))


def test_corpus_is_well_formed():
    assert len(ALL) >= 40
    for c in ALL:
        assert c.description, f"{c.name}: no description line"
        assert c.expect, f"{c.name}: no '# expect:' lines"
        assert len(set(c.expect)) == len(c.expect), f"{c.name}: an expectation is listed twice"


def test_base_config_is_valid(monkeypatch):
    """The cases are edits of this config, so each one's errors are its own."""
    monkeypatch.chdir(INVALID)
    scenario = optimiser.load("valid/base.yaml")
    assert scenario.name == "Tiny"


@pytest.mark.parametrize("case", _params(ALL))
def test_load_reports_exactly_the_expected_issues(case: Case, monkeypatch):
    monkeypatch.chdir(INVALID)
    with pytest.raises(optimiser.ConfigError) as info:
        optimiser.load(case.shown, overrides=case.overrides, allow_paths=case.allow_paths)
    issues = info.value.issues
    assert all(isinstance(i, optimiser.Issue) for i in issues)
    actual = [str(i) for i in issues]
    assert sorted(actual) == sorted(case.expect), _diff(actual, case.expect)
    # the exception's text is the same lines, in the order the CLI prints them
    assert str(info.value) == "\n".join(actual)


@pytest.mark.parametrize("case", _params([c for c in ALL if c.cli]))
def test_cli_validate_exits_2_with_the_expected_lines(case: Case):
    args = [sys.executable, "-m", "optimiser", "validate", case.shown]
    for s in case.overrides:
        args += ["--set", s]
    for p in case.allow_paths:
        args += ["--allow-path", p]
    env = {k: v for k, v in os.environ.items() if k != "CAREPATH_DEBUG"}
    proc = subprocess.run(args, cwd=INVALID, env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    assert proc.returncode == 2, f"exit {proc.returncode}\n{out}"
    lines = proc.stderr.splitlines()
    n = len(case.expect)
    assert lines[-1:] == [f"{n} problem{'s' if n != 1 else ''} {SUMMARY_SUFFIX}"], proc.stderr
    assert sorted(lines[:-1]) == sorted(case.expect), _diff(lines[:-1], case.expect)
    assert proc.stdout == "", proc.stdout
