"""The https probe's pure judges: redirect chains, credentials, certificates and versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from probe.findings import CheckStatus, Confidence, Severity
from probe.probes.https import HttpsProbe
from probe.probes.https_answers import Failure, Hop, failure, tls_phrase
from probe.probes.https_credentials import judge_credentials, not_replayed, token_in
from probe.probes.https_locations import browser_location, remove_dot_segments, resolve
from probe.probes.https_redirects import (
    Chain,
    End,
    classify_redirect,
    next_end,
    site_hosts,
)
from probe.probes.https_requests import plain_endpoint, shares_tls_port, start_url, to_twin
from probe.probes.https_tls import (
    EXPIRED,
    HOSTNAME_MISMATCH,
    NOT_YET_VALID,
    SELF_SIGNED_LEAF,
    UNABLE_TO_GET_LOCAL_ISSUER,
    judge_expiry,
    judge_handshake,
    judge_hostname,
    judge_legacy,
    judge_trust,
    names_match,
    openssl_command,
)
from probe.scenario.models import Endpoint, HttpsConfig, Target
from probe.tls import Certificate, TlsFacts
from tests.scan import scenario

HTTP = "http://api.example.test/items?a=1&probe_marker=m"
HTTPS = "https://api.example.test/items?a=1&probe_marker=m"
NOW = datetime(2030, 6, 1, tzinfo=UTC)


def names(chain: Chain) -> list[str]:
    """Rule names of a chain's problems, sorted."""
    return sorted(p.name for p in classify_redirect(chain).problems)


def redirect(url: str, status: int, location: str) -> Hop:
    return Hop(url, status=status, location=location)


def answer(url: str, status: int = 200, body: str = "") -> Hop:
    return Hop(url, status=status, body=body)


# -- redirect chains ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_to_same_url_on_https_passes(status: int) -> None:
    chain = Chain((redirect(HTTP, status, HTTPS), answer(HTTPS)), End.answered)
    verdict = classify_redirect(chain)
    assert verdict.status is CheckStatus.passed
    assert verdict.problems == ()


def test_https_port_may_differ_from_the_default() -> None:
    there = "https://api.example.test:8443/items?a=1&probe_marker=m"
    chain = Chain((redirect(HTTP, 301, there), answer(there)), End.answered)
    assert classify_redirect(chain).status is CheckStatus.passed


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirect_is_info(status: int) -> None:
    chain = Chain((redirect(HTTP, status, HTTPS), answer(HTTPS)), End.answered)
    assert names(chain) == ["temporary-redirect"]


def test_second_plain_hop_before_https_is_reported() -> None:
    middle = "http://api.example.test/secure/items?a=1&probe_marker=m"
    hops = (redirect(HTTP, 301, middle), redirect(middle, 301, HTTPS), answer(HTTPS))
    assert names(Chain(hops, End.answered)) == ["http-hops"]


def test_downgrade_anywhere_in_the_chain_is_reported() -> None:
    back = "http://api.example.test/v2/items"
    final = "https://api.example.test/v2/items"
    hops = (
        redirect(HTTP, 301, HTTPS),
        redirect(HTTPS, 301, back),
        redirect(back, 301, final),
        answer(final),
    )
    assert names(Chain(hops, End.answered)) == ["downgrade-hop"]


def test_downgrade_to_a_location_not_requested_is_still_seen() -> None:
    back = "http://api.example.test:81/items"
    hops = (redirect(HTTP, 301, HTTPS), redirect(HTTPS, 301, back))
    assert names(Chain(hops, End.out_of_scope)) == ["downgrade-hop"]


def test_offsite_redirect_is_reported_and_not_a_landing() -> None:
    away = "https://elsewhere.example.net/items?a=1&probe_marker=m"
    verdict = classify_redirect(Chain((redirect(HTTP, 301, away),), End.offsite))
    assert [p.name for p in verdict.problems] == ["offsite-redirect"]
    assert "never requested" in verdict.problems[0].detail


@pytest.mark.parametrize(
    ("there", "lost"),
    [
        ("https://api.example.test/", "the path /items and the query parameter(s) a, probe"),
        ("https://api.example.test/items", "parameter(s) a, probe_marker lost"),
        ("https://api.example.test/items?probe_marker=m", "parameter(s) a lost"),
    ],
)
def test_lost_path_or_query_is_reported(there: str, lost: str) -> None:
    verdict = classify_redirect(Chain((redirect(HTTP, 301, there), answer(there)), End.answered))
    assert [p.name for p in verdict.problems] == ["redirect-drops-path"]
    assert lost in verdict.problems[0].detail


