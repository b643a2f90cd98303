"""Where the injection probe puts a payload, and the request that carries it there.

A point is one parameter an endpoint names in `inject` (`all`: every parameter it defines): a
path parameter, a query parameter, a JSON field (nested, by dotted name), a form field or a
header. `with_value` builds the endpoint's request with one point's value replaced and the rest
as the scenario describes it. Paths and query strings are sent raw (`RequestSpec.raw`): an HTTP
client would resolve `../` and re-encode characters, so the payload would not be what the
server reads. Values are percent-encoded only where the URL's syntax needs it (space, `#`, `?`,
`%`, and `&`, `=`, `+` in a query); a `wire` value is put in exactly as given (an encoded
traversal such as `..%2f`).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote, urlencode

from probe.exchange import RequestSpec
from probe.probes.base import ProbeContext
from probe.scenario.models import Endpoint

PointKind = Literal["path", "query", "json", "form", "header"]

_KIND_NAMES = {
    "path": "path parameter",
    "query": "query parameter",
    "json": "JSON field",
    "form": "form field",
    "header": "header",
}
# Left as they are in a raw path segment or query value; everything else is percent-encoded.
_PATH_SAFE = "/.-_~!$&'()*+,;=:@[]{}<>\"|^`\\"
_QUERY_SAFE = "/.-_~!$'()*,;:@[]{}<>\"|^`\\"
_KEY_SAFE = "[]$"


@dataclass(frozen=True)
class Point:
    """One parameter the injection probe may change.

    Attributes:
        kind: Where the parameter is: path, query, json, form or header.
        name: Its name as `inject` gives it (dotted for nested JSON fields).
        original: The scenario's value for it.
    """

    kind: PointKind
    name: str
    original: Any

    @property
    def label(self) -> str:
        """How a report names it: "query parameter `id`"."""
        return f"{_KIND_NAMES[self.kind]} `{self.name}`"

    @property
    def text(self) -> str:
        """The original value as text (a JSON value as its JSON)."""
        if isinstance(self.original, str):
            return self.original
        if isinstance(self.original, list) and self.original:
            return str(self.original[0])
        return json.dumps(self.original)


def points(endpoint: Endpoint) -> list[Point]:
    """The endpoint's injection points, in the order `inject` names them."""
    names = endpoint.parameter_names() if endpoint.inject == "all" else endpoint.inject
    found: list[Point] = []
    for name in dict.fromkeys(names):
        if name in endpoint.path_params:
            found.append(Point("path", name, endpoint.path_params[name]))
        if name in endpoint.query:
            found.append(Point("query", name, endpoint.query[name]))
        if isinstance(endpoint.json_body, dict) and _has_field(endpoint.json_body, name):
            value = _get_field(endpoint.json_body, name)
            # `all` means the values: an object's own fields are points of their own.
            if not (endpoint.inject == "all" and isinstance(value, dict)):
                found.append(Point("json", name, value))
        if endpoint.form and name in endpoint.form:
            found.append(Point("form", name, endpoint.form[name]))
        if name in endpoint.headers:
            found.append(Point("header", name, endpoint.headers[name]))
    return found


def with_value(
    ctx: ProbeContext,
    endpoint: Endpoint,
    point: Point,
    value: Any,
    *,
    wire: bool = False,
    suffix: str = "",
) -> RequestSpec | None:
    """The endpoint's request with `value` at `point`; None when it cannot travel there.

    `value` is text, or for a JSON field any JSON value (an operator object). `suffix` is
    added to a query or form parameter's name (`[$ne]`); `wire` puts a path or query value
    in exactly as given. A header value with a line break or a non-Latin-1 character cannot
    be sent, nor can a non-text value anywhere but in JSON.
    """
    if point.kind == "json":
        return _json_request(ctx, endpoint, point, value)
    if not isinstance(value, str):
        return None
    if point.kind == "header":
        if suffix or any(ord(c) < 0x20 or ord(c) == 0x7F or ord(c) > 0xFF for c in value):
            return None
        return ctx.endpoint_request(endpoint).with_headers((point.name, value))
    if point.kind == "form":
        return _form_request(ctx, endpoint, point, value, wire, suffix)
    if point.kind == "path":
        if suffix:
            return None
        return _url_request(ctx, endpoint, _path(endpoint, point, value, wire), _query(endpoint))
    query = _query(endpoint, point, value, wire, suffix)
    return _url_request(ctx, endpoint, _path(endpoint), query)


