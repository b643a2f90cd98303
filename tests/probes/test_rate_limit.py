"""The rate_limit probe against real limiters on 127.0.0.1 (slowapi, and small fixed-window
counters keyed the wrong way on purpose), each weak app beside a hardened twin.

Every scan asserts exactly the findings it should give. Windows are one to five seconds and
limits mostly five (see `apps_rate_limit`), bursts 30, and `reset_wait_cap` 5 s or less, so
each scan takes 0.1 to 11 s. Most of that is waiting for windows to reset, so the scans whose
verdict does not hang on timing run six at a time, in threads, from one module fixture
(`reports`; the whole group takes under 20 s); the scans that measure timing (races, a
refilling bucket, requests in flight) run alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.types import ASGIApp

from probe.events import Event, EventSink, Notice
from probe.findings import CheckStatus, Confidence, Finding, Severity
from probe.probes.rate_limit import CHECKS
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
NO_SEQUENTIAL = {"compare_sequential": False}
# Scans run at once by `scan_all`: enough to overlap their waits, few enough that two cores
# release a burst within milliseconds and answer the bypass attempts within a window.
_AT_ONCE = 6


def scan(
    app: ASGIApp,
    endpoints: list[dict[str, Any]],
    *,
    serve: Mapping[str, Any] | None = None,
    **options: Any,
) -> Report:
    """One scan with the rate_limit probe alone (`probe`: its options; `serve`: uvicorn's)."""
    with serve_asgi(app, **apps.serve_options(**(serve or {}))) as url:
        return scan_url(url, endpoints, **options)


def scan_url(
    url: str, endpoints: list[dict[str, Any]], events: EventSink | None = None, **options: Any
) -> Report:
    """One scan with the rate_limit probe alone of a server already running."""
    probes = {"rate_limit": {"reset_wait_cap": 5, **options.pop("probe", {})}}
    scn = scenario(url, endpoints, probes=probes, **options)
    return run(scn, probes=["rate_limit"], events=events)


@dataclass(frozen=True)
class Case:
    """A scan to run among others: its app, endpoints and options."""

    app: Callable[[], ASGIApp]
    endpoints: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)


def scan_all(cases: Mapping[str, Case]) -> dict[str, Report]:
    """Independent scans at once, each on its own server (they mostly wait for windows).

    The servers start one after another (uvicorn configures logging as it starts, which is not
    safe from several threads), then the scans run in threads.
    """
    with ExitStack() as servers, ThreadPoolExecutor(max_workers=_AT_ONCE) as pool:
        urls = {
            name: servers.enter_context(serve_asgi(case.app(), **apps.serve_options()))
            for name, case in cases.items()
        }
        futures = {
            name: pool.submit(scan_url, urls[name], case.endpoints, **case.options)
            for name, case in cases.items()
        }
        return {name: future.result() for name, future in futures.items()}


def checks(report: Report, endpoint: str | None) -> dict[str, tuple[CheckStatus, str]]:
    """The probe's checks at one endpoint: name -> (status, detail)."""
    return {
        c.check: (c.status, c.detail)
        for c in report.checks
        if c.probe == "rate_limit" and c.endpoint == endpoint
    }


def statuses(report: Report, endpoint: str) -> dict[str, CheckStatus]:
    return {name: status for name, (status, _) in checks(report, endpoint).items()}


def finding(report: Report, rule: str, endpoint: str = "login") -> Finding:
    found = [f for f in report.findings if f.rule == f"rate_limit.{rule}"]
    found = [f for f in found if f.endpoint == endpoint]
    assert len(found) == 1, [f.rule for f in report.findings]
    return found[0]


REFUSING = [
    {"name": "forbidden", "path": "/api/forbidden", "burst": 5},
    {"name": "gone", "path": "/api/gone", "burst": 5},
    {"name": "missing", "path": "/api/missing", "burst": 5},
    {"name": "post-items", "method": "POST", "path": "/api/items", "burst": 5},
]
STUCK_NOTICES: list[str] = []
REFUSED_HITS = apps.Hits()
RECORDED = apps.Requests()
UNLIMITED_HITS = apps.Hits()
CHATTY = [
    {"name": "tips", "path": "/api/tips", "burst": BURST},
    {"name": "feed", "path": "/api/feed", "burst": BURST},
    {"name": "soft", "path": "/api/soft", "burst": BURST},
    {"name": "envelope", "path": "/api/envelope", "burst": BURST},
]


