"""The headers probe: security headers, cookies, caching and CORS of every response.

Passive over every response of the scan, plus two CORS requests per endpoint (a foreign `Origin`
and `Origin: null`); one finding per rule lists every affected endpoint. Missing headers count on
the final 2xx answer to GET, framing and CSP on HTML only, so a JSON API is not flagged for them.

Passive: every exchange of the scan (any probe's) is collected, and `conclude` judges each
scenario endpoint on its own answers only: requests for the endpoint's URL with its method (the
query may differ, as other probes vary it) and this probe's CORS requests. Answers to other
URLs that probes request for an endpoint (the errors probe's unknown path, its invented method)
say nothing about the endpoint: a catch-all page or another handler answers them. They are only
read for what they tell about the server as a whole, version banners and weak cookies, and
such a problem is reported under that URL's own "METHOD /path", at low at most, only when no
endpoint's own answer already shows it.

Headers a response should carry (HSTS, nosniff, framing protection, CSP, Referrer-Policy,
Permissions-Policy) are judged on the endpoint's final 2xx answer to GET, the baseline first;
an endpoint with no such answer is judged on its other answers (redirect, error page, HEAD,
OPTIONS) at info at most, an HTML error page at low. Framing, CSP, Referrer-Policy and
Permissions-Policy apply to HTML documents only; a body that parses as JSON is not one, whatever
its Content-Type (json-content-type reports that). Cache-Control is judged on 2xx answers to
authenticated GETs. Things a response should not carry (version banners, weak cookies,
permissive CORS, JSON under a non-JSON type) are judged on every answer of the endpoint;
Set-Cookie lines of login requests too. Headers are read from the raw lines, names and tokens
compared by ASCII case only.

Active: per endpoint, the endpoint's request (as its identity) with a foreign `Origin` (the
`cors_origin` setting, never contacted) and with `Origin: null`. For a method that changes state,
a browser-like preflight (OPTIONS, no credentials) is sent instead, so that nothing is created or
deleted twice.

Every endpoint gets one check per family (pass, fail, skipped with the reason, or error when no
answer came).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

from probe.exchange import Exchange
from probe.findings import Confidence, Rule, Severity
from probe.probes.base import Found, Probe, ProbeContext, RequestSpec
from probe.probes.header_families import Judged, banners, cookies, judge_all, judge_endpoint
from probe.probes.header_rules import PROBE_ID, RULES
from probe.probes.header_values import Problem, ascii_lower, mime_essence
from probe.scenario.models import Endpoint, HeadersConfig, Scenario

DEFAULT_ORIGIN = "https://probe-cors-check.invalid"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAFELISTED_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
_SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language"})
# The header each rule family is about: the finding's `parameter`, a missing header's excerpt.
_HEADER_OF = {
    "hsts": "Strict-Transport-Security",
    "nosniff": "X-Content-Type-Options",
    "framing": "X-Frame-Options",
    "csp": "Content-Security-Policy",
    "referrer": "Referrer-Policy",
    "permissions": "Permissions-Policy",
    "cache": "Cache-Control",
    "cors": "Access-Control-Allow-Origin",
    "json": "Content-Type",
    "cookie": "Set-Cookie",
    "version": "Server",
}
_FIRM = frozenset({"json-content-type", "version-banner"})
# The most a problem seen only on another URL than an endpoint's own may weigh.
_ELSEWHERE_CAP = Severity.low
# A request's method and URL path: what makes an exchange one of an endpoint's own.
Key = tuple[str, str]


@dataclass(frozen=True)
class Hit:
    """One problem at one endpoint, with the exchange that shows it and its final severity."""

    label: str
    exchange: Exchange
    problem: Problem
    severity: Severity


class HeadersProbe(Probe):
    """Security headers, cookies, caching and CORS of every response the scan sees."""

    id = PROBE_ID
    title = "Security headers, cookies, caching and CORS"
    rules = RULES

    def __init__(self) -> None:
        self._seen: list[Exchange] = []
        self._active: dict[str, list[Exchange]] = {}
        self._origin = DEFAULT_ORIGIN

    def plan(self, scenario: Scenario) -> list[str]:
        """The CORS requests `run` would send, one line per endpoint."""
        config = scenario.probes.headers
        origin = config.cors_origin if isinstance(config, HeadersConfig) else DEFAULT_ORIGIN
        lines: list[str] = []
        for endpoint in scenario.endpoints:
            url = scenario.target.base_url + endpoint.rendered_path
            if endpoint.method in _SAFE_METHODS:
                who = f" as {endpoint.identity}" if endpoint.identity else ""
                request = f"{endpoint.method} {url}{who}"
            else:
                request = f"OPTIONS {url} (preflight for {endpoint.method}, no credentials)"
            lines.append(f"{self.id}: {request} with Origin: {origin}, then with Origin: null")
        lines.append(f"{self.id}: judges the headers of every response of the scan (passive)")
        return lines

    def observe(self, exchange: Exchange) -> None:
        """Keep the endpoints' exchanges, and logins (which often set the session cookie)."""
        if exchange.endpoint is not None or exchange.purpose.startswith("login"):
            self._seen.append(exchange)

    async def run(self, ctx: ProbeContext) -> None:
        """Send each endpoint's request with a foreign Origin and with `Origin: null`."""
        config = ctx.config(self.id)
        if isinstance(config, HeadersConfig):
            self._origin = config.cors_origin
        async with anyio.create_task_group() as group:
            for endpoint in ctx.scenario.endpoints:
                for origin in (self._origin, "null"):
                    group.start_soon(self._send_cors, ctx, endpoint, origin)

    async def _send_cors(self, ctx: ProbeContext, endpoint: Endpoint, origin: str) -> None:
        safe = endpoint.method in _SAFE_METHODS
        if safe:
            spec = ctx.endpoint_request(endpoint, headers=[("Origin", origin)])
        else:
            spec = preflight(ctx, endpoint, origin)
        kind = "cors" if safe else "cors-preflight"
        exchange = await ctx.send(
            spec,
            probe=self.id,
            purpose=f"{kind}-{'null' if origin == 'null' else 'origin'}",
            endpoint=endpoint,
            identity=endpoint.identity if safe else None,
        )
        self._active.setdefault(endpoint.label, []).append(exchange)

    def conclude(self, ctx: ProbeContext) -> None:
        """Judge every endpoint, record its checks, and report one finding per rule."""
        hits: list[Hit] = []
        groups = self._groups(ctx)
        elsewhere: list[Exchange] = []
        for endpoint in ctx.scenario.endpoints:
            active = self._active.get(endpoint.label, [])
            own, other = split_own(groups.pop(endpoint.label, []), own_key(ctx, endpoint), active)
            elsewhere += other
            for family, outcome in judge_endpoint(endpoint, own, active, self._origin):
                ctx.check(self.id, family, endpoint, outcome.status, outcome.detail)
                hits += _hits(endpoint.label, outcome.hits)
        for label, exchanges in groups.items():  # logins: only their cookies are judged
            hits += _hits(label, judge_all(exchanges, cookies))
        hits += elsewhere_hits(elsewhere, hits)
        for rule in RULES:
            mine = [h for h in hits if f"{PROBE_ID}.{h.problem.name}" == rule.id]
            if mine:
                ctx.report(self.id, found_for(rule, mine))

    def _groups(self, ctx: ProbeContext) -> dict[str, list[Exchange]]:
        """Exchanges by endpoint label in scan order.

        A login request joins the endpoint with the same method and path, if there is one;
        otherwise it is labelled "METHOD /path".
        """
        known = {own_key(ctx, e): e.label for e in ctx.scenario.endpoints}
        groups: dict[str, list[Exchange]] = {}
        for exchange in sorted(self._seen, key=lambda x: x.seq):
            label = exchange.endpoint
            if label is None:
                key = request_key(exchange)
                label = known.get(key, _url_label(key))
            groups.setdefault(label, []).append(exchange)
        return groups


