"""Resolves identities to tokens at scan start and keeps login tokens fresh.

A token that expires during the scan (staging tokens often live minutes) is renewed by logging
in again before the next request that needs it: RENEW_MARGIN seconds before its `exp`, or a
quarter of its lifetime before for tokens that live less than four margins. Probes that test
expired tokens on purpose set their own Authorization header and send as no identity, so
renewal never touches them. A failed renewal keeps the old token and is reported once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import anyio
import jwt

from probe.exchange import Exchange, RequestSpec
from probe.redact import Redactor
from probe.scenario.models import Identity, Login

log = logging.getLogger(__name__)

RENEW_MARGIN = 15.0  # seconds before `exp` at which a login token is renewed
# Short-lived tokens renew this share of their lifetime before `exp`, so a token living less
# than RENEW_MARGIN does not trigger a login before every request.
_RENEW_SHARE = 0.25
Sender = Callable[[RequestSpec, str], Awaitable[Exchange]]


class LoginFailed(Exception):
    """A login request did not yield a token."""


def token_expiry(token: str) -> float | None:
    """The `exp` of a JWT as a Unix time, or None for opaque tokens or no `exp`."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def dig(data: Any, dotted: str) -> Any:
    """Value at a dotted path (`data.access_token`, `items.0.id`), or None."""
    for part in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


@dataclass
class IdentityState:
    """A resolved identity."""

    name: str
    spec: Identity
    token: str | None = None
    refresh_token: str | None = None
    expires: float | None = None
    margin: float = RENEW_MARGIN
    error: str | None = None
    logins: int = 0

    def needs_renewal(self, now: float) -> bool:
        """True when a login token ends within its renewal margin."""
        if self.spec.login is None or self.token is None or self.expires is None:
            return False
        return self.expires - now < self.margin

    def header(self) -> tuple[str, str] | None:
        """The credential header line, or None when there is no token."""
        if self.token is None:
            return None
        value = f"{self.spec.scheme} {self.token}" if self.spec.scheme else self.token
        return (self.spec.header, value)


def login_request(base_url: str, login: Login) -> RequestSpec:
    """The login request of an identity."""
    headers = list(login.headers.items())
    content: bytes | None = None
    if login.json_body is not None:
        content = json.dumps(login.json_body).encode()
        headers.append(("Content-Type", "application/json"))
    elif login.form is not None:
        content = urlencode(login.form).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    return RequestSpec(login.method, base_url + login.path, tuple(headers), content)


class Identities:
    """Tokens for every identity of the scenario."""

    def __init__(self, identities: dict[str, Identity], base_url: str, redactor: Redactor) -> None:
        self.states = {name: IdentityState(name, spec) for name, spec in identities.items()}
        self.base_url = base_url
        self.redactor = redactor
        self._lock = anyio.Lock()
        #: Renewals that failed during the scan, for the report.
        self.problems: list[str] = []
        for name, spec in identities.items():
            if spec.token:
                remember_token(redactor=redactor, token=spec.token, name=f"{name}_token")
            if spec.login:
                _remember_login_secrets(spec.login, name, redactor)

    async def resolve(self, send: Sender) -> None:
        """Give every identity its token; a failed login is recorded, never raised."""
        for state in self.states.values():
            if state.spec.token is not None:
                state.token = state.spec.token
                state.expires = token_expiry(state.token)
            else:
                await self._login(state, send)

    async def _login(self, state: IdentityState, send: Sender) -> None:
        assert state.spec.login is not None
        login = state.spec.login
        state.logins += 1
        exchange = await send(login_request(self.base_url, login), state.name)
        try:
            token, refresh = _read_tokens(exchange, login)
        except LoginFailed as failed:
            state.error = f"login as {state.name!r} failed: {failed}"
            log.info("%s", state.error)  # the engine warns, with what it means
            return
        remember_token(redactor=self.redactor, token=token, name=f"{state.name}_token")
        self.redactor.add(refresh, f"{state.name}_refresh_token")
        state.token, state.refresh_token, state.error = token, refresh, None
        state.expires, state.margin = renewal_schedule(token, time.time())

    async def fresh(self, name: str, send: Sender) -> IdentityState | None:
        """A new login of `name` whose tokens stay apart from the identity's own; None when it
        has no login or the login fails."""
        spec = self.states[name].spec
        if spec.login is None:
            return None
        state = IdentityState(f"{name}_fresh", spec)
        await self._login(state, send)
        return None if state.token is None else state

    async def current(self, name: str, send: Sender) -> IdentityState:
        """The identity's state once its token is renewed when it was about to end."""
        await self.header(name, send)
        return self.states[name]

    async def header(self, name: str, send: Sender) -> tuple[str, str] | None:
        """The credential header for `name`, logging in again when the token is about to end."""
        state = self.states[name]
        if state.needs_renewal(time.time()):
            async with self._lock:
                if state.needs_renewal(time.time()):  # another request may have renewed it
                    await self._renew(state, send)
        return state.header()

    async def _renew(self, state: IdentityState, send: Sender) -> None:
        log.info("token of %s expires soon; logging in again", state.name)
        await self._login(state, send)
        if state.error is not None:
            # The old token may still work for a moment; it is kept, never renewed again
            # (one failed renewal must not become a login before every request).
            self.problems.append(f"{state.error} (renewing its token during the scan)")
            state.expires = None