def test_trailing_slash_and_extra_parameters_are_not_losses() -> None:
    there = "https://api.example.test/items/?probe_marker=m&a=1&lang=en"
    chain = Chain((redirect(HTTP, 301, there), answer(there)), End.answered)
    assert classify_redirect(chain).status is CheckStatus.passed


def test_chain_that_stays_on_http_and_serves_is_cleartext() -> None:
    other = "http://api.example.test/items/"
    hops = (redirect(HTTP, 301, other), answer(other))
    assert names(Chain(hops, End.answered)) == ["cleartext-served"]


def test_chain_that_never_reaches_https_is_inconclusive() -> None:
    other = "http://api.example.test/items/"
    verdict = classify_redirect(
        Chain((redirect(HTTP, 301, other), answer(other, 404)), End.answered)
    )
    assert verdict.status is CheckStatus.error
    assert verdict.problems == ()


@pytest.mark.parametrize(("end", "word"), [(End.loop, "loop"), (End.too_long, "more than 10")])
def test_loops_and_long_chains_are_errors_not_findings(end: End, word: str) -> None:
    other = "http://api.example.test/b"
    hops = (redirect(HTTP, 302, other), redirect(other, 302, HTTP))
    verdict = classify_redirect(Chain(hops, end))
    assert verdict.status is CheckStatus.error
    assert word in verdict.detail
    assert verdict.problems == ()


def test_2xx_over_plain_http_is_cleartext_served() -> None:
    verdict = classify_redirect(Chain((answer(HTTP),), End.answered))
    assert [p.name for p in verdict.problems] == ["cleartext-served"]


@pytest.mark.parametrize(
    ("hop", "tls_port"),
    [
        (Hop(HTTP, error="connect: [Errno 111] Connection refused"), False),
        (Hop(HTTP, error="timeout: no answer within 10 s"), False),
        (
            Hop(HTTP, error="RemoteProtocolError: Server disconnected without sending a response."),
            False,
        ),
        (Hop(HTTP, error="ReadError: "), False),
        (Hop(HTTP, error="RemoteProtocolError: illegal status line: bytearray(b'\\x15')"), True),
        (answer(HTTP, 421), False),
        (answer(HTTP, 426), False),
        (answer(HTTP, 400, "The plain HTTP request was sent to HTTPS port"), False),
        (answer(HTTP, 400, "Client sent an HTTP request to an HTTPS server."), False),
        (answer(HTTP, 400), True),
    ],
)
def test_refused_plain_http_passes(hop: Hop, tls_port: bool) -> None:
    verdict = classify_redirect(Chain((hop,), End.answered, tls_port=tls_port))
    assert verdict.status is CheckStatus.passed


def test_timeout_says_the_port_drops_plain_http() -> None:
    hop = Hop(HTTP, error="timeout: no answer within 10 s")
    assert "drops plain HTTP" in classify_redirect(Chain((hop,), End.no_answer)).detail


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 500])
def test_other_answers_are_inconclusive_never_pass_nor_finding(status: int) -> None:
    verdict = classify_redirect(Chain((answer(HTTP, status, "Bad request"),), End.answered))
    assert verdict.status is CheckStatus.error
    assert verdict.detail.startswith("inconclusive")
    assert verdict.problems == ()


def test_request_refused_by_the_scan_is_skipped() -> None:
    hop = Hop(HTTP, error="refused: out of scope: api.example.test:80 is not in scope")
    assert classify_redirect(Chain((hop,), End.not_sent)).status is CheckStatus.skipped


def test_redirect_without_location_is_inconclusive() -> None:
    hop = Hop(HTTP, status=301)
    assert classify_redirect(Chain((hop,), End.unclear)).status is CheckStatus.error


# -- following --------------------------------------------------------------------------------


def test_site_is_base_twin_and_scope_hosts() -> None:
    target = Target(
        base_url="https://API.example.test:8443",
        http_url="http://legacy.example.test",
        scope=["api.example.test:8443", "legacy.example.test:80", "www.example.test"],
    )
    assert site_hosts(target) == {"api.example.test", "legacy.example.test", "www.example.test"}


