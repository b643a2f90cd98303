"""Pure judges for secrets in answers: stored credentials in JSON fields, PEM private keys
anywhere.

A JSON field counts only when all of these hold:

- its name ends like a secret's (`password`, `password_hash`, `api_key`, `client_secret`,
  `private_key`, ...), compared without case or punctuation, and is neither a flag, setting or
  action about one (`has_password`, `password_min_length`, `api_key_hint`, `forgot_password`)
  nor public by design (`public_api_key`, `publishable_key`, Algolia's `searchApiKey`): see
  `secret_names`;
- its value has the shape of a stored secret (`judge_field`): a password hash format, a PEM
  private key, a key of 16+ characters with a random run, or a plain password (one token, not
  a sentence, path, URL, label word, error code, validation rule, range or pattern); masks,
  placeholders, templates, references to a secret store (`vault:...`, ARNs) and the names or
  ids of keys (`alias/...`, KMS resource names, `kid-2024-01-15-rsa256`) never count, nor do
  keys public by design (Stripe `pk_`, PostHog `phc_`): see `secret_values`;
- a plain password does not sit in an object of messages or UI text (`errors`, `messages`,
  `labels`, `links`, `i18n`, `rules`, `examples`, ...): there `password` names a form field
  and its value is a message about it;
- a base32 TOTP seed does not sit beside an `otpauth://` URI or a QR code field: an enrolment
  answer hands the seed to its owner by design, so it is no finding;
- the request did not carry the value, decoded (`secret_echoes`): an echo of what the scan
  sent is no leak; nor is a value holding the scan marker (the probes' own payload, stored by
  one request and served by another).

Confidence follows the shape. Firm: a hash, a private key, a key, a plain password (letters
with digits or symbols) in an answer below 400. Tentative and less severe: a plain password in
an error answer, a lone word or run of digits under a password name (answers below 400 only),
a Google `AIza` key (often public by design). The sure and the tentative fields of one answer
are two matches, so that a guess never sits inside a sure finding. Excerpts show the JSON
path, the length, the shape and at most a scheme or key prefix, never the value; text from the
answer that cannot be encoded (a lone surrogate in a JSON name) is shown escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from probe.findings import Confidence, Severity
from probe.probes.secret_echoes import Sent
from probe.probes.secret_names import is_message_container, secret_kind
from probe.probes.secret_values import (
    LOWER_PATH,
    is_totp_seed,
    names_a_key,
    normal_text,
    not_a_value,
    password_shape,
)
from probe.probes.signatures import (
    JSON_NODES,
    SECRET_IN_RESPONSE,
    Match,
    TextViews,
    excerpt_of,
)

# Defined here, or re-exported for the tests that import them from here.
__all__ = [
    "SecretField",
    "Verdict",
    "find_secrets",
    "hash_format",
    "is_message_container",
    "judge_field",
    "mask",
    "password_shape",
    "safe_text",
    "secret_fields",
    "secret_kind",
    "secret_matches",
]

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
    (
        "PBKDF2 hash",
        re.compile(r"pbkdf2:sha\d{1,3}(?::\d{1,9})?\$[^\s$]{1,100}\$[0-9a-f]{32,256}"),
    ),
    ("scrypt hash", re.compile(r"scrypt:\d{1,9}:\d{1,3}:\d{1,3}\$[^\s$]{1,100}\$[0-9a-f]{32,256}")),
    ("SHA-crypt hash", re.compile(r"\$[56]\$(?:rounds=\d{1,9}\$)?[./\w]{1,16}\$[./\w]{43,86}")),
    ("MD5-crypt hash", re.compile(r"\$(?:1|apr1)\$[./\w]{1,8}\$[./\w]{22}")),
    ("LDAP hash", re.compile(r"\{[A-Za-z0-9-]{2,20}\}[A-Za-z0-9+/=$.]{8,300}")),
    ("hex digest", re.compile(r"(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64})")),
    ("hex digest", re.compile(r"(?:[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{56}|[0-9A-F]{64})")),
    ("hex digest", re.compile(r"(?:[0-9a-f]{96}|[0-9a-f]{128}|[0-9A-F]{96}|[0-9A-F]{128})")),
)
_SCHEME = re.compile(r"\$[\w-]{1,20}\$|[\w-]{1,30}\$|\{[\w-]{1,20}\}")
_KEY_PREFIX = re.compile(r"(?:[a-z]{1,8}[_-]){1,2}")
# Keys made to be shipped to browsers: Stripe and Mapbox `pk`, PostHog project keys.
_PUBLIC_KEY_PREFIXES = ("pk_", "pk.", "phc_", "pub_", "public_", "publishable_")
_ENROLMENT_NAMES = ("qr", "otpauth", "provisioninguri", "provisioningurl")


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

    @property
    def sure(self) -> bool:
        """True unless the verdict is only a guess (tentative)."""
        return self.confidence is not Confidence.tentative


def hash_format(text: str) -> str | None:
    """The name of the password hash format the whole text is in, or None."""
    for name, pattern in _HASH_FORMATS:
        if pattern.fullmatch(text):
            return name
    return None


def safe_text(text: str) -> str:
    """The text with what UTF-8 cannot encode (lone surrogates from JSON escapes) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


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
        and not LOWER_PATH.fullmatch(text)
    )


