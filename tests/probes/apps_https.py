"""Servers for the https probe's tests: an HTTPS API with trustme certificates, plain-HTTP twins.

Certificates come from `trustme` CAs (and, where trustme has no option for it, are built with
`cryptography` and signed by a trustme CA's key). HTTPS servers are uvicorn with an SSL context
built here, so that one can accept TLS 1.0 and another can send its leaf without the
intermediate. Every server listens on 127.0.0.1 and is named `localhost` in URLs, the name the
certificates carry; a certificate for `other.example` stands for a wrong host name.

The plain-HTTP twins each show one behaviour: permanent redirects, Starlette's HTTPS redirect
middleware (307), an API served in cleartext, a 302 through another plain-HTTP hop, a redirect
to a host outside the scope, a chain that leaves HTTPS again, a redirect that loses the path, a
loop, an endless chain, a firewall's 403.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.servers import serve_asgi

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsInJvbGUiOiJ1c2VyIn0.c2lnbmF0dXJlLXRlc3Q"
ITEMS = {"items": [{"id": 1, "name": "widget"}]}
OFFSITE = "offsite.invalid"
AIA_URL = "http://ca.invalid/intermediate.der"
TLS_ONLY_400 = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 44\r\n"
    b"Connection: close\r\n\r\nThe plain HTTP request was sent to HTTPS port"
)
ALL = ["GET", "POST", "HEAD"]


@dataclass
class Links:
    """Where the HTTPS API and the current twin listen, filled in once they run."""

    https: str = ""
    http: str = ""


def localhost(url: str) -> str:
    """The URL with 127.0.0.1 named localhost (the name the certificates carry)."""
    return url.replace("127.0.0.1", "localhost", 1)


# -- certificates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pem:
    """A server's certificate chain and key, PEM."""

    chain: bytes
    key: bytes


def leaf_pem(leaf: trustme.LeafCert) -> Pem:
    """A trustme leaf (and the intermediates trustme put in its chain)."""
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    return Pem(chain, leaf.private_key_pem.bytes())


