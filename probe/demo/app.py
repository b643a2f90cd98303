"""A deliberately weak API for `probe demo`: every enabled probe has something real to find.

It is a real Starlette app served by uvicorn on 127.0.0.1 only. Do not deploy it: it leaks
stack traces, SQL errors, a `.env` file and password hashes on purpose, and builds SQL from
input, reflects input into a page and renders input as a template.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import jwt
from jinja2.sandbox import SandboxedEnvironment
from jwt.warnings import InsecureKeyLengthWarning
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

# The signing key left at a published tutorial default: the jwt probe guesses it offline.
DEMO_SECRET = "your-256-bit-secret"  # noqa: S105 - the demo's own weak key
USERS: dict[str, dict[str, Any]] = {
    "alice@example.test": {"id": 1, "name": "Alice", "password": "alice-pass-123", "role": "admin"},
    "bob@example.test": {"id": 2, "name": "Bob", "password": "bob-pass-456", "role": "user"},
}
ORDERS = {
    1001: {"id": 1001, "owner": 1, "items": ["keyboard"], "total": 49.5},
    1002: {"id": 1002, "owner": 2, "items": ["monitor"], "total": 199.0},
}
_BANNER = {"Server": "demo-api/1.4.2 (Python)", "X-Powered-By": "Starlette"}


def _database() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
    db.executemany(
        "INSERT INTO products (name, price) VALUES (?, ?)",
        [("keyboard", 49.5), ("monitor", 199.0), ("mouse", 19.9)],
    )
    return db


DB = _database()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={**_BANNER, **(headers or {})})


@contextlib.contextmanager
def _short_key_allowed() -> Iterator[None]:
    """PyJWT warns that the demo's key is short: it is weak on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        yield


def _user(request: Request) -> dict[str, Any] | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None
    try:
        with _short_key_allowed():
            claims = jwt.decode(auth[7:], DEMO_SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return next((u for u in USERS.values() if u["id"] == claims.get("uid")), None)


async def home(request: Request) -> Response:
    # An HTML page (at / and /api/docs) with no CSP, no framing protection, no nosniff.
    html = (
        "<!doctype html><html><head><title>Demo shop</title></head><body>"
        "<h1>Demo shop API</h1><p>See /api/products.</p></body></html>"
    )
    return HTMLResponse(html, headers=_BANNER)


async def login(request: Request) -> Response:
    try:
        data = await request.json()
    except ValueError:
        return _json({"error": "expected JSON"}, 400)
    user = USERS.get(str(data.get("email")))
    # Tells a caller whether the account exists: user enumeration.
    if user is None:
        return _json({"error": "no account with this email"}, 404)
    if user["password"] != data.get("password"):
        return _json({"error": "wrong password"}, 401)
    now = int(time.time())
    with _short_key_allowed():
        token = jwt.encode({"uid": user["id"], "iat": now, "exp": now + 600}, DEMO_SECRET)
    response = _json({"access_token": token, "token_type": "bearer"})
    # Session cookie without HttpOnly or SameSite.
    response.set_cookie("session", token[-16:], httponly=False, samesite=None)
    return response


async def products(request: Request) -> Response:
    # Reflects any Origin and allows credentials: any site can read the answer.
    origin = request.headers.get("origin")
    rows = DB.execute("SELECT id, name, price FROM products").fetchall()
    body = [{"id": r[0], "name": r[1], "price": r[2]} for r in rows]
    if not origin:
        return _json(body)
    cors = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}
    return _json(body, headers=cors)


async def product(request: Request) -> Response:
    product_id = request.path_params["product_id"]
    try:
        # Built by string formatting: a quote produces a raw SQLite error.
        sql = f"SELECT id, name, price FROM products WHERE id = {product_id}"  # noqa: S608
        row = DB.execute(sql).fetchone()
    except sqlite3.Error as exc:
        return _json({"error": f"sqlite3.OperationalError: {exc}"}, 500)
    if row is None:
        return _json({"error": "not found"}, 404)
    return _json({"id": row[0], "name": row[1], "price": row[2]})


async def search(request: Request) -> Response:
    try:
        limit = int(request.query_params.get("limit", "10"))
    except ValueError:
        # Leaks the full Python traceback to the caller.
        return PlainTextResponse(traceback.format_exc(), status_code=500, headers=_BANNER)
    query = request.query_params.get("q", "")
    rows = DB.execute(
        "SELECT name FROM products WHERE name LIKE ? LIMIT ?", (f"%{query}%", limit)
    ).fetchall()
    return _json({"query": query, "results": [r[0] for r in rows]})


async def hello(request: Request) -> Response:
    # Puts the name into the page unescaped: reflected cross-site scripting.
    name = request.query_params.get("name", "guest")
    html = f"<!doctype html><html><body><p>Hello, {name}!</p></body></html>"
    return HTMLResponse(html, headers=_BANNER)


async def preview(request: Request) -> Response:
    # Renders the caller's text as a template (server-side template injection). The sandbox
    # keeps it to expressions, so the demo cannot be made to run code on your machine.
    text = request.query_params.get("text", "")
    try:
        rendered = _TEMPLATES.from_string(text).render()
    except Exception as exc:
        return _json({"error": f"template error: {type(exc).__name__}"}, 400)
    return _json({"preview": rendered})


_TEMPLATES = SandboxedEnvironment()


async def me(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return _json({"error": "unauthorized"}, 401)
    # Returns the stored password (a secret) and sets no Cache-Control.
    return _json({"id": user["id"], "name": user["name"], "password": user["password"]})


async def orders(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return _json({"error": "unauthorized"}, 401)
    # Any logged-in user reads any order: the owner is never compared (BOLA).
    order = ORDERS.get(int(request.path_params["order_id"]))
    if order is None:
        return _json({"error": "not found"}, 404)
    return _json(order, headers={"Cache-Control": "public, max-age=600"})


async def admin_users(request: Request) -> Response:
    # Checks that the caller is logged in, not that they are an admin.
    if _user(request) is None:
        return _json({"error": "unauthorized"}, 401)
    users = [{"id": u["id"], "email": e, "role": u["role"]} for e, u in USERS.items()]
    return _json({"users": users})


async def dotenv(request: Request) -> Response:
    text = (
        "APP_ENV=staging\nDATABASE_URL=postgres://app:hunter2@db:5432/shop\n"
        "JWT_SECRET=your-256-bit-secret\nDEBUG=true\n"
    )
    return PlainTextResponse(text, headers=_BANNER)


async def status(request: Request) -> Response:
    # JSON served as text/html.
    return Response('{"status": "ok", "version": "1.4.2"}', media_type="text/html", headers=_BANNER)


def create_app() -> Starlette:
    """The demo API; everything lives under /api except the home page and /.env."""
    routes = [
        Route("/", home),
        Route("/.env", dotenv),
        Route("/api/status", status),
        Route("/api/docs", home),
        Route("/api/auth/login", login, methods=["POST"]),
        Route("/api/products", products),
        Route("/api/products/{product_id}", product),
        Route("/api/search", search),
        Route("/api/hello", hello),
        Route("/api/preview", preview),
        Route("/api/me", me),
        Route("/api/orders/{order_id:int}", orders),
        Route("/api/admin/users", admin_users),
    ]
    return Starlette(routes=routes)
