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
could. A payload-changed token that would be byte for byte the real token (an `exp` or `sub`
the change cannot move, such as NaN) is not sent, and the check says so. The token with
another `sub` answered 2xx with other data (not a refusal, not a negative's answer) is
another user's answer: it counts as accepted.

A finding's first evidence is the accepted token that replays best: one shown in full (a
stripped signature) before one kept secret. Tokens only a key can make (a guessed secret,
the public key as HMAC secret, the `jwk` header's key) get a reproduction that mints an
equivalent token and sends it (`jwt_reproduce`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

from probe.findings import CheckStatus
from probe.probes.base import RequestSpec
from probe.probes.jwt_judges import Trial, summarise
from probe.probes.jwt_keys import (
    PublicKey,
    confusion_recipe,
    header_forgeries,
    key_confusion_forgeries,
    public_keys_from_jwks,
)
from probe.probes.jwt_reproduce import HOUR, confusion_mint, hmac_mint, jwk_mint
from probe.probes.jwt_rules import PROBE_ID
from probe.probes.jwt_secrets import Secret, candidates, find_secret
from probe.probes.jwt_session import Sent, Session
from probe.probes.jwt_tokens import (
    HMAC_HASHES,
    LAST_TIME,
    Forgery,
    mint,
    signature_forgeries,
    time_claim,
)

JWKS_PATH = "/.well-known/jwks.json"
#: Query parameters a token is tried in, without the header.
QUERY_PARAMS = ("access_token", "token")
_IGNORED = (
    "not sent: the server accepts a token whose signature is wrong "
    "(jwt.signature-not-verified), so these tokens would say nothing more"
)


async def signature(session: Session, other_sub: str | None) -> None:
    """The flipped-signature baseline and the signature forgeries; alg none after them."""
    token = session.subject.token
    forgeries = signature_forgeries(token, other_sub=other_sub)
    same = [f for f in forgeries if f.token == token.raw]
    plain = [f for f in forgeries if not f.name.startswith("alg-none") and f not in same]
    none = [f for f in forgeries if f.name.startswith("alg-none") and f not in same]
    flipped = _flipped_trial(session)
    sent = [flipped, *[_impersonation(s) for s in await session.forgeries(plain, "signature")]]
    _judge(
        session,
        "signature",
        "signature-not-verified",
        "changed or missing signature",
        sent,
        unsent=_unsent(same),
    )
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


def _unsent(same: Sequence[Forgery]) -> str:
    """Why some forgeries were not sent: they would be the real token itself."""
    if not same:
        return ""
    names = ", ".join(f.name for f in same)
    return (
        f"; not sent: {names} (the change leaves the token byte for byte the same: the claim "
        "cannot be moved, so it would prove nothing)"
    )


def _impersonation(sent: Sent) -> Sent:
    """The changed-`sub` token answered with other data: another user's answer, accepted."""
    trial = sent.trial
    if trial.name != "payload-changed-sub" or not trial.other:
        return sent
    how = f"{trial.how}: answered {trial.status} with another user's data"
    return dataclasses.replace(sent, trial=dataclasses.replace(trial, accepted=True, how=how))


def _flipped_trial(session: Session) -> Sent:
    exchange = session.flipped
    # The baselines held, so the flipped token got an answer.
    assert exchange is not None
    assert exchange.response is not None
    how = "the token with one bit of its signature flipped, payload unchanged"
    accepted = session.baselines.signature_ignored
    trial = Trial("signature-bit-flipped", how, exchange.response.status, accepted)
    return Sent(trial, exchange)


#: Writes the reproduction of a family's finding from its first accepted token (None: the
#: curl line of that token's exchange replays it).
Reproducer = Callable[[Sent], str | None]


def _judge(
    session: Session,
    check: str,
    rule: str,
    label: str,
    sent: Sequence[Sent],
    *,
    unsent: str = "",
    reproducer: Reproducer | None = None,
) -> None:
    """Record a family's check, and one finding listing every token accepted, the one that
    replays best first."""
    status, detail = summarise(label, [s.trial for s in sent])
    session.check(check, status, detail + unsent)
    accepted = sorted((s for s in sent if s.trial.accepted), key=lambda s: not s.replayable)
    if not accepted:
        return
    how = "; ".join(f"{s.trial.how} ({s.trial.name})" for s in accepted)
    identity = session.subject.identity
    said = (
        f"{len(accepted)} of {len(sent)} {label} token(s) built from {identity}'s "
        f"{session.subject.token.alg} token were accepted like the valid token: {how}"
    )
    first = accepted[0]
    reproduce = reproducer(first) if reproducer is not None and not first.replayable else None
    notes = [_note(s) for s in accepted[:3]]
    session.found(rule, said, [s.exchange for s in accepted[:3]], reproduce=reproduce, notes=notes)


def _note(sent: Sent) -> str:
    if sent.trial.name == "payload-changed-sub" and sent.trial.other:
        return "the token with another sub: answered with another user's data"
    return f"the crafted token ({sent.trial.name}): answered like the valid token"


async def header_injection(session: Session) -> None:
    """The `jwk` and `kid` header tricks."""
    if session.baselines.signature_ignored:
        session.check("header-key-injection", CheckStatus.skipped, _IGNORED)
        return
    sent = await session.forgeries(header_forgeries(session.subject.token), "header-key")

    def reproducer(first: Sent) -> str | None:
        if first.trial.name != "jwk-embedded":
            return None
        token = session.subject.token
        mint = jwk_mint(session.claims_word(token.claims), token.header)
        return session.reproduce(session.request(None), mint)

    _judge(
        session,
        "header-key-injection",
        "header-key-injection",
        "header key",
        sent,
        reproducer=reproducer,
    )


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
    keys, why, url = await _public_keys(session)
    forgeries = key_confusion_forgeries(token, keys)
    if not forgeries:
        said = why or f"no key of the JWKS fits an {token.alg} token"
        session.check("key-confusion", CheckStatus.skipped, f"no public key: {said}")
        return
    sent = await session.forgeries(forgeries, "key-confusion")

    def reproducer(first: Sent) -> str | None:
        recipe = confusion_recipe(token, keys, first.trial.name)
        if recipe is None:
            return None
        key, form = recipe
        mint = confusion_mint(session.claims_word(token.claims), key.index, form, token.header)
        return session.reproduce(session.request(None), mint, fetch=url)

    _judge(session, "key-confusion", "key-confusion", "key confusion", sent, reproducer=reproducer)


def jwks_url(base_url: str, configured: str | None) -> str:
    """Where the JWKS is read: `jwks_url` (a path joins base_url; an absolute URL as is), or
    /.well-known/jwks.json at base_url's origin."""
    if configured and urlsplit(configured).scheme:
        return configured
    if configured:
        return base_url.rstrip("/") + "/" + configured.lstrip("/")
    return urljoin(base_url, JWKS_PATH)


async def _public_keys(session: Session) -> tuple[list[PublicKey], str, str]:
    """The JWKS's keys, or none and why; and the URL it was read from."""
    ctx = session.ctx
    url = jwks_url(ctx.scenario.target.base_url, session.subject.config.jwks_url)
    exchange = await ctx.send(RequestSpec("GET", url), probe=PROBE_ID, purpose="jwks")
    response = exchange.response
    if response is None:
        return [], f"{url} was not read ({exchange.error})", url
    if response.status != 200:
        return [], f"{url} answered {response.status}", url
    keys = public_keys_from_jwks(response.body, source=url)
    if keys:
        return keys, "", url
    if response.truncated:
        cap = ctx.scenario.settings.body_cap
        why = f"the JWKS was cut at body_cap ({cap} bytes); raise settings.body_cap to read it"
        return [], f"{url}: {why}", url
    return [], f"{url} holds no RSA, EC or OKP signing key", url


# -- weak secret --------------------------------------------------------------------------------


async def weak_secret(session: Session) -> Secret | None:
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
    if not sent.trial.accepted:
        answer = sent.trial.status if sent.trial.status is not None else sent.trial.error
        said = (
            f"{secret.shown} reproduces the token's signature offline, but a token minted "
            f"with it (exp 1 h later) was not accepted ({answer}): not confirmed, not reported"
        )
        session.check("weak-secret", CheckStatus.error, said)
        return None
    said = (
        f"{session.subject.identity}'s {token.alg} token is signed with {secret.shown}, a "
        f"published default (found offline among {len(candidates())} candidates); a token "
        "minted with it, exp 1 h later, was accepted like the valid token"
    )
    session.check("weak-secret", CheckStatus.failed, said)
    reproduce = mint_reproduce(session, spec, claims, secret, HOUR)
    session.found("weak-secret", said, [sent.exchange], reproduce=reproduce)
    return secret


def mint_reproduce(
    session: Session, spec: RequestSpec, claims: dict[str, Any], secret: Secret, exp: int
) -> str:
    """The shell line that mints the token with `secret` (`exp` seconds from when it runs)
    and sends `spec` with it."""
    token = session.subject.token
    word = session.claims_word(claims)
    mint = hmac_mint(word, secret.text, token.alg, token.header, form=secret.form, exp=exp)
    return session.reproduce(spec, mint)


async def mint_later(
    session: Session, secret: Secret, purpose: str
) -> tuple[Sent, dict[str, object], RequestSpec]:
    """Send a token minted with `secret` whose exp is an hour from now (an hour after its
    own when that is later); the minted token is kept secret in the report."""
    token = session.subject.token
    now = int(time.time())
    own = time_claim(token.claims.get("exp"))
    later = max(now, int(own)) + HOUR if own is not None and own < LAST_TIME - HOUR else now + HOUR
    claims = {**token.claims, "exp": later}
    minted = mint(token, secret.key, claims=claims)
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
