"""Judges of a token's own claims, no forging needed: expiry, lifetime and sensitive data.

`hygiene(token, max_lifetime=...)` lists what a careful tester would point out in a captured
token; the jwt probe turns each item into a finding:

- `no-exp`: no usable `exp` (absent, not a number, NaN, infinite, or beyond year 9999): the
  token never expires (medium);
- `long-lifetime`: `exp - iat` above `max_lifetime` (low; medium above one day). Without an
  `iat` the lifetime is unknown: an `info` item says so, and nothing is guessed;
- `sensitive-claim`: a claim holding a password, secret, API or private key, a card number, a
  US social security number or an IBAN (medium each), from `sensitive_claims`.

A JWT's payload is only base64: anyone holding the token reads it. False alarms cost more than
misses here, so every pattern is checked the way its issuer checks it (Luhn and the card
brands' number ranges, the SSA's invalid areas, groups and serials, the IBAN registry's
lengths and its mod-97 check), names must *name* a secret (`password_changed_at` names a
time), and the value must be a non-empty string that is not a placeholder or a mask.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeGuard

from probe.findings import Severity
from probe.probes.jwt_tokens import Jwt, short_repr, time_claim
from probe.probes.secret_values import not_a_value, password_shape

DAY = 86_400
MAX_DEPTH = 8  # nested objects and lists walked below the top level
MAX_VALUES = 2_000  # values looked at per token, whatever its size

# A key names a secret when its last words are one of these (words split on case and
# separators): `db_password`, `clientSecret`, `STRIPE_API_KEY`, `private-key`.
_SECRET_ENDINGS: dict[tuple[str, ...], str] = {
    ("password",): "password",
    ("passwd",): "password",
    ("pwd",): "password",
    ("passphrase",): "password",
    ("password", "hash"): "password hash",
    ("password", "digest"): "password hash",
    ("secret",): "secret",
    ("secret", "key"): "secret",
    ("signing", "key"): "secret",
    ("encryption", "key"): "secret",
    ("apikey",): "API key",
    ("api", "key"): "API key",
    ("private", "key"): "private key",
    ("privkey",): "private key",
    # The same names in other languages (German, Dutch, French, Spanish, Portuguese,
    # Italian, Polish, Swedish, Danish/Norwegian).
    ("passwort",): "password",
    ("kennwort",): "password",
    ("wachtwoord",): "password",
    ("motdepasse",): "password",
    ("mot", "de", "passe"): "password",
    ("contrasena",): "password",
    ("senha",): "password",
    ("parola",): "password",
    ("haslo",): "password",
    ("losenord",): "password",
    ("passord",): "password",
    ("adgangskode",): "password",
    ("geheimnis",): "secret",
}
_KEY_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Letters that do not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae"})
_PEM_PRIVATE = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
# Registered and OpenID claims: identifiers and times, never a card or an SSN.
_ID_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "sid"})
# Last words of names that hold ids, times and counts (`user_id`, `created_at`).
_ID_WORDS = frozenset({"id", "ids", "uid", "at", "time", "ts", "timestamp", "date", "version"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]{2,15}(?:Z|[+-]\d{2}:?\d{2})?)?")
_NUMBER_TEXT = re.compile(r"[+-]?\d+(?:\.\d+)?")
_PASSWORD_HASH = re.compile(r"\$(?:2[abxy]?|argon2(?:id|i|d)|scrypt|pbkdf2[\w-]*|[156])\$")
_CARD_TEXT = re.compile(r"\d{4}(?:[ -]?\d{1,4}){2,4}")
_SSN = re.compile(r"(\d{3})-(\d{2})-(\d{4})")
# Numbers printed as examples everywhere (advertising cards, the SSA's own samples).
_SAMPLE_SSNS = frozenset({"078-05-1120", "219-09-9999", "123-45-6789"})
_IBAN_TEXT = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}")
# IBAN length per country, from the SWIFT IBAN registry.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


@dataclass(frozen=True)
class Hygiene:
    """One thing wrong with a token's claims.

    Attributes:
        rule: "no-exp", "long-lifetime" or "sensitive-claim".
        severity: How bad it is; "info" marks a note that is no finding (lifetime unknown).
        detail: One sentence for the report.
        claim: The claim concerned (dotted path for nested ones), if one.
    """

    rule: str
    severity: Severity
    detail: str
    claim: str | None = None


def hygiene(token: Jwt, *, max_lifetime: int) -> list[Hygiene]:
    """Everything wrong with the token's claims: expiry, lifetime, sensitive claims."""
    return [*_expiry(token.claims, max_lifetime), *_sensitive(token.claims)]


