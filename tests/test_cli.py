"""The `probe` command end to end, as a user runs it (subprocesses against local servers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.servers import free_port, serve_asgi

PROBE = [sys.executable, "-m", "probe"]


def probe_cmd(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


class Hits:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()


def counting_app(hits: Hits, delay: float = 0.0) -> Starlette:
    async def item(request: Request) -> Response:
        with hits.lock:
            hits.count += 1
        if delay:
            import anyio

            await anyio.sleep(delay)
        return JSONResponse({"id": 1})

    return Starlette(routes=[Route("/api/{rest:path}", item), Route("/", item)])


SCENARIO = """\
name: cli test
target:
  base_url: {url}/api
settings: {{requests_per_second: 200, timeout: 5}}
endpoints:
  - path: /items/1
  - path: /items/2
"""


def test_version_prints_the_version(tmp_path: Path) -> None:
    result = probe_cmd("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("probe ")


def test_broken_scenario_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "name: x\ntarget:\n  base_ulr: http://127.0.0.1:1\n")
    result = probe_cmd("run", str(path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "bad.yaml:3" in lines[0]
    assert "Traceback" not in result.stderr


def test_validate_accepts_a_good_scenario_without_sending(tmp_path: Path) -> None:
    hits = Hits()
    with serve_asgi(counting_app(hits)) as url:
        path = write(tmp_path / "ok.yaml", SCENARIO.format(url=url))
        result = probe_cmd("validate", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert hits.count == 0


def test_dry_run_prints_the_plan_and_sends_nothing(tmp_path: Path) -> None:
    hits = Hits()
    with serve_asgi(counting_app(hits)) as url:
        path = write(tmp_path / "ok.yaml", SCENARIO.format(url=url))
        result = probe_cmd("run", str(path), "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"GET {url}/api/items/1 (baseline)" in result.stdout
    assert hits.count == 0
    assert not (tmp_path / "reports").exists()


def test_unknown_probe_in_only_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.yaml", SCENARIO.format(url="http://127.0.0.1:9"))
    result = probe_cmd("run", str(path), "--only", "header", cwd=tmp_path)
    assert result.returncode == 2
    assert "did you mean 'headers'" in result.stderr


def test_schema_prints_json_schema(tmp_path: Path) -> None:
    result = probe_cmd("schema", cwd=tmp_path)
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "target" in schema["properties"]


def test_probes_lists_every_probe_id(tmp_path: Path) -> None:
    result = probe_cmd("probes", cwd=tmp_path)
    assert result.returncode == 0
    for probe_id in ("headers", "https", "rate_limit", "jwt", "errors", "injection", "access"):
        assert f"{probe_id}:" in result.stdout
    assert "headers.hsts-missing" in result.stdout


def test_run_writes_json_and_html_reports(tmp_path: Path) -> None:
    hits = Hits()
    with serve_asgi(counting_app(hits)) as url:
        path = write(tmp_path / "ok.yaml", SCENARIO.format(url=url))
        result = probe_cmd("run", str(path), "--out", "out", "--fail-on", "critical", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    latest = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert latest["status"] == "complete"
    assert latest["schema"] == "probe-report/1"
    assert (tmp_path / "out" / "latest.html").is_file()
    assert len(list((tmp_path / "out").glob("ok-*.json"))) == 1
    assert hits.count > 0


def test_unreachable_target_exits_3_and_still_writes_a_report(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    path = write(tmp_path / "dead.yaml", SCENARIO.format(url=url))
    result = probe_cmd("run", str(path), "--out", "out", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    latest = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert latest["status"] == "failed"
    assert "unreachable" in " ".join(latest["warnings"])


def test_findings_at_or_above_fail_on_exit_1(tmp_path: Path) -> None:
    hits = Hits()
    with serve_asgi(counting_app(hits)) as url:
        path = write(tmp_path / "ok.yaml", SCENARIO.format(url=url))
        result = probe_cmd("run", str(path), "--out", "out", "--fail-on", "info", cwd=tmp_path)
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert report["findings"], "the bare JSON API should at least miss nosniff"
    assert result.returncode == 1, result.stderr


@pytest.mark.timeout(60)
def test_ctrl_c_writes_a_partial_report_and_exits_130(tmp_path: Path) -> None:
    hits = Hits()
    with serve_asgi(counting_app(hits, delay=0.5)) as url:
        endpoints = "".join(f"  - path: /slow/{i}\n" for i in range(40))
        text = (
            f"name: slow\ntarget:\n  base_url: {url}/api\n"
            f"settings: {{concurrency: 1, timeout: 5}}\nendpoints:\n{endpoints}"
        )
        path = write(tmp_path / "slow.yaml", text)
        proc = subprocess.Popen(
            [*PROBE, "run", str(path), "--out", "out"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        )
        deadline = time.monotonic() + 30
        while hits.count < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert report["status"] == "interrupted"
    assert hits.count < 40
    # What was collected before the interrupt is still judged.
    assert "headers.nosniff-missing" in {f["rule"] for f in report["findings"]}


def test_unwritable_out_fails_before_anything_is_sent(tmp_path: Path) -> None:
    hits = Hits()
    (tmp_path / "afile").write_text("not a folder")
    with serve_asgi(counting_app(hits)) as url:
        path = write(tmp_path / "ok.yaml", SCENARIO.format(url=url))
        result = probe_cmd("run", str(path), "--out", "afile", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--out afile: cannot write reports there" in result.stderr
    assert hits.count == 0


def test_selection_that_leaves_no_probe_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.yaml", SCENARIO.format(url="http://127.0.0.1:9"))
    result = probe_cmd("run", str(path), "--only", "headers", "--skip", "headers", cwd=tmp_path)
    assert result.returncode == 2
    assert "no probe of this release is left to run" in result.stderr


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "name: x\ntarget:\n  base_ulr: http://127.0.0.1:1\n")
    result = probe_cmd("--debug", "validate", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" in result.stderr


@pytest.mark.parametrize("pair", ["NOEQUALS", "ALICE TOKEN=x", "=x", "1X=y"])
def test_malformed_var_is_a_usage_error(tmp_path: Path, pair: str) -> None:
    path = write(tmp_path / "ok.yaml", SCENARIO.format(url="http://127.0.0.1:9"))
    result = probe_cmd("validate", str(path), "--var", pair, cwd=tmp_path)
    assert result.returncode == 2
    assert "--var takes NAME=VALUE" in result.stderr


def test_a_scan_that_could_judge_nothing_exits_3(tmp_path: Path) -> None:
    hits = Hits()
    with serve_asgi(counting_app(hits)) as url:
        text = SCENARIO.format(url=url).replace("timeout: 5}", "timeout: 5, max_requests: 1}")
        path = write(tmp_path / "tiny.yaml", text)
        # The https probe judges an http:// base_url without a request (https.no-tls).
        result = probe_cmd("run", str(path), "--out", "out", "--skip", "https", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert any("request budget" in w for w in report["warnings"])
    assert any("tested nothing" in w for w in report["warnings"])
    assert hits.count == 1


def test_text_no_file_can_hold_never_breaks_the_report(tmp_path: Path) -> None:
    # A JSON key with an escaped lone surrogate parses into a string UTF-8 cannot encode.
    async def sur(request: Request) -> Response:
        body = '{"x\\ud800_password": "Abc12345!xyz", "note": "\\udfff"}'
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/api/{rest:path}", sur), Route("/", sur)])
    with serve_asgi(app) as url:
        path = write(tmp_path / "s.yaml", SCENARIO.format(url=url))
        result = probe_cmd("run", str(path), "--out", "out", "--fail-on", "critical", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "internal error" not in result.stderr
    report = json.loads((tmp_path / "out" / "latest.json").read_text(encoding="utf-8"))
    assert report["status"] == "complete"


def test_a_base_url_given_as_a_variable_never_shows(tmp_path: Path) -> None:
    hits = Hits()
    with serve_asgi(counting_app(hits)) as url:
        text = SCENARIO.replace("base_url: {url}/api", "base_url: ${{BU}}/api").format()
        path = write(tmp_path / "v.yaml", text)
        host = url.split("//", 1)[1]
        dry = probe_cmd("run", str(path), "--var", f"BU={url}", "--dry-run", cwd=tmp_path)
        result = probe_cmd(
            "run", str(path), "--var", f"BU={url}", "--out", "out", "-vv", cwd=tmp_path
        )
    assert hits.count > 0
    assert "${BU}/api/items/1" in dry.stdout
    written = (tmp_path / "out" / "latest.json").read_text() + (
        tmp_path / "out" / "latest.html"
    ).read_text()
    for text in (dry.stdout, result.stderr, written):
        assert host not in text
        assert url not in text


def test_credentials_in_scenario_headers_count_as_authenticated(tmp_path: Path) -> None:
    hits = Hits()
    with serve_asgi(counting_app(hits)) as url:
        text = SCENARIO.format(url=url).replace(
            "  base_url:", "  headers: {Authorization: Bearer static-token-1}\n  base_url:"
        )
        path = write(tmp_path / "a.yaml", text)
        probe_cmd("run", str(path), "--out", "out", "--only", "headers", cwd=tmp_path)
    report = json.loads((tmp_path / "out" / "latest.json").read_text())
    cache = [c for c in report["checks"] if c["check"] == "cache-control"]
    assert cache
    assert all(c["status"] != "skipped" for c in cache), cache
