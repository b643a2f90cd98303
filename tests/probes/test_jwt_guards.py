"""The jwt probe on servers that make judging hard (real apps on 127.0.0.1): odd `exp`
values, DELETE endpoints, answers that are neither the valid one nor a refusal, 500s on
malformed tokens, a JWKS cut at body_cap, signed cursors in URLs; and reproduce lines that
run. Each weak case sits beside its control."""

from __future__ import annotations

import base64
import math
import time
from email.utils import formatdate
from typing import Any

import jwt
import pytest

from probe.findings import CheckStatus
from probe.probes.jwt_expiry import names_another_user
from probe.probes.jwt_tokens import parse
from tests.probes import apps_jwt as apps
from tests.probes.test_jwt import ME, checks, finding, scan, scan_url, shell, statuses
from tests.probes.test_jwt_secrets import SPRING_KEY
from tests.scan import rules
from tests.servers import serve_asgi

TOKEN_CHECKS = ("signature", "alg-none", "header-key-injection", "token-in-query")

# -- odd exp values -------------------------------------------------------------------------------


# PyJWT writes NaN and Infinity as JSON's NaN and Infinity; the server checks the signature only.
@pytest.mark.parametrize(
    "exp",
    [math.nan, math.inf, "soon", "9999999999", True, 1e308, 10**30, -1e18, -1000],
    ids=[
        "nan",
        "inf",
        "string",
        "numeric-string",
        "bool",
        "huge-float",
        "huge-int",
        "huge-negative",
        "negative",
    ],
)
@pytest.mark.filterwarnings("ignore:The HMAC key is")
def test_odd_exp_values_never_crash_nor_forge_the_token_itself(exp: Any) -> None:
    issuer = apps.Issuer(key=apps.WEAK_SECRET, lifetime=None, extra={"exp": exp})
    report = scan(apps.token_app(issuer, apps.exp_unchecked(apps.WEAK_SECRET)), wait_for_expiry=30)
    seen = checks(report)
    assert "run" not in seen, seen.get("run")  # no crash
    assert "jwt.signature-not-verified" not in rules(report)
    assert "jwt.weak-secret" in rules(report)  # the minted token's exp is a real time
    assert seen["signature"][0] is CheckStatus.passed


def test_a_sub_the_change_cannot_move_is_not_sent_and_the_check_says_why() -> None:
    issuer = apps.Issuer(extra={"sub": math.nan})
    report = scan(apps.token_app(issuer, apps.exp_unchecked()))
    assert rules(report) == []
    status, detail = checks(report)["signature"]
    assert status is CheckStatus.passed
    assert "not sent: payload-changed-sub (the change leaves the token byte for byte" in detail


# -- DELETE endpoints -----------------------------------------------------------------------------

DROP = {"name": "drop", "method": "DELETE", "path": "/api/orders/1001", "identity": "alice"}


def test_a_delete_named_as_the_endpoint_is_never_sent_a_token() -> None:
    app = apps.token_app()
    report = scan(app, endpoints=[DROP], endpoint="drop")
    assert app.state.deletes == 1  # the engine's own baseline, once
    for check in ("baselines", *TOKEN_CHECKS):
        status, detail = checks(report)[check]
        assert status is CheckStatus.skipped
        assert "a DELETE: the probe never sends one" in detail


def test_an_identity_whose_only_endpoint_is_a_delete_gets_no_token_check() -> None:
    app = apps.token_app()
    report = scan(app, endpoints=[DROP])
    assert app.state.deletes == 1
    assert statuses(report)["signature"] is CheckStatus.skipped
    # Control: with a GET beside it, the GET is chosen and the DELETE still sent once.
    app = apps.token_app()
    report = scan(app, endpoints=[DROP, ME])
    assert app.state.deletes == 1
    assert statuses(report)["signature"] is CheckStatus.passed


# -- answers that are neither the valid one nor a refusal -----------------------------------------


