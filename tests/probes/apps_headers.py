"""Starlette apps for the headers probe's tests: a weak API, its hardened twin, and a field app.

The weak and hardened apps have the same routes (JSON and HTML, cookies, CORS, routes behind a
bearer token); each weak route shows one or two weaknesses, and the hardened twin fixes them
all. The field app answers `/h/{name}` with exact raw header lines from `FIELD`, in the letter
case written there, to reproduce what servers send in the field.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

Lines = list[tuple[str, str]]
TOKEN = "hdr-test-token-7f3a"
TRUSTED_ORIGIN = "https://app.example.test"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "OPTIONS"]
JSON_BODY = json.dumps({"items": [{"id": 1, "name": "widget"}]})
HTML_BODY = "<!doctype html><html><head><title>t</title></head><body><p>hi</p></body></html>"


def respond(body: str, media_type: str | None, lines: Lines, status: int = 200) -> Response:
    """A response with exactly these extra header lines, names in their written case."""
    response = Response(body, status_code=status, media_type=media_type)
    response.raw_headers += [(n.encode("latin-1"), v.encode("latin-1")) for n, v in lines]
    return response


def _authorised(request: Request) -> bool:
    return request.headers.get("authorization") == f"Bearer {TOKEN}"


def _reflect(request: Request, *, credentials: bool = True) -> Lines:
    origin = request.headers.get("origin")
    if origin is None:
        return []
    lines = [("Access-Control-Allow-Origin", origin)]
    return lines + ([("Access-Control-Allow-Credentials", "true")] if credentials else [])


# -- the weak API ------------------------------------------------------------------------------

_BANNERS: Lines = [("Server", "Apache/2.4.41 (Ubuntu)"), ("X-Powered-By", "PHP/8.1.2")]


async def _weak_items(request: Request) -> Response:
    return respond(JSON_BODY, "application/json", _BANNERS + _reflect(request))


async def _weak_page(request: Request) -> Response:
    return respond(HTML_BODY, "text/html", [("Strict-Transport-Security", "max-age=0")])


def _weak_fixed(media_type: str, lines: Lines, body: str = JSON_BODY) -> Callable[..., Any]:
    async def handler(request: Request) -> Response:
        return respond(body, media_type, lines)

    return handler


def _weak_private(lines: Lines) -> Callable[..., Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        if not _authorised(request):
            return respond('{"error": "unauthorised"}', "application/json", [], 401)
        return respond(JSON_BODY, "application/json", lines)

    return handler


async def _weak_null_cors(request: Request) -> Response:
    lines: Lines = []
    if request.headers.get("origin") == "null":
        lines = [
            ("Access-Control-Allow-Origin", "null"),
            ("Access-Control-Allow-Credentials", "true"),
        ]
    return respond(JSON_BODY, "application/json", lines)


async def _orders(request: Request) -> Response:
    APP_STATE["orders_created"] += 1
    return respond('{"id": 7}', "application/json", [], 201)


APP_STATE: dict[str, int] = {"orders_created": 0}
_HSTS_OK = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")

WEAK_ROUTES = [
    Route("/api/items", _weak_items),
    Route("/page", _weak_page),
    Route(
        "/page-allow-from",
        _weak_fixed(
            "text/html", [_HSTS_OK, ("X-Frame-Options", "ALLOW-FROM https://a.test")], HTML_BODY
        ),
    ),
    Route(
        "/page-unsafe-csp",
        _weak_fixed(
            "text/html",
            [
                _HSTS_OK,
                ("Content-Security-Policy", "script-src 'self' 'unsafe-inline' 'unsafe-eval' *"),
            ],
            HTML_BODY,
        ),
    ),
    Route(
        "/page-report-only",
        _weak_fixed(
            "text/html",
            [_HSTS_OK, ("Content-Security-Policy-Report-Only", "default-src 'self'")],
            HTML_BODY,
        ),
    ),
    Route(
        "/api/short",
        _weak_fixed("application/json", [("Strict-Transport-Security", "max-age=86400")]),
    ),
    Route(
        "/api/dup",
        _weak_fixed(
            "application/json",
            [
                ("Strict-Transport-Security", "max-age=63072000"),
                ("Strict-Transport-Security", "max-age=600"),
            ],
        ),
    ),
    Route(
        "/api/broken",
        _weak_fixed("application/json", [("Strict-Transport-Security", "max-age=abc")]),
    ),
    Route("/me", _weak_private([])),
    Route("/account", _weak_private([("Cache-Control", "public, max-age=600")])),
    Route("/profile", _weak_private([("Cache-Control", "private, max-age=600")])),
    Route(
        "/login-page",
        _weak_fixed(
            "text/html",
            [
                ("Set-Cookie", "session=s3cr3t-session-value; Path=/"),
                ("Set-Cookie", "csrftoken=abc123; Path=/; Secure; SameSite=Lax"),
            ],
            HTML_BODY,
        ),
    ),
    Route("/api/legacy", _weak_fixed("text/html", [])),
    Route("/api/null-cors", _weak_null_cors),
    Route(
        "/api/wild-creds",
        _weak_fixed(
            "application/json",
            [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Credentials", "true")],
        ),
    ),
    Route("/api/public", _weak_fixed("application/json", [("Access-Control-Allow-Origin", "*")])),
]


def weak_app() -> Starlette:
    """The weak API: every route shows one or two header weaknesses."""
    cors_api = Starlette(
        routes=[Route("/orders", _orders, methods=["POST"])],
        # A common mistake: "*" with credentials makes Starlette echo any Origin.
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_credentials=True,
                allow_methods=["*"],
                allow_headers=["*"],
            )
        ],
    )
    return Starlette(routes=[*WEAK_ROUTES, Mount("/cors-api", cors_api)])


# -- the hardened twin -------------------------------------------------------------------------

HARDENED_LINES: Lines = [
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'self'; object-src 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cache-Control", "no-store"),
]


class Hardening:
    """ASGI middleware adding the security headers (and a fixed CORS origin) to every answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {n.lower() for n, _ in message.get("headers", [])}
                extra = [(n.lower().encode(), v.encode()) for n, v in HARDENED_LINES]
                extra += [
                    (b"access-control-allow-origin", TRUSTED_ORIGIN.encode()),
                    (b"access-control-allow-credentials", b"true"),
                    (b"vary", b"Origin"),
                ]
                message["headers"] = list(message.get("headers", [])) + [
                    line for line in extra if line[0] not in present
                ]
            await send(message)

        await self.app(scope, receive, add_headers)


