"""The scope guard's judgement of a URL: where it really goes, and whether that is in scope.

A URL is judged as httpx parses it (what is checked is what is sent), and only when the
standard library agrees on its host and port; URLs that parsers read differently (userinfo,
backslashes, control characters in the authority) go nowhere. Nothing here sends.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

import httpx
import idna

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Userinfo, backslashes and control characters: parsers disagree on where such URLs go.
_AUTHORITY_TRICKS = re.compile(r"[@\\\x00-\x20\x7f]")


def _norm_host(host: str) -> str:
    """A host as it goes on the wire: lower-case, IPv6 compressed, IDNA-encoded ("" if invalid)."""
    host = host.lower().strip("[]")
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            return ""
    if host.isascii():
        return host
    try:
        return idna.encode(host).decode("ascii")
    except idna.IDNAError:
        return ""


@lru_cache(maxsize=64)
def parse_scope(scope: frozenset[str]) -> frozenset[tuple[str, int | None]]:
    """Scope entries as (host, port or None for any port).

    `[v6]` and `[v6]:port` carry brackets; an unbracketed entry with several colons is a bare
    IPv6 host (so `::1:8080` is the address ::1:8080, never ::1 on port 8080).
    """
    parsed: set[tuple[str, int | None]] = set()
    for entry in scope:
        entry = entry.strip().lower()
        host, port = entry, ""
        if entry.startswith("["):
            host, _, rest = entry[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        host = _norm_host(host)
        if not host or (entry.endswith(":") or (port and not port.isdigit())):
            continue
        parsed.add((host, int(port) if port else None))
    return frozenset(parsed)


def target_of(url: str) -> tuple[str, int] | None:
    """The host and port httpx would connect to for `url`, or None when the engine won't send it.

    The URL is parsed by httpx itself (what is checked is what is sent) and must agree with
    the standard library's reading of it; userinfo (`user@host`) and backslashes or control
    characters in the authority are refused, since parsers disagree on where such URLs go.
    """
    authority = url.partition("//")[2]
    authority = re.split(r"[/?#]", authority, maxsplit=1)[0]
    if _AUTHORITY_TRICKS.search(authority):
        return None
    try:
        parsed = httpx.URL(url)
        split = urlsplit(url)
        split_port = split.port
    except (httpx.InvalidURL, ValueError):
        return None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host or parsed.userinfo:
        return None
    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    host = _norm_host(parsed.raw_host.decode("ascii"))
    split_host = _norm_host(split.hostname or "")
    if not host or (split_host, split_port or _DEFAULT_PORTS.get(split.scheme)) != (host, port):
        return None
    return host, port


def in_scope(url: str, scope: frozenset[str]) -> bool:
    """True when the URL's host (and port, where the entry names one) is in scope."""
    target = target_of(url)
    if target is None:
        return False
    host, port = target
    entries = parse_scope(scope)
    return (host, None) in entries or (host, port) in entries
