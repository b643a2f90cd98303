"""The pure table builders behind the HTML report, on hand-built reports."""

from __future__ import annotations

from probe.findings import CheckStatus, Severity
from probe.report import ScanStatus
from probe.reports.tables import (
    BAR_MAX,
    Coverage,
    coverage_matrix,
    default_catalogue,
    not_run,
    ordered_checks,
    owasp_table,
    places,
    rule_groups,
    severity_bars,
)
from tests.reports.factories import CATALOGUE, check, finding, make_report, sample_report

PASS, FAIL, ERROR, SKIP = (
    CheckStatus.passed,
    CheckStatus.failed,
    CheckStatus.error,
    CheckStatus.skipped,
)


def _rows(report_status: ScanStatus = ScanStatus.complete) -> dict[str, str]:
    report = sample_report(report_status)
    return {row.id: row.coverage.value for row in owasp_table(report, CATALOGUE)}


def test_owasp_table_lists_every_top10_category_in_order() -> None:
    rows = owasp_table(sample_report(), CATALOGUE)
    assert [r.id for r in rows] == [f"A{n:02d}:2021" for n in range(1, 11)]
    assert rows[0].name == "Broken Access Control"


def test_owasp_category_with_findings_counts_them_and_names_the_worst() -> None:
    row = owasp_table(sample_report(), CATALOGUE)[4]
    assert row.id == "A05:2021"
    assert row.coverage is Coverage.findings
    assert (row.findings, row.worst) == (3, Severity.high)
    assert row.probes == ("errors", "headers")
    assert row.label == "3 findings"


def test_owasp_category_of_a_probe_that_passed_is_checked_with_nothing_found() -> None:
    row = owasp_table(sample_report(), CATALOGUE)[2]
    assert (row.id, row.coverage) == ("A03:2021", Coverage.checked)
    assert row.label == "nothing found by errors"


def test_owasp_nothing_found_names_only_the_probes_that_reached_an_outcome() -> None:
    both = {
        "errors.sql-error": CATALOGUE["errors.sql-error"],
        "https.sqli": CATALOGUE["errors.sql-error"].model_copy(update={"id": "https.sqli"}),
    }
    row = owasp_table(sample_report(), both)[2]
    assert row.probes == ("errors", "https")
    assert row.checked_by == ("errors",)


def test_owasp_category_whose_probe_only_skipped_is_not_claimed_as_checked() -> None:
    # https ran but its only check was skipped: A02 was not looked at.
    assert _rows()["A02:2021"] == "incomplete"


def test_owasp_category_of_a_probe_that_did_not_run_is_not_covered() -> None:
    # access.bola maps to A01, but the access probe is not in the report's probes.
    assert _rows()["A01:2021"] == "not-covered"
    assert _rows()["A10:2021"] == "not-covered"
    assert owasp_table(sample_report(), CATALOGUE)[0].label == "not covered"


def test_owasp_category_of_a_probe_without_any_check_is_not_claimed_as_checked() -> None:
    report = make_report(probes=["errors"], checks=[])
    row = owasp_table(report, CATALOGUE)[2]
    assert (row.id, row.coverage) == ("A03:2021", Coverage.incomplete)


def test_owasp_nothing_found_in_a_partial_scan_says_so() -> None:
    report = sample_report(ScanStatus.interrupted)
    row = owasp_table(report, CATALOGUE)[2]
    assert row.label == "nothing found by errors (partial scan)"


def test_owasp_api_table_uses_the_api_categories() -> None:
    rows = owasp_table(sample_report(), CATALOGUE, field="owasp_api")
    assert [r.id for r in rows][:2] == ["API1:2023", "API2:2023"]
    by_id = {r.id: r for r in rows}
    assert by_id["API8:2023"].findings == 3
    assert by_id["API1:2023"].coverage is Coverage.not_covered


def test_coverage_matrix_has_engine_then_probes_in_run_order() -> None:
    matrix = coverage_matrix(sample_report())
    assert matrix.probes == ("engine", "headers", "https", "errors")


def test_coverage_matrix_has_whole_target_row_first_then_endpoints() -> None:
    matrix = coverage_matrix(sample_report())
    assert [r.endpoint for r in matrix.rows] == [None, "get-order", "list-orders"]


def test_coverage_cell_shows_fail_over_pass_and_counts_both() -> None:
    report = make_report(
        probes=["headers"],
        checks=[
            check("headers", "a", "get-order", PASS),
            check("headers", "b", "get-order", FAIL),
            check("headers", "c", "get-order", PASS),
        ],
    )
    cell = coverage_matrix(report).rows[0].cells[0]
    assert cell.status is FAIL
    assert cell.title == "1 fail, 2 pass"


