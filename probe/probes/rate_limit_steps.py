"""The requests the rate_limit probe sends around a burst, one endpoint at a time.

- `path_candidates`: before the burst, one request per path variant (trailing slash, letter
  case, doubled slash, an added query parameter); a variant is kept only when its answer is
  the endpoint's normal answer (same status, same normalised body), so a 404 or a redirect is
  never taken for a bypass later.
- `try_bypasses`: right after a limited burst, the request with each spoofed client-address
  header, then each kept path variant, in two rounds: each round releases two requests
  together (a new documentation-range address per round), then sends the original request.
  A bypass needs both requests of both rounds to get the normal answer and the original to be
  limited after each; when the original is no longer limited, the window has reset and the
  attempts stop (inconclusive).
- `wait_for_reset`: sleeps for the announced wait (capped), then polls the original request at
  growing intervals until it is admitted again, all within `reset_wait_cap`.
- `sequential_run`: one request at a time until the first limit answer, at most `most`.

Every request goes through `ProbeContext.send` (scope, budget, pacing) or, for the pairs,
`ProbeContext.burst` (scope, budget); a request the engine refuses raises `Refused`, which the
probe turns into `error` checks.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

from probe.exchange import Exchange, ResponseRecord
from probe.probes.base import ProbeContext, RequestSpec
from probe.probes.rate_limit_headers import LimitInfo, read_limit_info
from probe.probes.rate_limit_judges import (
    SPOOF_HEADERS,
    Reference,
    alike_answer,
    doc_address,
    is_limit,
    path_variants,
    same_answer,
    spoof_value,
)
from probe.probes.rate_limit_rules import PROBE_ID
from probe.scenario.models import Endpoint

# Requests released together in each bypass round.
PAIR = 2
# Polling for a reset starts at this interval and doubles each time.
FIRST_POLL = 0.25
# Added to an announced wait: a server rounds its Retry-After down as often as up.
_SLACK = 0.05


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
        kind: The limit answer ("429" unless the burst showed another).
    """

    endpoint: Endpoint
    spec: RequestSpec
    reference: Reference
    cap: float
    kind: str = "429"

    def limited(self, exchange: Exchange) -> bool:
        """True when the exchange got a limit answer."""
        return is_limit(exchange.response, self.reference, self.kind)


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
            f"{self.source} announced {self.announced:.1f} s"
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
    """
    info = info_of(last, time.time())
    announced = info.wait if info else None
    source = info.wait_source if info else None
    started = anyio.current_time()
    deadline = started + subject.cap
    first = announced + _SLACK if announced is not None else FIRST_POLL
    ctx.notice(
        f"{PROBE_ID}: {subject.endpoint.label} is limited; waiting up to "
        f"{min(first, subject.cap):.1f} s (at most {subject.cap:g} s) for the window to reset"
    )
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


# -- the sequential run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sequential:
    """A run of one request at a time.

    Attributes:
        admitted: Requests admitted before the first limit answer (the reset poll included).
        sent: Requests this run sent.
        limit: The first limit answer, or None when none came within the run.
        error: Why the run stopped without a verdict (a request got no answer), or None.
    """

    admitted: int
    sent: int
    limit: Exchange | None
    error: str | None = None


async def sequential_run(
    ctx: ProbeContext, subject: Subject, first: Exchange | None, most: int
) -> Sequential:
    """One request at a time until the first limit answer, `most` admitted at the most.

    `first` is the request that ended the reset wait: admitted in the same window, it counts.
    """
    admitted = 1 if first is not None else 0
    sent = 0
    while admitted < most:
        exchange = await send(ctx, subject, subject.spec, "sequential")
        sent += 1
        if exchange.response is None:
            return Sequential(admitted, sent, None, f"a request got no answer ({exchange.error})")
        if subject.limited(exchange):
            return Sequential(admitted, sent, exchange)
        admitted += 1
    return Sequential(admitted, sent, None)


# -- bypass attempts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A path variant of the endpoint's request.

    Attributes:
        name: What was changed ("trailing slash", "added query parameter", ...).
        spec: The request sent before the burst, to compare with the original's answer.
        rounds: The requests of the two bypass rounds (the added query parameter takes a new
            value in each, so a limiter keyed on the whole query meets a new key each time).
    """

    name: str
    spec: RequestSpec
    rounds: tuple[RequestSpec, RequestSpec]