def _notices(event: Event) -> None:
    if isinstance(event, Notice):
        STUCK_NOTICES.append(event.message)


def _cases() -> dict[str, Case]:
    """The scans of `reports`, longest first (so that the last to start are short ones)."""
    late_sum = {**LOGIN, "expect_limit": 5}
    short = {"reset_wait_cap": 2}
    return {
        # Sent as an identity: every request of the probe must carry its token (else 401).
        "hardened": Case(
            lambda: apps.slowapi_app(token=TOKEN, rule=apps.LONG_RULE),
            [{**LOGIN, "expect_limit": 10, "identity": "alice"}],
            {"identities": {"alice": {"token": TOKEN}}},
        ),
        "burst-of-one": Case(
            lambda: apps.slowapi_app(rule="1 per 3 seconds"), [{**LOGIN, "burst": 1}]
        ),
        "raw-path": Case(
            lambda: apps.path_app(key_on_raw=True, seconds=apps.LONG_WINDOW),
            [ITEMS],
            {"probe": NO_SEQUENTIAL},
        ),
        "routed-path": Case(
            lambda: apps.path_app(key_on_raw=False, seconds=apps.LONG_WINDOW),
            [ITEMS],
            {"probe": NO_SEQUENTIAL},
        ),
        "late-sum": Case(
            lambda: apps.slowapi_app(rule="8 per 5 seconds"), [late_sum], {"probe": NO_SEQUENTIAL}
        ),
        "late-sum-twin": Case(
            lambda: apps.slowapi_app(rule="8 per 5 seconds"),
            [{**LOGIN, "expect_limit": 8}],
            {"probe": NO_SEQUENTIAL},
        ),
        "lockout": Case(lambda: apps.lockout_app(lock=1.5), [LOGIN]),
        # The baseline, the freshness check and the burst are answered; the poll is not.
        "stuck": Case(
            lambda: apps.stuck_app(answered=2 + BURST),
            [ITEMS],
            {
                "probe": {"reset_wait_cap": 1, "try_bypass": False, **NO_SEQUENTIAL},
                "settings": {"timeout": 1},
                "events": _notices,
            },
        ),
        "tarpit": Case(apps.tarpit_app, [ITEMS], {"settings": {"timeout": 1}}),
        "limited-before": Case(lambda: apps.slowapi_app(rule="1/second"), [LOGIN]),
        "forwarded-for": Case(
            lambda: apps.forwarded_for_app(rule=apps.LONG_RULE), [LOGIN], {"probe": NO_SEQUENTIAL}
        ),
        "http-date": Case(
            lambda: apps.slowapi_app(http_date=True, rule=apps.LONG_RULE),
            [LOGIN],
            {"probe": NO_SEQUENTIAL},
        ),
        "503": Case(lambda: apps.slowapi_app(status=503), [LOGIN]),
        "late": Case(lambda: apps.slowapi_app(rule="20/second"), [{**LOGIN, "expect_limit": 5}]),
        "malformed": Case(apps.malformed_app, [ITEMS]),
        "strict-path": Case(apps.strict_path_app, [ITEMS]),
        "no-headers": Case(lambda: apps.slowapi_app(headers=False), [LOGIN]),
        "huge": Case(apps.huge_numbers_app, [ITEMS], {"probe": {**short, **NO_SEQUENTIAL}}),
        "chatty": Case(apps.chatty_app, CHATTY, {"probe": short}),
        "unlimited": Case(
            lambda: apps.unlimited_app(UNLIMITED_HITS),
            [ITEMS, LOGIN, {"name": "health", "path": "/api/health"}],
        ),
        "announced": Case(lambda: apps.slowapi_app(rule="1000/minute"), [LOGIN]),
        "no-lockout": Case(lambda: apps.lockout_app(lock=None), [LOGIN]),
        "refusing": Case(lambda: apps.refusing_app(REFUSED_HITS), REFUSING),
        "recording": Case(
            lambda: apps.recording_app(RECORDED),
            [
                {**LOGIN, "burst": 5},
                {"name": "profile", "method": "PUT", "path": "/api/profile", "burst": 5},
            ],
            {"probe": NO_SEQUENTIAL},
        ),
    }


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return scan_all(_cases())


# -- a correct limiter and its weak twins (slowapi) ----------------------------------------------


def test_correct_limiter_gives_no_finding(reports: dict[str, Report]) -> None:
    hardened = reports["hardened"]
    assert rules(hardened) == []
    assert statuses(hardened, "login") == {name: CheckStatus.passed for name in CHECKS}


