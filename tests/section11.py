"""Shared helpers of the SPEC section 11 tests (tests/test_variants.py and
tests/test_whole_units.py): every mode and backend to run, small scenarios written to
folders, solved once per (scenario, mode, backend)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import optimiser
from optimiser.backends import REGISTRY, available_backends

REL = 1e-6
CP_REL = 0.005
PENNY = 0.011


def _runs() -> list[tuple[str, str]]:
    have = set(available_backends())
    return [(mode, name) for mode in ("lp", "milp", "cp") for name, info in REGISTRY.items()
            if mode in info.modes and name in have]


RUNS = _runs()
RUN_IDS = [f"{m}-{b}" for m, b in RUNS]


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Scen:
    config: str
    pathways: tuple = ()
    """(file name, text) pairs, written to ``pathways/``."""
    overrides: tuple = ()


def write(root: Path, scen: Scen) -> Path:
    """The scenario's files under ``root/<hash>/``; returns the config path."""
    h = hashlib.sha256(repr((scen.config, scen.pathways)).encode()).hexdigest()[:16]
    d = root / h
    (d / "configs").mkdir(parents=True, exist_ok=True)
    (d / "pathways").mkdir(exist_ok=True)
    for name, text in scen.pathways:
        (d / "pathways" / name).write_text(text)
    cfg = d / "configs" / "c.yaml"
    cfg.write_text(scen.config)
    return cfg


_CACHE: dict = {}


def solve(root: Path, scen: Scen, mode: str, backend: str) -> optimiser.Result:
    key = (scen, mode, backend)
    if key not in _CACHE:
        sc = optimiser.load(write(root, scen), overrides=list(scen.overrides))
        _CACHE[key] = optimiser.solve(sc, mode=mode, backend=backend, time_limit=60)
    return _CACHE[key]
