"""Which answers of an endpoint each header family is judged on, and the check it yields.

The answers given here are the endpoint's own: requests for its URL with its method (the query
may differ) and the headers probe's CORS requests; answers to other URLs never reach these
judges. Headers a response should carry are judged on one representative answer: the
endpoint's final 2xx answer to GET (the baseline first). When the endpoint has no such answer,
its other answers (redirect, error page, HEAD, OPTIONS) are judged with the severity capped at
info, or at low for an HTML error page. The HTML-only families (framing, CSP, Referrer-Policy,
Permissions-Policy) skip a body that parses as JSON whatever its Content-Type: it is an API
answer, not a page, and json-content-type reports the wrong type. Things a response should not
carry (banners, weak cookies, permissive CORS, JSON under another type) are judged on every
answer. Every family yields one `Outcome` per endpoint: the check's status and detail, and the
problems with the exchange that shows each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from probe.exchange import Exchange, ResponseRecord
from probe.findings import CheckStatus, Severity
from probe.probes.header_access import judge_cache_control, judge_cookie, judge_cors
from probe.probes.header_csp import (
    csp_problems,
    judge_framing,
    meta_csp,
    meta_referrer,
    response_policies,
)
from probe.probes.header_judges import (
    judge_hsts,
    judge_json_content_type,
    judge_nosniff,
    judge_permissions_policy,
    judge_referrer_policy,
    looks_like_json,
    version_banner,
)
from probe.probes.header_values import (
    Problem,
    Verdict,
    ascii_lower,
    is_html_mime,
    mime_essence,
    skip,
    values_named,
)
from probe.redact import Redactor
from probe.scenario.models import Endpoint

# A problem seen in an exchange, with the most its severity may be (None: no cap).
Judged = tuple[Exchange, Problem, Severity | None]
_MASK = Redactor()


@dataclass(frozen=True)
class Outcome:
    """One family judged at one endpoint.

    Attributes:
        status: The check's status.
        detail: The check's detail: what was seen, or why it was not judged.
        hits: The problems found, each with the exchange that shows it and a severity cap.
    """

    status: CheckStatus
    detail: str
    hits: tuple[Judged, ...] = ()


# -- looking at one exchange -------------------------------------------------------------------


def _response(exchange: Exchange) -> ResponseRecord:
    assert exchange.response is not None
    return exchange.response


def is_primary(exchange: Exchange) -> bool:
    """A final 2xx answer to GET: the answer the missing-header rules are judged on."""
    response = exchange.response
    return (
        response is not None and exchange.request.method == "GET" and 200 <= response.status < 300
    )


def is_html(response: ResponseRecord) -> bool:
    """An HTML document: by Content-Type, or by its first bytes when no type is sent."""
    types = values_named(response.headers, "content-type")
    if types:
        return is_html_mime(mime_essence(types[0]))
    start = ascii_lower(response.body[:64].lstrip().decode("latin-1"))
    return start.startswith(("<!doctype html", "<html"))


def html_document(response: ResponseRecord) -> bool:
    """An HTML page: HTML by type or first bytes, and not a body that parses as JSON."""
    return is_html(response) and not looks_like_json(response.body, response.truncated)


def scheme(exchange: Exchange) -> str:
    """The request's URL scheme, lower-case."""
    return ascii_lower(urlsplit(exchange.request.url).scheme)


def secondary_cap(exchange: Exchange) -> Severity:
    """The most a missing header may weigh on an answer that is not a final 2xx to GET."""
    response = _response(exchange)
    return Severity.low if response.status >= 400 and html_document(response) else Severity.info


def _not_html(response: ResponseRecord) -> Verdict:
    kind = mime_essence(response.header("content-type")) or "a body without Content-Type"
    if is_html(response):
        # JSON under an HTML type is one problem, reported once by json-content-type.
        return skip(f"not applicable: the body is JSON (served as {kind}), not an HTML document")
    return skip(f"not applicable: {kind} is not an HTML document")


# -- families judged on one representative answer ---------------------------------------------


def hsts(exchange: Exchange) -> Verdict:
    """Strict-Transport-Security of one answer."""
    lines = _response(exchange).headers
    return judge_hsts(values_named(lines, "strict-transport-security"), scheme(exchange))


def nosniff(exchange: Exchange) -> Verdict:
    """X-Content-Type-Options of one answer with a body (or to HEAD)."""
    response = _response(exchange)
    if not response.body and exchange.request.method != "HEAD":
        return skip("not applicable: the answer has no body")
    return judge_nosniff(values_named(response.headers, "x-content-type-options"))


def framing(exchange: Exchange) -> Verdict:
    """Framing protection of an HTML answer."""
    response = _response(exchange)
    if not html_document(response):
        return _not_html(response)
    policies = response_policies(response.headers, meta_csp(response.text()))
    return judge_framing(response.headers, policies)


