"""The secret judges on their own: what is a stored secret, what only talks about one, what is
an echo of the request, and how the errors probe groups sure and tentative places."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probe.exchange import Exchange, RequestRecord, ResponseRecord
from probe.findings import Confidence, Severity
from probe.probes.error_hits import TENTATIVE_KEY, Hit, grouped_findings
from probe.probes.error_rules import RULES
from probe.probes.error_triggers import SPECIAL_CHARS
from probe.probes.secret_echoes import Sent, sent_by
from probe.probes.secret_names import secret_kind
from probe.probes.secret_signatures import find_secrets, judge_field
from probe.probes.secret_values import has_random_run, is_placeholder, password_shape
from probe.probes.signatures import SECRET_IN_RESPONSE, Match, text_views

FIRM = Confidence.firm
TENTATIVE = Confidence.tentative
MARKER = "prb1a2b3c4d"
BCRYPT = "$2b$12$KIXQJxk3PzTq1dU5e0mWbO0l7tT4lB9m2yC1o8Yq3sVnH6pR0a1Cy"
ARGON2 = (
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$K1pbN0xvYw0ZsnlVv3Qy2Tfo3c4mLxN+2bCkPq8ZyQU"
)
STRIPE_SECRET = "sk_live_51Hx3kQ2eZvKYlo2C0000"  # a made-up key in Stripe's format
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL\n"
    "-----END RSA PRIVATE KEY-----\n"
)
GOOGLE_KEY = "AIzaSyDOCAbC123dEf456GhI789jKl01-MnO"


def _secrets(body: Any, status: int = 200, sent: Sent | str = "", marker: str = "") -> list[Match]:
    views = text_views(json.dumps(body), "application/json")
    return find_secrets(views, status=status, sent=sent, marker=marker)


def _request(body: bytes, content_type: str, url: str = "http://127.0.0.1:8000/api/x") -> Sent:
    return sent_by(RequestRecord("POST", url, (("Content-Type", content_type),), body))


# -- echoes: the decoded values the request carried ------------------------------------------


@pytest.mark.parametrize("password", ["Sup3r!p&ss+w0rd", "a%20b+c=d&e9", "it's=9x;z#", "pä!ss9€"])
def test_form_encoded_password_echoed_back_is_not_a_leak(password: str) -> None:
    sent = _request(
        urlencode({"username": "bob", "password": password}).encode(),
        "application/x-www-form-urlencoded",
    )
    body = {"id": 9, "username": "bob", "password": password}
    assert password not in sent.text  # the raw body holds it encoded only
    assert sent.carried(password)
    assert _secrets(body, 201) != []  # a stored password, had the request not carried it
    assert _secrets(body, 201, sent) == []


@pytest.mark.parametrize("password", ['pa"ss99xx', "pässw0rd99", "ab\\c9xyz", "ctrl\u0001x9"])
def test_json_escaped_password_echoed_back_is_not_a_leak(password: str) -> None:
    body = json.dumps({"email": "a@b.test", "password": password}).encode()
    sent = _request(body, "application/json")
    answer = {"received": {"email": "a@b.test", "password": password}}
    assert password not in sent.text
    assert _secrets(answer, 201) != []
    assert _secrets(answer, 201, sent) == []


def test_echo_is_recognised_in_another_unicode_normal_form() -> None:
    decomposed = "pa\u0308ssw0rd99"  # a + combining diaeresis, as some clients send it
    sent = _request(json.dumps({"password": decomposed}).encode(), "application/json")
    assert _secrets({"password": "pässw0rd99"}, 201, sent) == []


def test_query_values_and_basic_credentials_are_echoes_too() -> None:
    basic = "Basic " + "YWxpY2U6czNjcjN0ISE="  # alice:s3cr3t!!
    record = RequestRecord(
        "GET", "http://127.0.0.1:8000/me?pw=x%2By1234%21", (("Authorization", basic),)
    )
    sent = sent_by(record)
    assert sent.carried("x+y1234!")
    assert sent.carried("s3cr3t!!")
    assert _secrets({"password": "s3cr3t!!", "old_password": "x+y1234!"}, 200, sent) == []


def test_a_password_the_request_did_not_carry_is_still_a_leak() -> None:
    sent = _request(json.dumps({"password": "alice-pass-123"}).encode(), "application/json")
    [match] = _secrets({"password": "bob-pass-456"}, 200, sent)
    assert (match.severity, match.confidence) == (Severity.high, FIRM)


def test_the_probes_own_special_characters_payload_never_counts() -> None:
    payload = MARKER + SPECIAL_CHARS
    # Served back by another endpoint than the one it was sent to: no echo of this request.
    assert _secrets({"received": {"password": payload}}, 201, marker=MARKER) == []
    assert _secrets({"password": MARKER.upper() + "!x9"}, 200, marker=MARKER) == []
    [match] = _secrets({"received": {"password": payload}}, 201)
    assert match.severity is Severity.high  # the judge alone cannot know it is ours


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=4, max_size=40).filter(lambda t: t.strip() == t and "\x00" not in t))
def test_any_echoed_value_is_recognised_whatever_the_body_encoding(value: str) -> None:
    form = _request(urlencode({"password": value}).encode(), "application/x-www-form-urlencoded")
    as_json = _request(json.dumps({"password": value}).encode(), "application/json")
    assert form.carried(value)
    assert as_json.carried(value)


# -- values that are no password -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        # Validation rules, ranges, times and patterns.
        "required|min:8|confirmed",
        "required|string|min:12|max:128",
        "min:8",
        "between:8,64",
        "8-64",
        "4-6",
        "12:30",
        "^(?=.*\\d).{8,}$",
        "^(?=.*[0-9]).{8,}$",
        "[A-Za-z0-9]{8,}",
        # Masks, references and codes.
        "(hidden)",
        "[hidden]",
        "<hidden>",
        "vault:secret/data/db#password",
        "secretsmanager:prod/db-2024",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
        "ssm:/prod/db/password",
        "E1001",
        "ERR_4012",
        "C:\\Users\\alice\\AppData\\pw.txt",
        "\\\\fileserver\\share\\pw.txt",
    ],
)
def test_rules_patterns_references_and_masks_are_no_password(value: str) -> None:
    assert judge_field("password", value) is None
    assert _secrets({"password": value}) == []


@pytest.mark.parametrize(
    "value", ["alice-pass-123", "Tr0ub4dor&3", "hunter2", "pa$$w0rd!", "Zz9!x7#q", "s3cr3t:b4r"]
)
def test_plain_passwords_are_still_high_and_firm(value: str) -> None:
    verdict = judge_field("password", value)
    assert verdict is not None
    assert (verdict.shape, verdict.severity, verdict.confidence) == (
        "plain password",
        Severity.high,
        FIRM,
    )


WERKZEUG_PBKDF2 = "pbkdf2:sha256:600000$Cvk3rZ1EaocXjM6W$" + "2e" * 32
WERKZEUG_SCRYPT = "scrypt:32768:8:1$cQX2kD55vczKDOFq$" + "f8" * 64


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        (BCRYPT, "bcrypt hash"),
        (ARGON2, "Argon2 hash"),
        (WERKZEUG_PBKDF2, "PBKDF2 hash"),
        (WERKZEUG_SCRYPT, "scrypt hash"),
    ],
)
def test_hashes_are_still_high_and_firm(value: str, shape: str) -> None:
    verdict = judge_field("password", value)
    assert verdict is not None
    assert (verdict.shape, verdict.severity, verdict.confidence) == (shape, Severity.high, FIRM)


@pytest.mark.parametrize("value", ["8-64", "12:30", "min:8", "E1001", "^.{8,}$"])
def test_notation_has_no_password_shape(value: str) -> None:
    assert password_shape(value) is None


# -- values that are no key ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # Names and ids of keys, not key material.
        ("encryption_key", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef"),
        ("signingKey", "projects/my-proj/locations/global/keyRings/Ring1/cryptoKeys/jwt-signer"),
        ("master_key", "alias/Prod-Master-2024"),
        ("signing_key", "kid-2024-01-15-rsa256"),
        ("api_key", "ProdMasterSigningKeyName"),
        # Keys public by design.
        ("searchApiKey", "6be0576ff61c053d5f9a3225e2a90f76"),
        ("search_api_key", "6be0576ff61c053d5f9a3225e2a90f76"),
        ("algolia_search_only_api_key", "6be0576ff61c053d5f9a3225e2a90f76"),
        ("apiKey", "phc_Q1w2E3r4T5y6U7i8O9p0AsDfGhJkL"),
        ("api_key", "pk_live_51H8AbCdEfGhIjKlMnOp"),
        ("api_key", "pk.eyJ1IjoiZXhhbXBsZSIsImEiOiJjazEyMyJ9.abc123def456"),
        # Placeholders.
        ("api_key", "YOUR_API_KEY_HERE123"),
        ("client_secret", "__CLIENT_SECRET_PLACEHOLDER_1__"),
        ("api_key", "changeme"),
        ("api_key", "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        ("api_key", "insert-your-api-key-0000000000"),
        ("client_secret", "example_client_secret_12345678"),
    ],
)  # fmt: skip
def test_key_names_public_keys_and_placeholders_are_no_key(name: str, value: str) -> None:
    assert judge_field(name, value) is None


@pytest.mark.parametrize(
    "value",
    [
        STRIPE_SECRET,
        "cs_9aB8cD7eF6gH5iJ4kL3m",
        "550e8400-e29b-41d4-a716-446655440000",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "6be0576ff61c053d5f9a3225e2a90f76",
    ],
)
def test_key_material_is_still_a_firm_key(value: str) -> None:
    verdict = judge_field("api_key", value)
    assert verdict is not None
    assert (verdict.shape, verdict.severity, verdict.confidence) == ("key", Severity.medium, FIRM)


def test_google_key_stays_low_and_tentative() -> None:
    verdict = judge_field("apiKey", GOOGLE_KEY)
    assert verdict is not None
    assert (verdict.severity, verdict.confidence) == (Severity.low, TENTATIVE)


def test_search_admin_key_still_counts() -> None:
    assert secret_kind("searchApiKey") is None
    assert secret_kind("search_admin_api_key") == "key"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("YOUR_API_KEY_HERE123", True),
        ("__CLIENT_SECRET_PLACEHOLDER_1__", True),
        ("(hidden)", True),
        ("Here4you!", False),
        ("alice-pass-123", False),
    ],
)
def test_placeholders(text: str, expected: bool) -> None:
    assert is_placeholder(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kQ2eZvKYlo2C0000", True),
        ("AbCdEfGhIjKlMnOpQrSt", True),
        ("ProdMasterSigningKeyName", False),
        ("kid-2024-01-15-rsa256", False),
        ("signing-key-v2-prod", False),
    ],
)
def test_random_runs(text: str, expected: bool) -> None:
    assert has_random_run(text) is expected


# -- TOTP enrolment --------------------------------------------------------------------------

SEED = "JBSWY3DPEHPK3PXP"


def test_totp_seed_beside_its_otpauth_uri_is_enrolment_by_design() -> None:
    uri = f"otpauth://totp/Shop:alice?secret={SEED}&issuer=Shop"
    assert _secrets({"secret": SEED, "otpauth_url": uri}) == []
    assert _secrets({"mfa": {"secret": SEED, "qr_code": "data:image/png;base64,iVBO"}}) == []
    assert _secrets({"enrolment": {"totp": {"secret": SEED}}, "provisioning_uri": uri}) == []


def test_totp_seed_without_enrolment_context_is_still_a_key() -> None:
    [match] = _secrets({"user": {"id": 1, "secret": SEED}})
    assert (match.severity, match.confidence) == (Severity.medium, FIRM)


def test_enrolment_context_excuses_only_a_base32_seed() -> None:
    body = {"secret": STRIPE_SECRET, "otpauth_url": f"otpauth://totp/x?secret={SEED}"}
    [match] = _secrets(body)
    assert match.key == "$.secret"


# -- one answer: sure fields and guesses apart -----------------------------------------------


def test_google_key_beside_a_stored_password_is_a_separate_tentative_match() -> None:
    sure, guess = _secrets({"password": "alice-pass-123", "firebase": {"apiKey": GOOGLE_KEY}})
    assert (sure.severity, sure.confidence, sure.key) == (Severity.high, FIRM, "$.password")
    assert "AIza" not in sure.excerpt
    assert (guess.severity, guess.confidence) == (Severity.low, TENTATIVE)
    assert guess.key == "$.firebase.apiKey"
    assert guess.signature != sure.signature


def test_pem_private_key_is_still_found_in_any_body() -> None:
    [match] = find_secrets(text_views(f"<pre>{PEM}</pre>", "text/html"))
    assert (match.severity, match.confidence) == (Severity.high, FIRM)


def test_lone_surrogate_in_a_json_name_never_reaches_a_match() -> None:
    views = text_views('{"x\\ud800_password": "Abc12345!xyz"}', "application/json")
    [match] = find_secrets(views)
    for text in (match.key, match.label, match.excerpt):
        text.encode("utf-8")  # raises on a lone surrogate
    assert "x\\ud800_password" in match.key


# -- grouping --------------------------------------------------------------------------------

SECRET_RULE = next(r for r in RULES if r.id == f"errors.{SECRET_IN_RESPONSE}")


def _exchange(seq: int, url: str, endpoint: str | None, purpose: str = "baseline") -> Exchange:
    response = ResponseRecord(200, "HTTP/1.1", (("Content-Type", "application/json"),), b"{}")
    request = RequestRecord("GET", url)
    return Exchange(seq, "engine", endpoint, None, purpose, request, response)


def _hit(seq: int, place: str, url: str, severity: Severity, confidence: Confidence) -> Hit:
    is_endpoint = not place.startswith("http")
    exchange = _exchange(seq, url, place if is_endpoint else None)
    sure = confidence is not TENTATIVE
    match = Match(
        SECRET_IN_RESPONSE,
        "secret" if sure else "possible-secret",
        f"{'Secrets' if sure else 'Possible secrets'} in the response ($.x{seq})",
        f"$.x{seq}",
        f"$.x{seq} = [hidden: 9 characters]",
        severity,
        confidence,
    )
    return Hit(place, is_endpoint, exchange, match)


BASE = "http://127.0.0.1:8000/api"


def test_tentative_places_are_their_own_finding_beside_the_sure_one() -> None:
    hits = [
        _hit(1, "me", f"{BASE}/me", Severity.high, FIRM),
        _hit(2, "config", f"{BASE}/config.json", Severity.low, TENTATIVE),
        _hit(3, f"{BASE}/config.json", f"{BASE}/config.json", Severity.low, TENTATIVE),
    ]
    sure, guess = grouped_findings(SECRET_RULE, SECRET_IN_RESPONSE, hits)
    assert (sure.severity, sure.confidence, sure.key, sure.endpoint) == (
        Severity.high,
        FIRM,
        "",
        "me",
    )
    assert "config" not in sure.detail
    assert (guess.severity, guess.confidence, guess.key) == (Severity.low, TENTATIVE, TENTATIVE_KEY)
    # The well-known path is the config endpoint's own URL: one place, not two.
    assert guess.endpoint == "config"
    assert list(guess.affected) == []
    assert sure.grouped
    assert guess.grouped


def test_affected_lists_each_place_once() -> None:
    hits = [
        _hit(1, "a", f"{BASE}/a", Severity.medium, FIRM),
        _hit(2, "b", f"{BASE}/b", Severity.high, FIRM),
        _hit(3, "b", f"{BASE}/b?limit=3", Severity.high, FIRM),
        _hit(4, f"{BASE}/b/", f"{BASE}/b/", Severity.high, FIRM),
        _hit(5, f"{BASE}/.env", f"{BASE}/.env", Severity.high, FIRM),
    ]
    [found] = grouped_findings(SECRET_RULE, SECRET_IN_RESPONSE, hits)
    assert list(found.affected) == ["a", "b", f"{BASE}/.env"]
    assert found.severity is Severity.high  # the strongest of its places


def test_a_rule_tentative_by_default_keeps_one_finding() -> None:
    # internal-path is tentative as a rule: nothing to split, and its fingerprint key stays.
    rule = next(r for r in RULES if r.id == "errors.internal-path")
    hit = _hit(1, "a", f"{BASE}/a", Severity.low, TENTATIVE)
    [found] = grouped_findings(rule, "internal-path", [hit])
    assert found.key == ""


def test_grouped_text_never_holds_a_lone_surrogate() -> None:
    hit = _hit(1, "a", f"{BASE}/a", Severity.high, FIRM)
    match = Match(SECRET_IN_RESPONSE, "secret", "Secrets ($.x\ud800)", "k", "$.x\ud800 = [hidden]")
    [found] = grouped_findings(
        SECRET_RULE, SECRET_IN_RESPONSE, [Hit("a", True, hit.exchange, match)]
    )
    found.detail.encode("utf-8")
    for text in found.excerpts.values():
        text.encode("utf-8")
