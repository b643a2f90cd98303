"""The https probe's plain-HTTP and credentials checks against real servers on 127.0.0.1.

Each test pairs a twin that used to fool the probe with what the probe must say now: no secret
in the cleartext request, no token-less replay of an identity's endpoint, no "https" in a URL
read as a TLS port, no malformed answer read as "not served", no dead HTTPS landing passed, no
path loss made up from dot segments or raw UTF-8, and other hosts judged by who chose them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from probe.findings import CheckStatus, Severity
from tests.probes import apps_https as apps
from tests.probes.apps_https import Api, Pki, check, dead_twin, finding
from tests.scan import rules
from tests.servers import free_port, serve_tcp

KEY = "key-" + secrets.token_hex(12)
ALICE = {"alice": {"token": "alice-token-" + secrets.token_hex(8)}}
LOGIN: dict[str, Any] = {
    "name": "login",
    "method": "POST",
    "path": "/login",
    "json": {"user": "alice", "password": "correct horse"},
    "tags": ["auth"],
}
ITEMS: dict[str, Any] = {"path": "/items"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return apps.make_pki(tmp_path_factory.mktemp("https-plain"))


@pytest.fixture(scope="module")
def api(pki: Pki) -> Iterator[Api]:
    with apps.serve_api(pki) as served:
        yield served


def scan(api: Api, twin: str, pki: Pki, endpoints: list[dict[str, Any]], **extra: Any) -> Any:
    """The https probe alone, TLS 1.0/1.1 not tried (these tests are about plain HTTP)."""
    probes = {"https": {"legacy_versions": False}}
    return apps.scan(api.url, twin, pki, endpoints, probes=probes, **extra)


# -- 1. the plain-HTTP request carries no secret ------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        {"path": "/orders", "query": {"api_key": KEY}},
        {"path": "/users/{key}", "path_params": {"key": KEY}},
    ],
    ids=["query", "path"],
)
def test_plain_http_request_never_carries_a_scenario_secret(
    api: Api, pki: Pki, endpoint: dict[str, Any]
) -> None:
    seen: list[str] = []
    with apps.serve_http(apps.cleartext_twin(seen), api.links) as twin:
        report, exchanges = scan(api, twin, pki, [endpoint], secrets={"APIKEY": KEY})
    assert rules(report) == ["https.cleartext-served"]
    assert seen, "the twin got the plain-HTTP request"
    assert not [line for line in seen if KEY in line]
    plain = [x for x in exchanges if x.purpose == "plain-http"]
    assert len(plain) == 1
    assert KEY not in plain[0].request.url
    # The marker alone stands for the query, so a dropped query still shows.
    assert plain[0].request.url.split("?")[1].startswith("probe_marker=")


def test_plain_http_request_prefers_an_endpoint_without_identity(api: Api, pki: Pki) -> None:
    endpoints = [{"name": "me", "path": "/me", "identity": "alice"}, {"path": "/health"}]
    with apps.serve_http(apps.identity_twin(), api.links) as twin:
        report, exchanges = scan(api, twin, pki, endpoints, identities=ALICE)
    assert rules(report) == ["https.cleartext-served"]
    plain = next(x for x in exchanges if x.purpose == "plain-http")
    assert "/health?" in plain.request.url


# -- 2. credentials: only an endpoint's own credentials are replayed ---------------------------


CREDENTIAL_ENDPOINTS: list[dict[str, Any]] = [
    ITEMS,
    LOGIN,
    {"name": "me", "path": "/me", "identity": "alice", "tags": ["auth"]},
    {"name": "logout", "method": "DELETE", "path": "/session", "json": {}, "tags": ["auth"]},
]


def test_auth_endpoint_without_its_own_credentials_is_skipped_not_reported(
    api: Api, pki: Pki
) -> None:
    seen: list[str] = []
    with apps.serve_http(apps.cleartext_twin(seen), api.links) as twin:
        report, _ = scan(api, twin, pki, CREDENTIAL_ENDPOINTS, identities=ALICE)
    assert rules(report) == ["https.cleartext-served", "https.credentials-over-http"]
    assert finding(report, "credentials-over-http").endpoint == "login"
    status, detail = check(report, "credentials-over-http", "me")
    assert status is CheckStatus.skipped
    assert "no credentials" in detail
    status, detail = check(report, "credentials-over-http", "logout")
    assert status is CheckStatus.skipped
    assert "DELETE" in detail
    assert not [line for line in seen if line.startswith(("GET /me", "DELETE"))]
    assert not [line for line in seen if ALICE["alice"]["token"] in line]


def test_redirected_login_passes_and_token_endpoint_stays_skipped(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.redirect_twin(api.links, 301), api.links) as twin:
        report, _ = scan(api, twin, pki, CREDENTIAL_ENDPOINTS, identities=ALICE)
    assert rules(report) == []
    assert check(report, "credentials-over-http", "login")[0] is CheckStatus.passed
    assert check(report, "credentials-over-http", "me")[0] is CheckStatus.skipped


# -- 3. a 400 means "TLS only" in the servers' own words, never because of a URL -----------------


def test_problem_details_400_with_an_https_type_is_inconclusive(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.problem_twin(), api.links) as twin:
        report, _ = scan(api, twin, pki, [ITEMS, LOGIN])
    assert rules(report) == []
    for name, endpoint in (("plain-http", None), ("credentials-over-http", "login")):
        status, detail = check(report, name, endpoint)
        assert status is CheckStatus.error, (name, detail)
        assert detail.startswith("inconclusive")


def test_nginx_400_for_plain_http_on_a_tls_port_passes(api: Api, pki: Pki) -> None:
    with serve_tcp(apps.fixed_answer(apps.TLS_ONLY_400)) as twin:
        report, _ = scan(api, twin, pki, [ITEMS, LOGIN])
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.passed
    assert "plain http request was sent to https port" in detail


# -- 4. an answer h11 rejects is something served, not "not served" -----------------------------

BODY = b'{"orders": [1, 2, 3]}'
MALFORMED = {
    "space-before-colon": b"Content-Type : application/json\r\n",
    "bad-header-name": b"X(Bad): 1\r\n",
    "bare-cr-in-value": b"X-A: a\rb\r\n",
    "conflicting-length": b"Content-Length: 5\r\n",
}


def _malformed(extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(BODY)
    return head + extra + b"Connection: close\r\n\r\n" + BODY


@pytest.mark.parametrize(
    "answer",
    [*(_malformed(extra) for extra in MALFORMED.values()), _malformed(b"")[:-5]],
    ids=[*MALFORMED, "body-cut-short"],
)
def test_malformed_answer_on_the_twin_is_inconclusive_not_refused(
    api: Api, pki: Pki, answer: bytes
) -> None:
    with serve_tcp(apps.fixed_answer(answer)) as twin:
        report, _ = scan(api, twin, pki, [ITEMS, LOGIN])
    assert rules(report) == []
    for name, endpoint in (("plain-http", None), ("credentials-over-http", "login")):
        status, detail = check(report, name, endpoint)
        assert status is CheckStatus.error, (name, detail)
        assert "no valid HTTP answer" in detail


def test_connection_closed_without_a_byte_is_not_served(api: Api, pki: Pki) -> None:
    with serve_tcp(apps.fixed_answer(b"")) as twin:
        report, _ = scan(api, twin, pki, [ITEMS, LOGIN])
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.passed
    assert "ended without an answer" in detail


# -- 5. the HTTPS landing must answer -------------------------------------------------------------


def test_redirect_to_an_https_port_where_nothing_listens_is_inconclusive(
    api: Api, pki: Pki
) -> None:
    landing = f"https://localhost:{free_port()}"
    with apps.serve_http(apps.landing_twin(landing), api.links) as twin:
        report, exchanges = scan(api, twin, pki, [ITEMS], target={"scope": ["localhost"]})
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.error
    assert "gave no answer" in detail
    assert [x for x in exchanges if x.request.url.startswith(landing)]


def test_redirect_to_https_on_the_twins_own_plain_port_is_inconclusive(api: Api, pki: Pki) -> None:
    links = apps.Links()
    own_port = apps.location_twin(
        links, lambda https, rest: links.http.replace("http://", "https://") + rest
    )
    with apps.serve_http(own_port, links) as twin:
        report, _ = scan(api, twin, pki, [ITEMS])
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.error, detail
    assert "gave no answer" in detail


def test_landing_outside_the_scope_passes_but_says_it_was_not_verified(api: Api, pki: Pki) -> None:
    landing = f"https://localhost:{free_port()}"
    with apps.serve_http(apps.landing_twin(landing), api.links) as twin:
        report, exchanges = scan(api, twin, pki, [ITEMS])
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.passed
    assert "not verified" in detail
    assert not [x for x in exchanges if x.request.url.startswith(landing)]


# -- 7. Locations read as a browser reads them ----------------------------------------------------


def test_location_with_dot_segments_keeps_the_path(api: Api, pki: Pki) -> None:
    twin_app = apps.location_twin(api.links, lambda https, rest: f"{https}/x/..{rest}")
    with apps.serve_http(twin_app, api.links) as twin:
        report, _ = scan(api, twin, pki, [ITEMS])
    assert rules(report) == []
    assert check(report, "plain-http")[0] is CheckStatus.passed


def test_raw_utf8_location_keeps_a_non_ascii_path(api: Api, pki: Pki) -> None:
    with serve_tcp(apps.utf8_redirect(api.url)) as twin:
        report, _ = scan(api, twin, pki, [{"path": "/caf\u00e9"}])
    assert rules(report) == []
    assert check(report, "plain-http")[0] is CheckStatus.passed


def test_backslash_location_is_another_host_and_never_requested(api: Api, pki: Pki) -> None:
    twin_app = apps.location_twin(api.links, lambda https, rest: f"/\\{apps.OFFSITE}/x")
    with apps.serve_http(twin_app, api.links) as twin:
        report, exchanges = scan(api, twin, pki, [ITEMS])
    assert rules(report) == ["https.offsite-redirect"]
    assert len([x for x in exchanges if x.purpose.startswith("plain-http")]) == 1


def test_real_path_loss_is_still_reported(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.drops_twin(api.links), api.links) as twin:
        report, _ = scan(api, twin, pki, [ITEMS])
    assert rules(report) == ["https.redirect-drops-path"]


# -- 8. another host: who chose it ----------------------------------------------------------------


def test_fixed_redirect_to_a_sibling_host_name_is_low_cleartext_not_open_redirect(
    api: Api, pki: Pki
) -> None:
    twin_app = apps.location_twin(
        api.links, lambda https, rest: https.replace("localhost", "127.0.0.1") + rest
    )
    with apps.serve_http(twin_app, api.links) as twin:
        report, exchanges = scan(api, twin, pki, [ITEMS])
    assert rules(report) == ["https.offsite-redirect"]
    found = finding(report, "offsite-redirect")
    assert (found.severity, found.cwe, found.owasp) == (Severity.low, 319, "A02:2021")
    assert not [x for x in exchanges if "127.0.0.1" in x.request.url]


def test_trailing_dot_host_is_the_same_host(api: Api, pki: Pki) -> None:
    twin_app = apps.location_twin(
        api.links, lambda https, rest: https.replace("localhost", "localhost.") + rest
    )
    with apps.serve_http(twin_app, api.links) as twin:
        report, _ = scan(api, twin, pki, [ITEMS])
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.passed
    assert "not verified" in detail


def test_redirect_to_a_host_taken_from_the_path_is_an_open_redirect(api: Api, pki: Pki) -> None:
    endpoint = {"path": "/go/{dest}", "path_params": {"dest": apps.OFFSITE}}
    with apps.serve_http(apps.reflecting_twin(api.links), api.links) as twin:
        report, exchanges = scan(api, twin, pki, [endpoint])
    assert rules(report) == ["https.open-redirect"]
    found = finding(report, "open-redirect")
    assert (found.severity, found.cwe) == (Severity.medium, 601)
    assert not [x for x in exchanges if apps.OFFSITE in x.request.url.split("/")[2]]


def test_nothing_listening_on_the_twin_still_passes(api: Api, pki: Pki) -> None:
    report, _ = scan(api, dead_twin(), pki, [ITEMS, LOGIN])
    assert rules(report) == []
    assert check(report, "plain-http")[0] is CheckStatus.passed
    assert check(report, "credentials-over-http", "login")[0] is CheckStatus.passed
