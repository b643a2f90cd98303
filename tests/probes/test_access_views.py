"""The access probe against answers that look alike without being the same data: a catch-all
page, answers holding no data, a caller's own record with default values, the owner's object
with per-viewer fields, redirects (real Starlette and FastAPI apps on 127.0.0.1, PyJWT tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Header
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse as StarletteHTML
from starlette.responses import JSONResponse as StarletteJSON
from starlette.responses import Response
from starlette.routing import Route

from probe.findings import CheckStatus, Confidence
from probe.probes.access_judges import NO_DATA
from tests.probes import apps_access as apps
from tests.probes.test_access import checks, only_finding, scan, statuses
from tests.scan import rules
from tests.servers import serve_asgi

INDEX = (
    '<!doctype html><html><head><title>Shop</title><script src="/static/app.9b1e77.js">'
    '</script></head><body><div id="root"></div></body></html>'
)


def catch_all_app(seen: list[tuple[str, int]]) -> Starlette:
    """A single-page app's server: every GET path answers the same page, except /api/open
    (data for anyone: no check at all) and the JSON under /api/ that 404s. `seen` gets each
    request's path and status."""

    async def page(request: Request) -> Response:
        seen.append((request.url.path, 200))
        return StarletteHTML(INDEX)

    async def open_data(request: Request) -> Response:
        seen.append((request.url.path, 200))
        return StarletteJSON({"revenue": [120, 135, 160], "author": "alice"})

    async def api_missing(request: Request) -> Response:
        seen.append((request.url.path, 404))
        return StarletteJSON({"detail": "Not Found"}, 404)

    return Starlette(
        routes=[
            Route("/api/open", open_data),
            Route("/api/{rest:path}", api_missing),
            Route("/{path:path}", page),
        ]
    )


def empty_app() -> Starlette:
    """GET /users/1/orders: the caller's own orders, none yet, for anyone (no check needed);
    /users/1/orders-full: one order, for anyone (no check at all); POST /graphql: null for
    any order the caller does not own (all of them), an error for anonymous callers."""

    async def orders(request: Request) -> Response:
        return StarletteJSON({"orders": [], "total": 0, "page": 1})

    async def orders_full(request: Request) -> Response:
        return StarletteJSON({"orders": [{"id": 5, "total": 9.5}], "total": 1, "page": 1})

    async def graphql(request: Request) -> Response:
        if apps.user_of(request.headers.get("authorization")) is None:
            return StarletteJSON({"data": None, "errors": [{"message": "not authenticated"}]})
        return StarletteJSON({"data": {"order": None}})

    return Starlette(
        routes=[
            Route("/users/1/orders", orders),
            Route("/users/1/orders-full", orders_full),
            Route("/graphql", graphql, methods=["POST"]),
        ]
    )


