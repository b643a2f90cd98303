"""The engine's guards in whole scans against real servers on 127.0.0.1.

A test-only probe (`Script`) sends what each test needs through the engine, so these tests do
not depend on the real probes; every server counts what actually reached it.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from probe import __version__
from probe.engine import Scan
from probe.errors import ScanAbort
from probe.exchange import Exchange
from probe.findings import CheckStatus, Severity
from probe.probes.base import ProbeContext, RequestSpec
from probe.report import Report, ScanStatus
from probe.runner import EXIT_NOT_RUN, exit_code
from tests.scan import ScriptFn, run_scan, scenario
from tests.servers import free_port, serve_asgi, serve_raw, serve_wsgi

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Hit:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Target:
    """An ASGI app answering `status` (after `delay` seconds), recording every request."""

    status: int = 200
    delay: float = 0.0
    location: str | None = None
    hits: list[Hit] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self.lock:
            self.hits.append(Hit(scope["path"], headers, time.monotonic()))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            status, extra = self.status, []
            if self.location is not None and scope["path"] == "/go":
                status, extra = 302, [(b"location", self.location.encode())]
            start = {"type": "http.response.start", "status": status, "headers": extra}
            await send(start)
            await send({"type": "http.response.body", "body": b"{}"})
        finally:
            with self.lock:
                self.in_flight -= 1


async def get(ctx: ProbeContext, url: str) -> Exchange:
    return await ctx.send(RequestSpec("GET", url), probe="script", purpose="test")


def send_many(urls: Sequence[str], *, concurrent: bool) -> ScriptFn:
    async def script(ctx: ProbeContext) -> None:
        if not concurrent:
            for url in urls:
                await get(ctx, url)
            return
        async with anyio.create_task_group() as group:
            for url in urls:
                group.start_soon(get, ctx, url)

    return script


def errors_of(scan: Scan, probe: str = "script") -> list[str]:
    return [x.error or "" for x in scan.exchanges() if x.probe == probe]


# -- scope guard ------------------------------------------------------------------------------


def _locations(outside: str, inside: str) -> list[str]:
    out_port, in_port = outside.rsplit(":", 1)[1], inside.rsplit(":", 1)[1]
    return [
        f"{outside}/landing",
        f"//127.0.0.1:{out_port}/landing",
        f"http://localhost:{out_port}/landing",
        f"http://127.0.0.1:{in_port}@127.0.0.1:{out_port}/landing",
        f"http://127.0.0.1:{in_port}\\@127.0.0.1:{out_port}/landing",
    ]


@pytest.mark.parametrize("which", range(5))
def test_redirect_to_a_second_local_server_out_of_scope_is_never_sent(which: int) -> None:
    outside_app, inside_app = Target(), Target()
    chains: list[list[Exchange]] = []
    with serve_asgi(outside_app) as outside, serve_asgi(inside_app) as inside:
        inside_app.location = _locations(outside, inside)[which]

        async def script(ctx: ProbeContext) -> None:
            assert isinstance(ctx, Scan)
            spec = RequestSpec("GET", inside + "/go")
            chain = await ctx.send_chain(spec, probe="script", purpose="t", follow_redirects=True)
            chains.append(chain)

        _scan, report = run_scan(scenario(inside, [{"path": "/go"}]), script)
    assert outside_app.hits == []
    chain = chains[0]
    assert [x.response.status if x.response else None for x in chain] == [302, None]
    assert (chain[-1].error or "").startswith("refused: out of scope")
    assert report.summary.refused == 1
    assert report.status is ScanStatus.complete


def test_direct_request_out_of_scope_is_refused_and_recorded() -> None:
    outside_app, inside_app = Target(), Target()
    with serve_asgi(outside_app) as outside, serve_asgi(inside_app) as inside:
        scan, report = run_scan(scenario(inside, []), send_many([outside + "/x"], concurrent=False))
    assert outside_app.hits == []
    assert errors_of(scan)[0].startswith("refused: out of scope: 127.0.0.1:")
    assert report.summary.refused == 1
    assert report.summary.requests == 1  # the reachability request only


@pytest.mark.parametrize(("with_port", "reached"), [(True, 0), (False, 1)])
def test_scope_entry_without_port_admits_every_port_of_the_host(
    with_port: bool, reached: int
) -> None:
    outside_app, inside_app = Target(), Target()
    with serve_asgi(outside_app) as outside, serve_asgi(inside_app) as inside:
        host = inside.split("/")[2] if with_port else "127.0.0.1"
        scn = scenario(inside, [], target={"base_url": inside, "scope": [host]})
        run_scan(scn, send_many([outside + "/x"], concurrent=False))
    assert len(outside_app.hits) == reached


# -- circuit breaker --------------------------------------------------------------------------


def failing_wsgi(hits: list[float]) -> Callable[..., list[bytes]]:
    """A WSGI app answering 503 to everything (Werkzeug answers in one write: no Nagle delay
    blurs the gaps between requests)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        hits.append(time.monotonic())
        start_response("503 Service Unavailable", [("Content-Length", "2")])
        return [b"{}"]

    return app


