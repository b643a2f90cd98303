"""Where a login body holds the user name and the password, and the users and passwords the
access probe's user-enumeration check puts there (pure helpers, no requests).

- Fields: the endpoint's own `login_fields` when the scenario gives them, else the probe's
  `user_field` / `password_field`, else found by name. A name is the last part of a key: a
  dotted path's last key, or a form key's last bracket (`user[email]` is `email`), compared
  without case or separators, so `j_username`, `user[email]`, `login[username]` and
  `session[email]` are found. Keys that name a token or a CSRF value are never taken.
- Users: an unknown user made up in the known name's shape, so that user-name rules answer
  both alike; a neutral one (`probe-<random>@example.invalid`) when the known name is a
  secret of the scenario, so that no report shows its shape or domain.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from probe.scenario.models import Endpoint

#: Default user-name fields, first match wins (compared without case or separators).
USER_FIELDS = (
    "username",
    "email",
    "user",
    "login",
    "identifier",
    "emailaddress",
    "loginname",
    "jusername",
    "account",
    "mail",
    "phone",
    "phonenumber",
    "usr",
)
# Password fields named otherwise than with "pass".
_PASSWORD_NAMES = frozenset({"pwd", "pw"})
# Key parts that never name a user or a password field, whatever else the key says.
_NEVER = ("token", "csrf", "xsrf", "nonce", "captcha", "otp", "hash", "salt", "bypass")
_NAME = re.compile(r"[^a-z0-9]")
_KEY_PARTS = re.compile(r"[.\[\]]+")
_KINDS = (string.digits, string.ascii_lowercase, string.ascii_uppercase)
_MIN_MADE_UP = 6
#: The domain of neutral made-up e-mail addresses (reserved: it never resolves).
NEUTRAL_DOMAIN = "example.invalid"


def _norm(name: str) -> str:
    return _NAME.sub("", name.lower())


def field_name(path: str) -> str:
    """A key's name as compared: its last dotted or bracketed part, without case or
    separators (`user[email]` -> `email`, `j_username` -> `jusername`)."""
    parts = [p for p in _KEY_PARTS.split(path) if p]
    return _norm(parts[-1]) if parts else ""


def _never(path: str) -> bool:
    whole = _norm(path)
    return any(word in whole for word in _NEVER)


# -- fields -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginFields:
    """The body fields the scenario names for a login endpoint (None: found by name).

    Attributes:
        user: Dotted path (or form key) of the user name.
        password: Dotted path (or form key) of the password.
        where: Which scenario key named them, for the check's detail.
    """

    user: str | None = None
    password: str | None = None
    where: str = "probes.access"


def configured_fields(endpoint: Endpoint, user: str | None, password: str | None) -> LoginFields:
    """The endpoint's own `login_fields` ({user, password}) where it sets them, else the
    probe's options `user` and `password`."""
    own = endpoint.login_fields
    if own is not None and (own.user or own.password):
        return LoginFields(own.user or user, own.password or password, "login_fields")
    return LoginFields(user, password)


def _paths(body: Mapping[str, Any], prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """(dotted path, value) of every key, parents before children, up to three levels."""
    out: list[tuple[str, Any]] = []
    for key, value in body.items():
        path = f"{prefix}{key}"
        out.append((path, value))
        if isinstance(value, dict) and depth < 2:
            out += _paths(value, f"{path}.", depth + 1)
    return out


def get_field(body: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path of a body (a key holding dots itself first), or None."""
    if dotted in body:
        return body[dotted]
    value: Any = body
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def find_user_field(body: Mapping[str, Any], configured: str | None) -> str | None:
    """The path of the user name: `configured` when the body has it, else the first of
    USER_FIELDS (by that order, then nearest the top) holding a non-empty string."""
    if configured is not None:
        return configured if isinstance(get_field(body, configured), str) else None
    paths = [(p, v) for p, v in _paths(body) if isinstance(v, str) and v and not _never(p)]
    for name in USER_FIELDS:
        for path, _ in paths:
            if field_name(path) == name:
                return path
    return None


def find_password_field(body: Mapping[str, Any], configured: str | None) -> str | None:
    """The path of the password: `configured` when the body has it, else the first key whose
    name holds "pass" (password, passwd, j_password, user[password]) or is pwd or pw."""
    if configured is not None:
        return configured if get_field(body, configured) is not None else None
    for path, value in _paths(body):
        name = field_name(path)
        named = "pass" in name or name in _PASSWORD_NAMES
        if named and not isinstance(value, dict) and not _never(path):
            return path
    return None


def with_fields(body: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the body with each path set to its value (a key holding dots itself is set
    as it is)."""
    out = copy.deepcopy(dict(body))
    for dotted, value in values.items():
        if dotted in out:
            out[dotted] = value
            continue
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return out


# -- users and passwords ----------------------------------------------------------------------


def made_up_user(known: str) -> str:
    """A user name that exists nowhere, new per call, of the known one's shape (so that user-name
    rules answer both alike): each ASCII letter and digit replaced by a random one of its kind
    (the case kept), every other character kept in its place; a name under six characters is
    lengthened with characters of its last letter's or digit's kind (a three-letter name could
    well exist). An email address keeps its domain."""
    local, at, domain = known.rpartition("@")
    if at and local and domain:
        return f"{_shaped(local)}@{domain}"
    return _shaped(known)


def neutral_user(known: str) -> str:
    """A user name that exists nowhere and tells nothing of the known one (a secret): an
    address on a reserved domain when the known one is an address, letters and digits
    otherwise."""
    random = secrets.token_hex(5)
    return f"probe-{random}@{NEUTRAL_DOMAIN}" if "@" in known else f"probe{random}"


def _like(char: str) -> str:
    kind = next((k for k in _KINDS if char in k), None)
    return secrets.choice(kind) if kind else char


def _shaped(name: str) -> str:
    kinds = [c for c in name if any(c in k for k in _KINDS)]
    for _ in range(8):
        out = "".join(_like(c) for c in name)
        while kinds and len(out) < _MIN_MADE_UP:
            out += _like(kinds[-1])
        if out.lower() != name.lower():
            return out
    return name + (kinds[-1] if kinds else name[-1:]) * 2  # no letter or digit to change


def wrong_password(real: Any) -> str:
    """A random password, never the real one, shaped to pass common length and character
    rules (so that a policy check answers both sides alike)."""
    while True:
        candidate = f"Wr0ng-{secrets.token_urlsafe(12)}!"
        if candidate != real:
            return candidate
