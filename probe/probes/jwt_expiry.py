"""The jwt probe's expiry tests, three ways, each its own check at the endpoint:

- `expiry-replay`: the scenario's `expired_token`, sent once;
- `expiry-wait`: when the identity's tokens expire within `wait_for_expiry` seconds, two
  fresh logins (one token used once while valid, one never used before its `exp`: a server
  may cache a token's verdict from its first use), or the identity's own token when it has
  no login; a wait until past `exp`, then replays 1, 2, 4, 8 ... 301 s past it while the
  wait lasts, each token until it is refused;
- `expiry-minted`: with a known secret, a control token minted with a later `exp` (it must be
  accepted), then one whose `exp` lies three hours in the past.

Time past `exp` is counted by the server's clock: its Date header when it sends one, else the
`iat` of a fresh login's token against the scan's clock around that login (within about a
second, the uncertainty the verdict allows for). A replay answered 2xx with other data (not
the valid answer, not a refusal) is no verdict: the check is `error`, saying so. The figures
become verdicts in `jwt_judges.judge_past_exp`; one finding per rule at the endpoint lists
every way that showed it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import anyio

from probe.exchange import Exchange
from probe.findings import CheckStatus, Confidence
from probe.probes.jwt_clock import (
    ExpiryVerdict,
    duration,
    expires_in,
    iat_skew,
    judge_past_exp,
    lifetime,
    poll_offsets,
)
from probe.probes.jwt_forged import mint_later, mint_reproduce
from probe.probes.jwt_rules import PROBE_ID
from probe.probes.jwt_secrets import Secret
from probe.probes.jwt_session import Sent, Session
from probe.probes.jwt_tokens import Jwt, mint, parse, time_claim

#: How far in the past the minted token's `exp` lies.
MINTED_PAST = 3 * 3600
_RANK = {None: 0, "long-expiry-leeway": 1, "expired-accepted": 2}
_CONFIDENCE = [Confidence.tentative, Confidence.firm, Confidence.certain]


@dataclass(frozen=True)
class Shown:
    """An expiry test whose verdict fired.

    Attributes:
        way: Which test ("the scenario's expired_token", "waited out", ...).
        verdict: Its verdict.
        exchange: The replay that was accepted.
        reproduce: A command that reproduces it, when the curl line cannot (a minted token).
        confidence: Tentative when the server's clock could not be read.
    """

    way: str
    verdict: ExpiryVerdict
    exchange: Exchange
    reproduce: str | None = None
    confidence: Confidence = Confidence.firm


@dataclass
class ExpiryFindings:
    """The expiry verdicts that fire, gathered so each rule gives one finding."""

    items: list[Shown] = field(default_factory=list)

    def add(self, shown: Shown) -> None:
        """Keep a verdict that fired."""
        if shown.verdict.rule is not None:
            self.items.append(shown)

    def report(self, session: Session) -> None:
        """One finding per rule: every way that showed it, the longest time past exp first."""
        for rule in ("expired-accepted", "long-expiry-leeway"):
            mine = [item for item in self.items if item.verdict.rule == rule]
            if not mine:
                continue
            mine.sort(key=lambda item: -(item.verdict.past or 0))
            detail = "; ".join(f"{item.way}: {item.verdict.detail}" for item in mine)
            identity = session.subject.identity
            whose = (
                "an expired token" if _OTHER_USER in detail else f"an expired token of {identity}"
            )
            said = f"{whose} was accepted by the server. {detail}"
            notes = [_note(item, identity) for item in mine]
            exchanges = [item.exchange for item in mine]
            sure = min((item.confidence for item in mine), key=_CONFIDENCE.index)
            session.found(
                rule,
                said,
                exchanges,
                reproduce=mine[0].reproduce,
                notes=notes,
                confidence=sure,
            )


def _note(item: Shown, identity: str) -> str:
    said = f"{item.way}: answered like the valid token"
    if item.way == "waited out" and item.verdict.past is not None:
        # The token replayed is gone with the scan: any expired one of the same age will do.
        said += (
            f" (to replay it, put in any token of {identity} that expired "
            f"{duration(item.verdict.past)} ago)"
        )
    return said


# -- the scenario's expired token ---------------------------------------------------------------


async def replay_expired(session: Session, findings: ExpiryFindings) -> None:
    """Send `expired_token` once."""
    raw = session.subject.config.expired_token
    if raw is None:
        why = "no expired_token in the scenario (probes.jwt.expired_token)"
        session.check("expiry-replay", CheckStatus.skipped, why)
        return
    session.ctx.keep_secret(raw, f"{session.subject.identity}_expired_token")
    token = parse(raw)
    left = expires_in(token, time.time() + session.skew) if token is not None else None
    if left is not None and left > 0:
        why = f"expired_token is not expired yet (its exp is {duration(left)} away): not sent"
        session.check("expiry-replay", CheckStatus.error, why)
        return
    sent = session.sent(
        "expired-token", "the scenario's expired_token", await session.send(raw, "expiry-replay")
    )
    accepted, exchange = sent.trial.accepted, sent.exchange
    # The scenario's expired token may be another user's: its own data, answered 2xx, is that
    # user served with an expired token.
    someone_else = sent.trial.other and names_another_user(token, session.subject.token)
    if someone_else:
        accepted = True
    if accepted is None or (sent.trial.other and not someone_else):
        why = _other(sent) or f"no verdict ({sent.trial.error})"
        session.check("expiry-replay", CheckStatus.error, f"expired_token: {why}")
        return
    if left is None:
        verdict = _opaque(accepted)
    else:
        past = -left
        verdict = judge_past_exp(past if accepted else None, None if accepted else past)
    way = "the scenario's expired_token"
    if someone_else:
        way += f" ({_OTHER_USER})"
    session.check("expiry-replay", verdict.status, f"{way}: {verdict.detail}")
    findings.add(Shown(way, verdict, exchange))


_OTHER_USER = "another user's token, answered with that user's data"
_SUBJECT_CLAIMS = ("sub", "uid", "user_id", "userId", "email", "username")


def names_another_user(token: Jwt | None, own: Jwt) -> bool:
    """True when `token` names a user, and not the user `own` names."""
    if token is None:
        return False
    theirs = {k: token.claims.get(k) for k in _SUBJECT_CLAIMS if token.claims.get(k) is not None}
    mine = {k: own.claims.get(k) for k in _SUBJECT_CLAIMS if own.claims.get(k) is not None}
    shared = theirs.keys() & mine.keys()
    return bool(shared) and any(theirs[k] != mine[k] for k in shared)


def _other(sent: Sent) -> str:
    """Why a replay answered with other data tells nothing, or "" when it did not."""
    if not sent.trial.other:
        return ""
    return (
        f"answered {sent.trial.status} with another answer: inconclusive (neither the valid "
        "token's answer nor a refusal, such as another user's data)"
    )


def _opaque(accepted: bool) -> ExpiryVerdict:
    """An expired_token whose exp cannot be read: the scenario says it is expired."""
    if not accepted:
        return ExpiryVerdict(CheckStatus.passed, "refused (its exp cannot be read)")
    said = "accepted (its exp cannot be read; the scenario says it is expired)"
    return ExpiryVerdict(CheckStatus.failed, said, "expired-accepted", None)


# -- a token minted with a known secret ---------------------------------------------------------


async def minted_expired(
    session: Session, secret: Secret | None, why: str, findings: ExpiryFindings
) -> None:
    """A token minted with `secret` and `exp` three hours ago, after a control minted with a
    later exp that must be accepted; skipped, saying `why`, without a secret."""
    token = session.subject.token
    if secret is None:
        session.check("expiry-minted", CheckStatus.skipped, why)
        return
    control, _, _ = await mint_later(session, secret, "expiry-control")
    if not control.trial.accepted:
        answer = control.trial.status if control.trial.status is not None else control.trial.error
        why = (
            f"a token minted with the secret and a later exp was not accepted ({answer}): the "
            "secret may not be the signing key; nothing to compare the expired one with"
        )
        session.check("expiry-minted", CheckStatus.error, why)
        return
    # By the lower of the two clocks: a Date header wrong by hours (a proxy's clock) must not
    # make "three hours ago" lie in the future of the clock that checks the token.
    claims = _expired_claims(token, time.time() + min(0.0, session.skew))
    minted = mint(token, secret.key, claims=claims)
    session.register(minted, "expired_minted", holds_secret=True)
    how = f"minted with exp {duration(MINTED_PAST)} ago"
    sent = await session.trial("expired-minted", minted, how, "expiry-minted")
    if sent.trial.accepted is None or sent.trial.other:
        said = _other(sent) or f"no verdict ({sent.trial.error})"
        session.check("expiry-minted", CheckStatus.error, f"a token {how}: {said}")
        return
    verdict = (
        judge_past_exp(MINTED_PAST, None)
        if sent.trial.accepted
        else judge_past_exp(None, MINTED_PAST)
    )
    session.check("expiry-minted", verdict.status, f"a token {how}: {verdict.detail}")
    reproduce = mint_reproduce(session, session.request(minted), claims, secret, -MINTED_PAST)
    findings.add(Shown(f"a token {how}", verdict, sent.exchange, reproduce))


def _expired_claims(token: Jwt, now: float) -> dict[str, object]:
    """The token's claims with `exp` three hours ago, `iat` and `nbf` moved with it (an hour
    before exp when the token's own lifetime is unknown or absurd)."""
    exp = int(now) - MINTED_PAST
    claims: dict[str, object] = {**token.claims, "exp": exp}
    life = lifetime(token)
    life = life if life is not None and 0 < life <= 366 * 86_400 else 3600
    if "iat" in claims:
        claims["iat"] = exp - int(life)
    if "nbf" in claims:
        claims["nbf"] = claims.get("iat", exp - 3600)
    return claims


