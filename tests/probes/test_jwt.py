"""The jwt probe against real token-checking APIs on 127.0.0.1 (Starlette + PyJWT, see
`apps_jwt`), each weak verifier beside a hardened twin.

Every scan asserts exactly the findings it should give. Scans that do not test the wait-out
set `wait_for_expiry: 0` and take well under a second; the wait-out scans (a 30-second token,
and 5-second tokens replayed up to 61 s past exp, the least that can show more than clock
leeway) run side by side from one module fixture, about 70 s in all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette

from probe.engine import Scan
from probe.events import Event, Notice
from probe.findings import CheckStatus, Finding, Severity
from probe.probes.jwt import TOKEN_CHECKS, JwtProbe
from probe.report import Report
from tests.probes import apps_jwt as apps
from tests.scan import rules, run, scenario
from tests.servers import serve_asgi

ME = {"name": "me", "path": "/api/me", "identity": "alice"}
LONG_AGO = 3600


def login(user: str) -> dict[str, Any]:
    """An identity that logs in at the app's /auth/login."""
    body = {"username": user, "password": apps.PASSWORDS[user]}
    return {
        "login": {
            "method": "POST",
            "path": "/auth/login",
            "json": body,
            "token_path": "access_token",
        }
    }


IDENTITIES = {"alice": login("alice"), "bob": login("bob")}


def scan(app: Starlette, **options: Any) -> Report:
    """One scan with the jwt probe alone; `options` are the probe's, plus `endpoints`,
    `identities` and `events`."""
    with serve_asgi(app) as url:
        return scan_url(url, **options)


def scan_url(
    url: str,
    *,
    endpoints: list[dict[str, Any]] | None = None,
    identities: Mapping[str, Any] | None = None,
    events: Any = None,
    settings: Mapping[str, Any] | None = None,
    **options: Any,
) -> Report:
    """One scan with the jwt probe alone of a server already running (`settings` added to
    the scenario's)."""
    probes = {"jwt": {"wait_for_expiry": 0, **options}}
    scn = scenario(
        url,
        endpoints if endpoints is not None else [ME],
        identities=dict(identities if identities is not None else IDENTITIES),
        probes=probes,
        settings=dict(settings or {}),
    )
    return run(scn, probes=["jwt"], events=events)


def checks(report: Report) -> dict[str, tuple[CheckStatus, str]]:
    """The jwt checks: name -> (status, detail)."""
    return {c.check: (c.status, c.detail) for c in report.checks if c.probe == "jwt"}


def statuses(report: Report) -> dict[str, CheckStatus]:
    return {name: status for name, (status, _) in checks(report).items()}


def finding(report: Report, rule: str) -> Finding:
    found = [f for f in report.findings if f.rule == f"jwt.{rule}"]
    assert len(found) == 1, rules(report)
    return found[0]


def shell(command: str, **env: str) -> str:
    """Run a reproduce line (its python3 is this interpreter, which has PyJWT) and return
    curl's status code."""
    line = command.replace("python3 -c", f"{sys.executable} -c", 1)
    done = subprocess.run(
        ["bash", "-c", f"{line} -s -o /dev/null -w '%{{http_code}}'"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **env},
        check=False,
    )
    return done.stdout.strip()


# -- tokens verified properly ---------------------------------------------------------------------


def test_tokens_verified_properly_give_no_finding() -> None:
    expired = apps.Issuer().issue("alice", exp=time.time() - LONG_AGO)
    report = scan(apps.token_app(), secret=apps.STRONG_SECRET, expired_token=expired)
    assert rules(report) == []
    seen = statuses(report)
    assert set(seen.values()) <= {CheckStatus.passed, CheckStatus.skipped}
    for check in ("baselines", "signature", "alg-none", "header-key-injection", "weak-secret"):
        assert seen[check] is CheckStatus.passed, check
    for check in ("expiry-replay", "expiry-minted", "token-in-query", "token-in-url"):
        assert seen[check] is CheckStatus.passed, check
    assert seen["key-confusion"] is CheckStatus.skipped  # an HS256 token
    assert "refused 60 min past exp" in checks(report)["expiry-replay"][1]
    assert "none accepted (all 401)" in checks(report)["alg-none"][1]


