"""The access probe's user-enumeration check against server-rendered form logins, redirects,
login field names of common frameworks, and a user name that is a secret of the scenario (a
real Flask app on 127.0.0.1; every route counts the wrong passwords it gets).
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify
from flask import request as flask_request

from probe.findings import CheckStatus, Confidence
from tests.probes.test_access import checks, only_finding, scan
from tests.scan import rules, run, scenario
from tests.servers import serve_wsgi

PASSWORD = "alice-real-password-1"
ALICE = "alice@example.test"
SECRET_ALICE = "alice.sm1th@corp-intra.example"
ACCOUNTS = {ALICE, SECRET_ALICE}
LOCK_AFTER = 3
HINT = "<p class='hint'>For your security, accounts are locked after 10 failed attempts.</p>"
MESSAGES = {True: "Incorrect password.", False: "No account with that email."}


def forms_app(wrong: Counter[str]) -> Flask:
    """POST /<route> with a form (email, password) or, for the framework routes, their own
    fields. `wrong` counts the wrong passwords per route for existing accounts.

    Pages (200, the form again): `leaky` names the failure ("Incorrect password." or "No
    account with that email."), under a fresh CSP nonce and a submit button that is `disabled`
    until its script ran; `hint` does the same with a static hint that accounts lock after ten
    failures; `uniform` says "Invalid email or password." to everyone beside the same hint;
    `locking` is uniform with the hint, and tells a locked account so after LOCK_AFTER
    failures. Redirects (302, empty body): `redirect` to /login?error=bad_password or
    /login?error=unknown_email; `redirect-same` to /login?error=invalid for both. Framework
    fields, 401 for a wrong password and 404 for an unknown user: `strapi` (JSON identifier),
    `spring` (j_username, j_password), `devise` (user[email], user[password]). `json` answers
    JSON {email, password} so: 401 "wrong password for <email>", 404 "no account <email>".
    """
    app = Flask(__name__)

    @app.post("/<route>")
    def login(route: str) -> Any:
        data = flask_request.get_json(silent=True) or flask_request.form
        user, password = _credentials(route, data)
        known = user in ACCOUNTS
        if known and password == PASSWORD:
            return "", 302, {"Location": "/home"}
        if known:
            wrong[route] += 1
        return _failure(route, user, known, wrong[route])

    return app


def _credentials(route: str, data: Any) -> tuple[str, str]:
    fields = {
        "strapi": ("identifier", "password"),
        "spring": ("j_username", "j_password"),
        "devise": ("user[email]", "user[password]"),
    }
    user, password = fields.get(route, ("email", "password"))
    return str(data.get(user) or ""), str(data.get(password) or "")


def _page(message: str, user: str, extra: str = "") -> tuple[str, int, dict[str, str]]:
    nonce = base64.b64encode(os.urandom(16)).decode()
    body = (
        f"<!doctype html><html><head><script nonce='{nonce}' src='/app.js'></script></head>"
        f"<body><h1>Sign in</h1><p class='error'>{message}</p><form method='post'>"
        f"<input name='email' value='{html.escape(user)}'><input name='password' type='password'>"
        f"<button type='submit' class='btn' disabled>Sign in</button></form>{extra}</body></html>"
    )
    return body, 200, {"Content-Type": "text/html; charset=utf-8"}


def _failure(route: str, user: str, known: bool, failures: int) -> Any:
    if route == "leaky":
        return _page(MESSAGES[known], user)
    if route == "hint":
        return _page(MESSAGES[known], user, HINT)
    if route == "uniform":
        return _page("Invalid email or password.", user, HINT)
    if route == "locking":
        locked = known and failures > LOCK_AFTER
        return _page(
            "Your account is locked." if locked else "Invalid email or password.", user, HINT
        )
    if route == "redirect":
        error = "bad_password" if known else "unknown_email"
        return "", 302, {"Location": f"/login?error={error}"}
    if route == "redirect-same":
        return "", 302, {"Location": "/login?error=invalid"}
    if route == "json":
        said = f"wrong password for {user}" if known else f"no account {user}"
        return jsonify(error=said), 401 if known else 404
    return jsonify(error="wrong password" if known else "no such user"), 401 if known else 404


@pytest.fixture(scope="module")
def wrong() -> Counter[str]:
    return Counter()


@pytest.fixture(scope="module")
def forms(wrong: Counter[str]) -> Iterator[str]:
    with serve_wsgi(forms_app(wrong)) as url:
        yield url


def form_login(route: str, body: dict[str, str] | None = None, **more: Any) -> dict[str, Any]:
    kind = "json" if route in ("strapi", "json") else "form"
    return {
        "name": "login",
        "method": "POST",
        "path": f"/{route}",
        kind: body or {"email": ALICE, "password": PASSWORD},
        "tags": ["login"],
        **more,
    }


def login_scan(url: str, endpoint: dict[str, Any]) -> Any:
    return scan(url, [endpoint], identities={})


# -- what a user sees -----------------------------------------------------------------------------


def test_a_disabled_button_is_no_lockout_and_the_message_is_the_excerpt(
    forms: str, wrong: Counter[str]
) -> None:
    report = login_scan(forms, form_login("leaky"))
    assert rules(report) == ["access.user-enumeration"]
    detail = only_finding(report).detail
    assert "Incorrect password." in detail
    assert "No account with that email." in detail
    assert "nonce" not in detail  # the excerpt starts near the messages, past the nonce
    assert wrong["leaky"] == 7  # no lockout sign: every pair was sent


def test_a_static_lockout_hint_is_no_lockout(forms: str, wrong: Counter[str]) -> None:
    report = login_scan(forms, form_login("hint"))
    assert rules(report) == ["access.user-enumeration"]
    status, detail = checks(report, "login")["user-enumeration"]
    assert status == CheckStatus.failed
    assert "every answer of both users holds it, so it is the page's own text" in detail


def test_a_uniform_page_with_the_hint_gives_no_finding(forms: str, wrong: Counter[str]) -> None:
    report = login_scan(forms, form_login("uniform"))
    assert rules(report) == []
    seen = checks(report, "login")
    assert seen["user-enumeration"][0] == CheckStatus.passed
    assert seen["enumeration-timing"][0] == CheckStatus.passed
    assert wrong["uniform"] == 7


def test_a_lockout_message_beside_the_hint_still_stops(forms: str, wrong: Counter[str]) -> None:
    report = login_scan(forms, form_login("locking"))
    assert rules(report) == []
    status, detail = checks(report, "login")["enumeration-timing"]
    assert status == CheckStatus.error
    assert "200 saying 'locked'" in detail
    assert wrong["locking"] == LOCK_AFTER + 1


# -- redirects ------------------------------------------------------------------------------------


def test_redirects_to_another_error_per_user_are_reported(forms: str) -> None:
    report = login_scan(forms, form_login("redirect"))
    assert rules(report) == ["access.user-enumeration"]
    detail = only_finding(report).detail
    assert "with another redirect target" in detail
    assert "'/login?error=bad_password' for the known user" in detail
    assert "'/login?error=unknown_email' for the unknown one" in detail


def test_the_same_redirect_for_everyone_gives_no_finding(forms: str) -> None:
    report = login_scan(forms, form_login("redirect-same"))
    assert rules(report) == []
    status, detail = checks(report, "login")["user-enumeration"]
    assert status == CheckStatus.passed
    assert detail == "both answered 302 to '/login?error=invalid' with the same body"


# -- field names of common frameworks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("strapi", {"identifier": ALICE, "password": PASSWORD}),
        ("spring", {"j_username": ALICE, "j_password": PASSWORD}),
        ("devise", {"user[email]": ALICE, "user[password]": PASSWORD}),
    ],
)
def test_framework_login_fields_are_found(
    forms: str, wrong: Counter[str], route: str, body: dict[str, str]
) -> None:
    report = login_scan(forms, form_login(route, body))
    assert rules(report) == ["access.user-enumeration"]
    assert "401 for the known user, 404 for the unknown one" in only_finding(report).detail
    assert wrong[route] == 7


def test_unknown_field_names_say_how_to_name_them(forms: str) -> None:
    endpoint = form_login("spring", {"who": ALICE, "j_password": PASSWORD})
    report = login_scan(forms, endpoint)
    status, detail = checks(report, "login")["user-enumeration"]
    assert status == CheckStatus.error
    assert "set the endpoint's login_fields or probes.access.user_field" in detail


# -- a user name that is a secret -----------------------------------------------------------------


def test_a_secret_user_name_gets_a_neutral_unknown_user(forms: str) -> None:
    endpoint = form_login("json", {"email": SECRET_ALICE, "password": PASSWORD})
    scn = scenario(forms, [endpoint], identities={}, probes={"access": {}})
    report = run(scn, probes=["access"], secrets_by_name={"ALICE_EMAIL": SECRET_ALICE})
    assert rules(report) == ["access.user-enumeration"]
    found = only_finding(report)
    assert found.confidence == Confidence.tentative
    assert "the unknown user is a neutral made-up name" in found.detail
    assert "neutral made-up name" in checks(report, "login")["user-enumeration"][1]
    shown = json.dumps(report.model_dump(mode="json"))
    assert "corp-intra" not in shown
    assert "sm1th" not in shown
    assert "@example.invalid" in shown
