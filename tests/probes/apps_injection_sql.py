"""A Flask shop on in-memory SQLite for the SQL family's tests: weak routes and their twins.

Every weak route builds its query by string formatting; its twin passes the same value as a
bound parameter. "Loud" routes answer a database error with its message (error-based proof),
"quiet" ones with a generic 500 (boolean proof only), the "blind" one always with the same
answer (time-based proof only: `pg_sleep` is registered into SQLite for it). Beside them:
a help page that always quotes an SQLite error, a page that is the same for every input, and
a validator that refuses any quote, and a filter that is randomly slow on SQL words.

Then pages that look like SQL to a careless judge, each beside a weak route of the same kind
(`lookalike_app`): feature flags by hash of the value, a random tip of the day, a lenient id
beside a random banner, a calculator, a full-text search with a bound MATCH value, a phrase
search whose error page names an unrelated connection error, sorting by a quoted column name,
and an HTML page whose footer holds the render time.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import html
import operator
import random
import re
import shlex
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


# -- look-alikes and their weak twins (lookalike_app) ----------------------------------------------


def lookalike_app() -> Flask:
    """Pages whose answers follow their input without SQL, each beside a weak route."""
    app = Flask("injection_sql_lookalikes")
    app.config["SHOP"] = Shop()
    _chance_routes(app)
    _calculator_routes(app)
    _search_routes(app)
    _order_routes(app)
    _page_routes(app)
    return app


def _chance_routes(app: Flask) -> None:
    @app.get("/flags")
    def flags() -> Any:
        # An A/B bucket by hash of the user name: two outcomes, no database.
        user = request.args.get("user", "")
        bucket = hashlib.sha256(user.encode()).digest()[0] % 2 == 0
        return jsonify(flags={"new_checkout": bucket, "dark_mode": True})

    @app.get("/home")
    def home() -> Any:
        # `ref` is only a tracking parameter; the tip is drawn at random from two.
        return jsonify(title="Welcome", tip=random.choice(["Try dark mode", "Invite a friend"]))

    @app.get("/item")
    def item() -> Any:
        # A bound id read leniently (its leading digits), beside a random banner of two.
        digits = re.match(r"[0-9]+", request.args.get("id", ""))
        found = shop_of(app).rows(f"{COLUMNS} id = ?", (int(digits.group()) if digits else 0,))
        return jsonify(item=found[0] if found else None, banner=random.choice(["sale", "ship"]))


_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


def _evaluate(node: ast.AST) -> Any:
    """Arithmetic of numbers with + - * only (a safe calculator)."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    raise ValueError("unsupported")


def _calculator_routes(app: Flask) -> None:
    @app.get("/calc")
    def calc() -> Any:
        try:
            return jsonify(result=_evaluate(ast.parse(request.args.get("expr", ""), mode="eval")))
        except (SyntaxError, ValueError):
            return jsonify(error="cannot compute"), 400

    def top(bound: bool) -> Any:
        # The first `limit` items: formatted into LIMIT (where AND does not fit), or bound.
        limit = request.args.get("limit", "")
        try:
            if bound:
                rows = shop_of(app).rows(f"{COLUMNS} 1 ORDER BY id LIMIT ?", (int(limit),))
            else:
                rows = shop_of(app).rows(f"{COLUMNS} 1 ORDER BY id LIMIT {limit}")
        except (sqlite3.Error, ValueError):
            return jsonify(error="internal error"), 500 if not bound else 400
        return jsonify(items=rows)

    app.add_url_rule("/quiet/top", "top", lambda: top(False), methods=["GET"])
    app.add_url_rule("/safe/quiet/top", "safe-top", lambda: top(True), methods=["GET"])


# The error page of the phrase search: its status panel always names the last database event.
STATUS_PANEL = (
    "<h2>Status</h2><pre>db: last event: SQLSTATE[08006] connection to replica lost, retrying</pre>"
)


