"""Servers for the https probe's tests: an HTTPS API with trustme certificates, plain-HTTP twins.

Certificates come from `trustme` CAs (and, where trustme has no option for it, are built with
`cryptography` and signed by a trustme CA's key). HTTPS servers are uvicorn with an SSL context
built here, so that one can accept TLS 1.0 and another can send its leaf without the
intermediate. Every server listens on 127.0.0.1 and is named `localhost` in URLs, the name the
certificates carry; a certificate for `other.example` stands for a wrong host name.

The plain-HTTP twins each show one behaviour: permanent redirects, Starlette's HTTPS redirect
middleware (307), an API served in cleartext, a 302 through another plain-HTTP hop, a redirect
to a host outside the scope, a chain that leaves HTTPS again, a redirect that loses the path, a
loop, an endless chain, a firewall's 403, an RFC 7807 400, redirects written with dot segments,
raw UTF-8 or a backslash, to a sibling host name, to a host taken from the path, to an HTTPS
URL where nothing answers. Raw socket servers (`tests.servers.serve_tcp`) send what no framework
would: malformed answers, and a port that speaks TLS only to its first connections.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
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

from probe.engine import Scan
from probe.exchange import Exchange
from probe.findings import CheckStatus, Finding
from probe.report import Report
from tests.scan import scenario
from tests.servers import free_port, serve_asgi

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsInJvbGUiOiJ1c2VyIn0.c2lnbmF0dXJlLXRlc3Q"
ITEMS = {"items": [{"id": 1, "name": "widget"}]}
OFFSITE = "offsite.invalid"
AIA_URL = "http://ca.invalid/intermediate.der"


def raw_answer(status: str, body: bytes, *headers: str) -> bytes:
    """An HTTP/1.1 answer as bytes, framed by Content-Length, the connection closed after."""
    head = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


# nginx's page for plain HTTP on a TLS port (as sent by nginx and the balancers built on it).
NGINX_400 = (
    b"<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>"
    b"\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP "
    b"request was sent to HTTPS port</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
    b"</html>\r\n"
)
TLS_ONLY_400 = raw_answer("400 Bad Request", NGINX_400, "Content-Type: text/html")
ALL = ["GET", "POST", "HEAD", "DELETE"]
PROBLEM_400 = json.dumps(
    {
        "type": "https://errors.example.net/validation",
        "title": "One or more validation errors occurred.",
        "status": 400,
    }
)


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


def _catch_all(handler: Callable[[Request], Response], seen: list[str] | None = None) -> Starlette:
    """Every path and method to `handler`; `seen` gets each request's method, raw target and
    header lines, as they came."""

    async def endpoint(request: Request) -> Response:
        if seen is not None:
            target = request.scope["raw_path"].decode("latin-1")
            query = request.scope["query_string"].decode("latin-1")
            lines = "\n".join(f"{k.decode()}: {v.decode()}" for k, v in request.scope["headers"])
            seen.append(f"{request.method} {target}?{query}\n{lines}")
        return handler(request)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=ALL)])


def _redirect(location: str, status: int = 301) -> Response:
    """A redirect with the Location exactly as given (RedirectResponse would quote it)."""
    return Response(status_code=status, headers={"location": location})


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


def cleartext_twin(seen: list[str] | None = None) -> Starlette:
    """The API itself over plain HTTP: items, and a login that hands out a token."""

    def handler(request: Request) -> Response:
        if request.method == "POST":
            return JSONResponse({"access_token": TOKEN})
        return JSONResponse(ITEMS)

    return _catch_all(handler, seen)


def identity_twin() -> Starlette:
    """The API over plain HTTP, where `/me` wants a token (401 without) and `/health` is open."""

    def handler(request: Request) -> Response:
        if request.url.path == "/me" and "authorization" not in request.headers:
            return JSONResponse({"error": "unauthorized"}, 401)
        return JSONResponse({"status": "ok"})

    return _catch_all(handler)


def problem_twin() -> Starlette:
    """ASP.NET Core's answer to a request it rejects: an RFC 7807 400 whose `type` is a URL."""
    return _catch_all(lambda request: Response(PROBLEM_400, 400, media_type=PROBLEM_TYPE))


PROBLEM_TYPE = "application/problem+json"


def location_twin(links: Links, make: Callable[[str, str], str]) -> Starlette:
    """A 301 to `make(https base, path and query)`, the Location written exactly so."""
    return _catch_all(lambda request: _redirect(make(links.https, _path_and_query(request))))


def reflecting_twin(links: Links) -> Starlette:
    """`/go/<host>` redirects to https://<host>/ (a host taken from the path), the rest to
    the same path on the HTTPS API."""

    def handler(request: Request) -> Response:
        head, _, rest = request.url.path.removeprefix("/").partition("/")
        if head == "go":
            return _redirect(f"https://{rest}/")
        return _redirect(links.https + _path_and_query(request))

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


