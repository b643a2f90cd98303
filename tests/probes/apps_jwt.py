"""Real token-checking APIs for the jwt probe's tests: Starlette apps that issue and verify
tokens with PyJWT, each weak verifier beside a hardened twin.

Every app has the same routes: POST /auth/login (`{"username", "password"}` -> an access token,
and a refresh token when the app has a refresher), POST /auth/refresh, GET /api/me (the
caller's profile, or the app's refusal), DELETE /api/orders/{id} (counted in `app.state`) and,
for RS256 apps, GET /.well-known/jwks.json. What differs is the issuer (algorithm, key,
lifetime, extra claims, its clock) and the verifier: `strict` is the hardened one, the others
are the mistakes the probe must find, each written the way real services get it wrong (an
option switched off, the header trusted, a lenient HMAC key), plus servers that make judging
hard: a rate limit, sessions that end mid-scan, 500s on tokens they cannot parse.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import HMACAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PASSWORDS = {"alice": "alice-Correct-Horse-42", "bob": "bob-Battery-Staple-42"}
STRONG_SECRET = secrets.token_hex(32)
#: The jwt.io debugger's default, on the probe's bundled list.
WEAK_SECRET = "your-256-bit-secret"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
KID = "signing-key-1"
JWKS = {
    "keys": [
        {
            **RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True),
            "kid": KID,
            "use": "sig",
            "alg": "RS256",
        }
    ]
}
REFUSED = (401, {"detail": "invalid token"})
#: The refusal of apps that answer 200 with an error body.
ERROR_200 = (200, {"error": "invalid token"})

Verify = Callable[[str], dict[str, Any]]


# -- issuing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """How an app signs its access tokens.

    Attributes:
        key: The HMAC secret, or the RSA private key.
        alg: The signing algorithm.
        lifetime: Seconds from iat to exp; None issues tokens without exp.
        extra: Claims added to every token.
        kid: The `kid` header, if any.
        clock_offset: How far the issuer's clock is off the real one (seconds).
        unique: Add a random `jti`, so no two tokens are alike.
    """

    key: Any = STRONG_SECRET
    alg: str = "HS256"
    lifetime: float | None = 600
    extra: Mapping[str, Any] = field(default_factory=dict)
    kid: str | None = None
    clock_offset: float = 0.0
    unique: bool = False

    def issue(self, sub: str, *, exp: float | None = None) -> str:
        """A token for `sub` (with `exp` as given, for expired tokens); `iat` by the issuer's
        clock, `clock_offset` seconds off the real one."""
        now = int(time.time() + self.clock_offset)
        claims: dict[str, Any] = {"sub": sub, "iat": now, **self.extra}
        if self.unique:
            claims["jti"] = secrets.token_hex(8)
        if exp is not None:
            claims["exp"] = int(exp)
            claims["iat"] = int(exp) - int(self.lifetime or 600)
        elif self.lifetime is not None:
            claims["exp"] = now + int(self.lifetime)
        headers = {"kid": self.kid} if self.kid else None
        return jwt.encode(claims, self.key, algorithm=self.alg, headers=headers)


RS256 = Issuer(key=RSA_KEY, alg="RS256", kid=KID)


# -- verifying ----------------------------------------------------------------------------------


def strict(key: Any = STRONG_SECRET, alg: str = "HS256", leeway: float = 0) -> Verify:
    """The hardened verifier: one algorithm, the service's key, exp checked."""
    return lambda token: jwt.decode(token, key, algorithms=[alg], leeway=leeway)


def strict_at(offset: float, key: Any = STRONG_SECRET) -> Verify:
    """The hardened verifier on a clock `offset` seconds off the real one (no leeway)."""

    def verify(token: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
        )
        if claims.get("exp", 0) <= time.time() + offset:
            raise jwt.ExpiredSignatureError("expired")
        return claims

    return verify


def exp_unchecked(key: Any = STRONG_SECRET) -> Verify:
    """`verify_exp` switched off (and `sub` taken whatever its type)."""
    options = {"verify_exp": False, "verify_sub": False}
    return lambda token: jwt.decode(token, key, algorithms=["HS256"], options=options)


def signature_unchecked() -> Verify:
    """`verify_signature` switched off: the token is only decoded."""
    return lambda token: jwt.decode(token, options={"verify_signature": False})


def none_allowed(key: Any = STRONG_SECRET) -> Verify:
    """Unsigned tokens let through when their header says so (exp still checked)."""

    def verify(token: str) -> dict[str, Any]:
        alg = str(jwt.get_unverified_header(token).get("alg", ""))
        if alg.lower() == "none":
            return jwt.decode(token, options={"verify_signature": False, "verify_exp": True})
        return jwt.decode(token, key, algorithms=["HS256"])

    return verify


class _AnyKeyHMAC(HMACAlgorithm):
    """HMAC that takes any bytes as its key, a PEM public key included (PyJWT refused such
    keys from 1.5.1 on; older libraries and hand-rolled verifiers did not)."""

    def prepare_key(self, key: str | bytes) -> bytes:
        return key if isinstance(key, bytes) else key.encode()


