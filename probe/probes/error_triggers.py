"""The errors probe's malformed requests, planned from an endpoint without sending anything.

Each trigger changes one thing in the endpoint's own request, so an error in the answer points
at that change; the probe sends every trigger twice, once per Accept header.

What a trigger may send: the endpoint's own method, GET (the unknown path below it) or the
invented method PRBX, which no server maps to an action. No trigger turns a read into a write.
DELETE endpoints get no trigger at all: the engine's baseline has already sent their request
once, and a replay with a mangled id or an unknown method routed to the same handler could
delete again. PUT, PATCH and POST endpoints are replayed with broken bodies (cut-off JSON, a
word for a number), which are rejected before anything is written, and with an 8 KiB or
special-character value in one field, which a lax server may store as it stores the baseline.
Endpoints tagged `login` get only the unknown path, broken JSON and the invented method: a
login body with one field changed is a failed login for its real user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from probe.scenario.models import Endpoint

ACCEPTS = (("json", "application/json"), ("html", "text/html"))
LONG_VALUE_BYTES = 8192
# No `>`: in a value that reaches a shell with its quotes stripped, it would create a file.
SPECIAL_CHARS = "'\"<{}\x00"
UNSUPPORTED_METHOD = "PRBX"
NO_REPLAY_METHODS = frozenset({"DELETE"})
#: Endpoints with this tag get no trigger that changes a field of their body.
LOGIN_TAG = "login"
_NUMBER = re.compile(r"-?\d{1,30}(?:\.\d{1,30})?")
_JSON_TYPES = ("json",)


@dataclass(frozen=True)
class Trigger:
    """One malformed request for an endpoint, before the Accept header is chosen.

    Attributes:
        name: Trigger id, also the exchange's purpose prefix.
        method: HTTP method.
        path: Path joined to base_url, rendered and quoted; None keeps the endpoint's own.
        query: The whole query; None keeps the endpoint's own.
        content: The body; None keeps the endpoint's own body unless `drop_body`.
        content_type: Content-Type of `content`.
        drop_body: Send no body at all.
    """

    name: str
    method: str
    path: str | None = None
    query: Mapping[str, Any] | None = None
    content: bytes | None = None
    content_type: str | None = None
    drop_body: bool = False


def render_path(endpoint: Endpoint, values: Mapping[str, str] | None = None) -> str:
    """The endpoint's path with placeholders filled (and `values` overriding), quoted."""
    path = endpoint.path
    for name, value in {**endpoint.path_params, **(values or {})}.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def takes_json(endpoint: Endpoint) -> bool:
    """True when the endpoint sends JSON, or writes (POST/PUT/PATCH) without another body."""
    if endpoint.json_body is not None:
        return True
    declared = (endpoint.content_type or "") + " ".join(
        v for k, v in endpoint.headers.items() if k.lower() == "content-type"
    )
    if any(t in declared.lower() for t in _JSON_TYPES):
        return True
    no_body = endpoint.form is None and endpoint.body is None
    return endpoint.method in ("POST", "PUT", "PATCH") and no_body


def looks_numeric(value: Any) -> bool:
    """True for JSON numbers and strings that spell a number (booleans are not numbers)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_NUMBER.fullmatch(value))


def swap_numbers(data: Any, word: str) -> tuple[Any, int]:
    """A copy of a JSON value with every numeric leaf replaced by `word`, and the count."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        total = 0
        for key, item in data.items():
            out[key], count = swap_numbers(item, word)
            total += count
        return out, total
    if isinstance(data, list):
        pairs = [swap_numbers(item, word) for item in data]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    return (word, 1) if looks_numeric(data) else (data, 0)


def swap_first_leaf(data: Any, value: str) -> tuple[Any, bool]:
    """A copy of a JSON value with its first scalar leaf replaced by `value`."""
    if isinstance(data, dict):
        out = dict(data)
        for key, item in data.items():
            out[key], done = swap_first_leaf(item, value)
            if done:
                return out, True
        return data, False
    if isinstance(data, list):
        for index, item in enumerate(data):
            new, done = swap_first_leaf(item, value)
            if done:
                return [*data[:index], new, *data[index + 1 :]], True
        return data, False
    return value, True