def landing_twin(landing: str) -> Starlette:
    """A 301 to the same path and query on `landing` (an HTTPS URL where nothing may answer)."""
    return _catch_all(lambda request: _redirect(landing + _path_and_query(request)))


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


# -- raw socket servers -------------------------------------------------------------------------


def read_head(conn: socket.socket) -> bytes:
    """The request's bytes up to the end of its header block (or what came before EOF)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_request(conn: socket.socket) -> bytes:
    """The whole request, its body read by Content-Length: a server that closes with request
    bytes unread makes the kernel reset the connection, and the client may never see the
    answer."""
    data = read_head(conn)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def utf8_redirect(https: str) -> Callable[[socket.socket, int], None]:
    """A 301 whose Location carries the request's path in raw UTF-8 bytes, as many servers
    write it (`/café` arrives as `/caf%C3%A9` and goes back as the bytes of `/café`)."""

    def handle(conn: socket.socket, index: int) -> None:
        target = read_head(conn).split(b" ")[1].decode("ascii")
        location = (https + unquote(target)).encode("utf-8")
        conn.sendall(
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: " + location + b"\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )

    return handle


def fixed_answer(answer: bytes) -> Callable[[socket.socket, int], None]:
    """The same bytes to every request, then the connection closed."""

    def handle(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(answer)

    return handle


def tls_then(
    context: ssl.SSLContext, tls_connections: int, answer: bytes
) -> Callable[[socket.socket, int], None]:
    """HTTPS (200 to anything) on the first `tls_connections` connections, then a port that
    no longer speaks TLS: it reads the ClientHello and sends `answer` as plain bytes."""
    ok = raw_answer("200 OK", json.dumps(ITEMS).encode(), "Content-Type: application/json")

    def handle(conn: socket.socket, index: int) -> None:
        if index >= tls_connections:
            conn.recv(65536)
            conn.sendall(answer)
            return
        with context.wrap_socket(conn, server_side=True) as tls:
            read_request(tls)
            tls.sendall(ok)

    return handle


# -- running the probe ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """The trusted CA (its bundle on disk), a CA nobody trusts, and a folder for key files."""

    ca: trustme.CA
    bundle: str
    stranger: trustme.CA
    folder: Path


@dataclass(frozen=True)
class Api:
    """The shared HTTPS API and the links its routes use."""

    url: str
    links: Links


def make_pki(folder: Path) -> Pki:
    """Two CAs, the first trusted through a bundle file in `folder`."""
    ca = trustme.CA()
    bundle = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return Pki(ca, str(bundle), trustme.CA(), folder)


def tls_context(pki: Pki, pem: Pem, name: str, *, legacy: bool = False) -> ssl.SSLContext:
    """A server context for this chain and key, its files in a folder of its own."""
    folder = pki.folder / name
    folder.mkdir(exist_ok=True)
    return server_context(pem, folder, legacy=legacy)


@contextmanager
def serve_api(pki: Pki) -> Iterator[Api]:
    """The HTTPS API with a valid certificate for localhost from the trusted CA."""
    links = Links()
    valid = leaf_pem(pki.ca.issue_cert("localhost"))
    with serve_tls(api_app(links), tls_context(pki, valid, "valid")) as url:
        links.https = url
        yield Api(url, links)


def scan(
    base_url: str,
    http_url: str | None,
    pki: Pki,
    endpoints: list[dict[str, Any]],
    *,
    target: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    **extra: Any,
) -> tuple[Report, list[Exchange]]:
    """Run the https probe alone; the report and every exchange of the scan.

    `target` adds target keys (verify_tls defaults to the trusted bundle), `secrets` are the
    scenario's variables (so the scan redacts them), `extra` top-level keys (identities).
    """
    settings = {"verify_tls": pki.bundle, **(target or {})}
    if http_url is not None:
        settings["http_url"] = http_url
    scn = scenario(base_url, endpoints, target=settings, **extra)
    runner = Scan(scn, probes=["https"], secrets_by_name=secrets)
    report = anyio.run(runner.run)
    return report, list(runner.exchanges())


def check(report: Report, name: str, endpoint: str | None = None) -> tuple[CheckStatus, str]:
    """Status and detail of one https check."""
    for result in report.checks:
        if result.probe == "https" and result.check == name and result.endpoint == endpoint:
            return result.status, result.detail
    raise AssertionError(f"no https check {name} at {endpoint}")


def finding(report: Report, rule: str) -> Finding:
    """The report's one finding of a rule."""
    found = [f for f in report.findings if f.rule == f"https.{rule}"]
    assert len(found) == 1, [f.rule for f in report.findings]
    return found[0]


def dead_twin() -> str:
    """A plain-HTTP twin where nothing listens (plain HTTP refused)."""
    return f"http://localhost:{free_port()}"