# -- waiting a real token out -------------------------------------------------------------------


@dataclass
class Watched:
    """A real token replayed past its exp.

    Attributes:
        label: What it is, for the report.
        raw: The token.
        exp: Its exp (Unix time).
        accepted: Latest time past exp it was accepted (seconds), if it was.
        refused: First time past exp it was refused, if it was.
        other: First time past exp it got another answer (2xx data, no refusal), if it did.
        exchange: The latest replay that was accepted.
    """

    label: str
    raw: str
    exp: float
    accepted: float | None = None
    refused: float | None = None
    other: float | None = None
    exchange: Exchange | None = None


async def wait_out(session: Session, findings: ExpiryFindings) -> None:
    """Wait for real tokens to expire, then replay them at growing intervals."""
    budget = session.subject.config.wait_for_expiry
    token = session.subject.token
    start = time.time()
    left = expires_in(token, start + session.skew)
    has_login = _has_login(session)
    if budget == 0:
        session.check("expiry-wait", CheckStatus.skipped, "wait_for_expiry is 0: no wait")
        return
    if left is None:
        session.check("expiry-wait", CheckStatus.skipped, "the token has no exp to wait for")
        return
    life = (lifetime(token) or left) if has_login else left
    if not poll_offsets(budget - life):
        why = (
            f"{session.subject.identity}'s token lives {duration(life)}, longer than "
            f"wait_for_expiry ({budget} s): not waited out"
        )
        session.check("expiry-wait", CheckStatus.skipped, why)
        return
    watched = await _tokens(session, has_login)
    if watched is None:
        return
    if not await _poll(session, watched, start + budget):
        why = "the tokens expired too close to the end of wait_for_expiry to replay them"
        session.check("expiry-wait", CheckStatus.error, why)
        return
    _judge_wait(session, watched, findings)


