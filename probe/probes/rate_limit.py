"""The rate_limit probe: does the API really limit bursts, and can the limit be got around?

Runs alone, after every other probe, and only on endpoints that opt in with `burst`; one
endpoint at a time, each request as the endpoint's identity. Per endpoint:

1. a freshness check: the endpoint's request once; when it is already limited (by the scan's
   earlier requests), the probe waits for the window to reset first;
2. path variants (trailing slash, letter case, doubled slash, an added query parameter), one
   request each, kept only when they answer like the original;
3. the burst: `burst` copies released together by last-byte synchronisation (`ProbeContext.burst`);
4. when limited: the bypass attempts (five spoofed client-address headers, the kept variants),
   two rounds of two requests released together, each confirmed by the original being
   limited again;
5. a wait for the window to reset (the announced wait capped by `reset_wait_cap`, then polling);
6. a run of one request at a time up to the first limit answer; when the burst admitted clearly
   more, another wait and a second burst to confirm; a last wait, so nothing after the scan
   finds the endpoint limited.

The requests around the burst are sent by `rate_limit_steps`; checks and findings are
written by `rate_limit_verdicts`; the judging is pure functions in `rate_limit_judges` and
`rate_limit_headers` (with `rate_limit_fields` and `rate_limit_values`); the rules are in
`rate_limit_rules`. Checks per endpoint: burst, limit-info, bypass, concurrency, reset; one
target-wide skipped check names the endpoints without a burst opt-in. A request the engine
refuses (budget, scope) turns the endpoint's remaining checks into `error` with the reason.
"""

from __future__ import annotations

from probe.burst import Burst
from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes.base import Probe, ProbeContext
from probe.probes.rate_limit_judges import (
    LIMIT_STATUS,
    BurstVerdict,
    Outcome,
    Reference,
    exceeds,
    judge_burst,
    limit_kind,
    margin,
)
from probe.probes.rate_limit_rules import PROBE_ID, RULES
from probe.probes.rate_limit_steps import (
    Refused,
    Reset,
    Subject,
    Variant,
    path_candidates,
    send,
    sequential_run,
    try_bypasses,
    variant_specs,
    wait_for_reset,
)
from probe.probes.rate_limit_verdicts import CHECKS, EndpointReport
from probe.scenario.models import Endpoint, RateLimitConfig, Scenario

# The names other modules import from here, defined here or re-exported.
__all__ = ["CHECKS", "RateLimitProbe"]

# The reference before any answer is known: only a 429 counts as a limit answer against it.
_UNKNOWN = Reference(0, "", None)


class RateLimitProbe(Probe):
    """Bursts on the endpoints that opt in: enforcement, announcement, bypasses, races."""

    id = PROBE_ID
    title = "Rate limiting under bursts"
    rules = RULES
    runs_last = True

    def plan(self, scenario: Scenario) -> list[str]:
        """What `run` would send, one line per endpoint with a burst opt-in."""
        config = _config(scenario.probes.rate_limit)
        lines: list[str] = []
        for endpoint in scenario.endpoints:
            if not endpoint.burst:
                continue
            url = scenario.target.base_url + endpoint.rendered_path
            line = f"{self.id}: {endpoint.burst} x {endpoint.method} {url} released together"
            if config.try_bypass:
                line += "; once limited, 5 spoofed-address headers and up to 4 path variants"
            if config.compare_sequential:
                line += f"; a sequential run of at most {config.sequential_max or endpoint.burst}"
            lines.append(f"{line}; waits of at most {config.reset_wait_cap:g} s each")
        if not lines:
            lines.append(f"{self.id}: no endpoint opts in with `burst`; nothing is sent")
        return lines

    async def run(self, ctx: ProbeContext) -> None:
        """Burst each opted-in endpoint in turn (never two at once: they would share a limit)."""
        config = _config(ctx.config(self.id))
        others = [e.label for e in ctx.scenario.endpoints if not e.burst]
        if others:
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            ctx.check(
                self.id,
                "burst",
                None,
                CheckStatus.skipped,
                f"{len(others)} endpoint(s) without a `burst` opt-in were not burst: {shown}",
            )
        for endpoint in ctx.scenario.endpoints:
            if endpoint.burst:
                await _EndpointRun(ctx, endpoint, config).run()


def _config(value: object) -> RateLimitConfig:
    return value if isinstance(value, RateLimitConfig) else RateLimitConfig()


