"""The SQL family against a real SQLite shop on 127.0.0.1: each weak route beside its twin."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from probe.engine import Scan
from probe.findings import CheckStatus, Confidence, Finding
from probe.report import Report
from tests.probes.apps_injection_sql import lookalike_app, sql_app
from tests.scan import scenario
from tests.servers import serve_wsgi

SQL_ONLY = {"families": ["sql"]}
RULE = "injection.sql-injection"


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    with serve_wsgi(sql_app()) as url:
        yield url


def item(prefix: str = "") -> dict[str, Any]:
    """The item route: a numeric path parameter."""
    return {"path": prefix + "/items/{id}", "path_params": {"id": "1"}, "inject": ["id"]}


def search(prefix: str = "") -> dict[str, Any]:
    """The search route: a string query parameter."""
    return {"path": prefix + "/search", "query": {"name": "widget"}, "inject": ["name"]}


def lookup(prefix: str = "") -> dict[str, Any]:
    """The lookup route: a string JSON field."""
    body = {"name": "gadget"}
    return {"method": "POST", "path": prefix + "/lookup", "json": body, "inject": ["name"]}


def id_lookup(prefix: str = "") -> dict[str, Any]:
    """The id lookup route: a numeric JSON field."""
    body = {"id": 3}
    return {"method": "POST", "path": prefix + "/id-lookup", "json": body, "inject": ["id"]}


ROUTES = (item, search, lookup, id_lookup)


def scan(url: str, endpoints: list[dict[str, Any]], **options: Any) -> tuple[Report, Scan]:
    """Run only the injection probe's SQL family; return the report and the scan."""
    config = {**SQL_ONLY, **options}
    engine = Scan(scenario(url, endpoints, probes={"injection": config}), probes=["injection"])
    return anyio.run(engine.run), engine


def sql_checks(report: Report) -> dict[str | None, tuple[CheckStatus, str]]:
    """The `sql` check of each endpoint: status and detail."""
    return {
        c.endpoint: (c.status, c.detail)
        for c in report.checks
        if c.probe == "injection" and c.check == "sql"
    }


def findings_by_endpoint(report: Report) -> dict[str | None, Finding]:
    """The SQL finding of each endpoint (one at most)."""
    found = [f for f in report.findings if f.rule == RULE]
    assert len({f.endpoint for f in found}) == len(found)
    return {f.endpoint: f for f in found}


# -- weak routes and their twins -----------------------------------------------------------


def test_string_built_queries_showing_errors_are_found_by_their_error(shop: str) -> None:
    report, _ = scan(shop, [route() for route in ROUTES])
    found = findings_by_endpoint(report)
    assert sorted(str(e) for e in found) == [
        "GET /items/{id}",
        "GET /search",
        "POST /id-lookup",
        "POST /lookup",
    ]
    for finding in found.values():
        assert finding.confidence is Confidence.firm
        assert "SQLite syntax error" in finding.detail
        assert "twice" in finding.detail
        # The attack, the baseline, then the balanced twin.
        assert len(finding.evidence) == 3
        assert finding.evidence[0].status == 500
        assert "sqlite3.OperationalError" in finding.evidence[0].body_excerpt
        assert finding.evidence[1].note is not None
        assert finding.evidence[1].note.startswith("baseline")
        assert finding.reproduce is not None
        assert finding.reproduce.startswith("curl")
    # A numeric value breaks on a bracket, a string on a quote.
    assert "a closing bracket" in found["GET /items/{id}"].detail
    assert "a single quote" in found["GET /search"].detail
    assert found["POST /lookup"].parameter == "name"
    statuses = {status for status, _ in sql_checks(report).values()}
    assert statuses == {CheckStatus.failed}


def test_quiet_routes_hiding_errors_are_found_by_true_and_false_conditions(shop: str) -> None:
    report, _ = scan(shop, [route("/quiet") for route in ROUTES])
    found = findings_by_endpoint(report)
    assert len(found) == 4
    for finding in found.values():
        assert "the true condition" in finding.detail
        assert "7 more pairs with fresh numbers" in finding.detail
        # The true condition, the baseline, the false condition, then the pair of the other
        # shape (`n<m` against `m<n`), each named by its role.
        notes = [e.note or "" for e in finding.evidence]
        assert [n.split(":")[0] for n in notes] == [
            "attack",
            "baseline",
            "false condition",
            "true condition, other shape",
            "false condition, other shape",
        ]
        assert finding.evidence[0].status == 200
        assert finding.evidence[2].status in (200, 404)
        assert "<" in finding.evidence[3].request
        # The excerpt says which side is the false condition's answer.
        assert "(false condition | baseline)" in finding.evidence[0].body_excerpt
    assert "AND" in found["GET /quiet/search"].detail
    for _, detail in sql_checks(report).values():
        assert "error-based: no SQL syntax error" in detail


