"""Facts about one HTTP exchange, as the engine saw them on the wire.

Headers are kept as the raw list of lines, in order, with their original letter case, so that
judges can see repeated lines (two HSTS headers) that a merged mapping would hide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

HeaderLines = tuple[tuple[str, str], ...]


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as HTTP compares names and tokens (never the Kelvin sign)."""
    return text.translate(_ASCII_LOWER)


def header_values(lines: Sequence[tuple[str, str]], name: str) -> list[str]:
    """Every value sent under `name`, one per line, compared case-insensitively (ASCII)."""
    wanted = ascii_lower(name)
    return [value for key, value in lines if ascii_lower(key) == wanted]


def first_header(lines: HeaderLines, name: str) -> str | None:
    """The first line's value for `name`, or None."""
    values = header_values(lines, name)
    return values[0] if values else None


@dataclass(frozen=True)
class RequestSpec:
    """A request a probe wants sent; the engine adds identity, scan headers and limits.

    Attributes:
        method: HTTP method.
        url: Absolute URL.
        headers: Extra header lines, in order (repeats allowed).
        content: Raw body bytes, or None.
        raw: Send the URL's path and query exactly as written: an HTTP client would
            otherwise resolve `../` and re-encode characters (injection payloads need them
            to reach the server as they are). The path must start with `/`.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    content: bytes | None = None
    raw: bool = False

    def with_headers(self, *lines: tuple[str, str]) -> RequestSpec:
        """A copy with header lines added (a line with the same name replaces the old one)."""
        names = {name.lower() for name, _ in lines}
        kept = tuple((n, v) for n, v in self.headers if n.lower() not in names)
        return replace(self, headers=kept + tuple(lines))


@dataclass(frozen=True)
class RequestRecord:
    """The request as sent.

    Attributes:
        method: HTTP method.
        url: Absolute URL as sent.
        headers: Header lines as sent.
        body: Body bytes, or None.
    """

    method: str
    url: str
    headers: HeaderLines = ()
    body: bytes | None = None


@dataclass(frozen=True)
class ResponseRecord:
    """The response as received, with its body read up to the cap.

    Attributes:
        status: Status code.
        http_version: "HTTP/1.1", "HTTP/2", ...
        headers: Header lines in order, names in their original case.
        body: Decoded body, at most the body cap.
        truncated: True when the body was longer than the cap.
        elapsed: Seconds from sending to the end of reading.
    """

    status: int
    http_version: str
    headers: HeaderLines
    body: bytes
    truncated: bool = False
    elapsed: float = 0.0

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitive."""
        return first_header(self.headers, name)

    def headers_named(self, name: str) -> list[str]:
        """Every value of a header, one per line."""
        return header_values(self.headers, name)

    @property
    def content_type(self) -> str:
        """Media type without parameters, lower-case ("" when absent)."""
        value = self.header("content-type") or ""
        return ascii_lower(value.split(";", 1)[0].strip())

    def text(self, limit: int | None = None) -> str:
        """Body as text (UTF-8 with replacement), optionally cut to `limit` characters."""
        data = self.body if limit is None else self.body[: limit * 4]
        text = data.decode("utf-8", errors="replace")
        return text if limit is None else text[:limit]


@dataclass(frozen=True)
class Exchange:
    """One request and what came back (a response, or an error instead).

    Attributes:
        seq: Order in the scan, from 1.
        probe: Id of the probe that sent it ("engine" for logins and health checks).
        endpoint: Endpoint label, or None for target-wide requests.
        identity: Identity whose credentials were sent, or None for anonymous.
        purpose: Short words on why it was sent ("baseline", "malformed-json", ...).
        request: What was sent.
        response: What came back, or None when the request failed.
        error: Why no response came (timeout, refused, out of scope), or None.
        tags: Free labels for the judges (for example "authenticated").
    """

    seq: int
    probe: str
    endpoint: str | None
    identity: str | None
    purpose: str
    request: RequestRecord
    response: ResponseRecord | None
    error: str | None = None
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def ok(self) -> bool:
        """True when a response came back."""
        return self.response is not None
