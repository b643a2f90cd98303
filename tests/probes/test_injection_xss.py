"""The xss family of the injection probe: its judges, and real reflecting routes on 127.0.0.1,
each weak route beside a twin that encodes its output or serves it where no browser runs it."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.engine import Scan
from probe.exchange import ResponseRecord
from probe.findings import CheckResult, CheckStatus, Confidence, Finding, Severity
from probe.probes.injection_xss_judges import (
    lower,
    payload,
    reflection,
    refused,
    rendering,
    sandboxed,
    sniffs_as_html,
    starts_body,
    tag,
)
from probe.report import Report
from tests.probes import apps_injection_xss as apps
from tests.scan import scenario
from tests.servers import serve_asgi

TOKEN = "prb0123456789abcdef"
XSS_ONLY = {"injection": {"families": ["xss"]}}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """One server with every route of the xss test app."""
    with serve_asgi(apps.app()) as base:
        yield base


def query(path: str) -> dict[str, Any]:
    """A GET endpoint with the query parameter `q` as its injection point."""
    return {"path": path, "query": {"q": "hello"}, "inject": ["q"]}


def scan(url: str, *endpoints: dict[str, Any]) -> tuple[Report, Scan]:
    """Run only the injection probe's xss family."""
    engine = Scan(scenario(url, list(endpoints), probes=XSS_ONLY), probes=["injection"])
    return anyio.run(engine.run), engine


def only_finding(report: Report) -> Finding:
    """The report's single finding, which must be reflected XSS."""
    assert [f.rule for f in report.findings] == ["injection.reflected-xss"]
    return report.findings[0]


def xss_check(report: Report) -> CheckResult:
    """The single xss check of the report."""
    found = [c for c in report.checks if c.probe == "injection" and c.check == "xss"]
    assert len(found) == 1, found
    return found[0]


def assert_clean(report: Report) -> CheckResult:
    """No finding, and a passed xss check."""
    assert report.findings == []
    check = xss_check(report)
    assert check.status is CheckStatus.passed, check.detail
    return check


def answer(
    body: str = "", content_type: str | None = "text/html", status: int = 200, **headers: str
) -> ResponseRecord:
    """A response record for the judges."""
    lines = [(k.replace("_", "-"), v) for k, v in headers.items()]
    if content_type is not None:
        lines.insert(0, ("Content-Type", content_type))
    return ResponseRecord(status, "HTTP/1.1", tuple(lines), body.encode())


# -- where the tag lands -------------------------------------------------------------------------


def test_tag_in_page_text_is_live() -> None:
    body = f"<html><body><p>Results for {payload(TOKEN)}</p></body></html>"
    seen = reflection(body, TOKEN)
    assert seen.live
    assert body[seen.index :].startswith(tag(TOKEN))


def test_tag_inside_a_comment_is_no_tag() -> None:
    seen = reflection(f"<p>hi</p><!-- q={tag(TOKEN)} --><p>bye</p>", TOKEN)
    assert seen.raw
    assert not seen.live
    assert seen.inside == "an HTML comment"


def test_tag_inside_a_quoted_attribute_is_no_tag() -> None:
    value = payload(TOKEN).replace('"', "&quot;")
    seen = reflection(f'<input name="q" value="{value}">', TOKEN)
    assert seen.raw
    assert not seen.live
    assert seen.inside == "an attribute value"


def test_tag_that_breaks_out_of_an_attribute_is_live() -> None:
    assert reflection(f'<input value="{payload(TOKEN)}">', TOKEN).live
    assert reflection(f"<input value='{payload(TOKEN)}'>", TOKEN).live


@pytest.mark.parametrize("element", ["textarea", "title", "script", "style", "noscript"])
def test_tag_inside_a_text_element_is_no_tag(element: str) -> None:
    seen = reflection(f"<{element}>{payload(TOKEN)}</{element}><p>after</p>", TOKEN)
    assert seen.raw
    assert not seen.live
    assert seen.container == element


def test_closing_the_text_element_first_makes_the_tag_live() -> None:
    seen = reflection(f"<textarea>{payload(TOKEN, 'textarea')}</textarea>", TOKEN)
    assert seen.live


def test_encoded_stripped_and_absent_reflections_are_told_apart() -> None:
    encoded = reflection(f"<p>{html.escape(payload(TOKEN))}</p>", TOKEN)
    assert encoded.encoded
    assert not encoded.raw
    assert reflection(f'{{"q": "\\u003c{TOKEN} {TOKEN}=1\\u003e"}}', TOKEN).encoded
    stripped = reflection(f"<p>{TOKEN} {TOKEN}=1</p>", TOKEN)
    assert stripped.echoed
    assert not stripped.raw
    assert not reflection("<p>nothing</p>", TOKEN).echoed


