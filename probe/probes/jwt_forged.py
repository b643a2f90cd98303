"""The jwt probe's forged tokens, family by family: each is sent once to the endpoint, judged
against the baselines, and recorded as one check with at most one finding.

- signature: the flipped signature bit (a baseline), the payload changed under the original
  signature (`exp` later, another `sub`), the signature stripped, two parts;
- alg-none: `alg` none in four letter cases, with and without the final dot;
- header-key-injection: a `jwk` embedded in the header, `kid` naming /dev/null;
- key-confusion: the public keys of the JWKS as HMAC secrets (RS/ES/PS tokens only);
- weak-secret: the bundled secrets tried offline, a hit confirmed by one minted token;
- token-in-query: the valid token as `?access_token=` and `?token=`, without the header.

When the server accepts a wrong signature at all, alg-none, header-key-injection and
key-confusion are skipped (not sent): signature-not-verified already says everything they
could.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

from probe.findings import CheckStatus
from probe.probes.base import RequestSpec
from probe.probes.jwt_judges import Trial, summarise
from probe.probes.jwt_keys import (
    PublicKey,
    header_forgeries,
    key_confusion_forgeries,
    public_keys_from_jwks,
)
from probe.probes.jwt_rules import PROBE_ID
from probe.probes.jwt_secrets import candidates, find_secret
from probe.probes.jwt_session import Sent, Session
from probe.probes.jwt_tokens import HMAC_HASHES, mint, signature_forgeries

JWKS_PATH = "/.well-known/jwks.json"
#: Query parameters a token is tried in, without the header.
QUERY_PARAMS = ("access_token", "token")
_HOUR = 3600
_IGNORED = (
    "not sent: the server accepts a token whose signature is wrong "
    "(jwt.signature-not-verified), so these tokens would say nothing more"
)


async def signature(session: Session, other_sub: str | None) -> None:
    """The flipped-signature baseline and the signature forgeries; alg none after them."""
    forgeries = signature_forgeries(session.subject.token, other_sub=other_sub)
    plain = [f for f in forgeries if not f.name.startswith("alg-none")]
    none = [f for f in forgeries if f.name.startswith("alg-none")]
    flipped = _flipped_trial(session)
    sent = [flipped, *await session.forgeries(plain, "signature")]
    _judge(session, "signature", "signature-not-verified", "changed or missing signature", sent)
    if session.baselines.signature_ignored:
        session.check("alg-none", CheckStatus.skipped, _IGNORED)
        return
    _judge(
        session,
        "alg-none",
        "alg-none-accepted",
        "alg none",
        await session.forgeries(none, "alg-none"),
    )


def _flipped_trial(session: Session) -> Sent:
    exchange = session.flipped
    # The baselines held, so the flipped token got an answer.
    assert exchange is not None
    assert exchange.response is not None
    how = "the token with one bit of its signature flipped, payload unchanged"
    accepted = session.baselines.signature_ignored
    trial = Trial("signature-bit-flipped", how, exchange.response.status, accepted)
    return Sent(trial, exchange)


def _judge(session: Session, check: str, rule: str, label: str, sent: Sequence[Sent]) -> None:
    """Record a family's check, and one finding listing every token accepted."""
    status, detail = summarise(label, [s.trial for s in sent])
    session.check(check, status, detail)
    accepted = [s for s in sent if s.trial.accepted]
    if not accepted:
        return
    how = "; ".join(f"{s.trial.how} ({s.trial.name})" for s in accepted)
    identity = session.subject.identity
    said = (
        f"{len(accepted)} of {len(sent)} {label} token(s) built from {identity}'s "
        f"{session.subject.token.alg} token were accepted like the valid token: {how}"
    )
    session.found(rule, said, [s.exchange for s in accepted[:3]])


async def header_injection(session: Session) -> None:
    """The `jwk` and `kid` header tricks."""
    if session.baselines.signature_ignored:
        session.check("header-key-injection", CheckStatus.skipped, _IGNORED)
        return
    sent = await session.forgeries(header_forgeries(session.subject.token), "header-key")
    _judge(session, "header-key-injection", "header-key-injection", "header key", sent)


# -- key confusion -------------------------------------------------------------------------------


async def key_confusion(session: Session) -> None:
    """HS256 tokens signed with the service's public keys, for RS/ES/PS/EdDSA tokens."""
    token = session.subject.token
    if token.alg[:2] not in ("RS", "ES", "PS", "Ed"):
        why = f"the token is {token.alg or 'not'}-signed: key confusion needs an RS/ES/PS token"
        session.check("key-confusion", CheckStatus.skipped, why)
        return
    if session.baselines.signature_ignored:
        session.check("key-confusion", CheckStatus.skipped, _IGNORED)
        return
    keys, why = await _public_keys(session)
    forgeries = key_confusion_forgeries(token, keys)
    if not forgeries:
        said = why or f"no key of the JWKS fits an {token.alg} token"
        session.check("key-confusion", CheckStatus.skipped, f"no public key: {said}")
        return
    sent = await session.forgeries(forgeries, "key-confusion")
    _judge(session, "key-confusion", "key-confusion", "key confusion", sent)