def test_burst_detail_has_the_figures(reports: dict[str, Report]) -> None:
    _, detail = checks(reports["hardened"], "login")["burst"]
    assert "burst of 30 (" in detail
    assert "first limit answer (429) #" in detail
    assert "statuses 200×" in detail
    assert "429×" in detail
    assert "401" not in detail
    # slowapi decides on the headers alone: holding back their end keeps every answer after
    # the release.
    assert "answered before the release" not in detail
    assert "30 connections open at the release, 30 released" in detail
    # What was sent just before, and only that: no reset poll was needed.
    assert "3 request(s) just before (1 freshness check, 2 path variants)" in detail


def test_limit_info_and_reset_are_described(reports: dict[str, Report]) -> None:
    assert "Retry-After" in checks(reports["hardened"], "login")["limit-info"][1]
    _, reset = checks(reports["hardened"], "login")["reset"]
    assert "waited" in reset
    assert "Retry-After announced" in reset
    assert "later requests are not limited" in reset


def test_bypass_attempts_are_listed(reports: dict[str, Report]) -> None:
    _, detail = checks(reports["hardened"], "login")["bypass"]
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded", "True-Client-IP", "X-Client-IP"):
        assert f"{header}: limited" in detail
    assert "added query parameter: limited" in detail
    # A POST gets only the trailing slash (Starlette redirects it) and the query parameter.
    assert "1 path variant(s) not tried" in detail


def test_a_real_rate_limit_is_no_concurrency_cap(reports: dict[str, Report]) -> None:
    status, detail = checks(reports["hardened"], "login")["concurrency"]
    assert status == CheckStatus.passed
    assert "sequential limit" in detail


def test_limit_without_headers_is_reported(reports: dict[str, Report]) -> None:
    report = reports["no-headers"]
    assert rules(report) == ["rate_limit.no-limit-info"]
    assert finding(report, "no-limit-info").severity == Severity.low
    assert "no wait announced" in checks(report, "login")["reset"][1]


def test_limit_keyed_on_forwarded_for_is_bypassed(reports: dict[str, Report]) -> None:
    report = reports["forwarded-for"]
    assert rules(report) == ["rate_limit.bypass-header"]
    found = finding(report, "bypass-header")
    assert (found.severity, found.parameter) == (Severity.high, "X-Forwarded-For")
    assert any(net in found.detail for net in ("192.0.2.", "198.51.100.", "203.0.113."))
    # Two rounds: the spoofed pair got through, the original was limited right after.
    assert [e.status for e in found.evidence] == [200, 429, 200, 429]


def test_limit_answered_with_503_is_info(reports: dict[str, Report]) -> None:
    report = reports["503"]
    assert rules(report) == ["rate_limit.non-429-status"]
    found = finding(report, "non-429-status")
    assert (found.severity, found.parameter) == (Severity.info, "503")


def test_retry_after_as_http_date_is_understood(reports: dict[str, Report]) -> None:
    report = reports["http-date"]
    assert rules(report) == []
    assert "Retry-After announced" in checks(report, "login")["reset"][1]


def test_an_endpoint_limited_before_the_burst_is_waited_for(reports: dict[str, Report]) -> None:
    # One request a second: the engine's baseline uses the window up before the probe runs.
    report = reports["limited-before"]
    assert rules(report) == []
    _, detail = checks(report, "login")["burst"]
    assert "429 just before the burst; waited" in detail
    assert "(1 freshness check, " in detail
    assert " reset poll" in detail


def test_limit_later_than_expected_is_reported(reports: dict[str, Report]) -> None:
    report = reports["late"]
    assert rules(report) == ["rate_limit.late-limit"]
    found = finding(report, "late-limit")
    assert "expect_limit is 5" in found.detail
    assert found.confidence == Confidence.firm
    assert checks(report, "login")["burst"][0] == CheckStatus.failed


def test_requests_just_before_the_burst_count_towards_a_late_limit(
    reports: dict[str, Report],
) -> None:
    # 8 per 5 s: the baseline, the freshness check and the query variant leave 5 for the
    # burst, which alone stays within expect_limit 5; with the two just before, 7 do not.
    report = reports["late-sum"]
    assert rules(report) == ["rate_limit.late-limit"]
    found = finding(report, "late-limit")
    assert found.confidence == Confidence.tentative
    assert "2 request(s) admitted just before it" in found.detail
    assert "expect_limit is 5" in found.detail


