"""A Starlette API over mongomock (an in-memory MongoDB) for the nosql family's tests.

Weak routes hand user input to the query as it comes: a JSON body's values (objects too),
query strings or forms parsed the way Express and PHP parse them (`name[$ne]=x` becomes
`{"name": {"$ne": "x"}}`), and a query parameter holding a JSON filter (`where={...}`); some
echo the filter they used, or answer with a count. Each has a twin that cannot be injected:
strings only (422, or a 200 with an error body, for an object), objects turned into text,
bracket keys not read at all, a page that is the same for every input, one that reflects what
it got, and filter languages whose validators refuse operators with messages like a store's.
A public catalog offers operators on purpose (`apps_injection_nosql.catalog`).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import mongomock
from mongomock import OperationFailure
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

USERS = (
    {"name": "alice", "password": "s3cret", "role": "admin", "age": 34},
    {"name": "bob", "password": "hunter2", "role": "user", "age": 27},
)
BOOKS = (
    {"title": "Dune", "category": "scifi"},
    {"title": "Emma", "category": "classic"},
    {"title": "Ubik", "category": "scifi"},
)
POSTS = (
    {"author": "alice", "title": "Hello", "published": True},
    {"author": "bob", "title": "Unfinished thoughts", "published": False},
    {"author": "carol", "title": "Notes", "published": True},
)
ORDERS = (
    {"id": 1, "customer": "bob", "total": 30},
    {"id": 2, "customer": "eve", "total": 55},
    {"id": 3, "customer": "carol", "total": 12},
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


# -- filter languages in front of no store: validators refusing operators ------------------------


def _book_filter(where: Any, refuse: Any) -> Response:
    """Books matching `{"category": ...}`, `$eq`/`$in` allowed; any other operator refused."""
    books = list(BOOKS)
    for name, cond in (where or {}).items():
        if name not in ("category", "title"):
            return JSONResponse({"error": f"unknown field {name}"}, status_code=400)
        if isinstance(cond, dict):
            for op in cond:
                if op not in ("$eq", "$in"):
                    return refuse(op)
            cond = cond.get("$eq")
        books = [b for b in books if b[name] == cond]
    return JSONResponse({"books": books})


def _unknown(op: str) -> Response:
    return JSONResponse({"error": f"unknown operator: {op}"}, status_code=400)


def _bad_value(op: str) -> Response:
    return JSONResponse({"code": "BadValue", "error": f"operator {op} is not allowed"}, 400)


async def dsl(request: Request) -> Response:
    """Twin: a validator calling every operator but `$eq`/`$in` unknown, as MongoDB words it."""
    return _book_filter((await request.json()).get("where"), _unknown)


async def dsl_bad_value(request: Request) -> Response:
    """Twin: a validator refusing operators with a driver's error name and the operator."""
    return _book_filter((await request.json()).get("where"), _bad_value)


async def dsl_busy(request: Request) -> Response:
    """Twin: like `dsl`, on a page with a changing sponsor line (unstable: no pairs compared)."""
    answer = _book_filter((await request.json()).get("where"), _unknown)
    if answer.status_code != 200:
        return answer
    titles = ", ".join(b["title"] for b in json.loads(bytes(answer.body))["books"])
    sponsor = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(30))
    return PlainTextResponse(f"books: {titles}\nsponsor: {sponsor} {sponsor}\n")


# -- stores behind filters, counts and echoes -----------------------------------------------------