@given(before=st.text(max_size=200), after=st.text(max_size=200))
def test_html_escaped_payload_is_never_a_tag(before: str, after: str) -> None:
    body = html.escape(before) + html.escape(payload(TOKEN)) + html.escape(after)
    seen = reflection(body, TOKEN)
    assert not seen.raw
    assert not seen.live


@given(words=st.text(alphabet=st.characters(exclude_characters="<&"), max_size=200))
def test_raw_payload_in_page_text_is_always_a_tag(words: str) -> None:
    assert reflection(f"<div><p>{words}{payload(TOKEN)}{words}</p></div>", TOKEN).live


# -- how a browser shows the answer --------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "severity"),
    [
        (answer("<p>x</p>", "text/html; charset=utf-8"), Severity.high),
        (answer('{"q": "x"}', "text/html", X_Content_Type_Options="nosniff"), Severity.high),
        (answer("<html><body>x", None), Severity.medium),
        (answer("  <!DOCTYPE html><p>x", "unknown/unknown"), Severity.medium),
        (answer("Results: x", None), Severity.info),
        (answer("<html>x", None, X_Content_Type_Options="nosniff"), None),
        (answer('{"q": "x"}', "application/json"), None),
        (answer('{"q": "x"}', "application/problem+json"), None),
        (answer("<svg>x</svg>", "image/svg+xml"), Severity.high),
        (answer("<a>x</a>", "text/xml"), Severity.info),
        (answer('{"q": "x"}', "application/json", X_Content_Type_Options="nosniff"), None),
        (answer("x", "text/plain"), None),
        (answer("x", "text/plain", X_Content_Type_Options="nosniff"), None),
        (answer("<p>x</p>", "text/html", 302, Location="/next"), None),
        (answer("<p>x</p>", "text/html", Content_Disposition="attachment; a.html"), None),
    ],
)
def test_rendering_follows_type_sniffing_and_nosniff(
    record: ResponseRecord, severity: Severity | None
) -> None:
    assert rendering(record).severity is severity


def test_untyped_body_that_the_reflection_starts_is_sniffable() -> None:
    body = f"{payload(TOKEN)} was not found"
    assert starts_body(body, TOKEN)
    assert rendering(answer(body, None), starts_body=True).severity is Severity.medium


def test_html_signatures_need_a_tag_end() -> None:
    assert sniffs_as_html(b"\n\t <HTML lang='en'>")
    assert sniffs_as_html(b"<!-- x -->")
    assert not sniffs_as_html(b"<abbr>x</abbr>")
    assert not sniffs_as_html(b'{"html": "<p>"}')


def test_lower_takes_one_level_and_keeps_info() -> None:
    assert lower(Severity.high) is Severity.medium
    assert lower(Severity.info) is Severity.info


# -- real routes ---------------------------------------------------------------------------------


def test_html_reflection_is_high_and_firm(url: str) -> None:
    report, _ = scan(url, query("/html"))
    found = only_finding(report)
    assert found.severity is Severity.high
    assert found.confidence is Confidence.firm
    assert found.parameter == "q"
    assert "=1>" in found.evidence[0].body_excerpt
    assert found.reproduce
    assert "/html?q=prb" in found.reproduce
    assert xss_check(report).status is CheckStatus.failed


def test_path_parameter_reflection_is_found(url: str) -> None:
    endpoint = {"path": "/items/{name}", "path_params": {"name": "abc"}, "inject": ["name"]}
    report, _ = scan(url, endpoint)
    assert only_finding(report).severity is Severity.high


def test_form_field_reflection_is_found(url: str) -> None:
    endpoint = {"method": "POST", "path": "/comments", "form": {"text": "hi"}, "inject": ["text"]}
    report, _ = scan(url, endpoint)
    assert only_finding(report).severity is Severity.high


def test_escaped_output_is_clean(url: str) -> None:
    check = assert_clean(scan(url, query("/escaped"))[0])
    assert "encoded" in check.detail


def test_json_reflection_with_nosniff_is_not_reported(url: str) -> None:
    check = assert_clean(scan(url, query("/json"))[0])
    assert "application/json, which browsers show as data" in check.detail


def test_json_reflection_is_not_xss_even_without_nosniff(url: str) -> None:
    check = assert_clean(scan(url, query("/json-sniffable"))[0])
    assert "browsers show as data" in check.detail


def test_json_served_as_html_is_high(url: str) -> None:
    found = only_finding(scan(url, query("/json-as-html"))[0])
    assert found.severity is Severity.high
    assert "text/html" in found.detail


