"""The offline weak-secret search and its bundled candidate list."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import statistics
import time
from importlib import resources

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from probe.probes.jwt_secrets import (
    RESOURCE,
    SEEDS,
    Secret,
    build_candidates,
    candidates,
    find_secret,
    key_forms,
    read_candidates,
    render_candidates,
)
from probe.probes.jwt_tokens import Jwt, parse, sign_hmac

REGENERATE = os.environ.get("PROBE_REGEN_GOLDEN") == "1"
CLAIMS = {"sub": "alice", "iat": 1_700_000_000, "exp": 1_700_003_600}


SPRING_KEY = "404E635266556A586E3272357538782F413F4428472B4B6250645367566B5970"


def found(token: Jwt, extra: tuple[str, ...] = ()) -> str | None:
    """The text of the secret found, or None."""
    secret = find_secret(token, extra=extra)
    return secret.text if secret is not None else None


def token(secret: str | bytes, alg: str = "HS256") -> Jwt:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    parsed = parse(sign_hmac({"typ": "JWT"}, CLAIMS, key, alg))
    assert parsed is not None
    return parsed


# -- the list -----------------------------------------------------------------------------------


def test_shipped_list_is_exactly_what_the_generator_builds() -> None:
    # The file cannot drift from SEEDS; PROBE_REGEN_GOLDEN=1 rewrites it after a change.
    path = resources.files("probe").joinpath("data", RESOURCE)
    text = render_candidates(build_candidates(SEEDS))
    if REGENERATE:
        with resources.as_file(path) as real:
            real.write_text(text, encoding="utf-8")
        candidates.cache_clear()
    shipped = path.read_text(encoding="utf-8")
    assert shipped == text, "run PROBE_REGEN_GOLDEN=1 pytest tests/probes/test_jwt_secrets.py"


def test_list_holds_a_few_thousand_distinct_candidates() -> None:
    found = candidates()
    assert 2_000 <= len(found) <= 6_000
    assert len(set(found)) == len(found)
    assert all(found)
    assert not any("\n" in candidate for candidate in found)
    assert found is candidates()  # read once


@pytest.mark.parametrize(
    "secret",
    [
        "your-256-bit-secret",
        "a-string-secret-at-least-256-bits-long",
        "secret",
        "keyboard cat",
        "super-secret",
        "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
        "dev",
        "development key",
        "change-me",
        "your-secret-key",
        "supersecretkey",
        "jwt_secret",
        "JWT_SECRET",
        "staging-jwt-secret",
        "APP_SECRET_KEY",
        "secret123",
        "mysecretkey2025",
        "changeme!",
        "Secret",
        "you-will-never-guess",
        "hard to guess string",
        SPRING_KEY,
    ],
)
def test_list_holds_framework_defaults_and_their_variants(secret: str) -> None:
    assert secret in candidates()


def test_seeds_come_first_and_keep_their_spelling() -> None:
    built = build_candidates(["AllYourBase", "my$ecretK3y"])
    assert built[:2] == ["AllYourBase", "my$ecretK3y"]
    assert {"allyourbase", "all-your-base", "all_your_base", "ALL_YOUR_BASE"} <= set(built)
    assert {"allyourbase123", "AllYourBase!", "allyourbase-2026"} <= set(built)
    assert not any(candidate.startswith("my$ecretK3y") for candidate in built[2:])


def test_sentences_and_random_looking_seeds_get_no_variants() -> None:
    seeds = ["SW2YcwTIb9zpOOhoPsMm", "s3cr3t", "this is my custom Secret key for authentication"]
    built = build_candidates(seeds)
    assert built[:3] == seeds
    assert not any(candidate.startswith(tuple(seeds)) for candidate in built[3:])


def test_lines_the_file_could_not_hold_are_left_out() -> None:
    built = build_candidates(["#hash", "two\nlines", "", "fine"])
    assert "#hash" not in built
    assert "two\nlines" not in built
    assert "" not in built
    assert "fine" in built


def test_reading_keeps_spaces_and_skips_comments() -> None:
    text = render_candidates([" padded ", "b", "b"])
    assert read_candidates(text) == [" padded ", "b"]


# -- the search ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_a_bundled_secret_is_found_for_every_hmac_size(alg: str) -> None:
    assert found(token("your-256-bit-secret", alg)) == "your-256-bit-secret"
    last = candidates()[-1]
    assert found(token(last, alg)) == last


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_signed_by_pyjwt_is_found() -> None:
    parsed = parse(jwt.encode(CLAIMS, "secret", algorithm="HS256"))
    assert parsed is not None
    assert found(parsed) == "secret"


def test_extra_secrets_are_tried_first() -> None:
    own = "the-scenario-secret-" + secrets.token_hex(8)
    assert found(token(own), extra=("wrong", own)) == own
    assert find_secret(token(own)) is None


def test_an_empty_secret_is_found_as_an_empty_string() -> None:
    assert find_secret(token(b"")) == Secret("", b"")
    assert Secret("", b"").shown == "an empty secret"


# Spring tutorials keep a hex key in their properties and sign with what
# `Decoders.BASE64.decode(key)` gives (48 bytes), or with its hex value, or the text itself.
@pytest.mark.parametrize(
    ("key", "form"),
    [
        (SPRING_KEY.encode(), ""),
        (base64.b64decode(SPRING_KEY), "base64"),
        (bytes.fromhex(SPRING_KEY), "hex"),
    ],
    ids=["as-written", "base64-decoded", "hex-decoded"],
)
def test_a_tutorial_key_is_found_as_written_and_decoded(key: bytes, form: str) -> None:
    secret = find_secret(token(key, "HS512"))
    assert secret == Secret(SPRING_KEY, key, form)
    if form:
        assert secret.shown == f"{SPRING_KEY!r} {form}-decoded"


def test_only_texts_that_decode_to_16_bytes_get_decoded_forms() -> None:
    assert [s.form for s in key_forms("secret")] == [""]  # base64 of 4 bytes: too short
    assert [s.form for s in key_forms("c2VjcmV0LWtleS0xMjM0NTY3OA==")] == ["", "base64"]
    assert [s.form for s in key_forms("00112233445566778899aabbccddeeff")] == [
        "",
        "base64",
        "hex",
    ]
    assert [s.form for s in key_forms("not base64 at all!")] == [""]


def test_the_scenario_secret_is_tried_decoded_too() -> None:
    own = base64.b64encode(secrets.token_bytes(32)).decode()
    secret = find_secret(token(base64.b64decode(own)), extra=(own,))
    assert secret is not None
    assert (secret.text, secret.form) == (own, "base64")


@pytest.mark.parametrize("alg", ["HS256", "HS512"])
def test_a_strong_random_secret_is_not_found(alg: str) -> None:
    assert find_secret(token(secrets.token_bytes(64), alg)) is None


def test_tokens_not_signed_with_hmac_are_not_searched() -> None:
    signed = token("secret")
    for header in ({"alg": "RS256"}, {"alg": "none"}, {"alg": "hs256"}, {}):
        relabelled = Jwt(
            signed.raw, header, CLAIMS, signed.header_b64, signed.payload_b64, signed.signature_b64
        )
        assert find_secret(relabelled) is None
    truncated = Jwt(
        signed.raw, signed.header, CLAIMS, signed.header_b64, signed.payload_b64, "AAAA"
    )
    assert find_secret(truncated) is None


def test_rs256_tokens_give_none() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    parsed = parse(jwt.encode(CLAIMS, key, algorithm="RS256"))
    assert parsed is not None
    assert find_secret(parsed, extra=("secret",)) is None


def test_a_full_miss_costs_a_few_plain_hashes_per_key() -> None:
    # Premise of benchmarks/jwt_secrets.py as a ratio in one process: one HMAC per key (every
    # candidate as written, and its decoded forms) against one sha256 per candidate.
    miss = token(secrets.token_bytes(64), "HS512")
    message = miss.signing_input
    keys = [candidate.encode() for candidate in candidates()]
    find_secret(miss)
    ratios, misses = [], []
    for _ in range(5):
        start = time.perf_counter()
        assert find_secret(miss) is None
        searched = time.perf_counter() - start
        misses.append(searched)
        start = time.perf_counter()
        for _key in keys:
            hashlib.sha256(message).digest()
        ratios.append(searched / (time.perf_counter() - start))
    assert statistics.median(ratios) < 16
    assert statistics.median(misses) < 0.1  # the whole miss stays under 100 ms
