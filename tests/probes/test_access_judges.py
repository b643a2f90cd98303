"""The access probe's pure judges: references, replays, invalid tokens, login fields,
lockouts, answer and timing comparisons (built answers, no network)."""

from __future__ import annotations

import json
import re
import string
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.probes.access_judges import (
    NO_DATA,
    describe,
    equivalent,
    flip_signature,
    invalid_token,
    jwt_claims,
    reference_problem,
    same_shape,
    sibling_path,
)
from probe.probes.access_login_fields import (
    find_password_field,
    find_user_field,
    made_up_user,
    with_fields,
    wrong_password,
)
from probe.probes.access_login_judges import (
    judge_answers,
    judge_attempts,
    locking,
    stop_reason,
    without_echo,
)
from probe.probes.access_timing import judge_timing

SECRET = "judges-test-signing-key-0123456789abcdef"


def answer(body: Any, status: int = 200, elapsed: float = 0.0) -> ResponseRecord:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ResponseRecord(
        status, "HTTP/1.1", (("Content-Type", "application/json"),), raw, False, elapsed
    )


# -- references and replays -----------------------------------------------------------------------


def test_a_refusing_reference_is_a_problem() -> None:
    problem = reference_problem([answer({"error": "expired"}, 401), answer({"x": 1})])
    assert problem is not None
    assert "401" in problem


def test_a_reference_that_changes_status_class_is_a_problem() -> None:
    problem = reference_problem([answer({"id": 1}), answer({"id": 1}, 302)])
    assert problem is not None


def test_a_reference_whose_every_value_changes_is_a_problem() -> None:
    problem = reference_problem([answer({"n": 1}), answer({"n": 2})])
    assert problem is not None
    assert "every value" in problem


def test_a_stable_reference_is_fine() -> None:
    assert reference_problem([answer({"id": 7, "at": 1}), answer({"id": 7, "at": 2})]) is None


def test_an_error_body_with_200_is_never_equivalent() -> None:
    reference = Reference.learn(answer({"error": "unauthorized"}))
    assert not equivalent(reference, answer({"error": "unauthorized"}))


@pytest.mark.parametrize(
    "body",
    [{"orders": [], "total": 0, "page": 1}, {"data": {"order": None}}, {"items": [], "count": 0}],
)
def test_an_answer_without_data_is_never_a_reference_nor_equivalent(body: Any) -> None:
    assert reference_problem([answer(body), answer(body)]) == NO_DATA
    assert not equivalent(Reference.learn(answer(body)), answer(body))


def test_a_redirect_is_described_by_its_location_on_one_line() -> None:
    html = b"<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
    moved = ResponseRecord(
        302, "HTTP/1.1", (("Location", "/login?next=/account"),), html, False, 0.0
    )
    assert describe(moved) == "302 to /login?next=/account"
    assert describe(answer({"a": "line one\nline two"})) == '200 {"a": "line one\\nline two"}'
    text = ResponseRecord(200, "HTTP/1.1", (), b"<p>\n  hello\n</p>", False, 0.0)
    assert describe(text) == "200 <p> hello </p>"


def test_a_sibling_path_replaces_the_last_segment_with_a_random_one() -> None:
    first, second = sibling_path("/orders/1001?x=1"), sibling_path("/orders/1001")
    assert first.startswith("/orders/probe-")
    assert first != second
    assert "?" not in first
    assert sibling_path("/").startswith("/probe-")


def test_the_claims_of_a_jwt_are_read_without_verifying() -> None:
    token = jwt.encode({"sub": "7", "email": "a@b.test"}, SECRET, algorithm="HS256")
    assert jwt_claims(token) == {"sub": "7", "email": "a@b.test"}
    assert jwt_claims("opaque-token") is None


def test_the_same_data_with_a_fresh_time_is_equivalent() -> None:
    ref = Reference.learn(answer({"id": 7, "served_at": "2026-01-01T10:00:00Z"}))
    assert equivalent(ref, answer({"id": 7, "served_at": "2026-01-01T10:00:05Z"}))
    assert not equivalent(ref, answer({"id": 8, "served_at": "2026-01-01T10:00:05Z"}))
    assert not equivalent(ref, answer({"id": 7}, 404))


# -- invalid tokens ---------------------------------------------------------------------------


def test_a_flipped_signature_keeps_header_and_payload_and_fails_verification() -> None:
    token = jwt.encode({"sub": "alice"}, SECRET, algorithm="HS256")
    flipped = flip_signature(token)
    assert flipped is not None
    assert flipped != token
    assert flipped.rsplit(".", 1)[0] == token.rsplit(".", 1)[0]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(flipped, SECRET, algorithms=["HS256"])