def test_untyped_html_body_is_medium(url: str) -> None:
    found = only_finding(scan(url, query("/untyped"))[0])
    assert found.severity is Severity.medium
    assert "sniff as HTML" in found.detail


def test_untyped_and_plain_bodies_with_nosniff_are_clean(url: str) -> None:
    report, _ = scan(url, query("/untyped-nosniff"), query("/plain"))
    assert report.findings == []
    checks = [c for c in report.checks if c.check == "xss"]
    assert [c.status for c in checks] == [CheckStatus.passed] * 2


def test_raw_tag_inside_an_encoded_attribute_is_clean(url: str) -> None:
    check = assert_clean(scan(url, query("/attribute"))[0])
    assert "attribute value" in check.detail


def test_filtered_textarea_and_comment_are_clean(url: str) -> None:
    report, _ = scan(url, query("/textarea"), query("/comment"))
    assert report.findings == []
    details = " ".join(c.detail for c in report.checks if c.check == "xss")
    assert "inside a <textarea>" in details
    assert "inside an HTML comment" in details


def test_textarea_that_can_be_closed_is_found(url: str) -> None:
    report, _ = scan(url, query("/textarea-open"))
    found = only_finding(report)
    assert found.severity is Severity.high
    assert "</textarea>" in found.evidence[0].request
    assert "closing <textarea> first" in xss_check(report).detail


def test_redirect_body_is_not_reported(url: str) -> None:
    check = assert_clean(scan(url, query("/redirect"))[0])
    assert "redirect" in check.detail


def test_page_that_ignores_input_is_clean(url: str) -> None:
    check = assert_clean(scan(url, query("/same"))[0])
    assert "not reflected" in check.detail


def test_header_and_json_field_reflections_are_one_level_lower(url: str) -> None:
    header = {"path": "/client", "headers": {"X-Client": "web"}, "inject": ["X-Client"]}
    body = {"method": "POST", "path": "/render", "json": {"name": "bob"}, "inject": ["name"]}
    report, _ = scan(url, header, body)
    assert len(report.findings) == 2
    for found in report.findings:
        assert found.severity is Severity.medium
        assert "one level lower" in found.detail


def test_reflection_that_does_not_come_back_is_tentative(url: str) -> None:
    found = only_finding(scan(url, query("/once"))[0])
    assert found.confidence is Confidence.tentative
    assert "did not come back" in found.detail


def test_rate_limited_confirmation_leaves_a_tentative_finding(url: str) -> None:
    report, _ = scan(url, query("/then-busy"))
    assert only_finding(report).confidence is Confidence.tentative
    check = xss_check(report)
    assert check.status is CheckStatus.failed
    assert "HTTP 429 twice" in check.detail


def test_safe_point_costs_one_request_after_the_baselines(url: str) -> None:
    _, engine = scan(url, query("/escaped"))
    sent = [e for e in engine.exchanges() if e.probe == "injection"]
    assert len(sent) == 4
    assert sum("xss" in e.purpose for e in sent) == 1


# -- pages the standard library's HTML reader fails on ------------------------------------------

LEGACY = "<div><![ CDATA[ imported from the old CMS ]]></div>"


def test_reader_failure_after_a_textarea_reflection_keeps_it_text() -> None:
    seen = reflection(f"<textarea>{payload(TOKEN)}</textarea>{LEGACY}", TOKEN)
    assert seen.raw
    assert not seen.live
    assert seen.container == "textarea"


def test_reader_failure_before_the_reflection_is_read_as_a_browser_does() -> None:
    assert reflection(f"{LEGACY}<p>{payload(TOKEN)}</p>", TOKEN).live
    assert not reflection(f"{LEGACY}<textarea>{payload(TOKEN)}</textarea>", TOKEN).live
    # A browser ends `<![ ...` at the first `>`: the tag after it is live, one inside is not.
    assert reflection(f"<![ x <b>{payload(TOKEN)}", TOKEN).live
    inside = reflection(f"<![ x {tag(TOKEN)} ]]>", TOKEN)
    assert not inside.live
    assert "comment" in inside.inside


def test_page_the_reader_cannot_get_through_is_never_live() -> None:
    seen = reflection("<![ x >" * 40 + f"<p>{payload(TOKEN)}</p>", TOKEN)
    assert seen.raw
    assert seen.unread
    assert not seen.live
    assert "not counted" in seen.describe()


@given(junk=st.text(alphabet="<![]>-x \n", max_size=60))
def test_reader_failures_never_make_a_text_element_reflection_live(junk: str) -> None:
    body = f"<textarea>{payload(TOKEN).replace('</', '')}</textarea>{junk}"
    assert not reflection(body, TOKEN).live


