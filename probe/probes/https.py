"""The https probe (skeleton: the https helper writes it)."""

from __future__ import annotations

from probe.probes.base import Probe


class HttpsProbe(Probe):
    """Plain-HTTP redirects and the TLS set-up."""

    id = "https"
    title = "HTTPS redirects and TLS"
