"""The jwt probe's token toolkit: parsing, signing and every forged token, without servers."""

from __future__ import annotations

import base64
import hmac
import json
import string
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from probe.probes.jwt_keys import (
    PublicKey,
    confusion_recipe,
    header_forgeries,
    is_asymmetric,
    key_confusion_forgeries,
    public_keys_from_jwks,
)
from probe.probes.jwt_reproduce import claims_word, confusion_mint, hmac_mint, jwk_mint
from probe.probes.jwt_tokens import (
    DAY,
    Jwt,
    b64url,
    b64url_decode,
    encode_json,
    flip_signature_bit,
    mint,
    parse,
    sign_hmac,
    signature_forgeries,
)

STRONG = b"k" * 64  # long enough that PyJWT signs and verifies without a warning
CLAIMS = {"sub": "alice", "iat": 1_700_000_000, "exp": 1_700_003_600, "role": "user"}
NONE_NAMES = [
    f"alg-none-{case}{dot}" for case in ("none", "None", "NONE", "nOnE") for dot in ("-dot", "")
]


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def hs256(claims: dict[str, Any] = CLAIMS, **header: Any) -> Jwt:
    token = parse(jwt.encode(claims, STRONG, algorithm="HS256", headers=header or None))
    assert token is not None
    return token


def rs256(key: rsa.RSAPrivateKey, claims: dict[str, Any] = CLAIMS, **header: Any) -> Jwt:
    token = parse(jwt.encode(claims, key, algorithm="RS256", headers=header or None))
    assert token is not None
    return token


def spki(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hmac_ok(token: str, key: bytes, digest: str = "sha256") -> bool:
    head, _, signature = token.rpartition(".")
    expected = hmac.digest(key, head.encode("ascii"), digest)
    return hmac.compare_digest(expected, b64url_decode(signature) or b"")


def forged(forgeries: list[Any], name: str) -> Any:
    return next(forgery for forgery in forgeries if forgery.name == name)


# -- parse, encode ------------------------------------------------------------------------------


def test_parse_keeps_parts_as_given_and_decodes_header_and_claims() -> None:
    raw = jwt.encode(CLAIMS, STRONG, algorithm="HS384", headers={"kid": "k1"})
    token = parse(raw)
    assert token is not None
    assert token.raw == raw
    assert f"{token.header_b64}.{token.payload_b64}.{token.signature_b64}" == raw
    assert token.header == {"alg": "HS384", "kid": "k1", "typ": "JWT"}
    assert token.claims == CLAIMS
    assert token.alg == "HS384"
    assert token.signing_input == raw.rpartition(".")[0].encode("ascii")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        f"{encode_json({'alg': 'HS256'})}.{b64url(b'[1, 2]')}.AAAA",  # claims not an object
        f"{b64url(b'[]')}.{encode_json({})}.AAAA",  # header not an object
        f"{encode_json({'alg': 'HS256'})}.{b64url(b'not json')}.AAAA",
        f"{encode_json({'alg': 'HS256'})}.{encode_json({})}.A",  # 1 char: not base64
        f"{encode_json({'alg': 'HS256'})}.{encode_json({})}.AA==",  # padding is not JWS
        f"{encode_json({'alg': 'HS256'})}.{encode_json({})}.AA+/",  # plain base64 alphabet
        f"{encode_json({'alg': 'HS256'})}.{b64url(b'{}')} .AAAA",
        f"{encode_json({'alg': 'HS256'})}.{b64url(bytes([0xFF, 0xFE]))}.AAAA",  # not UTF-8
        f"{b64url(b'[' * 100_000)}.{encode_json({})}.AAAA",  # nesting deeper than json allows
    ],
)
def test_parse_refuses_what_is_not_a_jws_with_json_objects(raw: str) -> None:
    assert parse(raw) is None


def test_parse_accepts_an_unsigned_token_with_its_final_dot() -> None:
    token = parse(f"{encode_json({'alg': 'none'})}.{encode_json({'sub': 'a'})}.")
    assert token is not None
    assert token.signature_b64 == ""
    assert token.alg == "none"