def test_next_end_judges_host_then_scope() -> None:
    site = frozenset({"api.example.test"})
    scope = frozenset({"api.example.test:443", "api.example.test:80"})
    assert next_end("https://api.example.test/x", site, scope) is None
    assert next_end("https://API.example.test/x", site, scope) is None
    assert next_end("https://evil.example.net/x", site, scope) is End.offsite
    assert next_end("https://api.example.test:8443/x", site, scope) is End.out_of_scope
    assert next_end("https://user@api.example.test/x", site, scope) is End.unclear


def test_resolve_keeps_only_http_urls() -> None:
    assert resolve("http://a.test/x/y", "../z?q=1") == "http://a.test/z?q=1"
    assert resolve("http://a.test/x", "//b.test/p") == "http://b.test/p"
    assert resolve("http://a.test/x", "javascript:alert(1)") is None


def test_twin_swaps_base_url_and_knows_a_shared_port() -> None:
    target = Target(base_url="https://api.example.test/v1")
    assert to_twin(target, "https://api.example.test/v1/items?a=1") == (
        "http://api.example.test/v1/items?a=1"
    )
    assert not shares_tls_port(target)
    same = Target(base_url="https://a.example.test:8443", http_url="http://a.example.test:8443")
    assert shares_tls_port(same)


def test_plain_http_request_prefers_a_get_endpoint_without_identity() -> None:
    post = Endpoint(method="POST", path="/login")
    me = Endpoint(path="/me", identity="alice")
    health = Endpoint(path="/health")
    assert plain_endpoint([post, me, health]) == health
    assert plain_endpoint([post, me]) == me
    assert plain_endpoint([Endpoint(method="POST", path="/a", identity="alice"), post]) == post
    assert plain_endpoint([]) is None


def test_plan_names_every_request_and_handshake() -> None:
    scn = scenario(
        "https://api.example.test",
        [
            {"path": "/me", "identity": "alice", "tags": ["auth"]},
            {"path": "/items", "query": {"page": 2}},
            {"method": "POST", "path": "/login", "json": {"password": "pw"}, "tags": ["auth"]},
            {"method": "DELETE", "path": "/session", "json": {}, "tags": ["auth"]},
        ],
        identities={"alice": {"token": "alice-token-0123"}},
    )
    lines = HttpsProbe().plan(scn)
    assert "GET http://api.example.test/items?probe_marker=MARKER " in lines[0]
    assert "page=2" not in lines[0]
    me, login, logout = lines[1:4]
    assert "'GET /me' skipped" in me
    assert "no credentials" in me
    assert "POST http://api.example.test/login " in login
    assert "never an identity's token" in login
    assert "'DELETE /session' skipped" in logout
    assert "TLS 1.0 only" in lines[4]
    plain = scenario("http://api.example.test", [{"path": "/items"}])
    assert "no-tls" in HttpsProbe().plan(plain)[0]


@pytest.mark.parametrize(
    ("endpoint", "skipped"),
    [
        ({"method": "POST", "path": "/login", "json": {"password": "pw"}}, None),
        ({"method": "POST", "path": "/token", "form": {"secret": "s"}}, None),
        ({"path": "/token", "query": {"client_secret": "s"}}, None),
        ({"path": "/check", "headers": {"X-Api-Key": "k"}}, None),
        ({"path": "/me", "identity": "alice"}, "no credentials"),
        ({"path": "/me", "headers": {"Accept": "application/json"}}, "no credentials"),
        ({"method": "DELETE", "path": "/session", "json": {"password": "pw"}}, "DELETE"),
    ],
)
def test_auth_endpoints_are_replayed_only_with_their_own_credentials(
    endpoint: dict[str, Any], skipped: str | None
) -> None:
    reason = not_replayed(Endpoint.model_validate({**endpoint, "tags": ["auth"]}))
    if skipped is None:
        assert reason is None
    else:
        assert reason is not None
        assert skipped in reason


def test_expiry_days_must_be_in_order() -> None:
    assert HttpsConfig(expiring_days=60, expiring_high_days=14).expiring_high_days == 14
    with pytest.raises(ValidationError, match="expiring_high_days"):
        HttpsConfig(expiring_days=5, expiring_high_days=7)


# -- credentials ------------------------------------------------------------------------------


def test_login_processed_over_http_is_reported() -> None:
    verdict = judge_credentials(answer(HTTP, 200, '{"ok": true}'), tls_port=False)
    assert [p.name for p in verdict.problems] == ["credentials-over-http"]