def csp(exchange: Exchange) -> Verdict:
    """Content-Security-Policy of an HTML answer, <meta> policies included."""
    response = _response(exchange)
    if not html_document(response):
        return _not_html(response)
    policies = response_policies(response.headers, meta_csp(response.text()))
    return csp_problems(response.headers, policies)


def referrer(exchange: Exchange) -> Verdict:
    """Referrer-Policy of an HTML answer (header or <meta name=referrer>)."""
    response = _response(exchange)
    if not html_document(response):
        return _not_html(response)
    values = values_named(response.headers, "referrer-policy")
    return judge_referrer_policy(values, meta_referrer(response.text()))


def permissions(exchange: Exchange) -> Verdict:
    """Permissions-Policy of an HTML answer."""
    response = _response(exchange)
    if not html_document(response):
        return _not_html(response)
    return judge_permissions_policy(values_named(response.headers, "permissions-policy"))


def cache(exchange: Exchange) -> Verdict:
    """Cache-Control of an answer to an authenticated request (one with a body to cache)."""
    response = _response(exchange)
    if response.status == 204 or not response.body:
        return Verdict(skipped="not applicable: the answer has no body to cache")
    return judge_cache_control(values_named(response.headers, "cache-control"))


def representative(exchanges: Sequence[Exchange]) -> tuple[Exchange, bool] | None:
    """The answer to judge (primary first, the baseline preferred) and whether it is primary."""
    answered = [x for x in exchanges if x.response is not None]
    primary = [x for x in answered if is_primary(x)]
    pool = primary or answered
    if not pool:
        return None
    baseline = [x for x in pool if x.purpose == "baseline"]
    return (baseline or pool)[0], bool(primary)


def no_answer(exchanges: Sequence[Exchange]) -> Outcome:
    """The error outcome of an endpoint that never answered."""
    errors = [x.error for x in exchanges if x.error]
    why = errors[0] if errors else "no request reached the endpoint"
    return Outcome(CheckStatus.error, f"no answer to judge: {why}")


def _where(exchange: Exchange) -> str:
    status = exchange.response.status if exchange.response else "no answer"
    return f"{exchange.request.method} answer {status}"


def judge_one(exchanges: Sequence[Exchange], family: Callable[[Exchange], Verdict]) -> Outcome:
    """Judge a family on the endpoint's representative answer (severity capped if secondary)."""
    chosen = representative(exchanges)
    if chosen is None:
        return no_answer(exchanges)
    exchange, primary = chosen
    verdict = family(exchange)
    where = _where(exchange)
    if verdict.skipped is not None:
        return Outcome(CheckStatus.skipped, f"{verdict.skipped} ({where})")
    if not verdict.problems:
        return Outcome(CheckStatus.passed, f"{verdict.passed} ({where})")
    cap = None if primary else secondary_cap(exchange)
    details = "; ".join(p.detail for p in verdict.problems)
    hits = tuple((exchange, p, cap) for p in verdict.problems)
    return Outcome(CheckStatus.failed, f"{details} ({where})", hits)


def cache_outcome(endpoint: Endpoint, exchanges: Sequence[Exchange]) -> Outcome:
    """Cache-Control judged on the endpoint's 2xx answers to authenticated GETs."""
    authenticated = [x for x in exchanges if "authenticated" in x.tags and is_primary(x)]
    if authenticated:
        return judge_one(authenticated, cache)
    if endpoint.identity is None:
        return Outcome(
            CheckStatus.skipped, "not applicable: the endpoint is requested without credentials"
        )
    statuses = sorted(
        {x.response.status for x in exchanges if x.response and "authenticated" in x.tags}
    )
    seen = f" (answers: {', '.join(map(str, statuses))})" if statuses else ""
    return Outcome(CheckStatus.skipped, f"no 2xx answer to an authenticated GET{seen}")


# -- families judged on every answer -----------------------------------------------------------


def banners(exchange: Exchange) -> list[Problem]:
    """Every header of the answer that names software."""
    problems: list[Problem] = []
    for name, value in _response(exchange).headers:
        banner = version_banner(name, value)
        if banner is not None:
            line = f"{banner.header}: {banner.value}"
            severity = None if banner.versioned else Severity.info
            problems.append(Problem("version-banner", line, severity, (line,), banner.header))
    return problems


def cookies(exchange: Exchange) -> list[Problem]:
    """Every weak Set-Cookie line of the answer (values masked in the shown line)."""
    https = scheme(exchange) == "https"
    problems: list[Problem] = []
    for value in values_named(_response(exchange).headers, "set-cookie"):
        shown = (f"Set-Cookie: {_MASK.header('set-cookie', value)}",)
        for problem in judge_cookie(value, https=https):
            problems.append(dataclasses.replace(problem, lines=shown))
    return problems


