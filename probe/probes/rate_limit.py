"""The rate_limit probe (skeleton: the rate_limit helper writes it)."""

from __future__ import annotations

from probe.probes.base import Probe


class RateLimitProbe(Probe):
    """Rate-limit enforcement under bursts."""

    id = "rate_limit"
    title = "Rate limiting under bursts"
    runs_last = True
