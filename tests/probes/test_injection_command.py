"""The command family of the injection probe against a real Flask app on 127.0.0.1.

Weak routes run `echo` with the value through `/bin/sh`, their twins pass it as an argument or
compute without a shell (`apps_injection_command`); scans run the command family alone, one
point per endpoint. Time-based scans use delays of 1 and 2 s (a proof takes about 9 s); the
jitter scan uses the default 2 and 5 s: about 17 answers of 0 to 3 s each (25 s).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from probe.findings import CheckStatus, Confidence, Finding
from probe.probes.injection_command import (
    FORMS,
    Form,
    arithmetic,
    echo_number,
    excerpt,
    shows_operands,
    sleep_for,
    telling,
    without_shell,
)
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
    _query("quoted", "/quoted"),
    {"name": "calc", "path": "/calc", "query": {"q": "apple"}, "inject": ["q"]},
    {"name": "instant", "path": "/instant", "query": {"q": "apple"}, "inject": ["q"]},
    {"name": "dollar", "path": "/dollar", "query": {"q": "apple"}, "inject": ["q"]},
]
TIMED = [
    _query("shell-blind", "/shell-blind"),
    _query("args-blind", "/args-blind"),
    {"name": "poll", "path": "/poll", "query": {"wait": "0"}, "inject": ["wait"]},
    _query("tarpit", "/tarpit"),
    _query("slow", "/slow"),
    _query("picky", "/picky"),
]


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
    assert "a shell ran the command after `;`" in found.detail
    assert "from `expr` after `;`" in found.detail
    assert "without shell syntax showed no product" in found.detail
    product = re.search(r"product (\d+)", found.detail)
    assert product is not None
    assert product.group(1) in found.evidence[0].body_excerpt
    assert output.check("shell").status == CheckStatus.failed
    # The attack, the baseline, the confirmation and the two shell-free controls.
    notes = [e.note.split(":")[0] for e in found.evidence]
    assert notes == ["attack", "baseline", "confirmation", "control", "control"]
    assert "`expr` in `;`, product shown" in found.evidence[2].note
    assert ";echo ((" in found.evidence[4].request.replace("%20", " ")


def test_value_inside_double_quotes_names_the_expansion_and_confirms_with_a_substitution(
    output: Scanned,
) -> None:
    found = output.finding("quoted")
    assert found.confidence == Confidence.certain
    assert "the shell expanded `$((...))` in the value" in found.detail
    assert "`;` did not separate commands there" in found.detail
    assert "a shell ran the command after" not in found.detail
    notes = [e.note for e in found.evidence]
    assert "`expr` in `;`, no product" in notes[2]
    assert "`expr` in `$()`, product shown" in notes[3]
    assert "$(expr" in found.evidence[3].request


def test_calculator_showing_operands_beside_the_product_is_not_command_injection(
    output: Scanned,
) -> None:
    assert output.findings("calc") == []
    check = output.check("calc")
    assert check.status == CheckStatus.passed
    assert "beside its operands" in check.detail
    assert "not counted" in check.detail
    # Told from the answer alone: the hit is the last payload sent.
    assert len(output.sent("calc")) == 3 + 1


def test_instant_answer_computing_bare_arithmetic_is_not_command_injection(
    output: Scanned,
) -> None:
    assert output.findings("instant") == []
    check = output.check("instant")
    assert check.status == CheckStatus.passed
    assert "the arithmetic alone (`apple " in check.detail
    assert "the endpoint computes arithmetic itself" in check.detail


def test_a_product_no_other_shell_syntax_confirms_is_not_reported(output: Scanned) -> None:
    # /dollar computes `$((a*b))` and nothing else: no shell would stop there.
    assert output.findings("dollar") == []
    check = output.check("dollar")
    assert check.status == CheckStatus.passed
    assert "a product appeared once after `;`" in check.detail
    assert "no confirmation in another shell syntax showed its own" in check.detail
    sent = output.sent("dollar")
    assert any("expr" in u and ";" in u for u in sent)
    assert any("$(expr" in u for u in sent)


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
    # The decoy (the number without the sleep) was sent once, and did not wait.
    assert sum(u.endswith(";echo%202") for u in urls) == 1
    # The finding's first exchange is an attack at the highest level.
    assert ";sleep%202 " in found.evidence[0].request.splitlines()[0]
    roles = [e.note.split(":")[0] for e in found.evidence]
    assert roles[:2] == ["attack", "baseline"]
    assert {"2 s delay", "1 s delay", "zero-delay control", "decoy"} <= set(roles)
    # The body is the usual one: the excerpt says the time proves it.
    assert found.evidence[0].body_excerpt.startswith('{"status":"queued"}')
    assert "the answer's time proves it" in found.evidence[0].body_excerpt
    assert timed.check("shell-blind").status == CheckStatus.failed


def test_blind_argument_list_does_not_wait_and_is_clean(timed: Scanned) -> None:
    assert timed.findings("args-blind") == []
    check = timed.check("args-blind")
    assert check.status == CheckStatus.passed
    assert "6 separator(s) did not wait for `sleep 2`" in check.detail
    # One screen per separator, and nothing else timed.
    assert sum("sleep%20" in u for u in timed.sent("args-blind")) == len(FORMS)


def test_long_poll_reading_the_digits_of_its_value_is_not_command_injection(
    timed: Scanned,
) -> None:
    # `0;sleep 2` waits 2 s there, but so does `0;echo 2`: the number, not a shell.
    assert timed.findings("poll") == []
    check = timed.check("poll")
    assert check.status == CheckStatus.passed
    assert "the same number without the sleep (`0;echo 2`) waited" in check.detail
    assert "the endpoint waits by the number in the value" in check.detail
    assert "5 other separator(s) not tried" in check.detail


def test_endpoint_slow_on_the_zero_delay_control_stops_after_one_separator(
    timed: Scanned,
) -> None:
    # /tarpit takes 2.5 s on any value with `sleep`: `;sleep 0` as well as `;sleep 2`.
    assert timed.findings("tarpit") == []
    check = timed.check("tarpit")
    assert check.status == CheckStatus.passed
    assert "a zero-delay answer took 2.5" in check.detail
    assert "more than half the lowest delay (1 s)" in check.detail
    assert "5 other separator(s) not tried" in check.detail
    assert sum("sleep" in u for u in timed.sent("tarpit")) == 2


def test_endpoint_slower_than_half_the_lowest_delay_gets_no_sleep_and_says_so(
    timed: Scanned,
) -> None:
    check = timed.check("slow")
    assert timed.findings("slow") == []
    assert check.status == CheckStatus.skipped
    assert "time-based: not run at this point: the point's unmodified answers took 0.6" in (
        check.detail
    )
    assert "no computed product after 6 shell separators" in check.detail
    assert not any("sleep" in u for u in timed.sent("slow"))


def test_slow_arithmetic_payloads_spare_the_sleep_payloads(timed: Scanned) -> None:
    # /picky takes 0.6 s on every value with shell syntax: a `sleep 0` control would too.
    check = timed.check("picky")
    assert timed.findings("picky") == []
    assert check.status == CheckStatus.passed
    assert "time-based: not tried: every payload with shell syntax took 0.6" in check.detail
    assert "more than half the lowest delay (1 s)" in check.detail
    assert not any("sleep" in u for u in timed.sent("picky"))


def test_jittery_endpoint_gives_no_time_based_finding(url: str) -> None:
    jitter = scan(url, [_query("jitter", "/jitter")], settings={"timeout": 10}, time_based=True)
    assert jitter.report.findings == []
    check = jitter.check("jitter")
    assert check.status == CheckStatus.passed
    # Every separator's `sleep 5` was sent and judged, none skipped.
    assert "time-based:" in check.detail
    assert "skipped" not in check.detail
    assert "not run" not in check.detail
    assert sum("sleep%205" in u for u in jitter.sent("jitter")) >= len(FORMS)


def test_time_based_needs_a_timeout_above_the_highest_delay(url: str) -> None:
    short = scan(url, TIMED[:1], settings={"timeout": 3}, **FAST)
    assert short.report.findings == []
    assert short.check("shell-blind").status == CheckStatus.skipped
    assert "settings.timeout (3 s)" in short.check("shell-blind").detail
    assert not any("sleep" in u for u in short.sent("shell-blind"))


def test_an_allowance_below_one_proof_is_refused_when_the_scenario_loads(url: str) -> None:
    # One proof with delays [1, 2] asks for 9 s: max_wait 5 could never pay for it.
    with pytest.raises(ValidationError, match=r"max_wait \(5 s\) cannot pay"):
        scan(url, TIMED[:1], max_wait=5, **FAST)


def test_a_point_left_without_allowance_is_skipped_and_the_first_is_found(url: str) -> None:
    # Two points into one shell; the first one's proof takes about 9 s of the 12.
    both = {
        "name": "two",
        "path": "/shell-blind",
        "query": {"name": "world", "other": "x"},
        "inject": ["name", "other"],
    }
    scanned = scan(url, [both], max_wait=12, **FAST)
    (found,) = scanned.findings("two")
    assert found.parameter == "name"
    first, second = scanned.checks("two")
    assert first.status == CheckStatus.failed
    assert second.status == CheckStatus.skipped
    assert "query parameter `other`" in second.detail
    assert "not run at this point: the endpoint's waiting allowance (max_wait) has" in (
        second.detail
    )


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
    assert form.wrap(echo_number(5)) == form.wrap(sleep_for(5)).replace("sleep", "echo")


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_shell_free_control_keeps_the_arithmetic_without_expansion(form: Form) -> None:
    control = without_shell(form.wrap(arithmetic(form, 123456, 654321)))
    assert "$" not in control
    assert "`" not in control
    assert "123456" in control
    assert "654321" in control


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


def test_operands_beside_the_product_are_an_evaluator() -> None:
    product = 644054 * 800385
    assert shows_operands(f"644054 * 800385 = {product}", 644054, 800385)
    assert shows_operands(f"644054x800385: {product}", 644054, 800385)
    # A shell's output, or a debug page echoing the command before its output, is not.
    assert not shows_operands(f"hello\n{product}", 644054, 800385)
    assert not shows_operands(f'cmd: echo $((644054*800385)) out: "{product}"', 644054, 800385)


def test_excerpt_shows_the_product_in_context() -> None:
    answer = "x" * 200 + "80779853376" + "y" * 200
    shown = excerpt(answer, 200, 11)
    assert shown.startswith("...")
    assert shown.endswith("...")
    assert "x80779853376y" in shown