def test_no_token_or_secret_of_the_scan_reaches_the_report() -> None:
    token = apps.Issuer().issue("alice")
    identities = {"alice": {"token": token}}
    report = scan(apps.token_app(), identities=identities, secret=apps.STRONG_SECRET)
    text = report.model_dump_json()
    assert token not in text
    assert token.rsplit(".", 1)[1] not in text
    assert apps.STRONG_SECRET not in text


# -- expiry ---------------------------------------------------------------------------------------


def test_expired_token_accepted_with_verify_exp_off_is_high() -> None:
    expired = apps.Issuer().issue("alice", exp=time.time() - LONG_AGO)
    report = scan(apps.token_app(verify=apps.exp_unchecked()), expired_token=expired)
    assert rules(report) == ["jwt.expired-accepted"]
    found = finding(report, "expired-accepted")
    assert found.severity is Severity.high
    assert "expired_token: accepted 60 min past exp" in found.detail
    assert statuses(report)["expiry-replay"] is CheckStatus.failed


def test_another_users_expired_token_answered_with_their_data_is_accepted() -> None:
    expired = apps.Issuer().issue("bob", exp=time.time() - LONG_AGO)
    report = scan(apps.token_app(verify=apps.exp_unchecked()), expired_token=expired)
    assert rules(report) == ["jwt.expired-accepted"]
    status, detail = checks(report)["expiry-replay"]
    assert status is CheckStatus.failed
    assert "another user's token, answered with that user's data" in detail
    # Refused when exp is checked: no finding.
    refused = scan(apps.token_app(), expired_token=expired)
    assert rules(refused) == []
    assert statuses(refused)["expiry-replay"] is CheckStatus.passed


def test_minted_expired_token_accepted_with_verify_exp_off_reproduces() -> None:
    app = apps.token_app(verify=apps.exp_unchecked())
    with serve_asgi(app) as url:
        report = scan_url(url, secret=apps.STRONG_SECRET)
        assert rules(report) == ["jwt.expired-accepted"]
        found = finding(report, "expired-accepted")
        assert "minted with exp 3 h ago: accepted 3 h past exp" in found.detail
        assert found.reproduce is not None
        assert found.reproduce.startswith("TOKEN=$(python3 -c")
        assert "${JWT_SECRET}" in found.reproduce
        assert shell(found.reproduce, JWT_SECRET=apps.STRONG_SECRET) == "200"


def test_token_accepted_two_minutes_past_exp_is_a_long_leeway() -> None:
    expired = apps.Issuer().issue("alice", exp=time.time() - 120)
    report = scan(apps.token_app(verify=apps.strict(leeway=150)), expired_token=expired)
    assert rules(report) == ["jwt.long-expiry-leeway"]
    assert finding(report, "long-expiry-leeway").severity is Severity.low


def test_token_accepted_within_clock_leeway_passes_with_the_figure() -> None:
    expired = apps.Issuer().issue("alice", exp=time.time() - 20)
    report = scan(apps.token_app(verify=apps.strict(leeway=30)), expired_token=expired)
    assert rules(report) == []
    status, detail = checks(report)["expiry-replay"]
    assert status is CheckStatus.passed
    assert "within ordinary clock leeway" in detail


# -- signatures -----------------------------------------------------------------------------------


def test_unverified_signature_is_one_critical_finding() -> None:
    report = scan(apps.token_app(verify=apps.signature_unchecked()))
    assert rules(report) == ["jwt.signature-not-verified"]
    found = finding(report, "signature-not-verified")
    assert found.severity is Severity.critical
    for name in ("signature-bit-flipped", "payload-changed-exp", "signature-stripped"):
        assert name in found.detail
    # The flipped signature was accepted, so the negative shown is the request without a token.
    assert found.evidence[-1].note is not None
    assert "no token" in found.evidence[-1].note
    seen = statuses(report)
    assert seen["alg-none"] is CheckStatus.skipped
    assert seen["header-key-injection"] is CheckStatus.skipped