def _url_request(ctx: ProbeContext, endpoint: Endpoint, path: str, query: str) -> RequestSpec:
    plain = ctx.endpoint_request(endpoint, path=path, query={})
    url = plain.url + ("?" + query if query else "")
    return replace(plain, url=url, raw=True)


def _path(
    endpoint: Endpoint, point: Point | None = None, value: str = "", wire: bool = False
) -> str:
    path = endpoint.path
    for name, original in endpoint.path_params.items():
        if point is not None and name == point.name:
            text = value if wire else _encode(value, _PATH_SAFE)
        else:
            text = quote(original, safe="")
        path = path.replace("{" + name + "}", text)
    return path


def _query(
    endpoint: Endpoint,
    point: Point | None = None,
    value: str = "",
    wire: bool = False,
    suffix: str = "",
) -> str:
    parts: list[str] = []
    for key, item in endpoint.query.items():
        if point is not None and key == point.name:
            text = value if wire else _encode(value, _QUERY_SAFE)
            parts.append(f"{quote(key + suffix, safe=_KEY_SAFE)}={text}")
            continue
        if isinstance(item, bool):
            item = "true" if item else "false"
        parts.append(urlencode([(key, item)], doseq=True))
    return "&".join(parts)


def _form_request(
    ctx: ProbeContext, endpoint: Endpoint, point: Point, value: str, wire: bool, suffix: str
) -> RequestSpec:
    parts: list[str] = []
    for key, item in (endpoint.form or {}).items():
        if key == point.name:
            text = value if wire else quote(value, safe="")
            parts.append(f"{quote(key + suffix, safe=_KEY_SAFE)}={text}")
        else:
            parts.append(urlencode([(key, item)]))
    body = "&".join(parts).encode()
    return ctx.endpoint_request(
        endpoint, content=body, content_type="application/x-www-form-urlencoded"
    )


def _json_request(
    ctx: ProbeContext, endpoint: Endpoint, point: Point, value: Any
) -> RequestSpec | None:
    body = copy.deepcopy(endpoint.json_body)
    if not isinstance(body, dict) or not _set_field(body, point.name, value):
        return None
    content = json.dumps(body).encode()
    return ctx.endpoint_request(endpoint, content=content, content_type="application/json")


def _encode(value: str, safe: str) -> str:
    """Percent-encode what the URL's syntax needs: `%`, space, `#`, `?`, controls, non-ASCII."""
    return quote(value, safe=safe)


def _walk(body: dict[str, Any], name: str) -> tuple[dict[str, Any], str] | None:
    """The object holding the dotted field and the field's own key."""
    if name in body:
        return body, name
    head, dot, rest = name.partition(".")
    while dot:
        inner = body.get(head)
        if isinstance(inner, dict):
            found = _walk(inner, rest)
            if found is not None:
                return found
        more, dot, rest = rest.partition(".")
        head = f"{head}.{more}"
    return None


def _has_field(body: dict[str, Any], name: str) -> bool:
    return _walk(body, name) is not None


def _get_field(body: dict[str, Any], name: str) -> Any:
    holder, key = _walk(body, name) or ({}, name)
    return holder.get(key)


def _set_field(body: dict[str, Any], name: str, value: Any) -> bool:
    found = _walk(body, name)
    if found is None:
        return False
    holder, key = found
    holder[key] = value
    return True
