"""Pure views of a report for the renderers: OWASP tables, the coverage matrix, rule groups.

Each builder takes a `Report` (and, where rules matter, a rule catalogue) and returns frozen
rows; nothing here reads files or the clock, so unit tests call the builders on hand-built
reports. The default catalogue is the rules of every registered probe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from probe.findings import (
    OWASP_API_2023,
    OWASP_TOP10_2021,
    CheckResult,
    CheckStatus,
    Finding,
    Rule,
    Severity,
)
from probe.report import Report, ScanStatus

Catalogue = Mapping[str, Rule]
OwaspField = Literal["owasp", "owasp_api"]

#: Worst first: the status a coverage cell shows when its checks disagree.
_HEADLINE_ORDER = (CheckStatus.failed, CheckStatus.error, CheckStatus.passed, CheckStatus.skipped)
_NOT_RUN = frozenset({CheckStatus.error, CheckStatus.skipped})
#: Checks the report lists first: the ones a reader must know did not run.
_CHECK_ORDER = {
    CheckStatus.error: 0,
    CheckStatus.skipped: 1,
    CheckStatus.failed: 2,
    CheckStatus.passed: 3,
}


def default_catalogue() -> dict[str, Rule]:
    """Every rule of every registered probe, by rule id."""
    from probe.probes import REGISTRY  # reports sit above probes; imported late for fast CLI start

    return {rule.id: rule for probe in REGISTRY.values() for rule in probe.rules}


def rule_probe(rule_id: str) -> str:
    """The probe id of a rule id (`headers.hsts-missing` -> `headers`)."""
    return rule_id.split(".", 1)[0]


def worst(severities: Iterable[Severity]) -> Severity | None:
    """The highest severity, or None for none."""
    return max(severities, key=lambda s: s.rank, default=None)


# -- OWASP tables -----------------------------------------------------------------------------


class Coverage(StrEnum):
    """What a scan can say about one OWASP category."""

    findings = "findings"
    checked = "checked"
    incomplete = "incomplete"
    not_covered = "not-covered"


@dataclass(frozen=True)
class OwaspRow:
    """One OWASP category as this scan saw it.

    Attributes:
        id: Category id, e.g. A05:2021.
        name: Category name.
        coverage: findings, checked (nothing found), incomplete or not-covered.
        findings: Number of findings in the category.
        worst: Worst severity among them, or None.
        probes: Probes of this scan that have rules in the category.
        checked_by: Those of them with a check that passed or failed.
        partial: True when the scan did not complete, so "nothing found" is weaker.
    """

    id: str
    name: str
    coverage: Coverage
    findings: int
    worst: Severity | None
    probes: tuple[str, ...]
    checked_by: tuple[str, ...]
    partial: bool

    @property
    def label(self) -> str:
        """The status as one short phrase."""
        if self.coverage is Coverage.findings:
            noun = "finding" if self.findings == 1 else "findings"
            return f"{self.findings} {noun}"
        if self.coverage is Coverage.checked:
            partial = " (partial scan)" if self.partial else ""
            return f"nothing found by {', '.join(self.checked_by)}{partial}"
        if self.coverage is Coverage.incomplete:
            return "not checked: its checks errored or were skipped"
        return "not covered"


def probe_outcomes(report: Report) -> dict[str, Counter[CheckStatus]]:
    """Check statuses per probe id, over every check of the report."""
    outcomes: dict[str, Counter[CheckStatus]] = {}
    for check in report.checks:
        outcomes.setdefault(check.probe, Counter())[check.status] += 1
    return outcomes


def probe_checked(report: Report, probe: str) -> bool:
    """True when the probe ran and at least one of its checks passed or failed.

    A probe that recorded no check at all, or whose every check errored or was skipped, has
    not shown that it looked: the report does not claim it did.
    """
    if probe not in report.probes:
        return False
    return _checked(probe_outcomes(report).get(probe, Counter()))


def _checked(statuses: Counter[CheckStatus]) -> bool:
    return any(n and s not in _NOT_RUN for s, n in statuses.items())


def owasp_table(
    report: Report,
    catalogue: Catalogue | None = None,
    *,
    field: OwaspField = "owasp",
) -> list[OwaspRow]:
    """One row per OWASP Top 10 2021 category (or API Top 10 2023 with field="owasp_api")."""
    rules = default_catalogue() if catalogue is None else catalogue
    categories = OWASP_TOP10_2021 if field == "owasp" else OWASP_API_2023
    partial = report.status is not ScanStatus.complete
    outcomes = probe_outcomes(report)
    rows = []
    for category, name in categories.items():
        found = [f for f in report.findings if getattr(f, field) == category]
        probes = sorted(
            {
                rule_probe(rule.id)
                for rule in rules.values()
                if getattr(rule, field) == category and rule_probe(rule.id) in report.probes
            }
        )
        checked_by = tuple(p for p in probes if _checked(outcomes.get(p, Counter())))
        if found:
            coverage = Coverage.findings
        elif checked_by:
            coverage = Coverage.checked
        elif probes:
            coverage = Coverage.incomplete
        else:
            coverage = Coverage.not_covered
        severity = worst(f.severity for f in found)
        rows.append(
            OwaspRow(
                category, name, coverage, len(found), severity, tuple(probes), checked_by, partial
            )
        )
    return rows


# -- coverage matrix --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """The checks of one probe at one endpoint.

    Attributes:
        status: The headline (fail > error > pass > skipped), or None: not applicable.
        counts: Checks per status.
        inherited: True when the probe only has target-wide error/skipped checks and this
            endpoint shares their status.
    """

    status: CheckStatus | None
    counts: tuple[tuple[CheckStatus, int], ...] = ()
    inherited: bool = False

    @property
    def label(self) -> str:
        """Short cell text."""
        return "n/a" if self.status is None else self.status.value

    @property
    def title(self) -> str:
        """Longer text for a tooltip."""
        if self.status is None:
            return "not applicable: no check of this probe concerns this endpoint"
        if self.inherited:
            return f"{self.status.value} for the whole probe (see the whole-target row)"
        return ", ".join(f"{n} {s.value}" for s, n in self.counts)


@dataclass(frozen=True)
class CoverageRow:
    """One endpoint (None: the whole target) across the probes."""

    endpoint: str | None
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class CoverageMatrix:
    """Endpoint x probe outcome table."""

    probes: tuple[str, ...]
    rows: tuple[CoverageRow, ...]


def headline(statuses: Counter[CheckStatus]) -> CheckStatus | None:
    """The status a cell shows for these checks: fail > error > pass > skipped."""
    for status in _HEADLINE_ORDER:
        if statuses[status]:
            return status
    return None


def _columns(report: Report) -> list[str]:
    seen = [c.probe for c in report.checks]
    columns = [p for p in dict.fromkeys(seen) if p not in report.probes]
    # The engine's own checks (login, auth health) read first, then probes in run order.
    engine = [p for p in columns if p == "engine"]
    return engine + list(report.probes) + [p for p in columns if p != "engine"]


def _rows(report: Report) -> list[str | None]:
    labels = list(dict.fromkeys(report.endpoints))
    extra = [c.endpoint for c in report.checks if c.endpoint is not None]
    labels += [label for label in dict.fromkeys(extra) if label not in labels]
    wide: list[str | None] = [None] if any(c.endpoint is None for c in report.checks) else []
    return wide + list(labels)


def _inherited(checks: list[CheckResult]) -> CheckStatus | None:
    """A probe-wide status for endpoints, when the probe never got to any endpoint."""
    if not checks or any(c.endpoint is not None for c in checks):
        return None
    if all(c.status in _NOT_RUN for c in checks):
        return headline(Counter(c.status for c in checks))
    return None


def coverage_matrix(report: Report) -> CoverageMatrix:
    """Endpoint x probe: what the checks of each probe concluded at each endpoint."""
    columns = _columns(report)
    grouped: dict[tuple[str | None, str], Counter[CheckStatus]] = {}
    for check in report.checks:
        grouped.setdefault((check.endpoint, check.probe), Counter())[check.status] += 1
    inherited = {
        probe: _inherited([c for c in report.checks if c.probe == probe]) for probe in columns
    }
    rows = []
    for endpoint in _rows(report):
        cells = []
        for probe in columns:
            counts = grouped.get((endpoint, probe), Counter())
            status = headline(counts)
            if status is None and endpoint is not None and inherited[probe] is not None:
                cells.append(Cell(inherited[probe], inherited=True))
                continue
            ordered = tuple((s, counts[s]) for s in _HEADLINE_ORDER if counts[s])
            cells.append(Cell(status, ordered))
        rows.append(CoverageRow(endpoint, tuple(cells)))
    return CoverageMatrix(tuple(columns), tuple(rows))


def not_run(report: Report) -> list[str]:
    """Registered probes this scan did not run (turned off or not selected)."""
    from probe.probes import REGISTRY

    return [p for p in REGISTRY if p not in report.probes]


# -- findings and checks ----------------------------------------------------------------------


@dataclass(frozen=True)
class RuleGroup:
    """The findings of one rule, for the report's findings section.

    Attributes:
        rule: Rule id.
        title: Rule title.
        severity: Worst severity among the findings.
        owasp: OWASP Top 10 2021 id.
        owasp_api: OWASP API Top 10 2023 id, or None.
        cwe: CWE number.
        description: What the rule sends and how it judges ("" when the rule is unknown).
        remediation: How to fix it.
        places: Every affected endpoint or URL, in first-seen order.
        findings: The findings, in report order.
    """

    rule: str
    title: str
    severity: Severity
    owasp: str
    owasp_api: str | None
    cwe: int
    description: str
    remediation: str
    places: tuple[str, ...]
    findings: tuple[Finding, ...]


def places(finding: Finding) -> list[str]:
    """Where a finding holds: its endpoint, or every affected endpoint/URL."""
    found = [finding.endpoint] if finding.endpoint else []
    return list(dict.fromkeys(found + list(finding.affected)))


def rule_groups(report: Report, catalogue: Catalogue | None = None) -> list[RuleGroup]:
    """Findings grouped by rule, worst group first, then by rule id."""
    rules = default_catalogue() if catalogue is None else catalogue
    by_rule: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    groups = []
    for rule_id, findings in by_rule.items():
        first = findings[0]
        rule = rules.get(rule_id)
        severity = worst(f.severity for f in findings) or first.severity
        seen = [p for f in findings for p in places(f)]
        groups.append(
            RuleGroup(
                rule=rule_id,
                title=first.title,
                severity=severity,
                owasp=first.owasp,
                owasp_api=first.owasp_api,
                cwe=first.cwe,
                description=rule.description if rule else "",
                remediation=first.remediation,
                places=tuple(dict.fromkeys(seen)),
                findings=tuple(findings),
            )
        )
    return sorted(groups, key=lambda g: (-g.severity.rank, g.rule))


def ordered_checks(report: Report) -> list[CheckResult]:
    """Checks with errors first, then skipped, failed and passed; report order within each."""
    return sorted(report.checks, key=lambda c: _CHECK_ORDER[c.status])


# -- summary chart ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar of the severity chart, in SVG user units."""

    severity: Severity
    count: int
    y: int
    width: int


BAR_HEIGHT = 18
BAR_GAP = 8
BAR_MAX = 260


def severity_bars(counts: Mapping[Severity, int], max_width: int = BAR_MAX) -> list[Bar]:
    """Bars for the findings-by-severity chart; the longest bar is `max_width` wide."""
    top = max(counts.values(), default=0)
    bars = []
    for index, severity in enumerate(Severity):
        count = counts.get(severity, 0)
        width = round(max_width * count / top) if top else 0
        # A non-zero count always shows, however small next to the largest.
        width = max(width, 3) if count else 0
        bars.append(Bar(severity, count, index * (BAR_HEIGHT + BAR_GAP), width))
    return bars