def test_alg_none_accepted_is_reported_with_the_unsigned_token_shown() -> None:
    report = scan(apps.token_app(verify=apps.none_allowed()))
    assert rules(report) == ["jwt.alg-none-accepted"]
    found = finding(report, "alg-none-accepted")
    assert "alg-none-nOnE-dot" in found.detail
    assert statuses(report)["signature"] is CheckStatus.passed
    # An unsigned token holds no secret: the evidence shows it in full.
    assert "Authorization: Bearer eyJhbGciOiJub25lIi" in found.evidence[0].request


# PyJWT warns about the short key the weak app signs with.
@pytest.mark.filterwarnings("ignore:The HMAC key is")
def test_weak_default_secret_is_found_offline_and_confirmed() -> None:
    app = apps.token_app(apps.Issuer(key=apps.WEAK_SECRET), apps.strict(apps.WEAK_SECRET))
    with serve_asgi(app) as url:
        report = scan_url(url)
        assert rules(report) == ["jwt.weak-secret"]
        found = finding(report, "weak-secret")
        assert found.severity is Severity.critical
        assert "'your-256-bit-secret'" in found.detail
        assert found.reproduce is not None
        assert shell(found.reproduce) == "200"
    # The secret is known, so a minted expired token is tried too: refused.
    assert statuses(report)["expiry-minted"] is CheckStatus.passed


def test_secret_given_in_the_scenario_is_never_reported_as_weak() -> None:
    report = scan(apps.token_app(), secret=apps.STRONG_SECRET)
    assert rules(report) == []
    assert statuses(report)["expiry-minted"] is CheckStatus.passed


def test_rs256_service_that_takes_its_public_key_as_hmac_secret() -> None:
    report = scan(apps.token_app(apps.RS256, apps.public_key_as_hmac(), jwks=True))
    assert rules(report) == ["jwt.key-confusion"]
    found = finding(report, "key-confusion")
    assert "/.well-known/jwks.json" in found.detail
    assert "key-confusion-pem" in found.detail


def test_rs256_service_that_allows_only_rs256_passes_key_confusion() -> None:
    app = apps.token_app(apps.RS256, apps.strict(apps.PUBLIC_PEM, "RS256"), jwks=True)
    report = scan(app)
    assert rules(report) == []
    assert statuses(report)["key-confusion"] is CheckStatus.passed
    assert statuses(report)["weak-secret"] is CheckStatus.skipped


def test_rs256_without_a_public_key_skips_key_confusion() -> None:
    report = scan(apps.token_app(apps.RS256, apps.public_key_as_hmac()))
    assert rules(report) == []
    status, detail = checks(report)["key-confusion"]
    assert status is CheckStatus.skipped
    assert "answered 404" in detail


def test_jwks_outside_the_scope_is_never_fetched() -> None:
    app = apps.token_app(apps.RS256, apps.public_key_as_hmac(), jwks=True)
    with serve_asgi(app) as url:
        probes = {"jwt": {"wait_for_expiry": 0, "jwks_url": "https://keys.example.invalid/k"}}
        scn = scenario(url, [ME], identities=IDENTITIES, probes=probes)
        scan_ = Scan(scn, probes=["jwt"])
        report = anyio.run(scan_.run)
    status, detail = checks(report)["key-confusion"]
    assert status is CheckStatus.skipped
    assert "out of scope" in detail
    for exchange in scan_.exchanges():
        assert exchange.request.url.startswith(url) or exchange.response is None


def test_embedded_jwk_trusted_is_header_key_injection() -> None:
    report = scan(apps.token_app(verify=apps.embedded_jwk()))
    assert rules(report) == ["jwt.header-key-injection"]
    assert "jwk-embedded" in finding(report, "header-key-injection").detail


@pytest.mark.filterwarnings("ignore:The HMAC key is")  # the empty key /dev/null gives
def test_key_read_from_the_file_kid_names_is_header_key_injection() -> None:
    app = apps.token_app(apps.Issuer(kid="default"), apps.key_file_by_kid())
    report = scan(app)
    assert rules(report) == ["jwt.header-key-injection"]
    detail = finding(report, "header-key-injection").detail
    assert "(kid-empty-file)" in detail
    assert "(kid-empty-file-absolute)" in detail
    assert "jwk-embedded" not in detail


# -- answers that look alike ----------------------------------------------------------------------


