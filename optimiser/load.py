"""Load a scenario: read the config and its pathways, apply overrides, validate everything.

Problems are collected across all files and reported together as a
:class:`~optimiser.errors.ConfigError`; a loaded :class:`Scenario` is fully validated,
including the cross-file checks that need the built :class:`~optimiser.instance.Instance`.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from . import checks, overrides as overrides_mod, tables as tables_mod
from .errors import ConfigError, Issue
from .instance import Instance, build
from .schema import Pathway, ScenarioConfig
from .validate import validate
from .yamlio import MAX_BYTES, Document, parse_bytes

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SourceFile:
    """One input file as read."""

    path: str
    """Path as shown to the user."""
    sha256: str
    """Hex digest of its bytes."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the config, its pathways, where each key stands, its tables."""

    config: ScenarioConfig
    pathways: tuple[Pathway, ...]
    document: Document
    pathway_documents: tuple[Document, ...]
    files: tuple[SourceFile, ...]
    overrides: tuple[str, ...]
    instance: Instance
    tables: tables_mod.TableSet = tables_mod.TableSet()
    """The CSV/Parquet tables the config names (SPEC section 2.3), as checked."""
    timings: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds of ``load`` (read and validate) and ``instance`` (tables built and
    checked)."""

    @property
    def name(self) -> str:
        return self.config.scenario

    def locate(self, path: tuple) -> tuple[str, str]:
        """``(FILE:LINE:COL, key.path)`` where the value at the YAML-equivalent ``path`` was
        given: the table cell that gave it, else the config key (or its nearest ancestor)."""
        found = self.tables.locate(tuple(path))
        if found is not None:
            return found
        issue = self.document.issue(tuple(path), "")
        return (f"{issue.file}:{issue.line}:{issue.column}" if issue.line else issue.file), issue.path

    @property
    def slug(self) -> str:
        """Folder-safe form of the scenario name (``Northshire 2027/28`` -> ``northshire-2027-28``)."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "scenario"

    @property
    def input_sha256(self) -> str:
        """sha256 over the config and every pathway and table file read, in the order read."""
        h = hashlib.sha256()
        for f in self.files:
            h.update(f"{f.sha256}  {os.path.basename(f.path)}\n".encode())
        return h.hexdigest()


