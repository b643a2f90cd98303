"""A few plain-text lines about a finished scan, for the CLI to print on stderr."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from probe.findings import CheckStatus, Severity
from probe.report import Report, ScanStatus
from probe.reports.tables import Catalogue, rule_groups
from probe.reports.text import one_line

TOP_FINDINGS = 5

_STATUS_LINE = {
    ScanStatus.complete: "Scan complete",
    ScanStatus.interrupted: "Scan INTERRUPTED: the report is partial",
    ScanStatus.failed: "Scan FAILED",
}


def console_summary(report: Report, catalogue: Catalogue | None = None) -> str:
    """Status, counts by severity and check status, the worst findings and the warnings.

    Plain text without colour or markup, ending in a newline; text that came from the
    target is made visible so it cannot drive the terminal.
    """
    summary = report.summary
    lines = [
        f"{_STATUS_LINE[report.status]}: {one_line(report.scenario.name)} "
        f"({one_line(report.target.base_url)})",
        "Findings: " + _counts(summary.findings, list(Severity)),
        "Checks: "
        + _counts(summary.checks, list(CheckStatus))
        + f"; {summary.requests} requests sent"
        + (f", {summary.refused} refused" if summary.refused else ""),
    ]
    groups = rule_groups(report, catalogue)
    if groups:
        lines.append("Top findings:")
        for group in groups[:TOP_FINDINGS]:
            where = _where(group.places)
            lines.append(f"  [{group.severity}] {one_line(group.title)}{where}")
        if len(groups) > TOP_FINDINGS:
            lines.append(f"  ... and {len(groups) - TOP_FINDINGS} more rules with findings")
    if report.warnings:
        lines.append("Warnings:")
        lines += [f"  - {one_line(w, 200)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def _counts(counts: Mapping[Any, int], order: Sequence[StrEnum]) -> str:
    total = sum(counts.get(k, 0) for k in order)
    parts = ", ".join(f"{counts.get(k, 0)} {k}" for k in order)
    return f"{total} ({parts})"


def _where(places: tuple[str, ...]) -> str:
    if not places:
        return ""
    if len(places) == 1:
        return f" - {one_line(places[0], 80)}"
    return f" - {len(places)} places"
