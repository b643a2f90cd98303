"""One jwt run on one endpoint: sends tokens there, keeps the baselines, writes the report.

`Session` builds every request of the probe from the endpoint's own (its path, query, body
and headers as the scenario describes them), with the credential header replaced by the token
under test and sent as no identity, so the engine adds nothing and renews nothing. Every
request goes through `ProbeContext.send`: the scope guard, the budget and the rate limit
apply to forged tokens as to anything else, and a forged token only ever goes to the chosen
endpoint. Before a crafted token is sent it is registered with the report's redaction: kept
secret when it carries a real signature or a key's work, shown in full when anyone could
write it.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from probe.exchange import Exchange, header_values
from probe.findings import CheckStatus, Rule, Severity
from probe.probes.base import Credentials, Found, ProbeContext, RequestSpec
from probe.probes.jwt_judges import Acceptance, Baselines, Trial, clock_skew, judge_baselines
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
    """A crafted token's trial with the exchange that carried it."""

    trial: Trial
    exchange: Exchange


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
        #: How far the server's clock is ahead of the scan's (from its Date header).
        self.skew = 0.0

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
        self, token: str | None, purpose: str, *, query: Mapping[str, Any] | None = None
    ) -> Exchange:
        """Send the endpoint's request with `token` (as no identity)."""
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

    def sent(self, name: str, how: str, exchange: Exchange) -> Sent:
        """A crafted token's exchange with its verdict."""
        response = exchange.response
        status = response.status if response is not None else None
        why = exchange.error
        if response is not None and response.status in UNJUDGED:
            why = f"answered {response.status}, which says nothing of the token"
        return Sent(Trial(name, how, status, self.accepted(exchange), why), exchange)

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
            sent.append(await self.trial(forgery.name, forgery.token, forgery.how, purpose))
        return sent

    def register(self, token: str, name: str, *, holds_secret: bool) -> None:
        """Tell the report how to show a crafted token: by a placeholder when it holds a
        secret (or the payload does), in full otherwise."""
        if holds_secret or not self.public:
            self.ctx.keep_secret(token, f"{self.subject.identity}_{name}")
        else:
            self.ctx.public_token(token)

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
            if response is not None:
                self.skew = clock_skew(response, received)
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
        """Record one of the probe's checks at the endpoint."""
        self.ctx.check(PROBE_ID, name, self.endpoint, status, detail)

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
            ),
        )

    def mint_command(self, spec: RequestSpec, claims: dict[str, Any], secret: str, exp: int) -> str:
        """A shell line that mints the token with PyJWT (`exp` seconds from when it runs) and
        sends the request with it: the reproduction of a minted token."""
        creds = self.subject.creds
        header = {k: v for k, v in self.subject.token.header.items() if k not in ("alg",)}
        body = {k: v for k, v in claims.items() if k != "exp"}
        code = (
            "import json,sys,time,jwt; c=json.loads(sys.argv[1]); "
            'c["exp"]=int(time.time())+int(sys.argv[3]); '
            "print(jwt.encode(c,sys.argv[2],algorithm=sys.argv[4],headers=json.loads(sys.argv[5])))"
        )
        mint = " ".join(
            [
                "python3 -c",
                shlex.quote(code),
                shlex.quote(json.dumps(body, separators=(",", ":"))),
                _double_quoted(secret),
                str(exp),
                self.subject.token.alg,
                shlex.quote(json.dumps(header, separators=(",", ":"))),
            ]
        )
        prefix = f"{creds.scheme} " if creds.scheme else ""
        parts = [f"TOKEN=$({mint}) && curl -X {spec.method}"]
        verify = self.ctx.scenario.target.verify_tls
        if verify is False:
            parts.append("-k")
        elif isinstance(verify, str):
            parts.append(f"--cacert {_double_quoted(verify)}")
        for name, value in spec.headers:
            if name.lower() != creds.header.lower():
                parts.append(f"-H {_double_quoted(f'{name}: {value}')}")
        parts.append(f'-H "{creds.header}: {prefix}$TOKEN"')
        if spec.content is not None:
            parts.append(f"--data-binary {_double_quoted(spec.content.decode('utf-8', 'replace'))}")
        parts.append(_double_quoted(spec.url))
        return " ".join(parts)


def rule_named(name: str) -> Rule:
    """The probe's rule by its short name."""
    return _RULES[f"{PROBE_ID}.{name}"]


def _double_quoted(text: str) -> str:
    """Double-quoted for a POSIX shell: placeholders the report puts in place of secrets
    (`${NAME}`) stay live, so the line reads them from the environment."""
    escaped = "".join("\\" + c if c in '"\\`$' else c for c in text)
    return f'"{escaped}"'
