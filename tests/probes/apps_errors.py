"""Real framework apps for the errors probe's tests: each weak app has a hardened twin.

Flask (under Werkzeug's debugger or not) and Starlette apps are built in-process. Django can
be configured only once per process, so `serve_django(debug)` runs it in a child process
(`python -m tests.probes.apps_errors django [--debug]`), which prints its port and stops by
itself after a while even if the test dies.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from werkzeug.debug import DebuggedApplication

ROOT = Path(__file__).resolve().parents[2]
CHILD_LIFETIME = 90  # seconds a child server lives at most

# -- Flask under Werkzeug's debugger -------------------------------------------------------------


def flask_app(*, debug: bool, crash_on_words: bool = False) -> Any:
    """A small Flask API; `debug=True` wraps it the way `app.run(debug=True)` does."""
    app = Flask("errors_test")

    @app.get("/items/<item_id>")
    def item(item_id: str) -> Any:
        if not item_id.isdigit() and not crash_on_words:
            return jsonify(error="id must be a number"), 400
        return jsonify(id=int(item_id), name="widget")

    if not debug:
        return app
    app.debug = True
    return DebuggedApplication(app, evalex=True)


# -- Starlette -----------------------------------------------------------------------------------


async def _starlette_item(request: Request) -> Response:
    return JSONResponse({"id": int(request.path_params["item_id"]), "name": "widget"})


def starlette_app(*, debug: bool) -> Starlette:
    """An API whose item route raises on a non-numeric id; `debug` shows Starlette's page."""
    return Starlette(debug=debug, routes=[Route("/items/{item_id}", _starlette_item)])


def broken_app() -> Starlette:
    """GET /report fails with a bare 500 whatever is sent (the baseline included)."""

    async def report(request: Request) -> Response:
        return PlainTextResponse("Internal Server Error", 500)

    return Starlette(routes=[Route("/report", report)])


def orders_app(*, validate: bool) -> Starlette:
    """POST /orders: the weak variant parses JSON without a guard (500 on broken JSON)."""

    async def create(request: Request) -> Response:
        if validate:
            try:
                data = json.loads(await request.body())
                qty = int(data["qty"])
            except (ValueError, KeyError, TypeError):
                return JSONResponse({"error": "body must be JSON with a numeric qty"}, 400)
        else:
            data = await request.json()
            qty = int(data["qty"])
        return JSONResponse({"id": 7, "qty": qty}, 201)

    return Starlette(routes=[Route("/orders", create, methods=["POST"])])


def sqlite_app() -> Starlette:
    """GET /products?id=1 builds its SQL by hand and answers database errors with their text."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO products VALUES (1, 'widget')")
    lock = threading.Lock()

    async def products(request: Request) -> Response:
        wanted = request.query_params.get("id", "1")
        try:
            with lock:
                rows = db.execute(f"SELECT id, name FROM products WHERE id = {wanted}").fetchall()
        except (sqlite3.Error, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse([{"id": r[0], "name": r[1]} for r in rows])

    return Starlette(routes=[Route("/products", products)])


def sqlite_error_text() -> str:
    """The message a real sqlite3 query gives for a stray word (for the 'normal answer' twin)."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("SELECT 1 FROM sqlite_master WHERE name = broken")
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        db.close()
    raise AssertionError("the query should fail")


def status_app() -> Starlette:
    """GET /status always reports the same stored SQL error, whatever is sent: its normal
    answer already holds the text."""
    body = {"healthy": False, "last_error": sqlite_error_text()}

    async def status(request: Request) -> Response:
        return JSONResponse(body)

    return Starlette(routes=[Route("/status", status, methods=["GET", "POST", "PRBX"])])


DOCS_PAGE = """<!doctype html>
<html><head><title>Troubleshooting</title></head>
<body><h1>Troubleshooting</h1>
<p>If an answer shows a Traceback or a message about SQL syntax, the server hit a bug:
please send us the request id. A stack trace is never part of a normal answer.</p>
<p>Set <code>DEBUG = True</code> only on your own machine.</p>
</body></html>
"""


