"""Pure judges for secrets in answers: secret-named JSON fields with real-looking values, and
PEM private keys anywhere.

A field counts when its name, compared without case or punctuation, ends like a secret's
(`password`, `password_hash`, `api_key`, `client_secret`, `private_key`, ...) and its value has
a secret's shape: not empty, masked, a placeholder, a flag or a URL. `password_policy` or
`has_password: true` never count. Excerpts show the JSON path and the value's length, never
the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

from probe.findings import Severity
from probe.probes.error_signatures import (
    JSON_NODES,
    SECRET_IN_RESPONSE,
    Match,
    TextViews,
    excerpt_of,
    walk_json,
)

_PASSWORD_SUFFIXES = ("password", "passwd")
_HASH_SUFFIXES = (
    "passwordhash",
    "hashedpassword",
    "passworddigest",
    "encryptedpassword",
    "passhash",
    "pwdhash",
)
_KEY_SUFFIXES = (
    "apikey",
    "apisecret",
    "secretkey",
    "clientsecret",
    "appsecret",
    "privatekey",
    "secretaccesskey",
    "signingkey",
    "signingsecret",
    "jwtsecret",
    "encryptionkey",
    "masterkey",
    "webhooksecret",
    "consumersecret",
)
_FLAG_WORDS = frozenset(
    {"has", "is", "can", "should", "must", "needs", "requires", "show", "hide", "use", "enable"}
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_PLACEHOLDERS = frozenset(
    {
        "redacted",
        "hidden",
        "masked",
        "none",
        "null",
        "nil",
        "undefined",
        "notset",
        "n/a",
        "required",
        "optional",
        "string",
        "password",
        "secret",
        "changeme",
        "example",
        "xxx",
    }
)
_MASKED = re.compile(r"[*•#]{3}|\[(?:redacted|hidden|filtered)\]|<[^<>]{1,40}>", re.I)
_PEM_PRIVATE = re.compile(
    r"-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----"
    r"\s{1,8}(?:[\w-]{1,30}: [^\n]{1,120}\s{1,4}){0,4}[A-Za-z0-9+/=]{60}"
)
_HASH_SHAPE = re.compile(
    r"\$(?:2[abxy]|argon2(?:id|i|d)|pbkdf2[\w-]{0,20}|scrypt|[156])\$|pbkdf2_sha\d{1,3}\$"
    r"|^[0-9a-fA-F]{32,128}$"
)


def _first_word(key: str) -> str:
    """The first word of a snake_case, kebab-case or camelCase name, lower-cased."""
    words = re.split(r"[^a-z0-9]+", _CAMEL.sub(r"\1_\2", key[:200]).lower())
    return next((w for w in words if w), "")


def _normal_key(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isascii() and ch.isalnum())


def secret_kind(key: str) -> str | None:
    """The kind of secret a JSON field name holds ("password", "hash" or "key"), or None.

    Names are compared without case and punctuation (`passwordHash` = `password_hash`); a
    name that only starts with a secret word (`password_policy`) or is a flag about one
    (`has_password`) is not a secret.
    """
    if _first_word(key) in _FLAG_WORDS:
        return None  # has_password, isSecret, requires_api_key: flags about a secret
    name = _normal_key(key)
    if name.endswith(_HASH_SUFFIXES):
        return "hash"
    if name.endswith(_KEY_SUFFIXES) or name == "secret":
        return "key"
    if name.endswith(_PASSWORD_SUFFIXES) or name == "pwd":
        return "password"
    return None


def secret_value_shape(kind: str, value: Any) -> bool:
    """True when a value under a secret field name looks like a real secret, not a
    placeholder, a mask, a flag or a URL."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if (
        not text
        or len(text) > 16_384
        or text.lower().replace(" ", "") in _PLACEHOLDERS
        or "://" in text
        or _MASKED.search(text)
        or len(set(text)) < 3
    ):
        return False
    if kind == "password":
        return 4 <= len(text) <= 200
    if kind == "hash":
        return bool(_HASH_SHAPE.search(text)) or len(text) >= 20
    if _PEM_PRIVATE.search(text):
        return True
    has_digit = any(ch.isdigit() for ch in text)
    has_alpha = any(ch.isalpha() for ch in text)
    return len(text) >= 16 and " " not in text and has_digit and has_alpha


def mask(value: str, keep: int) -> str:
    """A secret shown as its first `keep` characters and its length."""
    shown = value[:keep] + "…" if keep else ""
    return f'"{shown}" ({len(value)} characters, value hidden)'


_SEVERITY_OF_KIND = {"password": Severity.high, "hash": Severity.high, "key": Severity.medium}
_KEEP_OF_KIND = {"password": 0, "hash": 4, "key": 3}


def _secret_fields(data: Any) -> Iterator[tuple[str, str, str]]:
    """(JSON path, kind, value) of each field whose name and value both look secret."""
    for path, value in islice(walk_json(data), JSON_NODES):
        name = path.rsplit(".", 1)[-1] if "." in path else ""
        kind = secret_kind(name) if name else None
        if kind is not None and secret_value_shape(kind, value):
            # A private key in any field is as bad as a password.
            yield path, ("password" if _PEM_PRIVATE.search(value) else kind), value


def find_secrets(views: TextViews) -> list[Match]:
    """Secret-looking JSON fields (by name and value shape) and PEM private keys anywhere."""
    lines: list[str] = []
    paths: list[str] = []
    severity = Severity.low
    pem_in_fields = False
    if views.is_json:
        for path, kind, value in _secret_fields(views.data):
            lines.append(f"{path} = {mask(value, _KEEP_OF_KIND[kind])}")
            paths.append(path)
            severity = max(severity, _SEVERITY_OF_KIND[kind], key=lambda s: s.rank)
            pem_in_fields = pem_in_fields or "PRIVATE KEY-----" in value
    pem = None
    if not pem_in_fields and "PRIVATE KEY" in views.plain:
        pem = _PEM_PRIVATE.search(views.plain)
    if pem is not None:
        header = pem.group(0).split("\n", 1)[0].strip()
        lines.append(f"{header} [key body hidden]")
        paths.append("PEM private key")
        severity = Severity.high
    if not lines:
        return []
    key = ", ".join(paths)
    shown = ", ".join(paths[:4]) + (", ..." if len(paths) > 4 else "")
    label = f"Secrets in the response ({shown})"
    return [Match(SECRET_IN_RESPONSE, "secret", label, key, excerpt_of(lines), severity)]
