"""The scan as probes see it: `ScanContext` implements `ProbeContext` for the engine.

It holds what a scan gathers (exchanges, baselines, checks, findings) and gives probes their
ways to act: the endpoint's request as the scenario describes it, sending as an identity
through the guarded client, and recording checks and findings (redacted, with evidence and a
curl line). `Scan` (probe/engine.py) adds the phases that run the probes over it.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import ssl
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel

from probe.burst import Burst
from probe.errors import NoCredentials, RequestRefused
from probe.events import CheckDone, EventSink, FindingAdded, Notice
from probe.evidence import build_evidence, curl_command
from probe.exchange import Exchange
from probe.findings import (
    BurstRecord,
    CheckResult,
    CheckStatus,
    Finding,
    ShotRecord,
    fingerprint,
)
from probe.http import ScanClient
from probe.identities import Identities, IdentityState
from probe.probes.base import Credentials, Found, RequestSpec
from probe.redact import CREDENTIAL_HEADERS, Redactor
from probe.scenario.models import Endpoint, Scenario
from probe.tls import TlsFacts, handshake

ENGINE = "engine"
# Cookie values the target sets are learnt as secrets (session ids echoed in bodies); short
# ones would mask ordinary words, and a cap keeps a cookie-per-response target cheap.
_COOKIE_SECRET_MIN_LEN = 16
_COOKIE_SECRETS_MAX = 100
# Tokens the target issues during the scan (a burst of logins issues one per request) are live
# credentials of the test accounts: they are learnt as secrets, so no report shows them: every
# JWT in an answer, and JSON string values under token-like keys (compared without case and
# separators: accessToken, access_token, jwtToken, session_id, ...). The cap bounds the cost
# of a target issuing one per answer.
_TOKEN_KEYS = frozenset(
    {"jwt", "session", "sessionid", "sid", "access", "refresh", "apikey", "bearer", "credential"}
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_TOKEN_SECRETS_MAX = 2000
# Answers up to this size are read as JSON for token fields; JWTs are looked for in any answer.
_TOKEN_JSON_MAX = 1_048_576


def _label(endpoint: Endpoint | str | None) -> str | None:
    return endpoint.label if isinstance(endpoint, Endpoint) else endpoint


class ScanContext:
    """What probes see of a scan; implements `ProbeContext`.

    Every exchange the client makes passes through `_observe`, which `Scan` extends to show
    it to the probes as well.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        secrets_by_name: Mapping[str, str] | None,
        events: EventSink | None,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.scenario = scenario
        self.scan_id = secrets.token_hex(8)
        self.marker = "prb" + secrets.token_hex(4)
        self.redactor = Redactor()
        for name, value in (secrets_by_name or {}).items():
            self.redactor.add_variable(name, value)
        self._events = events or (lambda event: None)
        self._cookie_secrets = 0
        self._token_secrets = 0
        self._exchanges: list[Exchange] = []
        self._checks: list[CheckResult] = []
        self._findings: dict[str, Finding] = {}
        self._baselines: dict[str, Exchange] = {}
        self._bursts: list[BurstRecord] = []
        target = scenario.target
        self.client = ScanClient(
            settings=scenario.settings,
            scope=scenario.target.scope_keys(),
            verify=target.verify_tls,
            scan_id=self.scan_id,
            base_headers=dict(target.headers),
            on_exchange=self._observe,
            transport=transport,
            secure_base=target.base_url.startswith("https://"),
            base_url=target.base_url,
            holds_secret=self.holds_secret,
        )
        self.identities = Identities(scenario.identities, target.base_url, self.redactor)

    # -- ProbeContext -------------------------------------------------------------------------

    def config(self, probe_id: str) -> BaseModel:
        """The probe's settings from the scenario."""
        value = getattr(self.scenario.probes, probe_id)
        assert isinstance(value, BaseModel)
        return value

    def endpoint_request(
        self,
        endpoint: Endpoint,
        *,
        method: str | None = None,
        path: str | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Sequence[tuple[str, str]] = (),
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> RequestSpec:
        """The endpoint's request as the scenario describes it, with the parts given replaced."""
        url = endpoint_url(self.scenario.target.base_url, endpoint, path=path, query=query)
        lines = list(endpoint.headers.items())
        body, body_type = _endpoint_body(endpoint)
        if content is not None:
            body, body_type = content, content_type
        if body_type and not any(n.lower() == "content-type" for n, _ in lines):
            lines.append(("Content-Type", body_type))
        spec = RequestSpec(method or endpoint.method, url, tuple(lines), body)
        return spec.with_headers(*headers) if headers else spec

    def baseline(self, endpoint: Endpoint) -> Exchange | None:
        """The unmodified request made before probes ran, or None if it failed."""
        return self._baselines.get(endpoint.label)

    async def send(
        self,
        spec: RequestSpec,
        *,
        probe: str,
        purpose: str,
        endpoint: Endpoint | None = None,
        identity: str | None = None,
        follow_redirects: bool = False,
    ) -> Exchange:
        """Send a request through the engine's guards; see `ProbeContext.send`."""
        chain = await self.send_chain(
            spec,
            probe=probe,
            purpose=purpose,
            endpoint=endpoint,
            identity=identity,
            follow_redirects=follow_redirects,
        )
        return chain[-1]

    async def send_chain(
        self,
        spec: RequestSpec,
        *,
        probe: str,
        purpose: str,
        endpoint: Endpoint | None = None,
        identity: str | None = None,
        follow_redirects: bool = False,
    ) -> list[Exchange]:
        """Like `send`, returning every redirect hop."""
        prepared = await self._with_credentials(
            spec, probe=probe, purpose=purpose, endpoint=endpoint, identity=identity
        )
        if isinstance(prepared, Exchange):
            return [prepared]
        spec, tags = prepared
        return await self.client.send(
            spec,
            probe=probe,
            purpose=purpose,
            endpoint=_label(endpoint),
            identity=identity,
            follow_redirects=follow_redirects,
            tags=tags,
        )

    async def _with_credentials(
        self,
        spec: RequestSpec,
        *,
        probe: str,
        purpose: str,
        endpoint: Endpoint | None,
        identity: str | None,
    ) -> tuple[RequestSpec, frozenset[str]] | Exchange:
        """The request with the identity's credential header, and its tags; or, when the
        identity has no working credentials, the refused exchange (nothing is sent)."""
        if identity is not None:
            line = await self.identities.header(identity, self._login_sender)
            if line is None:
                # Sent without its credentials, the request would test an anonymous caller
                # and its checks would pass for the wrong reason.
                refused = NoCredentials(f"identity {identity!r} has no working credentials")
                return self.client.refuse(
                    spec,
                    refused,
                    probe=probe,
                    purpose=purpose,
                    endpoint=_label(endpoint),
                    identity=identity,
                )
            return spec.with_headers(line), frozenset({"authenticated"})
        if self._scenario_credentials(endpoint):
            # Credentials written into the scenario's headers count as authenticated too
            # (a probe's own forged Authorization does not).
            return spec, frozenset({"authenticated"})
        return spec, frozenset()

    def _scenario_credentials(self, endpoint: Endpoint | None) -> bool:
        names = set(self.scenario.target.headers) | set(endpoint.headers if endpoint else ())
        return bool({n.lower() for n in names} & CREDENTIAL_HEADERS)

    def check(
        self,
        probe: str,
        check: str,
        endpoint: Endpoint | str | None,
        status: CheckStatus,
        detail: str = "",
    ) -> None:
        """Record a check's outcome."""
        result = CheckResult(
            probe=probe,
            check=check,
            endpoint=_label(endpoint),
            status=status,
            detail=self.redactor.detail(detail),
        )
        self._checks.append(result)
        self._events(CheckDone(result))

    def report(self, probe: str, found: Found) -> None:
        """Turn a probe's verdict into a finding with evidence and a curl line."""
        rule = found.rule
        place = None if found.grouped else found.endpoint
        fp = fingerprint(rule.id, place, found.parameter, found.key)
        if fp in self._findings:
            return
        evidence = [
            build_evidence(x, self.redactor, found.excerpts.get(i), found.notes.get(i))
            for i, x in enumerate(found.exchanges)
        ]
        verify = self.scenario.target.verify_tls
        cacert = verify if isinstance(verify, str) else None
        reproduce = (
            self.redactor.text(found.reproduce)
            if found.reproduce
            else curl_command(
                found.exchanges[0], self.redactor, insecure=verify is False, cacert=cacert
            )
            if found.exchanges
            else None
        )
        if reproduce and not found.reproduce and "burst" in found.exchanges[0].tags:
            reproduce = self._burst_loop(found.exchanges[0], reproduce)
        finding = Finding(
            fingerprint=fp,
            probe=probe,
            rule=rule.id,
            title=rule.title,
            severity=found.severity or rule.severity,
            confidence=found.confidence,
            owasp=rule.owasp,
            owasp_api=rule.owasp_api,
            cwe=rule.cwe,
            endpoint=found.endpoint,
            affected=[self.redactor.text(a) for a in found.affected],
            parameter=self.redactor.text(found.parameter) if found.parameter else None,
            detail=self.redactor.detail(found.detail),
            evidence=evidence,
            reproduce=reproduce,
            remediation=rule.remediation,
        )
        self._findings[fp] = finding
        self._events(FindingAdded(finding))

    def _burst_loop(self, exchange: Exchange, curl: str) -> str:
        """A shell loop that sends the burst's request as many times, all in the background."""
        size = next(
            (b.requests for b in reversed(self._bursts) if b.endpoint == exchange.endpoint), 1
        )
        return (
            f"for i in $(seq {size}); do {curl} -s -o /dev/null -w '%{{http_code}}\\n' & done; wait"
        )

    def exchanges(self) -> Sequence[Exchange]:
        """Every exchange so far."""
        return self._exchanges

    def notice(self, message: str) -> None:
        """Show a redacted line on the progress display."""
        self._events(Notice(self.redactor.text(message)))

    async def credentials(self, identity: str) -> Credentials | None:
        """The identity's current token, renewed first when it is about to end."""
        state = await self.identities.current(identity, self._login_sender)
        return _credentials(identity, state)

    async def fresh_login(self, identity: str, *, probe: str, purpose: str) -> Credentials | None:
        """A new login of the identity, apart from its own token (see `ProbeContext`)."""

        async def sender(spec: RequestSpec, name: str) -> Exchange:
            chain = await self.client.send(spec, probe=probe, purpose=f"{purpose}:login:{name}")
            return chain[-1]

        state = await self.identities.fresh(identity, sender)
        return None if state is None else _credentials(identity, state)

    def keep_secret(self, value: str, name: str) -> None:
        """Show `value` as `${NAME}` in the report from now on (a name the scan gave a token
        it learnt by itself gives way to this one)."""
        self.redactor.add(value, name, rename_learnt=True)

    def public_token(self, value: str) -> None:
        """Let a crafted token without secrets show in full in credential headers."""
        self.redactor.allow(value)

    def holds_secret(self, text: str) -> bool:
        """True when redaction would change `text`."""
        return self.redactor.text(text) != text

    async def burst(
        self,
        spec: RequestSpec,
        count: int,
        *,
        probe: str,
        purpose: str,
        endpoint: Endpoint,
        identity: str | None = None,
    ) -> Burst:
        """Send `count` copies of a request released together; see `ProbeContext.burst`.

        The endpoint's own `burst` is the opt-in and the largest burst it may get, whatever
        the probe asks for.
        """
        if endpoint.burst is None or count > endpoint.burst:
            refused = RequestRefused(
                f"endpoint {endpoint.label!r} opted in to bursts of {endpoint.burst or 0} at "
                f"most; a burst of {count} was asked for"
            )
            self.client.refuse(
                spec, refused, probe=probe, purpose=purpose, endpoint=endpoint.label, identity=None
            )
            return Burst(shots=(), opened=0, error=f"refused: {refused}")
        prepared = await self._with_credentials(
            spec, probe=probe, purpose=purpose, endpoint=endpoint, identity=identity
        )
        if isinstance(prepared, Exchange):
            return Burst(shots=(), opened=0, error=prepared.error)
        spec, tags = prepared
        burst = await self.client.burst(
            spec,
            count,
            probe=probe,
            purpose=purpose,
            endpoint=endpoint.label,
            identity=identity,
            tags=tags,
        )
        if burst.shots:
            self._bursts.append(_burst_record(burst, probe, endpoint.label, purpose))
        return burst

    async def tls_handshake(
        self,
        url: str,
        *,
        probe: str,
        purpose: str,
        verify: bool = True,
        minimum: ssl.TLSVersion | None = None,
        maximum: ssl.TLSVersion | None = None,
    ) -> TlsFacts:
        """One guarded TLS handshake with the URL's host; see `ProbeContext.tls_handshake`."""
        try:
            await self.client.admit(url)
        except RequestRefused as refused:
            return TlsFacts.failed(f"refused: {refused}")
        return await handshake(
            url,
            verify=self.scenario.target.verify_tls if verify else False,
            minimum=minimum,
            maximum=maximum,
            timeout=self.scenario.settings.timeout,
        )

    # -- hooks of the identities and the client -----------------------------------------------

    async def _login_sender(self, spec: RequestSpec, identity: str) -> Exchange:
        chain = await self.client.send(spec, probe=ENGINE, purpose=f"login:{identity}")
        return chain[-1]

    def _observe(self, exchange: Exchange) -> None:
        """Record one exchange as the client makes it, learning the cookies and the tokens
        it hands out."""
        self._learn_cookies(exchange)
        self._learn_tokens(exchange)
        self._exchanges.append(exchange)

    def _learn_tokens(self, exchange: Exchange) -> None:
        response = exchange.response
        if response is None:
            return
        if exchange.purpose.startswith("login:") or ":login:" in exchange.purpose:
            return  # an identity's own login: `Identities` names its tokens after the identity
        text = response.body.decode("utf-8", "replace")
        found = [("jwt", m.group(0)) for m in _JWT.finditer(text)]
        if "{" in text[:64] and len(response.body) <= _TOKEN_JSON_MAX:
            with contextlib.suppress(ValueError):  # not JSON after all: the JWTs are enough
                found += _token_values(json.loads(text))
        for key, value in found:
            if self._token_secrets >= _TOKEN_SECRETS_MAX:
                return
            if len(value) >= _COOKIE_SECRET_MIN_LEN and self.redactor.placeholder(value) is None:
                self._token_secrets += 1
                self.redactor.add(value, f"issued_{key}")

    def _learn_cookies(self, exchange: Exchange) -> None:
        if exchange.response is None:
            return
        for line in exchange.response.headers_named("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0].strip().strip('"')
            known = self.redactor.placeholder(value) is not None
            if known or len(value) < _COOKIE_SECRET_MIN_LEN:
                continue
            if self._cookie_secrets < _COOKIE_SECRETS_MAX:
                self._cookie_secrets += 1
                self.redactor.add(value, f"cookie_{name.strip()}")


def _token_like(value: str) -> bool:
    """A value that can be a credential: no spaces, and not a word or a sentence (a message
    such as "A valid token is required" under a `token` key is no token)."""
    if any(c.isspace() for c in value):
        return False
    return any(c.isdigit() for c in value) or len(value) >= 32


def _token_values(data: Any, depth: int = 0) -> list[tuple[str, str]]:
    """(key, value) of string values under token-like keys, up to four levels deep."""
    found: list[tuple[str, str]] = []
    if depth > 4:
        return found
    if isinstance(data, dict):
        for key, value in data.items():
            name = re.sub(r"[^a-z0-9]", "", str(key).lower())
            if isinstance(value, str) and (name in _TOKEN_KEYS or name.endswith("token")):
                if _token_like(value):
                    found.append((name, value))
            elif isinstance(value, dict | list):
                found += _token_values(value, depth + 1)
    elif isinstance(data, list):
        for item in data[:50]:
            found += _token_values(item, depth + 1)
    return found


_LIMIT_HEADER_PREFIXES = ("retry-after", "ratelimit", "x-ratelimit", "x-rate-limit")


def _credentials(identity: str, state: IdentityState) -> Credentials | None:
    if state.token is None:
        return None
    spec = state.spec
    return Credentials(identity, spec.header, spec.scheme, state.token, state.refresh_token)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _burst_record(burst: Burst, probe: str, endpoint: str, purpose: str) -> BurstRecord:
    shots = []
    for shot in burst.shots:
        response = shot.exchange.response
        limit = [
            (name, value)
            for name, value in (response.headers if response else ())
            if name.lower().startswith(_LIMIT_HEADER_PREFIXES)
        ]
        shots.append(
            ShotRecord(
                sent_ms=_ms(shot.sent),
                received_ms=_ms(shot.received),
                status=response.status if response else None,
                error=shot.exchange.error,
                limit_headers=limit,
            )
        )
    return BurstRecord(
        probe=probe,
        endpoint=endpoint,
        purpose=purpose,
        requests=len(burst.shots),
        opened=burst.opened,
        spread_ms=_ms(burst.spread),
        shots=shots,
    )


def _render_path(endpoint: Endpoint) -> str:
    path = endpoint.path
    for name, value in endpoint.path_params.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def _query_items(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        items.append((key, value))
    return items


def _endpoint_body(endpoint: Endpoint) -> tuple[bytes | None, str | None]:
    if endpoint.json_body is not None:
        return json.dumps(endpoint.json_body).encode(), "application/json"
    if endpoint.form is not None:
        return urlencode(endpoint.form).encode(), "application/x-www-form-urlencoded"
    if endpoint.body is not None:
        return endpoint.body.encode(), endpoint.content_type or "text/plain"
    return None, None


def endpoint_url(
    base_url: str,
    endpoint: Endpoint,
    *,
    path: str | None = None,
    query: Mapping[str, Any] | None = None,
) -> str:
    """The absolute URL of an endpoint's request (its own path and query unless replaced)."""
    url = base_url + (_render_path(endpoint) if path is None else path)
    params = endpoint.query if query is None else query
    if params:
        url += "?" + urlencode(_query_items(params), doseq=True)
    return url