def catch_all_app() -> Starlette:
    """Answers 200 with the same documentation page for every path and method."""

    async def page(request: Request) -> Response:
        return HTMLResponse(DOCS_PAGE)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "PRBX"]
    return Starlette(routes=[Route("/{path:path}", page, methods=methods)])


DOTENV = """# production settings
APP_ENV=production
DATABASE_URL=postgres://app:hunter2-prod@db.internal:5432/app
SECRET_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0
STRIPE_API_KEY=sk_live_51Hx3kQ2eZvKYlo2C0000000000
"""
GIT_CONFIG = """[core]
\trepositoryformatversion = 0
\tfilemode = true
\tbare = false
\tlogallrefupdates = true
[remote "origin"]
\turl = git@git.internal:team/api.git
\tfetch = +refs/heads/*:refs/remotes/origin/*
[branch "main"]
\tremote = origin
\tmerge = refs/heads/main
"""
SPA_INDEX = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Shop</title><script defer src="/static/js/main.3f2a1c.js"></script></head>
<body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>
</body></html>
"""


def _api_routes() -> list[Route]:
    async def ping(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return [Route("/api/ping", ping)]


def leaky_files_app() -> Starlette:
    """Serves a real-looking .env and Git metadata at the host root; the API lives at /api."""

    async def dotenv(request: Request) -> Response:
        return PlainTextResponse(DOTENV)

    async def git_config(request: Request) -> Response:
        return PlainTextResponse(GIT_CONFIG)

    async def git_head(request: Request) -> Response:
        return PlainTextResponse("ref: refs/heads/main\n")

    routes = [
        *_api_routes(),
        Route("/.env", dotenv),
        Route("/.git/config", git_config),
        Route("/.git/HEAD", git_head),
    ]
    return Starlette(routes=routes)


def spa_app() -> Starlette:
    """A single-page app: every unknown path, /.env included, gets index.html with 200."""

    async def index(request: Request) -> Response:
        return HTMLResponse(SPA_INDEX)

    return Starlette(routes=[*_api_routes(), Route("/{path:path}", index)])


def users_app(*, leaky: bool) -> Starlette:
    """GET /users/1: the leaky variant returns the stored hash and the user's API key."""
    if leaky:
        user = {
            "id": 1,
            "email": "ann@example.test",
            "password_hash": "$2b$12$KIXQJxk3PzTq1dU5e0mWbO0l7tT4lB9m2yC1o8Yq3sVnH6pR0a1Cy",
            "api_key": "ak_live_7Hc93KdQ02LmZx81PqRt5Vw",
        }
    else:
        user = {
            "id": 1,
            "email": "ann@example.test",
            "password_policy": "at least 12 characters, one of them a digit",
            "has_password": True,
            "password": "********",
            "api_key": None,
            "secret_question": "first pet",
        }

    async def show(request: Request) -> Response:
        return JSONResponse(user)

    return Starlette(routes=[Route("/users/{user_id}", show)])


ME_TOKEN = "alice-token-0123456789"


