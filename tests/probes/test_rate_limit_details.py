"""The rate_limit probe's words and plan, called directly: what a check detail says of a burst
and of what was sent before it, the bypass check's verdict, and the dry-run plan."""

from __future__ import annotations

from collections import Counter

import pytest

from probe.burst import Burst, Shot
from probe.exchange import Exchange, RequestRecord, ResponseRecord
from probe.findings import CheckStatus
from probe.probes.rate_limit import RateLimitProbe
from probe.probes.rate_limit_bypass import Attempt, Bypasses
from probe.probes.rate_limit_details import (
    RECENT,
    PreBurst,
    bypass_check,
    describe_burst,
)
from probe.probes.rate_limit_judges import Reference, judge_burst
from probe.probes.rate_limit_rules import RULES
from tests.scan import scenario

OK = ResponseRecord(200, "HTTP/1.1", (), b"{}")


def exchange(seq: int, response: ResponseRecord | None, error: str | None = None) -> Exchange:
    request = RequestRecord("GET", "http://127.0.0.1:1/api/items")
    return Exchange(seq, "rate_limit", "items", None, "burst", request, response, error)


def attempt(via: str, outcome: str, error: str | None = None) -> Attempt:
    answered = exchange(1, OK if error is None else None, error)
    return Attempt(via, "header", "192.0.2.1", outcome, (answered,))


# -- what was sent before the burst --------------------------------------------------------------


def test_only_what_was_sent_is_listed() -> None:
    before = PreBurst(sent=Counter({"freshness check": 1}))
    assert before.describe() == "1 request(s) just before (1 freshness check)"
    before.sent["reset poll"] += 2
    before.sent["path variant"] += 0
    assert before.describe() == "3 request(s) just before (1 freshness check, 2 reset polls)"
    assert PreBurst().describe() == "nothing sent just before"


def test_only_recent_admitted_requests_count() -> None:
    before = PreBurst(admitted=[100.0, 100.0 + RECENT - 1, 100.0 + RECENT + 5])
    assert before.recent(100.0 + RECENT + 6) == 2


# -- the burst's detail --------------------------------------------------------------------------


def test_only_answers_read_before_the_release_count_as_early() -> None:
    shots = (
        Shot(exchange(1, OK), sent=0.001, received=-0.01),
        Shot(exchange(2, None, "connect: closed by the server"), sent=None, received=-0.02),
        Shot(exchange(3, OK), sent=0.002, received=0.01),
    )
    burst = Burst(shots, opened=3)
    verdict = judge_burst(shots, Reference.of(OK))
    said = describe_burst(verdict, burst, PreBurst())
    assert "1 answered before the release" in said


def test_a_burst_nobody_answered_claims_no_answer_time() -> None:
    shots = tuple(
        Shot(exchange(i, None, "protocol: more than 10 1xx answers"), sent=0.001 * i, received=0.5)
        for i in range(1, 4)
    )
    burst = Burst(shots, opened=3)
    said = describe_burst(judge_burst(shots, Reference.of(OK)), burst, PreBurst())
    assert "3 released within" in said
    assert "answered within" not in said


# -- the bypass check ----------------------------------------------------------------------------


def test_no_answer_to_any_attempt_is_an_error_not_a_pass() -> None:
    timeout = "timeout: no answer within 1 s"
    tried = (attempt("X-Forwarded-For", "no answer", timeout), attempt("X-Real-IP", "no answer"))
    status, detail = bypass_check(Bypasses(tried, untried=3), 0)
    assert status == CheckStatus.error
    assert "no bypass attempt got an answer" in detail
    assert "3 attempt(s) not made: two got no answer within the timeout" in detail
    assert tried[0].timed_out
    assert not tried[1].timed_out


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        (["limited", "no answer"], CheckStatus.passed),
        (["limited", "bypass"], CheckStatus.failed),
        (["limited", "inconclusive"], CheckStatus.skipped),
        ([], CheckStatus.passed),
    ],
)
def test_bypass_check_status(outcomes: list[str], status: CheckStatus) -> None:
    tried = tuple(attempt(f"H{i}", o) for i, o in enumerate(outcomes))
    assert bypass_check(Bypasses(tried), 0)[0] == status


# -- the plan ------------------------------------------------------------------------------------


def plan(*endpoints: dict[str, object], **probe: object) -> list[str]:
    extra = {"probes": {"rate_limit": probe}} if probe else {}
    return RateLimitProbe().plan(scenario("http://127.0.0.1:9", list(endpoints), **extra))


def test_plan_names_only_opted_in_endpoints() -> None:
    lines = plan({"name": "items", "path": "/api/items", "burst": 30}, {"path": "/api/health"})
    assert len(lines) == 1
    assert "30 x GET http://127.0.0.1:9/api/items" in lines[0]


def test_plan_lists_what_is_sent_before_the_burst_whatever_the_outcome() -> None:
    get, post, put = plan(
        {"name": "items", "path": "/api/items", "burst": 30},
        {"name": "login", "method": "POST", "path": "/api/login", "burst": 30},
        {"name": "profile", "method": "PUT", "path": "/api/profile", "burst": 30},
    )
    assert "before the burst: 1 freshness request and up to 4 path variant(s)" in get
    assert "before the burst: 1 freshness request and up to 2 path variant(s)" in post
    assert "before the burst: 1 freshness request;" in put
    assert "path variant" not in put


def test_plan_bounds_the_waits() -> None:
    (line,) = plan({"name": "items", "path": "/api/items", "burst": 30}, reset_wait_cap=12)
    assert "up to 4 waits of at most 12 s (+ one request timeout) each" in line
    (line,) = plan({"name": "items", "path": "/api/items", "burst": 3}, try_bypass=False)
    assert "before the burst: 1 freshness request;" in line
    assert "spoofed" not in line


# -- the rules -----------------------------------------------------------------------------------


def test_every_rule_is_documented_and_unique() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids)) == 8
    assert all(rule.description and rule.remediation for rule in RULES)
    assert RateLimitProbe.runs_last
