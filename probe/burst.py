"""Bursts: many copies of one request released together, by last-byte synchronisation.

A general-purpose client starts requests one after another, so a burst of a hundred reaches
the server over a quarter of a second (benchmarks/RESULTS.md). Here every request gets its own
HTTP/1.1 connection (TLS for https URLs, SNI and the certificate's host checked against the
URL's host), opened before anything is released:

1. open: `count` connections, at most `CONNECT_AT_ONCE` in progress, the whole phase bounded
   by the timeout;
2. prime: on each, write the request up to the last byte of its header block, and let the
   server read that much (it now waits for the end of the headers); holding back the headers'
   end, not the body's, keeps a server that decides on the headers alone (a limiter in front
   of the handler) from answering before the release;
3. release: write every remainder (that byte and the body) back to back, with no await in
   between, and note when each was written (`sent`, seconds after the release began);
4. read: every answer arrives concurrently on the event loop and is parsed by h11 as it
   comes, the body decoded and capped by `BodyReader`; `received` notes when it was complete.

The request is serialised here, not by a client library: the URL's path and query go out
exactly as given, the header lines in their order and letter case. Nothing raises for network
trouble: a connection that does not open, a server that closes early, answers garbage or never
answers, each becomes an error on that one shot. Every connection is closed at the end, also
when the burst is cancelled. HTTP/2 (where all final frames fit in one packet) is not used.

The sender needs the asyncio event loop (anyio's default backend, which the scan runs on).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import dataclass

import h11

from probe.burst_wire import Address, parse_address, request_bytes
from probe.exchange import Exchange, ResponseRecord, ascii_lower, first_header
from probe.http_body import BodyReader

CONNECT_AT_ONCE = 50  # connections being opened at the same time, at most
MAX_INFORMATIONAL = 10  # 1xx answers before the final one, at most
# Seconds between priming and the release. An empty send buffer says the kernel took the bytes,
# not that the server has read them; over a real network the primed requests must have arrived
# and been parsed, or the final bytes would land together with their prefixes.
SETTLE = 0.05
_DRAIN_POLL = 0.002


@dataclass(frozen=True)
class RawShot:
    """One request of a burst as the sender saw it, before the engine records it.

    Attributes:
        response: The answer, or None.
        error: Why there is no answer, or None.
        sent: Seconds after the release when the request's last byte was written, or None.
        received: Seconds after the release when the answer was read completely, or None
            (negative for a server that answered before the release).
    """

    response: ResponseRecord | None
    error: str | None
    sent: float | None
    received: float | None


@dataclass(frozen=True)
class Shot:
    """One request of a burst, recorded as an exchange, with its timings (see `RawShot`)."""

    exchange: Exchange
    sent: float | None
    received: float | None


@dataclass(frozen=True)
class Burst:
    """A burst as sent.

    Attributes:
        shots: One per request, in the order the connections were opened (and released);
            those whose connection did not open come last.
        opened: Connections that were open and waiting when the burst was released.
        error: Why nothing was sent (refused by a guard), or None.
    """

    shots: tuple[Shot, ...]
    opened: int
    error: str | None = None

    @property
    def sent(self) -> int:
        """Requests whose last byte was written."""
        return sum(1 for shot in self.shots if shot.sent is not None)

    @property
    def spread(self) -> float | None:
        """Seconds from the first final byte written to the last, or None if none was sent."""
        times = [shot.sent for shot in self.shots if shot.sent is not None]
        return max(times) - min(times) if times else None

    @property
    def rate(self) -> float | None:
        """Requests released per second over the spread (intervals between final bytes).

        None when fewer than two requests went out or they left within the clock's resolution.
        """
        spread = self.spread
        if not spread or self.sent < 2:
            return None
        return (self.sent - 1) / spread


# -- one connection ------------------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One shot's connection: parses the answer with h11 as it arrives, body capped."""

    def __init__(self, method: str, body_cap: int, burst: _State) -> None:
        self.burst = burst
        self.body_cap = body_cap
        self.transport: asyncio.Transport | None = None
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.parser = h11.Connection(h11.CLIENT)
        # h11 reads an answer only after its own side sent a request; this stands for ours,
        # with the method that decides whether a body follows (HEAD).
        self.parser.send(h11.Request(method=method, target="/", headers=[("Host", "burst")]))
        self.parser.send(h11.EndOfMessage())
        self.head: h11.Response | None = None
        self.lines: tuple[tuple[str, str], ...] = ()
        self.reader: BodyReader | None = None
        self.error: str | None = None
        self.complete = False
        self.informational = 0
        self.primed_at: float | None = None
        self.sent_at: float | None = None
        self.received_at: float | None = None

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.burst.closed:
            transport.abort()  # opened after the burst ended (a cancelled connect)
            return
        self.burst.opened.append(self)

    def data_received(self, data: bytes) -> None:
        if self.finished.done():
            return
        try:
            self.parser.receive_data(data)
            self._next_events()
        except h11.RemoteProtocolError as exc:
            self._finish(f"protocol: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.finished.done():
            return
        if self.head is not None:
            try:
                # A body framed by the connection's end is complete only now (h11 says
                # what was missing when it was framed otherwise).
                self.parser.receive_data(b"")
                self._next_events()
            except h11.RemoteProtocolError as error:
                self._finish(f"protocol: {error}")
                return
        if not self.finished.done():
            when = "the request was complete" if self.sent_at is None else "answering"
            why = f" ({exc})" if exc else ""
            self._finish(f"protocol: the server closed the connection before {when}{why}")

    # parsing

    def _next_events(self) -> None:
        while not self.finished.done():
            event = self.parser.next_event()
            if event is h11.NEED_DATA:
                return
            if event is h11.PAUSED or isinstance(event, h11.EndOfMessage):
                self._complete()  # PAUSED: the server switched protocols (101)
            elif isinstance(event, h11.Response):
                self.head = event
                # raw_items: h11 lower-cases the names everywhere else.
                raw = event.headers.raw_items()
                self.lines = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in raw)
                encoding = first_header(self.lines, "content-encoding") or ""
                self.reader = BodyReader(self.body_cap, ascii_lower(encoding.strip()))
            elif isinstance(event, h11.Data) and self.reader is not None:
                self.reader.feed(bytes(event.data))
                if self.reader.done:
                    self._complete()
            elif isinstance(event, h11.InformationalResponse):
                # A few 1xx answers are normal; an endless stream of them would keep this
                # loop, and the event loop with it, from ever reaching the timeout.
                self.informational += 1
                if self.informational > MAX_INFORMATIONAL:
                    self._finish(f"protocol: more than {MAX_INFORMATIONAL} 1xx answers")
            # ConnectionClosed needs nothing

    def _complete(self) -> None:
        if self.reader is not None:
            self.reader.finish()
        self.complete = True
        self._finish(None)

    def _finish(self, error: str | None) -> None:
        self.error = error
        self.received_at = time.monotonic()
        self.finished.set_result(None)
        if self.transport is not None:
            self.transport.abort()  # the answer is in: free the server's side at once

    # results

    def shot(self, release: float, timeout: float) -> RawShot:
        """What this connection amounts to, with times relative to the release."""
        response = self._response()
        error = None if response is not None else self.error
        if response is None and error is None:
            error = f"timeout: no answer within {timeout:g} s"
        sent = None if self.sent_at is None else self.sent_at - release
        received = None if self.received_at is None else self.received_at - release
        return RawShot(response, error, sent, received)

    def _response(self) -> ResponseRecord | None:
        if self.head is None or (self.error is not None and not self.complete):
            return None
        start = self.sent_at if self.sent_at is not None else self.primed_at
        end = self.received_at if self.received_at is not None else time.monotonic()
        reader = self.reader or BodyReader(self.body_cap, "")
        return ResponseRecord(
            status=self.head.status_code,
            http_version="HTTP/" + self.head.http_version.decode("ascii", "replace"),
            headers=self.lines,
            body=reader.body,
            # An answer whose body was still arriving when the time ran out is kept, cut.
            truncated=reader.truncated or not self.complete,
            elapsed=max(0.0, end - (start or end)),
        )