def test_200_with_an_error_body_for_bad_tokens_is_told_apart() -> None:
    hardened = scan(apps.token_app(refused=apps.ERROR_200))
    assert rules(hardened) == []
    assert statuses(hardened)["alg-none"] is CheckStatus.passed
    weak = scan(apps.token_app(verify=apps.none_allowed(), refused=apps.ERROR_200))
    assert rules(weak) == ["jwt.alg-none-accepted"]


@pytest.mark.parametrize(
    "always",
    [apps.ERROR_200, (200, {"user": "alice", "plan": "pro"})],
    ids=["error-body-for-everyone", "no-token-needed"],
)
def test_endpoint_answering_alike_to_everyone_is_inconclusive(
    always: tuple[int, dict[str, Any]],
) -> None:
    expired = apps.Issuer().issue("alice", exp=time.time() - LONG_AGO)
    app = apps.token_app(verify=apps.signature_unchecked(), always=always)
    report = scan(app, expired_token=expired, secret=apps.STRONG_SECRET)
    assert rules(report) == []
    seen = checks(report)
    assert seen["baselines"][0] is CheckStatus.error
    assert "cannot be told apart" in seen["baselines"][1]
    for check in TOKEN_CHECKS:
        assert seen[check][0] is CheckStatus.error, check


def test_a_limit_that_outlasts_its_retry_after_is_inconclusive_after_one_wait() -> None:
    # Limited for a minute after the first bad token, while Retry-After says 1 s.
    limiter = apps.Limiter(after=1, seconds=60, says=1)
    started = time.monotonic()
    report = scan(apps.token_app(limiter=limiter))
    assert rules(report) == []
    status, detail = checks(report)["baselines"]
    assert status is CheckStatus.error
    assert "answered 429" in detail
    assert statuses(report)["alg-none"] is CheckStatus.error
    # One wait (Retry-After: 1) and one try again, then no more waiting.
    assert time.monotonic() - started < 8
    assert limiter.limits == 2


def test_a_token_answered_429_is_sent_again_after_retry_after() -> None:
    limiter = apps.Limiter(after=3, seconds=1)
    report = scan(apps.token_app(limiter=limiter))
    assert rules(report) == []
    assert limiter.limits > 0  # the limit was hit, and waited out
    for check in ("signature", "alg-none", "header-key-injection", "token-in-query"):
        assert statuses(report)[check] is CheckStatus.passed, checks(report)[check]


# -- the token itself -----------------------------------------------------------------------------


def test_token_living_two_days_is_a_medium_long_lifetime() -> None:
    report = scan(apps.token_app(apps.Issuer(lifetime=2 * 86_400)))
    assert rules(report) == ["jwt.long-lifetime"]
    found = finding(report, "long-lifetime")
    assert found.severity is Severity.medium
    assert "2 days" in found.detail


def test_token_with_a_password_claim_is_reported_and_the_password_never_shown() -> None:
    password = "Tr0ub4dor&3-horse"
    report = scan(apps.token_app(apps.Issuer(extra={"password": password})))
    assert rules(report) == ["jwt.sensitive-claims"]
    assert finding(report, "sensitive-claims").parameter == "password"
    text = report.model_dump_json()
    assert password not in text
    # Forged tokens carry the payload, so none of them is shown in full either.
    assert "Bearer eyJ" not in text


def test_token_without_exp_is_reported() -> None:
    report = scan(apps.token_app(apps.Issuer(lifetime=None)), wait_for_expiry=60)
    assert rules(report) == ["jwt.no-expiry"]
    assert statuses(report)["expiry-wait"] is CheckStatus.skipped
    assert statuses(report)["lifetime"] is CheckStatus.skipped


# -- refresh rotation -----------------------------------------------------------------------------


def refreshing(user: str) -> dict[str, Any]:
    identity = login(user)
    identity["login"]["refresh_path"] = "refresh_token"
    identity["login"]["refresh"] = {"path": "/auth/refresh"}
    return identity


