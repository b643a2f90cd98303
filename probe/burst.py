"""Bursts: many copies of one request released together, by last-byte synchronisation.

(Skeleton: the burst helper writes the sender.)
"""

from __future__ import annotations

from dataclasses import dataclass

from probe.exchange import Exchange, ResponseRecord


@dataclass(frozen=True)
class RawShot:
    """One request of a burst as the sender saw it, before the engine records it.

    Attributes:
        response: The answer, or None.
        error: Why there is no answer, or None.
        sent: Seconds after the release when the request's last byte was written, or None.
        received: Seconds after the release when the answer was read completely, or None.
    """

    response: ResponseRecord | None
    error: str | None
    sent: float | None
    received: float | None


@dataclass(frozen=True)
class Shot:
    """One request of a burst, recorded as an exchange, with its timings (see `RawShot`)."""

    exchange: Exchange
    sent: float | None
    received: float | None


@dataclass(frozen=True)
class Burst:
    """A burst as sent.

    Attributes:
        shots: One per request, in the order the connections were opened.
        opened: Connections that were open and waiting when the burst was released.
        error: Why nothing was sent (refused by a guard), or None.
    """

    shots: tuple[Shot, ...]
    opened: int
    error: str | None = None


async def send_burst(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    content: bytes | None,
    count: int,
    *,
    verify: object,
    timeout: float,
    body_cap: int,
) -> tuple[list[RawShot], int]:
    """Send `count` copies released together; returns the shots and the connections opened."""
    raise NotImplementedError