def test_token_in_a_non_2xx_answer_is_processed_too() -> None:
    body = json.dumps({"access_token": "x" * 40})
    verdict = judge_credentials(answer(HTTP, 302, body), tls_port=False)
    assert [p.name for p in verdict.problems] == ["credentials-over-http"]


@pytest.mark.parametrize(
    "hop",
    [
        redirect(HTTP, 301, HTTPS),
        redirect(HTTP, 308, HTTPS),
        Hop(HTTP, error="connect: refused"),
        answer(HTTP, 426),
    ],
)
def test_login_redirected_or_refused_passes(hop: Hop) -> None:
    assert judge_credentials(hop, tls_port=False).status is CheckStatus.passed


def test_login_answered_403_is_inconclusive() -> None:
    verdict = judge_credentials(answer(HTTP, 403, "blocked"), tls_port=False)
    assert verdict.status is CheckStatus.error
    assert verdict.problems == ()


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig", "a JWT"),
        ('{"data": {"session": {"token": "0123456789abcdef0123"}}}', "'token'"),
        ('{"access_token": "0123456789abcdef"}', "'access_token'"),
    ],
)
def test_token_like_values_are_found(body: str, what: str) -> None:
    found = token_in(body)
    assert found is not None
    assert what in found[0]


@pytest.mark.parametrize(
    "body", ['{"token": "short"}', '{"message": "logged in"}', "<html>token</html>", "[]"]
)
def test_short_or_missing_tokens_are_not_found(body: str) -> None:
    assert token_in(body) is None


@given(st.text(max_size=300))
def test_token_search_never_fails_on_any_text(body: str) -> None:
    found = token_in(body)
    assert found is None or found[1] in body or found[0].startswith("a '")


# -- certificates -----------------------------------------------------------------------------


def leaf(**changes: Any) -> Certificate:
    values: dict[str, Any] = {
        "subject": "CN=api.example.test",
        "issuer": "CN=Example CA",
        "not_before": NOW - timedelta(days=30),
        "not_after": NOW + timedelta(days=60),
        "dns_names": ("api.example.test",),
    }
    values.update(changes)
    return Certificate(**values)


def facts(**changes: Any) -> TlsFacts:
    values: dict[str, Any] = {
        "host": "api.example.test",
        "port": 443,
        "sni": "api.example.test",
        "protocol": "TLSv1.3",
        "cipher": "TLS_AES_128_GCM_SHA256",
        "certificate": leaf(),
        "chain_length": 2,
    }
    values.update(changes)
    return TlsFacts(**values)


def refused(code: int, message: str = "refused", **changes: Any) -> TlsFacts:
    return facts(
        error=f"certificate refused: {message}",
        stage="handshake",
        verify_code=code,
        verify_message=message,
        protocol=None,
        certificate=None,
        **changes,
    )


def test_handshake_detail_has_protocol_cipher_subject_issuer_and_dates() -> None:
    detail = judge_handshake(facts()).detail
    for part in ("TLSv1.3", "TLS_AES_128_GCM_SHA256", "CN=api.example.test", "CN=Example CA"):
        assert part in detail
    assert "2030-05-02" in detail
    assert "SNI api.example.test" in detail


def test_handshake_with_an_ip_address_says_there_is_no_sni() -> None:
    detail = judge_handshake(facts(sni=None, host="192.0.2.1")).detail
    assert "no SNI" in detail


def test_trusted_chain_passes() -> None:
    verdict = judge_trust(facts(), facts(), True)
    assert verdict.status is CheckStatus.passed


@pytest.mark.parametrize("code", [EXPIRED, NOT_YET_VALID, HOSTNAME_MISMATCH])
def test_dates_and_names_are_not_untrusted(code: int) -> None:
    verdict = judge_trust(refused(code), facts(), True)
    assert verdict.status is CheckStatus.passed


def test_self_signed_certificate_is_untrusted() -> None:
    verdict = judge_trust(refused(SELF_SIGNED_LEAF), facts(), True)
    assert [p.name for p in verdict.problems] == ["tls-untrusted"]
    assert "self-signed" in verdict.detail


def test_leaf_alone_with_aia_is_a_missing_intermediate() -> None:
    shown = facts(chain_length=1, certificate=leaf(ca_issuers=("http://ca.test/i.der",)))
    verdict = judge_trust(refused(UNABLE_TO_GET_LOCAL_ISSUER), shown, True)
    assert [p.name for p in verdict.problems] == ["tls-chain-incomplete"]
    assert verdict.problems[0].confidence is Confidence.firm


