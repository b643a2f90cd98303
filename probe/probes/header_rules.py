"""The rules of the headers probe: what each one judges, how bad it is, and how to fix it.

Severities follow one scale so a report on a plain JSON API stays short:
high for cross-origin reading of credentialed data; medium for what is exploitable in common
set-ups (framing of HTML, shared caching of private answers, JSON rendered as HTML); low for
missing hardening on the responses where browsers use it; info for advice. Missing headers on
anything but a final 2xx answer to GET (redirects, errors, HEAD, OPTIONS) are at most info, an
HTML error page at most low. An endpoint is judged on its own answers only (its method and
path); what other URLs show (a catch-all page, an unknown path) is never put on it.
"""

from __future__ import annotations

from typing import Any

from probe.findings import Rule, Severity
from probe.probes.base import make_rule

PROBE_ID = "headers"
_MISCONFIG = {"owasp": "A05:2021", "owasp_api": "API8:2023"}
_SCOPE = (
    " Judged on the endpoint's own answers (its method and path, any query), never on other "
    "URLs: its final 2xx answer to GET; when it has none, its other answers (redirect, error "
    "page, HEAD, OPTIONS) at info at most (an HTML error page at low)."
)
_NOT_JSON = (
    " A body that parses as JSON is not an HTML document whatever its Content-Type "
    "(json-content-type reports a wrong type)."
)
_ELSEWHERE = (
    " Answers to other URLs that probes request (an unknown path, an invented method) are "
    "never put on the endpoint; a problem seen only there is reported under that URL, at low "
    "at most."
)


def _rule(name: str, **fields: Any) -> Rule:
    return make_rule(PROBE_ID, name, **fields)


_HSTS = {"owasp": "A02:2021", "owasp_api": "API8:2023", "cwe": 319}
_HSTS_FIX = (
    "Send one line `Strict-Transport-Security: max-age=31536000; includeSubDomains` (or longer) "
    "on every HTTPS response."
)

HSTS_RULES = (
    _rule(
        "hsts-missing",
        title="Strict-Transport-Security missing on HTTPS",
        severity=Severity.low,
        description=(
            "Passive. An HTTPS response without a Strict-Transport-Security line lets a "
            "network attacker downgrade the next visit to plain HTTP. Header names are matched "
            "in any letter case; a header received over plain HTTP is ignored by browsers and "
            "never credited." + _SCOPE
        ),
        remediation=_HSTS_FIX,
        **_HSTS,
    ),
    _rule(
        "hsts-invalid",
        title="Strict-Transport-Security is malformed and ignored",
        severity=Severity.low,
        description=(
            "Passive. The first HSTS line is parsed as RFC 6797 says: a repeated directive, a "
            "missing or non-numeric max-age or a malformed directive voids the whole header, so "
            "browsers act as if it were absent." + _SCOPE
        ),
        remediation=_HSTS_FIX,
        **_HSTS,
    ),
    _rule(
        "hsts-disabled",
        title="Strict-Transport-Security max-age=0 switches HSTS off",
        severity=Severity.low,
        description=(
            "Passive. max-age=0 tells browsers to forget the host's HSTS policy: the site is "
            "exactly as exposed as without the header." + _SCOPE
        ),
        remediation=_HSTS_FIX,
        **_HSTS,
    ),
    _rule(
        "hsts-short",
        title="Strict-Transport-Security max-age below one year",
        severity=Severity.low,
        description=(
            "Passive. A max-age under 31536000 seconds lets the policy lapse between visits and "
            "is too short for preload lists; very large values are fine." + _SCOPE
        ),
        remediation=_HSTS_FIX,
        **_HSTS,
    ),
    _rule(
        "hsts-multiple",
        title="Several Strict-Transport-Security lines",
        severity=Severity.low,
        description=(
            "Passive. Browsers process only the first HSTS line (RFC 6797 section 8.1); two "
            "lines usually mean two layers (app and proxy) disagree, and the one that counts "
            "may be the weaker. Lines with the same policy are reported as info."
        ),
        remediation="Set HSTS in one place (the proxy or the app) so exactly one line is sent.",
        **_HSTS,
    ),
)

