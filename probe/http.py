"""The only place that touches the network: one httpx client per scan, behind the guards.

Every request goes through, in order: the scope guard (host:port must be in scope, for every
redirect hop too, judged on the URL as httpx parses it: see `http_scope`), the circuit breaker
and the request budget, the concurrency limit, the politeness limiter (requests_per_second),
then the breaker and budget once more (they may have tripped while the request waited).
`timeout` bounds the whole exchange, body included. Bodies are read raw and decoded by hand
(`http_body`) so that both the bytes read and the bytes decompressed stop at the body cap. The
client keeps no cookies.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import anyio
import httpx

from probe import __version__
from probe.burst import Burst, Shot, send_burst
from probe.errors import BudgetExhausted, CircuitOpen, OutOfScope, RequestRefused
from probe.exchange import Exchange, RequestRecord, ResponseRecord
from probe.http_body import BodyReader
from probe.http_scope import in_scope, parse_scope, target_of
from probe.probes.base import RequestSpec
from probe.redact import CREDENTIAL_HEADERS, SENSITIVE_HEADERS
from probe.scenario.models import Settings

# The names other modules import from here, defined here or re-exported.
__all__ = [
    "BURST_BODY_CAP",
    "MAX_REDIRECTS",
    "SCAN_ID_HEADER",
    "USER_AGENT",
    "BodyReader",
    "Budget",
    "CircuitBreaker",
    "ExchangeHook",
    "Pacer",
    "ScanClient",
    "in_scope",
    "parse_scope",
    "raw_target",
    "ssl_context",
    "target_of",
]

log = logging.getLogger(__name__)

SCAN_ID_HEADER = "X-Probe-Scan-Id"
USER_AGENT = f"probe/{__version__}"
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_OVERLOAD = frozenset({502, 503, 504})
_NOT_SENT = "not sent"
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})
# Body bytes kept per burst shot at most (below settings.body_cap when that is larger).
BURST_BODY_CAP = 65_536


def raw_target(spec: RequestSpec) -> tuple[str, dict[str, bytes]]:
    """The URL httpx connects to (scheme, host and port only) and, as an httpcore extension,
    the request target sent byte for byte: httpx would resolve `../` and re-encode the path.

    Raises ValueError when the target is not an origin-form path of printable ASCII.
    """
    scheme_end = spec.url.find("://")
    path_start = spec.url.find("/", scheme_end + 3) if scheme_end > 0 else -1
    if path_start < 0:
        raise ValueError("a raw request needs an absolute URL with a path")
    target = spec.url[path_start:]
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        raise ValueError("a raw request target must be printable ASCII without spaces")
    return spec.url[:path_start] + "/", {"target": target.encode("ascii")}


class Budget:
    """Counts requests against settings.max_requests."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def check(self, count: int = 1) -> None:
        """Raise BudgetExhausted when `count` more requests would pass the limit."""
        if self.used + count > self.limit:
            if count == 1:
                raise BudgetExhausted(f"request budget of {self.limit} spent")
            raise BudgetExhausted(
                f"request budget: {count} requests at once do not fit in the "
                f"{self.limit - self.used} left of {self.limit}"
            )

    def take(self, count: int = 1) -> None:
        """Reserve `count` requests or raise BudgetExhausted."""
        self.check(count)
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

    A failure is a timeout, a refused connection or a 502/503/504 answer (an overloaded or
    dying target); the thresholds count a run without a single success in between.
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


ExchangeHook = Callable[[Exchange], None]