def test_unknown_chain_length_makes_a_missing_intermediate_tentative() -> None:
    shown = facts(chain_length=None, certificate=leaf(ca_issuers=("http://ca.test/i.der",)))
    verdict = judge_trust(refused(UNABLE_TO_GET_LOCAL_ISSUER), shown, True)
    assert verdict.problems[0].confidence is Confidence.tentative


def test_unknown_issuer_without_aia_is_untrusted_and_says_it_may_be_the_chain() -> None:
    shown = facts(chain_length=1)
    verdict = judge_trust(refused(UNABLE_TO_GET_LOCAL_ISSUER), shown, True)
    assert [p.name for p in verdict.problems] == ["tls-untrusted"]
    assert "intermediate" in verdict.detail


def test_unknown_issuer_after_a_full_chain_is_untrusted() -> None:
    shown = facts(chain_length=2, certificate=leaf(ca_issuers=("http://ca.test/i.der",)))
    verdict = judge_trust(refused(UNABLE_TO_GET_LOCAL_ISSUER), shown, True)
    assert [p.name for p in verdict.problems] == ["tls-untrusted"]
    assert "sent 2 certificates" in verdict.detail


def test_verify_false_skips_trust_and_name() -> None:
    for judge in (judge_trust, judge_hostname):
        verdict = judge(refused(SELF_SIGNED_LEAF), facts(), False)
        assert verdict.status is CheckStatus.skipped
        assert "verify_tls is false" in verdict.detail


def test_verifying_handshake_that_failed_on_the_network_is_an_error() -> None:
    broken = facts(error="timeout: no finished handshake within 5 s", stage="handshake")
    assert judge_trust(broken, facts(), True).status is CheckStatus.error


def test_hostname_mismatch_code_is_reported() -> None:
    shown = facts(certificate=leaf(dns_names=("other.example.test",)))
    verdict = judge_hostname(refused(HOSTNAME_MISMATCH), shown, True)
    assert [p.name for p in verdict.problems] == ["tls-hostname-mismatch"]
    assert "other.example.test" in verdict.detail


def test_untrusted_chain_still_gets_its_names_judged() -> None:
    wrong = facts(certificate=leaf(dns_names=("other.example.test",)))
    right = facts()
    code = refused(SELF_SIGNED_LEAF)
    assert judge_hostname(code, wrong, True).problems
    assert judge_hostname(code, right, True).status is CheckStatus.passed


@pytest.mark.parametrize(
    ("host", "entries", "ok"),
    [
        ("api.example.test", ("API.Example.Test",), True),
        ("api.example.test", ("*.example.test",), True),
        ("a.b.example.test", ("*.example.test",), False),
        ("example.test", ("*.example.test",), False),
        ("api.test", ("*.test",), False),
        ("api.example.test.", ("api.example.test",), True),
        ("api.example.test", (), False),
    ],
)
def test_dns_names_match_as_rfc_6125_says(host: str, entries: tuple[str, ...], ok: bool) -> None:
    assert names_match(host, leaf(dns_names=entries)) is ok


def test_ip_hosts_match_ip_entries_only() -> None:
    cert = leaf(dns_names=("127.0.0.1",), ip_addresses=("::1",))
    assert not names_match("127.0.0.1", cert)
    assert names_match("::1", cert)
    assert names_match("[0:0::1]", cert)


@pytest.mark.parametrize(
    ("days", "rule", "severity"),
    [
        (-1, "tls-expired", None),
        (0.5, "tls-expiring", Severity.high),
        (7, "tls-expiring", Severity.high),
        (7.5, "tls-expiring", Severity.medium),
        (30, "tls-expiring", Severity.medium),
    ],
)
def test_expiry_thresholds(days: float, rule: str, severity: Severity | None) -> None:
    cert = leaf(not_after=NOW + timedelta(days=days))
    verdict = judge_expiry(cert, NOW, 30, 7)
    assert [(p.name, p.severity) for p in verdict.problems] == [(rule, severity)]


def test_certificate_with_a_month_and_more_left_passes() -> None:
    cert = leaf(not_after=NOW + timedelta(days=31))
    assert judge_expiry(cert, NOW, 30, 7).status is CheckStatus.passed


def test_certificate_not_valid_yet_is_outside_its_dates() -> None:
    cert = leaf(not_before=NOW + timedelta(days=2))
    verdict = judge_expiry(cert, NOW, 30, 7)
    assert [p.name for p in verdict.problems] == ["tls-expired"]
    assert "not valid yet" in verdict.detail


