"""A Starlette app under /api whose answers look like secrets and are none (echoes of the
request, validation rules, references to a secret store, names of keys, keys public by design,
a TOTP enrolment), beside routes that do leak stored secrets, for the errors probe's tests."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

STORED_PASSWORD = "alice-pass-123"
BCRYPT = "$2b$12$KIXQJxk3PzTq1dU5e0mWbO0l7tT4lB9m2yC1o8Yq3sVnH6pR0a1Cy"
GOOGLE_KEY = "AIzaSyDOCAbC123dEf456GhI789jKl01-MnO"
SEED = "JBSWY3DPEHPK3PXP"

LOOKALIKES: dict[str, Any] = {
    "/kms": {
        "encryption_key": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234",
        "signingKey": "projects/my-proj/locations/global/keyRings/Ring1/cryptoKeys/jwt-signer",
        "master_key": "alias/Prod-Master-2024",
        "jwt_signing_key": "kid-2024-01-15-rsa256",
    },
    "/search-config": {
        "algolia": {"appId": "LATENCY", "searchApiKey": "6be0576ff61c053d5f9a3225e2a90f76"},
        "posthog": {"apiKey": "phc_Q1w2E3r4T5y6U7i8O9p0AsDfGhJkL"},
        "stripe": {"api_key": "pk_live_51H8AbCdEfGhIjKlMnOp"},
    },
    "/form-rules": {"email": "required|email", "password": "required|min:8|confirmed"},
    "/form-config": {
        "signup": {"password": "8-64", "pin": "4-6"},
        "patterns": {"password": "^(?=.*\\d).{8,}$"},
        "reset": {"password": "min:8", "opens": "12:30"},
    },
    "/references": {
        "password": "(hidden)",
        "db_password": "vault:secret/data/db#password",
        "replica_password": "secretsmanager:prod/db-2024",
        "admin_password": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
        "error_password": "E1001",
        "file_password": "C:\\Users\\svc\\pw.txt",
        "client_secret": "__CLIENT_SECRET_PLACEHOLDER_1__",
        "api_key": "YOUR_API_KEY_HERE123",
    },
    "/totp": {
        "secret": SEED,
        "otpauth_url": f"otpauth://totp/Shop:alice?secret={SEED}&issuer=Shop",
    },
    "/config.json": {"apiUrl": "/api", "firebase": {"apiKey": GOOGLE_KEY, "projectId": "shop"}},
    "/me": {"id": 1, "name": "Alice", "password": STORED_PASSWORD},
    "/users/1": {"id": 2, "name": "Bob", "password_hash": BCRYPT},
}
# A JSON name with an escaped lone surrogate, as raw bytes (json.dumps cannot write one).
SURROGATE_BODY = b'{"x\\ud800_password": "Abc12345!xyz"}'


def _fixed(body: dict[str, Any]) -> Callable[[Request], Awaitable[Response]]:
    async def answer(request: Request) -> Response:
        return JSONResponse(body)

    return answer


async def _register(request: Request) -> Response:
    """A form sign-up that answers the password it was sent."""
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    return JSONResponse(
        {"id": 9, "username": form.get("username"), "password": form.get("password")}, 201
    )


async def _echo(request: Request) -> Response:
    """Answers the JSON body it was sent, whatever it holds."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"error": "invalid_json"}, 400)
    return JSONResponse({"received": body}, 201)


async def _surrogate(request: Request) -> Response:
    return Response(SURROGATE_BODY, media_type="application/json")


def lookalikes_app() -> Starlette:
    """Everything under /api: the lookalike answers, two echo routes, /me and /users/1 that
    leak a stored password and a bcrypt hash, and /surrogate."""
    routes = [Route(path, _fixed(body)) for path, body in LOOKALIKES.items()]
    routes += [
        Route("/register", _register, methods=["POST"]),
        Route("/echo", _echo, methods=["POST"]),
        Route("/surrogate", _surrogate),
    ]
    return Starlette(routes=[Mount("/api", routes=routes)])
