"""The headers probe against real Starlette apps under uvicorn (HTTPS from a trustme CA).

A weak API and its hardened twin: every rule has a true-positive test on the weak app and a
false-positive test on the twin. Then one test per situation seen in the field, on an app that
sends exact raw header lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

from probe.findings import CheckStatus, Finding, Severity
from probe.probes.header_rules import RULES
from probe.probes.headers import HeadersProbe
from probe.report import Report
from tests.probes import apps_headers as apps
from tests.probes.apps_headers import HTML_BODY, JSON_BODY, field, field_raw
from tests.scan import run, scenario
from tests.servers import serve_asgi

ALICE = {"alice": {"token": apps.TOKEN}}


@dataclass(frozen=True)
class Tls:
    """A CA bundle to trust and a certificate (key included) for 127.0.0.1."""

    ca: str
    cert: str


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("tls")
    ca_path, cert_path = folder / "ca.pem", folder / "cert.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    return Tls(str(ca_path), str(cert_path))


def _serve_tls(app: Any, tls: Tls) -> Any:
    return serve_asgi(app, server_header=False, ssl_certfile=tls.cert, ssl_keyfile=tls.cert)


def _scan(url: str, tls: Tls | None, endpoints: list[dict[str, Any]], **extra: Any) -> Report:
    target = {"verify_tls": tls.ca} if tls else {}
    extra.setdefault("identities", ALICE)
    scn = scenario(url, endpoints, target=target, **extra)
    return run(scn, probes=["headers"])


def finding(report: Report, rule: str) -> Finding | None:
    """The report's finding of a rule (the probe reports at most one per rule)."""
    found = [f for f in report.findings if f.rule == f"headers.{rule}"]
    assert len(found) <= 1
    return found[0] if found else None


def affected(found: Finding | None) -> set[str]:
    """Every endpoint a finding names."""
    if found is None:
        return set()
    return {found.endpoint} if found.endpoint else set(found.affected)


def check(report: Report, name: str, endpoint: str) -> tuple[CheckStatus, str]:
    """Status and detail of one headers check at one endpoint."""
    for result in report.checks:
        if result.probe == "headers" and result.check == name and result.endpoint == endpoint:
            return result.status, result.detail
    raise AssertionError(f"no {name} check at {endpoint}")


# -- the weak API and its hardened twin --------------------------------------------------------


@dataclass(frozen=True)
class Scanned:
    """A report and how many orders the POST endpoint created during the scan."""

    report: Report
    orders_created: int


def _scan_app(app: Any, tls: Tls) -> Scanned:
    before = apps.APP_STATE["orders_created"]
    with _serve_tls(app, tls) as url:
        report = _scan(url, tls, apps.endpoints())
    return Scanned(report, apps.APP_STATE["orders_created"] - before)


@pytest.fixture(scope="module")
def weak(tls: Tls) -> Scanned:
    return _scan_app(apps.weak_app(), tls)


@pytest.fixture(scope="module")
def hardened(tls: Tls) -> Scanned:
    return _scan_app(apps.hardened_app(), tls)