CONTENT_RULES = (
    _rule(
        "nosniff-missing",
        title="X-Content-Type-Options: nosniff missing",
        severity=Severity.low,
        description=(
            "Passive. Any response with a body (JSON included: it keeps browsers from running "
            "an API answer as script or HTML) should carry X-Content-Type-Options: nosniff; "
            "the first value must be `nosniff` in any ASCII case." + _SCOPE
        ),
        remediation="Send `X-Content-Type-Options: nosniff` on every response.",
        cwe=693,
        **_MISCONFIG,
    ),
    _rule(
        "framing-missing",
        title="HTML page can be framed by any site (clickjacking)",
        severity=Severity.medium,
        description=(
            "Passive, HTML documents only (a JSON answer is never framed as a page). Protected "
            "means CSP frame-ancestors without a wildcard, or X-Frame-Options DENY or "
            "SAMEORIGIN, judged as the HTML standard says: ALLOW-FROM is ignored by browsers "
            "and counts as missing, and frame-ancestors in a <meta> policy is ignored."
            + _NOT_JSON
            + _SCOPE
        ),
        remediation=(
            "Send `Content-Security-Policy: frame-ancestors 'none'` (or 'self'), and "
            "`X-Frame-Options: DENY` for old browsers."
        ),
        cwe=1021,
        **_MISCONFIG,
    ),
    _rule(
        "csp-missing",
        title="HTML page without Content-Security-Policy",
        severity=Severity.low,
        description=(
            "Passive, HTML documents only. No enforced policy, neither a "
            "Content-Security-Policy header nor a <meta http-equiv> policy, limits what an "
            "injected script could do." + _NOT_JSON + _SCOPE
        ),
        remediation=(
            "Send a policy that restricts scripts, e.g. `default-src 'self'; object-src 'none'; "
            "frame-ancestors 'none'`, with nonces or hashes for inline scripts."
        ),
        cwe=693,
        **_MISCONFIG,
    ),
    _rule(
        "csp-report-only",
        title="Content-Security-Policy is report-only and enforces nothing",
        severity=Severity.low,
        description=(
            "Passive, HTML documents only. The page sends only "
            "Content-Security-Policy-Report-Only: violations are reported, nothing is blocked."
            + _NOT_JSON
            + _SCOPE
        ),
        remediation="Once the reports are clean, send the policy as Content-Security-Policy.",
        cwe=693,
        **_MISCONFIG,
    ),
    _rule(
        "csp-unsafe",
        title="Content-Security-Policy lets injected scripts run",
        severity=Severity.low,
        description=(
            "Passive, HTML documents only. The enforced policies (headers and <meta>, which "
            "a script must all pass) are judged for scripts: 'unsafe-inline' without a nonce, "
            "hash or 'strict-dynamic', 'unsafe-eval', wildcard sources (*, https:, data:) in "
            "script-src or its default-src fallback, or no script restriction at all."
            + _NOT_JSON
            + _SCOPE
        ),
        remediation=(
            "Drop 'unsafe-inline' and 'unsafe-eval'; allow scripts by nonce or hash (with "
            "'strict-dynamic') or by exact hosts."
        ),
        cwe=693,
        **_MISCONFIG,
    ),
    _rule(
        "referrer-policy-missing",
        title="HTML page without Referrer-Policy",
        severity=Severity.info,
        description=(
            "Passive, HTML documents only (browsers apply it to a document's links and loads, "
            "not to a JSON answer). Info only: current browsers default to "
            "strict-origin-when-cross-origin. A <meta name=referrer> counts." + _NOT_JSON + _SCOPE
        ),
        remediation="Send `Referrer-Policy: strict-origin-when-cross-origin` or `no-referrer`.",
        cwe=200,
        **_MISCONFIG,
    ),
    _rule(
        "permissions-policy-missing",
        title="HTML page without Permissions-Policy",
        severity=Severity.info,
        description=(
            "Passive, HTML documents only (it governs a document's access to camera, "
            "geolocation and the like). Info only: it limits damage, it fixes no flaw."
            + _NOT_JSON
            + _SCOPE
        ),
        remediation=(
            "Send a Permissions-Policy that turns off unused features, e.g. "
            "`camera=(), microphone=(), geolocation=()`."
        ),
        cwe=693,
        **_MISCONFIG,
    ),
    _rule(
        "json-content-type",
        title="JSON body served with a non-JSON Content-Type",
        severity=Severity.low,
        description=(
            "Passive, every answer of the endpoint (its method and path, any query). A body "
            "that is a whole JSON object or array under a Content-Type that is not a JSON type "
            "(application/json, text/json, */*+json) is rendered or sniffed by browsers; medium "
            "when served as text/html, where any string in it becomes markup. Such a body is "
            "not also judged as an HTML page (framing, CSP)."
        ),
        remediation="Serve JSON as `application/json` (with nosniff).",
        cwe=436,
        **_MISCONFIG,
    ),
    _rule(
        "version-banner",
        title="Response headers disclose software versions",
        severity=Severity.low,
        description=(
            "Passive, every answer of the endpoint. Server with a version number, X-Powered-By, "
            "X-AspNet-Version, X-AspNetMvc-Version, X-Generator and similar headers tell an "
            "attacker which exploits to try. Low with a version number, info for a bare "
            "product name; a Server value without a version is not reported." + _ELSEWHERE
        ),
        remediation="Remove these headers, or strip the version (e.g. nginx `server_tokens off`).",
        cwe=497,
        **_MISCONFIG,
    ),
)