def own_key(ctx: ProbeContext, endpoint: Endpoint) -> Key:
    """The method and URL path of the endpoint's own request."""
    return endpoint.method, urlsplit(ctx.endpoint_request(endpoint).url).path or "/"


def request_key(exchange: Exchange) -> Key:
    """The method and URL path an exchange asked for (the query aside)."""
    return exchange.request.method, urlsplit(exchange.request.url).path or "/"


def _url_label(key: Key) -> str:
    return f"{key[0]} {key[1]}"


def split_own(
    exchanges: Sequence[Exchange], key: Key, active: Sequence[Exchange]
) -> tuple[list[Exchange], list[Exchange]]:
    """An endpoint's own exchanges (its method and path, or the probe's CORS requests) and
    the others that carry its label (other paths or methods that probes tried for it)."""
    mine = {x.seq for x in active}
    own: list[Exchange] = []
    other: list[Exchange] = []
    for exchange in exchanges:
        is_own = exchange.seq in mine or request_key(exchange) == key
        (own if is_own else other).append(exchange)
    return own, other


def elsewhere_hits(exchanges: Sequence[Exchange], known: Sequence[Hit]) -> list[Hit]:
    """Banners and weak cookies on answers to other URLs, not already seen at an endpoint.

    Each problem is shown once, under the first URL ("METHOD /path") that showed it, at low
    at most: it tells about the server, not about any endpoint.
    """
    seen = {(h.problem.name, h.problem.detail) for h in known}
    by_url: dict[str, list[Exchange]] = {}
    for exchange in sorted(exchanges, key=lambda x: x.seq):
        by_url.setdefault(_url_label(request_key(exchange)), []).append(exchange)
    found: list[Hit] = []
    for label, group in by_url.items():
        for family in (banners, cookies):
            for exchange, problem, _ in judge_all(group, family):
                if (problem.name, problem.detail) not in seen:
                    seen.add((problem.name, problem.detail))
                    found += _hits(label, [(exchange, problem, _ELSEWHERE_CAP)])
    return found


