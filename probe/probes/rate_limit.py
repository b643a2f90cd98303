"""The rate_limit probe: does the API really limit bursts, and can the limit be got around?

Runs alone, after every other probe, and only on endpoints that opt in with `burst`; one
endpoint at a time, each request as the endpoint's identity. Per endpoint:

1. a freshness check: the endpoint's request once; when it is already limited (by the scan's
   earlier requests), the probe waits for the window to reset first. An endpoint whose normal
   answer is a server error, or 403, 404, 405 or 410 (it refuses everyone), gets no burst;
2. path variants, one request each, kept only when they answer like the original: for GET,
   HEAD and OPTIONS the trailing slash, letter case, doubled slash and an added query
   parameter; for POST only the trailing slash and the query parameter; for other methods
   none (an unsafe request never goes to what may be another resource);
3. the burst: `burst` copies released together by last-byte synchronisation (`ProbeContext.burst`);
4. when limited: the bypass attempts (five spoofed client-address headers, the kept variants),
   two rounds of two requests released together (one when `burst` is 1), each confirmed by
   the original being limited again;
5. a wait for the window to reset (the announced wait capped by `reset_wait_cap`, then polling);
6. a run of one request at a time up to the first limit answer (also after a burst that met
   no limit, after which it waits for a reset and runs again from a fresh window); when the
   burst admitted clearly more, another wait and a second burst to confirm; a last wait, so
   nothing after the scan finds the endpoint limited. At most four waits in all.

The requests around the burst are sent by `rate_limit_steps` and `rate_limit_bypass`; checks
and findings are written by `rate_limit_verdicts` (words in `rate_limit_details`); the judging
is pure functions in `rate_limit_judges`, `rate_limit_variants` and `rate_limit_headers` (with
`rate_limit_fields` and `rate_limit_values`); the rules are in `rate_limit_rules`. Checks per
endpoint: burst, limit-info, bypass, concurrency, reset; one target-wide skipped check names
the endpoints without a burst opt-in. A request the engine refuses (budget, scope) turns the
endpoint's remaining checks into `error` with the reason.
"""

from __future__ import annotations

import anyio

from probe.burst import Burst
from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes.base import Probe, ProbeContext
from probe.probes.rate_limit_bypass import Candidates, path_candidates, try_bypasses
from probe.probes.rate_limit_judges import (
    LIMIT_STATUS,
    BurstVerdict,
    Outcome,
    Reference,
    exceeds,
    in_flight_only,
    judge_burst,
    limit_kind,
    margin,
)
from probe.probes.rate_limit_rules import PROBE_ID, RULES
from probe.probes.rate_limit_steps import (
    Refused,
    Reset,
    Sequential,
    Subject,
    send,
    sequential_run,
    settle_window,
    wait_for_reset,
)
from probe.probes.rate_limit_variants import QUERY_VARIANT, path_variants, variant_allowed
from probe.probes.rate_limit_verdicts import CHECKS, EndpointReport
from probe.scenario.models import Endpoint, RateLimitConfig, Scenario

# The names other modules import from here, defined here or re-exported.
__all__ = ["CHECKS", "RateLimitProbe"]

