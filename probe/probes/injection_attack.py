"""One injection point under test: its baselines, and the sending every payload family shares.

Before any payload, the point gets its baselines: two unmodified requests (the answer must be
stable: the same status and the same body once volatile parts are out, `probe.compare`) and one
with a harmless random value, with their latencies. An unstable point gets only the checks that
do not compare answers (error messages, computed numbers, file contents, reflection), and its
checks say so. A point whose harmless value gets the unmodified answer ignores its input (a
catch-all, a soft 404, a page that is the same for every input): nothing can differ there, and
every family judges it so.

A 429, or a 502/503/504, is no answer to a payload: `send` waits (a 429's Retry-After, at most
30 s; 2 s otherwise) and sends once more, then raises `Unusable` and the family's check becomes
`error`. A 500 is an answer: a database error is often one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from probe.compare import Reference, differing_excerpt
from probe.exchange import Exchange, RequestSpec, ResponseRecord
from probe.findings import CheckStatus, Confidence, Rule, Severity
from probe.probes.base import Found, ProbeContext
from probe.probes.injection_points import Point, with_value
from probe.probes.injection_rules import PROBE_ID
from probe.probes.jwt_clock import retry_delay
from probe.scenario.models import Endpoint
from probe.scenario.probe_configs import InjectionConfig

#: Answers that say nothing about a payload: a rate limit or an overloaded server.
NO_SIGNAL = frozenset({429, 502, 503, 504})
_NUMBER = re.compile(r"-?[0-9]{1,18}")
#: Seconds to wait before the one retry when the answer names no Retry-After.
RETRY_PAUSE = 2.0


class Unusable(Exception):
    """A payload's answer stayed a rate limit, an overload or a network error after a retry,
    or the engine refused to send it (scope, budget, a stopped target).

    Attributes:
        lasting: True when the rest of the endpoint would meet the same (a rate limit that
            outlived the retry, a refusal by the engine): its other checks end at once.
    """

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


@dataclass(frozen=True)
class Baseline:
    """What the point answers without a payload.

    Attributes:
        first: The first unmodified request's exchange.
        second: The second one.
        harmless: The exchange with a harmless random value at the point.
        harmless_value: That value.
        reference: The unmodified answer, learnt from both samples.
        stable: Both unmodified answers are the same.
        ignores_input: The harmless value got the unmodified answer: the point's value does
            not change the answer (or the endpoint answers every input alike).
        latencies: Seconds each of the three took.
    """

    first: Exchange
    second: Exchange
    harmless: Exchange
    harmless_value: str
    reference: Reference
    stable: bool
    ignores_input: bool
    latencies: tuple[float, ...]

    @property
    def response(self) -> ResponseRecord:
        """The first unmodified answer."""
        assert self.first.response is not None
        return self.first.response

    def responses(self) -> list[ResponseRecord]:
        """Every baseline answer (unmodified twice, harmless once)."""
        sent = (self.first, self.second, self.harmless)
        return [e.response for e in sent if e.response is not None]


@dataclass
class Attack:
    """Sends payloads to one point of one endpoint, with the point's baselines at hand.

    Attributes:
        ctx: The probe context.
        endpoint: The endpoint.
        point: The point under test.
        config: The probe's options.
        marker: The scan's random marker; every payload carries it (or a value derived from it).
        baseline: Set by `learn_baseline`.
        wait_left: Seconds the endpoint's time-based requests may still take (real time,
            shared by its points).
    """

    ctx: ProbeContext
    endpoint: Endpoint
    point: Point
    config: InjectionConfig
    marker: str
    wait_left: list[float] = field(default_factory=lambda: [0.0])
    baseline_: Baseline | None = None

    @property
    def baseline(self) -> Baseline:
        """The point's baselines (learnt before any family runs)."""
        assert self.baseline_ is not None, "learn_baseline first"
        return self.baseline_

    def token(self, size: int = 4) -> str:
        """A random lower-case token starting with the scan's marker, fresh on each call."""
        return f"{self.marker}{secrets.token_hex(size)}"

    async def send(
        self,
        value: Any,
        purpose: str,
        *,
        wire: bool = False,
        suffix: str = "",
        timed: bool = False,
    ) -> Exchange | None:
        """Send `value` at the point; None when it cannot travel there (see `with_value`).

        Retries once after a rate limit, an overload or a network error; raises `Unusable`
        when the second answer is no better. With `timed`, a timeout is an answer (a delay
        that did not end in time is a measurement) and is not sent again.
        """
        spec = with_value(self.ctx, self.endpoint, self.point, value, wire=wire, suffix=suffix)
        return None if spec is None else await self.send_spec(spec, purpose, timed)

    async def send_plain(self, purpose: str) -> Exchange:
        """The endpoint's unmodified request (retried like `send`)."""
        return await self.send_spec(self.ctx.endpoint_request(self.endpoint), purpose)

    async def send_spec(self, spec: RequestSpec, purpose: str, timed: bool = False) -> Exchange:
        """Send a request of the family's own making (named after the point), retried like
        `send`; raises `Unusable`."""
        exchange = await self._send_spec(spec, purpose)
        if usable(exchange) or (timed and timed_out(exchange)):
            return exchange
        if refused(exchange):
            # The engine's refusal (budget, scope, a stopped target) does not change by waiting.
            raise Unusable(f"{purpose}: {no_answer(exchange)}", lasting=True)
        await anyio.sleep(retry_delay(exchange.response) or RETRY_PAUSE)
        again = await self._send_spec(spec, purpose + " (retry)")
        if usable(again) or (timed and timed_out(again)):
            return again
        limited = again.response is not None and again.response.status == 429
        raise Unusable(
            f"{purpose}: {no_answer(again)} twice, also after a pause",
            lasting=limited or refused(again),
        )

    async def _send_spec(self, spec: RequestSpec, purpose: str) -> Exchange:
        return await self.ctx.send(
            spec,
            probe=PROBE_ID,
            purpose=f"{self.point.kind} {self.point.name}: {purpose}",
            endpoint=self.endpoint,
            identity=self.endpoint.identity,
        )

    async def learn_baseline(self) -> Baseline:
        """Send the two unmodified requests and the harmless one; raises `Unusable`."""
        first = await self.send_plain("baseline 1")
        second = await self.send_plain("baseline 2")
        value = self.harmless_value()
        harmless = await self.send(value, "harmless value") or second
        assert first.response is not None
        assert second.response is not None
        reference = Reference.learn(first.response, second.response)
        stable = reference.stable and reference.matches(second.response)
        answer = harmless.response
        ignores = answer is not None and harmless is not second and reference.matches(answer)
        latencies = tuple(
            e.response.elapsed for e in (first, second, harmless) if e.response is not None
        )
        self.baseline_ = Baseline(
            first, second, harmless, value, reference, stable, ignores, latencies
        )
        return self.baseline_

    def harmless_value(self) -> str:
        """A value of the original's kind (digits for a number) that is surely not in use."""
        if _NUMBER.fullmatch(self.point.text):
            return str(7_000_000_000 + secrets.randbelow(999_999_999))
        return self.token()

    @property
    def wait_remaining(self) -> float:
        """Seconds the endpoint's time-based requests may still take."""
        return self.wait_left[0]

    def spend_wait(self, seconds: float) -> bool:
        """Take `seconds` from the endpoint's waiting allowance; False when it is spent."""
        if self.wait_left[0] < seconds:
            return False
        self.wait_left[0] -= seconds
        return True

    def check(self, family: str, status: CheckStatus, detail: str) -> None:
        """Record the family's check at this point ("query parameter `id`: ...")."""
        note = "" if self.baseline_ is None or self.baseline.stable else _UNSTABLE
        detail = f"{self.point.label}: {detail}{note}"
        self.ctx.check(PROBE_ID, family, self.endpoint, status, detail)

    def found(
        self,
        rule: Rule,
        detail: str,
        attack: Exchange,
        *,
        payload: str,
        confidence: Confidence = Confidence.firm,
        severity: Severity | None = None,
        more: Sequence[Exchange] = (),
        roles: Sequence[str] = (),
        excerpt: str | None = None,
        key: str = "",
    ) -> None:
        """Report a finding with the attack and the unmodified answer side by side.

        The first exchange is the attack (its curl line reproduces it), the second the first
        baseline, then `more` (the false condition, other delay levels), each named by its
        entry in `roles` ("false condition"; "also" without one). Each note gives the status,
        length and time; the attack's excerpt is `excerpt` or where it differs from the
        baseline.
        """
        base = self.baseline.first
        exchanges = [attack, base, *more]
        names = ["attack", "baseline", *roles]
        notes = {
            i: f"{names[i] if i < len(names) else 'also'}: {describe(e)}"
            for i, e in enumerate(exchanges)
        }
        shown = f"`{payload}`" if "`" not in payload else repr(payload)
        notes[0] += f"; payload {shown} in {self.point.label}"
        excerpts: dict[int, str] = {}
        if excerpt is not None:
            excerpts[0] = excerpt
        elif attack.response is not None and base.response is not None:
            excerpts[0] = differing_excerpt(attack.response, base.response)
        self.ctx.report(
            PROBE_ID,
            Found(
                rule=rule,
                detail=f"{self.point.label}: {detail}",
                exchanges=exchanges,
                endpoint=self.endpoint.label,
                parameter=self.point.name,
                severity=severity,
                confidence=confidence,
                key=f"{self.point.kind}:{self.point.name}{':' + key if key else ''}",
                excerpts=excerpts,
                notes=notes,
            ),
        )


