"""The errors probe (being written)."""

from __future__ import annotations

from probe.probes.base import Probe


class ErrorsProbe(Probe):
    """Placeholder."""

    id = "errors"
    title = "errors"
