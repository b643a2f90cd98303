"""Identities in whole scans: logins at the start, renewal of short-lived tokens, auth health.

The target is a real Starlette app that mints JWTs with PyJWT on login and checks them on
every request, counting logins, so renewal is seen from the server's side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from probe import identities
from probe.exchange import Exchange
from probe.findings import CheckResult, CheckStatus, Rule, Severity
from probe.identities import dig, renewal_schedule, token_expiry
from probe.probes.base import Credentials, Found, ProbeContext, RequestSpec
from probe.report import Report, ScanStatus
from tests.scan import run_scan, scenario
from tests.servers import serve_asgi

SECRET = "test-signing-secret-0123456789abcdef"
RULE = Rule(
    id="script.forged",
    title="t",
    severity=Severity.info,
    owasp="A07:2021",
    cwe=347,
    description="d",
    remediation="r",
)
PASSWORD = "correct horse battery staple"


@dataclass
class AuthApi:
    """Login mints a JWT living `lifetime` seconds; /me and /admin check it."""

    lifetime: int = 600
    logins_allowed: int = 1000
    logins: int = 0
    seen: list[tuple[str, str | None, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self.home),
                Route("/auth/login", self.login, methods=["POST"]),
                Route("/me", self.me),
                Route("/admin", self.admin),
                Route("/soft", self.soft),
            ]
        )

    async def home(self, request: Request) -> Response:
        return self._record(request, JSONResponse({"ok": True}))

    async def login(self, request: Request) -> Response:
        data = await request.json()
        with self.lock:
            self.logins += 1
            allowed = self.logins <= self.logins_allowed
        if data.get("password") != PASSWORD or not allowed:
            return self._record(request, JSONResponse({"error": "bad login"}, status_code=401))
        exp = int(time.time()) + self.lifetime
        token = jwt.encode({"sub": data.get("email"), "exp": exp}, SECRET, algorithm="HS256")
        body = {"data": {"access_token": token}, "refresh_token": "refresh-" + token[-12:]}
        return self._record(request, JSONResponse(body))

    async def me(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return self._record(request, JSONResponse({"error": "unauthorized"}, 401))
        return self._record(request, JSONResponse({"user": user}))

    async def soft(self, request: Request) -> Response:
        # Refuses with a 200 and an error object, as some gateways do.
        if self._user(request) is None:
            body = {"code": 401, "message": "Unauthenticated."}
            return self._record(request, JSONResponse(body))
        return self._record(request, JSONResponse({"user": self._user(request)}))

    async def admin(self, request: Request) -> Response:
        return self._record(request, JSONResponse({"error": "forbidden"}, status_code=403))

    def _user(self, request: Request) -> str | None:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        return str(claims.get("sub")) if scheme == "Bearer" else None

    def _record(self, request: Request, response: Response) -> Response:
        with self.lock:
            auth = request.headers.get("authorization")
            self.seen.append((request.url.path, auth, response.status_code))
        return response


@pytest.fixture
def api() -> AuthApi:
    return AuthApi()


@pytest.fixture
def base(api: AuthApi) -> Iterator[str]:
    with serve_asgi(api.app()) as url:
        yield url


def bob(password: str = PASSWORD) -> dict[str, Any]:
    login = {
        "path": "/auth/login",
        "json": {"email": "bob@example.test", "password": password},
        "token_path": "data.access_token",
        "refresh_path": "refresh_token",
    }
    return {"login": login}


def engine_checks(report: Report, check: str) -> list[CheckResult]:
    return [c for c in report.checks if c.probe == "engine" and c.check == check]


def as_identity(name: str, url: str, results: list[Exchange]) -> Callable[[ProbeContext], Any]:
    async def send(ctx: ProbeContext) -> None:
        spec = RequestSpec("GET", url)
        results.append(await ctx.send(spec, probe="script", purpose="t", identity=name))

    return send


# -- logins -----------------------------------------------------------------------------------


def test_login_at_scan_start_authenticates_the_identity_endpoints(api: AuthApi, base: str) -> None:
    scn = scenario(base, [{"path": "/me", "identity": "bob"}], identities={"bob": bob()})
    scan, report = run_scan(scn)
    assert api.logins == 1
    assert [c.status for c in engine_checks(report, "login")] == [CheckStatus.passed]
    assert [c.status for c in engine_checks(report, "auth-health")] == [CheckStatus.passed]
    baseline = next(x for x in scan.exchanges() if x.purpose == "baseline")
    assert baseline.response is not None
    assert baseline.response.status == 200
    assert "authenticated" in baseline.tags
    assert report.warnings == []


def test_failed_login_is_one_error_check_and_the_scan_goes_on(api: AuthApi, base: str) -> None:
    scn = scenario(
        base,
        [{"path": "/"}, {"path": "/me", "identity": "bob"}],
        identities={"bob": bob(password="wrong password")},
    )
    scan, report = run_scan(scn)
    checks = engine_checks(report, "login")
    assert len(checks) == 1
    assert checks[0].status is CheckStatus.error
    assert "login as 'bob' failed" in checks[0].detail
    assert "401" in checks[0].detail
    assert report.status is ScanStatus.complete
    assert scan.baseline(scn.endpoints[0]) is not None
    # bob's endpoint is never sent without bob's credentials: it would test an anonymous caller.
    assert [path for path, _, _ in api.seen] == ["/", "/auth/login", "/"]
    assert any("were not probed" in warning for warning in report.warnings)
    assert any(
        c.endpoint == "GET /me" and c.check == "baseline" and "no working credentials" in c.detail
        for c in report.checks
    )


def test_short_lived_token_is_renewed_by_logging_in_again(api: AuthApi, base: str) -> None:
    api.lifetime = 3
    results: list[Exchange] = []
    send = as_identity("bob", base + "/me", results)

    async def script(ctx: ProbeContext) -> None:
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            await send(ctx)
            await anyio.sleep(0.15)

    scn = scenario(base, [], identities={"bob": bob()})
    _, report = run_scan(scn, script)
    assert [x.response.status if x.response else x.error for x in results] == [200] * len(results)
    # Renewed before it ended, and not before every request: the token lives less than
    # RENEW_MARGIN, which must not turn into a login per request.
    assert 2 <= api.logins <= 4
    assert len(results) >= 15
    assert report.warnings == []


def test_long_lived_token_is_not_renewed(api: AuthApi, base: str) -> None:
    results: list[Exchange] = []
    send = as_identity("bob", base + "/me", results)

    async def script(ctx: ProbeContext) -> None:
        for _ in range(10):
            await send(ctx)

    run_scan(scenario(base, [], identities={"bob": bob()}), script)
    assert api.logins == 1
    assert len(results) == 10


def test_failed_renewal_is_reported_once_and_keeps_the_old_token(api: AuthApi, base: str) -> None:
    api.lifetime = 2
    api.logins_allowed = 1
    results: list[Exchange] = []
    send = as_identity("bob", base + "/me", results)

    async def script(ctx: ProbeContext) -> None:
        for _ in range(12):
            await send(ctx)
            await anyio.sleep(0.2)

    _, report = run_scan(scenario(base, [], identities={"bob": bob()}), script)
    assert api.logins == 2  # the start, then one renewal attempt: never a login per request
    errors = [c for c in engine_checks(report, "login") if c.status is CheckStatus.error]
    assert len(errors) == 1
    assert "renewing" in errors[0].detail
    assert any("renewing" in w for w in report.warnings)
    assert all(auth for path, auth, _ in api.seen if path == "/me")
    assert report.status is ScanStatus.complete


def test_probe_sending_an_expired_token_on_purpose_is_left_alone(api: AuthApi, base: str) -> None:
    expired = jwt.encode({"sub": "bob", "exp": int(time.time()) - 60}, SECRET, algorithm="HS256")
    results: list[Exchange] = []

    async def script(ctx: ProbeContext) -> None:
        spec = RequestSpec("GET", base + "/me", (("Authorization", f"Bearer {expired}"),))
        results.append(await ctx.send(spec, probe="script", purpose="expired-token"))

    run_scan(scenario(base, [{"path": "/me", "identity": "bob"}], identities={"bob": bob()}))
    logins_before = api.logins
    api.seen.clear()
    run_scan(scenario(base, [], identities={"bob": bob()}), script)
    assert api.logins == logins_before + 1  # the scan-start login only
    assert api.seen[-1] == ("/me", f"Bearer {expired}", 401)
    assert results[0].response is not None
    assert results[0].response.status == 401
    assert "authenticated" not in results[0].tags


# -- auth health ------------------------------------------------------------------------------


def test_identity_refused_on_its_first_request_is_reported(api: AuthApi, base: str) -> None:
    scn = scenario(
        base,
        [{"path": "/me", "identity": "alice"}],
        identities={"alice": {"token": "not-a-token-the-api-accepts"}},
    )
    _, report = run_scan(scn)
    checks = engine_checks(report, "auth-health")
    assert [(c.endpoint, c.status) for c in checks] == [("GET /me", CheckStatus.error)]
    assert any("'alice' was refused (401)" in w for w in report.warnings)


def test_identity_refused_with_an_error_body_and_200_is_reported(api: AuthApi, base: str) -> None:
    scn = scenario(
        base,
        [{"path": "/soft", "identity": "alice"}],
        identities={"alice": {"token": "not-a-token-the-api-accepts"}},
    )
    _, report = run_scan(scn)
    checks = engine_checks(report, "auth-health")
    assert [(c.endpoint, c.status) for c in checks] == [("GET /soft", CheckStatus.error)]
    assert any("'alice' was refused (200 with an error body)" in w for w in report.warnings)


def test_identity_mostly_refused_during_the_scan_is_reported(api: AuthApi, base: str) -> None:
    results: list[Exchange] = []
    send = as_identity("bob", base + "/admin", results)

    async def script(ctx: ProbeContext) -> None:
        for _ in range(5):
            await send(ctx)

    scn = scenario(base, [{"path": "/me", "identity": "bob"}], identities={"bob": bob()})
    _, report = run_scan(scn, script)
    assert [c.status for c in engine_checks(report, "auth-health")] == [CheckStatus.passed]
    assert any("'bob': 5 of 6 authenticated requests" in w for w in report.warnings)


# -- pure helpers -----------------------------------------------------------------------------


def test_dig_follows_dotted_paths_through_objects_and_lists() -> None:
    data = {"data": {"items": [{"token": "a"}, {"token": "b"}]}}
    assert dig(data, "data.items.1.token") == "b"
    assert dig(data, "data.items.2.token") is None
    assert dig(data, "data.missing") is None
    assert dig("text", "a") is None


def test_token_expiry_reads_jwt_exp_and_ignores_opaque_tokens() -> None:
    token = jwt.encode({"exp": 2_000_000_000}, SECRET, algorithm="HS256")
    assert token_expiry(token) == 2_000_000_000.0
    assert token_expiry("opaque-token-value") is None
    assert token_expiry(jwt.encode({"sub": "x"}, SECRET, algorithm="HS256")) is None


def test_renewal_margin_is_the_setting_or_a_quarter_of_a_short_lifetime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = 1_000_000.0

    def token(lifetime: float) -> str:
        return jwt.encode({"exp": int(now + lifetime)}, SECRET, algorithm="HS256")

    assert renewal_schedule(token(3600), now) == (now + 3600, identities.RENEW_MARGIN)
    assert renewal_schedule(token(8), now) == (now + 8, 2.0)
    monkeypatch.setattr(identities, "RENEW_MARGIN", 60.0)
    assert renewal_schedule(token(3600), now) == (now + 3600, 60.0)
    # Past its exp already (clock skew): never renewed, or every request would log in.
    assert renewal_schedule(token(-5), now) == (None, 60.0)
    assert renewal_schedule("opaque", now) == (None, 60.0)


# -- what probes that test tokens get ---------------------------------------------------------


def test_credentials_and_a_fresh_login_are_apart_from_the_identity(api: AuthApi, base: str) -> None:
    got: dict[str, Credentials | None] = {}

    async def script(ctx: ProbeContext) -> None:
        got["own"] = await ctx.credentials("bob")
        got["fresh"] = await ctx.fresh_login("bob", probe="script", purpose="t")
        got["after"] = await ctx.credentials("bob")
        got["none"] = await ctx.fresh_login("carol", probe="script", purpose="t")

    identities_ = {"bob": bob(), "carol": {"token": "opaque-carol-token"}}
    scan, _ = run_scan(scenario(base, [], identities=identities_), script)
    own, fresh, after = got["own"], got["fresh"], got["after"]
    assert own is not None
    assert fresh is not None
    assert after is not None
    assert own.token == after.token  # the fresh login left the identity's token alone
    assert own.line() == ("Authorization", f"Bearer {own.token}")
    assert got["none"] is None  # a bare token has no login to repeat
    assert api.logins == 2
    # This server mints the same token within a second; either name keeps it out of reports.
    assert scan.redactor.text(fresh.token) in ("${BOB_TOKEN}", "${BOB_FRESH_TOKEN}")


def test_a_token_forged_from_a_real_one_hides_its_signature(api: AuthApi, base: str) -> None:
    sent: list[Exchange] = []

    async def script(ctx: ProbeContext) -> None:
        creds = await ctx.credentials("bob")
        assert creds is not None
        header, payload, signature = creds.token.split(".")
        forged = f"{header}.{payload}x.{signature}"  # another payload, original signature
        crafted = f"{header}.{payload}."  # no signature: nothing secret in it
        ctx.public_token(crafted)
        for token in (forged, crafted):
            spec = RequestSpec("GET", base + "/me", (creds.line(token),))
            sent.append(await ctx.send(spec, probe="script", purpose="forged"))
            ctx.report("script", Found(RULE, "f", [sent[-1]], endpoint="me", key=token[-3:]))

    _, report = run_scan(scenario(base, [], identities={"bob": bob()}), script)
    forged, crafted = (f.evidence[0].request for f in report.findings)
    assert "${BOB_TOKEN_SIGNATURE}" in forged
    assert "x." in forged
    header_payload = sent[1].request.headers[-1][1].removeprefix("Bearer ")
    assert header_payload in crafted  # shown in full: it is the evidence
    assert header_payload in (report.findings[1].reproduce or "")
