"""Probes whose scenario keys are accepted now and whose checks arrive in later releases.

Each reports one `skipped` check saying so, so a report never suggests they passed.
"""

from __future__ import annotations

from probe.findings import CheckStatus
from probe.probes.base import Probe, ProbeContext


class Planned(Probe):
    implemented = False

    async def run(self, ctx: ProbeContext) -> None:
        ctx.check(
            self.id,
            "not-built",
            None,
            CheckStatus.skipped,
            f"the {self.id} probe is not part of this release yet; nothing was sent for it",
        )


class InjectionProbe(Planned):
    """Basic injection payloads on opted-in parameters (planned)."""

    id = "injection"
    title = "Injection (SQL, NoSQL, command, template, XSS, traversal)"
