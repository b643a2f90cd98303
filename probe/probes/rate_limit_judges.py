"""Pure judges of the rate_limit probe: limit answers, a burst's verdict, the figures that
prove it, comparisons with the normal answer, the concurrency margin and caps on requests in
flight (the bypass material is in `rate_limit_variants`).

A limit answer is a 429; or a status that differs from the endpoint's normal answer and is
one limiters use (403, 420, 503) or whose body speaks of a rate limit; or a lockout (brute-force
protection): a 423, or another 4xx whose body says locked, too many or try again later; or a 2xx
of the normal answer's status whose body speaks of a rate limit while the normal answer's does
not, and is not alike the normal one (another JSON shape, or another text once volatile values
are blanked). A 429 counts wherever it shows. The other kinds count only when sustained: from
the first one, in order of arrival, at least 80% of the remaining answers are that kind, and
there are at least two. Anything else is scattered failure, an overloaded server rather than a
limiter, and gets no verdict.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from probe.burst import Burst, Shot
from probe.exchange import Exchange, ResponseRecord

LIMIT_STATUS = 429
# Statuses limiters send instead of 429 (420 is an old Twitter convention).
OTHER_LIMIT_STATUSES = frozenset({403, 420, 503})
_LIMIT_WORDS = re.compile(
    r"rate[ _-]?limit|too many requests|throttl|slow down|quota exceeded|limit exceeded",
    re.IGNORECASE,
)
#: The kind of limit answer that locks an account or a client out (brute-force protection).
LOCKOUT = "lockout"
_LOCKED_STATUS = 423
_LOCKOUT_WORDS = re.compile(
    r"\block(?:ed|out)\b|locked out|too many|try again (?:later|in\b)|temporarily blocked",
    re.IGNORECASE,
)
# The share of the answers after the first non-429 limit answer that must be limit answers.
SUSTAINED_SHARE = 0.8
# Above this share of unanswered requests, a burst says nothing about the limiter.
_UNANSWERED_SHARE = 0.5
_BODY_CHARS = 65536
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_HEX = re.compile(r"\b[0-9a-f]{16,}\b", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


# -- the normal answer --------------------------------------------------------------------------


def normalise_body(body: bytes) -> str:
    """Body text with its volatile parts (UUIDs, long hex ids, every number) replaced and
    white space collapsed, so two answers of one resource at different times compare equal."""
    text = body[:_BODY_CHARS].decode("utf-8", errors="replace")
    text = _UUID.sub("<uuid>", text)
    text = _HEX.sub("<hex>", text)
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def json_shape(body: bytes) -> str | None:
    """The shape of a JSON body (keys and value types, not values), or None if not JSON."""
    try:
        value = json.loads(body[:_BODY_CHARS])
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return json.dumps(_shape(value, 0), sort_keys=True)


def _shape(value: Any, depth: int) -> Any:
    if depth > 8:
        return "..."
    if isinstance(value, dict):
        return {str(k): _shape(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0], depth + 1)] if value else []
    return type(value).__name__


@dataclass(frozen=True)
class Reference:
    """The endpoint's normal answer, as compared with others.

    Attributes:
        status: Its status.
        body: Its body, normalised (`normalise_body`).
        shape: Its JSON shape, or None when it is not JSON.
        limit_words: True when the normal answer itself speaks of rate limits (then no answer
            of its status is read as a limit by its words).
    """

    status: int
    body: str
    shape: str | None
    limit_words: bool = False

    @classmethod
    def of(cls, response: ResponseRecord) -> Reference:
        """The reference made from an answer."""
        body = response.body
        words = mentions_limit(response)
        return cls(response.status, normalise_body(body), json_shape(body), words)

    def seen_again(self, response: ResponseRecord) -> Reference:
        """The reference once another normal answer was seen (the freshness check's): its
        words count too."""
        if response.status != self.status or self.limit_words or not mentions_limit(response):
            return self
        return replace(self, limit_words=True)


def same_answer(response: ResponseRecord, reference: Reference) -> bool:
    """Strict: the same status and the same normalised body (path variants must meet it)."""
    return response.status == reference.status and normalise_body(response.body) == reference.body


def alike_answer(response: ResponseRecord, reference: Reference) -> bool:
    """Looser, for the same URL: the same status and body, or the same JSON shape (a fresh
    token or timestamp in the body does not make it another answer)."""
    if same_answer(response, reference):
        return True
    shape = json_shape(response.body)
    return response.status == reference.status and shape is not None and shape == reference.shape


# -- limit answers ------------------------------------------------------------------------------


def mentions_limit(response: ResponseRecord) -> bool:
    """True when the body speaks of a rate limit."""
    return bool(_LIMIT_WORDS.search(response.text(_BODY_CHARS)))


def limit_kind(response: ResponseRecord, reference: Reference) -> str | None:
    """ "429", or a candidate non-429 limit answer ("503", "lockout", "200 with an error
    body"), or None (see the module docstring)."""
    status = response.status
    if status == LIMIT_STATUS:
        return str(LIMIT_STATUS)
    if status != reference.status:
        if status in OTHER_LIMIT_STATUSES or mentions_limit(response):
            return str(status)
        if is_lockout(response):
            return LOCKOUT
        return None
    if (
        200 <= status < 300
        and not reference.limit_words
        and mentions_limit(response)
        and not alike_answer(response, reference)
    ):
        return f"{status} with an error body"
    return None


def limit_words_alike(exchanges: Sequence[Exchange], reference: Reference) -> int:
    """Answers of the normal answer's 2xx status that speak of a rate limit, where the normal
    answer does not, yet are alike it (so no limit answer): an API that refuses inside its
    usual envelope (`{"status": "error", "message": "rate limit exceeded"}`) looks like this."""
    if reference.limit_words or not 200 <= reference.status < 300:
        return 0
    return sum(
        1
        for x in exchanges
        if x.response is not None
        and x.response.status == reference.status
        and mentions_limit(x.response)
    )


def is_lockout(response: ResponseRecord) -> bool:
    """True for a 423, or another 4xx whose body says locked, too many or try again later."""
    status = response.status
    if status == _LOCKED_STATUS:
        return True
    return 400 <= status < 500 and bool(_LOCKOUT_WORDS.search(response.text(_BODY_CHARS)))


def is_limit(response: ResponseRecord | None, reference: Reference, kind: str | None) -> bool:
    """True when an answer is a limit answer of this kind (or any 429); of any kind when
    `kind` is None."""
    if response is None:
        return False
    found = limit_kind(response, reference)
    return found is not None and (kind is None or found in (kind, str(LIMIT_STATUS)))


class Outcome(StrEnum):
    """What a burst showed."""

    limited = "limited"
    not_limited = "not-limited"
    scattered = "scattered"
    no_answers = "no-answers"


@dataclass(frozen=True)
class BurstVerdict:
    """What a burst shows about the limiter.

    Attributes:
        outcome: limited, not limited, scattered failures, or too few answers.
        kind: The limit answer ("429", "503", ...), when limited or scattered.
        first_limit: 1-based position of the first limit answer in order of arrival.
        admitted: Answered requests that were not limit answers.
        limited: Limit answers.
        unanswered: Requests that got no answer.
        statuses: Status -> number of answers.
        arrivals: The answered shots' exchanges in order of arrival.
        limits: The limit answers' exchanges in order of arrival.
    """

    outcome: Outcome
    kind: str | None
    first_limit: int | None
    admitted: int
    limited: int
    unanswered: int
    statuses: dict[int, int]
    arrivals: tuple[Exchange, ...]
    limits: tuple[Exchange, ...]


def arrival_order(shots: Sequence[Shot]) -> list[Shot]:
    """Answered shots by the time their answer was read (send order breaks ties)."""
    answered = [(i, s) for i, s in enumerate(shots) if s.exchange.response is not None]
    answered.sort(key=lambda p: (p[1].received is None, p[1].received or 0.0, p[0]))
    return [s for _, s in answered]


def judge_burst(shots: Sequence[Shot], reference: Reference) -> BurstVerdict:
    """The verdict on a burst's answers (see the module docstring)."""
    ordered = [s.exchange for s in arrival_order(shots)]
    responses = [x.response for x in ordered if x.response is not None]
    kinds = [limit_kind(r, reference) for r in responses]
    statuses = dict(sorted(Counter(r.status for r in responses).items()))
    unanswered = len(shots) - len(ordered)

    def verdict(outcome: Outcome, kind: str | None = None) -> BurstVerdict:
        hits = [i for i, k in enumerate(kinds) if k is not None and k == kind]
        limited = len(hits) if outcome is Outcome.limited else 0
        return BurstVerdict(
            outcome=outcome,
            kind=kind,
            first_limit=hits[0] + 1 if hits and outcome is Outcome.limited else None,
            admitted=len(ordered) - limited,
            limited=limited,
            unanswered=unanswered,
            statuses=statuses,
            arrivals=tuple(ordered),
            limits=tuple(ordered[i] for i in hits) if outcome is Outcome.limited else (),
        )

    if not shots or unanswered > len(shots) * _UNANSWERED_SHARE:
        return verdict(Outcome.no_answers)
    if str(LIMIT_STATUS) in kinds:
        return verdict(Outcome.limited, str(LIMIT_STATUS))
    others = Counter(k for k in kinds if k is not None)
    if not others:
        return verdict(Outcome.not_limited)
    kind = others.most_common(1)[0][0]
    if sustained(kinds, kind):
        return verdict(Outcome.limited, kind)
    return verdict(Outcome.scattered, kind)


def sustained(kinds: Sequence[str | None], kind: str) -> bool:
    """True when, from the first answer of `kind`, at least 80% of the answers are of it
    (and there are at least two): a limiter, not scattered failures."""
    if kind not in kinds:
        return False
    tail = kinds[kinds.index(kind) :]
    hits = sum(1 for k in tail if k == kind)
    return hits >= 2 and hits >= SUSTAINED_SHARE * len(tail)


# -- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BurstFigures:
    """How a burst was sent.

    Attributes:
        count: Requests in the burst.
        opened: Connections open and waiting at the release.
        sent: Requests whose last byte was written.
        spread_ms: First to last send, in milliseconds (None when fewer than one was sent).
        rate: Requests released per second over the spread, (sent - 1) / spread (None when
            fewer than two were sent or the spread is zero).
        answered_ms: First send to last answer, in milliseconds.
    """

    count: int
    opened: int
    sent: int
    spread_ms: float | None
    rate: float | None
    answered_ms: float | None


def burst_figures(burst: Burst) -> BurstFigures:
    """The figures of a burst as sent."""
    sends = [s.sent for s in burst.shots if s.sent is not None]
    received = [s.received for s in burst.shots if s.received is not None]
    spread = (max(sends) - min(sends)) if sends else None
    rate = (len(sends) - 1) / spread if spread and len(sends) > 1 else None
    answered = (max(received) - min(sends)) if sends and received else None
    return BurstFigures(
        count=len(burst.shots),
        opened=burst.opened,
        sent=len(sends),
        spread_ms=spread * 1000 if spread is not None else None,
        rate=rate,
        answered_ms=answered * 1000 if answered is not None else None,
    )


def histogram(statuses: dict[int, int]) -> str:
    """Statuses as `200×5, 429×25`."""
    return ", ".join(f"{status}×{count}" for status, count in sorted(statuses.items())) or "none"


# -- concurrency --------------------------------------------------------------------------------


def margin(sequential: int) -> int:
    """How many more than the sequential limit a burst may admit before it is a finding:
    max(2, 20%), so a window edge or a rounding is never one."""
    return max(2, math.ceil(0.2 * sequential))


def exceeds(admitted: int, sequential: int) -> bool:
    """True when a burst admitted clearly more than the sequential run showed as the limit."""
    return admitted > sequential + margin(sequential)


def peak(times: Sequence[float], span: float = 1.0) -> int:
    """The most of `times` (seconds) that fall within any `span` seconds."""
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] > span:
            start += 1
        best = max(best, end - start + 1)
    return best


def in_flight_only(burst_admitted: int, sequential_peak: int) -> bool:
    """True when a limited burst's limiter does not limit requests over time: one request at
    a time, clearly more than the burst admitted got through within one second without a
    limit answer. A rate limit of `burst_admitted` per window of a second or more would have
    refused them; a cap on requests in flight (or a bucket refilling faster than the
    sequential run's pace) does not."""
    return exceeds(sequential_peak, burst_admitted)
