"""The jwt probe's pure judges: "accepted", expiry bands and clocks, refresh rotation, URLs,
choices."""

from __future__ import annotations

import json
from email.utils import formatdate
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.exchange import ResponseRecord
from probe.findings import CheckStatus
from probe.probes.jwt_clock import (
    clock_skew,
    duration,
    expires_in,
    iat_skew,
    judge_past_exp,
    lifetime,
    poll_offsets,
    retry_delay,
)
from probe.probes.jwt_forged import jwks_url
from probe.probes.jwt_judges import (
    Trial,
    issued_token,
    judge_baselines,
    judge_refresh,
    jwt_in_url,
    jwts_in_url,
    pick_endpoint,
    summarise,
)
from probe.probes.jwt_refresh import refresh_request
from probe.probes.jwt_tokens import Jwt, b64url, encode_json, parse, time_claim
from probe.scenario.models import Refresh, Scenario

PROFILE = {"user": "alice", "plan": "pro", "orders": [1001]}
DENIED = {"detail": "invalid token"}
TOKEN = f"{encode_json({'alg': 'HS256'})}.{encode_json({'sub': 'alice'})}.{b64url(b'sig' * 11)}"


def answer(
    body: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> ResponseRecord:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ResponseRecord(status, "HTTP/1.1", (("Content-Type", "application/json"), *headers), raw)


# -- baselines ------------------------------------------------------------------------------------


def test_valid_answer_apart_from_both_negatives_gives_a_judge() -> None:
    verdict = judge_baselines(
        [answer(PROFILE), answer(PROFILE)], answer(DENIED, 401), answer(DENIED, 401)
    )
    assert verdict.acceptance is not None
    assert not verdict.signature_ignored
    assert verdict.acceptance.accepted(answer(PROFILE))
    assert not verdict.acceptance.accepted(answer(DENIED, 401))


def test_volatile_values_of_the_valid_answer_do_not_block_acceptance() -> None:
    valid = [answer({**PROFILE, "request_id": "a1"}), answer({**PROFILE, "request_id": "b2"})]
    verdict = judge_baselines(valid, answer(DENIED, 401), answer(DENIED, 401))
    assert verdict.acceptance is not None
    assert verdict.acceptance.accepted(answer({**PROFILE, "request_id": "c3"}))


def test_200_with_an_error_body_for_bad_tokens_is_not_acceptance() -> None:
    error = {"error": "invalid token"}
    verdict = judge_baselines([answer(PROFILE)] * 2, answer(error), answer(error))
    assert verdict.acceptance is not None
    assert not verdict.acceptance.accepted(answer(error))
    assert not verdict.acceptance.accepted(answer({"user": "bob"}))


def test_200_with_an_error_body_for_everyone_is_inconclusive() -> None:
    error = {"error": "invalid token"}
    verdict = judge_baselines([answer(error)] * 2, answer(error), answer(error))
    assert verdict.acceptance is None
    assert "cannot be told apart" in verdict.problem
    assert "a 200 with an error body to everyone" in verdict.problem


def test_endpoint_that_does_not_need_the_token_is_inconclusive() -> None:
    verdict = judge_baselines([answer(PROFILE)] * 2, answer(DENIED, 401), answer(PROFILE))
    assert verdict.acceptance is None
    assert "does not need the token" in verdict.problem


def test_flipped_signature_answered_like_the_valid_token_is_signature_ignored() -> None:
    verdict = judge_baselines([answer(PROFILE)] * 2, answer(PROFILE), answer(DENIED, 401))
    assert verdict.signature_ignored
    assert verdict.acceptance is not None
    # No token stays the negative: a forged token's answer is still told apart from it.
    assert verdict.acceptance.accepted(answer(PROFILE))
    assert not verdict.acceptance.accepted(answer(DENIED, 401))


def test_valid_token_refused_is_inconclusive() -> None:
    verdict = judge_baselines(
        [answer({"detail": "forbidden"}, 403)] * 2, answer(DENIED, 401), answer(DENIED, 401)
    )
    assert verdict.acceptance is None
    assert "the valid token is refused" in verdict.problem


def test_unstable_valid_answer_is_inconclusive() -> None:
    first = answer(b"<p>hello visitor 1 of today</p>" * 5)
    second = answer(b"<p>bye, come back later!!</p>" * 5)
    verdict = judge_baselines([first, second], answer(DENIED, 401), answer(DENIED, 401))
    assert verdict.acceptance is None
    assert "changed between two identical requests" in verdict.problem


# -- a family of tokens ---------------------------------------------------------------------------


def trial(name: str, status: int | None, accepted: bool | None) -> Trial:
    return Trial(name, f"how {name}", status, accepted, None if status else "timed out")


def test_all_refused_is_a_pass_with_the_status() -> None:
    status, detail = summarise("alg none", [trial(f"t{i}", 401, False) for i in range(8)])
    assert status is CheckStatus.passed
    assert detail == "alg none (8 tokens): none accepted (all 401)"


def test_any_accepted_is_a_fail_naming_it() -> None:
    trials = [trial("a", 200, True), trial("b", 401, False), trial("c", 200, False)]
    status, detail = summarise("signature", trials)
    assert status is CheckStatus.failed
    assert (
        detail == "signature (3 tokens): accepted: a; not accepted: 401, c 200 with another answer"
    )


def test_a_token_without_answer_makes_the_family_an_error() -> None:
    status, detail = summarise("header key", [trial("a", None, None), trial("b", 401, False)])
    assert status is CheckStatus.error
    assert "1 got no answer (timed out)" in detail


def test_no_token_is_skipped() -> None:
    assert summarise("key confusion", [])[0] is CheckStatus.skipped


# -- expiry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "refused", "still", "status", "rule"),
    [
        (None, 1, False, CheckStatus.passed, None),
        (30, 32, False, CheckStatus.passed, None),
        (60, None, False, CheckStatus.passed, None),
        (61, 121, False, CheckStatus.failed, "long-expiry-leeway"),
        (300, None, False, CheckStatus.failed, "long-expiry-leeway"),
        (301, None, True, CheckStatus.failed, "expired-accepted"),
        (10_800, None, False, CheckStatus.failed, "expired-accepted"),
        (45, None, True, CheckStatus.error, None),
        (None, None, False, CheckStatus.error, None),
    ],
)
def test_time_past_exp_falls_in_its_band(
    accepted: float | None,
    refused: float | None,
    still: bool,
    status: CheckStatus,
    rule: str | None,
) -> None:
    verdict = judge_past_exp(accepted, refused, still_accepted=still)
    assert (verdict.status, verdict.rule) == (status, rule)


