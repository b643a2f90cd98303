"""The jwt probe's claim judges: expiry, lifetime and sensitive claims, true and false cases."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.findings import Severity
from probe.probes.jwt_hygiene import (
    Hygiene,
    hygiene,
    is_card_number,
    is_iban,
    is_ssn,
    sensitive_claims,
)
from probe.probes.jwt_tokens import Jwt, parse, sign_hmac

IAT = 1_700_000_000
HOUR = 3_600
ORDINARY = {
    "sub": "4f7d2c1e-9b8a-4c3d-8e2f-1a2b3c4d5e6f",
    "iat": IAT,
    "exp": IAT + 15 * 60,
    "nbf": IAT,
    "iss": "https://auth.example.test/",
    "aud": ["api"],
    "jti": "0b8e6f3a-5c2d-4e1f-9a8b-7c6d5e4f3a2b",
    "email": "alice@example.test",
    "email_verified": True,
    "name": "Alice Example",
    "roles": ["user", "editor"],
    "user_id": 4111111111111111,  # a Luhn-valid Visa-shaped number, but named as an id
    "uid": 1234567890123,
    "org": {"id": 42, "slug": "acme", "plan": "pro"},
    "scope": "read:orders write:orders",
    "auth_time": IAT,
    "login_ms": 1_700_000_000_123,  # millisecond timestamp, Luhn-valid or not, never a card
    "discord": 175928847299117063,  # snowflake id
    "password_changed_at": 1_700_000_000,
    "password_changed": "2024-05-01T10:00:00Z",
    "secret_question_set": True,
    "has_password": True,
    "password_policy": "strong",
    "mfa_secret_enrolled": "yes",
    "api_key_count": 3,
    "locale": "en-GB",
    "phone": "+44 20 7946 0958",
    "zip": "12345-6789",
}


def token(claims: dict[str, Any]) -> Jwt:
    parsed = parse(sign_hmac({"typ": "JWT"}, claims, b"k" * 32))
    assert parsed is not None
    return parsed


def rules(found: list[Hygiene]) -> list[tuple[str, Severity, str | None]]:
    return [(item.rule, item.severity, item.claim) for item in found]


# -- expiry and lifetime ------------------------------------------------------------------------


def test_an_ordinary_token_has_nothing_to_report() -> None:
    assert hygiene(token(ORDINARY), max_lifetime=HOUR) == []
    assert sensitive_claims(ORDINARY) == []


def test_a_token_without_exp_is_medium() -> None:
    claims = {key: value for key, value in ORDINARY.items() if key != "exp"}
    assert rules(hygiene(token(claims), max_lifetime=HOUR)) == [("no-exp", Severity.medium, "exp")]


@pytest.mark.parametrize("exp", ["tomorrow", None, True, [1]])
def test_an_exp_that_is_not_a_number_counts_as_none(exp: Any) -> None:
    (item,) = hygiene(token({"iat": IAT, "exp": exp}), max_lifetime=HOUR)
    assert (item.rule, item.severity) == ("no-exp", "medium")
    assert "not a number" in item.detail


@pytest.mark.parametrize(
    "exp", [math.nan, math.inf, -math.inf, 10**400, 1e308, 10**30, -1e18], ids=repr
)
def test_an_exp_that_is_no_usable_time_counts_as_none(exp: Any) -> None:
    (item,) = hygiene(token({"iat": IAT, "exp": exp}), max_lifetime=HOUR)
    assert (item.rule, item.severity) == ("no-exp", "medium")
    assert "not a usable time" in item.detail
    assert len(item.detail) < 120  # a 400-digit exp is not written out


@pytest.mark.parametrize(
    ("lifetime", "expected"),
    [
        (HOUR, []),
        (HOUR + 1, [("long-lifetime", Severity.low, "exp")]),
        (24 * HOUR, [("long-lifetime", Severity.low, "exp")]),
        (24 * HOUR + 1, [("long-lifetime", Severity.medium, "exp")]),
        (30 * 24 * HOUR, [("long-lifetime", Severity.medium, "exp")]),
        (-60, []),
    ],
)
def test_lifetime_above_the_maximum_is_low_and_medium_past_a_day(
    lifetime: int, expected: list[tuple[str, Severity, str]]
) -> None:
    found = hygiene(token({"iat": IAT, "exp": IAT + lifetime}), max_lifetime=HOUR)
    assert rules(found) == expected


def test_lifetime_detail_gives_both_durations() -> None:
    (item,) = hygiene(token({"iat": IAT, "exp": IAT + 30 * 24 * HOUR}), max_lifetime=HOUR)
    assert item.detail == "the token lives 30 days (exp - iat), above 60 min"


def test_a_long_maximum_still_reports_beyond_it_as_medium() -> None:
    found = hygiene(token({"iat": IAT, "exp": IAT + 10 * 24 * HOUR}), max_lifetime=7 * 24 * HOUR)
    assert rules(found) == [("long-lifetime", Severity.medium, "exp")]


def test_without_iat_the_lifetime_is_not_guessed() -> None:
    (item,) = hygiene(token({"exp": IAT + 365 * 24 * HOUR}), max_lifetime=HOUR)
    assert (item.rule, item.severity, item.claim) == ("long-lifetime", Severity.info, "iat")
    assert "unknown" in item.detail


# -- sensitive claims ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"password": "hunter2"}, [("password", "password")]),
        ({"db": {"Password": "Tr0ub4dor&3"}}, [("db.Password", "password")]),
        ({"pwd": "12345678"}, [("pwd", "password")]),
        ({"password_hash": "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
         [("password_hash", "password hash")]),
        ({"password": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"},
         [("password", "password hash")]),
        ({"clientSecret": "9f8e7d6c5b4a"}, [("clientSecret", "secret")]),
        ({"jwt_secret": "keyboard cat"}, [("jwt_secret", "secret")]),
        ({"STRIPE_API_KEY": "sk_test_4eC39HqLyjWDarjtT1zdp7dc"}, [("STRIPE_API_KEY", "API key")]),
        ({"x-api-key": "abc123def456"}, [("x-api-key", "API key")]),
        ({"apiKey": "abc123def456"}, [("apiKey", "API key")]),
        ({"privateKey": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}, [("privateKey", "private key")]),
        ({"blob": "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."}, [("blob", "private key")]),
        ({"card": "4111 1111 1111 1111"}, [("card", "card number")]),
        ({"pan": 5555555555554444}, [("pan", "card number")]),
        ({"wallet": {"cards": [{"n": "3782-822463-10005"}]}},
         [("wallet.cards[0].n", "card number")]),
        ({"ssn": "536-22-1234"}, [("ssn", "US SSN")]),
        ({"bank": "GB82 WEST 1234 5698 7654 32"}, [("bank", "IBAN")]),
        ({"ibans": ["x", "DE89370400440532013000"]}, [("ibans[1]", "IBAN")]),
        ({"passwort": "Geheim-Passwort-42"}, [("passwort", "password")]),
        ({"user_wachtwoord": "Welkom-2024!"}, [("user_wachtwoord", "password")]),
        ({"contraseña": "Clave-Segura-9"}, [("contraseña", "password")]),
        ({"mot_de_passe": "Soleil-Brille-7"}, [("mot_de_passe", "password")]),
        ({"hasło": "Tajne-Haslo-3"}, [("hasło", "password")]),
    ],
)  # fmt: skip
def test_sensitive_claims_are_found_with_their_path_and_kind(
    claims: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert sensitive_claims(claims) == expected


@pytest.mark.parametrize(
    "claims",
    [
        {"password_changed_at": 1_700_000_000},
        {"secret_question_set": True},
        {"password": True},
        {"password": 12345678},
        {"password": ""},
        {"password": "   "},
        {"password": "********"},
        {"password": "[REDACTED]"},
        {"password": "required"},
        {"password": "min:8"},
        {"password": "1700000000"},
        {"password": "2024-05-01T10:00:00Z"},
        {"secret": "${JWT_SECRET}"},
        {"api_key": "YOUR_API_KEY_HERE"},
        {"client_secret": "changeme"},
        {"secret": None},
        {"secret_key_id": "kid-2024-01"},
        {"passwordless": "enabled"},
        {"n": "4111111111111112"},  # Luhn-invalid
        {"n": 4111111111111112},
        {"n": "1234567812345670"},  # Luhn-valid but no card brand starts with 1
        {"sub": "4111111111111111"},
        {"order_id": "4111111111111111"},
        {"ssn": "666-12-3456"},
        {"ssn": "900-12-3456"},
        {"ssn": "000-12-3456"},
        {"ssn": "536-00-1234"},
        {"ssn": "536-22-0000"},
        {"ssn": "123-45-6789"},
        {"date": "2024-05-01"},
        {"bank": "GB83 WEST 1234 5698 7654 32"},  # check digits wrong
        {"bank": "DE8937040044053201300"},  # one digit short for Germany
        {"ref": "AB12CDEF3456GH78"},  # IBAN-shaped, no such country
        {"session": "6f1c2d3e-0000-4000-8000-00000000000f"},
    ],
)
def test_ordinary_values_are_not_sensitive(claims: dict[str, Any]) -> None:
    assert sensitive_claims(claims) == []


def test_each_sensitive_claim_is_a_medium_finding() -> None:
    claims = {**ORDINARY, "password": "hunter2", "profile": {"ssn": "536-22-1234"}}
    found = hygiene(token(claims), max_lifetime=HOUR)
    assert rules(found) == [
        ("sensitive-claim", Severity.medium, "password"),
        ("sensitive-claim", Severity.medium, "profile.ssn"),
    ]
    assert found[1].detail == "the claim profile.ssn holds a US SSN"
    (key,) = hygiene(token({**ORDINARY, "apiKey": "abc123def456"}), max_lifetime=HOUR)
    assert key.detail == "the claim apiKey holds an API key"


def test_nesting_is_walked_to_a_depth_cap() -> None:
    shallow: dict[str, Any] = {"password": "hunter2"}
    deep: dict[str, Any] = {"password": "hunter2"}
    for _ in range(3):
        shallow = {"a": shallow}
    for _ in range(20):
        deep = {"a": [deep]}
    assert sensitive_claims(shallow) == [("a.a.a.password", "password")]
    assert sensitive_claims(deep) == []


def test_a_huge_token_is_looked_at_within_a_bounded_count() -> None:
    claims = {"items": list(range(100_000)), "password": "hunter2"}
    assert sensitive_claims(claims) == [("password", "password")]


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("4111111111111111", True),
        ("4222222222222", True),  # 13-digit Visa
        ("378282246310005", True),  # Amex
        ("6011111111111117", True),  # Discover
        ("3530111333300000", True),  # JCB
        ("30569309025904", True),  # Diners
        ("2223003122003222", True),  # Mastercard 2-series
        ("4111111111111112", False),
        ("411111111111", False),  # 12 digits
        ("41111111111111111111", False),  # 20 digits
        ("0000000000000000", False),
        ("1700000000123", False),
    ],
)
def test_card_numbers_need_luhn_and_a_brand_range(digits: str, expected: bool) -> None:
    assert is_card_number(digits) is expected


def test_ssn_and_iban_checks() -> None:
    assert is_ssn("536-22-1234")
    assert not is_ssn("536221234")
    assert is_iban("FR1420041010050500013M02606")
    assert is_iban("NL91 ABNA 0417 1643 00")
    assert not is_iban("NL91 ABNA 0417 1643 01")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), _JSON, max_size=6))
def test_judges_never_raise(claims: dict[str, Any]) -> None:
    sensitive_claims(claims)
    hygiene(Jwt("", {}, claims, "", "", ""), max_lifetime=HOUR)
