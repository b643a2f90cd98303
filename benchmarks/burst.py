"""Last-byte synchronisation against a general client: how tightly does a burst land?

Both ways go through probe's own `ScanClient`, guards included:

- **sync burst**: `ScanClient.burst` (probe/burst.py): one connection per request, everything
  but the final byte written first, then every final byte at once;
- **ScanClient.send**: the same number of `send` calls started together with
  `asyncio.gather`, at `concurrency=size`, after a warm-up round that opened the pool's
  connections (the client's best case).

For each, on each local target (nginx when installed, and the raw asyncio server, which runs in
its own process): the spread of the burst as the server logs it (first to last arrival), the
arrival rate over that spread ((size - 1) / spread), and the wall time from the release until
every answer was read, and the whole run's time with the opening of the connections (the
client's warm-up round). Each repeat runs both ways on every size, in alternating order; the
tables show medians over repeats, and the ratios are taken within a repeat, then their median.
Every burst is bounded in count (the sizes asked) and time (the client's timeout).

Run: `python -m benchmarks burst` (`--help` lists the knobs).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from benchmarks.clients import bench_scan_client
from benchmarks.targets import Target, nginx_binary, nginx_target, raw_target
from probe.http import ScanClient
from probe.probes.base import RequestSpec
from probe.scenario.models import Settings

TIMEOUT = 10.0  # seconds per request (and per opening phase) in both ways
SYNC = "sync burst"
GATHER = "ScanClient.send"


@dataclass(frozen=True)
class Round:
    """One burst as measured.

    Attributes:
        spread: Seconds from the first arrival the server logged to the last.
        rate: Arrivals per second over that spread.
        wall: Seconds from the release until every answer was read.
        total: Seconds of the whole run, opening the connections included (the sync
            burst's opening, priming and settling; the client's warm-up round).
        sent: Seconds over which the sync burst wrote its final bytes, as the sender
            measured it (`Burst.spread`); 0 for the client.
    """

    spread: float
    rate: float
    wall: float
    total: float
    sent: float = 0.0


@dataclass
class Figures:
    """Every repeat's round for one way and one size."""

    rounds: list[Round] = field(default_factory=list)

    def median(self, name: str) -> float:
        """Median of one attribute of the rounds."""
        return float(statistics.median(getattr(r, name) for r in self.rounds))


def scan_client(base_url: str, concurrency: int) -> ScanClient:
    """A ScanClient for the benchmark: no politeness cap, budget and cap out of the way."""
    settings = Settings(
        concurrency=concurrency,
        requests_per_second=1e9,
        max_requests=10**9,
        timeout=TIMEOUT,
        burst_cap=10**6,
    )
    return bench_scan_client(base_url, settings)


def _measured(
    target: Target, tag: str, size: int, wall: float, total: float, sent: float = 0.0
) -> Round:
    times = target.burst_times(tag)
    if len(times) != size:
        raise RuntimeError(f"server logged {len(times)} of {size} requests")
    spread = max(times) - min(times)
    return Round(spread, (size - 1) / max(spread, target.resolution), wall, total, sent)


async def sync_round(target: Target, size: int) -> Round:
    """One burst of `size` through `ScanClient.burst` (last-byte synchronisation)."""
    client = scan_client(target.base_url, 8)
    tag = uuid.uuid4().hex[:12]
    started = time.monotonic()
    try:
        spec = RequestSpec("GET", f"{target.base_url}/burst?burst={tag}-0")
        burst = await client.burst(spec, size, probe="bench", purpose="bench", endpoint="bench")
    finally:
        await client.aclose()
    total = time.monotonic() - started
    answered = [s.received for s in burst.shots if s.exchange.response is not None]
    if len(answered) != size:
        errors = {s.exchange.error for s in burst.shots if s.exchange.error}
        raise RuntimeError(f"sync burst: {len(answered)} of {size} answered ({errors})")
    wall = max(r for r in answered if r is not None)
    return _measured(target, tag, size, wall, total, burst.spread or 0.0)