def test_a_wait_that_ends_while_accepted_says_exp_may_not_be_checked() -> None:
    verdict = judge_past_exp(61, None, still_accepted=True)
    assert verdict.detail.startswith("accepted 61 s past exp and still accepted")
    assert "may not check exp at all" in verdict.detail


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(45, "45 s"), (119, "119 s"), (120, "2 min"), (10_800, "3 h"), (172_800, "2 days")],
)
def test_durations_read_in_the_largest_fitting_unit(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def test_clock_skew_comes_from_the_date_header() -> None:
    now = 1_800_000_000.0
    ahead = answer(PROFILE, headers=(("Date", formatdate(now + 30, usegmt=True)),))
    assert clock_skew(ahead, now) == pytest.approx(30)
    close = answer(PROFILE, headers=(("Date", formatdate(now + 1, usegmt=True)),))
    assert clock_skew(close, now) == 0.0
    assert clock_skew(answer(PROFILE, headers=(("Date", "soon"),)), now) == 0.0
    assert clock_skew(answer(PROFILE), now) == 0.0


def test_replays_fit_in_the_room_left_after_exp() -> None:
    assert poll_offsets(70) == (1, 2, 4, 8, 16, 32, 61)
    assert poll_offsets(0.5) == ()
    assert poll_offsets(10_000)[-1] == 301


# -- refresh --------------------------------------------------------------------------------------


FIRST = {"access_token": "eyJ.first", "refresh_token": "r-first"}


def refresh_verdict(second: ResponseRecord, first: Any = FIRST) -> tuple[CheckStatus, str]:
    return judge_refresh(answer(first), second, "access_token", "refresh_token", "r-sent")


def test_a_second_access_token_is_no_rotation() -> None:
    status, detail = refresh_verdict(answer({"access_token": "eyJ.new"}))
    assert status is CheckStatus.failed
    assert "worked twice" in detail
    assert "a new access token at 'access_token'" in detail


def test_a_new_refresh_token_alone_is_no_rotation() -> None:
    second = answer({"access_token": "eyJ.first", "refresh_token": "r-new"})
    status, detail = refresh_verdict(second)
    assert status is CheckStatus.failed
    assert "a new refresh token at 'refresh_token'" in detail


def test_a_refused_second_use_is_rotation() -> None:
    assert refresh_verdict(answer(DENIED, 401))[0] is CheckStatus.passed
    assert refresh_verdict(answer({"error": "reused"}))[0] is CheckStatus.passed


def test_the_first_answer_repeated_is_a_grace_period_not_a_new_token() -> None:
    status, detail = refresh_verdict(answer(FIRST))
    assert status is CheckStatus.passed
    assert "no new token" in detail
    assert "grace period" in detail


def test_the_same_refresh_token_handed_back_is_no_new_token() -> None:
    second = answer({"access_token": "eyJ.first", "refresh_token": "r-sent"})
    assert refresh_verdict(second)[0] is CheckStatus.passed


def test_a_repeated_jwt_without_time_or_id_cannot_be_told_from_a_new_issue() -> None:
    timeless = {"access_token": TOKEN, "refresh_token": "r-first"}
    status, detail = refresh_verdict(answer(timeless), first=timeless)
    assert status is CheckStatus.error
    assert "issue alike every time" in detail


def test_a_second_answer_without_token_or_refusal_cannot_be_told() -> None:
    assert refresh_verdict(answer({"status": "queued"}))[0] is CheckStatus.error


def test_issued_token_reads_a_dotted_path_of_a_2xx_answer() -> None:
    assert issued_token(answer({"data": {"token": "t1"}}), "data.token") == "t1"
    assert issued_token(answer({"data": {"token": "t1"}}, 401), "data.token") is None
    assert issued_token(answer(b"not json"), "token") is None
    assert issued_token(None, "token") is None


def test_refresh_request_carries_the_token_in_its_field() -> None:
    json_body = refresh_request("http://api.test", Refresh(path="/refresh"), "r1")
    assert json_body.url == "http://api.test/refresh"
    assert json.loads(json_body.content or b"") == {"refresh_token": "r1"}
    assert ("Content-Type", "application/json") in json_body.headers
    form = refresh_request("http://api.test", Refresh(path="/r", form=True, field="rt"), "r 1")
    assert form.content == b"rt=r+1"
    get = refresh_request("http://api.test", Refresh(path="/r", method="GET"), "r1")
    assert get.url == "http://api.test/r?refresh_token=r1"
    assert get.content is None


# -- URLs and choices -----------------------------------------------------------------------------


def test_a_jwt_in_the_query_is_found_encoded_or_not() -> None:
    assert jwt_in_url(f"https://api.test/me?access_token={TOKEN}") == TOKEN
    encoded = TOKEN.replace(".", "%2E")
    assert jwt_in_url(f"https://api.test/cb?next=%2Fme%3Ft%3D{encoded}") == TOKEN
    assert jwt_in_url("https://api.test/me?q=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0") is None
    assert jwt_in_url("https://api.test/me?q=eyJnotjson1234.eyJnotjson1234.sig") is None


@given(st.text(max_size=200))
def test_jwt_in_url_never_raises(url: str) -> None:
    jwt_in_url(url)


def scenario_with(endpoints: list[dict[str, Any]]) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "t",
            "target": {"base_url": "https://api.example.test"},  # documentation only
            "identities": {"alice": {"token": "t0k"}, "bob": {"token": "t0k2"}},
            "endpoints": endpoints,
        }
    )


