"""The access probe's user-enumeration check on one endpoint tagged `login`.

The endpoint's own body is sent with its password replaced by a wrong one made up per scan:
once with its own user name (the known user), once with a user that exists nowhere (the
`unknown_user` option, or made up per scan in the known name's shape). The two go in pairs,
which of them first drawn at random per pair (no server rotation, of any size, can then sort
the sides consistently), 2 + `timing_samples` pairs; then the answers are compared (all of
them: a difference must hold on every try), and when they are alike, the answer times.

The real password is never sent, and at most 2 + `timing_samples` wrong passwords go to the
real user. Every answer is read first: a 423, a 429, words of a lockout or a disabled account,
or a known-user answer whose status or body breaks from its first ones (and looks like no
unknown-user answer) stops the check at once, since the account may be locking. Words of
attempts left stop the known side's tries only: the unknown side, which has no account to
lock, still gets its first two, and a count of attempts for existing users only is reported.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from probe.exchange import Exchange, ResponseRecord
from probe.findings import CheckStatus, Confidence
from probe.probes.access_curl import reproduce
from probe.probes.access_judges import one_line
from probe.probes.access_login_fields import (
    configured_fields,
    find_password_field,
    find_user_field,
    get_field,
    made_up_user,
    neutral_user,
    with_fields,
    wrong_password,
)
from probe.probes.access_login_judges import (
    AnswerVerdict,
    judge_answers,
    judge_attempts,
    locking,
    static_words,
    stop_reason,
    without_echo,
    without_nonces,
)
from probe.probes.access_rules import PROBE_ID, RULES
from probe.probes.access_timing import MIN_TIMING_SAMPLES, judge_timing
from probe.probes.base import Found, ProbeContext, RequestSpec
from probe.scenario.models import AccessConfig, Endpoint

_RULE = next(rule for rule in RULES if rule.id == f"{PROBE_ID}.user-enumeration")
ANSWERS = "user-enumeration"
TIMING = "enumeration-timing"
#: Pairs whose answers are compared before any timing sample counts.
ANSWER_PAIRS = 2
_STATIC_NOTE = "a lockout word on the line"


@dataclass(frozen=True)
class Stop:
    """Why the tries ended early.

    Attributes:
        reason: What happened, for the check's detail.
        pairs: The pairs completed before the one that stopped.
        attempts: True when the answer only counted attempts left (see `judge_attempts`).
    """

    reason: str
    pairs: int
    attempts: bool = False


@dataclass
class Sides:
    """The two requests compared and the exchanges each got.

    Attributes:
        known_user: The endpoint's own user name.
        unknown_user: A user name that exists nowhere.
        known: The known user's request (wrong password).
        unknown: The unknown user's request (the same wrong password).
        sent: Exchanges per side ("known", "unknown"), in order.
    """

    known_user: str
    unknown_user: str
    known: RequestSpec
    unknown: RequestSpec
    sent: dict[str, list[Exchange]] = field(default_factory=lambda: {"known": [], "unknown": []})

    def answers(self, side: str, count: int | None = None) -> list[ResponseRecord]:
        """The side's answers (the first `count`) with the user name it sent and nonces
        blanked out."""
        user = self.known_user if side == "known" else self.unknown_user
        sent = self.sent[side][:count] if count is not None else self.sent[side]
        return [without_nonces(without_echo(x.response, user)) for x in sent if x.response]

    def times(self, side: str) -> list[float]:
        """The side's answer times, seconds."""
        return [x.response.elapsed for x in self.sent[side] if x.response]


def _ms(exchange: Exchange) -> str:
    elapsed = exchange.response.elapsed if exchange.response else 0.0
    return f"answered in {elapsed * 1000:.0f} ms"