def public_key_as_hmac(public_pem: bytes = PUBLIC_PEM) -> Verify:
    """RS256 and HS256 both allowed with one key: the public key becomes the HMAC secret."""
    jws = jwt.PyJWS()
    jws.unregister_algorithm("HS256")
    jws.register_algorithm("HS256", _AnyKeyHMAC(HMACAlgorithm.SHA256))

    def verify(token: str) -> dict[str, Any]:
        payload = jws.decode(token, public_pem, algorithms=["RS256", "HS256"])
        claims: dict[str, Any] = json.loads(payload)
        if claims.get("exp", 0) < time.time():
            raise jwt.ExpiredSignatureError("expired")
        return claims

    return verify


def embedded_jwk(key: Any = STRONG_SECRET) -> Verify:
    """A key in the token's own `jwk` header is trusted to check it."""

    def verify(token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        if isinstance(header.get("jwk"), dict):
            embedded = jwt.PyJWK(header["jwk"], algorithm="RS256")
            return jwt.decode(token, embedded.key, algorithms=["RS256"])
        return jwt.decode(token, key, algorithms=["HS256"])

    return verify


def key_file_by_kid(key: Any = STRONG_SECRET) -> Verify:
    """The HMAC key is read from the file the `kid` header names, under a key folder (any
    key, the empty one included, is taken). Only paths that resolve to /dev/null are read
    here, so the test server never reads another file whatever a token says."""
    jws = jwt.PyJWS()
    jws.unregister_algorithm("HS256")
    jws.register_algorithm("HS256", _AnyKeyHMAC(HMACAlgorithm.SHA256))

    def verify(token: str) -> dict[str, Any]:
        kid = str(jwt.get_unverified_header(token).get("kid", ""))
        if kid == "default":
            return jwt.decode(token, key, algorithms=["HS256"])
        path = os.path.realpath(os.path.join("/srv/keys", kid))
        if path != os.devnull:
            raise jwt.InvalidKeyError("no such key")
        with open(path, "rb") as file:
            secret = file.read()
        claims: dict[str, Any] = json.loads(jws.decode(token, secret, algorithms=["HS256"]))
        return claims

    return verify


def cached_first_use(key: Any = STRONG_SECRET) -> Verify:
    """Each token's claims are cached on first use and never checked again."""
    cache: dict[str, dict[str, Any]] = {}

    def verify(token: str) -> dict[str, Any]:
        if token not in cache:
            cache[token] = jwt.decode(token, key, algorithms=["HS256"])
        return cache[token]

    return verify


def sessions_end_after(calls: int, verify: Verify) -> Verify:
    """Every token refused once `calls` tokens were checked: sessions revoked mid-scan."""
    seen = [0]

    def check(token: str) -> dict[str, Any]:
        seen[0] += 1
        if seen[0] > calls:
            raise jwt.InvalidTokenError("session ended")
        return verify(token)

    return check


class ServerFault(Exception):
    """An error the app does not handle: it answers 500."""


def fails_on_malformed(key: Any = STRONG_SECRET) -> Verify:
    """Only a wrong signature or an expired token is refused; any other malformed token (alg
    none, two parts, another alg) fails with an error the app does not handle: a 500."""

    def verify(token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(token, key, algorithms=["HS256"])
        except (jwt.InvalidSignatureError, jwt.ExpiredSignatureError):
            raise
        except jwt.PyJWTError as error:
            raise ServerFault(str(error)) from error
        return claims

    return verify


# -- refresh tokens ------------------------------------------------------------------------------


class Refresher:
    """Refresh tokens: rotated (each works once, a new one comes back) or reusable (a signed
    token checked only for its signature and exp, so it works until it expires). A rotating
    refresher may have a `grace` period (a reuse within it gets the first answer again), or
    `revoke` every session of the user when a used refresh token comes back."""

    def __init__(self, *, rotating: bool, grace: float = 0.0, revoke: bool = False) -> None:
        self.rotating = rotating
        self.grace = grace
        self.revoke = revoke
        self.live: dict[str, str] = {}
        #: Used refresh tokens: (user, when, the answer given).
        self.used: dict[str, tuple[str, float, dict[str, Any]]] = {}
        #: Users whose sessions were revoked.
        self.revoked: set[str] = set()

    def issue(self, sub: str) -> str:
        """A refresh token for `sub`."""
        if self.rotating:
            token = secrets.token_urlsafe(32)
            self.live[token] = sub
            return token
        claims = {"sub": sub, "typ": "refresh", "exp": int(time.time()) + 86_400}
        claims["jti"] = secrets.token_hex(8)
        return jwt.encode(claims, STRONG_SECRET, algorithm="HS256")

    def use(self, token: str) -> str | None:
        """The subject of a refresh token that may be used, or None."""
        if self.rotating:
            return self.live.pop(token, None)
        try:
            claims = jwt.decode(token, STRONG_SECRET, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        return str(claims["sub"]) if claims.get("typ") == "refresh" else None


# -- the app -------------------------------------------------------------------------------------


def token_app(
    issuer: Issuer = Issuer(),  # frozen: one default shared by every call is fine
    verify: Verify | None = None,
    *,
    refused: tuple[int, dict[str, Any]] = REFUSED,
    always: tuple[int, dict[str, Any]] | None = None,
    query: bool = False,
    refresher: Refresher | None = None,
    jwks: bool = False,
    old_keys: int = 0,
    limiter: Limiter | None = None,
) -> Starlette:
    """An API whose GET /api/me needs a token.

    `verify` checks a token (raising to refuse it; default `strict` for HS256); `refused` is
    the answer to a refused token; `always`, when given, is the answer to every request,
    token or not; `query` also takes the token from `?access_token=`; `refresher` issues
    refresh tokens; `jwks` serves the RSA key at /.well-known/jwks.json.
    """
    check = verify or strict()

    async def login(request: Request) -> Response:
        data = await request.json()
        user = str(data.get("username", ""))
        if PASSWORDS.get(user) != data.get("password"):
            return JSONResponse({"detail": "wrong user or password"}, 401)
        answer = {"access_token": issuer.issue(user), "token_type": "bearer"}
        if refresher is not None:
            answer["refresh_token"] = refresher.issue(user)
        return JSONResponse(answer)

    async def refresh(request: Request) -> Response:
        data = await request.json()
        sent = str(data.get("refresh_token", ""))
        if refresher is not None and sent in refresher.used:
            return _reused(refresher, sent)
        sub = refresher.use(sent) if refresher else None
        if sub is None or refresher is None:
            return JSONResponse({"detail": "invalid refresh token"}, 401)
        answer = {"access_token": issuer.issue(sub), "refresh_token": refresher.issue(sub)}
        if refresher.rotating:
            refresher.used[sent] = (sub, time.time(), answer)
        return JSONResponse(answer)

    async def me(request: Request) -> Response:
        if always is not None:
            return JSONResponse(always[1], always[0])
        if limiter is not None and limiter.limited():
            return limiter.answer()
        token = _bearer(request) or (request.query_params.get("access_token") if query else None)
        try:
            claims = check(token or "")
        except ServerFault:
            # What a framework answers for an unhandled error (without closing the connection).
            return Response("Internal Server Error", 500, media_type="text/plain")
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            if limiter is not None:
                limiter.refused()
            return JSONResponse(refused[1], refused[0])
        sub = str(claims.get("sub"))
        if refresher is not None and sub in refresher.revoked:
            return JSONResponse({"detail": "session revoked"}, 401)
        profile = {"user": sub, "email": f"{sub}@example.test", "plan": "pro", "orders": [1001]}
        return JSONResponse(profile)

    async def delete_order(request: Request) -> Response:
        app.state.deletes += 1
        return JSONResponse({"deleted": request.path_params["order"]})

    async def keys(request: Request) -> Response:
        if not jwks:
            return JSONResponse({"detail": "not found"}, 404)
        old = [{**JWKS["keys"][0], "kid": f"retired-{n}"} for n in range(old_keys)]
        return JSONResponse({"keys": [*old, *JWKS["keys"]]})

    app = Starlette(
        routes=[
            Route("/auth/login", login, methods=["POST"]),
            Route("/auth/refresh", refresh, methods=["POST"]),
            Route("/api/me", me),
            Route("/api/orders/{order}", delete_order, methods=["DELETE"]),
            Route("/.well-known/jwks.json", keys),
        ]
    )
    app.state.deletes = 0
    return app


def _reused(refresher: Refresher, sent: str) -> Response:
    """The answer to a used refresh token sent again: the first answer within the grace
    period; else a refusal, revoking the user's sessions when the refresher does."""
    sub, when, answer = refresher.used[sent]
    if time.time() - when < refresher.grace:
        return JSONResponse(answer)
    if refresher.revoke:
        refresher.revoked.add(sub)
        return JSONResponse({"detail": "refresh token reuse: every session revoked"}, 401)
    return JSONResponse({"detail": "invalid refresh token"}, 401)


class Limiter:
    """A rate limit: after `after` refused tokens, every request gets 429 for `seconds`,
    with a Retry-After of `says` seconds (default: the truth)."""

    def __init__(self, after: int, seconds: float, *, says: int | None = None) -> None:
        self.after = after
        self.seconds = seconds
        self.says = says if says is not None else int(seconds)
        self.count = 0
        self.until = 0.0
        #: 429 answers given.
        self.limits = 0

    def limited(self) -> bool:
        """True while the limit holds."""
        return time.time() < self.until

    def refused(self) -> None:
        """Count a refused token; the limit starts at every `after`-th."""
        self.count += 1
        if self.count % self.after == 0:
            self.until = time.time() + self.seconds

    def answer(self) -> Response:
        """The 429."""
        self.limits += 1
        headers = {"Retry-After": str(self.says)}
        return JSONResponse({"detail": "too many requests"}, 429, headers=headers)


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() == "bearer" and token else None
