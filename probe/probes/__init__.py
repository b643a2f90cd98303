"""The probe registry: probe id -> class, in the order probes run and are listed."""

from __future__ import annotations

from probe.probes.access import AccessProbe
from probe.probes.base import Probe
from probe.probes.errors import ErrorsProbe
from probe.probes.headers import HeadersProbe
from probe.probes.https import HttpsProbe
from probe.probes.injection import InjectionProbe
from probe.probes.jwt import JwtProbe
from probe.probes.rate_limit import RateLimitProbe

REGISTRY: dict[str, type[Probe]] = {
    probe.id: probe
    for probe in (
        HeadersProbe,
        HttpsProbe,
        RateLimitProbe,
        JwtProbe,
        ErrorsProbe,
        InjectionProbe,
        AccessProbe,
    )
}

__all__ = ["REGISTRY", "Probe"]