def test_refresh_token_that_works_twice_is_reported() -> None:
    app = apps.token_app(refresher=apps.Refresher(rotating=False))
    report = scan(app, identities={"alice": refreshing("alice")})
    assert rules(report) == ["jwt.refresh-not-rotated"]
    found = finding(report, "refresh-not-rotated")
    assert found.severity is Severity.high
    assert found.affected == ["POST /auth/refresh"]


# -- tokens in URLs -------------------------------------------------------------------------------


def test_token_accepted_in_the_query_is_reported() -> None:
    report = scan(apps.token_app(query=True))
    assert rules(report) == ["jwt.token-in-url"]
    found = finding(report, "token-in-url")
    assert "?access_token=" in found.detail
    assert "access_token=${ALICE_TOKEN}" in (found.reproduce or "")


def test_token_refused_in_the_query_passes() -> None:
    report = scan(apps.token_app())
    assert rules(report) == []
    assert statuses(report)["token-in-query"] is CheckStatus.passed


def test_jwt_in_a_scenario_url_is_reported_and_redacted() -> None:
    token = apps.Issuer().issue("bob")
    link = {"name": "link", "path": "/api/me", "query": {"access_token": token}}
    report = scan(apps.token_app(), endpoints=[ME, link])
    assert rules(report) == ["jwt.token-in-url"]
    found = finding(report, "token-in-url")
    assert found.endpoint == "link"
    assert token not in report.model_dump_json()


# -- nothing to test ------------------------------------------------------------------------------


def test_opaque_token_skips_every_check() -> None:
    report = scan(apps.token_app(), identities={"alice": {"token": "opaque-session-1234"}})
    assert rules(report) == []
    seen = checks(report)
    assert seen["signature"] == (
        CheckStatus.skipped,
        "alice's token is opaque (not a JWT): no JWT to test",
    )
    assert all(s is CheckStatus.skipped for n, (s, _) in seen.items() if n != "token-in-url")


def test_no_endpoint_sent_as_the_identity_skips_the_token_checks() -> None:
    anonymous = {"name": "me", "path": "/api/me"}
    report = scan(apps.token_app(apps.Issuer(lifetime=None)), endpoints=[anonymous])
    # The token's own claims are still judged.
    assert rules(report) == ["jwt.no-expiry"]
    status, detail = checks(report)["signature"]
    assert status is CheckStatus.skipped
    assert "probes.jwt.endpoint" in detail


# -- waiting tokens out ---------------------------------------------------------------------------

_WAITS: dict[str, tuple[Starlette, dict[str, Any]]] = {
    "hardened-30s": (apps.token_app(apps.Issuer(lifetime=30)), {"wait_for_expiry": 45}),
    "exp-unchecked": (
        apps.token_app(apps.Issuer(lifetime=5), apps.exp_unchecked()),
        {"wait_for_expiry": 68},
    ),
    "cached": (
        apps.token_app(apps.Issuer(lifetime=5), apps.cached_first_use()),
        {"wait_for_expiry": 68},
    ),
}


@pytest.fixture(scope="module")
def waited() -> dict[str, tuple[Report, list[str]]]:
    """The wait-out scans side by side (they mostly sleep): report and notices of each."""
    bare = apps.Issuer(lifetime=5).issue("alice")
    behind = apps.Issuer(lifetime=5, clock_offset=-100)
    cases = {
        **_WAITS,
        "bare-token": (
            apps.token_app(),
            {"wait_for_expiry": 20, "identities": {"alice": {"token": bare}}},
        ),
        # A strict server whose clock runs 100 s behind and which sends no Date header.
        "behind-no-date": (
            apps.token_app(behind, apps.strict_at(-100)),
            {"wait_for_expiry": 20},
        ),
    }
    no_date = {"behind-no-date"}
    notices: dict[str, list[str]] = {name: [] for name in cases}

    def sink(name: str) -> Any:
        def take(event: Event) -> None:
            if isinstance(event, Notice):
                notices[name].append(event.message)

        return take

    with ExitStack() as servers, ThreadPoolExecutor(max_workers=len(cases)) as pool:
        urls = {
            name: servers.enter_context(serve_asgi(app, date_header=name not in no_date))
            for name, (app, _) in cases.items()
        }
        futures = {
            name: pool.submit(scan_url, urls[name], events=sink(name), **options)
            for name, (_, options) in cases.items()
        }
        return {name: (future.result(), notices[name]) for name, future in futures.items()}


