"""How the https probe reads URLs: a Location as a browser reads it, paths as compared.

Pure functions. A redirect is judged on where a browser would really go: WHATWG URL parsing
drops tabs and newlines, takes a backslash for a slash in http(s) URLs, and reads raw bytes
above ASCII as UTF-8; a path is compared after RFC 3986 dot-segment removal.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urljoin, urlsplit

# Characters a browser drops anywhere in a Location (WHATWG URL: ASCII tab and newlines), and
# the ones it trims from both ends (C0 controls and space).
_DROPPED = re.compile(r"[\t\n\r]")
_TRIMMED = "".join(chr(c) for c in range(0x21))
# Printable ASCII but space: kept as written when a Location is percent-encoded.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))
# A percent-encoded dot, which clients treat as a dot in dot segments.
_DOT = re.compile("%2e", re.IGNORECASE)


def same_host(host: str) -> str:
    """A host name as compared: `api.example.com.` (fully qualified) is `api.example.com`."""
    return host.lower().rstrip(".") or host


def browser_location(location: str) -> str:
    """A Location header as a browser reads it (WHATWG URL parsing of http(s) URLs).

    Tabs and newlines are dropped and controls trimmed; a backslash before the query is a
    slash (so `/\\evil.example/` is `//evil.example/`, another host); raw bytes above ASCII
    (which the engine decoded as Latin-1) are the UTF-8 they were sent as, percent-encoded.
    """
    text = _DROPPED.sub("", location).strip(_TRIMMED)
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
    text = text[:cut].replace("\\", "/") + text[cut:]
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    return quote(raw, safe=_URL_SAFE)


def resolve(url: str, location: str) -> str | None:
    """The absolute URL a Location points to, or None when it is not an http(s) URL."""
    try:
        absolute = urljoin(url, browser_location(location))
    except ValueError:
        return None
    return absolute if scheme(absolute) in ("http", "https") else None


def scheme(url: str) -> str:
    """The URL's scheme, lower-case."""
    return urlsplit(url).scheme.lower()


def path_of(url: str) -> str:
    """The path as compared: dot segments removed, percent-decoded, a trailing slash aside."""
    path = _DOT.sub(".", urlsplit(url).path)
    return unquote(remove_dot_segments(path)).rstrip("/") or "/"


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: `/a/./b/../c` is `/a/c`, as a client requests it."""
    absolute = path.startswith("/")
    segments = path.split("/")
    kept: list[str] = []
    for segment in segments[1:] if absolute else segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")
    joined = "/".join(kept)
    return "/" + joined if absolute else joined