def test_the_endpoint_is_the_identity_s_first_get_that_is_not_a_login() -> None:
    scn = scenario_with(
        [
            {"name": "login", "method": "POST", "path": "/login", "tags": ["auth"]},
            {"name": "orders", "method": "POST", "path": "/orders", "identity": "alice"},
            {"name": "bob-me", "path": "/me", "identity": "bob"},
            {"name": "token", "path": "/token", "identity": "alice", "tags": ["login"]},
            {"name": "me", "path": "/me", "identity": "alice"},
        ]
    )
    chosen = pick_endpoint(scn, "alice", None)
    assert chosen is not None
    assert chosen.label == "me"
    named = pick_endpoint(scn, "alice", "orders")
    assert named is not None
    assert named.label == "orders"
    assert pick_endpoint(scn, "alice", "nothing") is None


def test_a_post_is_taken_when_the_identity_has_no_get() -> None:
    scn = scenario_with([{"name": "orders", "method": "POST", "path": "/o", "identity": "bob"}])
    chosen = pick_endpoint(scn, "bob", None)
    assert chosen is not None
    assert chosen.label == "orders"
    assert pick_endpoint(scn, "alice", None) is None


def test_jwks_url_defaults_to_the_origin_s_well_known_path() -> None:
    base = "https://api.example.test/v1"  # documentation only: nothing is sent
    assert jwks_url(base, None) == "https://api.example.test/.well-known/jwks.json"
    assert jwks_url(base, "/keys") == "https://api.example.test/v1/keys"
    assert jwks_url(base, "https://auth.example.test/jwks") == "https://auth.example.test/jwks"


