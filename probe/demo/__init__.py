"""Serves the bundled weak demo API on 127.0.0.1 for `probe demo`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def serve_demo() -> Iterator[str]:
    """Run the demo API on a free port of 127.0.0.1; yields its URL and stops it afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(), log_level="warning", lifespan="off", server_header=False, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise ProbeError("the demo API did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
