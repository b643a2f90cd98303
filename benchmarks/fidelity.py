"""Does a transport keep what probe's judges need? One check per property, as data.

Each check sends a request through `httpx.AsyncClient` over the transport under test to the raw
asyncio server (which can echo the request head it received, repeat header lines, send a gzip
bomb, hang, cut a body or answer HTTP/1.0), and says pass or fail with what it saw.
"""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import trustme

from benchmarks.clients import TRANSPORTS
from benchmarks.targets import raw_target
from probe.http import BodyReader

# What the raw server sends on /repeat, in order, original case (Content-Length aside).
REPEATED = [
    (b"Strict-Transport-Security", b"max-age=0"),
    (b"Set-Cookie", b"a=1; Path=/"),
    (b"X-MiXeD-CaSe", b"kept"),
    (b"Strict-Transport-Security", b"max-age=31536000"),
    (b"Set-Cookie", b"b=2; Path=/"),
]
BODY_CAP = 1_048_576
TIMEOUT = 0.5


@dataclass(frozen=True)
class Check:
    """The outcome of one fidelity check.

    Attributes:
        name: Short id of the property checked.
        ok: True when the transport kept the property.
        detail: What was seen.
    """

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Servers:
    """Where the checks send their requests (all on 127.0.0.1).

    Attributes:
        plain: Base URL of the raw asyncio server.
        tls: Base URL of the raw asyncio server over TLS, certificate issued by `ca`.
        ca: CA bundle (PEM) that signed the TLS server's certificate.
        other_ca: A CA bundle that did not.
        dead: A URL on a port nothing listens on.
    """

    plain: str
    tls: str
    ca: Path
    other_ca: Path
    dead: str


@contextmanager
def servers() -> Iterator[Servers]:
    """Start the plain and TLS raw servers with a fresh test CA (trustme) and a spare CA."""
    with tempfile.TemporaryDirectory(prefix="probe-bench-tls-") as tmp:
        ca, other = trustme.CA(), trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        chain, key = Path(tmp, "chain.pem"), Path(tmp, "key.pem")
        cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
        cert.private_key_pem.write_to_path(str(key))
        ca_path, other_path = Path(tmp, "ca.pem"), Path(tmp, "other.pem")
        ca.cert_pem.write_to_path(str(ca_path))
        other.cert_pem.write_to_path(str(other_path))
        with socket.socket() as spare:
            spare.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{spare.getsockname()[1]}/"
        hang = TIMEOUT * 4
        with raw_target(hang=hang) as plain, raw_target(tls=(chain, key), hang=hang) as tls:
            yield Servers(plain.base_url, tls.base_url, ca_path, other_path, dead)


def client(transport: str, verify: bool | str = True) -> httpx.AsyncClient:
    """An AsyncClient built the way ScanClient builds its own (no env, no redirects)."""
    return httpx.AsyncClient(
        transport=TRANSPORTS[transport](verify),
        timeout=httpx.Timeout(TIMEOUT),
        follow_redirects=False,
        trust_env=False,
    )


async def _echo(http: httpx.AsyncClient, request: httpx.Request) -> bytes:
    response = await http.send(request)
    return response.content


def _request_line(head: bytes) -> str:
    return head.split(b"\r\n", 1)[0].decode("latin-1")


Outcome = tuple[bool, str]


async def repeated_headers(transport: str, servers: Servers) -> Outcome:
    """Repeated response header lines stay separate, in order, with their original case."""
    async with client(transport) as http:
        response = await http.get(servers.plain + "/repeat")
    raw = [(k, v) for k, v in response.headers.raw if k.lower() != b"content-length"]
    return raw == REPEATED, repr(raw)


async def request_headers(transport: str, servers: Servers) -> Outcome:
    """Repeated request header lines reach the server separately, with their case."""
    lines = [("X-Dup", "1"), ("X-Dup", "2"), ("X-MiXeD", "v")]
    async with client(transport) as http:
        head = await _echo(http, http.build_request("GET", servers.plain + "/echo", headers=lines))
    ok = b"X-Dup: 1\r\nX-Dup: 2\r\n" in head and b"X-MiXeD: v\r\n" in head
    return ok, repr(head.split(b"\r\n")[5:-2])


async def host_header(transport: str, servers: Servers) -> Outcome:
    """A Host header set by the probe is sent as given (host-header probes rely on it)."""
    lines = [("Host", "probe.invalid")]
    async with client(transport) as http:
        head = await _echo(http, http.build_request("GET", servers.plain + "/echo", headers=lines))
    hosts = [line for line in head.split(b"\r\n") if line.lower().startswith(b"host:")]
    # Name case is the business of "repeated request headers"; here only the value counts.
    return [h.lower() for h in hosts] == [b"host: probe.invalid"], repr(hosts)


async def encoded_path(transport: str, servers: Servers) -> Outcome:
    """Percent-encoded dots and quotes in the path and query are sent as written."""
    target = "/echo/x/%2e%2e/y?q=%41%27"
    async with client(transport) as http:
        head = await _echo(http, http.build_request("GET", servers.plain + target))
    line = _request_line(head)
    return line == f"GET {target} HTTP/1.1", line


async def dot_segment_path(transport: str, servers: Servers) -> Outcome:
    """A literal /../ path is sent as written via the request's "target" extension.

    httpx.URL itself removes dot segments, so the extension is the only way to send one.
    """
    target = "/echo/a/../b"
    async with client(transport) as http:
        request = http.build_request(
            "GET", servers.plain + target, extensions={"target": target.encode()}
        )
        line = _request_line(await _echo(http, request))
    return line == f"GET {target} HTTP/1.1", line


