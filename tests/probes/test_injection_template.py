"""The template family against a real Jinja2 app, and its pure judges.

One scan covers every route of `apps_injection_template` (weak routes and their twins); the
tests read its findings and checks per endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.exchange import ResponseRecord
from probe.findings import CheckStatus
from probe.probes.injection_template_judges import (
    HIGH,
    LOW,
    SINGLE_BRACES,
    SYNTAXES,
    evaluated,
    new_product,
    operands,
    product_excerpt,
    product_in,
)
from tests.probes import apps_injection_template as apps
from tests.probes.injection_scan import Scanned, scan_family
from tests.servers import serve_asgi

RULE = "injection.template-injection"


def _query(name: str, key: str = "name", value: str = "alice") -> dict[str, Any]:
    return {"name": name, "path": f"/{name}", "query": {key: value}, "inject": [key]}


ENDPOINTS = [
    _query("hello"),
    {
        "name": "greet",
        "method": "POST",
        "path": "/greet",
        "json": {"name": "alice"},
        "inject": ["name"],
    },
    {"name": "banner", "path": "/banner", "headers": {"X-Client": "web"}, "inject": ["X-Client"]},
    _query("single"),
    _query("spel"),
    _query("spel-safe"),
    _query("tagline"),
    _query("tagline-safe"),
    _query("hello-safe"),
    _query("echo"),
    _query("strip"),
    _query("calc", "expr", "2*3"),
    _query("same"),
]


@pytest.fixture(scope="module")
def scanned() -> Iterator[Scanned]:
    with serve_asgi(apps.app()) as base:
        yield scan_family(base, ENDPOINTS, "template")


# -- weak routes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["hello", "greet", "banner"])
def test_jinja2_rendering_input_as_template_is_reported(scanned: Scanned, endpoint: str) -> None:
    found = scanned.findings(endpoint)
    assert [f.rule for f in found] == [RULE]
    assert "`{{" in found[0].detail
    assert "Jinja2" in found[0].detail
    assert scanned.check(endpoint).status == CheckStatus.failed


def test_only_the_jinja2_syntax_is_named_as_evaluated(scanned: Scanned) -> None:
    detail = scanned.check("hello").detail
    assert "{{a*b}}: product computed ({{a*b}})" in detail
    for label in ("${a*b}", "<%= a*b %>", "#{a*b}"):
        assert f"{label}: no product" in detail


def test_finding_carries_the_product_excerpt_and_a_second_pair(scanned: Scanned) -> None:
    finding = scanned.findings("hello")[0]
    attack = finding.evidence[0]
    assert "Hello " in (attack.body_excerpt or "")
    assert len(finding.evidence) >= 3  # attack, baseline, second pair (and the control)
    assert finding.reproduce is not None
    assert "--globoff" in finding.reproduce


def test_body_excerpt_holds_no_header_values(scanned: Scanned) -> None:
    excerpt = scanned.findings("hello")[0].evidence[0].body_excerpt or ""
    assert "<p>Hello " in excerpt
    for header_value in ("uvicorn", "text/html", "GMT"):
        assert header_value not in excerpt


def test_product_in_a_response_header_is_reported_and_shown_as_that_header(
    scanned: Scanned,
) -> None:
    found = scanned.findings("tagline")
    assert [f.rule for f in found] == [RULE]
    excerpt = found[0].evidence[0].body_excerpt or ""
    assert excerpt.lower().startswith("header x-tagline: hi ")
    assert "42" not in excerpt


def test_single_brace_engine_is_named_as_such(scanned: Scanned) -> None:
    found = scanned.findings("single")
    assert [f.rule for f in found] == [RULE]
    assert "single-brace" in found[0].detail
    assert "Jinja2" not in found[0].detail


def test_engine_multiplying_in_32_bits_is_reported(scanned: Scanned) -> None:
    found = scanned.findings("spel")
    assert [f.rule for f in found] == [RULE]
    assert "`${" in found[0].detail


# -- twins ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", ["hello-safe", "tagline-safe", "echo", "strip", "calc", "same", "spel-safe"]
)
def test_twin_is_clean(scanned: Scanned, endpoint: str) -> None:
    assert scanned.findings(endpoint) == []
    assert scanned.check(endpoint).status == CheckStatus.passed


def test_calculator_is_caught_by_the_bare_expression_control(scanned: Scanned) -> None:
    assert "the bare expression `a*b` is computed too" in scanned.check("calc").detail


def test_safe_point_costs_four_requests_and_the_scan_is_quick(scanned: Scanned) -> None:
    sent = [e for e in scanned.exchanges if e.endpoint == "hello-safe" and "template" in e.purpose]
    assert len(sent) == len(SYNTAXES)
    assert scanned.seconds < 30


# -- pure judges ----------------------------------------------------------------------------------


def page(text: str, status: int = 200) -> ResponseRecord:
    return ResponseRecord(status, "HTTP/1.1", (("Content-Type", "text/html"),), text.encode())


A, B = 123456, 654321
P = A * B  # 80779853376


def test_product_counts_as_a_whole_number() -> None:
    assert product_in(f"Hello {P}!", A, B) == str(P)
    assert product_in(f"Hello 9{P}", A, B) is None
    assert product_in(f"Hello {P}7", A, B) is None
    assert product_in(f"v1.{P}", A, B) is None


def test_grouped_product_counts() -> None:
    assert product_in("Total: 80,779,853,376", A, B) == "80,779,853,376"


@pytest.mark.parametrize(
    "echo", [f"{{{{{A}*{B}}}}}", f"{A}*{B}", f"{A}{B}", f"{A} * {B}", f"{B}{A}", ""]
)
def test_echo_of_the_operands_is_not_a_product(echo: str) -> None:
    assert product_in(f"Hello {echo}!", A, B) is None


@given(st.integers(LOW, HIGH), st.integers(LOW, HIGH))
def test_no_echo_of_any_operands_holds_their_product(a: int, b: int) -> None:
    for syntax in SYNTAXES:
        text = syntax.expression(a, b)
        for echo in (text, f"{a}*{b}", f"{a}{b}", f"{b}{a}", f"{a} {b}"):
            assert product_in(echo, a, b) is None


def test_product_already_in_a_baseline_does_not_count() -> None:
    assert new_product(page(f"id {P}"), A, B, [page(f"id {P}")]) is None
    assert new_product(page(f"id {P}"), A, B, [page("id 1")]) == str(P)


def test_product_in_a_header_counts() -> None:
    answer = ResponseRecord(200, "HTTP/1.1", (("X-Greeting", f"hi {P}"),), b"ok")
    assert new_product(answer, A, B, [page("ok")]) == str(P)


def test_excerpt_shows_the_body_when_the_product_is_there() -> None:
    answer = ResponseRecord(200, "HTTP/1.1", (("Server", "uvicorn"),), f"<p>Hi {P}</p>".encode())
    assert product_excerpt(answer, str(P)) == f"<p>Hi {P}</p>"


def test_excerpt_names_the_header_holding_the_product() -> None:
    headers = (("Server", "uvicorn"), ("X-Greeting", f"hi {P}"))
    answer = ResponseRecord(200, "HTTP/1.1", headers, b"ok")
    assert product_excerpt(answer, str(P)) == f"header X-Greeting: hi {P}"


def test_leftover_dollar_means_single_braces_evaluated() -> None:
    dollar = SYNTAXES[1]
    assert evaluated(dollar, f"Hello ${P}", str(P)) is SINGLE_BRACES
    assert evaluated(dollar, f"Hello {P}", str(P)) is dollar
    jinja = SYNTAXES[0]
    assert evaluated(jinja, f"Hello {{{P}}}", str(P)) is SINGLE_BRACES
    assert evaluated(jinja, f"Hello {P}", str(P)) is jinja


def test_operands_are_fresh_five_digit_numbers() -> None:
    drawn = {operands() for _ in range(20)}
    assert len(drawn) > 15
    assert all(LOW <= a <= HIGH and LOW <= b <= HIGH for a, b in drawn)


def test_every_product_fits_a_signed_32_bit_integer_and_has_nine_digits() -> None:
    assert HIGH * HIGH < 2**31
    assert len(str(LOW * LOW)) == 9