def json_type(exchange: Exchange) -> list[Problem]:
    """A JSON body under a non-JSON Content-Type."""
    response = _response(exchange)
    if exchange.request.method == "HEAD" or response.status in (204, 304):
        return []
    types = values_named(response.headers, "content-type")
    problem = judge_json_content_type(types, response.body, response.truncated)
    return [] if problem is None else [problem]


def cors(foreign: str) -> Callable[[Exchange], list[Problem]]:
    """A judge of CORS headers that knows which Origin values the probe sent."""

    def judge(exchange: Exchange) -> list[Problem]:
        sent = values_named(exchange.request.headers, "origin")
        origin = sent[0] if sent and sent[0] in (foreign, "null") else None
        return judge_cors(origin, _response(exchange).headers)

    return judge


def judge_all(
    exchanges: Sequence[Exchange], family: Callable[[Exchange], list[Problem]]
) -> tuple[Judged, ...]:
    """Every distinct problem of a family over every answer, with the first exchange showing it."""
    hits: list[Judged] = []
    seen: set[tuple[str, str]] = set()
    for exchange in exchanges:
        if exchange.response is None:
            continue
        for problem in family(exchange):
            if (problem.name, problem.detail) not in seen:
                seen.add((problem.name, problem.detail))
                hits.append((exchange, problem, None))
    return tuple(hits)


def summary(hits: Sequence[Judged]) -> str:
    """The first few problems, for a failed check's detail."""
    details = [problem.detail for _, problem, _ in hits]
    more = f" (+{len(details) - 3} more)" if len(details) > 3 else ""
    return "; ".join(details[:3]) + more


def judge_every(
    exchanges: Sequence[Exchange],
    family: Callable[[Exchange], list[Problem]],
    passed: str,
    applies: Callable[[ResponseRecord], bool] | None = None,
    unseen: str = "",
) -> Outcome:
    """Judge a family on every answer; skipped (`unseen` says why) when `applies` holds for none."""
    answered = [x for x in exchanges if x.response is not None]
    if not answered:
        return no_answer(exchanges)
    hits = judge_all(answered, family)
    if hits:
        return Outcome(CheckStatus.failed, summary(hits), hits)
    if applies is not None and not any(applies(_response(x)) for x in answered):
        return Outcome(CheckStatus.skipped, f"not applicable: {unseen}")
    return Outcome(CheckStatus.passed, passed)


def sets_cookie(response: ResponseRecord) -> bool:
    """True when the answer sets a cookie."""
    return bool(values_named(response.headers, "set-cookie"))


def has_json(response: ResponseRecord) -> bool:
    """True when the body looks like a JSON object or array."""
    return response.body.lstrip()[:1] in (b"{", b"[")


def cors_outcome(
    exchanges: Sequence[Exchange], active: Sequence[Exchange], foreign: str
) -> Outcome:
    """CORS judged on every answer; passing needs an answer to the probe's own requests."""
    hits = judge_all(exchanges, cors(foreign))
    if hits:
        return Outcome(CheckStatus.failed, summary(hits), hits)
    answered = [x for x in active if x.response is not None]
    if answered:
        allowed = {
            value
            for x in answered
            for value in values_named(_response(x).headers, "access-control-allow-origin")
        }
        fixed = f" (allows only {', '.join(sorted(allowed))})" if allowed else ""
        return Outcome(CheckStatus.passed, f"neither Origin {foreign} nor null is allowed{fixed}")
    if active:
        return no_answer(active)
    return Outcome(CheckStatus.skipped, "the probe's CORS requests were not sent")


def judge_endpoint(
    endpoint: Endpoint, exchanges: Sequence[Exchange], active: Sequence[Exchange], foreign: str
) -> Iterator[tuple[str, Outcome]]:
    """Every family's check name and outcome at one endpoint."""
    over_https = [x for x in exchanges if scheme(x) == "https"] or exchanges
    yield "hsts", judge_one(over_https, hsts)
    yield "nosniff", judge_one(exchanges, nosniff)
    yield "framing", judge_one(exchanges, framing)
    yield "csp", judge_one(exchanges, csp)
    yield "referrer-policy", judge_one(exchanges, referrer)
    yield "permissions-policy", judge_one(exchanges, permissions)
    yield "cache-control", cache_outcome(endpoint, exchanges)
    yield "cors", cors_outcome(exchanges, active, foreign)
    yield "version-banner", judge_every(exchanges, banners, "no software version disclosed")
    yield (
        "cookies",
        judge_every(
            exchanges,
            cookies,
            "every cookie set has Secure, HttpOnly and SameSite",
            sets_cookie,
            "no answer set a cookie",
        ),
    )
    yield (
        "json-content-type",
        judge_every(
            exchanges, json_type, "every JSON body is served as JSON", has_json, "no JSON body seen"
        ),
    )
