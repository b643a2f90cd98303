"""The https probe: is plain HTTP refused or redirected properly, and will the TLS set-up hold?

What it sends, when base_url is https:// (all anonymous, none of it with an identity's token):

- `plain-http`: a GET on the plain-HTTP twin (`target.effective_http_url`) of the path of the
  first GET endpoint without an identity (else the first GET endpoint, else the first
  endpoint; `/` without endpoints), never its query: one query parameter carrying the scan
  marker shows a lost query. A path that holds a scenario secret falls back to the twin's own
  path, then `/`: no secret crosses the network in cleartext. The redirect chain is followed
  by hand, one request per hop, at most 10 hops. Every Location is read as a browser reads it
  and judged before it is requested: a host that is not the API's (base_url's, the twin's, or
  one named in the scope) is judged from the Location alone and never contacted; a port out
  of scope is not requested either.
- `credentials-over-http`: per endpoint tagged `auth` (one that takes credentials in its own
  request), that request as the scenario describes it (body, query and headers, never an
  identity's token) sent once to the twin, not following redirects. An `auth` endpoint whose
  own request carries no credentials, and a DELETE endpoint, is `skipped` with the reason.
- TLS, on base_url's host and port (SNI set to its host name): one handshake without
  verification to read the facts (protocol, cipher, leaf certificate), one verified as
  `verify_tls` says (none when it is false), one offering only TLS 1.0 and one offering only
  TLS 1.1 (skipped when the local OpenSSL cannot offer them). A handshake sends nothing else.

When base_url is plain http://, nothing is sent: that is `https.no-tls`, and every other
check is `skipped` with that reason.

How it judges: pure functions in `https_redirects` (chains, credentials) and `https_tls`
(trust, host name, dates, versions). An answer that neither serves, redirects nor refuses plain
HTTP (403, 405, a firewall page, bytes that are no valid HTTP answer, an HTTPS URL that does not
answer) is inconclusive: the check is `error` with the reason, never a pass and never a
finding, since a rule aimed at the scanner may hide what real clients get. TLS findings carry
the handshake's facts in their detail and an `openssl s_client` line as their reproduction.
Checks, all target-wide but `credentials-over-http` (per `auth` endpoint): base-url-tls,
plain-http, credentials-over-http, tls-handshake, tls-trust, tls-hostname, tls-expiry,
tls-1.0, tls-1.1.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode

import anyio

from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.http_scope import target_of
from probe.probes.base import Found, Probe, ProbeContext, RequestSpec
from probe.probes.https_answers import REDIRECTS, Hop, Problem, Verdict
from probe.probes.https_credentials import judge_credentials, not_replayed, token_in
from probe.probes.https_locations import scheme
from probe.probes.https_redirects import (
    Chain,
    End,
    classify_redirect,
    next_end,
    site_hosts,
)
from probe.probes.https_requests import (
    BODY_CHARS,
    MARKER_PARAM,
    hop_of,
    plain_endpoint,
    shares_tls_port,
    start_url,
    to_twin,
    with_marker,
)
from probe.probes.https_rules import PROBE_ID, RULES
from probe.probes.https_tls import (
    describe,
    judge_expiry,
    judge_handshake,
    judge_hostname,
    judge_legacy,
    judge_trust,
    openssl_command,
    verify_facts,
)
from probe.redact import MASK
from probe.scenario.models import Endpoint, HttpsConfig, Scenario, Target
from probe.tls import TlsFacts, local_support

# The engine's own limit (probe.http.MAX_REDIRECTS, which probes cannot import: http imports
# the probes' base); the chain is followed here by hand.
MAX_REDIRECTS = 10
AUTH_TAG = "auth"
_LEGACY = (
    ("TLS 1.0", "tls-1.0", ssl.TLSVersion.TLSv1),
    ("TLS 1.1", "tls-1.1", ssl.TLSVersion.TLSv1_1),
)
_TLS_CHECKS = ("tls-handshake", "tls-trust", "tls-hostname", "tls-expiry")
_ALL_CHECKS = ("plain-http", "credentials-over-http", *_TLS_CHECKS, "tls-1.0", "tls-1.1")


class HttpsProbe(Probe):
    """Plain HTTP refused or redirected properly, credentials never taken in cleartext, and a
    TLS certificate and protocol set-up that clients will accept."""

    id = PROBE_ID
    title = "HTTPS redirects and TLS"
    rules = RULES
    runs_on_refused_certificate = True

    def plan(self, scenario: Scenario) -> list[str]:
        """The requests and handshakes `run` would make."""
        target = scenario.target
        if scheme(target.base_url) != "https":
            return [
                f"{self.id}: base_url is plain http://: reports {self.id}.no-tls, sends nothing"
            ]
        endpoint = plain_endpoint(scenario.endpoints)
        path = endpoint.rendered_path if endpoint else "/"
        marker = urlencode({MARKER_PARAM: "MARKER"})
        twin = target.effective_http_url
        lines = [
            f"{self.id}: GET {with_marker(twin + path, marker)} (plain HTTP, anonymous, "
            f"without the endpoint's query; {with_marker(twin, marker)} instead when that "
            f"path holds a scenario secret; redirects followed by hand, at most "
            f"{MAX_REDIRECTS} hops, each Location judged before it is requested)"
        ]
        for auth in _auth_endpoints(scenario):
            lines.append(self._credentials_plan(target, auth))
        where = target_of(target.base_url)
        host = f"{where[0]}:{where[1]}" if where else target.base_url
        lines.append(
            f"{self.id}: TLS handshakes with {host}: unverified, verified (verify_tls), "
            "TLS 1.0 only, TLS 1.1 only"
        )
        return lines

    def _credentials_plan(self, target: Target, endpoint: Endpoint) -> str:
        skip = not_replayed(endpoint)
        if skip is not None:
            return f"{self.id}: credentials-over-http of {endpoint.label!r} skipped: {skip}"
        query = f"?{urlencode(endpoint.query, doseq=True)}" if endpoint.query else ""
        return (
            f"{self.id}: {endpoint.method} {target.effective_http_url}{endpoint.rendered_path}"
            f"{query} (the endpoint's own request with the credentials in its body, query and "
            "headers, never an identity's token; plain HTTP, not followed)"
        )

    async def run(self, ctx: ProbeContext) -> None:
        """Plain HTTP, credentials over HTTP and the TLS handshakes, side by side."""
        config = ctx.config(self.id)
        settings = config if isinstance(config, HttpsConfig) else HttpsConfig()
        target = ctx.scenario.target
        if scheme(target.base_url) != "https":
            self._no_tls(ctx)
            return
        ctx.check(self.id, "base-url-tls", None, CheckStatus.passed, "base_url is https://")
        auth = _auth_endpoints(ctx.scenario)
        async with anyio.create_task_group() as group:
            group.start_soon(self._plain_http, ctx)
            for endpoint in auth:
                skip = not_replayed(endpoint)
                if skip is None:
                    group.start_soon(self._credentials, ctx, endpoint)
                else:
                    check = "credentials-over-http"
                    ctx.check(self.id, check, endpoint, CheckStatus.skipped, skip)
            group.start_soon(self._tls, ctx, settings)
        if not auth:
            ctx.check(
                self.id,
                "credentials-over-http",
                None,
                CheckStatus.skipped,
                f"no endpoint is tagged {AUTH_TAG!r}: no credentials were sent over plain HTTP",
            )

    # -- base_url over plain HTTP --------------------------------------------------------------

    def _no_tls(self, ctx: ProbeContext) -> None:
        base = ctx.scenario.target.base_url
        ctx.check(self.id, "base-url-tls", None, CheckStatus.failed, f"{base} is plain http://")
        evidence = _some_answer(ctx)
        ctx.report(
            self.id,
            Found(
                rule=self.rule("no-tls"),
                detail=(
                    f"base_url {base} is plain http://: the API, and every credential sent to "
                    "it, travels without TLS"
                ),
                exchanges=[evidence] if evidence else (),
                affected=[base],
            ),
        )
        reason = (
            f"base_url is plain http:// ({self.id}.no-tls): there is no HTTPS to redirect to "
            "and no TLS to inspect"
        )
        for check in _ALL_CHECKS:
            ctx.check(self.id, check, None, CheckStatus.skipped, reason)

    # -- plain HTTP ----------------------------------------------------------------------------

    async def _plain_http(self, ctx: ProbeContext) -> None:
        target = ctx.scenario.target
        start = start_url(ctx)
        chain, exchanges = await self._walk(ctx, start)
        verdict = classify_redirect(chain)
        ctx.check(self.id, "plain-http", None, verdict.status, verdict.detail)
        for problem in verdict.problems:
            shown = exchanges[: problem.hop + 1]
            self._found(ctx, problem, shown, affected=[target.effective_http_url])

    async def _walk(self, ctx: ProbeContext, start: str) -> tuple[Chain, list[Exchange]]:
        """Follow the chain by hand; every Location is judged before it is requested."""
        target = ctx.scenario.target
        site, scope = site_hosts(target), target.scope_keys()
        hops: list[Hop] = []
        exchanges: list[Exchange] = []
        seen = {start}
        url = start
        end = End.too_long
        for index in range(MAX_REDIRECTS + 1):
            purpose = "plain-http" if index == 0 else f"plain-http-hop-{index}"
            exchange = await ctx.send(RequestSpec("GET", url), probe=self.id, purpose=purpose)
            hop = hop_of(exchange)
            hops.append(hop)
            exchanges.append(exchange)
            stop = _stop(hop, site, scope, seen)
            if stop is not None:
                end = stop
                break
            assert hop.location is not None  # _stop returned None: a redirect to follow
            url = hop.location
            seen.add(url)
        return Chain(tuple(hops), end, tls_port=shares_tls_port(target)), exchanges

    # -- credentials over plain HTTP -----------------------------------------------------------

    async def _credentials(self, ctx: ProbeContext, endpoint: Endpoint) -> None:
        target = ctx.scenario.target
        spec = ctx.endpoint_request(endpoint)
        spec = RequestSpec(spec.method, to_twin(target, spec.url), spec.headers, spec.content)
        # Not labelled with the endpoint: the passive probes judge an endpoint on its own
        # (HTTPS) answers, and this one is about the transport only.
        exchange = await ctx.send(spec, probe=self.id, purpose="credentials-over-http")
        hop = hop_of(exchange)
        verdict = judge_credentials(hop, shares_tls_port(target))
        ctx.check(self.id, "credentials-over-http", endpoint, verdict.status, verdict.detail)
        token = token_in(hop.body)
        excerpt = {0: hop.body.replace(token[1], MASK)[:BODY_CHARS]} if token else {}
        for problem in verdict.problems:
            self._found(ctx, problem, [exchange], endpoint=endpoint.label, excerpts=excerpt)

    # -- TLS -----------------------------------------------------------------------------------

    async def _tls(self, ctx: ProbeContext, settings: HttpsConfig) -> None:
        target = ctx.scenario.target
        url = target.base_url
        shown = await ctx.tls_handshake(url, probe=self.id, purpose="tls-facts", verify=False)
        handshake = judge_handshake(shown)
        ctx.check(self.id, "tls-handshake", None, handshake.status, handshake.detail)
        if shown.completed:
            await self._certificate(ctx, settings, shown)
        else:
            status = CheckStatus.skipped if shown.stage == "refused" else CheckStatus.error
            for check in _TLS_CHECKS[1:]:
                ctx.check(self.id, check, None, status, f"no TLS handshake: {shown.error}")
        await self._legacy(ctx, settings, shown)

    async def _certificate(self, ctx: ProbeContext, settings: HttpsConfig, shown: TlsFacts) -> None:
        target = ctx.scenario.target
        verify = target.verify_tls
        verified = shown
        if verify is not False:
            verified = await ctx.tls_handshake(target.base_url, probe=self.id, purpose="tls-verify")
        command = openssl_command(shown, verify=verify)
        trust = judge_trust(verified, shown, verify)
        self._record(ctx, "tls-trust", trust, shown, verified, command)
        hostname = judge_hostname(verified, shown, verify)
        self._record(ctx, "tls-hostname", hostname, shown, verified, command)
        expiry = judge_expiry(
            shown.certificate,
            datetime.now(UTC),
            settings.expiring_days,
            settings.expiring_high_days,
        )
        dates = openssl_command(shown, dates=True)
        self._record(ctx, "tls-expiry", expiry, shown, verified, dates)

    async def _legacy(self, ctx: ProbeContext, settings: HttpsConfig, modern: TlsFacts) -> None:
        accepted: list[tuple[str, TlsFacts]] = []
        for name, check, version in _LEGACY:
            if not settings.legacy_versions:
                off = "legacy_versions is false in the scenario: not tried"
                ctx.check(self.id, check, None, CheckStatus.skipped, off)
                continue
            unable = local_support(version)
            facts = (
                TlsFacts.failed(unable, "local")
                if unable
                else await ctx.tls_handshake(
                    ctx.scenario.target.base_url,
                    probe=self.id,
                    purpose=f"{check}-only",
                    verify=False,
                    minimum=version,
                    maximum=version,
                )
            )
            verdict = judge_legacy(name, facts, modern)
            ctx.check(self.id, check, None, verdict.status, verdict.detail)
            if verdict.problems:
                accepted.append((name, facts))
        if accepted:
            self._legacy_found(ctx, accepted)

    def _legacy_found(self, ctx: ProbeContext, accepted: list[tuple[str, TlsFacts]]) -> None:
        """One finding for every legacy version accepted, with each handshake's facts."""
        names = " and ".join(name for name, _ in accepted)
        facts = "; ".join(f"{name}: [{describe(shown)}]" for name, shown in accepted)
        where = accepted[0][1]
        host = f"[{where.host}]" if ":" in where.host else where.host
        problem = Problem(
            "tls-legacy-version",
            f"{host}:{where.port} completed a handshake in {names}, deprecated versions "
            f"(RFC 8996). {facts}",
        )
        command = openssl_command(where, versions=tuple(name for name, _ in accepted))
        self._found(ctx, problem, [], affected=[ctx.scenario.target.base_url], reproduce=command)

    def _record(
        self,
        ctx: ProbeContext,
        check: str,
        verdict: Verdict,
        shown: TlsFacts,
        verified: TlsFacts,
        command: str,
    ) -> None:
        """A TLS check and its findings; a finding carries the handshakes' facts and an
        `openssl s_client` line that shows the same."""
        ctx.check(self.id, check, None, verdict.status, verdict.detail)
        facts = [describe(shown)] if shown.completed else []
        code = verify_facts(verified)
        if code:
            facts.append(f"verifying handshake: {code}")
        for problem in verdict.problems:
            with_facts = Problem(
                problem.name,
                f"{problem.detail} [{'; '.join(facts)}]" if facts else problem.detail,
                severity=problem.severity,
                confidence=problem.confidence,
            )
            base = ctx.scenario.target.base_url
            self._found(ctx, with_facts, [], affected=[base], reproduce=command)

    # -- findings ------------------------------------------------------------------------------

    def _found(
        self,
        ctx: ProbeContext,
        problem: Problem,
        exchanges: Sequence[Exchange],
        *,
        endpoint: str | None = None,
        affected: Sequence[str] = (),
        excerpts: dict[int, str] | None = None,
        reproduce: str | None = None,
    ) -> None:
        ctx.report(
            self.id,
            Found(
                rule=self.rule(problem.name),
                detail=problem.detail,
                exchanges=exchanges,
                endpoint=endpoint,
                affected=affected,
                severity=problem.severity,
                confidence=problem.confidence,
                excerpts=excerpts or {},
                reproduce=reproduce,
            ),
        )


def _stop(hop: Hop, site: frozenset[str], scope: frozenset[str], seen: set[str]) -> End | None:
    """Why the chain ends after `hop`, or None to request its Location."""
    if hop.status is None:
        refused = (hop.error or "").startswith("refused")
        return End.not_sent if refused else End.no_answer
    if hop.status in REDIRECTS and hop.location is None:
        return End.unclear
    if not hop.redirects:
        return End.answered
    assert hop.location is not None
    if hop.location in seen:
        return End.loop
    return next_end(hop.location, site, scope)


def _auth_endpoints(scenario: Scenario) -> list[Endpoint]:
    return [e for e in scenario.endpoints if AUTH_TAG in e.tags]


def _some_answer(ctx: ProbeContext) -> Exchange | None:
    """An answer from base_url to show as evidence: a baseline, else any exchange."""
    for endpoint in ctx.scenario.endpoints:
        baseline = ctx.baseline(endpoint)
        if baseline is not None:
            return baseline
    return next((x for x in ctx.exchanges() if x.response is not None), None)
