"""The sweep file (SPEC section 8): a base scenario, a grid of varied values, Monte Carlo
samples on top.

```yaml
base: ../configs/northshire.yaml
vary:                                   # a full grid over these dotted paths
  constraints.budget: [38000000, 39000000, 40000000]
  localities.north.population: {from: 90000, to: 110000, steps: 5}
samples: {n: 1000, seed: 7, prevalence_cv: 0.10}
```

Read like a config: YAML 1.2, duplicate keys rejected, unknown keys refused with a
suggestion, every problem located ``FILE:LINE:COL: key.path: message``. ``base`` is confined
as a pathway is (inside the folder that holds the sweep file's folder, or an
``--allow-path`` folder). Every varied value is checked against the base scenario as
``--set PATH=VALUE`` would be, and a value the base refuses is reported at its place in the
sweep file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError, Issue
from ..load import YAML_SUFFIXES, Scenario, confine, load, read_mapping
from ..validate import validate
from ..yamlio import Document

Scalar = float | int | bool | str | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True,
                              use_attribute_docstrings=True, populate_by_name=True)


class Range(_Strict):
    """Evenly spaced values from ``from`` to ``to`` (both included)."""

    start: float = Field(alias="from", allow_inf_nan=False)
    """First value."""
    stop: float = Field(alias="to", allow_inf_nan=False)
    """Last value."""
    steps: Annotated[int, Field(ge=2, le=100_000)]
    """Number of values (at least 2)."""


class Samples(_Strict):
    """Monte Carlo draws on top of the grid: every grid point is solved once per sample."""

    n: Annotated[int, Field(ge=1, le=1_000_000)]
    """Number of samples."""
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    """Seed of the random draws (the same seed gives the same draws)."""
    prevalence_cv: Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)] = 0.0
    """Each pathway's prevalence is multiplied by a lognormal factor with mean 1 and this
    coefficient of variation (the same factor in every locality)."""


class SweepConfig(_Strict):
    """A sweep file."""

    base: Annotated[str, Field(min_length=1)]
    """The base scenario config, relative to this file."""
    vary: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]+$")],
               Annotated[list[Scalar], Field(min_length=1)] | Range] = {}
    """Dotted config paths and their values (a list, or ``{from, to, steps}``): the grid is
    every combination."""
    samples: Samples | None = None
    """Optional Monte Carlo samples."""
    mode: Literal["lp", "milp", "cp"] | None = None
    """Extension: solve mode for every scenario (default: the base config's)."""
    backend: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] | None = None
    """Extension: backend for every scenario (default: the base config's)."""

    @model_validator(mode="after")
    def _something_varies(self) -> SweepConfig:
        if not self.vary and self.samples is None:
            raise ValueError("a sweep needs `vary`, `samples` or both")
        return self


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the file, its grid axes with their values, the loaded base."""

    file: str
    """The sweep file as shown to the user."""
    config: SweepConfig
    document: Document
    base_path: str
    """The base config's path (as shown)."""
    base: Scenario
    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    """Grid axes in file order: (dotted path, values)."""
    sha256: str
    """sha256 of the sweep file's bytes."""

    @property
    def name(self) -> str:
        return Path(self.file).stem

    @property
    def grid_size(self) -> int:
        return int(np.prod([len(v) for _, v in self.axes])) if self.axes else 1

    @property
    def size(self) -> int:
        """Scenarios in the sweep: grid points times samples."""
        return self.grid_size * (self.config.samples.n if self.config.samples else 1)


def values_of(spec: list | Range) -> tuple:
    """The values of one axis: the list, or ``steps`` evenly spaced values (whole numbers
    stay whole when both ends and the spacing are)."""
    if not isinstance(spec, Range):
        return tuple(spec)
    vals = np.linspace(spec.start, spec.stop, spec.steps)
    if np.all(vals == np.round(vals)):
        return tuple(int(v) for v in vals)
    return tuple(float(v) for v in vals)


def setting(path: str, value: Any) -> str:
    """``--set`` form of one varied value."""
    if value is None:
        return f"{path}="
    if isinstance(value, bool):
        return f"{path}={'true' if value else 'false'}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{path}={int(value)}"
    return f"{path}={value}"


def load_sweep(path: str | os.PathLike[str], *,
               allow_paths: list[str | os.PathLike[str]] | tuple = ()) -> Sweep:
    """Read and validate a sweep file and its base scenario; :class:`ConfigError` lists every
    problem at once."""
    shown = os.fspath(path)
    file = Path(shown)
    doc, digest = read_mapping(shown, "a sweep: base, vary, samples")
    config, issues = validate(SweepConfig, doc)
    if config is not None and config.backend is not None:
        from ..backends import REGISTRY
        from ..validate import suggest

        if config.backend not in REGISTRY:
            issues.append(doc.issue(("backend",), f"unknown backend '{config.backend}'"
                                    + (suggest(config.backend, REGISTRY)
                                       or f"; available: {', '.join(REGISTRY)}")))
    if config is None or issues:
        raise ConfigError(issues)
    roots = [file.resolve().parent.parent, *(Path(p).resolve() for p in allow_paths)]
    confine(file, config.base, roots, doc, ("base",), YAML_SUFFIXES, "a .yaml or .yml")
    base_shown = os.path.normpath(os.path.join(os.path.dirname(shown), config.base))
    try:
        base = load(base_shown, allow_paths=allow_paths)
    except ConfigError as exc:
        n = len(exc.issues)
        raise ConfigError([doc.issue(("base",), f"the base scenario {base_shown} is not valid "
                                     f"({n} problem{'s' if n != 1 else ''}, listed under its "
                                     "name)"), *exc.issues]) from None
    axes = tuple((p, values_of(v)) for p, v in config.vary.items())
    problems = [issue for p, vals in axes for issue in _check_axis(doc, base_shown, allow_paths, p, vals,
                                                                  config.vary[p])]
    if problems:
        raise ConfigError(problems)
    return Sweep(file=shown, config=config, document=doc, base_path=base_shown, base=base,
                 axes=axes, sha256=digest)


def _check_axis(doc: Document, base: str, allow_paths, path: str, values: tuple,
                spec) -> list[Issue]:
    """Each value of one axis applied to the base as ``--set`` would be; a refused value is
    reported at its place in the sweep file (the axis, for a range). A range is checked at
    both ends: the config's number rules are intervals, so the values between pass too."""
    out: list[Issue] = []
    if isinstance(spec, Range):
        values = tuple(dict.fromkeys((values[0], values[-1])))
    for i, v in enumerate(values):
        try:
            load(base, overrides=[setting(path, v)], allow_paths=allow_paths)
        except ConfigError as exc:
            where = ("vary", path, i) if not isinstance(spec, Range) else ("vary", path)
            why = "; ".join(dict.fromkeys(x.message for x in exc.issues))
            out.append(doc.issue(where, f"value {v!r} is refused by the base scenario: {why}"))
            if isinstance(spec, Range):
                break
    return out
