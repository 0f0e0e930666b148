"""The job file (SPEC section 9): scenarios to solve, where to write them, which database.

```yaml
job: monthly-plan
output_root: ../runs/monthly                # relative to this file
database: sqlite:///../runs/monthly/results.db   # default: sqlite:///<output_root>/results.db
scenarios:
  - config: ../configs/northshire.yaml      # name: the file stem (northshire)
  - config: ../configs/northshire.yaml
    name: tight-budget
    set: {constraints.budget: 30_000_000}   # --set overrides, by dotted path
  - sweep: ../sweeps/budget_and_demand.yaml
mode: milp              # extensions: mode, backend, time_limit, mip_gap for every scenario;
time_limit: 300         # workers and plots for sweep scenarios
```

Read like a config: YAML 1.2, duplicate keys rejected, unknown keys refused with a
suggestion, every problem located ``FILE:LINE:COL: key.path: message`` and reported in one
pass. Config and sweep paths are confined as pathways are (inside the folder that holds the
job file's folder, or an ``--allow-path`` folder). Every scenario is loaded and validated
here, with its overrides, so an invalid job solves nothing; a refused ``set`` value is
reported at its place in the job file. ``output_root`` and the database are destinations,
not inputs, and are not confined. ``database`` may name environment variables as
``${NAME}`` (a password kept out of the file); a relative SQLite path is relative to the
job file.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ConfigError, Issue, SolverUnavailable
from ..load import YAML_SUFFIXES, Scenario, confine, load, read_mapping
from ..validate import suggest, validate
from ..yamlio import Document

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
"""A scenario name: it is a folder name and a database key."""
RESERVED = {"manifest.json", "latest", "latest.txt"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True,
                              use_attribute_docstrings=True)


def _check_name(value: str) -> str:
    if not NAME.fullmatch(value) or value.endswith(".") or value.lower() in RESERVED:
        raise ValueError(f"'{value}' is not a usable scenario name: it names a folder, so use "
                         "letters, digits, '_', '-' and '.', starting with a letter or digit "
                         "(at most 100 characters)")
    return value


class JobScenario(_Strict):
    """One entry of ``scenarios``: a config (with optional overrides) or a sweep."""

    config: Annotated[str, Field(min_length=1)] | None = None
    """A scenario config, relative to the job file."""
    sweep: Annotated[str, Field(min_length=1)] | None = None
    """A sweep file (SPEC section 8), relative to the job file."""
    name: str | None = None
    """Folder and database name of the scenario (default: the file's stem)."""
    set: dict[str, Any] | None = None
    """Overrides of config values by dotted path, as ``carepath solve --set`` (configs only)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else _check_name(v)

    @field_validator("set")
    @classmethod
    def _keys(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        for key in v or {}:
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", key):
                raise ValueError(f"'{key}' is not a dotted config path such as "
                                 "constraints.budget")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> JobScenario:
        if (self.config is None) == (self.sweep is None):
            raise ValueError("give exactly one of `config` (a scenario config) or `sweep` "
                             "(a sweep file)")
        if self.sweep is not None and self.set:
            raise ValueError("`set` applies to a config; a sweep varies its own values (write "
                             "them in the sweep file)")
        return self


class JobOptions(_Strict):
    """The job file's extensions: solve settings for every scenario, sweep options."""

    mode: Literal["lp", "milp", "cp"] | None = None
    """Extension: solve mode of every scenario (default: each config's)."""
    backend: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] | None = None
    """Extension: backend of every scenario (default: each config's)."""
    time_limit: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """Extension: seconds each solve may run (default: each config's)."""
    mip_gap: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    """Extension: relative MIP gap (default: each config's)."""
    workers: Annotated[int, Field(ge=1, le=1024)] | None = None
    """Extension: local processes for sweep scenarios (default: one per CPU)."""
    plots: bool = True
    """Extension: draw the sweep charts (PNG) of sweep scenarios."""


class _JobTop(JobOptions):
    """The job file's top level, its scenarios checked one by one (:class:`JobScenario`)."""

    job: Annotated[str, Field(min_length=1, max_length=200)]
    """Name of the job (in the manifest, the log and the database)."""
    output_root: Annotated[str, Field(min_length=1)]
    """Folder that holds the run folders, ``latest``, the lock and the log."""
    database: Annotated[str, Field(min_length=1)] | None = None
    """SQLAlchemy URL of the results database (default: ``results.db`` in output_root)."""
    scenarios: Annotated[list[Any], Field(min_length=1)]
    """The scenarios, solved in this order."""


class JobConfig(_JobTop):
    """A job file."""

    scenarios: Annotated[list[JobScenario], Field(min_length=1)]
    """The scenarios, solved in this order."""


@dataclass(frozen=True)
class Planned:
    """One scenario of a loaded job, validated with its overrides."""

    name: str
    kind: Literal["config", "sweep"]
    path: str
    """The config or sweep file, as shown (relative to the working directory)."""
    overrides: tuple[str, ...]
    """``KEY=VALUE`` overrides (config scenarios)."""
    settings: dict[str, Any]
    """Resolved solve settings: mode, backend, time_limit, mip_gap, threads, seed."""
    inputs: tuple[tuple[str, str], ...]
    """Every file read, as (path relative to the job file's folder, sha256)."""
    scenario: Scenario
    """The config scenario, or a sweep's base."""
    sweep: Any = None
    """The loaded sweep (:class:`optimiser.sweeps.Sweep`) for a sweep scenario."""


