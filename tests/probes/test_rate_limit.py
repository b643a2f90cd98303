"""The rate_limit probe against real limiters on 127.0.0.1 (slowapi, and small fixed-window
counters keyed the wrong way on purpose), each weak app beside a hardened twin.

Every scan asserts exactly the findings it should give. Windows are one second and limits five
(see `apps_rate_limit`), bursts 30, and `reset_wait_cap` 5 s, so each scan takes 0.2 to 4 s.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.types import ASGIApp

from probe.findings import CheckStatus, Finding, Severity
from probe.probes.rate_limit import CHECKS, RateLimitProbe
from probe.probes.rate_limit_rules import RULES
from probe.report import Report
from tests.probes import apps_rate_limit as apps
from tests.scan import rules, run, scenario
from tests.servers import serve_asgi

BURST = 30
LOGIN = {
    "name": "login",
    "method": "POST",
    "path": "/api/login",
    "json": {"user": "alice", "password": "not-her-password"},
    "burst": BURST,
    "tags": ["auth"],
}
ITEMS = {"name": "items", "path": "/api/items", "burst": BURST}
TOKEN = "t0k-alice-rate-limit"


def scan(app: ASGIApp, endpoints: list[dict[str, Any]], **options: Any) -> Report:
    """One scan with the rate_limit probe alone."""
    with serve_asgi(app, **apps.SERVE) as url:
        probes = {"rate_limit": {"reset_wait_cap": 5, **options.pop("probe", {})}}
        scn = scenario(url, endpoints, probes=probes, **options)
        return run(scn, probes=["rate_limit"])


def checks(report: Report, endpoint: str | None) -> dict[str, tuple[CheckStatus, str]]:
    """The probe's checks at one endpoint: name -> (status, detail)."""
    return {
        c.check: (c.status, c.detail)
        for c in report.checks
        if c.probe == "rate_limit" and c.endpoint == endpoint
    }


def finding(report: Report, rule: str, endpoint: str = "login") -> Finding:
    found = [f for f in report.findings if f.rule == f"rate_limit.{rule}"]
    found = [f for f in found if f.endpoint == endpoint]
    assert len(found) == 1, [f.rule for f in report.findings]
    return found[0]


# -- a correct limiter and its weak twins (slowapi) ----------------------------------------------


@pytest.fixture(scope="module")
def hardened() -> Report:
    # Sent as an identity: every request of the probe must carry its token (else 401).
    app = apps.slowapi_app(token=TOKEN)
    alice = {"alice": {"token": TOKEN}}
    endpoint = {**LOGIN, "expect_limit": 10, "identity": "alice"}
    return scan(app, [endpoint], identities=alice)


def test_correct_limiter_gives_no_finding(hardened: Report) -> None:
    assert rules(hardened) == []
    assert {name: status for name, (status, _) in checks(hardened, "login").items()} == {
        name: CheckStatus.passed for name in CHECKS
    }


def test_burst_detail_has_the_figures(hardened: Report) -> None:
    _, detail = checks(hardened, "login")["burst"]
    assert "burst of 30 (" in detail
    assert "first limit answer (429) #" in detail
    assert "statuses 200×" in detail
    assert "429×" in detail
    assert "401" not in detail
    # slowapi decides on the headers alone: holding back their end keeps every answer after
    # the release.
    assert "answered before the release" not in detail
    assert "30 connections open at the release, 30 released" in detail


def test_limit_info_and_reset_are_described(hardened: Report) -> None:
    assert "Retry-After" in checks(hardened, "login")["limit-info"][1]
    _, reset = checks(hardened, "login")["reset"]
    assert "waited" in reset
    assert "Retry-After announced" in reset
    assert "later requests are not limited" in reset


def test_bypass_attempts_are_listed(hardened: Report) -> None:
    _, detail = checks(hardened, "login")["bypass"]
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded", "True-Client-IP", "X-Client-IP"):
        assert f"{header}: limited" in detail
    assert "added query parameter: limited" in detail
    # Starlette redirects the trailing slash and 404s the others: never tried.
    assert "3 path variant(s) not tried" in detail


