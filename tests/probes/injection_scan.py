"""One injection scan of a test app's routes, and what the family tests read from it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio

from probe.engine import Scan
from probe.exchange import Exchange
from probe.findings import CheckResult, Finding
from probe.report import Report
from tests.scan import scenario


@dataclass(frozen=True)
class Scanned:
    """One scan's report, its exchanges, how long it took, and the family it ran."""

    report: Report
    exchanges: list[Exchange]
    seconds: float
    family: str

    def findings(self, endpoint: str) -> list[Finding]:
        """The findings on one endpoint."""
        return [f for f in self.report.findings if f.endpoint == endpoint]

    def checks(self, endpoint: str) -> list[CheckResult]:
        """The family's checks on one endpoint (one per point)."""
        return [c for c in self.report.checks if c.endpoint == endpoint and c.check == self.family]

    def check(self, endpoint: str) -> CheckResult:
        """The family's only check on one endpoint."""
        (check,) = self.checks(endpoint)
        return check


def scan_family(
    url: str,
    endpoints: list[dict[str, Any]],
    family: str,
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> Scanned:
    """Scan the endpoints with one injection family (`options`: the probe's other keys)."""
    extra: dict[str, Any] = {"settings": settings} if settings else {}
    probes = {"injection": {"families": [family], **options}}
    engine = Scan(scenario(url, endpoints, probes=probes, **extra), probes=["injection"])
    started = time.monotonic()
    report = anyio.run(engine.run)
    return Scanned(report, list(engine.exchanges()), time.monotonic() - started, family)
