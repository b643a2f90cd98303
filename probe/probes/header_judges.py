"""Judges of the headers a response should carry, and of what it should not disclose.

HSTS (RFC 6797), X-Content-Type-Options, X-Frame-Options (as the HTML standard checks it),
Referrer-Policy, Permissions-Policy, version banners, and JSON served under another type. Each
takes the values of the raw header lines and returns a `Verdict` or `Problem`s; none touches
the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from probe.findings import Severity
from probe.probes.header_values import (
    DIGITS,
    OWS,
    TOKEN,
    Problem,
    Verdict,
    ascii_lower,
    directives,
    fail,
    is_html_mime,
    is_json_mime,
    mime_essence,
    ok,
    seconds,
    skip,
    split_quoted,
    unquote,
)

ONE_YEAR = 31_536_000


# -- HSTS (RFC 6797) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hsts:
    """A Strict-Transport-Security value a browser would accept.

    Attributes:
        max_age: Seconds to remember the host (clamped to HUGE_SECONDS).
        include_subdomains: True when the policy covers every subdomain.
        preload: True when the site asks to be preloaded.
    """

    max_age: int
    include_subdomains: bool = False
    preload: bool = False


def hsts_error(value: str) -> str | None:
    """Why browsers would ignore this Strict-Transport-Security value, or None if they accept it."""
    seen: set[str] = set()
    max_age: str | None = None
    for part in split_quoted(value, ";"):
        name, eq, raw = part.partition("=")
        name = name.strip(OWS)
        if not name and not eq:
            continue  # empty directives are allowed by the grammar
        if not TOKEN.fullmatch(name):
            return f"directive name {name!r} is not a token"
        lowered = ascii_lower(name)
        if lowered in seen:
            return f"directive {name!r} appears twice (RFC 6797 voids the whole header)"
        seen.add(lowered)
        text = unquote(raw.strip(OWS)) if eq else None
        if eq and text is None:
            return f"directive {name!r} has a broken quoted value"
        if lowered == "max-age":
            if text is None or not DIGITS.fullmatch(text):
                return f"max-age value {raw.strip(OWS)!r} is not a number of seconds"
            max_age = text
    if max_age is None:
        return "max-age is missing"
    return None


def parse_hsts(value: str) -> Hsts | None:
    """The policy a browser takes from one Strict-Transport-Security line, or None if invalid.

    Directive names are matched by ASCII case; a repeated directive, a missing or non-numeric
    max-age or a malformed directive makes the whole value void, as RFC 6797 section 6.1 says.
    """
    if hsts_error(value) is not None:
        return None
    found = dict(directives(value, ";"))
    return Hsts(
        max_age=seconds(found.get("max-age")),
        include_subdomains="includesubdomains" in found,
        preload="preload" in found,
    )


def _duration(value: int) -> str:
    if value >= 2 * 86_400:
        return f"{value} s, about {value // 86_400} days"
    return f"{value} s"


def judge_hsts(values: Sequence[str], scheme: str) -> Verdict:
    """Judge the Strict-Transport-Security lines of one response received over `scheme`.

    Only the first line counts (RFC 6797 section 8.1); a second line is reported by itself.
    Over plain HTTP the header protects nothing and browsers ignore it, so it is never credited.
    """
    if ascii_lower(scheme) != "https":
        sent = " (this response sent one; it is ignored)" if values else ""
        return skip(
            "not applicable over plain HTTP: browsers honour Strict-Transport-Security only "
            f"on HTTPS responses{sent}"
        )
    shown = tuple(f"Strict-Transport-Security: {v}" for v in values)
    if not values:
        return fail(Problem("hsts-missing", "no Strict-Transport-Security header"))
    problems: list[Problem] = []
    if len(values) > 1:
        same = len({parse_hsts(v) for v in values}) == 1 and parse_hsts(values[0]) is not None
        problems.append(
            Problem(
                "hsts-multiple",
                f"{len(values)} Strict-Transport-Security lines"
                + (" with the same policy" if same else " that disagree")
                + "; browsers use only the first",
                Severity.info if same else None,
                shown,
            )
        )
    first = values[0]
    error = hsts_error(first)
    policy = parse_hsts(first)
    if error is not None or policy is None:
        why = error or "unparseable"
        problems.append(Problem("hsts-invalid", f"ignored by browsers: {why}", None, shown[:1]))
    elif policy.max_age == 0:
        problems.append(
            Problem("hsts-disabled", "max-age=0 tells browsers to forget HSTS", None, shown[:1])
        )
    elif policy.max_age < ONE_YEAR:
        problems.append(
            Problem(
                "hsts-short",
                f"max-age is {_duration(policy.max_age)}, below one year",
                None,
                shown[:1],
            )
        )
    if problems:
        return fail(*problems)
    extra = "; includeSubDomains" if policy and policy.include_subdomains else ""
    return ok(f"max-age {_duration(policy.max_age if policy else 0)}{extra}")


# -- X-Content-Type-Options --------------------------------------------------------------------


def judge_nosniff(values: Sequence[str]) -> Verdict:
    """Judge X-Content-Type-Options: the first comma-separated value must be `nosniff`."""
    if not values:
        return fail(Problem("nosniff-missing", "no X-Content-Type-Options header"))
    first = values[0].split(",", 1)[0].strip(OWS)
    if ascii_lower(first) == "nosniff":
        return ok("X-Content-Type-Options: nosniff")
    return fail(
        Problem(
            "nosniff-missing",
            f"X-Content-Type-Options is {first!r}, which browsers ignore (only nosniff counts)",
            None,
            tuple(f"X-Content-Type-Options: {v}" for v in values),
        )
    )


# -- X-Frame-Options (HTML standard, "check a navigation response's adherence") ----------------


def xfo_blocks_framing(values: Sequence[str]) -> tuple[bool, str]:
    """Whether X-Frame-Options lines stop cross-origin framing, and why, as browsers decide."""
    tokens = {ascii_lower(t.strip(OWS)) for v in values for t in v.split(",")}
    tokens.discard("")
    if not values:
        return False, "no X-Frame-Options header"
    if len(tokens) > 1:
        if tokens & {"deny", "sameorigin", "allowall"}:
            return True, "conflicting X-Frame-Options values; browsers then block framing"
        return False, f"X-Frame-Options values {sorted(tokens)} are not recognised"
    token = next(iter(tokens), "")
    if token in ("deny", "sameorigin"):
        return True, f"X-Frame-Options: {token.upper()}"
    if token.startswith("allow-from"):
        return False, "X-Frame-Options ALLOW-FROM is ignored by current browsers"
    return False, f"X-Frame-Options value {token!r} is not DENY or SAMEORIGIN"


# -- Referrer-Policy and Permissions-Policy ----------------------------------------------------

REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "same-origin",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
# Legacy <meta name="referrer"> keywords browsers still map to policies.
_META_REFERRER = frozenset({"never", "default", "always", "origin-when-crossorigin"})


def referrer_policy(values: Iterable[str], *, meta: bool = False) -> str | None:
    """The policy browsers apply: the last recognised comma-separated token, or None."""
    known = REFERRER_POLICIES | _META_REFERRER if meta else REFERRER_POLICIES
    policy: str | None = None
    for value in values:
        for token in value.split(","):
            lowered = ascii_lower(token.strip(OWS))
            if lowered in known:
                policy = lowered
    return policy


def judge_referrer_policy(values: Sequence[str], meta_values: Sequence[str]) -> Verdict:
    """Judge Referrer-Policy on an HTML document (the header or a <meta name=referrer>)."""
    policy = referrer_policy(values) or referrer_policy(meta_values, meta=True)
    if policy is not None:
        return ok(f"referrer policy {policy}")
    shown = tuple(f"Referrer-Policy: {v}" for v in values)
    why = "no recognised policy in Referrer-Policy" if values else "no Referrer-Policy header"
    return fail(Problem("referrer-policy-missing", why, None, shown))


def judge_permissions_policy(values: Sequence[str]) -> Verdict:
    """Judge Permissions-Policy on an HTML document: present and not empty."""
    if any(v.strip(OWS) for v in values):
        return ok("Permissions-Policy present")
    return fail(Problem("permissions-policy-missing", "no Permissions-Policy header"))


# -- version banners ---------------------------------------------------------------------------

# Header -> True when only a value with a version number is a disclosure (Server: nginx is not).
BANNER_HEADERS: dict[str, bool] = {
    "server": True,
    "x-powered-by": False,
    "x-aspnet-version": False,
    "x-aspnetmvc-version": False,
    "x-generator": False,
    "x-powered-cms": False,
    "x-owa-version": False,
    "x-mod-pagespeed": False,
    "x-jenkins": False,
    "liferay-portal": False,
    "x-turbo-charged-by": False,
}
# A version: digits with optional dotted parts, after a start, '/', white space or '('.
_VERSION = re.compile(r"(?:^|[/\s(])v?[0-9]+(?:\.[0-9A-Za-z-]+)*(?=$|[\s;,)])", re.ASCII)
_BANNER_CHARS = 200


@dataclass(frozen=True)
class Banner:
    """Software named by a response header.

    Attributes:
        header: Header name as sent.
        value: Header value (cut to 200 characters).
        versioned: True when the value carries a version number.
    """

    header: str
    value: str
    versioned: bool


def version_banner(name: str, value: str) -> Banner | None:
    """The software a header discloses, or None (a Server value without a version is fine)."""
    needs_version = BANNER_HEADERS.get(ascii_lower(name.strip(OWS)))
    text = value.strip(OWS)[:_BANNER_CHARS]
    if needs_version is None or not text:
        return None
    versioned = _VERSION.search(text) is not None
    if needs_version and not versioned:
        return None
    return Banner(name, text, versioned)


# -- JSON served as something else -------------------------------------------------------------


def looks_like_json(body: bytes, truncated: bool) -> bool:
    """True when the body is a whole JSON object or array."""
    start = body.lstrip(b" \t\r\n")
    if truncated or start[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(start.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return True


def judge_json_content_type(
    content_types: Sequence[str], body: bytes, truncated: bool
) -> Problem | None:
    """A JSON object or array served under a Content-Type that is not JSON."""
    essence = mime_essence(content_types[0] if content_types else None)
    # The type is checked first so that bodies already served as JSON are never parsed.
    # Vendor JSON types (application/x-amz-json-1.1, x-ndjson, jsonl) are JSON too: browsers
    # neither render nor sniff them.
    json_family = essence.startswith("application/") and "json" in essence
    if is_json_mime(essence) or json_family or not looks_like_json(body, truncated):
        return None
    if not essence:
        detail = "a JSON body without Content-Type (browsers sniff it)"
        return Problem("json-content-type", detail, None, ("(no Content-Type header)",))
    severity = Severity.medium if is_html_mime(essence) else None
    shown = tuple(f"Content-Type: {v}" for v in content_types[:1])
    return Problem("json-content-type", f"a JSON body served as {essence}", severity, shown)
