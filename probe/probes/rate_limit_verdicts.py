"""How the rate_limit probe records one endpoint: its checks, its findings and their details.

`EndpointReport` turns what the steps gathered (a burst's verdict, the bypass attempts, the
sequential and repeated runs, the waits) into the endpoint's five checks (burst, limit-info,
bypass, concurrency, reset) and the findings of `rate_limit_rules`, each check recorded once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from probe.burst import Burst
from probe.exchange import Exchange
from probe.findings import CheckStatus, Confidence, Severity
from probe.probes.base import Found, ProbeContext
from probe.probes.rate_limit_headers import HeaderProblem, read_limit_info
from probe.probes.rate_limit_judges import (
    BurstFigures,
    BurstVerdict,
    Outcome,
    Reference,
    burst_figures,
    exceeds,
    histogram,
)
from probe.probes.rate_limit_rules import AUTH_TAG, PROBE_ID, RULES
from probe.probes.rate_limit_steps import Attempt, Reset
from probe.scenario.models import Endpoint

CHECKS = ("burst", "limit-info", "bypass", "concurrency", "reset")
_RULES = {rule.id: rule for rule in RULES}


class EndpointReport:
    """The checks and findings of one endpoint, with what their details need.

    Attributes:
        pre_requests: Requests sent just before the burst (freshness check, variants, polls).
        before: Sentences on what happened before the burst (a wait), for the burst detail.
        malformed: Headers with values that cannot be right, once the burst is judged.
    """

    def __init__(self, ctx: ProbeContext, endpoint: Endpoint) -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        self.burst_size = endpoint.burst or 0
        self.auth = AUTH_TAG in endpoint.tags
        self.done: set[str] = set()
        self.pre_requests = 0
        self.before: list[str] = []
        self.malformed: list[str] = []

    def check(self, name: str, status: CheckStatus, detail: str) -> None:
        """Record one of the endpoint's checks (once)."""
        if name not in self.done:
            self.done.add(name)
            self.ctx.check(PROBE_ID, name, self.endpoint, status, detail)

    def rest(self, status: CheckStatus, detail: str) -> None:
        """Record every check not recorded yet."""
        for name in CHECKS:
            self.check(name, status, detail)

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
            key=parameter or "",
            excerpts=excerpts or {},
            notes={i: n for i, n in notes.items() if i < len(exchanges)},
        )
        self.ctx.report(PROBE_ID, found)

    def not_limited(self, verdict: BurstVerdict, burst: Burst) -> None:
        """The checks and finding of a burst without a (sustained) limit."""
        said = _describe(verdict, burst, self.pre_requests, self.before)
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
        self._not_enforced(verdict, burst_figures(burst))
        self.rest(CheckStatus.skipped, "the burst was not limited")

    def _not_enforced(self, verdict: BurstVerdict, figures: BurstFigures) -> None:
        expect = self.endpoint.expect_limit
        detail = (
            f"None of the {figures.count} requests sent at once (within "
            f"{_ms(figures.spread_ms)}) got a limit answer "
            f"(statuses {histogram(verdict.statuses)})."
        )
        confidence = Confidence.firm
        if verdict.unanswered:
            # Dropped connections may be how this server limits: less sure.
            detail += f" {verdict.unanswered} request(s) got no answer at all."
            confidence = Confidence.tentative
        if expect is not None and expect >= self.burst_size:
            detail += (
                f" The scenario expects the limit within {expect} requests, no fewer than the "
                "burst: raise `burst` above `expect_limit` to test it."
            )
            confidence = Confidence.tentative
        shown = [verdict.arrivals[0], verdict.arrivals[-1]] if verdict.arrivals else []
        self.report(
            "not-enforced",
            detail,
            shown,
            {0: "first answer to arrive", 1: "last answer to arrive"},
            severity=Severity.high if self.auth else None,
            confidence=confidence,
        )

    def limited(self, reference: Reference, verdict: BurstVerdict, burst: Burst) -> None:
        """The checks and findings of a limited burst."""
        said = _describe(verdict, burst, self.pre_requests, self.before)
        count = len(burst.shots)
        expect = self.endpoint.expect_limit
        first = verdict.limits[0]
        if expect is not None and verdict.admitted > expect:
            self.check("burst", CheckStatus.failed, f"limited later than expected; {said}")
            limits = {x.seq for x in verdict.limits}
            admitted = [x for x in verdict.arrivals if x.seq not in limits]
            self.report(
                "late-limit",
                f"The burst admitted {verdict.admitted} of {count} requests before the "
                f"limit held; expect_limit is {expect}.",
                [first, *admitted[-1:]],
                {0: "first limit answer", 1: "an admitted request"},
            )
        else:
            self.check("burst", CheckStatus.passed, f"limited; {said}")
        if verdict.kind != "429":
            self.report(
                "non-429-status",
                f"The limit was signalled with {verdict.kind} (the normal answer is "
                f"{reference.status}), sustained for the rest of the burst.",
                [first],
                {0: f"first limit answer, #{verdict.first_limit} in order of arrival"},
                parameter=verdict.kind,
            )
        self._limit_info(verdict)

    def _limit_info(self, verdict: BurstVerdict) -> None:
        now = time.time()
        infos = [read_limit_info(x.response.headers, now) for x in verdict.limits if x.response]
        names = sorted({n for info in infos for n in info.present})
        malformed = f"; malformed {', '.join(self.malformed)}" if self.malformed else ""
        if not names:
            self.report(
                "no-limit-info",
                f"None of the {verdict.limited} limit answers ({verdict.kind}) carries "
                "Retry-After, RateLimit, RateLimit-Policy or X-RateLimit-* headers.",
                verdict.limits[:1],
                {0: "first limit answer"},
            )
            self.check(
                "limit-info", CheckStatus.failed, f"limit answers announce nothing{malformed}"
            )
            return
        said = f"limit answers carry {', '.join(names)}"
        waits = [(i.wait, i.wait_source) for i in infos if i.wait is not None]
        if waits:
            said += f"; first announced wait {waits[0][0]:.1f} s ({waits[0][1]})"
        status = CheckStatus.failed if self.malformed else CheckStatus.passed
        self.check("limit-info", status, said + malformed)

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

    def bypasses(self, attempts: Sequence[Attempt], untried: int) -> None:
        """Findings for the confirmed bypasses, and the `bypass` check."""
        for attempt in attempts:
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
                    "two requests at once each time, the original limited after each.",
                    proof,
                    notes,
                    parameter=attempt.via,
                    severity=Severity.high if self.auth else None,
                )
            else:
                self.report(
                    "bypass-path",
                    f"The path variant ({attempt.via}: {attempt.sent}) got the normal answer "
                    "while the original was limited; twice, two requests at once each time, "
                    "the original limited after each.",
                    proof,
                    notes,
                    parameter=attempt.via,
                )
        self.check(*_bypass_check(attempts, untried))

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


