"""The access probe's user-enumeration check on one endpoint tagged `login`.

The endpoint's own body is sent with its password replaced by a wrong one made up per scan:
once with its own user name (the known user), once with a user that exists nowhere (the
`unknown_user` option, or made up per scan). Two of each for the answers; then, when the answers
are alike, `timing_samples` more of each for the answer times; always in pairs, each side going
first in turn.
The real password is never sent, and at most 2 + `timing_samples` wrong passwords go to the real
user: every answer is read for a lockout or a limit first, and the first one stops the check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from probe.exchange import Exchange, ResponseRecord
from probe.findings import CheckStatus
from probe.probes.access_login_judges import (
    MIN_TIMING_SAMPLES,
    find_password_field,
    find_user_field,
    get_field,
    judge_answers,
    judge_timing,
    made_up_user,
    stop_reason,
    with_fields,
    without_echo,
    wrong_password,
)
from probe.probes.access_rules import PROBE_ID, RULES
from probe.probes.base import Found, ProbeContext, RequestSpec
from probe.scenario.models import AccessConfig, Endpoint

_RULE = next(rule for rule in RULES if rule.id == f"{PROBE_ID}.user-enumeration")
ANSWERS = "user-enumeration"
TIMING = "enumeration-timing"


class Stopped(Exception):
    """An answer that forbids further wrong passwords, or a request that failed."""


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

    def answers(self, side: str) -> list[ResponseRecord]:
        """The side's answers with the user name it sent blanked out."""
        user = self.known_user if side == "known" else self.unknown_user
        return [without_echo(x.response, user) for x in self.sent[side] if x.response]

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

    def _check(self, name: str, status: CheckStatus, detail: str) -> None:
        self.ctx.check(PROBE_ID, name, self.endpoint, status, detail)

    async def run(self) -> None:
        """Build the two requests, compare the answers, then the times."""
        sides = self._sides()
        if isinstance(sides, str):
            self._check(ANSWERS, CheckStatus.error, sides)
            self._check(TIMING, CheckStatus.skipped, "no user-enumeration requests were sent")
            return
        try:
            await self._round(sides, 2)
        except Stopped as stopped:
            self._check(ANSWERS, CheckStatus.error, f"stopped: {stopped}")
            self._check(TIMING, CheckStatus.skipped, "stopped before the timing samples")
            return
        if self._answers(sides):
            self._check(TIMING, CheckStatus.skipped, "the answers already differ")
            return
        await self._timing(sides)

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
        user_path = find_user_field(body, self.config.user_field)
        if user_path is None:
            if self.config.user_field:
                return f"user_field {self.config.user_field!r} names no text field of the body"
            return "no user-name field in the body (set probes.access.user_field)"
        password_path = find_password_field(body, self.config.password_field)
        if password_path is None:
            if self.config.password_field:
                return f"password_field {self.config.password_field!r} is not in the body"
            return "no password field in the body (set probes.access.password_field)"
        known = get_field(body, user_path)
        unknown = self.config.unknown_user or made_up_user(known)
        if unknown == known:
            return "probes.access.unknown_user is the endpoint's own user"
        wrong = wrong_password(get_field(body, password_path))
        return Sides(
            known,
            unknown,
            self._request(with_fields(body, {user_path: known, password_path: wrong})),
            self._request(with_fields(body, {user_path: unknown, password_path: wrong})),
        )

    def _request(self, body: dict[str, Any]) -> RequestSpec:
        if self.endpoint.form is not None:
            content, kind = urlencode(body).encode(), "application/x-www-form-urlencoded"
        else:
            content, kind = json.dumps(body).encode(), "application/json"
        return self.ctx.endpoint_request(self.endpoint, content=content, content_type=kind)

    async def _round(self, sides: Sides, count: int, purpose: str = "") -> None:
        """`count` requests per side, in pairs that take turns at going first (known, unknown,
        unknown, known, ...), so that neither side always lands on the same one of two or
        three servers that a load balancer takes in turn; raise `Stopped` at the first
        answer that forbids more."""
        for _ in range(count):
            pair = [("known", sides.known), ("unknown", sides.unknown)]
            if len(sides.sent["known"]) % 2:
                pair.reverse()
            for side, spec in pair:
                exchange = await self.ctx.send(
                    spec,
                    probe=PROBE_ID,
                    purpose=f"user-enumeration:{side}-user{purpose}",
                    endpoint=self.endpoint,
                    identity=self.endpoint.identity,
                )
                sides.sent[side].append(exchange)
                if exchange.response is None:
                    raise Stopped(f"a request failed ({exchange.error})")
                reason = stop_reason(exchange.response)
                if reason:
                    raise Stopped(
                        f"the {side} user's attempt was answered {reason}: no more wrong "
                        "passwords are sent (they could lock the account)"
                    )

    # -- verdicts ---------------------------------------------------------------------------------

    def _own_login_refused(self) -> str | None:
        """Why the known user may not exist (the endpoint's own login failed), or None."""
        baseline = self.ctx.baseline(self.endpoint)
        if baseline is None or baseline.response is None:
            return "the endpoint's own login got no answer"
        if baseline.response.status >= 400:
            return f"the endpoint's own login was refused ({baseline.response.status})"
        return None

    def _answers(self, sides: Sides) -> bool:
        """Judge status and body; True when they differ (and the finding is reported)."""
        verdict = judge_answers(sides.answers("known"), sides.answers("unknown"))
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

    async def _timing(self, sides: Sides) -> None:
        """More samples per side, then the timing verdict."""
        total = 2 + self.config.timing_samples
        if total < MIN_TIMING_SAMPLES:
            said = (
                f"timing_samples {self.config.timing_samples} gives {total} answer times per "
                f"side, too few to judge (it needs {MIN_TIMING_SAMPLES - 2} or more)"
            )
            self._check(TIMING, CheckStatus.skipped, said)
            return
        try:
            await self._round(sides, self.config.timing_samples, ":timing")
        except Stopped as stopped:
            self._check(TIMING, CheckStatus.error, f"stopped: {stopped}")
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
        self._report(detail, [slow, fast], notes)

    def _report(self, detail: str, exchanges: list[Exchange], notes: dict[int, str]) -> None:
        # One finding per endpoint, however the difference showed (status, body or time).
        found = Found(_RULE, detail, exchanges, endpoint=self.endpoint.label, notes=notes)
        self.ctx.report(PROBE_ID, found)