class LoginCheck:
    """The user-enumeration checks of one login endpoint."""

    def __init__(self, ctx: ProbeContext, endpoint: Endpoint, config: AccessConfig) -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        self.config = config
        #: Said after the answers check's detail (a neutral unknown user, lines ignored).
        self.notes: list[str] = []
        #: True when the unknown user is neutral, not of the known one's shape.
        self.neutral = False

    def _check(self, name: str, status: CheckStatus, detail: str) -> None:
        if name == ANSWERS and self.notes:
            detail = "; ".join([detail, *self.notes])
        self.ctx.check(PROBE_ID, name, self.endpoint, status, detail)

    async def run(self) -> None:
        """Build the two requests, send the pairs, compare the answers, then the times."""
        sides = self._sides()
        if isinstance(sides, str):
            self._check(ANSWERS, CheckStatus.error, sides)
            self._check(TIMING, CheckStatus.skipped, "no user-enumeration requests were sent")
            return
        stop = await self._tries(sides, ANSWER_PAIRS + self.config.timing_samples)
        if stop is not None and stop.attempts:
            self._attempts(sides, stop)
            return
        if stop is not None and stop.pairs < ANSWER_PAIRS:
            self._check(ANSWERS, CheckStatus.error, f"stopped: {stop.reason}")
            self._check(TIMING, CheckStatus.skipped, "stopped before the timing samples")
            return
        # After a stop, only the pairs before it: the stopping answer is the account's, locked.
        if self._answers(sides, stop.pairs if stop else None):
            self._check(TIMING, CheckStatus.skipped, "the answers already differ")
        elif stop is not None:
            self._check(TIMING, CheckStatus.error, f"stopped: {stop.reason}")
        else:
            self._timing(sides)

    # -- the requests -----------------------------------------------------------------------------

    def _sides(self) -> Sides | str:
        """The known and unknown user's requests, or why they cannot be built."""
        body: dict[str, Any] | None = None
        if isinstance(self.endpoint.json_body, dict):
            body = self.endpoint.json_body
        elif self.endpoint.form is not None:
            body = dict(self.endpoint.form)
        if body is None:
            return "needs a JSON object or form body holding a user name and a password"
        named = configured_fields(self.endpoint, self.config.user_field, self.config.password_field)
        user_path = find_user_field(body, named.user)
        if user_path is None:
            if named.user:
                return f"{named.where} user {named.user!r} names no text field of the body"
            return (
                "no user-name field in the body (set the endpoint's login_fields or "
                "probes.access.user_field)"
            )
        password_path = find_password_field(body, named.password)
        if password_path is None:
            if named.password:
                return f"{named.where} password {named.password!r} is not in the body"
            return (
                "no password field in the body (set the endpoint's login_fields or "
                "probes.access.password_field)"
            )
        known = get_field(body, user_path)
        unknown = self.config.unknown_user or self._made_up(known)
        if unknown == known:
            return "probes.access.unknown_user is the endpoint's own user"
        wrong = wrong_password(get_field(body, password_path))
        return Sides(
            known,
            unknown,
            self._request(with_fields(body, {user_path: known, password_path: wrong})),
            self._request(with_fields(body, {user_path: unknown, password_path: wrong})),
        )

    def _made_up(self, known: str) -> str:
        """An unknown user in the known one's shape; a neutral one when the known user name
        is a secret of the scenario (its shape and domain would show in the report)."""
        if not self.ctx.holds_secret(known):
            return made_up_user(known)
        self.neutral = True
        self.notes.append(
            "the known user name is a secret, so the unknown user is a neutral made-up name "
            "(not of its shape or domain)"
        )
        return neutral_user(known)

    def _request(self, body: dict[str, Any]) -> RequestSpec:
        if self.endpoint.form is not None:
            content, kind = urlencode(body).encode(), "application/x-www-form-urlencoded"
        else:
            content, kind = json.dumps(body).encode(), "application/json"
        return self.ctx.endpoint_request(self.endpoint, content=content, content_type=kind)

    async def _send(self, sides: Sides, side: str, timing: bool) -> Exchange:
        spec = sides.known if side == "known" else sides.unknown
        exchange = await self.ctx.send(
            spec,
            probe=PROBE_ID,
            purpose=f"user-enumeration:{side}-user{':timing' if timing else ''}",
            endpoint=self.endpoint,
            identity=self.endpoint.identity,
        )
        sides.sent[side].append(exchange)
        return exchange

    async def _tries(self, sides: Sides, pairs: int) -> Stop | None:
        """Send the pairs, each in a random order; the reason when an answer stops them.

        A 423, a 429 or words of attempts left stop at once. Words of a lockout are read once
        both sides of the pair answered (the unknown user has no account to lock): a line
        that every answer of both sides holds is the page's own text, not a lockout."""
        for number in range(pairs):
            order = ["known", "unknown"]
            if secrets.randbelow(2):
                order.reverse()
            for side in order:
                exchange = await self._send(sides, side, number >= ANSWER_PAIRS)
                if exchange.response is None:
                    return Stop(f"a request failed ({exchange.error})", number)
                sign = stop_reason(exchange.response, words=False)
                if sign is not None and sign.attempts:
                    return await self._finish_unknown(sides, side, sign.reason, number)
                if sign is not None:
                    return Stop(_stopped(side, sign.reason), number)
            static = self._static(sides)
            for side in order:
                sign = stop_reason(sides.answers(side)[-1], static)
                if sign is not None:
                    return Stop(_stopped(side, sign.reason), number)
            changed = locking(sides.answers("known"), sides.answers("unknown"))
            if changed:
                said = (
                    f"the known user's answers changed mid-run ({changed}) unlike any "
                    "unknown-user answer: the account may be locking; no more wrong "
                    "passwords are sent"
                )
                return Stop(said, number)
        return None

    def _static(self, sides: Sides) -> frozenset[str]:
        """The stop-word lines every answer of both sides holds (noted once in the detail);
        none before both sides answered."""
        if not sides.sent["known"] or not sides.sent["unknown"]:
            return frozenset()
        static = static_words(sides.answers("known") + sides.answers("unknown"))
        if static and not any(n.startswith(_STATIC_NOTE) for n in self.notes):
            lines = ", ".join(repr(one_line(line, 80)) for line in sorted(static)[:2])
            self.notes.append(
                f"{_STATIC_NOTE} {lines}: every answer of both users holds it, so it is the "
                "page's own text, no sign of a lockout"
            )
        return static

    async def _finish_unknown(self, sides: Sides, side: str, reason: str, number: int) -> Stop:
        """After words of attempts left: no more tries for the known side (one at least, to
        compare); the unknown side (no account to lock) gets its first two, and one more after
        the known side's words (a count kept per address would speak to it too)."""
        after = len(sides.sent["unknown"]) + 1 if side == "known" else 0
        wanted = (("known", 1), ("unknown", max(ANSWER_PAIRS, after)))
        for each, count in wanted:
            while len(sides.sent[each]) < count:
                exchange = await self._send(sides, each, False)
                if exchange.response is None:
                    return Stop(f"a request failed ({exchange.error})", number)
                sign = stop_reason(sides.answers(each)[-1], self._static(sides))
                if sign is not None and not sign.attempts:
                    return Stop(_stopped(each, sign.reason), number)
        return Stop(_stopped(side, reason), number, attempts=True)

    # -- verdicts ---------------------------------------------------------------------------------

    def _own_login_refused(self) -> str | None:
        """Why the known user may not exist (the endpoint's own login failed), or None."""
        baseline = self.ctx.baseline(self.endpoint)
        if baseline is None or baseline.response is None:
            return "the endpoint's own login got no answer"
        if baseline.response.status >= 400:
            return f"the endpoint's own login was refused ({baseline.response.status})"
        return None

    def _answers(self, sides: Sides, pairs: int | None) -> bool:
        """Judge status and body on every answer (of the first `pairs` pairs); True when they
        differ (and the finding is reported)."""
        verdict = judge_answers(sides.answers("known", pairs), sides.answers("unknown", pairs))
        return self._answer_verdict(sides, verdict)

    def _attempts(self, sides: Sides, stop: Stop) -> None:
        """Judge a run stopped by words of attempts left."""
        verdict = judge_attempts(sides.answers("known"), sides.answers("unknown"))
        if verdict.differs is None:
            self._check(ANSWERS, CheckStatus.error, f"stopped: {stop.reason}; {verdict.detail}")
        else:
            self._answer_verdict(sides, verdict)
        self._check(TIMING, CheckStatus.skipped, "stopped before the timing samples")

    def _answer_verdict(self, sides: Sides, verdict: AnswerVerdict) -> bool:
        if verdict.differs is None:
            refused = self._own_login_refused()
            if refused:
                said = f"{verdict.detail}; but {refused}, so its user may not exist"
                self._check(ANSWERS, CheckStatus.error, said)
            else:
                self._check(ANSWERS, CheckStatus.passed, verdict.detail)
            return False
        detail = (
            f"a wrong password for {sides.known_user} and for an unknown user get answers "
            f"with another {verdict.differs}: {verdict.detail}"
        )
        self._check(ANSWERS, CheckStatus.failed, detail)
        exchanges = [sides.sent["known"][0], sides.sent["unknown"][0]]
        notes = {0: "the endpoint's own user, wrong password", 1: "unknown user, same password"}
        self._report(detail, exchanges, notes)
        return True

    def _timing(self, sides: Sides) -> None:
        """The timing verdict on every answer time."""
        total = ANSWER_PAIRS + self.config.timing_samples
        if total < MIN_TIMING_SAMPLES:
            said = (
                f"timing_samples {self.config.timing_samples} gives {total} answer times per "
                f"side, too few to judge (it needs {MIN_TIMING_SAMPLES - ANSWER_PAIRS} or more)"
            )
            self._check(TIMING, CheckStatus.skipped, said)
            return
        verdict = judge_timing(sides.times("known"), sides.times("unknown"))
        if not verdict.gap:
            refused = self._own_login_refused()
            status = CheckStatus.error if refused else CheckStatus.passed
            tail = f"; but {refused}, so its user may not exist" if refused else ""
            self._check(TIMING, status, verdict.detail + tail)
            return
        detail = f"the {verdict.slower} user's failed logins take longer: {verdict.detail}"
        self._check(TIMING, CheckStatus.failed, detail)
        slower = verdict.slower or "known"
        slow = sides.sent[slower][0]
        fast = sides.sent["unknown" if slower == "known" else "known"][0]
        notes = {
            0: f"the {slower} user: {_ms(slow)} (every try of this side was slower)",
            1: f"the other user: {_ms(fast)}",
        }
        self._report(detail, [slow, fast], notes, timed=True)

    def _report(
        self, detail: str, exchanges: list[Exchange], notes: dict[int, str], timed: bool = False
    ) -> None:
        # One finding per endpoint, however the difference showed (status, body or time).
        confidence = Confidence.firm
        if self.neutral:
            # A user-name rule (a domain allow-list, a pattern) may answer the neutral name
            # alone: the difference may be the rule's, not the account's.
            confidence = Confidence.tentative
            detail += (
                "; the unknown user is a neutral made-up name, not of the known one's shape "
                "(a secret): a user-name rule may answer it otherwise; set "
                "probes.access.unknown_user to a user of the same shape to confirm"
            )
        found = Found(
            _RULE,
            detail,
            exchanges,
            endpoint=self.endpoint.label,
            notes=notes,
            reproduce=self._reproduce(exchanges, timed),
            confidence=confidence,
        )
        self.ctx.report(PROBE_ID, found)

    def _reproduce(self, exchanges: Sequence[Exchange], timed: bool) -> str | None:
        """Both requests, one after the other (None: the engine's line for the first)."""
        verify = self.ctx.scenario.target.verify_tls
        return reproduce(exchanges, self.ctx.holds_secret, verify, timed)


def _stopped(side: str, reason: str) -> str:
    return (
        f"the {side} user's attempt was answered {reason}: no more wrong passwords are sent "
        "(they could lock the account)"
    )
