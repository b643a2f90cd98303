"""The rate-limit header parsers, called directly: each form servers send, each value that
cannot be right, and properties (they never raise; what is written is read back)."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime
from typing import Any

import http_sf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.probes.rate_limit_headers import (
    LIMIT_HEADERS,
    Delay,
    canonical,
    millisecond_delays,
    parse_legacy_reset,
    parse_ratelimit,
    parse_ratelimit_policy,
    parse_retry_after,
    read_header,
    read_limit_info,
)
from probe.probes.rate_limit_values import (
    ABSURD,
    TOO_LARGE,
    is_epoch,
    seconds_text,
    whole_seconds,
)

NOW = 1_750_000_000.0  # a fixed "now" (June 2025) keeps the epoch checks deterministic


def reasons(lines: list[tuple[str, str]]) -> list[str]:
    return [p.reason for p in read_limit_info(lines, NOW).problems]


# -- Retry-After ---------------------------------------------------------------------------------


def test_retry_after_seconds_is_the_wait() -> None:
    info = read_limit_info([("Retry-After", "30")], NOW)
    assert (info.wait, info.wait_source, info.problems) == (30.0, "Retry-After", ())


def test_retry_after_http_date_is_read_as_a_wait() -> None:
    date = email.utils.formatdate(NOW + 12, usegmt=True)
    info = read_limit_info([("retry-after", date)], NOW)
    assert info.wait == pytest.approx(12, abs=1)
    assert info.problems == ()


def test_retry_after_date_with_minus_zero_zone_is_accepted() -> None:
    # slowapi's http-date form: RFC 2822 with -0000 rather than GMT; clients read it.
    info = read_limit_info([("Retry-After", email.utils.formatdate(NOW + 5))], NOW)
    assert info.wait == pytest.approx(5, abs=1)
    assert info.problems == ()


def test_retry_after_date_long_past_is_reported() -> None:
    date = email.utils.formatdate(NOW - 3 * 86400, usegmt=True)
    assert reasons([("Retry-After", date)]) == ["an HTTP date more than a day in the past"]


def test_retry_after_fraction_is_reported_but_still_waited() -> None:
    info = read_limit_info([("Retry-After", "1.5")], NOW)
    assert [p.reason for p in info.problems] == ["a decimal number where whole seconds are meant"]
    assert info.wait == 1.5


def test_retry_after_negative_is_reported_and_not_waited() -> None:
    info = read_limit_info([("Retry-After", "-3")], NOW)
    assert [p.reason for p in info.problems] == ["a negative number"]
    assert info.wait is None


def test_retry_after_epoch_is_reported_with_the_wait_it_meant() -> None:
    info = read_limit_info([("Retry-After", str(int(NOW) + 20))], NOW)
    assert [p.reason for p in info.problems] == ["an epoch time where a delay in seconds is meant"]
    assert info.wait == pytest.approx(20)


def test_retry_after_epoch_in_milliseconds_is_reported() -> None:
    value = str(int(NOW * 1000) + 5000)
    assert reasons([("Retry-After", value)]) == [
        "an epoch time in milliseconds where a delay is meant"
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [("soon", "neither a delay in seconds nor an HTTP date"), ("", "empty"), ("1e3", "neither")],
)
def test_retry_after_unparsable_is_reported(value: str, reason: str) -> None:
    found = reasons([("Retry-After", value)])
    assert len(found) == 1
    assert found[0].startswith(reason)


# -- RateLimit / RateLimit-Policy ----------------------------------------------------------------


def test_ratelimit_current_draft_gives_its_reset() -> None:
    info = read_limit_info([("RateLimit", '"default";r=0;t=30')], NOW)
    assert (info.wait, info.wait_source, info.problems) == (30.0, "RateLimit;t", ())


def test_ratelimit_earlier_dictionary_form_is_read() -> None:
    reading = parse_ratelimit("limit=10, remaining=0, reset=7", NOW)
    assert [d.seconds for d in reading.delays] == [7.0]
    assert reading.problems == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"default";r=0;t=1.5', "t is a decimal number where whole seconds are meant"),
        ('"default";r=-1;t=3', "r is a negative number"),
        ('"default";t=3', "a policy without its r (remaining)"),
        ('"default";r=0;t=-2', "t is a negative number"),
        ("garbage;;", "not a structured field list"),
        ("limit=?1", "limit is not a number"),
    ],
)
def test_ratelimit_wrong_values_are_reported(value: str, reason: str) -> None:
    assert [p.reason for p in parse_ratelimit(value, NOW).problems] == [reason]


def test_ratelimit_reset_as_epoch_is_reported() -> None:
    value = f'"default";r=0;t={int(NOW) + 9}'
    found = [p.reason for p in parse_ratelimit(value, NOW).problems]
    assert found == ["t is an epoch time where a delay in seconds is meant"]


@pytest.mark.parametrize("value", ['"burst";q=100;w=60', "100;w=60", '"a";q=5, "b";q=50;w=3600'])
def test_ratelimit_policy_forms_are_accepted(value: str) -> None:
    assert parse_ratelimit_policy(value).problems == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"burst";w=60', "without its q (quota)"),
        ('"burst";q=1.5;w=60', "q is a decimal number where a whole count is meant"),
        ('"burst";q=10;w=0', "w is zero (a window has a length)"),
        ('"burst";q=10;w=-5', "w is a negative number"),
        ("((", "not a structured field list"),
    ],
)
def test_ratelimit_policy_wrong_values_are_reported(value: str, reason: str) -> None:
    assert [p.reason for p in parse_ratelimit_policy(value).problems] == [reason]


# -- older and legacy names ----------------------------------------------------------------------


def test_draft_reset_header_as_epoch_is_reported() -> None:
    found = reasons([("RateLimit-Reset", str(int(NOW) + 30))])
    assert found == ["an epoch time where a delay in seconds is meant"]


def test_draft_limit_with_policies_is_read() -> None:
    assert reasons([("RateLimit-Limit", "100, 100;w=60"), ("RateLimit-Remaining", "0")]) == []


def test_draft_remaining_fraction_is_reported() -> None:
    found = reasons([("RateLimit-Remaining", "0.5")])
    assert found == ["a decimal number where a whole count is meant"]


def test_legacy_reset_as_epoch_is_a_wait() -> None:
    reading = parse_legacy_reset(f"{NOW + 42.5}", NOW)
    assert reading.problems == ()
    assert reading.delays[0].seconds == pytest.approx(42.5)


def test_legacy_reset_as_epoch_milliseconds_is_a_wait() -> None:
    reading = parse_legacy_reset(str(int(NOW * 1000) + 8000), NOW)
    assert reading.delays[0].seconds == pytest.approx(8, abs=0.01)


def test_legacy_fractions_are_accepted() -> None:
    # One API family sends X-RateLimit-Reset with milliseconds after a decimal point.
    assert reasons([("X-RateLimit-Reset", "1.234"), ("X-RateLimit-Remaining", "4")]) == []


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("X-RateLimit-Remaining", "-1", "a negative number"),
        ("X-RateLimit-Limit", "lots", "not a number"),
        ("X-RateLimit-Reset", "tomorrow", "not a number"),
    ],
)
def test_legacy_wrong_values_are_reported(name: str, value: str, reason: str) -> None:
    assert reasons([(name, value)]) == [reason]


# -- one answer ----------------------------------------------------------------------------------


def test_milliseconds_beside_seconds_are_reported_on_the_larger() -> None:
    info = read_limit_info([("Retry-After", "1000"), ("RateLimit", '"d";r=0;t=1')], NOW)
    assert [(p.header, p.value) for p in info.problems] == [("Retry-After", "1000")]
    assert "milliseconds" in info.problems[0].reason
    assert (info.wait, info.wait_source) == (1.0, "RateLimit;t")


def test_a_long_wait_alone_is_not_milliseconds() -> None:
    assert millisecond_delays([Delay("Retry-After", 3600, 3600)]) == []


def test_consistent_delays_are_not_milliseconds() -> None:
    lines = [("Retry-After", "60"), ("RateLimit", '"d";r=0;t=60'), ("X-RateLimit-Reset", "60")]
    assert reasons(lines) == []


def test_present_names_are_canonical_and_ordered() -> None:
    lines = [("x-ratelimit-limit", "5"), ("RETRY-AFTER", "1"), ("ratelimit-policy", "5;w=1")]
    info = read_limit_info(lines, NOW)
    assert info.present == ("Retry-After", "RateLimit-Policy", "X-RateLimit-Limit")


def test_unrelated_headers_say_nothing() -> None:
    info = read_limit_info([("Content-Type", "application/json")], NOW)
    assert (info.present, info.wait, info.problems) == ((), None, ())


def test_canonical_names() -> None:
    assert canonical("x-ratelimit-reset") == "X-RateLimit-Reset"
    assert canonical("RATELIMIT-POLICY") == "RateLimit-Policy"


# -- properties ----------------------------------------------------------------------------------


@given(st.sampled_from(LIMIT_HEADERS), st.text(max_size=80))
def test_parsers_never_raise(name: str, value: str) -> None:
    reading = read_header(name, value, NOW)
    assert all(d.seconds >= 0 for d in reading.delays)


@given(st.lists(st.tuples(st.sampled_from(LIMIT_HEADERS), st.text(max_size=40)), max_size=6))
def test_answers_never_raise(lines: list[tuple[str, str]]) -> None:
    info = read_limit_info(lines, NOW)
    assert info.wait is None or info.wait >= 0


@given(st.integers(min_value=0, max_value=10**8))
def test_retry_after_seconds_round_trip(seconds: int) -> None:
    reading = parse_retry_after(str(seconds), NOW)
    assert reading.problems == ()
    assert reading.delays[0].seconds == seconds


@given(st.integers(min_value=0, max_value=10**7))
def test_retry_after_date_round_trip(offset: int) -> None:
    reading = parse_retry_after(email.utils.formatdate(NOW + offset, usegmt=True), NOW)
    assert reading.problems == ()
    assert reading.delays[0].seconds == pytest.approx(offset, abs=1)


_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)
_COUNTS = st.integers(min_value=0, max_value=10**9)
_DELAYS = st.integers(min_value=0, max_value=10**8)


@given(st.lists(st.tuples(_NAMES, _COUNTS, _DELAYS), min_size=1, max_size=4))
def test_ratelimit_round_trip(policies: list[tuple[str, int, int]]) -> None:
    members: list[Any] = [(name, {"r": r, "t": t}) for name, r, t in policies]
    value = http_sf.ser(members)
    reading = parse_ratelimit(value, NOW)
    assert reading.problems == ()
    assert [d.seconds for d in reading.delays] == [float(t) for _, _, t in policies]


@given(st.lists(st.tuples(_NAMES, _COUNTS, _DELAYS.filter(bool)), min_size=1, max_size=4))
def test_ratelimit_policy_round_trip(policies: list[tuple[str, int, int]]) -> None:
    members: list[Any] = [(name, {"q": q, "w": w}) for name, q, w in policies]
    assert parse_ratelimit_policy(http_sf.ser(members)).problems == ()


_SF_TEXT = st.text(alphabet='"abc;=, 0123456789.-?*:()@', max_size=40)


@given(st.sampled_from((*LIMIT_HEADERS, "RateLimit", "RateLimit-Policy")), _SF_TEXT)
def test_parsers_never_raise_on_field_like_text(name: str, value: str) -> None:
    reading = read_header(name, value, NOW)
    assert all(d.seconds >= 0 for d in reading.delays)


# -- absurd numbers, unusual forms, announced quotas ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Retry-After", "9" * 400),
        ("Retry-After", "1" + "0" * 400 + ".5"),
        ("RateLimit-Reset", "1000000000000000"),
        ("X-RateLimit-Reset", "1" + "0" * 500),
        ("RateLimit", '"x";r=0;t=999999999999999'),
        ("Retry-After", "9" * 5000),  # more digits than Python turns into an int
    ],
)
def test_absurd_numbers_are_malformed_and_capped(name: str, value: str) -> None:
    info = read_limit_info([(name, value)], NOW)
    assert [p.reason.removeprefix("t is ") for p in info.problems] == [TOO_LARGE]
    assert info.wait == ABSURD


def test_absurd_negative_numbers_are_negative() -> None:
    info = read_limit_info([("Retry-After", "-" + "9" * 5000)], NOW)
    assert [p.reason for p in info.problems] == ["a negative number"]
    assert info.wait is None


def test_huge_ints_never_overflow_the_epoch_checks() -> None:
    assert not is_epoch(10**400, NOW)
    assert whole_seconds(10**400, NOW) == (float(ABSURD), TOO_LARGE)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1.25, "1.2 s"),
        (3600, "3,600 s"),
        (864_000, "864,000 s (about 10 days)"),
        (1e8, "100,000,000 s (about 3 years)"),
        (1e12, "1e+12 s (about 31,688 years)"),
        (1e13, "a number too large to be a delay or a time"),
    ],
)
def test_waits_are_written_for_humans(seconds: float, text: str) -> None:
    assert seconds_text(seconds) == text


def test_legacy_reset_as_an_iso_date_is_a_wait() -> None:
    when = datetime.fromtimestamp(NOW + 90, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = read_limit_info([("X-RateLimit-Reset", when)], NOW)
    assert info.problems == ()
    assert info.wait == pytest.approx(90, abs=1)


def test_legacy_reset_as_an_http_date_is_a_wait() -> None:
    info = read_limit_info([("X-RateLimit-Reset", email.utils.formatdate(NOW + 30))], NOW)
    assert (info.problems, info.wait) == ((), pytest.approx(30, abs=1))


def test_the_smallest_announced_quota_is_kept() -> None:
    lines = [
        ("X-RateLimit-Limit", "1000"),
        ("RateLimit-Policy", '"burst";q=50;w=1, "day";q=5000;w=86400'),
        ("RateLimit-Limit", "100, 100;w=60"),
    ]
    assert read_limit_info(lines, NOW).quota == 50
    assert read_limit_info([("RateLimit", "limit=10, remaining=0, reset=3")], NOW).quota == 10
    assert read_limit_info([("X-RateLimit-Limit", "-1")], NOW).quota is None


_DIGITS = st.text(alphabet="0123456789", min_size=16, max_size=6000)


@given(
    st.sampled_from(LIMIT_HEADERS),
    st.sampled_from(["", "-", "+"]),
    _DIGITS,
    st.sampled_from(["", ".5", "." + "9" * 50]),
)
def test_parsers_never_raise_on_huge_numbers(
    name: str, sign: str, digits: str, fraction: str
) -> None:
    for value in (f"{sign}{digits}{fraction}", f'"p";r=0;t={digits}', f"limit={digits}"):
        reading = read_header(name, value, NOW)
        assert all(0 <= d.seconds <= ABSURD for d in reading.delays)
    info = read_limit_info([(name, f"{sign}{digits}{fraction}")], NOW)
    assert info.wait is None or 0 <= info.wait <= ABSURD


@given(st.integers(min_value=ABSURD + 1, max_value=10**4000))
def test_any_number_above_the_cap_is_too_large(number: int) -> None:
    reading = parse_retry_after(str(number), NOW)
    assert [p.reason for p in reading.problems] == [TOO_LARGE]
    assert reading.delays[0].seconds == ABSURD