def views_app(*, checked: bool) -> FastAPI:
    """Per-viewer answers, with or without the owner and role checks (`checked`):
    /users/{id}/settings (the caller's own settings whatever the id: equal defaults),
    /users/{id}/named-settings (the same with the caller's id in them), /v2/orders/{id}
    (the order with can_edit and viewer), /admin/dashboard (JSON greeting the viewer),
    /admin/panel (HTML "Signed in as"), /account (302 to the login page without a token)."""
    app = FastAPI()

    def caller(authorization: str | None) -> str | None:
        return apps.user_of(authorization)

    def denied() -> JSONResponse:
        return JSONResponse({"detail": "not authenticated"}, 401)

    @app.get("/users/{uid}/settings", response_model=None)
    def settings(uid: int, authorization: str | None = Header(default=None)) -> Any:
        if caller(authorization) is None:
            return denied()
        return {"theme": "light", "language": "en", "newsletter": False}

    @app.get("/users/{uid}/named-settings", response_model=None)
    def named(uid: int, authorization: str | None = Header(default=None)) -> Any:
        user = caller(authorization)
        if user is None:
            return denied()
        return {"user_id": apps.USERS[user]["id"], "theme": "light", "language": "en"}

    @app.get("/v2/orders/{oid}", response_model=None)
    def order(oid: int, authorization: str | None = Header(default=None)) -> Any:
        user = caller(authorization)
        found = apps.ORDERS[oid]
        if user is None or (checked and found["owner"] != user):
            return denied() if user is None else JSONResponse({"detail": "Not Found"}, 404)
        return {**found, "can_edit": found["owner"] == user, "viewer": user.title()}

    def admin(authorization: str | None) -> str | JSONResponse:
        user = caller(authorization)
        if user is None:
            return denied()
        if checked and apps.USERS[user]["role"] != "admin":
            return JSONResponse({"detail": "admins only"}, 403)
        return user

    @app.get("/admin/dashboard", response_model=None)
    def dashboard(authorization: str | None = Header(default=None)) -> Any:
        user = admin(authorization)
        if not isinstance(user, str):
            return user
        users = [{"name": n, "id": u["id"]} for n, u in apps.USERS.items()]
        return {"viewer": user.title(), "users": users, "revenue": 123456}

    @app.get("/admin/panel", response_model=None)
    def panel(authorization: str | None = Header(default=None)) -> Any:
        user = admin(authorization)
        if not isinstance(user, str):
            return user
        rows = "".join(f"<tr><td>{n}</td><td>{u['role']}</td></tr>" for n, u in apps.USERS.items())
        page = f"<header>Signed in as {user.title()}</header><h1>Admin</h1><table>{rows}</table>"
        return HTMLResponse(f"<html><body>{page}</body></html>")

    @app.get("/account", response_model=None)
    def account(authorization: str | None = Header(default=None)) -> Any:
        user = caller(authorization)
        if user is None:
            return RedirectResponse("/login?next=/account", 302)
        return HTMLResponse(f"<html><body>\n<h1>{user}</h1>\n<p>plan: pro</p>\n</body></html>")

    return app


@pytest.fixture(scope="module")
def seen() -> list[tuple[str, int]]:
    return []


@pytest.fixture(scope="module")
def catch_all(seen: list[tuple[str, int]]) -> Iterator[str]:
    with serve_asgi(catch_all_app(seen)) as url:
        yield url


@pytest.fixture(scope="module")
def empty() -> Iterator[str]:
    with serve_asgi(empty_app()) as url:
        yield url


@pytest.fixture(scope="module")
def weak_views() -> Iterator[str]:
    with serve_asgi(views_app(checked=False)) as url:
        yield url


@pytest.fixture(scope="module")
def hardened_views() -> Iterator[str]:
    with serve_asgi(views_app(checked=True)) as url:
        yield url


def endpoint(name: str, path: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "path": path, "identity": "alice", **more}


# -- a catch-all page ---------------------------------------------------------------------------


def test_a_page_every_path_gets_is_no_finding(catch_all: str) -> None:
    order = endpoint("order", "/orders/1001", owner="alice")
    admin = endpoint("admin", "/admin/users", identity="carol", tags=["admin"])
    report = scan(catch_all, [endpoint("me", "/me"), order, admin])
    assert rules(report) == []
    for name in ("me", "order", "admin"):
        status, detail = checks(report, name)["unauthenticated"]
        assert status == CheckStatus.error
        assert "a random path beside it: every path gets this answer" in detail
    status, detail = checks(report, "order")["bola"]
    assert status == CheckStatus.skipped
    assert "/orders/probe-" in detail
    assert statuses(report, "admin")["function-level"] == CheckStatus.skipped


def test_data_open_to_anyone_beside_a_catch_all_is_reported(
    catch_all: str, seen: list[tuple[str, int]]
) -> None:
    report = scan(catch_all, [endpoint("open", "/api/open")])
    assert rules(report) == ["access.unauthenticated"]
    # The one request to a random path beside it got the API's 404, not the data.
    assert [status for path, status in seen if path.startswith("/api/probe-")] == [404]


# -- answers holding no data ----------------------------------------------------------------------


def test_an_empty_list_for_everyone_is_nothing_to_compare(empty: str) -> None:
    report = scan(empty, [endpoint("orders", "/users/1/orders")])
    assert rules(report) == []
    for name in ("unauthenticated", "invalid-token"):
        assert checks(report, "orders")[name] == (CheckStatus.error, f"as alice, {NO_DATA}")


