"""How the rate_limit probe records one endpoint: its checks, its findings and their details.

`EndpointReport` turns what the steps gathered (a burst's verdict, the bypass attempts, the
sequential and repeated runs, the waits) into the endpoint's five checks (burst, limit-info,
bypass, concurrency, reset) and the findings of `rate_limit_rules`. Checks are kept until
`finish` and then recorded once each, in the order of `CHECKS`. The findings of a limited burst
(late-limit, non-429-status, no-limit-info) wait for the sequential run too (`hold`, then
`settle`): a limiter that caps requests in flight only gets a not-enforced finding instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from probe.burst import Burst
from probe.exchange import Exchange
from probe.findings import CheckStatus, Confidence, Severity
from probe.probes.base import Found, ProbeContext
from probe.probes.rate_limit_bypass import Bypasses
from probe.probes.rate_limit_details import (
    PreBurst,
    announced_quota,
    bypass_check,
    describe_burst,
    not_enforced_text,
)
from probe.probes.rate_limit_headers import HeaderProblem, read_limit_info
from probe.probes.rate_limit_judges import (
    LOCKOUT,
    BurstVerdict,
    Outcome,
    Reference,
    exceeds,
    limit_words_alike,
)
from probe.probes.rate_limit_rules import AUTH_TAG, PROBE_ID, RULES
from probe.probes.rate_limit_steps import Reset, Sequential
from probe.probes.rate_limit_values import seconds_text
from probe.scenario.models import Endpoint

CHECKS = ("burst", "limit-info", "bypass", "concurrency", "reset")
_RULES = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class _Held:
    """A limited burst whose findings wait for the sequential run."""

    reference: Reference
    verdict: BurstVerdict
    burst: Burst


class EndpointReport:
    """The checks and findings of one endpoint, with what their details need.

    Attributes:
        before: What was sent just before the burst.
        recent: Requests admitted just before the burst (`PreBurst.recent`), set at the burst.
        malformed: Headers with values that cannot be right, once the burst is judged.
    """

    def __init__(self, ctx: ProbeContext, endpoint: Endpoint) -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        self.burst_size = endpoint.burst or 0
        self.auth = AUTH_TAG in endpoint.tags
        self.checks: dict[str, tuple[CheckStatus, str]] = {}
        self.before = PreBurst()
        self.recent = 0
        self.malformed: list[str] = []
        self.held: _Held | None = None
        self.in_flight = False

    # -- recording -------------------------------------------------------------------------------

    def check(self, name: str, status: CheckStatus, detail: str) -> None:
        """Keep one of the endpoint's checks (the first outcome given for it)."""
        self.checks.setdefault(name, (status, detail))

    def rest(self, status: CheckStatus, detail: str) -> None:
        """Keep every check not kept yet."""
        for name in CHECKS:
            self.check(name, status, detail)

    def finish(self) -> None:
        """Record the kept checks, in the order of `CHECKS`."""
        for name in CHECKS:
            if name in self.checks:
                status, detail = self.checks[name]
                self.ctx.check(PROBE_ID, name, self.endpoint, status, detail)

    def report(
        self,
        rule: str,
        detail: str,
        exchanges: Sequence[Exchange],
        notes: dict[int, str],
        *,
        parameter: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence = Confidence.firm,
        excerpts: dict[int, str] | None = None,
        key: str = "",
    ) -> None:
        """Report a finding of one of the probe's rules at this endpoint."""
        found = Found(
            rule=_RULES[f"{PROBE_ID}.{rule}"],
            detail=detail,
            exchanges=list(exchanges),
            endpoint=self.endpoint.label,
            parameter=parameter,
            severity=severity,
            confidence=confidence,
            key=key or parameter or "",
            excerpts=excerpts or {},
            notes={i: n for i, n in notes.items() if i < len(exchanges)},
        )
        self.ctx.report(PROBE_ID, found)

    # -- a burst without a limit -------------------------------------------------------------

    def not_limited(
        self,
        verdict: BurstVerdict,
        burst: Burst,
        reference: Reference,
        after: Sequential | None = None,
    ) -> None:
        """The checks and finding of a burst without a (sustained) limit; `after` is the
        sequential run sent right after it, when there was one and it met no limit."""
        said = describe_burst(verdict, burst, self.before)
        if self.malformed:
            listed = ", ".join(self.malformed)
            self.check("limit-info", CheckStatus.failed, f"no limit answer; malformed {listed}")
        if verdict.outcome is Outcome.no_answers:
            first = next((s.exchange.error for s in burst.shots if s.exchange.error), None)
            self.rest(CheckStatus.error, f"too few answers to judge ({first}); {said}")
            return
        if verdict.outcome is Outcome.scattered:
            self.check(
                "burst",
                CheckStatus.error,
                f"{verdict.kind} answers scattered among normal ones: the server looks "
                f"overloaded rather than limited, no verdict; {said}",
            )
            self.rest(CheckStatus.skipped, "no verdict on the burst (scattered failures)")
            return
        self.check("burst", CheckStatus.failed, f"no limit answer; {said}")
        self._not_enforced(verdict, burst, reference, after)
        if after is not None and after.error:
            self.check("concurrency", CheckStatus.error, f"sequential run: {after.error}")
        elif after is not None:
            self.check(
                "concurrency",
                CheckStatus.skipped,
                f"no limit answer one at a time either ({after.admitted} admitted right after "
                "the burst): no limit to race past",
            )
        self.rest(CheckStatus.skipped, "the burst was not limited")

    def _not_enforced(
        self,
        verdict: BurstVerdict,
        burst: Burst,
        reference: Reference,
        after: Sequential | None,
    ) -> None:
        more = after.admitted if after is not None and not after.error else 0
        detail, sure = not_enforced_text(
            verdict, burst, more, self.endpoint.expect_limit, announced_quota(verdict)
        )
        wordy = limit_words_alike(verdict.arrivals, reference)
        if wordy:
            # A refusal inside the API's usual envelope is not told from a normal answer.
            detail += (
                f" {wordy} answer(s) speak of a rate limit in a body shaped like the normal "
                "answer (which does not): if that is how this API refuses, it does limit."
            )
            sure = False
        confidence = Confidence.firm if sure else Confidence.tentative
        shown = [verdict.arrivals[0], verdict.arrivals[-1]] if verdict.arrivals else []
        self.report(
            "not-enforced",
            detail,
            shown,
            {0: "first answer to arrive", 1: "last answer to arrive"},
            severity=Severity.high if self.auth else None,
            confidence=confidence,
        )

    def limit_after(
        self, verdict: BurstVerdict, burst: Burst, first: Sequential, limits: Sequence[Exchange]
    ) -> None:
        """A burst without a limit answer, followed by a limit answer one request at a time:
        the limit lies above the burst, or the burst raced past it (see concurrency)."""
        assert first.limit is not None
        said = (
            f"no limit answer within the burst, but right after it, one request at a time, a "
            f"limit answer ({first.kind}) came after {first.admitted} more admitted: the limit "
            f"lies above the burst's {verdict.admitted}, or the burst raced past it (see "
            f"concurrency); {describe_burst(verdict, burst, self.before)}"
        )
        expect = self.endpoint.expect_limit
        late = expect is not None and verdict.admitted > expect
        self.check("burst", CheckStatus.failed if late else CheckStatus.passed, said)
        if late:
            self.report(
                "late-limit",
                f"All {verdict.admitted} requests of the burst were admitted; a limit answer "
                f"came only after {first.admitted} more one at a time; expect_limit is {expect}.",
                [first.limit, *verdict.arrivals[-1:]],
                {0: "first limit answer (sequential run)", 1: "an admitted burst request"},
            )
        self._limit_info(first.kind, limits)
        self.check("bypass", CheckStatus.skipped, "the burst met no limit answer: not tried")

    # -- a limited burst ---------------------------------------------------------------------

    def hold(self, reference: Reference, verdict: BurstVerdict, burst: Burst) -> None:
        """Keep a limited burst until the sequential run says whether its limit is real."""
        self.held = _Held(reference, verdict, burst)

    def settle(self) -> None:
        """The checks and findings of the held limited burst (once)."""
        held, self.held = self.held, None
        if held is None:
            return
        verdict, burst = held.verdict, held.burst
        said = describe_burst(verdict, burst, self.before)
        if self.in_flight:
            self.check("burst", CheckStatus.passed, f"limited, in flight only; {said}")
            why = "the limit answers cap requests in flight, not requests over time"
            self.check("limit-info", CheckStatus.skipped, why)
            return
        if not self._late_limit(verdict, burst, said):
            self.check("burst", CheckStatus.passed, f"limited; {said}")
        if verdict.kind != "429":
            self._non_429(held.reference, verdict)
        self._limit_info(verdict.kind, verdict.limits)

    def _late_limit(self, verdict: BurstVerdict, burst: Burst, said: str) -> bool:
        """The late-limit finding, when the burst (with the requests admitted just before it)
        admitted more than expect_limit; True when reported."""
        expect = self.endpoint.expect_limit
        total = verdict.admitted + self.recent
        if expect is None or total <= expect:
            return False
        confidence = Confidence.firm
        detail = (
            f"The burst admitted {verdict.admitted} of {len(burst.shots)} requests before the "
            f"limit held; expect_limit is {expect}."
        )
        if self.recent:
            detail += (
                f" {self.recent} request(s) admitted just before it ({self.before.kinds()}) "
                f"most likely counted against the same window: {total} in all."
            )
        if verdict.admitted <= expect:
            confidence = Confidence.tentative  # only the sum exceeds it
        self.check("burst", CheckStatus.failed, f"limited later than expected; {said}")
        limits = {x.seq for x in verdict.limits}
        admitted = [x for x in verdict.arrivals if x.seq not in limits]
        self.report(
            "late-limit",
            detail,
            [verdict.limits[0], *admitted[-1:]],
            {0: "first limit answer", 1: "an admitted request"},
            confidence=confidence,
        )
        return True

    def _non_429(self, reference: Reference, verdict: BurstVerdict) -> None:
        first = verdict.limits[0]
        status = first.response.status if first.response is not None else "?"
        if verdict.kind == LOCKOUT:
            said = f"a lockout ({status}: brute-force protection)"
        else:
            said = str(verdict.kind)
        self.report(
            "non-429-status",
            f"The limit was signalled with {said}; the normal answer is {reference.status}. "
            "It was sustained for the rest of the burst.",
            [first],
            {0: f"first limit answer, #{verdict.first_limit} in order of arrival"},
            parameter=verdict.kind,
        )

    def _limit_info(self, kind: str | None, limits: Sequence[Exchange]) -> None:
        """The limit-info check (and no-limit-info finding) from the limit answers seen."""
        now = time.time()
        infos = [read_limit_info(x.response.headers, now) for x in limits if x.response]
        names = sorted({n for info in infos for n in info.present})
        malformed = f"; malformed {', '.join(self.malformed)}" if self.malformed else ""
        first = limits[0]
        status = first.response.status if first.response is not None else "?"
        if not names and kind == LOCKOUT:
            why = f"a lockout ({status}): no Retry-After or RateLimit information expected"
            self.check("limit-info", CheckStatus.skipped, why + malformed)
            return
        if not names:
            self.report(
                "no-limit-info",
                f"None of the {len(limits)} limit answers ({status}) carries Retry-After, "
                "RateLimit, RateLimit-Policy or X-RateLimit-* headers.",
                [first],
                {0: "first limit answer"},
            )
            self.check(
                "limit-info", CheckStatus.failed, f"limit answers announce nothing{malformed}"
            )
            return
        said = f"limit answers carry {', '.join(names)}"
        waits = [(i.wait, i.wait_source) for i in infos if i.wait is not None]
        if waits:
            said += f"; first announced wait {seconds_text(waits[0][0])}, by {waits[0][1]}"
        status_ = CheckStatus.failed if self.malformed else CheckStatus.passed
        self.check("limit-info", status_, said + malformed)

    def in_flight_only(self, verdict: BurstVerdict, run: Sequential) -> None:
        """The burst was limited, yet one request at a time got through well past its figure:
        the limiter caps requests in flight, not requests over time."""
        self.in_flight = True
        figures = (
            f"the burst of {self.burst_size} was limited ({verdict.kind}) after "
            f"{verdict.admitted} admitted, but one request at a time {run.admitted} were "
            f"admitted without a limit answer, {run.peak} of them within one second"
        )
        self.report(
            "not-enforced",
            f"{figures[0].upper()}{figures[1:]}: the server limits requests in flight only (or "
            "refills faster than that pace), not requests over time. A client sending one "
            "request after another is never limited.",
            [verdict.limits[0], *([run.last] if run.last is not None else [])],
            {0: "burst: first limit answer", 1: "sequential run: last admitted request"},
            severity=Severity.high if self.auth else None,
            key="sequential",
        )
        self.check("concurrency", CheckStatus.failed, f"requests in flight only: {figures}")

    # -- the other checks ----------------------------------------------------------------------

    def headers(self, verdict: BurstVerdict) -> None:
        """Malformed rate-limit header values on any answer of the burst."""
        now = time.time()
        by_header: dict[str, list[tuple[HeaderProblem, Exchange]]] = {}
        for exchange in verdict.arrivals:
            if exchange.response is None:
                continue
            for problem in read_limit_info(exchange.response.headers, now).problems:
                seen = by_header.setdefault(problem.header, [])
                if all(p.reason != problem.reason for p, _ in seen):
                    seen.append((problem, exchange))
        for header, found in by_header.items():
            reasons = "; ".join(f"{p.value!r}: {p.reason}" for p, _ in found)
            self.report(
                "malformed-header",
                f"{header} values that cannot be right: {reasons}.",
                [found[0][1]],
                {0: found[0][0].reason},
                parameter=header,
                excerpts={0: f"{header}: {found[0][0].value}"},
            )
        self.malformed = list(by_header)

    def bypasses(self, bypasses: Bypasses, untried: int) -> None:
        """Findings for the confirmed bypasses, and the `bypass` check."""
        for attempt in bypasses.attempts:
            if attempt.outcome != "bypass":
                continue
            proof = [attempt.exchanges[0], attempt.confirms[0]]
            proof += [attempt.exchanges[-1], attempt.confirms[-1]]
            notes = {0: "first round: normal answer", 1: "original: limited"}
            notes |= {2: "second round: normal answer", 3: "original: limited again"}
            if attempt.family == "header":
                self.report(
                    "bypass-header",
                    f"With {attempt.via} claiming a made-up client address ({attempt.sent}), "
                    "requests got the normal answer while the original was limited; twice, "
                    "requests released together each time, the original limited after each.",
                    proof,
                    notes,
                    parameter=attempt.via,
                    severity=Severity.high if self.auth else None,
                )
            else:
                self.report(
                    "bypass-path",
                    f"The path variant ({attempt.via}: {attempt.sent}) got the normal answer "
                    "while the original was limited; twice, requests released together each "
                    "time, the original limited after each.",
                    proof,
                    notes,
                    parameter=attempt.via,
                )
        self.check("bypass", *bypass_check(bypasses, untried))

    def race(
        self, first: BurstVerdict, again: BurstVerdict, sequential: int, limit: Exchange
    ) -> bool:
        """The concurrency check once the burst was repeated; True when it is a finding."""
        figures = (
            f"a burst of {self.burst_size} admitted {first.admitted}, and {again.admitted} "
            f"when repeated after the window reset; one request at a time, the limit answer "
            f"came after {sequential} admitted"
        )
        if not exceeds(again.admitted, sequential):
            self.check("concurrency", CheckStatus.passed, f"{figures}: not repeated")
            return False
        twice = min(first.admitted, again.admitted) >= 2 * sequential
        limits = {x.seq for x in again.limits}
        admitted = [x for x in again.arrivals if x.seq not in limits]
        self.report(
            "burst-exceeds-limit",
            f"{figures[0].upper()}{figures[1:]}.",
            [limit, *admitted[-1:]],
            {0: "sequential run: first limit answer", 1: "repeat burst: an admitted request"},
            severity=Severity.medium if twice else None,
        )
        self.check("concurrency", CheckStatus.failed, figures)
        return True

    def reset(self, reset: Reset, cap: float) -> None:
        """The `reset` check: how the last wait for the window went."""
        if reset.reset:
            self.check(
                "reset",
                CheckStatus.passed,
                f"{reset.describe(cap)}, so later requests are not limited",
            )
        else:
            self.check("reset", CheckStatus.error, reset.describe(cap))