_UNSTABLE = (
    " (the unmodified answer changed between two requests: only checks that need no "
    "comparison ran here)"
)


def usable(exchange: Exchange) -> bool:
    """An answer that says something about the payload: not a rate limit, an overload or none."""
    return exchange.response is not None and exchange.response.status not in NO_SIGNAL


def timed_out(exchange: Exchange) -> bool:
    """No answer came within the scan's timeout."""
    return exchange.response is None and (exchange.error or "").startswith("timeout")


def refused(exchange: Exchange) -> bool:
    """The engine did not send it (scope, request budget, a target that kept failing)."""
    return exchange.response is None and (exchange.error or "").startswith("refused")


def no_answer(exchange: Exchange) -> str:
    """What made an exchange unusable, for a check's detail."""
    if exchange.response is None:
        error = exchange.error or "no answer"
        # httpx's ReadError and the like often carry no text of their own.
        return error.rstrip(": ") + " (connection closed)" if error.endswith(": ") else error
    return f"HTTP {exchange.response.status}"


def describe(exchange: Exchange) -> str:
    """Status, length and time of an exchange's answer: "HTTP 500, 312 bytes, 0.04 s"."""
    response = exchange.response
    if response is None:
        return exchange.error or "no answer"
    return f"HTTP {response.status}, {len(response.body)} bytes, {response.elapsed:.2f} s"