def days_from_now(days: float) -> dt.datetime:
    """A UTC moment `days` from now (negative: in the past)."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def leaf_with_aia(issuer: trustme.CA, host: str) -> Pem:
    """A leaf for `host` signed by `issuer`, naming where its issuer can be fetched (AIA),
    served alone: the intermediate a public CA's customer forgets to configure."""
    issuer_cert = x509.load_pem_x509_certificate(issuer.cert_pem.bytes())
    issuer_key = serialization.load_pem_private_key(issuer.private_key_pem.bytes(), None)
    assert isinstance(issuer_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    aia = x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(AIA_URL)
            )
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(issuer_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(days_from_now(-1))
        .not_valid_after(days_from_now(90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(aia, critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return _pem(cert, key)


def _pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pem:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Pem(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def server_context(pem: Pem, tmp: Any, *, legacy: bool = False) -> ssl.SSLContext:
    """A server context for the chain and key; `legacy` also accepts TLS 1.0 and 1.1."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    chain, key = tmp / "chain.pem", tmp / "key.pem"
    chain.write_bytes(pem.chain)
    key.write_bytes(pem.key)
    context.load_cert_chain(str(chain), str(key))
    if legacy:
        # The old versions need the old ciphers, which the default security level refuses.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@contextmanager
def serve_tls(app: Any, context: ssl.SSLContext) -> Iterator[str]:
    """Serve an ASGI app over TLS with this context; yields https://localhost:PORT."""

    def factory(config: Any, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return context

    with serve_asgi(app, ssl_context_factory=factory) as url:
        yield localhost(url).replace("http://", "https://", 1)


@contextmanager
def serve_http(app: Any, links: Links) -> Iterator[str]:
    """Serve a plain-HTTP twin; yields http://localhost:PORT and records it in `links`."""
    # Quiet: the twin that sends HTTPS to its own port logs the ClientHello it cannot parse.
    with serve_asgi(app, log_level="error") as url:
        links.http = localhost(url)
        yield links.http


# -- the HTTPS API --------------------------------------------------------------------------------


def api_app(links: Links) -> Starlette:
    """The API over HTTPS: items, a login that hands out a token, and two downgrade routes.

    `/old/...` sends the client back to the twin's `/new/...` over plain HTTP (the downgrade);
    `/new/...` answers like `/items`.
    """

    async def items(request: Request) -> Response:
        return JSONResponse(ITEMS)

    async def login(request: Request) -> Response:
        return JSONResponse({"access_token": TOKEN})

    async def old(request: Request) -> Response:
        rest = request.path_params["rest"]
        return RedirectResponse(f"{links.http}/new/{rest}?{request.url.query}", 301)

    return Starlette(
        routes=[
            Route("/items", items),
            Route("/login", login, methods=["POST"]),
            Route("/old/{rest:path}", old),
            Route("/new/{rest:path}", items),
            Route("/final", items),
        ]
    )


# -- plain-HTTP twins ----------------------------------------------------------------------------


def _catch_all(handler: Callable[[Request], Response]) -> Starlette:
    async def endpoint(request: Request) -> Response:
        return handler(request)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=ALL)])


def _path_and_query(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def redirect_twin(links: Links, status: int) -> Starlette:
    """Every request redirected with `status` to the same path and query on the HTTPS API."""
    return _catch_all(
        lambda request: RedirectResponse(links.https + _path_and_query(request), status)
    )


def middleware_twin() -> Starlette:
    """Starlette's HTTPSRedirectMiddleware in front of the API (it answers 307)."""

    async def items(request: Request) -> Response:
        return JSONResponse(ITEMS)

    return Starlette(
        routes=[Route("/items", items), Route("/login", items, methods=["POST"])],
        middleware=[Middleware(HTTPSRedirectMiddleware)],
    )


def cleartext_twin() -> Starlette:
    """The API itself over plain HTTP: items, and a login that hands out a token."""

    def handler(request: Request) -> Response:
        if request.method == "POST":
            return JSONResponse({"access_token": TOKEN})
        return JSONResponse(ITEMS)

    return _catch_all(handler)


def hop_twin(links: Links) -> Starlette:
    """A 302 to another plain-HTTP URL (`/secure/...`), which then redirects to HTTPS."""

    def handler(request: Request) -> Response:
        path = request.url.path
        query = f"?{request.url.query}"
        if path.startswith("/secure/"):
            return RedirectResponse(links.https + path.removeprefix("/secure") + query, 301)
        return RedirectResponse(f"{links.http}/secure{path}{query}", 302)

    return _catch_all(handler)


def offsite_twin() -> Starlette:
    """A permanent redirect to a host outside the scope (never to be contacted)."""
    return _catch_all(
        lambda request: RedirectResponse(f"https://{OFFSITE}{_path_and_query(request)}", 301)
    )


def drops_twin(links: Links) -> Starlette:
    """A permanent redirect to the HTTPS API's root: path and query lost."""
    return _catch_all(lambda request: RedirectResponse(f"{links.https}/", 301))


def loop_twin() -> Starlette:
    """`/items` and `/items-b` redirect to each other for ever."""

    def handler(request: Request) -> Response:
        other = "/items-b" if request.url.path == "/items" else "/items"
        return RedirectResponse(f"{other}?{request.url.query}", 301)

    return _catch_all(handler)


def endless_twin() -> Starlette:
    """Every answer a redirect to a new plain-HTTP URL (`/hop/1`, `/hop/2`, ...)."""

    def handler(request: Request) -> Response:
        step = request.url.path.rsplit("/", 1)[-1]
        following = int(step) + 1 if step.isdigit() else 1
        return RedirectResponse(f"/hop/{following}?{request.url.query}", 301)

    return _catch_all(handler)


def firewall_twin() -> Starlette:
    """A firewall page: 403 to everything, neither served nor redirected."""
    page = json.dumps({"error": "request blocked by policy"})
    return _catch_all(lambda request: Response(page, 403, media_type="application/json"))


def self_signed(host: str) -> Pem:
    """A certificate for `host` that signs itself (no CA at all)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(days_from_now(-1))
        .not_valid_after(days_from_now(90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _pem(cert, key)
