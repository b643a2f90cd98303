"""Events the engine emits while a scan runs; the console and tests consume them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from probe.findings import CheckResult, Finding


@dataclass(frozen=True)
class ScanStarted:
    """The scan is about to send its first request."""

    scenario: str
    probes: tuple[str, ...]
    budget: int


@dataclass(frozen=True)
class PhaseStarted:
    """A phase (login, baselines, a probe) started."""

    name: str


@dataclass(frozen=True)
class RequestDone:
    """One more request went out (or was refused)."""

    sent: int
    budget: int


@dataclass(frozen=True)
class CheckDone:
    """A check has its outcome."""

    check: CheckResult


@dataclass(frozen=True)
class FindingAdded:
    """A finding was recorded."""

    finding: Finding


@dataclass(frozen=True)
class Notice:
    """Something the user should know now (a failed login, a breaker that opened)."""

    message: str


@dataclass(frozen=True)
class ScanFinished:
    """The scan ended; `status` is complete, interrupted or failed."""

    status: str


Event = ScanStarted | PhaseStarted | RequestDone | CheckDone | FindingAdded | Notice | ScanFinished
EventSink = Callable[[Event], None]
