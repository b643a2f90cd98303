"""Runs a scan: identities, baselines, probes, verdicts, report.

The engine owns the only HTTP client. Phases run in order: a reachability request, logins,
one baseline request per endpoint, then every enabled probe's `run` concurrently, then every
probe's `conclude`. Every exchange is shown to every probe's `observe` as it happens, so the
passive judges (headers, error signatures) see the active probes' traffic too. What probes
may call (`ProbeContext`) is implemented by `ScanContext` in probe/context.py.
"""

from __future__ import annotations

import json
import logging
import signal
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx

from probe import __version__
from probe.compare import is_refusal
from probe.context import ENGINE, ScanContext
from probe.errors import ScanAbort
from probe.events import (
    EventSink,
    Notice,
    PhaseStarted,
    RequestDone,
    ScanFinished,
    ScanStarted,
)
from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes import REGISTRY
from probe.probes.base import Probe, RequestSpec
from probe.redact import redacted_logs
from probe.report import (
    Report,
    ScanStatus,
    ScenarioInfo,
    TargetInfo,
    ToolInfo,
    probe_verdicts,
    summarise,
)
from probe.scenario.models import Endpoint, Scenario

log = logging.getLogger(__name__)

# An identity whose answers are mostly 401/403 is reported as not authenticated.
_AUTH_FAILURE_SHARE = 0.5
_AUTH_MIN_SAMPLES = 4


# What the transport's error says when verification refused the server's certificate.
_CERTIFICATE_REFUSED = "CERTIFICATE_VERIFY_FAILED"


