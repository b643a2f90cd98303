"""The xss payload family of the injection probe (being built)."""

from __future__ import annotations

from probe.findings import CheckStatus
from probe.probes.injection_attack import Attack

FAMILY = "xss"


async def run(attack: Attack) -> None:
    """Try the family's payloads at the attack's point."""
    attack.check(FAMILY, CheckStatus.skipped, "not built yet")