async def undecoded_body(transport: str, servers: Servers) -> Outcome:
    """aiter_raw() yields the gzip bytes as sent, and the hand-made decoder stops at the cap."""
    async with client(transport) as http:
        request = http.build_request("GET", servers.plain + "/bomb")
        response = await http.send(request, stream=True)
        reader = BodyReader(BODY_CAP, response.headers.get("content-encoding", ""))
        wire = bytearray()
        async for chunk in response.aiter_raw():
            wire += chunk
            reader.feed(chunk)
        await response.aclose()
    sent = int(response.headers["content-length"])
    ok = len(wire) == sent and wire[:2] == b"\x1f\x8b"
    ok = ok and reader.truncated and len(reader.body) <= BODY_CAP
    return ok, f"{len(wire)} raw bytes of {sent} read; {len(reader.body)} decoded, then capped"


async def _raises(
    call: Callable[[], Awaitable[object]], wanted: type[Exception], what: str
) -> Outcome:
    """Whether `call` raised `wanted`; a TimeoutException never passes for another `what`."""
    started = time.monotonic()
    try:
        await call()
    except Exception as exc:
        took = time.monotonic() - started
        detail = f"{type(exc).__module__}.{type(exc).__name__} after {took:.2f} s"
        if isinstance(exc, httpx.TimeoutException) and wanted is not httpx.TimeoutException:
            return False, f"{detail} ({what} reported as a timeout)"
        return isinstance(exc, wanted), detail
    return False, "no exception"


async def timeout(transport: str, servers: Servers) -> Outcome:
    """A server that never answers raises httpx.TimeoutException."""
    async with client(transport) as http:
        url = servers.plain + "/hang"
        return await _raises(lambda: http.get(url), httpx.TimeoutException, "silence")


async def connect_error(transport: str, servers: Servers) -> Outcome:
    """A refused connection raises httpx.ConnectError, not a timeout."""
    async with client(transport) as http:
        return await _raises(lambda: http.get(servers.dead), httpx.ConnectError, "a refusal")


async def cut_body(transport: str, servers: Servers) -> Outcome:
    """A body cut short raises an httpx transport error that is not a timeout."""
    async with client(transport) as http:
        url = servers.plain + "/cut"
        return await _raises(lambda: http.get(url), httpx.TransportError, "a cut body")


async def http_version(transport: str, servers: Servers) -> Outcome:
    """An HTTP/1.0 answer is reported as HTTP/1.0."""
    async with client(transport) as http:
        response = await http.get(servers.plain + "/http10")
    return response.http_version == "HTTP/1.0", response.http_version


async def big_header(transport: str, servers: Servers) -> Outcome:
    """A 12,000-byte header line is read (h11, httpx's default parser, allows 16 KiB of head)."""
    async with client(transport) as http:
        response = await http.get(servers.plain + "/big")
    size = len(response.headers.get("x-big", ""))
    return size == 12000, f"{size} bytes"


async def no_transport_cookies(transport: str, servers: Servers) -> Outcome:
    """The transport sends no cookie of its own: httpx's jar (or the probe) decides.

    Sent to "localhost": aiohttp's default jar ignores cookies from IP-address hosts.
    """
    base = servers.plain.replace("127.0.0.1", "localhost")
    async with client(transport) as http:
        await http.get(base + "/repeat")
        http.cookies.clear()
        head = await _echo(http, http.build_request("GET", base + "/echo"))
    cookie = [line for line in head.split(b"\r\n") if line.lower().startswith(b"cookie:")]
    return not cookie, repr(cookie) if cookie else "none sent"


async def tls_ca_bundle(transport: str, servers: Servers) -> Outcome:
    """verify=<CA bundle path> trusts that CA's certificate."""
    async with client(transport, str(servers.ca)) as http:
        response = await http.get(servers.tls + "/")
    return response.status_code == 200, f"HTTP {response.status_code}"


async def tls_wrong_ca(transport: str, servers: Servers) -> Outcome:
    """verify=<another CA bundle> refuses the certificate with httpx.ConnectError."""
    async with client(transport, str(servers.other_ca)) as http:
        url = servers.tls + "/"
        return await _raises(lambda: http.get(url), httpx.ConnectError, "a bad certificate")


CheckFunction = Callable[[str, Servers], Coroutine[None, None, Outcome]]
CHECKS: dict[str, CheckFunction] = {
    "repeated response headers": repeated_headers,
    "repeated request headers": request_headers,
    "Host header as given": host_header,
    "raw encoded path": encoded_path,
    "raw dot-segment path": dot_segment_path,
    "raw gzip body, capped": undecoded_body,
    "timeout": timeout,
    "refused connection": connect_error,
    "cut body": cut_body,
    "HTTP/1.0 reported": http_version,
    "12 KB header line": big_header,
    "no cookies of its own": no_transport_cookies,
    "TLS verify with a CA path": tls_ca_bundle,
    "TLS wrong CA refused": tls_wrong_ca,
}


async def check_all(transport: str, servers: Servers) -> list[Check]:
    """Run every check against one transport; a check that crashes fails with the error."""
    results = []
    for name, check in CHECKS.items():
        try:
            ok, detail = await check(transport, servers)
        except Exception as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        results.append(Check(name, ok, detail))
    return results