async def gather_round(target: Target, size: int) -> Round:
    """`size` `ScanClient.send` calls started together on warmed-up connections."""
    client = scan_client(target.base_url, size)
    tag = uuid.uuid4().hex[:12]

    async def get(path: str) -> bool:
        chain = await client.send(
            RequestSpec("GET", target.base_url + path), probe="b", purpose="b"
        )
        return chain[-1].response is not None

    first = time.monotonic()
    try:
        await asyncio.gather(*(get("/") for _ in range(size)))
        gate = asyncio.Event()

        async def one(index: int) -> bool:
            await gate.wait()
            return await get(f"/burst?burst={tag}-{index}")

        tasks = [asyncio.ensure_future(one(i)) for i in range(size)]
        await asyncio.sleep(0)  # every task is parked on the gate
        started = time.monotonic()
        gate.set()
        answered = await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT * 2)
        done = time.monotonic()
    finally:
        await client.aclose()
    if not all(answered):
        raise RuntimeError(f"ScanClient.send: {sum(answered)} of {size} answered")
    return _measured(target, tag, size, done - started, done - first)


WAYS: dict[str, Callable[[Target, int], Awaitable[Round]]] = {
    SYNC: sync_round,
    GATHER: gather_round,
}


async def run_target(
    target: Target, sizes: list[int], repeats: int
) -> dict[tuple[str, int], Figures]:
    """Every repeat of both ways at every size on one target."""
    results = {(way, size): Figures() for way in WAYS for size in sizes}
    for repeat in range(repeats):
        order = list(WAYS) if repeat % 2 == 0 else list(reversed(WAYS))
        for size in sizes:
            for way in order:
                results[way, size].rounds.append(await WAYS[way](target, size))
    return results


def table(name: str, results: dict[tuple[str, int], Figures], sizes: list[int]) -> str:
    """Medians per way and size, then the ratios sync / ScanClient.send, as Markdown."""
    lines = [
        f"| {name} | size | spread (ms) | arrivals/s | final bytes written over (ms) "
        "| release to last answer (ms) | total, opening included (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        for way in WAYS:
            fig = results[way, size]
            sent = "-" if way == GATHER else f"{fig.median('sent') * 1000:,.2f}"
            lines.append(
                f"| {way} | {size} | {fig.median('spread') * 1000:,.1f} "
                f"| {fig.median('rate'):,.0f} | {sent} | {fig.median('wall') * 1000:,.1f} "
                f"| {fig.median('total') * 1000:,.1f} |"
            )
    lines += [
        "",
        "| ratio sync / ScanClient.send | size | spread | arrivals/s | to last answer | total |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        sync, gather = results[SYNC, size].rounds, results[GATHER, size].rounds

        def ratio(name: str, sync: list[Round] = sync, gather: list[Round] = gather) -> float:
            pairs = zip(sync, gather, strict=True)
            return float(statistics.median(getattr(a, name) / getattr(b, name) for a, b in pairs))

        lines.append(
            f"| {name} | {size} | x{ratio('spread'):.3f} | x{ratio('rate'):,.1f} "
            f"| x{ratio('wall'):.2f} | x{ratio('total'):.2f} |"
        )
    return "\n".join(lines)


def _target(name: str) -> AbstractContextManager[Target]:
    return nginx_target() if name == "nginx" else raw_target()


async def main_async(sizes: list[int], repeats: int, targets: list[str]) -> None:
    """Measure on every target asked for and print Markdown."""
    for name in targets:
        with _target(name) as target:
            results = await run_target(target, sizes, repeats)
            print(table(target.name, results, sizes))
            print(f"\n- log resolution of {target.name}: {target.resolution * 1000:g} ms\n")


def parser() -> argparse.ArgumentParser:
    """Command-line options of `python -m benchmarks burst`."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks burst", description=__doc__.splitlines()[0]
    )
    p.add_argument("--repeats", type=int, default=5, help="repeats of every measurement")
    p.add_argument("--sizes", default="100,500", help="comma list of burst sizes")
    default_targets = "nginx,raw" if nginx_binary() else "raw"
    p.add_argument("--targets", default=default_targets, help="comma list of nginx, raw")
    return p


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m benchmarks burst`."""
    args = parser().parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if set(targets) - {"nginx", "raw"} or not sizes or min(sizes) < 2:
        parser().error("targets are nginx and raw; sizes are at least 2")
    asyncio.run(main_async(sizes, args.repeats, targets))
