"""Strict YAML reading: YAML 1.2 core scalars, line marks, no duplicate keys, no tags.

PyYAML implements YAML 1.1 (``no`` is False, ``0755`` is octal, ``1e-7`` is a string) and
keeps the last of duplicate keys; its C composer recurses and crashes on very deep nesting.
So this module takes only the *event stream* from PyYAML's parser (libyaml when present; the
parser itself keeps an explicit stack and does not recurse) and builds plain Python values
itself, iteratively, with:

* scalars resolved by the YAML 1.2 core schema, plus ``_`` digit separators in numbers
  (``140_000``), which the scenario format allows;
* every key and value's position recorded against its key path;
* duplicate keys, explicit tags (``!!python/object`` ...), non-scalar keys, nesting deeper
  than :data:`MAX_DEPTH` and alias expansion beyond :data:`MAX_NODES` rejected as located
  :class:`~optimiser.errors.Issue` s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import ConfigError, Issue

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted (real configs use about 6)."""
MAX_NODES = 2_000_000
"""Most values a document may expand to, aliases counted at every use (alias bombs)."""
MAX_BYTES = 40 * 1024 * 1024
"""Largest YAML file read; bulk data belongs in tables (CSV/Parquet)."""
MARKED_ITEMS = 10_000
"""Items of one list that get their own line mark; later items are located at their list,
which keeps a long list of numbers from costing a path and a mark per value."""

Path = tuple[str | int, ...]

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9][0-9_]*")
_OCT = re.compile(r"0o[0-7_]+")
_HEX = re.compile(r"0x[0-9a-fA-F_]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9][0-9_]*|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")

try:  # libyaml's parser when available: same events, several times faster
    _EventLoader: type = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _EventLoader = yaml.BaseLoader


MAX_DIGITS = 308
"""Longest run of digits in a whole number (beyond it the number exceeds any float)."""


class ScalarError(ValueError):
    """A plain scalar that looks like a number but cannot be one."""


def resolve_scalar(text: str) -> Any:
    """The YAML 1.2 core-schema value of a plain scalar (``_`` allowed between digits)."""
    if len(text) > MAX_DIGITS and (_INT.fullmatch(text) or _HEX.fullmatch(text) or _OCT.fullmatch(text)):
        digits = sum(c.isalnum() for c in text) - (2 if text[:2] in ("0x", "0o") else 0)
        raise ScalarError(f"number too large ({digits} digits)")
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        return int(text.replace("_", ""), 10)
    if _OCT.fullmatch(text):
        return int(text[2:].replace("_", ""), 8)
    if _HEX.fullmatch(text):
        return int(text[2:].replace("_", ""), 16)
    if _FLOAT.fullmatch(text):
        return float(text.replace("_", ""))
    if _INF.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


