"""`probe.tls`: one handshake with a real local server, and the facts it shows."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import anyio
import pytest
import trustme

from probe.demo import loopback_socket
from probe.tls import TlsFacts, handshake, local_support, parse_certificate
from tests.probes import apps_https as apps
from tests.probes.apps_https import Links, Pem
from tests.servers import free_port, serve_raw

TLS1 = ssl.TLSVersion.TLSv1


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def serve(pem: Pem, tmp: Path, *, legacy: bool = False) -> AbstractContextManager[str]:
    """An HTTPS server with this certificate; yields https://localhost:PORT."""
    context = apps.server_context(pem, tmp, legacy=legacy)
    return apps.serve_tls(apps.api_app(Links()), context)


@pytest.fixture(scope="module")
def valid(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pem = apps.leaf_pem(ca.issue_cert("localhost", "127.0.0.1"))
    with serve(pem, tmp_path_factory.mktemp("valid")) as url:
        yield url


@pytest.fixture(scope="module")
def legacy(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pem = apps.leaf_pem(ca.issue_cert("localhost"))
    with serve(pem, tmp_path_factory.mktemp("legacy"), legacy=True) as url:
        yield url


def shake(url: str, verify: bool | str = False, **versions: ssl.TLSVersion) -> TlsFacts:
    async def go() -> TlsFacts:
        return await handshake(url, verify=verify, timeout=3, **versions)

    return anyio.run(go)


def test_completed_handshake_shows_protocol_cipher_and_certificate(valid: str) -> None:
    facts = shake(valid)
    assert facts.completed
    assert facts.stage is None
    assert facts.protocol == "TLSv1.3"
    assert facts.cipher
    assert facts.sni == "localhost"
    assert facts.chain_length == 1
    assert facts.certificate is not None
    assert facts.certificate.dns_names == ("localhost",)
    assert facts.certificate.ip_addresses == ("127.0.0.1",)
    assert facts.certificate.issuer.startswith("OU=Testing CA")
    assert facts.certificate.not_before < facts.certificate.not_after


def test_verified_handshake_against_the_ca_bundle(valid: str, bundle: str) -> None:
    facts = shake(valid, bundle)
    assert facts.completed
    assert facts.verify_code is None


def test_ip_address_sends_no_sni_and_is_checked_against_ip_entries(valid: str, bundle: str) -> None:
    url = valid.replace("localhost", "127.0.0.1")
    facts = shake(url, bundle)
    assert facts.completed
    assert facts.sni is None


def test_system_store_refuses_a_private_ca_with_its_code(valid: str) -> None:
    facts = shake(valid, True)
    assert facts.stage == "handshake"
    assert facts.verify_code == 20
    assert facts.error is not None
    assert facts.error.startswith("certificate refused")


@pytest.mark.parametrize(
    ("name", "code"),
    [("expired", 10), ("mismatch", 62), ("self-signed", 18)],
)
def test_verification_failures_keep_openssl_codes(
    ca: trustme.CA, bundle: str, tmp_path: Path, name: str, code: int
) -> None:
    pems = {
        "expired": lambda: apps.leaf_pem(
            ca.issue_cert(
                "localhost", not_before=apps.days_from_now(-9), not_after=apps.days_from_now(-1)
            )
        ),
        "mismatch": lambda: apps.leaf_pem(ca.issue_cert("other.example")),
        "self-signed": lambda: apps.self_signed("localhost"),
    }
    with serve(pems[name](), tmp_path) as url:
        assert shake(url, bundle).verify_code == code
        assert shake(url).completed


def test_leaf_with_aia_names_where_its_issuer_lives(ca: trustme.CA, tmp_path: Path) -> None:
    with serve(apps.leaf_with_aia(ca.create_child_ca(), "localhost"), tmp_path) as url:
        facts = shake(url)
    assert facts.certificate is not None
    assert facts.certificate.ca_issuers == (apps.AIA_URL,)
    assert facts.chain_length == 1


def test_legacy_server_completes_tls_1_0(legacy: str) -> None:
    facts = shake(legacy, minimum=TLS1, maximum=TLS1)
    assert facts.protocol == "TLSv1"


def test_modern_server_refuses_tls_1_0_during_the_handshake(valid: str) -> None:
    facts = shake(valid, minimum=TLS1, maximum=TLS1)
    assert not facts.completed
    assert facts.stage == "handshake"


def test_nothing_listening_fails_at_connect() -> None:
    facts = shake(f"https://localhost:{free_port()}")
    assert facts.stage == "connect"
    assert facts.error is not None
    assert "connect" in facts.error


def test_plain_http_server_fails_in_the_handshake() -> None:
    with serve_raw(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") as url:
        facts = shake(url.replace("http://", "https://"))
    assert facts.stage == "handshake"
    assert facts.error is not None
    assert "(_ssl.c" not in facts.error


def test_silent_server_times_out_in_the_handshake() -> None:
    with loopback_socket() as listener:
        listener.listen()
        port = listener.getsockname()[1]

        async def go() -> TlsFacts:
            return await handshake(f"https://localhost:{port}", verify=False, timeout=0.3)

        facts = anyio.run(go)
    assert facts.stage == "handshake"
    assert facts.error is not None
    assert facts.error.startswith("timeout")


def test_missing_ca_bundle_is_a_local_failure(valid: str, tmp_path: Path) -> None:
    facts = shake(valid, str(tmp_path / "missing.pem"))
    assert facts.stage == "local"


def test_url_with_unclear_destination_is_never_tried() -> None:
    facts = shake("https://user@localhost:1/")
    assert facts.stage == "local"


def test_local_support_builds_a_client_hello_in_memory_only() -> None:
    if ssl.HAS_TLSv1:
        assert local_support(TLS1) is None
    reason = local_support(ssl.TLSVersion.SSLv3)
    assert reason is not None
    assert "cannot offer SSL 3.0" in reason


def test_unparsable_certificate_gives_no_facts() -> None:
    assert parse_certificate(b"not a certificate") is None
