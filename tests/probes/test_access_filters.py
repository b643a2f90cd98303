"""The access probe against answers the server filters for the viewer (masked e-mails, fields
withheld from anonymous callers) and answers that carry the viewer beside the data
(`"current_user": null`, `"viewer": "anonymous"`, `can_edit` in every list item); real FastAPI
apps on 127.0.0.1 with PyJWT tokens, each weak app beside its hardened twin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

from probe.findings import CheckStatus
from tests.probes import apps_access as apps
from tests.probes.test_access import checks, only_finding, scan, statuses
from tests.scan import rules
from tests.servers import serve_asgi

INVOICES = [
    {"id": 5001, "customer": "ACME GmbH", "amount": 12999.0, "iban": "DE89370400440532013000"},
    {"id": 5002, "customer": "Globex", "amount": 880.5, "iban": "FR1420041010050500013M02606"},
]


def mask(email: str) -> str:
    local, domain = email.split("@")
    return f"{local[0]}***@{domain}"


def directory_app(people: int) -> FastAPI:
    """Admin routes for carol (the admin) with `people` users: /admin/users gives plain users
    the same list with masked e-mails (a directory view, by design); /admin/orders gives them
    the full order list with `can_edit` false on every item (no role check: the weak twin of
    the masked directory)."""
    app = FastAPI()
    names = [f"user{i}" for i in range(people)]

    def caller(authorization: str | None) -> str | None:
        return apps.user_of(authorization)

    @app.get("/admin/users", response_model=None)
    def users(authorization: str | None = Header(default=None)) -> Any:
        user = caller(authorization)
        if user is None:
            return JSONResponse({"detail": "not authenticated"}, 401)
        admin = apps.USERS[user]["role"] == "admin"
        data = [
            {
                "id": i,
                "name": n,
                "email": f"{n}@example.test" if admin else mask(f"{n}@example.test"),
            }
            for i, n in enumerate(names)
        ]
        return {"data": data, "meta": {"page": 1, "total": len(data)}}

    @app.get("/admin/orders", response_model=None)
    def orders(authorization: str | None = Header(default=None)) -> Any:
        user = caller(authorization)
        if user is None:
            return JSONResponse({"detail": "not authenticated"}, 401)
        admin = apps.USERS[user]["role"] == "admin"
        data = [{**_order(i, n), "can_edit": admin} for i, n in enumerate(names)]
        return {"data": data, "meta": {"page": 1, "total": len(data)}}

    return app


def _order(number: int, buyer: str) -> dict[str, Any]:
    return {
        "id": 700 + number,
        "buyer": buyer,
        "total": 10.5 * (number + 1),
        "currency": "EUR",
        "status": "paid",
        "city": "Berlin",
        "country": "DE",
        "sku": f"SKU-{number}",
        "carrier": "DHL",
    }


def optional_auth_app(*, required: bool) -> FastAPI:
    """Routes behind middleware that names the caller in every answer (None for anonymous
    callers); `required` turns the login check on (the hardened twin). /api/invoices holds
    `current_user`, /api/me/invoices `viewer` and `can_export`, /api/catalog the products,
    with cost and supplier for signed-in callers only."""
    app = FastAPI()

    def caller(authorization: str | None) -> str | JSONResponse | None:
        user = apps.user_of(authorization)
        if user is None and required:
            return JSONResponse({"detail": "not authenticated"}, 401)
        return user

    @app.get("/api/invoices", response_model=None)
    def invoices(authorization: str | None = Header(default=None)) -> Any:
        user = caller(authorization)
        if isinstance(user, JSONResponse):
            return user
        current = {"id": apps.USERS[user]["id"], "name": user.title()} if user else None
        return {"current_user": current, "invoices": INVOICES}

    @app.get("/api/me/invoices", response_model=None)
    def mine(authorization: str | None = Header(default=None)) -> Any:
        user = caller(authorization)
        if isinstance(user, JSONResponse):
            return user
        viewer = f"{user}@example.test" if user else "anonymous"
        return {"viewer": viewer, "can_export": bool(user), "invoices": INVOICES}

    @app.get("/api/catalog", response_model=None)
    def catalog(authorization: str | None = Header(default=None)) -> Any:
        user = caller(authorization)
        if isinstance(user, JSONResponse):
            return user
        items = []
        for i in range(5):
            item: dict[str, Any] = {"id": i, "name": f"Product {i}", "price": 10 + i}
            if user:
                item.update(cost=5 + i, supplier=f"Supplier {i}")
            items.append(item)
        return {"items": items}

    return app


@pytest.fixture(scope="module", params=[2, 3, 7], ids=lambda n: f"{n}-people")
def directory(request: pytest.FixtureRequest) -> Iterator[str]:
    with serve_asgi(directory_app(request.param)) as url:
        yield url


@pytest.fixture(scope="module")
def weak_optional() -> Iterator[str]:
    with serve_asgi(optional_auth_app(required=False)) as url:
        yield url


@pytest.fixture(scope="module")
def hardened_optional() -> Iterator[str]:
    with serve_asgi(optional_auth_app(required=True)) as url:
        yield url


def admin(path: str) -> dict[str, Any]:
    return {"name": "admin", "path": path, "identity": "carol", "tags": ["admin"]}


def endpoint(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "path": path, "identity": "alice"}


# -- filtered for the viewer ----------------------------------------------------------------------


def test_masked_emails_for_plain_users_are_a_filter_whatever_the_list_size(directory: str) -> None:
    report = scan(directory, [admin("/admin/users")])
    assert rules(report) == []
    status, detail = checks(report, "admin")["function-level"]
    assert status == CheckStatus.passed
    assert "the entitled answer filtered for this viewer: data.*.email masked" in detail


def test_a_per_viewer_flag_in_every_item_is_one_part_whatever_the_list_size(
    directory: str,
) -> None:
    report = scan(directory, [admin("/admin/orders")])
    assert rules(report) == ["access.function-level"]
    assert "only per-viewer parts differ: 'data.*.can_edit'" in only_finding(report).detail


# -- anonymous callers with a viewer field --------------------------------------------------------


def test_anonymous_data_with_a_null_current_user_is_reported(weak_optional: str) -> None:
    report = scan(weak_optional, [endpoint("invoices", "/api/invoices")])
    assert rules(report) == ["access.unauthenticated"]
    detail = only_finding(report).detail
    assert "only per-viewer parts differ: 'current_user'" in detail
    seen = statuses(report, "invoices")
    assert seen["unauthenticated"] == seen["invalid-token"] == CheckStatus.failed


def test_anonymous_data_with_an_anonymous_viewer_is_reported(weak_optional: str) -> None:
    report = scan(weak_optional, [endpoint("mine", "/api/me/invoices")])
    assert rules(report) == ["access.unauthenticated"]
    detail = only_finding(report).detail
    assert "only per-viewer parts differ: " in detail
    assert "'can_export'" in detail
    assert "'viewer'" in detail


def test_fields_withheld_from_anonymous_callers_are_a_filter(weak_optional: str) -> None:
    report = scan(weak_optional, [endpoint("catalog", "/api/catalog")])
    assert rules(report) == []
    status, detail = checks(report, "catalog")["unauthenticated"]
    assert status == CheckStatus.passed
    assert "items.*.cost withheld" in detail


@pytest.mark.parametrize("path", ["/api/invoices", "/api/me/invoices", "/api/catalog"])
def test_a_login_check_with_viewer_fields_gives_no_finding(
    hardened_optional: str, path: str
) -> None:
    report = scan(hardened_optional, [endpoint("route", path)])
    assert rules(report) == []
    seen = statuses(report, "route")
    assert seen["unauthenticated"] == seen["invalid-token"] == CheckStatus.passed
