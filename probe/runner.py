"""What `probe run` does between the CLI and the engine: pick probes, scan, write, decide.

Exit codes: 0 done and nothing at or above --fail-on; 1 findings at or above it; 2 invalid
scenario or usage; 3 the scan could not run; 130 interrupted.
"""

from __future__ import annotations

import difflib
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from probe.context import endpoint_url
from probe.engine import Scan
from probe.errors import ScanAbort, UsageError
from probe.events import EventSink
from probe.findings import Severity
from probe.probes import REGISTRY
from probe.redact import RedactingFilter, Redactor
from probe.report import Report, ScanStatus, probe_verdicts
from probe.reports import write_reports
from probe.scenario.loader import LoadedScenario
from probe.scenario.models import Scenario

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NOT_RUN, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
FORMATS = ("json", "html")


@dataclass(frozen=True)
class RunOptions:
    """The options of one `probe run`."""

    out: Path = Path("reports")
    formats: tuple[str, ...] = FORMATS
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    fail_on: Severity = Severity.high


@dataclass
class Outcome:
    """What a run produced."""

    report: Report
    paths: list[Path] = field(default_factory=list)
    exit_code: int = EXIT_OK


def _known(names: Sequence[str], flag: str, kind: str, known: Sequence[str]) -> None:
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"unknown {kind} {name!r} in {flag}{hint} (known: {', '.join(known)})")


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """Validate --format values."""
    _known(formats, "--format", "format", FORMATS)
    return tuple(formats)


def select_probes(scenario: Scenario, only: Sequence[str], skip: Sequence[str]) -> list[str]:
    """Probe ids to run: enabled in the scenario, narrowed by --only and --skip."""
    known = list(REGISTRY)
    _known(only, "--only", "probe", known)
    _known(skip, "--skip", "probe", known)
    enabled = scenario.probes.enabled()
    chosen = [p for p in known if p in enabled and (not only or p in only) and p not in skip]
    if not any(REGISTRY[p].implemented for p in chosen):
        raise UsageError(
            "no probe of this release is left to run (enabled in the scenario: "
            f"{', '.join(enabled) or 'none'}; --only: {', '.join(only) or '-'}; "
            f"--skip: {', '.join(skip) or '-'})"
        )
    return chosen


def check_out(out: Path) -> Path:
    """Create the report folder now, so a bad --out fails before the scan, not after it."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".probe-write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"--out {out}: cannot write reports there ({reason})") from None
    return out


def plan(
    scenario: Scenario, probes: Sequence[str], secrets: Mapping[str, str] | None = None
) -> list[str]:
    """The requests a run would send, as lines (secrets as placeholders); sends nothing."""
    base = scenario.target.base_url
    lines = [f"engine: GET {base}/ (reachability)"]
    for name, identity in scenario.identities.items():
        if identity.login is not None:
            lines.append(
                f"engine: {identity.login.method} {base}{identity.login.path} (login as {name})"
            )
    for endpoint in scenario.endpoints:
        who = f" as {endpoint.identity}" if endpoint.identity else ""
        url = endpoint_url(base, endpoint)
        lines.append(f"engine: {endpoint.method} {url} (baseline{who})")
    for probe_id in probes:
        lines += REGISTRY[probe_id]().plan(scenario)
    lines.append(
        f"budget: at most {scenario.settings.max_requests} requests in all; scope: "
        f"{', '.join(sorted(scenario.target.scope_keys()))}"
    )
    redactor = Redactor()
    for name, value in (secrets or {}).items():
        redactor.add_variable(name, value)
    return [redactor.text(line) for line in lines]


def execute(
    loaded: LoadedScenario,
    options: RunOptions,
    events: EventSink,
    *,
    log_handler: logging.Handler | None = None,
) -> Outcome:
    """Run the scan, write the reports (also when interrupted or failed), pick the exit code."""
    probes = select_probes(loaded.scenario, options.only, options.skip)
    check_out(options.out)
    scan = Scan(
        loaded.scenario,
        scenario_path=loaded.path,
        scenario_sha256=loaded.sha256,
        secrets_by_name=loaded.secrets,
        probes=probes,
        events=events,
    )
    if log_handler is not None:
        log_handler.addFilter(RedactingFilter(scan.redactor))

    async def go() -> Report:
        return await scan.run(handle_signals=True)

    try:
        report = anyio.run(go)
    except ScanAbort as abort:
        report = abort.report
        paths = write_reports(report, options.out, options.formats, Path(loaded.path).stem)
        return Outcome(report, paths, EXIT_NOT_RUN)
    paths = write_reports(report, options.out, options.formats, Path(loaded.path).stem)
    return Outcome(report, paths, exit_code(report, options.fail_on))


def exit_code(report: Report, fail_on: Severity) -> int:
    """130 when interrupted; 1 on a finding at or above `fail_on`; 3 when no probe's check
    reached a verdict (every one in error or skipped: the scan tested nothing; the engine's
    login checks do not count); else 0."""
    if report.status is ScanStatus.interrupted:
        return EXIT_INTERRUPTED
    if any(f.severity.rank >= fail_on.rank for f in report.findings):
        return EXIT_FINDINGS
    if not probe_verdicts(report.checks):
        return EXIT_NOT_RUN
    return EXIT_OK