def test_coverage_cell_shows_error_over_pass() -> None:
    report = make_report(
        probes=["errors"],
        checks=[check("errors", "a", "get-order", PASS), check("errors", "b", "get-order", ERROR)],
    )
    assert coverage_matrix(report).rows[0].cells[0].status is ERROR


def test_coverage_cell_without_checks_is_not_applicable() -> None:
    report = make_report(probes=["errors"], checks=[check("errors", "a", "get-order", PASS)])
    cells = {row.endpoint: row.cells[0] for row in coverage_matrix(report).rows}
    assert cells["list-orders"].status is None
    assert cells["list-orders"].label == "n/a"


def test_probe_skipped_as_a_whole_shows_skipped_at_every_endpoint() -> None:
    matrix = coverage_matrix(sample_report())
    https = matrix.probes.index("https")
    column = [row.cells[https] for row in matrix.rows]
    assert [c.status for c in column] == [SKIP, SKIP, SKIP]
    assert [c.inherited for c in column] == [False, True, True]


def test_target_wide_error_of_a_probe_with_endpoint_checks_is_not_spread() -> None:
    matrix = coverage_matrix(sample_report())
    errors = matrix.probes.index("errors")
    assert [row.cells[errors].status for row in matrix.rows] == [ERROR, PASS, FAIL]


def test_coverage_matrix_adds_endpoints_only_seen_in_checks() -> None:
    report = make_report(
        endpoints=["a"], probes=["errors"], checks=[check("errors", "x", "b", PASS)]
    )
    assert [r.endpoint for r in coverage_matrix(report).rows] == ["a", "b"]


def test_coverage_matrix_of_a_report_without_checks_has_probe_columns_only() -> None:
    matrix = coverage_matrix(make_report(checks=[]))
    assert matrix.probes == ("headers", "https", "errors")
    assert all(cell.status is None for row in matrix.rows for cell in row.cells)


def test_rule_groups_put_the_worst_rule_first_and_collect_places() -> None:
    groups = rule_groups(sample_report(), CATALOGUE)
    assert [g.rule for g in groups] == [
        "errors.stack-trace",
        "headers.hsts-missing",
        "headers.version-banner",
    ]
    assert groups[1].places == ("get-order", "list-orders")
    assert groups[0].description == "what errors.stack-trace sends and judges"


def test_rule_group_takes_the_worst_severity_of_its_findings() -> None:
    report = make_report(
        findings=[
            finding("headers.hsts-missing", "a", Severity.low),
            finding("headers.hsts-missing", "b", Severity.high),
        ]
    )
    (group,) = rule_groups(report, CATALOGUE)
    assert group.severity is Severity.high
    assert len(group.findings) == 2


def test_rule_group_of_an_unknown_rule_has_no_description() -> None:
    report = make_report(findings=[finding("headers.hsts-missing", "a")])
    (group,) = rule_groups(report, {})
    assert group.description == ""


def test_places_joins_endpoint_and_affected_without_repeats() -> None:
    item = finding("headers.hsts-missing", "a", affected=["a", "b"])
    assert places(item) == ["a", "b"]


def test_ordered_checks_lists_errors_and_skipped_first() -> None:
    statuses = [c.status for c in ordered_checks(sample_report())]
    assert statuses == [ERROR, SKIP, FAIL, FAIL, FAIL, PASS, PASS]


def test_severity_bars_scale_to_the_largest_count() -> None:
    bars = severity_bars({Severity.high: 4, Severity.low: 1, Severity.info: 0})
    widths = {b.severity: b.width for b in bars}
    assert widths[Severity.high] == BAR_MAX
    assert widths[Severity.low] == BAR_MAX // 4
    assert widths[Severity.info] == 0
    assert [b.severity for b in bars] == list(Severity)


def test_severity_bar_of_a_small_nonzero_count_stays_visible() -> None:
    bars = severity_bars({Severity.high: 1000, Severity.low: 1})
    assert {b.severity: b.width for b in bars}[Severity.low] > 0


def test_severity_bars_without_findings_are_empty() -> None:
    assert all(b.width == 0 for b in severity_bars({}))


def test_default_catalogue_holds_every_registered_rule_by_id() -> None:
    for rule_id, rule in default_catalogue().items():
        assert rule.id == rule_id


def test_not_run_lists_registered_probes_missing_from_the_report() -> None:
    assert not_run(sample_report()) == ["rate_limit", "jwt", "injection", "access"]
