"""The nosql family against a real API over mongomock, and its pure judges.

One scan covers every route of `apps_injection_nosql` (weak routes and their twins); the tests
read its findings and checks per endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.findings import CheckStatus
from probe.probes.injection_nosql_judges import (
    Operator,
    new_operator_error,
    operator_error,
    operator_pairs,
    separation,
)
from tests.probes import apps_injection_nosql as apps
from tests.probes.injection_scan import Scanned, scan_family
from tests.servers import serve_asgi

RULE = "injection.nosql-injection"
LOGIN = {"name": "alice", "password": "s3cret"}


def _json(name: str, path: str, body: dict[str, Any], inject: list[str]) -> dict[str, Any]:
    return {"name": name, "method": "POST", "path": path, "json": body, "inject": inject}


def _query(name: str, path: str, value: str = "alice") -> dict[str, Any]:
    return {"name": name, "path": path, "query": {"name": value}, "inject": ["name"]}


ENDPOINTS = [
    _json("login", "/login", LOGIN, ["name", "password"]),
    _json("login-safe", "/login-safe", LOGIN, ["name", "password"]),
    _json("login-text", "/login-text", LOGIN, ["name", "password"]),
    {
        "name": "form-login",
        "method": "POST",
        "path": "/form-login",
        "form": LOGIN,
        "inject": ["name", "password"],
    },
    _query("users", "/users"),
    _query("users-safe", "/users-safe"),
    _query("search", "/search"),
    _json("by-age", "/by-age", {"age": 34}, ["age"]),
    _json("subscribe", "/subscribe", {"email": "alice"}, ["email"]),
    _json("echo", "/echo", {"name": "alice"}, ["name"]),
    _query("same", "/same"),
    {"name": "user-path", "path": "/users/{name}", "path_params": {"name": "alice"}},
]
ENDPOINTS[-1]["inject"] = ["name"]


@pytest.fixture(scope="module")
def scanned() -> Iterator[Scanned]:
    with serve_asgi(apps.app()) as base:
        yield scan_family(base, ENDPOINTS, "nosql")


# -- weak routes ----------------------------------------------------------------------------------


def test_login_taking_json_objects_is_reported_for_both_fields(scanned: Scanned) -> None:
    found = scanned.findings("login")
    assert {f.rule for f in found} == {RULE}
    assert sorted(f.parameter or "" for f in found) == ["name", "password"]
    detail = found[0].detail
    assert '{"$ne": "prb' in detail
    assert '{"$eq": "prb' in detail
    assert "twice each" in detail
    assert all(c.status == CheckStatus.failed for c in scanned.checks("login"))


def test_login_finding_shows_the_attack_and_reproduces_it(scanned: Scanned) -> None:
    finding = scanned.findings("login")[0]
    assert finding.reproduce is not None
    assert "curl" in finding.reproduce
    assert "$ne" in finding.reproduce
    assert len(finding.evidence) >= 4  # attack, baseline, match-nothing, harmless, repeats


def test_query_string_brackets_are_reported(scanned: Scanned) -> None:
    found = scanned.findings("users")
    assert [f.rule for f in found] == [RULE]
    assert "name[$ne]=prb" in found[0].detail


def test_form_brackets_are_reported(scanned: Scanned) -> None:
    found = scanned.findings("form-login")
    assert {f.rule for f in found} == {RULE}
    assert "[$ne]=" in found[0].detail


def test_numeric_field_listing_every_record_is_reported(scanned: Scanned) -> None:
    found = scanned.findings("by-age")
    assert [f.rule for f in found] == [RULE]


def test_operator_error_message_is_reported_where_answers_never_change(
    scanned: Scanned,
) -> None:
    found = scanned.findings("subscribe")
    assert [f.rule for f in found] == [RULE]
    assert "unknown operator: $prb" in found[0].detail
    (check,) = scanned.checks("subscribe")
    assert check.status == CheckStatus.failed


# -- twins ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", ["login-safe", "login-text", "users-safe", "search", "echo", "same"]
)
def test_twin_is_clean(scanned: Scanned, endpoint: str) -> None:
    assert scanned.findings(endpoint) == []
    checks = scanned.checks(endpoint)
    assert checks
    assert all(c.status == CheckStatus.passed for c in checks), checks


def test_validated_login_says_objects_were_refused(scanned: Scanned) -> None:
    details = " ".join(c.detail for c in scanned.checks("login-safe"))
    assert "match-everything refused (HTTP 422)" in details


def test_ignoring_bracket_keys_lists_everyone_for_both_operators_and_is_clean(
    scanned: Scanned,
) -> None:
    (check,) = scanned.checks("search")
    assert "is not the harmless value's answer" in check.detail


def test_same_page_for_every_input_compares_nothing(scanned: Scanned) -> None:
    (check,) = scanned.checks("same")
    assert "does not change the answer" in check.detail


def test_path_parameter_is_skipped(scanned: Scanned) -> None:
    (check,) = scanned.checks("user-path")
    assert check.status == CheckStatus.skipped
    assert scanned.findings("user-path") == []


def test_safe_point_costs_few_requests_and_the_scan_is_quick(scanned: Scanned) -> None:
    sent = [e for e in scanned.exchanges if e.endpoint == "users-safe" and "nosql" in e.purpose]
    assert len(sent) <= 7  # three pairs once each, one unknown operator
    assert scanned.seconds < 30


# -- pure judges ----------------------------------------------------------------------------------


def answer(body: Any, status: int = 200) -> ResponseRecord:
    raw = json.dumps(body).encode()
    return ResponseRecord(status, "HTTP/1.1", (("Content-Type", "application/json"),), raw)


USER = {"user": "alice", "role": "admin"}
DENIED = {"error": "invalid credentials"}
REFERENCE = Reference.learn(answer(USER), answer(USER))


def test_everything_like_baseline_and_nothing_like_harmless_separates() -> None:
    assert separation(answer(USER), answer(DENIED, 401), REFERENCE, answer(DENIED, 401)) == ""


def test_more_data_than_a_harmless_empty_list_counts_as_success() -> None:
    reference = Reference.learn(answer({"users": [USER]}), answer({"users": [USER]}))
    every = answer({"users": [USER, {"user": "bob", "role": "user"}]})
    assert separation(every, answer({"users": []}), reference, answer({"users": []})) == ""


def test_refused_objects_do_not_separate() -> None:
    refused = answer({"detail": "must be a string"}, 422)
    why = separation(refused, refused, REFERENCE, answer(DENIED, 401))
    assert why == "match-everything refused (HTTP 422)"


def test_reflected_operators_do_not_separate() -> None:
    every = answer({"you_sent": {"$ne": "x"}})
    none = answer({"you_sent": {"$eq": "x"}})
    reference = Reference.learn(answer({"you_sent": "alice"}), answer({"you_sent": "alice"}))
    assert separation(every, none, reference, answer({"you_sent": "x"})) != ""


def test_same_answer_to_both_operators_does_not_separate() -> None:
    everyone = answer({"users": [USER]})
    assert separation(everyone, everyone, REFERENCE, answer({"users": []})) != ""


def test_pairs_keep_shape_and_value_and_skip_text_operators_for_numbers() -> None:
    pairs = operator_pairs("prb1")
    assert [p.label for p in pairs] == ["$ne/$eq", "$gt/$lt", "$regex"]
    first = pairs[0]
    assert first.everything.value == first.nothing.value == "prb1"
    assert [p.label for p in operator_pairs("prb1", numeric=True)] == ["$ne/$eq", "$gt/$lt"]


def test_operator_shows_as_json_or_bracket_syntax() -> None:
    op = Operator("$ne", "x")
    assert op.shown(False, "name") == '{"$ne": "x"}'
    assert op.shown(True, "name") == "name[$ne]=x"


@pytest.mark.parametrize(
    "text",
    [
        "unknown operator: $prbab12",
        "OperationFailure: $regex has to be a string",
        "$in needs an array",
        "CastError: Can't use $prbx with String.",
        "unknown top level operator: $foo",
    ],
)
def test_operator_errors_are_recognised(text: str) -> None:
    assert operator_error(text) is not None


def test_generic_driver_error_counts_only_beside_a_sent_operator() -> None:
    assert operator_error("MongoServerError: E11000 duplicate key") is None
    assert operator_error("MongoServerError near $prbz", ("$prbz",)) == "MongoServerError"


def test_casting_refusal_is_not_an_operator_error() -> None:
    assert operator_error('Cast to string failed for value "{ a: 1 }"') is None


def test_operator_error_already_in_a_baseline_does_not_count() -> None:
    page = answer({"faq": "we once saw 'unknown operator: $x' in logs"})
    assert new_operator_error(page, [page]) is None
    assert new_operator_error(page, [answer(USER)]) is not None