class _EndpointRun:
    """The steps of one endpoint; `out` records its checks and findings."""

    def __init__(self, ctx: ProbeContext, endpoint: Endpoint, config: RateLimitConfig) -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        self.config = config
        self.burst_size = endpoint.burst or 0
        self.out = EndpointReport(ctx, endpoint)

    async def run(self) -> None:
        """All steps; a refused request turns what is left into `error`."""
        try:
            await self._steps()
        except Refused as refused:
            self.out.rest(CheckStatus.error, f"stopped: {refused}")

    async def _steps(self) -> None:
        subject = await self._subject()
        if subject is None:
            return
        variants: list[Variant] = []
        untried = 0
        if self.config.try_bypass:
            variants = await path_candidates(self.ctx, subject)
            tried = len(variant_specs(self.ctx, self.endpoint))
            self.out.pre_requests += tried
            untried = tried - len(variants)
        burst = await self._burst(subject, "burst")
        if burst is None:
            return
        verdict = judge_burst(burst.shots, subject.reference)
        self.out.headers(verdict)
        if verdict.outcome is not Outcome.limited:
            self.out.not_limited(verdict, burst)
            return
        subject.kind = verdict.kind or subject.kind
        self.out.limited(subject.reference, verdict, burst)
        if self.config.try_bypass:
            self.out.bypasses(await try_bypasses(self.ctx, subject, variants), untried)
        else:
            self.out.check("bypass", CheckStatus.skipped, "try_bypass is off")
        reset = await wait_for_reset(self.ctx, subject, verdict.limits[-1])
        if reset.reset and self.config.compare_sequential:
            reset = await self._concurrency(subject, verdict, reset)
        else:
            why = "compare_sequential is off" if reset.reset else "the window did not reset"
            self.out.check("concurrency", CheckStatus.skipped, why)
        self.out.reset(reset, self.config.reset_wait_cap)

    async def _subject(self) -> Subject | None:
        """The endpoint's request and normal answer, after a freshness check; None when there
        is nothing to compare with.

        The normal answer is the engine's baseline, or the fresh answer when the baseline is
        missing or was a 429 or a server error itself. An endpoint whose normal answer is a
        server error is not burst: its answers would say nothing about a limiter.
        """
        baseline = self.ctx.baseline(self.endpoint)
        normal = baseline.response if baseline is not None else None
        trusted = normal is not None and normal.status != LIMIT_STATUS and normal.status < 500
        reference = Reference.of(normal) if normal is not None and trusted else _UNKNOWN
        spec = self.ctx.endpoint_request(self.endpoint)
        subject = Subject(self.endpoint, spec, reference, self.config.reset_wait_cap)
        fresh = await self._fresh(subject, trusted)
        if fresh is None:
            return None
        if not trusted:
            if fresh.response is None:
                why = f"no normal answer to compare with ({fresh.error})"
                self.out.rest(CheckStatus.error, why)
                return None
            subject.reference = Reference.of(fresh.response)
        if subject.reference.status >= 500:
            why = f"the endpoint's normal answer is {subject.reference.status}: no burst sent"
            self.out.rest(CheckStatus.skipped, why)
            return None
        return subject

    async def _fresh(self, subject: Subject, trusted: bool) -> Exchange | None:
        """The endpoint's request once; when the answer is a limit (the scan's earlier requests
        used the window up), wait for the reset. None when it did not reset in time."""
        fresh = await send(self.ctx, subject, subject.spec, "fresh-check")
        self.out.pre_requests += 1
        if fresh.response is None:
            return fresh
        kind = limit_kind(fresh.response, subject.reference)
        if fresh.response.status != LIMIT_STATUS and not trusted:
            kind = None  # without a normal answer, only a 429 is known to be a limit
        if kind is None:
            return fresh
        subject.kind = kind
        reset = await wait_for_reset(self.ctx, subject, fresh)
        subject.kind = str(LIMIT_STATUS)
        self.out.pre_requests += reset.polls
        said = f"{kind} just before the burst; {reset.describe(subject.cap)}"
        if reset.admitted is None:
            self.out.rest(CheckStatus.error, said)
            return None
        self.out.before.append(said)
        return reset.admitted

    async def _burst(self, subject: Subject, purpose: str) -> Burst | None:
        """The endpoint's burst; None (and `error` checks) when the engine refused it."""
        burst = await self.ctx.burst(
            subject.spec,
            self.burst_size,
            probe=PROBE_ID,
            purpose=purpose,
            endpoint=self.endpoint,
            identity=self.endpoint.identity,
        )
        if burst.error:
            what = "burst" if purpose == "burst" else "repeat burst"
            self.out.rest(CheckStatus.error, f"{what} not sent: {burst.error}")
            return None
        return burst

    async def _concurrency(self, subject: Subject, verdict: BurstVerdict, reset: Reset) -> Reset:
        """The sequential run, and a repeat burst when the first admitted clearly more; returns
        the last wait for the window."""
        most = self.config.sequential_max or self.burst_size
        run = await sequential_run(self.ctx, subject, reset.admitted, most)
        if run.error:
            self.out.check("concurrency", CheckStatus.error, f"sequential run: {run.error}")
            return reset
        if run.limit is None:
            said = (
                f"one request at a time, {run.admitted} were admitted without a limit answer; "
                f"the burst admitted {verdict.admitted}: no sign of a race"
            )
            self.out.check("concurrency", CheckStatus.passed, said)
            return reset
        reset = await wait_for_reset(self.ctx, subject, run.limit)
        figures = f"burst {verdict.admitted} admitted, sequential limit {run.admitted}"
        if not exceeds(verdict.admitted, run.admitted):
            needed = run.admitted + margin(run.admitted)
            said = f"{figures} (a race needs more than {needed})"
            self.out.check("concurrency", CheckStatus.passed, said)
            return reset
        if not reset.reset:
            self.out.check("concurrency", CheckStatus.skipped, f"{figures}; no reset to repeat")
            return reset
        again = await self._burst(subject, "burst-repeat")
        if again is None:
            return reset
        repeat = judge_burst(again.shots, subject.reference)
        if repeat.limits:
            reset = await wait_for_reset(self.ctx, subject, repeat.limits[-1])
        self.out.race(verdict, repeat, run.admitted, run.limit)
        return reset