def test_a_limit_at_the_expected_figure_is_not_late(reports: dict[str, Report]) -> None:
    report = reports["late-sum-twin"]
    assert rules(report) == []
    assert checks(report, "login")["burst"][0] == CheckStatus.passed


def test_a_limit_announced_above_the_burst_is_tentative(reports: dict[str, Report]) -> None:
    report = reports["announced"]
    assert rules(report) == ["rate_limit.not-enforced"]
    found = finding(report, "not-enforced")
    assert found.confidence == Confidence.tentative
    assert "announces 1,000 per window; the burst was smaller" in found.detail
    assert "No limit reached within 60 requests" in found.detail


# -- no limiter, answers that only look like limits ----------------------------------------------


def test_no_limit_is_reported_high_on_auth(reports: dict[str, Report]) -> None:
    report = reports["unlimited"]
    assert rules(report) == ["rate_limit.not-enforced"] * 2
    items = finding(report, "not-enforced", "items")
    assert items.severity == Severity.medium
    assert items.confidence == Confidence.firm
    assert finding(report, "not-enforced", "login").severity == Severity.high
    assert "No limit reached within 60 requests: none of the 30 sent at once" in items.detail
    assert "nor did 30 sent one at a time right after" in items.detail
    _, detail = checks(report, "items")["burst"]
    assert "30 connections open at the release, 30 released within" in detail
    assert "req/s, answered within" in detail


def test_endpoints_without_opt_in_get_no_burst(reports: dict[str, Report]) -> None:
    report = reports["unlimited"]
    assert UNLIMITED_HITS.paths["/api/health"] == 1  # the engine's baseline, nothing more
    status, detail = checks(report, None)["burst"]
    assert status == CheckStatus.skipped
    assert "health" in detail
    assert checks(report, "health") == {}
    assert UNLIMITED_HITS.paths["/api/items"] >= BURST


def test_answers_that_speak_of_limits_and_vary_are_no_limit(reports: dict[str, Report]) -> None:
    report = reports["chatty"]
    assert rules(report) == sorted(
        ["rate_limit.not-enforced"] * 3 + ["rate_limit.no-limit-info", "rate_limit.non-429-status"]
    )
    for name in ("tips", "feed"):
        assert finding(report, "not-enforced", name).severity == Severity.medium
        _, detail = checks(report, name)["burst"]
        assert "just before the burst" not in detail  # the freshness check did not wait


def test_a_refusal_shaped_like_the_normal_answer_leaves_not_enforced_tentative(
    reports: dict[str, Report],
) -> None:
    found = finding(reports["chatty"], "not-enforced", "envelope")
    assert found.confidence == Confidence.tentative
    assert "speak of a rate limit in a body shaped like the normal answer" in found.detail
    for name in ("tips", "feed"):  # their normal answers speak of limits themselves
        assert finding(reports["chatty"], "not-enforced", name).confidence == Confidence.firm


def test_a_200_with_an_error_body_is_still_a_limit(reports: dict[str, Report]) -> None:
    found = finding(reports["chatty"], "non-429-status", "soft")
    assert found.parameter == "200 with an error body"


def test_a_lockout_is_brute_force_protection(reports: dict[str, Report]) -> None:
    report = reports["lockout"]
    assert rules(report) == ["rate_limit.non-429-status"]
    found = finding(report, "non-429-status")
    assert found.parameter == "lockout"
    assert "a lockout (423" in found.detail
    assert "normal answer is 401" in found.detail
    assert checks(report, "login")["limit-info"][0] == CheckStatus.skipped


def test_a_login_without_lockout_is_not_enforced(reports: dict[str, Report]) -> None:
    # Its normal answer is a 401: the burst is sent all the same.
    report = reports["no-lockout"]
    assert rules(report) == ["rate_limit.not-enforced"]
    assert finding(report, "not-enforced").severity == Severity.high


@pytest.mark.parametrize(
    ("endpoint", "path", "status"),
    [
        ("forbidden", "/api/forbidden", 403),
        ("gone", "/api/gone", 410),
        ("missing", "/api/missing", 404),
        ("post-items", "/api/items", 405),
    ],
)
def test_an_endpoint_that_refuses_everyone_is_not_burst(
    reports: dict[str, Report], endpoint: str, path: str, status: int
) -> None:
    report = reports["refusing"]
    assert rules(report) == []
    results = checks(report, endpoint)
    assert set(results) == set(CHECKS)
    for got, detail in results.values():
        assert got == CheckStatus.skipped
        assert f"normal answer is {status}: nothing to limit; no burst sent" in detail
    assert REFUSED_HITS.paths[path] == 2  # the baseline and the freshness check