def test_only_an_expired_token_naming_another_user_explains_another_answer() -> None:
    # (Answered with bob's data, bob's expired token is accepted: tests/probes/test_jwt.py.)
    alice = parse(apps.Issuer().issue("alice", exp=time.time() - 7200))
    bob = parse(apps.Issuer().issue("bob", exp=time.time() - 7200))
    nobody = parse(jwt.encode({"exp": 1, "scope": "read"}, "k" * 32, algorithm="HS256"))
    assert alice is not None
    assert bob is not None
    assert nobody is not None
    assert names_another_user(bob, alice)
    assert not names_another_user(alice, alice)
    assert not names_another_user(nobody, alice)  # names no user: another answer stays inconclusive


def test_the_changed_sub_answered_with_another_user_s_data_is_accepted() -> None:
    report = scan(apps.token_app(verify=apps.signature_unchecked()))
    found = finding(report, "signature-not-verified")
    assert "payload-changed-sub" in found.detail
    assert "answered 200 with another user's data" in found.detail
    # Control: a server that verifies signatures refuses it.
    assert "payload-changed-sub" not in checks(scan(apps.token_app()))["signature"][1]


def test_a_family_answered_500_passes_saying_the_server_errors() -> None:
    report = scan(apps.token_app(verify=apps.fails_on_malformed()))
    assert rules(report) == []
    status, detail = checks(report)["alg-none"]
    assert status is CheckStatus.passed
    assert detail.endswith(
        "none accepted (all 500); the server errors (500) on tokens it cannot parse"
    )
    # Control: a server that refuses them cleanly.
    assert checks(scan(apps.token_app()))["alg-none"][1].endswith("(all 401)")


# -- a weak secret where nothing can be confirmed -------------------------------------------------


@pytest.mark.filterwarnings("ignore:The HMAC key is")
def test_a_weak_secret_on_an_inconclusive_endpoint_is_named_but_not_reported() -> None:
    issuer = apps.Issuer(key=apps.WEAK_SECRET)
    public = (200, {"items": [{"id": 1, "name": "pen"}]})
    report = scan(apps.token_app(issuer, apps.strict(apps.WEAK_SECRET), always=public))
    assert rules(report) == []
    status, detail = checks(report)["weak-secret"]
    assert status is CheckStatus.error
    assert "'your-256-bit-secret' reproduces the token's signature offline" in detail
    assert "the endpoint cannot tell tokens apart" in detail
    # Control: a strong secret on the same endpoint names nothing.
    strong = scan(apps.token_app(always=public))
    assert checks(strong)["weak-secret"][1].startswith("inconclusive:")


# -- the JWKS -------------------------------------------------------------------------------------


def test_a_jwks_cut_at_body_cap_says_so() -> None:
    app = apps.token_app(apps.RS256, apps.public_key_as_hmac(), jwks=True, old_keys=8)
    with serve_asgi(app) as url:
        report = scan_url(url, settings={"body_cap": 2048})
        control = scan_url(url)
    status, detail = checks(report)["key-confusion"]
    assert status is CheckStatus.skipped
    assert "the JWKS was cut at body_cap (2048 bytes); raise settings.body_cap" in detail
    assert rules(control) == ["jwt.key-confusion"]


# -- JWTs in URLs ---------------------------------------------------------------------------------


def test_a_signed_cursor_in_a_url_is_no_token_in_url() -> None:
    cursor = jwt.encode({"offset": 20, "limit": 10}, apps.STRONG_SECRET, algorithm="HS256")
    page = {"name": "page", "path": "/api/me", "identity": "alice", "query": {"cursor": cursor}}
    report = scan(apps.token_app(), endpoints=[ME, page])
    assert rules(report) == []
    assert statuses(report)["token-in-url"] is CheckStatus.passed
    assert cursor not in report.model_dump_json()


