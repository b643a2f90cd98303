"""The HTTP clients under comparison, behind one tiny interface: `get(path) -> status`.

The httpx clients read a response exactly as `probe.http.ScanClient` does (send with
stream=True, iterate `aiter_raw()`, close), so the figures are the engine's real cost. The bare
asyncio socket client is the ceiling: one pre-built request line, no parsing beyond the status
and Content-Length.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from httpx_aiohttp import AiohttpTransport

from benchmarks.aiotransport import AiohttpFaithfulTransport
from probe.http import ScanClient
from probe.probes.base import RequestSpec
from probe.scenario.models import Settings

# Enough pooled connections for a 100-request burst, all kept alive between requests.
POOL = 100
LIMITS = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)


class Client(Protocol):
    """What the load loops need from a client."""

    name: str

    async def get(self, path: str) -> int:
        """GET base_url + path, read the whole body, return the status."""
        ...

    async def aclose(self) -> None:
        """Close every connection."""
        ...


def httpcore_transport(verify: bool | str = True) -> httpx.AsyncBaseTransport:
    """httpx's default transport (httpcore), with a pool large enough for the burst."""
    return httpx.AsyncHTTPTransport(verify=verify, limits=LIMITS, trust_env=False)


def aiohttp_transport(verify: bool | str = True) -> httpx.AsyncBaseTransport:
    """The httpx-aiohttp transport with the same pool size."""
    return AiohttpTransport(verify=verify, limits=LIMITS, trust_env=False)


def faithful_transport(verify: bool | str = True) -> httpx.AsyncBaseTransport:
    """This benchmark's own aiohttp transport (aiotransport.py), same pool size."""
    return AiohttpFaithfulTransport(verify=verify, limits=LIMITS)


TransportFactory = Callable[[bool | str], httpx.AsyncBaseTransport]
TRANSPORTS: dict[str, TransportFactory] = {
    "httpcore": httpcore_transport,
    "aiohttp": aiohttp_transport,
    "aiohttp-faithful": faithful_transport,
}


class HttpxClient:
    """httpx.AsyncClient over a chosen transport, reading bodies like ScanClient."""

    def __init__(self, base_url: str, transport: str) -> None:
        self.name = f"httpx + {transport}"
        self._base = base_url
        self._client = httpx.AsyncClient(transport=TRANSPORTS[transport](True), trust_env=False)

    async def get(self, path: str) -> int:
        """GET with stream=True and read the raw body."""
        request = self._client.build_request("GET", self._base + path)
        response = await self._client.send(request, stream=True)
        try:
            async for _chunk in response.aiter_raw():
                pass
        finally:
            await response.aclose()
        return response.status_code

    async def aclose(self) -> None:
        """Close the pool."""
        await self._client.aclose()


class ScanClientClient:
    """probe's own ScanClient (guards, pacer, records) over a chosen transport or its default."""

    def __init__(self, base_url: str, transport: str | None) -> None:
        self.name = f"ScanClient ({transport or 'its default'})"
        self._base = base_url
        settings = Settings(
            concurrency=POOL, requests_per_second=1e9, max_requests=10**9, timeout=10
        )
        chosen = TRANSPORTS[transport](True) if transport else None
        self._client = bench_scan_client(base_url, settings, chosen)

    async def get(self, path: str) -> int:
        """Send through every guard; a network error counts as status 0."""
        chain = await self._client.send(
            RequestSpec("GET", self._base + path), probe="bench", purpose="bench"
        )
        response = chain[-1].response
        return response.status if response is not None else 0

    async def aclose(self) -> None:
        """Close the pool."""
        await self._client.aclose()


class BareClient:
    """Keep-alive HTTP/1.1 over asyncio streams: the ceiling for any client in Python."""

    name = "bare asyncio socket"

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._all: list[asyncio.StreamWriter] = []

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle:
            return self._idle.pop()
        reader, writer = await asyncio.open_connection(self._host, self._port)
        self._all.append(writer)
        return reader, writer

    async def get(self, path: str) -> int:
        """Write one request line and read one Content-Length framed answer."""
        reader, writer = await self._connection()
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n\r\n".encode("latin-1"))
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        self._idle.append((reader, writer))
        return int(head[9:12])

    async def aclose(self) -> None:
        """Close every connection opened."""
        for writer in self._all:
            writer.close()
        self._idle.clear()


ClientFactory = Callable[[str], Client]
CLIENTS: dict[str, ClientFactory] = {
    "httpx + httpcore": lambda url: HttpxClient(url, "httpcore"),
    "httpx + aiohttp": lambda url: HttpxClient(url, "aiohttp"),
    "httpx + aiohttp-faithful": lambda url: HttpxClient(url, "aiohttp-faithful"),
    "bare asyncio socket": BareClient,
    "ScanClient (default)": lambda url: ScanClientClient(url, None),
    "ScanClient + aiohttp-faithful": lambda url: ScanClientClient(url, "aiohttp-faithful"),
}


def bench_scan_client(
    base_url: str, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> ScanClient:
    """A ScanClient scoped to the benchmark target, recording nothing."""
    return ScanClient(
        settings=settings,
        scope=frozenset({urlsplit(base_url).netloc}),
        verify=True,
        scan_id="bench",
        base_headers={},
        on_exchange=lambda _exchange: None,
        transport=transport,
    )
