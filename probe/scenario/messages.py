"""How the scenario loader words a problem: one line, the key path dotted, values shown short.

Shared by `source` (reading and converting the file) and `loader` (validation). Also finds the
valid keys at a path by following the models' field annotations, so that an unknown key can be
answered with the nearest valid one.
"""

from __future__ import annotations

import difflib
import re
import types
from typing import Annotated, Any, NoReturn, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from probe.errors import InvalidScenario, ScenarioError
from probe.scenario.models import PROBE_IDS, Loc, Scenario

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}

_BOUNDS = {
    "greater_than": "greater than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}


def fail(file: str, line: int | None, message: str) -> NoReturn:
    """Stop loading with one problem at `file:line` (or at `file` alone when `line` is None)."""
    raise InvalidScenario([ScenarioError(one_line(message), file=file, line=line)])


def one_line(message: str) -> str:
    """`message` stripped, with control characters (newlines too) written as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], message.strip())


def by_line(problem: ScenarioError) -> tuple[int, bool]:
    """Sort key for problems: by line, and on one line "x is required" last."""
    # On one line, "x is required" is the least telling message (often caused by the others).
    return problem.line or 0, problem.message.endswith(" is required")


def dotted(path: Loc) -> str:
    """A key path as the user would write it: `endpoints[0].path`, `headers['X Y']`."""
    if len(path) > 12:
        return f"{dotted(path[:6])}...{dotted(path[-3:])}"
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_\-]+", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def show(value: Any) -> str:
    """A value as YAML would spell it, cut to 60 characters; containers by their kind only."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def joined(path: Loc, text: str) -> str:
    """Glue a model's message to the dotted path: `x.path must ...` or `x: message`."""
    last = path[-1] if path else None
    if isinstance(last, str) and text.startswith(f"{last} "):
        return text[len(last) :]
    return f": {text}" if path else text


def expected(error: ErrorDetails) -> str | None:
    """What the value at a pydantic error should have been, in words; None if unknown."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "literal_error":
        return re.sub(r"\b(True|False)\b", lambda m: m.group(0).lower(), str(ctx["expected"]))
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return f"{_BOUNDS[kind]} {bound}"
    if kind == "string_too_short":
        return f"at least {ctx.get('min_length')} characters long"
    if kind == "too_long":
        return f"a list of at most {ctx.get('max_length')} items"
    return None


def either(options: list[str]) -> str:
    """Several `expected` texts as one: `a string, an integer or a list`, without repeats."""
    parts: list[str] = []
    for option in options:
        for part in re.split(r", | or ", option):
            if part not in parts:
                parts.append(part)
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else parts[0]


def nearest_key(path: Loc) -> str | None:
    """The valid key closest in spelling to the last part of `path`, if one is close enough."""
    key = str(path[-1])
    valid = _valid_keys(path[:-1])
    by_lower = {name.lower(): name for name in valid}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def unknown_key_message(path: Loc, nearest: str | None) -> str:
    """`unknown key 'x' in y`, with the nearest key to suggest or else the valid ones."""
    parent = path[:-1]
    kind = "probe" if parent == ("probes",) else "key"
    where = dotted(parent) or "the top level"
    message = f"unknown {kind} {str(path[-1])!r} in {where}"
    if nearest:
        return f"{message}; did you mean {nearest!r}?"
    valid = list(PROBE_IDS) if kind == "probe" else _valid_keys(parent)
    return f"{message} (valid: {', '.join(valid)})" if valid else message


def _valid_keys(parent: Loc) -> list[str]:
    model = _model_at(parent)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(path: Loc) -> type[BaseModel] | None:
    """The model that validates the mapping at `path`, by following field annotations."""
    current: Any = Scenario
    for part in path:
        current = _step(current, part)
        if current is None:
            return None
    return next((m for m in _members(current) if _is_model(m)), None)


def _step(annotation: Any, part: str | int) -> Any:
    for member in _members(annotation):
        if _is_model(member) and isinstance(part, str):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        origin = get_origin(member)
        if origin is dict and isinstance(part, str):
            return get_args(member)[1]
        if origin is list and isinstance(part, int):
            return get_args(member)[0]
    return None


def _members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _members(arg)]
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    return [annotation]


def _is_model(member: Any) -> bool:
    return get_origin(member) is None and isinstance(member, type) and issubclass(member, BaseModel)
