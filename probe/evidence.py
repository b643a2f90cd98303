"""Turns exchanges into redacted evidence and curl commands that reproduce them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from probe.exchange import Exchange
from probe.findings import Evidence
from probe.http import SCAN_ID_HEADER
from probe.redact import SENSITIVE_HEADERS, Redactor

EXCERPT_CHARS = 2000
_SENTINEL = "\x00{}\x00"
_SENTINEL_RE = re.compile("\x00([A-Z0-9_]+)\x00")
_SKIP_IN_CURL = frozenset({"accept-encoding", SCAN_ID_HEADER.lower(), "content-length", "host"})


def request_text(exchange: Exchange, redactor: Redactor) -> str:
    """Request line and headers as sent, redacted."""
    parts = urlsplit(exchange.request.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"{exchange.request.method} {redactor.text(target)} HTTP/1.1"]
    lines.append(f"Host: {parts.netloc}")
    for name, value in redactor.headers(exchange.request.headers):
        lines.append(f"{name}: {value}")
    body = exchange.request.body
    if body:
        lines.append("")
        lines.append(_excerpt(body.decode("utf-8", "replace"), EXCERPT_CHARS, redactor))
    return "\n".join(lines)


def _excerpt(text: str, limit: int, redactor: Redactor) -> str:
    """The first `limit` characters, redacted before the cut so no secret is cut in half."""
    return redactor.excerpt(redactor.text(text)[:limit])


def build_evidence(
    exchange: Exchange, redactor: Redactor, excerpt: str | None = None, note: str | None = None
) -> Evidence:
    """Evidence for one exchange; `excerpt` picks the part of the body that matters."""
    response = exchange.response
    note = note or exchange.error
    if response is None:
        return Evidence(
            request=request_text(exchange, redactor),
            status=None,
            body_excerpt="",
            note=redactor.text(note) if note else None,
        )
    if excerpt is not None:
        # A probe's excerpt may be cut anywhere, even inside a secret.
        body = redactor.excerpt(excerpt[: EXCERPT_CHARS * 2])
    else:
        body = _excerpt(response.text(), EXCERPT_CHARS, redactor)
        if response.truncated:
            body += "\n[... body cut at the scan's body cap]"
    return Evidence(
        request=request_text(exchange, redactor),
        status=response.status,
        response_headers=redactor.headers(response.headers),
        body_excerpt=body,
        note=redactor.text(note) if note else None,
    )


def _quote(value: str, redactor: Redactor) -> str:
    """Double-quote for a POSIX shell, keeping `${NAME}` placeholders live."""
    marked = redactor.text(value, template=_SENTINEL)
    escaped = re.sub(r'(["\\`$])', r"\\\1", marked)
    return '"' + _SENTINEL_RE.sub(lambda m: "${" + m.group(1) + "}", escaped) + '"'


def curl_command(
    exchange: Exchange, redactor: Redactor, *, insecure: bool = False, cacert: str | None = None
) -> str:
    """A curl line that sends the same request; secrets read from environment variables.

    `cacert`: the CA bundle the scan trusted (https URLs only).
    """
    request = exchange.request
    args = ["curl", "-i", "--path-as-is"]
    if any(c in request.url for c in "[]{}"):
        args.append("--globoff")  # curl would read brackets and braces as its URL patterns
    if insecure:
        args.append("-k")
    elif cacert and request.url[:8].lower() == "https://":
        args += ["--cacert", _quote(cacert, redactor)]
    if request.method != "GET" or request.body:
        args += ["-X", request.method]
    for name, value in request.headers:
        if name.lower() in _SKIP_IN_CURL:
            continue
        unknown = redactor.text(value) == value and redactor.header(name, value) != value
        if name.lower() in SENSITIVE_HEADERS and unknown:
            # An unknown secret: the user supplies it, the report never holds it (a crafted
            # token allowed as public shows as it is).
            variable = re.sub(r"[^A-Z0-9]", "_", name.upper())
            args += ["-H", f'"{name}: ${{{variable}}}"']
            continue
        args += ["-H", _quote(f"{name}: {value}", redactor)]
    if request.body:
        args += ["--data-binary", _quote(request.body.decode("utf-8", "replace"), redactor)]
    args.append(_quote(request.url, redactor))
    return " ".join(args)