def test_limit_without_headers_is_reported() -> None:
    report = scan(apps.slowapi_app(headers=False), [LOGIN])
    assert rules(report) == ["rate_limit.no-limit-info"]
    assert finding(report, "no-limit-info").severity == Severity.low
    assert "no wait announced" in checks(report, "login")["reset"][1]


def test_limit_keyed_on_forwarded_for_is_bypassed() -> None:
    report = scan(apps.forwarded_for_app(), [LOGIN])
    assert rules(report) == ["rate_limit.bypass-header"]
    found = finding(report, "bypass-header")
    assert (found.severity, found.parameter) == (Severity.high, "X-Forwarded-For")
    assert any(net in found.detail for net in ("192.0.2.", "198.51.100.", "203.0.113."))
    # Two rounds: the spoofed pair got through, the original was limited right after.
    assert [e.status for e in found.evidence] == [200, 429, 200, 429]


def test_limit_answered_with_503_is_info() -> None:
    report = scan(apps.slowapi_app(status=503), [LOGIN])
    assert rules(report) == ["rate_limit.non-429-status"]
    found = finding(report, "non-429-status")
    assert (found.severity, found.parameter) == (Severity.info, "503")


def test_retry_after_as_http_date_is_understood() -> None:
    report = scan(apps.slowapi_app(http_date=True), [LOGIN])
    assert rules(report) == []
    assert "Retry-After announced" in checks(report, "login")["reset"][1]


def test_an_endpoint_limited_before_the_burst_is_waited_for() -> None:
    # One request a second: the engine's baseline uses the window up before the probe runs.
    report = scan(apps.slowapi_app(rule="1/second"), [LOGIN])
    assert rules(report) == []
    _, detail = checks(report, "login")["burst"]
    assert "429 just before the burst; waited" in detail


def test_limit_later_than_expected_is_reported() -> None:
    report = scan(apps.slowapi_app(rule="20/second"), [{**LOGIN, "expect_limit": 5}])
    assert rules(report) == ["rate_limit.late-limit"]
    assert "expect_limit is 5" in finding(report, "late-limit").detail
    assert checks(report, "login")["burst"][0] == CheckStatus.failed


# -- no limiter, or an overloaded server ---------------------------------------------------------


@pytest.fixture(scope="module")
def unlimited() -> tuple[Report, apps.Hits]:
    hits = apps.Hits()
    health = {"name": "health", "path": "/api/health"}
    return scan(apps.unlimited_app(hits), [ITEMS, LOGIN, health]), hits


def test_no_limit_is_reported_high_on_auth(unlimited: tuple[Report, apps.Hits]) -> None:
    report, _ = unlimited
    assert rules(report) == ["rate_limit.not-enforced"] * 2
    assert finding(report, "not-enforced", "items").severity == Severity.medium
    assert finding(report, "not-enforced", "login").severity == Severity.high
    assert "None of the 30 requests" in finding(report, "not-enforced", "items").detail
    _, detail = checks(report, "items")["burst"]
    assert "30 connections open at the release, 30 released within" in detail
    assert "req/s, answered within" in detail


def test_endpoints_without_opt_in_get_no_burst(unlimited: tuple[Report, apps.Hits]) -> None:
    report, hits = unlimited
    assert hits.paths["/api/health"] == 1  # the engine's baseline, nothing more
    status, detail = checks(report, None)["burst"]
    assert status == CheckStatus.skipped
    assert "health" in detail
    assert checks(report, "health") == {}
    assert hits.paths["/api/items"] >= BURST


def test_scattered_503s_are_no_limiter() -> None:
    report = scan(apps.overloaded_app(), [ITEMS])
    assert rules(report) == []
    status, detail = checks(report, "items")["burst"]
    assert status == CheckStatus.error
    assert "overloaded" in detail


