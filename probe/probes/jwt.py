"""The jwt probe: does the API verify its tokens' signatures and expiry, is its signing
secret guessable, and does the token itself give anything away? A crafted token counts as
accepted only when its answer matches the valid token's (the same status class, the same body
once times, ids and other per-request values are left out) and differs from both negative
baselines: the token with one signature bit flipped, and no token at all. When a negative
cannot be told apart from the valid answer (the endpoint does not need the token, or answers
200 with an error body to everyone), the token checks are `error` and nothing is reported.

It tests one identity's token (`probes.jwt.identity`, else the first identity whose token is a
JWT) on one endpoint (`probes.jwt.endpoint`, else the first endpoint sent as that identity,
GET first, never one tagged auth or login, never a DELETE). Every crafted token goes only to
that endpoint, through the engine's scope guard, budget and rate limit, as no identity. A
DELETE named by `probes.jwt.endpoint` is never sent: every token check is `skipped`. In order:

1. baselines: the valid token twice (the engine's baseline counts once when it carried it),
   the token with one signature bit flipped, and no token. A crafted token is accepted only
   when its answer matches the valid one and differs from the negatives (`jwt_judges`); when
   no token gets the valid answer, every token check is `error` and nothing is reported (a
   weak secret found offline is named in the weak-secret check, unconfirmed);
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
8. the valid token once more: when it is no longer accepted (a revoked session, an expired
   token), the token checks that passed are `error`, since their tokens may have been refused
   for that alone;
9. refresh rotation, once every other token check is done (the wait-out included), since a
   server that detects the reuse may end the user's sessions: a fresh login's refresh token
   used twice (`jwt_refresh`), the valid token sent before and after it to tell whether it
   stopped working.

Read from the token, no request: no `exp`, a lifetime above `max_lifetime`, sensitive claims
(`jwt_hygiene`). Seen in the traffic of the whole scan: a JWT credential in any request URL
(`jwt_urls`).

Requests: 21 on a typical endpoint with an HS256 token; up to 3 more with `secret`,
`expired_token` or a weak secret found; 5 more for an RS256 token with a JWKS; 2 refresh
requests, a login and 2 valid-token requests for refresh rotation; 2 logins, 1 request and at
most 22 replays for a wait-out (the identity's own token alone, at most 11 replays, when it
has no login); one more try of a token answered 429.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import anyio

from probe.exchange import Exchange
from probe.findings import CheckStatus, Severity
from probe.probes.base import Credentials, Found, Probe, ProbeContext
from probe.probes.jwt_clock import duration, expires_in, lifetime
from probe.probes.jwt_expiry import ExpiryFindings, minted_expired, replay_expired, wait_out
from probe.probes.jwt_forged import (
    header_injection,
    key_confusion,
    signature,
    token_in_query,
    weak_secret,
)
from probe.probes.jwt_hygiene import Hygiene, hygiene
from probe.probes.jwt_judges import NEVER_SENT, pick_endpoint
from probe.probes.jwt_plan import plan_lines
from probe.probes.jwt_refresh import CHECK as REFRESH_CHECK
from probe.probes.jwt_refresh import refresh_rotation
from probe.probes.jwt_rules import CHECKS, PROBE_ID, RULES
from probe.probes.jwt_secrets import Secret, find_secret
from probe.probes.jwt_session import Session, Subject, rule_named
from probe.probes.jwt_tokens import HMAC_HASHES, Jwt, parse
from probe.probes.jwt_urls import UrlTokens
from probe.scenario.models import Endpoint, JwtConfig, Scenario

# The names other modules import from here, defined here or re-exported.
__all__ = ["CHECKS", "TOKEN_CHECKS", "JwtProbe"]

#: Checks that judge crafted tokens at the endpoint: `error` when the baselines are
#: inconclusive.
TOKEN_CHECKS = CHECKS[CHECKS.index("signature") : CHECKS.index("token-in-query") + 1]


class JwtProbe(Probe):
    """Expired, forged and weakly signed tokens, refresh rotation and token hygiene."""

    id = PROBE_ID
    title = "JWT acceptance and token weaknesses"
    rules = RULES

    def __init__(self) -> None:
        self._urls = UrlTokens()

    def plan(self, scenario: Scenario) -> list[str]:
        """What `run` would send."""
        return plan_lines(scenario, _config(scenario.probes.jwt))

    def observe(self, exchange: Exchange) -> None:
        """Note a JWT in the URL of any other probe's request."""
        self._urls.observe(exchange)

    async def run(self, ctx: ProbeContext) -> None:
        """Choose the token and endpoint, then run every check; refresh rotation last."""
        config = _config(ctx.config(self.id))
        chosen = await _choose(ctx, config, self._urls)
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
        session = None
        why = _unusable(endpoint, identity)
        if endpoint is None or why:
            offline = _offline_hit(token, config)
            for check in ("baselines", *TOKEN_CHECKS):
                said = f"{offline}: {why}" if check == "weak-secret" and offline else why
                ctx.check(self.id, check, endpoint, CheckStatus.skipped, said)
            _hygiene(ctx, identity, token, config, endpoint, None)
        else:
            subject = Subject(identity, creds, token, endpoint, config)
            session = await _on_endpoint(ctx, subject)
        await _refresh(ctx, identity, session)

    def conclude(self, ctx: ProbeContext) -> None:
        """Report the JWT credentials seen in request URLs, one finding per endpoint."""
        self._urls.conclude(ctx)


