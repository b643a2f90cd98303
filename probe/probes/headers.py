"""The headers probe (being written)."""

from __future__ import annotations

from probe.probes.base import Probe


class HeadersProbe(Probe):
    """Placeholder."""

    id = "headers"
    title = "headers"
