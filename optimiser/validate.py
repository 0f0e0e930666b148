"""Validate parsed YAML against the schema and turn pydantic errors into located issues.

pydantic reports ``loc`` tuples that include union tags (``buy``, ``range``) and ``[key]``
markers; here each is mapped back to the real key path in the document so the message can
carry ``FILE:LINE:COL`` and a dotted path the user wrote, plus ``did you mean`` hints.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import Issue
from .yamlio import Document, Path

M = TypeVar("M", bound=BaseModel)


def suggest(name: str, choices: typing.Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, else ``""``."""
    close = difflib.get_close_matches(str(name), sorted(set(map(str, choices))), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def validate(model: type[M], doc: Document, root: Path = ()) -> tuple[M | None, list[Issue]]:
    """``model.model_validate`` of the document's value at ``root``, with located issues."""
    data = doc.data
    for p in root:
        data = data[p]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors = _one_branch_per_union(data, exc.errors())
        issues = [_issue(model, doc, data, root, err) for err in errors]
        return None, list(dict.fromkeys(issues))


def _tag_at(data: Any, err: dict) -> int | None:
    """Position in ``err["loc"]`` of its first union-member tag (a part that names no key
    or index of the data), or None."""
    loc = tuple(err["loc"])
    last = len(loc) - 1 if err["type"] == "missing" else len(loc)  # a missing key is a key
    node = data
    for i, part in enumerate(loc[:last]):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str):
            return i
        else:
            return None
    return None


def _one_branch_per_union(data: Any, errors: list[dict]) -> list[dict]:
    """The errors of one member of each undiscriminated union (``budget: NonNeg |
    list[NonNeg]``), not one of each: pydantic tries every member and reports every
    failure, which reads as noise ("expected a number" and "expected a list" for one
    value). The member kept is the one shaped like the value: the list member for a list,
    another for anything else."""
    branches: dict[tuple, set] = {}
    tags: list[tuple[tuple, Any] | None] = []
    for err in errors:
        i = _tag_at(data, err)
        if i is None:
            tags.append(None)
            continue
        prefix = tuple(err["loc"][:i])
        branches.setdefault(prefix, set()).add(err["loc"][i])
        tags.append((prefix, err["loc"][i]))
    keep: dict[tuple, set] = {}
    for prefix, names in branches.items():
        if len(names) < 2:
            continue
        value = _value_at(data, _data_path(data, prefix))
        lists = {n for n in names if str(n).startswith("list[")}
        chosen = lists if isinstance(value, list) else names - lists
        keep[prefix] = chosen or names
    return [err for err, tag in zip(errors, tags)
            if tag is None or tag[0] not in keep or tag[1] in keep[tag[0]]]


def _issue(model: type[BaseModel], doc: Document, data: Any, root: Path, err: dict) -> Issue:
    loc = tuple(err["loc"])
    path = _data_path(data, loc)
    full = root + path
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        key = path[-1] if path else loc[-1]
        owner = _model_at(model, loc[:-1])
        msg = f"unknown key '{key}'"
        if owner is not None:
            msg += _other_mode_hint(owner, str(key)) or suggest(str(key), owner.model_fields)
        return doc.issue(full, msg, key=True)
    if kind == "mode":
        node = _value_at(data, path)
        if not isinstance(node, dict):
            return doc.issue(full, f"expected a mapping of keys to values, got {_describe(node)}")
        mode = node.get("mode")
        if mode is None:
            return doc.issue(full, "missing required key 'mode' (buy or make)")
        return doc.issue(full + ("mode",), f"mode must be 'buy' or 'make', got {_describe(mode)}"
                         + suggest(str(mode), ("buy", "make")))
    if kind == "missing":
        return doc.issue(full, f"missing required key '{loc[-1]}'")
    # a bad mapping key (pydantic's '[key]') is located at the key, not its value
    return doc.issue(full, _message(kind, err, value), key="[key]" in loc)


def _message(kind: str, err: dict, value: Any) -> str:
    ctx = err.get("ctx") or {}
    if kind in ("int_type", "int_from_float", "int_parsing") and isinstance(value, float):
        return f"expected a whole number, got {value:g}"
    if kind in ("float_type", "int_type", "int_from_float", "float_parsing", "int_parsing"):
        return f"expected a number, got {_describe(value)}"
    if kind == "bool_type":
        return f"expected true or false, got {_describe(value)}"
    if kind in ("string_type",):
        return f"expected text, got {_describe(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys to values, got {_describe(value)}"
    if kind == "list_type":
        return f"expected a list, got {_describe(value)}"
    if kind == "finite_number":
        return f"must be a finite number, got {value}"
    if kind == "greater_than_equal":
        return f"must be >= {_num(ctx.get('ge'))}, got {value}"
    if kind == "greater_than":
        return f"must be > {_num(ctx.get('gt'))}, got {value}"
    if kind == "less_than_equal":
        return f"must be <= {_num(ctx.get('le'))}, got {value}"
    if kind == "less_than":
        return f"must be < {_num(ctx.get('lt'))}, got {value}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if r"\." in pattern and "default" in pattern:
            return (f"'{value}' is neither 'default' nor an activity key (pathway.step)"
                    + ("" if "." in str(value) else suggest(str(value), ["default"])))
        if r"\." in pattern:
            return f"'{value}' is not an activity key (pathway.step, e.g. copd.spirometry)"
        if "A-Z" in pattern:
            return f"'{value}' is not a three-letter currency code such as GBP"
        return (f"'{value}' is not a valid name: use lower-case letters, digits and _, "
                "starting with a letter")
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        choices = [c.strip(" '") for c in str(expected).replace(" or ", ",").split(",")]
        return f"must be {expected}, got {_describe(value)}" + suggest(str(value), choices)
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    return str(err["msg"])


def _num(x: Any) -> str:
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text '{value}'"
    return repr(value)


def _value_at(data: Any, path: Path) -> Any:
    for p in path:
        data = data[p]
    return data


def _data_path(data: Any, loc: tuple) -> Path:
    """The part of ``loc`` that names real keys and indexes in ``data`` (tags dropped)."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
    return tuple(out)


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that the pydantic ``loc`` points into, following the type hints."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp, part)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                continue  # a union tag consumed by _unwrap
            tp = field.annotation
        else:
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if origin is dict:
                tp = args[1]
            elif origin is list:
                tp = args[0]
            else:
                return None
    tp = _unwrap(tp, None)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: Any, tag: Any) -> Any:
    """Strip ``Annotated`` and pick the union member named by ``tag`` (or the non-None one)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            members = typing.get_args(tp)
            chosen = None
            for m in members:
                meta = getattr(m, "__metadata__", ())
                if any(getattr(x, "tag", None) == tag for x in meta):
                    chosen = m
            if chosen is None:
                models = [m for m in members if _unwrap(m, None) is not type(None)]
                chosen = models[0] if len(models) == 1 else None
            if chosen is None:
                return tp
            tp = chosen
            continue
        return tp


def _other_mode_hint(owner: type[BaseModel], key: str) -> str:
    from .schema import BuyProvider, MakeProvider

    for this, other, mode in ((BuyProvider, MakeProvider, "make"), (MakeProvider, BuyProvider, "buy")):
        if owner is this and key in other.model_fields:
            return f"; '{key}' belongs to {mode} providers, and this one has mode: {this.model_fields['mode'].annotation.__args__[0]}"
    return ""
