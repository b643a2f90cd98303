"""Local HTTP targets for the benchmarks and their tests, all on 127.0.0.1.

Two kinds: Debian's nginx (fast, written in C, the fairest target), run by us from a config in
a temporary folder with `daemon off` and stopped at the end, never the system's service; and
the raw asyncio server in `rawserver.py` (needs only Python, so tests in CI can rely on it).
Both log the arrival time of every request whose target contains "burst=".
"""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RAWSERVER = Path(__file__).with_name("rawserver.py")
START_TIMEOUT = 10.0

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/plain;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    log_format burst '$msec $request_uri';
    server {{
        listen 127.0.0.1:{port};
        location /burst {{
            access_log {tmp}/burst.log burst;
            return 200 "ok";
        }}
        location / {{
            return 200 "ok";
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Target:
    """A running local server.

    Attributes:
        name: "nginx" or "raw asyncio".
        base_url: http(s)://127.0.0.1:PORT, no trailing slash.
        burst_log: File where the server logs "<unix time> <target>" for burst requests.
        resolution: Seconds between two distinct log times (nginx logs milliseconds).
    """

    name: str
    base_url: str
    burst_log: Path
    resolution: float

    def burst_times(self, tag: str) -> list[float]:
        """Arrival times the server logged for requests tagged `burst=<tag>`."""
        if not self.burst_log.exists():
            return []
        times = []
        for line in self.burst_log.read_text(encoding="ascii").splitlines():
            stamp, _, target = line.partition(" ")
            if f"burst={tag}-" in target:
                times.append(float(stamp))
        return times


def nginx_binary() -> str | None:
    """Path of Debian's nginx binary, or None when it is not installed."""
    found = shutil.which("nginx")
    if found is None and Path("/usr/sbin/nginx").exists():
        found = "/usr/sbin/nginx"  # root's PATH has /usr/sbin, a CI runner's may not
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def nginx_target() -> Iterator[Target]:
    """Run nginx on a free 127.0.0.1 port from a config in a temporary folder."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
    with tempfile.TemporaryDirectory(prefix="probe-bench-nginx-") as tmp:
        for attempt in range(3):
            port = _free_port()
            conf = Path(tmp, "nginx.conf")
            conf.write_text(NGINX_CONF.format(tmp=tmp, port=port), encoding="ascii")
            command = [binary, "-e", f"{tmp}/error.log", "-p", tmp, "-c", str(conf)]
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            if _wait_listening(port, process):
                break
            _stop(process)
            if attempt == 2:
                error = Path(tmp, "error.log")
                detail = error.read_text() if error.exists() else "no error log"
                raise RuntimeError(f"nginx did not start: {detail}")
        try:
            yield Target("nginx", f"http://127.0.0.1:{port}", Path(tmp, "burst.log"), 0.001)
        finally:
            _stop(process)


@contextmanager
def raw_target(*, tls: tuple[Path, Path] | None = None, hang: float = 30.0) -> Iterator[Target]:
    """Run `rawserver.py` in a subprocess; `tls` is (certificate chain, key) files."""
    with tempfile.TemporaryDirectory(prefix="probe-bench-raw-") as tmp:
        log = Path(tmp, "burst.log")
        command = [sys.executable, str(RAWSERVER), "--log", str(log), "--hang", str(hang)]
        if tls is not None:
            command += ["--cert", str(tls[0]), "--key", str(tls[1])]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            port = _read_port(process)
            scheme = "https" if tls else "http"
            yield Target("raw asyncio", f"{scheme}://127.0.0.1:{port}", log, 1e-6)
        finally:
            if process.stdin is not None:
                process.stdin.close()  # the server stops when its stdin closes
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _stop(process)
            if process.stdout is not None:
                process.stdout.close()


def _read_port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else b""
    if not line.startswith(b"PORT "):
        _stop(process)
        raise RuntimeError(f"raw server did not start: {line!r}")
    return int(line.split()[1])