def test_alg_is_empty_when_absent_or_not_a_string() -> None:
    for header in ({}, {"alg": 5}):
        token = parse(f"{encode_json(header)}.{encode_json({})}.AAAA")
        assert token is not None
        assert token.alg == ""


@given(st.text())
def test_parse_never_raises_on_any_text(text: str) -> None:
    parse(text)


_B64_CHARS = string.ascii_letters + string.digits + "-_=+/."
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(st.lists(st.text(alphabet=_B64_CHARS, max_size=40), min_size=1, max_size=5))
def test_parse_never_raises_on_dot_joined_base64_pieces(pieces: list[str]) -> None:
    parse(".".join(pieces))


@given(_JSON, _JSON, st.binary(max_size=80))
def test_parse_reads_every_token_of_json_parts(header: Any, claims: Any, signature: bytes) -> None:
    def part(value: Any) -> str:
        return b64url(json.dumps(value).encode("utf-8"))

    raw = f"{part(header)}.{part(claims)}.{b64url(signature)}"
    token = parse(raw)
    objects = isinstance(header, dict) and isinstance(claims, dict)
    assert (token is not None) == objects
    if token is not None:
        assert (token.header, token.claims, token.signature) == (header, claims, signature)


@given(st.binary(max_size=100))
def test_b64url_is_unpadded_and_decodes_back(data: bytes) -> None:
    text = b64url(data)
    assert "=" not in text
    assert "+" not in text
    assert "/" not in text
    assert b64url_decode(text) == data


def test_encode_json_is_compact() -> None:
    assert base64.urlsafe_b64decode(encode_json({"a": 1, "b": [1, 2]}) + "==") == (
        b'{"a":1,"b":[1,2]}'
    )


# -- flipped signature --------------------------------------------------------------------------


def bits_apart(first: bytes, second: bytes) -> int:
    return sum(bin(a ^ b).count("1") for a, b in zip(first, second, strict=True))


def test_flipped_signature_differs_in_exactly_one_bit_and_fails_verification() -> None:
    token = hs256()
    flipped = parse(flip_signature_bit(token))
    assert flipped is not None
    assert flipped.signing_input == token.signing_input
    assert bits_apart(flipped.signature, token.signature) == 1
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(flipped.raw, STRONG, algorithms=["HS256"], options={"verify_exp": False})


_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def non_canonical(text: str) -> str:
    """The same bytes written with the last character's unused bits set (`...B` for `...A`)."""
    if len(text) % 4 == 0:
        return text
    last = _ALPHABET.index(text[-1]) | 1
    return text[:-1] + _ALPHABET[last]


@given(st.binary(min_size=1, max_size=80), st.booleans())
def test_flip_changes_one_decoded_bit_even_for_non_canonical_base64(
    signature: bytes, stray_bits: bool
) -> None:
    # A character edit could decode to the same bytes; the flip works on the bytes instead.
    text = non_canonical(b64url(signature)) if stray_bits else b64url(signature)
    token = parse(f"{encode_json({'alg': 'HS256'})}.{encode_json({})}.{text}")
    assert token is not None
    assert token.signature == signature
    flipped = parse(flip_signature_bit(token))
    assert flipped is not None
    assert bits_apart(flipped.signature, signature) == 1


def test_an_empty_signature_becomes_one_byte() -> None:
    token = parse(f"{encode_json({'alg': 'none'})}.{encode_json({})}.")
    assert token is not None
    flipped = parse(flip_signature_bit(token))
    assert flipped is not None
    assert flipped.signature == b"\x01"


# -- signature forgeries ------------------------------------------------------------------------


