"""Runs a real scan from a scenario dict, for tests."""

from __future__ import annotations

from typing import Any

import anyio

from probe.engine import Scan
from probe.report import Report
from probe.scenario.models import Scenario


def scenario(base_url: str, endpoints: list[dict[str, Any]], **extra: Any) -> Scenario:
    """A scenario for a local test server; `extra` adds top-level keys (probes, identities)."""
    data: dict[str, Any] = {"name": "test", "target": {"base_url": base_url}}
    data["endpoints"] = endpoints
    data["settings"] = {"requests_per_second": 500, "concurrency": 8, "timeout": 5}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Scenario.model_validate(data)


def run(scn: Scenario, probes: list[str] | None = None, **kwargs: Any) -> Report:
    """Run a scan to the end and return its report."""

    async def go() -> Report:
        return await Scan(scn, probes=probes, **kwargs).run()

    return anyio.run(go)


def rules(report: Report) -> list[str]:
    """Rule ids of the report's findings, sorted."""
    return sorted(f.rule for f in report.findings)
