"""TLS handshakes with the target, and the facts they show.

(Skeleton: the https helper writes it.)
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class TlsFacts:
    """What one handshake showed.

    Attributes:
        error: Why the handshake did not complete, or None.
    """

    error: str | None = None

    @classmethod
    def failed(cls, error: str) -> TlsFacts:
        """Facts of a handshake that did not happen or did not complete."""
        return cls(error=error)


async def handshake(
    url: str,
    *,
    verify: bool | str,
    minimum: ssl.TLSVersion | None,
    maximum: ssl.TLSVersion | None,
    timeout: float,
) -> TlsFacts:
    """One handshake with the URL's host and port, SNI set to its host name."""
    raise NotImplementedError
