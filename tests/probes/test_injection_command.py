"""The command family of the injection probe against a real Flask app on 127.0.0.1.

Weak routes run `echo` with the value through `/bin/sh`, their twins pass it as an argument
(`apps_injection_command`); scans run the command family alone, one point per endpoint. Time-based
scans use delays of 1 and 2 s (a proof takes about 9 s); the jitter scan uses the default 2
and 5 s: 17 answers of 0 to 3 s each, about 25 s (50 s at worst).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from probe.findings import CheckStatus, Confidence, Finding
from probe.probes.injection_command import FORMS, Form, arithmetic, excerpt, sleep_for, telling
from tests.probes import injection_scan
from tests.probes.apps_injection_command import command_app
from tests.servers import serve_wsgi

RULE = "injection.command-injection"
FAST: dict[str, Any] = {"time_based": True, "delays": [1, 2]}


def _query(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "path": path, "query": {"name": "world"}, "inject": ["name"]}


def _header(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "path": path, "headers": {"X-Name": "world"}, "inject": ["X-Name"]}


OUTPUT = [
    _query("shell", "/shell"),
    _query("args", "/args"),
    _query("greet", "/greet"),
    {
        "name": "ping",
        "method": "POST",
        "path": "/ping",
        "json": {"host": "db"},
        "inject": ["host"],
    },
    _header("header", "/header"),
    _header("header-args", "/args"),
]
TIMED = [_query("shell-blind", "/shell-blind"), _query("args-blind", "/args-blind")]


class Scanned(injection_scan.Scanned):
    """One scan with the command family, and what its tests read."""

    def finding(self, endpoint: str) -> Finding:
        (found,) = self.findings(endpoint)
        assert found.rule == RULE
        return found

    def sent(self, endpoint: str) -> list[str]:
        """The URLs the injection probe sent to an endpoint, in order."""
        return [
            e.request.url
            for e in self.exchanges
            if e.probe == "injection" and e.endpoint == endpoint
        ]

    def answers(self, endpoint: str) -> list[str]:
        return [
            e.response.text()
            for e in self.exchanges
            if e.probe == "injection" and e.endpoint == endpoint and e.response is not None
        ]


def scan(
    url: str,
    endpoints: list[dict[str, Any]],
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> Scanned:
    """One scan with the command family alone (`options`: the probe's)."""
    done = injection_scan.scan_family(url, endpoints, "command", settings, **options)
    return Scanned(done.report, done.exchanges, done.seconds, done.family)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_wsgi(command_app()) as base:
        yield base


@pytest.fixture(scope="module")
def output(url: str) -> Scanned:
    return scan(url, OUTPUT)


@pytest.fixture(scope="module")
def timed(url: str) -> Scanned:
    return scan(url, TIMED, **FAST)


# -- output-based ------------------------------------------------------------------------------


def test_shell_echo_shows_the_product_and_is_reported(output: Scanned) -> None:
    found = output.finding("shell")
    assert found.confidence == Confidence.certain
    assert "after `;`" in found.detail
    product = re.search(r"product (\d+)", found.detail)
    assert product is not None
    assert product.group(1) in found.evidence[0].body_excerpt
    assert output.check("shell").status == CheckStatus.failed
    # The attack, the baseline and the confirmation.
    assert len(found.evidence) == 3


def test_argument_list_echo_is_clean(output: Scanned) -> None:
    assert output.findings("args") == []
    check = output.check("args")
    assert check.status == CheckStatus.passed
    assert "no computed product after 6 shell separators" in check.detail
    assert "time-based payloads off" in check.detail


def test_verbatim_echo_of_the_operands_is_clean(output: Scanned) -> None:
    assert output.findings("greet") == []
    # The operands came back, syntax and all; their product did not.
    assert any("echo $((" in a for a in output.answers("greet"))
    assert any("expr " in a for a in output.answers("greet"))
    assert output.check("greet").status == CheckStatus.passed


def test_json_field_into_a_shell_is_reported(output: Scanned) -> None:
    found = output.finding("ping")
    assert found.parameter == "host"
    assert found.confidence == Confidence.certain


def test_header_into_a_shell_is_reported_and_its_twin_is_clean(output: Scanned) -> None:
    assert output.finding("header").parameter == "X-Name"
    assert output.findings("header-args") == []
    assert "a newline cannot be sent here" in output.check("header-args").detail


def test_a_safe_point_costs_six_requests_after_its_baselines(output: Scanned) -> None:
    assert len(output.sent("args")) == 3 + len(FORMS)


# -- time-based --------------------------------------------------------------------------------


def test_blind_shell_sleep_follows_both_delays_and_is_reported(timed: Scanned) -> None:
    found = timed.finding("shell-blind")
    assert found.confidence == Confidence.firm
    assert "`sleep N` after `;`" in found.detail
    assert "followed every requested delay" in found.detail
    urls = timed.sent("shell-blind")
    for seconds in (0, 1, 2):
        assert sum(u.endswith(f";sleep%20{seconds}") for u in urls) >= 3
    # The finding's first exchange is an attack at the highest level.
    assert ";sleep%202 " in found.evidence[0].request.splitlines()[0]
    assert timed.check("shell-blind").status == CheckStatus.failed


def test_blind_argument_list_does_not_wait_and_is_clean(timed: Scanned) -> None:
    assert timed.findings("args-blind") == []
    check = timed.check("args-blind")
    assert check.status == CheckStatus.passed
    assert "6 separator(s) did not wait for `sleep 2`" in check.detail
    # One screen per separator, and nothing else timed.
    assert sum("sleep%20" in u for u in timed.sent("args-blind")) == len(FORMS)


def test_jittery_endpoint_gives_no_time_based_finding(url: str) -> None:
    jitter = scan(url, [_query("jitter", "/jitter")], settings={"timeout": 10}, time_based=True)
    assert jitter.report.findings == []
    check = jitter.check("jitter")
    assert check.status == CheckStatus.passed
    # Every separator's `sleep 5` was sent and judged, none skipped.
    assert "time-based:" in check.detail
    assert "skipped" not in check.detail
    assert sum("sleep%205" in u for u in jitter.sent("jitter")) >= len(FORMS)


def test_time_based_needs_a_timeout_above_the_highest_delay(url: str) -> None:
    short = scan(url, TIMED[:1], settings={"timeout": 3}, **FAST)
    assert short.report.findings == []
    assert "settings.timeout (3 s)" in short.check("shell-blind").detail
    assert not any("sleep" in u for u in short.sent("shell-blind"))


def test_spent_allowance_skips_the_proof(url: str) -> None:
    spent = scan(url, TIMED[:1], max_wait=5, **FAST)
    assert spent.report.findings == []
    detail = spent.check("shell-blind").detail
    assert "waiting allowance (max_wait) has 5 s left and a proof needs 9 s" in detail
    assert not any("sleep" in u for u in spent.sent("shell-blind"))


# -- payloads and judges -----------------------------------------------------------------------

_ALLOWED = re.compile(r"^(echo \$\(\(\d+\*\d+\)\)|expr \d+ \\\* \d+|sleep \d+)$")


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_payloads_only_compute_echo_or_sleep(form: Form) -> None:
    commands = [
        arithmetic(form, 123456, 654321),
        arithmetic(form, 123456, 654321, confirm=True),
        sleep_for(0),
        sleep_for(5),
    ]
    for command in commands:
        assert _ALLOWED.match(command), command
        wrapped = form.wrap(command)
        for word in ("rm", "shutdown", "curl", "wget", "nc", "reboot", "kill"):
            assert not re.search(rf"\b{word}\b", wrapped)
    assert form.wrap(sleep_for(5)).count("sleep 5") == 1
    assert not re.search(r"sleep \d+s", form.wrap(sleep_for(5)))


def test_confirmation_uses_the_other_arithmetic_syntax() -> None:
    for form in FORMS:
        first, second = arithmetic(form, 2, 3), arithmetic(form, 2, 3, confirm=True)
        assert {first.split()[0], second.split()[0]} == {"echo", "expr"}


def test_product_in_a_baseline_or_the_payload_does_not_tell() -> None:
    payload = "world;echo $((123456*654321))"
    product = 123456 * 654321
    assert telling(product, payload, ["hello"])
    assert not telling(product, payload, [f"id {product}"])
    # An echo that strips the syntax runs the operands together.
    assert not telling(123456654321, payload, [])


def test_excerpt_shows_the_product_in_context() -> None:
    answer = "x" * 200 + "80779853376" + "y" * 200
    shown = excerpt(answer, 200, 11)
    assert shown.startswith("...")
    assert shown.endswith("...")
    assert "x80779853376y" in shown