# -- answers that are neither valid nor refused ---------------------------------------------------


def test_another_user_s_data_is_another_answer_not_a_refusal() -> None:
    verdict = judge_baselines([answer(PROFILE)] * 2, answer(DENIED, 401), answer(DENIED, 401))
    assert verdict.acceptance is not None
    bob = answer({"user": "bob", "plan": "free", "orders": [2002]})
    assert not verdict.acceptance.accepted(bob)
    assert verdict.acceptance.other(bob)
    for nothing in (answer(DENIED, 401), answer({"error": "expired"}), answer({"user": None})):
        assert not verdict.acceptance.other(nothing)
    assert not verdict.acceptance.other(answer(PROFILE))


def test_a_family_answered_only_5xx_passes_saying_the_server_errors() -> None:
    status, detail = summarise("alg none", [trial(f"t{i}", 500, False) for i in range(8)])
    assert status is CheckStatus.passed
    assert detail == (
        "alg none (8 tokens): none accepted (all 500); the server errors (500) on tokens it "
        "cannot parse"
    )
    mixed = summarise("header key", [trial("a", 500, False), trial("b", 401, False)])[1]
    assert mixed.endswith("1 answered 5xx: the server errors on tokens it cannot parse")


# -- clocks ---------------------------------------------------------------------------------------


def timed_token(claims: dict[str, Any]) -> Jwt:
    parsed = parse(f"{encode_json({'alg': 'HS256'})}.{encode_json(claims)}.{b64url(b's' * 32)}")
    assert parsed is not None
    return parsed


