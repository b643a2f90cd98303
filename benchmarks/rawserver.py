"""A minimal HTTP/1.1 server on raw asyncio sockets, run as a subprocess by `targets.py`.

It exists so that benchmarks and tests have a keep-alive target that needs nothing outside
Python and is not the bottleneck (it runs in its own process, so it does not share the client's
GIL or event loop). Every answer is a fixed byte string chosen by the request target's prefix:

    /echo...          the request head exactly as received, as the body
    /repeat           repeated header lines (two Strict-Transport-Security, two Set-Cookie)
    /bomb             a gzip body that inflates to 16 MiB (Content-Encoding: gzip)
    /hang             reads the request and never answers (closes after --hang seconds)
    /big              one 12,000-byte header line (h11 accepts up to 16 KiB of head)
    /cut              promises 100 body bytes, sends 10, then closes the connection
    /http10           an HTTP/1.0 answer that closes the connection
    anything else     200 "ok", keep-alive

A request whose target contains "burst=" is logged to --log as "<unix time> <target>" when its
head has been read: the spread of a burst is the last time minus the first.

The process prints "PORT <n>" once it listens, and stops by itself after --lifetime seconds or
when its standard input closes (the parent died), whichever comes first.

This file imports nothing from the project so that it can run as a plain script.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import ssl
import sys
import time
from typing import TextIO

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
REPEAT = (
    b"HTTP/1.1 200 OK\r\n"
    b"Strict-Transport-Security: max-age=0\r\n"
    b"Set-Cookie: a=1; Path=/\r\n"
    b"X-MiXeD-CaSe: kept\r\n"
    b"Strict-Transport-Security: max-age=31536000\r\n"
    b"Set-Cookie: b=2; Path=/\r\n"
    b"Content-Length: 2\r\n\r\nok"
)
BIG = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 12000 + b"\r\nContent-Length: 2\r\n\r\nok"
CUT = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
HTTP10 = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
BOMB_SIZE = 16 * 1024 * 1024
MAX_HEAD = 64 * 1024


def bomb_response() -> bytes:
    """A small gzip body that inflates to BOMB_SIZE zero bytes."""
    body = gzip.compress(bytes(BOMB_SIZE), compresslevel=9)
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class Server:
    """Answers requests on one listening socket; see the module docstring for the routes."""

    def __init__(self, log: TextIO | None, hang: float) -> None:
        self.log = log
        self.hang = hang
        self.bomb = bomb_response()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection until the client closes it or a route closes it."""
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        except ValueError:
            pass  # a malformed Content-Length: drop the connection, as a strict server would
        except asyncio.CancelledError:
            pass  # shutdown while a /hang request waits: end quietly, the process is exiting
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b" ", 2)[1].decode("latin-1") if b" " in head else ""
        if self.log is not None and "burst=" in target:
            self.log.write(f"{time.time():.6f} {target}\n")
            self.log.flush()
        length = _content_length(head)
        if length:
            await reader.readexactly(length)
        answer, keep = self._route(target, head)
        if answer is None:
            await asyncio.sleep(self.hang)
            return False
        writer.write(answer)
        await writer.drain()
        return keep

    def _route(self, target: str, head: bytes) -> tuple[bytes | None, bool]:
        if target.startswith("/echo"):
            size = f"Content-Length: {len(head)}\r\n\r\n".encode()
            return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + size + head, True
        routes: dict[str, tuple[bytes | None, bool]] = {
            "/repeat": (REPEAT, True),
            "/bomb": (self.bomb, True),
            "/hang": (None, False),
            "/cut": (CUT, False),
            "/big": (BIG, True),
            "/http10": (HTTP10, False),
        }
        for prefix, answer in routes.items():
            if target.startswith(prefix):
                return answer
        return OK, True


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or b"0")
    return 0


async def _stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()


async def serve(args: argparse.Namespace) -> None:
    """Listen, print the port, and serve until the lifetime ends or stdin closes."""
    log = open(args.log, "a", encoding="ascii") if args.log else None  # noqa: SIM115
    context: ssl.SSLContext | None = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    server = Server(log, args.hang)
    listener = await asyncio.start_server(
        server.handle, "127.0.0.1", args.port, ssl=context, limit=MAX_HEAD, backlog=1024
    )
    port = listener.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    watch = asyncio.ensure_future(_stdin_closed())
    try:
        await asyncio.wait_for(watch, timeout=args.lifetime)
    except TimeoutError:
        pass
    finally:
        listener.close()
        if log is not None:
            log.close()


def main() -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", default="")
    parser.add_argument("--cert", default="")
    parser.add_argument("--key", default="")
    parser.add_argument("--hang", type=float, default=30.0)
    parser.add_argument("--lifetime", type=float, default=900.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
