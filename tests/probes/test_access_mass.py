"""The access probe's mass-assignment check against APIs that keep privilege fields as inert
data, strict update models, bodies that wrap their fields (`{"data": {...}}`, JSON:API) and
read-backs holding no object (a real FastAPI app per test: the probe's writes change its
state).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict

from probe.findings import CheckStatus
from probe.report import Report
from tests.probes import apps_access as apps
from tests.probes.test_access import checks, only_finding, scan
from tests.scan import rules
from tests.servers import serve_asgi


class StrictUpdate(BaseModel):
    """An update model that refuses unknown fields (a common hardening) yet takes `role`."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    role: str | None = None


class StrictNameOnly(BaseModel):
    """The same hardening, done right: only the name."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None


def profiles_app() -> FastAPI:
    """Alice's profile behind several update routes, each read back by GET on its path:
    /meta keeps unknown fields under "metadata"; /prefs stores any key in a free-form
    preferences bag (the answer's only key); /vuln stores every field; /strict binds
    `StrictUpdate` (role slips through); /strict-ok binds `StrictNameOnly`."""
    app = FastAPI()
    profile: dict[str, Any] = {"id": 1, "name": "alice", "role": "user", "is_admin": False}
    meta: dict[str, Any] = {**profile, "metadata": {}}
    prefs: dict[str, Any] = {"theme": "light"}

    def caller(authorization: str | None = Header(default=None)) -> str:
        user = apps.user_of(authorization)
        if user is None:
            raise HTTPException(401, "not authenticated")
        return user

    @app.get("/meta")
    def read_meta(user: str = Depends(caller)) -> dict[str, Any]:
        return meta

    @app.patch("/meta")
    def write_meta(body: dict[str, Any], user: str = Depends(caller)) -> dict[str, Any]:
        for key, value in body.items():
            if key == "name":
                meta["name"] = value
            else:
                meta["metadata"][key] = value
        return meta

    @app.get("/prefs")
    def read_prefs(user: str = Depends(caller)) -> dict[str, Any]:
        return {"preferences": prefs}

    @app.put("/prefs")
    def write_prefs(body: dict[str, Any], user: str = Depends(caller)) -> dict[str, Any]:
        prefs.update(body)
        return {"preferences": prefs}

    @app.get("/vuln")
    @app.get("/strict")
    @app.get("/strict-ok")
    def read(user: str = Depends(caller)) -> dict[str, Any]:
        return {"data": profile}

    @app.patch("/vuln")
    def write_all(body: dict[str, Any], user: str = Depends(caller)) -> dict[str, Any]:
        profile.update(body)
        return {"data": profile}

    @app.patch("/strict")
    def write_strict(body: StrictUpdate, user: str = Depends(caller)) -> dict[str, Any]:
        profile.update(body.model_dump(exclude_none=True))
        return {"data": profile}

    @app.patch("/strict-ok")
    def write_name(body: StrictNameOnly, user: str = Depends(caller)) -> dict[str, Any]:
        profile.update(body.model_dump(exclude_none=True))
        return {"data": profile}

    return app


def mass(path: str, method: str = "PATCH") -> dict[str, Any]:
    return {
        "name": "update",
        "method": method,
        "path": path,
        "identity": "alice",
        "json": {"name": "Alice A."},
        "mass_assignment": True,
    }


def mass_scan(endpoint: dict[str, Any]) -> Report:
    with serve_asgi(profiles_app()) as url:
        return scan(url, [endpoint], identities=apps.identities("alice"))


def test_privilege_fields_kept_under_metadata_give_no_finding() -> None:
    report = mass_scan(mass("/meta"))
    assert rules(report) == []
    status, detail = checks(report, "update")["mass-assignment"]
    assert status == CheckStatus.passed
    assert detail.startswith("the read-back holds none of")


def test_privilege_fields_in_a_preferences_bag_give_no_finding() -> None:
    report = mass_scan(mass("/prefs", "PUT"))
    assert rules(report) == []
    assert checks(report, "update")["mass-assignment"][0] == CheckStatus.passed


def test_privilege_fields_stored_inside_a_data_wrapper_are_reported() -> None:
    report = mass_scan(mass("/vuln"))
    assert rules(report) == ["access.mass-assignment"]
    assert 'stored admin=true, is_admin=true, role="admin"' in only_finding(report).detail


def test_a_strict_model_taking_one_field_alone_is_reported() -> None:
    report = mass_scan(mass("/strict"))
    assert rules(report) == ["access.mass-assignment"]
    detail = only_finding(report).detail
    assert "was refused (422" in detail
    assert "so each was sent alone; admin: refused (422); is_admin: refused (422)" in detail
    assert 'stored role="admin"' in detail


def test_a_strict_model_refusing_every_field_gives_no_finding() -> None:
    report = mass_scan(mass("/strict-ok"))
    assert rules(report) == []
    status, detail = checks(report, "update")["mass-assignment"]
    assert status == CheckStatus.passed
    assert detail.endswith("admin: refused (422); is_admin: refused (422); role: refused (422)")


# -- wrapped bodies -------------------------------------------------------------------------------


def wrapped_app(received: list[dict[str, Any]]) -> FastAPI:
    """Bob's profile behind update routes whose bodies wrap the fields, each read back by GET
    on its path: /v1 takes {"data": {...}} and stores every field of it; /v2 takes JSON:API
    {"data": {"type", "id", "attributes": {...}}} and stores every attribute; /v3 takes
    {"user": {...}} and binds only the name (the hardened twin); /numbers reads back a list of
    numbers. `received` gets every write body."""
    app = FastAPI()
    base = {"id": 2, "name": "Bob", "role": "user", "admin": False, "is_admin": False}
    stored = {version: dict(base) for version in ("v1", "v2", "v3")}

    def caller(authorization: str | None = Header(default=None)) -> str:
        user = apps.user_of(authorization)
        if user is None:
            raise HTTPException(401, "not authenticated")
        return user

    @app.get("/v1")
    def read_v1(user: str = Depends(caller)) -> dict[str, Any]:
        return {"data": stored["v1"]}

    @app.put("/v1")
    def write_v1(body: dict[str, Any], user: str = Depends(caller)) -> dict[str, Any]:
        received.append(body)
        stored["v1"].update(body.get("data") or {})
        return {"data": stored["v1"]}

    @app.get("/v2")
    def read_v2(user: str = Depends(caller)) -> dict[str, Any]:
        attributes = {k: v for k, v in stored["v2"].items() if k != "id"}
        return {"data": {"type": "users", "id": "2", "attributes": attributes}}

    @app.patch("/v2")
    def write_v2(body: dict[str, Any], user: str = Depends(caller)) -> dict[str, Any]:
        received.append(body)
        stored["v2"].update((body.get("data") or {}).get("attributes") or {})
        return read_v2(user)

    @app.get("/v3")
    def read_v3(user: str = Depends(caller)) -> dict[str, Any]:
        return {"user": stored["v3"]}

    @app.put("/v3")
    def write_v3(body: dict[str, Any], user: str = Depends(caller)) -> dict[str, Any]:
        received.append(body)
        stored["v3"]["name"] = (body.get("user") or {}).get("name", stored["v3"]["name"])
        return {"user": stored["v3"]}

    @app.get("/numbers")
    @app.patch("/numbers")
    def numbers(user: str = Depends(caller)) -> list[int]:
        return [1, 2, 3]

    return app


def wrapped(path: str, method: str, body: dict[str, Any], **mass: Any) -> dict[str, Any]:
    return {
        "name": "update",
        "method": method,
        "path": path,
        "identity": "alice",
        "json": body,
        "mass_assignment": mass or True,
    }


def wrapped_scan(endpoint: dict[str, Any]) -> tuple[Report, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []
    with serve_asgi(wrapped_app(received)) as url:
        return scan(url, [endpoint], identities=apps.identities("alice")), received


def test_privilege_fields_inside_a_data_wrapper_are_reported() -> None:
    report, received = wrapped_scan(wrapped("/v1", "PUT", {"data": {"name": "Bob"}}))
    assert rules(report) == ["access.mass-assignment"]
    assert "(added inside data)" in only_finding(report).detail
    assert received[-1] == {
        "data": {"name": "Bob", "admin": True, "is_admin": True, "role": "admin"}
    }


def test_privilege_fields_inside_json_api_attributes_are_reported() -> None:
    body = {"data": {"type": "users", "id": "2", "attributes": {"name": "Bob"}}}
    report, received = wrapped_scan(wrapped("/v2", "PATCH", body))
    assert rules(report) == ["access.mass-assignment"]
    assert "(added inside data.attributes)" in only_finding(report).detail
    assert received[-1]["data"]["attributes"]["role"] == "admin"
    assert set(received[-1]) == {"data"}


def test_a_wrapper_that_binds_only_its_own_fields_gives_no_finding() -> None:
    report, received = wrapped_scan(wrapped("/v3", "PUT", {"user": {"name": "Bob"}}))
    assert rules(report) == []
    status, detail = checks(report, "update")["mass-assignment"]
    assert status == CheckStatus.passed
    assert "(added inside user of the body)" in detail
    assert received[-1]["user"]["role"] == "admin"


# A dotted name ("data.role") is refused when the scenario loads (tests/scenario).
@pytest.mark.parametrize("fields", [{"data": {"role": "admin"}}])
def test_a_field_name_placing_itself_is_refused_before_any_write(fields: dict[str, Any]) -> None:
    endpoint = wrapped("/v1", "PUT", {"data": {"name": "Bob"}}, fields=fields)
    report, received = wrapped_scan(endpoint)
    assert rules(report) == []
    status, detail = checks(report, "update")["mass-assignment"]
    assert status == CheckStatus.error
    assert f"{next(iter(fields))!r}: fields are added where the body's own fields are" in detail
    assert "(inside data)" in detail
    # Only the scenario's own body went (the engine's baseline, the probe's replays).
    assert received
    assert all(body == {"data": {"name": "Bob"}} for body in received)


def test_a_read_back_without_an_object_is_an_error_not_a_pass() -> None:
    report, _ = wrapped_scan(wrapped("/numbers", "PATCH", {"name": "Bob"}))
    assert rules(report) == []
    status, detail = checks(report, "update")["mass-assignment"]
    assert status == CheckStatus.error
    assert "answered 200 [1,2,3]: no object to read the fields from" in detail