# -- the burst -----------------------------------------------------------------------------------


class _State:
    """What every connection of one burst shares."""

    def __init__(self) -> None:
        self.opened: list[_Connection] = []
        self.closed = False


def _tls_context(verify: object) -> ssl.SSLContext:
    """The context `probe.http.ssl_context` describes: a given context, the system store, none."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    context = ssl.create_default_context()
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def _connect(
    connection: _Connection, hosts: list[str], address: Address, tls: ssl.SSLContext | None
) -> None:
    """Open one connection, trying each resolved address in turn; raises OSError."""
    loop = asyncio.get_running_loop()
    failure: OSError = OSError(f"no address for {address.host}")
    for host in hosts:
        try:
            await loop.create_connection(
                lambda: connection,
                host,
                address.port,
                ssl=tls,
                server_hostname=address.host if tls is not None else None,
            )
            return
        except ssl.SSLError:
            raise  # the certificate is wrong wherever the host is reached: say so
        except OSError as exc:
            failure = exc
    raise failure


async def _resolve(address: Address, timeout: float) -> list[str]:
    """The host's addresses, resolved once so that every connection goes to the same place."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM), timeout
    )
    hosts: list[str] = []
    for *_, sockaddr in infos:
        if str(sockaddr[0]) not in hosts:
            hosts.append(str(sockaddr[0]))
    return hosts