# rule, an endpoint of the weak app it must name, its severity, and text its detail shows
WEAK_CASES = [
    ("hsts-missing", "GET /api/items", Severity.low, "no Strict-Transport-Security"),
    ("hsts-invalid", "GET /api/broken", Severity.low, "max-age"),
    ("hsts-disabled", "GET /page", Severity.low, "max-age=0"),
    ("hsts-short", "GET /api/short", Severity.low, "below one year"),
    ("hsts-multiple", "GET /api/dup", Severity.low, "disagree"),
    ("nosniff-missing", "GET /api/items", Severity.low, "X-Content-Type-Options"),
    ("framing-missing", "GET /page", Severity.medium, "X-Frame-Options"),
    ("csp-missing", "GET /page", Severity.low, "no Content-Security-Policy"),
    ("csp-unsafe", "GET /page-unsafe-csp", Severity.low, "unsafe-inline"),
    ("csp-report-only", "GET /page-report-only", Severity.low, "enforces nothing"),
    ("referrer-policy-missing", "GET /page", Severity.info, "Referrer-Policy"),
    ("permissions-policy-missing", "GET /page", Severity.info, "Permissions-Policy"),
    ("cache-public", "GET /account", Severity.medium, "public"),
    ("cache-missing", "GET /me", Severity.low, "no Cache-Control"),
    ("cache-weak", "GET /profile", Severity.low, "lacks no-store"),
    ("cors-reflected-origin", "GET /api/items", Severity.high, "reflected"),
    ("cors-null-origin", "GET /api/null-cors", Severity.high, "null origin"),
    ("cors-wildcard-credentials", "GET /api/wild-creds", Severity.low, "browsers refuse"),
    ("cors-any-origin", "GET /api/public", Severity.info, "ACAO: *"),
    ("version-banner", "GET /api/items", Severity.low, "Apache/2.4.41"),
    ("cookie-no-secure", "GET /login-page", Severity.low, "session lacks Secure"),
    ("cookie-no-httponly", "GET /login-page", Severity.low, "session lacks HttpOnly"),
    ("cookie-no-samesite", "GET /login-page", Severity.low, "session lacks SameSite"),
    ("json-content-type", "GET /api/legacy", Severity.medium, "served as text/html"),
]


@pytest.mark.parametrize(("rule", "endpoint", "severity", "text"), WEAK_CASES)
def test_weak_api_is_reported(
    weak: Scanned, rule: str, endpoint: str, severity: Severity, text: str
) -> None:
    found = finding(weak.report, rule)
    assert found is not None, f"headers.{rule} not reported"
    assert endpoint in affected(found)
    assert found.severity == severity
    notes = " ".join(e.note or "" for e in found.evidence)
    assert text in found.detail + notes


def test_every_rule_has_a_weak_case() -> None:
    assert {f"headers.{case[0]}" for case in WEAK_CASES} == {rule.id for rule in RULES}


@pytest.mark.parametrize("rule", [r.id for r in RULES])
def test_hardened_twin_satisfies_rule(hardened: Scanned, rule: str) -> None:
    assert [f.rule for f in hardened.report.findings if f.rule == rule] == []


def test_hardened_twin_has_no_finding_and_passes_its_checks(hardened: Scanned) -> None:
    assert hardened.report.findings == []
    statuses = {c.status for c in hardened.report.checks if c.probe == "headers"}
    assert CheckStatus.failed not in statuses
    assert CheckStatus.error not in statuses
    assert check(hardened.report, "cors", "GET /api/items")[0] == CheckStatus.passed


def test_one_finding_per_rule_lists_every_affected_endpoint(weak: Scanned) -> None:
    found = finding(weak.report, "nosniff-missing")
    assert found is not None
    assert found.endpoint is None
    assert {"GET /api/items", "GET /page", "GET /me"} <= set(found.affected)
    assert 1 <= len(found.evidence) <= 2


def test_json_responses_are_not_flagged_for_framing_or_csp(weak: Scanned) -> None:
    for rule in ("framing-missing", "csp-missing", "referrer-policy-missing"):
        assert "GET /api/items" not in affected(finding(weak.report, rule))
    status, detail = check(weak.report, "framing", "GET /api/items")
    assert status == CheckStatus.skipped
    assert "not an HTML document" in detail


def test_allow_from_counts_as_missing_framing_protection(weak: Scanned) -> None:
    assert "GET /page-allow-from" in affected(finding(weak.report, "framing-missing"))


def test_report_only_policy_is_not_also_reported_missing(weak: Scanned) -> None:
    assert "GET /page-report-only" not in affected(finding(weak.report, "csp-missing"))


def test_csp_unsafe_names_every_weakness(weak: Scanned) -> None:
    found = finding(weak.report, "csp-unsafe")
    assert found is not None
    for text in ("unsafe-inline", "unsafe-eval", "wildcard source *"):
        assert text in found.detail


def test_unsafe_method_gets_a_preflight_not_a_second_request(weak: Scanned) -> None:
    assert weak.orders_created == 1  # the engine's baseline only
    assert "POST /cors-api/orders" in affected(finding(weak.report, "cors-reflected-origin"))


def test_csrf_cookie_is_not_asked_for_httponly(weak: Scanned) -> None:
    found = finding(weak.report, "cookie-no-httponly")
    assert found is not None
    assert found.parameter == "Set-Cookie: session"


