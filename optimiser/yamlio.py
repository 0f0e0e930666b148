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

_CONSTANTS: dict[str, Any] = {**dict.fromkeys(_NULL), **dict.fromkeys(_TRUE, True),
                              **dict.fromkeys(_FALSE, False)}
_NOT_CONSTANT = object()
_NUMBER_START = frozenset("-+.0123456789")
"""First characters of every number the patterns below accept: other plain text is text."""
_STR_TAG = "tag:yaml.org,2002:str"
_Scalar, _Alias = yaml.ScalarEvent, yaml.AliasEvent
_MappingStart, _MappingEnd = yaml.MappingStartEvent, yaml.MappingEndEvent
_SequenceStart, _SequenceEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_DocumentStart, _StreamEnd = yaml.DocumentStartEvent, yaml.StreamEndEvent

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
    value = _CONSTANTS.get(text, _NOT_CONSTANT)
    if value is not _NOT_CONSTANT:
        return value
    if text[0] not in _NUMBER_START:
        return text
    if _INT.fullmatch(text):  # (every whole number also matches _FLOAT: test it first)
        return int(text.replace("_", ""), 10)
    if _FLOAT.fullmatch(text):
        return float(text.replace("_", ""))
    if _OCT.fullmatch(text):
        return int(text[2:].replace("_", ""), 8)
    if _HEX.fullmatch(text):
        return int(text[2:].replace("_", ""), 16)
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


def _path_of(cont: Any, cpath: Path, cmap: bool, ppath: Path) -> Path:
    """Path of the value about to be placed in ``cont`` (``()`` at the top)."""
    if cont is None:
        return ()
    return ppath if cmap else cpath + (len(cont),)