def test_bound_parameter_twins_are_clean(shop: str) -> None:
    endpoints = [route(prefix) for route in ROUTES for prefix in ("/safe", "/safe/quiet")]
    report, engine = scan(shop, endpoints)
    assert report.findings == []
    checks = sql_checks(report)
    assert len(checks) == len(endpoints)
    for status, detail in checks.values():
        assert status is CheckStatus.passed, detail
        assert "time-based: off" in detail
    # A safe point costs few requests: each error pair one, each form's first true value one.
    sent = Counter(e.endpoint for e in engine.exchanges() if e.probe == "injection")
    assert sent["GET /safe/search"] <= 3 + 3 + 2
    assert sent["GET /safe/items/{id}"] <= 3 + 4 + 4


# -- pages that tempt a careless judge -------------------------------------------------------


def test_a_page_already_quoting_a_sql_error_is_not_a_finding(shop: str) -> None:
    endpoint = {"path": "/help", "query": {"topic": "widget"}, "inject": ["topic"]}
    report, engine = scan(shop, [endpoint])
    assert report.findings == []
    status, detail = sql_checks(report)["GET /help"]
    assert status is CheckStatus.passed
    assert "no SQL syntax error" in detail
    # Every answer quoted the error, the attacks' too.
    answers = [e.response for e in engine.exchanges() if e.probe == "injection" and e.response]
    assert answers
    assert all(b"sqlite3.OperationalError" in a.body for a in answers)


def test_a_page_that_is_the_same_for_every_input_is_not_a_finding(shop: str) -> None:
    endpoint = {"path": "/same", "query": {"id": "1"}, "inject": ["id"]}
    report, _ = scan(shop, [endpoint])
    assert report.findings == []
    status, detail = sql_checks(report)["GET /same"]
    assert status is CheckStatus.passed
    assert "boolean: not tried (a random value gets the unmodified answer)" in detail


def test_a_validator_refusing_quotes_is_not_a_finding(shop: str) -> None:
    endpoint = {"path": "/strict", "query": {"name": "gizmo"}, "inject": ["name"]}
    report, _ = scan(shop, [endpoint])
    assert report.findings == []
    _, detail = sql_checks(report)["GET /strict"]
    assert "the true condition got another answer (HTTP 400)" in detail


# -- time-based ------------------------------------------------------------------------------


def test_a_blind_query_is_found_by_its_sleep_and_its_twin_is_clean(shop: str) -> None:
    endpoints = [
        {"path": "/blind", "query": {"name": "widget"}, "inject": ["name"]},
        {"path": "/safe/blind", "query": {"name": "widget"}, "inject": ["name"]},
    ]
    report, _ = scan(shop, endpoints, time_based=True, delays=[1, 2])
    found = findings_by_endpoint(report)
    assert list(found) == ["GET /blind"]
    finding = found["GET /blind"]
    assert finding.confidence is Confidence.firm
    assert finding.detail.startswith("query parameter `name`: PostgreSQL sleep, string form")
    assert "pg_sleep(2)" in finding.evidence[0].request
    checks = sql_checks(report)
    assert checks["GET /blind"][0] is CheckStatus.failed
    # Neither an error nor a difference shows on the blind route: only the sleep proves.
    assert "boolean: not tried" in checks["GET /blind"][1]
    status, detail = checks["GET /safe/blind"]
    assert status is CheckStatus.passed
    assert "no sleep of PostgreSQL, MySQL/MariaDB, SQL Server or Oracle" in detail


def test_a_filter_randomly_slow_on_sleep_words_is_not_a_finding(shop: str) -> None:
    # The zero-delay controls carry the same words: they are slow at random too.
    endpoint = {"path": "/jittery", "query": {"name": "gizmo"}, "inject": ["name"]}
    report, _ = scan(shop, [endpoint], time_based=True, delays=[1, 2])
    assert report.findings == []
    status, detail = sql_checks(report)["GET /jittery"]
    assert status is CheckStatus.passed
    assert "no sleep of PostgreSQL" in detail


# -- look-alikes beside weak routes of the same kind -------------------------------------------


@pytest.fixture(scope="module")
def lookalikes() -> Iterator[str]:
    with serve_wsgi(lookalike_app()) as url:
        yield url


def query(path: str, name: str, value: str) -> dict[str, Any]:
    """An endpoint whose query parameter `name` is the point."""
    return {"path": path, "query": {name: value}, "inject": [name]}


def test_answers_drawn_by_hash_or_by_chance_are_never_sql(lookalikes: str) -> None:
    # Feature flags by hash of the value (two outcomes), a tip of the day drawn from two for a
    # parameter that is never read, and a lenient bound id beside a random banner of two:
    # before the series with fresh numbers, about one point in five was reported.
    endpoints = [query("/flags", "user", f"user{i}") for i in range(80)]
    endpoints += [query("/flags", "user", str(i)) for i in range(1, 21)]
    endpoints += [query("/home", "ref", str(1000 + i)) for i in range(20)]
    endpoints += [query("/item", "id", str(1 + i % 3)) for i in range(20)]
    report, _ = scan(lookalikes, endpoints)
    assert [f.detail for f in report.findings] == []
    details = [c.detail for c in report.checks if c.check == "sql"]
    assert len(details) == len(endpoints)
    # The hash did tempt the judge: some first pairs answered as SQL would, and the fresh
    # numbers of a later pair did not.
    assert any("with fresh numbers (pair" in d for d in details)


