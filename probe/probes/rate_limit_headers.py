"""Pure parsers of the headers that announce a rate limit, and what they say about waiting.

Read as servers really send them:

- `Retry-After` (RFC 9110): delay-seconds or an HTTP date;
- `RateLimit` and `RateLimit-Policy` as structured fields (RFC 8941) per the current IETF
  draft: `"default";r=50;t=30` and `"burst";q=100;w=60`; an earlier draft's dictionary form
  (`limit=100, remaining=50, reset=30`) and integer policies (`100;w=60`) are read too;
- the older draft's `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`;
- the legacy `X-RateLimit-Limit`, `-Remaining` and `-Reset`, where Reset is a delay or an
  epoch time as in common use, fractions allowed (one API family sends them), or (unusual but
  unambiguous) an ISO 8601 or HTTP date.

Nothing here raises: a value that cannot be right becomes a `HeaderProblem` (text for the
report). `now` is Unix time, passed in so the judges stay pure. The structured fields are
parsed in `rate_limit_fields`, the values they share checked in `rate_limit_values`.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from probe.exchange import ascii_lower, header_values
from probe.probes.rate_limit_fields import parse_ratelimit, parse_ratelimit_policy
from probe.probes.rate_limit_values import (
    ABSURD,
    LIMIT_HEADERS,
    RATELIMIT,
    RATELIMIT_LIMIT,
    RATELIMIT_POLICY,
    RATELIMIT_REMAINING,
    RATELIMIT_RESET,
    RETRY_AFTER,
    TOO_LARGE,
    X_LIMIT,
    X_REMAINING,
    X_RESET,
    Delay,
    HeaderProblem,
    Reading,
    as_float,
    canonical,
    count_problem,
    delay_reading,
    is_epoch,
    leading_number,
    plain_number,
    problem,
    whole_seconds,
)

# The names other modules import from here, defined here or re-exported.
__all__ = [
    "LIMIT_HEADERS",
    "Delay",
    "HeaderProblem",
    "LimitInfo",
    "Reading",
    "canonical",
    "millisecond_delays",
    "parse_legacy_reset",
    "parse_ratelimit",
    "parse_ratelimit_policy",
    "parse_retry_after",
    "read_header",
    "read_limit_info",
]

# An HTTP date further in the past than this is not clock skew.
_PAST_SLACK = 86400
# Two delays of one answer whose ratio falls in this band, the larger at least 1000: the
# larger one was written in milliseconds (rounding of small second values widens the band).
_MS_RATIO = (500.0, 2000.0)
_MS_MIN = 1000.0


@dataclass(frozen=True)
class LimitInfo:
    """What the rate-limit headers of one answer say.

    Attributes:
        present: Canonical names of the rate-limit headers the answer carries.
        wait: Seconds until the limit lifts, from the first trusted announcement (Retry-After,
            then RateLimit, RateLimit-Reset, X-RateLimit-Reset), uncapped; None if none.
        wait_source: The header the wait comes from.
        problems: Values that cannot be right.
        quota: The smallest quota announced (X-RateLimit-Limit, RateLimit-Limit, a
            RateLimit-Policy's q), or None.
    """

    present: tuple[str, ...]
    wait: float | None
    wait_source: str | None
    problems: tuple[HeaderProblem, ...]
    quota: int | None = None


# -- Retry-After --------------------------------------------------------------------------------


def parse_retry_after(value: str, now: float) -> Reading:
    """Retry-After as delay-seconds or an HTTP date."""
    text = value.strip()
    number = plain_number(text)
    if number is not None:
        seconds, reason = whole_seconds(number, now)
        return delay_reading(RETRY_AFTER, value, seconds, number, reason)
    when = _http_date(text)
    if when is None:
        return Reading(problems=(problem(RETRY_AFTER, value, _not_delay_or_date(text)),))
    wait = when - now
    delay = Delay(canonical(RETRY_AFTER), max(0.0, wait), None)
    if wait < -_PAST_SLACK:
        reason = "an HTTP date more than a day in the past"
        return Reading((delay,), (problem(RETRY_AFTER, value, reason),))
    return Reading((delay,))


def _not_delay_or_date(text: str) -> str:
    return "empty" if not text else "neither a delay in seconds nor an HTTP date"


def _http_date(text: str) -> float | None:
    """Unix time of an HTTP date (a missing or -0000 zone read as UTC), or None."""
    if not text or not any(c.isalpha() for c in text):
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return _timestamp(when)


# -- RateLimit-Limit/-Remaining/-Reset and X-RateLimit-* -----------------------------------------


def parse_count(name: str, value: str, *, strict: bool) -> Reading:
    """A limit or remaining count; `strict` (the draft's headers) also refuses fractions.

    A limit may be followed by policies (`100, 100;w=60`); its first number is read.
    """
    limit = ascii_lower(name).endswith("limit")
    first = leading_number(value) if limit else plain_number(value)
    if first is None:
        return Reading(problems=(problem(name, value, "not a number"),))
    reason = count_problem(first) if strict else ("a negative number" if first < 0 else None)
    if reason:
        return Reading(problems=(problem(name, value, reason),))
    return Reading(quotas=(int(first),) if limit else ())


def parse_reset(value: str, now: float) -> Reading:
    """RateLimit-Reset: whole seconds until the window resets."""
    number = plain_number(value)
    if number is None:
        return Reading(problems=(problem(RATELIMIT_RESET, value, "not a number"),))
    seconds, reason = whole_seconds(number, now)
    return delay_reading(RATELIMIT_RESET, value, seconds, number, reason)


def parse_legacy_reset(value: str, now: float) -> Reading:
    """X-RateLimit-Reset: seconds until the reset, or the reset's time: a Unix time in seconds
    or milliseconds (as commonly sent) or, unusual but unambiguous, an ISO 8601 or HTTP date.

    Fractions are allowed; a negative, absurdly large or unparsable value is a problem.
    """
    name = canonical(X_RESET)
    number = plain_number(value)
    if number is None:
        when = _absolute_time(value.strip())
        if when is None:
            return Reading(problems=(problem(X_RESET, value, "not a number"),))
        return Reading((Delay(name, max(0.0, when - now), None),))
    if number < 0:
        return Reading(problems=(problem(X_RESET, value, "a negative number"),))
    seconds = as_float(number)
    if seconds is None or seconds > ABSURD:
        return Reading((Delay(name, float(ABSURD), None),), (problem(X_RESET, value, TOO_LARGE),))
    if is_epoch(seconds, now):
        return Reading((Delay(name, max(0.0, seconds - now), None),))
    if is_epoch(seconds / 1000, now):
        return Reading((Delay(name, max(0.0, seconds / 1000 - now), None),))
    return Reading((Delay(name, seconds, seconds),))


def _absolute_time(text: str) -> float | None:
    """Unix time of an ISO 8601 date and time (no zone read as UTC) or an HTTP date, or None."""
    if "-" in text[1:] and any(c.isdigit() for c in text):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            when = None
        if when is not None:
            return _timestamp(when)
    return _http_date(text)


# -- one answer ---------------------------------------------------------------------------------


def read_header(name: str, value: str, now: float) -> Reading:
    """Parse one rate-limit header line (any name of `LIMIT_HEADERS`, any case)."""
    key = ascii_lower(name.strip())
    if key == RETRY_AFTER:
        return parse_retry_after(value, now)
    if key == RATELIMIT:
        return parse_ratelimit(value, now)
    if key == RATELIMIT_POLICY:
        return parse_ratelimit_policy(value)
    if key == RATELIMIT_RESET:
        return parse_reset(value, now)
    if key == X_RESET:
        return parse_legacy_reset(value, now)
    if key in (RATELIMIT_LIMIT, RATELIMIT_REMAINING):
        return parse_count(name, value, strict=True)
    if key in (X_LIMIT, X_REMAINING):
        return parse_count(name, value, strict=False)
    return Reading()


def read_limit_info(lines: Sequence[tuple[str, str]], now: float) -> LimitInfo:
    """What an answer's rate-limit headers say (see `LimitInfo`)."""
    present: list[str] = []
    delays: list[Delay] = []
    problems: list[HeaderProblem] = []
    quotas: list[int] = []
    for name in LIMIT_HEADERS:
        for value in header_values(lines, name):
            if canonical(name) not in present:
                present.append(canonical(name))
            reading = read_header(name, value, now)
            delays += reading.delays
            problems += reading.problems
            quotas += reading.quotas
    milli = millisecond_delays(delays)
    problems += milli
    suspect = {p.header for p in milli}
    kept = [d for d in delays if d.trusted and d.header.split(";")[0] not in suspect]
    first = kept[0] if kept else None
    return LimitInfo(
        present=tuple(present),
        wait=first.seconds if first else None,
        wait_source=first.header if first else None,
        problems=_unique(problems),
        quota=min(quotas) if quotas else None,
    )


def millisecond_delays(delays: Sequence[Delay]) -> list[HeaderProblem]:
    """Delays about 1000 times another delay of the same answer: written in milliseconds."""
    found: list[HeaderProblem] = []
    numbers = [d for d in delays if d.raw is not None and d.raw > 0]
    for big in numbers:
        assert big.raw is not None
        if big.raw < _MS_MIN:
            continue
        for small in numbers:
            assert small.raw is not None
            low, high = _MS_RATIO
            if small is not big and low <= big.raw / small.raw <= high:
                reason = (
                    f"about 1000 times the {small.header} of {small.raw:g} s: milliseconds "
                    "where seconds are meant"
                )
                header = big.header.split(";")[0]
                found.append(HeaderProblem(header, f"{big.raw:g}", reason))
                break
    return found


def _unique(problems: Sequence[HeaderProblem]) -> tuple[HeaderProblem, ...]:
    seen: dict[tuple[str, str, str], HeaderProblem] = {}
    for found in problems:
        seen.setdefault((found.header, found.value, found.reason), found)
    return tuple(seen.values())


def _timestamp(when: datetime) -> float | None:
    """Seconds since the epoch; a time without a zone is UTC; None for an impossible year."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.timestamp()
    except (OverflowError, ValueError, OSError):  # pragma: no cover - extreme years
        return None
