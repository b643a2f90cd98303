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
from probe.findings import CheckStatus, Confidence, Severity
from probe.probes.injection_nosql_errors import (
    known_operator_error,
    marker_error,
    new_operator_error,
    operator_error,
    refusal_kinds,
)
from probe.probes.injection_nosql_judges import (
    Echo,
    Operator,
    count_rises,
    nothing_beyond,
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


def _query(name: str, path: str, value: str = "alice", key: str = "name") -> dict[str, Any]:
    return {"name": name, "path": path, "query": {key: value}, "inject": [key]}


WRONG = {"name": "alice", "password": "not-the-password"}
WHERE = {"where": {"category": "scifi"}}


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
    {
        "name": "user-path",
        "path": "/users/{name}",
        "path_params": {"name": "alice"},
        "inject": ["name"],
    },
    # Validators refusing operators in front of no store.
    _json("dsl", "/dsl", WHERE, ["where.category"]),
    _json("dsl-bad-value", "/dsl-bad-value", WHERE, ["where.category"]),
    _json("dsl-busy", "/dsl-busy", WHERE, ["where.category"]),
    # Operators offered on purpose, and a filter that keeps drafts apart.
    _query("catalog", "/catalog", "scifi", "category"),
    _query("posts", "/posts", "alice", "author"),
    # Answers echoing their filter, counts, JSON filters in a query parameter.
    _json("orders-search", "/orders/search", {"customer": "bob"}, ["customer"]),
    _json("orders-search-text", "/orders/search-text", {"customer": "bob"}, ["customer"]),
    _query("count", "/users/count", "admin", "role"),
    _query("count-loose", "/users/count-loose", "admin", "role"),
    _query("items", "/items", '{"customer": "bob"}', "where"),
    _query("items-safe", "/items-safe", '{"customer": "bob"}', "where"),
    # Logins whose scenario holds a wrong password: unmodified and harmless both refused.
    _json("login-wrong", "/login", WRONG, ["password"]),
    _json("login-safe-wrong", "/login-safe", WRONG, ["password"]),
    _json("login-text-wrong", "/login-text", WRONG, ["password"]),
    _json("login-200", "/login-200", LOGIN, ["password"]),
]


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


def test_login_bypass_is_reported_when_the_scenario_password_is_wrong(scanned: Scanned) -> None:
    (found,) = scanned.findings("login-wrong")
    assert found.rule == RULE
    assert found.severity == Severity.high
    assert "the unmodified and the harmless values are both refused (HTTP 401)" in found.detail


def test_search_echoing_its_filter_is_reported(scanned: Scanned) -> None:
    (found,) = scanned.findings("orders-search")
    assert found.rule == RULE
    assert "data (HTTP 200) where the harmless value gets none" in found.detail
    excerpt = found.evidence[0].body_excerpt or ""
    assert excerpt.startswith("match-everything answer | match-nothing answer: ")
    assert "eve" in excerpt


def test_count_that_rises_for_match_everything_is_reported(scanned: Scanned) -> None:
    (found,) = scanned.findings("count")
    assert found.rule == RULE
    assert found.severity == Severity.high
    assert "a higher count (2 against the harmless value's 0)" in found.detail


def test_operator_inside_a_json_filter_in_a_query_parameter_is_reported(
    scanned: Scanned,
) -> None:
    (found,) = scanned.findings("items")
    assert found.severity == Severity.high
    assert 'where={"customer": {"$ne": "prb' in found.detail
    assert found.reproduce is not None
    assert "$ne" in found.reproduce


def test_filter_showing_more_than_the_unfiltered_request_stays_high(scanned: Scanned) -> None:
    (found,) = scanned.findings("posts")
    assert found.severity == Severity.high
    assert found.confidence == Confidence.firm


def test_operators_offered_on_a_public_catalog_are_low_and_tentative(scanned: Scanned) -> None:
    (found,) = scanned.findings("catalog")
    assert found.severity == Severity.low
    assert found.confidence == Confidence.tentative
    assert "documented filter feature" in found.detail
    assert any("request without the parameter" in (e.note or "") for e in found.evidence)
    (check,) = scanned.checks("catalog")
    assert "no boundary crossed" in check.detail


def test_login_whose_unfiltered_request_is_refused_stays_high(scanned: Scanned) -> None:
    found = scanned.findings("form-login") + scanned.findings("users")
    assert found
    assert all(f.severity == Severity.high for f in found)
    assert all(f.confidence == Confidence.firm for f in found)


@pytest.mark.parametrize(
    "endpoint",
    [
        "login-safe",
        "login-text",
        "users-safe",
        "search",
        "echo",
        "same",
        "dsl",
        "dsl-bad-value",
        "dsl-busy",
        "orders-search-text",
        "count-loose",
        "items-safe",
        "login-safe-wrong",
        "login-text-wrong",
        "login-200",
    ],
)
def test_twin_is_clean(scanned: Scanned, endpoint: str) -> None:
    assert scanned.findings(endpoint) == []
    checks = scanned.checks(endpoint)
    assert checks
    assert all(c.status == CheckStatus.passed for c in checks), checks


def test_validated_login_says_objects_were_refused(scanned: Scanned) -> None:
    details = " ".join(c.detail for c in scanned.checks("login-safe"))
    assert "match-everything refused (HTTP 422)" in details


def test_validator_calling_known_operators_unknown_is_not_the_store(scanned: Scanned) -> None:
    for endpoint in ("dsl", "dsl-busy"):
        (check,) = scanned.checks(endpoint)
        assert "the known operators get the same kind of error" in check.detail
        assert "'unknown operator: $ne'" in check.detail