_CACHE = {"owasp": "A04:2021", "owasp_api": "API8:2023"}

CACHE_RULES = (
    _rule(
        "cache-public",
        title="Authenticated response may be stored by shared caches",
        severity=Severity.medium,
        description=(
            "Passive, final 2xx answers to GET sent with credentials. Cache-Control `public` "
            "or `s-maxage` (without no-store) allows proxies and CDNs to keep one user's data "
            "and serve it to others."
        ),
        remediation="Send `Cache-Control: no-store` on responses that carry a user's data.",
        cwe=524,
        **_CACHE,
    ),
    _rule(
        "cache-missing",
        title="Authenticated response without Cache-Control",
        severity=Severity.low,
        description=(
            "Passive, final 2xx answers to GET sent with credentials. Without any Cache-Control "
            "directive, browsers (and some proxies) may keep the answer by heuristic."
        ),
        remediation="Send `Cache-Control: no-store` on responses that carry a user's data.",
        cwe=525,
        **_CACHE,
    ),
    _rule(
        "cache-weak",
        title="Authenticated response may be stored by the browser",
        severity=Severity.info,
        description=(
            "Passive, final 2xx answers to GET sent with credentials. Cache-Control is set but "
            "without no-store (private, no-cache, max-age): the answer may be written to the "
            "client's disk cache. Low when it grants a freshness lifetime (max-age > 0) or "
            "must-revalidate without private (which lets shared caches store it)."
        ),
        remediation="Send `Cache-Control: no-store` on responses that carry a user's data.",
        cwe=525,
        **_CACHE,
    ),
)

_CORS_SENT = (
    "Active: the endpoint's request (as its identity) is sent with `Origin: <cors_origin>` (a "
    "foreign origin that is never contacted) and with `Origin: null`; a request with an unsafe "
    "method is not repeated, a browser-like preflight (OPTIONS, no credentials) is sent "
    "instead. Passive: the CORS headers of every answer of the endpoint. Headers are compared "
    "byte for byte, as browsers do: only `Access-Control-Allow-Credentials: true` exactly "
    "allows credentials."
)
_CORS_FIX = (
    "Allow only a fixed list of trusted origins; never echo the request's Origin or allow "
    "`null` when credentials are allowed."
)

