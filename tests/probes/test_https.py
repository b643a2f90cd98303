"""The https probe against real servers on 127.0.0.1 (named localhost, as the certificates are).

One HTTPS API with a valid trustme certificate is shared by the plain-HTTP tests; each twin
shows one behaviour and must give exactly its findings, the hardened ones none. The TLS tests
each run their own HTTPS server: valid, expired, expiring, wrong host name, untrusted CA,
missing intermediate, TLS 1.0 accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from probe.engine import Scan
from probe.exchange import Exchange
from probe.findings import CheckStatus, Severity
from probe.report import Report
from tests.probes import apps_https as apps
from tests.probes.apps_https import Api, Links, Pem, Pki, check, dead_twin, finding
from tests.scan import rules, scenario
from tests.servers import serve_asgi, serve_raw, serve_tcp

ENDPOINTS: list[dict[str, Any]] = [
    {"path": "/items"},
    {
        "name": "login",
        "method": "POST",
        "path": "/login",
        "json": {"user": "alice", "password": "correct horse"},
        "tags": ["auth"],
    },
]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return apps.make_pki(tmp_path_factory.mktemp("https"))


@pytest.fixture(scope="module")
def api(pki: Pki) -> Iterator[Api]:
    with apps.serve_api(pki) as served:
        yield served


def scan(
    base_url: str,
    http_url: str | None,
    pki: Pki,
    endpoints: list[dict[str, Any]] | None = None,
    **target: Any,
) -> tuple[Report, list[Exchange]]:
    """Run the https probe alone with this module's endpoints unless others are given."""
    chosen = ENDPOINTS if endpoints is None else endpoints
    return apps.scan(base_url, http_url, pki, chosen, target=target)


def _context(pki: Pki, pem: Pem, name: str, *, legacy: bool = False) -> Any:
    return apps.tls_context(pki, pem, name, legacy=legacy)


# -- plain HTTP ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_to_same_path_passes(api: Api, pki: Pki, status: int) -> None:
    with apps.serve_http(apps.redirect_twin(api.links, status), api.links) as twin:
        report, _ = scan(api.url, twin, pki)
    assert rules(report) == []
    status_, detail = check(report, "plain-http")
    assert status_ is CheckStatus.passed
    assert f"-> {status}" in detail
    assert check(report, "credentials-over-http", "login")[0] is CheckStatus.passed


def test_hardened_site_passes_every_check(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.redirect_twin(api.links, 301), api.links) as twin:
        report, _ = scan(api.url, twin, pki)
    assert rules(report) == []
    for name in ("base-url-tls", "tls-handshake", "tls-trust", "tls-hostname", "tls-expiry"):
        assert check(report, name)[0] is CheckStatus.passed, name
    for name in ("tls-1.0", "tls-1.1"):
        assert check(report, name)[0] is CheckStatus.passed, check(report, name)
    detail = check(report, "tls-handshake")[1]
    assert "TLSv1.3" in detail
    assert "issuer OU=Testing CA" in detail
    assert "SNI localhost" in detail


def test_starlette_https_redirect_middleware_is_info_only(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.middleware_twin(), api.links) as twin:
        report, _ = scan(api.url, twin, pki)
    assert rules(report) == ["https.temporary-redirect"]
    assert finding(report, "temporary-redirect").severity is Severity.info
    assert check(report, "plain-http")[0] is CheckStatus.failed


def test_api_served_in_cleartext_is_reported(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.cleartext_twin(), api.links) as twin:
        report, _ = scan(api.url, twin, pki)
    assert rules(report) == ["https.cleartext-served", "https.credentials-over-http"]
    assert finding(report, "cleartext-served").severity is Severity.high
    credentials = finding(report, "credentials-over-http")
    assert credentials.severity is Severity.high
    assert credentials.endpoint == "login"
    # The token handed out over HTTP is evidence, but never printed in the report.
    assert apps.TOKEN not in credentials.model_dump_json()
    assert "a JWT" in credentials.detail


def test_temporary_redirect_through_an_http_hop(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.hop_twin(api.links), api.links) as twin:
        report, _ = scan(api.url, twin, pki)
    assert rules(report) == ["https.http-hops", "https.temporary-redirect"]
    assert "2 plain-HTTP hops" in finding(report, "http-hops").detail


def test_offsite_redirect_is_judged_but_never_requested(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.offsite_twin(), api.links) as twin:
        report, exchanges = scan(api.url, twin, pki)
    assert rules(report) == ["https.offsite-redirect"]
    assert apps.OFFSITE in finding(report, "offsite-redirect").detail
    assert not [x for x in exchanges if apps.OFFSITE in x.request.url]


def test_chain_back_to_plain_http_is_a_downgrade(api: Api, pki: Pki) -> None:
    # The twin sends /old/items to HTTPS, where the API sends it back to the twin's /new/items.
    with apps.serve_http(apps.redirect_twin(api.links, 301), api.links) as twin:
        report, _ = scan(api.url, twin, pki, endpoints=[{"path": "/old/items"}])
    assert rules(report) == ["https.downgrade-hop"]
    assert "/new/items" in finding(report, "downgrade-hop").detail


