"""The jwt probe's refresh-rotation check against real refreshers on 127.0.0.1: what the
evidence shows of the tokens, a reuse grace period, and a server that revokes every session
of the user when a refresh token comes back (the check runs after every token check)."""

from __future__ import annotations

import re
from typing import Any

from probe.findings import CheckStatus
from tests.probes import apps_jwt as apps
from tests.probes.test_jwt import checks, finding, login, scan, statuses
from tests.scan import rules

ALICE_ONLY = {"identity": "alice"}
UNIQUE = apps.Issuer(unique=True)


def refreshing(user: str) -> dict[str, Any]:
    identity = login(user)
    identity["login"]["refresh_path"] = "refresh_token"
    identity["login"]["refresh"] = {"path": "/auth/refresh"}
    return identity


def test_refresh_evidence_names_every_token_apart_and_shows_none() -> None:
    refresher = apps.Refresher(rotating=False)
    app = apps.token_app(UNIQUE, refresher=refresher)
    report = scan(app, identities={"alice": refreshing("alice")})
    assert rules(report) == ["jwt.refresh-not-rotated"]
    found = finding(report, "refresh-not-rotated")
    second, first = found.evidence[0], found.evidence[1]
    # The same refresh token sent twice, from the fresh login.
    sent = re.findall(r'"refresh_token": "(\$\{\w+\})"', first.request)
    assert sent
    assert sent == re.findall(r'"refresh_token": "(\$\{\w+\})"', second.request)
    # Each answer's tokens by names of their own: the second answer's are new ones.
    assert "${ALICE_ACCESS_1}" in first.body_excerpt
    assert "${ALICE_REFRESH_1}" in first.body_excerpt
    assert "${ALICE_ACCESS_2}" in second.body_excerpt
    assert "${ALICE_REFRESH_2}" in second.body_excerpt
    assert "second answer: access token ${ALICE_ACCESS_2}" in found.detail
    assert not re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]{16,}", report.model_dump_json())


def test_a_reuse_grace_period_repeating_the_first_answer_is_no_new_token() -> None:
    refresher = apps.Refresher(rotating=True, grace=10)
    app = apps.token_app(UNIQUE, refresher=refresher)
    report = scan(app, identities={"alice": refreshing("alice")})
    assert rules(report) == []
    status, detail = checks(report)["refresh-rotation"]
    assert status is CheckStatus.passed
    assert "grace period" in detail
    said = re.search(r"first answer: (access token \S+, refresh token \S+);", detail)
    assert said is not None
    assert f"second answer: {said.group(1)})" in detail  # the very same tokens


def test_a_rotated_refresh_token_passes() -> None:
    report = scan(
        apps.token_app(refresher=apps.Refresher(rotating=True)),
        identities={"alice": refreshing("alice")},
    )
    assert rules(report) == []
    status, detail = checks(report)["refresh-rotation"]
    assert status is CheckStatus.passed
    assert "rotated" in detail
    assert "stopped working" not in detail


def test_a_server_revoking_every_session_on_reuse_hides_no_token_finding() -> None:
    refresher = apps.Refresher(rotating=True, revoke=True)
    app = apps.token_app(verify=apps.none_allowed(), refresher=refresher)
    identities = {"alice": refreshing("alice"), "bob": login("bob")}
    report = scan(app, identities=identities, **ALICE_ONLY)
    # Refresh rotation runs after the token checks: alg none is still seen accepted.
    assert rules(report) == ["jwt.alg-none-accepted"]
    status, detail = checks(report)["refresh-rotation"]
    assert status is CheckStatus.passed
    assert "alice's token stopped working at me (answered 401)" in detail
    assert refresher.revoked == {"alice"}


def test_checks_that_passed_after_the_session_ended_become_errors() -> None:
    # The server takes 4 tokens (the baselines), then ends every session: each forged token
    # that follows is refused for that alone, and the re-sent valid token shows it.
    app = apps.token_app(verify=apps.sessions_end_after(4, apps.none_allowed()))
    report = scan(app)
    assert rules(report) == []
    status, detail = checks(report)["alg-none"]
    assert status is CheckStatus.error
    assert "the identity's token stopped working during the checks" in detail
    assert "answered 401" in detail
    assert statuses(report)["baselines"] is CheckStatus.passed
