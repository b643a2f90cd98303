"""The access probe (being built; reports skipped until it lands)."""

from __future__ import annotations

from probe.probes.planned import Planned


class AccessProbe(Planned):
    """Unauthenticated access and one user reading another's data (planned)."""

    id = "access"
    title = "Access control"