def test_redirect_that_loses_path_and_query(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.drops_twin(api.links), api.links) as twin:
        report, _ = scan(api.url, twin, pki)
    assert rules(report) == ["https.redirect-drops-path"]
    detail = finding(report, "redirect-drops-path").detail
    assert "/items" in detail
    assert "probe_marker" in detail


def test_redirect_loop_is_an_error_check(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.loop_twin(), api.links) as twin:
        report, exchanges = scan(api.url, twin, pki)
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.error
    assert "loop" in detail
    assert len([x for x in exchanges if x.purpose.startswith("plain-http")]) == 2


def test_chain_longer_than_ten_hops_stops_with_an_error(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.endless_twin(), api.links) as twin:
        report, exchanges = scan(api.url, twin, pki)
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.error
    assert "more than 10 redirects" in detail
    assert len([x for x in exchanges if x.purpose.startswith("plain-http")]) == 11


def test_legacy_versions_off_skips_the_old_handshakes(api: Api, pki: Pki) -> None:
    scn = scenario(
        api.url,
        ENDPOINTS,
        target={"verify_tls": pki.bundle, "http_url": dead_twin()},
        probes={"https": {"legacy_versions": False}},
    )
    runner = Scan(scn, probes=["https"])
    report = anyio.run(runner.run)
    for name in ("tls-1.0", "tls-1.1"):
        status, detail = check(report, name)
        assert status is CheckStatus.skipped
        assert "legacy_versions is false" in detail


def test_nothing_listening_on_plain_http_passes(api: Api, pki: Pki) -> None:
    report, _ = scan(api.url, dead_twin(), pki)
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.passed
    assert "not served" in detail
    assert check(report, "credentials-over-http", "login")[0] is CheckStatus.passed


def test_tls_only_port_answering_400_passes(api: Api, pki: Pki) -> None:
    with serve_raw(apps.TLS_ONLY_400) as raw:
        report, _ = scan(api.url, apps.localhost(raw), pki)
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.passed
    assert "400" in detail


def test_firewall_403_is_inconclusive_not_a_pass(api: Api, pki: Pki) -> None:
    with apps.serve_http(apps.firewall_twin(), api.links) as twin:
        report, _ = scan(api.url, twin, pki)
    assert rules(report) == []
    status, detail = check(report, "plain-http")
    assert status is CheckStatus.error
    assert detail.startswith("inconclusive")
    assert check(report, "credentials-over-http", "login")[0] is CheckStatus.error


def test_plain_http_base_url_is_no_tls_and_skips_the_rest(pki: Pki) -> None:
    with serve_asgi(apps.cleartext_twin()) as url:
        report, exchanges = scan(apps.localhost(url), None, pki)
    assert rules(report) == ["https.no-tls"]
    assert check(report, "base-url-tls")[0] is CheckStatus.failed
    for name in ("plain-http", "tls-handshake", "tls-trust", "tls-1.0"):
        status, detail = check(report, name)
        assert status is CheckStatus.skipped
        assert "no-tls" in detail
    assert not [x for x in exchanges if x.probe == "https"]


# -- TLS ----------------------------------------------------------------------------------------


def _tls_scan(pki: Pki, pem: Pem, name: str, **target: Any) -> Report:
    context = _context(pki, pem, name, legacy=bool(target.pop("legacy", False)))
    links = Links()
    with apps.serve_tls(apps.api_app(links), context) as url:
        links.https = url
        report, _ = scan(url, dead_twin(), pki, **target)
    return report


def test_expired_certificate_is_critical(pki: Pki) -> None:
    leaf = pki.ca.issue_cert(
        "localhost", not_before=apps.days_from_now(-60), not_after=apps.days_from_now(-2)
    )
    report = _tls_scan(pki, apps.leaf_pem(leaf), "expired")
    assert rules(report) == ["https.tls-expired"]
    assert finding(report, "tls-expired").severity is Severity.critical
    # Expired is its own rule, not "untrusted": the chain itself is fine.
    assert check(report, "tls-trust")[0] is CheckStatus.passed
    assert "expired 2 day(s) ago" in check(report, "tls-expiry")[1]


def test_tls_findings_carry_handshake_facts_and_an_openssl_line(pki: Pki) -> None:
    leaf = pki.ca.issue_cert(
        "localhost", not_before=apps.days_from_now(-60), not_after=apps.days_from_now(-2)
    )
    report = _tls_scan(pki, apps.leaf_pem(leaf), "expired-evidence")
    found = finding(report, "tls-expired")
    for fact in ("TLSv1.3", "subject ", "issuer OU=Testing CA", "valid ", "names localhost"):
        assert fact in found.detail, fact
    assert found.reproduce is not None
    port = found.affected[0].rsplit(":", 1)[1]
    assert found.reproduce.startswith(
        f"openssl s_client -connect localhost:{port} -servername localhost -showcerts"
    )
    assert "openssl x509 -noout -subject -issuer -dates" in found.reproduce


