"""What a scan concludes: check outcomes, rules and findings.

A check's outcome (pass, fail, error, skipped) is data of its own, apart from findings: a probe
that meets a dead target still tells the report which checks it could not run and why. These
models are the report's schema; every field carries a one-line description.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """How bad a finding is."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: info=0 ... critical=4."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.info: 0,
    Severity.low: 1,
    Severity.medium: 2,
    Severity.high: 3,
    Severity.critical: 4,
}


class Confidence(StrEnum):
    """How sure the judge is that the finding is real."""

    certain = "certain"
    firm = "firm"
    tentative = "tentative"


class CheckStatus(StrEnum):
    """Outcome of one check."""

    passed = "pass"
    failed = "fail"
    error = "error"
    skipped = "skipped"


OWASP_TOP10_2021 = {
    "A01:2021": "Broken Access Control",
    "A02:2021": "Cryptographic Failures",
    "A03:2021": "Injection",
    "A04:2021": "Insecure Design",
    "A05:2021": "Security Misconfiguration",
    "A06:2021": "Vulnerable and Outdated Components",
    "A07:2021": "Identification and Authentication Failures",
    "A08:2021": "Software and Data Integrity Failures",
    "A09:2021": "Security Logging and Monitoring Failures",
    "A10:2021": "Server-Side Request Forgery",
}

OWASP_API_2023 = {
    "API1:2023": "Broken Object Level Authorization",
    "API2:2023": "Broken Authentication",
    "API3:2023": "Broken Object Property Level Authorization",
    "API4:2023": "Unrestricted Resource Consumption",
    "API5:2023": "Broken Function Level Authorization",
    "API6:2023": "Unrestricted Access to Sensitive Business Flows",
    "API7:2023": "Server Side Request Forgery",
    "API8:2023": "Security Misconfiguration",
    "API9:2023": "Improper Inventory Management",
    "API10:2023": "Unsafe Consumption of APIs",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Rule(_Frozen):
    """A stable, documented judgement a probe can make."""

    id: str = Field(description="Stable id, `<probe>.<rule>`, e.g. headers.hsts-missing.")
    title: str = Field(description="One line naming the problem.")
    severity: Severity = Field(description="Default severity; a finding may lower or raise it.")
    owasp: str = Field(description="OWASP Top 10 2021 category id, e.g. A05:2021.")
    owasp_api: str | None = Field(default=None, description="OWASP API Top 10 2023 id.")
    cwe: int = Field(description="CWE number.")
    description: str = Field(description="What is sent and how the answer is judged.")
    remediation: str = Field(description="How to fix it.")


class Evidence(_Frozen):
    """The request and response that prove a finding, redacted."""

    request: str = Field(description="Request line and header lines as sent, redacted.")
    status: int | None = Field(description="Response status code, or null when none came.")
    response_headers: list[tuple[str, str]] = Field(
        default_factory=list, description="Response header lines in order, redacted."
    )
    body_excerpt: str = Field("", description="The part of the body that matters, redacted.")
    note: str | None = Field(default=None, description="What to look at in this exchange.")


class Finding(_Frozen):
    """A problem a careful tester would agree with, with proof and a way to reproduce it."""

    fingerprint: str = Field(description="Stable id of this problem at this place across runs.")
    probe: str = Field(description="Probe id.")
    rule: str = Field(description="Rule id.")
    title: str = Field(description="One line naming the problem.")
    severity: Severity = Field(description="critical | high | medium | low | info.")
    confidence: Confidence = Field(description="certain | firm | tentative.")
    owasp: str = Field(description="OWASP Top 10 2021 category id.")
    owasp_api: str | None = Field(description="OWASP API Security Top 10 2023 id, if one fits.")
    cwe: int = Field(description="CWE number.")
    endpoint: str | None = Field(description="Endpoint label, or null when several are affected.")
    affected: list[str] = Field(
        default_factory=list,
        description="Every affected endpoint or URL, when the finding is not tied to one endpoint.",
    )
    parameter: str | None = Field(default=None, description="Parameter or header concerned.")
    detail: str = Field(description="What was observed, in a sentence or two.")
    evidence: list[Evidence] = Field(description="Exchanges that prove it, redacted.")
    reproduce: str | None = Field(description="A curl command; secrets appear as $VARIABLE.")
    remediation: str = Field(description="How to fix it.")


class CheckResult(_Frozen):
    """The outcome of one check, whether or not it found anything."""

    probe: str = Field(description="Probe id.")
    check: str = Field(description="Check name within the probe.")
    endpoint: str | None = Field(description="Endpoint label, or null for target-wide checks.")
    status: CheckStatus = Field(description="pass | fail | error | skipped.")
    detail: str = Field("", description="Why: what was seen, or why it could not run.")


class ShotRecord(_Frozen):
    """One request of a burst."""

    sent_ms: float | None = Field(
        description="Milliseconds after the release when its last byte was written; null if "
        "it was never released."
    )
    received_ms: float | None = Field(
        description="Milliseconds after the release when its answer was complete (negative: "
        "answered before the release); null without an answer."
    )
    status: int | None = Field(description="Status of the answer, or null.")
    error: str | None = Field(None, description="Why there is no answer.")
    limit_headers: list[tuple[str, str]] = Field(
        default_factory=list,
        description="The answer's rate-limit header lines (Retry-After, RateLimit*, "
        "X-RateLimit-*), as received.",
    )


class BurstRecord(_Frozen):
    """A burst as sent: its figures and every request's timings."""

    probe: str = Field(description="Probe that sent it.")
    endpoint: str = Field(description="Endpoint label.")
    purpose: str = Field(description="Why it was sent (first burst, confirmation, ...).")
    requests: int = Field(description="Requests in the burst.")
    opened: int = Field(description="Connections open and waiting when it was released.")
    spread_ms: float | None = Field(
        description="Milliseconds from the first request released to the last."
    )
    shots: list[ShotRecord] = Field(
        description="Every request, in the order its connection opened."
    )


def fingerprint(rule: str, endpoint: str | None, parameter: str | None, key: str = "") -> str:
    """A stable id from where the problem is, never from volatile response content."""
    raw = "\x1f".join([rule, endpoint or "*", parameter or "", key])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
