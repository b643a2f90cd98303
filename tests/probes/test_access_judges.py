"""The access probe's pure judges: references, replays, invalid tokens, mass assignment, login
fields, lockouts, answer and timing comparisons (built answers, no network)."""

from __future__ import annotations

import json
import re
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.probes.access_judges import (
    equivalent,
    flip_signature,
    holds,
    invalid_token,
    judge_mass_assignment,
    reference_problem,
    same_shape,
)
from probe.probes.access_login_judges import (
    find_password_field,
    find_user_field,
    judge_answers,
    judge_timing,
    made_up_user,
    stop_reason,
    with_fields,
    without_echo,
    wrong_password,
)

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


# -- mass assignment --------------------------------------------------------------------------


def test_a_field_is_found_at_any_depth_whatever_its_case() -> None:
    data = {"profile": {"isAdmin": True}, "items": [{"role": "admin"}]}
    assert holds(data, "is_admin", True)
    assert holds(data, "role", "admin")
    assert not holds(data, "admin", True)


def test_true_is_not_one() -> None:
    assert not holds({"admin": 1}, "admin", True)
    assert not holds({"admin": "true"}, "admin", True)


def test_a_field_stored_by_the_write_is_reported() -> None:
    fields = {"admin": True, "role": "admin"}
    verdict = judge_mass_assignment(fields, {"admin": False}, None, {"admin": True})
    assert verdict.stored == ("admin",)
    assert not verdict.already


def test_a_field_held_before_is_inconclusive() -> None:
    verdict = judge_mass_assignment({"role": "admin"}, [{"role": "admin"}], {}, [{"role": "admin"}])
    assert verdict.already == ("role",)
    assert not verdict.stored


def test_an_echo_alone_is_not_stored() -> None:
    verdict = judge_mass_assignment({"admin": True}, {"a": 1}, {"admin": True}, {"a": 1})
    assert verdict.echoed == ("admin",)
    assert not verdict.stored


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


def test_the_wrong_password_is_never_the_real_one() -> None:
    assert wrong_password("x") != "x"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"error": "invalid"}, 423),
        ({"error": "slow down"}, 429),
        ({"error": "Account locked"}, 401),
        ({"error": "invalid credentials, 2 attempts left"}, 401),
        ({"error": "Too many failed logins, try again later"}, 403),
        ({"error": "please solve the captcha"}, 400),
    ],
)
def test_lockout_and_limit_answers_stop_the_check(body: dict[str, str], status: int) -> None:
    assert stop_reason(answer(body, status)) is not None


def test_an_ordinary_refusal_does_not_stop_the_check() -> None:
    assert stop_reason(answer({"error": "invalid username or password"}, 401)) is None


# -- answers ----------------------------------------------------------------------------------


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