# -- legacy versions ---------------------------------------------------------------------------


def test_legacy_version_counts_only_when_completed_in_that_version() -> None:
    accepted = judge_legacy("TLS 1.0", facts(protocol="TLSv1"))
    assert [p.name for p in accepted.problems] == ["tls-legacy-version"]
    assert "TLSv1, TLS_AES_128_GCM_SHA256" in accepted.detail
    other = judge_legacy("TLS 1.0", facts(protocol="TLSv1.2"))
    assert other.status is CheckStatus.passed


def test_legacy_version_refused_in_the_handshake_passes() -> None:
    alert = facts(protocol=None, error="[SSL: TLSV1_ALERT_PROTOCOL_VERSION]", stage="handshake")
    assert judge_legacy("TLS 1.1", alert).status is CheckStatus.passed


def test_legacy_version_the_local_openssl_cannot_offer_is_skipped() -> None:
    local = facts(protocol=None, error="no protocols available", stage="local")
    verdict = judge_legacy("TLS 1.0", local)
    assert verdict.status is CheckStatus.skipped
    assert "cannot offer" in verdict.detail


@pytest.mark.parametrize(
    ("stage", "error"),
    [("connect", "connect: refused"), ("handshake", "timeout: no finished handshake within 5 s")],
)
def test_legacy_version_without_an_answer_is_an_error(stage: str, error: str) -> None:
    verdict = judge_legacy("TLS 1.0", facts(protocol=None, error=error, stage=stage))
    assert verdict.status is CheckStatus.error


# -- what a failed exchange shows ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("refused: out of scope: a.test:80 is not in the scenario's scope", Failure.not_sent),
        ("not sent: invalid request: bad header", Failure.not_sent),
        ("connect: All connection attempts failed", Failure.no_connection),
        ("timeout: no answer within 5 s", Failure.nothing),
        ("RemoteProtocolError: Server disconnected without sending a response.", Failure.nothing),
        ("ReadError: ", Failure.nothing),
        ("RemoteProtocolError: illegal header line: bytearray(b'X(Bad): 1')", Failure.partial),
        ("RemoteProtocolError: conflicting Content-Length headers", Failure.partial),
        (
            "RemoteProtocolError: peer closed connection without sending complete message body "
            "(received 2 bytes, expected 100)",
            Failure.partial,
        ),
        ("LocalProtocolError: Too little data for declared Content-Length", Failure.partial),
        ("protocol: more than 20 1xx answers", Failure.partial),
        ("timeout: no answer within 5 s (after 57 bytes of an answer)", Failure.partial),
        ("ReadError: (after 12 bytes of an answer)", Failure.partial),
        ("timeout: no answer within 5 s (after 0 bytes of an answer)", Failure.nothing),
    ],
)
def test_exchange_errors_tell_silence_from_a_garbled_answer(error: str, kind: Failure) -> None:
    assert failure(error) is kind


def test_garbled_answer_on_the_tls_port_itself_is_a_refusal() -> None:
    hop = Hop(HTTP, error="RemoteProtocolError: illegal status line: bytearray(b'\\x15\\x03')")
    assert classify_redirect(Chain((hop,), End.no_answer)).status is CheckStatus.error
    verdict = classify_redirect(Chain((hop,), End.no_answer, tls_port=True))
    assert verdict.status is CheckStatus.passed


def test_request_that_could_not_be_framed_is_an_error_not_a_pass() -> None:
    hop = Hop(HTTP, error="not sent: invalid request: non-ASCII header")
    assert classify_redirect(Chain((hop,), End.no_answer)).status is CheckStatus.error


@pytest.mark.parametrize(
    "body",
    [
        "<center>The plain HTTP request was sent to HTTPS port</center>",
        "Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />",
        "Client sent an HTTP request to an HTTPS server.\n",
        "<p><b>Message</b> Bad Request\nThis combination of host and port requires TLS.</p>",
    ],
)
def test_tls_only_ports_are_known_by_their_own_words(body: str) -> None:
    assert tls_phrase(body) is not None
    assert classify_redirect(Chain((answer(HTTP, 400, body),), End.answered)).status is (
        CheckStatus.passed
    )


