"""The jwt probe (being built; reports skipped until it lands)."""

from __future__ import annotations

from probe.probes.planned import Planned


class JwtProbe(Planned):
    """Expired, forged and weakly signed tokens (planned)."""

    id = "jwt"
    title = "JWT acceptance and token weaknesses"
