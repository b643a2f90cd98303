"""`probe demo` scans the bundled weak API and finds problems of every probe built so far."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from probe.reports.json_report import published_schema

ROOT = Path(__file__).parents[1]


@pytest.mark.timeout(90)
def test_demo_scan_finds_problems_of_every_built_probe(tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "probe", "demo", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=80,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 60
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["status"] == "complete"
    probes = {f["probe"] for f in report["findings"]}
    assert {"headers", "errors", "https", "rate_limit", "jwt", "injection", "access"} <= probes
    rules = {f["rule"] for f in report["findings"]}
    assert "errors.stack-trace" in rules or "errors.sql-error" in rules
    # The cleartext twin and the unlimited login.
    assert {"https.cleartext-served", "https.credentials-over-http"} <= rules
    assert "rate_limit.not-enforced" in rules
    # The tutorial-default signing key; bob reading alice's order and the admin list; the
    # login telling unknown users apart.
    assert "jwt.weak-secret" in rules
    assert {"access.bola", "access.function-level", "access.user-enumeration"} <= rules
    # SQL built from the product id, the name put in a page unescaped, the text rendered as a
    # template; and nothing on search, whose query is a bound parameter echoed in JSON.
    injected = {(f["rule"], f["endpoint"]) for f in report["findings"] if f["probe"] == "injection"}
    assert injected == {
        ("injection.sql-injection", "get-product"),
        ("injection.reflected-xss", "hello"),
        ("injection.template-injection", "preview"),
    }
    # The burst is on the record, request by request, valid against the published schema.
    jsonschema.validate(report, published_schema())
    (burst,) = report["bursts"]
    assert (burst["endpoint"], burst["requests"], burst["opened"]) == ("login", 30, 30)
    assert all(s["status"] == 200 and s["sent_ms"] is not None for s in burst["shots"])
    assert 'id="bursts"' in (tmp_path / "latest.html").read_text()
    # Reproduce lines: a burst as a loop of background requests; HTTPS trusting the demo CA.
    by_rule = {f["rule"]: f["reproduce"] for f in report["findings"]}
    assert by_rule["rate_limit.not-enforced"].startswith("for i in $(seq 30); do curl ")
    assert by_rule["rate_limit.not-enforced"].endswith("& done; wait")
    assert "--cacert" in by_rule["errors.secret-in-response"]
    assert (tmp_path / "latest.html").is_file()
    assert "report:" in result.stderr
    # The demo's passwords are passed as variables: they must never reach a report.
    text = (tmp_path / "latest.json").read_text() + (tmp_path / "latest.html").read_text()
    assert "alice-pass-123" not in text
    assert "bob-pass-456" not in text
    # Nor the tokens the demo's login issued during the burst (live credentials), nor any token
    # forged from alice's or minted with the guessed key (they would be valid credentials).
    assert "eyJ" not in text