# The reference before any answer is known: only a 429 counts as a limit answer against it.
_UNKNOWN = Reference(0, "", None)
# Normal answers that refuse everyone: there is nothing to limit, so no burst is sent.
_REFUSING = frozenset({403, 404, 405, 410})
_MAX_WAITS = 4


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
            if endpoint.burst:
                lines.append(self._plan_line(scenario, endpoint, config))
        if not lines:
            lines.append(f"{self.id}: no endpoint opts in with `burst`; nothing is sent")
        return lines

    def _plan_line(self, scenario: Scenario, endpoint: Endpoint, config: RateLimitConfig) -> str:
        url = scenario.target.base_url + endpoint.rendered_path
        line = f"{self.id}: {endpoint.burst} x {endpoint.method} {url} released together"
        line += "; before the burst: 1 freshness request"
        if config.try_bypass:
            path = endpoint.rendered_path.split("?")[0] or "/"
            count = len(path_variants(path, endpoint.method))
            count += variant_allowed(endpoint.method, QUERY_VARIANT)
            if count:
                line += f" and up to {count} path variant(s)"
            line += "; once limited, bypass attempts with 5 spoofed-address headers"
            if count:
                line += " and the path variants that answered like the original"
        if config.compare_sequential:
            most = config.sequential_max or endpoint.burst
            line += f"; sequential runs of at most {most} and possibly a repeat burst"
        return (
            f"{line}; up to {_MAX_WAITS} waits of at most {config.reset_wait_cap:g} s "
            "(+ one request timeout) each"
        )

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
        self.most = config.sequential_max or self.burst_size
        self.out = EndpointReport(ctx, endpoint)

    async def run(self) -> None:
        """All steps; a refused request turns what is left into `error`."""
        try:
            await self._steps()
        except Refused as refused:
            self.out.settle()
            self.out.rest(CheckStatus.error, f"stopped: {refused}")
        finally:
            self.out.finish()

    async def _steps(self) -> None:
        subject = await self._subject()
        if subject is None:
            return
        candidates = Candidates((), 0, ())
        if self.config.try_bypass:
            candidates = await path_candidates(self.ctx, subject)
            self.out.before.sent["path variant"] += candidates.sent
            self.out.before.admitted += candidates.admitted
        self.out.recent = self.out.before.recent(anyio.current_time())
        burst = await self._burst(subject, "burst")
        if burst is None:
            return
        verdict = judge_burst(burst.shots, subject.reference)
        self.out.headers(verdict)
        if verdict.outcome is Outcome.limited:
            await self._limited(subject, verdict, burst, candidates)
        elif verdict.outcome is Outcome.not_limited and self.config.compare_sequential:
            await self._unlimited(subject, verdict, burst)
        else:
            self.out.not_limited(verdict, burst, subject.reference)

    async def _subject(self) -> Subject | None:
        """The endpoint's request and normal answer, after a freshness check; None when there
        is nothing to compare with, or nothing to limit.

        The normal answer is the engine's baseline, or the fresh answer when the baseline is
        missing or was a 429 or a server error itself. An endpoint whose normal answer is a
        server error is not burst (its answers would say nothing about a limiter), nor one
        whose normal answer refuses everyone (403, 404, 405, 410). A 401 is burst: a login
        that refuses a wrong password is what a limit must protect.
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
        elif fresh.response is not None:
            subject.reference = subject.reference.seen_again(fresh.response)
        status = subject.reference.status
        if status >= 500:
            why = f"the endpoint's normal answer is {status} (a server error): no burst sent"
            self.out.rest(CheckStatus.skipped, why)
            return None
        if status in _REFUSING:
            why = f"the endpoint's normal answer is {status}: nothing to limit; no burst sent"
            self.out.rest(CheckStatus.skipped, why)
            return None
        return subject

    async def _fresh(self, subject: Subject, trusted: bool) -> Exchange | None:
        """The endpoint's request once; when the answer is a limit (the scan's earlier requests
        used the window up), wait for the reset. None when it did not reset in time."""
        fresh = await send(self.ctx, subject, subject.spec, "fresh-check")
        self.out.before.sent["freshness check"] += 1
        if fresh.response is None:
            return fresh
        kind = limit_kind(fresh.response, subject.reference)
        if fresh.response.status != LIMIT_STATUS and not trusted:
            kind = None  # without a normal answer, only a 429 is known to be a limit
        if kind is None:
            self.out.before.admitted.append(anyio.current_time())
            return fresh
        subject.kind = kind
        reset = await wait_for_reset(self.ctx, subject, fresh)
        subject.kind = None
        self.out.before.sent["reset poll"] += reset.polls
        said = f"{kind} just before the burst; {reset.describe(subject.cap)}"
        if reset.admitted is None:
            self.out.rest(CheckStatus.error, said)
            return None
        self.out.before.admitted.append(anyio.current_time())
        self.out.before.notes.append(said)
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

    async def _limited(
        self, subject: Subject, verdict: BurstVerdict, burst: Burst, candidates: Candidates
    ) -> None:
        """A limited burst: bypass attempts, the reset, the sequential run; then its findings
        (held until the sequential run says whether the limit holds over time)."""
        subject.kind = verdict.kind or subject.kind
        self.out.hold(subject.reference, verdict, burst)
        if self.config.try_bypass:
            bypasses = await try_bypasses(self.ctx, subject, candidates.kept)
            self.out.bypasses(bypasses, candidates.sent - len(candidates.kept))
        else:
            self.out.check("bypass", CheckStatus.skipped, "try_bypass is off")
        reset = await wait_for_reset(self.ctx, subject, verdict.limits[-1])
        if reset.reset and self.config.compare_sequential:
            run = await sequential_run(self.ctx, subject, reset.admitted, self.most)
            reset = await self._concurrency(subject, verdict, run, reset)
        else:
            why = "compare_sequential is off" if reset.reset else "the window did not reset"
            self.out.check("concurrency", CheckStatus.skipped, why)
        self.out.settle()
        self.out.reset(reset, self.config.reset_wait_cap)

    async def _unlimited(self, subject: Subject, verdict: BurstVerdict, burst: Burst) -> None:
        """A burst without a limit answer: one request at a time right after it. A limit
        answer there means a limit exists (the burst may have raced past it): wait for the
        reset and measure it from a fresh window."""
        first = await sequential_run(self.ctx, subject, None, self.most)
        if first.limit is None:
            self.out.not_limited(verdict, burst, subject.reference, first)
            return
        subject.kind = first.kind
        reset = await wait_for_reset(self.ctx, subject, first.limit)
        if not reset.reset:
            self.out.limit_after(verdict, burst, first, [first.limit])
            self.out.check("concurrency", CheckStatus.skipped, "the window did not reset")
            self.out.reset(reset, self.config.reset_wait_cap)
            return
        run = await sequential_run(self.ctx, subject, reset.admitted, self.most)
        limits = [x for x in (first.limit, run.limit) if x is not None]
        self.out.limit_after(verdict, burst, first, limits)
        reset = await self._concurrency(subject, verdict, run, reset)
        self.out.reset(reset, self.config.reset_wait_cap)

    async def _concurrency(
        self, subject: Subject, verdict: BurstVerdict, run: Sequential, reset: Reset
    ) -> Reset:
        """Judge the sequential run against the burst, with a repeat burst when the first
        admitted clearly more; returns the last wait for the window."""
        if run.error:
            self.out.check("concurrency", CheckStatus.error, f"sequential run: {run.error}")
            return reset
        if run.limit is None:
            limited = verdict.outcome is Outcome.limited
            if limited and in_flight_only(verdict.admitted, run.peak):
                self.out.in_flight_only(verdict, run)
                return reset
            said = (
                f"one request at a time, {run.admitted} were admitted without a limit answer "
                f"({run.peak} within one second); the burst admitted {verdict.admitted}: no "
                "sign of a race"
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
        else:
            reset = await settle_window(self.ctx, subject)
        self.out.race(verdict, repeat, run.admitted, run.limit)
        return reset