@pytest.mark.parametrize(("days", "severity"), [(3, Severity.high), (20, Severity.medium)])
def test_certificate_expiring_soon(pki: Pki, days: int, severity: Severity) -> None:
    leaf = pki.ca.issue_cert(
        "localhost", not_before=apps.days_from_now(-60), not_after=apps.days_from_now(days)
    )
    report = _tls_scan(pki, apps.leaf_pem(leaf), f"expiring-{days}")
    assert rules(report) == ["https.tls-expiring"]
    assert finding(report, "tls-expiring").severity is severity


def test_certificate_for_another_host_is_a_mismatch(pki: Pki) -> None:
    report = _tls_scan(pki, apps.leaf_pem(pki.ca.issue_cert("other.example")), "mismatch")
    assert rules(report) == ["https.tls-hostname-mismatch"]
    found = finding(report, "tls-hostname-mismatch")
    assert "other.example" in found.detail
    assert "OpenSSL verify code 62 (Hostname mismatch" in found.detail
    assert found.reproduce is not None
    assert f"-CAfile {pki.bundle} -verify_hostname localhost -showcerts" in found.reproduce
    assert check(report, "tls-trust")[0] is CheckStatus.passed


def test_certificate_from_an_unknown_ca_is_untrusted(pki: Pki) -> None:
    report = _tls_scan(pki, apps.leaf_pem(pki.stranger.issue_cert("localhost")), "stranger")
    assert rules(report) == ["https.tls-untrusted"]
    found = finding(report, "tls-untrusted")
    assert "OpenSSL verify code 20" in found.detail
    assert found.reproduce is not None
    assert f"-CAfile {pki.bundle}" in found.reproduce
    assert check(report, "tls-hostname")[0] is CheckStatus.passed


def test_missing_intermediate_is_its_own_finding(pki: Pki) -> None:
    intermediate = pki.ca.create_child_ca()
    report = _tls_scan(pki, apps.leaf_with_aia(intermediate, "localhost"), "incomplete")
    assert rules(report) == ["https.tls-chain-incomplete"]
    found = finding(report, "tls-chain-incomplete")
    assert found.severity is Severity.medium
    assert apps.AIA_URL in found.detail
    assert "the server sent 1 certificate(s)" in found.detail
    assert (found.reproduce or "").startswith("openssl s_client -connect localhost:")


def test_full_chain_from_an_intermediate_is_trusted(pki: Pki) -> None:
    leaf = pki.ca.create_child_ca().issue_cert("localhost")
    report = _tls_scan(pki, apps.leaf_pem(leaf), "full-chain")
    assert rules(report) == []
    assert "sent 2 certificate(s)" in check(report, "tls-handshake")[1]


def test_tls_1_0_and_1_1_accepted_are_reported(pki: Pki) -> None:
    pem = apps.leaf_pem(pki.ca.issue_cert("localhost"))
    report = _tls_scan(pki, pem, "legacy", legacy=True)
    assert rules(report) == ["https.tls-legacy-version"]
    found = finding(report, "tls-legacy-version")
    assert "TLS 1.0: [TLSv1, " in found.detail
    assert "TLS 1.1: [TLSv1.1, " in found.detail
    assert " -tls1 -cipher " in (found.reproduce or "")
    assert " -tls1_1 -cipher " in (found.reproduce or "")
    assert check(report, "tls-1.0")[0] is CheckStatus.failed
    assert check(report, "tls-1.1")[0] is CheckStatus.failed


@pytest.mark.parametrize(
    "answer",
    [apps.TLS_ONLY_400, b"\x15\x03\x03\x00\x02\x02\x28", b""],
    ids=["plain-http", "alert", "close"],
)
def test_legacy_versions_are_errors_when_no_handshake_succeeds(pki: Pki, answer: bytes) -> None:
    # The port speaks TLS to the engine's first request only; every handshake the probe makes
    # meets plain HTTP, a fatal alert or a closed connection.
    context = _context(pki, apps.leaf_pem(pki.ca.issue_cert("localhost")), "tls-then")
    with serve_tcp(apps.tls_then(context, 1, answer)) as url:
        base = url.replace("http://", "https://")
        report, _ = scan(base, dead_twin(), pki, endpoints=[])
    assert rules(report) == []
    assert check(report, "tls-handshake")[0] is CheckStatus.error
    for name in ("tls-1.0", "tls-1.1"):
        status, detail = check(report, name)
        assert status is CheckStatus.error, detail
        assert "no TLS handshake succeeded at all" in detail


def test_verify_tls_false_still_judges_dates_and_versions(pki: Pki) -> None:
    leaf = pki.stranger.issue_cert(
        "other.example", not_before=apps.days_from_now(-60), not_after=apps.days_from_now(-2)
    )
    report = _tls_scan(pki, apps.leaf_pem(leaf), "unverified", verify_tls=False)
    assert rules(report) == ["https.tls-expired"]
    for name in ("tls-trust", "tls-hostname"):
        status, detail = check(report, name)
        assert status is CheckStatus.skipped
        assert "verify_tls is false" in detail
    assert check(report, "tls-1.0")[0] is CheckStatus.passed