def test_an_endpoint_that_always_fails_is_not_burst() -> None:
    hits = apps.Hits()
    report = scan(apps.broken_app(hits), [ITEMS])
    assert rules(report) == []
    status, detail = checks(report, "items")["burst"]
    assert (status, "normal answer is 500" in detail) == (CheckStatus.skipped, True)
    assert hits.paths["/api/items"] == 2  # the baseline and the freshness check


def test_scattered_503s_are_no_limiter() -> None:
    report = scan(apps.overloaded_app(), [ITEMS])
    assert rules(report) == []
    status, detail = checks(report, "items")["burst"]
    assert status == CheckStatus.error
    assert "overloaded" in detail


def test_budget_refusal_turns_checks_into_errors() -> None:
    report = scan(apps.unlimited_app(), [ITEMS], settings={"max_requests": 12})
    assert rules(report) == []
    results = checks(report, "items")
    assert set(results) == set(CHECKS)
    assert all(status == CheckStatus.error for status, _ in results.values())
    assert "max_requests" in results["burst"][1] or "budget" in results["burst"][1]


# -- header values -------------------------------------------------------------------------------


def test_retry_after_in_milliseconds_is_reported(reports: dict[str, Report]) -> None:
    report = reports["malformed"]
    assert rules(report) == ["rate_limit.malformed-header"]
    found = finding(report, "malformed-header", "items")
    assert found.parameter == "Retry-After"
    assert "milliseconds" in found.detail
    # The wait comes from the RateLimit field instead, not from 1000 s.
    assert "RateLimit;t announced 1.0 s" in checks(report, "items")["reset"][1]


def test_absurdly_large_numbers_are_malformed_and_waits_capped(
    reports: dict[str, Report],
) -> None:
    report = reports["huge"]
    assert rules(report) == ["rate_limit.malformed-header"] * 2
    for header in ("Retry-After", "X-RateLimit-Reset"):
        found = next(f for f in report.findings if f.parameter == header)
        assert "a number too large to be a delay or a time" in found.detail
    status, detail = checks(report, "items")["reset"]
    assert status == CheckStatus.passed
    assert "Retry-After announced a number too large to be a delay or a time" in detail
    assert "cap 2 s" in detail


# -- path variants and bypasses ------------------------------------------------------------------


def test_limit_keyed_on_the_raw_path_is_bypassed_by_variants(reports: dict[str, Report]) -> None:
    report = reports["raw-path"]
    assert rules(report) == ["rate_limit.bypass-path"] * 4
    variants = {f.parameter for f in report.findings}
    assert variants == {"trailing slash", "letter case", "doubled slash", "added query parameter"}


def test_limit_keyed_on_the_routed_path_holds_for_variants(reports: dict[str, Report]) -> None:
    report = reports["routed-path"]
    assert rules(report) == []
    _, detail = checks(report, "items")["bypass"]
    assert "trailing slash: limited" in detail
    assert "doubled slash: limited" in detail


def test_variants_answered_with_404_are_never_a_bypass(reports: dict[str, Report]) -> None:
    report = reports["strict-path"]
    assert rules(report) == []
    assert "3 path variant(s) not tried" in checks(report, "items")["bypass"][1]


def test_unsafe_methods_get_no_variant_that_may_be_another_resource(
    reports: dict[str, Report],
) -> None:
    assert rules(reports["recording"]) == ["rate_limit.not-enforced"] * 2
    login = {(path, query[:3]) for method, path, query in RECORDED.seen if method == "POST"}
    assert login == {("/api/login", ""), ("/api/login/", ""), ("/api/login", "prb")}
    profile = {(path, query) for method, path, query in RECORDED.seen if method == "PUT"}
    assert profile == {("/api/profile", "")}


def test_bypass_attempts_that_get_no_answer_are_an_error(reports: dict[str, Report]) -> None:
    report = reports["tarpit"]
    assert rules(report) == []
    status, detail = checks(report, "items")["bypass"]
    assert status == CheckStatus.error
    assert "no bypass attempt got an answer" in detail
    assert "4 attempt(s) not made: two got no answer within the timeout" in detail
    assert checks(report, "items")["reset"][0] == CheckStatus.passed


