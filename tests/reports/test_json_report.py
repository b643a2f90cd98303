"""The JSON report: field names as the issue lists them, the published schema, a golden file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import probe.reports
from probe.report import Report, ScanStatus
from probe.reports.json_report import (
    SCHEMA_FILE,
    published_schema,
    render_json,
    report_json_schema,
    schema_text,
)
from tests.reports.factories import hostile_report, make_report, sample_report
from tests.reports.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"
SCHEMA_PATH = Path(probe.reports.__file__).parent / SCHEMA_FILE

TOP_LEVEL = [
    "schema",
    "tool",
    "scenario",
    "target",
    "started",
    "finished",
    "status",
    "summary",
    "checks",
    "findings",
]
CHECK_KEYS = {"probe", "check", "endpoint", "status", "detail"}
FINDING_KEYS = {
    "fingerprint",
    "probe",
    "rule",
    "title",
    "severity",
    "confidence",
    "owasp",
    "owasp_api",
    "cwe",
    "endpoint",
    "affected",
    "parameter",
    "evidence",
    "reproduce",
    "remediation",
}


def _date_time(value: object) -> bool:
    # jsonschema checks "date-time" only with an extra package; the stdlib parser suffices here.
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value


def _validator() -> jsonschema.protocols.Validator:
    schema = published_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(_date_time)
    return cls(schema, format_checker=checker)


def _data(report: Report) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render_json(report))
    return loaded


def test_json_report_has_the_issue_top_level_fields_in_order() -> None:
    keys = list(_data(sample_report()))
    assert [k for k in keys if k in TOP_LEVEL] == TOP_LEVEL


def test_json_report_names_its_schema_version() -> None:
    data = _data(sample_report())
    assert data["schema"] == "probe-report/1"
    assert data["tool"] == {"name": "probe", "version": "0.0.0"}
    assert set(data["scenario"]) == {"name", "path", "sha256"}


def test_json_summary_counts_by_severity_and_by_check_status() -> None:
    summary = _data(sample_report())["summary"]
    assert summary["findings"] == {"critical": 0, "high": 1, "medium": 1, "low": 1, "info": 0}
    assert summary["checks"] == {"pass": 2, "fail": 3, "error": 1, "skipped": 1}
    assert summary["requests"] == 123


def test_json_checks_and_findings_carry_the_issue_fields() -> None:
    data = _data(sample_report())
    assert all(set(c) == CHECK_KEYS for c in data["checks"])
    assert all(set(f) >= FINDING_KEYS for f in data["findings"])
    assert {c["endpoint"] for c in data["checks"]} == {None, "get-order", "list-orders"}
    assert {c["status"] for c in data["checks"]} == {"pass", "fail", "error", "skipped"}


def test_json_evidence_keeps_request_status_headers_and_body_excerpt() -> None:
    evidence = _data(sample_report())["findings"][0]["evidence"][0]
    assert evidence["request"].startswith("GET /api/orders HTTP/1.1\n")
    assert evidence["status"] == 500
    assert ["Server", "nginx/1.18.0"] in evidence["response_headers"]
    assert "Traceback" in evidence["body_excerpt"]


def test_json_times_are_utc_iso_8601() -> None:
    data = _data(sample_report())
    assert data["started"] == "2024-05-01T12:00:00Z"
    assert data["finished"] == "2024-05-01T12:00:42.500000Z"


def test_rendered_json_round_trips_to_the_same_report() -> None:
    report = sample_report()
    assert Report.model_validate_json(render_json(report)) == report


@pytest.mark.parametrize("status", list(ScanStatus))
def test_rendered_reports_validate_against_the_published_schema(status: ScanStatus) -> None:
    _validator().validate(_data(sample_report(status)))


def test_empty_and_hostile_reports_validate_against_the_published_schema() -> None:
    validator = _validator()
    validator.validate(_data(make_report(checks=[], findings=[], probes=[], endpoints=[])))
    validator.validate(_data(hostile_report()))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("status",), "done"),
        (("schema",), "probe-report/2"),
        (("findings", 0, "severity"), "urgent"),
        (("checks", 0, "status"), "passed"),
        (("summary", "findings", "fatal"), 1),
        (("started",), "yesterday"),
    ],
)
def test_schema_rejects_a_report_with_a_wrong_value(path: tuple[Any, ...], value: Any) -> None:
    data = _data(sample_report())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert not _validator().is_valid(data)


@pytest.mark.parametrize("key", ["checks", "findings", "summary", "warnings"])
def test_schema_requires_every_key_the_renderer_writes(key: str) -> None:
    data = _data(sample_report())
    del data[key]
    assert not _validator().is_valid(data)


def test_published_schema_file_is_current() -> None:
    # Regenerate with `make golden` after changing the report models.
    assert_golden(SCHEMA_PATH, schema_text())
    assert published_schema() == report_json_schema()


def test_json_report_matches_the_golden_file() -> None:
    # Review the diff of golden/report.json when a model changes, then run `make golden`.
    assert_golden(GOLDEN / "report.json", render_json(sample_report()))
