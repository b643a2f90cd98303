"""Pure judges for secrets in answers: stored credentials in JSON fields, PEM private keys
anywhere.

A JSON field counts only when all of these hold:

- its name ends like a secret's (`password`, `password_hash`, `api_key`, `client_secret`,
  `private_key`, ...), compared without case or punctuation, and is neither a flag, setting or
  action about one (`has_password`, `password_min_length`, `api_key_hint`, `forgot_password`)
  nor public by design (`public_api_key`, `publishable_key`): see `secret_names`;
- its value has the shape of a stored secret (`judge_field`): a password hash format, a PEM
  private key, a key of 16+ mixed characters, or a plain password (one token, not a sentence,
  path, URL, label word or error code); masks, placeholders and templates never count;
- a plain password does not sit in an object of messages or UI text (`errors`, `messages`,
  `labels`, `links`, `i18n`, `rules`, `examples`, ...): there `password` names a form field
  and its value is a message about it;
- the request did not carry the value: an echo of what the scan sent is no leak.

Confidence follows the shape. Firm: a hash, a private key, a key, a plain password (letters
with digits or symbols) in an answer below 400. Tentative and less severe: a plain password in
an error answer, a lone word or run of digits under a password name (answers below 400 only),
a Google `AIza` key (often public by design). Excerpts show the JSON path, the length, the
shape and at most a scheme or key prefix, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from probe.findings import Confidence, Severity
from probe.probes.secret_names import is_message_container, secret_kind
from probe.probes.signatures import (
    JSON_NODES,
    SECRET_IN_RESPONSE,
    Match,
    TextViews,
    excerpt_of,
)

# Defined here, or re-exported for the tests that import them from here.
__all__ = [
    "Verdict",
    "find_secrets",
    "hash_format",
    "is_message_container",
    "judge_field",
    "mask",
    "password_shape",
    "secret_kind",
]

# -- values --------------------------------------------------------------------------------------

_PLACEHOLDERS = frozenset(
    {
        "redacted", "hidden", "masked", "none", "null", "nil", "undefined", "notset", "n/a",
        "required", "optional", "string", "password", "secret", "changeme", "example", "xxx",
        "yourpassword", "yourapikey", "apikey", "token", "value", "todo", "tbd",
    }
)  # fmt: skip
_MASKED = re.compile(
    r"[*•●#]{3}|\[(?:redacted|hidden|filtered|masked)\]|<[^<>]{1,40}>|…|\.\.\.|[xX]{4}", re.I
)
_TEMPLATE = re.compile(
    r"\{\{[^{}\n]{0,80}\}\}|\$\{[^{}\n]{0,80}\}|%\([\w.]{1,40}\)s"
    r"|^\$[A-Z_][A-Z0-9_]{1,60}$|^%[A-Z_][A-Z0-9_]{1,60}%$|^env:"
)
# Words a password field holds in UI text, settings and error codes, in several languages.
_LABEL_WORDS = frozenset(
    {
        "password", "passwort", "kennwort", "contraseña", "contrasena", "clave", "senha",
        "wachtwoord", "lösenord", "losenord", "salasana", "hasło", "haslo", "parola", "heslo",
        "jelszó", "jelszo", "adgangskode", "passord", "пароль", "密码", "密碼", "パスワード",
        "비밀번호", "şifre", "sifre", "pass", "passphrase", "passcode", "pin", "pwd", "geheim",
        "invalid", "missing", "blank", "empty", "wrong", "incorrect", "expired", "weak",
        "strong", "medium", "ok", "valid", "mismatch", "confirmed", "unconfirmed", "set",
        "unset", "changed", "reset", "true", "false", "yes", "no", "on", "off", "enabled",
        "disabled", "text", "input", "field", "type", "plain", "plaintext", "hashed",
        "encrypted", "sso", "oauth", "oauth2", "ldap", "saml", "local", "totp", "otp", "mfa",
        "2fa", "bcrypt", "scrypt", "argon2", "argon2id", "argon2i", "argon2d", "pbkdf2",
        "pbkdf2_sha256", "pbkdf2_sha512", "sha1", "sha224", "sha256", "sha384", "sha512",
        "sha3_256", "sha3_512", "md5", "ssha", "ssha256", "ssha512", "crypt",
    }
)  # fmt: skip
_LOWER_PATH = re.compile(r"(?:\.{1,2}/|~/)?(?:[a-z0-9_.-]{2,40}/){1,12}[a-z0-9_.-]{0,40}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]{2,15}(?:Z|[+-]\d{2}:?\d{2})?)?")
_PEM_PRIVATE = re.compile(
    r"-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----"
    r"\s{1,8}(?:[\w-]{1,30}: [^\n]{1,120}\s{1,4}){0,4}[A-Za-z0-9+/=]{60}"
)
_HASH_FORMATS = (
    ("bcrypt hash", re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}")),
    ("Argon2 hash", re.compile(r"\$argon2(?:id|i|d)\$[\w=,$+/.-]{20,400}")),
    ("scrypt hash", re.compile(r"\$(?:scrypt|7)\$[\w=,$+/.-]{20,400}")),
    (
        "PBKDF2 hash",
        re.compile(
            r"(?:pbkdf2_sha\d{1,3}|\$pbkdf2(?:-sha\d{1,3})?)\$\d{1,9}\$[^\s$]{1,100}"
            r"\$[A-Za-z0-9+/=.]{1,200}"
        ),
    ),
    ("SHA-crypt hash", re.compile(r"\$[56]\$(?:rounds=\d{1,9}\$)?[./\w]{1,16}\$[./\w]{43,86}")),
    ("MD5-crypt hash", re.compile(r"\$(?:1|apr1)\$[./\w]{1,8}\$[./\w]{22}")),
    ("LDAP hash", re.compile(r"\{[A-Za-z0-9-]{2,20}\}[A-Za-z0-9+/=$.]{8,300}")),
    ("hex digest", re.compile(r"(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64})")),
    ("hex digest", re.compile(r"(?:[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{56}|[0-9A-F]{64})")),
    ("hex digest", re.compile(r"(?:[0-9a-f]{96}|[0-9a-f]{128}|[0-9A-F]{96}|[0-9A-F]{128})")),
)
_SCHEME = re.compile(r"\$[\w-]{1,20}\$|[\w-]{1,30}\$|\{[\w-]{1,20}\}")
_KEY_PREFIX = re.compile(r"(?:[a-z]{1,8}[_-]){1,2}")
_PUBLIC_KEY_PREFIXES = ("pk_live_", "pk_test_", "pub_", "public_")


@dataclass(frozen=True)
class Verdict:
    """How a value under a secret field name looks.

    Attributes:
        shape: What the value looks like, for people ("bcrypt hash", "plain password").
        severity: How bad its presence in an answer is.
        confidence: How sure the shape makes the judge.
        keep: How many leading characters are safe to show (a hash scheme, a key prefix).
    """

    shape: str
    severity: Severity
    confidence: Confidence
    keep: int = 0


def hash_format(text: str) -> str | None:
    """The name of the password hash format the whole text is in, or None."""
    for name, pattern in _HASH_FORMATS:
        if pattern.fullmatch(text):
            return name
    return None


def password_shape(text: str) -> str | None:
    """How a value under a password name reads: "plain" (one token of letters with digits or
    symbols), "word" (letters only), "digits", or None (a sentence, label word, path, date or
    error code such as `too_short`)."""
    if not 4 <= len(text) <= 128 or any(ch.isspace() for ch in text):
        return None
    if text.casefold().strip("?!.:") in _LABEL_WORDS or _DATE.fullmatch(text):
        return None
    if text.startswith(("/", "#", "?")) or _LOWER_PATH.fullmatch(text):
        return None
    if text.isdigit():
        return "digits"
    if text.isalpha():
        return "word"
    if all(ch.isalpha() or ch in "-_." for ch in text):
        return None  # an identifier or error code: too_short, invalid-format
    return "plain"


def _not_a_value(text: str) -> bool:
    """True for empty, masked, placeholder, template and URL values."""
    return (
        not text
        or len(text) > 16_384
        or text.lower().replace(" ", "") in _PLACEHOLDERS
        or "://" in text
        or len(set(text)) < 3
        or bool(_MASKED.search(text[:4096]))
        or bool(_TEMPLATE.search(text[:4096]))
    )


def _scheme_length(text: str) -> int:
    scheme = _SCHEME.match(text)
    return len(scheme.group(0)) if scheme else 0


def _judge_password(text: str, status: int, in_messages: bool) -> Verdict | None:
    shape = None if in_messages else password_shape(text)
    if shape == "plain" and status < 400:
        return Verdict("plain password", Severity.high, Confidence.firm)
    if shape == "plain":
        return Verdict("plain password in an error answer", Severity.medium, Confidence.tentative)
    if shape is not None and status < 400:
        shown = "a single word" if shape == "word" else "digits only"
        return Verdict(f"possible plain password, {shown}", Severity.low, Confidence.tentative)
    return None


def _opaque(text: str, length: int) -> bool:
    """True for one token of `length`+ characters mixing letters and digits (not a path)."""
    return (
        len(text) >= length
        and not any(ch.isspace() for ch in text)
        and any(ch.isdigit() for ch in text)
        and any(ch.isalpha() for ch in text)
        and not text.startswith("/")
        and not _LOWER_PATH.fullmatch(text)
    )


def _judge_key(text: str) -> Verdict | None:
    if text.lower().startswith(_PUBLIC_KEY_PREFIXES) or not _opaque(text, 16):
        return None
    if text.startswith("AIza"):
        shape = "Google API key (often public by design: check its restrictions)"
        return Verdict(shape, Severity.low, Confidence.tentative, keep=4)
    prefix = _KEY_PREFIX.match(text)
    keep = len(prefix.group(0)) if prefix and len(prefix.group(0)) <= len(text) // 2 else 0
    return Verdict("key", Severity.medium, Confidence.firm, keep=keep)


def judge_field(
    name: str, value: Any, *, status: int = 200, in_messages: bool = False
) -> Verdict | None:
    """The verdict on one JSON field, or None when it holds no secret.

    `status` is the answer's status; `in_messages` is True when the field sits in an object of
    messages or UI text (see `is_message_container`), where only hashes, private keys and keys
    count.
    """
    kind = secret_kind(name)
    if kind is None or not isinstance(value, str):
        return None
    text = value.strip()
    if _not_a_value(text):
        return None
    if "PRIVATE KEY" in text and _PEM_PRIVATE.search(text):
        return Verdict("PEM private key", Severity.high, Confidence.firm)
    hashed = hash_format(text) if kind != "key" else None
    if hashed is not None:
        return Verdict(hashed, Severity.high, Confidence.firm, keep=_scheme_length(text))
    if kind == "password":
        return _judge_password(text, status, in_messages)
    if kind == "hash":
        opaque = _opaque(text, 20) and password_shape(text) is not None
        return Verdict("password hash", Severity.high, Confidence.firm) if opaque else None
    return _judge_key(text)


# -- whole answers -------------------------------------------------------------------------------

_JSON_DEPTH = 64


def _fields(
    value: Any, path: str = "$", in_messages: bool = False, depth: int = 0
) -> Iterator[tuple[str, str, Any, bool]]:
    """(JSON path, field name, value, inside a message container) of every object field,
    depth first, bounded in depth (callers bound the count)."""
    if depth >= _JSON_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            child = f"{path}.{name}"
            yield child, name, item, in_messages
            if isinstance(item, dict | list):
                inner = in_messages or is_message_container(name)
                yield from _fields(item, child, inner, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                yield from _fields(item, f"{path}[{index}]", in_messages, depth + 1)


def mask(value: str, keep: int = 0) -> str:
    """A secret shown as its length and, with `keep`, its first characters (a hash scheme or a
    key prefix), never more."""
    if keep and keep < len(value):
        return f'[hidden: {len(value)} characters, starts "{value[:keep]}"]'
    return f"[hidden: {len(value)} characters]"


@dataclass(frozen=True)
class _Seen:
    path: str
    value: str
    verdict: Verdict


def _secret_fields(data: Any, status: int, sent: str) -> list[_Seen]:
    found = []
    for path, name, value, in_messages in islice(_fields(data), JSON_NODES):
        verdict = judge_field(name, value, status=status, in_messages=in_messages)
        if verdict is None:
            continue
        text = value.strip()
        if len(text) >= 4 and text in sent:
            continue  # the request carried it: an echo of our own input, not a stored secret
        found.append(_Seen(path, text, verdict))
    return found


def _strength(verdict: Verdict) -> tuple[int, int]:
    return verdict.severity.rank, int(verdict.confidence is not Confidence.tentative)


def find_secrets(views: TextViews, *, status: int = 200, sent: str = "") -> list[Match]:
    """Secret JSON fields (by name and value shape) and PEM private keys anywhere, as one match.

    `status` is the answer's status; `sent` is the text the request carried (URL and body),
    whose values are echoes, not leaks.
    """
    seen = _secret_fields(views.data, status, sent) if views.is_json else []
    lines = [f"{s.path} = {mask(s.value, s.verdict.keep)} ({s.verdict.shape})" for s in seen]
    paths = [s.path for s in seen]
    verdicts = [s.verdict for s in seen]
    pem_in_fields = any(s.verdict.shape == "PEM private key" for s in seen)
    pem = None
    if not pem_in_fields and "PRIVATE KEY" in views.plain:
        pem = _PEM_PRIVATE.search(views.plain)
    if pem is not None:
        header = pem.group(0).split("\n", 1)[0].strip()
        lines.append(f"{header} [key body hidden]")
        paths.append("PEM private key")
        verdicts.append(Verdict("PEM private key", Severity.high, Confidence.firm))
    if not lines:
        return []
    strongest = max(verdicts, key=_strength)
    shown = ", ".join(paths[:4]) + (", ..." if len(paths) > 4 else "")
    sure = strongest.confidence is not Confidence.tentative
    label = f"{'Secrets' if sure else 'Possible secrets'} in the response ({shown})"
    return [
        Match(
            SECRET_IN_RESPONSE,
            "secret",
            label,
            ", ".join(paths),
            excerpt_of(lines),
            strongest.severity,
            strongest.confidence,
        )
    ]