def variant_specs(ctx: ProbeContext, endpoint: Endpoint) -> list[Variant]:
    """The endpoint's request at each path variant, and with an added query parameter."""
    base = ctx.scenario.target.base_url
    url = ctx.endpoint_request(endpoint).url
    path = urlsplit(url[len(base) :] if url.startswith(base) else url).path or "/"
    variants: list[Variant] = []
    for name, changed in path_variants(path):
        spec = ctx.endpoint_request(endpoint, path=changed)
        variants.append(Variant(name, spec, (spec, spec)))
    queried = [
        ctx.endpoint_request(endpoint, query={**endpoint.query, ctx.marker: str(n)})
        for n in (1, 2, 3)
    ]
    variants.append(Variant("added query parameter", queried[0], (queried[1], queried[2])))
    return variants


async def path_candidates(ctx: ProbeContext, subject: Subject) -> list[Variant]:
    """The path variants whose answer is the endpoint's normal answer (before the burst)."""
    kept: list[Variant] = []
    for variant in variant_specs(ctx, subject.endpoint):
        exchange = await send(ctx, subject, variant.spec, f"path-variant:{variant.name}")
        if exchange.response is not None and same_answer(exchange.response, subject.reference):
            kept.append(variant)
    return kept


@dataclass(frozen=True)
class Attempt:
    """One bypass attempt after the burst: two rounds, each a pair of requests released
    together and then the original request alone.

    Attributes:
        via: The header name, or the path variant's name.
        family: "header" or "path".
        sent: The header's values, or the variant's URL.
        outcome: "bypass" (both rounds got the normal answer, the original was limited after
            each), "limited", "inconclusive" (the original was no longer limited: the window
            reset), "other" (another answer than the normal one), or "no answer".
        exchanges: The pairs' exchanges, in order.
        confirms: The original requests sent after each round.
    """

    via: str
    family: str
    sent: str
    outcome: str
    exchanges: tuple[Exchange, ...]
    confirms: tuple[Exchange, ...] = ()


@dataclass(frozen=True)
class _Try:
    via: str
    family: str
    sent: str
    rounds: tuple[RequestSpec, RequestSpec]


async def try_bypasses(
    ctx: ProbeContext, subject: Subject, variants: Sequence[Variant]
) -> list[Attempt]:
    """Each spoofed header (a fresh address per round), then each kept path variant, until
    the window resets."""
    tries: list[_Try] = []
    for header in SPOOF_HEADERS:
        values = [spoof_value(header, _address()) for _ in range(2)]
        specs = tuple(subject.spec.with_headers((header, v)) for v in values)
        tries.append(_Try(header, "header", " then ".join(values), (specs[0], specs[1])))
    tries += [_Try(v.name, "path", v.rounds[0].url, v.rounds) for v in variants]
    attempts: list[Attempt] = []
    for attempt in tries:
        done = await _attempt(ctx, subject, attempt)
        attempts.append(done)
        if done.outcome == "inconclusive":
            break
    return attempts


def _address() -> str:
    return doc_address(random.randrange(3), random.randrange(254))


async def _attempt(ctx: ProbeContext, subject: Subject, attempt: _Try) -> Attempt:
    """Two rounds: the pair must get the normal answer, the original the limit, each time.

    A pair released together and a second round keep a limiter that refills gradually (a
    leaky bucket whose tokens happen to fall on the attempts) or a window that resets
    between requests from passing for a bypass: either would have to admit both requests of
    a pair at once and then refuse the original, twice.
    """
    what = (attempt.via, attempt.family, attempt.sent)
    normal = alike_answer if attempt.family == "header" else same_answer
    exchanges: list[Exchange] = []
    confirms: list[Exchange] = []
    for spec in attempt.rounds:
        pair = await ctx.burst(
            spec,
            PAIR,
            probe=PROBE_ID,
            purpose=f"bypass-{attempt.family}:{attempt.via}",
            endpoint=subject.endpoint,
            identity=subject.endpoint.identity,
        )
        if pair.error:
            raise Refused(pair.error)
        answers = [shot.exchange for shot in pair.shots]
        exchanges += answers
        outcome = _pair_outcome(subject, answers, normal)
        if outcome is not None:
            return Attempt(*what, outcome, tuple(exchanges), tuple(confirms))
        confirm = await send(ctx, subject, subject.spec, f"bypass-confirm:{attempt.via}")
        confirms.append(confirm)
        if not subject.limited(confirm):
            return Attempt(*what, "inconclusive", tuple(exchanges), tuple(confirms))
    return Attempt(*what, "bypass", tuple(exchanges), tuple(confirms))


def _pair_outcome(
    subject: Subject,
    answers: Sequence[Exchange],
    normal: Callable[[ResponseRecord, Reference], bool],
) -> str | None:
    """Why a pair is no bypass ("limited", "other", "no answer"), or None when both requests
    got the normal answer."""
    if any(subject.limited(x) for x in answers):
        return "limited"
    if any(x.response is None for x in answers) or not answers:
        return "no answer"
    if not all(x.response is not None and normal(x.response, subject.reference) for x in answers):
        return "other"
    return None
