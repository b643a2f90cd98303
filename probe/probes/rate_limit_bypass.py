"""The bypass attempts of the rate_limit probe: path variants before the burst, spoofed
client-address headers and the kept variants after a limited one.

- `path_candidates`: before the burst, one request per path variant the endpoint's method
  allows (`variant_allowed`); a variant is kept only when its answer is the endpoint's normal
  answer (same status, same normalised body), so a 404 or a redirect is never taken for a
  bypass later.
- `try_bypasses`: right after a limited burst, the request with each spoofed client-address
  header, then each kept path variant, in two rounds: each round releases two requests
  together (one when the endpoint opted in to bursts of 1; a new documentation-range address
  per round), then sends the original request. A bypass needs every request of both rounds
  to get the normal answer and the original to be limited after each; when the original is
  no longer limited, the window has reset and the attempts stop (inconclusive); after two
  attempts that got no answer in time, they stop too (the server is not answering them).

Requests go through `ProbeContext.send` and, for the pairs, `ProbeContext.burst`; a request
the engine refuses raises `Refused`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

from probe.exchange import Exchange, ResponseRecord
from probe.probes.base import ProbeContext, RequestSpec
from probe.probes.rate_limit_judges import Reference, alike_answer, same_answer
from probe.probes.rate_limit_rules import PROBE_ID
from probe.probes.rate_limit_steps import Refused, Subject, send
from probe.probes.rate_limit_variants import (
    QUERY_VARIANT,
    SPOOF_HEADERS,
    doc_address,
    path_variants,
    spoof_value,
    variant_allowed,
)
from probe.scenario.models import Endpoint

# Requests released together in each bypass round (fewer when the endpoint's burst is smaller).
PAIR = 2
# Bypass attempts that got no answer in time after which the rest are not tried.
_SILENT_ATTEMPTS = 2


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
    """The endpoint's request at each path variant, and with an added query parameter, as far
    as its method allows (`variant_allowed`)."""
    base = ctx.scenario.target.base_url
    url = ctx.endpoint_request(endpoint).url
    path = urlsplit(url[len(base) :] if url.startswith(base) else url).path or "/"
    variants: list[Variant] = []
    for name, changed in path_variants(path, endpoint.method):
        spec = ctx.endpoint_request(endpoint, path=changed)
        variants.append(Variant(name, spec, (spec, spec)))
    if variant_allowed(endpoint.method, QUERY_VARIANT):
        queried = [
            ctx.endpoint_request(endpoint, query={**endpoint.query, ctx.marker: str(n)})
            for n in (1, 2, 3)
        ]
        variants.append(Variant(QUERY_VARIANT, queried[0], (queried[1], queried[2])))
    return variants


@dataclass(frozen=True)
class Candidates:
    """The path variants sent before the burst.

    Attributes:
        kept: Those whose answer is the endpoint's normal answer.
        sent: How many were sent.
        admitted: When (anyio time) each kept one was answered: they count against the
            window the burst meets.
    """

    kept: tuple[Variant, ...]
    sent: int
    admitted: tuple[float, ...]


async def path_candidates(ctx: ProbeContext, subject: Subject) -> Candidates:
    """The path variants whose answer is the endpoint's normal answer (before the burst)."""
    kept: list[Variant] = []
    admitted: list[float] = []
    variants = variant_specs(ctx, subject.endpoint)
    for variant in variants:
        exchange = await send(ctx, subject, variant.spec, f"path-variant:{variant.name}")
        if exchange.response is not None and same_answer(exchange.response, subject.reference):
            kept.append(variant)
            admitted.append(anyio.current_time())
    return Candidates(tuple(kept), len(variants), tuple(admitted))


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

    @property
    def timed_out(self) -> bool:
        """True when a request of the attempt got no answer within the timeout."""
        return any(_timed_out(x) for x in (*self.exchanges, *self.confirms))


def _timed_out(exchange: Exchange) -> bool:
    error = exchange.error or ""
    return exchange.response is None and ("timeout" in error or " within " in error)


@dataclass(frozen=True)
class Bypasses:
    """The bypass attempts after a limited burst.

    Attributes:
        attempts: Those made, in order.
        untried: Attempts not made because two had got no answer in time.
    """

    attempts: tuple[Attempt, ...]
    untried: int = 0


@dataclass(frozen=True)
class _Try:
    via: str
    family: str
    sent: str
    rounds: tuple[RequestSpec, RequestSpec]


async def try_bypasses(
    ctx: ProbeContext, subject: Subject, variants: Sequence[Variant]
) -> Bypasses:
    """Each spoofed header (a fresh address per round), then each kept path variant, until
    the window resets, or until two attempts got no answer in time (each costs a timeout)."""
    tries: list[_Try] = []
    for header in SPOOF_HEADERS:
        values = [spoof_value(header, _address()) for _ in range(2)]
        specs = tuple(subject.spec.with_headers((header, v)) for v in values)
        tries.append(_Try(header, "header", " then ".join(values), (specs[0], specs[1])))
    tries += [_Try(v.name, "path", v.rounds[0].url, v.rounds) for v in variants]
    attempts: list[Attempt] = []
    silent = 0
    for attempt in tries:
        done = await _attempt(ctx, subject, attempt)
        attempts.append(done)
        silent += done.timed_out
        if done.outcome == "inconclusive":
            break
        if silent >= _SILENT_ATTEMPTS:
            return Bypasses(tuple(attempts), len(tries) - len(attempts))
    return Bypasses(tuple(attempts))


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
    together = max(1, min(PAIR, subject.endpoint.burst or 1))
    for spec in attempt.rounds:
        pair = await ctx.burst(
            spec,
            together,
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
