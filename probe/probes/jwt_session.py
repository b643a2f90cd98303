"""One jwt run on one endpoint: sends tokens there, keeps the baselines, writes the report.

`Session` builds every request of the probe from the endpoint's own (its path, query, body
and headers as the scenario describes them), with the credential header replaced by the token
under test and sent as no identity, so the engine adds nothing and renews nothing. Every
request goes through `ProbeContext.send`: the scope guard, the budget and the rate limit
apply to forged tokens as to anything else, and a forged token only ever goes to the chosen
endpoint. Before a crafted token is sent it is registered with the report's redaction: kept
secret when it carries a real signature or a key's work, shown in full when anyone could
write it.

A token answered 429 (or 503 with Retry-After) is sent once more after the wait the answer
asks for (at most 30 s); once a second try is limited too, later tokens are not retried. The
token checks' outcomes are held until the identity's own token is sent again after them: a
server that stopped taking it meanwhile (a revoked session, an expired token) would refuse
every forged token too, so checks that passed then become `error`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from probe.exchange import Exchange, header_values
from probe.findings import CheckStatus, Confidence, Rule, Severity
from probe.probes.base import Credentials, Found, ProbeContext, RequestSpec
from probe.probes.jwt_clock import Skew, clock_skew, retry_delay
from probe.probes.jwt_judges import Acceptance, Baselines, Trial, judge_baselines
from probe.probes.jwt_reproduce import claims_text, claims_word, double_quoted
from probe.probes.jwt_rules import PROBE_ID, RULES
from probe.probes.jwt_tokens import Forgery, Jwt, flip_signature_bit
from probe.scenario.models import Endpoint, JwtConfig

_RULES = {rule.id: rule for rule in RULES}
#: Answers that judge the caller's pace or the server's load, not the token: no verdict.
UNJUDGED = frozenset({429, 503})


@dataclass(frozen=True)
class Subject:
    """The token under test and where it goes.

    Attributes:
        identity: The identity whose token it is.
        creds: Its credentials as the engine holds them.
        token: The token, parsed.
        endpoint: The endpoint that needs it.
        config: The probe's options.
    """

    identity: str
    creds: Credentials
    token: Jwt
    endpoint: Endpoint
    config: JwtConfig


@dataclass(frozen=True)
class Sent:
    """A crafted token's trial with the exchange that carried it.

    Attributes:
        trial: The token and its verdict.
        exchange: The exchange that carried it.
        replayable: True when the report shows the token in full, so the exchange's curl line
            replays it as it is.
    """

    trial: Trial
    exchange: Exchange
    replayable: bool = False


class Session:
    """Sends tokens to the subject's endpoint and judges their answers against the
    baselines; records the probe's checks and findings there."""

    def __init__(self, ctx: ProbeContext, subject: Subject, *, public: bool) -> None:
        """`public`: crafted tokens that hold no secret may show in full (false when the
        token's claims hold something secret, which any copy of the payload would show)."""
        self.ctx = ctx
        self.subject = subject
        self.endpoint = subject.endpoint
        self.public = public
        self.valid: list[Exchange] = []
        self.flipped: Exchange | None = None
        self.anonymous: Exchange | None = None
        self.baselines = Baselines(None, "the baselines were not taken")
        #: The server's clock against the scan's (its Date header, or a fresh token's iat).
        self.clock = Skew()
        #: Check outcomes held back until the valid token is re-sent (`hold`, `release`).
        self._held: list[tuple[str, CheckStatus, str]] | None = None
        #: Why limited answers are no longer retried ("" while they are).
        self._limited = ""

    @property
    def skew(self) -> float:
        """How far the server's clock is ahead of the scan's, in seconds."""
        return self.clock.seconds

    # -- requests ----------------------------------------------------------------------------

    def request(self, token: str | None, *, query: Mapping[str, Any] | None = None) -> RequestSpec:
        """The endpoint's request carrying `token` in the credential header (none: no
        credential header at all), the query replaced when given."""
        creds = self.subject.creds
        spec = self.ctx.endpoint_request(self.endpoint, query=query)
        kept = tuple((n, v) for n, v in spec.headers if n.lower() != creds.header.lower())
        spec = RequestSpec(spec.method, spec.url, kept, spec.content)
        return spec.with_headers(creds.line(token)) if token is not None else spec

    async def send(
        self,
        token: str | None,
        purpose: str,
        *,
        query: Mapping[str, Any] | None = None,
        retry: bool = True,
    ) -> Exchange:
        """Send the endpoint's request with `token` (as no identity). A rate-limited answer
        is followed, once, by the same request after the wait it asks for (`retry`)."""
        exchange = await self._send_once(token, purpose, query)
        delay = retry_delay(exchange.response) if retry and not self._limited else None
        if delay is None or exchange.response is None:
            return exchange
        status = exchange.response.status
        self.ctx.notice(
            f"jwt: {self.endpoint.label} answered {status}; waiting {delay:.0f} s before "
            "sending that token once more"
        )
        await anyio.sleep(delay)
        again = await self._send_once(token, purpose, query)
        if again.response is not None and again.response.status in UNJUDGED:
            self._limited = (
                f"answered {again.response.status} again {delay:.0f} s later (the wait its "
                f"first {status} asked for): the endpoint limits the scan's requests"
            )
        return again

    async def _send_once(
        self, token: str | None, purpose: str, query: Mapping[str, Any] | None
    ) -> Exchange:
        return await self.ctx.send(
            self.request(token, query=query),
            probe=PROBE_ID,
            purpose=purpose,
            endpoint=self.endpoint,
            identity=None,
        )

    def accepted(self, exchange: Exchange) -> bool | None:
        """The verdict on an answer: None when no answer came, the answer is a rate limit or
        an overload (it says nothing of the token), or the baselines allow no verdict."""
        acceptance = self.acceptance
        response = exchange.response
        if response is None or acceptance is None or response.status in UNJUDGED:
            return None
        return acceptance.accepted(response)

    def other(self, exchange: Exchange) -> bool:
        """True when the answer is no refusal, yet neither the valid one nor a negative: a
        2xx holding other data (`Acceptance.other`)."""
        acceptance, response = self.acceptance, exchange.response
        return acceptance is not None and response is not None and acceptance.other(response)

    def sent(self, name: str, how: str, exchange: Exchange, *, replayable: bool = False) -> Sent:
        """A crafted token's exchange with its verdict."""
        response = exchange.response
        status = response.status if response is not None else None
        why = exchange.error
        if response is not None and response.status in UNJUDGED:
            why = f"answered {response.status}, which says nothing of the token"
            if self._limited:
                why += f"; {self._limited}"
        accepted = self.accepted(exchange)
        other = accepted is False and self.other(exchange)
        return Sent(Trial(name, how, status, accepted, why, other), exchange, replayable)

    @property
    def acceptance(self) -> Acceptance | None:
        """The judge of crafted tokens, when the baselines allow one."""
        return self.baselines.acceptance

    async def trial(self, name: str, token: str, how: str, purpose: str) -> Sent:
        """Send one crafted token (already registered with the redaction) and judge it."""
        return self.sent(name, how, await self.send(token, purpose))

    async def forgeries(self, forgeries: Sequence[Forgery], purpose: str) -> list[Sent]:
        """Send each forgery in turn (redaction first) and judge it."""
        sent = []
        for forgery in forgeries:
            self.register(forgery.token, forgery.name, holds_secret=forgery.holds_secret)
            exchange = await self.send(forgery.token, purpose)
            shown = self.public and not forgery.holds_secret
            sent.append(self.sent(forgery.name, forgery.how, exchange, replayable=shown))
        return sent

    def register(self, token: str, name: str, *, holds_secret: bool) -> None:
        """Tell the report how to show a crafted token: by a placeholder when it holds a
        secret (or the payload does), in full otherwise."""
        if holds_secret or not self.public:
            self.ctx.keep_secret(token, f"{self.subject.identity}_{name}")
        else:
            self.ctx.public_token(token)

    async def still_accepted(self, token: str | None = None) -> Exchange:
        """The identity's token (or `token`) sent once more, to see it still works."""
        return await self.send(token or self.subject.creds.token, "recheck-valid")

    # -- baselines ---------------------------------------------------------------------------

    async def take_baselines(self) -> Baselines:
        """The valid token twice (the engine's baseline counts once when it carried this
        token), the token with one signature bit flipped, and no token."""
        token = self.subject.token
        reused = self._engine_baseline()
        self.valid = [reused] if reused is not None else []
        while len(self.valid) < 2:
            self.valid.append(await self.send(self.subject.creds.token, "baseline-valid"))
            received = time.time()
            response = self.valid[-1].response
            if response is not None and response.header("date"):
                self.clock = Skew(clock_skew(response, received), 0.0, "its Date header")
        flipped = flip_signature_bit(token)
        self.ctx.keep_secret(flipped, f"{self.subject.identity}_flipped_signature")
        self.flipped = await self.send(flipped, "baseline-flipped-signature")
        self.anonymous = await self.send(None, "baseline-no-token")
        self.baselines = self._judge()
        return self.baselines

    def _engine_baseline(self) -> Exchange | None:
        baseline = self.ctx.baseline(self.endpoint)
        creds = self.subject.creds
        if baseline is None or baseline.response is None:
            return None
        if baseline.identity != self.subject.identity:
            return None
        sent = header_values(baseline.request.headers, creds.header)
        return baseline if sent == [creds.line()[1]] else None

    def _judge(self) -> Baselines:
        for exchange in (*self.valid, self.flipped, self.anonymous):
            response = exchange.response if exchange is not None else None
            if response is not None and response.status in UNJUDGED:
                return Baselines(
                    None,
                    f"a baseline request was answered {response.status} (a rate limit or an "
                    "overload), even after waiting: nothing to compare tokens with",
                )
        answers = [x.response for x in (*self.valid, self.flipped, self.anonymous) if x]
        missing = [x for x in (*self.valid, self.flipped, self.anonymous) if x and not x.response]
        if missing or len(answers) != 4:
            failed = missing[0] if missing else None
            why = failed.error if failed is not None else "not sent"
            return Baselines(None, f"a baseline request got no answer ({why})")
        valid = [r for r in answers[:2] if r is not None]
        flipped, anonymous = answers[2], answers[3]
        assert flipped is not None
        assert anonymous is not None
        return judge_baselines(valid, flipped, anonymous)

    def baseline_detail(self) -> str:
        """What the baselines answered, for the `baselines` check."""

        def said(exchange: Exchange | None) -> str:
            if exchange is None or exchange.response is None:
                return "no answer"
            return str(exchange.response.status)

        return (
            f"valid token {said(self.valid[0] if self.valid else None)}, "
            f"flipped signature bit {said(self.flipped)}, no token {said(self.anonymous)}"
        )

    # -- the report --------------------------------------------------------------------------

    def check(self, name: str, status: CheckStatus, detail: str) -> None:
        """Record one of the probe's checks at the endpoint (held back while `hold` is on)."""
        if self._held is not None:
            self._held.append((name, status, detail))
            return
        self.ctx.check(PROBE_ID, name, self.endpoint, status, detail)

    def hold(self) -> None:
        """Hold back check outcomes until `release`."""
        if self._held is None:
            self._held = []

    def release(self, stopped: str = "") -> None:
        """Record the held outcomes; with `stopped` (why the identity's token no longer
        works), every check that passed becomes `error`: its tokens may have been refused
        for that alone."""
        held, self._held = self._held or [], None
        for name, status, detail in held:
            if stopped and status is CheckStatus.passed:
                status = CheckStatus.error
                detail = (
                    f"the identity's token stopped working during the checks: {stopped}; "
                    f"this check's tokens may have been refused for that alone ({detail})"
                )
            self.check(name, status, detail)

    def negative(self) -> Exchange | None:
        """The negative baseline shown beside a finding: the flipped signature, or no token
        when the flipped signature was accepted."""
        if self.baselines.signature_ignored:
            return self.anonymous
        return self.flipped

    def found(
        self,
        rule: str,
        detail: str,
        forged: Sequence[Exchange],
        *,
        severity: Severity | None = None,
        key: str = "",
        reproduce: str | None = None,
        notes: Sequence[str] = (),
        anonymous: bool = False,
        confidence: Confidence = Confidence.firm,
    ) -> None:
        """Report a finding at the endpoint: the forged exchanges, then the valid baseline and
        a negative one as evidence (`anonymous`: the one without a token)."""
        exchanges = list(forged)
        texts = dict(enumerate(notes))
        for index in range(len(exchanges)):
            texts.setdefault(index, "the crafted token: answered like the valid token")
        if self.valid:
            texts[len(exchanges)] = "baseline: the identity's valid token"
            exchanges.append(self.valid[0])
        negative = self.anonymous if anonymous else self.negative()
        if negative is not None:
            what = "no token" if negative is self.anonymous else "one signature bit flipped"
            texts[len(exchanges)] = f"negative baseline ({what}): refused or answered otherwise"
            exchanges.append(negative)
        self.ctx.report(
            PROBE_ID,
            Found(
                rule=rule_named(rule),
                detail=detail,
                exchanges=exchanges,
                endpoint=self.endpoint.label,
                severity=severity,
                key=key,
                notes=texts,
                reproduce=reproduce,
                confidence=confidence,
            ),
        )

    def reproduce(self, spec: RequestSpec, mint: str, *, fetch: str = "") -> str:
        """A shell line that mints a token with `mint` (a `python3 -c` command, see
        `jwt_reproduce`) and sends the endpoint's request `spec` with it; `fetch` first
        reads a URL into `$JWKS` (a JWKS the token is made from)."""
        creds = self.subject.creds
        prefix = f"{creds.scheme} " if creds.scheme else ""
        tls = self._curl_tls()
        parts = []
        if fetch:
            parts.append(f"JWKS=$(curl -s {tls}{double_quoted(fetch)}) &&")
        parts.append(f"TOKEN=$({mint}) && curl -X {spec.method}")
        if tls:
            parts.append(tls.strip())
        for name, value in spec.headers:
            if name.lower() != creds.header.lower():
                parts.append(f"-H {double_quoted(f'{name}: {value}')}")
        parts.append(f'-H "{creds.header}: {prefix}$TOKEN"')
        if spec.content is not None:
            parts.append(f"--data-binary {double_quoted(spec.content.decode('utf-8', 'replace'))}")
        parts.append(double_quoted(spec.url))
        return " ".join(parts)

    def claims_word(self, claims: dict[str, Any]) -> str:
        """The claims for a reproduction's mint (`jwt_reproduce.claims_word`); when they hold
        something secret, kept secret as a whole, so the line reads them from a variable."""
        if not self.public:
            self.ctx.keep_secret(claims_text(claims), f"{self.subject.identity}_claims")
        return claims_word(claims)

    def _curl_tls(self) -> str:
        verify = self.ctx.scenario.target.verify_tls
        if verify is False:
            return "-k "
        if isinstance(verify, str):
            return f"--cacert {double_quoted(verify)} "
        return ""


def rule_named(name: str) -> Rule:
    """The probe's rule by its short name."""
    return _RULES[f"{PROBE_ID}.{name}"]