def test_validator_refusing_every_operator_with_a_driver_error_name_is_not_the_store(
    scanned: Scanned,
) -> None:
    (check,) = scanned.checks("dsl-bad-value")
    assert "'BadValue', but the known operators get the same kind of error" in check.detail


def test_unstable_point_sends_one_known_operator_beside_the_unknown_one(
    scanned: Scanned,
) -> None:
    sent = [e for e in scanned.exchanges if e.endpoint == "dsl-busy" and "nosql" in e.purpose]
    assert [e.purpose.rsplit(": ", 1)[-1] for e in sent] == [
        "nosql known operator",
        "nosql unknown operator",
    ]


def test_refusal_with_a_200_error_body_is_worded_so(scanned: Scanned) -> None:
    (check,) = scanned.checks("login-200")
    assert "match-everything refused (HTTP 200 with an error body)" in check.detail


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


@pytest.mark.parametrize("name", ["$ne", "$eq", "$gt", "$lt", "$regex", "$in"])
def test_unknown_operator_message_naming_a_known_operator_never_counts(name: str) -> None:
    assert operator_error(f"unknown operator: {name}") is None
    assert known_operator_error(answer({"error": f"unknown operator: {name}"}, 400), []) is None


def test_marker_error_counts_only_when_known_operators_were_not_refused_alike() -> None:
    refused = answer({"error": "unknown operator: $ne"}, 400)
    marker = answer({"error": "unknown operator: $prbz1"}, 400)
    kinds = refusal_kinds([(refused, "$ne")])
    assert kinds == {"unknown"}
    assert marker_error(marker, "$prbz1", [answer(USER)], kinds) is None
    accepted = refusal_kinds([(answer(USER), "$ne")])
    assert marker_error(marker, "$prbz1", [answer(USER)], accepted) == "unknown operator: $prbz1"


def test_marker_error_must_name_the_marker_itself() -> None:
    other = answer({"error": "unknown operator: $foo"}, 400)
    assert marker_error(other, "$prbz1", [answer(USER)], set()) is None


def test_driver_error_name_beside_a_known_operator_is_a_refusal_not_the_store() -> None:
    refused = answer({"code": "BadValue", "error": "operator $ne is not allowed"}, 400)
    assert known_operator_error(refused, [answer(USER)]) is None
    assert refusal_kinds([(refused, "$ne")]) == {"generic"}
    marker = answer({"code": "BadValue", "error": "operator $prbz1 is not allowed"}, 400)
    assert marker_error(marker, "$prbz1", [answer(USER)], {"generic"}) is None


def test_echo_leaves_out_the_sent_value_operators_and_their_text() -> None:
    echo = Echo("prb", ("prb1", ".*"), ("$ne", "$regex"))
    sent = answer({"filter": {"name": {"$ne": "prb1"}}, "q": "{'$regex': '.*'}", "n": [1]})
    assert json.loads(echo.strip(sent).body) == {"n": [1]}
    untouched = answer(USER)
    assert echo.strip(untouched) is untouched


def test_echoed_filter_does_not_hide_new_data() -> None:
    echo = Echo("prb", ("prb1",), ("$ne", "$eq"))
    bob = {"id": 1, "customer": "bob"}
    reference = Reference.learn(answer({"filter": {"customer": "bob"}, "results": [bob]}))
    harmless = answer({"filter": {"customer": "prb1"}, "results": []})
    every = answer({"filter": {"customer": {"$ne": "prb1"}}, "results": [bob, {"id": 2}]})
    none = answer({"filter": {"customer": {"$eq": "prb1"}}, "results": []})
    assert separation(every, none, reference, harmless, echo) == ""
    assert separation(every, none, reference, harmless) != ""


def test_refused_baselines_still_let_a_pair_separate() -> None:
    refused = Reference.learn(answer(DENIED, 401), answer(DENIED, 401))
    token = answer({"token": "abc", "user": "alice"})
    assert separation(token, answer(DENIED, 401), refused, answer(DENIED, 401)) == ""
    assert separation(token, token, refused, answer(DENIED, 401)) != ""


def test_a_count_rising_for_match_everything_alone_separates() -> None:
    reference = Reference.learn(answer({"count": 1}), answer({"count": 1}))
    harmless = answer({"count": 0})
    assert count_rises(answer({"count": 3}), harmless) == (0, 3)
    assert separation(answer({"count": 3}), answer({"count": 0}), reference, harmless) == ""
    assert separation(answer({"count": 3}), answer({"count": 3}), reference, harmless) != ""


def test_answer_within_the_unfiltered_one_crosses_no_boundary() -> None:
    books = [{"title": "Dune"}, {"title": "Emma"}, {"title": "Ubik"}]
    unfiltered = answer({"books": books})
    assert nothing_beyond(answer({"books": books[1:]}), unfiltered, Echo())
    assert not nothing_beyond(answer({"books": [*books, {"title": "Draft"}]}), unfiltered, Echo())
    assert not nothing_beyond(answer({"books": books}), answer(DENIED, 401), Echo())
    assert nothing_beyond(answer({"count": 2}), answer({"count": 3}), Echo())
    assert not nothing_beyond(answer({"count": 4}), answer({"count": 3}), Echo())


def test_a_2xx_error_body_is_named_as_such() -> None:
    error = answer({"error": "must be a string"})
    why = separation(error, error, REFERENCE, answer(DENIED, 401))
    assert why == "match-everything refused (HTTP 200 with an error body)"