def _judge_key(text: str, enrolment: bool) -> Verdict | None:
    if text.lower().startswith(_PUBLIC_KEY_PREFIXES) or not _opaque(text, 16):
        return None
    if enrolment and is_totp_seed(text):
        return None  # a TOTP seed shown to its owner while enrolling, by design
    if text.startswith("AIza"):
        shape = "Google API key (often public by design: check its restrictions)"
        return Verdict(shape, Severity.low, Confidence.tentative, keep=4)
    if names_a_key(text):
        return None
    prefix = _KEY_PREFIX.match(text)
    keep = len(prefix.group(0)) if prefix and len(prefix.group(0)) <= len(text) // 2 else 0
    return Verdict("key", Severity.medium, Confidence.firm, keep=keep)


def judge_field(
    name: str,
    value: Any,
    *,
    status: int = 200,
    in_messages: bool = False,
    enrolment: bool = False,
) -> Verdict | None:
    """The verdict on one JSON field, or None when it holds no secret.

    `status` is the answer's status; `in_messages` is True when the field sits in an object of
    messages or UI text (see `is_message_container`), where only hashes, private keys and keys
    count; `enrolment` is True when the field sits beside an `otpauth://` URI or a QR code,
    where a base32 TOTP seed is shown by design.
    """
    kind = secret_kind(name)
    if kind is None or not isinstance(value, str):
        return None
    text = value.strip()
    if not_a_value(text):
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
    return _judge_key(text, enrolment)


# -- whole answers -------------------------------------------------------------------------------

_JSON_DEPTH = 64


@dataclass(frozen=True)
class _Field:
    path: str
    name: str
    value: Any
    in_messages: bool
    enrolment: bool


def _is_enrolment(data: dict[Any, Any]) -> bool:
    """True for an object that hands a TOTP seed over: it holds an `otpauth://` URI or a field
    named like a QR code or provisioning URI."""
    for key, item in islice(data.items(), 200):
        name = "".join(ch for ch in str(key).lower() if ch.isalnum())
        if name.startswith(_ENROLMENT_NAMES):
            return True
        if isinstance(item, str) and item[:10].lower() == "otpauth://":
            return True
    return False