def test_a_graphql_null_for_everyone_is_no_bola(empty: str) -> None:
    body = {"query": "query($id: ID!) { order(id: $id) { id } }", "variables": {"id": "1001"}}
    order = endpoint("order", "/graphql", method="POST", json=body, owner="alice")
    report = scan(empty, [order])
    assert rules(report) == []
    assert checks(report, "order")["bola"] == (CheckStatus.error, f"as alice, {NO_DATA}")


def test_a_list_with_data_for_everyone_is_reported(empty: str) -> None:
    report = scan(empty, [endpoint("orders", "/users/1/orders-full")])
    assert rules(report) == ["access.unauthenticated"]


# -- whose answer -------------------------------------------------------------------------------


def test_equal_default_settings_are_a_tentative_bola(weak_views: str) -> None:
    report = scan(weak_views, [endpoint("settings", "/users/1/settings", owner="alice")])
    assert rules(report) == ["access.bola"]
    found = only_finding(report)
    assert found.confidence == Confidence.tentative
    assert "the answer does not show whose it is" in found.detail
    assert "bob's own record" in found.detail


def test_settings_naming_their_user_are_no_bola(weak_views: str) -> None:
    report = scan(weak_views, [endpoint("settings", "/users/1/named-settings", owner="alice")])
    assert rules(report) == []
    status, detail = checks(report, "settings")["bola"]
    assert status == CheckStatus.passed
    assert '"user_id":2' in detail


def test_an_order_naming_itself_is_a_firm_bola(weak_views: str) -> None:
    report = scan(weak_views, [endpoint("order", "/v2/orders/1001", owner="alice")])
    assert rules(report) == ["access.bola"]
    found = only_finding(report)
    assert found.confidence == Confidence.firm
    assert "id=1001" in found.detail


# -- per-viewer fields ----------------------------------------------------------------------------


def test_the_owners_order_with_viewer_fields_is_bola(weak_views: str) -> None:
    report = scan(weak_views, [endpoint("order", "/v2/orders/1001", owner="alice")])
    detail = only_finding(report).detail
    assert "only per-viewer parts differ: 'can_edit', 'viewer'" in detail
    status, said = checks(report, "order")["bola"]
    assert status == CheckStatus.failed
    assert "bob: the same answer but for per-viewer parts" in said


def test_an_ownership_check_with_viewer_fields_gives_no_bola(hardened_views: str) -> None:
    report = scan(hardened_views, [endpoint("order", "/v2/orders/1001", owner="alice")])
    assert rules(report) == []
    assert statuses(report, "order")["bola"] == CheckStatus.passed


@pytest.mark.parametrize("path", ["/admin/dashboard", "/admin/panel"])
def test_an_admin_answer_greeting_the_viewer_is_function_level(weak_views: str, path: str) -> None:
    admin = endpoint("admin", path, identity="carol", tags=["admin"])
    report = scan(weak_views, [admin])
    assert rules(report) == ["access.function-level"]
    assert "only per-viewer parts differ" in only_finding(report).detail


@pytest.mark.parametrize("path", ["/admin/dashboard", "/admin/panel"])
def test_a_role_check_with_a_greeting_gives_no_finding(hardened_views: str, path: str) -> None:
    admin = endpoint("admin", path, identity="carol", tags=["admin"])
    report = scan(hardened_views, [admin])
    assert rules(report) == []
    assert statuses(report, "admin")["function-level"] == CheckStatus.passed


# -- redirects and details ----------------------------------------------------------------------


def test_a_redirect_to_the_login_is_described_by_its_location(weak_views: str) -> None:
    report = scan(weak_views, [endpoint("account", "/account")])
    assert rules(report) == []
    status, detail = checks(report, "account")["unauthenticated"]
    assert status == CheckStatus.passed
    assert detail == "without credentials: 302 to /login?next=/account, not alice's answer"
    assert not [c for c in report.checks if "\n" in c.detail]