def test_a_burst_of_one_still_tries_bypasses_and_waits(reports: dict[str, Report]) -> None:
    report = reports["burst-of-one"]
    assert rules(report) == []
    results = checks(report, "login")
    assert "X-Forwarded-For: limited" in results["bypass"][1]
    assert results["bypass"][0] == CheckStatus.passed
    assert results["reset"][0] == CheckStatus.passed


def test_a_bucket_refilling_during_the_attempts_is_no_bypass() -> None:
    # At 20 requests per second, a bucket refilling 10 per second has a token for every
    # other single request: only pairs released together tell it from a bypass.
    settings = {"requests_per_second": 20}
    report = scan(apps.bucket_app(), [ITEMS], settings=settings, probe=NO_SEQUENTIAL)
    assert rules(report) == []
    _, detail = checks(report, "items")["bypass"]
    assert "bypass" not in detail.replace("bypass-", "")


# -- races and caps on requests in flight --------------------------------------------------------


def test_racy_limiter_is_reported_with_both_figures() -> None:
    report = scan(apps.race_app(atomic=False), [LOGIN])
    assert rules(report) == ["rate_limit.burst-exceeds-limit"]
    found = finding(report, "burst-exceeds-limit")
    assert found.severity == Severity.medium
    assert f"admitted {apps.IN_FLIGHT_CAP}" in found.detail
    assert f"after {apps.LIMIT} admitted" in found.detail


def test_racy_limiter_that_never_refuses_a_burst_is_a_race() -> None:
    # No limit answer in the burst at all, yet one at a time the limit shows: a race (and a
    # limit later than expected), not a missing limit.
    endpoint = {**LOGIN, "expect_limit": apps.LIMIT}
    report = scan(apps.race_app(atomic=False, in_flight_cap=None), [endpoint])
    assert rules(report) == ["rate_limit.burst-exceeds-limit", "rate_limit.late-limit"]
    found = finding(report, "burst-exceeds-limit")
    admitted = re.search(r"a burst of \d+ admitted (\d+)", found.detail.lower())
    assert admitted is not None
    assert int(admitted.group(1)) > apps.LIMIT + 2
    assert f"after {apps.LIMIT} admitted" in found.detail
    status, detail = checks(report, "login")["burst"]
    assert status == CheckStatus.failed
    assert "no limit answer within the burst, but right after it" in detail


def test_atomic_limiter_is_not_a_race() -> None:
    report = scan(apps.race_app(atomic=True), [LOGIN])
    assert rules(report) == []
    assert checks(report, "login")["concurrency"][0] == CheckStatus.passed


def test_a_cap_on_requests_in_flight_is_no_rate_limit() -> None:
    report = scan(apps.in_flight_app(), [LOGIN])
    assert rules(report) == ["rate_limit.not-enforced"]
    found = finding(report, "not-enforced")
    assert found.severity == Severity.high
    assert "limits requests in flight only" in found.detail
    assert f"one request at a time {BURST} were admitted" in found.detail
    assert checks(report, "login")["concurrency"][0] == CheckStatus.failed


def test_uvicorn_limit_concurrency_is_no_rate_limit() -> None:
    endpoint = {"name": "slow", "path": "/api/slow", "burst": BURST}
    report = scan(apps.slow_app(), [endpoint], serve={"limit_concurrency": 3})
    # Its 503s describe no rate limit: neither non-429-status nor no-limit-info.
    assert rules(report) == ["rate_limit.not-enforced"]
    found = finding(report, "not-enforced", "slow")
    assert found.severity == Severity.medium
    assert "(503)" in found.detail


# -- waits ---------------------------------------------------------------------------------------


def test_a_wait_ends_within_the_cap_and_one_timeout(reports: dict[str, Report]) -> None:
    status, detail = checks(reports["stuck"], "items")["reset"]
    assert status == CheckStatus.error
    waited = re.search(r"still limited after waiting ([\d.]+) s", detail)
    assert waited is not None
    # reset_wait_cap 1 s, then a last poll that times out after 1 s.
    assert 1.9 <= float(waited.group(1)) <= 2.5


def test_a_wait_is_announced_once_with_its_bound(reports: dict[str, Report]) -> None:
    assert reports["stuck"] is not None
    waits = [n for n in STUCK_NOTICES if "waiting" in n]
    assert waits == [
        "rate_limit: items is limited; waiting up to 1 s (reset_wait_cap) for the window to reset"
    ]