def jwks_url(base_url: str, configured: str | None) -> str:
    """Where the JWKS is read: `jwks_url` (a path joins base_url; an absolute URL as is), or
    /.well-known/jwks.json at base_url's origin."""
    if configured and urlsplit(configured).scheme:
        return configured
    if configured:
        return base_url.rstrip("/") + "/" + configured.lstrip("/")
    return urljoin(base_url, JWKS_PATH)


async def _public_keys(session: Session) -> tuple[list[PublicKey], str]:
    """The JWKS's keys, or none and why."""
    ctx = session.ctx
    url = jwks_url(ctx.scenario.target.base_url, session.subject.config.jwks_url)
    exchange = await ctx.send(RequestSpec("GET", url), probe=PROBE_ID, purpose="jwks")
    response = exchange.response
    if response is None:
        return [], f"{url} was not read ({exchange.error})"
    if response.status != 200:
        return [], f"{url} answered {response.status}"
    keys = public_keys_from_jwks(response.body, source=url)
    return keys, "" if keys else f"{url} holds no RSA, EC or OKP signing key"


# -- weak secret --------------------------------------------------------------------------------


async def weak_secret(session: Session) -> str | None:
    """The weak secret found offline and confirmed by a minted token, or None."""
    token = session.subject.token
    if not session.subject.config.weak_secrets:
        session.check("weak-secret", CheckStatus.skipped, "weak_secrets is off in the scenario")
        return None
    if token.alg not in HMAC_HASHES:
        why = f"the token is {token.alg or 'not'}-signed: only HS256/384/512 have a secret to guess"
        session.check("weak-secret", CheckStatus.skipped, why)
        return None
    secret = find_secret(token)
    if secret is None:
        said = f"no secret of the bundled list ({len(candidates())}) signs the token (offline)"
        session.check("weak-secret", CheckStatus.passed, said)
        return None
    sent, claims, spec = await mint_later(session, secret, "weak-secret")
    shown = repr(secret) if secret else "an empty secret"
    if not sent.trial.accepted:
        answer = sent.trial.status if sent.trial.status is not None else sent.trial.error
        said = (
            f"{shown} reproduces the token's signature offline, but a token minted with it "
            f"(exp 1 h later) was not accepted ({answer}): not confirmed, not reported"
        )
        session.check("weak-secret", CheckStatus.error, said)
        return None
    said = (
        f"{session.subject.identity}'s {token.alg} token is signed with {shown}, a published "
        f"default (found offline among {len(candidates())} candidates); a token minted with "
        "it, exp 1 h later, was accepted like the valid token"
    )
    session.check("weak-secret", CheckStatus.failed, said)
    reproduce = session.mint_command(spec, claims, secret, _HOUR) if secret else None
    session.found("weak-secret", said, [sent.exchange], reproduce=reproduce)
    return secret


async def mint_later(
    session: Session, secret: str, purpose: str
) -> tuple[Sent, dict[str, object], RequestSpec]:
    """Send a token minted with `secret` whose exp is an hour from now (an hour after its
    own when that is later); the minted token is kept secret in the report."""
    token = session.subject.token
    now = int(time.time())
    exp = token.claims.get("exp")
    later = max(now, int(exp) if isinstance(exp, int | float) else now) + _HOUR
    claims = {**token.claims, "exp": later}
    minted = mint(token, secret, claims=claims)
    session.register(minted, f"{purpose}_minted", holds_secret=True)
    how = "a token minted with the secret, exp an hour from now"
    sent = await session.trial(f"{purpose}-minted", minted, how, f"{purpose}-minted")
    return sent, claims, session.request(minted)


# -- the token in the query ---------------------------------------------------------------------


async def token_in_query(session: Session) -> None:
    """The valid token as a query parameter, without the credential header."""
    token = session.subject.creds.token
    endpoint = session.endpoint
    sent = []
    for param in QUERY_PARAMS:
        exchange = await session.send(
            None, "token-in-query", query={**endpoint.query, param: token}
        )
        how = f"the valid token as ?{param}= and no credential header"
        sent.append(session.sent(param, how, exchange))
    status, detail = summarise("token in the query", [s.trial for s in sent])
    session.check("token-in-query", status, detail)
    accepted = [s for s in sent if s.trial.accepted]
    if accepted:
        names = " and ".join(f"?{s.trial.name}=" for s in accepted)
        said = (
            f"{session.subject.identity}'s token was accepted in the URL as {names} without "
            "the credential header: clients may send it there, and URLs end up in logs"
        )
        session.found(
            "token-in-url", said, [accepted[0].exchange], key="accepted-in-query", anonymous=True
        )