def test_an_unsigned_or_opaque_token_gets_a_random_one_of_its_shape() -> None:
    for token in ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.", "sk_live_4f9A2b", "0123-abcd-XYZ"):
        forged, is_jwt = invalid_token(token)
        assert not is_jwt
        assert forged != token
        assert len(forged) == len(token)
        shape = re.sub(r"[0-9]", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", token)))
        got = re.sub(r"[0-9]", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", forged)))
        assert got == shape


def test_a_token_without_letters_or_digits_still_changes() -> None:
    assert same_shape("--..--") != "--..--"


# -- login fields -----------------------------------------------------------------------------


def test_the_user_and_password_fields_are_found_by_name() -> None:
    body = {"client": "web", "credentials": {"Email": "a@b.test", "passwd": "x"}}
    assert find_user_field(body, None) == "credentials.Email"
    assert find_password_field(body, None) == "credentials.passwd"
    assert find_user_field({"username": "u", "email": "e@x"}, None) == "username"


def test_configured_fields_win_and_must_exist() -> None:
    body = {"who": "alice", "secret": "s"}
    assert find_user_field(body, "who") == "who"
    assert find_user_field(body, "nobody") is None
    assert find_password_field(body, "secret") == "secret"
    assert find_user_field(body, None) is None


def test_fields_are_replaced_in_a_copy() -> None:
    body = {"auth": {"user": "alice", "pass": "real"}}
    changed = with_fields(body, {"auth.pass": "wrong"})
    assert changed == {"auth": {"user": "alice", "pass": "wrong"}}
    assert body["auth"]["pass"] == "real"


def test_made_up_users_keep_an_email_shape() -> None:
    assert made_up_user("alice@example.test").endswith("@example.test")
    assert "@" not in made_up_user("alice")
    assert made_up_user("alice") != made_up_user("alice")


def _kinds(name: str) -> str:
    return re.sub(r"[0-9]", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", name)))


@given(st.from_regex(r"[A-Za-z][A-Za-z0-9_.\-]{2,20}", fullmatch=True))
def test_a_made_up_user_has_the_known_users_shape(known: str) -> None:
    made = made_up_user(known)
    assert made.lower() != known.lower()
    # Every character kind in the same place; a short name lengthened with its last kind.
    assert _kinds(made)[: len(known)] == _kinds(known)
    assert len(known) <= len(made) <= max(len(known), 6)
    assert set(made) - set(string.ascii_letters + string.digits) <= set(known)


@pytest.mark.parametrize(
    ("known", "rule"),
    [
        ("alice_w", r"[A-Za-z0-9_]{3,16}"),
        ("bob", r"[a-z]{3,8}"),
        ("Alice.Smith@Example.test", r"[A-Z][a-z]{4}\.[A-Z][a-z]{4}@Example\.test"),
        ("emp-00417", r"[a-z]{3}-[0-9]{5}"),
    ],
)
def test_a_made_up_user_passes_the_known_users_name_rule(known: str, rule: str) -> None:
    assert re.fullmatch(rule, made_up_user(known))


def test_the_wrong_password_is_never_the_real_one() -> None:
    assert wrong_password("x") != "x"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"error": "invalid"}, 423),
        ({"error": "slow down"}, 429),
        ({"error": "Account locked"}, 401),
        ({"error": "Too many failed logins, try again later"}, 403),
        ({"error": "please solve the captcha"}, 400),
        ({"error": "Account disabled"}, 403),
        ({"error": "This account is suspended"}, 401),
        ({"error": "User blocked"}, 401),
        ({"error": "account deactivated"}, 401),
        ({"error": "Too many attempts"}, 401),
    ],
)
def test_lockout_and_limit_answers_stop_the_check(body: dict[str, str], status: int) -> None:
    sign = stop_reason(answer(body, status))
    assert sign is not None
    assert not sign.attempts


@pytest.mark.parametrize(
    "said", ["Invalid credentials. 4 attempts remaining", "invalid credentials, 2 attempts left"]
)
def test_attempts_left_stop_the_known_side_only(said: str) -> None:
    sign = stop_reason(answer({"error": said}, 401))
    assert sign is not None
    assert sign.attempts


def test_an_ordinary_refusal_does_not_stop_the_check() -> None:
    assert stop_reason(answer({"error": "invalid username or password"}, 401)) is None


# -- answers ----------------------------------------------------------------------------------


def test_an_echoed_user_name_in_another_letter_case_is_no_difference() -> None:
    def echo(sent: str, shown: str) -> ResponseRecord:
        said = {"message": f"Invalid email or password for {shown}"}
        return without_echo(answer(said, 401), sent)

    known = [echo("Alice@Example.test ", "alice@example.test")] * 2
    unknown = [echo("Qwzkr@Example.test", "qwzkr@example.test")] * 2
    assert judge_answers(known, unknown).differs is None