@dataclass(frozen=True)
class Job:
    """A validated job file."""

    file: str
    config: JobConfig
    document: Document
    output_root: Path
    database: str
    """The database URL, environment variables expanded and a relative SQLite path resolved."""
    scenarios: tuple[Planned, ...]

    @property
    def name(self) -> str:
        return self.config.job

    @property
    def database_shown(self) -> str:
        """The database URL with its password hidden (for logs and the manifest)."""
        from sqlalchemy.engine import make_url

        return make_url(self.database).render_as_string(hide_password=True)


def sweeps_module():
    """The sweeps package, imported when a job has a sweep (it brings Dask and rich)."""
    import importlib

    return importlib.import_module("optimiser.sweeps")


def load_job(path: str | os.PathLike[str], *,
             allow_paths: list[str | os.PathLike[str]] | tuple = ()) -> Job:
    """Read and validate a job file and every scenario it names; :class:`ConfigError` lists
    every problem at once (nothing is solved or written)."""
    shown = os.fspath(path)
    file = Path(shown)
    doc, _ = read_mapping(shown, "a job: job, output_root, database, scenarios")
    top, issues = validate(_JobTop, doc)
    raw = doc.data.get("scenarios")
    entries: list[tuple[int, JobScenario]] = []
    for i in range(len(raw) if isinstance(raw, list) else 0):
        entry, found = validate(JobScenario, doc, ("scenarios", i))
        issues += found
        if entry is not None:
            entries.append((i, entry))
    database = ""
    issues += _check_backend(doc)
    if top is not None:
        database, found = _database(top, doc, file)
        issues += found
    options = top if top is not None else JobOptions()
    names, found = _names(entries, doc)
    issues += found
    roots = [file.resolve().parent.parent, *(Path(p).resolve() for p in allow_paths)]
    planned: list[Planned] = []
    for (i, entry), name in zip(entries, names):
        try:
            planned.append(_plan(options, doc, file, roots, allow_paths, i, entry, name))
        except ConfigError as exc:
            issues += exc.issues
    if top is None or issues:
        raise ConfigError(issues)
    config = JobConfig.model_validate(doc.data)
    out_root = file.resolve().parent / config.output_root
    return Job(file=shown, config=config, document=doc, output_root=Path(os.path.normpath(out_root)),
               database=database, scenarios=tuple(planned))


def _check_backend(doc: Document) -> list[Issue]:
    """An unknown ``backend`` (checked even when other keys are wrong)."""
    from ..backends import REGISTRY

    name = doc.data.get("backend")
    if not isinstance(name, str) or name in REGISTRY or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return []  # the schema reports a name of the wrong form
    return [doc.issue(("backend",), f"unknown backend '{name}'"
                      + (suggest(name, REGISTRY) or f"; available: {', '.join(REGISTRY)}"))]