def _config(value: object) -> JwtConfig:
    return value if isinstance(value, JwtConfig) else JwtConfig()


def _unusable(endpoint: Endpoint | None, identity: str) -> str:
    """Why no token can be sent to the endpoint ("" when they can)."""
    if endpoint is None:
        return (
            f"no endpoint is sent as {identity} that is neither a login nor a DELETE (or "
            "probes.jwt.endpoint names none): name one that needs the token with "
            "probes.jwt.endpoint"
        )
    if endpoint.method in NEVER_SENT:
        return (
            f"probes.jwt.endpoint names {endpoint.label}, a {endpoint.method}: the probe never "
            "sends one (each token would run it again); name an endpoint that reads"
        )
    return ""


def _offline_hit(token: Jwt, config: JwtConfig) -> str:
    """The weak secret the offline search finds when nothing can be confirmed at the
    endpoint, as the weak-secret check says it ("" without one)."""
    if not config.weak_secrets or token.alg not in HMAC_HASHES:
        return ""
    secret = find_secret(token)
    if secret is None:
        return ""
    return (
        f"{secret.shown} reproduces the token's signature offline (a published default), but "
        "it could not be confirmed with a minted token, so it is not reported"
    )


# -- choosing the token -------------------------------------------------------------------------


async def _choose(
    ctx: ProbeContext, config: JwtConfig, urls: UrlTokens
) -> tuple[Credentials, Jwt] | str:
    """The identity's credentials and its token, or why there is none to test. Every
    identity's token is made known as a credential for the URL check on the way."""
    for name in ctx.scenario.identities:
        known = await ctx.credentials(name)
        if known is not None:
            urls.know(known.token)
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


async def _on_endpoint(ctx: ProbeContext, subject: Subject) -> Session:
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
        offline = _offline_hit(subject.token, subject.config)
        for check in TOKEN_CHECKS:
            said = f"inconclusive: {baselines.problem}"
            if check == "weak-secret" and offline:
                said = f"{offline}: the endpoint cannot tell tokens apart ({baselines.problem})"
            session.check(check, CheckStatus.error, said)
    else:
        session.check("baselines", CheckStatus.passed, f"told apart: {detail}")
        await _token_checks(session)
    evidence = session.valid[0] if session.valid else None
    _hygiene(ctx, subject.identity, subject.token, subject.config, subject.endpoint, evidence)
    return session


async def _token_checks(session: Session) -> None:
    ctx, subject = session.ctx, session.subject
    findings = ExpiryFindings()
    async with anyio.create_task_group() as group:
        group.start_soon(wait_out, session, findings)
        session.hold()
        stopped = ""
        try:
            await signature(session, await _other_sub(ctx, subject.identity, subject.token))
            await header_injection(session)
            await key_confusion(session)
            weak = await weak_secret(session)
            await replay_expired(session, findings)
            secret, why = _signing_secret(ctx, subject, weak)
            await minted_expired(session, secret, why, findings)
            await token_in_query(session)
            stopped = await _stopped(session)
        finally:
            # Checks already judged are recorded even when a later one fails.
            session.release(stopped)
    findings.report(session)


async def _stopped(session: Session) -> str:
    """Why the identity's token no longer works, re-sent after the token checks ("" when it
    still does, or the answer allows no verdict)."""
    exchange = await session.still_accepted()
    if session.accepted(exchange) is not False or exchange.response is None:
        return ""
    response = exchange.response
    said = f"re-sent after them, it was answered {response.status}"
    body = " ".join(response.text(60).split())
    if body:
        said += f" {body!r}"
    left = expires_in(session.subject.token, time.time() + session.skew)
    if left is not None and left <= 0:
        said += " (its exp has passed)"
    return said


def _signing_secret(
    ctx: ProbeContext, subject: Subject, weak: Secret | None
) -> tuple[Secret | None, str]:
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
    found = find_secret(subject.token, extra=(secret,))
    if found is None or found.text != secret:
        return None, "probes.jwt.secret does not reproduce the token's signature"
    return found, ""


# -- refresh rotation ---------------------------------------------------------------------------


async def _refresh(ctx: ProbeContext, identity: str, session: Session | None) -> None:
    """Refresh rotation, last; with a conclusive endpoint, the identity's token is sent
    before and after it to tell whether the check ended the user's sessions."""
    login = ctx.scenario.identities[identity].login
    refreshes = login is not None and login.refresh is not None
    watch = session if session is not None and session.acceptance is not None else None
    creds = await ctx.credentials(identity) if watch is not None and refreshes else None
    alive = False
    if watch is not None and creds is not None:
        alive = bool(watch.accepted(await watch.still_accepted(creds.token)))
    outcome = await refresh_rotation(ctx, identity)
    detail = outcome.detail
    if watch is not None and creds is not None and alive:
        detail += await _ended(watch, creds.token)
    ctx.check(PROBE_ID, REFRESH_CHECK, None, outcome.status, detail)
    if outcome.found is not None:
        ctx.report(PROBE_ID, outcome.found)


async def _ended(session: Session, token: str) -> str:
    """What the refresh check adds when the token that worked before it no longer does."""
    after = await session.still_accepted(token)
    if session.accepted(after) is not False or after.response is None:
        return ""
    return (
        f"; after this check (one more login and two refreshes), "
        f"{session.subject.identity}'s token stopped working at {session.endpoint.label} "
        f"(answered {after.response.status}): the server ends the user's sessions on a new "
        "login or on a reused refresh token"
    )


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
