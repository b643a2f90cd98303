"""The injection probe's base: where payloads go, how they travel, and the baselines.

The families' own tests are in test_injection_<family>.py; these use a recording echo server.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from probe.engine import Scan
from probe.evidence import curl_command
from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes.base import ProbeContext
from probe.probes.injection_attack import Attack, Baseline
from probe.probes.injection_points import Point, points, with_value
from probe.redact import Redactor
from probe.scenario.models import Endpoint, InjectionConfig
from tests.scan import rules, run, run_scan, scenario
from tests.servers import serve_asgi

Seen = list[dict[str, Any]]


def _recorder(seen: Seen, *, status: int = 200) -> Starlette:
    async def answer(request: Request) -> Response:
        body = await request.body()
        seen.append(
            {
                "target": (request.scope["raw_path"] + b"?" + request.scope["query_string"]),
                "body": body,
                "headers": dict(request.headers),
                "method": request.method,
            }
        )
        return JSONResponse({"ok": True, "rows": ["a", "b"]}, status_code=status)

    return Starlette(routes=[Route("/{rest:path}", answer, methods=["GET", "POST", "DELETE"])])


@pytest.fixture
def recorder() -> Iterator[tuple[str, Seen]]:
    seen: Seen = []
    with serve_asgi(_recorder(seen)) as url:
        yield url, seen


# -- where the points are -------------------------------------------------------------------


def test_inject_all_takes_every_parameter_and_only_json_values() -> None:
    endpoint = Endpoint.model_validate(
        {
            "method": "POST",
            "path": "/users/{id}",
            "path_params": {"id": "7"},
            "query": {"q": "x"},
            "headers": {"X-Tenant": "t1"},
            "json": {"user": {"name": "a", "age": 3}, "note": "n"},
            "inject": "all",
        }
    )
    found = [(p.kind, p.name) for p in points(endpoint)]
    assert found == [
        ("path", "id"),
        ("query", "q"),
        ("header", "X-Tenant"),
        ("json", "user.name"),
        ("json", "user.age"),
        ("json", "note"),
    ]


def test_a_named_object_field_is_one_point_and_a_shared_name_is_one_point_per_place() -> None:
    endpoint = Endpoint.model_validate(
        {
            "path": "/s",
            "query": {"id": "1"},
            "headers": {"id": "2"},
            "json": {"filter": {"a": 1}},
            "method": "POST",
            "inject": ["filter", "id"],
        }
    )
    assert [(p.kind, p.name) for p in points(endpoint)] == [
        ("json", "filter"),
        ("query", "id"),
        ("header", "id"),
    ]
    assert Point("query", "id", "1").label == "query parameter `id`"


# -- how values travel ----------------------------------------------------------------------


def _send_values(
    url: str, endpoint: dict[str, Any], values: list[tuple[str, Any, dict[str, Any]]]
) -> list[Exchange | None]:
    """Send each (point name, value, with_value options) at the endpoint; return exchanges."""
    scn = scenario(url, [endpoint])
    sent: list[Exchange | None] = []

    async def script(ctx: ProbeContext) -> None:
        target = scn.endpoints[0]
        by_name = {(p.name, p.kind): p for p in points(target)}
        for name, value, options in values:
            kind = options.pop("kind")
            spec = with_value(ctx, target, by_name[(name, kind)], value, **options)
            sent.append(None if spec is None else await ctx.send(spec, probe="t", purpose="t"))

    run_scan(scn, script)
    return sent


def test_path_and_query_payloads_reach_the_server_as_written(recorder: tuple[str, Seen]) -> None:
    url, seen = recorder
    endpoint = {
        "path": "/files/{name}",
        "path_params": {"name": "a.txt"},
        "query": {"q": "x", "page": 2},
        "inject": "all",
    }
    sent = _send_values(
        url,
        endpoint,
        [
            ("name", "../../etc/passwd", {"kind": "path"}),
            ("name", "..%2f..%2fetc%2fpasswd", {"kind": "path", "wire": True}),
            ("q", "a b&c=d#e'\"<x>{{7*7}}%", {"kind": "query"}),
            ("q", "y", {"kind": "query", "suffix": "[$ne]"}),
        ],
    )
    # The engine's own baseline request comes first.
    targets = [s["target"] for s in seen if s["target"].startswith(b"/files")][1:]
    assert targets[0] == b"/files/../../etc/passwd?q=x&page=2"
    assert targets[1] == b"/files/..%2f..%2fetc%2fpasswd?q=x&page=2"
    assert targets[2] == b"/files/a.txt?q=a%20b%26c%3Dd%23e'\"<x>{{7*7}}%25&page=2"
    assert targets[3] == b"/files/a.txt?q[$ne]=y&page=2"
    # The report's URL is the raw one, and curl keeps it so: no globbing, no path resolution.
    first, _, third, _ = sent
    assert first is not None
    assert third is not None
    line = curl_command(third, Redactor())
    assert "--globoff" in line
    assert "--path-as-is" in line
    assert first.request.url.endswith("/files/../../etc/passwd?q=x&page=2")


def test_json_form_and_header_values_replace_only_their_field(recorder: tuple[str, Seen]) -> None:
    url, seen = recorder
    body = {"user": {"name": "a", "age": 3}, "note": "n"}
    _send_values(
        url,
        {"method": "POST", "path": "/j", "json": body, "headers": {"X-T": "t"}, "inject": "all"},
        [
            ("user.name", {"$ne": "z"}, {"kind": "json"}),
            ("X-T", "v'1", {"kind": "header"}),
            ("X-T", "line\r\nX-Evil: 1", {"kind": "header"}),
        ],
    )
    _send_values(
        url,
        {"method": "POST", "path": "/f", "form": {"a": "1", "b": "2"}, "inject": ["b"]},
        [("b", "x&y=z", {"kind": "form"}), ("b", "q", {"kind": "form", "suffix": "[$gt]"})],
    )
    # Each endpoint's first request is the engine's own baseline.
    json_sent = [s for s in seen if s["target"] == b"/j?"][1:]
    form_sent = [s for s in seen if s["target"] == b"/f?"][1:]
    assert json.loads(json_sent[0]["body"]) == {
        "user": {"name": {"$ne": "z"}, "age": 3},
        "note": "n",
    }
    assert json_sent[1]["headers"]["x-t"] == "v'1"
    # The header value with a line break cannot be sent: nothing went out for it.
    assert len(json_sent) == 2
    assert [p["body"] for p in form_sent] == [b"a=1&b=x%26y%3Dz", b"a=1&b[$gt]=q"]


# -- the probe around the families ----------------------------------------------------------


def test_no_inject_means_nothing_is_sent(recorder: tuple[str, Seen]) -> None:
    url, seen = recorder
    report = run(scenario(url, [{"path": "/a"}]), probes=["injection"])
    assert [(c.check, c.status) for c in report.checks if c.probe == "injection"] == [
        ("points", CheckStatus.skipped)
    ]
    # Only the engine's own baseline request reached the endpoint.
    assert len([s for s in seen if s["target"].startswith(b"/a")]) == 1


def test_a_delete_endpoint_is_never_sent_payloads(recorder: tuple[str, Seen]) -> None:
    url, seen = recorder
    endpoint = {"method": "DELETE", "path": "/a", "query": {"id": "1"}, "inject": "all"}
    report = run(scenario(url, [endpoint]), probes=["injection"])
    # The engine's one baseline request, as the scenario describes it; no payload.
    assert [s["target"] for s in seen if s["method"] == "DELETE"] == [b"/a?id=1"]
    (check,) = [c for c in report.checks if c.probe == "injection" and c.endpoint]
    assert check.status is CheckStatus.skipped
    assert "DELETE" in check.detail


def test_a_rate_limited_endpoint_gives_errors_and_no_findings() -> None:
    seen: Seen = []
    with serve_asgi(_recorder(seen, status=429)) as url:
        endpoint = {"path": "/a", "query": {"id": "1"}, "inject": ["id"]}
        probes = {"injection": {"families": ["sql", "xss"]}}
        report = run(scenario(url, [endpoint], probes=probes), probes=["injection"])
    checks = [c for c in report.checks if c.probe == "injection"]
    assert [(c.check, c.status) for c in checks] == [
        ("sql", CheckStatus.error),
        ("xss", CheckStatus.error),
    ]
    assert "no baseline" in checks[0].detail
    assert "HTTP 429 twice" in checks[0].detail
    assert rules(report) == []
    # The engine's baseline, then one try and one retry of the probe's first baseline.
    assert len([s for s in seen if s["target"].startswith(b"/a")]) == 3


def _baseline(app: Starlette, endpoint: dict[str, Any]) -> Baseline:
    with serve_asgi(app) as url:
        scn = scenario(url, [endpoint])
        learnt: list[Baseline] = []

        async def script(ctx: ProbeContext) -> None:
            target = scn.endpoints[0]
            config = InjectionConfig()
            attack = Attack(ctx, target, points(target)[0], config, ctx.marker)
            learnt.append(await attack.learn_baseline())

        run_scan(scn, script)
    return learnt[0]


def test_baselines_tell_stable_unstable_and_input_blind_answers() -> None:
    endpoint = {"path": "/a", "query": {"id": "12"}, "inject": ["id"]}

    async def lookup(request: Request) -> Response:
        found = request.query_params["id"] == "12"
        return JSONResponse({"id": 12, "name": "pen"} if found else {"error": "no"}, 200)

    async def shuffled(request: Request) -> Response:
        # A feed of random picks: almost nothing in it repeats from one request to the next.
        return JSONResponse({"feed": [{"t": secrets.token_hex(4)} for _ in range(6)]})

    async def same(request: Request) -> Response:
        return JSONResponse({"items": ["pen", "cup"]})

    stable = _baseline(Starlette(routes=[Route("/a", lookup)]), endpoint)
    assert (stable.stable, stable.ignores_input) == (True, False)
    # A number keeps its kind: the harmless value is digits.
    assert stable.harmless_value.isdigit()
    assert len(stable.latencies) == 3
    blind = _baseline(Starlette(routes=[Route("/a", same)]), endpoint)
    assert (blind.stable, blind.ignores_input) == (True, True)
    unstable = _baseline(Starlette(routes=[Route("/a", shuffled)]), endpoint)
    assert unstable.stable is False


def test_a_lasting_rate_limit_ends_the_endpoint_instead_of_waiting_per_family() -> None:
    seen: Seen = []
    with serve_asgi(_recorder(seen, status=429)) as url:
        endpoint = {"path": "/a", "query": {"id": "1", "q": "x"}, "inject": ["id", "q"]}
        probes = {"injection": {"families": ["sql", "xss"]}}
        report = run(scenario(url, [endpoint], probes=probes), probes=["injection"])
    details = [c.detail for c in report.checks if c.probe == "injection"]
    assert len(details) == 4
    assert details[0].startswith("query parameter `id`: no baseline")
    # The second point is not tried: its checks say why, and nothing was sent for it.
    assert all("not tested: " in d for d in details[2:])
    assert len([s for s in seen if s["target"].startswith(b"/a")]) == 3


def test_a_spent_budget_is_not_retried(recorder: tuple[str, Seen]) -> None:
    url, _ = recorder
    endpoint = {"path": "/a", "query": {"id": "1"}, "inject": ["id"]}
    probes = {"injection": {"families": ["sql", "xss"]}}
    scn = scenario(url, [endpoint], probes=probes, settings={"max_requests": 4})
    scan, report = _scan(scn)
    checks = [c for c in report.checks if c.probe == "injection"]
    assert {c.status for c in checks} == {CheckStatus.error}
    assert "request budget" in checks[0].detail
    assert not [e for e in scan.exchanges() if "(retry)" in e.purpose]


def _scan(scn: Any) -> tuple[Scan, Any]:
    scan = Scan(scn, probes=["injection"])
    return scan, anyio.run(scan.run)


def test_inject_all_without_parameters_says_nothing_was_sent(recorder: tuple[str, Seen]) -> None:
    url, _ = recorder
    endpoint = {"method": "POST", "path": "/a", "body": "raw text", "inject": "all"}
    report = run(scenario(url, [endpoint]), probes=["injection"])
    (check,) = [c for c in report.checks if c.probe == "injection"]
    assert check.status is CheckStatus.skipped
    assert "names no parameter" in check.detail
