"""The rules of the rate_limit probe: what each one judges, how bad it is, and how to fix it.

Severities: a missing limit on an endpoint tagged `auth` (login, password reset, token) is
high, as a limit that a spoofed client-address header switches off there; elsewhere a missing,
late or bypassable limit is medium (a cap on requests in flight alone counts as missing). A
burst that gets past the limit through a race is low, medium when it admits at least twice the
limit. What is wrong with how the limit is announced (no Retry-After or RateLimit information,
malformed values) is low; limiting with another status than 429 is info.
"""

from __future__ import annotations

from typing import Any

from probe.findings import Rule, Severity
from probe.probes.base import make_rule

PROBE_ID = "rate_limit"
#: The tag that marks an endpoint as part of authentication (raises some severities).
AUTH_TAG = "auth"

_RESOURCES = {"owasp": "A04:2021", "owasp_api": "API4:2023"}
_ANNOUNCE = {"owasp": "A05:2021", "owasp_api": "API8:2023", "cwe": 684}
_LIMIT_ANSWER = (
    " A limit answer is a 429; or another status that differs from the normal answer and is "
    "one limiters use (403, 420, 503) or whose body speaks of a rate limit; or a lockout (a "
    "423, or another 4xx whose body says locked, too many or try again later); or a 2xx whose "
    "body speaks of a rate limit while the normal answer's does not, and is not alike it "
    "(another JSON shape). Other than a 429, it counts only when, once it starts, it makes up "
    "at least 80% of the rest of the burst in order of arrival; scattered failures are an "
    "overloaded server, not a limiter."
)


def _rule(name: str, **fields: Any) -> Rule:
    return make_rule(PROBE_ID, name, **fields)


RULES = (
    _rule(
        "not-enforced",
        title="No rate limit under a burst",
        severity=Severity.medium,
        cwe=770,
        description=(
            "The endpoint's request (as its identity) is sent `burst` times at once, released "
            "together by last-byte synchronisation, then one request at a time (up to "
            "`sequential_max`). No limit answer in either is reported: medium, high on "
            "endpoints tagged `auth`, where an unlimited endpoint allows password guessing "
            "(CWE-307); tentative when the answers announce a quota above the burst. A burst "
            "that was limited while one request at a time got clearly more through within a "
            "second is reported too (a cap on requests in flight, not a rate limit), as a "
            "finding of its own." + _LIMIT_ANSWER
        ),
        remediation=(
            "Limit requests per client (and per account on authentication endpoints) and "
            "answer 429 with Retry-After once the limit is reached."
        ),
        **_RESOURCES,
    ),
    _rule(
        "late-limit",
        title="Rate limit later than expected",
        severity=Severity.medium,
        cwe=770,
        description=(
            "The burst was limited, but it admitted more requests than the endpoint's "
            "`expect_limit` before the limit held (or it met no limit answer at all, and one "
            "came only one request at a time after it). Requests admitted just before the "
            "burst (the freshness check, path variants) within the previous 10 s count with it; "
            "when only that sum exceeds `expect_limit`, the finding is tentative."
        ),
        remediation="Lower the limit to what the scenario expects, or correct expect_limit.",
        **_RESOURCES,
    ),
    _rule(
        "no-limit-info",
        title="Limit answer without Retry-After or RateLimit information",
        severity=Severity.low,
        description=(
            "No limit answer of the burst carries Retry-After, RateLimit, RateLimit-Policy, "
            "RateLimit-Limit/-Remaining/-Reset or X-RateLimit-* headers: a client cannot tell "
            "when to retry, and well-behaved clients retry too early."
        ),
        remediation=(
            "Send Retry-After (seconds) with every 429, and preferably the RateLimit and "
            "RateLimit-Policy fields of the IETF draft."
        ),
        **_ANNOUNCE,
    ),
    _rule(
        "malformed-header",
        title="Malformed rate-limit header value",
        severity=Severity.low,
        description=(
            "A rate-limit header of a burst answer holds a value that cannot be right: not "
            "parsable, a fraction or a negative number where whole seconds are meant, an "
            "epoch time where a delay is meant (Retry-After, RateLimit-Reset, the `t` "
            "parameter), a delay about 1000 times another delay of the same answer "
            "(milliseconds for seconds), an HTTP date more than a day in the past, or a number "
            "too large to be any delay or time (over 10^13 seconds; read as that, so waits stay "
            "capped). X-RateLimit-Reset may be a delay, an epoch time (seconds or "
            "milliseconds) or, unusual but unambiguous, an ISO 8601 or HTTP date."
        ),
        remediation=(
            'Send delays as whole seconds (Retry-After: 30, RateLimit: "default";r=0;t=30) '
            "and dates in the IMF-fixdate form."
        ),
        **_ANNOUNCE,
    ),
    _rule(
        "non-429-status",
        title="Rate limit signalled with another status than 429",
        severity=Severity.info,
        description=(
            "The burst was limited, with a status other than 429 (the status seen is in the "
            "detail; `lockout` for brute-force protection that locks the account): clients "
            "and libraries that retry on 429 do not recognise it. Not reported when the "
            "limiter only caps requests in flight (see not-enforced)." + _LIMIT_ANSWER
        ),
        remediation="Answer 429 Too Many Requests when a client exceeds the limit.",
        **_ANNOUNCE,
    ),
    _rule(
        "burst-exceeds-limit",
        title="A burst gets past the rate limit",
        severity=Severity.low,
        owasp="A04:2021",
        owasp_api="API4:2023",
        cwe=362,
        description=(
            "A simultaneous burst admitted clearly more requests (more than sequential + "
            "max(2, 20%)) than a run of one request at a time shows as the limit, and did "
            "again when repeated after the window reset: the limiter's check and update are "
            "not atomic. A burst with no limit answer at all counts too when one request at a "
            "time after it meets a limit. Low; medium when the burst admits at least twice the "
            "limit. Both figures are in the detail."
        ),
        remediation=(
            "Count and check in one atomic step (an atomic increment in the store, a lock, or "
            "the limiter of the gateway) before the request is handled."
        ),
    ),
    _rule(
        "bypass-header",
        title="Rate limit bypassed with a spoofed client-address header",
        severity=Severity.medium,
        cwe=348,
        description=(
            "Once the burst was limited, the same request with X-Forwarded-For, X-Real-IP, "
            "Forwarded, True-Client-IP or X-Client-IP claiming a documentation-range address "
            "got the endpoint's normal answer while the original stayed limited. Two rounds, "
            "each a new address with two requests released together (one when `burst` is 1), "
            "each followed by the original request being limited: a limiter that refills "
            "gradually or a window that resets at that moment cannot pass for a bypass. High "
            "on endpoints tagged `auth`, medium elsewhere."
        ),
        remediation=(
            "Key the limiter on the connection's address, or on a forwarding header only when "
            "it was set by your own proxy (trusted proxies, rightmost untrusted address)."
        ),
        **_RESOURCES,
    ),
    _rule(
        "bypass-path",
        title="Rate limit bypassed with a variant of the path",
        severity=Severity.medium,
        cwe=706,
        description=(
            "Once the burst was limited, a variant of the path that returned the same answer "
            "as the original before the burst (trailing slash, letter case, a doubled slash, "
            "an added query parameter; a POST gets only the trailing slash and the query "
            "parameter, other unsafe methods none) still got the normal answer, in two rounds "
            "of two requests released together, the original request limited after each. A "
            "variant answered differently before the burst (a 404, a redirect) is never tried."
        ),
        remediation=(
            "Key the limiter on the route as the application resolves it, not on the raw "
            "request path and query."
        ),
        **_RESOURCES,
    ),
)