def _search_routes(app: Flask) -> None:
    docs = shop_of(app)
    with docs.lock:
        docs.conn.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
        docs.conn.executemany(
            "INSERT INTO docs VALUES (?)", [("apple pie",), ("apple juice",), ("cherry tart",)]
        )

    def full_text(bound: bool) -> Any:
        # A full-text search: the terms bound to MATCH ?, or formatted into the query.
        terms = request.args.get("q", "")
        sql = "SELECT rowid, body FROM docs WHERE docs MATCH "
        try:
            with docs.lock:
                cursor = (
                    docs.conn.execute(sql + "?", (terms,))
                    if bound
                    else (docs.conn.execute(sql + f"'{terms}'"))
                )
                hits = [list(row) for row in cursor]
        except sqlite3.Error as exc:
            return _error(exc, loud=True)
        return jsonify(hits=hits)

    def phrases(bound: bool) -> Any:
        text = request.args.get("q", "")
        if not bound:
            # The weak twin: the text formatted into LIKE, the error worded as PHP's PDO does.
            try:
                found = docs.rows(f"{COLUMNS} name LIKE '%{text}%'")
            except sqlite3.Error as exc:
                return _error_page(f"SQLSTATE[HY000]: General error: 1 {exc}")
            return jsonify(items=found)
        # Quotes make phrases, and every phrase is bound; a quote left open falls to the
        # generic error page.
        try:
            words = shlex.split(text)
        except ValueError:
            return _error_page("")
        rows = [docs.rows(f"{COLUMNS} name LIKE ?", (f"%{word}%",)) for word in words]
        return jsonify(items=[row for found in rows for row in found])

    app.add_url_rule("/fts", "fts", lambda: full_text(True), methods=["GET"])
    app.add_url_rule("/fts-built", "fts-built", lambda: full_text(False), methods=["GET"])
    app.add_url_rule("/phrase", "phrase", lambda: phrases(True), methods=["GET"])
    app.add_url_rule("/phrase-built", "phrase-built", lambda: phrases(False), methods=["GET"])


def _error_page(message: str) -> Response:
    body = f"<p>{html.escape(message)}</p>" if message else ""
    page = f"<html><body><h1>500 Internal Server Error</h1>{body}{STATUS_PANEL}</body></html>"
    return Response(page, 500, mimetype="text/html")


# The columns the sorted routes' twins accept.
SORTABLE = frozenset({"id", "name", "price"})


def _order_routes(app: Flask) -> None:
    """Items sorted by the `sort` column: formatted into ORDER BY, or checked against a list
    (whose refusal is worded like SQLite's own error, to tempt the judge)."""

    def sort(listed: bool, loud: bool) -> Any:
        column = request.args.get("sort", "")
        try:
            if listed and column not in SORTABLE:
                raise sqlite3.OperationalError(f"no such column: {column}")
            rows = shop_of(app).rows(f"{COLUMNS} 1 ORDER BY {column}")
        except sqlite3.Error as exc:
            return _error(exc, loud=loud)
        return jsonify(items=rows)

    for prefix, loud in (("", True), ("/quiet", False)):
        for safe, listed in (("", False), ("/safe", True)):
            rule = f"{safe}{prefix}/sorted"
            app.add_url_rule(
                rule, rule, lambda listed=listed, loud=loud: sort(listed, loud), methods=["GET"]
            )


def _page_routes(app: Flask) -> None:
    """A user page in HTML whose footer holds the render time as a Unix timestamp."""

    def page(bound: bool) -> Any:
        user = request.args.get("id", "")
        try:
            if bound:
                rows = shop_of(app).rows(f"{COLUMNS} id = ?", (user,))
            else:
                rows = shop_of(app).rows(f"{COLUMNS} id = {user}")
        except sqlite3.Error:
            return "<h1>Error</h1>", 500
        names = "".join(f"<li>{html.escape(row['name'])}</li>" for row in rows)
        now = f"{time.time():.2f}"
        return f"<html><body><ul>{names}</ul><p>rendered at {now}</p></body></html>"

    app.add_url_rule("/quiet/page", "page", lambda: page(False), methods=["GET"])
    app.add_url_rule("/safe/quiet/page", "safe-page", lambda: page(True), methods=["GET"])