def _expiry(claims: dict[str, Any], max_lifetime: int) -> list[Hygiene]:
    if "exp" not in claims:
        return [Hygiene("no-exp", Severity.medium, "the token has no exp claim", "exp")]
    exp, iat = time_claim(claims.get("exp")), time_claim(claims.get("iat"))
    if exp is None:
        raw = claims.get("exp")
        what = "not a number" if not _is_number(raw) else "not a usable time"
        detail = f"the token's exp is {what} ({short_repr(raw)}), so it sets no expiry"
        return [Hygiene("no-exp", Severity.medium, detail, "exp")]
    if iat is None:
        detail = "the token has no numeric iat claim, so its lifetime is unknown; not judged"
        return [Hygiene("long-lifetime", Severity.info, detail, "iat")]
    lifetime = exp - iat
    if lifetime <= max_lifetime:
        return []
    severity = Severity.medium if lifetime > DAY else Severity.low
    detail = f"the token lives {_duration(lifetime)} (exp - iat), above {_duration(max_lifetime)}"
    return [Hygiene("long-lifetime", severity, detail, "exp")]


def _duration(seconds: float) -> str:
    """`90 s`, `15 min`, `12 h`, `30 days`: the largest unit that reads well."""
    for unit, size in (("days", DAY), ("h", 3_600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _sensitive(claims: dict[str, Any]) -> list[Hygiene]:
    return [
        Hygiene("sensitive-claim", Severity.medium, f"the claim {path} holds {_a(kind)}", path)
        for path, kind in sensitive_claims(claims)
    ]


def _a(kind: str) -> str:
    """The kind with its article: "an API key", "a password", "an IBAN", "a US SSN"."""
    return f"an {kind}" if kind.startswith(("API", "IBAN")) or kind[0] in "aeio" else f"a {kind}"


def sensitive_claims(claims: dict[str, Any]) -> list[tuple[str, str]]:
    """(dotted claim path, kind) for every claim holding something no token should carry:
    kinds "password", "password hash", "secret", "API key", "private key", "card number",
    "US SSN", "IBAN". Nested objects and lists are walked (list items as `name[0]`)."""
    found = []
    for path, key, value in _walk(claims):
        kind = _kind(key, value)
        if kind is not None:
            found.append((path, kind))
    return found


def _walk(claims: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(path, nearest key, value) of every leaf, breadth first (top-level claims before a
    long list's items), depth- and count-capped."""
    queue = deque((name, name, value, 0) for name, value in claims.items())
    seen = 0
    while queue and seen < MAX_VALUES:
        path, key, value, depth = queue.popleft()
        seen += 1
        if isinstance(value, dict) and depth < MAX_DEPTH:
            items = ((f"{path}.{k}", str(k), v, depth + 1) for k, v in value.items())
            queue.extend(islice(items, MAX_VALUES))
        elif isinstance(value, list) and depth < MAX_DEPTH:
            items = ((f"{path}[{i}]", key, v, depth + 1) for i, v in enumerate(value))
            queue.extend(islice(items, MAX_VALUES))
        else:
            yield path, key, value


def _kind(key: str, value: Any) -> str | None:
    """What sensitive thing a leaf holds, judged by its key's name and its value."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return "card number" if not _holds_id(key) and is_card_number(str(value)) else None
    if not isinstance(value, str) or not value.strip():
        return None
    named = _named_secret(key)
    if named is not None and _secret_value(named, value.strip()):
        return "password hash" if _PASSWORD_HASH.match(value) else named
    if _PEM_PRIVATE.search(value[:4096]):
        return "private key"
    return None if _holds_id(key) else _pattern_kind(value.strip())


def _holds_id(key: str) -> bool:
    """True for registered claims and names of ids, times and counts (`order_id`)."""
    words = _KEY_WORDS.findall(key)
    return key in _ID_CLAIMS or (bool(words) and words[-1].lower() in _ID_WORDS)


def _named_secret(key: str) -> str | None:
    """The kind of secret a claim's name says it holds (`db_password`: password), or None
    for names where the secret's noun is not the last word (`password_changed_at`)."""
    words = tuple(word.lower() for word in _KEY_WORDS.findall(_ascii(key)))
    for size in (3, 2, 1):
        kind = _SECRET_ENDINGS.get(words[-size:]) if len(words) >= size else None
        if kind is not None:
            return kind
    return None


def _ascii(key: str) -> str:
    """The name with accents and letters like ł taken off (`contraseña`: contrasena), so
    names in other languages split into words like English ones."""
    plain = unicodedata.normalize("NFKD", key.translate(_LETTERS))
    return "".join(char for char in plain if not unicodedata.combining(char))


def _secret_value(kind: str, text: str) -> bool:
    """A value that can be a secret: no placeholder, mask, template, URL, boolean word, date
    or long number written as text (a timestamp or an id); a password must read like one
    (one token, not a label word such as `required` or a rule such as `min:8`)."""
    if text.lower() in ("true", "false", "yes", "no", "null", "none") or _DATE.fullmatch(text):
        return False
    if _NUMBER_TEXT.fullmatch(text) and len(text) >= 9:
        return False
    if not_a_value(text):
        return False
    return (
        kind != "password" or _PASSWORD_HASH.match(text) is not None or bool(password_shape(text))
    )


def _pattern_kind(text: str) -> str | None:
    if _CARD_TEXT.fullmatch(text) and is_card_number(re.sub(r"[ -]", "", text)):
        return "card number"
    if is_ssn(text):
        return "US SSN"
    if is_iban(text):
        return "IBAN"
    return None


def is_card_number(digits: str) -> bool:
    """True for 13 to 19 digits in a card brand's number range and length (Visa,
    Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro) that pass the Luhn check.
    Millisecond timestamps and snowflake ids start with 1, which no brand uses."""
    if not digits.isdigit() or not 13 <= len(digits) <= 19 or not _card_range(digits):
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _card_range(digits: str) -> bool:
    """True when the number's prefix and length belong to a card brand."""
    size, two, four = len(digits), int(digits[:2]), int(digits[:4])
    return (
        (digits[0] == "4" and size in (13, 16, 19))  # Visa
        or ((51 <= two <= 55 or 2221 <= four <= 2720) and size == 16)  # Mastercard
        or (two in (34, 37) and size == 15)  # American Express
        or ((four == 6011 or two == 65 or 644 <= four // 10 <= 649) and size >= 16)  # Discover
        or (3528 <= four <= 3589 and size >= 16)  # JCB
        or ((300 <= four // 10 <= 305 or two in (36, 38, 39)) and size >= 14)  # Diners Club
        or (two == 62 and size >= 16)  # UnionPay
        or (four in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763) and size >= 13)
    )


def is_ssn(text: str) -> bool:
    """True for `ddd-dd-dddd` that the SSA could have issued: area not 000, 666 or 9xx, group
    not 00, serial not 0000, and not one of the well-known sample numbers."""
    match = _SSN.fullmatch(text)
    if match is None or text in _SAMPLE_SSNS:
        return False
    area, group, serial = match.groups()
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def is_iban(text: str) -> bool:
    """True for an IBAN (spaces between groups allowed) with its country's registered length
    and a valid mod-97 check."""
    if not _IBAN_TEXT.fullmatch(text):
        return False
    compact = text.replace(" ", "")
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