def read_file(path: FsPath, shown: str, limit: int = MAX_BYTES,
              why: str = "YAML files are limited to {limit:,} (put bulk numbers in tables)",
              ) -> tuple[bytes, str]:
    """The file's bytes and their sha256, read once; a file over ``limit`` bytes is refused
    before a byte of it is read."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise ConfigError([Issue(shown, 1, 1, "", f"file is {size:,} bytes; "
                                     + why.format(limit=limit))])
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ConfigError([Issue(shown, 0, 0, "", "is a folder, not a file")]) from None
    except OSError as exc:
        raise ConfigError([Issue(shown, 0, 0, "", f"cannot read: {exc.strerror}")]) from None
    return raw, hashlib.sha256(raw).hexdigest()


def read_mapping(path: str | os.PathLike[str], expected: str) -> tuple[Document, str]:
    """A YAML file whose top level must be a mapping: its document and sha256 (``expected``
    says what the file should hold when it is not a mapping)."""
    shown = os.fspath(path)
    raw, digest = read_file(FsPath(shown), shown)
    doc = parse_bytes(raw, shown)
    if not isinstance(doc.data, dict):
        raise ConfigError([Issue(shown, 1, 1, "", f"expected {expected}")])
    return doc, digest


def load(
    path: str | os.PathLike[str],
    *,
    overrides: list[str] | tuple[str, ...] = (),
    allow_paths: list[str | os.PathLike[str]] | tuple[str | os.PathLike[str], ...] = (),
) -> Scenario:
    """Read and validate a scenario config; raise :class:`ConfigError` listing every problem.

    ``overrides`` are ``KEY=VALUE`` strings (``--set``); ``allow_paths`` are extra folders
    that pathway files may come from (``--allow-path``).
    """
    started = time.perf_counter()
    shown = os.fspath(path)
    cfg_path = FsPath(shown)
    doc, digest = read_mapping(shown, "a mapping of keys to values (scenario, pathways, "
                               "localities, providers, ...)")
    issues: list[Issue] = overrides_mod.apply(doc, tuple(overrides))
    config, found = validate(ScenarioConfig, doc)
    issues += found
    files = [SourceFile(shown, digest)]

    roots = [cfg_path.resolve().parent.parent, *(FsPath(p).resolve() for p in allow_paths)]
    pathways: list[Pathway] = []
    pdocs: list[Document] = []
    listed = doc.data.get("pathways")
    seen: dict[FsPath, int] = {}
    unchecked: set[str] = set()  # pathways whose file failed: their activities are not judged
    if not isinstance(listed, list) or not listed:
        unchecked.add("*")  # no pathways to judge names against (the schema says why)
    for i, rel in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(rel, str):
            unchecked.add("*")
            continue  # the schema already reported it
        try:
            resolved = _confine(cfg_path, rel, roots, doc, i, seen)
            seen[resolved] = i
            pshown = os.path.normpath(os.path.join(os.path.dirname(shown), rel))
            praw, pdigest = read_file(resolved, pshown)
            files.append(SourceFile(pshown, pdigest))
            pdoc = parse_bytes(praw, pshown)
            if not isinstance(pdoc.data, dict):
                raise ConfigError([Issue(pshown, 1, 1, "", "expected a pathway definition "
                                         "(pathway, prevalence_per_1000, steps)")])
        except ConfigError as exc:
            issues += exc.issues
            unchecked.add("*")
            continue
        pathway, found = validate(Pathway, pdoc)
        issues += found
        if pathway is None and isinstance(pdoc.data.get("pathway"), str):
            unchecked.add(pdoc.data["pathway"])
        if pathway is not None:
            pathways.append(pathway)
            pdocs.append(pdoc)

    issues += checks.check_pathways(pathways, pdocs)
    tset = tables_mod.TableSet()
    spec = doc.data.get("tables")
    if isinstance(spec, dict):
        wanted = {k: v for k, v in spec.items() if k in tables_mod.KINDS and isinstance(v, str)}
        tset, found, digests = tables_mod.read(wanted, cfg_path, os.path.dirname(shown), roots, doc)
        issues += found
        files += [SourceFile(p, d) for p, d in digests]
        if not unchecked:
            issues += tables_mod.cross_check(tset, doc.data, pathways, doc)
    issues += checks.check_references(
        doc.data, pathways, doc, unchecked,
        extra_localities=set(tset.frame("localities")["locality"]),
        extra_resources=set(tset.frame("resources")["resource"]), blind_to=set(tset.failed))
    if config is None or issues:
        raise ConfigError(issues)
    tset = tables_mod.overridden(tset, doc)
    built = time.perf_counter()
    inst = build(config, pathways, tset)
    issues += checks.check_instance(config, pathways, inst, doc, pdocs, tset)
    if issues:
        raise ConfigError(issues)
    done = time.perf_counter()
    return Scenario(
        config=config,
        pathways=tuple(pathways),
        document=doc,
        pathway_documents=tuple(pdocs),
        files=tuple(files),
        overrides=tuple(overrides),
        instance=inst,
        tables=tset,
        timings={"load": built - started, "instance": done - built},
    )


def _confine(
    cfg_path: FsPath, rel: str, roots: list[FsPath], doc: Document, i: int, seen: dict
) -> FsPath:
    """Resolve a pathway path; it must be a .yaml/.yml file under an allowed root."""
    target = confine(cfg_path, rel, roots, doc, ("pathways", i), YAML_SUFFIXES, "a .yaml or .yml")
    if target in seen:
        raise ConfigError([doc.issue(("pathways", i), f"'{rel}' is listed twice (also pathways[{seen[target]}])")])
    return target


def confine(cfg_path: FsPath, rel: str, roots: list[FsPath], doc: Document, where: tuple,
            suffixes: tuple[str, ...], kind: str) -> FsPath:
    """Resolve ``rel`` against the config's folder; it must be an existing file with one of
    ``suffixes`` under one of ``roots`` (SPEC section 2: the folder holding the config's
    folder, or an ``--allow-path`` folder). ``where`` is the key that named it."""
    try:
        target = (cfg_path.resolve().parent / rel).resolve()
        target.is_file()
    except ValueError:
        raise ConfigError([doc.issue(where, f"'{rel}' is not a valid path (it contains a NUL "
                                     "character)")]) from None
    except OSError as exc:
        raise ConfigError([doc.issue(where, f"'{rel}' cannot be read: "
                                     f"{exc.strerror or exc}")]) from None
    if target.suffix.lower() not in suffixes:
        raise ConfigError([doc.issue(where, f"'{rel}' is not {kind} file")])
    if not any(target.is_relative_to(r) for r in roots):
        extra = roots[1:]
        also = (f" and outside the --allow-path folder{'s' if len(extra) > 1 else ''} "
                f"{', '.join(map(str, extra))}") if extra else ""
        raise ConfigError([doc.issue(where, f"'{rel}' lies outside {roots[0]} (the folder that "
                                     f"holds the config's folder){also}; name its folder with "
                                     "--allow-path to use it")])
    if not target.is_file():
        raise ConfigError([doc.issue(where, f"'{rel}' does not exist" if not target.exists()
                                     else f"'{rel}' is not a file")])
    return target