def _store_routes() -> list[Route]:
    """Routes over their own in-memory collections (books, posts, orders, users)."""
    db = mongomock.MongoClient().store
    db.books.insert_many([dict(b) for b in BOOKS])
    db.posts.insert_many([dict(p) for p in POSTS])
    db.orders.insert_many([dict(o) for o in ORDERS])
    db.users.insert_many([dict(u) for u in USERS])
    hidden = {"_id": 0}

    async def catalog(request: Request) -> Response:
        # A public catalog whose documented syntax offers operators on allow-listed fields.
        query = parse_brackets(request.query_params.multi_items())
        try:
            return JSONResponse({"books": list(db.books.find(query, hidden))})
        except OperationFailure:
            return JSONResponse({"error": "unsupported filter"}, status_code=400)

    async def posts(request: Request) -> Response:
        # Without an author only published posts; an author's own list holds drafts too.
        query = parse_brackets(request.query_params.multi_items())
        flt = {"author": query["author"]} if "author" in query else {"published": True}
        try:
            return JSONResponse({"posts": list(db.posts.find(flt, hidden))})
        except OperationFailure:
            return JSONResponse({"error": "unsupported filter"}, status_code=400)

    async def search(request: Request) -> Response:
        customer = (await request.json()).get("customer")
        try:
            found = list(db.orders.find({"customer": customer}, hidden))
        except OperationFailure:
            return JSONResponse({"error": "bad query"}, status_code=400)
        return JSONResponse({"filter": {"customer": customer}, "results": found})

    async def search_text(request: Request) -> Response:
        customer = str((await request.json()).get("customer"))
        found = list(db.orders.find({"customer": customer}, hidden))
        return JSONResponse({"filter": {"customer": customer}, "results": found})

    async def count(request: Request) -> Response:
        query = parse_brackets(request.query_params.multi_items())
        if "role" not in query:
            return JSONResponse({"error": "role is required"}, status_code=400)
        try:
            return JSONResponse({"count": db.users.count_documents({"role": query["role"]})})
        except OperationFailure:
            return JSONResponse({"error": "bad query"}, status_code=400)

    async def count_loose(request: Request) -> Response:
        # Only a plain `role` filters; anything else is ignored and everyone is counted.
        role = request.query_params.get("role")
        return JSONResponse(
            {"count": db.users.count_documents({} if role is None else {"role": role})}
        )

    async def items(request: Request) -> Response:
        text = request.query_params.get("where")
        if text is None:
            return JSONResponse({"error": "where is required"}, status_code=400)
        try:
            return JSONResponse({"items": list(db.orders.find(json.loads(text), hidden))})
        except (ValueError, OperationFailure):
            return JSONResponse({"error": "bad where"}, status_code=400)

    async def items_safe(request: Request) -> Response:
        try:
            where = json.loads(request.query_params.get("where", ""))
        except ValueError:
            return JSONResponse({"error": "bad where"}, status_code=400)
        if not isinstance(where, dict) or not all(isinstance(v, str) for v in where.values()):
            return JSONResponse({"error": "where takes text values only"}, status_code=400)
        return JSONResponse({"items": list(db.orders.find(where, hidden))})

    return [
        Route("/catalog", catalog),
        Route("/posts", posts),
        Route("/orders/search", search, methods=["POST"]),
        Route("/orders/search-text", search_text, methods=["POST"]),
        Route("/users/count", count),
        Route("/users/count-loose", count_loose),
        Route("/items", items),
        Route("/items-safe", items_safe),
    ]


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

    async def login_200(request: Request) -> Response:
        body = await request.json()
        name, password = body.get("name"), body.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            return JSONResponse({"error": "name and password must be strings"})
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
            Route("/login-200", login_200, methods=["POST"]),
            Route("/form-login", form_login, methods=["POST"]),
            Route("/users", lookup),
            Route("/users-safe", lookup_safe),
            Route("/search", search_loose),
            Route("/by-age", by_age, methods=["POST"]),
            Route("/subscribe", subscribe, methods=["POST"]),
            Route("/echo", echo, methods=["POST"]),
            Route("/same", same),
            Route("/dsl", dsl, methods=["POST"]),
            Route("/dsl-bad-value", dsl_bad_value, methods=["POST"]),
            Route("/dsl-busy", dsl_busy, methods=["POST"]),
            *_store_routes(),
        ]
    )
