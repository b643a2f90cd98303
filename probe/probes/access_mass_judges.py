"""Pure judges of the access probe's mass-assignment check: where the privilege fields go in the
request body, and whether the object read back holds them.

- Where they go (`field_home`): where the body's own fields are. A body whose fields sit in a
  wrapper object (`{"data": {...}}`, `{"user": {...}}`, or a body whose only key holds an
  object) gets the fields inside the wrapper; a JSON:API body (`{"data": {"type": ...,
  "attributes": {...}}}`) inside its `attributes`. Any other body gets them at its top level.
  The wrapper names are those the read-back judge knows.
- Where they count (`holds`): at the top level of the object read back, or inside one wrapper
  object (the same names, or the answer's only key when it holds an object), and such a
  wrapper's `attributes`; never under other nested objects (`metadata`, `preferences`,
  `settings`: bags of client data the server does not act on).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from probe.exchange import ResponseRecord

#: Wrapper objects whose fields are the object's own.
WRAPPERS = frozenset({"data", "user", "item", "result", "profile", "account"})
# Nested objects that hold client data the server does not act on, whatever their place.
_INERT = frozenset(
    {
        "metadata",
        "meta",
        "preferences",
        "prefs",
        "settings",
        "options",
        "attributes",
        "annotations",
        "labels",
        "tags",
        "extra",
        "extras",
        "custom",
        "customfields",
        "properties",
        "props",
        "context",
        "config",
    }
)
# The keys of a JSON:API resource object beside its `attributes`.
_RESOURCE_KEYS = frozenset({"type", "id", "lid", "relationships", "meta", "links"})


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _same_value(a: Any, b: Any) -> bool:
    # JSON true is not 1: compare types as well as values.
    return type(a) is type(b) and a == b


# -- where the fields go ----------------------------------------------------------------------


def _attributes(wrapper: Mapping[str, Any]) -> tuple[str, ...]:
    """("attributes",) when the wrapper is a JSON:API resource object, else ()."""
    if not isinstance(wrapper.get("attributes"), dict):
        return ()
    others = {_norm(str(k)) for k in wrapper if k != "attributes"}
    return ("attributes",) if others <= _RESOURCE_KEYS else ()


def field_home(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys leading to the object that holds the body's own fields: () for the top level,
    ("data",) for a wrapper, ("data", "attributes") for JSON:API (see the module docstring).

    A wrapper is the body's only key holding an object (not a bag such as `metadata`), or the
    one key of `WRAPPERS` holding an object beside no field of its own (no text, number or
    boolean at the top level)."""
    wrappers = [
        str(k)
        for k, v in body.items()
        if isinstance(v, dict) and (len(body) == 1 or _norm(str(k)) in WRAPPERS)
    ]
    if len(wrappers) != 1 or _norm(wrappers[0]) in _INERT:
        return ()
    if len(body) > 1 and any(not isinstance(v, dict | list) for v in body.values()):
        return ()  # the body has fields of its own at the top level
    key = wrappers[0]
    return (key, *_attributes(body[key]))


def with_privilege_fields(body: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the body with `fields` added where its own fields are (`field_home`)."""
    out = copy.deepcopy(dict(body))
    node = out
    for key in field_home(body):
        node = node[key]
    node.update(copy.deepcopy(dict(fields)))
    return out


def where(home: Sequence[str]) -> str:
    """Words for a detail on where the fields went."""
    return "at the top level" if not home else f"inside {'.'.join(home)}"


def misplaced_fields(fields: Mapping[str, Any], home: Sequence[str]) -> list[str]:
    """The field names that try to place a field themselves: a name holding a dot (it would
    be sent as a literal key, never as a path), or the name of a wrapper on the way to where
    the fields go (`data` for a `{"data": {...}}` body: the fields already go inside it)."""
    wrappers = {_norm(key) for key in home}
    return [key for key in fields if "." in key or _norm(key) in wrappers]


# -- where they count -------------------------------------------------------------------------


def _privilege_objects(data: Any) -> list[dict[str, Any]]:
    """The objects where a privilege field describes the object read back: the object (each
    object of a top-level list), and one wrapper object inside it (see the module docstring);
    a wrapper's `attributes` too (JSON:API keeps fields there)."""
    roots = [data] if isinstance(data, dict) else []
    if isinstance(data, list):
        roots = [item for item in data[:1000] if isinstance(item, dict)]
    out: list[dict[str, Any]] = []
    for root in roots:
        out.append(root)
        only = len(root) == 1
        for key, item in root.items():
            name = _norm(str(key))
            if not isinstance(item, dict) or name in _INERT:
                continue
            if name in WRAPPERS or only:
                out.append(item)
                attributes = item.get("attributes")
                if isinstance(attributes, dict):
                    out.append(attributes)
    return out


def holds_object(data: Any) -> bool:
    """True when a read-back holds an object to read fields from (an object, or a list with
    one); a list of numbers or a bare value holds none."""
    return bool(_privilege_objects(data))


def holds(data: Any, key: str, value: Any) -> bool:
    """True when `data` (parsed JSON) has `key` (compared without case or separators:
    is_admin, isAdmin) holding exactly `value` where a privilege field counts: at the top
    level or in one wrapper object."""
    return any(
        _norm(str(name)) == _norm(key) and _same_value(item, value)
        for found in _privilege_objects(data)
        for name, item in found.items()
    )


def parse_json(answer: ResponseRecord) -> Any:
    """The answer's JSON, or None when it is not JSON."""
    try:
        return json.loads(answer.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


@dataclass(frozen=True)
class MassVerdict:
    """What the read-backs say about the privilege fields sent.

    Attributes:
        stored: Fields the read-back holds at the sent value, and did not before.
        already: Fields already at the sent value before the write (inconclusive).
        echoed: Fields the write answer echoed but the read-back does not hold.
    """

    stored: tuple[str, ...]
    already: tuple[str, ...]
    echoed: tuple[str, ...]


def judge_mass_assignment(
    fields: Mapping[str, Any], before: Any, written: Any, after: Any
) -> MassVerdict:
    """Compare the read-backs before and after a write carrying `fields` (all parsed JSON;
    `written` is the write's own answer, None when it is not JSON)."""
    stored: list[str] = []
    already: list[str] = []
    echoed: list[str] = []
    for key, value in fields.items():
        if holds(before, key, value):
            already.append(key)
        elif holds(after, key, value):
            stored.append(key)
        elif holds(written, key, value):
            echoed.append(key)
    return MassVerdict(tuple(stored), tuple(already), tuple(echoed))


def shown(fields: Mapping[str, Any], keys: Sequence[str]) -> str:
    """`key=value` pairs for a detail, values as JSON."""
    return ", ".join(f"{k}={json.dumps(fields[k])}" for k in keys)