def test_signature_forgeries_are_named_and_flag_the_ones_carrying_the_signature() -> None:
    forgeries = signature_forgeries(hs256())
    names = [forgery.name for forgery in forgeries]
    expected = ["payload-changed-exp", "payload-changed-sub", "signature-stripped", "two-part"]
    assert names == [*expected, *NONE_NAMES]
    secret = {forgery.name for forgery in forgeries if forgery.holds_secret}
    assert secret == {"payload-changed-exp", "payload-changed-sub"}
    assert all(forgery.how for forgery in forgeries)


def test_exp_moves_one_day_later_under_the_original_signature() -> None:
    token = hs256()
    forgery = forged(signature_forgeries(token), "payload-changed-exp")
    changed = parse(forgery.token)
    assert changed is not None
    assert changed.header_b64 == token.header_b64
    assert changed.signature_b64 == token.signature_b64
    assert changed.claims == {**CLAIMS, "exp": CLAIMS["exp"] + DAY}
    assert "1 day later" in forgery.how
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forgery.token, STRONG, algorithms=["HS256"], options={"verify_exp": False})


def test_exp_is_added_a_day_from_now_when_the_token_has_none() -> None:
    token = hs256({"sub": "alice"})
    forgery = forged(signature_forgeries(token, now=1_800_000_000.5), "payload-changed-exp")
    changed = parse(forgery.token)
    assert changed is not None
    assert changed.claims == {"sub": "alice", "exp": 1_800_000_000 + DAY}
    assert "added" in forgery.how


@pytest.mark.parametrize(
    ("sub", "other", "expected"),
    [
        ("alice", "bob", "bob"),
        ("alice", None, "alicf"),
        ("alice", "alice", "alicf"),
        (42, None, 43),
        ("0042", None, "0043"),
        ("alice@example.com", None, "alicf@example.com"),
        ("6f1c2d3e-0000-4000-8000-00000000000f", None, "6f1c2d3e-0000-4000-8000-00000000000a"),
        ("-", None, "-2"),
    ],
)
def test_sub_changes_to_the_other_user_or_a_value_of_the_same_shape(
    sub: Any, other: str | None, expected: Any
) -> None:
    token = hs256({"sub": sub, "exp": 1})
    forgery = forged(signature_forgeries(token, other_sub=other), "payload-changed-sub")
    changed = parse(forgery.token)
    assert changed is not None
    assert changed.claims == {"sub": expected, "exp": 1}
    assert changed.signature_b64 == token.signature_b64


def test_no_sub_forgery_without_a_sub() -> None:
    names = {forgery.name for forgery in signature_forgeries(hs256({"exp": 1}))}
    assert "payload-changed-sub" not in names


def test_stripped_and_two_part_tokens_keep_header_and_payload() -> None:
    token = hs256()
    forgeries = signature_forgeries(token)
    head = f"{token.header_b64}.{token.payload_b64}"
    assert forged(forgeries, "signature-stripped").token == f"{head}."
    assert forged(forgeries, "two-part").token == head
    assert parse(head) is None
    stripped = parse(f"{head}.")
    assert stripped is not None
    assert stripped.signature == b""


def test_alg_none_tokens_in_four_cases_keep_claims_and_other_header_fields() -> None:
    token = hs256(kid="k1")
    forgeries = signature_forgeries(token)
    for name in NONE_NAMES:
        forgery = forged(forgeries, name)
        case = name.split("-")[2]
        with_dot = name.endswith("-dot")
        assert forgery.token.endswith(".") == with_dot
        assert forgery.token.count(".") == (2 if with_dot else 1)
        header_b64, payload_b64 = forgery.token.split(".")[:2]
        assert payload_b64 == token.payload_b64
        header = json.loads(b64url_decode(header_b64) or b"")
        assert header == {**token.header, "alg": case}
        assert parse(forgery.token) is not None if with_dot else parse(forgery.token) is None


def test_pyjwt_reads_the_lower_case_none_token_as_unsigned() -> None:
    forgery = forged(signature_forgeries(hs256()), "alg-none-none-dot")
    claims = jwt.decode(forgery.token, options={"verify_signature": False})
    assert claims == CLAIMS
    assert jwt.get_unverified_header(forgery.token)["alg"] == "none"