def _hardened_handler(media_type: str, body: str, *, private: bool = False) -> Callable[..., Any]:
    async def handler(request: Request) -> Response:
        if private and not _authorised(request):
            return respond('{"error": "unauthorised"}', "application/json", [], 401)
        return respond(body, media_type, [])

    return handler


async def _hardened_login(request: Request) -> Response:
    lines = [
        ("Set-Cookie", "session=s3cr3t-session-value; Path=/; Secure; HttpOnly; SameSite=Lax"),
        ("Set-Cookie", "csrftoken=abc123; Path=/; Secure; SameSite=Strict"),
    ]
    return respond(HTML_BODY, "text/html", lines)


def hardened_app() -> Starlette:
    """The hardened twin: the weak API's routes with every weakness fixed."""
    routes = []
    for route in WEAK_ROUTES:
        html = route.path.startswith("/page") or route.path == "/login-page"
        private = route.path in ("/me", "/account", "/profile")
        media, body = ("text/html", HTML_BODY) if html else ("application/json", JSON_BODY)
        handler = _hardened_handler(media, body, private=private)
        if route.path == "/login-page":
            handler = _hardened_login
        routes.append(Route(route.path, handler))
    cors_api = Starlette(
        routes=[Route("/orders", _orders, methods=["POST"])],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=[TRUSTED_ORIGIN],
                allow_credentials=True,
                allow_methods=["POST"],
                allow_headers=["authorization", "content-type"],
            )
        ],
    )
    return Starlette(
        routes=[*routes, Mount("/cors-api", cors_api)], middleware=[Middleware(Hardening)]
    )


