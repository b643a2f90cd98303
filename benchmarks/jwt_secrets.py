"""How long the jwt probe's offline weak-secret search takes when no candidate fits.

A miss is the worst case: `find_secret` computes one HMAC per bundled candidate (and per
`extra` secret). For tokens signed HS256, HS384 and HS512 with a random 64-byte secret, each
repeat times:

- **find_secret miss**: `find_secret(token)` over the whole list;
- **sha256 baseline**: a loop over the same candidates doing one plain
  `hashlib.sha256(signing_input).digest()` each, in the same process, so the ratio holds on a
  busy machine where absolute times do not.

The tables give the median over repeats of each time, the time per candidate, and the median of
the per-repeat ratios. Nothing is sent anywhere.

Run: `python -m benchmarks jwt_secrets` (`--repeats`).
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import statistics
import time
from collections.abc import Callable

from probe.probes.jwt_secrets import candidates, find_secret
from probe.probes.jwt_tokens import Jwt, parse, sign_hmac

ALGORITHMS = ("HS256", "HS384", "HS512")


def token(alg: str) -> Jwt:
    """A token no candidate signed: its secret is 64 random bytes."""
    claims = {"sub": "alice", "iat": 1_700_000_000, "exp": 1_700_003_600}
    parsed = parse(sign_hmac({"typ": "JWT"}, claims, secrets.token_bytes(64), alg))
    assert parsed is not None
    return parsed


def timed(run: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def baseline(message: bytes) -> Callable[[], object]:
    """One plain sha256 per candidate, looped the same way."""
    keys = [candidate.encode("utf-8") for candidate in candidates()]

    def run() -> object:
        last = b""
        for _key in keys:
            last = hashlib.sha256(message).digest()
        return last

    return run


def measure(alg: str, repeats: int) -> tuple[float, float, float]:
    """Median miss time, median baseline time (seconds) and median ratio for one algorithm."""
    target = token(alg)
    base = baseline(target.signing_input)
    find_secret(target)  # loads and encodes the list once, as the first token of a scan does
    misses, bases, ratios = [], [], []
    for _ in range(repeats):
        miss = timed(lambda: find_secret(target))
        plain = timed(base)
        misses.append(miss)
        bases.append(plain)
        ratios.append(miss / plain)
    return statistics.median(misses), statistics.median(bases), statistics.median(ratios)


def main(argv: list[str] | None = None) -> None:
    """Measure every algorithm and print the figures as Markdown."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks jwt_secrets")
    parser.add_argument("--repeats", type=int, default=25, help="runs per algorithm")
    args = parser.parse_args(argv)
    count = len(candidates())
    print(f"{count:,} candidates, {args.repeats} repeats, medians\n")
    print("| token | find_secret miss (ms) | per candidate (µs) | sha256 baseline (ms) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for alg in ALGORITHMS:
        miss, plain, ratio = measure(alg, args.repeats)
        per = miss / count * 1e6
        print(f"| {alg} | {miss * 1e3:.1f} | {per:.2f} | {plain * 1e3:.1f} | x{ratio:.2f} |")


if __name__ == "__main__":
    main()