# -- types, sandboxes, refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    "ctype",
    ["text/csv", "application/octet-stream", "application/pdf", "image/png", "font/woff2"],
)
def test_types_no_browser_renders_as_html_are_not_reported(ctype: str) -> None:
    shown = rendering(answer("<p>x</p>", ctype))
    assert shown.severity is None
    assert "no current browser renders as HTML" in shown.how


@pytest.mark.parametrize("ctype", ["application/xml", "text/xml", "application/atom+xml"])
def test_xml_without_nosniff_stays_info(ctype: str) -> None:
    assert rendering(answer("<a>x</a>", ctype)).severity is Severity.info
    assert rendering(answer("<a>x</a>", ctype, X_Content_Type_Options="nosniff")).severity is None


def test_invalid_content_type_is_sniffed_like_none() -> None:
    shown = rendering(answer("<html><body>x", "html"))
    assert shown.severity is Severity.medium
    assert "invalid content type `html`" in shown.how
    assert rendering(answer("x,y", "html")).severity is Severity.info


@pytest.mark.parametrize(
    ("policy", "blocked"),
    [
        ("sandbox", True),
        ("default-src 'none'; sandbox allow-forms;", True),
        ("SANDBOX allow-same-origin", True),
        ("sandbox allow-scripts", False),
        ("default-src 'self'", False),
        ("script-src 'none'; ; sandbox-x", False),
    ],
)
def test_csp_sandbox_without_allow_scripts_blocks_scripts(policy: str, blocked: bool) -> None:
    record = answer("<p>x</p>", Content_Security_Policy=policy)
    assert sandboxed(record) is blocked


def test_report_only_sandbox_blocks_nothing() -> None:
    record = answer("<p>x</p>", Content_Security_Policy_Report_Only="sandbox")
    assert not sandboxed(record)


def test_refusal_is_an_error_where_the_baseline_succeeds() -> None:
    assert refused(400, 200)
    assert refused(500, 204)
    assert not refused(200, 200)
    assert not refused(404, 404)


def test_payload_without_quotes_keeps_only_the_tag() -> None:
    assert payload(TOKEN, quotes=False) == f"<{TOKEN} {TOKEN}=1>"
    assert payload(TOKEN, "title", quotes=False) == f"</title><{TOKEN} {TOKEN}=1>"


# -- real routes: fixed false positives and the findings beside them ----------------------------


def test_reader_failure_on_a_filtered_textarea_page_is_clean(url: str) -> None:
    check = assert_clean(scan(url, query("/legacy-textarea"))[0])
    assert "inside a <textarea>" in check.detail


def test_raw_reflection_after_a_legacy_section_is_found(url: str) -> None:
    found = only_finding(scan(url, query("/legacy"))[0])
    assert found.severity is Severity.high
    assert found.confidence is Confidence.firm


def put(path: str) -> dict[str, Any]:
    """A PUT endpoint with the query parameter `lang` as its injection point."""
    return {"method": "PUT", "path": path, "query": {"lang": "en"}, "inject": ["lang"]}


def test_put_endpoint_reflection_is_one_level_lower(url: str) -> None:
    found = only_finding(scan(url, put("/settings"))[0])
    assert found.severity is Severity.medium
    assert "the endpoint takes PUT" in found.detail
    assert "one level lower" in found.detail


def test_escaped_put_endpoint_is_clean(url: str) -> None:
    assert_clean(scan(url, put("/settings-escaped"))[0])


def test_sandbox_without_scripts_is_one_level_lower(url: str) -> None:
    report, _ = scan(url, query("/sandboxed"), query("/sandboxed-scripts"))
    found = {f.endpoint: f for f in report.findings}
    assert found["GET /sandboxed"].severity is Severity.medium
    assert "sandboxes it without `allow-scripts`" in found["GET /sandboxed"].detail
    assert found["GET /sandboxed-scripts"].severity is Severity.high
    assert "sandbox" not in found["GET /sandboxed-scripts"].detail


def test_tag_alone_finds_a_reflection_behind_a_quote_filter(url: str) -> None:
    report, _ = scan(url, query("/quotes-refused"))
    found = only_finding(report)
    assert found.severity is Severity.high
    assert found.confidence is Confidence.firm
    assert "'" not in found.evidence[0].request.split("\n")[0]
    detail = xss_check(report).detail
    assert "quotes: refused (HTTP 400" in detail
    assert "the marker's tag alone: reflected unencoded as a tag" in detail