def endpoints() -> list[dict[str, Any]]:
    """The scenario endpoints for both apps (the same paths)."""
    found: list[dict[str, Any]] = [{"path": route.path} for route in WEAK_ROUTES]
    for endpoint in found:
        if endpoint["path"] in ("/me", "/account", "/profile"):
            endpoint["identity"] = "alice"
    found.append({"method": "POST", "path": "/cors-api/orders", "json": {"item": 1}})
    return found


# -- the field app -----------------------------------------------------------------------------

# name -> (status, content type, body, raw header lines in their exact letter case)
FIELD: dict[str, tuple[int, str | None, str, Lines]] = {}


def field(name: str, lines: Lines, *, html: bool = False, status: int = 200) -> str:
    """Register a field preset and return its path."""
    media, body = ("text/html", HTML_BODY) if html else ("application/json", JSON_BODY)
    FIELD[name] = (status, media, body, lines)
    return f"/h/{name}"


def field_raw(name: str, status: int, media: str | None, body: str, lines: Lines) -> str:
    """Register a preset with its own body and type; returns its path."""
    FIELD[name] = (status, media, body, lines)
    return f"/h/{name}"


async def _field(request: Request) -> Response:
    status, media, body, lines = FIELD[request.path_params["name"]]
    if request.method == "HEAD":
        body = ""
    return respond(body, media, lines, status)


def field_app() -> Starlette:
    """Answers /h/{name} with the preset's status, body and exact header lines."""
    return Starlette(routes=[Route("/h/{name}", _field, methods=ALL_METHODS)])


# -- the stray app: endpoints and a catch-all for every other URL ------------------------------

# The catch-all's software banner and cookie, seen only on URLs that are no endpoint's own.
STRAY_BANNER = ("X-Powered-By", "PHP/5.6.40")
STRAY_COOKIE = ("Set-Cookie", "visitor=stray-cookie-value-9; Path=/")


async def _loop(request: Request) -> Response:
    # Always a redirect to itself, without a body: the endpoint never answers 2xx.
    return respond("", None, [("Location", request.url.path)], 302)


def stray_app(*, weak_endpoints: bool) -> Starlette:
    """Endpoints under /api, and a catch-all HTML page answering every other URL.

    The endpoints are `/api/account` (401 JSON), `/api/page` (200 HTML) and `/api/loop` (a 302
    to itself, forever). With `weak_endpoints` False the endpoints carry every header and the
    catch-all page carries none, names its software and sets a weak cookie; with True it is the
    reverse. Either way, what the catch-all shows must never be put on an endpoint.
    """
    strong: Lines = [(n, v) for n, v in HARDENED_LINES if n != "Strict-Transport-Security"]
    own: Lines = [] if weak_endpoints else strong
    elsewhere: Lines = strong if weak_endpoints else [STRAY_BANNER, STRAY_COOKIE]

    async def account(request: Request) -> Response:
        return respond('{"error": "login required"}', "application/json", own, 401)

    async def page(request: Request) -> Response:
        return respond(HTML_BODY, "text/html", own)

    async def catch_all(request: Request) -> Response:
        return respond(HTML_BODY, "text/html", elsewhere)

    return Starlette(
        routes=[
            Route("/api/account", account),
            Route("/api/page", page),
            Route("/api/loop", _loop),
            Route("/{rest:path}", catch_all),
        ]
    )


STRAY_ENDPOINTS: list[dict[str, Any]] = [
    {"name": "account", "path": "/account"},
    {"name": "page", "path": "/page"},
    {"name": "loop", "path": "/loop"},
]