async def _open_all(
    connections: list[_Connection], address: Address, verify: object, timeout: float
) -> dict[_Connection, str]:
    """Open every connection (bounded concurrency, `timeout` in all); returns the failures."""
    failed: dict[_Connection, str] = {}
    deadline = time.monotonic() + timeout
    try:
        hosts = await _resolve(address, timeout)
    except (OSError, TimeoutError) as exc:
        reason = f"connect: cannot resolve {address.host}: {exc or 'timed out'}"
        return dict.fromkeys(connections, reason)
    tls = _tls_context(verify) if address.scheme == "https" else None
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(connection: _Connection) -> None:
        async with gate:
            try:
                await _connect(connection, hosts, address, tls)
            except Exception as exc:  # OSError mostly; whatever it is, it is this shot's
                failed[connection] = f"connect: {exc or type(exc).__name__}"

    tasks = {asyncio.ensure_future(one(c)): c for c in connections}
    try:
        left = max(0.0, deadline - time.monotonic())
        _done, pending = await asyncio.wait(tasks, timeout=left)
    finally:
        for task in tasks:
            task.cancel()  # the ones still connecting (all of them, when we are cancelled)
    for task in pending:
        failed[tasks[task]] = f"connect: not open within {timeout:g} s"
    return failed


async def _prime(opened: list[_Connection], prefix: bytes, deadline: float) -> None:
    """Write the prefix on every connection, wait until the kernel has it all (until
    `deadline` at most), then let the server read it."""
    for connection in opened:
        if connection.transport is None or connection.transport.is_closing():
            continue
        connection.primed_at = time.monotonic()
        connection.transport.write(prefix)
    while time.monotonic() < deadline and any(
        c.transport is not None and c.transport.get_write_buffer_size() for c in opened
    ):
        await asyncio.sleep(_DRAIN_POLL)
    await asyncio.sleep(SETTLE)


def _release(opened: list[_Connection], last: bytes) -> float:
    """Write every remainder back to back; returns when the release began."""
    release = time.monotonic()
    for connection in opened:
        transport = connection.transport
        if transport is None or transport.is_closing():
            continue  # the server closed it early: that shot's error says so
        try:
            transport.write(last)
        except (OSError, RuntimeError):
            continue
        connection.sent_at = time.monotonic()
    return release


async def send_burst(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    content: bytes | None,
    count: int,
    *,
    verify: object,
    timeout: float,
    body_cap: int,
) -> tuple[list[RawShot], int]:
    """Send `count` copies released together; returns the shots and the connections opened.

    `verify` is what `probe.http.ssl_context` returns (a context, True for the system store,
    False for none). Opening and priming together are bounded by `timeout`, and so are the
    answers after the release. Never raises for network trouble or a request that cannot be
    framed. A connection the server closed before the release is not counted as opened.
    """
    if count <= 0:
        return [], 0
    try:
        request = request_bytes(method, url, headers, content)
        address = parse_address(url)
    except ValueError as exc:
        return [RawShot(None, f"not sent: invalid request: {exc}", None, None)] * count, 0
    state = _State()
    connections = [_Connection(method, body_cap, state) for _ in range(count)]
    deadline = time.monotonic() + timeout  # for opening and priming together
    try:
        failed = await _open_all(connections, address, verify, timeout)
        opened = [c for c in state.opened if c not in failed]
        # The cut: the header block's last byte; the body (if any) goes with it.
        cut = len(request) - len(content or b"") - 1
        await _prime(opened, request[:cut], deadline)
        release = _release(opened, request[cut:])
        waiting = [c.finished for c in opened if not c.finished.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=timeout)
        shots = [c.shot(release, timeout) for c in opened]
        ready = set(opened)
        unopened = [c for c in connections if c not in ready]
        shots += [RawShot(None, failed.get(c, "connect: failed"), None, None) for c in unopened]
        return shots, sum(1 for c in opened if c.sent_at is not None)
    finally:
        state.closed = True
        for connection in state.opened:
            if connection.transport is not None:
                connection.transport.abort()
