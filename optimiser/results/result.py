"""A solve's result: status, objective, tidy tables and summary, and an atomic writer."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..backends.base import Status

OUTPUT_FILES = ("summary.json", "allocation.csv", "constraints.csv", "resources.csv", "diagnosis.json")


@dataclass(frozen=True)
class Result:
    """What :func:`optimiser.solve` returns. Tables are None when there is no solution."""

    status: Status
    objective: float | None
    summary: dict
    allocation: pd.DataFrame | None = None
    constraints: pd.DataFrame | None = None
    resources: pd.DataFrame | None = None
    diagnosis: dict | None = None
    extras: dict = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.status.has_solution

    def files(self) -> dict[str, bytes]:
        """Each output file's name and exact bytes."""
        out = {"summary.json": (json.dumps(self.summary, indent=2, allow_nan=False) + "\n").encode()}
        for name, table in (("allocation.csv", self.allocation), ("constraints.csv", self.constraints),
                            ("resources.csv", self.resources)):
            if table is not None:
                out[name] = table.to_csv(index=False, float_format="%.10g", lineterminator="\n").encode()
        if self.diagnosis is not None:
            out["diagnosis.json"] = (json.dumps(self.diagnosis, indent=2, allow_nan=False) + "\n").encode()
        return out

    def write(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write the SPEC's files into ``out_dir`` atomically; remove stale ones from earlier runs."""
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        files = self.files()
        written = [write_atomic(folder / name, data) for name, data in files.items()]
        for name in OUTPUT_FILES:
            if name not in files and (folder / name).exists():
                (folder / name).unlink()
        return written


def write_atomic(path: Path, data: bytes) -> Path:
    """Write to a temporary file beside ``path``, flush to disk, then rename over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
