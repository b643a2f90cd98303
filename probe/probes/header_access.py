"""Judges of who may keep or read a response: cookies, Cache-Control and CORS.

Cookies are read as RFC 6265bis says, Cache-Control as RFC 9111 says, and CORS headers as the
Fetch standard's CORS check compares them (byte for byte). Each takes raw header values and
returns `Problem`s or a `Verdict`; none touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from probe.findings import Severity
from probe.probes.header_values import (
    OWS,
    HeaderLines,
    Problem,
    Verdict,
    ascii_lower,
    directives,
    fail,
    lines_named,
    ok,
    seconds,
    values_named,
)

# -- Cookies (RFC 6265bis) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cookie:
    """One Set-Cookie line as a browser reads it.

    Attributes:
        name: Cookie name.
        value: Cookie value (never shown in reports).
        attributes: Attribute names (ASCII-lowered) -> value ("" when valueless); first wins.
    """

    name: str
    value: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def deletes(self) -> bool:
        """True when the line removes the cookie (empty value, Max-Age<=0, or past Expires)."""
        if not self.value.strip():
            return True
        max_age = self.attributes.get("max-age", "").strip()
        if re.fullmatch(r"-?[0-9]{1,18}", max_age):
            return int(max_age) <= 0
        return _in_the_past(self.attributes.get("expires"))


def _in_the_past(value: str | None) -> bool:
    if not value:
        return False
    try:
        when = parsedate_to_datetime(value[:64])
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when < datetime.now(UTC)


def parse_set_cookie(line: str) -> Cookie:
    """Parse one Set-Cookie value: name=value, then attributes split on ';'."""
    first, _, rest = line.partition(";")
    name, eq, value = first.partition("=")
    if not eq:
        name, value = "", name  # a nameless cookie, as browsers treat it
    attributes: dict[str, str] = {}
    for part in rest.split(";"):
        key, _, attr_value = part.partition("=")
        key = ascii_lower(key.strip(OWS))
        if key and key not in attributes:
            attributes[key] = attr_value.strip(OWS)
    return Cookie(name.strip(OWS), value.strip(OWS), attributes)


def readable_by_design(name: str) -> bool:
    """Anti-CSRF cookies are meant to be read by scripts (double-submit), so no HttpOnly."""
    lowered = ascii_lower(name)
    return "csrf" in lowered or "xsrf" in lowered


def judge_cookie(line: str, *, https: bool) -> list[Problem]:
    """Missing Secure (judged on HTTPS only), HttpOnly and SameSite in one Set-Cookie line.

    A line that deletes a cookie is not judged; an unknown SameSite value counts as missing.
    """
    cookie = parse_set_cookie(line)
    if cookie.deletes:
        return []
    label = cookie.name or "(nameless)"
    attrs = cookie.attributes
    problems: list[Problem] = []
    if https and "secure" not in attrs:
        problems.append(Problem("cookie-no-secure", f"cookie {label} lacks Secure", subject=label))
    if "httponly" not in attrs and not readable_by_design(cookie.name):
        detail = f"cookie {label} lacks HttpOnly"
        problems.append(Problem("cookie-no-httponly", detail, subject=label))
    same_site = ascii_lower(attrs.get("samesite", ""))
    if same_site not in ("strict", "lax", "none"):
        why = "lacks SameSite" if "samesite" not in attrs else f"has SameSite={same_site!r}"
        problems.append(Problem("cookie-no-samesite", f"cookie {label} {why}", subject=label))
    return problems


# -- Cache-Control (RFC 9111) ------------------------------------------------------------------


def parse_cache_control(values: Sequence[str]) -> dict[str, str | None]:
    """Directive -> value over every Cache-Control line (the first occurrence wins)."""
    found: dict[str, str | None] = {}
    for value in values:
        for name, argument in directives(value, ","):
            found.setdefault(name, argument)
    return found


def judge_cache_control(values: Sequence[str]) -> Verdict:
    """Judge Cache-Control on a response to an authenticated request: it should be no-store."""
    shown = tuple(f"Cache-Control: {v}" for v in values)
    found = parse_cache_control(values)
    if not found:
        return fail(Problem("cache-missing", "no Cache-Control directive", None, shown))
    if "no-store" in found:
        return ok("Cache-Control: no-store")
    shared = [d for d in ("public", "s-maxage") if d in found]
    if shared:
        return fail(
            Problem(
                "cache-public",
                f"Cache-Control {' and '.join(shared)} lets shared caches store it",
                None,
                shown,
            )
        )
    max_age = seconds(found.get("max-age"))
    revalidate = "must-revalidate" in found and "private" not in found
    severity = Severity.low if max_age > 0 or revalidate else Severity.info
    reasons = [f"max-age={max_age}"] if max_age else []
    if revalidate:
        reasons.append("must-revalidate without private (shared caches may store it)")
    why = f" ({', '.join(reasons)})" if reasons else ""
    return fail(Problem("cache-weak", f"Cache-Control lacks no-store{why}", severity, shown))


# -- CORS (Fetch standard) ---------------------------------------------------------------------


def _cors_lines(lines: HeaderLines) -> tuple[str, ...]:
    return tuple(
        lines_named(lines, "access-control-allow-origin", "access-control-allow-credentials")
    )


def judge_cors(sent_origin: str | None, lines: HeaderLines) -> list[Problem]:
    """Judge Access-Control-Allow-Origin/-Credentials as a browser's CORS check would.

    `sent_origin` is the Origin the probe sent (its foreign origin or "null"), or None for a
    request without one. Browsers compare both headers byte for byte: several ACAO lines fail
    the check, and only exactly `true` allows credentials.
    """
    allow = values_named(lines, "access-control-allow-origin")
    if len(allow) != 1:
        return []
    origin = allow[0].strip(OWS)
    credentials_lines = [
        v.strip(OWS) for v in values_named(lines, "access-control-allow-credentials")
    ]
    credentials = credentials_lines == ["true"]
    shown = _cors_lines(lines)
    if origin == "*":
        if credentials:
            detail = "Access-Control-Allow-Origin: * with credentials (browsers refuse it)"
            return [Problem("cors-wildcard-credentials", detail, None, shown)]
        return [Problem("cors-any-origin", "any origin may read it (ACAO: *)", None, shown)]
    if origin == "null":
        if credentials:
            detail = "the null origin (sandboxed frames, data: URLs) may read it with credentials"
            return [Problem("cors-null-origin", detail, None, shown)]
        return [Problem("cors-any-origin", "the null origin may read it", None, shown)]
    if sent_origin is not None and origin == sent_origin:
        if credentials:
            detail = f"the foreign Origin {sent_origin} is reflected, with credentials"
            return [Problem("cors-reflected-origin", detail, None, shown)]
        detail = f"the foreign Origin {sent_origin} is reflected (no credentials)"
        return [Problem("cors-any-origin", detail, None, shown)]
    return []
