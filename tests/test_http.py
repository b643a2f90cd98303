"""The HTTP client's guards against real servers on 127.0.0.1: scope, body cap, decoding, time.

Servers stream their answers chunk by chunk (a 100 MiB body, a gzip bomb, a slow drip), so the
memory and time a request costs the client are measured, not assumed.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from probe.exchange import Exchange
from probe.http import BodyReader, ScanClient, in_scope, parse_scope, target_of
from probe.probes.base import RequestSpec
from probe.scenario.models import Settings, host_key
from tests.servers import serve_asgi, serve_raw

MiB = 1 << 20
CHUNK = b"x" * 65536  # one buffer, sent again and again: the server never holds the body
ZEROS = bytes(MiB)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


# -- servers ----------------------------------------------------------------------------------


class App:
    """An ASGI app that counts requests, records their headers and answers with `respond`."""

    def __init__(self, respond: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.respond = respond
        self.requests: list[tuple[str, dict[str, str]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append((scope["path"], headers))
        await self.respond(scope, receive, send)


async def _start(send: Send, headers: list[tuple[bytes, bytes]], status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _body(send: Send, body: bytes, more: bool = False) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": more})


def _disconnected(receive: Receive) -> asyncio.Event:
    """An event set when the client goes away, so endless answers stop too."""
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    task = asyncio.get_running_loop().create_task(watch())
    gone.task = task  # type: ignore[attr-defined]  # keep a reference while the app runs
    return gone


async def hundred_mib(scope: Scope, receive: Receive, send: Send) -> None:
    gone = _disconnected(receive)
    await _start(send, [(b"content-type", b"application/octet-stream")])
    for _ in range(100 * MiB // len(CHUNK)):
        if gone.is_set():
            return
        await _body(send, CHUNK, more=True)
    await _body(send, b"")


async def gzip_bomb(scope: Scope, receive: Receive, send: Send) -> None:
    """About 130 KiB on the wire that inflate to 128 MiB, compressed as it is sent."""
    gone = _disconnected(receive)
    await _start(send, [(b"content-encoding", b"gzip"), (b"content-type", b"text/plain")])
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for _ in range(128):
        if gone.is_set():
            return
        data = compressor.compress(ZEROS)
        if data:
            await _body(send, data, more=True)
    await _body(send, compressor.flush())


def deflated(wbits: int) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
        data = compressor.compress(TEXT) + compressor.flush()
        await _start(send, [(b"content-encoding", b"deflate")])
        await _body(send, data)

    return respond


TEXT = b"".join(b"line %d of a plain text body\n" % i for i in range(5000))


async def slow_drip(scope: Scope, receive: Receive, send: Send) -> None:
    gone = _disconnected(receive)
    await _start(send, [(b"content-type", b"text/plain")])
    for _ in range(100):
        if gone.is_set():
            return
        await _body(send, b"x", more=True)
        await asyncio.sleep(0.1)
    await _body(send, b"")


async def cookies(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"set-cookie", b"session=abcdefghijklmnopqrstuvwxyz; Path=/; HttpOnly")]
    await _start(send, headers)
    await _body(send, b"ok")


# -- client -----------------------------------------------------------------------------------


def client(scope: set[str], exchanges: list[Exchange] | None = None, **settings: Any) -> ScanClient:
    values: dict[str, Any] = {"requests_per_second": 1000, "timeout": 5, **settings}
    sink = exchanges if exchanges is not None else []
    return ScanClient(
        settings=Settings(**values),
        scope=frozenset(scope),
        verify=True,
        scan_id="test-scan",
        base_headers={},
        on_exchange=sink.append,
    )


def fetch(url: str, *, scope: set[str] | None = None, **settings: Any) -> Exchange:
    """Send one GET through a fresh ScanClient and return the exchange."""
    host = url.split("/")[2]

    async def go() -> Exchange:
        scan_client = client(scope or {host}, **settings)
        try:
            chain = await scan_client.send(RequestSpec("GET", url), probe="t", purpose="t")
        finally:
            await scan_client.aclose()
        return chain[-1]

    return anyio.run(go)


def peak_memory_during(call: Callable[[], Exchange]) -> tuple[Exchange, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


# -- scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000/x", True),
        ("http://127.0.0.1:8001/x", False),
        ("https://127.0.0.1:8000/", True),
        ("http://LOCALHOST/", True),
        ("http://localhost:9999/", True),
        ("http://other.test:8000/", False),
        ("ftp://127.0.0.1:8000/", False),
        ("http:///x", False),
    ],
)
def test_in_scope_matches_host_and_port_entries(url: str, expected: bool) -> None:
    scope = frozenset({"127.0.0.1:8000", "localhost"})
    assert in_scope(url, scope) is expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000@other.test/",
        "http://127.0.0.1:8000:@other.test/",
        "http://other.test\\@127.0.0.1:8000/",
        "http://127.0.0.1:8000\\@other.test/",
        "http://127.0.0.1:8000\\other.test/",
        "http://other.test%5C@127.0.0.1:8000/",
        "http://127.0.0.1:8000 @other.test/",
        "http://other.test\t@127.0.0.1:8000/",
        "http://other.test\n@127.0.0.1:8000/",
        "http://127.0.0.1\x00.other.test:8000/",
        "http:127.0.0.1:8000/",
    ],
)
def test_userinfo_backslash_and_control_tricks_are_out_of_scope(url: str) -> None:
    assert not in_scope(url, frozenset({"127.0.0.1:8000", "127.0.0.1"}))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://[::1]:8080/", True),
        ("http://[0:0:0:0:0:0:0:1]:8080/", True),
        ("http://[::1]:8081/", False),
        ("http://[::2]:8080/", False),
        ("http://[::1:8080]/", False),
    ],
)
def test_ipv6_literals_are_compared_as_addresses(url: str, expected: bool) -> None:
    assert in_scope(url, frozenset({"[::1]:8080"})) is expected


def test_bare_ipv6_entry_means_any_port_and_is_never_split_at_a_colon() -> None:
    assert in_scope("http://[::1]:1234/", frozenset({"[::1]"}))
    assert in_scope("http://[::1]:1234/", frozenset({"::1"}))
    # "::1:8080" is itself an IPv6 address, not ::1 on port 8080.
    assert not in_scope("http://[::1]:8080/", frozenset({"::1:8080"}))
    assert parse_scope(frozenset({"::1:8080"})) == {("::1:8080", None)}


def test_default_scope_key_brackets_ipv6_and_fills_default_ports() -> None:
    assert host_key("http://[::1]:8080/api") == "[::1]:8080"
    assert host_key("https://Example.test/api") == "example.test:443"
    assert host_key("http://example.test") == "example.test:80"


def test_target_is_where_httpx_connects() -> None:
    assert target_of("http://127.0.0.1:8000/a?b=c#d") == ("127.0.0.1", 8000)
    assert target_of("HTTPS://Bücher.test/") == ("xn--bcher-kva.test", 443)
    assert target_of("http://127.0.0.1:8000@other.test/") is None


def test_scan_client_refuses_tricky_urls_without_sending() -> None:
    app = App(cookies)
    with serve_asgi(app) as base:
        port = base.rsplit(":", 1)[1]
        tricks = [
            f"http://127.0.0.1:{port}@localhost:{port}/",
            f"http://localhost:{port}\\@127.0.0.1:{port}/",
            f"http://127.0.0.1:{port}\\@localhost:{port}/",
            f"http://localhost:{port}/",
        ]
        exchanges = [fetch(url, scope={f"127.0.0.1:{port}"}) for url in tricks]
    assert app.requests == []
    for exchange in exchanges:
        assert exchange.response is None
        assert (exchange.error or "").startswith("refused: out of scope")


# -- body cap and decoding --------------------------------------------------------------------


def test_hundred_mib_body_is_read_only_up_to_the_cap() -> None:
    with serve_asgi(App(hundred_mib)) as base:
        exchange, peak = peak_memory_during(lambda: fetch(base + "/big", body_cap=MiB))
    assert exchange.response is not None
    assert exchange.response.truncated
    assert len(exchange.response.body) == MiB
    assert peak < 20 * MiB


def test_gzip_bomb_is_capped_after_decompression() -> None:
    with serve_asgi(App(gzip_bomb)) as base:
        exchange, peak = peak_memory_during(lambda: fetch(base + "/bomb", body_cap=MiB))
    assert exchange.response is not None
    assert exchange.response.truncated
    assert len(exchange.response.body) == MiB
    assert exchange.response.body == bytes(MiB)
    assert peak < 20 * MiB


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_bodies_decode_zlib_wrapped_and_raw(wbits: int) -> None:
    with serve_asgi(App(deflated(wbits))) as base:
        exchange = fetch(base + "/deflate")
    assert exchange.response is not None
    assert exchange.response.body == TEXT
    assert not exchange.response.truncated


def test_body_reader_caps_plain_gzip_and_deflate_fed_byte_by_byte() -> None:
    data = b"abcdefgh" * 100
    for encoding, wbits in (("", 0), ("gzip", 31), ("deflate", 15), ("deflate", -15)):
        raw = data
        if encoding:
            compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
            raw = compressor.compress(data) + compressor.flush()
        reader = BodyReader(cap=100, encoding=encoding)
        for i in range(len(raw)):
            reader.feed(raw[i : i + 1])
            if reader.done:
                break
        reader.finish()
        assert reader.body == data[:100], encoding
        assert reader.truncated, encoding


def test_body_exactly_at_the_cap_is_not_truncated() -> None:
    reader = BodyReader(cap=10, encoding="")
    reader.feed(b"0123456789")
    reader.finish()
    assert reader.body == b"0123456789"
    assert not reader.truncated


def test_slow_drip_body_is_bounded_by_the_request_timeout() -> None:
    with serve_asgi(App(slow_drip)) as base:
        started = time.monotonic()
        exchange = fetch(base + "/drip", timeout=1)
        elapsed = time.monotonic() - started
    # Each byte comes well within the timeout; only a deadline on the whole exchange stops it.
    assert elapsed < 5
    assert exchange.response is not None
    assert exchange.response.status == 200
    assert exchange.response.truncated
    assert 0 < len(exchange.response.body) < 100


# -- what is sent and kept --------------------------------------------------------------------


def test_cookies_set_by_the_target_are_never_sent_back() -> None:
    app = App(cookies)
    with serve_asgi(app) as base:

        async def go() -> None:
            scan_client = client({base.split("/")[2]})
            try:
                for _ in range(2):
                    await scan_client.send(RequestSpec("GET", base + "/"), probe="t", purpose="t")
            finally:
                await scan_client.aclose()

        anyio.run(go)
    assert len(app.requests) == 2
    assert all("cookie" not in headers for _, headers in app.requests)


def test_repeated_header_lines_keep_order_and_original_case() -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\n"
        b"Strict-Transport-Security: max-age=31536000\r\n"
        b"x-MiXeD-Case: one\r\n"
        b"strict-transport-security: max-age=0\r\n"
        b"Content-Length: 2\r\n"
        b"Connection: close\r\n\r\nok"
    )
    with serve_raw(answer) as base:
        exchange = fetch(base + "/")
    assert exchange.response is not None
    lines = exchange.response.headers
    assert [line for line in lines if line[0].lower() == "strict-transport-security"] == [
        ("Strict-Transport-Security", "max-age=31536000"),
        ("strict-transport-security", "max-age=0"),
    ]
    assert ("x-MiXeD-Case", "one") in lines
    assert exchange.response.headers_named("STRICT-TRANSPORT-SECURITY") == [
        "max-age=31536000",
        "max-age=0",
    ]


def test_a_request_httpx_cannot_build_becomes_an_error_not_an_exception() -> None:
    async def go() -> Exchange:
        scan_client = client({"127.0.0.1:9"})
        try:
            spec = RequestSpec("GET", "http://127.0.0.1:9/", (("X-Name", "caf\u00e9"),))
            chain = await scan_client.send(spec, probe="t", purpose="t")
        finally:
            await scan_client.aclose()
        return chain[-1]

    exchange = anyio.run(go)
    assert exchange.response is None
    assert (exchange.error or "").startswith("not sent: invalid request")


@pytest.mark.parametrize(("secure_base", "sent"), [(True, False), (False, True)])
def test_scenario_credentials_never_go_over_plain_http_when_the_api_is_https(
    secure_base: bool, sent: bool
) -> None:
    with serve_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok") as url:

        async def go() -> Exchange:
            scan_client = ScanClient(
                settings=Settings(requests_per_second=1000, timeout=5),
                scope=frozenset({url.split("/")[2]}),
                verify=True,
                scan_id="test-scan",
                base_headers={
                    "Authorization": "Bearer scenario-token",
                    "X-Tenant": "tenant-secret-1",
                    "X-Team": "qa",
                },
                on_exchange=lambda exchange: None,
                secure_base=secure_base,
                holds_secret=lambda value: "secret" in value,
            )
            try:
                chain = await scan_client.send(
                    RequestSpec("GET", url + "/"), probe="t", purpose="t"
                )
            finally:
                await scan_client.aclose()
            return chain[-1]

        exchange = anyio.run(go)
    names = {name.lower() for name, _ in exchange.request.headers}
    assert ("authorization" in names) is sent
    assert ("x-tenant" in names) is sent  # its value is a scenario secret
    assert "x-team" in names