# -- signing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "digest"), [("HS256", "sha256"), ("HS384", "sha384"), ("HS512", "sha512")]
)
def test_sign_hmac_tokens_verify_with_pyjwt(alg: str, digest: str) -> None:
    key = b"q" * 64
    token = sign_hmac({"typ": "JWT", "alg": "ignored", "kid": "k"}, CLAIMS, key, alg)
    assert jwt.decode(token, key, algorithms=[alg], options={"verify_exp": False}) == CLAIMS
    assert jwt.get_unverified_header(token) == {"typ": "JWT", "alg": alg, "kid": "k"}
    assert hmac_ok(token, key, digest)


def test_sign_hmac_takes_pem_keys_that_pyjwt_refuses(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = spki(rsa_key)
    token = sign_hmac({}, CLAIMS, pem)
    assert hmac_ok(token, pem)
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(token, pem, algorithms=["HS256"])


def test_sign_hmac_refuses_other_algorithms() -> None:
    with pytest.raises(ValueError, match="RS256"):
        sign_hmac({}, {}, b"k", "RS256")


def test_mint_keeps_the_header_and_signs_new_claims() -> None:
    token = hs256(kid="k1")
    expired = {**CLAIMS, "exp": 1_000}
    minted = mint(token, STRONG.decode(), claims=expired)
    assert jwt.get_unverified_header(minted) == token.header
    assert jwt.decode(minted, STRONG, algorithms=["HS256"], options={"verify_exp": False}) == (
        expired
    )
    again = parse(mint(token, STRONG))
    assert again is not None
    assert again.claims == token.claims
    assert again.signature == token.signature  # PyJWT writes the same compact JSON


def test_mint_refuses_a_token_not_signed_with_hmac(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="RS256"):
        mint(rs256(rsa_key), "secret")


# -- JWKS and key confusion ---------------------------------------------------------------------


def jwks(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"keys": list(entries)}).encode()


def rsa_jwk(key: rsa.RSAPrivateKey, **extra: Any) -> dict[str, Any]:
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), **extra}


def test_jwks_keys_become_pem_with_kid_and_source(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    okp = ed25519.Ed25519PrivateKey.generate()
    document = jwks(
        rsa_jwk(rsa_key, kid="r1", alg="RS256", use="sig"),
        {**json.loads(ECAlgorithm.to_jwk(ec_key.public_key())), "kid": "e1"},
        json.loads(OKPAlgorithm.to_jwk(okp.public_key())),
    )
    keys = public_keys_from_jwks(document, source="http://127.0.0.1:1/jwks.json")
    assert [key.kid for key in keys] == ["r1", "e1", None]
    assert keys[0].pem == spki(rsa_key)
    assert keys[1].pem == spki(ec_key)
    assert all(key.source == "http://127.0.0.1:1/jwks.json" for key in keys)


def test_jwks_private_entries_give_their_public_key(rsa_key: rsa.RSAPrivateKey) -> None:
    private = json.loads(RSAAlgorithm.to_jwk(rsa_key))
    assert "d" in private
    (key,) = public_keys_from_jwks(json.dumps(private).encode())
    assert key.pem == spki(rsa_key)


def test_jwks_leaves_out_symmetric_encryption_and_broken_keys(rsa_key: rsa.RSAPrivateKey) -> None:
    document = jwks(
        {"kty": "oct", "k": "c2VjcmV0"},
        rsa_jwk(rsa_key, use="enc", alg="RSA-OAEP"),
        {"kty": "RSA", "n": 5, "e": "AQAB"},
        {"kty": "EC", "crv": "P-999", "x": "AA", "y": "AA"},
        "not a key",
        rsa_jwk(rsa_key, alg="RSA-OAEP-256", kid="kept"),  # its alg is ignored, no use given
    )
    assert [key.kid for key in public_keys_from_jwks(document)] == ["kept"]


@pytest.mark.parametrize(
    "document",
    [b"", b"junk", b"[]", b'{"keys": 5}', b'{"keys": [null]}', b"\xff\xfe", b"[" * 50_000],
)
def test_jwks_junk_gives_no_keys(document: bytes) -> None:
    assert public_keys_from_jwks(document) == []


@given(st.binary(max_size=200))
def test_jwks_never_raises_on_bytes(document: bytes) -> None:
    public_keys_from_jwks(document)


_JWK_FIELD = st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.integers()))