def test_a_fresh_token_s_iat_gives_the_skew_of_a_server_without_date() -> None:
    now = 1_800_000_000.0
    behind = iat_skew(timed_token({"iat": int(now) - 100}), now - 0.2, now)
    assert behind is not None
    assert behind.seconds == pytest.approx(-99.4)
    assert behind.margin == pytest.approx(0.6)
    assert "iat" in behind.source
    close = iat_skew(timed_token({"iat": int(now)}), now - 0.2, now)
    assert close is not None
    assert (close.seconds, close.margin) == (0.0, 0.0)
    assert iat_skew(timed_token({"iat": "yesterday"}), now, now) is None


def test_no_leeway_is_reported_within_the_clock_s_margin() -> None:
    assert judge_past_exp(61, 121, margin=2).rule is None
    assert judge_past_exp(64, 121, margin=2).rule == "long-expiry-leeway"
    assert "give or take 2 s" in judge_past_exp(61, 121, margin=2).detail
    assert judge_past_exp(302, None, margin=3).rule == "long-expiry-leeway"


@pytest.mark.parametrize(
    ("status", "value", "wait"),
    [(429, "2", 2.0), (429, None, 5.0), (429, "600", 30.0), (503, "3", 3.0), (503, None, None)],
)
def test_a_rate_limit_is_waited_out_as_retry_after_says(
    status: int, value: str | None, wait: float | None
) -> None:
    headers = (("Retry-After", value),) if value else ()
    assert retry_delay(answer(DENIED, status, headers)) == wait
    assert retry_delay(answer(DENIED, 401)) is None


@pytest.mark.parametrize(
    "exp",
    [float("nan"), float("inf"), -float("inf"), "soon", True, 10**30, 10**400, 1e308, None],
)
def test_odd_exp_values_are_no_time(exp: Any) -> None:
    token = timed_token({"exp": exp, "iat": 1_700_000_000})
    assert expires_in(token, 1_700_000_000.0) is None
    assert lifetime(token) is None
    assert time_claim(exp) is None


@pytest.mark.parametrize(("exp", "seconds"), [("1700003600", 1_700_003_600.0), ("1.5", 1.5)])
def test_a_number_written_as_text_is_a_time(exp: str, seconds: float) -> None:
    assert time_claim(exp) == seconds


def test_a_negative_exp_is_a_time_long_past() -> None:
    token = timed_token({"exp": -1e9, "iat": 1_700_000_000})
    left = expires_in(token, 1_700_000_000.0)
    assert left is not None
    assert left < 0


# -- credentials in URLs --------------------------------------------------------------------------


def url_jwt(claims: dict[str, Any]) -> str:
    return f"{encode_json({'alg': 'HS256'})}.{encode_json(claims)}.{b64url(b'sig' * 11)}"


def test_a_signed_cursor_in_the_url_is_no_credential() -> None:
    cursor = url_jwt({"offset": 20, "limit": 10})
    assert jwt_in_url(f"https://api.test/orders?cursor={cursor}") is None
    assert jwt_in_url(f"https://api.test/orders?cursor={cursor}", known=[cursor]) == cursor
    assert jwts_in_url(f"https://api.test/orders?cursor={cursor}") == [cursor]


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u-1"},
        {"user_id": 7},
        {"email": "a@example.test"},
        {"username": "alice"},
        {"exp": 1, "iat": 0},
        {"exp": 1, "aud": "api"},
    ],
)
def test_a_jwt_naming_a_user_or_built_like_an_access_token_is_a_credential(
    claims: dict[str, Any],
) -> None:
    token = url_jwt(claims)
    assert jwt_in_url(f"https://api.test/x?t={token}") == token


def test_a_delete_is_never_chosen() -> None:
    scn = scenario_with(
        [
            {"name": "drop", "method": "DELETE", "path": "/orders/1", "identity": "alice"},
            {"name": "make", "method": "POST", "path": "/orders", "identity": "alice"},
        ]
    )
    chosen = pick_endpoint(scn, "alice", None)
    assert chosen is not None
    assert chosen.label == "make"
    only = scenario_with([{"name": "drop", "method": "DELETE", "path": "/o/1", "identity": "bob"}])
    assert pick_endpoint(only, "bob", None) is None