@pytest.mark.parametrize(
    "body",
    [
        '{"type":"https://errors.example.net/validation","title":"Bad Request","status":400}',
        "Use https://api.example.test instead",
        "TLS is required; SSL settings are wrong",
    ],
)
def test_a_400_mentioning_https_or_tls_in_passing_is_inconclusive(body: str) -> None:
    assert tls_phrase(body) is None
    verdict = classify_redirect(Chain((answer(HTTP, 400, body),), End.answered))
    assert verdict.status is CheckStatus.error


# -- the HTTPS landing -------------------------------------------------------------------------


def test_landing_without_an_answer_is_inconclusive() -> None:
    dead = Hop(HTTPS, error="connect: All connection attempts failed")
    verdict = classify_redirect(Chain((redirect(HTTP, 301, HTTPS), dead), End.no_answer))
    assert verdict.status is CheckStatus.error
    assert "gave no answer" in verdict.detail


def test_dead_landing_keeps_what_the_locations_show() -> None:
    there = "https://api.example.test/"
    dead = Hop(there, error="connect: [SSL: WRONG_VERSION_NUMBER] wrong version number")
    verdict = classify_redirect(Chain((redirect(HTTP, 301, there), dead), End.no_answer))
    assert [p.name for p in verdict.problems] == ["redirect-drops-path"]
    assert "gave no answer" in verdict.detail


def test_landing_out_of_scope_passes_unverified() -> None:
    verdict = classify_redirect(Chain((redirect(HTTP, 301, HTTPS),), End.out_of_scope))
    assert verdict.status is CheckStatus.passed
    assert "not verified" in verdict.detail


# -- Locations as a browser reads them ----------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "read"),
    [
        ("/\\evil.example/x", "//evil.example/x"),
        ("\\\\evil.example/x", "//evil.example/x"),
        ("https:\\\\evil.example\\x?a=\\b", "https://evil.example/x?a=\\b"),
        ("http://a.test:81\\@b.test/x", "http://a.test:81/@b.test/x"),
        (" \thttps://a.test/\nx\r ", "https://a.test/x"),
        ("https://a.test/caf\u00c3\u00a9?q=\u00c3\u00a9", "https://a.test/caf%C3%A9?q=%C3%A9"),
        ("https://a.test/a b", "https://a.test/a%20b"),
        ("https://a.test/caf%C3%A9", "https://a.test/caf%C3%A9"),
    ],
)
def test_location_is_read_as_a_browser_reads_it(location: str, read: str) -> None:
    assert browser_location(location) == read


def test_backslash_location_resolves_to_another_host() -> None:
    assert resolve("http://api.example.test/items", "/\\evil.example/x") == (
        "http://evil.example/x"
    )


@pytest.mark.parametrize(
    ("path", "clean"),
    [
        ("/x/../e", "/e"),
        ("/a/./b/../c", "/a/c"),
        ("/a/b/..", "/a/"),
        ("/../../e", "/e"),
        ("/a/b/.", "/a/b/"),
        ("/a//b", "/a//b"),
    ],
)
def test_dot_segments_are_removed_as_rfc_3986_says(path: str, clean: str) -> None:
    assert remove_dot_segments(path) == clean


@given(st.lists(st.sampled_from(["a", "b", ".", "..", ""]), max_size=8))
def test_removed_dot_segments_leave_no_dot_segment(segments: list[str]) -> None:
    clean = remove_dot_segments("/" + "/".join(segments))
    assert clean.startswith("/")
    assert not {".", ".."} & set(clean.split("/"))
    assert remove_dot_segments(clean) == clean


def test_dot_segments_and_percent_encoding_are_not_path_losses() -> None:
    start = "http://api.example.test/caf\u00e9?probe_marker=m"
    for there in (
        "https://api.example.test/x/../caf%C3%A9?probe_marker=m",
        "https://api.example.test/./caf%c3%a9?probe_marker=m",
    ):
        chain = Chain((redirect(start, 301, there), answer(there)), End.answered)
        assert classify_redirect(chain).status is CheckStatus.passed, there


# -- other hosts ---------------------------------------------------------------------------------


def test_trailing_dot_is_the_same_host() -> None:
    site = frozenset({"api.example.test"})
    scope = frozenset({"api.example.test"})
    assert next_end("https://api.example.test./x", site, scope) is not End.offsite


