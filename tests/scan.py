"""Runs a real scan from a scenario dict, for tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from probe.engine import Scan
from probe.probes.base import Probe, ProbeContext
from probe.report import Report
from probe.scenario.models import Scenario

ScriptFn = Callable[[ProbeContext], Awaitable[None]]


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


class Script(Probe):
    """A test-only probe whose `run` is the given coroutine function."""

    id = "script"
    title = "test script"

    def __init__(self, script: ScriptFn) -> None:
        self.script = script

    async def run(self, ctx: ProbeContext) -> None:
        """Run the test's script."""
        await self.script(ctx)


def run_scan(scn: Scenario, script: ScriptFn | None = None) -> tuple[Scan, Report]:
    """Run a scan with no registered probe, only `script` (if given); return scan and report."""
    extra: Sequence[Probe] = [Script(script)] if script else []
    scan = Scan(scn, probes=[], extra_probes=extra)
    return scan, anyio.run(scan.run)