@dataclass
class Document:
    """A parsed YAML file: its value and where each key and value stands."""

    file: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    origin: dict[Path, str] = field(default_factory=dict)
    """Paths whose value came from a command-line override, with that override's text."""

    def where(self, path: Path, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of ``path``'s key (or value), else its nearest ancestor's."""
        p = tuple(path)
        if key and p in self.keys:
            return self.keys[p]
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))

    def issue(self, path: Path, message: str, key: bool = False) -> Issue:
        for n in range(len(path), 0, -1):
            if tuple(path[:n]) in self.origin:
                return Issue(self.origin[tuple(path[:n])], 0, 0, dotted(path), message)
        line, col = self.where(path, key)
        return Issue(self.file, line, col, dotted(path), message)


def dotted(path: Path) -> str:
    """``('steps', 0, 'per_patient')`` -> ``steps[0].per_patient``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def parse_text(text: str, file: str) -> Document:
    """Parse one YAML document into plain values with marks; raise ConfigError if bad."""
    doc = Document(file=file, data=None)
    issues: list[Issue] = []
    try:
        _build(text, doc, issues)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        issues.append(Issue(file, line, col, "", f"YAML syntax error: unacceptable character "
                            f"#x{char:04x}: control characters are not allowed"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        line, col = _clamp(text, line, col)
        context = exc.context
        if context and exc.context_mark is not None and exc.problem_mark is not None:
            cl, cc = _clamp(text, exc.context_mark.line + 1, exc.context_mark.column + 1)
            context += f" (opened at line {cl}, column {cc})"
        what = " ".join(s for s in (context, exc.problem) if s)
        issues.append(Issue(file, line, col, "", f"YAML syntax error: {what}"))
    except yaml.YAMLError as exc:
        issues.append(Issue(file, 1, 1, "", f"YAML error: {exc}"))
    if issues:
        raise ConfigError(issues)
    return doc


def _clamp(text: str, line: int, col: int) -> tuple[int, int]:
    """libyaml puts an error at the end of the input one line past the last: move it to the
    end of the last line."""
    lines = text.split("\n")
    last = max(len(lines) - (1 if lines and lines[-1] == "" else 0), 1)
    if line > last:
        return last, len(lines[last - 1]) + 1
    return line, col


def parse_bytes(raw: bytes, file: str) -> Document:
    """Decode UTF-8 (a BOM is allowed) and parse; size and encoding are checked first."""
    if len(raw) > MAX_BYTES:
        raise ConfigError([Issue(file, 1, 1, "", f"file is {len(raw):,} bytes; YAML files are "
                                 f"limited to {MAX_BYTES:,} (put bulk numbers in tables)")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError([Issue(file, line, col, "", "file is not valid UTF-8 text")]) from None
    if "\t" in text:
        # YAML forbids tabs in indentation; say where rather than a parser riddle.
        for n, line_text in enumerate(text.split("\n"), 1):
            stripped = line_text.lstrip(" ")
            if stripped.startswith("\t"):
                raise ConfigError([Issue(file, n, len(line_text) - len(stripped) + 1, "",
                                         "tab used for indentation; indent with spaces")])
    return parse_text(text, file)


class _Frame:
    __slots__ = ("container", "path", "pending_key", "key_mark", "anchor", "nodes0")

    def __init__(self, container: Any, path: Path, anchor: str | None, nodes0: int):
        self.container = container
        self.path = path
        self.pending_key: str | None = None
        self.key_mark: tuple[int, int] | None = None
        self.anchor = anchor
        self.nodes0 = nodes0
        """Values counted before this one opened: its own size is the difference at its end."""


def _build(text: str, doc: Document, issues: list[Issue]) -> None:
    loader = _EventLoader(text)
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    nodes = 0
    documents = 0
    dups = 0
    first_keys: dict[Path, tuple[int, int]] = {}
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    issues.append(Issue(doc.file, *_mark(event), "",
                                        "more than one YAML document in the file"))
                    return
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if frame.anchor is not None:
                    anchors[frame.anchor] = (frame.container, nodes - frame.nodes0)
                continue

            # A value starts: scalar, alias, mapping or sequence.
            parent = stack[-1] if stack else None
            if parent is not None and isinstance(parent.container, dict) and parent.pending_key is None:
                # This event is a key.
                if not isinstance(event, yaml.ScalarEvent):
                    issues.append(Issue(doc.file, *_mark(event), dotted(parent.path),
                                        "mapping keys must be plain names"))
                    return
                key = event.value
                kpath = parent.path + (key,)
                if event.tag not in (None, "!"):
                    issues.append(Issue(doc.file, *_mark(event), dotted(kpath),
                                        f"YAML tag '{str(event.tag).replace('tag:yaml.org,2002:', '!!')}' "
                                        "is not allowed; write plain values"))
                if kpath in first_keys:
                    fl, _ = first_keys.get(kpath, (0, 0))
                    issues.append(Issue(doc.file, *_mark(event), dotted(kpath),
                                        f"duplicate key '{key}' (first given at line {fl})"))
                    # the repeated value is read (for its own errors) under a path of its own,
                    # so its nested keys are not reported as duplicates too
                    dups += 1
                    key = f"{key}\x00dup{dups}"
                parent.pending_key = key
                parent.key_mark = _mark(event)
                first_keys.setdefault(kpath, _mark(event))
                continue

            if parent is None:
                path: Path = ()
            elif isinstance(parent.container, dict):
                path = parent.path + (parent.pending_key,)
            else:
                path = parent.path + (len(parent.container),)

            tag = getattr(event, "tag", None)
            bad_tag = tag not in (None, "!") and not (
                isinstance(event, yaml.ScalarEvent) and tag == "tag:yaml.org,2002:str"
            )
            if bad_tag:
                issues.append(Issue(doc.file, *_mark(event), dotted(path),
                                    f"YAML tag '{str(tag).replace('tag:yaml.org,2002:', '!!')}' is not allowed; "
                                    "write plain values"))
            value: Any
            if bad_tag and isinstance(event, yaml.ScalarEvent):
                value = None
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    issues.append(Issue(doc.file, *_mark(event), dotted(path),
                                        f"unknown alias '*{event.anchor}'"))
                    value = None
                else:
                    value, size = anchors[event.anchor]
                    nodes += size
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                plain = event.style in (None, "") and tag is None
                try:
                    value = resolve_scalar(event.value) if plain else event.value
                except ScalarError as exc:
                    issues.append(Issue(doc.file, *_mark(event), dotted(path), str(exc)))
                    value = None
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
            else:  # mapping or sequence start
                nodes += 1
                if len(stack) >= MAX_DEPTH:
                    issues.append(Issue(doc.file, *_mark(event), "",
                                        f"nested more than {MAX_DEPTH} levels deep"))
                    return
                value = {} if isinstance(event, yaml.MappingStartEvent) else []
            if nodes > MAX_NODES:
                issues.append(Issue(doc.file, *_mark(event), dotted(path),
                                    f"document expands to more than {MAX_NODES:,} values "
                                    "(aliases counted at every use)"))
                return

            if parent is None or not isinstance(parent.container, list) or \
                    len(parent.container) < MARKED_ITEMS:
                doc.values[path] = _mark(event)  # items past the cap point at their list
            if parent is None:
                doc.data = value
            elif isinstance(parent.container, dict):
                if "\x00dup" not in parent.pending_key:  # a repeated key's value is dropped
                    parent.container[parent.pending_key] = value
                doc.keys[path] = parent.key_mark or _mark(event)
                parent.pending_key = None
            else:
                parent.container.append(value)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append(_Frame(value, path, event.anchor, nodes - 1))
    finally:
        loader.dispose()