def preflight(ctx: ProbeContext, endpoint: Endpoint, origin: str) -> RequestSpec:
    """The preflight a browser would send before the endpoint's request from `origin`."""
    spec = ctx.endpoint_request(endpoint)
    wanted = {ascii_lower(n) for n, v in spec.headers if not _safelisted(n, v)}
    identity = ctx.scenario.identities.get(endpoint.identity or "")
    if identity is not None:
        wanted.add(ascii_lower(identity.header))
    lines = [("Origin", origin), ("Access-Control-Request-Method", endpoint.method)]
    if wanted:
        lines.append(("Access-Control-Request-Headers", ",".join(sorted(wanted))))
    return RequestSpec("OPTIONS", spec.url, tuple(lines))


def _safelisted(name: str, value: str) -> bool:
    lowered = ascii_lower(name)
    if lowered == "content-type":
        return mime_essence(value) in _SAFELISTED_TYPES
    return lowered in _SAFELISTED_HEADERS


def _hits(label: str, judged: Iterable[Judged]) -> list[Hit]:
    found: list[Hit] = []
    for exchange, problem, cap in judged:
        rule = HeadersProbe.rule(problem.name)
        severity = problem.severity or rule.severity
        if cap is not None and severity.rank > cap.rank:
            severity = cap
        found.append(Hit(label, exchange, problem, severity))
    return found


def found_for(rule: Rule, hits: Sequence[Hit]) -> Found:
    """One finding for a rule: every affected endpoint, one or two exchanges as proof."""
    first: dict[str, Hit] = {}
    for hit in hits:
        first.setdefault(hit.label, hit)
    labels = list(first)
    shown = list(first.values())[:2]
    name = rule.id.split(".", 1)[1]
    header = _HEADER_OF.get(name.split("-", 1)[0], "")
    return Found(
        rule=rule,
        detail=f"{shown[0].problem.detail} - on {_where(labels)}",
        exchanges=[h.exchange for h in shown],
        endpoint=labels[0] if len(labels) == 1 else None,
        affected=labels if len(labels) > 1 else [],
        grouped=True,
        parameter=_parameter(header, hits),
        severity=max((h.severity for h in hits), key=lambda s: s.rank),
        confidence=Confidence.firm if name in _FIRM else Confidence.certain,
        excerpts={
            i: "\n".join(h.problem.lines) or f"(no {header} header)" for i, h in enumerate(shown)
        },
        notes={i: f"{h.label}: {h.problem.detail}" for i, h in enumerate(shown)},
    )


def _where(labels: Sequence[str]) -> str:
    if len(labels) == 1:
        return labels[0]
    more = ", ..." if len(labels) > 4 else ""
    return f"{len(labels)} endpoints ({', '.join(labels[:4])}{more})"


def _parameter(header: str, hits: Sequence[Hit]) -> str:
    subjects = sorted({h.problem.subject for h in hits if h.problem.subject})
    if not subjects:
        return header
    return f"{header}: {', '.join(subjects)}" if header == "Set-Cookie" else ", ".join(subjects)
