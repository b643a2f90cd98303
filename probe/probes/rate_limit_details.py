"""The words of the rate_limit probe's check details: the burst's figures, what was sent just
before it, the bypass attempts, and the not-enforced finding's figures.

Pure functions of what the steps gathered; `rate_limit_verdicts` decides what to record.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from probe.burst import Burst
from probe.findings import CheckStatus
from probe.probes.rate_limit_bypass import Attempt, Bypasses
from probe.probes.rate_limit_headers import read_limit_info
from probe.probes.rate_limit_judges import BurstVerdict, Outcome, burst_figures, histogram

# Requests admitted this long before the burst (seconds) may have counted against the window
# the burst meets: they are added to its figure for `late-limit`.
RECENT = 10.0


@dataclass
class PreBurst:
    """What the probe sent to the endpoint just before its burst.

    Attributes:
        sent: Requests by what they were ("freshness check", "reset poll", "path variant").
        admitted: When (anyio time) each admitted one was answered.
        notes: Sentences on what happened (a wait), for the burst's detail.
    """

    sent: Counter[str] = field(default_factory=Counter)
    admitted: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def recent(self, at: float) -> int:
        """Admitted requests within `RECENT` seconds before `at`."""
        return sum(1 for moment in self.admitted if 0 <= at - moment <= RECENT)

    def describe(self) -> str:
        """`3 request(s) just before (1 freshness check, 2 path variants)`, or nothing sent."""
        total = sum(self.sent.values())
        if not total:
            return "nothing sent just before"
        parts = [f"{n} {what}{'s' if n > 1 else ''}" for what, n in self.sent.items() if n]
        return f"{total} request(s) just before ({', '.join(parts)})"

    def kinds(self) -> str:
        """What the admitted requests were, for a finding's detail."""
        names = [w for w in ("freshness check", "reset poll", "path variant") if self.sent[w]]
        return ", ".join(f"{w}s" if w != "freshness check" else w for w in names)


def describe_burst(verdict: BurstVerdict, burst: Burst, before: PreBurst) -> str:
    """The burst's figures for the check detail."""
    figures = burst_figures(burst)
    sent = ""
    if figures.sent:
        sent = f", {figures.sent} released within {ms(figures.spread_ms)}{_rate(figures.rate)}"
        if any(s.exchange.response is not None for s in burst.shots):
            sent += f", answered within {ms(figures.answered_ms)}"
    parts = [f"burst of {figures.count} ({figures.opened} connections open at the release{sent})"]
    early = sum(
        1
        for s in burst.shots
        if s.exchange.response is not None and s.received is not None and s.received < 0
    )
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
    parts.append(before.describe())
    return "; ".join([*parts, *before.notes])


def announced_quota(verdict: BurstVerdict) -> int | None:
    """The smallest quota the burst's answers announce (X-RateLimit-Limit, RateLimit-Limit, a
    RateLimit-Policy's q), or None."""
    now = time.time()
    quotas = [
        info.quota
        for x in verdict.arrivals
        if x.response is not None
        and (info := read_limit_info(x.response.headers, now)).quota is not None
    ]
    return min(quotas) if quotas else None


def not_enforced_text(
    verdict: BurstVerdict, burst: Burst, more: int, expect: int | None, quota: int | None
) -> tuple[str, bool]:
    """The not-enforced finding's detail, and whether it is firm: `more` requests were
    admitted one at a time right after the burst, `quota` is the smallest one announced."""
    figures = burst_figures(burst)
    detail = (
        f"No limit reached within {figures.count + more} requests: none of the "
        f"{figures.count} sent at once (within {ms(figures.spread_ms)}) got a limit answer "
        f"(statuses {histogram(verdict.statuses)})"
    )
    detail += f", nor did {more} sent one at a time right after." if more else "."
    firm = True
    if verdict.unanswered:
        # Dropped connections may be how this server limits: less sure.
        detail += f" {verdict.unanswered} request(s) got no answer at all."
        firm = False
    if expect is not None and expect >= figures.count:
        detail += (
            f" The scenario expects the limit within {expect} requests, no fewer than the "
            "burst: raise `burst` above `expect_limit` to test it."
        )
        firm = False
    if quota is not None and quota > figures.count:
        detail += (
            f" The server announces {quota:,} per window; the burst was smaller, so the "
            "limit may simply lie above it: raise `burst` above it to test it."
        )
        firm = False
    return detail, firm


def bypass_check(bypasses: Bypasses, untried: int) -> tuple[CheckStatus, str]:
    """The bypass check's status and detail."""
    attempts: Sequence[Attempt] = bypasses.attempts
    parts = [f"{a.via}: {a.outcome}" for a in attempts]
    if untried:
        parts.append(f"{untried} path variant(s) not tried (answered unlike the original)")
    if bypasses.untried:
        parts.append(
            f"{bypasses.untried} attempt(s) not made: two got no answer within the timeout"
        )
    detail = "; ".join(parts)
    if any(a.outcome == "bypass" for a in attempts):
        return CheckStatus.failed, detail
    if any(a.outcome == "inconclusive" for a in attempts):
        return CheckStatus.skipped, f"the window reset during the attempts; {detail}"
    if attempts and all(a.outcome == "no answer" for a in attempts):
        return CheckStatus.error, f"no bypass attempt got an answer; {detail}"
    return CheckStatus.passed, detail


def ms(value: float | None) -> str:
    """Milliseconds for a detail, `?` when unknown."""
    return "?" if value is None else f"{value:.1f} ms"


def _rate(value: float | None) -> str:
    return "" if value is None else f", {value:,.0f} req/s"
