"""The only place that touches the network: one httpx client per scan, behind the guards.

Every request goes through, in order: the scope guard (host:port must be in scope, for every
redirect hop too), the request budget, the circuit breaker, the politeness limiter
(requests_per_second) and the concurrency limit. Bodies are read raw and decoded by hand so
that both the bytes read and the bytes decompressed stop at the body cap.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import anyio
import httpx

from probe import __version__
from probe.errors import BudgetExhausted, CircuitOpen, OutOfScope, RequestRefused
from probe.exchange import Exchange, RequestRecord, ResponseRecord
from probe.probes.base import RequestSpec
from probe.scenario.models import Settings

log = logging.getLogger(__name__)

SCAN_ID_HEADER = "X-Probe-Scan-Id"
USER_AGENT = f"probe/{__version__}"
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def in_scope(url: str, scope: frozenset[str]) -> bool:
    """True when the URL's host (and port, where the entry names one) is in scope."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    bracketed = f"[{host}]" if ":" in host else host
    return bool({host, bracketed, f"{bracketed}:{port}", f"{host}:{port}"} & scope)


class Budget:
    """Counts requests against settings.max_requests."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, count: int = 1) -> None:
        """Reserve `count` requests or raise BudgetExhausted."""
        if self.used + count > self.limit:
            raise BudgetExhausted(f"request budget of {self.limit} spent")
        self.used += count


class Pacer:
    """Spaces request starts at least 1/rate seconds apart (a politeness cap)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.slowdown = 1.0
        self._next = 0.0
        self._lock = anyio.Lock()

    async def wait(self) -> None:
        """Wait for the next free slot."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval * self.slowdown
        if start > now:
            await anyio.sleep(start - now)


class CircuitBreaker:
    """Slows the scan down, then stops it, when the target keeps failing.

    A failure is a timeout, a refused connection or a 5xx answer. Malformed-input probes do
    provoke 5xx on purpose, so the thresholds count a run without a single success in between.
    """

    slow_after = 8
    open_after = 20

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self.run = 0
        self.open = False
        self.reason = ""

    def record(self, *, failed: bool, what: str) -> None:
        """Count one outcome."""
        if not failed:
            self.run = 0
            self.pacer.slowdown = 1.0
            return
        self.run += 1
        if self.run >= self.open_after and not self.open:
            self.open = True
            self.reason = f"{self.run} failures in a row (last: {what}); stopped sending"
            log.warning("circuit breaker open: %s", self.reason)
        elif self.run >= self.slow_after:
            self.pacer.slowdown = 4.0

    def guard(self) -> None:
        """Raise CircuitOpen when the breaker is open."""
        if self.open:
            raise CircuitOpen(f"target kept failing: {self.reason}")


@dataclass
class BodyReader:
    """Reads a body up to `cap` bytes after decompression (gzip and deflate by hand)."""

    cap: int
    encoding: str

    def __post_init__(self) -> None:
        self._out = bytearray()
        self._raw = 0
        self.truncated = False
        self._decoder: zlib._Decompress | None = None
        if self.encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS)

    @property
    def done(self) -> bool:
        """True when the cap is reached."""
        return self.truncated

    def feed(self, chunk: bytes) -> None:
        """Add raw bytes from the wire."""
        self._raw += len(chunk)
        room = self.cap - len(self._out)
        if self._decoder is None:
            self._out += chunk[:room]
            self.truncated = len(chunk) > room
            return
        try:
            data = self._decoder.decompress(chunk, room + 1)
        except zlib.error:
            if self.encoding == "deflate" and not self._out and self._raw == len(chunk):
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
                self._raw = 0
                self.feed(chunk)
                return
            self.truncated = True
            return
        self._out += data[:room]
        if len(data) > room or self._decoder.unconsumed_tail:
            self.truncated = True
        if self._raw > self.cap:
            self.truncated = True

    @property
    def body(self) -> bytes:
        """The body read so far."""
        return bytes(self._out)


ExchangeHook = Callable[[Exchange], None]


class ScanClient:
    """Sends requests for the scan and records every exchange."""

    def __init__(
        self,
        *,
        settings: Settings,
        scope: frozenset[str],
        verify: bool | str,
        scan_id: str,
        base_headers: dict[str, str],
        on_exchange: ExchangeHook,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.scope = scope
        self.scan_id = scan_id
        self.base_headers = base_headers
        self.budget = Budget(settings.max_requests)
        self.pacer = Pacer(settings.requests_per_second)
        self.breaker = CircuitBreaker(self.pacer)
        self._limit = anyio.Semaphore(settings.concurrency)
        self._on_exchange = on_exchange
        self._seq = 0
        limits = httpx.Limits(max_connections=settings.concurrency * 2)
        self._client = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            limits=limits,
            transport=transport,
            trust_env=False,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    @property
    def sent(self) -> int:
        """Requests sent (or reserved) so far."""
        return self.budget.used

    def _headers(self, spec: RequestSpec) -> list[tuple[str, str]]:
        lines = [("User-Agent", USER_AGENT), (SCAN_ID_HEADER, self.scan_id)]
        lines.append(("Accept-Encoding", "gzip, deflate"))
        lines += list(self.base_headers.items())
        names = {n.lower() for n, _ in spec.headers}
        lines = [(n, v) for n, v in lines if n.lower() not in names]
        return lines + list(spec.headers)

    async def send(
        self,
        spec: RequestSpec,
        *,
        probe: str,
        purpose: str,
        endpoint: str | None = None,
        identity: str | None = None,
        follow_redirects: bool = False,
        tags: frozenset[str] = frozenset(),
    ) -> list[Exchange]:
        """Send a request, and follow redirects when asked; one exchange per hop."""
        chain: list[Exchange] = []
        current = spec
        for _ in range(MAX_REDIRECTS + 1):
            exchange = await self._send_one(current, probe, purpose, endpoint, identity, tags)
            chain.append(exchange)
            response = exchange.response
            if not follow_redirects or response is None or response.status not in _REDIRECTS:
                return chain
            location = response.header("location")
            if not location:
                return chain
            method = current.method
            content = current.content
            if response.status == 303 or (
                response.status in (301, 302) and current.method == "POST"
            ):
                method, content = "GET", None
            next_url = urljoin(current.url, location)
            headers = current.headers
            if urlsplit(next_url).netloc != urlsplit(current.url).netloc:
                sensitive = {"authorization", "cookie", "proxy-authorization"}
                headers = tuple((n, v) for n, v in headers if n.lower() not in sensitive)
            current = RequestSpec(method, next_url, headers, content)
        return chain

    def _record(
        self,
        spec: RequestSpec,
        headers: list[tuple[str, str]],
        probe: str,
        purpose: str,
        endpoint: str | None,
        identity: str | None,
        tags: frozenset[str],
        response: ResponseRecord | None,
        error: str | None,
    ) -> Exchange:
        self._seq += 1
        request = RequestRecord(spec.method, spec.url, tuple(headers), spec.content)
        exchange = Exchange(
            self._seq, probe, endpoint, identity, purpose, request, response, error, tags
        )
        self._on_exchange(exchange)
        return exchange

    async def _send_one(
        self,
        spec: RequestSpec,
        probe: str,
        purpose: str,
        endpoint: str | None,
        identity: str | None,
        tags: frozenset[str],
    ) -> Exchange:
        headers = self._headers(spec)
        args = (spec, headers, probe, purpose, endpoint, identity, tags)
        try:
            if not in_scope(spec.url, self.scope):
                host = urlsplit(spec.url).netloc
                raise OutOfScope(f"out of scope: {host} is not in the scenario's scope")
            self.breaker.guard()
            self.budget.take()
        except RequestRefused as refused:
            log.info("not sent: %s %s (%s)", spec.method, spec.url, refused)
            return self._record(*args, None, f"refused: {refused}")
        async with self._limit:
            await self.pacer.wait()
            response, error = await self._transfer(spec, headers)
        failed = response is None or response.status >= 500
        self.breaker.record(failed=failed, what=error or f"HTTP {response and response.status}")
        return self._record(*args, response, error)

    async def _transfer(
        self, spec: RequestSpec, headers: list[tuple[str, str]]
    ) -> tuple[ResponseRecord | None, str | None]:
        request = self._client.build_request(
            spec.method, spec.url, headers=headers, content=spec.content
        )
        started = time.monotonic()
        try:
            response = await self._client.send(request, stream=True)
            try:
                reader = BodyReader(
                    self.settings.body_cap,
                    (response.headers.get("content-encoding") or "").strip().lower(),
                )
                async for chunk in response.aiter_raw():
                    reader.feed(chunk)
                    if reader.done:
                        break
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return None, f"timeout: no answer within {self.settings.timeout:g} s"
        except httpx.ConnectError as exc:
            return None, f"connect: {exc or 'connection failed'}"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        except OSError as exc:  # pragma: no cover - platform-specific socket errors
            return None, f"network: {exc}"
        raw = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)
        record = ResponseRecord(
            status=response.status_code,
            http_version=response.http_version,
            headers=raw,
            body=reader.body,
            truncated=reader.truncated,
            elapsed=time.monotonic() - started,
        )
        return record, None