def test_breaker_slows_down_then_stops_sending_to_a_failing_target() -> None:
    hits: list[float] = []
    with serve_wsgi(failing_wsgi(hits)) as base:
        scn = scenario(base, [], settings={"requests_per_second": 50})
        scan, report = run_scan(scn, send_many([base + "/x"] * 60, concurrent=False))
    open_after = scan.client.breaker.open_after
    assert len(hits) == open_after
    gaps = [b - a for a, b in itertools.pairwise(hits)]
    early = sum(gaps[:5]) / 5
    late = sum(gaps[-8:]) / 8
    assert late > 2 * early  # paced at 4x the interval once 8 failures ran in a row
    refused = [e for e in errors_of(scan) if e.startswith("refused: target kept failing")]
    assert len(refused) == 60 - (open_after - 1)
    assert any("circuit breaker" in w for w in report.warnings)
    assert report.status is ScanStatus.complete


def test_breaker_also_stops_requests_already_waiting_for_a_slot() -> None:
    app = Target(status=503, delay=0.01)
    with serve_asgi(app) as base:
        scn = scenario(base, [], settings={"requests_per_second": 1000, "concurrency": 4})
        scan, report = run_scan(scn, send_many([base + "/x"] * 100, concurrent=True))
    assert len(app.hits) <= scan.client.breaker.open_after + 4
    assert report.summary.requests == len(app.hits)
    assert report.summary.refused == 100 + 1 - len(app.hits)


def test_refusals_from_the_plain_http_twin_never_open_the_breaker() -> None:
    app = Target()
    with serve_asgi(app) as base:
        twin = f"http://127.0.0.1:{free_port()}"  # nothing listens: plain HTTP refused
        scn = scenario(base, [], target={"base_url": base, "http_url": twin})
        urls = [twin + "/x"] * 30 + [base + "/y"] * 3
        scan, _report = run_scan(scn, send_many(urls, concurrent=False))
    assert not scan.client.breaker.open
    assert [h.path for h in app.hits].count("/y") == 3


def test_dead_target_at_start_aborts_with_a_failed_report() -> None:
    scn = scenario(f"http://127.0.0.1:{free_port()}", [{"path": "/a"}])
    scan = Scan(scn, probes=[])
    with pytest.raises(ScanAbort) as caught:
        anyio.run(scan.run)
    report = caught.value.report
    assert isinstance(report, Report)
    assert report.status is ScanStatus.failed
    assert any("unreachable" in w for w in report.warnings)
    assert report.summary.requests == 1


def test_target_dying_after_reachability_yields_error_checks_not_a_crash() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    with serve_raw(answer, limit=1) as base:
        scn = scenario(base, [{"path": "/a"}, {"path": "/b"}])

        async def script(ctx: ProbeContext) -> None:
            for endpoint in ctx.scenario.endpoints:
                exchange = await ctx.send(
                    ctx.endpoint_request(endpoint), probe="script", purpose="t", endpoint=endpoint
                )
                status = CheckStatus.error if exchange.error else CheckStatus.passed
                ctx.check("script", "reach", endpoint, status, exchange.error or "")

        _scan, report = run_scan(scn, script)
    assert report.status is ScanStatus.complete
    baseline = [c for c in report.checks if c.probe == "engine" and c.check == "baseline"]
    assert [(c.endpoint, c.status) for c in baseline] == [
        ("GET /a", CheckStatus.error),
        ("GET /b", CheckStatus.error),
    ]
    assert all("connect" in c.detail for c in baseline)
    script_checks = [c.status for c in report.checks if c.probe == "script"]
    assert script_checks == [CheckStatus.error, CheckStatus.error]


# -- budget and politeness --------------------------------------------------------------------


@pytest.mark.parametrize("concurrent", [False, True])
def test_max_requests_is_never_exceeded_and_refusals_are_counted(concurrent: bool) -> None:
    app = Target()
    with serve_asgi(app) as base:
        scn = scenario(base, [{"path": "/a"}], settings={"max_requests": 10})
        scan, report = run_scan(scn, send_many([base + "/x"] * 30, concurrent=concurrent))
    assert len(app.hits) == 10
    assert report.summary.requests == 10
    assert report.summary.refused == 30 + 2 - 10
    budget = [e for e in errors_of(scan) if e == "refused: request budget of 10 spent"]
    assert len(budget) == 22


