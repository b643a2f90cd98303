"""The access probe's timing judge for logins: whether the answer times for a known user with a
wrong password and for an unknown user show a consistent gap (CWE-208), see `judge_timing`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: Fewer answer times per side than this give no timing verdict (2 + timing_samples of 5).
MIN_TIMING_SAMPLES = 7
#: The least gap between the slowest answer of the fast side and the fastest of the slow one.
MIN_GAP = 0.050
#: The gap must also be this many times the spread (max - min) within either side.
SPREAD_FACTOR = 2.0


@dataclass(frozen=True)
class TimingVerdict:
    """Whether the answer times of the two sides show a consistent gap.

    Attributes:
        gap: True when they do (see `judge_timing`).
        slower: "known" or "unknown": the side whose answers were all slower, or None.
        detail: The figures.
    """

    gap: bool
    slower: str | None
    detail: str


def _ms(values: Sequence[float]) -> str:
    return "/".join(f"{v * 1000:.0f}" for v in values)


def judge_timing(known: Sequence[float], unknown: Sequence[float]) -> TimingVerdict:
    """The slowest time of each side is set aside (network and scheduling noise only ever add
    time, and one hiccup must not hide a real gap). A consistent gap then needs all of: every
    time of one side above every time of the other; the clear gap (fastest of the slow side
    minus slowest of the fast side) at least MIN_GAP; and that gap at least SPREAD_FACTOR
    times the spread within either side. Fewer than MIN_TIMING_SAMPLES times a side give no
    gap.

    With seven samples a side (the default) of one random delay for both sides, simulations
    of uniform (0-0.3 s and 0-3 s), exponential and log-normal delays found a false gap in at
    most 3 of 200 000 tries. A delay that is at random either short or long (two modes, half
    and half) can still fool it about once in 1000: the odds of one side drawing only long
    ones.
    A real difference of work (a password hash computed for existing users only) is a step
    of constant size with little scatter, and passes all three.
    """
    figures = (
        f"known user {_ms(known)} ms (median {statistics.median(known) * 1000:.0f}), "
        f"unknown user {_ms(unknown)} ms (median {statistics.median(unknown) * 1000:.0f})"
    )
    if min(len(known), len(unknown)) < MIN_TIMING_SAMPLES:
        return TimingVerdict(False, None, f"{figures}: too few to judge")
    kept = {"known": sorted(known)[:-1], "unknown": sorted(unknown)[:-1]}
    if min(kept["known"]) > max(kept["unknown"]):
        slower, faster = "known", "unknown"
    elif min(kept["unknown"]) > max(kept["known"]):
        slower, faster = "unknown", "known"
    else:
        return TimingVerdict(False, None, f"{figures}: the two sides overlap")
    slow, fast = kept[slower], kept[faster]
    gap = min(slow) - max(fast)
    spread = max(max(slow) - min(slow), max(fast) - min(fast))
    if gap < MIN_GAP:
        said = f"{figures}: the {slower} user is slower by only {gap * 1000:.0f} ms"
        return TimingVerdict(False, slower, said)
    if gap < SPREAD_FACTOR * spread:
        said = (
            f"{figures}: a gap of {gap * 1000:.0f} ms is within twice the scatter of one "
            f"side ({spread * 1000:.0f} ms)"
        )
        return TimingVerdict(False, slower, said)
    said = (
        f"{figures}: leaving out the slowest of each side, every {slower}-user answer was "
        f"slower, by at least {gap * 1000:.0f} ms (scatter within a side at most "
        f"{spread * 1000:.0f} ms)"
    )
    return TimingVerdict(True, slower, said)