def _database(config: _JobTop, doc: Document, file: Path) -> tuple[str, list[Issue]]:
    """The database URL: ``${VAR}`` expanded, a relative SQLite path made absolute against
    the job file's folder; the default is ``results.db`` in the output root."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    here = file.resolve().parent
    if config.database is None:
        target = Path(os.path.normpath(here / config.output_root / "results.db"))
        return "sqlite:///" + target.as_posix(), []
    text = config.database
    missing = [m for m in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text) if m not in os.environ]
    if missing:
        return "", [doc.issue(("database",), "environment variable"
                              f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                              "named here is not set")]
    text = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: os.environ[m.group(1)], text)
    try:
        url = make_url(text)
        if url.drivername != "postgres":  # the old alias, which the writer accepts too
            url.get_dialect()
    except NoSuchModuleError:  # (a kind of ArgumentError)
        kind = text.split(":", 1)[0]
        return "", [doc.issue(("database",), f"unknown database kind '{kind}'"
                              + (suggest(kind, ["sqlite", "postgresql"])
                                 or "; use sqlite or postgresql"))]
    except (ArgumentError, ValueError):
        return "", [doc.issue(("database",), "not a database URL; write sqlite:///PATH or "
                              "postgresql://USER@HOST/DBNAME")]
    if url.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        return "", [doc.issue(("database",), f"unsupported database '{url.get_backend_name()}': "
                              "use sqlite:///PATH or postgresql://USER@HOST/DBNAME")]
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return "", [doc.issue(("database",), "an SQLite database needs a file: "
                                  "sqlite:///PATH (relative to this job file)")]
        db = Path(url.database)
        if not db.is_absolute():
            url = url.set(database=os.path.normpath(here / db))
    return url.render_as_string(hide_password=False), []


def _names(entries: list[tuple[int, JobScenario]], doc: Document) -> tuple[list[str], list[Issue]]:
    """Each scenario's name (given, else its file's stem); a name used twice is an error
    (compared without case: the folders may live on a case-insensitive file system)."""
    names: list[str] = []
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for i, entry in entries:
        given = entry.name is not None
        name = entry.name if given else Path(entry.config or entry.sweep or "").stem
        where = ("scenarios", i, "name") if given else ("scenarios", i,
                                                         "config" if entry.config else "sweep")
        names.append(name)
        if not given:
            try:
                _check_name(name)
            except ValueError as exc:
                issues.append(doc.issue(where, f"{exc}; give this scenario a `name`"))
                continue
        if name.lower() in seen:
            j = seen[name.lower()]
            issues.append(doc.issue(where, f"scenario name '{name}' is used twice (also "
                                    f"scenarios[{j}]); give each scenario its own `name`"))
        else:
            seen[name.lower()] = i
    return names, issues


def override_text(key: str, value: Any) -> str:
    """``KEY=VALUE`` for one ``set`` entry: the value as JSON, which reads back as the same
    YAML value (``30000000``, ``"lp"``, ``{"copd": 21}``, ``null``)."""
    return f"{key}={json.dumps(value, ensure_ascii=False)}"


def _plan(config: JobOptions, doc: Document, file: Path, roots: list[Path], allow_paths,
          i: int, entry: JobScenario, name: str) -> Planned:
    kind: Literal["config", "sweep"] = "config" if entry.config is not None else "sweep"
    rel = entry.config if kind == "config" else entry.sweep
    assert rel is not None
    try:
        target = confine(file, rel, roots, doc, ("scenarios", i, kind), YAML_SUFFIXES,
                         "a .yaml or .yml")
    except ConfigError as exc:  # confine speaks of a config; here the file is a job file
        raise ConfigError([replace(x, message=x.message.replace("the config's folder",
                                                                "the job file's folder"))
                           for x in exc.issues]) from None
    shown = os.path.normpath(os.path.join(os.path.dirname(file), rel))
    if Path(shown).resolve() != target:  # `..` after a symbolic link: not the file checked
        raise ConfigError([doc.issue(("scenarios", i, kind), f"'{rel}' names another file once "
                                     "its symbolic links are followed; write the path without "
                                     "'..' after a link")])
    bad = [k for k, v in (entry.set or {}).items()
           if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise ConfigError([doc.issue(("scenarios", i, "set", k), "must be a finite number")
                           for k in bad])
    here = file.resolve().parent
    if kind == "config":
        sets = {override_text(k, v): k for k, v in (entry.set or {}).items()}
        try:
            scenario = load(shown, overrides=list(sets), allow_paths=allow_paths)
        except ConfigError as exc:
            raise ConfigError([_relocate(doc, i, sets, x) for x in exc.issues]) from None
        files = [(f.path, f.sha256) for f in scenario.files]
        settings = _settings(config, doc, i, scenario, None)
        return Planned(name=name, kind=kind, path=shown, overrides=tuple(sets),
                       settings=settings, inputs=_relative(files, here), scenario=scenario)
    sw = sweeps_module().load_sweep(shown, allow_paths=allow_paths)
    files = [(sw.file, sw.sha256), *((f.path, f.sha256) for f in sw.base.files)]
    settings = _settings(config, doc, i, sw.base, sw.config)
    return Planned(name=name, kind=kind, path=shown, overrides=(), settings=settings,
                   inputs=_relative(files, here), scenario=sw.base, sweep=sw)


def _relocate(doc: Document, i: int, sets: dict[str, str], issue: Issue) -> Issue:
    """A problem with a ``set`` value, located at that value in the job file."""
    text = issue.file.removeprefix("--set ") if issue.file.startswith("--set ") else None
    if text is None or text not in sets:
        return issue
    return doc.issue(("scenarios", i, "set", sets[text]), issue.message)


def _relative(files: list[tuple[str, str]], here: Path) -> tuple[tuple[str, str], ...]:
    """Paths relative to the job file's folder, with ``/`` (the same wherever the job is run
    from, so the run id does not depend on the working directory)."""
    out = []
    for path, digest in files:
        rel = os.path.relpath(os.path.realpath(path), here)  # `here` is resolved too
        out.append((Path(rel).as_posix(), digest))
    return tuple(out)


def _settings(config: JobOptions, doc: Document, i: int, scenario: Scenario,
              sweep_config: Any) -> dict[str, Any]:
    """The solve settings of one scenario: the job's, else the sweep file's, else the
    config's."""
    from ..api import choose_backend

    opts = scenario.config.solve
    mode = config.mode or (sweep_config.mode if sweep_config else None) or opts.mode
    named = config.backend or (sweep_config.backend if sweep_config else None)
    try:
        backend = choose_backend(mode, named, opts.backend)
    except SolverUnavailable as exc:
        where = ("backend",) if config.backend else ("scenarios", i)
        raise ConfigError([doc.issue(where, str(exc))]) from None
    return {"mode": mode, "backend": backend,
            "time_limit": config.time_limit if config.time_limit is not None else opts.time_limit,
            "mip_gap": config.mip_gap if config.mip_gap is not None else opts.mip_gap,
            "threads": opts.threads, "seed": opts.seed}