def test_a_literal_token_in_a_url_is_reported_without_an_unfillable_reproduce_line() -> None:
    token = apps.Issuer(unique=True).issue("carol")  # no identity's: nobody can fill it in
    link = {"name": "link", "path": "/api/me", "query": {"access_token": token}}
    report = scan(apps.token_app(), endpoints=[ME, link])
    found = finding(report, "token-in-url")
    assert found.reproduce is None
    assert found.evidence == []
    assert "GET /api/me?access_token=${JWT_IN_URL_1}" in found.detail
    assert token not in report.model_dump_json()


# -- reproduce lines ------------------------------------------------------------------------------


def test_the_first_evidence_of_an_unverified_signature_replays_as_it_is() -> None:
    app = apps.token_app(verify=apps.signature_unchecked())
    with serve_asgi(app) as url:
        found = finding(scan_url(url), "signature-not-verified")
        assert found.reproduce is not None
        assert "${ALICE" not in found.reproduce  # a token anyone could write, shown whole
        assert shell(found.reproduce) == "200"


def test_key_confusion_reproduces_by_minting_with_the_fetched_public_key() -> None:
    app = apps.token_app(apps.RS256, apps.public_key_as_hmac(), jwks=True)
    with serve_asgi(app) as url:
        found = finding(scan_url(url), "key-confusion")
        assert found.reproduce is not None
        assert found.reproduce.startswith(f'JWKS=$(curl -s "{url}/.well-known/jwks.json") &&')
        assert shell(found.reproduce) == "200"


def test_an_embedded_jwk_reproduces_by_minting_with_a_fresh_key() -> None:
    with serve_asgi(apps.token_app(verify=apps.embedded_jwk())) as url:
        found = finding(scan_url(url), "header-key-injection")
        assert found.reproduce is not None
        assert "${ALICE" not in found.reproduce
        assert shell(found.reproduce) == "200"


@pytest.mark.parametrize("form", ["base64", "hex"])
@pytest.mark.filterwarnings("ignore:The HMAC key is")
def test_a_decoded_tutorial_key_is_found_and_reproduces(form: str) -> None:
    key = base64.b64decode(SPRING_KEY) if form == "base64" else bytes.fromhex(SPRING_KEY)
    app = apps.token_app(apps.Issuer(key=key, alg="HS512"), apps.strict(key, "HS512"))
    with serve_asgi(app) as url:
        report = scan_url(url)
        assert rules(report) == ["jwt.weak-secret"]
        found = finding(report, "weak-secret")
        assert f"{SPRING_KEY!r} {form}-decoded" in found.detail
        assert found.reproduce is not None
        assert shell(found.reproduce) == "200"


# -- a Date header off by hours (a proxy with a clock of its own) ---------------------------------


def _date_ahead(app: Any, seconds: float) -> Any:
    """The app behind a "proxy" whose Date header is `seconds` ahead of the real clock."""

    async def proxied(scope: Any, receive: Any, send: Any) -> None:
        async def with_date(message: Any) -> None:
            if message["type"] == "http.response.start":
                date = formatdate(time.time() + seconds, usegmt=True).encode()
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", date)]}
            await send(message)

        await app(scope, receive, with_date)

    return proxied


def test_a_date_header_hours_ahead_never_makes_a_minted_token_look_expired() -> None:
    # Strict on exp; iat is not checked (a minted iat in the future must not be the reason).
    def verify(token: str) -> Any:
        options = {"verify_iat": False}
        return jwt.decode(token, apps.STRONG_SECRET, algorithms=["HS256"], options=options)

    app = _date_ahead(apps.token_app(apps.Issuer(), verify), 4 * 3600)
    with serve_asgi(app, date_header=False) as url:
        report = scan_url(url, secret=apps.STRONG_SECRET)
    assert rules(report) == []
    status, detail = checks(report)["expiry-minted"]
    assert status is CheckStatus.passed, detail
    assert "refused" in detail
