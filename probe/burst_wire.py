"""A burst's request as bytes on the wire, serialised by hand for `probe.burst`.

The URL's path and query go out exactly as written (no dot-segment removal, no re-encoding of
what is already ASCII), the header lines in their order and letter case; a line that could
split the request (CR, LF, NUL) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from probe.exchange import ascii_lower

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Request-target bytes outside visible ASCII are percent-encoded (as httpx does); every
# other byte, "%", ".." and "//" included, goes out as given.
_TARGET_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))
_DEFAULT_PORTS = {"http": 80, "https": 443}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Address:
    """Where a burst goes: scheme, host (as in the URL, without brackets) and port."""

    scheme: str
    host: str
    port: int


def parse_address(url: str) -> Address:
    """The scheme, host and port of an http(s) URL; ValueError for anything else."""
    parts = urlsplit(url)
    scheme = ascii_lower(parts.scheme)
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    return Address(scheme, parts.hostname, parts.port or _DEFAULT_PORTS[scheme])


def request_target(url: str) -> str:
    """The URL's path and query exactly as written (no dot-segment removal, no re-encoding)."""
    rest = url.split("://", 1)[1] if "://" in url else url
    rest = rest.split("#", 1)[0]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    target = rest[cut:]
    if not target.startswith("/"):
        target = "/" + target
    return quote(target, safe=_TARGET_SAFE)


def request_bytes(
    method: str, url: str, headers: list[tuple[str, str]], content: bytes | None
) -> bytes:
    """The whole HTTP/1.1 request; ValueError for a method, name or value that cannot be sent.

    Adds `Host` (with the port when it is not the scheme's default), `Content-Length` when there
    is a body (0 for POST, PUT and PATCH without one) and `Connection: close`, unless the lines
    given carry them already.
    """
    if not method or not set(method) <= _TOKEN:
        raise ValueError(f"method {method!r} is not a token")
    address = parse_address(url)
    for name, value in headers:
        if not name or not set(name) <= _TOKEN:
            raise ValueError(f"header name {name!r} is not a token")
        if any(c in value for c in "\r\n\0"):
            raise ValueError(f"header {name} has CR, LF or NUL in its value")
    given = {ascii_lower(name) for name, _ in headers}
    lines: list[tuple[str, str]] = []
    if "host" not in given:
        host = f"[{address.host}]" if ":" in address.host else address.host
        if address.port != _DEFAULT_PORTS[address.scheme]:
            host += f":{address.port}"
        lines.append(("Host", host))
    lines += headers
    framed = "content-length" in given or "transfer-encoding" in given
    if not framed and (content is not None or method in _BODY_METHODS):
        lines.append(("Content-Length", str(len(content or b""))))
    if "connection" not in given:
        lines.append(("Connection", "close"))
    head = f"{method} {request_target(url)} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in lines) + "\r\n"
    return head.encode("utf-8") + (content or b"")
