"""Real HTTP servers on 127.0.0.1 for tests: uvicorn for ASGI apps, Werkzeug for WSGI apps.

Each server binds port 0 (a free port chosen by the OS), runs in a thread, and stops when the
context manager exits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
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