def _bypass_check(attempts: Sequence[Attempt], untried: int) -> tuple[str, CheckStatus, str]:
    """The bypass check's status and detail."""
    parts = [f"{a.via}: {a.outcome}" for a in attempts]
    if untried:
        parts.append(f"{untried} path variant(s) not tried (answered unlike the original)")
    detail = "; ".join(parts)
    if any(a.outcome == "bypass" for a in attempts):
        return "bypass", CheckStatus.failed, detail
    if any(a.outcome == "inconclusive" for a in attempts):
        return "bypass", CheckStatus.skipped, f"the window reset during the attempts; {detail}"
    return "bypass", CheckStatus.passed, detail


def _describe(verdict: BurstVerdict, burst: Burst, pre: int, before: Sequence[str]) -> str:
    """The burst's figures for the check detail."""
    figures = burst_figures(burst)
    sent = ""
    if figures.sent:
        sent = (
            f", {figures.sent} released within {_ms(figures.spread_ms)}{_rate(figures.rate)}, "
            f"answered within {_ms(figures.answered_ms)}"
        )
    parts = [f"burst of {figures.count} ({figures.opened} connections open at the release{sent})"]
    early = sum(1 for s in burst.shots if s.received is not None and s.received < 0)
    if early:
        parts.append(
            f"{early} answered before the release (the server did not wait for the request's "
            "last byte)"
        )
    if verdict.outcome is Outcome.limited:
        parts.append(
            f"first limit answer ({verdict.kind}) #{verdict.first_limit} in order of arrival"
        )
        parts.append(f"{verdict.admitted} admitted")
    parts.append(f"statuses {histogram(verdict.statuses)}")
    if verdict.unanswered:
        parts.append(f"{verdict.unanswered} without an answer")
    parts.append(f"{pre} request(s) just before (freshness check, path variants)")
    return "; ".join([*parts, *before])


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} ms"


def _rate(value: float | None) -> str:
    return "" if value is None else f", {value:,.0f} req/s"