def test_evidence_shows_the_offending_header(weak: Scanned) -> None:
    found = finding(weak.report, "hsts-disabled")
    assert found is not None
    assert "Strict-Transport-Security: max-age=0" in found.evidence[0].body_excerpt
    assert found.reproduce is not None
    assert found.reproduce.startswith("curl")


def test_cookie_values_never_reach_the_report(weak: Scanned) -> None:
    found = finding(weak.report, "cookie-no-secure")
    assert found is not None
    assert "session=[redacted]" in found.evidence[0].body_excerpt
    assert "s3cr3t-session-value" not in weak.report.model_dump_json()


def test_every_endpoint_gets_a_check_per_family(weak: Scanned) -> None:
    families = {
        "hsts",
        "nosniff",
        "framing",
        "csp",
        "referrer-policy",
        "permissions-policy",
        "cache-control",
        "cors",
        "version-banner",
        "cookies",
        "json-content-type",
    }
    for endpoint in weak.report.endpoints:
        seen = {c.check for c in weak.report.checks if c.endpoint == endpoint}
        assert families <= seen, endpoint
    status, detail = check(weak.report, "cache-control", "GET /api/items")
    assert status == CheckStatus.skipped
    assert "without credentials" in detail


def test_plan_lists_the_cors_requests_without_sending() -> None:
    scn = scenario(
        "http://127.0.0.1:9",
        [{"path": "/a", "identity": "alice"}, {"method": "POST", "path": "/b", "json": {}}],
        identities=ALICE,
        probes={"headers": {"cors_origin": "https://chosen.invalid"}},
    )
    lines = HeadersProbe().plan(scn)
    assert lines[0].startswith(
        "headers: GET http://127.0.0.1:9/a as alice with Origin: https://chosen"
    )
    assert lines[1].startswith("headers: OPTIONS http://127.0.0.1:9/b (preflight for POST")


# -- situations seen in the field --------------------------------------------------------------

