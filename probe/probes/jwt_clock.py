"""The jwt probe's judges of time: how far past `exp` a token was accepted, and by whose clock.

`judge_past_exp` turns the times a token was accepted and refused past its `exp` into a verdict
(ordinary clock leeway, a long leeway, or accepted long after expiry), allowing for the
uncertainty of the server's clock; `clock_skew` reads that clock from a Date header and
`iat_skew` from a fresh token's `iat`. `expires_in` and `lifetime` read a token's times (never
from a claim that is no usable number); `poll_offsets` schedules the wait-out's replays and
`retry_delay` reads how long a rate limit asks the scan to wait. No function here sends
anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from probe.exchange import ResponseRecord
from probe.findings import CheckStatus
from probe.probes.jwt_tokens import Jwt, time_claim

#: Seconds past `exp` that count as ordinary clock leeway (detail only).
LEEWAY = 60.0
#: Seconds past `exp` up to which acceptance is a long leeway (low); beyond is high.
LONG_LEEWAY = 300.0
#: When the wait-out replays a token, in seconds past its `exp`: doubling at first, then a
#: replay just past each threshold, so each band is told with the fewest requests.
POLL_OFFSETS = (1, 2, 4, 8, 16, 32, 61, 121, 181, 241, 301)
#: The longest wait for a rate limit to lift before a token is sent again, and the wait when
#: a 429 gives no Retry-After.
MAX_RETRY_WAIT = 30.0
DEFAULT_RETRY_WAIT = 5.0
# A Date header and an `iat` have one-second resolution; a smaller gap is no skew.
_SKEW_FLOOR = 2.0


@dataclass(frozen=True)
class ExpiryVerdict:
    """What an expiry test showed.

    Attributes:
        status: The check's outcome.
        detail: The figures, for the check and the finding.
        rule: The rule name that fires ("expired-accepted", "long-expiry-leeway"), or None.
        past: Seconds past `exp` the token was last accepted, if it was.
    """

    status: CheckStatus
    detail: str
    rule: str | None = None
    past: float | None = None


def judge_past_exp(
    accepted: float | None,
    refused: float | None,
    *,
    still_accepted: bool = False,
    margin: float = 0.0,
) -> ExpiryVerdict:
    """The verdict from the latest time past `exp` a token was accepted and the first it was
    refused (seconds; None when it never was). `still_accepted`: the test ended with the token
    still accepted (a wait that ran out), so the figure is a lower bound. `margin`: how far
    off the server's clock may be read (seconds); the bands judge the least the figure can
    be, so no leeway within the clock's uncertainty is reported."""
    if accepted is None:
        if refused is None:
            return ExpiryVerdict(CheckStatus.error, "no replay past exp got an answer")
        return ExpiryVerdict(CheckStatus.passed, f"refused {duration(refused)} past exp")
    said = f"accepted {duration(accepted)} past exp"
    if margin >= 0.5:
        said += f" (give or take {duration(margin)})"
    if refused is not None and refused > accepted:
        said += f", refused {duration(refused)} past exp"
    elif still_accepted:
        said += " and still accepted when the test ended"
    least = accepted - margin
    if least > LONG_LEEWAY:
        return ExpiryVerdict(CheckStatus.failed, said, "expired-accepted", accepted)
    if least > LEEWAY:
        if still_accepted:
            said += " (the server may not check exp at all: a secret or an expired_token tells)"
        return ExpiryVerdict(CheckStatus.failed, said, "long-expiry-leeway", accepted)
    if still_accepted:
        return ExpiryVerdict(
            CheckStatus.error,
            f"{said}; up to {LEEWAY:g} s is ordinary clock leeway, so this tells nothing yet "
            "(a longer wait_for_expiry, a secret or an expired_token would)",
            past=accepted,
        )
    return ExpiryVerdict(
        CheckStatus.passed, f"{said} (within ordinary clock leeway)", None, accepted
    )


def duration(seconds: float) -> str:
    """`45 s`, `5 min`, `3 h`, `2 days`: the largest unit that reads well."""
    if seconds != seconds or abs(seconds) == float("inf"):
        return f"{seconds} s"  # NaN or infinite: said as it is, never computed with
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if abs(seconds) >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.0f} s"


@dataclass(frozen=True)
class Skew:
    """How far the server's clock is ahead of the scan's.

    Attributes:
        seconds: The skew (negative: the server is behind); 0 within the clocks' resolution.
        margin: How far off `seconds` may be.
        source: Where it was read ("" when the server's clock is unknown).
    """

    seconds: float = 0.0
    margin: float = 0.0
    source: str = ""


def clock_skew(response: ResponseRecord, local: float) -> float:
    """How far the server's clock (its Date header) is ahead of `local` (a Unix time taken
    when the answer came); 0 without a readable Date or when the gap is within its
    one-second resolution."""
    value = response.header("date")
    if not value:
        return 0.0
    try:
        server = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0
    skew = server - local
    return skew if abs(skew) > _SKEW_FLOOR else 0.0


def iat_skew(token: Jwt, sent: float, received: float) -> Skew | None:
    """The skew read from a token issued between `sent` and `received` (the scan's clock
    around the login): its `iat` is the server's clock, cut to the second, at issue. None
    without a usable `iat`."""
    iat = time_claim(token.claims.get("iat"))
    if iat is None or received < sent:
        return None
    # The server's clock at issue lies in [iat, iat + 1); the issue, in [sent, received].
    seconds = iat + 0.5 - (sent + received) / 2
    margin = 0.5 + (received - sent) / 2
    if abs(seconds) <= _SKEW_FLOOR:
        return Skew(0.0, 0.0, "a fresh token's iat")
    return Skew(seconds, margin, "a fresh token's iat")


def expires_in(token: Jwt, now: float) -> float | None:
    """Seconds until the token's `exp` (negative once past), or None without a usable exp
    (not a number, NaN, infinite or beyond any date)."""
    exp = time_claim(token.claims.get("exp"))
    return exp - now if exp is not None else None


def lifetime(token: Jwt) -> float | None:
    """`exp - iat` in seconds, or None when either is missing or unusable."""
    exp, iat = time_claim(token.claims.get("exp")), time_claim(token.claims.get("iat"))
    return exp - iat if exp is not None and iat is not None else None


def retry_delay(response: ResponseRecord | None) -> float | None:
    """How long to wait before sending again after a rate limit: a 429's Retry-After (5 s
    without one), or a 503's when it has one; capped at `MAX_RETRY_WAIT`. None for any
    other answer (a 503 without Retry-After is an overload, not a pace to keep)."""
    if response is None or response.status not in (429, 503):
        return None
    value = (response.header("retry-after") or "").strip()
    seconds: float | None = None
    if value.isascii() and value.isdigit():
        seconds = float(value)
    elif value:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            seconds = None
    if seconds is None:
        return DEFAULT_RETRY_WAIT if response.status == 429 else None
    return min(max(seconds, 0.0), MAX_RETRY_WAIT)


def poll_offsets(room: float) -> tuple[int, ...]:
    """The replay times past `exp` that fit in `room` seconds after it."""
    return tuple(offset for offset in POLL_OFFSETS if offset <= room)