def ssl_context(verify: bool | str) -> ssl.SSLContext | bool:
    """What the transport verifies against: the system store, nothing, or a CA bundle file."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


_RecordArgs = tuple[
    RequestSpec, list[tuple[str, str]], str, str, str | None, str | None, frozenset[str]
]


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
        secure_base: bool = False,
        base_url: str | None = None,
        holds_secret: Callable[[str], bool] | None = None,
    ) -> None:
        """`secure_base`: base_url is https, so the scenario's credential headers, and its
        headers whose value `holds_secret`, are never sent over plain http (the https probe's
        requests to the cleartext twin).

        With `base_url`, only answers from its host and port feed the circuit breaker: a
        plain-HTTP twin that refuses every connection is what the https probe hopes for,
        not a dying target.
        """
        self.settings = settings
        self._secure_base = secure_base
        self._holds_secret = holds_secret or (lambda value: False)
        self._guarded = target_of(base_url) if base_url else None
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
        tls = ssl_context(verify)
        self._tls = tls
        # Requests go straight to the transport; the client only builds them (timeouts
        # included). httpx's client would parse every Location header (a hostile one raises
        # InvalidURL even when not following) and keep a cookie jar, so that a cookie set for
        # one identity would ride along on anonymous requests, off the record.
        self._transport = transport or httpx.AsyncHTTPTransport(
            verify=tls, limits=limits, retries=0, trust_env=False
        )
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout), transport=self._transport, trust_env=False
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    @property
    def sent(self) -> int:
        """Requests handed to the network so far (refused ones are not counted)."""
        return self.budget.used

    def _headers(self, spec: RequestSpec) -> list[tuple[str, str]]:
        lines = [("User-Agent", USER_AGENT), (SCAN_ID_HEADER, self.scan_id)]
        lines.append(("Accept-Encoding", "gzip, deflate"))
        base = list(self.base_headers.items())
        if self._secure_base and spec.url[:7].lower() == "http://":
            base = [
                (n, v)
                for n, v in base
                if n.lower() not in CREDENTIAL_HEADERS and not self._holds_secret(v)
            ]
        lines += base
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
            if content is None:
                headers = tuple((n, v) for n, v in headers if n.lower() not in _BODY_HEADERS)
            if urlsplit(next_url).netloc != urlsplit(current.url).netloc:
                headers = tuple((n, v) for n, v in headers if n.lower() not in SENSITIVE_HEADERS)
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
            self._guard_scope(spec.url)
            self.breaker.guard()
            self.budget.check()
        except RequestRefused as refused:
            return self._refused(args, refused)
        async with self._limit:
            await self.pacer.wait()
            try:
                # Checked again: the breaker may have opened, or the budget run out, while
                # this request waited for its turn.
                self.breaker.guard()
                self.budget.take()
            except RequestRefused as refused:
                return self._refused(args, refused)
            response, error = await self._transfer(spec, headers)
        guarded = self._guarded is None or target_of(spec.url) == self._guarded
        if guarded and (response is not None or not (error or "").startswith(_NOT_SENT)):
            # A request httpx could not even build says nothing about the target's health.
            # An overloaded or dying target answers 502/503/504 or not at all; a plain 500
            # to malformed input is a finding of the errors probe, not a reason to stop.
            failed = response is None or response.status in _OVERLOAD
            what = error or f"HTTP {response and response.status}"
            self.breaker.record(failed=failed, what=what)
        # The request log of -vv (redacted like every record; the URL may carry secrets).
        log.debug(
            "%s %s -> %s (%s, %s)",
            spec.method,
            spec.url,
            response.status if response is not None else error,
            probe,
            purpose,
        )
        return self._record(*args, response, error)

    async def admit(self, url: str, count: int = 1, *, paced: bool = True) -> None:
        """Reserve `count` requests to `url` made outside `send` (handshakes, bursts).

        Checks the scope, the breaker and the budget, and waits for the politeness limiter
        when `paced`; raises RequestRefused.
        """
        self._guard_scope(url)
        self.breaker.guard()
        self.budget.check(count)
        if paced:
            async with self._limit:
                await self.pacer.wait()
            self.breaker.guard()
        self.budget.take(count)

    async def burst(
        self,
        spec: RequestSpec,
        count: int,
        *,
        probe: str,
        purpose: str,
        endpoint: str,
        identity: str | None = None,
        tags: frozenset[str] = frozenset(),
    ) -> Burst:
        """Send `count` copies of a request released together, each an exchange tagged "burst".

        The scope, the breaker, the burst cap and the budget are checked for the whole burst
        before any connection opens, and the burst takes `count` from the budget at once; it
        skips the politeness limiter (a burst is meant to be fast) and the concurrency limit
        (each request has its own connection). Bodies are read up to `BURST_BODY_CAP` at most:
        a rate-limit judge needs status and headers, and 500 full bodies would not fit.

        Shots do not feed the circuit breaker one by one: a limiter answering 503 to a burst
        is what the rate_limit probe looks for, not a dying target. A burst none of whose
        requests got an answer counts as one failure.
        """
        headers = self._headers(spec)
        tags = tags | {"burst"}
        args = (spec, headers, probe, purpose, endpoint, identity, tags)
        try:
            if count > self.settings.burst_cap:
                raise BudgetExhausted(
                    f"a burst of {count} is above settings.burst_cap ({self.settings.burst_cap})"
                )
            await self.admit(spec.url, count, paced=False)
        except RequestRefused as refused:
            self._refused(args, refused)
            return Burst(shots=(), opened=0, error=f"refused: {refused}")
        raw, opened = await send_burst(
            spec.method,
            spec.url,
            headers,
            spec.content,
            count,
            verify=self._tls,
            timeout=self.settings.timeout,
            body_cap=min(self.settings.body_cap, BURST_BODY_CAP),
        )
        shots = tuple(
            Shot(self._record(*args, r.response, r.error), r.sent, r.received) for r in raw
        )
        burst = Burst(shots=shots, opened=opened)
        log.debug(
            "burst of %d %s %s: %d opened, %d answered, spread %s s (%s, %s)",
            count,
            spec.method,
            spec.url,
            opened,
            sum(1 for r in raw if r.response is not None),
            burst.spread,
            probe,
            purpose,
        )
        if any(not (r.error or "").startswith(_NOT_SENT) for r in raw):
            # As in `_send_one`: a request that could not be framed says nothing of the target.
            failed = all(r.response is None for r in raw)
            self.breaker.record(failed=failed, what=f"burst: {raw[0].error}" if failed else "burst")
        return burst

    def _guard_scope(self, url: str) -> None:
        target = target_of(url)
        if target is None:
            raise OutOfScope(
                "out of scope: where the URL goes is unclear (credentials, backslash, control "
                "characters or an invalid host); never sent"
            )
        if not in_scope(url, self.scope):
            host, port = target
            host = f"[{host}]" if ":" in host else host
            raise OutOfScope(f"out of scope: {host}:{port} is not in the scenario's scope")

    def refuse(
        self,
        spec: RequestSpec,
        refused: RequestRefused,
        *,
        probe: str,
        purpose: str,
        endpoint: str | None,
        identity: str | None,
    ) -> Exchange:
        """Record a request the engine decided not to send, for the reason given."""
        args = (spec, self._headers(spec), probe, purpose, endpoint, identity, frozenset[str]())
        return self._refused(args, refused)

    def _refused(self, args: _RecordArgs, refused: RequestRefused) -> Exchange:
        spec = args[0]
        log.info("not sent: %s %s (%s)", spec.method, spec.url, refused)
        return self._record(*args, None, f"refused: {refused}")

    async def _transfer(
        self, spec: RequestSpec, headers: list[tuple[str, str]]
    ) -> tuple[ResponseRecord | None, str | None]:
        """Send and read the body; the timeout bounds the whole exchange, not each read."""
        started = time.monotonic()
        try:
            url, extensions = raw_target(spec) if spec.raw else (spec.url, {})
            request = self._client.build_request(
                spec.method, url, headers=headers, content=spec.content, extensions=extensions
            )
        except (httpx.InvalidURL, ValueError) as exc:  # UnicodeEncodeError: non-ASCII header
            return None, f"{_NOT_SENT}: invalid request: {exc}"
        response: httpx.Response | None = None
        reader = BodyReader(self.settings.body_cap, "")
        complete = False
        try:
            with anyio.move_on_after(self.settings.timeout):
                response = await self._transport.handle_async_request(request)
                try:
                    encoding = response.headers.get("content-encoding") or ""
                    reader = BodyReader(self.settings.body_cap, encoding.strip().lower())
                    async for chunk in response.aiter_raw():
                        reader.feed(chunk)
                        if reader.done:
                            break
                    reader.finish()
                    complete = True
                finally:
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
        except httpx.TimeoutException:
            return None, f"timeout: no answer within {self.settings.timeout:g} s"
        except httpx.ConnectError as exc:
            return None, f"connect: {exc or 'connection failed'}"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        except OSError as exc:  # pragma: no cover - platform-specific socket errors
            return None, f"network: {exc}"
        except Exception as exc:
            # Whatever else the transport raises (h11 refusing a request it cannot frame, a
            # decoder choking) is this request's problem, never the scan's: record it.
            log.debug("transport error", exc_info=True)
            return None, f"{_NOT_SENT}: {type(exc).__name__}: {exc}"
        if response is None:
            return None, f"timeout: no answer within {self.settings.timeout:g} s"
        raw = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)
        record = ResponseRecord(
            status=response.status_code,
            http_version=response.http_version,
            headers=raw,
            body=reader.body,
            # A body still arriving when the time ran out is kept, marked as cut.
            truncated=reader.truncated or not complete,
            elapsed=time.monotonic() - started,
        )
        return record, None
