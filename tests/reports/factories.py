"""Hand-built reports and rule catalogues for the renderer tests (fixed times and ids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from probe.findings import (
    CheckResult,
    CheckStatus,
    Confidence,
    Evidence,
    Finding,
    Rule,
    Severity,
    fingerprint,
)
from probe.report import Report, ScanStatus, ScenarioInfo, TargetInfo, ToolInfo, summarise

STARTED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
BASE_URL = "http://127.0.0.1:8000/api"


def rule(rule_id: str, owasp: str, owasp_api: str | None = None, **extra: Any) -> Rule:
    """A rule with filler text."""
    fields: dict[str, Any] = {
        "title": f"title of {rule_id}",
        "severity": Severity.medium,
        "cwe": 693,
        "description": f"what {rule_id} sends and judges",
        "remediation": f"how to fix {rule_id}",
    }
    fields.update(extra)
    return Rule(id=rule_id, owasp=owasp, owasp_api=owasp_api, **fields)


def catalogue(*rules: Rule) -> dict[str, Rule]:
    """Rules by id."""
    return {r.id: r for r in rules}


CATALOGUE = catalogue(
    rule("headers.hsts-missing", "A05:2021", "API8:2023", cwe=319),
    rule("headers.version-banner", "A05:2021", "API8:2023", cwe=200),
    rule("errors.stack-trace", "A05:2021", "API8:2023", cwe=209),
    rule("errors.sql-error", "A03:2021", None, cwe=89),
    rule("https.no-redirect", "A02:2021", None, cwe=319),
    rule("access.bola", "A01:2021", "API1:2023", cwe=639),
)


def check(
    probe: str, name: str, endpoint: str | None, status: CheckStatus, detail: str = ""
) -> CheckResult:
    """A check result."""
    return CheckResult(probe=probe, check=name, endpoint=endpoint, status=status, detail=detail)


def evidence(path: str = "/api/orders", status: int | None = 500, **extra: Any) -> Evidence:
    """Evidence of one GET exchange."""
    fields: dict[str, Any] = {
        "request": f"GET {path} HTTP/1.1\nHost: 127.0.0.1:8000\nUser-Agent: probe/0.0.0",
        "status": status,
        "response_headers": [("Content-Type", "text/plain"), ("Server", "nginx/1.18.0")],
        "body_excerpt": 'Traceback (most recent call last):\n  File "/srv/app.py", line 3',
        "note": None,
    }
    fields.update(extra)
    return Evidence(**fields)


def finding(
    rule_id: str,
    endpoint: str | None,
    severity: Severity = Severity.medium,
    **extra: Any,
) -> Finding:
    """A finding of a catalogue rule."""
    source = CATALOGUE[rule_id]
    fields: dict[str, Any] = {
        "fingerprint": fingerprint(rule_id, endpoint, extra.get("parameter")),
        "probe": rule_id.split(".")[0],
        "rule": rule_id,
        "title": source.title,
        "severity": severity,
        "confidence": Confidence.firm,
        "owasp": source.owasp,
        "owasp_api": source.owasp_api,
        "cwe": source.cwe,
        "endpoint": endpoint,
        "detail": f"{rule_id} observed",
        "evidence": [],
        "reproduce": None,
        "remediation": source.remediation,
    }
    fields.update(extra)
    return Finding(**fields)


def make_report(
    *,
    checks: list[CheckResult] | None = None,
    findings: list[Finding] | None = None,
    probes: list[str] | None = None,
    endpoints: list[str] | None = None,
    status: ScanStatus = ScanStatus.complete,
    warnings: list[str] | None = None,
    name: str = "Orders API (test)",
    path: str = "scenarios/orders.yaml",
    base_url: str = BASE_URL,
) -> Report:
    """A report with fixed volatile fields; pass only what a test is about."""
    checks = checks or []
    findings = findings or []
    return Report(
        tool=ToolInfo(version="0.0.0"),
        scan_id="0123456789abcdef",
        scenario=ScenarioInfo(name=name, path=path, sha256="ab" * 32),
        target=TargetInfo(base_url=base_url, http_url=base_url, scope=["127.0.0.1:8000"]),
        started=STARTED,
        finished=STARTED + timedelta(seconds=42.5),
        status=status,
        summary=summarise(checks, findings, requests=123, refused=2),
        warnings=warnings or [],
        probes=["headers", "https", "errors"] if probes is None else probes,
        endpoints=["get-order", "list-orders"] if endpoints is None else endpoints,
        checks=checks,
        findings=findings,
    )


def sample_report(status: ScanStatus = ScanStatus.complete) -> Report:
    """A small but complete report: every check status, three rules, evidence, a warning."""
    checks = [
        check("engine", "login", None, CheckStatus.passed, "alice logged in"),
        check("headers", "security-headers", "get-order", CheckStatus.failed, "HSTS missing"),
        check("headers", "security-headers", "list-orders", CheckStatus.failed, "HSTS missing"),
        check("https", "not-built", None, CheckStatus.skipped, "not part of this release"),
        check("errors", "malformed-json", "get-order", CheckStatus.passed, "400 without trace"),
        check("errors", "malformed-json", "list-orders", CheckStatus.failed, "stack trace"),
        check("errors", "exposure-paths", None, CheckStatus.error, "timeout after 5 s"),
    ]
    findings = [
        finding(
            "errors.stack-trace",
            "list-orders",
            Severity.high,
            confidence=Confidence.certain,
            detail="A Python traceback is returned for a malformed JSON body.",
            evidence=[evidence(note="The traceback names /srv/app.py.")],
            reproduce='curl -i --path-as-is -X POST -H "Authorization: ${ALICE_TOKEN}" '
            '--data-binary "{" "http://127.0.0.1:8000/api/orders"',
        ),
        finding(
            "headers.hsts-missing",
            None,
            affected=["get-order", "list-orders"],
            detail="No Strict-Transport-Security header on 2 endpoints.",
            evidence=[evidence("/api/orders/1", 200), evidence("/api/orders", 200)],
            reproduce='curl -i --path-as-is "http://127.0.0.1:8000/api/orders/1"',
        ),
        finding(
            "headers.version-banner",
            "get-order",
            Severity.low,
            parameter="Server",
            detail="Server: nginx/1.18.0 names a version.",
            evidence=[evidence("/api/orders/1", 200)],
            reproduce='curl -i --path-as-is "http://127.0.0.1:8000/api/orders/1"',
        ),
    ]
    return make_report(
        checks=checks,
        findings=findings,
        status=status,
        warnings=["identity 'bob' was refused (401) on its first authenticated request"],
    )


#: Strings a hostile target sends; each must reach the page as text, never as markup.
HOSTILE = (
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror=window.__pwned=2>',
    "'><svg onload=window.__pwned=3>",
    "</pre><script>window.__pwned=4</script>",
    "javascript:window.__pwned=5",
    "{{7*7}}",
    "</style><script>window.__pwned=6</script>",
    "</title><script>window.__pwned=7</script>",
    '<a href="javascript:window.__pwned=8">x</a>',
    '<iframe src="data:text/html,<script>parent.__pwned=9</script>"></iframe>',
    "<link rel=stylesheet href=http://127.0.0.1:9/x.css>",
)
#: A terminal escape and a right-to-left override, which escaping alone leaves in place.
HIDDEN = "\x1b[31mred\x1b[0m \u202eevil\u202c"


def hostile_report() -> Report:
    """A report whose every free-text field carries hostile content."""
    bad = " ".join(HOSTILE)
    endpoint = "GET /p/<img src=x onerror=window.__pwned=10>"
    hostile_evidence = evidence(
        f"/p/{HOSTILE[1]}",
        500,
        request=f"GET /p/{HOSTILE[1]} HTTP/1.1\nHost: 127.0.0.1\nX-Test: {bad}",
        response_headers=[("Server", HOSTILE[0]), ("X-Powered-By", HOSTILE[1]), ("X", bad)],
        body_excerpt=f"{bad}\n{HIDDEN}",
        note=bad,
    )
    checks = [
        check("headers", bad, endpoint, CheckStatus.failed, bad),
        check("errors", "trigger", endpoint, CheckStatus.error, bad),
        check("errors", "trigger", None, CheckStatus.skipped, HIDDEN),
    ]
    findings = [
        finding(
            "errors.stack-trace",
            endpoint,
            Severity.critical,
            title=bad,
            detail=bad,
            parameter=HOSTILE[2],
            evidence=[hostile_evidence],
            reproduce=f"curl -i {bad}",
            remediation=bad,
        ),
        finding(
            "headers.version-banner",
            None,
            affected=[endpoint, HOSTILE[4], HOSTILE[3]],
            detail=bad,
            evidence=[hostile_evidence],
        ),
    ]
    return make_report(
        checks=checks,
        findings=findings,
        endpoints=[endpoint, HOSTILE[5]],
        warnings=[bad, HIDDEN],
        name=f"scenario {HOSTILE[6]}",
        path=f"/tmp/{HOSTILE[7]}.yaml",
        base_url=f"http://127.0.0.1:8000/{HOSTILE[0]}",
    )
