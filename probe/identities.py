"""Resolves identities to tokens at scan start and keeps login tokens fresh.

A token that expires during the scan (staging tokens often live minutes) is renewed by logging
in again before the next request that needs it. Probes that test expired tokens on purpose set
their own Authorization header and send as no identity, so renewal never touches them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import jwt

from probe.exchange import Exchange
from probe.probes.base import RequestSpec
from probe.redact import Redactor
from probe.scenario.models import Identity, Login

log = logging.getLogger(__name__)

RENEW_MARGIN = 15.0  # seconds before `exp` at which a login token is renewed
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
    error: str | None = None

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
        from urllib.parse import urlencode

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
        for name, spec in identities.items():
            if spec.token:
                redactor.add(spec.token, f"{name}_token")
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
        exchange = await send(login_request(self.base_url, login), state.name)
        try:
            state.token, state.refresh_token = _read_tokens(exchange, login)
        except LoginFailed as failed:
            state.token = None
            state.error = f"login as {state.name!r} failed: {failed}"
            log.warning("%s", state.error)
            return
        state.error = None
        self.redactor.add(state.token, f"{state.name}_token")
        self.redactor.add(state.refresh_token, f"{state.name}_refresh_token")
        state.expires = token_expiry(state.token)

    async def header(self, name: str, send: Sender) -> tuple[str, str] | None:
        """The credential header for `name`, logging in again when the token is about to end."""
        state = self.states[name]
        if state.spec.login is not None and state.token is not None and state.expires:
            async with self._lock:
                if state.expires - time.time() < RENEW_MARGIN:
                    log.info("token of %s expires soon; logging in again", name)
                    await self._login(state, send)
        return state.header()


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
    refresh = dig(data, login.refresh_path) if login.refresh_path else None
    return token, refresh if isinstance(refresh, str) else None


def _remember_login_secrets(login: Login, name: str, redactor: Redactor) -> None:
    fields: dict[str, Any] = {}
    if isinstance(login.json_body, dict):
        fields.update(login.json_body)
    if login.form:
        fields.update(login.form)
    for key, value in fields.items():
        if isinstance(value, str) and any(w in key.lower() for w in ("pass", "secret", "key")):
            redactor.add(value, f"{name}_{key}")