def test_fixed_offsite_host_is_low_and_a_reflected_one_an_open_redirect() -> None:
    away = "https://www.example.net/items?a=1&probe_marker=m"
    fixed = classify_redirect(Chain((redirect(HTTP, 301, away),), End.offsite))
    assert [(p.name, p.severity) for p in fixed.problems] == [("offsite-redirect", None)]
    start = "http://api.example.test/go/evil.example.net?probe_marker=m"
    echoed = classify_redirect(
        Chain((redirect(start, 301, "https://evil.example.net/"),), End.offsite)
    )
    assert [p.name for p in echoed.problems] == ["open-redirect"]
    marker = classify_redirect(
        Chain(
            (redirect(HTTP.replace("=m", "=prb12345678"), 301, "https://prb12345678.evil/"),),
            End.offsite,
        )
    )
    assert [p.name for p in marker.problems] == ["open-redirect"]


def test_host_sharing_a_word_with_the_path_is_no_echo() -> None:
    start = "http://api.example.test/api/items?probe_marker=m"
    verdict = classify_redirect(
        Chain((redirect(start, 301, "https://api.example.net/api/items"),), End.offsite)
    )
    assert [p.name for p in verdict.problems] == ["offsite-redirect"]


# -- legacy versions and openssl lines -----------------------------------------------------------


def test_legacy_refusal_counts_only_after_some_handshake_succeeded() -> None:
    refused = facts(protocol=None, error="[SSL: WRONG_VERSION_NUMBER]", stage="handshake")
    failed = facts(protocol=None, error="[SSL: WRONG_VERSION_NUMBER]", stage="handshake")
    assert judge_legacy("TLS 1.0", refused, facts()).status is CheckStatus.passed
    verdict = judge_legacy("TLS 1.0", refused, failed)
    assert verdict.status is CheckStatus.error
    assert "no TLS handshake succeeded at all" in verdict.detail
    # A server that speaks only TLS 1.0 fails the modern handshake and is still reported.
    old_only = judge_legacy("TLS 1.0", facts(protocol="TLSv1"), failed)
    assert [p.name for p in old_only.problems] == ["tls-legacy-version"]


def test_openssl_line_names_sni_bundle_and_version() -> None:
    command = openssl_command(facts(), verify="/tmp/my ca.pem")
    assert command == (
        "openssl s_client -connect api.example.test:443 -servername api.example.test "
        "-CAfile '/tmp/my ca.pem' -verify_hostname api.example.test -showcerts </dev/null"
    )
    address = openssl_command(facts(host="::1", sni=None), verify=True)
    assert address.startswith("openssl s_client -connect '[::1]:443' -verify_ip ::1 ")
    legacy = openssl_command(facts(), versions=("TLS 1.0", "TLS 1.1"))
    assert " -tls1 -cipher DEFAULT:@SECLEVEL=0 </dev/null; " in legacy
    assert " -tls1_1 " in legacy
    assert "openssl x509 -noout" in openssl_command(facts(), dates=True)


def test_later_https_hop_without_an_answer_is_inconclusive() -> None:
    other = "https://api.example.test/v2/items?a=1&probe_marker=m"
    hops = (redirect(HTTP, 301, HTTPS), redirect(HTTPS, 301, other), Hop(other, error="connect: x"))
    verdict = classify_redirect(Chain(hops, End.no_answer))
    assert verdict.status is CheckStatus.error
    assert f"{other} gave no answer" in verdict.detail


class _Context:
    """Just what `start_url` reads of a scan: the scenario, the marker, secrets, the URL."""

    def __init__(self, base_url: str, endpoints: list[dict[str, Any]], secret: str) -> None:
        self.scenario = scenario(base_url, endpoints)
        self.marker = "prb00000000"
        self.secret = secret

    def holds_secret(self, text: str) -> bool:
        return self.secret in text

    def endpoint_request(self, endpoint: Endpoint, *, query: dict[str, Any]) -> Any:
        assert query == {}
        return type("Spec", (), {"url": self.scenario.target.base_url + endpoint.rendered_path})


@pytest.mark.parametrize(
    ("base_url", "path", "secret", "url"),
    [
        ("https://a.test/api", "/items", "nothing", "http://a.test/api/items?probe_marker=prb0"),
        ("https://a.test/api", "/u/s3cret", "s3cret", "http://a.test/api?probe_marker=prb0"),
        ("https://a.test/s3cret", "/items", "s3cret", "http://a.test/?probe_marker=prb0"),
    ],
)
def test_plain_http_url_falls_back_until_no_secret_is_in_it(
    base_url: str, path: str, secret: str, url: str
) -> None:
    ctx: Any = _Context(base_url, [{"path": path}], secret)
    assert start_url(ctx).startswith(url)