def test_an_endpoint_that_always_fails_is_not_burst() -> None:
    hits = apps.Hits()
    report = scan(apps.broken_app(hits), [ITEMS])
    assert rules(report) == []
    status, detail = checks(report, "items")["burst"]
    assert (status, "normal answer is 500" in detail) == (CheckStatus.skipped, True)
    assert hits.paths["/api/items"] == 2  # the baseline and the freshness check


def test_budget_refusal_turns_checks_into_errors() -> None:
    report = scan(apps.unlimited_app(), [ITEMS], settings={"max_requests": 12})
    assert rules(report) == []
    results = checks(report, "items")
    assert set(results) == set(CHECKS)
    assert all(status == CheckStatus.error for status, _ in results.values())
    assert "max_requests" in results["burst"][1] or "budget" in results["burst"][1]


# -- header values, path variants and races ------------------------------------------------------


def test_retry_after_in_milliseconds_is_reported() -> None:
    report = scan(apps.malformed_app(), [ITEMS])
    assert rules(report) == ["rate_limit.malformed-header"]
    found = finding(report, "malformed-header", "items")
    assert found.parameter == "Retry-After"
    assert "milliseconds" in found.detail
    # The wait comes from the RateLimit field instead, not from 1000 s.
    assert "RateLimit;t announced 1.0 s" in checks(report, "items")["reset"][1]


def test_limit_keyed_on_the_raw_path_is_bypassed_by_variants() -> None:
    report = scan(apps.path_app(key_on_raw=True), [ITEMS])
    assert rules(report) == ["rate_limit.bypass-path"] * 4
    variants = {f.parameter for f in report.findings}
    assert variants == {"trailing slash", "letter case", "doubled slash", "added query parameter"}


def test_limit_keyed_on_the_routed_path_holds_for_variants() -> None:
    report = scan(apps.path_app(key_on_raw=False), [ITEMS])
    assert rules(report) == []
    _, detail = checks(report, "items")["bypass"]
    assert "trailing slash: limited" in detail
    assert "doubled slash: limited" in detail


def test_a_bucket_refilling_during_the_attempts_is_no_bypass() -> None:
    # At 20 requests per second, a bucket refilling 10 per second has a token for every
    # other single request: only pairs released together tell it from a bypass.
    settings = {"requests_per_second": 20}
    report = scan(
        apps.bucket_app(), [ITEMS], settings=settings, probe={"compare_sequential": False}
    )
    assert rules(report) == []
    _, detail = checks(report, "items")["bypass"]
    assert "bypass" not in detail.replace("bypass-", "")


def test_variants_answered_with_404_are_never_a_bypass() -> None:
    report = scan(apps.strict_path_app(), [ITEMS])
    assert rules(report) == []
    assert "3 path variant(s) not tried" in checks(report, "items")["bypass"][1]


def test_racy_limiter_is_reported_with_both_figures() -> None:
    report = scan(apps.race_app(atomic=False), [LOGIN])
    assert rules(report) == ["rate_limit.burst-exceeds-limit"]
    found = finding(report, "burst-exceeds-limit")
    assert found.severity == Severity.medium
    assert f"admitted {apps.IN_FLIGHT_CAP}" in found.detail
    assert f"after {apps.LIMIT} admitted" in found.detail


def test_atomic_limiter_is_not_a_race() -> None:
    report = scan(apps.race_app(atomic=True), [LOGIN])
    assert rules(report) == []
    assert checks(report, "login")["concurrency"][0] == CheckStatus.passed


# -- the probe's description ---------------------------------------------------------------------


def test_every_rule_is_documented_and_unique() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids)) == 8
    assert all(rule.description and rule.remediation for rule in RULES)
    assert RateLimitProbe.runs_last


def test_plan_names_only_opted_in_endpoints() -> None:
    scn = scenario("http://127.0.0.1:9", [ITEMS, {"path": "/api/health"}])
    lines = RateLimitProbe().plan(scn)
    assert len(lines) == 1
    assert "30 x GET http://127.0.0.1:9/api/items" in lines[0]
