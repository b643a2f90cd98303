"""The requests the rate_limit probe sends around a burst, one endpoint at a time (the bypass
attempts are in `rate_limit_bypass`).

- `wait_for_reset`: sleeps for the announced wait (capped), then polls the original request at
  growing intervals until it is admitted again; no poll starts after `reset_wait_cap`, so a
  wait ends within the cap and one request timeout.
- `settle_window`: after a burst that met no limit answer, one request, and a wait when it is
  limited.
- `sequential_run`: one request at a time until the first limit answer, at most `most`.

Every request goes through `ProbeContext.send` (scope, budget, pacing); a request the engine
refuses raises `Refused`, which the probe turns into `error` checks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio

from probe.exchange import Exchange
from probe.probes.base import ProbeContext, RequestSpec
from probe.probes.rate_limit_headers import LimitInfo, read_limit_info
from probe.probes.rate_limit_judges import (
    LIMIT_STATUS,
    Reference,
    is_limit,
    limit_kind,
    peak,
)
from probe.probes.rate_limit_rules import PROBE_ID
from probe.probes.rate_limit_values import seconds_text
from probe.scenario.models import Endpoint

# Polling for a reset starts at this interval and doubles each time.
FIRST_POLL = 0.25
# Added to an announced wait: a server rounds its Retry-After down as often as up.
_SLACK = 0.05
# Odd answers (neither admitted nor a confirmed limit) a sequential run may send beyond `most`.
_ODD_ANSWERS = 5


class Refused(Exception):
    """The engine refused a request (budget, scope, breaker): the endpoint's checks stop."""


@dataclass
class Subject:
    """The endpoint under test and what its requests are judged against.

    Attributes:
        endpoint: The scenario endpoint.
        spec: Its request as the scenario describes it.
        reference: Its normal answer.
        cap: Longest wait for a reset (reset_wait_cap), seconds.
        kind: The limit answer ("429" or another the burst showed); None while no limit
            answer was seen: then any kind counts (a non-429 kind only twice in a row in a
            sequential run).
    """

    endpoint: Endpoint
    spec: RequestSpec
    reference: Reference
    cap: float
    kind: str | None = None

    def limited(self, exchange: Exchange) -> bool:
        """True when the exchange got a limit answer."""
        return is_limit(exchange.response, self.reference, self.kind)

    def kind_of(self, exchange: Exchange) -> str | None:
        """The kind of limit answer the exchange got, or None (see `limit_kind`)."""
        if exchange.response is None or not self.limited(exchange):
            return None
        return limit_kind(exchange.response, self.reference)


async def send(ctx: ProbeContext, subject: Subject, spec: RequestSpec, purpose: str) -> Exchange:
    """Send one request as the endpoint's identity; raise `Refused` when the engine refuses."""
    exchange = await ctx.send(
        spec,
        probe=PROBE_ID,
        purpose=purpose,
        endpoint=subject.endpoint,
        identity=subject.endpoint.identity,
    )
    if exchange.response is None and (exchange.error or "").startswith("refused"):
        raise Refused(exchange.error or "refused")
    return exchange


def info_of(exchange: Exchange | None, now: float) -> LimitInfo | None:
    """What an answer's rate-limit headers say, or None without an answer."""
    if exchange is None or exchange.response is None:
        return None
    return read_limit_info(exchange.response.headers, now)


# -- waiting for the window ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reset:
    """How a wait for the window to reset went.

    Attributes:
        reset: True when the original request was admitted again within the cap.
        waited: Seconds waited in all.
        announced: The wait the last limit answer announced (uncapped), or None.
        source: The header that announced it.
        polls: Requests sent to see whether the window had reset.
        admitted: The first request admitted again (it counts against the new window).
    """

    reset: bool
    waited: float
    announced: float | None
    source: str | None
    polls: int
    admitted: Exchange | None

    def describe(self, cap: float) -> str:
        """One sentence for a check's detail."""
        said = (
            f"{self.source} announced {seconds_text(self.announced)}"
            if self.announced is not None
            else "no wait announced"
        )
        if self.reset:
            return (
                f"waited {self.waited:.1f} s for the window to reset ({said}; "
                f"{self.polls} polling request(s); cap {cap:g} s)"
            )
        return (
            f"still limited after waiting {self.waited:.1f} s ({said}; reset_wait_cap "
            f"{cap:g} s): later requests to this endpoint may be refused for a while"
        )


