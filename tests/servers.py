"""Real servers on 127.0.0.1 for tests: uvicorn (ASGI), Werkzeug (WSGI), and a raw socket.

Each server binds port 0 (a free port chosen by the OS), runs in a thread, and stops when the
context manager exits.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from werkzeug.serving import make_server

from probe.demo import loopback_socket, serve_on_loopback


def serve_asgi(app: Any, **config: Any) -> AbstractContextManager[str]:
    """Serve an ASGI app with uvicorn; yields its base URL (http://127.0.0.1:PORT)."""
    return serve_on_loopback(app, **config)


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve a WSGI app (Flask, Django, Werkzeug's debugger) with Werkzeug's threaded server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def free_port() -> int:
    """A port nothing listens on right now (for 'dead target' tests)."""
    with loopback_socket() as sock:
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def serve_raw(answer: bytes, limit: int | None = None) -> Iterator[str]:
    """A socket server that answers every request with `answer`, bytes exactly as given.

    With `limit`, it dies after that many connections: nothing listens on its port any more.
    """
    listener = loopback_socket()
    listener.listen()
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        served = 0
        while not stop.is_set() and (limit is None or served < limit):
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(answer)
            served += 1
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


@contextmanager
def serve_tcp(handle: Callable[[socket.socket, int], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1: each connection in a thread, `handle(conn, index)` with the
    connection's index (0 for the first); yields http://localhost:PORT."""
    listener = loopback_socket()
    listener.listen()
    listener.settimeout(0.05)
    stop = threading.Event()

    def one(conn: socket.socket, index: int) -> None:
        with conn:
            conn.settimeout(5)
            # The client going away, or refusing the handshake, is its business.
            with contextlib.suppress(OSError, ssl.SSLError):
                handle(conn, index)

    def serve() -> None:
        index = 0
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=one, args=(conn, index), daemon=True).start()
            index += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()
