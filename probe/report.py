"""The report of one scan: the JSON report's schema and what every renderer reads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from probe.findings import BurstRecord, CheckResult, CheckStatus, Finding, Severity

SCHEMA_ID = "probe-report/1"


class ScanStatus(StrEnum):
    """How the scan ended."""

    complete = "complete"
    interrupted = "interrupted"
    failed = "failed"


class ToolInfo(BaseModel):
    """The tool that wrote the report."""

    name: str = Field("probe", description="Tool name.")
    version: str = Field(description="Tool version.")


class ScenarioInfo(BaseModel):
    """The scenario the scan ran."""

    name: str = Field(description="Scenario name.")
    path: str = Field(description="Scenario file path as given.")
    sha256: str = Field(description="SHA-256 of the scenario file's bytes.")


class TargetInfo(BaseModel):
    """The target as scanned."""

    base_url: str = Field(description="The API's base URL.")
    http_url: str = Field(description="The plain-HTTP twin.")
    scope: list[str] = Field(description="host or host:port entries the scan could contact.")


class Summary(BaseModel):
    """Counts for a quick look."""

    findings: dict[Severity, int] = Field(description="Findings per severity.")
    checks: dict[CheckStatus, int] = Field(description="Checks per status.")
    requests: int = Field(description="Requests sent.")
    refused: int = Field(0, description="Requests the engine refused to send (scope, budget).")


class Report(BaseModel):
    """The whole report."""

    model_config = ConfigDict(populate_by_name=True)

    schema_id: str = Field(SCHEMA_ID, alias="schema", description='Always "probe-report/1".')
    tool: ToolInfo = Field(description="The tool that wrote the report.")
    scan_id: str = Field(description="Random id sent with every request of the scan.")
    scenario: ScenarioInfo = Field(description="The scenario that was run.")
    target: TargetInfo = Field(description="The target as scanned.")
    started: datetime = Field(description="UTC start time.")
    finished: datetime = Field(description="UTC end time.")
    status: ScanStatus = Field(description="complete | interrupted | failed.")
    summary: Summary = Field(description="Counts by severity and by check status.")
    warnings: list[str] = Field(
        default_factory=list, description="Things that make the scan less trustworthy."
    )
    probes: list[str] = Field(default_factory=list, description="Probe ids that were enabled.")
    endpoints: list[str] = Field(default_factory=list, description="Endpoint labels scanned.")
    checks: list[CheckResult] = Field(description="Every check's outcome.")
    findings: list[Finding] = Field(description="Every finding, worst first.")
    bursts: list[BurstRecord] = Field(
        default_factory=list,
        description="Every burst sent (rate_limit probe), with each request's timings.",
    )


def probe_verdicts(checks: list[CheckResult]) -> int:
    """Checks of the probes (not the engine's own logins and health checks) that passed or
    failed: none means the scan tested nothing."""
    judged = (CheckStatus.passed, CheckStatus.failed)
    return sum(1 for c in checks if c.status in judged and c.probe != "engine")


def summarise(
    checks: list[CheckResult], findings: list[Finding], requests: int, refused: int
) -> Summary:
    """Count findings per severity and checks per status."""
    by_severity = {s: 0 for s in Severity}
    for finding in findings:
        by_severity[finding.severity] += 1
    by_status = {s: 0 for s in CheckStatus}
    for check in checks:
        by_status[check.status] += 1
    return Summary(findings=by_severity, checks=by_status, requests=requests, refused=refused)
