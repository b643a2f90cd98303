"""The access probe's mass-assignment check against APIs that keep privilege fields as inert
data, and against strict update models (a real FastAPI app per test: the probe's writes change
its state).
"""

from __future__ import annotations

from typing import Any

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
