"""The traversal family of the injection probe: its judges, and real file-reading routes on
127.0.0.1 over a fake root in a temporary folder, each unsafe join beside a safe twin."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.engine import Scan
from probe.exchange import ResponseRecord
from probe.findings import CheckResult, CheckStatus, Confidence, Finding, Severity
from probe.probes.injection_traversal_judges import (
    FileContent,
    base64_texts,
    file_content,
    original_folder,
    passwd_lines,
    payloads,
    winini_sections,
)
from probe.report import Report
from tests.probes import apps_injection_traversal as apps
from tests.scan import scenario
from tests.servers import serve_asgi, serve_wsgi

TRAVERSAL_ONLY = {"injection": {"families": ["traversal"]}}
UP = "../" * 8


@pytest.fixture(scope="module")
def files_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, apps.RawTargets]]:
    """The Starlette app over a fake Linux root: its URL and its record of request targets."""
    app = apps.starlette_app(apps.make_root(tmp_path_factory.mktemp("linux")))
    with serve_asgi(app) as base:
        yield base, app


@pytest.fixture(scope="module")
def url(files_app: tuple[str, apps.RawTargets]) -> str:
    """The Starlette app's base URL."""
    return files_app[0]


def query(path: str, name: str = "name", value: str = "readme.txt") -> dict[str, Any]:
    """A GET endpoint with one query parameter as its injection point."""
    return {"path": path, "query": {name: value}, "inject": [name]}


def in_path(path: str) -> dict[str, Any]:
    """A GET endpoint whose `{name}` path parameter is the injection point."""
    return {"path": path, "path_params": {"name": "readme.txt"}, "inject": ["name"]}


def scan(url: str, *endpoints: dict[str, Any]) -> tuple[Report, Scan]:
    """Run only the injection probe's traversal family."""
    engine = Scan(scenario(url, list(endpoints), probes=TRAVERSAL_ONLY), probes=["injection"])
    return anyio.run(engine.run), engine


def only_finding(report: Report) -> Finding:
    """The report's single finding, which must be path traversal."""
    assert [f.rule for f in report.findings] == ["injection.path-traversal"]
    return report.findings[0]


def traversal_checks(report: Report) -> list[CheckResult]:
    """The traversal checks of the report, in order."""
    return [c for c in report.checks if c.probe == "injection" and c.check == "traversal"]


def assert_clean(report: Report) -> list[CheckResult]:
    """No finding, and every traversal check passed."""
    assert report.findings == []
    checks = traversal_checks(report)
    assert checks
    assert all(c.status is CheckStatus.passed for c in checks), checks
    return checks


def answer(body: str, content_type: str = "text/plain") -> ResponseRecord:
    """A 200 response record for the judges."""
    return ResponseRecord(200, "HTTP/1.1", (("Content-Type", content_type),), body.encode())


# -- file formats --------------------------------------------------------------------------------


def test_passwd_lines_are_read_in_their_own_format() -> None:
    lines = passwd_lines(apps.PASSWD + "not:a:line\nroot:x:0:0 is a keyword\n")
    assert len(lines) == 5
    assert lines[0] == "root:x:0:0:root:/root:/bin/bash"


def test_passwd_needs_root_and_three_lines() -> None:
    two = "root:x:0:0:root:/root:/bin/bash\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
    assert file_content("passwd", answer(two), []) is None
    no_root = apps.PASSWD.split("\n", 1)[1]
    assert file_content("passwd", answer(no_root), []) is None
    found = file_content("passwd", answer(apps.PASSWD), [])
    assert isinstance(found, FileContent)
    assert len(found.lines) == 5


def test_passwd_in_a_json_string_and_in_html_is_found() -> None:
    body = json.dumps({"name": "x", "content": apps.PASSWD})
    assert file_content("passwd", answer(body, "application/json"), [])
    page = "<html><body><pre>" + apps.PASSWD + "</pre></body></html>"
    assert file_content("passwd", answer(page, "text/html"), [])


