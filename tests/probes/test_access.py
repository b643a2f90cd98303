"""The access probe against real apps on 127.0.0.1 (FastAPI, Starlette, Flask; PyJWT tokens),
each weak app beside its hardened twin; every scan asserts exactly the findings it should give.

The servers of the apps without state are started once per module; the profile apps (which the
probe's writes change) once per test. Scans take 0.05 to 0.5 s, the timing ones 1 to 3 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from probe.findings import CheckStatus, Confidence, Finding
from probe.probes.access import AccessProbe
from probe.report import Report
from tests.probes import apps_access as apps
from tests.scan import rules, run, scenario
from tests.servers import serve_asgi, serve_wsgi

ORDER: dict[str, Any] = {
    "name": "order",
    "path": "/orders/1001",
    "identity": "alice",
    "owner": "alice",
}
ADMIN: dict[str, Any] = {
    "name": "admin",
    "path": "/admin/users",
    "identity": "carol",
    "tags": ["admin"],
}
EVERYONE = apps.identities("alice", "bob", "carol")


def scan(url: str, endpoints: list[dict[str, Any]], **extra: Any) -> Report:
    """A scan with the access probe alone (`access`: its options)."""
    extra.setdefault("identities", EVERYONE)
    probes = {"access": extra.pop("access", {})}
    return run(scenario(url, endpoints, probes=probes, **extra), probes=["access"])


def checks(report: Report, endpoint: str) -> dict[str, tuple[CheckStatus, str]]:
    """The access checks at one endpoint: name -> (status, detail)."""
    return {
        c.check: (c.status, c.detail)
        for c in report.checks
        if c.probe == "access" and c.endpoint == endpoint
    }


def statuses(report: Report, endpoint: str) -> dict[str, CheckStatus]:
    return {name: status for name, (status, _) in checks(report, endpoint).items()}


def only_finding(report: Report) -> Finding:
    assert len(report.findings) == 1, rules(report)
    return report.findings[0]


def sent_by_probe(report: Report) -> int:
    return report.summary.requests


@pytest.fixture(scope="module")
def weak_shop() -> Iterator[str]:
    with serve_asgi(apps.shop_app(check_owner=False, check_role=False)) as url:
        yield url


@pytest.fixture(scope="module")
def hardened_shop() -> Iterator[str]:
    with serve_asgi(apps.shop_app(check_owner=True, check_role=True)) as url:
        yield url


@pytest.fixture(scope="module")
def reports() -> Iterator[str]:
    with serve_asgi(apps.reports_app()) as url:
        yield url


@pytest.fixture(scope="module")
def login_log() -> apps.LoginLog:
    return apps.LoginLog()


@pytest.fixture(scope="module")
def logins(login_log: apps.LoginLog) -> Iterator[str]:
    with serve_wsgi(apps.login_app(login_log)) as url:
        yield url


# -- unauthenticated ----------------------------------------------------------------------------


def report_endpoint(path: str, **more: Any) -> dict[str, Any]:
    return {"name": "report", "path": path, "identity": "alice", **more}


def test_an_endpoint_that_never_checks_the_token_is_reported(reports: str) -> None:
    report = scan(reports, [report_endpoint("/open/report")])
    assert rules(report) == ["access.unauthenticated"]
    found = only_finding(report)
    assert "without credentials and with a JWT with one signature bit flipped" in found.detail
    assert [e.status for e in found.evidence] == [200, 200, 200]
    assert "Authorization" not in found.evidence[0].request
    seen = statuses(report, "report")
    assert seen["unauthenticated"] == seen["invalid-token"] == CheckStatus.failed


def test_an_endpoint_that_verifies_the_token_gives_no_finding(reports: str) -> None:
    report = scan(reports, [report_endpoint("/checked/report")])
    assert rules(report) == []
    seen = checks(report, "report")
    assert seen["unauthenticated"] == (CheckStatus.passed, seen["unauthenticated"][1])
    assert "401" in seen["invalid-token"][1]
    assert seen["invalid-token"][0] == CheckStatus.passed


def test_an_endpoint_taking_any_bearer_token_is_reported_for_the_invalid_one(
    reports: str,
) -> None:
    report = scan(reports, [report_endpoint("/any-token/report")])
    assert rules(report) == ["access.unauthenticated"]
    assert "signatures are not verified" in only_finding(report).detail
    seen = statuses(report, "report")
    assert seen["unauthenticated"] == CheckStatus.passed
    assert seen["invalid-token"] == CheckStatus.failed


def test_a_200_error_body_for_anonymous_callers_is_no_finding(reports: str) -> None:
    report = scan(reports, [report_endpoint("/soft/report")])
    assert rules(report) == []
    assert set(statuses(report, "report").values()) == {CheckStatus.passed}


def test_data_the_same_for_everyone_is_reported_unless_tagged_public(reports: str) -> None:
    report = scan(reports, [report_endpoint("/catalog")])
    assert rules(report) == ["access.unauthenticated"]
    assert "if this endpoint is public by design, tag it `public`" in only_finding(report).detail

    public = scan(reports, [report_endpoint("/catalog", tags=["public"])])
    assert rules(public) == []
    status, detail = checks(public, "report")["unauthenticated"]
    assert status == CheckStatus.skipped
    assert "public" in detail


def test_an_open_endpoint_gets_one_finding_not_three(reports: str) -> None:
    endpoint = report_endpoint("/open/report", identity="carol", owner="carol", tags=["admin"])
    report = scan(reports, [endpoint])
    assert rules(report) == ["access.unauthenticated"]
    seen = checks(report, "report")
    for check in ("bola", "function-level"):
        assert seen[check][0] == CheckStatus.skipped
        assert "anonymous callers get its answer" in seen[check][1]


def test_a_refused_identity_makes_the_check_error_never_pass(reports: str) -> None:
    wrong = {"alice": {"token": apps.token("alice", apps.OTHER_SECRET)}}
    report = scan(reports, [report_endpoint("/checked/report")], identities=wrong)
    assert rules(report) == []
    status, detail = checks(report, "report")["unauthenticated"]
    assert status == CheckStatus.error
    assert "refuses or says nothing (401" in detail


def test_a_delete_endpoint_is_never_replayed(reports: str) -> None:
    endpoint = report_endpoint("/checked/report", method="DELETE", owner="alice")
    report = scan(reports, [endpoint])
    assert rules(report) == []
    assert set(statuses(report, "report").values()) == {CheckStatus.skipped}
    assert sent_by_probe(report) == 2  # the reachability request and the engine's baseline


# -- bola and function level --------------------------------------------------------------------


def test_reading_another_users_order_is_bola(weak_shop: str) -> None:
    report = scan(weak_shop, [ORDER])
    assert rules(report) == ["access.bola"]
    found = only_finding(report)
    assert found.detail.startswith("bob got alice's object")
    assert found.confidence == Confidence.firm  # the order's id is in both answers
    # The reader's answer and the owner's, both with the order's body.
    assert [e.status for e in found.evidence] == [200, 200]
    assert all('"id":1001' in e.body_excerpt for e in found.evidence)
    status, detail = checks(report, "order")["bola"]
    assert status == CheckStatus.failed
    assert "not tried as carol (admin)" in detail


def test_an_ownership_check_gives_no_bola(hardened_shop: str) -> None:
    report = scan(hardened_shop, [ORDER])
    assert rules(report) == []
    status, detail = checks(report, "order")["bola"]
    assert status == CheckStatus.passed
    assert "bob: 404" in detail


def test_bola_needs_a_second_identity(weak_shop: str) -> None:
    report = scan(weak_shop, [ORDER], identities=apps.identities("alice"))
    assert rules(report) == []
    status, detail = checks(report, "order")["bola"]
    assert status == CheckStatus.skipped
    assert "no other identity" in detail


def test_an_admin_route_without_a_role_check_is_reported(weak_shop: str) -> None:
    report = scan(weak_shop, [ADMIN])
    assert rules(report) == ["access.function-level"]
    assert "alice, bob, without the admin tag" in only_finding(report).detail


def test_an_admin_route_with_a_role_check_gives_no_finding(hardened_shop: str) -> None:
    report = scan(hardened_shop, [ADMIN])
    assert rules(report) == []
    status, detail = checks(report, "admin")["function-level"]
    assert status == CheckStatus.passed
    assert "alice: 403" in detail
    assert "bob: 403" in detail


def test_an_admin_route_without_other_identities_is_skipped(weak_shop: str) -> None:
    report = scan(weak_shop, [ADMIN], identities=apps.identities("carol"))
    assert rules(report) == []
    assert statuses(report, "admin")["function-level"] == CheckStatus.skipped


# -- user enumeration ---------------------------------------------------------------------------


def login(variant: str, user: str = "alice", **more: Any) -> dict[str, Any]:
    field = "email" if "@" in user else "username"
    body = {field: user, "password": apps.PASSWORDS[user]}
    endpoint: dict[str, Any] = {
        "name": "login",
        "method": "POST",
        "path": f"/{variant}/login",
        "tags": ["login"],
    }
    endpoint["form" if more.pop("form", False) else "json"] = body
    return {**endpoint, **more}


def test_a_login_naming_the_unknown_user_is_reported(logins: str) -> None:
    report = scan(logins, [login("message")], identities={})
    assert rules(report) == ["access.user-enumeration"]
    found = only_finding(report)
    assert "with another body" in found.detail
    assert "unknown user" in found.detail
    assert statuses(report, "login")["enumeration-timing"] == CheckStatus.skipped


def test_a_login_with_another_status_for_unknown_users_is_reported(
    logins: str, login_log: apps.LoginLog
) -> None:
    report = scan(logins, [login("status", "bob@example.test", form=True)], identities={})
    assert rules(report) == ["access.user-enumeration"]
    assert "401 for the known user, 404 for the unknown one" in only_finding(report).detail
    # A form body; the unknown user is made up on the known user's email domain.
    users = {u for v, u, _ in login_log.received if v == "status"}
    assert len(users) == 2
    assert all(u.endswith("@example.test") for u in users)


def test_a_uniform_login_gives_no_finding_and_never_gets_the_real_password(
    logins: str, login_log: apps.LoginLog
) -> None:
    report = scan(logins, [login("uniform")], identities={})
    assert rules(report) == []
    assert statuses(report, "login") == {
        "user-enumeration": CheckStatus.passed,
        "enumeration-timing": CheckStatus.passed,
    }
    # The engine's baseline sent the real password once; the probe never did.
    assert login_log.sent("uniform").count(apps.PASSWORDS["alice"]) == 1
    wrong = login_log.sent("uniform", "alice")
    assert len(wrong) == 1 + 2 + 5
    unknown = [u for v, u, _ in login_log.received if v == "uniform" and u != "alice"]
    assert len(unknown) == 2 + 5
    assert len(set(unknown)) == 1


def test_a_login_echoing_the_user_name_gives_no_finding(logins: str) -> None:
    report = scan(logins, [login("echo")], identities={})
    assert rules(report) == []


def test_random_delays_give_no_timing_finding(logins: str) -> None:
    report = scan(logins, [login("jitter")], identities={})
    assert rules(report) == []
    status, detail = checks(report, "login")["enumeration-timing"]
    assert status == CheckStatus.passed
    assert "known user" in detail


def test_a_consistent_delay_for_existing_users_is_reported(logins: str) -> None:
    report = scan(logins, [login("slow")], identities={})
    assert rules(report) == ["access.user-enumeration"]
    found = only_finding(report)
    assert "the known user's failed logins take longer" in found.detail
    # Both requests, each printing its status and time.
    assert found.reproduce is not None
    assert found.reproduce.count("%{time_total}") == 2
    assert "; echo; " in found.reproduce
    assert statuses(report, "login")["user-enumeration"] == CheckStatus.passed


def test_a_lockout_stops_the_wrong_passwords(logins: str, login_log: apps.LoginLog) -> None:
    report = scan(logins, [login("lockout")], identities={})
    assert rules(report) == []
    status, detail = checks(report, "login")["enumeration-timing"]
    assert status == CheckStatus.error
    assert "423 Locked" in detail
    # Three failures lock the account: the fourth wrong password got the 423, no fifth went.
    wrong = [p for p in login_log.sent("lockout", "alice") if p != apps.PASSWORDS["alice"]]
    assert len(wrong) == apps.LOCK_AFTER + 1


def test_an_answer_counting_attempts_stops_at_once(logins: str, login_log: apps.LoginLog) -> None:
    report = scan(logins, [login("attempts")], identities={})
    assert rules(report) == []
    status, detail = checks(report, "login")["user-enumeration"]
    assert status == CheckStatus.error
    assert "attempts left" in detail
    wrong = [p for p in login_log.sent("attempts", "alice") if p != apps.PASSWORDS["alice"]]
    assert len(wrong) == 1


# -- mass assignment ----------------------------------------------------------------------------

PATCH: dict[str, Any] = {
    "name": "profile",
    "method": "PATCH",
    "path": "/profile",
    "identity": "alice",
    "json": {"name": "Alice A."},
    "mass_assignment": True,
}


def mass_scan(mode: str, endpoints: list[dict[str, Any]], role: str = "user") -> Report:
    with serve_asgi(apps.profile_app(mode, role)) as url:
        return scan(url, endpoints, identities=apps.identities("alice"))


def test_a_stored_privilege_field_is_mass_assignment() -> None:
    me = {"name": "me", "path": "/me", "identity": "alice"}
    patch = {**PATCH, "mass_assignment": {"read": "me", "fields": {"is_admin": True}}}
    report = mass_scan("accepted", [patch, me])
    assert rules(report) == ["access.mass-assignment"]
    assert "stored is_admin=true" in only_finding(report).detail


def test_privilege_fields_the_api_ignores_give_no_finding() -> None:
    report = mass_scan("ignored", [PATCH])
    assert rules(report) == []
    status, detail = checks(report, "profile")["mass-assignment"]
    assert status == CheckStatus.passed
    assert "echoed" not in detail


def test_an_echoed_field_that_is_not_stored_gives_no_finding() -> None:
    report = mass_scan("echo", [PATCH])
    assert rules(report) == []
    status, detail = checks(report, "profile")["mass-assignment"]
    assert status == CheckStatus.passed
    assert "echoed" in detail
    assert "not stored" in detail


def test_a_field_already_at_the_value_is_inconclusive() -> None:
    report = mass_scan("ignored", [PATCH], role="admin")
    assert rules(report) == []
    status, detail = checks(report, "profile")["mass-assignment"]
    assert status == CheckStatus.error
    assert 'role="admin"' in detail


# -- the plan -----------------------------------------------------------------------------------


def test_the_plan_names_every_request_kind(weak_shop: str) -> None:
    endpoints = [ORDER, ADMIN, login("uniform"), PATCH]
    scn = scenario(weak_shop, endpoints, identities=EVERYONE)
    assert not AccessProbe.runs_last  # it runs beside the other probes
    lines = AccessProbe().plan(scn)
    text = "\n".join(lines)
    assert "1 without credentials, 1 with an invalid token" in text
    assert "1 each as alice, bob (no admin tag)" in text
    assert "up to 2 as the owner alice, 1 each as bob" in text
    assert "up to 7 wrong passwords" in text
    assert "admin, is_admin, role added" in text


def test_the_plan_says_when_nothing_is_sent(weak_shop: str) -> None:
    lines = AccessProbe().plan(scenario(weak_shop, [{"path": "/orders/1001"}]))
    assert lines == [
        "access: no endpoint has an identity, an owner, the admin or login tag, or "
        "mass_assignment; nothing is sent"
    ]
