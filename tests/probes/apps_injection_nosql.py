"""A Starlette API over mongomock (an in-memory MongoDB) for the nosql family's tests.

Weak routes hand user input to the query as it comes: a JSON body's values (objects too), and
query strings or forms parsed the way Express and PHP parse them (`name[$ne]=x` becomes
`{"name": {"$ne": "x"}}`). Each has a twin that cannot be injected: strings only (422 for an
object), objects turned into text, bracket keys not read at all, a page that is the same for
every input, and one that reflects what it got.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import mongomock
from mongomock import OperationFailure
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

USERS = (
    {"name": "alice", "password": "s3cret", "role": "admin", "age": 34},
    {"name": "bob", "password": "hunter2", "role": "user", "age": 27},
)
_BRACKET = re.compile(r"^(\w+)\[(\$\w+)\]$")
_DENIED = {"error": "invalid credentials"}


def _collection() -> Any:
    users = mongomock.MongoClient().shop.users
    users.insert_many([dict(u) for u in USERS])
    return users


def parse_brackets(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query or form items as Express's `qs` reads them: `name[$ne]=x` is an object."""
    parsed: dict[str, Any] = {}
    for key, value in items:
        found = _BRACKET.match(key)
        if found:
            parsed.setdefault(found.group(1), {})[found.group(2)] = value
        else:
            parsed[key] = value
    return parsed


def _user(doc: dict[str, Any]) -> dict[str, Any]:
    return {"user": doc["name"], "role": doc["role"], "age": doc["age"]}


def _session(doc: dict[str, Any] | None) -> Response:
    if doc is None:
        return JSONResponse(_DENIED, status_code=401)
    return JSONResponse({**_user(doc), "session": secrets.token_hex(16)})


def app() -> Starlette:
    """The API: weak routes and their twins over one in-memory collection."""
    users = _collection()

    async def login(request: Request) -> Response:
        body = await request.json()
        try:
            doc = users.find_one({"name": body["name"], "password": body["password"]})
        except Exception:  # the store's message stays on the server
            return JSONResponse({"error": "internal error"}, status_code=500)
        return _session(doc)

    async def login_safe(request: Request) -> Response:
        body = await request.json()
        name, password = body.get("name"), body.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            return JSONResponse({"detail": "name and password must be strings"}, 422)
        return _session(users.find_one({"name": name, "password": password}))

    async def login_text(request: Request) -> Response:
        body = await request.json()
        query = {"name": str(body["name"]), "password": str(body["password"])}
        return _session(users.find_one(query))

    async def form_login(request: Request) -> Response:
        # Parsed by hand: Starlette's form parser needs python-multipart.
        form = parse_brackets(parse_qsl((await request.body()).decode()))
        try:
            doc = users.find_one({"name": form.get("name"), "password": form.get("password")})
        except OperationFailure:
            return JSONResponse({"error": "internal error"}, status_code=500)
        return _session(doc)

    async def lookup(request: Request) -> Response:
        query = parse_brackets(request.query_params.multi_items())
        try:
            doc = users.find_one({"name": query.get("name")})
        except OperationFailure as exc:  # leaks the store's message
            return JSONResponse({"error": str(exc)}, status_code=500)
        if doc is None:
            return JSONResponse({"error": "no such user"}, status_code=404)
        return JSONResponse(_user(doc))

    async def lookup_safe(request: Request) -> Response:
        name = request.query_params.get("name")
        if name is None:
            return JSONResponse({"detail": "name is required"}, status_code=422)
        doc = users.find_one({"name": name})
        if doc is None:
            return JSONResponse({"error": "no such user"}, status_code=404)
        return JSONResponse(_user(doc))

    async def search_loose(request: Request) -> Response:
        # Only a plain `name` filters; anything else is ignored and everyone is listed.
        name = request.query_params.get("name")
        found = users.find({} if name is None else {"name": name})
        return JSONResponse({"users": [_user(d) for d in found]})

    async def by_age(request: Request) -> Response:
        body = await request.json()
        found = users.find({"age": body["age"]})
        return JSONResponse({"users": [_user(d) for d in found]})

    async def subscribe(request: Request) -> Response:
        body = await request.json()
        try:
            users.find_one({"name": body["email"]})
        except OperationFailure as exc:
            return JSONResponse({"error": f"query failed: {exc}"}, status_code=500)
        return JSONResponse({"status": "subscribed"})

    async def echo(request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"you_sent": body.get("name"), "matches": 0})

    async def same(request: Request) -> Response:
        return HTMLResponse("<html><body><h1>Welcome</h1><p>Nothing to see.</p></body></html>")

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/login-safe", login_safe, methods=["POST"]),
            Route("/login-text", login_text, methods=["POST"]),
            Route("/form-login", form_login, methods=["POST"]),
            Route("/users", lookup),
            Route("/users-safe", lookup_safe),
            Route("/search", search_loose),
            Route("/by-age", by_age, methods=["POST"]),
            Route("/subscribe", subscribe, methods=["POST"]),
            Route("/echo", echo, methods=["POST"]),
            Route("/same", same),
        ]
    )