def test_an_echoed_user_name_is_no_difference() -> None:
    known = [without_echo(answer({"error": "bad password for alice@x.test"}, 401), "alice@x.test")]
    unknown = [
        without_echo(answer({"error": "bad password for nobody-1@x.test"}, 401), "nobody-1@x.test")
    ]
    assert judge_answers(known * 2, unknown * 2).differs is None


def test_a_volatile_request_id_on_one_side_is_no_difference() -> None:
    known = [
        answer({"error": "denied", "rid": "a"}, 401),
        answer({"error": "denied", "rid": "b"}, 401),
    ]
    unknown = [
        answer({"error": "denied", "rid": "c"}, 401),
        answer({"error": "denied", "rid": "d"}, 401),
    ]
    assert judge_answers(known, unknown).differs is None


def test_another_message_or_status_is_a_difference() -> None:
    wrong = [answer({"error": "wrong password"}, 401)] * 2
    assert judge_answers(wrong, [answer({"error": "no such user"}, 401)] * 2).differs == "body"
    assert judge_answers(wrong, [answer({"error": "wrong password"}, 404)] * 2).differs == "status"


def test_a_status_that_changes_between_tries_gives_no_verdict() -> None:
    known = [answer({"e": 1}, 401), answer({"e": 1}, 400)]
    assert judge_answers(known, [answer({"e": 1}, 404)] * 2).differs is None


def test_attempts_counted_for_existing_users_only_are_a_difference() -> None:
    known = [answer({"error": "Invalid credentials. 4 attempts remaining"}, 401)]
    unknown = [answer({"error": "Invalid credentials."}, 401)] * 2
    verdict = judge_attempts(known, unknown)
    assert verdict.differs == "body"
    assert "attempts remaining" in verdict.detail


def test_attempts_spoken_to_the_unknown_user_only_are_no_difference() -> None:
    known = [answer({"error": "Invalid credentials."}, 401)] * 2
    unknown = [answer({"error": "Invalid credentials. 1 attempt left"}, 401)]
    assert judge_attempts(known, unknown).differs is None


def test_attempts_counted_for_everyone_are_no_difference() -> None:
    def left(count: int) -> ResponseRecord:
        return answer({"error": f"invalid credentials, {count} attempts left"}, 401)

    assert judge_attempts([left(2)], [left(4), left(3)]).differs is None


def test_a_known_user_answer_breaking_from_its_first_ones_is_locking() -> None:
    wrong = answer({"error": "invalid credentials"}, 401)
    assert locking([wrong, wrong, wrong], [wrong, wrong]) is None
    said = locking([wrong, wrong, answer({"error": "E_4031"}, 403)], [wrong, wrong])
    assert said == "401 at first, then 403"
    changed = locking([wrong, wrong, answer({"error": "E_4031"}, 401)], [wrong, wrong])
    assert changed is not None
    assert changed.startswith("another body")


def test_a_change_the_unknown_user_also_got_is_not_locking() -> None:
    # Two releases behind one balancer: both users meet both messages.
    old = answer({"error": "Invalid credentials."}, 401)
    new = answer({"error": "Invalid username or password."}, 401)
    assert locking([old, old, new], [new, old]) is None
    assert locking([old, answer({}, 400)], [answer({}, 400)]) is None


# -- timing -----------------------------------------------------------------------------------


def test_a_consistent_step_is_a_gap() -> None:
    known = [0.153, 0.154, 0.152, 0.155, 0.153, 0.154, 0.153]
    unknown = [0.003, 0.004, 0.003, 0.002, 0.003, 0.004, 0.003]
    verdict = judge_timing(known, unknown)
    assert verdict.gap
    assert verdict.slower == "known"


def test_a_small_step_is_no_gap() -> None:
    assert not judge_timing([0.040] * 7, [0.003] * 7).gap


def test_a_step_within_the_scatter_is_no_gap() -> None:
    known = [0.30, 0.40, 0.50, 0.35, 0.45, 0.38, 0.42]
    unknown = [0.01, 0.10, 0.20, 0.05, 0.15, 0.12, 0.08]
    assert not judge_timing(known, unknown).gap


times = st.lists(st.floats(0, 3), min_size=7, max_size=22)


@given(times, times)
def test_overlapping_sides_are_never_a_gap(known: list[float], unknown: list[float]) -> None:
    # Put one value of each side inside the other's range: the sides overlap.
    low, high = min(known + unknown), max(known + unknown)
    verdict = judge_timing([*known, low, high], [*unknown, low, high])
    assert not verdict.gap


scatter = st.lists(st.floats(0, 0.02), min_size=7, max_size=22)


@given(scatter, scatter, st.floats(0, 5), st.floats(0.1, 2))
def test_a_step_well_above_the_scatter_is_a_gap(
    known: list[float], unknown: list[float], base: float, step: float
) -> None:
    verdict = judge_timing([base + step + k for k in known], [base + u for u in unknown])
    assert verdict.gap
    assert verdict.slower == "known"
