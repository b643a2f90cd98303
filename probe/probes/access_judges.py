"""Pure judges of the access probe's replays (the login judges are in `access_login_judges`,
whose answer it is in `access_owners`, the mass-assignment judges in `access_mass_judges`).

A replay (without credentials, with an invalid token, as another identity) counts only when its
answer is equivalent to the reference: a 2xx that is not a refusal (`probe.compare.is_refusal`),
that holds data (`probe.compare.holds_data`), and that `Reference.matches` the reference learnt
from two samples of the entitled caller. A reference that refuses, holds no data, or changes too
much between two identical requests makes the check inconclusive instead of letting it pass.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import string
from collections.abc import Sequence
from typing import Any

from probe.compare import Reference, holds_data, is_refusal
from probe.exchange import ResponseRecord

_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_DESCRIBED = 60
#: The answer of the entitled caller that holds nothing.
NO_DATA = "the answer holds no data: nothing to compare"


# -- references and replays -----------------------------------------------------------------


def reference_problem(samples: Sequence[ResponseRecord]) -> str | None:
    """Why the entitled caller's answers (two samples of one request) cannot serve as the
    reference, or None when they can."""
    first = samples[0]
    refused = next((s for s in samples if is_refusal(s)), None)
    if refused is not None:
        return f"its own answer refuses or says nothing ({describe(refused)})"
    if any(s.status // 100 != first.status // 100 for s in samples):
        statuses = ", ".join(str(s.status) for s in samples)
        return f"two identical requests got answers of another status class ({statuses})"
    if not holds_data(first):
        return NO_DATA
    reference = Reference.learn(first, *samples[1:])
    if reference.fields is not None and not reference.fields:
        return "every value of its JSON answer changed between two identical requests"
    if not reference.stable:
        return "most of its answer changed between two identical requests"
    return None


def answered(answer: ResponseRecord) -> bool:
    """True for an answer that may count as access: a 2xx, not a refusal, holding data."""
    return 200 <= answer.status < 300 and not is_refusal(answer) and holds_data(answer)


def equivalent(reference: Reference, answer: ResponseRecord) -> bool:
    """True when a replay's answer is the reference answer again: a 2xx, not a refusal,
    holding data, and the same body once volatile parts are left out."""
    return answered(answer) and reference.matches(answer)


def one_line(text: str, width: int = _DESCRIBED) -> str:
    """Text on one line (runs of white space, line breaks included, made one space), cut to
    `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def describe(answer: ResponseRecord) -> str:
    """A few words on an answer for a check's detail, on one line: a redirect's status and
    Location; otherwise the status and the start of the body."""
    if 300 <= answer.status < 400:
        location = answer.header("location")
        where = f"to {one_line(location, 120)}" if location else "without a Location"
        return f"{answer.status} {where}"
    body = answer.text(400).strip()
    if not body:
        return f"{answer.status}, empty body"
    return f"{answer.status} {one_line(body)}"


def sibling_path(path: str) -> str:
    """A path beside `path` that no API defines: its last segment replaced by a random one
    (the query left out)."""
    head = path.split("?", 1)[0].rstrip("/").rpartition("/")[0]
    return f"{head}/probe-{secrets.token_hex(8)}"


# -- invalid tokens ---------------------------------------------------------------------------


def _b64url_decode(part: str) -> bytes | None:
    if not _B64URL.fullmatch(part):
        return None
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwt_parts(token: str) -> tuple[str, str, str] | None:
    """The three parts of a JWT with a non-empty signature whose header is a JSON object, or
    None for anything else (opaque tokens, unsigned JWTs)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[2]:
        return None
    header = _b64url_decode(parts[0])
    if header is None or _b64url_decode(parts[2]) is None:
        return None
    try:
        decoded = json.loads(header)
    except (ValueError, UnicodeDecodeError):
        return None
    return (parts[0], parts[1], parts[2]) if isinstance(decoded, dict) else None


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT (read, never verified), or None when the token is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    raw = _b64url_decode(parts[1])
    if raw is None:
        return None
    try:
        claims = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return claims if isinstance(claims, dict) else None


def flip_signature(token: str) -> str | None:
    """The JWT with one bit of its signature flipped (the lowest bit of its first byte), or
    None when the token is not a signed JWT."""
    parts = jwt_parts(token)
    if parts is None:
        return None
    signature = _b64url_decode(parts[2])
    assert signature is not None  # jwt_parts checked it
    if not signature:
        return None
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    return f"{parts[0]}.{parts[1]}.{_b64url_encode(flipped)}"


def same_shape(token: str) -> str:
    """A random string of the token's shape: each digit, lower- and upper-case letter replaced
    by a random one of its kind, everything else kept; never the token itself."""
    kinds = (string.digits, string.ascii_lowercase, string.ascii_uppercase)
    for _ in range(8):
        out = "".join(
            secrets.choice(next((k for k in kinds if c in k), c)) if c.isascii() else c
            for c in token
        )
        if out != token:
            return out
    return token + "x"  # a token without letters or digits: only its length can change


def invalid_token(token: str) -> tuple[str, bool]:
    """A token the server must refuse, and whether it is a flipped-signature JWT (which keeps
    the real header and payload) rather than a random string."""
    flipped = flip_signature(token)
    return (flipped, True) if flipped is not None else (same_shape(token), False)