class Scan(ScanContext):
    """One scan of one scenario: runs the phases over the `ScanContext` the probes see."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        scenario_path: str = "",
        scenario_sha256: str = "",
        secrets_by_name: Mapping[str, str] | None = None,
        probes: Sequence[str] | None = None,
        events: EventSink | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        extra_probes: Sequence[Probe] = (),
    ) -> None:
        """`probes` narrows the scenario's enabled probes to these ids; `extra_probes` are
        instances run after them (tests and plug-ins)."""
        super().__init__(
            scenario, secrets_by_name=secrets_by_name, events=events, transport=transport
        )
        self._info = ScenarioInfo(name=scenario.name, path=scenario_path, sha256=scenario_sha256)
        enabled = scenario.probes.enabled()
        ids = [p for p in REGISTRY if p in enabled and (probes is None or p in probes)]
        self.probes: list[Probe] = [REGISTRY[p]() for p in ids] + list(extra_probes)
        self.warnings: list[str] = []
        self._interrupted = False
        self._not_run: set[str] = set()

    # -- running ------------------------------------------------------------------------------

    async def run(self, *, handle_signals: bool = False) -> Report:
        """Run every phase and return the report; never raises for target trouble.

        Raises ScanAbort (with the report attached) when the target is unreachable at the
        start. With `handle_signals`, SIGINT and SIGTERM stop the scan and the partial report
        is returned with status `interrupted`.
        """
        started = datetime.now(UTC)
        self._events(
            ScanStarted(
                self.scenario.name,
                tuple(p.id for p in self.probes),
                self.scenario.settings.max_requests,
            )
        )
        status = ScanStatus.complete
        abort: ScanAbort | None = None
        try:
            with redacted_logs(self.redactor), anyio.CancelScope() as scope:
                async with anyio.create_task_group() as group:
                    if handle_signals:
                        group.start_soon(self._watch_signals, scope)
                    try:
                        await self._phases()
                    except ScanAbort as exc:
                        abort = exc
                    group.cancel_scope.cancel()
            if self._interrupted:
                status = ScanStatus.interrupted
        finally:
            with anyio.CancelScope(shield=True):
                await self.client.aclose()
        if abort is not None:
            status = ScanStatus.failed
            self.warnings.append(str(abort))
        else:
            # Also after an interrupt: the partial report judges what was collected.
            self._events(PhaseStarted("judging"))
            with redacted_logs(self.redactor):
                self._conclude()
        report = self._build_report(started, status)
        self._events(ScanFinished(status.value))
        if abort is not None:
            abort.report = report
            raise abort
        return report

    async def _watch_signals(self, scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                self._interrupted = True
                self._events(Notice("interrupted: writing the partial report"))
                scope.cancel()
                return

    async def _phases(self) -> None:
        self._events(PhaseStarted("reachability"))
        if not await self._reachability():
            await self._certificate_refused_phase()
            return
        self._events(PhaseStarted("login"))
        await self.identities.resolve(self._login_sender)
        for state in self.identities.states.values():
            if state.error:
                users = [e.label for e in self.scenario.endpoints if e.identity == state.name]
                message = (
                    f"{state.error}; the {len(users)} endpoint(s) that send as {state.name!r} "
                    "were not probed (their checks are error)"
                )
                self.warnings.append(message)
                self.check(ENGINE, "login", None, CheckStatus.error, message)
                self.notice(message)
            elif state.spec.login is not None:
                self.check(ENGINE, "login", None, CheckStatus.passed, f"{state.name} logged in")
        self._events(PhaseStarted("baselines"))
        await self._baselines_phase()
        together = [p.id for p in self.probes if not p.runs_last]
        self._events(PhaseStarted("probes: " + ", ".join(together)))
        async with anyio.create_task_group() as group:
            for probe in self.probes:
                if not probe.runs_last:
                    group.start_soon(self._run_probe, probe)
        for probe in self.probes:
            if probe.runs_last:
                self._events(PhaseStarted(f"probes: {probe.id} (alone, last)"))
                await self._run_probe(probe)

    async def _certificate_refused_phase(self) -> None:
        """Only the probes that judge TLS run; every other probe says why it did not."""
        able = [p for p in self.probes if p.runs_on_refused_certificate]
        self._events(PhaseStarted("probes: " + ", ".join(p.id for p in able)))
        for probe in self.probes:
            if probe.runs_on_refused_certificate:
                await self._run_probe(probe)
            else:
                self._not_run.add(probe.id)
                self.check(
                    probe.id,
                    "run",
                    None,
                    CheckStatus.skipped,
                    "not run: base_url's TLS certificate was refused, so no HTTPS request "
                    "can be made (see the https probe)",
                )

    def _conclude(self) -> None:
        for probe in self.probes:
            if probe.id not in self._not_run:
                self._guarded(probe, "conclude", lambda p=probe: p.conclude(self))
        self._renewal_problems()
        self._auth_health()

    async def _reachability(self) -> bool:
        """Raise ScanAbort when the target is unreachable; False when its certificate is
        refused (verification on), which only the https probe can judge."""
        first = self.scenario.endpoints[0] if self.scenario.endpoints else None
        url = self.scenario.target.base_url + "/"
        spec = RequestSpec("GET", url)
        exchange = await self.send(spec, probe=ENGINE, purpose="reachability")
        error = exchange.error or ""
        if exchange.response is None and _CERTIFICATE_REFUSED in error:
            message = (
                f"the TLS certificate of {url} was refused ({error}); no HTTPS request can "
                "be made, so only the https probe ran (set target.verify_tls to a CA bundle, "
                "or to false, to probe the API anyway)"
            )
            self.warnings.append(message)
            self.notice(message)
            self.check(ENGINE, "reachability", None, CheckStatus.error, message)
            return False
        if exchange.response is None and not error.startswith("refused"):
            where = first.label if first else url
            raise ScanAbort(
                f"target unreachable at the start: {url} ({exchange.error}); "
                f"nothing was probed (first endpoint: {where})"
            )
        return True

    async def _baselines_phase(self) -> None:
        checked: set[str] = set()
        for endpoint in self.scenario.endpoints:
            spec = self.endpoint_request(endpoint)
            exchange = await self.send(
                spec,
                probe=ENGINE,
                purpose="baseline",
                endpoint=endpoint,
                identity=endpoint.identity,
            )
            if exchange.response is not None:
                self._baselines[endpoint.label] = exchange
            else:
                self.check(
                    ENGINE,
                    "baseline",
                    endpoint,
                    CheckStatus.error,
                    f"the endpoint's own request failed ({exchange.error}); probes judging "
                    "against it have nothing to compare with",
                )
            name = endpoint.identity
            if name and name not in checked and "authenticated" in exchange.tags:
                checked.add(name)
                self._first_auth_health(name, endpoint, exchange)

    def _first_auth_health(self, name: str, endpoint: Endpoint, exchange: Exchange) -> None:
        response = exchange.response
        refused = response is not None and response.status in (401, 403)
        if response is not None and 200 <= response.status < 300 and is_refusal(response):
            # An error object answered 200 ({"code": 401, ...}) refuses just the same.
            refused = True
        if response is not None and refused:
            message = (
                f"identity {name!r} was refused ({response.status}"
                f"{' with an error body' if response.status < 300 else ''}) on its first "
                f"authenticated request ({endpoint.label}): its endpoints were probed without "
                "working credentials"
            )
            self.warnings.append(message)
            self.notice(message)
            self.check(ENGINE, "auth-health", endpoint, CheckStatus.error, message)
        elif response is not None:
            self.check(
                ENGINE,
                "auth-health",
                endpoint,
                CheckStatus.passed,
                f"{name} accepted ({response.status})",
            )

    def _renewal_problems(self) -> None:
        for problem in self.identities.problems:
            self.warnings.append(problem)
            self.notice(problem)
            self.check(ENGINE, "login", None, CheckStatus.error, problem)

    def _auth_health(self) -> None:
        totals: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        for exchange in self._exchanges:
            if exchange.identity and exchange.response and "authenticated" in exchange.tags:
                totals[exchange.identity] += 1
                if exchange.response.status in (401, 403):
                    refused[exchange.identity] += 1
        for name, total in totals.items():
            share = refused[name] / total
            if total >= _AUTH_MIN_SAMPLES and share > _AUTH_FAILURE_SHARE:
                self.warnings.append(
                    f"identity {name!r}: {refused[name]} of {total} authenticated requests were "
                    "answered 401/403; findings for its endpoints may be incomplete"
                )

    async def _run_probe(self, probe: Probe) -> None:
        try:
            await probe.run(self)
        except Exception as exc:  # a crashing probe becomes data; the scan goes on
            log.exception("probe %s crashed", probe.id)
            said = f"probe crashed: {crash_text(exc)}"
            self.check(probe.id, "run", None, CheckStatus.error, said)
            self.warnings.append(
                f"the {probe.id} probe crashed ({crash_text(exc)}): its checks are incomplete "
                "(the log on stderr holds the traceback)"
            )

    def _guarded(self, probe: Probe, step: str, call: Any) -> None:
        try:
            call()
        except Exception as exc:
            log.exception("probe %s crashed in %s", probe.id, step)
            self.check(
                probe.id,
                step,
                None,
                CheckStatus.error,
                f"probe crashed: {crash_text(exc)}",
            )

    def _observe(self, exchange: Exchange) -> None:
        super()._observe(exchange)
        self._events(RequestDone(self.client.sent, self.scenario.settings.max_requests))
        for probe in self.probes:
            self._guarded(probe, "observe", lambda p=probe: p.observe(exchange))

    def _build_report(self, started: datetime, status: ScanStatus) -> Report:
        findings = sorted(
            self._findings.values(),
            key=lambda f: (-f.severity.rank, f.rule, f.endpoint or ""),
        )
        refused = [x.error or "" for x in self._exchanges if (x.error or "").startswith("refused")]
        self._refusal_warnings(refused)
        target = self.scenario.target
        report = Report(
            tool=ToolInfo(version=__version__),
            scan_id=self.scan_id,
            scenario=self._info,
            target=TargetInfo(
                base_url=target.base_url,
                http_url=target.effective_http_url,
                scope=sorted(self.client.scope),
            ),
            started=started,
            finished=datetime.now(UTC),
            status=status,
            summary=summarise(self._checks, findings, self.client.sent, len(refused)),
            warnings=self.warnings,
            probes=[p.id for p in self.probes],
            endpoints=[e.label for e in self.scenario.endpoints],
            checks=self._checks,
            findings=findings,
            bursts=self._bursts,
        )
        # Last line of defence: whatever field a secret reached (a base URL given as a
        # variable, a header echoed into a title), the report holds its placeholder; and
        # text from the target that no file can hold (lone surrogates) is replaced.
        data = _scrub(report.model_dump(mode="json", by_alias=True))
        return Report.model_validate_json(self.redactor.text(json.dumps(data)))

    def _refusal_warnings(self, refused: list[str]) -> None:
        if self.client.breaker.open:
            self.warnings.append(f"circuit breaker opened: {self.client.breaker.reason}")
        spent = sum(1 for reason in refused if "budget" in reason)
        if spent:
            self.warnings.append(
                f"the request budget (settings.max_requests = "
                f"{self.scenario.settings.max_requests}) ran out: {spent} request(s) or "
                "burst(s) were not sent and the checks that needed them are error"
            )
        probed = any(c.probe != ENGINE for c in self._checks)
        if probed and not probe_verdicts(self._checks):
            self.warnings.append(
                "no check reached a verdict (every one is error or skipped): this scan tested "
                "nothing; see the checks for why"
            )
        outside = sum(1 for reason in refused if "out of scope" in reason)
        if outside:
            self.warnings.append(
                f"{outside} requests or redirects led outside the scope and were not sent"
            )


def crash_text(exc: BaseException) -> str:
    """`Type: message` of the exception that crashed a probe; for a task group's exception
    group, of the first exception inside it (the group's own text says nothing)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _scrub(value: Any) -> Any:
    """Every string with its unencodable characters (lone surrogates) replaced by "?"."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value