GOOD_HTML: apps.Lines = [
    ("Strict-Transport-Security", "max-age=63072000"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=()"),
]
UPPER = field(
    "upper",
    [
        ("STRICT-TRANSPORT-SECURITY", "MAX-AGE=63072000; INCLUDESUBDOMAINS"),
        ("X-CONTENT-TYPE-OPTIONS", "NOSNIFF"),
        ("x-FRAME-options", "sameOrigin"),
        ("CONTENT-SECURITY-POLICY", "DEFAULT-SRC 'SELF'"),
        ("REFERRER-POLICY", "NO-REFERRER"),
        ("PERMISSIONS-POLICY", "camera=()"),
        ("SET-COOKIE", "id=1; SECURE; HTTPONLY; SAMESITE=STRICT"),
    ],
    html=True,
)
LOWER = field(
    "lower",
    [(name.lower(), value) for name, value in GOOD_HTML]
    + [("set-cookie", "id=1; secure; httponly; samesite=lax")],
    html=True,
)
TWO_HSTS = field(
    "two-hsts",
    [("Strict-Transport-Security", "max-age=0"), ("Strict-Transport-Security", "max-age=63072000")],
)
REPEATED = field("repeated", [("Strict-Transport-Security", "max-age=63072000; max-age=63072000")])
ZERO = field("zero", [("Strict-Transport-Security", "max-age=0; includeSubDomains")])
MALFORMED = field("malformed", [("Strict-Transport-Security", "max-age=63072000x")])
HUGE = field("huge", [("Strict-Transport-Security", "max-age=" + "9" * 40)])
PLAIN = field("plain", [("Strict-Transport-Security", "max-age=63072000"), *GOOD_HTML[1:]])
REDIRECT = field_raw("redirect", 302, None, "", [("Location", "/h/huge")])
JSON_404 = field_raw("json-404", 404, "application/json", '{"error": "not found"}', [])
HTML_404 = field_raw("html-404", 404, "text/html", HTML_BODY, [])
BARE_HTML = field("bare-html", [], html=True)
META = field_raw(
    "meta",
    200,
    "text/html",
    "<!doctype html><html><head><meta charset=utf-8>"
    '<meta http-equiv="Content-Security-Policy" content="default-src \'self\'; '
    "frame-ancestors 'none'\"><title>m</title></head><body>x</body></html>",
    GOOD_HTML[:2],
)
REPORT_ONLY = field(
    "report-only",
    [*GOOD_HTML[:2], ("Content-Security-Policy-Report-Only", "default-src 'self'")],
    html=True,
)
FIXED_ORIGIN = field(
    "fixed-origin",
    [
        ("Access-Control-Allow-Origin", apps.TRUSTED_ORIGIN),
        ("Access-Control-Allow-Credentials", "true"),
    ],
)
CACHE = {
    "public": field("cache-public", [("Cache-Control", "public, max-age=60")]),
    "s-maxage": field("cache-s-maxage", [("Cache-Control", "s-maxage=60")]),
    "none": field("cache-none", []),
    "no-cache": field("cache-no-cache", [("Cache-Control", "no-cache")]),
    "no-store": field("cache-no-store", [("Cache-Control", "private, NO-STORE")]),
}


@pytest.fixture(scope="module")
def field_url(tls: Tls) -> Iterator[str]:
    with _serve_tls(apps.field_app(), tls) as url:
        yield url


@pytest.fixture(scope="module")
def plain_url() -> Iterator[str]:
    with serve_asgi(apps.field_app(), server_header=False) as url:
        yield url


def _field_scan(url: str, tls: Tls | None, *paths: str, **endpoint: Any) -> Report:
    return _scan(url, tls, [{"path": p, **endpoint} for p in paths])


def test_header_names_and_tokens_in_any_ascii_case_count(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, UPPER)
    assert report.findings == []
    assert check(report, "hsts", f"GET {UPPER}")[0] == CheckStatus.passed
    assert check(report, "cookies", f"GET {UPPER}")[0] == CheckStatus.passed


def test_http2_style_lower_case_names_count(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, LOWER)
    assert report.findings == []


def test_two_hsts_lines_are_low_and_only_the_first_counts(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, TWO_HSTS)
    multiple = finding(report, "hsts-multiple")
    assert multiple is not None
    assert multiple.severity == Severity.low
    assert finding(report, "hsts-disabled") is not None  # the first line, max-age=0, rules


def test_repeated_directives_in_one_line_are_no_hsts(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, REPEATED)
    found = finding(report, "hsts-invalid")
    assert found is not None
    assert "twice" in found.detail


def test_max_age_zero_switches_hsts_off(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, ZERO)
    assert finding(report, "hsts-disabled") is not None
    assert check(report, "hsts", f"GET {ZERO}")[0] == CheckStatus.failed


def test_malformed_hsts_counts_as_absent(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, MALFORMED)
    assert finding(report, "hsts-invalid") is not None
    assert finding(report, "hsts-short") is None


def test_very_large_max_age_is_fine(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, HUGE)
    assert [f.rule for f in report.findings if f.rule.startswith("headers.hsts")] == []
    assert check(report, "hsts", f"GET {HUGE}")[0] == CheckStatus.passed


def test_hsts_over_plain_http_is_never_credited(plain_url: str) -> None:
    report = _field_scan(plain_url, None, PLAIN)
    status, detail = check(report, "hsts", f"GET {PLAIN}")
    assert status == CheckStatus.skipped
    assert "ignored" in detail
    assert not any(c.status == CheckStatus.passed for c in report.checks if c.check == "hsts")


def test_redirects_errors_head_and_options_are_at_most_info(field_url: str, tls: Tls) -> None:
    endpoints = [
        {"path": REDIRECT},
        {"path": JSON_404},
        {"method": "HEAD", "path": BARE_HTML},
        {"method": "OPTIONS", "path": BARE_HTML},
    ]
    report = _scan(field_url, tls, endpoints)
    assert report.findings, "missing headers there are still reported, as info"
    assert {f.severity for f in report.findings} == {Severity.info}


def test_html_error_page_is_at_most_low(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, HTML_404)
    assert finding(report, "framing-missing") is not None
    assert max(f.severity.rank for f in report.findings) == Severity.low.rank


def test_missing_framing_on_a_2xx_html_page_is_medium(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, BARE_HTML)
    found = finding(report, "framing-missing")
    assert found is not None
    assert found.severity == Severity.medium


def test_meta_csp_counts_except_frame_ancestors(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, META)
    assert finding(report, "csp-missing") is None
    assert finding(report, "csp-unsafe") is None
    framing = finding(report, "framing-missing")
    assert framing is not None  # frame-ancestors in <meta> is ignored by browsers


def test_report_only_alone_enforces_nothing(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, REPORT_ONLY)
    assert finding(report, "csp-report-only") is not None
    assert finding(report, "csp-missing") is None


def test_fixed_trusted_origin_is_fine(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, FIXED_ORIGIN)
    assert [f.rule for f in report.findings if f.rule.startswith("headers.cors")] == []
    assert check(report, "cors", f"GET {FIXED_ORIGIN}")[0] == CheckStatus.passed


def test_configured_cors_origin_is_the_one_sent(field_url: str, tls: Tls) -> None:
    reflect = field_raw(
        "reflect-fixed",
        200,
        "application/json",
        JSON_BODY,
        [
            ("Access-Control-Allow-Origin", "https://chosen.invalid"),
            ("Access-Control-Allow-Credentials", "true"),
        ],
    )
    config = {"headers": {"cors_origin": "https://chosen.invalid"}}
    report = _scan(field_url, tls, [{"path": reflect}], probes=config)
    assert finding(report, "cors-reflected-origin") is not None


@pytest.mark.parametrize(
    ("case", "rule", "severity"),
    [
        ("public", "cache-public", Severity.medium),
        ("s-maxage", "cache-public", Severity.medium),
        ("none", "cache-missing", Severity.low),
        ("no-cache", "cache-weak", Severity.info),
    ],
)
def test_caching_of_authenticated_answers(
    field_url: str, tls: Tls, case: str, rule: str, severity: Severity
) -> None:
    report = _field_scan(field_url, tls, CACHE[case], identity="alice")
    found = finding(report, rule)
    assert found is not None
    assert found.severity == severity


def test_no_store_in_any_case_satisfies_caching(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, CACHE["no-store"], identity="alice")
    assert [f.rule for f in report.findings if f.rule.startswith("headers.cache")] == []


def test_anonymous_answers_are_not_judged_for_caching(field_url: str, tls: Tls) -> None:
    report = _field_scan(field_url, tls, CACHE["public"])
    assert finding(report, "cache-public") is None


def test_cookies_set_by_a_login_request_are_judged(field_url: str, tls: Tls) -> None:
    login = field_raw(
        "login",
        200,
        "application/json",
        '{"access_token": "tok-login-123456"}',
        [("Set-Cookie", "sid=login-cookie-value-1; Path=/; Secure; SameSite=Lax")],
    )
    bob = {"login": {"path": login, "json": {"user": "bob"}, "token_path": "access_token"}}
    report = _scan(field_url, tls, [{"path": HUGE, "identity": "bob"}], identities={"bob": bob})
    found = finding(report, "cookie-no-httponly")
    assert found is not None
    assert found.endpoint == f"POST {login}"
    assert "login-cookie-value-1" not in report.model_dump_json()


# -- answers to other URLs than the endpoint's own ---------------------------------------------

STRAY_LABELS = {"account", "page", "loop"}


def _scan_stray(weak_endpoints: bool) -> Report:
    """Scan the stray app with the errors probe too: it asks for unknown paths per endpoint."""
    with serve_asgi(apps.stray_app(weak_endpoints=weak_endpoints), server_header=False) as url:
        scn = scenario(
            f"{url}/api", apps.STRAY_ENDPOINTS, probes={"errors": {"exposure_paths": False}}
        )
        return run(scn, probes=["headers", "errors"])


@pytest.fixture(scope="module")
def stray_weak_elsewhere() -> Report:
    return _scan_stray(weak_endpoints=False)


@pytest.fixture(scope="module")
def stray_weak_endpoints() -> Report:
    return _scan_stray(weak_endpoints=True)


def _headers_findings(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.probe == "headers"]


def test_catch_all_page_is_never_put_on_an_endpoint(stray_weak_elsewhere: Report) -> None:
    for found in _headers_findings(stray_weak_elsewhere):
        assert not affected(found) & STRAY_LABELS, found.rule
        assert found.severity.rank <= Severity.low.rank
    status, detail = check(stray_weak_elsewhere, "framing", "account")
    assert status == CheckStatus.skipped
    assert "not an HTML document" in detail
    assert "GET answer 401" in detail
    statuses = {c.status for c in stray_weak_elsewhere.checks if c.probe == "headers"}
    assert CheckStatus.failed not in statuses


def test_banner_seen_only_on_an_unknown_path_is_reported_under_that_url(
    stray_weak_elsewhere: Report,
) -> None:
    for rule in ("version-banner", "cookie-no-httponly"):
        found = finding(stray_weak_elsewhere, rule)
        assert found is not None, rule
        assert found.endpoint is not None
        assert found.endpoint.startswith("GET /api/")
        assert found.endpoint.endswith("-missing")
        assert found.severity == Severity.low
    for rule in ("framing-missing", "csp-missing", "nosniff-missing"):
        assert finding(stray_weak_elsewhere, rule) is None, rule
    assert "stray-cookie-value-9" not in stray_weak_elsewhere.model_dump_json()


def test_endpoint_weakness_is_reported_on_its_own_url(stray_weak_endpoints: Report) -> None:
    found = finding(stray_weak_endpoints, "framing-missing")
    assert found is not None
    assert affected(found) == {"page"}
    assert found.severity == Severity.medium
    assert found.reproduce is not None
    assert "/api/page" in found.reproduce
    assert "-missing" not in found.reproduce
    for found in _headers_findings(stray_weak_endpoints):
        assert all(not label.endswith("-missing") for label in affected(found)), found.rule


def test_json_error_answer_is_not_judged_as_the_catch_all_page(
    stray_weak_endpoints: Report,
) -> None:
    assert check(stray_weak_endpoints, "framing", "account")[0] == CheckStatus.skipped
    nosniff = finding(stray_weak_endpoints, "nosniff-missing")
    assert nosniff is not None
    assert "account" in affected(nosniff)
    assert nosniff.severity == Severity.low  # the page's own 200 answer; the 401 alone is info


@pytest.mark.parametrize("fixture", ["stray_weak_elsewhere", "stray_weak_endpoints"])
def test_endpoint_that_only_redirects_is_judged_on_its_redirects(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    report: Report = request.getfixturevalue(fixture)
    status, detail = check(report, "nosniff", "loop")
    assert status == CheckStatus.skipped
    assert "GET answer 302" in detail
    for result in report.checks:
        if result.probe == "headers" and result.endpoint == "loop":
            assert "answer 200" not in result.detail, result.check
            assert result.status != CheckStatus.failed, result.check
    assert all("loop" not in affected(f) for f in _headers_findings(report))


def test_json_body_served_as_html_is_one_finding_not_five(field_url: str, tls: Tls) -> None:
    path = field_raw("json-as-html", 200, "text/html", JSON_BODY, GOOD_HTML[:2])
    report = _field_scan(field_url, tls, path)
    assert [(f.rule, f.severity) for f in report.findings] == [
        ("headers.json-content-type", Severity.medium)
    ]
    for family in ("framing", "csp", "referrer-policy", "permissions-policy"):
        status, detail = check(report, family, f"GET {path}")
        assert status == CheckStatus.skipped, family
        assert "the body is JSON" in detail


def test_html_page_under_the_same_headers_is_still_judged(field_url: str, tls: Tls) -> None:
    path = field_raw("html-twin", 200, "text/html", HTML_BODY, GOOD_HTML[:2])
    report = _field_scan(field_url, tls, path)
    assert finding(report, "framing-missing") is not None
    assert finding(report, "json-content-type") is None


def test_weak_app_json_as_html_is_not_a_page(weak: Scanned) -> None:
    assert "GET /api/legacy" in affected(finding(weak.report, "json-content-type"))
    for rule in ("framing-missing", "csp-missing", "referrer-policy-missing"):
        assert "GET /api/legacy" not in affected(finding(weak.report, rule)), rule
