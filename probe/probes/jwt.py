"""The jwt probe: does the API verify its tokens' signatures and expiry, is its signing
secret guessable, and does the token itself give anything away? A crafted token counts as
accepted only when its answer matches the valid token's (the same status class, the same body
once times, ids and other per-request values are left out) and differs from both negative
baselines: the token with one signature bit flipped, and no token at all. When a negative
cannot be told apart from the valid answer (the endpoint does not need the token, or answers
200 with an error body to everyone), the token checks are `error` and nothing is reported.

It tests one identity's token (`probes.jwt.identity`, else the first identity whose token is a
JWT) on one endpoint (`probes.jwt.endpoint`, else the first endpoint sent as that identity,
GET first, never one tagged auth or login). Every crafted token goes only to that endpoint,
through the engine's scope guard, budget and rate limit, as no identity. In order:

1. baselines: the valid token twice (the engine's baseline counts once when it carried it),
   the token with one signature bit flipped, and no token. A crafted token is accepted only
   when its answer matches the valid one and differs from the negatives (`jwt_judges`); when
   no token gets the valid answer, every token check is `error` and nothing is reported;
2. signature: the payload changed under the original signature (`exp` later, another `sub`),
   the signature stripped, two parts; then `alg` none in 8 forms;
3. header keys: a `jwk` embedded in the header, `kid` naming /dev/null (3 tokens);
4. key confusion (RS/ES/PS tokens): the JWKS read once, each fitting public key used as an
   HS256 secret in four byte forms;
5. weak secret (HS tokens): a bundled list tried offline, a hit confirmed by one minted token;
6. expiry: `expired_token` replayed; a token minted with a known secret, `exp` 3 h ago (after
   a control); and, running beside the rest, real tokens that expire within `wait_for_expiry`
   waited out and replayed past `exp` (`jwt_expiry`);
7. the token in the query (`?access_token=`, `?token=`) without the header;
8. refresh rotation: a fresh login's refresh token used twice (`jwt_refresh`).

Read from the token, no request: no `exp`, a lifetime above `max_lifetime`, sensitive claims
(`jwt_hygiene`). Seen in the traffic of the whole scan: a JWT in any request URL.

Requests: 20 on a typical endpoint with an HS256 token; up to 3 more with `secret`,
`expired_token` or a weak secret found; 5 more for an RS256 token with a JWKS; 3 and a login
for refresh rotation; 2 logins, 1 request and at most 22 replays for a wait-out.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import anyio

from probe.exchange import Exchange
from probe.findings import CheckStatus, Severity
from probe.probes.base import Credentials, Found, Probe, ProbeContext
from probe.probes.jwt_expiry import ExpiryFindings, minted_expired, replay_expired, wait_out
from probe.probes.jwt_forged import (
    QUERY_PARAMS,
    header_injection,
    jwks_url,
    key_confusion,
    signature,
    token_in_query,
    weak_secret,
)
from probe.probes.jwt_hygiene import Hygiene, hygiene
from probe.probes.jwt_judges import (
    POLL_OFFSETS,
    duration,
    expires_in,
    jwt_in_url,
    lifetime,
    pick_endpoint,
)
from probe.probes.jwt_refresh import refresh_plan, refresh_rotation
from probe.probes.jwt_rules import CHECKS, PROBE_ID, RULES
from probe.probes.jwt_secrets import find_secret
from probe.probes.jwt_session import Session, Subject, rule_named
from probe.probes.jwt_tokens import HMAC_HASHES, Jwt, parse
from probe.scenario.models import Endpoint, JwtConfig, Scenario

# The names other modules import from here, defined here or re-exported.
__all__ = ["CHECKS", "JwtProbe"]

#: Checks that judge crafted tokens at the endpoint: `error` when the baselines are
#: inconclusive.
TOKEN_CHECKS = CHECKS[CHECKS.index("signature") : CHECKS.index("token-in-query") + 1]
# Distinct JWTs seen in URLs that are kept out of the report (a target issuing one per
# request would otherwise grow the redaction without end).
_MAX_URL_TOKENS = 50


class JwtProbe(Probe):
    """Expired, forged and weakly signed tokens, refresh rotation and token hygiene."""

    id = PROBE_ID
    title = "JWT acceptance and token weaknesses"
    rules = RULES

    def __init__(self) -> None:
        #: Per place (endpoint label, or URL path), the first exchange of another probe whose
        #: URL held a JWT, and how many did.
        self._in_urls: dict[str, tuple[Exchange, int]] = {}
        #: The distinct JWTs seen in URLs (capped), to keep them out of the report.
        self._url_tokens: set[str] = set()
        #: Endpoint requests of other probes (and the engine's baselines) really sent.
        self._seen = 0

    def plan(self, scenario: Scenario) -> list[str]:
        """What `run` would send."""
        config = _config(scenario.probes.jwt)
        guess = config.identity or _likely_identity(scenario)
        who = f"{guess}'s token" if guess else "the token of the first identity with a JWT"
        if guess and not config.identity:
            who += " (when it is a JWT)"
        endpoint = pick_endpoint(scenario, guess, config.endpoint) if guess else None
        where = endpoint.label if endpoint is not None else "the identity's first GET endpoint"
        lines = [
            f"{self.id}: on {where}, with {who}, as no identity: the valid token twice "
            "(once when the engine's baseline carried it), one signature bit flipped, no token",
            f"{self.id}: payload changed under the signature (2), signature stripped, two "
            "parts, alg none in 8 forms, a jwk header and 2 kid /dev/null tokens (15 requests)",
            f"{self.id}: RS/ES/PS tokens: GET "
            f"{jwks_url(scenario.target.base_url, config.jwks_url)}, then 4 HS256 tokens per "
            "fitting public key (at most 16)",
            f"{self.id}: the token in the query as "
            + " and ".join(f"?{p}=" for p in QUERY_PARAMS)
            + " (2 requests)",
        ]
        lines += _secret_plan(config)
        if config.wait_for_expiry:
            lines.append(
                f"{self.id}: tokens that expire within {config.wait_for_expiry} s are waited "
                f"out: 2 fresh logins, 1 request, then up to {2 * len(POLL_OFFSETS)} replays "
                f"{', '.join(str(o) for o in POLL_OFFSETS[:4])} ... s past exp"
            )
        for name, identity in scenario.identities.items():
            if config.identity in (None, name):
                line = refresh_plan(identity.login)
                if line:
                    lines.append(f"{line} for {name}")
        lines.append(
            f"{self.id}: every crafted token goes only to that endpoint, through the scope "
            "guard and the request budget"
        )
        return lines

    def observe(self, exchange: Exchange) -> None:
        """Note a JWT in the URL of any other probe's request (this probe's own query tests
        put it there on purpose)."""
        if exchange.probe == PROBE_ID:
            return
        if exchange.endpoint is not None and exchange.response is not None:
            self._seen += 1  # an endpoint's request sent and answered: a URL the API is used with
        token = jwt_in_url(exchange.request.url)
        if token is None:
            return
        if len(self._url_tokens) < _MAX_URL_TOKENS:
            self._url_tokens.add(token)
        place = exchange.endpoint or urlsplit(exchange.request.url).path or "/"
        first, count = self._in_urls.get(place, (exchange, 0))
        self._in_urls[place] = (first, count + 1)

    async def run(self, ctx: ProbeContext) -> None:
        """Choose the token and endpoint, then run every check."""
        config = _config(ctx.config(self.id))
        chosen = await _choose(ctx, config)
        if isinstance(chosen, str):
            for check in CHECKS:
                if check != "token-in-url":
                    ctx.check(self.id, check, None, CheckStatus.skipped, chosen)
            return
        creds, token = chosen
        identity = creds.identity
        endpoint = pick_endpoint(ctx.scenario, identity, config.endpoint)
        said = f"{identity}'s {token.alg or 'unsigned'} token"
        ctx.check(self.id, "token", None, CheckStatus.passed, f"testing {said}")
        async with anyio.create_task_group() as group:
            group.start_soon(refresh_rotation, ctx, identity)
            if endpoint is None:
                why = (
                    f"no endpoint is sent as {identity} (or probes.jwt.endpoint names none): "
                    "name one that needs the token with probes.jwt.endpoint"
                )
                for check in ("baselines", *TOKEN_CHECKS):
                    ctx.check(self.id, check, None, CheckStatus.skipped, why)
                _hygiene(ctx, identity, token, config, None, None)
            else:
                subject = Subject(identity, creds, token, endpoint, config)
                await _on_endpoint(ctx, subject)

    def conclude(self, ctx: ProbeContext) -> None:
        """Report the JWTs seen in request URLs, one finding per endpoint."""
        if not self._in_urls:
            if self._seen:
                said = f"no request URL held a JWT ({self._seen} endpoint requests seen)"
                ctx.check(self.id, "token-in-url", None, CheckStatus.passed, said)
            else:
                said = "no endpoint's request was sent: no URL to look at"
                ctx.check(self.id, "token-in-url", None, CheckStatus.skipped, said)
            return
        for number, token in enumerate(sorted(self._url_tokens), start=1):
            ctx.keep_secret(token, f"jwt_in_url_{number}")
        total = sum(count for _, count in self._in_urls.values())
        said = f"a JWT was sent in the URL of {total} request(s): {', '.join(self._in_urls)}"
        ctx.check(self.id, "token-in-url", None, CheckStatus.failed, said)
        for place, (first, count) in self._in_urls.items():
            found = Found(
                rule=rule_named("token-in-url"),
                detail=(
                    f"a JWT was sent in the request URL ({count} request(s) to {place}): URLs "
                    "end up in server, proxy and browser logs"
                ),
                exchanges=[first],
                endpoint=first.endpoint,
                affected=[] if first.endpoint else [place],
                key="seen-in-url",
                notes={0: "the URL carries a JWT"},
            )
            ctx.report(self.id, found)


def _config(value: object) -> JwtConfig:
    return value if isinstance(value, JwtConfig) else JwtConfig()


def _likely_identity(scenario: Scenario) -> str | None:
    """The identity `run` will most likely test: the first that logs in or whose token is a
    JWT (a login's token is only known at run time)."""
    for name, identity in scenario.identities.items():
        if identity.login is not None or (identity.token and parse(identity.token)):
            return name
    return None


def _secret_plan(config: JwtConfig) -> list[str]:
    lines = []
    if config.weak_secrets:
        lines.append(
            f"{PROBE_ID}: HS tokens: the bundled weak secrets tried offline (no request); a hit "
            "is confirmed by 1 minted token"
        )
    lines.append(
        f"{PROBE_ID}: with a known signing secret: a control token and one minted with exp "
        "3 h ago (2 requests)"
    )
    if config.expired_token:
        lines.append(f"{PROBE_ID}: expired_token replayed once (1 request)")
    return lines


# -- choosing the token -------------------------------------------------------------------------


async def _choose(ctx: ProbeContext, config: JwtConfig) -> tuple[Credentials, Jwt] | str:
    """The identity's credentials and its token, or why there is none to test."""
    names = [config.identity] if config.identity else list(ctx.scenario.identities)
    if not names:
        return "the scenario has no identity: no token to test"
    problems = []
    for name in names:
        creds = await ctx.credentials(name)
        if creds is None:
            problems.append(f"{name} has no working credentials")
            continue
        token = parse(creds.token)
        if token is not None:
            return creds, token
        problems.append(f"{name}'s token is opaque (not a JWT)")
    return "; ".join(problems) + ": no JWT to test"


async def _other_sub(ctx: ProbeContext, identity: str, token: Jwt) -> str | None:
    """Another identity's `sub`, for the changed-subject token (a real user id)."""
    own = token.claims.get("sub")
    for name in ctx.scenario.identities:
        if name == identity:
            continue
        creds = await ctx.credentials(name)
        other = parse(creds.token) if creds is not None else None
        sub = other.claims.get("sub") if other is not None else None
        if isinstance(sub, str) and sub != own:
            return sub
    return None


# -- one endpoint -------------------------------------------------------------------------------


async def _on_endpoint(ctx: ProbeContext, subject: Subject) -> None:
    """The baselines, then every check at the endpoint; the wait-out runs beside the rest."""
    items = hygiene(subject.token, max_lifetime=subject.config.max_lifetime)
    secret_claims = any(item.rule == "sensitive-claim" for item in items)
    claims = json.dumps(subject.token.claims, ensure_ascii=False)
    public = not secret_claims and not ctx.holds_secret(claims)
    session = Session(ctx, subject, public=public)
    baselines = await session.take_baselines()
    detail = session.baseline_detail()
    if baselines.acceptance is None:
        session.check("baselines", CheckStatus.error, f"{baselines.problem} ({detail})")
        for check in TOKEN_CHECKS:
            session.check(check, CheckStatus.error, f"inconclusive: {baselines.problem}")
    else:
        session.check("baselines", CheckStatus.passed, f"told apart: {detail}")
        await _token_checks(session)
    evidence = session.valid[0] if session.valid else None
    _hygiene(ctx, subject.identity, subject.token, subject.config, subject.endpoint, evidence)


async def _token_checks(session: Session) -> None:
    ctx, subject = session.ctx, session.subject
    findings = ExpiryFindings()
    async with anyio.create_task_group() as group:
        group.start_soon(wait_out, session, findings)
        await signature(session, await _other_sub(ctx, subject.identity, subject.token))
        await header_injection(session)
        await key_confusion(session)
        weak = await weak_secret(session)
        await replay_expired(session, findings)
        secret, why = _signing_secret(ctx, subject, weak)
        await minted_expired(session, secret, why, findings)
        await token_in_query(session)
    findings.report(session)


def _signing_secret(
    ctx: ProbeContext, subject: Subject, weak: str | None
) -> tuple[str | None, str]:
    """The secret to mint with (a confirmed weak one, or `secret` when it signs the token),
    or None and why not."""
    if weak is not None:
        return weak, ""
    secret = subject.config.secret
    if secret is None:
        return None, "no signing secret known (probes.jwt.secret, or a weak secret found)"
    ctx.keep_secret(secret, "jwt_secret")
    alg = subject.token.alg
    if alg not in HMAC_HASHES:
        return None, f"probes.jwt.secret is set, but the token is {alg or 'not'}-signed"
    if find_secret(subject.token, extra=(secret,)) != secret:
        return None, "probes.jwt.secret does not reproduce the token's signature"
    return secret, ""


# -- the token's own claims ---------------------------------------------------------------------


def _hygiene(
    ctx: ProbeContext,
    identity: str,
    token: Jwt,
    config: JwtConfig,
    endpoint: Endpoint | None,
    evidence: Exchange | None,
) -> None:
    """Checks and findings on what the token says about itself (no request)."""
    items = hygiene(token, max_lifetime=config.max_lifetime)
    exchanges = [evidence] if evidence is not None else []
    label = endpoint.label if endpoint is not None else None

    def record(check: str, rule: str, mine: Sequence[Hygiene], passed: str) -> None:
        if not mine:
            ctx.check(PROBE_ID, check, endpoint, CheckStatus.passed, passed)
            return
        detail = "; ".join(item.detail for item in mine)
        if all(item.severity is Severity.info for item in mine):
            ctx.check(PROBE_ID, check, endpoint, CheckStatus.skipped, detail)
            return
        ctx.check(PROBE_ID, check, endpoint, CheckStatus.failed, detail)
        claims = ", ".join(sorted({item.claim for item in mine if item.claim}))
        found = Found(
            rule=rule_named(rule),
            detail=f"{identity}'s {token.alg} token: {detail}",
            exchanges=exchanges,
            endpoint=label,
            affected=[] if label else [f"identity {identity}"],
            parameter=claims or None,
            severity=max((item.severity for item in mine), key=lambda s: s.rank),
            notes={0: f"carries {identity}'s token"},
        )
        ctx.report(PROBE_ID, found)

    left, life = expires_in(token, time.time()), lifetime(token)
    ends = f"exp is {duration(left)} away" if left is not None and left >= 0 else "exp is set"
    if life is not None:
        ends += f" (the token lives {duration(life)})"
    record("no-expiry", "no-expiry", [i for i in items if i.rule == "no-exp"], ends)
    if any(i.rule == "no-exp" for i in items):
        ctx.check(PROBE_ID, "lifetime", endpoint, CheckStatus.skipped, "no exp: no lifetime")
    else:
        record(
            "lifetime",
            "long-lifetime",
            [i for i in items if i.rule == "long-lifetime"],
            f"the token's lifetime is within max_lifetime ({duration(config.max_lifetime)})",
        )
    record(
        "sensitive-claims",
        "sensitive-claims",
        [i for i in items if i.rule == "sensitive-claim"],
        f"no claim holds a password, secret, key, card number, SSN or IBAN "
        f"({len(token.claims)} claims)",
    )
