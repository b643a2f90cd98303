"""The access probe's user-enumeration check against logins that trip careless comparisons: a
user name echoed in lower case, a user-name rule, servers taken in turn, lockouts without the
usual words, attempts counted for existing users only (a real Flask app on 127.0.0.1).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, jsonify
from flask import request as flask_request

from probe.findings import CheckStatus
from tests.probes.test_access import checks, only_finding, scan, statuses
from tests.scan import rules
from tests.servers import serve_wsgi

PASSWORD = "alice-real-password-1"
ACCOUNTS = {"alice@example.test": PASSWORD, "alice_w": PASSWORD}
LOCK_AFTER = 3
#: Servers a round robin takes in turn; the second half runs a new release.
PODS = 4


@dataclass
class Log:
    """What the app received: (route, user, password) per request, and failures per account."""

    received: list[tuple[str, str, str]] = field(default_factory=list)
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)
    turns: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrong(self, route: str, user: str) -> int:
        """Wrong passwords the route received for the user."""
        return sum(1 for r, u, p in self.received if r == route and u == user and p != PASSWORD)

    def pod(self, route: str) -> int:
        """The server the round robin hands this request to."""
        with self.lock:
            self.turns[route] += 1
            return (self.turns[route] - 1) % PODS


def logins_app(log: Log) -> Flask:
    """POST /<route>/login, JSON {email or username, password}.

    Every failure answers 401 {"error": "Invalid credentials."} unless the route says
    otherwise: `lower` echoes the e-mail in lower case for everyone; `rule` gives 422 to names
    that break ^[A-Za-z0-9_]{3,16}$ before any lookup; `pods` sends half the requests to a new
    release with another message; `silent-lock` answers 403 {"error": "E4031"} once an account
    failed LOCK_AFTER times; `disabled` answers 403 "Account disabled" then; `remaining` tells
    existing accounts how many attempts they have left; `per-address` counts every failure
    from the client and tells anyone the attempts left after four; `message` names unknown
    users.
    """
    app = Flask(__name__)

    @app.post("/<route>/login")
    def login(route: str) -> Any:
        data = flask_request.get_json(silent=True) or {}
        user = str(data.get("email") or data.get("username") or "")
        password = str(data.get("password") or "")
        log.received.append((route, user, password))
        new = route == "pods" and log.pod(route) >= PODS // 2
        if route == "rule" and not re.fullmatch(r"[A-Za-z0-9_]{3,16}", user):
            return jsonify(detail="username: string does not match the pattern"), 422
        known = user.strip().lower() in ACCOUNTS or user in ACCOUNTS
        if known and password == PASSWORD:
            return jsonify(access_token="t0ken-for-tests")
        if new:
            return jsonify(error="Invalid username or password."), 401
        return _failure(route, user, known, log)

    return app


def _failure(route: str, user: str, known: bool, log: Log) -> Any:
    if known:
        log.failures[(route, user)] += 1
    failed = log.failures[(route, user)]
    if route == "lower":
        return jsonify(message=f"Invalid email or password for {user.strip().lower()}"), 401
    if route == "silent-lock" and failed > LOCK_AFTER:
        return jsonify(error="E4031"), 403
    if route == "disabled" and failed > LOCK_AFTER:
        return jsonify(error="Account disabled"), 403
    if route == "remaining" and known:
        return jsonify(error=f"Invalid credentials. {5 - failed} attempts remaining"), 401
    if route == "per-address":
        log.failures[(route, "*")] += 1
        tries = log.failures[(route, "*")]
        if tries > LOCK_AFTER + 1:
            return jsonify(error=f"Invalid credentials. {9 - tries} attempts remaining"), 401
    if route == "message" and not known:
        return jsonify(error="No such account"), 401
    return jsonify(error="Invalid credentials."), 401


@pytest.fixture(scope="module")
def log() -> Log:
    return Log()


@pytest.fixture(scope="module")
def logins(log: Log) -> Iterator[str]:
    with serve_wsgi(logins_app(log)) as url:
        yield url


def login(route: str, user: str = "alice@example.test", **more: Any) -> dict[str, Any]:
    field_name = "email" if "@" in user else "username"
    return {
        "name": "login",
        "method": "POST",
        "path": f"/{route}/login",
        "json": {field_name: user, "password": PASSWORD},
        "tags": ["login"],
        **more,
    }


def login_scan(url: str, route: str, user: str = "alice@example.test", **access: Any) -> Any:
    return scan(url, [login(route, user)], identities={}, access=access)


# -- echoes and user-name rules -----------------------------------------------------------------


def test_a_user_name_echoed_in_lower_case_is_no_difference(logins: str) -> None:
    report = login_scan(logins, "lower", "Alice@Example.test")
    assert rules(report) == []
    assert statuses(report, "login") == {
        "user-enumeration": CheckStatus.passed,
        "enumeration-timing": CheckStatus.passed,
    }


def test_the_made_up_user_passes_the_user_name_rule(logins: str, log: Log) -> None:
    report = login_scan(logins, "rule", "alice_w")
    assert rules(report) == []
    unknown = {u for r, u, _ in log.received if r == "rule" and u != "alice_w"}
    assert len(unknown) == 1
    assert re.fullmatch(r"[a-z]{5}_[a-z]", unknown.pop())


def test_a_message_naming_unknown_users_is_reported_with_both_requests(logins: str) -> None:
    report = login_scan(logins, "message")
    assert rules(report) == ["access.user-enumeration"]
    found = only_finding(report)
    assert found.reproduce is not None
    first, second = found.reproduce.split("; echo; ")
    assert first.startswith("curl -i --path-as-is -X POST")
    assert '\\"email\\": \\"alice@example.test\\"' in first
    assert "alice@example.test" not in second
    assert "@example.test" in second
    assert first.endswith('/message/login"')
    assert second.endswith('/message/login"')


# -- servers taken in turn ----------------------------------------------------------------------


def test_two_releases_behind_a_round_robin_are_no_difference(logins: str) -> None:
    # The engine's baseline takes the first server, so every pair meets both releases; in a
    # random order over 14 pairs, the sides are sorted consistently once in 8192 scans.
    report = login_scan(logins, "pods", timing_samples=12)
    assert rules(report) == []
    assert statuses(report, "login")["user-enumeration"] == CheckStatus.passed


# -- lockouts and attempts ------------------------------------------------------------------------


def test_a_silent_lockout_stops_the_wrong_passwords(logins: str, log: Log) -> None:
    report = login_scan(logins, "silent-lock")
    assert rules(report) == []
    status, detail = checks(report, "login")["enumeration-timing"]
    assert status == CheckStatus.error
    assert "401 at first, then 403" in detail
    assert "the account may be locking" in detail
    assert statuses(report, "login")["user-enumeration"] == CheckStatus.passed
    assert log.wrong("silent-lock", "alice@example.test") == LOCK_AFTER + 1


def test_an_account_disabled_stops_the_wrong_passwords(logins: str, log: Log) -> None:
    report = login_scan(logins, "disabled")
    assert rules(report) == []
    status, detail = checks(report, "login")["enumeration-timing"]
    assert status == CheckStatus.error
    assert "403 saying 'disabled'" in detail
    assert log.wrong("disabled", "alice@example.test") == LOCK_AFTER + 1


def test_attempts_counted_for_existing_users_only_are_reported(logins: str, log: Log) -> None:
    report = login_scan(logins, "remaining")
    assert rules(report) == ["access.user-enumeration"]
    assert "a count kept for existing accounts only" in only_finding(report).detail
    assert statuses(report, "login")["enumeration-timing"] == CheckStatus.skipped
    # One wrong password for the real account; the unknown user still got its two.
    assert log.wrong("remaining", "alice@example.test") == 1
    unknown = [u for r, u, _ in log.received if r == "remaining" and "alice" not in u]
    assert len(unknown) == 2


def test_attempts_counted_per_address_are_no_difference(logins: str, log: Log) -> None:
    report = login_scan(logins, "per-address")
    assert rules(report) == []
    status, detail = checks(report, "login")["user-enumeration"]
    assert status == CheckStatus.error
    assert "attempts remaining" in detail
    # The count spoke at the fifth failure: the known user had two or three by then.
    assert log.wrong("per-address", "alice@example.test") in (2, 3)