def test_requests_per_second_spaces_request_starts() -> None:
    app = Target()
    with serve_asgi(app) as base:
        scn = scenario(base, [], settings={"requests_per_second": 50})
        run_scan(scn, send_many([base + "/x"] * 20, concurrent=True))
    assert len(app.hits) == 21
    span = app.hits[-1].at - app.hits[0].at
    assert span >= 0.9 * 20 / 50


def test_concurrency_never_exceeds_the_setting() -> None:
    app = Target(delay=0.1)
    with serve_asgi(app) as base:
        scn = scenario(base, [], settings={"requests_per_second": 1000, "concurrency": 3})
        run_scan(scn, send_many([base + "/x"] * 12, concurrent=True))
    assert len(app.hits) == 13
    assert 2 <= app.max_in_flight <= 3


# -- what every request carries ---------------------------------------------------------------


def test_every_request_carries_user_agent_and_scan_id() -> None:
    app = Target()
    with serve_asgi(app) as base:
        scn = scenario(
            base,
            [{"path": "/a", "identity": "bob"}],
            identities={
                "bob": {"login": {"path": "/login", "json": {"u": "bob"}, "token_path": "t"}}
            },
        )
        _, report = run_scan(scn, send_many([base + "/x"] * 3, concurrent=False))
    # reachability, login, script; the login fails, so bob's baseline is not sent at all
    assert len(app.hits) == 1 + 1 + 3
    for hit in app.hits:
        assert hit.headers["user-agent"] == f"probe/{__version__}"
        assert hit.headers["x-probe-scan-id"] == report.scan_id


def test_a_refused_certificate_runs_only_the_https_probe_and_says_why(tmp_path: Any) -> None:
    import trustme

    ca = trustme.CA()  # nobody trusts it: verification (the system store) refuses it
    pem = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(pem)
    target = Target()
    with serve_asgi(target, ssl_certfile=str(pem), ssl_keyfile=str(pem)) as url:
        scn = scenario(
            url, [{"path": "/a"}], target={"base_url": url, "http_url": f"http://{url[8:]}"}
        )
        scan = Scan(scn, probes=["headers", "https", "errors"])
        report = anyio.run(scan.run)
    assert report.status is ScanStatus.complete
    assert "https.tls-untrusted" in {f.rule for f in report.findings}
    assert {f.probe for f in report.findings} == {"https"}
    skipped = {c.probe for c in report.checks if c.check == "run"}
    assert skipped == {"headers", "errors"}
    others = [c for c in report.checks if c.probe in ("headers", "errors")]
    assert [c.status for c in others if c.status is not CheckStatus.skipped] == [], others
    assert any("certificate" in w and "was refused" in w for w in report.warnings)
    # Nothing but the reachability request, the https probe's handshakes and its plain-HTTP
    # requests went out; no login, no baseline.
    assert not [x for x in scan.exchanges() if x.purpose == "baseline"]


def test_a_scan_whose_only_verdicts_are_the_engines_own_tested_nothing() -> None:
    # The login and the identity's first request work; every probe check then fails to judge.
    async def login(request: Any) -> Any:
        return JSONResponse({"token": "opaque-token-0123456789"})

    async def me(request: Any) -> Any:
        return JSONResponse({"name": "alice"})

    app = Starlette(routes=[Route("/login", login, methods=["POST"]), Route("/me", me)])
    alice = {"login": {"path": "/login", "token_path": "token"}}
    with serve_asgi(app) as url:
        scn = scenario(url, [{"path": "/me", "identity": "alice"}], identities={"alice": alice})

        async def nothing(ctx: ProbeContext) -> None:
            ctx.check("script", "t", None, CheckStatus.error, "could not judge")

        _, report = run_scan(scn, nothing)
    engine = [c for c in report.checks if c.probe == "engine"]
    assert engine
    assert all(c.status is CheckStatus.passed for c in engine)
    assert exit_code(report, Severity.high) == EXIT_NOT_RUN
    assert any("tested nothing" in w for w in report.warnings)


def test_a_probe_crashing_in_a_task_group_names_the_real_error() -> None:
    async def crash(ctx: ProbeContext) -> None:
        async def bad() -> None:
            int(float("nan"))

        async with anyio.create_task_group() as group:
            group.start_soon(bad)

    with serve_asgi(Starlette(routes=[])) as url:
        _, report = run_scan(scenario(url, []), crash)
    (check,) = [c for c in report.checks if c.check == "run"]
    assert check.status is CheckStatus.error
    assert "ValueError: cannot convert float NaN to integer" in check.detail
    assert any("probe crashed (ValueError" in w for w in report.warnings)
