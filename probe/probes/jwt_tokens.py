"""JWTs as data for the jwt probe: parse a compact token, and build the tokens it sends.

Everything here is pure (no requests). The forged tokens, by family:

- `signature_forgeries`: the payload changed under the original signature (a later `exp`,
  another `sub`), the signature removed with the header kept (`h.p.`), a two-part token
  (`h.p`), and `alg` set to `none` in four letter cases, with and without the trailing dot;

The forgeries that involve keys (key confusion, header keys) are in `jwt_keys`.

Well-formed tokens are assembled by hand (the header and payload as given, so nothing but the
part under test changes). HMAC signatures are computed with `hmac` directly, because PyJWT
refuses PEM-looking HMAC keys.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any, TypeGuard

DAY = 86_400
#: Times beyond this (the last second of year 9999) are no usable time: an `exp` that far
#: never comes, and turning it into a date overflows.
LAST_TIME = 253_402_300_799
HMAC_HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
NONE_VARIANTS = ("none", "None", "NONE", "nOnE")
_PART = re.compile(r"[A-Za-z0-9_-]*")


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
    return hmac_token(encode_json({**header, "alg": alg}), encode_json(claims), key, alg)


def hmac_token(header_b64: str, payload_b64: str, key: bytes, alg: str) -> str:
    """The compact token of these encoded parts, HMAC-signed with `key` (any bytes)."""
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


def _as_text(number: float, like: str) -> str:
    """`number` written as `like` writes its number (with a fraction or without)."""
    return f"{number:.1f}" if "." in like else str(int(number))


def _exp_later(token: Jwt, now: float) -> Forgery:
    exp = token.claims.get("exp")
    value = time_claim(exp)
    if value is not None and abs(value) + DAY <= LAST_TIME:
        # An int stays an int, and a number written as text stays text.
        later: Any = exp + DAY if _is_number(exp) else _as_text(value + DAY, str(exp))
        how = "the token with exp moved 1 day later"
    else:
        later = int(now) + DAY
        how = (
            "the token with an exp 1 day from now added"
            if "exp" not in token.claims
            else f"the token with its exp ({short_repr(exp)}) replaced by one 1 day from now"
        )
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
    if text.isascii() and text.isdigit() and len(text) < 100:
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


_NUMERIC_TEXT = re.compile(r"-?\d{1,15}(?:\.\d{1,9})?")


def time_claim(value: Any) -> float | None:
    """A claim such as `exp` or `iat` as seconds, or None when it is no usable number: not a
    number (a boolean, a word), NaN or infinite, or too large for a float or a date. A number
    written as a string ("1796423916", "1796423916.1") counts: servers that write it so may
    still enforce it."""
    if isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value.strip()):
        value = float(value.strip())
    if not _is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        return None
    return number if math.isfinite(number) and abs(number) <= LAST_TIME else None


def short_repr(value: Any, limit: int = 40) -> str:
    """`repr(value)`, cut to `limit` characters (a claim may hold a 400-digit number)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**60 else "a huge number"
    return text if len(text) <= limit else text[: limit - 3] + "..."
