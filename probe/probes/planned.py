"""Probes whose scenario keys are accepted now and whose checks arrive in later releases.

Each reports one `skipped` check saying so, so a report never suggests they passed.
"""

from __future__ import annotations

from probe.findings import CheckStatus
from probe.probes.base import Probe, ProbeContext


class _Planned(Probe):
    implemented = False

    async def run(self, ctx: ProbeContext) -> None:
        ctx.check(
            self.id,
            "not-built",
            None,
            CheckStatus.skipped,
            f"the {self.id} probe is not part of this release yet; nothing was sent for it",
        )


class JwtProbe(_Planned):
    """Expired, forged and weakly signed tokens (planned)."""

    id = "jwt"
    title = "JWT acceptance and token weaknesses"


class InjectionProbe(_Planned):
    """Basic injection payloads on opted-in parameters (planned)."""

    id = "injection"
    title = "Injection (SQL, NoSQL, command, template, XSS, traversal)"


class AccessProbe(_Planned):
    """Unauthenticated access and one user reading another's data (planned)."""

    id = "access"
    title = "Access control"
