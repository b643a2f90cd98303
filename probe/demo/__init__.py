"""Serves the bundled weak demo API on 127.0.0.1 for `probe demo`.

The API is served over HTTPS with a certificate from a throwaway CA made for this run (trustme),
and, as its weak plain-HTTP twin, over cleartext HTTP on a second port.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
import uvicorn

from probe.demo.app import USERS, create_app
from probe.errors import ProbeError

#: Variables the demo scenario needs besides DEMO_URL.
DEMO_VARIABLES: dict[str, str] = {
    "DEMO_ALICE_PASSWORD": str(USERS["alice@example.test"]["password"]),
    "DEMO_BOB_PASSWORD": str(USERS["bob@example.test"]["password"]),
}


def demo_scenario_path() -> Path:
    """scenarios/demo.yaml in the working directory, else in the source checkout."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base / "scenarios" / "demo.yaml"
        if candidate.is_file():
            return candidate
    raise ProbeError("scenarios/demo.yaml not found: run `probe demo` from the repository")


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free port of 127.0.0.1 (never another address)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it, small keep-alive answers wait ~40 ms for delayed ACKs (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve_on_loopback(app: Any, **config: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on 127.0.0.1; yields its base URL.

    `config` goes to uvicorn (for example ssl_certfile and ssl_keyfile for HTTPS).
    """
    sock = loopback_socket()
    port = sock.getsockname()[1]
    options = {"log_level": "warning", "lifespan": "off", "access_log": False, **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            sock.close()
            raise ProbeError("the local server did not start")
        time.sleep(0.01)
    scheme = "https" if config.get("ssl_certfile") else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass(frozen=True)
class DemoServers:
    """Where the running demo API is.

    Attributes:
        url: The API over HTTPS (https://127.0.0.1:PORT).
        http_url: The same API over cleartext HTTP on another port: the weak twin.
        ca_path: PEM file of the throwaway CA that signed the HTTPS certificate.
    """

    url: str
    http_url: str
    ca_path: Path

    def variables(self) -> dict[str, str]:
        """The variables scenarios/demo.yaml needs."""
        return {
            "DEMO_URL": self.url,
            "DEMO_HTTP_URL": self.http_url,
            "DEMO_CA": str(self.ca_path),
            **DEMO_VARIABLES,
        }


@contextmanager
def serve_demo() -> Iterator[DemoServers]:
    """Run the demo API on two free ports of 127.0.0.1 (HTTPS and its cleartext twin).

    The CA and the certificate live in a temporary folder removed when the servers stop.
    """
    ca = trustme.CA(organization_name="probe demo CA")
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    app = create_app()
    with tempfile.TemporaryDirectory(prefix="probe-demo-") as folder:
        ca_path = Path(folder) / "demo-ca.pem"
        key_path = Path(folder) / "demo-server.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        leaf.private_key_and_cert_chain_pem.write_to_path(str(key_path))
        tls = {"ssl_certfile": str(key_path), "ssl_keyfile": str(key_path)}
        with (
            serve_on_loopback(app, server_header=False, **tls) as url,
            serve_on_loopback(app, server_header=False) as http_url,
        ):
            yield DemoServers(url, http_url, ca_path)