CORS_RULES = (
    _rule(
        "cors-reflected-origin",
        title="CORS reflects any Origin with credentials",
        severity=Severity.high,
        description=(
            _CORS_SENT + " High when the foreign Origin comes back in "
            "Access-Control-Allow-Origin with credentials allowed: any site can read the "
            "user's data."
        ),
        remediation=_CORS_FIX,
        owasp="A01:2021",
        owasp_api="API8:2023",
        cwe=942,
    ),
    _rule(
        "cors-null-origin",
        title="CORS allows the null origin with credentials",
        severity=Severity.high,
        description=(
            _CORS_SENT + " High when `Access-Control-Allow-Origin: null` comes with credentials "
            "allowed: any site can read the user's data from a sandboxed frame."
        ),
        remediation=_CORS_FIX,
        owasp="A01:2021",
        owasp_api="API8:2023",
        cwe=942,
    ),
    _rule(
        "cors-wildcard-credentials",
        title="CORS allows * together with credentials",
        severity=Severity.low,
        description=(
            _CORS_SENT + " Low: browsers refuse `*` with credentials, so nothing leaks, but the "
            "intent was to share credentialed data with everyone."
        ),
        remediation=_CORS_FIX,
        cwe=942,
        **_MISCONFIG,
    ),
    _rule(
        "cors-any-origin",
        title="CORS lets any origin read responses (without credentials)",
        severity=Severity.info,
        description=(
            _CORS_SENT + " Info: `*`, `null` or a reflected Origin without credentials lets "
            "any site read what an anonymous client could read anyway; fine for public data."
        ),
        remediation="Make sure the endpoints that allow any origin serve only public data.",
        cwe=942,
        **_MISCONFIG,
    ),
)

_COOKIE_SCOPE = (
    " Passive, every Set-Cookie line of the endpoints' answers and of login requests; lines "
    "that delete a cookie are not judged." + _ELSEWHERE
)

COOKIE_RULES = (
    _rule(
        "cookie-no-secure",
        title="Cookie set over HTTPS without Secure",
        severity=Severity.low,
        description=(
            "A cookie set on an HTTPS response without the Secure attribute is also sent over "
            "plain HTTP, where a network attacker reads it (not judged on plain HTTP targets)."
            + _COOKIE_SCOPE
        ),
        remediation="Add `Secure` to every cookie (or use the `__Host-` prefix).",
        cwe=614,
        **_MISCONFIG,
    ),
    _rule(
        "cookie-no-httponly",
        title="Cookie without HttpOnly",
        severity=Severity.low,
        description=(
            "A cookie without HttpOnly can be read by any script on the page, so one XSS "
            "steals it. Anti-CSRF cookies (names with csrf or xsrf) are meant to be read by "
            "scripts and are not reported." + _COOKIE_SCOPE
        ),
        remediation="Add `HttpOnly` to session and other cookies scripts need not read.",
        cwe=1004,
        **_MISCONFIG,
    ),
    _rule(
        "cookie-no-samesite",
        title="Cookie without SameSite",
        severity=Severity.low,
        description=(
            "A cookie without a valid SameSite attribute (Strict, Lax or None, any ASCII case) "
            "leaves cross-site request forgery defence to each browser's default." + _COOKIE_SCOPE
        ),
        remediation="Add `SameSite=Lax` (or Strict) to every cookie.",
        cwe=1275,
        **_MISCONFIG,
    ),
)

RULES: tuple[Rule, ...] = HSTS_RULES + CONTENT_RULES + CACHE_RULES + CORS_RULES + COOKIE_RULES