def me_app(stored_password: str) -> Starlette:
    """GET /me (bearer token required) answers the user's record with its stored password."""

    async def me(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {ME_TOKEN}":
            return JSONResponse({"error": "unauthorized"}, 401)
        return JSONResponse({"id": 1, "name": "Alice", "password": stored_password})

    return Starlette(routes=[Route("/me", me)])


LABELS = {
    "lang": "de",
    "labels": {
        "email": "E-Mail",
        "password": "Passwort",
        "confirm_password": "Passwort bestätigen",
        "forgot_password": "Passwort vergessen?",
    },
    "links": {"reset_password": "/account/reset-password"},
}
PUBLIC_CONFIG = {
    "maps": {"public_api_key": "AIzaSyA1b2C3d4E5f6G7h8"},
    "public_key": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU\n"
    "-----END PUBLIC KEY-----",
}
SETTINGS = {
    "password_required": True,
    "password_min_length": 12,
    "password_policy": "at least 12 characters, one digit",
    "api_key_hint": "…a1b2",
    "has_password": True,
}
PROFILE = {"id": 1, "password": None, "recovery_password": "", "api_key": "********"}


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        data = json.loads(await request.body())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def accounts_app() -> Starlette:
    """Answers that name password fields and hold no secret: a 422 validation message, German
    UI labels, a reset link, a public maps key, settings and flags, a masked profile, and a
    sign-up that echoes the password it was sent."""

    async def signup(request: Request) -> Response:
        data = await _json_object(request)
        if data is None:
            return JSONResponse({"errors": {"body": "must be a JSON object"}}, 400)
        password = data.get("password")
        if not isinstance(password, str) or not 12 <= len(password) <= 128:
            return JSONResponse({"errors": {"password": "must be 12 to 128 characters"}}, 422)
        return JSONResponse({"id": 5}, 201)

    async def register(request: Request) -> Response:
        data = await _json_object(request)
        if data is None:
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        return JSONResponse({"id": 6, "email": data.get("email"), "password": data.get("password")})

    def fixed(body: dict[str, Any]) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            return JSONResponse(body)

        return answer

    return Starlette(
        routes=[
            Route("/signup", signup, methods=["POST"]),
            Route("/register", register, methods=["POST"]),
            Route("/labels", fixed(LABELS)),
            Route("/config", fixed(PUBLIC_CONFIG)),
            Route("/settings", fixed(SETTINGS)),
            Route("/profile", fixed(PROFILE)),
        ]
    )


def recording_app(seen: list[str]) -> Any:
    """A bare ASGI app: every method on every path answers 204; `seen` gets "METHOD /path"."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(f"{scope['method']} {scope['path']}")
        headers = [(b"x-content-type-options", b"nosniff")]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


# -- Django, in a child process ------------------------------------------------------------------


def _django_main(debug: bool) -> None:  # pragma: no cover - runs in the child process
    from django.conf import settings

    settings.configure(
        DEBUG=debug,
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        SECRET_KEY="tests-only-" + "k" * 40,
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        INSTALLED_APPS=[],
        DATABASES={},
        LOGGING_CONFIG=None,
    )
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.http import HttpRequest, JsonResponse
    from django.urls import path
    from werkzeug.serving import make_server

    def item(request: HttpRequest, item_id: str) -> JsonResponse:
        return JsonResponse({"id": int(item_id), "name": "widget"})

    globals()["urlpatterns"] = [path("items/<str:item_id>", item)]
    server = make_server("127.0.0.1", 0, get_wsgi_application(), threaded=True)
    print(server.port, flush=True)
    threading.Timer(CHILD_LIFETIME, lambda: os._exit(0)).start()
    server.serve_forever()


@contextmanager
def serve_django(*, debug: bool) -> Iterator[str]:
    """Run the Django app in a child process on 127.0.0.1; yields its base URL."""
    args = [sys.executable, "-m", "tests.probes.apps_errors", "django"]
    if debug:
        args.append("--debug")
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.DEVNULL}
    with subprocess.Popen(args, cwd=ROOT, text=True, **pipes) as child:
        try:
            assert child.stdout is not None
            port = child.stdout.readline().strip()
            if not port.isdigit():
                raise RuntimeError(f"the Django child did not start (said {port!r})")
            yield f"http://127.0.0.1:{port}"
        finally:
            child.terminate()
            child.wait(timeout=10)


if __name__ == "__main__":  # pragma: no cover - the Django child process
    if sys.argv[1:2] == ["django"]:
        _django_main(debug="--debug" in sys.argv)