def test_passwd_in_html_inside_a_json_string_is_found() -> None:
    body = json.dumps({"html": "<pre>" + html.escape(apps.PASSWD) + "</pre>"})
    found = file_content("passwd", answer(body, "application/json"), [])
    assert isinstance(found, FileContent)
    assert found.lines[0].startswith("root:x:0:0:")


def test_passwd_lines_already_in_a_baseline_do_not_count() -> None:
    page = answer(apps.TUTORIAL, "text/html")
    assert file_content("passwd", page, [])
    assert file_content("passwd", page, [answer(apps.TUTORIAL, "text/html")]) is None


def test_password_hashes_are_masked_in_the_excerpt() -> None:
    text = apps.PASSWD.replace("root:x:", "root:$6$salt$abcdefhash:")
    found = file_content("passwd", answer(text), [])
    assert found is not None
    assert found.excerpt().startswith("root:***:0:0:")
    assert "$6$" not in found.excerpt()


def test_win_ini_needs_several_of_its_own_sections() -> None:
    assert winini_sections(apps.WIN_INI.replace("\n", "\r\n")) == [
        "[fonts]",
        "[extensions]",
        "[mci extensions]",
        "[files]",
        "[Mail]",
    ]
    other_ini = "[database]\nhost=db\n[files]\nroot=/srv\n[logging]\nlevel=info\n"
    assert file_content("win.ini", answer(other_ini), []) is None
    assert file_content("win.ini", answer(apps.WIN_INI), [])


# No line break, no escaped one in JSON, no HTML break tag: one line whatever view reads it.
ONE_LINE = st.characters(codec="utf-8", exclude_characters="\n\r\\<")


@given(st.text(alphabet=ONE_LINE, max_size=400))
def test_one_line_of_text_is_never_a_file(line: str) -> None:
    assert file_content("passwd", answer(line), []) is None
    assert file_content("win.ini", answer(line), []) is None


def test_payloads_cover_relative_absolute_encoded_and_windows_paths() -> None:
    values = {p.value for p in payloads()}
    assert UP + "etc/passwd" in values
    assert "/etc/passwd" in values
    assert any(v.startswith("..%2f..%2f") for v in values)
    assert any(v.startswith("%2e%2e%2f") for v in values)
    assert any(v.startswith("%252e%252e%252f") for v in values)
    assert any(v.startswith("....//") for v in values)
    assert "..\\" * 8 + "windows\\win.ini" in values
    assert "c:\\windows\\win.ini" in values
    assert all(p.wire == ("%" in p.value) for p in payloads())


def test_controls_keep_the_path_and_change_the_file() -> None:
    relative, *_, windows = payloads()
    assert relative.control("prbx") == UP + "etc/prbx"
    assert windows.control("prbx") == "c:\\windows\\prbx.ini"


# -- real routes ---------------------------------------------------------------------------------


def test_path_parameter_joined_unsafely_reads_passwd(
    files_app: tuple[str, apps.RawTargets],
) -> None:
    url, app = files_app
    report, _ = scan(url, in_path("/files/{name}"))
    found = only_finding(report)
    assert found.severity is Severity.high
    assert found.confidence is Confidence.firm
    assert found.parameter == "name"
    assert found.evidence[0].body_excerpt.startswith("root:x:0:0:root:/root:/bin/bash")
    assert found.reproduce
    assert f"/files/{UP}etc/passwd" in found.reproduce
    # The server saw the dots themselves, not a path the client had resolved.
    assert f"/files/{UP}etc/passwd" in app.seen
    assert traversal_checks(report)[0].status is CheckStatus.failed


def test_path_parameter_resolved_safely_is_clean(files_app: tuple[str, apps.RawTargets]) -> None:
    url, app = files_app
    (check,) = assert_clean(scan(url, in_path("/safe/files/{name}"))[0])
    assert check.detail.count("no file contents") == 8
    # Encoded payloads arrived as written, not decoded or re-encoded by the client.
    assert "/safe/files/" + "..%2f" * 8 + "etc%2fpasswd" in app.seen
    assert "/safe/files/" + "%252e%252e%252f" * 8 + "etc%252fpasswd" in app.seen
    assert "/safe/files/" + "..\\" * 8 + "windows\\win.ini" in app.seen


