"""Real apps for the access probe's tests, each weak app beside its hardened twin.

Tokens are HS256 JWTs made and verified with PyJWT. `shop_app` (FastAPI) serves orders and an
admin route, with or without the ownership and role checks; `reports_app` (Starlette) serves the
same report behind no check, a verified token, a token that is only looked for, a 200 error body
for anonymous callers, and a catalogue that is the same for everyone; `login_app` (Flask) serves
logins that tell unknown users apart by message, status or time, or do not, one that echoes the
user name, one with random delays, and ones that lock the account or count the attempts left;
`profile_app` (FastAPI) stores a profile from a PATCH body as a whole, field by field, or echoes
what it ignores.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from flask import Flask, jsonify
from flask import request as flask_request
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET = "access-tests-signing-key-0123456789abcdef"
OTHER_SECRET = "not-the-servers-key-0123456789abcdef0000"
USERS = {
    "alice": {"id": 1, "role": "user"},
    "bob": {"id": 2, "role": "user"},
    "carol": {"id": 3, "role": "admin"},
}
ORDERS = {
    1001: {"id": 1001, "owner": "alice", "items": ["keyboard"], "total": 49.5},
    1002: {"id": 1002, "owner": "bob", "items": ["monitor"], "total": 199.0},
}


def token(user: str, secret: str = SECRET) -> str:
    """A JWT for the user, valid for an hour."""
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now, "exp": now + 3600}, secret, algorithm="HS256")


def identities(*names: str) -> dict[str, Any]:
    """Scenario identities with ready tokens; carol carries the admin tag."""
    out: dict[str, Any] = {}
    for name in names:
        out[name] = {"token": token(name)}
        if USERS[name]["role"] == "admin":
            out[name]["tags"] = ["admin"]
    return out


def user_of(authorization: str | None) -> str | None:
    """The user a verified bearer token names, or None."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(authorization[7:], SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if sub in USERS else None


def _now() -> str:
    return datetime.now(UTC).isoformat()


# -- orders and an admin route (FastAPI) --------------------------------------------------------


def shop_app(*, check_owner: bool, check_role: bool) -> FastAPI:
    """GET /orders/{id} and GET /admin/users behind a verified token; the owner of the order
    and the caller's role are checked only when asked."""
    app = FastAPI()

    def caller(authorization: str | None = Header(default=None)) -> str:
        user = user_of(authorization)
        if user is None:
            raise HTTPException(401, "not authenticated")
        return user

    @app.get("/orders/{order_id}")
    def order(order_id: int, user: str = Depends(caller)) -> dict[str, Any]:
        found = ORDERS.get(order_id)
        if found is None or (check_owner and found["owner"] != user):
            raise HTTPException(404, "Not Found")
        # A fresh time in every answer: compared answers must leave it out.
        return {**found, "served_at": _now()}

    @app.get("/admin/users")
    def admin_users(user: str = Depends(caller)) -> dict[str, Any]:
        if check_role and USERS[user]["role"] != "admin":
            raise HTTPException(403, "admins only")
        return {"users": [{"name": n, **u} for n, u in USERS.items()]}

    return app


# -- the same report behind various checks (Starlette) -----------------------------------------

REPORT = {"id": 7, "title": "Quarterly revenue", "figures": [120, 135, 160], "author": "alice"}
CATALOGUE = {"products": [{"id": 1, "name": "keyboard"}, {"id": 2, "name": "mouse"}]}


def reports_app() -> Starlette:
    """/open/report (no check), /checked/report (a verified token), /any-token/report (any
    bearer token will do), /soft/report (200 with an error body without a valid token),
    /catalog (the same for everyone, whoever calls), DELETE /checked/report."""

    def report(request: Request) -> Response:
        return JSONResponse({**REPORT, "generated": _now()})

    async def open_report(request: Request) -> Response:
        return report(request)

    async def checked(request: Request) -> Response:
        if user_of(request.headers.get("authorization")) is None:
            return JSONResponse({"detail": "invalid token"}, 401)
        if request.method == "DELETE":
            return Response(status_code=204)
        return report(request)

    async def any_token(request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"detail": "missing token"}, 401)
        return report(request)

    async def soft(request: Request) -> Response:
        if user_of(request.headers.get("authorization")) is None:
            return JSONResponse({"error": "unauthorized"})
        return report(request)

    async def catalog(request: Request) -> Response:
        return JSONResponse(CATALOGUE)

    return Starlette(
        routes=[
            Route("/open/report", open_report),
            Route("/checked/report", checked, methods=["GET", "DELETE"]),
            Route("/any-token/report", any_token),
            Route("/soft/report", soft),
            Route("/catalog", catalog),
        ]
    )


