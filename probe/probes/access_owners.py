"""Whose answer is it: the values that name an object or its owner (pure judges of the access
probe's BOLA and function-level checks; the per-viewer parts are `access_viewers`').

- Naming values. The object is named by the endpoint's path parameters, the path segments that
  hold a digit, and id-like fields of its query and JSON body (`object_values`); an identity by
  its login user name and the id claims of its token (`identity_values`). A JSON leaf names one
  when it holds the value exactly (a value under three characters only under an id-like key:
  `"id": 1`, never `"page": 1`); a text answer when the value stands as a word in it.
- Whose (`named_by`): the owner's answer names the object or the owner, and the other
  identity's answer holds that same leaf (or word). Without it, another identity's equal answer
  cannot be told from that identity's own record with the same default values (two new
  accounts' settings are equal): the BOLA finding is then tentative.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from probe.compare import blank_text, canonical, flatten
from probe.exchange import ResponseRecord
from probe.probes.access_judges import jwt_claims
from probe.probes.access_login_fields import find_user_field, get_field
from probe.scenario.models import Endpoint, Identity

#: Token claims that name the user.
ID_CLAIMS = (
    "sub",
    "uid",
    "user_id",
    "userid",
    "oid",
    "email",
    "username",
    "preferred_username",
    "upn",
    "login",
)
# Keys whose short values (an id of 1 or 2 digits) still name an object or a user.
_ID_KEYS = frozenset(
    {
        "id",
        "uid",
        "sub",
        "owner",
        "user",
        "account",
        "customer",
        "author",
        "creator",
        "email",
        "username",
        "login",
    }
)
_ID_SUFFIX = re.compile(r"(?:[_\-.]id|[a-z0-9]Id|ID)$")
_MIN_FREE_VALUE = 3


def _id_key(key: str) -> bool:
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return norm in _ID_KEYS or bool(_ID_SUFFIX.search(key))


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


# -- naming values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Naming:
    """The values that name the object, and those that name the entitled identity.

    Attributes:
        objects: Path parameters, path segments with a digit, id-like query and body fields.
        owner: The entitled identity's login user name and token id claims.
    """

    objects: tuple[str, ...]
    owner: tuple[str, ...]

    @property
    def everything(self) -> tuple[str, ...]:
        """Both, objects first."""
        return self.objects + self.owner


def object_values(endpoint: Endpoint) -> tuple[str, ...]:
    """The values that name the endpoint's object: path parameters, path segments holding a
    digit, id-like query fields and JSON body leaves."""
    found: list[str] = [str(v) for v in endpoint.path_params.values()]
    found += [s for s in endpoint.rendered_path.split("/") if any(c.isdigit() for c in s)]
    found += [str(v) for k, v in endpoint.query.items() if _id_key(k)]
    if isinstance(endpoint.json_body, dict):
        for path, value in flatten(endpoint.json_body).items():
            text = _scalar(value)
            if text and _id_key(path.rsplit(".", 1)[-1]):
                found.append(text)
    return _distinct(found)


def identity_values(identity: Identity, token: str | None) -> tuple[str, ...]:
    """The values that name an identity: its login user name and its token's id claims."""
    found: list[str] = []
    login = identity.login
    body: Any = None
    if login is not None:
        body = login.json_body if isinstance(login.json_body, dict) else login.form
    if isinstance(body, dict):
        path = find_user_field(dict(body), None)
        user = get_field(dict(body), path) if path else None
        if isinstance(user, str):
            found.append(user)
    claims = jwt_claims(token) if token else None
    for claim in ID_CLAIMS:
        text = _scalar(claims.get(claim)) if claims else None
        if text:
            found.append(text)
    return _distinct(found)


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    out: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value:
            out.setdefault(value.lower(), value)
    return tuple(out.values())


def naming_paths(leaves: Mapping[str, Any], values: Sequence[str]) -> set[str]:
    """The JSON paths whose leaf holds one of `values` (see the module docstring)."""
    wanted = {v.lower() for v in values}
    out: set[str] = set()
    for path, value in leaves.items():
        text = _scalar(value)
        if text is None or text.lower() not in wanted:
            continue
        if len(text) >= _MIN_FREE_VALUE or _id_key(path.rsplit(".", 1)[-1]):
            out.add(path)
    return out


def _word(value: str) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(value) + r"(?![A-Za-z0-9])", re.I)


def naming_elements(elements: Sequence[str], values: Sequence[str]) -> set[int]:
    """The indexes of text elements that hold one of `values` as a word (three characters or
    more: a short value is found in too many words)."""
    patterns = [_word(v) for v in values if len(v) >= _MIN_FREE_VALUE]
    return {i for i, e in enumerate(elements) if any(p.search(e) for p in patterns)}


def json_leaves(answer: ResponseRecord) -> dict[str, Any] | None:
    """The answer's JSON leaves by path (lists in canonical order, as `probe.compare` keys
    them), or None when it is not JSON."""
    try:
        data = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return flatten(canonical(data))


# -- whose ------------------------------------------------------------------------------------


def named_by(owner: ResponseRecord, other: ResponseRecord, values: Sequence[str]) -> str | None:
    """What names the object or the owner in both answers (`path=value`, or the word), or None
    when the owner's answer shows nothing of whose it is, or the other answer lacks it."""
    mine, theirs = json_leaves(owner), json_leaves(other)
    if mine is not None and theirs is not None:
        for path in sorted(naming_paths(mine, values)):
            if path in theirs and theirs[path] == mine[path]:
                return f"{path}={json.dumps(mine[path])}"
        return None
    texts = (blank_text(owner.body), blank_text(other.body))
    for value in values:
        if len(value) >= _MIN_FREE_VALUE and all(_word(value).search(t) for t in texts):
            return repr(value)
    return None
