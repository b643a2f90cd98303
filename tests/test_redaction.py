"""No token, password or variable value reaches a report, a log record or a curl line.

A real Starlette target echoes every credential it receives (Authorization, the API key, the
login password, the session cookie it sets) into its bodies and headers; a test-only probe
turns those exchanges into findings and checks and logs the token itself. Everything the scan
produces is then searched for each secret in every form it can take.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any
from urllib.parse import quote, quote_plus

import anyio
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from probe.engine import Scan
from probe.events import Event
from probe.exchange import Exchange, RequestRecord, ResponseRecord
from probe.findings import CheckStatus, Severity
from probe.identities import Identities
from probe.probes.base import Found, Probe, ProbeContext, RequestSpec, make_rule
from probe.redact import MASK, RedactingFilter, Redactor, redacted_logs
from probe.report import Report
from probe.scenario.models import Identity
from tests.scan import run_scan, scenario
from tests.servers import serve_asgi

ALICE_TOKEN = "alice-" + secrets.token_hex(16)
BOB_PASSWORD = 'p\u00e4"ss w0rd/&=?' + secrets.token_hex(4)
API_KEY = "key-" + secrets.token_hex(12)
SESSION = "sess" + secrets.token_hex(16)
SIGNING = "signing-secret-" + secrets.token_hex(16)
RULE = make_rule(
    "script",
    "echo",
    title="Credentials echoed",
    severity=Severity.low,
    owasp="A05:2021",
    cwe=200,
    description="test-only rule",
    remediation="none",
)
log = logging.getLogger("probe.tests.redaction")


class EchoApi:
    """Echoes every credential it receives into its bodies and headers."""

    def __init__(self) -> None:
        self.minted: list[str] = []
        self.cookies_received: list[str] = []

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self.echo),
                Route("/echo", self.echo),
                Route("/auth/login", self.login, methods=["POST"]),
            ]
        )

    async def login(self, request: Request) -> Response:
        data = await request.json()
        if data.get("password") != BOB_PASSWORD:
            return JSONResponse({"error": "bad login"}, status_code=401)
        token = jwt.encode({"sub": "bob", "exp": 4_000_000_000}, SIGNING, algorithm="HS256")
        self.minted.append(token)
        body = {"access_token": token, "you_sent": data["password"], "session": SESSION}
        response = JSONResponse(body, headers={"Authorization": f"Bearer {token}"})
        response.set_cookie("session", SESSION, httponly=True)
        return response

    async def echo(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        if request.headers.get("cookie"):
            self.cookies_received.append(request.headers["cookie"])
        body = {
            "authorization": auth,
            "token": auth.partition(" ")[2],
            "api_key": request.headers.get("x-api-key"),
            "query": str(request.url.query),
        }
        headers = {"X-Echo-Authorization": auth or "-", "X-Echo-Key": API_KEY}
        response = JSONResponse(body, headers=headers)
        response.set_cookie("session", SESSION)
        return response


class Leaky(Probe):
    """A test-only probe that puts every exchange and secret it can into the report and logs."""

    id = "script"
    title = "leaky test probe"
    rules = (RULE,)

    async def run(self, ctx: ProbeContext) -> None:
        """Report the baselines and the login, and log the token."""
        exchanges = [x for x in ctx.exchanges() if x.response is not None]
        for index, exchange in enumerate(exchanges):
            body = exchange.response.text() if exchange.response else ""
            cut = body.find(ALICE_TOKEN)
            excerpt = body[: cut + 10] if cut >= 0 else body  # cuts the token in half
            found = Found(
                RULE,
                detail=f"echoed: {body[:300]}",
                exchanges=[exchange],
                endpoint=exchange.endpoint,
                key=str(index),
                excerpts={0: excerpt},
                notes={0: f"token {ALICE_TOKEN}"},
            )
            ctx.report(self.id, found)
        ctx.check(self.id, "leak", None, CheckStatus.passed, f"password {BOB_PASSWORD}")
        log.debug("alice's token is %s and the key %s", ALICE_TOKEN, API_KEY)
        try:
            raise ValueError(f"bad token {ALICE_TOKEN}")
        except ValueError:
            log.exception("crashed with %s", BOB_PASSWORD)


def secret_forms(value: str) -> set[str]:
    escaped = json.dumps(value)[1:-1]
    return {value, escaped, json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe="")}


@pytest.fixture
def echo_api() -> EchoApi:
    return EchoApi()


@pytest.fixture
def scanned(echo_api: EchoApi, caplog: pytest.LogCaptureFixture) -> tuple[Report, list[Event]]:
    caplog.set_level(logging.DEBUG)
    events: list[Event] = []
    with serve_asgi(echo_api.app()) as base:
        scn = scenario(
            base,
            [
                {"name": "as-alice", "path": "/echo", "identity": "alice"},
                {"name": "as-bob", "path": "/echo", "identity": "bob"},
                {"name": "anonymous", "path": "/echo", "query": {"api_key": API_KEY}},
            ],
            target={"base_url": base, "headers": {"X-Api-Key": API_KEY}},
            identities={
                "alice": {"token": ALICE_TOKEN},
                "bob": {
                    "login": {
                        "path": "/auth/login",
                        "json": {"user": "bob", "password": BOB_PASSWORD},
                        "token_path": "access_token",
                    }
                },
            },
        )
        scan = Scan(
            scn,
            probes=[],
            extra_probes=[Leaky()],
            events=events.append,
            secrets_by_name={
                "ALICE_TOKEN": ALICE_TOKEN,
                "BOB_PASSWORD": BOB_PASSWORD,
                "API_KEY": API_KEY,
            },
        )
        report = anyio.run(scan.run)
    return report, events


def all_secrets(echo_api: EchoApi) -> set[str]:
    assert echo_api.minted, "bob never logged in"
    values = {ALICE_TOKEN, BOB_PASSWORD, API_KEY, SESSION, *echo_api.minted}
    return {form for value in values for form in secret_forms(value)}


def test_no_secret_reaches_the_json_report(
    scanned: tuple[Report, list[Event]], echo_api: EchoApi
) -> None:
    report, _ = scanned
    assert len(report.findings) >= 4  # the scan really put the echoing exchanges in evidence
    rendered = report.model_dump_json()
    for secret in all_secrets(echo_api):
        assert secret not in rendered
    assert ALICE_TOKEN[:10] not in rendered  # the probe's excerpt cut the token in half
    assert "${ALICE_TOKEN}" in rendered
    assert "${BOB_PASSWORD}" in rendered


def test_no_secret_reaches_a_log_record(
    scanned: tuple[Report, list[Event]], echo_api: EchoApi, caplog: pytest.LogCaptureFixture
) -> None:
    records = caplog.get_records("setup")  # the scan runs in the fixture
    names = {record.name.split(".")[0] for record in records}
    # the logs were really captured (requests go to the transport: httpcore logs them)
    assert {"httpcore", "probe"} <= names
    text = "\n".join(logging.Formatter().format(record) for record in records)
    for secret in all_secrets(echo_api):
        assert secret not in text
    assert "ValueError: bad token ${ALICE_TOKEN}" in text


def test_no_secret_reaches_an_event(scanned: tuple[Report, list[Event]], echo_api: EchoApi) -> None:
    _, events = scanned
    rendered = repr(events)
    for secret in all_secrets(echo_api):
        assert secret not in rendered


def test_curl_lines_read_secrets_from_variables(scanned: tuple[Report, list[Event]]) -> None:
    report, _ = scanned
    curls = {f.endpoint or "": f.reproduce or "" for f in report.findings}
    assert '"Authorization: Bearer ${ALICE_TOKEN}"' in curls["as-alice"]
    assert '"Authorization: Bearer ${BOB_TOKEN}"' in curls["as-bob"]
    assert '"X-Api-Key: ${API_KEY}"' in curls["anonymous"]
    assert "api_key=${API_KEY}" in curls["anonymous"]
    login = [f.reproduce or "" for f in report.findings if "/auth/login" in (f.reproduce or "")]
    assert login
    assert "${BOB_PASSWORD}" in login[0]


def test_cookies_the_target_sets_are_masked_and_never_sent_back(
    scanned: tuple[Report, list[Event]], echo_api: EchoApi
) -> None:
    report, _ = scanned
    set_cookies = [
        value
        for finding in report.findings
        for evidence in finding.evidence
        for name, value in evidence.response_headers
        if name.lower() == "set-cookie"
    ]
    assert set_cookies
    assert all(value.startswith(f"session={MASK}") for value in set_cookies)
    assert echo_api.cookies_received == []


# -- the redactor itself ----------------------------------------------------------------------


def test_secret_is_replaced_in_its_json_escaped_and_url_encoded_forms() -> None:
    redactor = Redactor()
    redactor.add(BOB_PASSWORD, "BOB_PASSWORD")
    for text in (
        json.dumps({"password": BOB_PASSWORD}),
        json.dumps({"password": BOB_PASSWORD}, ensure_ascii=False),
        "p=" + quote(BOB_PASSWORD, safe=""),
        "p=" + quote_plus(BOB_PASSWORD),
    ):
        redacted = redactor.text(text)
        assert "${BOB_PASSWORD}" in redacted
        assert all(form not in redacted for form in secret_forms(BOB_PASSWORD))


def test_excerpt_masks_a_secret_cut_at_either_edge() -> None:
    redactor = Redactor()
    redactor.add(ALICE_TOKEN, "ALICE_TOKEN")
    head = redactor.excerpt("token: " + ALICE_TOKEN[:12])
    tail = redactor.excerpt(ALICE_TOKEN[-12:] + " end")
    assert head == "token: ${ALICE_TOKEN}"
    assert tail == "${ALICE_TOKEN} end"
    assert redactor.excerpt("ali") == "ali"  # too little of it left to be told from a word


def test_credential_headers_are_masked_even_when_unknown() -> None:
    redactor = Redactor()
    assert redactor.header("Authorization", "Basic dXNlcjpwYXNz") == f"Basic {MASK}"
    assert redactor.header("Cookie", "a=1; b=2") == f"a={MASK}; b={MASK}"
    assert redactor.header("Set-Cookie", "sid=xyz; Path=/; HttpOnly") == (
        f"sid={MASK}; Path=/; HttpOnly"
    )
    assert redactor.header("X-Other", "plain") == "plain"


def test_log_text_masks_credential_headers_as_httpcore_prints_them() -> None:
    redactor = Redactor()
    message = (
        "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
        "[(b'date', b'today'), (b'Set-Cookie', b'sid=abc\\'d; Path=/'), "
        "(b'authorization', b\"Bearer x'y\")])"
    )
    redacted = redactor.log_text(message)
    assert "abc" not in redacted
    assert "x'y" not in redacted
    assert "(b'date', b'today')" in redacted
    assert redactor.log_text("GET /\nCookie: a=b\nX: y") == f"GET /\nCookie: {MASK}\nX: y"


def test_redacted_logs_redacts_every_logger_and_restores_the_factory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    redactor = Redactor()
    redactor.add(API_KEY, "API_KEY")
    factory = logging.getLogRecordFactory()
    with redacted_logs(redactor):
        logging.getLogger("some.library").info("key=%s", API_KEY)
    logging.getLogger("some.library").info("after: %s", API_KEY)
    assert logging.getLogRecordFactory() is factory
    assert [r.getMessage() for r in caplog.records] == ["key=${API_KEY}", f"after: {API_KEY}"]


def test_redacting_filter_redacts_message_and_traceback() -> None:
    redactor = Redactor()
    redactor.add(API_KEY, "API_KEY")
    try:
        raise RuntimeError(API_KEY)
    except RuntimeError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", (API_KEY,), exc_info=_exc_info()
        )
    RedactingFilter(redactor).filter(record)
    text = logging.Formatter().format(record)
    assert API_KEY not in text
    assert "RuntimeError: ${API_KEY}" in text


def _exc_info() -> Any:
    import sys

    return sys.exc_info()


def test_nested_login_fields_that_look_secret_are_redacted() -> None:
    redactor = Redactor()
    identity = Identity.model_validate(
        {
            "login": {
                "path": "/login",
                "json": {"auth": {"user": "bob", "password": "nested-secret-1"}},
                "token_path": "t",
            }
        }
    )
    Identities({"bob": identity}, "http://127.0.0.1:1", redactor)
    assert redactor.text("nested-secret-1") == "${BOB_PASSWORD}"
    assert redactor.text("bob") == "bob"


def test_evidence_of_an_unanswered_request_redacts_its_error() -> None:
    from probe.evidence import build_evidence

    redactor = Redactor()
    redactor.add(API_KEY, "API_KEY")
    request = RequestRecord("GET", f"http://127.0.0.1:1/?k={API_KEY}", (("X-Api-Key", API_KEY),))
    exchange = Exchange(1, "t", None, None, "t", request, None, f"connect: failed for {API_KEY}")
    evidence = build_evidence(exchange, redactor)
    assert API_KEY not in evidence.model_dump_json()
    response = ResponseRecord(200, "HTTP/1.1", (), (API_KEY * 3).encode())
    answered = Exchange(2, "t", None, None, "t", request, response)
    assert API_KEY not in build_evidence(answered, redactor).model_dump_json()


def test_tokens_the_target_issues_never_reach_the_report() -> None:
    issued = {
        "camel": secrets.token_urlsafe(24),
        "nested": jwt.encode({"sub": "alice", "n": 1}, "k" * 32, algorithm="HS256"),
        "html": jwt.encode({"sub": "alice", "n": 2}, "k" * 32, algorithm="HS256"),
        "access": secrets.token_urlsafe(24),
        "refresh": secrets.token_hex(20),
    }

    async def login(request: Request) -> Response:
        body = {"accessToken": issued["camel"], "result": {"jwtToken": issued["nested"]}}
        return JSONResponse({**body, "access": issued["access"], "refresh": issued["refresh"]})

    async def page(request: Request) -> Response:
        padding = "<p>" + "filler " * 20_000 + "</p>"  # a JWT in a page well over 64 KiB
        return Response(f"{padding}<p>your token: {issued['html']}</p>", media_type="text/html")

    async def message(request: Request) -> Response:
        return JSONResponse({"token": "A valid token is required"}, status_code=401)

    rule = RULE

    async def script(ctx: ProbeContext) -> None:
        for path in ("/login", "/page", "/message"):
            spec = RequestSpec("GET", ctx.scenario.target.base_url + path)
            exchange = await ctx.send(spec, probe="script", purpose="t")
            ctx.report("script", Found(rule=rule, detail=path, exchanges=[exchange], key=path))

    routes = [Route("/login", login), Route("/page", page), Route("/message", message)]
    with serve_asgi(Starlette(routes=routes)) as url:
        _scan, report = run_scan(scenario(url, []), script)
    text = report.model_dump_json()
    assert len(report.findings) == 3
    # A message under a token key is no token: the report shows what the server said.
    assert "A valid token is required" in text
    assert not [name for name, value in issued.items() if value in text]
    assert "${ISSUED_ACCESSTOKEN}" in text
    assert "${ISSUED_JWT" in text


def test_a_secret_cut_short_in_a_detail_is_masked() -> None:
    redactor = Redactor()
    redactor.add("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "session")
    cut = 'answered {"session":"sk_live_4eC39HqLyjWDarjtT1zdp7... (57 characters)'
    assert redactor.detail(cut) == 'answered {"session":"${SESSION}... (57 characters)'
    assert redactor.detail('ends "sk_live_4eC39HqLy"') == 'ends "${SESSION}"'
    assert redactor.detail("…HqLyjWDarjtT1zdp7dc was the tail") == "…${SESSION} was the tail"
    # At the very end of a detail, the ellipsis is no part of the cut secret.
    end = 'pass: bob got {"session":"sk_live_4eC39HqLyjWDarjtT1zdp7...'
    assert redactor.detail(end) == 'pass: bob got {"session":"${SESSION}...'
    # Ordinary prose with ellipses, and short runs, stay as they are.
    prose = "tried words... and a.b.c... then sk_live..."
    assert redactor.detail(prose) == prose


def test_a_word_that_ends_a_secret_is_no_cut_secret() -> None:
    redactor = Redactor()
    redactor.add("winter-2024-password", "carol_pw")
    said = "needs a body holding a user name and a password"
    assert redactor.detail(said) == said
    assert redactor.detail('a field named "password"') == 'a field named "password"'


def test_a_secret_quoted_for_a_shell_is_still_a_secret() -> None:
    import shlex

    secret = "k9$Qz\"7`p\\x'y-0123"
    redactor = Redactor()
    redactor.add(secret, "jwt_secret")
    double = '"' + re.sub(r'(["\\`$])', r"\\\1", secret) + '"'
    assert redactor.text(f"mint {double} now") == 'mint "${JWT_SECRET}" now'
    assert secret[:6] not in redactor.text(f"mint {shlex.quote(secret)} now")


def test_a_probe_names_a_token_the_scan_learnt_by_itself() -> None:
    redactor = Redactor()
    redactor.add("refresh-0123456789abcdef", "issued_refresh")
    redactor.add("refresh-0123456789abcdef", "alice_refresh_2", rename_learnt=True)
    assert redactor.text("got refresh-0123456789abcdef") == "got ${ALICE_REFRESH_2}"
    # A name given on purpose stays.
    redactor.add("refresh-0123456789abcdef", "other", rename_learnt=True)
    assert redactor.text("refresh-0123456789abcdef") == "${ALICE_REFRESH_2}"
