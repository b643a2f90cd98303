"""TLS handshakes with the target, and the facts they show.

`handshake` opens one TCP connection to the URL's host and port, runs one TLS handshake (SNI set
to the host name; none for an IP address, which TLS does not allow) and closes the connection
without sending anything else. It never raises for network trouble: the facts say at which
stage it failed (`connect`, `handshake`, or `local` when this machine could not even try).

Verification is one of three: none (to read what the server shows, whatever it is), the system
store, or a CA bundle file. A verification failure keeps OpenSSL's verify code, which the https
probe's judges read (expired, hostname mismatch, unknown issuer...). The leaf certificate is
parsed with `cryptography`; the chain the server sent is counted when Python lets us see it.

`local_support` tells whether this machine's OpenSSL can offer a protocol version at all,
by building a ClientHello in memory: nothing leaves the machine.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import warnings
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

import anyio
from anyio.streams.tls import TLSAttribute, TLSStream
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from probe.http_scope import target_of

Stage = Literal["refused", "local", "connect", "handshake"]
# Old versions need old ciphers (SHA-1 MACs, RSA key exchange), which OpenSSL's default
# security level refuses to offer; level 0 lets the client offer what such a server takes.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
_LEGACY = frozenset({ssl.TLSVersion.SSLv3, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1})
# OpenSSL reasons that mean this machine could not build a ClientHello for the versions asked.
_LOCAL_REASONS = frozenset(
    {"NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE", "NO_SUITABLE_SIGNATURE_ALGORITHM"}
)
_SOURCE_SUFFIX = re.compile(r"\s*\(_ssl\.c:\d+\)$")
VERSION_NAMES = {
    ssl.TLSVersion.SSLv3: "SSL 3.0",
    ssl.TLSVersion.TLSv1: "TLS 1.0",
    ssl.TLSVersion.TLSv1_1: "TLS 1.1",
    ssl.TLSVersion.TLSv1_2: "TLS 1.2",
    ssl.TLSVersion.TLSv1_3: "TLS 1.3",
}


@dataclass(frozen=True)
class Certificate:
    """The facts of one certificate that the judges need.

    Attributes:
        subject: Subject distinguished name (RFC 4514).
        issuer: Issuer distinguished name (RFC 4514).
        not_before: Start of validity (UTC).
        not_after: End of validity (UTC).
        dns_names: DNS names of the subjectAltName extension, as written.
        ip_addresses: IP addresses of the subjectAltName extension.
        ca_issuers: caIssuers URLs of the Authority Information Access extension (where a
            client may fetch the issuer's certificate).
        serial: Serial number in hex.
    """

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    ca_issuers: tuple[str, ...] = ()
    serial: str = ""

    @property
    def self_issued(self) -> bool:
        """True when subject and issuer are the same name (a self-signed certificate)."""
        return self.subject == self.issuer


@dataclass(frozen=True)
class TlsFacts:
    """What one handshake showed.

    Attributes:
        error: Why the handshake did not complete, or None.
        stage: Where it failed: `refused` (the scan's guards), `local` (this machine could
            not try), `connect` (no TCP connection) or `handshake` (the TLS exchange failed,
            verification included); None when it completed.
        host: Host name or address connected to.
        port: TCP port.
        sni: Server name sent in the ClientHello, or None (an IP address).
        protocol: Negotiated version as OpenSSL names it ("TLSv1.3"), or None.
        cipher: Negotiated cipher suite, or None.
        certificate: The server's leaf certificate, or None.
        chain_length: Certificates the server sent, or None when Python cannot see them.
        verify_code: OpenSSL's X509 verify code when verification failed, or None.
        verify_message: OpenSSL's words for that code, or None.
    """

    error: str | None = None
    stage: Stage | None = None
    host: str = ""
    port: int = 0
    sni: str | None = None
    protocol: str | None = None
    cipher: str | None = None
    certificate: Certificate | None = None
    chain_length: int | None = None
    verify_code: int | None = None
    verify_message: str | None = None

    @classmethod
    def failed(cls, error: str, stage: Stage = "refused") -> TlsFacts:
        """Facts of a handshake that did not happen or did not complete."""
        return cls(error=error, stage=stage)

    @property
    def completed(self) -> bool:
        """True when the handshake went through."""
        return self.error is None


def client_context(
    verify: bool | str,
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """The client context of one handshake; raises ssl.SSLError, OSError or ValueError.

    `verify` is False (no verification), True (system store, host name checked) or the path
    of a CA bundle. Asking for a legacy maximum lowers the security level so that the old
    ciphers those versions need are offered.
    """
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        cafile = verify if isinstance(verify, str) else None
        context = ssl.create_default_context(cafile=cafile)
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1; testing whether a server still takes them is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        if maximum in _LEGACY:
            context.set_ciphers(LEGACY_CIPHERS)
        if minimum is not None:
            context.minimum_version = minimum
        if maximum is not None:
            context.maximum_version = maximum
    return context


def local_support(version: ssl.TLSVersion) -> str | None:
    """None when this machine can offer `version`, else why not (nothing is sent anywhere)."""
    if version == ssl.TLSVersion.TLSv1 and not ssl.HAS_TLSv1:
        return f"this Python's OpenSSL ({ssl.OPENSSL_VERSION}) was built without TLS 1.0"
    if version == ssl.TLSVersion.TLSv1_1 and not ssl.HAS_TLSv1_1:
        return f"this Python's OpenSSL ({ssl.OPENSSL_VERSION}) was built without TLS 1.1"
    try:
        context = client_context(False, version, version)
        # A ClientHello written into memory: it is built (and dropped) or OpenSSL refuses.
        hello = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="probe.invalid")
        hello.do_handshake()
    except ssl.SSLWantReadError:
        return None
    except (ssl.SSLError, ValueError) as exc:
        name = VERSION_NAMES.get(version, str(version))
        return f"the local OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer {name}: {_reason(exc)}"
    return None  # pragma: no cover - a handshake cannot complete without a peer


async def handshake(
    url: str,
    *,
    verify: bool | str,
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
    timeout: float,
) -> TlsFacts:
    """One handshake with the URL's host and port, SNI set to its host name.

    `timeout` bounds the whole attempt (connection and handshake). Never raises for network
    trouble or a refused handshake: the facts carry the error and the stage.
    """
    where = target_of(url)
    if where is None:
        return TlsFacts.failed(f"cannot tell where {url!r} goes; nothing sent", "local")
    host, port = where
    base = TlsFacts(host=host, port=port, sni=None if _is_address(host) else host)
    try:
        context = client_context(verify, minimum, maximum)
    except (ssl.SSLError, OSError, ValueError) as exc:
        return replace(base, error=f"local: {_reason(exc)}", stage="local")
    progress = _Progress()
    with anyio.move_on_after(timeout):
        return await _attempt(context, base, progress)
    what = (
        "no TCP connection" if progress.stage == "connect" else "the TLS handshake did not finish"
    )
    return replace(base, error=f"timeout: {what} within {timeout:g} s", stage=progress.stage)


@dataclass
class _Progress:
    """How far an attempt got, for the message when the timeout cuts it short."""

    stage: Stage = "connect"


async def _attempt(context: ssl.SSLContext, base: TlsFacts, progress: _Progress) -> TlsFacts:
    """Connect and shake hands; the facts of whatever happened (no exception escapes)."""
    try:
        stream = await anyio.connect_tcp(base.host, base.port)
    except OSError as exc:
        # anyio names the real cause (refused, unreachable) only as the cause.
        cause = f" ({exc.__cause__})" if isinstance(exc.__cause__, OSError) else ""
        return replace(base, error=f"connect: {exc}{cause}", stage="connect")
    progress.stage = "handshake"
    try:
        # standard_compatible=False: the connection is dropped right after the handshake,
        # with no close_notify exchange to wait for.
        tls = await TLSStream.wrap(
            stream,
            server_side=False,
            hostname=base.host,
            ssl_context=context,
            standard_compatible=False,
        )
        return _read(tls, base)
    except ssl.SSLCertVerificationError as exc:
        return replace(
            base,
            error=f"certificate refused: {exc.verify_message}",
            stage="handshake",
            verify_code=exc.verify_code,
            verify_message=exc.verify_message,
        )
    except (ssl.SSLError, OSError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
        local = isinstance(exc, ssl.SSLError) and exc.reason in _LOCAL_REASONS
        stage: Stage = "local" if local else "handshake"
        return replace(base, error=_reason(exc), stage=stage)
    finally:
        # Closing the TCP stream ends the TLS session on it too; nothing else is sent.
        await anyio.aclose_forcefully(stream)


def _read(tls: TLSStream, base: TlsFacts) -> TlsFacts:
    """The facts of a completed handshake."""
    # anyio's typed stream attributes (ruff takes `.extra` for Django's).
    session: ssl.SSLObject = tls.extra(TLSAttribute.ssl_object)  # noqa: S610
    cipher = session.cipher()
    der = session.getpeercert(binary_form=True)
    return replace(
        base,
        error=None,
        stage=None,
        protocol=session.version(),
        cipher=cipher[0] if cipher else None,
        certificate=parse_certificate(der) if der else None,
        chain_length=_chain_length(session),
    )


def parse_certificate(der: bytes) -> Certificate | None:
    """The facts of a DER certificate, or None when it does not parse."""
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        dns, ips = _alt_names(cert)
        return Certificate(
            subject=subject,
            issuer=issuer,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            dns_names=dns,
            ip_addresses=ips,
            ca_issuers=_ca_issuers(cert),
            serial=format(cert.serial_number, "x"),
        )
    except ValueError:
        return None


def _alt_names(cert: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (), ()
    dns = tuple(names.get_values_for_type(x509.DNSName))
    ips = tuple(str(ip) for ip in names.get_values_for_type(x509.IPAddress))
    return dns, ips


def _ca_issuers(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(
        str(item.access_location.value)
        for item in access
        if item.access_method == AuthorityInformationAccessOID.CA_ISSUERS
    )


def _chain_length(ssl_object: object) -> int | None:
    """How many certificates the server sent, when this Python can tell.

    Python 3.13 made `get_unverified_chain` public; 3.10 to 3.12 have it on the private
    object underneath. Anything else: unknown.
    """
    for owner in (ssl_object, getattr(ssl_object, "_sslobj", None)):
        method = getattr(owner, "get_unverified_chain", None)
        if callable(method):
            try:
                chain = method()
            except (ssl.SSLError, ValueError):
                return None
            return len(chain) if chain is not None else None
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _reason(exc: BaseException) -> str:
    """A short reading of a TLS error: OpenSSL's reason and message, or the exception."""
    if isinstance(exc, anyio.EndOfStream):
        return "the server closed the connection during the handshake"
    if isinstance(exc, anyio.BrokenResourceError):
        cause = exc.__cause__
        detail = f": {cause}" if cause else ""
        return f"the connection broke during the handshake{detail}"
    text = str(exc) or type(exc).__name__
    # OpenSSL's messages end with where in CPython they were raised: noise for a reader.
    return _SOURCE_SUFFIX.sub("", text)
