"""Which JSON field names hold secrets, and which objects hold messages about them.

A name holds a secret when it ends like one (`password`, `password_hash`, `api_key`,
`client_secret`, ...), compared without case or punctuation, and is neither a flag, setting or
action about one (`has_password`, `forgot_password`) nor public by design (`public_api_key`,
Algolia's search-only `searchApiKey`, a Google `browser_key`).
An object named like `errors`, `labels` or `i18n` holds messages or UI text: there `password`
names a form field, not its value. `secret_signatures` judges the values.
"""

from __future__ import annotations

import re

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
# A name starting with one of these is a flag, a setting or an action about a secret.
_NOT_A_VALUE_WORDS = frozenset(
    {
        "has", "is", "can", "should", "must", "needs", "requires", "require", "show", "hide",
        "use", "enable", "allow", "disable", "forgot", "reset", "change", "update", "lost",
        "public", "publishable", "pub",
    }
)  # fmt: skip
# A name holding one of these words names a key made to be shipped to browsers (Algolia's
# search-only key, a browser key), unless it also says the key can write.
_PUBLIC_WORDS = frozenset({"public", "publishable", "search", "browser"})
_PRIVILEGE_WORDS = frozenset({"admin", "write", "private", "secret", "master"})
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
# Objects whose fields are messages or UI text about a field, not the field's value.
_MESSAGE_CONTAINERS = frozenset(
    {
        "error", "errors", "message", "messages", "msg", "msgs", "detail", "label", "labels",
        "link", "links", "href", "hrefs", "url", "urls", "uri", "uris", "route", "routes",
        "text", "texts", "string", "strings", "translation", "translations", "i18n", "l10n",
        "locale", "locales", "lang", "hint", "hints", "placeholder", "placeholders", "tooltip",
        "tooltips", "help", "helptext", "description", "descriptions", "title", "titles",
        "caption", "captions", "warning", "warnings", "violation", "violations", "problem",
        "problems", "failure", "failures", "invalidparams", "example", "examples", "sample",
        "samples", "rule", "rules", "validation", "validations", "validator", "validators",
        "constraint", "constraints", "requirement", "requirements", "policy", "policies",
        "schema", "ui", "form", "forms", "fields",
    }
)  # fmt: skip
# Longer names ending like these are message containers too (`fieldErrors`, `ui_labels`).
_MESSAGE_SUFFIXES = ("errors", "messages", "labels", "links", "translations", "hints")


def _words(key: str) -> list[str]:
    """The words of a snake_case, kebab-case or camelCase name, lower-cased."""
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub(r"\1_\2", key[:200]).lower()) if w]


def _normal_key(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isascii() and ch.isalnum())


def secret_kind(key: str) -> str | None:
    """The kind of secret a JSON field name holds ("password", "hash" or "key"), or None.

    Names are compared without case and punctuation (`passwordHash` = `password_hash`); a
    name that only starts with a secret word (`password_policy`), is a flag, setting or action
    about one (`has_password`, `forgot_password`) or is public by design (`public_api_key`,
    `searchApiKey`) holds no secret.
    """
    words = _words(key)
    if not words or words[0] in _NOT_A_VALUE_WORDS or _public_by_design(words):
        return None
    name = _normal_key(key)
    if name.endswith(_HASH_SUFFIXES):
        return "hash"
    if name.endswith(_KEY_SUFFIXES) or name == "secret":
        return "key"
    if name.endswith(_PASSWORD_SUFFIXES) or name == "pwd":
        return "password"
    return None


def _public_by_design(words: list[str]) -> bool:
    named = set(words)
    return bool(named & _PUBLIC_WORDS) and not named & _PRIVILEGE_WORDS


def is_message_container(key: str) -> bool:
    """True for an object name whose fields hold messages or UI text (`errors`, `labels`)."""
    name = _normal_key(key)
    return name in _MESSAGE_CONTAINERS or name.endswith(_MESSAGE_SUFFIXES)
