"""The time-based proof of the injection probe: the pure judge, jitter, and `prove_delay` live.

The judge is called directly, with series drawn at random from jittery latency (uniform,
exponential, log-normal and two-mode distributions that put their slow answers right over the
levels): none may come out proven or tentative. `prove_delay` itself runs against a real route
that waits exactly the seconds asked (`/wait?s=N`, no shell), in one scan of about 20 s.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.probes.base import ProbeContext
from probe.probes.injection_attack import Attack
from probe.probes.injection_points import points
from probe.probes.injection_timing import (
    CONTROL_SHARE,
    DECOY_ROLE,
    EARLY,
    MARGIN,
    REPEATS,
    DelayProof,
    judge_delay,
    needed_timeout,
    proof_cost,
    prove_delay,
    ruins_proof,
    screen_passes,
    steady_limit,
)
from probe.scenario.probe_configs import InjectionConfig
from tests.probes.apps_injection_command import command_app
from tests.scan import run_scan, scenario
from tests.servers import serve_wsgi

Times = dict[int, list[float | None]]


def honest(levels: list[int], base: float = 0.02) -> Times:
    """Answers that wait exactly as asked, plus a small steady latency."""
    return {level: [level + base] * REPEATS for level in levels}


# -- the judge ---------------------------------------------------------------------------------


def test_answers_that_follow_both_levels_are_proven() -> None:
    judged = judge_delay(honest([2, 5]), [0.01, 0.02, 0.01])
    assert judged.verdict == "proven"
    assert "5 s: 5.02, 5.02, 5.02; 2 s: 2.02, 2.02, 2.02" in judged.detail


def test_an_answer_faster_than_its_level_is_no_delay() -> None:
    times = honest([2, 5])
    times[2][1] = 1.5
    judged = judge_delay(times, [0.01])
    assert judged.verdict == "none"
    assert "an answer at 2 s came after 1.50 s" in judged.detail


def test_no_answer_at_a_level_is_no_delay() -> None:
    times = honest([2, 5])
    times[5][2] = None
    assert judge_delay(times, [0.01]).verdict == "none"


def test_a_slow_zero_delay_control_is_no_delay() -> None:
    judged = judge_delay(honest([2, 5]), [0.01, 1.2])
    assert judged.verdict == "none"
    assert "a zero-delay answer took 1.20 s, more than half the lowest delay (2 s)" in (
        judged.detail
    )


def test_a_slow_control_after_the_screen_names_the_configured_lowest_delay() -> None:
    # Only the screen (at 5 s) was answered before the slow control: the bound is the
    # lowest configured delay's half, not the screen's.
    judged = judge_delay({5: [6.05]}, [6.04], lowest=2)
    assert judged.verdict == "none"
    assert "more than half the lowest delay (2 s)" in judged.detail
    assert "(5 s)" not in judged.detail


def test_a_missing_control_answer_is_no_delay() -> None:
    assert judge_delay(honest([2, 5]), [0.01, None]).verdict == "none"
    assert judge_delay(honest([2, 5]), []).verdict == "none"


def test_one_level_or_too_few_repeats_is_no_delay() -> None:
    assert judge_delay({5: [5.0] * REPEATS}, [0.0]).verdict == "none"
    times = honest([2, 5])
    times[2].pop()
    judged = judge_delay(times, [0.0])
    assert judged.verdict == "none"
    assert f"fewer than {REPEATS} answers at 2 s" in judged.detail


def test_a_delay_that_doubles_the_level_is_no_delay() -> None:
    # A command run twice: each answer waits twice the level, so the excess is not steady.
    times: Times = {level: [2.0 * level] * REPEATS for level in (2, 5)}
    judged = judge_delay(times, [0.01])
    assert judged.verdict == "none"
    assert "varied by 3.00 s" in judged.detail


def test_scattered_answers_above_every_level_are_no_delay() -> None:
    times: Times = {2: [2.1, 2.9, 2.4], 5: [5.0, 5.6, 5.2]}
    assert judge_delay(times, [0.01]).verdict == "none"


def test_a_steady_extra_wait_beyond_the_margin_is_tentative() -> None:
    judged = judge_delay(honest([2, 5], base=1.4), [0.02, 0.03])
    assert judged.verdict == "tentative"
    assert "1.40 s or more beyond it" in judged.detail


def test_close_levels_allow_less_scatter() -> None:
    assert steady_limit([2, 5]) == 0.5
    assert steady_limit([1, 2]) == 0.25
    assert steady_limit([1, 2, 8]) == 0.25


def test_screen_and_early_stop_rules() -> None:
    assert screen_passes(4.95, 5)
    assert not screen_passes(4.5, 5)
    assert not screen_passes(None, 5)
    assert ruins_proof(None, 2, 2)
    assert ruins_proof(1.5, 2, 2)
    assert not ruins_proof(2.3, 2, 2)
    assert ruins_proof(1.01, 0, 2)
    assert not ruins_proof(0.9, 0, 2)


def test_costs_of_a_proof() -> None:
    assert proof_cost([2, 5]) == REPEATS * 7
    assert needed_timeout([2, 5]) == 5 + 2 * CONTROL_SHARE + MARGIN
    assert needed_timeout([1, 2]) <= 5  # the tests' scenarios time out after 5 s


_levels = st.lists(st.integers(1, 10), min_size=2, max_size=3, unique=True).map(sorted)


@given(
    levels=_levels,
    base_share=st.floats(0, 0.2),
    noise=st.lists(st.floats(0, 0.9), min_size=9, max_size=9),
    control_noise=st.lists(st.floats(0, 0.2), min_size=1, max_size=8),
)
def test_a_real_delay_with_a_little_noise_is_proven(
    levels: list[int], base_share: float, noise: list[float], control_noise: list[float]
) -> None:
    lowest, steady = levels[0], steady_limit(levels)
    base = base_share * lowest
    shifts = iter(noise)
    times: Times = {
        level: [level + base + next(shifts) * steady for _ in range(REPEATS)] for level in levels
    }
    controls: list[float | None] = [base + c * lowest for c in control_noise]
    assert judge_delay(times, controls).verdict == "proven"


@given(
    levels=_levels,
    times=st.lists(st.floats(0, 20), min_size=9, max_size=9),
    controls=st.lists(st.one_of(st.none(), st.floats(0, 5)), max_size=8),
    early=st.floats(EARLY + 0.001, 10),
)
def test_one_answer_sooner_than_its_level_never_proves(
    levels: list[int],
    times: list[float],
    controls: list[float | None],
    early: float,
) -> None:
    drawn = iter(times)
    series: Times = {level: [next(drawn) for _ in range(REPEATS)] for level in levels}
    series[levels[0]][0] = max(0.0, levels[0] - early)
    judged = judge_delay(series, controls)
    assert judged.verdict == "none"
    assert judged.detail


# -- jitter ------------------------------------------------------------------------------------

Draw = Callable[[random.Random], float]
#: Series drawn per distribution and levels (about 1.4 million in all, 3 s).
DRAWS = 60_000


def _two_modes(fast: float, low: float, high: float) -> Draw:
    """Mostly fast answers; the rest anywhere in [low, high]."""
    return lambda rng: rng.uniform(0, 0.05) if rng.random() < fast else rng.uniform(low, high)


JITTER: dict[str, Draw] = {
    "uniform 0-3 s": lambda rng: rng.uniform(0, 3),
    "exponential, mean 0.6 s": lambda rng: rng.expovariate(1 / 0.6),
    "log-normal": lambda rng: rng.lognormvariate(-1.5, 1.2),
    "80% fast, 20% 0.5-4 s": _two_modes(0.8, 0.5, 4),
    "50% fast, 50% 0.9-2.6 s": _two_modes(0.5, 0.9, 2.6),
    "50% fast, 50% 1.9-3.5 s": _two_modes(0.5, 1.9, 3.5),
}


@pytest.mark.parametrize("levels", [[1, 2], [2, 5], [2, 3], [1, 3]], ids=str)
@pytest.mark.parametrize("name", list(JITTER))
def test_random_jitter_never_follows_the_levels(name: str, levels: list[int]) -> None:
    # As prove_delay measures: a screen at the highest level, then the rest of the levels
    # and a control around each, all from the same latency that ignores the payload.
    draw, rng = JITTER[name], random.Random(f"{name}{levels}")
    screened = 0
    for _ in range(DRAWS):
        first = draw(rng)
        if not screen_passes(first, levels[-1]):
            continue
        screened += 1
        times: Times = {level: [draw(rng) for _ in range(REPEATS)] for level in levels}
        times[levels[-1]][0] = first
        controls: list[float | None] = [draw(rng) for _ in range(REPEATS * len(levels))]
        assert judge_delay(times, controls).verdict == "none", (times, controls)
    if levels[-1] > 4:
        assert screened < DRAWS // 10  # jitter seldom reaches 5 s: the screen ends it


# -- prove_delay against a real route ----------------------------------------------------------


@pytest.fixture(scope="module")
def proofs() -> dict[str, Any]:
    """Several proofs in one scan of /wait (waits `s` seconds) with delays 1 and 2."""
    results: dict[str, Any] = {}

    async def script(ctx: ProbeContext) -> None:
        endpoint, header = ctx.scenario.endpoints

        def attack(config: InjectionConfig, at: Any = endpoint) -> Attack:
            return Attack(ctx, at, points(at)[0], config, ctx.marker, [60.0])

        timed = InjectionConfig(time_based=True, delays=[1, 2])
        honest = attack(timed)
        results["honest"] = await prove_delay(honest, str, label="wait N")
        results["honest_left"] = honest.wait_left[0]
        still = attack(timed)
        results["still"] = await prove_delay(still, lambda n: "0", label="no wait")
        results["still_left"] = still.wait_left[0]
        results["off"] = await prove_delay(attack(InjectionConfig()), str, label="off")
        results["header"] = await prove_delay(
            attack(timed, header), lambda n: f"a\nsleep {n}", label="newline"
        )
        # The decoy asks for the same number: on /wait, it waits just as well.
        fooled = attack(timed)
        results["decoy"] = await prove_delay(fooled, str, label="wait N", decoy=str)
        results["decoy_left"] = fooled.wait_left[0]
        # A decoy that does not wait leaves the proof as it was.
        results["still_decoy"] = await prove_delay(
            attack(timed), str, label="wait N", decoy=lambda n: "0"
        )
        spent = attack(timed)
        spent.wait_left[0] = 8.0
        results["spent"] = await prove_delay(spent, str, label="wait N")

    with serve_wsgi(command_app()) as url:
        scn = scenario(
            url,
            [
                {"name": "wait", "path": "/wait", "query": {"s": "0"}, "inject": ["s"]},
                {"name": "head", "path": "/wait", "headers": {"X-S": "0"}, "inject": ["X-S"]},
            ],
        )
        run_scan(scn, script)
    return results


def test_a_route_that_waits_as_asked_is_proven(proofs: dict[str, Any]) -> None:
    proof: DelayProof = proofs["honest"]
    assert proof.verdict == "proven", proof.detail
    urls = [e.request.url for e in proof.exchanges]
    # Highest level first, then the lower one, then the controls.
    assert [u.rsplit("=", 1)[1] for u in urls] == ["2"] * 3 + ["1"] * 3 + ["0"] * 6
    assert "(screen)" in proof.exchanges[0].purpose
    assert proof.cause == ""
    assert not proof.final
    # The allowance paid the time every request really took: the delays and a little more.
    spent = 60 - proofs["honest_left"]
    assert proof_cost([1, 2]) <= spent < proof_cost([1, 2]) + 1.5


def test_a_decoy_that_waits_as_long_ends_the_proof(proofs: dict[str, Any]) -> None:
    proof: DelayProof = proofs["decoy"]
    assert proof.verdict == "none"
    assert proof.cause == "decoy"
    assert proof.final
    assert "the same number without the sleep (`2`) waited 2.0" in proof.detail
    assert "waits by the number in the value" in proof.detail
    # The screen, one control, the decoy: nothing more.
    assert proof.roles == ("2 s delay", "zero-delay control", DECOY_ROLE)
    assert 60 - proofs["decoy_left"] < 5


def test_a_decoy_that_does_not_wait_is_shown_beside_the_proof(proofs: dict[str, Any]) -> None:
    proof: DelayProof = proofs["still_decoy"]
    assert proof.verdict == "proven", proof.detail
    assert proof.roles[-1] == DECOY_ROLE
    assert proof.exchanges[-1].request.url.endswith("s=0")


def test_a_spent_allowance_is_a_test_not_run(proofs: dict[str, Any]) -> None:
    proof: DelayProof = proofs["spent"]
    assert proof.verdict == "skipped"
    assert proof.not_run
    assert proof.final
    assert "has 8 s left and a proof needs 9 s" in proof.detail


def test_a_route_that_does_not_wait_costs_one_request(proofs: dict[str, Any]) -> None:
    proof: DelayProof = proofs["still"]
    assert proof.verdict == "none"
    assert len(proof.exchanges) == 1
    assert proof.detail.startswith("asked to wait 2 s, answered in 0.")
    assert proofs["still_left"] > 59.5


def test_time_based_off_sends_nothing(proofs: dict[str, Any]) -> None:
    proof: DelayProof = proofs["off"]
    assert proof.verdict == "skipped"
    assert proof.exchanges == ()
    assert "probes.injection.time_based" in proof.detail
    assert proof.final
    assert not proof.not_run


def test_a_payload_that_cannot_travel_is_skipped(proofs: dict[str, Any]) -> None:
    proof: DelayProof = proofs["header"]
    assert proof.verdict == "skipped"
    assert proof.detail == "the payload cannot be sent at this point"
    assert proof.cause == "unsendable"
    assert not proof.final