def test_a_server_clock_behind_without_date_is_read_from_the_token_s_iat(
    waited: dict[str, tuple[Report, list[str]]],
) -> None:
    report, _ = waited["behind-no-date"]
    assert rules(report) == []
    status, detail = checks(report)["expiry-wait"]
    assert status is CheckStatus.passed
    assert re.search(r"a fresh token used while valid: refused [12] s past exp", detail)
    assert "behind the scan's: read from a fresh token's iat" in detail


def test_30_second_token_waited_out_is_refused_right_after_exp(
    waited: dict[str, tuple[Report, list[str]]],
) -> None:
    report, notices = waited["hardened-30s"]
    assert rules(report) == []
    status, detail = checks(report)["expiry-wait"]
    assert status is CheckStatus.passed
    assert re.search(r"a fresh token used while valid: refused [12] s past exp", detail)
    assert re.search(r"a fresh token never used before exp: refused [12] s past exp", detail)
    assert any(n.startswith("jwt: waiting ") and "alice's token" in n for n in notices)


def test_token_never_checked_for_exp_is_reported_after_the_wait(
    waited: dict[str, tuple[Report, list[str]]],
) -> None:
    report, _ = waited["exp-unchecked"]
    assert rules(report) == ["jwt.long-expiry-leeway"]
    detail = finding(report, "long-expiry-leeway").detail
    assert re.search(r"accepted 6[12] s past exp and still accepted when the test ended", detail)
    assert "may not check exp at all" in detail


def test_verdict_cached_on_first_use_is_told_by_the_unused_token(
    waited: dict[str, tuple[Report, list[str]]],
) -> None:
    report, _ = waited["cached"]
    assert rules(report) == ["jwt.long-expiry-leeway"]
    detail = finding(report, "long-expiry-leeway").detail
    assert re.search(r"a fresh token used while valid: accepted 6[12] s past exp", detail)
    assert re.search(r"a fresh token never used before exp: refused [12] s past exp", detail)


def test_bare_token_is_waited_out_itself(waited: dict[str, tuple[Report, list[str]]]) -> None:
    report, _ = waited["bare-token"]
    assert rules(report) == []
    status, detail = checks(report)["expiry-wait"]
    assert status is CheckStatus.passed
    assert re.search(r"the identity's token \(used while valid\): refused [12] s past", detail)


# -- the plan -------------------------------------------------------------------------------------


def test_plan_names_the_endpoint_and_the_scope_promise() -> None:
    with serve_asgi(apps.token_app()) as url:  # never contacted: a plan sends nothing
        scn = scenario(
            url,
            [ME],
            identities=IDENTITIES,
            probes={"jwt": {"identity": "alice", "expired_token": "x.y.z"}},
        )
    lines = JwtProbe().plan(scn)
    assert lines[0].startswith("jwt: on me, with alice's token")
    assert any("expired_token replayed once" in line for line in lines)
    assert "through the scope guard and the request budget" in lines[-1]
    assert any("2 fresh logins" in line for line in lines)


def test_plan_for_a_ready_token_promises_no_fresh_login() -> None:
    token = apps.Issuer().issue("alice")
    with serve_asgi(apps.token_app()) as url:  # never contacted: a plan sends nothing
        scn = scenario(
            url,
            [ME],
            identities={"alice": {"token": token}},
            probes={"jwt": {"wait_for_expiry": 60}},
        )
    lines = JwtProbe().plan(scn)
    waits = [line for line in lines if "expires within" in line]
    assert len(waits) == 1
    assert "the identity's own token (no login)" in waits[0]
    assert "fresh login" not in " ".join(lines)


def test_plan_counts_two_refresh_requests_and_a_login() -> None:
    with serve_asgi(apps.token_app()) as url:  # never contacted: a plan sends nothing
        scn = scenario(
            url,
            [ME],
            identities={"alice": refreshing("alice")},
            probes={"jwt": {"identity": "alice"}},
        )
    lines = [line for line in JwtProbe().plan(scn) if "rotation" in line]
    assert len(lines) == 1
    assert "2 refresh requests and a login" in lines[0]
