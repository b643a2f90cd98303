"""What a request carried, decoded, so that a secret judge can tell an echo from a leak.

A server that answers a sign-up with the password it was sent leaks nothing: the caller knew
it. The request's text is not enough to recognise that: a form body sends `a!b&c` as
`a%21b%26c`, a JSON body sends `pa"ss` as `pa\\"ss` and `pä` as `p\\u00e4`. `sent_by` decodes
every value the request carried (query and path segments, form fields, JSON strings and
numbers, header values, the user and password of Basic credentials, cookie values) and
`Sent.carried` compares the value found in the answer with those, in Unicode NFC.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from urllib.parse import parse_qsl, unquote, urlsplit

from probe.exchange import RequestRecord
from probe.probes.secret_values import normal_text
from probe.probes.signatures import JSON_NODES, walk_json

_BODY_CHARS = 65_536
_MIN_ECHO = 4


@dataclass(frozen=True)
class Sent:
    """What one request carried.

    Attributes:
        text: The URL (percent-decoded) and the body as sent, in NFC.
        values: Every value the request carried, decoded, in NFC.
    """

    text: str = ""
    values: frozenset[str] = field(default_factory=frozenset)

    def carried(self, value: str) -> bool:
        """True when the request carried `value` (4+ characters), as sent or decoded."""
        if len(value) < _MIN_ECHO:
            return False
        value = normal_text(value)
        return value in self.text or any(value in sent for sent in self.values)


def sent_by(request: RequestRecord) -> Sent:
    """The values `request` carried, decoded from its URL, body and headers."""
    body = (request.body or b"")[:_BODY_CHARS].decode("utf-8", "replace")
    url = unquote(request.url)
    values = set(_url_values(request.url))
    values.update(_body_values(body, _content_type(request.headers)))
    values.update(_header_values(request.headers))
    kept = frozenset(normal_text(v) for v in values if len(v) >= _MIN_ECHO)
    return Sent(normal_text(url + "\n" + body), kept)


def _content_type(headers: Sequence[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.lower()
    return ""


def _url_values(url: str) -> Iterator[str]:
    parts = urlsplit(url)
    yield from (unquote(segment) for segment in parts.path.split("/"))
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        yield name
        yield value


def _body_values(body: str, content_type: str) -> Iterator[str]:
    """Form fields and JSON strings of the body; both are tried when the type says nothing."""
    start = body.lstrip()[:1]
    if "json" in content_type or (not content_type and start in ("{", "[")):
        yield from _json_values(body)
    if "x-www-form-urlencoded" in content_type or (not content_type and start not in ("{", "[")):
        for name, value in parse_qsl(body, keep_blank_values=False):
            yield name
            yield value


def _json_values(body: str) -> Iterator[str]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return
    for _, value in islice(walk_json(data), JSON_NODES):
        if isinstance(value, str):
            yield value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield str(value)


def _header_values(headers: Sequence[tuple[str, str]]) -> Iterator[str]:
    """Each header value, its last word (a token after its scheme), Basic credentials and
    cookie values: an answer may echo the caller's own credentials back."""
    for name, value in headers:
        yield value
        scheme, _, rest = value.strip().partition(" ")
        yield rest.strip()
        lower = name.lower()
        if lower == "authorization" and scheme.lower() == "basic":
            yield from _basic(rest.strip())
        elif lower == "cookie":
            for pair in value.split(";"):
                yield pair.partition("=")[2].strip()


def _basic(token: str) -> list[str]:
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return []
    user, _, password = decoded.partition(":")
    return [user, password]