def _has_login(session: Session) -> bool:
    identity = session.ctx.scenario.identities.get(session.subject.identity)
    return identity is not None and identity.login is not None


async def _tokens(session: Session, has_login: bool) -> list[Watched] | None:
    """The tokens to wait out: two fresh ones (the first used once now), or the identity's
    own when it has no login; None (and an `error` check) when that fails."""
    if not has_login:
        own = session.subject.token
        when = time_claim(own.claims.get("exp"))
        assert when is not None  # wait_out waits only for a token with a usable exp
        return [Watched("the identity's token (used while valid)", own.raw, when)]
    used = await _fresh(session, ())
    if used is None:
        return None
    answer = await session.send(used.raw, "expiry-wait-valid")
    if not session.accepted(answer):
        said = answer.response.status if answer.response is not None else answer.error
        why = f"a fresh token was not accepted while valid ({said}): nothing to wait for"
        session.check("expiry-wait", CheckStatus.error, why)
        return None
    unused = await _fresh(session, (used.raw, session.subject.creds.token))
    if unused is None:
        return None
    if unused.raw in (used.raw, session.subject.creds.token):
        used.label += " (the server issued no other token to wait out unused)"
        return [used]
    return [used, unused]


async def _fresh(session: Session, sent: tuple[str, ...]) -> Watched | None:
    """A fresh login's token, other than the tokens already `sent` when the server allows:
    tokens issued within one second are often identical, so it waits a second and tries
    again (twice at most). Without a Date header, the first fresh token's `iat` gives the
    server's clock."""
    label = "a fresh token never used before exp" if sent else "a fresh token used while valid"
    watched = None
    for attempt in range(3):
        if attempt:
            await anyio.sleep(1.1)
        before = time.time()
        creds = await session.ctx.fresh_login(
            session.subject.identity, probe=PROBE_ID, purpose="expiry-wait"
        )
        after = time.time()
        token = parse(creds.token) if creds is not None else None
        exp = time_claim(token.claims.get("exp")) if token is not None else None
        if token is None or exp is None:
            why = "a fresh login gave no token with an exp" if creds else "a fresh login failed"
            session.check("expiry-wait", CheckStatus.error, why)
            return None
        # The token's iat is the clock that checks it; a Date header may come from a proxy
        # with a clock of its own, so the iat wins when both are there.
        session.clock = iat_skew(token, before, after) or session.clock
        watched = Watched(label, token.raw, exp)
        if token.raw not in sent:
            break
    return watched