def test_query_parameter_joined_unsafely_reads_passwd_from_json(
    files_app: tuple[str, apps.RawTargets],
) -> None:
    url, app = files_app
    found = only_finding(scan(url, query("/read"))[0])
    assert "5 lines in passwd format" in found.detail
    assert f"/read?name={UP}etc/passwd" in app.seen


def test_query_parameter_resolved_safely_is_clean(url: str) -> None:
    assert_clean(scan(url, query("/safe/read"))[0])


def test_strip_once_filter_is_bypassed_with_doubled_dots(url: str) -> None:
    found = only_finding(scan(url, query("/filtered"))[0])
    assert "....//" in found.detail


def test_second_decoding_is_found_with_double_encoding(url: str) -> None:
    found = only_finding(scan(url, query("/decode-twice"))[0])
    assert "double-encoded" in found.detail


def test_page_with_passwd_text_in_every_answer_is_clean(url: str) -> None:
    (check,) = assert_clean(scan(url, query("/docs"))[0])
    assert "beyond the baselines' own lines" in check.detail


def test_search_page_matching_the_keyword_is_clean(url: str) -> None:
    (check,) = assert_clean(scan(url, query("/search", "q", "readme"))[0])
    assert "the bare name `passwd` gets them too" in check.detail


def test_same_page_for_every_input_and_an_echoed_keyword_are_clean(url: str) -> None:
    assert len(assert_clean(scan(url, query("/same"), query("/echo"))[0])) == 2


def test_json_field_gets_no_encoded_paths(url: str) -> None:
    endpoint = {"method": "POST", "path": "/open", "json": {"path": "readme.txt"}}
    report, engine = scan(url, {**endpoint, "inject": ["path"]})
    assert_clean(report)
    sent = [e for e in engine.exchanges() if "traversal:" in e.purpose]
    assert len(sent) == 5
    assert not any("%2" in (e.request.body or b"").decode() for e in sent)


def test_windows_separators_read_win_ini(tmp_path: Path) -> None:
    app = apps.windows_app(apps.make_root(tmp_path, windows=True))
    with serve_asgi(app) as base:
        found = only_finding(scan(base, query("/view"))[0])
    assert "win.ini" in found.detail
    assert "[fonts]" in found.evidence[0].body_excerpt
    assert "/view?name=" + "..\\" * 8 + "windows\\win.ini" in app.seen


def test_flask_query_parameter_joined_unsafely_versus_safely(tmp_path: Path) -> None:
    seen: list[str] = []
    app = apps.flask_app(apps.make_root(tmp_path), seen)
    with serve_wsgi(app) as base:
        weak = scan(base, query("/download", "file"))[0]
        safe = scan(base, query("/safe/download", "file"))[0]
    assert only_finding(weak).endpoint == "GET /download"
    assert_clean(safe)
    assert f"/download?file={UP}etc/passwd" in seen
    assert "/safe/download?file=" + "%2e%2e%2f" * 8 + "etc%2fpasswd" in seen


def test_safe_point_costs_eight_requests_after_the_baselines(url: str) -> None:
    _, engine = scan(url, query("/safe/read"))
    sent = [e for e in engine.exchanges() if e.probe == "injection"]
    assert len(sent) == 3 + 8


# -- payloads after the original folder, and base64 contents -------------------------------------


def test_original_folder_gets_one_more_payload_that_climbs_from_it() -> None:
    extra = [p for p in payloads(original="reports/2024.txt") if p not in payloads()]
    assert [p.value for p in extra] == ["reports/" + UP + "etc/passwd"]
    assert extra[0].stays == ("reports/etc/passwd", "etc/passwd")
    assert extra[0].control("prbx") == "reports/" + UP + "etc/prbx"
    assert original_folder("/srv/data/a.txt") == "/srv/data"


@pytest.mark.parametrize(
    "original", ["readme.txt", "/readme.txt", "./a.txt", "https://x.test/a/b", "a/../b", ""]
)
def test_values_without_a_folder_worth_keeping_add_no_payload(original: str) -> None:
    assert original_folder(original) == ""
    assert len(payloads(original=original)) == len(payloads())


