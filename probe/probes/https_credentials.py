"""The https probe's judge of credentials sent over plain HTTP, and its token finder.

Pure functions: `not_replayed` says why an `auth` endpoint's request is not sent to the twin
(it carries no credentials of its own, or it is a DELETE); `judge_credentials` reads the answer
the request got from the plain-HTTP twin (not followed); `token_in` says whether a body hands
out something that looks like a session or access token.

The `auth` tag marks an endpoint that takes credentials in its own request: a login or token
endpoint, with a password or secret in its body, query or headers. An identity's token is never
sent over plain HTTP, so an endpoint that only authenticates with one has nothing to test.
"""

from __future__ import annotations

import json
import re
from typing import Any

from probe.findings import CheckStatus
from probe.probes.https_answers import (
    Hop,
    Problem,
    Verdict,
    inconclusive,
    not_answered,
    refusal,
)
from probe.probes.https_locations import scheme
from probe.redact import CREDENTIAL_HEADERS
from probe.scenario.models import Endpoint

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_TOKEN_KEYS = frozenset(
    {
        "access_token",
        "accesstoken",
        "auth_token",
        "authtoken",
        "id_token",
        "jwt",
        "refresh_token",
        "session",
        "session_id",
        "sessionid",
        "token",
    }
)
_TOKEN_MIN_LEN = 16
_MAX_DEPTH = 4
# Header names that carry credentials beyond the standard ones (X-Api-Key, X-Auth-Token ...).
_CREDENTIAL_NAME = re.compile(
    r"auth|token|api[-_]?key|secret|passw|session|cookie|credential|signature", re.IGNORECASE
)


def not_replayed(endpoint: Endpoint) -> str | None:
    """Why an `auth` endpoint's request is not sent over plain HTTP, or None to send it."""
    if endpoint.method == "DELETE":
        return "a DELETE endpoint: never replayed over plain HTTP"
    if own_credentials(endpoint):
        return None
    token = (
        f"; the token of its identity {endpoint.identity!r} is never sent over plain HTTP"
        if endpoint.identity
        else ""
    )
    return (
        "tagged auth, but its own request carries no credentials (no body, no query, no "
        f"credential header){token}: nothing to send"
    )


def own_credentials(endpoint: Endpoint) -> bool:
    """True when the endpoint's own request can carry credentials: a body, a query, or a
    header named like one (Authorization, Cookie, X-Api-Key, ...)."""
    body = any(b is not None for b in (endpoint.json_body, endpoint.form, endpoint.body))
    headers = any(
        name.lower() in CREDENTIAL_HEADERS or _CREDENTIAL_NAME.search(name)
        for name in endpoint.headers
    )
    return body or bool(endpoint.query) or headers


def judge_credentials(hop: Hop, tls_port: bool) -> Verdict:
    """The verdict on an `auth` endpoint's request sent to the plain-HTTP twin (not followed).

    Processed (2xx, or a token-like value in the body) is `credentials-over-http`; a redirect or
    a refusal passes; anything else is inconclusive.
    """
    token = token_in(hop.body)
    if hop.status is not None and (200 <= hop.status < 300 or token):
        what = f"answered {hop.status}" + (f" with {token[0]} in the body" if token else "")
        problem = Problem(
            "credentials-over-http",
            f"{hop.url} {what}: the credentials were processed over plain HTTP",
            0,
        )
        return Verdict(CheckStatus.failed, problem.detail, (problem,))
    if hop.redirects:
        again = " (plain HTTP again)" if scheme(hop.location or "") == "http" else ""
        return Verdict(
            CheckStatus.passed,
            f"redirected ({hop.status}) to {hop.location}{again}, not processed over plain HTTP "
            "(this one request still crossed the network: clients must never be given http:// "
            "URLs)",
        )
    if hop.status is None:
        return not_answered(hop, tls_port)
    reason = refusal(hop, tls_port)
    if reason:
        return Verdict(CheckStatus.passed, f"plain HTTP refused: {reason}")
    return Verdict(CheckStatus.error, inconclusive(hop))


def token_in(body: str) -> tuple[str, str] | None:
    """A token-like value in a body: (what it is, the value), or None.

    A JWT anywhere, or a long string under a token-like JSON key (access_token, token,
    session ...) up to four levels deep.
    """
    match = _JWT.search(body)
    if match:
        return "a JWT", match.group(0)
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return _token_field(data, 0)


def _token_field(data: Any, depth: int) -> tuple[str, str] | None:
    if depth > _MAX_DEPTH:
        return None
    items: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        items = [(str(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        items = [("", v) for v in data[:20]]
    for key, value in items:
        token = isinstance(value, str) and len(value) >= _TOKEN_MIN_LEN
        if token and key.lower() in _TOKEN_KEYS:
            return f"a {key!r} value", value
        found = _token_field(value, depth + 1)
        if found:
            return found
    return None