async def _poll(session: Session, watched: list[Watched], deadline: float) -> bool:
    """Replay each token at its own times past exp until it is refused, or the wait is
    spent; False when no replay fits before the deadline."""
    skew, now = session.skew, time.time()
    schedule = []
    for index, token in enumerate(watched):
        times = [token.exp - skew + o for o in poll_offsets(deadline - (token.exp - skew))]
        # A token already long expired (a bare token) is replayed once now, not at every
        # offset it has already passed.
        behind = [when for when in times if when < now]
        schedule += [(when, index) for when in behind[-1:] + [t for t in times if t >= now]]
    schedule.sort()
    if not schedule:
        return False
    last = max(poll_offsets(deadline - (min(w.exp for w in watched) - skew)))
    session.ctx.notice(
        f"jwt: waiting {max(schedule[0][0] - time.time(), 0):.0f} s for "
        f"{session.subject.identity}'s token to expire, then replaying it up to {last} s "
        "past exp"
    )
    for when, index in schedule:
        token = watched[index]
        if token.refused is not None:
            continue
        await anyio.sleep(max(0.0, when - time.time()))
        await _replay(session, token)
        if all(w.refused is not None for w in watched):
            break
    return True


async def _replay(session: Session, token: Watched) -> None:
    # Counted from when the request leaves: the server judges exp as it arrives. A limited
    # answer is not retried here: the next replay comes soon, and a retry would blur the time.
    past = time.time() + session.skew - token.exp
    exchange = await session.send(token.raw, "expiry-wait-replay", retry=False)
    verdict = session.accepted(exchange)
    if verdict:
        token.accepted = past
        token.exchange = exchange
    elif verdict is False and session.other(exchange):
        token.other = past if token.other is None else token.other
    elif verdict is False:
        token.refused = past


def _judge_wait(session: Session, watched: list[Watched], findings: ExpiryFindings) -> None:
    verdicts = [(w, _verdict(session, w)) for w in watched]
    verdicts.sort(key=lambda item: (_RANK[item[1].rule], item[1].past or 0), reverse=True)
    worst_token, worst = verdicts[0]
    detail = "; ".join(f"{w.label}: {v.detail}" for w, v in verdicts) + _clock_note(session)
    status = worst.status
    if status is CheckStatus.passed and any(v.status is CheckStatus.error for _, v in verdicts):
        status = CheckStatus.error
    session.check("expiry-wait", status, f"waited out: {detail}")
    if worst.rule is not None and worst_token.exchange is not None:
        shown = ExpiryVerdict(worst.status, detail, worst.rule, worst.past)
        sure = Confidence.firm if session.clock.source else Confidence.tentative
        findings.add(Shown("waited out", shown, worst_token.exchange, confidence=sure))


def _verdict(session: Session, token: Watched) -> ExpiryVerdict:
    if token.accepted is None and token.refused is None and token.other is not None:
        return ExpiryVerdict(
            CheckStatus.error,
            f"answered 2xx with another answer {duration(token.other)} past exp (neither the "
            "valid token's answer nor a refusal): inconclusive",
        )
    return judge_past_exp(
        token.accepted,
        token.refused,
        still_accepted=token.refused is None,
        margin=session.clock.margin,
    )


def _clock_note(session: Session) -> str:
    """How the server's clock was read, when not from its Date header."""
    source = session.clock.source
    if source.startswith("a fresh token's iat") and session.clock.seconds:
        ahead = "ahead of" if session.clock.seconds > 0 else "behind"
        return (
            f" (counted by the server's clock, {duration(abs(session.clock.seconds))} {ahead} "
            f"the scan's: read from {source})"
        )
    if not source:
        return (
            " (the server sends no Date header and its tokens no iat: times are counted by "
            "the scan's clock)"
        )
    return ""