async def wait_for_reset(ctx: ProbeContext, subject: Subject, last: Exchange | None) -> Reset:
    """Wait until the original request is admitted again, at most `subject.cap` seconds.

    `last` is the latest limit answer; its announced wait (capped) is slept first. Then the
    original request is polled at growing intervals (or at a limit answer's new announcement).
    No poll starts after the cap, so the wait ends within the cap and one request timeout.
    """
    info = info_of(last, time.time())
    announced = info.wait if info else None
    source = info.wait_source if info else None
    started = anyio.current_time()
    deadline = started + subject.cap
    first = announced + _SLACK if announced is not None else FIRST_POLL
    ctx.notice(f"{PROBE_ID}: {subject.endpoint.label} is limited; {_waiting(first, subject.cap)}")
    interval, pause, polls = FIRST_POLL, first, 0
    while True:
        await anyio.sleep(max(0.0, min(pause, deadline - anyio.current_time())))
        polls += 1
        exchange = await send(ctx, subject, subject.spec, "reset-poll")
        waited = anyio.current_time() - started
        if exchange.response is not None and not subject.limited(exchange):
            return Reset(True, waited, announced, source, polls, exchange)
        if anyio.current_time() >= deadline:
            return Reset(False, waited, announced, source, polls, None)
        said = info_of(exchange, time.time())
        announced_now = said.wait if said is not None and said.wait is not None else 0.0
        pause = max(interval, announced_now + _SLACK)
        interval *= 2


async def settle_window(ctx: ProbeContext, subject: Subject) -> Reset:
    """After a burst that met no limit answer (its requests may still count): one request;
    when it is limited, wait for the reset."""
    exchange = await send(ctx, subject, subject.spec, "reset-poll")
    if exchange.response is not None and subject.limited(exchange):
        return await wait_for_reset(ctx, subject, exchange)
    return Reset(exchange.response is not None, 0.0, None, None, 1, exchange)


def _waiting(first: float, cap: float) -> str:
    """What the progress line says of a wait about to start."""
    if first >= cap:
        return f"waiting up to {cap:g} s (reset_wait_cap) for the window to reset"
    return (
        f"waiting {seconds_text(first)} for the window to reset, then polling "
        f"(at most {cap:g} s in all)"
    )


# -- the sequential run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sequential:
    """A run of one request at a time.

    Attributes:
        admitted: Requests admitted before the first limit answer (the reset poll included).
        sent: Requests this run sent.
        limit: The first limit answer, or None when none came within the run.
        kind: The kind of that limit answer, or None.
        error: Why the run stopped without a verdict (a request got no answer), or None.
        peak: The most admitted requests within any one second.
        last: The last admitted request this run sent, or None.
    """

    admitted: int
    sent: int
    limit: Exchange | None
    kind: str | None = None
    error: str | None = None
    peak: int = 0
    last: Exchange | None = None


async def sequential_run(
    ctx: ProbeContext, subject: Subject, first: Exchange | None, most: int
) -> Sequential:
    """One request at a time until the first limit answer, `most` admitted (and `most` + 5
    sent) at the most.

    `first` is the request that ended the reset wait: admitted in the same window, it counts.
    While the subject's kind is open (None), a 429 ends the run at once, another kind of limit
    answer only when the next answer is of that kind too (one odd answer is no limiter).
    """
    times = [anyio.current_time()] if first is not None else []
    sent = 0
    last: Exchange | None = None
    odd: tuple[Exchange, str] | None = None
    while len(times) < most and sent < most + _ODD_ANSWERS:
        exchange = await send(ctx, subject, subject.spec, "sequential")
        sent += 1
        if exchange.response is None:
            error = f"a request got no answer ({exchange.error})"
            return Sequential(len(times), sent, None, None, error, peak(times), last)
        kind = subject.kind_of(exchange)
        sure = kind == str(LIMIT_STATUS) or subject.kind is not None
        if kind is not None and (sure or (odd is not None and odd[1] == kind)):
            limit = odd[0] if odd is not None and not sure else exchange
            return Sequential(len(times), sent, limit, kind, None, peak(times), last)
        odd = (exchange, kind) if kind is not None else None
        if kind is None:
            times.append(anyio.current_time())
            last = exchange
    return Sequential(len(times), sent, None, None, None, peak(times), last)
