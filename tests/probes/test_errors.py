"""The errors probe against real framework apps on 127.0.0.1: each weak app beside its twin."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from probe.engine import Scan
from probe.exchange import Exchange
from probe.findings import CheckStatus, Confidence, Finding, Severity
from probe.probes.error_triggers import (
    LONG_VALUE_BYTES,
    UNSUPPORTED_METHOD,
    plan_triggers,
    replay_refusal,
    swap_first_leaf,
    swap_numbers,
    takes_json,
    target_roots,
)
from probe.probes.exposure_signatures import EXPOSURES
from probe.report import Report
from probe.scenario.models import Endpoint
from tests.probes import apps_errors as apps
from tests.probes import apps_secrets as secret_apps
from tests.scan import rules, run, scenario
from tests.servers import serve_asgi, serve_wsgi

ITEM = {"path": "/items/{id}", "path_params": {"id": "1"}}
NO_EXPOSURE = {"probes": {"errors": {"exposure_paths": False}}}


def scan(base_url: str, endpoints: list[dict[str, Any]], **extra: Any) -> Report:
    """Run only the errors probe."""
    return run(scenario(base_url, endpoints, **extra), probes=["errors"])


def scan_with_exchanges(
    base_url: str, endpoints: list[dict[str, Any]], **extra: Any
) -> tuple[Report, list[Exchange]]:
    """Run only the errors probe and keep every exchange of the scan."""
    engine = Scan(scenario(base_url, endpoints, **extra), probes=["errors"])
    report = anyio.run(engine.run)
    return report, list(engine.exchanges())


def finding(report: Report, rule: str) -> Finding:
    """The single finding of a rule."""
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, [f.rule for f in report.findings]
    return found[0]


def checks(report: Report, check: str) -> dict[str | None, CheckStatus]:
    """Status of one check per endpoint."""
    return {c.endpoint: c.status for c in report.checks if c.probe == "errors" and c.check == check}


# -- Flask under Werkzeug's debugger ---------------------------------------------------------------


def test_werkzeug_debugger_resources_are_a_critical_console() -> None:
    with serve_wsgi(apps.flask_app(debug=True)) as url:
        report = scan(url, [ITEM])
    console = finding(report, "errors.debug-console")
    assert console.severity is Severity.critical
    assert any("__debugger__=yes&cmd=resource&f=debugger.js" in a for a in console.affected)
    assert any(a.endswith("/console") for a in console.affected)
    excerpts = "".join(e.body_excerpt for e in console.evidence)
    assert not re.search(r'SECRET = "[A-Za-z0-9]{10,}"', excerpts)


def test_flask_without_debug_gives_no_finding() -> None:
    with serve_wsgi(apps.flask_app(debug=False)) as url:
        report = scan(url, [ITEM])
    assert rules(report) == []
    assert set(checks(report, "error-disclosure").values()) == {CheckStatus.passed}
    assert checks(report, "exposure-paths") == {None: CheckStatus.passed}


def test_werkzeug_traceback_page_on_a_crash_is_reported_on_the_endpoint() -> None:
    with serve_wsgi(apps.flask_app(debug=True, crash_on_words=True)) as url:
        report = scan(url, [ITEM], **NO_EXPOSURE)
    console = finding(report, "errors.debug-console")
    assert console.endpoint == "GET /items/{id}"
    assert console.confidence.value == "certain"
    assert "Werkzeug Debugger" in console.evidence[0].body_excerpt
    assert "errors.unhandled-5xx" in rules(report)


def test_flask_crash_without_debug_is_only_an_unhandled_500() -> None:
    with serve_wsgi(apps.flask_app(debug=False, crash_on_words=True)) as url:
        report = scan(url, [ITEM], **NO_EXPOSURE)
    assert rules(report) == ["errors.unhandled-5xx"]
    unhandled = finding(report, "errors.unhandled-5xx")
    assert unhandled.severity is Severity.low
    assert "type-confusion" in unhandled.detail


# -- Starlette -------------------------------------------------------------------------------------


def test_starlette_debug_leaks_a_page_for_html_and_a_traceback_for_json() -> None:
    with serve_asgi(apps.starlette_app(debug=True)) as url:
        report = scan(url, [ITEM], **NO_EXPOSURE)
    assert rules(report) == ["errors.debug-page", "errors.stack-trace", "errors.unhandled-5xx"]
    page = finding(report, "errors.debug-page")
    assert page.severity is Severity.high
    assert ":html" in page.detail
    assert "Starlette" in page.detail
    trace = finding(report, "errors.stack-trace")
    assert ":json" in trace.detail
    assert "Traceback (most recent call last):" in trace.evidence[0].body_excerpt


def test_starlette_without_debug_leaks_nothing() -> None:
    with serve_asgi(apps.starlette_app(debug=False)) as url:
        report = scan(url, [ITEM], **NO_EXPOSURE)
    assert rules(report) == ["errors.unhandled-5xx"]


# -- Django (child processes: settings are configured once per process) ----------------------------


def test_django_debug_true_shows_technical_500_and_404_pages() -> None:
    with apps.serve_django(debug=True) as url:
        report = scan(url, [ITEM])
    page = finding(report, "errors.debug-page")
    assert page.severity is Severity.high
    assert "Django technical 500 page" in page.detail
    assert "Django technical 404 page" in page.detail
    assert "GET /items/{id}" in page.affected
    # The random path stands for the 24 exposure paths that got the same 404 page.
    assert not [a for a in page.affected if "/.env" in a or "/.git" in a]
    assert [a for a in page.affected if a.endswith("-missing")]
    assert "errors.stack-trace" not in rules(report)  # the page stands for its traceback


def test_django_debug_false_shows_no_debug_page() -> None:
    with apps.serve_django(debug=False) as url:
        report = scan(url, [ITEM], **NO_EXPOSURE)
    assert rules(report) == ["errors.unhandled-5xx"]


# -- SQL errors, prose and catch-all pages ---------------------------------------------------------


def test_sqlite_error_text_in_an_answer_is_reported() -> None:
    with serve_asgi(apps.sqlite_app()) as url:
        report = scan(url, [{"path": "/products", "query": {"id": "1"}}], **NO_EXPOSURE)
    assert rules(report) == ["errors.sql-error"]
    sql = finding(report, "errors.sql-error")
    assert "SQLite" in sql.detail
    assert "no such column" in sql.evidence[0].body_excerpt


def test_sql_error_already_in_the_normal_answer_is_not_reported() -> None:
    with serve_asgi(apps.status_app()) as url:
        report = scan(url, [{"path": "/status"}], **NO_EXPOSURE)
    assert rules(report) == []


def test_catch_all_documentation_page_gives_no_finding() -> None:
    with serve_asgi(apps.catch_all_app()) as url:
        report = scan(url, [{"path": "/docs"}, {"method": "POST", "path": "/docs/search"}])
    assert rules(report) == []
    assert checks(report, "exposure-paths") == {None: CheckStatus.passed}


# -- exposure paths --------------------------------------------------------------------------------


def test_dotenv_and_git_metadata_at_the_host_root_are_reported() -> None:
    with serve_asgi(apps.leaky_files_app()) as url:
        report = scan(url + "/api", [{"path": "/ping"}])
    exposed = [f for f in report.findings if f.rule == "errors.exposed-file"]
    assert len(exposed) == 2, rules(report)
    assert [f.severity for f in exposed] == [Severity.high, Severity.high]
    urls = sorted(a for f in exposed for a in f.affected)
    assert urls == [f"{url}/.env", f"{url}/.git/HEAD", f"{url}/.git/config"]
    # One URL is named in `affected`, never left for "several endpoints" to stand for.
    [dotenv] = [f for f in exposed if f.affected == [f"{url}/.env"]]
    assert dotenv.endpoint is None
    text = json.dumps([f.model_dump(mode="json") for f in report.findings])
    assert "hunter2-prod" not in text
    assert "sk_live_51Hx3kQ2eZvKYlo2C" not in text
    assert "SECRET_KEY=[value hidden]" in text


def test_spa_answering_dotenv_with_its_index_page_is_not_reported() -> None:
    with serve_asgi(apps.spa_app()) as url:
        report = scan(url + "/api", [{"path": "/ping"}])
    assert rules(report) == []


def test_exposure_paths_can_be_turned_off() -> None:
    with serve_asgi(apps.leaky_files_app()) as url:
        report, exchanges = scan_with_exchanges(url + "/api", [{"path": "/ping"}], **NO_EXPOSURE)
    assert rules(report) == []
    assert not [x for x in exchanges if x.purpose.startswith("exposure")]
    assert checks(report, "exposure-paths") == {None: CheckStatus.skipped}


# -- secrets ---------------------------------------------------------------------------------------


def test_password_hash_and_api_key_in_json_are_reported_without_their_values() -> None:
    with serve_asgi(apps.users_app(leaky=True)) as url:
        report = scan(url, [{"path": "/users/{id}", "path_params": {"id": "1"}}], **NO_EXPOSURE)
    assert rules(report) == ["errors.secret-in-response"]
    secret = finding(report, "errors.secret-in-response")
    assert secret.severity is Severity.high
    assert secret.owasp_api == "API3:2023"
    text = json.dumps(secret.model_dump(mode="json"))
    assert "$.password_hash" in text
    assert "$.api_key" in text
    assert "KIXQJxk3PzTq1dU5e0mWbO0l7tT4lB9m2yC1o8Yq3sVnH6pR0a1Cy" not in text
    assert "7Hc93KdQ02LmZx81PqRt5Vw" not in text
    excerpt = secret.evidence[0].body_excerpt
    assert '$.password_hash = [hidden: 60 characters, starts "$2b$"] (bcrypt hash)' in excerpt
    assert '$.api_key = [hidden: 31 characters, starts "ak_live_"] (key)' in excerpt


def test_password_policy_masked_password_and_null_key_are_not_secrets() -> None:
    with serve_asgi(apps.users_app(leaky=False)) as url:
        report = scan(url, [{"path": "/users/{id}", "path_params": {"id": "1"}}], **NO_EXPOSURE)
    assert rules(report) == []
    assert checks(report, "secrets") == {"GET /users/{id}": CheckStatus.passed}


ALICE = {"alice": {"token": apps.ME_TOKEN}}
ME = {"path": "/me", "identity": "alice"}


def test_stored_plain_password_in_a_2xx_answer_is_high_and_firm() -> None:
    with serve_asgi(apps.me_app("alice-pass-123")) as url:
        report = scan(url, [ME], identities=ALICE, **NO_EXPOSURE)
    secret = finding(report, "errors.secret-in-response")
    assert (secret.severity, secret.confidence) == (Severity.high, Confidence.firm)
    assert secret.endpoint == "GET /me"
    assert (
        "$.password = [hidden: 14 characters] (plain password)" in secret.evidence[0].body_excerpt
    )
    assert "alice-pass-123" not in json.dumps(secret.model_dump(mode="json"))


def test_a_lone_word_under_password_is_only_tentative_and_low() -> None:
    with serve_asgi(apps.me_app("letmein")) as url:
        report = scan(url, [ME], identities=ALICE, **NO_EXPOSURE)
    secret = finding(report, "errors.secret-in-response")
    assert (secret.severity, secret.confidence) == (Severity.low, Confidence.tentative)
    assert "Possible secrets" in secret.detail


def test_validation_messages_labels_links_and_public_keys_are_not_secrets() -> None:
    register = {"email": "a@b.test", "password": "alice-pass-123"}  # echoed back with 200
    endpoints: list[dict[str, Any]] = [
        {"method": "POST", "path": "/signup", "json": {"password": "short", "email": "a@b.test"}},
        {"method": "POST", "path": "/register", "json": register},
        {"path": "/labels"},
        {"path": "/config"},
        {"path": "/settings"},
        {"path": "/profile"},
    ]
    with serve_asgi(apps.accounts_app()) as url:
        report, exchanges = scan_with_exchanges(url, endpoints, **NO_EXPOSURE)
    signup = [x.response.status for x in exchanges if x.endpoint == "POST /signup" and x.response]
    assert 422 in signup
    assert rules(report) == []
    assert set(checks(report, "secrets").values()) == {CheckStatus.passed}


# -- secrets: lookalikes, echoes, grouping -----------------------------------------------------

SECRET = "errors.secret-in-response"
LOOKALIKE_ENDPOINTS: list[dict[str, Any]] = [
    {"name": "register", "method": "POST", "path": "/register",
     "form": {"username": "bob", "password": "Sup3r!p&ss+w0rd"}},
    {"name": "echo", "method": "POST", "path": "/echo",
     "json": {"email": "a@b.test", "password": 'pa"ss99xx'}},
    {"name": "echo-unicode", "method": "POST", "path": "/echo",
     "json": {"email": "a@b.test", "password": "pässw0rd99"}},
    # The password comes first: the long and special-character values replace it.
    {"name": "echo-first", "method": "POST", "path": "/echo",
     "json": {"password": "plainpass99x", "email": "a@b.test"}},
    {"name": "kms", "path": "/kms"},
    {"name": "search-config", "path": "/search-config"},
    {"name": "form-rules", "path": "/form-rules"},
    {"name": "form-config", "path": "/form-config"},
    {"name": "references", "path": "/references"},
    {"name": "totp", "path": "/totp"},
    {"name": "config", "path": "/config.json"},
]  # fmt: skip


def _secret_findings(report: Report) -> list[Finding]:
    return sorted((f for f in report.findings if f.rule == SECRET), key=lambda f: -f.severity.rank)


def test_echoes_rules_references_key_names_and_public_keys_are_no_sure_secret() -> None:
    with serve_asgi(secret_apps.lookalikes_app()) as url:
        report = scan(url + "/api", LOOKALIKE_ENDPOINTS)
    # Only the Google key is left, as a guess; the well-known /config.json request reaches
    # the config endpoint's own URL, so it is one place, not two.
    [guess] = _secret_findings(report)
    assert (guess.severity, guess.confidence) == (Severity.low, Confidence.tentative)
    assert guess.endpoint == "config"
    assert guess.affected == []
    assert "$.firebase.apiKey" in guess.detail
    status = checks(report, "secrets")
    assert status.pop("config") is CheckStatus.failed
    assert set(status.values()) == {CheckStatus.passed}


def test_stored_password_stays_high_and_the_google_key_is_a_finding_of_its_own() -> None:
    endpoints = [*LOOKALIKE_ENDPOINTS, {"name": "me", "path": "/me"}]
    with serve_asgi(secret_apps.lookalikes_app()) as url:
        report = scan(url + "/api", endpoints, **NO_EXPOSURE)
    sure, guess = _secret_findings(report)
    assert (sure.severity, sure.confidence, sure.endpoint) == (
        Severity.high,
        Confidence.firm,
        "me",
    )
    assert "apiKey" not in sure.detail
    assert "$.password = [hidden: 14 characters] (plain password)" in sure.evidence[0].body_excerpt
    assert (guess.severity, guess.confidence, guess.endpoint) == (
        Severity.low,
        Confidence.tentative,
        "config",
    )
    assert sure.fingerprint != guess.fingerprint
    assert secret_apps.STORED_PASSWORD not in json.dumps(report.model_dump(mode="json"))


def test_grouped_secret_fingerprint_stays_when_endpoints_join() -> None:
    me = {"name": "me", "path": "/me"}
    user = {"name": "user", "path": "/users/1"}
    with serve_asgi(secret_apps.lookalikes_app()) as url:
        one = scan(url + "/api", [me], **NO_EXPOSURE)
        two = scan(url + "/api", [me, user], **NO_EXPOSURE)
    [alone] = _secret_findings(one)
    [joined] = _secret_findings(two)
    assert (alone.endpoint, alone.affected) == ("me", [])
    assert (joined.endpoint, joined.affected) == (None, ["me", "user"])
    assert alone.fingerprint == joined.fingerprint


def test_lone_surrogate_in_a_json_name_never_reaches_the_report() -> None:
    with serve_asgi(secret_apps.lookalikes_app()) as url:
        report = scan(url + "/api", [{"name": "odd", "path": "/surrogate"}], **NO_EXPOSURE)
    [secret] = _secret_findings(report)
    text = json.dumps(report.model_dump(mode="json"), ensure_ascii=False)
    text.encode("utf-8")  # raises on a lone surrogate
    assert "x\\ud800_password" in secret.detail
    assert secret.parameter is None


# -- what may be replayed ----------------------------------------------------------------------

DELETE_USER = {"method": "DELETE", "path": "/users/{id}", "path_params": {"id": "42"}}


def test_delete_endpoint_gets_only_its_baseline_request() -> None:
    seen: list[str] = []
    with serve_asgi(apps.recording_app(seen)) as url:
        report, exchanges = scan_with_exchanges(url, [DELETE_USER])
    assert [s for s in seen if "/users" in s] == ["DELETE /users/42"]
    assert [s for s in seen if s.startswith("DELETE")] == ["DELETE /users/42"]
    assert [x.purpose for x in exchanges if x.endpoint == "DELETE /users/{id}"] == ["baseline"]
    assert {s.split()[0] for s in seen if "/users" not in s} == {"GET"}  # exposure paths
    label = "DELETE /users/{id}"
    assert checks(report, "unhandled-5xx") == {label: CheckStatus.skipped}
    skipped = next(c for c in report.checks if c.check == "unhandled-5xx")
    assert "DELETE endpoint" in skipped.detail
    assert checks(report, "error-disclosure") == {label: CheckStatus.passed}
    assert checks(report, "secrets") == {label: CheckStatus.passed}


def test_replays_keep_the_endpoint_method_or_use_an_invented_one() -> None:
    endpoints = [
        {"path": "/items/{id}", "path_params": {"id": "3"}, "query": {"page": "1"}},
        {"method": "PUT", "path": "/users/{id}", "path_params": {"id": "7"}, "json": {"age": 3}},
    ]
    seen: list[str] = []
    with serve_asgi(apps.recording_app(seen)) as url:
        scan(url, endpoints, **NO_EXPOSURE)
    items = Counter(s.split()[0] for s in seen if s.split()[1].startswith("/items"))
    users = Counter(s.split()[0] for s in seen if s.split()[1].startswith("/users"))
    assert set(items) == {"GET", UNSUPPORTED_METHOD}
    assert set(users) == {"PUT", "GET", UNSUPPORTED_METHOD}
    assert users["GET"] == 2  # only the unknown path below the endpoint, once per Accept


# -- unhandled 500 ---------------------------------------------------------------------------------

ORDER = {"method": "POST", "path": "/orders", "json": {"qty": 2}}


def test_500_on_malformed_json_is_reported() -> None:
    with serve_asgi(apps.orders_app(validate=False)) as url:
        report = scan(url, [ORDER], **NO_EXPOSURE)
    assert rules(report) == ["errors.unhandled-5xx"]
    unhandled = finding(report, "errors.unhandled-5xx")
    assert unhandled.endpoint == "POST /orders"
    assert "malformed-json" in unhandled.detail
    assert checks(report, "unhandled-5xx") == {"POST /orders": CheckStatus.failed}


def test_500_the_baseline_already_gives_is_not_reported() -> None:
    with serve_asgi(apps.broken_app()) as url:
        report = scan(url, [{"path": "/report"}], **NO_EXPOSURE)
    assert rules(report) == []
    assert checks(report, "unhandled-5xx") == {"GET /report": CheckStatus.skipped}


def test_400_on_malformed_json_is_fine() -> None:
    with serve_asgi(apps.orders_app(validate=True)) as url:
        report = scan(url, [ORDER], **NO_EXPOSURE)
    assert rules(report) == []
    assert checks(report, "unhandled-5xx") == {"POST /orders": CheckStatus.passed}


# -- what is sent ----------------------------------------------------------------------------------


def test_each_malformed_request_goes_with_both_accept_headers_as_the_endpoint_identity() -> None:
    identities = {"alice": {"token": "alice-token-0123456789"}}
    endpoint = {**ORDER, "identity": "alice"}
    with serve_asgi(apps.orders_app(validate=True)) as url:
        _, exchanges = scan_with_exchanges(url, [endpoint], identities=identities)
    mine = [x for x in exchanges if x.probe == "errors" and x.endpoint == "POST /orders"]
    accepts = Counter((x.purpose.split(":")[0], x.request.headers) for x in mine)
    assert len(mine) == 12
    for exchange in mine:
        headers = dict(exchange.request.headers)
        assert headers["Authorization"] == "Bearer alice-token-0123456789"
        expected = "application/json" if exchange.purpose.endswith(":json") else "text/html"
        assert headers["Accept"] == expected
    assert len({x.purpose for x in mine}) == 12, accepts
    exposure = [x for x in exchanges if x.purpose.startswith("exposure")]
    assert len(exposure) == len(EXPOSURES) + 1
    assert all("Authorization" not in dict(x.request.headers) for x in exposure)


def test_exposure_paths_go_to_base_url_and_host_root() -> None:
    with serve_asgi(apps.spa_app()) as url:
        report, exchanges = scan_with_exchanges(url + "/api", [{"path": "/ping"}])
    exposure = [x.request.url for x in exchanges if x.purpose.startswith("exposure")]
    assert len(exposure) == 2 * (len(EXPOSURES) + 1)
    assert f"{url}/api/.env" in exposure
    assert f"{url}/.env" in exposure
    assert report.summary.requests <= 2 + 2 * (len(EXPOSURES) + 1) + 10


def test_all_requests_refused_makes_every_check_an_error() -> None:
    with serve_asgi(apps.orders_app(validate=True)) as url:
        report = scan(url, [ORDER], settings={"max_requests": 2})
    for check in ("error-disclosure", "unhandled-5xx"):
        assert checks(report, check) == {"POST /orders": CheckStatus.error}
    detail = next(c.detail for c in report.checks if c.check == "unhandled-5xx")
    assert "all 12 malformed requests failed" in detail
    assert "budget" in detail
    assert checks(report, "exposure-paths") == {None: CheckStatus.error}


# -- trigger planning (pure) -----------------------------------------------------------------------


def _endpoint(**fields: Any) -> Endpoint:
    return Endpoint.model_validate({"path": "/x", **fields})


# Every method in IANA's HTTP method registry, and a few that proxies and caches act on.
REAL_METHODS = frozenset(
    {
        "ACL",
        "BASELINE-CONTROL",
        "BIND",
        "CHECKIN",
        "CHECKOUT",
        "CONNECT",
        "COPY",
        "DELETE",
        "GET",
        "HEAD",
        "LABEL",
        "LINK",
        "LOCK",
        "MERGE",
        "MKACTIVITY",
        "MKCALENDAR",
        "MKCOL",
        "MKREDIRECTREF",
        "MKWORKSPACE",
        "MOVE",
        "OPTIONS",
        "ORDERPATCH",
        "PATCH",
        "POST",
        "PRI",
        "PROPFIND",
        "PROPPATCH",
        "PUT",
        "QUERY",
        "REBIND",
        "REPORT",
        "SEARCH",
        "TRACE",
        "UNBIND",
        "UNCHECKOUT",
        "UNLINK",
        "UNLOCK",
        "UPDATE",
        "UPDATEREDIRECTREF",
        "VERSION-CONTROL",
        "PURGE",
        "BAN",
    }
)


def test_unknown_method_trigger_is_no_real_method() -> None:
    assert UNSUPPORTED_METHOD not in REAL_METHODS


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"])
def test_no_trigger_changes_the_method_to_a_real_other_one(method: str) -> None:
    endpoint = _endpoint(
        method=method, path="/o/{id}", path_params={"id": "5"}, query={"n": "1"}, json={"q": 2}
    )
    triggers = plan_triggers(endpoint, "prbmark")
    assert {t.method for t in triggers} <= {method, "GET", UNSUPPORTED_METHOD}
    if method != "GET":  # GET only reads the unknown path below the endpoint
        assert [t.name for t in triggers if t.method == "GET"] == ["unknown-path"]


def test_delete_endpoint_gets_no_trigger() -> None:
    endpoint = _endpoint(method="DELETE", path="/users/{id}", path_params={"id": "42"})
    assert plan_triggers(endpoint, "prbmark") == []
    assert "DELETE" in (replay_refusal(endpoint) or "")
    assert replay_refusal(_endpoint(method="PUT")) is None


def test_get_without_parameters_gets_eight_requests_worth_of_triggers() -> None:
    names = [t.name for t in plan_triggers(_endpoint(), "prbmark")]
    assert names == ["unknown-path", "long-value", "special-chars", "unsupported-method"]


def test_unknown_path_is_below_the_endpoint_path_and_carries_the_marker() -> None:
    endpoint = _endpoint(path="/orders/{id}/", path_params={"id": "10 01"})
    unknown = plan_triggers(endpoint, "prbmark")[0]
    assert unknown.path == "/orders/10%2001/prbmark-missing"
    assert unknown.method == "GET"
    assert unknown.drop_body


def test_json_endpoint_gets_malformed_json_and_numbers_swapped_for_a_word() -> None:
    endpoint = _endpoint(
        method="POST",
        path="/o/{id}",
        path_params={"id": "5"},
        json={"qty": 2, "note": "x", "flag": True, "lines": [{"n": "3"}]},
    )
    plan = {t.name: t for t in plan_triggers(endpoint, "prbmark")}
    assert list(plan) == [
        "unknown-path",
        "malformed-json",
        "type-confusion",
        "long-value",
        "special-chars",
        "unsupported-method",
    ]
    assert plan["malformed-json"].content == b'{"prbmark": [1, 2,'
    confusion = plan["type-confusion"]
    assert confusion.path == "/o/prbmark"
    assert json.loads(confusion.content or b"") == {
        "qty": "prbmark",
        "note": "x",
        "flag": True,
        "lines": [{"n": "prbmark"}],
    }
    long_body = json.loads(plan["long-value"].content or b"")
    assert len(long_body["qty"]) == LONG_VALUE_BYTES
    assert json.loads(plan["special-chars"].content or b"")["qty"].endswith("'\"<{}\x00")
    assert plan["unsupported-method"].method == UNSUPPORTED_METHOD


def test_query_parameter_is_where_long_values_go_first() -> None:
    endpoint = _endpoint(query={"page": 2, "q": "a"}, path="/s/{id}", path_params={"id": "7"})
    plan = {t.name: t for t in plan_triggers(endpoint, "prbmark")}
    assert plan["long-value"].query is not None
    assert len(plan["long-value"].query["page"]) == LONG_VALUE_BYTES
    assert plan["type-confusion"].query == {"page": "prbmark", "q": "a"}


def test_endpoint_without_parameters_gets_an_added_query_parameter() -> None:
    plan = {t.name: t for t in plan_triggers(_endpoint(), "prbmark")}
    assert plan["special-chars"].query == {"prbmark": "prbmark'\"<{}\x00"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"method": "POST"}, True),
        ({"method": "GET"}, False),
        ({"method": "PUT", "form": {"a": "1"}}, False),
        ({"method": "GET", "json": {"a": 1}}, True),
        ({"method": "POST", "body": "{}", "content_type": "application/vnd.api+json"}, True),
        ({"method": "POST", "body": "a=1", "content_type": "text/plain"}, False),
    ],
)
def test_which_endpoints_take_json(fields: dict[str, Any], expected: bool) -> None:
    assert takes_json(_endpoint(**fields)) is expected


def test_swaps_leave_booleans_and_words_alone() -> None:
    assert swap_numbers([1, True, "2.5", "a1"], "w") == (["w", True, "w", "a1"], 2)
    assert swap_first_leaf({"a": {}, "b": [], "c": {"d": 1}}, "v") == (
        {"a": {}, "b": [], "c": {"d": "v"}},
        True,
    )


def test_host_root_is_added_only_when_base_url_has_a_path() -> None:
    assert target_roots("http://127.0.0.1:8000") == ["http://127.0.0.1:8000"]
    assert target_roots("http://127.0.0.1:8000/api/v1") == [
        "http://127.0.0.1:8000/api/v1",
        "http://127.0.0.1:8000",
    ]


def _collection_with_leaky_items() -> Any:
    import sqlite3

    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")

    async def collection(request: Request) -> JSONResponse:
        return JSONResponse([{"id": 1, "name": "a"}])

    async def item(request: Request) -> JSONResponse:
        query = f"SELECT name FROM items WHERE id = {request.path_params['id']}"
        try:
            db.execute(query)
        except sqlite3.Error as exc:
            return JSONResponse({"error": f"sqlite3.OperationalError: {exc}"}, status_code=500)
        return JSONResponse({"id": 1})

    return Starlette(routes=[Route("/api/items", collection), Route("/api/items/{id}", item)])


def test_an_error_from_another_route_is_not_blamed_on_the_endpoint() -> None:
    # The unknown path below /api/items reaches /api/items/{id}, which leaks a SQL error:
    # the finding names that URL, and the collection endpoint's own checks pass.
    with serve_asgi(_collection_with_leaky_items()) as base:
        report = run(scenario(base + "/api", [{"name": "list", "path": "/items"}]), ["errors"])
    sql = [f for f in report.findings if f.rule == "errors.sql-error"]
    assert len(sql) == 1
    assert sql[0].endpoint is None
    assert all(place.startswith("GET /api/items/prb") for place in sql[0].affected)
    own = [c for c in report.checks if c.endpoint == "list" and c.check == "error-disclosure"]
    assert [c.status for c in own] == [CheckStatus.passed]


def test_login_endpoint_gets_no_trigger_that_changes_a_body_field() -> None:
    endpoint = _endpoint(method="POST", path="/login", json={"password": "x", "user": "a"})
    tagged = Endpoint.model_validate({**endpoint.model_dump(by_alias=True), "tags": ["login"]})
    names = [t.name for t in plan_triggers(tagged, "prbmark")]
    assert names == ["unknown-path", "malformed-json", "unsupported-method"]


def test_errors_probe_never_fails_a_login_for_the_real_user() -> None:
    failures: list[str] = []

    async def login(request: Request) -> Response:
        try:
            data = await request.json()
        except ValueError:
            return JSONResponse({"error": "bad json"}, status_code=400)
        if not isinstance(data, dict) or data.get("password") != "s3cret-pass":
            if isinstance(data, dict) and data.get("user") == "alice":
                failures.append(str(data.get("password"))[:20])
            return JSONResponse({"error": "wrong password"}, status_code=401)
        return JSONResponse({"token": "t0k3n-for-alice-0123456789"})

    app = Starlette(routes=[Route("/login", login, methods=["POST"])])
    body = {"password": "s3cret-pass", "user": "alice"}  # the password is the first field
    with serve_asgi(app) as url:
        endpoint = {"method": "POST", "path": "/login", "json": body, "tags": ["login"]}
        run(scenario(url, [endpoint]), probes=["errors"])
    assert failures == []