def remember_token(*, redactor: Redactor, token: str, name: str) -> None:
    """Keep a token secret, and a JWT's signature on its own as well: a token forged from it
    (another payload under the original signature) must not show the signature either."""
    redactor.add(token, name)
    if token.count(".") == 2:
        redactor.add(token.rsplit(".", 1)[1], f"{name}_signature")


def renewal_schedule(token: str, now: float) -> tuple[float | None, float]:
    """When a fresh token ends (None: never, as far as the scan can tell) and its margin."""
    expires = token_expiry(token)
    if expires is None:
        return None, RENEW_MARGIN
    lifetime = expires - now
    if lifetime <= 0:
        # Already past `exp` by the scan's clock: clock skew, or a token the server does not
        # time out. Renewing would only log in again before every request.
        log.warning("a fresh login token is already past its exp; it will not be renewed")
        return None, RENEW_MARGIN
    return expires, min(RENEW_MARGIN, lifetime * _RENEW_SHARE)


def _read_tokens(exchange: Exchange, login: Login) -> tuple[str, str | None]:
    response = exchange.response
    if response is None:
        raise LoginFailed(exchange.error or "no response")
    if not 200 <= response.status < 300:
        raise LoginFailed(f"{login.method} {login.path} answered {response.status}")
    try:
        data = json.loads(response.body)
    except ValueError:
        raise LoginFailed(f"{login.path} did not answer JSON") from None
    token = dig(data, login.token_path)
    if not isinstance(token, str) or not token:
        raise LoginFailed(f"no token at {login.token_path!r} in the login answer")
    if any(not (" " <= c <= "~") for c in token):
        raise LoginFailed(
            f"the token at {login.token_path!r} holds characters that cannot go in a header"
        )
    refresh = dig(data, login.refresh_path) if login.refresh_path else None
    return token, refresh if isinstance(refresh, str) else None


_SECRET_KEY_WORDS = ("pass", "secret", "key", "token", "credential")


def _remember_login_secrets(login: Login, name: str, redactor: Redactor) -> None:
    for key, value in _string_fields(login.json_body):
        if any(word in key.lower() for word in _SECRET_KEY_WORDS):
            redactor.add(value, f"{name}_{key}")
    for key, value in (login.form or {}).items():
        if any(word in key.lower() for word in _SECRET_KEY_WORDS):
            redactor.add(value, f"{name}_{key}")


def _string_fields(data: Any, key: str = "") -> list[tuple[str, str]]:
    """(key, value) for every string in a JSON value, nested objects and lists included."""
    if isinstance(data, str):
        return [(key, data)]
    if isinstance(data, dict):
        return [f for k, v in data.items() for f in _string_fields(v, str(k))]
    if isinstance(data, list):
        return [f for item in data for f in _string_fields(item, key)]
    return []
