"""The plain-text summary the CLI prints on stderr."""

from __future__ import annotations

from probe.findings import Severity
from probe.report import ScanStatus
from probe.reports import console_summary
from probe.reports.console import TOP_FINDINGS
from probe.reports.text import one_line, visible
from tests.reports.factories import (
    CATALOGUE,
    HIDDEN,
    finding,
    hostile_report,
    make_report,
    sample_report,
)


def test_summary_gives_status_counts_top_findings_and_warnings() -> None:
    text = console_summary(sample_report(), CATALOGUE)
    assert text.splitlines() == [
        "Scan complete: Orders API (test) (http://127.0.0.1:8000/api)",
        "Findings: 3 (0 critical, 1 high, 1 medium, 1 low, 0 info)",
        "Checks: 7 (2 pass, 3 fail, 1 error, 1 skipped); 123 requests sent, 2 refused",
        "Top findings:",
        "  [high] title of errors.stack-trace - list-orders",
        "  [medium] title of headers.hsts-missing - 2 places",
        "  [low] title of headers.version-banner - get-order",
        "Warnings:",
        "  - identity 'bob' was refused (401) on its first authenticated request",
    ]


def test_interrupted_scan_is_marked_partial() -> None:
    text = console_summary(sample_report(ScanStatus.interrupted), CATALOGUE)
    assert text.startswith("Scan INTERRUPTED: the report is partial:")


def test_failed_scan_is_marked_failed() -> None:
    assert console_summary(sample_report(ScanStatus.failed), CATALOGUE).startswith("Scan FAILED")


def test_summary_of_a_clean_scan_has_no_findings_section() -> None:
    text = console_summary(make_report(), CATALOGUE)
    assert "Top findings" not in text
    assert "Warnings" not in text


def test_summary_lists_only_the_worst_rules() -> None:
    rules = list(CATALOGUE)
    findings = [finding(r, "a", Severity.low) for r in rules]
    findings[-1] = finding(rules[-1], "a", Severity.critical)
    lines = console_summary(make_report(findings=findings), CATALOGUE).splitlines()
    shown = [line for line in lines if line.startswith("  [")]
    assert len(shown) == TOP_FINDINGS
    assert shown[0].startswith("  [critical]")
    assert lines[-1] == f"  ... and {len(rules) - TOP_FINDINGS} more rules with findings"


def test_terminal_escapes_from_the_target_cannot_reach_the_terminal() -> None:
    text = console_summary(hostile_report(), CATALOGUE)
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\\x1b[31mred" in text


def test_visible_spells_out_controls_and_direction_overrides_only() -> None:
    assert visible("a\tb\nc\r\nd") == "a\tb\nc\nd"
    assert visible("\x00\x07\x7f\x85") == "\\x00\\x07\\x7f\\x85"
    assert visible("\u202e\u2066") == "\\u202e\\u2066"
    assert visible("naïve – 日本") == "naïve – 日本"
    assert visible(HIDDEN) == "\\x1b[31mred\\x1b[0m \\u202eevil\\u202c"


def test_one_line_folds_whitespace_and_cuts_long_text() -> None:
    assert one_line("a\n  b\r\nc") == "a b c"
    assert one_line("x" * 200, 10) == "x" * 9 + "…"