def test_a_calculator_is_not_sql_but_a_limit_formatted_into_the_query_is(
    lookalikes: str,
) -> None:
    endpoints = [
        query("/calc", "expr", "42"),
        query("/quiet/top", "limit", "2"),
        query("/safe/quiet/top", "limit", "2"),
    ]
    report, _ = scan(lookalikes, endpoints)
    found = findings_by_endpoint(report)
    assert list(found) == ["GET /quiet/top"]
    # LIMIT takes no AND: only the subquery arithmetic, which no calculator evaluates, fits.
    assert "(subquery arithmetic form)" in found["GET /quiet/top"].detail
    assert "(SELECT " in found["GET /quiet/top"].detail
    checks = sql_checks(report)
    assert (
        "subquery arithmetic: the true condition got another answer (HTTP 400)"
        in (checks["GET /calc"][1])
    )
    assert checks["GET /safe/quiet/top"][0] is CheckStatus.passed


def test_a_full_text_syntax_error_of_a_bound_value_is_not_sql(lookalikes: str) -> None:
    endpoints = [query("/fts", "q", "apple"), query("/fts-built", "q", "apple")]
    report, _ = scan(lookalikes, endpoints)
    found = findings_by_endpoint(report)
    # The formatted MATCH is found (its doubled quote breaks the search syntax, so by its
    # conditions); the bound one errs on quotes only in FTS5's own parser.
    assert list(found) == ["GET /fts-built"]
    status, detail = sql_checks(report)["GET /fts"]
    assert status is CheckStatus.passed
    assert "full-text or JSON-path query parser (`sqlite3.OperationalError: fts5:" in detail


def test_an_unrelated_connection_error_on_an_error_page_is_not_sql(lookalikes: str) -> None:
    endpoints = [query("/phrase", "q", "gadget"), query("/phrase-built", "q", "gadget")]
    report, _ = scan(lookalikes, endpoints)
    found = findings_by_endpoint(report)
    assert list(found) == ["GET /phrase-built"]
    # The weak twin's page shows SQLite's message in PDO's words, beside the same panel.
    assert 'SQLite syntax error: `unrecognized token: "\'"`' in found["GET /phrase-built"].detail
    status, detail = sql_checks(report)["GET /phrase"]
    assert status is CheckStatus.passed
    assert "no SQL syntax error (`db: last event: SQLSTATE[08006]" in detail


def test_order_by_injection_is_found_by_a_bracket_after_the_name(lookalikes: str) -> None:
    endpoints = [query("/sorted", "sort", "name"), query("/safe/sorted", "sort", "name")]
    report, _ = scan(lookalikes, endpoints)
    found = findings_by_endpoint(report)
    assert list(found) == ["GET /sorted"]
    finding = found["GET /sorted"]
    assert "a closing bracket after the name" in finding.detail
    assert "the value is a name in the query" in finding.detail
    assert finding.evidence[2].status == 200
    # The twin checks the name against a list and words its refusal as SQLite does: the
    # harmless value's error is said, and no message places a quote or bracket in SQL.
    status, detail = sql_checks(report)["GET /safe/sorted"]
    assert status is CheckStatus.passed
    assert "the harmless value's answer already shows a database error" in detail
    assert "no such column: prb" in detail


def test_quiet_order_by_injection_is_found_by_case_conditions(lookalikes: str) -> None:
    endpoints = [
        query("/quiet/sorted", "sort", "name"),
        query("/safe/quiet/sorted", "sort", "name"),
    ]
    report, _ = scan(lookalikes, endpoints)
    found = findings_by_endpoint(report)
    assert list(found) == ["GET /quiet/sorted"]
    finding = found["GET /quiet/sorted"]
    assert "(CASE WHEN " in finding.detail
    assert "(ORDER BY expression form)" in finding.detail
    _, detail = sql_checks(report)["GET /safe/quiet/sorted"]
    assert "ORDER BY expression: the true condition got another answer (HTTP 500)" in detail


def test_an_html_page_with_a_render_time_is_compared_by_its_content(lookalikes: str) -> None:
    endpoints = [query("/quiet/page", "id", "2"), query("/safe/quiet/page", "id", "2")]
    report, _ = scan(lookalikes, endpoints)
    found = findings_by_endpoint(report)
    assert list(found) == ["GET /quiet/page"]
    assert "(numeric form)" in found["GET /quiet/page"].detail
    assert sql_checks(report)["GET /safe/quiet/page"][0] is CheckStatus.passed
