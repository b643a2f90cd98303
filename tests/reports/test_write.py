"""Writing reports: file names, latest copies, the output folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from probe.reports import write_reports
from probe.reports.write import report_name, report_stem
from tests.reports.factories import make_report, sample_report


def test_reports_are_named_after_the_scenario_file_and_utc_start(tmp_path: Path) -> None:
    written = write_reports(sample_report(), tmp_path)
    assert [p.name for p in written] == [
        "orders-20240501T120000Z.json",
        "orders-20240501T120000Z.html",
    ]


def test_latest_files_are_real_copies_of_the_new_reports(tmp_path: Path) -> None:
    json_path, html_path = write_reports(sample_report(), tmp_path)
    for fmt, path in (("json", json_path), ("html", html_path)):
        latest = tmp_path / f"latest.{fmt}"
        assert not latest.is_symlink()
        assert latest.read_bytes() == path.read_bytes()
    assert json.loads((tmp_path / "latest.json").read_text())["schema"] == "probe-report/1"


def test_latest_is_replaced_by_the_next_scan(tmp_path: Path) -> None:
    write_reports(make_report(path="first.yaml"), tmp_path)
    write_reports(make_report(path="second.yaml"), tmp_path)
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest["scenario"]["path"] == "second.yaml"
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "first-20240501T120000Z.json",
        "latest.json",
        "second-20240501T120000Z.json",
    ]


def test_missing_output_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    (path,) = write_reports(sample_report(), out, formats=["json"])
    assert path.parent == out
    assert not (out / "latest.html").exists()


def test_a_second_report_in_the_same_second_does_not_overwrite_the_first(tmp_path: Path) -> None:
    first = write_reports(sample_report(), tmp_path)
    second = write_reports(sample_report(), tmp_path)
    assert [p.name for p in second] == [
        "orders-20240501T120000Z-2.json",
        "orders-20240501T120000Z-2.html",
    ]
    assert all(p.exists() for p in first)


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    write_reports(sample_report(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "latest.html",
        "latest.json",
        "orders-20240501T120000Z.html",
        "orders-20240501T120000Z.json",
    ]


def test_unknown_format_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        write_reports(sample_report(), tmp_path / "out", formats=["json", "pdf"])
    assert not (tmp_path / "out").exists()


def test_explicit_stem_replaces_the_scenario_stem(tmp_path: Path) -> None:
    (path,) = write_reports(sample_report(), tmp_path, formats=["html"], stem="nightly")
    assert path.name == "nightly-20240501T120000Z.html"


def test_explicit_stem_cannot_leave_the_output_folder(tmp_path: Path) -> None:
    (path,) = write_reports(sample_report(), tmp_path / "out", formats=["json"], stem="../x/y")
    assert path.parent == tmp_path / "out"
    assert path.name == "x-y-20240501T120000Z.json"


def test_stem_without_a_scenario_file_is_a_slug_of_the_scenario_name() -> None:
    assert report_stem(make_report(path="", name="Orders API (staging)")) == "Orders-API-staging"
    assert report_stem(make_report(path="", name="../../etc/passwd")) == "etc-passwd"
    assert report_stem(make_report(path="", name="///")) == "scan"


def test_stem_of_a_scenario_path_keeps_only_the_file_stem() -> None:
    report = make_report(path="/home/qa/scenarios/orders.api.yaml")
    assert report_name(report) == "orders.api-20240501T120000Z"
