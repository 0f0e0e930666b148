"""``--set KEY=VALUE``: change one config value by its dotted path, before validation.

The value is read as YAML (``--set solve.mode=lp``, ``--set constraints.budget=8_000_000``,
``--set localities.north.prevalence_per_1000={copd: 21}``) with the same scalar rules as the
file. Keys may themselves contain dots (activity keys such as ``copd.spirometry``); the
longest existing key wins. A path may create a key the schema knows (``constraints.budget``
when the file sets no budget) or a new entry in a map keyed by activity, but never a new
locality, provider or resource: a misspelt path is an error naming the nearest key, not a
silent new entry.
"""

from __future__ import annotations

from typing import Any

from .errors import ConfigError, Issue
from .validate import _model_at, _other_mode_hint, suggest
from .yamlio import Document, Path, parse_text

#: Maps whose keys are activity keys (``pathway.step``): a new entry may be created.
ACTIVITY_MAPS = {"prices", "costs", "quality", "current_share", "uses"}
#: Maps whose keys name things declared elsewhere in the file: never created by --set.
NAMED_MAPS = {"localities": "locality", "providers": "provider", "resources": "resource"}


def apply(doc: Document, overrides: list[str] | tuple[str, ...]) -> list[Issue]:
    """Apply each override to ``doc.data`` in order; return the problems found."""
    issues: list[Issue] = []
    for text in overrides:
        issue = _apply_one(doc, text)
        if issue is not None:
            issues.append(issue)
    return issues


def _apply_one(doc: Document, text: str) -> Issue | None:
    where = f"--set {text}"
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        return Issue(where, 0, 0, "", "expected KEY=VALUE, e.g. constraints.budget=8000000")
    try:
        value = parse_text(raw, where).data if raw.strip() else None
    except ConfigError as exc:
        return Issue(where, 0, 0, key, exc.issues[0].message)
    if not isinstance(doc.data, dict):
        return Issue(where, 0, 0, key, "the config is not a mapping")
    segs = key.split(".")
    node: Any = doc.data
    path: Path = ()
    i = 0
    while True:
        if isinstance(node, list):
            if not segs[i].isdigit() or int(segs[i]) >= len(node):
                return Issue(where, 0, 0, key, f"'{segs[i]}' is not an index of the list at "
                             f"'{'.'.join(map(str, path))}' (0 to {len(node) - 1})")
            idx = int(segs[i])
            if i + 1 == len(segs):
                node[idx] = value
                doc.origin[path + (idx,)] = where
                return None
            path, node, i = path + (idx,), _own(node, idx), i + 1
            continue
        if not isinstance(node, dict):
            return Issue(where, 0, 0, key, f"'{'.'.join(map(str, path))}' is a value, not a "
                         "mapping, so it has no key "
                         f"'{segs[i]}'")
        j = next((j for j in range(len(segs), i, -1) if ".".join(segs[i:j]) in node), None)
        if j is None:
            rest = segs[i:]
            parent = path[-1] if path else None
            fields = _fields_at(doc, path)
            if fields is not None and rest[0] in fields and len(rest) > 1:
                node[rest[0]] = {}
                path, node, i = path + (rest[0],), node[rest[0]], i + 1
                continue
            leaf_ok = (fields is not None and len(rest) == 1 and rest[0] in fields) or (
                parent in ACTIVITY_MAPS
            ) or (fields is None and parent not in NAMED_MAPS and len(rest) == 1)
            if not leaf_ok:
                what = NAMED_MAPS.get(str(parent), "key")
                choices = list(node) + (list(fields) if fields else [])
                hint = _provider_hint(doc, path, rest[0]) or suggest(rest[0], choices)
                return Issue(where, 0, 0, key, f"no {what} '{rest[0]}' at "
                             f"'{'.'.join(map(str, path)) or '(top level)'}'" + hint)
            j = len(segs)
        name = ".".join(segs[i:j])
        if j == len(segs):
            node[name] = value
            doc.origin[path + (name,)] = where
            return None
        path, node, i = path + (name,), _own(node, name), j


def _own(node: Any, key: Any) -> Any:
    """``node[key]``, copied in place first when it is a mapping or list: a YAML alias
    (``b: *x``) shares its anchor's object, and an override of ``a.q`` must not change
    ``b.q`` too."""
    child = node[key]
    if isinstance(child, (dict, list)):
        child = child.copy()
        node[key] = child
    return child


def _provider_model(doc: Document, path: Path):
    from .schema import BuyProvider, MakeProvider

    if len(path) != 2 or path[0] != "providers" or not isinstance(doc.data["providers"][path[1]], dict):
        return None
    mode = doc.data["providers"][path[1]].get("mode")
    return {"buy": BuyProvider, "make": MakeProvider}.get(mode) if isinstance(mode, str) else None


def _provider_hint(doc: Document, path: Path, key: str) -> str:
    """"'fixed_cost' belongs to make providers ..." for a key of the other mode."""
    model = _provider_model(doc, path)
    return _other_mode_hint(model, key) if model is not None else ""


def _fields_at(doc: Document, path: Path) -> set[str] | None:
    """Field names of the schema model at ``path`` (providers by their ``mode``), or None."""
    from .schema import ScenarioConfig

    if len(path) == 2 and path[0] == "providers":
        model = _provider_model(doc, path)
        return set(model.model_fields) if model else None
    model = _model_at(ScenarioConfig, path)
    return set(model.model_fields) if model is not None else None