def _fields(
    value: Any, path: str = "$", in_messages: bool = False, enrolment: bool = False, depth: int = 0
) -> Iterator[_Field]:
    """Every object field, depth first, bounded in depth (callers bound the count), with
    whether it sits in a message container or a TOTP enrolment."""
    if depth >= _JSON_DEPTH:
        return
    if isinstance(value, dict):
        enrolment = enrolment or _is_enrolment(value)
        for key, item in value.items():
            name = str(key)
            child = f"{path}.{name}"
            yield _Field(child, name, item, in_messages, enrolment)
            if isinstance(item, dict | list):
                inner = in_messages or is_message_container(name)
                yield from _fields(item, child, inner, enrolment, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                yield from _fields(item, f"{path}[{index}]", in_messages, enrolment, depth + 1)


def mask(value: str, keep: int = 0) -> str:
    """A secret shown as its length and, with `keep`, its first characters (a hash scheme or a
    key prefix), never more."""
    if keep and keep < len(value):
        return f'[hidden: {len(value)} characters, starts "{safe_text(value[:keep])}"]'
    return f"[hidden: {len(value)} characters]"


@dataclass(frozen=True)
class SecretField:
    """One secret found in one answer, before the scan marker is known.

    Attributes:
        path: Where it is: a JSON path, or "PEM private key" for a key in the body's text.
        value: The secret itself; it stays in memory and never reaches a match.
        verdict: What it looks like.
        line: The excerpt line that shows it masked.
    """

    path: str
    value: str
    verdict: Verdict
    line: str


def _json_fields(data: Any, status: int, sent: Sent) -> list[SecretField]:
    found = []
    for item in islice(_fields(data), JSON_NODES):
        verdict = judge_field(
            item.name,
            item.value,
            status=status,
            in_messages=item.in_messages,
            enrolment=item.enrolment,
        )
        if verdict is None:
            continue
        text = item.value.strip()
        if sent.carried(text):
            continue  # the request carried it: an echo of our own input, not a stored secret
        path = safe_text(item.path)
        line = f"{path} = {mask(text, verdict.keep)} ({verdict.shape})"
        found.append(SecretField(path, text, verdict, line))
    return found


def secret_fields(
    views: TextViews, *, status: int = 200, sent: Sent | str = ""
) -> list[SecretField]:
    """Secret JSON fields (by name and value shape) and a PEM private key anywhere.

    `status` is the answer's status; `sent` is what the request carried (`secret_echoes.sent_by`,
    or its text alone), whose values are echoes, not leaks.
    """
    carried = sent if isinstance(sent, Sent) else Sent(normal_text(sent))
    found = _json_fields(views.data, status, carried) if views.is_json else []
    if any(f.verdict.shape == "PEM private key" for f in found) or "PRIVATE KEY" not in views.plain:
        return found
    pem = _PEM_PRIVATE.search(views.plain)
    if pem is not None and not carried.carried(pem.group(0)):
        header = pem.group(0).split("\n", 1)[0].strip()
        verdict = Verdict("PEM private key", Severity.high, Confidence.firm)
        found.append(
            SecretField("PEM private key", pem.group(0), verdict, f"{header} [key body hidden]")
        )
    return found


def _strength(verdict: Verdict) -> tuple[int, int]:
    return verdict.severity.rank, int(verdict.sure)


def _match(fields: Sequence[SecretField]) -> Match:
    """One match for fields of the same certainty, as strong as the strongest of them."""
    strongest = max((f.verdict for f in fields), key=_strength)
    paths = [f.path for f in fields]
    shown = ", ".join(paths[:4]) + (", ..." if len(paths) > 4 else "")
    label = f"{'Secrets' if strongest.sure else 'Possible secrets'} in the response ({shown})"
    return Match(
        SECRET_IN_RESPONSE,
        "secret" if strongest.sure else "possible-secret",
        label,
        ", ".join(paths),
        excerpt_of([f.line for f in fields]),
        strongest.severity,
        strongest.confidence,
    )


def secret_matches(fields: Sequence[SecretField], *, marker: str = "") -> list[Match]:
    """The fields as at most two matches, the sure ones first, then the tentative ones;
    values holding the scan `marker` are the probes' own payload and are left out."""
    mark = marker.lower()
    kept = [f for f in fields if not (mark and mark in f.value.lower())]
    sure = [f for f in kept if f.verdict.sure]
    guesses = [f for f in kept if not f.verdict.sure]
    return [_match(group) for group in (sure, guesses) if group]


def find_secrets(
    views: TextViews, *, status: int = 200, sent: Sent | str = "", marker: str = ""
) -> list[Match]:
    """Secret JSON fields and PEM private keys in one answer, as at most two matches (sure,
    then tentative). See `secret_fields` and `secret_matches`."""
    return secret_matches(secret_fields(views, status=status, sent=sent), marker=marker)