def test_quote_filter_with_escaped_output_is_clean_and_says_refused(url: str) -> None:
    check = assert_clean(scan(url, query("/quotes-refused-escaped"))[0])
    assert "quotes: refused (HTTP 400" in check.detail
    assert "not reflected" not in check.detail
    assert "the marker's tag alone: reflected encoded" in check.detail


def test_only_xml_and_untyped_bodies_are_reported_among_other_types(url: str) -> None:
    typed = [query(f"/typed/{t.replace('/', '-')}") for t in apps.TYPES]
    report, _ = scan(url, *typed, query("/typed/application-xml-nosniff"))
    severities = {f.endpoint: f.severity for f in report.findings}
    assert severities == {
        "GET /typed/application-xml": Severity.info,
        "GET /typed/application-rss+xml": Severity.info,
        "GET /typed/html": Severity.info,
    }
    details = {c.endpoint: c.detail for c in report.checks if c.check == "xss"}
    assert "text/csv, which no current browser renders as HTML" in details["GET /typed/text-csv"]


# -- attribute breakout, case and cut reflections -----------------------------------------------


def test_payload_that_leaves_a_quoted_attribute_is_an_injected_attribute() -> None:
    raw_quotes = html.escape(payload(TOKEN), quote=False)
    for body in (f'<input value="{raw_quotes}">', f"<input value='{raw_quotes}'>"):
        seen = reflection(body, TOKEN)
        assert seen.live
        assert seen.injected
        assert not seen.raw
        assert body[seen.index :].startswith("<input")


def test_space_in_an_unquoted_attribute_injects_an_attribute() -> None:
    seen = reflection(f"<input value={html.escape(payload(TOKEN))}>", TOKEN)
    assert seen.live
    assert "attribute injected" in seen.describe()


@given(before=st.text(max_size=100), quote=st.sampled_from(["'", '"']))
def test_fully_escaped_quoted_attribute_never_gets_an_attribute(before: str, quote: str) -> None:
    value = html.escape(before + payload(TOKEN))
    seen = reflection(f"<p>x</p><input name=q value={quote}{value}{quote}><p>y</p>", TOKEN)
    assert not seen.live
    assert not seen.injected


def test_injected_attribute_inside_a_textarea_is_text() -> None:
    seen = reflection(f"<textarea><b {TOKEN}=1></b></textarea>", TOKEN)
    assert not seen.live
    assert not seen.injected


def test_upper_cased_tag_is_still_a_tag() -> None:
    assert reflection(f"<h1>{payload(TOKEN).upper()}</h1>", TOKEN).live
    inside = reflection(f"<!-- {payload(TOKEN).upper().replace('-->', '')} -->", TOKEN)
    assert inside.raw
    assert not inside.live


def test_tag_alone_with_a_short_token_fits_forty_characters() -> None:
    assert len(payload("prb0123abcd" + "ef", quotes=False)) <= 31


def test_attribute_breakouts_are_found(url: str) -> None:
    report, _ = scan(url, query("/attribute-quotes-raw"), query("/attribute-unquoted"))
    assert [f.rule for f in report.findings] == ["injection.reflected-xss"] * 2
    for found in report.findings:
        assert found.severity is Severity.high
        assert found.confidence is Confidence.firm
        assert "attribute injected" in found.detail


def test_attributes_the_value_cannot_leave_are_clean(url: str) -> None:
    report, _ = scan(url, query("/attribute-escaped"), query("/attribute-single-escaped"))
    assert report.findings == []
    checks = [c for c in report.checks if c.check == "xss"]
    assert [c.status for c in checks] == [CheckStatus.passed] * 2


def test_upper_cased_reflection_is_found_and_its_escaped_twin_is_clean(url: str) -> None:
    report, _ = scan(url, query("/shouted"), query("/shouted-escaped"))
    assert [f.endpoint for f in report.findings] == ["GET /shouted"]
    assert report.findings[0].severity is Severity.high
    details = {c.endpoint: c.detail for c in report.checks if c.check == "xss"}
    assert "reflected encoded" in details["GET /shouted-escaped"]


def test_reflection_cut_to_forty_characters_is_found_by_the_tag_alone(url: str) -> None:
    report, _ = scan(url, query("/cut"), query("/cut-escaped"))
    assert [f.endpoint for f in report.findings] == ["GET /cut"]
    assert report.findings[0].confidence is Confidence.firm
    details = {c.endpoint: c.detail for c in report.checks if c.check == "xss"}
    assert "the marker's tag alone: reflected unencoded as a tag" in details["GET /cut"]
    assert "the marker's tag alone: reflected encoded" in details["GET /cut-escaped"]
