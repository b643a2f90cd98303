"""The values the rate-limit header parsers share: header names, what a reading holds, and
the checks of a number (a delay in whole seconds, a count, an epoch time).

Nothing here raises. `now` is Unix time, passed in so the judges stay pure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from probe.exchange import ascii_lower

# Header names as they are compared (lower case), in the order a wait is taken from.
RETRY_AFTER = "retry-after"
RATELIMIT = "ratelimit"
RATELIMIT_POLICY = "ratelimit-policy"
RATELIMIT_LIMIT = "ratelimit-limit"
RATELIMIT_REMAINING = "ratelimit-remaining"
RATELIMIT_RESET = "ratelimit-reset"
X_LIMIT = "x-ratelimit-limit"
X_REMAINING = "x-ratelimit-remaining"
X_RESET = "x-ratelimit-reset"
LIMIT_HEADERS = (
    RETRY_AFTER,
    RATELIMIT,
    RATELIMIT_POLICY,
    RATELIMIT_LIMIT,
    RATELIMIT_REMAINING,
    RATELIMIT_RESET,
    X_LIMIT,
    X_REMAINING,
    X_RESET,
)

# Twenty years either side of now: a number in this band is a point in time, not a delay.
_EPOCH_BAND = 20 * 365 * 86400
#: Above this many seconds (about 317,000 years, beyond any epoch in milliseconds), a number
#: is absurd: reported as malformed, and read as this value so nothing downstream overflows.
ABSURD = 10**13
#: The reason given for an absurd number.
TOO_LARGE = "a number too large to be a delay or a time"
# Digits read of a number at most; a longer one is absurd anyway (and Python refuses to turn
# more than 4300 digits into an int).
_MAX_DIGITS = 30
_HUGE = int("1" + "0" * _MAX_DIGITS)
_NUMBER = re.compile(r"\s*([+-]?)(\d+)(\.\d+)?")
_YEAR = 365.25 * 86400


@dataclass(frozen=True)
class HeaderProblem:
    """A header value that cannot be right.

    Attributes:
        header: The header name, in canonical case.
        value: The value as sent (cut to 200 characters).
        reason: Why it cannot be right.
    """

    header: str
    value: str
    reason: str


@dataclass(frozen=True)
class Delay:
    """A wait a header announces, in seconds from now.

    Attributes:
        header: The header name, in canonical case (with `;t` for the RateLimit parameter).
        seconds: The wait (never negative).
        raw: The number as sent (for the milliseconds check), or None for a date.
        trusted: False when the value was judged wrong (its wait is not used).
    """

    header: str
    seconds: float
    raw: float | None
    trusted: bool = True


@dataclass(frozen=True)
class Reading:
    """What one header line says: waits announced, problems seen, and the quotas announced
    (requests per window: X-RateLimit-Limit, RateLimit-Limit, a RateLimit-Policy's q)."""

    delays: tuple[Delay, ...] = ()
    problems: tuple[HeaderProblem, ...] = ()
    quotas: tuple[int, ...] = ()


def canonical(name: str) -> str:
    """The usual spelling of a rate-limit header name."""
    parts = ascii_lower(name).split("-")
    spelled = {"ratelimit": "RateLimit", "x": "X"}
    return "-".join(spelled.get(p, p.capitalize()) for p in parts)


def problem(name: str, value: str, reason: str) -> HeaderProblem:
    """A problem with a header value (the value cut to 200 characters)."""
    return HeaderProblem(canonical(name), value[:200], reason)


def is_epoch(number: float, now: float) -> bool:
    """True when a number reads as a Unix time (in seconds) near now, not as a delay."""
    value = as_float(number)
    return value is not None and abs(value - now) < _EPOCH_BAND


def as_float(number: Any) -> float | None:
    """The number as a finite float, or None (not a number, infinite, or too large)."""
    if isinstance(number, bool) or not isinstance(number, int | float | Decimal):
        return None
    try:
        value = float(number)
    except (OverflowError, ValueError):
        return None
    return value if math.isfinite(value) else None


def seconds_text(value: float) -> str:
    """A wait for a human: `12.5 s`, `3,600 s`, `900,000 s (about 10 days)`, or with years;
    a value at the absurd cap says it was too large to read."""
    if value >= ABSURD:
        return TOO_LARGE
    if value < 100:
        return f"{value:.1f} s"
    if value < 86400:
        return f"{value:,.0f} s"
    days = value / 86400
    if days < 1000:
        return f"{value:,.0f} s (about {days:,.0f} days)"
    seconds = f"{value:,.0f}" if value < 1e10 else f"{value:.3g}"
    return f"{seconds} s (about {value / _YEAR:,.0f} years)"


def whole_seconds(number: Any, now: float) -> tuple[float | None, str | None]:
    """A delay that must be whole, non-negative seconds: (seconds, problem).

    An int is whole; a float or Decimal was written with a decimal point, which the headers
    of the standard do not allow.
    """
    if isinstance(number, bool) or not isinstance(number, int | float | Decimal):
        return None, "not a number"
    value = as_float(number)
    if value is None and not isinstance(number, int):
        return None, "not a number"  # an infinity or NaN, never sent as such by a server
    if number < 0:
        return 0.0, "a negative number"
    if value is None or value > ABSURD:
        return float(ABSURD), TOO_LARGE
    if is_epoch(value, now):
        return max(0.0, value - now), "an epoch time where a delay in seconds is meant"
    if is_epoch(value / 1000, now):
        return max(0.0, value / 1000 - now), "an epoch time in milliseconds where a delay is meant"
    if not isinstance(number, int):
        return value, "a decimal number where whole seconds are meant"
    return value, None


def count_problem(number: Any) -> str | None:
    """Why a count (a limit, a remaining quota) cannot be right, or None."""
    if isinstance(number, bool) or not isinstance(number, int | float | Decimal):
        return "not a number"
    if number < 0:
        return "a negative number"
    if not isinstance(number, int):
        return "a decimal number where a whole count is meant"
    return None


def plain_number(value: str) -> int | float | None:
    """The number a plain header value holds (the whole value): an int unless written with a
    decimal point; None when the value is not a number. A number of more than 30 digits is
    read as 10**30 (with its sign): absurd, and safe to compare and convert."""
    match = _NUMBER.fullmatch(value.strip())
    return None if match is None else _number(match)


def leading_number(value: str) -> int | float | None:
    """The number a value starts with (`100, 100;w=60` gives 100), or None (long numbers as
    in `plain_number`)."""
    match = _NUMBER.match(value)
    return None if match is None else _number(match)


def _number(match: re.Match[str]) -> int | float:
    sign, digits, fraction = match.groups()
    negative = sign == "-"
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        return -_HUGE if negative else _HUGE
    text = f"{sign}{digits}{fraction or ''}"
    return float(text) if fraction else int(text)


def delay_reading(
    name: str, value: str, seconds: float | None, raw: float, reason: str | None
) -> Reading:
    """The reading of a delay header: its wait (unless there is none) and its problem."""
    problems = (problem(name, value, reason),) if reason else ()
    if seconds is None:
        return Reading(problems=problems)
    return Reading((Delay(canonical(name), seconds, raw, trusted(reason)),), problems)


def trusted(reason: str | None) -> bool:
    """Whether a flagged delay still says how long to wait (a negative one says nothing)."""
    return reason is None or "negative" not in reason