def test_every_payload_names_the_same_file_without_climbing() -> None:
    for item in payloads():
        for stay in item.stays:
            assert ".." not in stay
            assert not stay.startswith(("/", "c:"))
            assert item.value.endswith(stay)


def test_base64_json_strings_are_read_as_the_text_they_encode() -> None:
    content = base64.encodebytes(apps.PASSWD.encode()).decode()
    body = json.dumps({"encoding": "base64", "content": content})
    found = file_content("passwd", answer(body, "application/json"), [])
    assert found is not None
    assert len(found.lines) == 5


def test_base64_of_binary_or_loose_base64_is_not_decoded() -> None:
    binary = base64.b64encode(b"\xff\xfe\x00" + apps.PASSWD.encode()).decode()
    loose = base64.b64encode(apps.PASSWD.encode()).decode().rstrip("=") + "!"
    for value in (binary, loose):
        assert list(base64_texts({"content": value})) == []
    assert list(base64_texts({"short": base64.b64encode(b"root:x:0:0").decode()})) == []
    assert list(base64_texts({"c": base64.b64encode(apps.PASSWD.encode()).decode()}))


# -- real routes: a folder that holds its own etc/passwd, prefix checks, base64 -----------------


def image(path: str) -> dict[str, Any]:
    """A GET endpoint reading a container image's file by its path."""
    return query(path, "path", "/etc/hostname")


def test_image_browser_reading_its_own_passwd_is_clean(url: str) -> None:
    report, engine = scan(url, image("/image/files"))
    (check,) = assert_clean(report)
    assert "the same file without climbing (`etc/passwd`) gets the same lines" in check.detail
    assert check.detail.count("the file lies inside the folder the server reads from") == 1
    controls = [e for e in engine.exchanges() if "without climbing" in e.purpose]
    # Each sent once: `etc/passwd`, `/etc/etc/passwd` (after the original folder `/etc`) and
    # `etc%2fpasswd`.
    assert len(controls) == 3


def test_absolute_path_leaving_the_image_is_found(url: str) -> None:
    report, _ = scan(url, image("/image/files-absolute"))
    found = only_finding(report)
    assert "absolute `/etc/passwd`" in found.detail
    assert "the same file without climbing (`etc/passwd`)" in found.detail
    assert "`../` did not leave it" in traversal_checks(report)[0].detail
    roles = [e.note.split(":")[0] for e in found.evidence if e.note]
    assert roles == [
        "attack",
        "baseline",
        "control",
        "control",
        "control",
    ]
    assert "the same file without climbing `etc/passwd`" in found.evidence[-1].note


def test_prefix_check_is_passed_by_climbing_from_the_original_folder(
    files_app: tuple[str, apps.RawTargets],
) -> None:
    url, app = files_app
    report, _ = scan(url, query("/reports", "file", "reports/2024.txt"))
    found = only_finding(report)
    assert "after the original folder `reports/`" in found.detail
    assert f"/reports?file=reports/{UP}etc/passwd" in app.seen
    assert "/reports?file=reports/etc/passwd" in app.seen


def test_prefix_check_with_a_resolved_path_is_clean(url: str) -> None:
    (check,) = assert_clean(scan(url, query("/safe/reports", "file", "reports/2024.txt"))[0])
    assert "after the original folder `reports/`: HTTP 404, no file contents" in check.detail


def test_file_sent_base64_encoded_in_json_is_found(url: str) -> None:
    found = only_finding(scan(url, query("/blob", "path"))[0])
    assert "5 lines in passwd format" in found.detail
    assert found.evidence[0].body_excerpt.startswith("root:x:0:0:")


def test_base64_file_api_resolving_safely_is_clean(url: str) -> None:
    assert_clean(scan(url, query("/safe/blob", "path"))[0])


def test_passwd_in_a_json_html_preview_is_found(url: str) -> None:
    found = only_finding(scan(url, query("/preview", "file"))[0])
    assert "5 lines in passwd format" in found.detail
    assert found.evidence[0].body_excerpt.startswith("root:x:0:0:")


def test_json_html_preview_resolving_safely_is_clean(url: str) -> None:
    assert_clean(scan(url, query("/safe/preview", "file"))[0])
