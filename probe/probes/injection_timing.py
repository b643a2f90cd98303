"""Time-based proof for the injection families: does the answer wait as long as it is asked to?

A family hands `prove_delay` a payload builder: `payload(n)` asks the server to wait `n` whole
seconds, and `payload(0)` is the zero-delay control in the very same syntax (so a filter or a
parser that is slow on odd characters is slow on the control too). It may also hand a decoy:
`decoy(n)` carries the same number in the same syntax but no sleep, so an endpoint that waits
by a number it picks out of the value (a long-poll `wait` "sanitised" to its digits) waits for
the decoy as well. The proof runs in steps, and each step can end it:

1. Nothing is sent (`skipped`) when `time_based` is off, when `settings.timeout` leaves no room
   for the highest level plus the margin the judge allows, when the point's unmodified answers
   all took longer than half the lowest level (no control could be fast enough), or when the
   endpoint's waiting allowance (`max_wait`) cannot cover a whole proof.
2. A screen: one request at the highest level. An answer clearly faster than that level, or
   none, ends it (`none`): a safe point costs one fast request per payload form.
3. The proof: a zero-delay control, then the decoy (its answer must be as fast as a control),
   then every level REPEATS (3) times, the screen being one at the highest level, in random
   order (a server slowing down over time cannot line up with the levels), with a zero-delay
   control after each. It stops at the first answer that already rules a proof out (too fast,
   none, a slow control, a decoy that waited).

`judge_delay` gives the verdict from the measured times alone. The allowance is charged with
the time every timed request really took (a timeout with the time it waited), so screening a
safe point costs next to nothing and a slow endpoint pays what it costs. `DelayProof.cause`
tells the family when no other payload form at the point can do better (`final`): a slow
zero-delay control or a waiting decoy says the endpoint itself is slow, or waits by the
number, for such values, and a refusal holds for every form.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from probe.exchange import Exchange
from probe.probes.injection_attack import Attack
from probe.probes.injection_rules import PROBE_ID

Verdict = Literal["proven", "tentative", "none", "skipped"]
#: Why a proof was skipped or ended early: "" (it was judged), "off" (`time_based` is false),
#: "timeout" (`settings.timeout` too short), "slow endpoint" (the unmodified answers are too
#: slow), "allowance" (`max_wait` spent), "unsendable" (the payload cannot travel at the
#: point), "slow control" (a zero-delay control was too slow or got no answer), "decoy" (the
#: number without the sleep waited too).
Cause = Literal[
    "", "off", "timeout", "slow endpoint", "allowance", "unsendable", "slow control", "decoy"
]

#: Samples taken at every level.
REPEATS = 3
#: An answer may come this much sooner than the level (clock granularity) and still follow it.
EARLY = 0.1
#: Seconds an answer at a level may take beyond the level plus the slowest control.
MARGIN = 1.0
#: Every zero-delay answer must take at most this share of the lowest level.
CONTROL_SHARE = 0.5
#: Seconds the time beyond the level may vary between answers (less for close levels).
STEADY = 0.5

#: The detail of a proof skipped because the payload cannot travel at the point.
UNSENDABLE = "the payload cannot be sent at this point"
#: Causes after which no other payload form of the same family can be proven at the point.
FINAL: frozenset[Cause] = frozenset(
    {"off", "timeout", "slow endpoint", "allowance", "slow control", "decoy"}
)
#: Causes that kept a time-based test from running although `time_based` is on.
NOT_RUN: frozenset[Cause] = frozenset({"timeout", "slow endpoint", "allowance"})
#: The role of the decoy's exchange in a finding.
DECOY_ROLE = "decoy: the same number without the sleep"

_shuffle = random.SystemRandom().shuffle


@dataclass(frozen=True)
class DelayProof:
    """What `prove_delay` found for one payload form.

    Attributes:
        verdict: "proven" (the answers followed every level, see `judge_delay`),
            "tentative" (they waited as long as asked, steadily, but longer than allowed),
            "none" (no delay, or one jitter could explain) or "skipped" (nothing was
            judged: time-based payloads off, timeout too short, endpoint too slow,
            allowance spent, or the payload cannot travel at this point).
        detail: Why, with the measured times; it does not repeat the form's label.
        exchanges: Every exchange sent, the highest-level attack first, then the other
            levels from high to low, then the zero-delay controls, then the decoy.
        roles: What each exchange is ("5 s delay", "zero-delay control"), in that order.
        cause: Why it was skipped or ended early, or "" (see `Cause`).
    """

    verdict: Verdict
    detail: str
    exchanges: tuple[Exchange, ...] = ()
    roles: tuple[str, ...] = ()
    cause: Cause = ""

    @property
    def final(self) -> bool:
        """No other payload form of the family can be proven at this point: stop trying."""
        return self.cause in FINAL

    @property
    def not_run(self) -> bool:
        """Time-based payloads are on, but this point could not be tested (say so, not pass)."""
        return self.cause in NOT_RUN


@dataclass(frozen=True)
class Judgement:
    """The verdict on a set of measured times (never "skipped").

    Attributes:
        verdict: "proven", "tentative" or "none".
        detail: Why, with the figures.
    """

    verdict: Verdict
    detail: str


@dataclass
class _Run:
    """The times and exchanges of one proof so far."""

    levels: tuple[int, ...]
    controls: list[float | None]
    samples: dict[int, list[float | None]] = field(default_factory=dict)
    sent: dict[int, list[Exchange]] = field(default_factory=dict)
    control_exchanges: list[Exchange] = field(default_factory=list)
    decoy: Exchange | None = None
    decoy_detail: str = ""

    def exchanges(self) -> tuple[Exchange, ...]:
        ordered = [e for level in sorted(self.sent, reverse=True) for e in self.sent[level]]
        decoy = () if self.decoy is None else (self.decoy,)
        return (*ordered, *self.control_exchanges, *decoy)

    def roles(self) -> tuple[str, ...]:
        """What each of `exchanges()` is, in the same order."""
        levels = [f"{level} s delay" for level in sorted(self.sent, reverse=True)]
        counts = [len(self.sent[level]) for level in sorted(self.sent, reverse=True)]
        named = [name for name, count in zip(levels, counts, strict=True) for _ in range(count)]
        decoy = () if self.decoy is None else (DECOY_ROLE,)
        return (*named, *["zero-delay control"] * len(self.control_exchanges), *decoy)

    def proof(self) -> DelayProof:
        """The verdict on what was measured."""
        if self.decoy_detail:
            return DelayProof("none", self.decoy_detail, self.exchanges(), self.roles(), "decoy")
        judged = judge_delay(self.samples, self.controls, lowest=self.levels[0])
        slow = any(ruins_proof(c, 0, self.levels[0]) for c in self.controls)
        cause: Cause = "slow control" if judged.verdict == "none" and slow else ""
        return DelayProof(judged.verdict, judged.detail, self.exchanges(), self.roles(), cause)


def needed_timeout(levels: Sequence[int]) -> float:
    """The least `settings.timeout` that lets an answer at the highest level be judged."""
    return max(levels) + min(levels) * CONTROL_SHARE + MARGIN


def proof_cost(levels: Sequence[int]) -> int:
    """Seconds of requested delay a whole proof asks for (screen included)."""
    return REPEATS * sum(levels)


def screen_passes(seconds: float | None, level: int) -> bool:
    """Whether one answer at `level` took long enough to be worth a whole proof."""
    return seconds is not None and seconds >= level - EARLY


def ruins_proof(seconds: float | None, level: int, lowest: int) -> bool:
    """Whether one answer already rules a proof out: no answer, one faster than its level, or
    (for a zero-delay control or a decoy, `level` 0) one too slow beside the lowest level."""
    if seconds is None:
        return True
    if level == 0:
        return seconds > lowest * CONTROL_SHARE
    return seconds < level - EARLY


def judge_delay(
    samples: Mapping[int, Sequence[float | None]],
    controls: Sequence[float | None],
    lowest: int | None = None,
) -> Judgement:
    """Judge answer times (seconds, None for no answer) by requested level and zero-delay.

    `lowest` is the lowest configured level (the lowest level in `samples` without it).
    Proven needs all of: two or more levels with REPEATS answers each; every zero-delay
    control answered within CONTROL_SHARE of the lowest level (slower, the endpoint's own
    latency could pass for a delay); every answer at least its level (less EARLY); the time
    beyond the level ("excess") the same for every answer within `steady_limit` (so the
    levels are ordered and apart by their difference); and no excess above the slowest
    control plus MARGIN. Tentative: all of that but the last (a steady extra wait on top of
    every delay). Anything else is none: latency that does not depend on the payload does not
    keep a steady excess over three answers at each of two levels while every control stays
    fast (`tests/probes/test_injection_timing.py` draws over a million jittery series).
    """
    figures = _figures(samples, controls)
    reason = _flaw(samples, controls, lowest)
    if reason:
        return Judgement("none", f"{reason} ({figures})")
    excess = [t - level for level, times in samples.items() for t in times if t is not None]
    spread, steady = max(excess) - min(excess), steady_limit(list(samples))
    if spread > steady:
        return Judgement(
            "none",
            f"the time beyond the delay asked varied by {spread:.2f} s between answers, more "
            f"than {steady:.2f} s ({figures})",
        )
    slowest = max(c for c in controls if c is not None)
    if max(excess) <= slowest + MARGIN:
        return Judgement("proven", f"the answers followed every requested delay ({figures})")
    return Judgement(
        "tentative",
        f"the answers waited as long as asked, steadily, but {min(excess):.2f} s or more "
        f"beyond it, while zero-delay answers took at most {slowest:.2f} s ({figures})",
    )


def steady_limit(levels: Sequence[int]) -> float:
    """How much the time beyond the delay asked may vary between answers: STEADY, or a
    quarter of the smallest step between levels when that is less (jitter must not be able
    to bridge a step)."""
    ordered = sorted(levels)
    steps = [high - low for low, high in pairwise(ordered)]
    return min([STEADY, *(step / 4 for step in steps)])


def _flaw(
    samples: Mapping[int, Sequence[float | None]],
    controls: Sequence[float | None],
    lowest: int | None,
) -> str:
    """The first reason the times cannot prove a delay, or "" (steadiness and bounds aside)."""
    if not samples:
        return "no answer at any level"
    if not controls or any(c is None for c in controls):
        return "a zero-delay control got no answer"
    low = min(samples) if lowest is None else lowest
    slowest = max(c for c in controls if c is not None)
    if slowest > low * CONTROL_SHARE:
        return (
            f"a zero-delay answer took {slowest:.2f} s, more than half the lowest delay "
            f"({low} s): a delay cannot be told from the endpoint's own latency"
        )
    for level, times in sorted(samples.items()):
        if any(t is None for t in times):
            return f"no answer in time at {level} s"
        fast = [t for t in times if t is not None and t < level - EARLY]
        if fast:
            return f"an answer at {level} s came after {fast[0]:.2f} s"
    if len(samples) < 2:
        return "fewer than two levels"
    short = [level for level, times in sorted(samples.items()) if len(times) < REPEATS]
    if short:
        return f"fewer than {REPEATS} answers at {short[0]} s"
    return ""


def _figures(
    samples: Mapping[int, Sequence[float | None]], controls: Sequence[float | None]
) -> str:
    parts = [
        f"{level} s: " + ", ".join(_seconds(t) for t in times)
        for level, times in sorted(samples.items(), reverse=True)
    ]
    known = [c for c in controls if c is not None]
    if known:
        parts.append(f"zero-delay: {min(known):.2f}-{max(known):.2f} s")
    if len(known) < len(controls):
        parts.append(f"{len(controls) - len(known)} zero-delay without answer")
    return "; ".join(parts)


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}"


async def prove_delay(
    attack: Attack,
    payload: Callable[[int], Any],
    *,
    label: str,
    wire: bool = False,
    decoy: Callable[[int], Any] | None = None,
) -> DelayProof:
    """Whether the answer at the attack's point follows the delays `payload(n)` asks for.

    `label` names the payload form in the requests' purposes ("`;sleep N`"); `wire` is passed
    to `Attack.send`. `decoy(n)`, when given, is the same value with the number `n` but no
    sleep: sent once at the highest level after a screen that waited, it must not wait.
    Honours `time_based`, `delays` and `max_wait` of the probe's options and
    `settings.timeout`. Raises `Unusable` when an answer stays a rate limit or an overload.
    """
    levels = tuple(sorted(attack.config.delays))
    top = levels[-1]
    refusal = _refusal(attack, levels)
    if refusal is not None:
        return refusal

    screen = await _timed(attack, payload(top), f"{label}, {top} s delay (screen)", wire)
    if screen is None:
        return DelayProof("skipped", UNSENDABLE, cause="unsendable")
    seconds = _elapsed(screen)
    if not screen_passes(seconds, top):
        answered = "no answer" if seconds is None else f"answered in {seconds:.2f} s"
        detail = f"asked to wait {top} s, {answered}"
        return DelayProof("none", detail, (screen,), (f"{top} s delay",))

    run = _Run(levels, [], {top: [seconds]}, {top: [screen]})
    attack.ctx.notice(
        f"{PROBE_ID}: {attack.endpoint.label}, {attack.point.label}: {label} waited {top} s; "
        f"proving with about {proof_cost(levels) - top} s more of delays"
    )
    await _prove(attack, payload, decoy, (label, wire), run)
    return run.proof()


def _refusal(attack: Attack, levels: tuple[int, ...]) -> DelayProof | None:
    """Why no proof may start (nothing is sent), or None."""
    if not attack.config.time_based:
        return DelayProof(
            "skipped", "time-based payloads are off (probes.injection.time_based)", cause="off"
        )
    timeout = attack.ctx.scenario.settings.timeout
    if timeout < needed_timeout(levels):
        detail = (
            f"settings.timeout ({timeout:g} s) leaves no room for a {max(levels)} s delay: "
            f"it needs at least {needed_timeout(levels):g} s (or lower delays)"
        )
        return DelayProof("skipped", detail, cause="timeout")
    slow = slow_baselines(attack, levels[0])
    if slow:
        return DelayProof("skipped", slow, cause="slow endpoint")
    left = attack.wait_remaining
    if left < proof_cost(levels):
        detail = (
            f"the endpoint's waiting allowance (max_wait) has {left:.0f} s left and a proof "
            f"needs {proof_cost(levels)} s"
        )
        return DelayProof("skipped", detail, cause="allowance")
    return None


def slow_baselines(attack: Attack, lowest: int) -> str:
    """Why the point's unmodified answers (all three) are too slow for any zero-delay control
    beside the `lowest` level to pass, or ""."""
    baseline = attack.baseline_
    latencies = baseline.latencies if baseline is not None else ()
    if not latencies or min(latencies) <= lowest * CONTROL_SHARE:
        return ""
    return (
        f"the point's unmodified answers took {min(latencies):.2f}-{max(latencies):.2f} s, "
        f"more than half the lowest delay ({lowest} s): a delay cannot be told from the "
        f"endpoint's own latency (higher probes.injection.delays would allow it)"
    )


async def _prove(
    attack: Attack,
    payload: Callable[[int], Any],
    decoy: Callable[[int], Any] | None,
    how: tuple[str, bool],
    run: _Run,
) -> None:
    """A control, the decoy, then the levels still owed in random order, a control after
    each; stops at the first answer that rules the proof out."""
    label, wire = how
    owed = [level for level in run.levels for _ in range(REPEATS)]
    owed.remove(run.levels[-1])
    _shuffle(owed)
    lowest = run.levels[0]
    if not await _control(attack, payload, how, run):
        return
    if decoy is not None and not await _decoy(attack, decoy, how, run):
        return
    for level in owed:
        exchange = await _timed(attack, payload(level), f"{label}, {level} s delay", wire)
        if exchange is None:
            return
        seconds = _elapsed(exchange)
        run.samples.setdefault(level, []).append(seconds)
        run.sent.setdefault(level, []).append(exchange)
        if ruins_proof(seconds, level, lowest):
            return
        if not await _control(attack, payload, how, run):
            return


async def _control(
    attack: Attack, payload: Callable[[int], Any], how: tuple[str, bool], run: _Run
) -> bool:
    """Send one zero-delay control; False when it already rules the proof out."""
    label, wire = how
    exchange = await _timed(attack, payload(0), f"{label}, zero-delay control", wire)
    if exchange is None:
        return False
    seconds = _elapsed(exchange)
    run.controls.append(seconds)
    run.control_exchanges.append(exchange)
    return not ruins_proof(seconds, 0, run.levels[0])


async def _decoy(
    attack: Attack, decoy: Callable[[int], Any], how: tuple[str, bool], run: _Run
) -> bool:
    """Send the decoy at the highest level; False (and why, in `run`) when it waited."""
    label, wire = how
    top, lowest = run.levels[-1], run.levels[0]
    value = decoy(top)
    exchange = await _timed(attack, value, f"{label}, decoy: {top} without the sleep", wire)
    if exchange is None:
        return True
    run.decoy = exchange
    seconds = _elapsed(exchange)
    if not ruins_proof(seconds, 0, lowest):
        return True
    shown = f"`{value}`" if "`" not in str(value) else repr(value)
    figures = f"the {top} s delay: {_seconds(run.samples[top][0])} s; " + _figures({}, run.controls)
    if screen_passes(seconds, top):
        why = "the endpoint waits by the number in the value, not by running the payload"
    else:
        took = "got no answer in time" if seconds is None else f"took {seconds:.2f} s"
        why = (
            f"{took}, more than half the lowest delay ({lowest} s): the wait cannot be "
            f"told from the number in the value or the endpoint's own latency"
        )
        run.decoy_detail = f"the same number without the sleep ({shown}) {why} ({figures})"
        return False
    run.decoy_detail = (
        f"the same number without the sleep ({shown}) waited {_seconds(seconds)} s too: "
        f"{why} ({figures})"
    )
    return False


def _elapsed(exchange: Exchange) -> float | None:
    return None if exchange.response is None else exchange.response.elapsed


async def _timed(attack: Attack, value: Any, purpose: str, wire: bool) -> Exchange | None:
    """Send one timed payload; None when it cannot travel at the point. A timeout is a
    measurement (the answer did not follow the level): it is not sent again. The allowance
    pays the time the request really took, a timeout's wait included."""
    started = time.monotonic()
    exchange = await attack.send(value, purpose, wire=wire, timed=True)
    if exchange is not None:
        spent = time.monotonic() - started
        attack.spend_wait(min(spent, attack.wait_remaining))
    return exchange


__all__ = [
    "DECOY_ROLE",
    "FINAL",
    "NOT_RUN",
    "UNSENDABLE",
    "Cause",
    "DelayProof",
    "Judgement",
    "judge_delay",
    "needed_timeout",
    "proof_cost",
    "prove_delay",
    "ruins_proof",
    "screen_passes",
    "slow_baselines",
]
