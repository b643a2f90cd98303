"""A Flask shop on in-memory SQLite for the SQL family's tests: weak routes and their twins.

Every weak route builds its query by string formatting; its twin passes the same value as a
bound parameter. "Loud" routes answer a database error with its message (error-based proof),
"quiet" ones with a generic 500 (boolean proof only), the "blind" one always with the same
answer (time-based proof only: `pg_sleep` is registered into SQLite for it). Beside them:
a help page that always quotes an SQLite error, a page that is the same for every input, and
a validator that refuses any quote, and a filter that is randomly slow on SQL words.
"""

from __future__ import annotations

import contextlib
import html
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request

ITEMS = ((1, "widget", 250), (2, "gadget", 990), (3, "gizmo", 120))
COLUMNS = "SELECT id, name, price FROM items WHERE"

# Reads the value under test from the request (path parameter, query string or JSON body).
Reader = Callable[[dict[str, Any]], Any]


class Shop:
    """An in-memory SQLite database of three items, shared by the server's threads."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.lock = threading.Lock()
        self.conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price INT)")
        self.conn.executemany("INSERT INTO items VALUES (?, ?, ?)", ITEMS)
        # SQLite has no sleep: this one lets a string-built query wait (the blind route).
        self.conn.create_function("pg_sleep", 1, _sleep)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """The rows of one query, as objects."""
        with self.lock:
            cursor = self.conn.execute(sql, params)
            return [dict(zip(("id", "name", "price"), row, strict=True)) for row in cursor]


def _sleep(seconds: Any) -> int:
    time.sleep(min(float(seconds or 0), 10.0))
    return 0


def _lookup(shop: Shop, column: str, value: Any, *, bound: bool) -> list[dict[str, Any]]:
    """Rows whose `column` is `value`: formatted into the query, or bound as a parameter."""
    if bound:
        return shop.rows(f"{COLUMNS} {column} = ?", (value,))
    literal = f"'{value}'" if column == "name" else f"{value}"
    return shop.rows(f"{COLUMNS} {column} = {literal}")


def _error(exc: sqlite3.Error, *, loud: bool) -> Response:
    """A loud route shows the database's message, a quiet one a generic 500."""
    kind = f"{type(exc).__module__}.{type(exc).__name__}"
    message = f"{kind}: {exc}" if loud else "internal error"
    answer = jsonify(error=message)
    answer.status_code = 500
    return answer


def _route(
    app: Flask, rule: str, column: str, read: Reader, *, bound: bool, loud: bool, one: bool
) -> None:
    """Add a GET (path or query) or POST (JSON) route that looks items up by `column`."""

    def view(**params: Any) -> Any:
        try:
            rows = _lookup(shop_of(app), column, read(params), bound=bound)
        except sqlite3.Error as exc:
            return _error(exc, loud=loud)
        if not one:
            return jsonify(items=rows)
        return jsonify(rows[0]) if rows else (jsonify(error="no such item"), 404)

    methods = ["POST"] if rule.endswith("lookup") else ["GET"]
    app.add_url_rule(rule, rule, view, methods=methods)


def shop_of(app: Flask) -> Shop:
    """The app's database."""
    shop: Shop = app.config["SHOP"]
    return shop


def _by_path(params: dict[str, Any]) -> Any:
    return params["item_id"]


def _by_query(params: dict[str, Any]) -> Any:
    return request.args.get("name", "")


def _by_json_id(params: dict[str, Any]) -> Any:
    return (request.get_json(silent=True) or {}).get("id")


def _by_json_name(params: dict[str, Any]) -> Any:
    return (request.get_json(silent=True) or {}).get("name")


def sql_app() -> Flask:
    """The shop: weak routes beside their twins (`/safe/...`), and the special pages."""
    app = Flask("injection_sql_test")
    app.config["SHOP"] = Shop()
    shapes: tuple[tuple[str, str, Reader, bool], ...] = (
        ("/items/<item_id>", "id", _by_path, True),
        ("/search", "name", _by_query, False),
        ("/lookup", "name", _by_json_name, True),
        ("/id-lookup", "id", _by_json_id, True),
    )
    for rule, column, read, one in shapes:
        for prefix, loud in (("", True), ("/quiet", False)):
            _route(app, prefix + rule, column, read, bound=False, loud=loud, one=one)
            _route(app, "/safe" + prefix + rule, column, read, bound=True, loud=loud, one=one)
    _special_routes(app)
    return app


def _special_routes(app: Flask) -> None:
    @app.get("/help")
    def help_page() -> Any:
        # Safe (a bound parameter), but the page always quotes an SQLite error message.
        topic = request.args.get("topic", "")
        rows = shop_of(app).rows(f"{COLUMNS} name = ?", (topic,))
        found = "found" if rows else "no such item"
        return (
            f"<html><body><h1>Help: {html.escape(topic)} ({found})</h1><p>When the log shows "
            '<code>sqlite3.OperationalError: unrecognized token: "\'abc"</code>, a quote '
            "was left open in a query.</p></body></html>"
        )

    @app.get("/same")
    def same() -> Any:
        # Whatever the value, the same page.
        return jsonify(items=[{"id": 1, "name": "widget"}])

    @app.get("/strict")
    def strict() -> Any:
        # A validator refusing quotes in front of a bound parameter.
        name = request.args.get("name", "")
        if "'" in name or '"' in name:
            return jsonify(error="invalid characters"), 400
        return jsonify(items=shop_of(app).rows(f"{COLUMNS} name = ?", (name,)))

    for rule, bound in (("/blind", False), ("/safe/blind", True)):
        _blind_route(app, rule, bound=bound)
    _jittery_route(app)


def _blind_route(app: Flask, rule: str, *, bound: bool) -> None:
    """A route that runs the query and answers the same whatever happened."""

    def blind() -> Any:
        # Whatever went wrong stays on the server.
        with contextlib.suppress(sqlite3.Error):
            _lookup(shop_of(app), "name", request.args.get("name", ""), bound=bound)
        return jsonify(ok=True)

    app.add_url_rule(rule, rule, blind, methods=["GET"])


# Words a slow filter inspects at length (the sleep payloads and their zero-delay controls).
_SUSPECT = ("sleep", "waitfor", "receive_message")


def _jittery_route(app: Flask) -> None:
    """A safe search behind a filter that takes 0 to 3 s, at random, on SQL sleep words."""
    # Seeded: the same jitter on every run.
    chance = random.Random(20261204)

    def jittery() -> Any:
        name = request.args.get("name", "")
        if any(word in name.lower() for word in _SUSPECT):
            time.sleep(chance.uniform(0.0, 3.0))
        return jsonify(items=shop_of(app).rows(f"{COLUMNS} name = ?", (name,)))

    app.add_url_rule("/jittery", "jittery", jittery, methods=["GET"])
