"""Bounded load loops: throughput, burst spread and peak memory of one client.

Every loop stops by itself: after a fixed count of requests or at a deadline, whichever comes
first. Nothing here knows which client it drives.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import uuid

from benchmarks.clients import Client
from benchmarks.targets import Target

DEADLINE = 60.0  # seconds any one loop may run, whatever the count


async def _run(client: Client, total: int, concurrency: int, path: str = "/") -> int:
    """Send up to `total` GETs from `concurrency` workers; return how many answered 200."""
    remaining = total
    ok = 0
    deadline = time.monotonic() + DEADLINE

    async def worker() -> None:
        nonlocal remaining, ok
        while remaining > 0 and time.monotonic() < deadline:
            remaining -= 1
            if await client.get(path) == 200:
                ok += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


async def throughput(client: Client, total: int, concurrency: int) -> float:
    """Requests per second over `total` keep-alive requests, after opening the connections."""
    await _run(client, concurrency * 2, concurrency)
    started = time.perf_counter()
    ok = await _run(client, total, concurrency)
    elapsed = time.perf_counter() - started
    if ok != total:
        raise RuntimeError(f"{client.name}: {ok} of {total} requests answered 200")
    return ok / elapsed


async def burst_spread(client: Client, target: Target, size: int, rounds: int) -> list[float]:
    """Server-side first-to-last arrival time of `size` simultaneous requests, per round.

    The connections are opened first (one request per burst slot, all at once), so what is
    measured is how fast the client puts already-open connections to work.
    """
    await _run(client, size, size)
    spreads = []
    for _ in range(rounds):
        tag = uuid.uuid4().hex[:12]
        gate = asyncio.Event()

        async def one(index: int, tag: str = tag, gate: asyncio.Event = gate) -> None:
            await gate.wait()
            await client.get(f"/burst?burst={tag}-{index}")

        tasks = [asyncio.ensure_future(one(i)) for i in range(size)]
        await asyncio.sleep(0)  # every task is now parked on the gate
        gate.set()
        await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE)
        times = target.burst_times(tag)
        if len(times) != size:
            raise RuntimeError(f"{client.name}: server logged {len(times)} of {size} requests")
        spreads.append(max(times) - min(times))
    return spreads


async def peak_memory(client: Client, total: int, concurrency: int) -> int:
    """Peak bytes traced by tracemalloc while `total` requests run (connections already open)."""
    await _run(client, concurrency * 2, concurrency)
    tracemalloc.start()
    try:
        await _run(client, total, concurrency)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak
