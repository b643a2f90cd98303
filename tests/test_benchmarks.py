"""The transport benchmark's claims, as tests against the raw asyncio server on 127.0.0.1.

Fidelity: httpx's default transport (what ScanClient uses) and the faithful aiohttp candidate
in benchmarks/aiotransport.py keep every property the judges need; the published
httpx-aiohttp transport does not, which is why it is not the default (benchmarks/RESULTS.md).
Speed: only ratios measured in the same process, never absolute times.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks import burst, fidelity, load
from benchmarks.clients import TRANSPORTS, BareClient, ClientFactory, HttpxClient
from benchmarks.targets import Target, raw_target
from probe.http import ScanClient
from probe.probes.base import RequestSpec
from probe.scenario.models import Settings

ROOT = Path(__file__).resolve().parents[1]
FAITHFUL = ("httpcore", "aiohttp-faithful")


@pytest.fixture(scope="module")
def servers() -> Iterator[fidelity.Servers]:
    """Plain and TLS raw servers, a test CA, a spare CA and a dead port."""
    with fidelity.servers() as found:
        yield found


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    """One raw asyncio server for the speed ratios."""
    with raw_target() as found:
        yield found


# -- fidelity -----------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("check", list(fidelity.CHECKS))
@pytest.mark.parametrize("transport", FAITHFUL)
def test_transport_keeps_what_judges_need(
    transport: str, check: str, servers: fidelity.Servers
) -> None:
    ok, detail = asyncio.run(fidelity.CHECKS[check](transport, servers))
    assert ok, f"{transport} lost '{check}': {detail}"


def test_published_httpx_aiohttp_rewrites_paths_and_calls_refusals_timeouts(
    servers: fidelity.Servers,
) -> None:
    # Why httpx-aiohttp 0.2 is not the default. When a release fixes these, measure again.
    path_kept, path = asyncio.run(fidelity.encoded_path("aiohttp", servers))
    refusal_kept, refusal = asyncio.run(fidelity.connect_error("aiohttp", servers))
    assert not path_kept, path
    assert path == "GET /echo/y?q=A' HTTP/1.1"
    assert not refusal_kept, refusal


@pytest.mark.parametrize("transport", [None, "aiohttp-faithful"])
def test_scan_client_records_raw_headers_capped_bomb_and_refusal(
    transport: str | None, servers: fidelity.Servers
) -> None:
    async def go() -> tuple[list[tuple[str, str]], int, bool, str | None]:
        settings = Settings(timeout=2, body_cap=65536)
        dead = servers.dead.removeprefix("http://").rstrip("/")
        client = ScanClient(
            settings=settings,
            scope=frozenset({servers.plain.removeprefix("http://"), dead}),
            verify=True,
            scan_id="t",
            base_headers={},
            on_exchange=lambda _exchange: None,
            transport=TRANSPORTS[transport](True) if transport else None,
        )
        try:
            repeat = await client.send(
                RequestSpec("GET", servers.plain + "/repeat"), probe="t", purpose="t"
            )
            bomb = await client.send(
                RequestSpec("GET", servers.plain + "/bomb"), probe="t", purpose="t"
            )
            refused = await client.send(RequestSpec("GET", servers.dead), probe="t", purpose="t")
        finally:
            await client.aclose()
        assert repeat[0].response is not None
        assert bomb[0].response is not None
        headers = [(n, v) for n, v in repeat[0].response.headers if n != "Content-Length"]
        body = bomb[0].response
        return headers, len(body.body), body.truncated, refused[0].error

    headers, size, truncated, error = asyncio.run(go())
    assert headers == [(k.decode(), v.decode()) for k, v in fidelity.REPEATED]
    assert size <= 65536
    assert truncated
    assert error is not None
    assert error.startswith("connect:")


# -- speed ratios ---------------------------------------------------------------------------


def _median_ratio(top: ClientFactory, bottom: ClientFactory, measure: str, target: Target) -> float:
    """Median of top/bottom over three alternating rounds, fresh clients, in this process."""

    async def one(factory: ClientFactory) -> float:
        client = factory(target.base_url)
        try:
            if measure == "throughput":
                return await load.throughput(client, 200, 24)
            return (await load.burst_spread(client, target, 20, 1))[0]
        finally:
            await client.aclose()

    async def go() -> list[float]:
        ratios = []
        for _ in range(3):
            a, b = await one(top), await one(bottom)
            ratios.append(a / max(b, 1e-6))
        return ratios

    return statistics.median(asyncio.run(go()))


def _httpx(transport: str) -> ClientFactory:
    return lambda url: HttpxClient(url, transport)


def test_faithful_aiohttp_transport_is_faster_than_httpcore(target: Target) -> None:
    # Concurrency 24: there httpcore's pool bookkeeping, quadratic in open connections, widens
    # the gap to about x4-x10 (RESULTS.md), so a busy machine cannot close it.
    ratio = _median_ratio(_httpx("aiohttp-faithful"), _httpx("httpcore"), "throughput", target)
    assert ratio >= 1.0


def test_faithful_aiohttp_burst_arrives_tighter_than_httpcore(target: Target) -> None:
    # A rate-limit or race probe needs its burst to land together; measured at x0.1-x0.2 of
    # httpcore's spread (x0.1 for 100 requests against nginx, RESULTS.md).
    ratio = _median_ratio(_httpx("aiohttp-faithful"), _httpx("httpcore"), "spread", target)
    assert ratio <= 1.0


def test_bare_socket_outruns_httpx_so_the_server_is_not_the_bottleneck(target: Target) -> None:
    ratio = _median_ratio(BareClient, _httpx("aiohttp-faithful"), "throughput", target)
    assert ratio >= 1.5


def test_sync_burst_lands_tighter_than_scan_client_send(target: Target) -> None:
    # The rate_limit probe's premise: last-byte synchronisation packs a burst far tighter than
    # the engine's own client at concurrency=size (measured x0.007-x0.025, RESULTS.md).
    async def go() -> list[float]:
        ratios = []
        for _ in range(3):
            sync = await burst.sync_round(target, 100)
            gather = await burst.gather_round(target, 100)
            ratios.append(sync.spread / max(gather.spread, 1e-6))
        return ratios

    assert statistics.median(asyncio.run(go())) <= 0.25


# -- the harness itself -------------------------------------------------------------------------


def test_benchmark_command_prints_a_table_and_stops_by_itself() -> None:
    command = [sys.executable, "-m", "benchmarks", "--repeats", "1", "--requests", "40"]
    command += [
        "--burst",
        "10",
        "--rounds",
        "1",
        "--high",
        "8",
        "--memory-requests",
        "40",
        "--targets",
        "raw",
    ]
    command += ["--clients", "httpx + httpcore,bare asyncio socket", "--no-fidelity"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "| httpx + httpcore |" in done.stdout
    assert "| bare asyncio socket |" in done.stdout
    assert time.monotonic() - started < 60


def test_burst_benchmark_command_prints_ratios_and_stops_by_itself() -> None:
    command = [sys.executable, "-m", "benchmarks", "burst", "--repeats", "1", "--sizes", "10"]
    command += ["--targets", "raw"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "| sync burst | 10 |" in done.stdout
    assert "| raw asyncio | 10 | x" in done.stdout
    assert time.monotonic() - started < 60


def test_raw_server_stops_when_its_parent_closes_stdin() -> None:
    with raw_target() as found:
        assert httpx.get(found.base_url + "/").text == "ok"
    with pytest.raises(httpx.ConnectError):
        httpx.get(found.base_url + "/")