def _json_content(data: Any) -> tuple[bytes, str]:
    return json.dumps(data).encode(), "application/json"


def _value_trigger(name: str, endpoint: Endpoint, value: str, marker: str) -> Trigger:
    """A trigger carrying `value` in the endpoint's first parameter."""
    method = endpoint.method
    if endpoint.query:
        first = next(iter(endpoint.query))
        return Trigger(name, method, query={**endpoint.query, first: value})
    if isinstance(endpoint.json_body, dict | list):
        data, done = swap_first_leaf(endpoint.json_body, value)
        if done:
            content, content_type = _json_content(data)
            return Trigger(name, method, content=content, content_type=content_type)
    if endpoint.path_params:
        first = next(iter(endpoint.path_params))
        return Trigger(name, method, path=render_path(endpoint, {first: value}))
    if endpoint.form:
        form = {**endpoint.form, next(iter(endpoint.form)): value}
        content = urlencode(form).encode()
        return Trigger(
            name, method, content=content, content_type="application/x-www-form-urlencoded"
        )
    return Trigger(name, method, query={marker: value})


def _type_confusion(endpoint: Endpoint, word: str) -> Trigger | None:
    params = {k: (word if looks_numeric(v) else v) for k, v in endpoint.path_params.items()}
    query = {k: (word if looks_numeric(v) else v) for k, v in endpoint.query.items()}
    changed = sum(params[k] != v for k, v in endpoint.path_params.items())
    changed += sum(query[k] != v for k, v in endpoint.query.items())
    content = content_type = None
    if endpoint.json_body is not None:
        data, count = swap_numbers(endpoint.json_body, word)
        if count:
            changed += count
            content, content_type = _json_content(data)
    if not changed:
        return None
    path = render_path(endpoint, params)
    return Trigger(
        "type-confusion", endpoint.method, path, query, content=content, content_type=content_type
    )


def replay_refusal(endpoint: Endpoint) -> str | None:
    """Why no malformed request may be sent to the endpoint, or None when they may."""
    if endpoint.method in NO_REPLAY_METHODS:
        return (
            f"{endpoint.method} endpoint: no malformed request is sent, since a replay could "
            "delete data again; only the baseline answer is read"
        )
    return None


def plan_triggers(endpoint: Endpoint, marker: str) -> list[Trigger]:
    """The malformed requests for one endpoint (each is sent once per Accept header); none
    for endpoints in NO_REPLAY_METHODS."""
    if replay_refusal(endpoint) is not None:
        return []
    unknown = render_path(endpoint).rstrip("/") + f"/{marker}-missing"
    triggers = [Trigger("unknown-path", "GET", unknown, {}, drop_body=True)]
    if takes_json(endpoint):
        broken = ('{"' + marker + '": [1, 2,').encode()
        triggers.append(
            Trigger(
                "malformed-json", endpoint.method, content=broken, content_type="application/json"
            )
        )
    if LOGIN_TAG in endpoint.tags:
        # A changed field of a login body is a failed login for its real user: accounts that
        # lock after a few failures must not lose attempts to error triggers.
        triggers.append(Trigger("unsupported-method", UNSUPPORTED_METHOD, drop_body=True))
        return triggers
    confusion = _type_confusion(endpoint, marker)
    if confusion is not None:
        triggers.append(confusion)
    long_value = (marker + "A" * LONG_VALUE_BYTES)[:LONG_VALUE_BYTES]
    triggers.append(_value_trigger("long-value", endpoint, long_value, marker))
    triggers.append(_value_trigger("special-chars", endpoint, marker + SPECIAL_CHARS, marker))
    triggers.append(Trigger("unsupported-method", UNSUPPORTED_METHOD, drop_body=True))
    return triggers


def target_roots(base_url: str) -> list[str]:
    """base_url, and the host root when base_url has a path."""
    parts = urlsplit(base_url)
    root = f"{parts.scheme}://{parts.netloc}"
    return [base_url] if base_url.rstrip("/") == root else [base_url.rstrip("/"), root]
