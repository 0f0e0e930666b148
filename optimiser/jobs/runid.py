"""The run id: what a run's results depend on, hashed (SPEC section 9).

``run_id = sha256(canonical JSON of fingerprint(job, versions))``, where the fingerprint
holds the job's name and, per scenario in order, its name, kind, every input file's sha256
(config, pathways, tables; a sweep file and its base's), its overrides and its resolved
solve settings (mode, backend, time limit, MIP gap, threads, seed), plus the versions of
the package and of every solver used. Input paths are relative to the job file's folder,
so the id is the same from any working directory; comments in the job file, its
``output_root`` and its database do not change it (they are not inputs of a result).
Canonical JSON: sorted keys, no spaces, UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .spec import Job


def versions(job: Job) -> dict[str, Any]:
    """The package version and the version string of every backend the job uses; raises
    :class:`~optimiser.errors.SolverUnavailable` when one is not installed."""
    from .. import __version__
    from ..backends import get_backend

    used = sorted({p.settings["backend"] for p in job.scenarios})
    return {"carepath": __version__,
            "solvers": {name: get_backend(name).version() for name in used}}


def fingerprint(job: Job, vers: dict[str, Any]) -> dict[str, Any]:
    """Everything the run id is made of, as plain JSON values."""
    return {
        "job": job.name,
        "scenarios": [{"name": p.name, "kind": p.kind,
                       "inputs": [list(x) for x in p.inputs],
                       "overrides": list(p.overrides),
                       "settings": p.settings,
                       "sweep": _sweep_options(job) if p.kind == "sweep" else None}
                      for p in job.scenarios],
        "versions": vers,
    }


def _sweep_options(job: Job) -> dict[str, Any]:
    return {"plots": job.config.plots}


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def run_id(job: Job, vers: dict[str, Any]) -> str:
    """The job's run id: 64 hex digits."""
    return hashlib.sha256(canonical(fingerprint(job, vers))).hexdigest()
