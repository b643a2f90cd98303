"""Progress on stderr: a progress bar on a terminal, plain lines otherwise, nothing when quiet."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from probe.events import (
    CheckDone,
    Event,
    FindingAdded,
    Notice,
    PhaseStarted,
    RequestDone,
    ScanFinished,
    ScanStarted,
)
from probe.findings import CheckStatus


class PlainProgress:
    """One line per phase, finding and notice: fit for CI logs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.findings = 0
        self.errors = 0

    def __call__(self, event: Event) -> None:
        line: str | None = None
        if isinstance(event, ScanStarted):
            probes = ", ".join(event.probes) or "none"
            line = f"scan: {event.scenario} (probes: {probes}; budget {event.budget} requests)"
        elif isinstance(event, PhaseStarted):
            line = f"phase: {event.name}"
        elif isinstance(event, FindingAdded):
            self.findings += 1
            f = event.finding
            where = f.endpoint or (
                f.affected[0] if len(f.affected) == 1 else f"{len(f.affected)} endpoints"
            )
            line = f"finding: [{f.severity.value}] {f.rule} ({where})"
        elif isinstance(event, CheckDone) and event.check.status is CheckStatus.error:
            self.errors += 1
        elif isinstance(event, Notice):
            line = f"notice: {event.message}"
        elif isinstance(event, ScanFinished):
            line = f"scan {event.status}: {self.findings} findings, {self.errors} checks in error"
        if line is not None:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        """Nothing to release."""


class BarProgress:
    """A rich progress bar of requests against the budget, with the current phase."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.fields[phase]}"),
            BarColumn(),
            TextColumn("{task.completed} requests (budget {task.fields[budget]})"),
            TextColumn("· {task.fields[findings]} findings"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        # No total: the budget is a ceiling, not a forecast, so the bar only pulses.
        self.task = self.progress.add_task(
            "scan", total=None, phase="starting", findings=0, budget="?"
        )
        self.findings = 0
        self.progress.start()

    def __call__(self, event: Event) -> None:
        if isinstance(event, ScanStarted):
            self.progress.update(self.task, budget=event.budget)
        elif isinstance(event, PhaseStarted):
            self.progress.update(self.task, phase=event.name)
        elif isinstance(event, RequestDone):
            self.progress.update(self.task, completed=event.sent)
        elif isinstance(event, FindingAdded):
            self.findings += 1
            self.progress.update(self.task, findings=self.findings)
        elif isinstance(event, Notice):
            self.progress.console.print(f"[yellow]notice:[/] {event.message}", markup=True)
        elif isinstance(event, ScanFinished):
            self.close()

    def close(self) -> None:
        """Stop drawing."""
        self.progress.stop()


class Quiet:
    """Shows nothing."""

    def __call__(self, event: Event) -> None:
        """Ignore the event."""

    def close(self) -> None:
        """Nothing to release."""


def make_progress(*, quiet: bool) -> PlainProgress | BarProgress | Quiet:
    """The right progress display for stderr."""
    if quiet:
        return Quiet()
    if sys.stderr.isatty():
        return BarProgress()
    return PlainProgress()