@given(
    st.sampled_from(["RSA", "EC", "OKP", "oct", 7]),
    st.dictionaries(st.sampled_from(["n", "e", "crv", "x", "y", "d", "alg", "use"]), _JWK_FIELD),
)
def test_jwks_never_raises_on_hostile_key_fields(kty: Any, fields: dict[str, Any]) -> None:
    public_keys_from_jwks(jwks({"kty": kty, **fields}))


def test_rsa_key_confusion_signs_hs256_with_each_form_of_the_key(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    token = rs256(rsa_key, kid="r1")
    pem = spki(rsa_key)
    key = PublicKey("r1", pem, "http://127.0.0.1:1/.well-known/jwks.json")
    forgeries = key_confusion_forgeries(token, [key])
    pkcs1 = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    der = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = {
        "key-confusion-pem": pem,
        "key-confusion-pem-no-newline": pem.rstrip(b"\n"),
        "key-confusion-pkcs1-pem": pkcs1,
        "key-confusion-der": der,
    }
    assert [forgery.name for forgery in forgeries] == list(expected)
    for forgery in forgeries:
        assert hmac_ok(forgery.token, expected[forgery.name])
        changed = parse(forgery.token)
        assert changed is not None
        assert changed.header == {**token.header, "alg": "HS256"}
        assert changed.payload_b64 == token.payload_b64
        assert forgery.holds_secret
        assert "r1" in forgery.how
        assert "jwks.json" in forgery.how


def test_ec_key_confusion_has_no_pkcs1_form(ec_key: ec.EllipticCurvePrivateKey) -> None:
    token = parse(jwt.encode(CLAIMS, ec_key, algorithm="ES256"))
    assert token is not None
    forgeries = key_confusion_forgeries(token, [PublicKey(None, spki(ec_key), "")])
    names = [forgery.name for forgery in forgeries]
    assert names == ["key-confusion-pem", "key-confusion-pem-no-newline", "key-confusion-der"]


def test_key_confusion_uses_the_key_named_by_kid_alone(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    keys = [
        PublicKey("old", spki(other), ""),
        PublicKey("e1", spki(ec_key), ""),
        PublicKey("r1", spki(rsa_key), ""),
    ]
    by_kid = key_confusion_forgeries(rs256(rsa_key, kid="r1"), keys)
    assert len(by_kid) == 4
    assert hmac_ok(by_kid[0].token, spki(rsa_key))
    # Without a kid, every RSA key (never the EC one) is tried, numbered.
    unnamed = key_confusion_forgeries(rs256(rsa_key), keys)
    assert [forgery.name for forgery in unnamed][::4] == [
        "key-confusion-pem-1",
        "key-confusion-pem-2",
    ]


def test_key_confusion_is_only_for_asymmetric_tokens(rsa_key: rsa.RSAPrivateKey) -> None:
    assert all(map(is_asymmetric, ["RS256", "PS384", "ES512", "ES256K", "EdDSA"]))
    assert not any(map(is_asymmetric, ["HS256", "none", "", "RS", "RS999", "rs256"]))
    key = PublicKey(None, spki(rsa_key), "")
    assert key_confusion_forgeries(hs256(), [key]) == []
    assert key_confusion_forgeries(rs256(rsa_key), []) == []


# -- header tricks ------------------------------------------------------------------------------


def test_embedded_jwk_token_verifies_with_the_key_in_its_header(rsa_key: rsa.RSAPrivateKey) -> None:
    token = hs256(kid="k1")
    forgery = forged(header_forgeries(token, signing_key=rsa_key), "jwk-embedded")
    header = jwt.get_unverified_header(forgery.token)
    assert header["alg"] == "RS256"
    assert header["kid"] == "k1"
    assert header["jwk"]["kid"] == "k1"
    assert "d" not in header["jwk"]
    embedded = jwt.PyJWK(header["jwk"]).key
    decoded = jwt.decode(
        forgery.token, embedded, algorithms=["RS256"], options={"verify_exp": False}
    )
    assert decoded == CLAIMS
    assert forgery.holds_secret


def test_embedded_jwk_uses_a_fresh_key_by_default() -> None:
    token = hs256()
    first = jwt.get_unverified_header(forged(header_forgeries(token), "jwk-embedded").token)
    second = jwt.get_unverified_header(forged(header_forgeries(token), "jwk-embedded").token)
    assert first["jwk"]["n"] != second["jwk"]["n"]
    assert "kid" not in first["jwk"]


@pytest.mark.parametrize(
    ("name", "kid"),
    [("kid-empty-file", "../../../../../../../dev/null"), ("kid-empty-file-absolute", "/dev/null")],
)
def test_kid_forgeries_name_dev_null_and_sign_with_an_empty_key(
    rsa_key: rsa.RSAPrivateKey, name: str, kid: str
) -> None:
    token = rs256(rsa_key, kid="r1")
    forgery = forged(header_forgeries(token, signing_key=rsa_key), name)
    changed = parse(forgery.token)
    assert changed is not None
    assert changed.header == {**token.header, "alg": "HS256", "kid": kid}
    assert changed.payload_b64 == token.payload_b64
    assert hmac_ok(forgery.token, b"")
    assert not forgery.holds_secret
    assert "empty" in forgery.how


def test_every_forgery_parses_except_the_two_part_ones(rsa_key: rsa.RSAPrivateKey) -> None:
    token = rs256(rsa_key, kid="r1")
    forgeries = [
        *signature_forgeries(token),
        *key_confusion_forgeries(token, [PublicKey("r1", spki(rsa_key), "")]),
        *header_forgeries(token, signing_key=rsa_key),
    ]
    unparsed = {forgery.name for forgery in forgeries if parse(forgery.token) is None}
    assert unparsed == {"two-part", *(name for name in NONE_NAMES if not name.endswith("-dot"))}
    assert len({forgery.name for forgery in forgeries}) == len(forgeries)


# -- odd exp values -------------------------------------------------------------------------------


def odd(exp_json: str, sub: str = '"alice"') -> Jwt:
    """An HS256 token whose payload is written by hand (JSON that json.dumps would not give)."""
    header = encode_json({"alg": "HS256", "typ": "JWT"})
    payload = b64url(f'{{"sub":{sub},"iat":1700000000,"exp":{exp_json}}}'.encode())
    signature = b64url(hmac.digest(STRONG, f"{header}.{payload}".encode(), "sha256"))
    token = parse(f"{header}.{payload}.{signature}")
    assert token is not None
    return token


@pytest.mark.parametrize(
    "exp_json",
    ["NaN", "Infinity", "-Infinity", "1e999", "1e308", "10" + "0" * 400, '"soon"', "true"],
)
def test_an_odd_exp_is_replaced_by_one_a_day_from_now_never_kept(exp_json: str) -> None:
    token = odd(exp_json)
    forgery = forged(signature_forgeries(token, now=1_800_000_000.0), "payload-changed-exp")
    assert forgery.token != token.raw
    changed = parse(forgery.token)
    assert changed is not None
    assert changed.claims["exp"] == 1_800_000_000 + DAY
    assert "replaced by one 1 day from now" in forgery.how


_CLAIM = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
)


@given(st.dictionaries(st.sampled_from(["sub", "exp", "iat", "nbf", "x"]), _CLAIM))
def test_signature_forgeries_never_raise_whatever_the_claims(claims: dict[str, Any]) -> None:
    header = encode_json({"alg": "HS256"})
    token = parse(f"{header}.{b64url(json.dumps(claims).encode())}.{b64url(b's' * 32)}")
    assert token is not None
    for forgery in signature_forgeries(token, now=1_800_000_000.0):
        assert forgery.token


def test_a_negative_exp_still_moves_a_day_later() -> None:
    forgery = forged(signature_forgeries(odd("-1000000")), "payload-changed-exp")
    changed = parse(forgery.token)
    assert changed is not None
    assert changed.claims["exp"] == -1_000_000 + DAY


def test_a_sub_the_change_cannot_move_gives_the_token_itself() -> None:
    # NaN plus one is NaN: the forged token is the real one; the probe leaves it unsent.
    token = odd("1", sub="NaN")
    assert forged(signature_forgeries(token), "payload-changed-sub").token == token.raw


# -- reproductions that mint ----------------------------------------------------------------------


def run_mint(command: str) -> str:
    """Run a `python3 -c` mint line with this interpreter; `$JWKS` from the environment."""
    import os
    import subprocess
    import sys

    line = command.replace("python3 -c", f"{sys.executable} -c", 1)
    done = subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, timeout=30, check=True,
        env={**os.environ, "JWKS": os.environ.get("TEST_JWKS", "")},
    )  # fmt: skip
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("key", "form"),
    [(b"k" * 64, ""), (base64.b64decode("a2V5" * 16), "base64"), (bytes(range(32)), "hex")],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_the_hmac_mint_line_signs_with_the_secret_as_written_or_decoded(
    key: bytes, form: str
) -> None:
    text = {"": "k" * 64, "base64": "a2V5" * 16, "hex": bytes(range(32)).hex()}[form]
    word = claims_word({"sub": "alice", "exp": 1})
    minted = run_mint(hmac_mint(word, text, "HS256", {"typ": "JWT", "kid": "k"}, form=form))
    claims = jwt.decode(minted, key, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["exp"] > 1_700_000_000
    assert jwt.get_unverified_header(minted)["kid"] == "k"


@pytest.mark.parametrize("form", ["pem", "pem-no-newline", "pkcs1-pem", "der"])
def test_the_key_confusion_line_signs_with_the_jwks_key_in_the_accepted_form(
    rsa_key: rsa.RSAPrivateKey, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = rs256(rsa_key, kid="r1")
    other = RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048).public_key(), as_dict=True)
    mine = RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    document = json.dumps({"keys": [{**other, "kid": "old"}, {**mine, "kid": "r1"}]})
    keys = public_keys_from_jwks(document.encode())
    forgeries = key_confusion_forgeries(token, keys)
    name = f"key-confusion-{form}"
    recipe = confusion_recipe(token, keys, name)
    assert recipe is not None
    key, shown = recipe
    assert (key.index, shown) == (1, form)
    monkeypatch.setenv("TEST_JWKS", document)
    minted = run_mint(confusion_mint(claims_word(CLAIMS), key.index, form, token.header))
    material = parse({f.name: f for f in forgeries}[name].token)
    again = parse(minted)
    assert material is not None
    assert again is not None
    # The forged token's header and claims; only exp is later, so the line works later too.
    assert again.header == material.header
    assert {**again.claims, "exp": 0} == {**material.claims, "exp": 0}
    expected = {
        "pem": spki(rsa_key),
        "pem-no-newline": spki(rsa_key).rstrip(b"\n"),
        "pkcs1-pem": rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        ),
        "der": rsa_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }[form]
    assert hmac_ok(minted, expected)


def test_the_jwk_line_signs_with_the_key_its_header_carries() -> None:
    minted = run_mint(jwk_mint(claims_word(CLAIMS), {"alg": "HS256", "kid": "k1"}))
    header = jwt.get_unverified_header(minted)
    assert header["alg"] == "RS256"
    assert header["jwk"]["kid"] == "k1"
    key = jwt.PyJWK(header["jwk"]).key
    assert jwt.decode(minted, key, algorithms=["RS256"])["sub"] == "alice"