def _build(text: str, doc: Document, issues: list[Issue]) -> None:
    """Events -> values and marks, one loop with the open container's state in locals.

    Hot path per event: one ``type()`` test, one mark tuple, one path tuple (list items past
    :data:`MARKED_ITEMS` get none), and scalar resolution that skips the number patterns for
    text that cannot be a number and resolves each distinct number text once.
    """
    loader = _EventLoader(text)
    max_nodes, max_depth, marked_items = MAX_NODES, MAX_DEPTH, MARKED_ITEMS
    file, values, keys = doc.file, doc.values, doc.keys
    anchors: dict[str, tuple[Any, int]] = {}
    first_keys: dict[Path, tuple[int, int]] = {}
    resolved = dict(_CONSTANTS)  # plain scalar text -> value (numbers repeat: 1.0, 0, ...)
    # enclosing containers' state, saved when a mapping or sequence opens
    stack: list[tuple[Any, Path, bool, str | None, int]] = []
    # the open container: value, path, is-a-mapping, its anchor, values counted before it
    # opened; in a mapping, the key awaiting its value, that value's path, the key's mark, and
    # whether the value is kept (a repeated key's is not)
    cont: Any = None
    cpath: Path = ()
    cmap = False
    pending: str | None = None
    ppath: Path = ()
    kmark: tuple[int, int] = (0, 0)
    keep = True
    canchor: str | None = None
    cnodes0 = 0
    nodes = 0
    documents = 0
    dups = 0
    get_event = loader.get_event
    try:
        while True:
            event = get_event()
            cls = type(event)
            value: Any
            if cls is _Scalar:
                sm = event.start_mark
                mark = (sm.line + 1, sm.column + 1)
                tag = event.tag
                if cmap and pending is None:  # a key
                    key = event.value
                    kpath = cpath + (key,)
                    if tag is not None and tag != "!":
                        issues.append(Issue(file, *mark, dotted(kpath),
                                            f"YAML tag '{str(tag).replace('tag:yaml.org,2002:', '!!')}' "
                                            "is not allowed; write plain values"))
                    if kpath in first_keys:
                        issues.append(Issue(file, *mark, dotted(kpath),
                                            f"duplicate key '{key}' (first given at line "
                                            f"{first_keys[kpath][0]})"))
                        # the repeated value is read (for its own errors) under a path of its
                        # own, so its nested keys are not reported as duplicates too
                        dups += 1
                        key = f"{key}\x00dup{dups}"
                        kpath = cpath + (key,)
                    else:
                        first_keys[kpath] = mark
                    pending, ppath, kmark = key, kpath, mark
                    keep = "\x00dup" not in key  # a repeated key's value is dropped
                    continue
                if tag is None or tag == "!" or tag == _STR_TAG:
                    nodes += 1
                    text_ = event.value
                    if tag is None and not event.style:  # plain: resolve (quoted stays text)
                        value = resolved.get(text_, _NOT_CONSTANT)
                        if value is _NOT_CONSTANT:
                            if text_[0] in _NUMBER_START:
                                try:
                                    value = resolved[text_] = resolve_scalar(text_)
                                except ScalarError as exc:
                                    issues.append(Issue(file, *mark, dotted(
                                        _path_of(cont, cpath, cmap, ppath)), str(exc)))
                                    value = None
                            else:
                                value = text_
                    else:
                        value = text_
                    if event.anchor is not None:
                        anchors[event.anchor] = (value, 1)
                else:
                    issues.append(Issue(file, *mark, dotted(_path_of(cont, cpath, cmap, ppath)),
                                        f"YAML tag '{str(tag).replace('tag:yaml.org,2002:', '!!')}' "
                                        "is not allowed; write plain values"))
                    value = None
            elif cls is _MappingEnd or cls is _SequenceEnd:
                if canchor is not None:
                    anchors[canchor] = (cont, nodes - cnodes0)
                cont, cpath, cmap, canchor, cnodes0 = stack.pop()
                continue
            elif cls is _MappingStart or cls is _SequenceStart or cls is _Alias:
                sm = event.start_mark
                mark = (sm.line + 1, sm.column + 1)
                if cmap and pending is None:
                    issues.append(Issue(file, *mark, dotted(cpath), "mapping keys must be plain names"))
                    return
                if cls is _Alias:
                    if event.anchor not in anchors:
                        issues.append(Issue(file, *mark, dotted(_path_of(cont, cpath, cmap, ppath)),
                                            f"unknown alias '*{event.anchor}'"))
                        value = None
                    else:
                        value, size = anchors[event.anchor]
                        nodes += size
                else:
                    tag = event.tag
                    if tag is not None and tag != "!":
                        issues.append(Issue(file, *mark, dotted(_path_of(cont, cpath, cmap, ppath)),
                                            f"YAML tag '{str(tag).replace('tag:yaml.org,2002:', '!!')}' "
                                            "is not allowed; write plain values"))
                    nodes += 1
                    if len(stack) >= max_depth:
                        issues.append(Issue(file, *mark, "", f"nested more than {max_depth} levels deep"))
                        return
                    value = {} if cls is _MappingStart else []
            elif event is None or cls is _StreamEnd:
                break
            elif cls is _DocumentStart:
                documents += 1
                if documents > 1:
                    sm = event.start_mark
                    issues.append(Issue(file, sm.line + 1, sm.column + 1, "",
                                        "more than one YAML document in the file"))
                    return
                continue
            else:  # stream start, document end
                continue

            # place the value: scalar, alias, or a container just opened
            if nodes > max_nodes:
                issues.append(Issue(file, *mark, dotted(_path_of(cont, cpath, cmap, ppath)),
                                    f"document expands to more than {max_nodes:,} values "
                                    "(aliases counted at every use)"))
                return
            if cmap:
                path = ppath
                values[path] = mark
                if keep:
                    cont[pending] = value
                keys[path] = kmark
                pending = None
            elif cont is None:
                path = ()
                values[path] = mark
                doc.data = value
            else:
                n = len(cont)
                if n < marked_items:  # items past the cap point at their list
                    path = cpath + (n,)
                    values[path] = mark
                elif cls is _MappingStart or cls is _SequenceStart:
                    path = cpath + (n,)
                cont.append(value)
            if cls is _MappingStart or cls is _SequenceStart:
                stack.append((cont, cpath, cmap, canchor, cnodes0))
                cont, cpath, cmap = value, path, cls is _MappingStart
                canchor, cnodes0 = event.anchor, nodes - 1
    finally:
        loader.dispose()