# -- logins (Flask) -----------------------------------------------------------------------------

PASSWORDS = {"alice": "alice-real-password-1", "bob@example.test": "bob-real-password-2"}
#: Seconds a login for an existing user spends on its password hash in the `slow` variant.
HASH_SECONDS = 0.15
JITTER_SECONDS = 0.3
LOCK_AFTER = 3


@dataclass
class LoginLog:
    """What the login app received: (variant, user, password) per request."""

    received: list[tuple[str, str, str]] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    def sent(self, variant: str, user: str | None = None) -> list[str]:
        """The passwords the variant received (for one user, when given)."""
        return [p for v, u, p in self.received if v == variant and user in (None, u)]


def login_app(log: LoginLog) -> Flask:
    """POST /<variant>/login with a JSON or form body (username or email, password).

    Variants: `uniform` (one 401 for every failure), `message` (401 with "unknown user" or
    "wrong password"), `status` (404 for unknown users, 401 for wrong passwords), `echo` (one
    401 naming the user sent), `jitter` (uniform, every failure delayed 0-0.3 s at random),
    `slow` (uniform, an existing user's failure takes HASH_SECONDS longer), `lockout`
    (uniform, then 423 once an existing user failed LOCK_AFTER times), `attempts` (uniform,
    counting the attempts left).
    """
    app = Flask(__name__)

    @app.post("/<variant>/login")
    def login(variant: str) -> Any:
        data = flask_request.get_json(silent=True) or flask_request.form
        user = str(data.get("username") or data.get("email") or "")
        password = str(data.get("password") or "")
        log.received.append((variant, user, password))
        known = user in PASSWORDS
        if known and PASSWORDS[user] == password:
            return jsonify(access_token=token("alice"), generated=_now())
        return _failure(variant, user, known, log)

    return app


def _failure(variant: str, user: str, known: bool, log: LoginLog) -> Any:
    uniform = jsonify(error="invalid username or password"), 401
    if variant == "message":
        return jsonify(error="wrong password" if known else "unknown user"), 401
    if variant == "status":
        return (
            (jsonify(error="wrong password"), 401)
            if known
            else (jsonify(error="no such user"), 404)
        )
    if variant == "echo":
        return jsonify(error=f"invalid password for {user}", request_id=random.random()), 401
    if variant == "jitter":
        time.sleep(random.uniform(0, JITTER_SECONDS))
    if variant == "slow" and known:
        time.sleep(HASH_SECONDS)
    if variant == "lockout" and known:  # only an existing account can be locked
        log.failures[user] += 1
        if log.failures[user] > LOCK_AFTER:
            return jsonify(error="account locked"), 423
    if variant == "attempts":
        log.failures[user] += 1
        return jsonify(error=f"invalid credentials, {5 - log.failures[user]} attempts left"), 401
    return uniform


# -- a profile that takes fields from a PATCH body (FastAPI) -------------------------------------


class ProfileUpdate(BaseModel):
    """The fields a client may change."""

    name: str | None = None


def profile_app(mode: str, role: str = "user") -> FastAPI:
    """GET /profile and GET /me read the stored profile; PATCH /profile updates it.

    `accepted` stores the whole body; `ignored` binds it to `ProfileUpdate`; `echo` binds it
    too but answers with the body merged in, as if it had been stored. `role` is the stored
    role at the start.
    """
    app = FastAPI()
    stored: dict[str, Any] = {"id": 1, "name": "alice", "role": role, "admin": False}

    def caller(authorization: str | None = Header(default=None)) -> str:
        user = user_of(authorization)
        if user is None:
            raise HTTPException(401, "not authenticated")
        return user

    @app.get("/profile")
    @app.get("/me")
    def read(user: str = Depends(caller)) -> dict[str, Any]:
        return {"profile": stored, "read_at": _now()}

    if mode == "accepted":

        @app.patch("/profile")
        def update_all(body: dict[str, Any], user: str = Depends(caller)) -> dict[str, Any]:
            stored.update(body)
            return stored

    else:

        @app.patch("/profile")
        def update(body: dict[str, Any], user: str = Depends(caller)) -> dict[str, Any]:
            allowed = ProfileUpdate.model_validate(body)
            stored.update(allowed.model_dump(exclude_none=True))
            return {**stored, **body} if mode == "echo" else stored

    return app
