"""Which transport should carry httpx in the scan engine? Speed and fidelity, measured.

For each local target (nginx when installed, and the raw asyncio server) and each client, in
a fresh client per measurement, repeated and reported as medians:

- requests/s over N keep-alive requests at concurrency 8 and 50;
- the server-side spread (first to last arrival) of 100 simultaneous requests on open
  connections, the median of several rounds;
- tracemalloc's peak during 1,000 requests at concurrency 8;

then the fidelity checks of `fidelity.py` for both transports. The client order rotates from
one repeat to the next so that the machine's background load falls on all of them alike, and
the speed ratios are taken within a repeat, then their median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata

from benchmarks import fidelity, load
from benchmarks.clients import CLIENTS
from benchmarks.targets import Target, nginx_binary, nginx_target, raw_target


@dataclass
class Figures:
    """Every repeat's figures for one client on one target.

    Attributes:
        rps_low: Requests/s at the low concurrency, one per repeat.
        rps_high: Requests/s at the high concurrency, one per repeat.
        spread: Median burst spread in seconds, one per repeat.
        memory: Peak bytes traced during the memory run, one per repeat.
    """

    rps_low: list[float] = field(default_factory=list)
    rps_high: list[float] = field(default_factory=list)
    spread: list[float] = field(default_factory=list)
    memory: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    """What to run; see `parser()` for the meaning of each."""

    repeats: int
    requests: int
    low: int
    high: int
    burst: int
    rounds: int
    memory_requests: int
    targets: tuple[str, ...]
    clients: tuple[str, ...]
    fidelity: bool


async def measure(name: str, target: Target, options: Options, figures: Figures) -> None:
    """One repeat of every measurement for one client, each in a fresh client."""
    steps = (
        ("rps_low", lambda c: load.throughput(c, options.requests, options.low)),
        ("rps_high", lambda c: load.throughput(c, options.requests, options.high)),
        ("spread", lambda c: load.burst_spread(c, target, options.burst, options.rounds)),
        ("memory", lambda c: load.peak_memory(c, options.memory_requests, options.low)),
    )
    for attribute, step in steps:
        client = CLIENTS[name](target.base_url)
        try:
            value = await step(client)
        finally:
            await client.aclose()
        if isinstance(value, list):
            value = statistics.median(value)
        getattr(figures, attribute).append(value)


def _rotated(names: tuple[str, ...], shift: int) -> Iterator[str]:
    for index in range(len(names)):
        yield names[(index + shift) % len(names)]


async def run_target(target: Target, options: Options) -> dict[str, Figures]:
    """All repeats for every client on one target."""
    results = {name: Figures() for name in options.clients}
    for repeat in range(options.repeats):
        for name in _rotated(options.clients, repeat):
            await measure(name, target, options, results[name])
    return results


def _target(name: str) -> AbstractContextManager[Target]:
    return nginx_target() if name == "nginx" else raw_target()


def versions() -> str:
    """The machine and the versions measured, as Markdown lines."""
    packages = ("httpx", "httpcore", "h11", "aiohttp", "httpx-aiohttp", "anyio")
    found = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    try:
        found += f", sniffio {metadata.version('sniffio')}"
    except metadata.PackageNotFoundError:
        found += ", no sniffio (httpcore retries importing it on every lock)"
    nginx = nginx_binary()
    nginx_version = "not installed"
    if nginx:
        out = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
        nginx_version = out.stderr.strip().removeprefix("nginx version: ")
    cpu = _cpu_model()
    return (
        f"- date: {date.today().isoformat()}\n"
        f"- machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}; {found}; nginx {nginx_version}\n"
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def table(target: str, results: dict[str, Figures], options: Options) -> str:
    """Medians of every client on one target as a Markdown table."""
    lines = [
        f"| {target} | req/s c={options.low} | req/s c={options.high} | "
        f"spread of {options.burst} (ms) | peak memory, {options.memory_requests:,} req (KiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, fig in results.items():
        lines.append(
            f"| {name} | {statistics.median(fig.rps_low):,.0f} "
            f"| {statistics.median(fig.rps_high):,.0f} "
            f"| {statistics.median(fig.spread) * 1000:,.1f} "
            f"| {statistics.median(fig.memory) / 1024:,.0f} |"
        )
    return "\n".join(lines)


def ratios(results: dict[str, Figures], top: str, bottom: str) -> str:
    """Median over repeats of top/bottom, for each figure, as one line."""
    if top not in results or bottom not in results:
        return ""
    a, b = results[top], results[bottom]

    def median_ratio(xs: list[float], ys: list[float]) -> float:
        return statistics.median(x / y for x, y in zip(xs, ys, strict=True))

    return (
        f"- {top} / {bottom}: req/s x{median_ratio(a.rps_low, b.rps_low):.2f} (low), "
        f"x{median_ratio(a.rps_high, b.rps_high):.2f} (high); "
        f"spread x{median_ratio(a.spread, b.spread):.2f}; "
        f"memory x{median_ratio([float(m) for m in a.memory], [float(m) for m in b.memory]):.2f}"
    )


async def fidelity_table() -> str:
    """The fidelity checks for both transports as a Markdown table."""
    with warnings.catch_warnings():
        # httpx deprecates verify=<path>; ScanClient still passes one, so the check does too.
        warnings.simplefilter("ignore", DeprecationWarning)
        with fidelity.servers() as servers:
            core = await fidelity.check_all("httpcore", servers)
            aio = await fidelity.check_all("aiohttp", servers)
            faithful = await fidelity.check_all("aiohttp-faithful", servers)
    lines = [
        "| check | httpcore (default) | httpx-aiohttp | aiohttp-faithful |",
        "|---|---|---|---|",
    ]
    for a, b, c in zip(core, aio, faithful, strict=True):
        lines.append(f"| {a.name} | {_cell(a)} | {_cell(b)} | {_cell(c)} |")
    return "\n".join(lines)


def _cell(check: fidelity.Check) -> str:
    detail = check.detail.replace("|", "/")
    if len(detail) > 90:
        detail = detail[:87] + "..."
    return ("ok: " if check.ok else "**LOST**: ") + detail


async def main_async(options: Options) -> None:
    """Run everything asked for and print Markdown to stdout."""
    print(versions())
    for name in options.targets:
        with _target(name) as target:
            results = await run_target(target, options)
        print(table(target.name, results, options))
        print()
        for top, bottom in (
            ("httpx + aiohttp", "httpx + httpcore"),
            ("bare asyncio socket", "httpx + httpcore"),
            ("httpx + aiohttp-faithful", "httpx + httpcore"),
            ("httpx + aiohttp-faithful", "httpx + aiohttp"),
            ("ScanClient (default)", "httpx + httpcore"),
            ("ScanClient + aiohttp-faithful", "ScanClient (default)"),
        ):
            line = ratios(results, top, bottom)
            if line:
                print(line)
        print(
            f"- spread resolution of {target.name}'s log: {target.resolution * 1000:g} ms\n",
            flush=True,
        )
    if options.fidelity:
        print(await fidelity_table())


def parser() -> argparse.ArgumentParser:
    """Command-line options of `python -m benchmarks`."""
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="repeats of every measurement")
    p.add_argument("--requests", type=int, default=2000, help="requests per throughput run")
    p.add_argument("--low", type=int, default=8, help="low concurrency")
    p.add_argument("--high", type=int, default=50, help="high concurrency")
    p.add_argument("--burst", type=int, default=100, help="simultaneous requests in a burst")
    p.add_argument("--rounds", type=int, default=5, help="bursts per spread measurement")
    p.add_argument("--memory-requests", type=int, default=1000, help="requests traced for memory")
    default_targets = "nginx,raw" if nginx_binary() else "raw"
    p.add_argument("--targets", default=default_targets, help="comma list of nginx, raw")
    p.add_argument("--clients", default=",".join(CLIENTS), help="comma list of clients")
    p.add_argument("--no-fidelity", action="store_true", help="skip the fidelity checks")
    return p


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m benchmarks`."""
    args = parser().parse_args(argv)
    options = Options(
        repeats=args.repeats,
        requests=args.requests,
        low=args.low,
        high=args.high,
        burst=args.burst,
        rounds=args.rounds,
        memory_requests=args.memory_requests,
        targets=tuple(t for t in args.targets.split(",") if t),
        clients=tuple(c.strip() for c in args.clients.split(",") if c.strip()),
        fidelity=not args.no_fidelity,
    )
    unknown = (set(options.clients) - set(CLIENTS)) | (set(options.targets) - {"nginx", "raw"})
    if unknown:
        parser().error(f"unknown clients or targets: {', '.join(sorted(unknown))}")
    asyncio.run(main_async(options))
