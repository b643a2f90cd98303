"""The rate_limit probe's pure judges (and bypass material), called directly on made-up
answers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.burst import Burst, Shot
from probe.exchange import Exchange, RequestRecord, ResponseRecord
from probe.probes.rate_limit_judges import (
    LOCKOUT,
    Outcome,
    Reference,
    alike_answer,
    arrival_order,
    burst_figures,
    exceeds,
    histogram,
    in_flight_only,
    is_limit,
    judge_burst,
    limit_kind,
    limit_words_alike,
    margin,
    normalise_body,
    peak,
    same_answer,
    sustained,
)
from probe.probes.rate_limit_variants import (
    QUERY_VARIANT,
    doc_address,
    path_variants,
    spoof_value,
    variant_allowed,
)

OK_BODY = b'{"items": [1, 2], "served_at": "2025-06-01T10:00:00Z"}'
NORMAL = Reference.of(ResponseRecord(200, "HTTP/1.1", (), OK_BODY))


def answer(status: int = 200, body: bytes = OK_BODY) -> ResponseRecord:
    return ResponseRecord(status, "HTTP/1.1", (), body)


def shot(seq: int, response: ResponseRecord | None, received: float | None = None) -> Shot:
    request = RequestRecord("GET", "http://127.0.0.1:1/api/items")
    error = None if response is not None else "connect: refused"
    exchange = Exchange(
        seq, "rate_limit", "GET /api/items", None, "burst", request, response, error
    )
    return Shot(exchange, sent=0.001 * seq, received=received if received is not None else seq)


def burst_of(statuses: Sequence[int | None]) -> list[Shot]:
    """Shots whose answers arrive in the order given (None: no answer)."""
    return [shot(i, answer(s) if s else None) for i, s in enumerate(statuses, 1)]


# -- the normal answer ---------------------------------------------------------------------------


def test_volatile_parts_are_ignored() -> None:
    later = b'{"items": [1, 2], "served_at": "2025-06-01T10:00:07Z"}'
    assert same_answer(answer(200, later), NORMAL)


def test_another_body_is_another_answer() -> None:
    assert not same_answer(answer(200, b'{"detail": "Not Found"}'), NORMAL)
    assert not same_answer(answer(404, OK_BODY), NORMAL)


def test_uuids_and_hex_ids_are_volatile() -> None:
    a = normalise_body(b"id 123e4567-e89b-12d3-a456-426614174000 tok deadbeefdeadbeef00")
    b = normalise_body(b"id 00000000-1111-2222-3333-444444444444 tok 0123456789abcdef11")
    assert a == b


def test_a_fresh_token_in_json_is_alike_for_the_same_url() -> None:
    normal = Reference.of(answer(200, b'{"token": "abc", "user": "alice"}'))
    fresh = answer(200, b'{"token": "xyz-other", "user": "alice"}')
    assert alike_answer(fresh, normal)
    assert not same_answer(fresh, normal)
    assert not alike_answer(answer(401, b'{"token": "x", "user": "y"}'), normal)


# -- limit answers -------------------------------------------------------------------------------


def test_429_is_a_limit_answer() -> None:
    assert limit_kind(answer(429, b"slow"), NORMAL) == "429"


@pytest.mark.parametrize("status", [403, 420, 503])
def test_limiter_statuses_that_differ_from_normal_are_candidates(status: int) -> None:
    assert limit_kind(answer(status, b"nope"), NORMAL) == str(status)


def test_a_200_with_a_limit_message_is_a_candidate() -> None:
    body = b'{"error": "Rate limit exceeded, try later"}'
    assert limit_kind(answer(200, body), NORMAL) == "200 with an error body"


def test_the_normal_status_is_no_limit() -> None:
    assert limit_kind(answer(200, b'{"items": []}'), NORMAL) is None
    forbidden = Reference.of(answer(403, b"forbidden"))
    assert limit_kind(answer(403, b"forbidden"), forbidden) is None


def test_a_400_is_a_limit_only_when_it_says_so() -> None:
    assert limit_kind(answer(400, b"bad request"), NORMAL) is None
    assert limit_kind(answer(400, b"Too Many Requests"), NORMAL) == "400"


def test_is_limit_counts_any_429_and_the_kind_seen() -> None:
    assert is_limit(answer(429), NORMAL, "503")
    assert is_limit(answer(503), NORMAL, "503")
    assert not is_limit(answer(503), NORMAL, "429")
    assert not is_limit(None, NORMAL, "429")


# -- a burst's verdict ---------------------------------------------------------------------------


def test_a_burst_of_normal_answers_is_not_limited() -> None:
    verdict = judge_burst(burst_of([200] * 10), NORMAL)
    assert verdict.outcome is Outcome.not_limited
    assert (verdict.admitted, verdict.limited, verdict.first_limit) == (10, 0, None)


def test_429s_limit_the_burst_and_count_from_arrival() -> None:
    verdict = judge_burst(burst_of([200, 200, 429, 200, 429, 429]), NORMAL)
    assert verdict.outcome is Outcome.limited
    assert (verdict.kind, verdict.first_limit, verdict.admitted, verdict.limited) == (
        "429",
        3,
        3,
        3,
    )
    assert verdict.statuses == {200: 3, 429: 3}


def test_arrival_order_follows_received_times() -> None:
    shots = [shot(1, answer(200), 0.5), shot(2, answer(429), 0.1), shot(3, None)]
    assert [s.exchange.seq for s in arrival_order(shots)] == [2, 1]
    assert judge_burst(shots, NORMAL).first_limit == 1


def test_sustained_503s_are_a_limiter() -> None:
    verdict = judge_burst(burst_of([200] * 5 + [503] * 20), NORMAL)
    assert (verdict.outcome, verdict.kind, verdict.admitted) == (Outcome.limited, "503", 5)


def test_a_few_late_admitted_answers_keep_it_sustained() -> None:
    # Admitted requests that take longer than refusals arrive among them.
    statuses = [200, 200, 503, 503, 200, *[503] * 16, 200]
    assert judge_burst(burst_of(statuses), NORMAL).outcome is Outcome.limited


def test_scattered_503s_are_overload_not_a_limiter() -> None:
    statuses = [200, 200, 503] * 10
    verdict = judge_burst(burst_of(statuses), NORMAL)
    assert (verdict.outcome, verdict.kind, verdict.limited) == (Outcome.scattered, "503", 0)


def test_a_single_odd_answer_is_no_limiter() -> None:
    assert judge_burst(burst_of([200] * 9 + [503]), NORMAL).outcome is Outcome.scattered


def test_mostly_unanswered_bursts_get_no_verdict() -> None:
    verdict = judge_burst(burst_of([200, None, None, None]), NORMAL)
    assert (verdict.outcome, verdict.unanswered) == (Outcome.no_answers, 3)


def test_sustained_share() -> None:
    assert sustained(["503", "503", None, "503", "503", "503"], "503")
    assert not sustained(["503", None, None, "503"], "503")
    assert not sustained([None, "503"], "503")


# -- figures and margins -------------------------------------------------------------------------


def test_burst_figures() -> None:
    shots = [shot(1, answer()), shot(2, answer()), shot(3, answer()), shot(4, None)]
    shots[3] = Shot(shots[3].exchange, None, None)
    figures = burst_figures(Burst(tuple(shots), opened=3))
    assert (figures.count, figures.opened, figures.sent) == (4, 3, 3)
    assert figures.spread_ms == pytest.approx(2.0)
    assert figures.rate == pytest.approx(1000.0)
    assert figures.answered_ms == pytest.approx(2999.0)


def test_burst_figures_of_nothing() -> None:
    figures = burst_figures(Burst((), opened=0))
    assert (figures.spread_ms, figures.rate, figures.answered_ms) == (None, None, None)


def test_histogram() -> None:
    assert histogram({429: 25, 200: 5}) == "200×5, 429×25"
    assert histogram({}) == "none"


@pytest.mark.parametrize(
    ("admitted", "sequential", "found"),
    [(6, 5, False), (7, 5, False), (8, 5, True), (60, 50, False), (61, 50, True), (2, 0, False)],
)
def test_a_burst_must_clearly_exceed_the_sequential_limit(
    admitted: int, sequential: int, found: bool
) -> None:
    assert exceeds(admitted, sequential) is found


@given(st.integers(min_value=0, max_value=10_000))
def test_off_by_one_at_a_window_edge_is_never_a_finding(sequential: int) -> None:
    assert margin(sequential) >= 2
    assert not exceeds(sequential + 1, sequential)
    assert not exceeds(sequential + 2, sequential)


# -- bypass material -----------------------------------------------------------------------------


def test_path_variants() -> None:
    assert path_variants("/api/login") == [
        ("trailing slash", "/api/login/"),
        ("letter case", "/api/LOGIN"),
        ("doubled slash", "/api//login"),
    ]


def test_path_variants_of_odd_paths() -> None:
    assert ("trailing slash", "/api/items") in path_variants("/api/items/")
    assert ("letter case", "/API/42") in path_variants("/api/42")
    assert path_variants("/") == [("doubled slash", "//")]
    assert ("letter case", "/api/login") in path_variants("/api/LOGIN")


@given(st.text(alphabet="abcXYZ019/-_%.", max_size=30))
def test_path_variants_differ_from_the_path_and_each_other(path: str) -> None:
    path = "/" + path
    variants = [v for _, v in path_variants(path)]
    assert path not in variants
    assert len(set(variants)) == len(variants)


def test_spoofed_values_use_documentation_addresses() -> None:
    address = doc_address(5, 300)
    assert address.rsplit(".", 1)[0] in ("192.0.2", "198.51.100", "203.0.113")
    assert 1 <= int(address.rsplit(".", 1)[1]) <= 254
    assert spoof_value("Forwarded", "203.0.113.9") == "for=203.0.113.9"
    assert spoof_value("X-Real-IP", "203.0.113.9") == "203.0.113.9"


# -- normal answers that speak of limits, lockouts -----------------------------------------------

CHATTY_BODY = b'{"tip": "Use ETags", "note": "clients that exceed the quota are throttled"}'


def test_a_2xx_is_no_limit_when_the_normal_answer_speaks_of_limits_too() -> None:
    normal = Reference.of(answer(200, CHATTY_BODY))
    assert normal.limit_words
    other = answer(200, b'{"error": "rate limit exceeded"}')
    assert limit_kind(other, normal) is None


def test_a_2xx_alike_the_normal_answer_is_no_limit() -> None:
    # The baseline did not mention limits; this one does, in a field of the same shape.
    normal = Reference.of(answer(200, b'{"request_id": "req_abc", "note": "ok"}'))
    varied = answer(200, b'{"request_id": "req_xyz", "note": "rate limit: 1000/min"}')
    assert limit_kind(varied, normal) is None


def test_the_freshness_answer_adds_its_words_to_the_normal_answer() -> None:
    normal = Reference.of(answer(200, b'{"tip": "Cache responses"}'))
    assert not normal.limit_words
    seen = normal.seen_again(answer(200, b'{"tip": "Batch writes", "note": "throttled"}'))
    assert seen.limit_words
    assert normal.seen_again(answer(404, b"rate limit")) == normal


@pytest.mark.parametrize(
    "body",
    [
        b'{"error": "account locked, try again in 15 minutes"}',
        b'{"error": "Too many failed attempts"}',
        b'{"detail": "please try again later"}',
    ],
)
def test_a_4xx_that_locks_out_is_a_lockout(body: bytes) -> None:
    normal = Reference.of(answer(401, b'{"error": "invalid credentials"}'))
    assert limit_kind(answer(400, body), normal) == LOCKOUT
    assert limit_kind(answer(423, b"{}"), normal) == LOCKOUT


def test_a_401_login_answer_is_no_lockout() -> None:
    normal = Reference.of(answer(200, OK_BODY))
    assert limit_kind(answer(401, b'{"error": "invalid credentials"}'), normal) is None
    assert limit_kind(answer(404, b'{"error": "not found"}'), normal) is None


def test_a_sustained_lockout_limits_the_burst() -> None:
    normal = Reference.of(answer(401, b'{"error": "invalid credentials"}'))
    shots = [shot(i, answer(401, b'{"error": "invalid"}')) for i in (1, 2)]
    locked = b'{"error": "account locked, try again in 15 minutes"}'
    shots += [shot(i, answer(423, locked)) for i in range(3, 20)]
    verdict = judge_burst(shots, normal)
    assert (verdict.outcome, verdict.kind, verdict.admitted) == (Outcome.limited, LOCKOUT, 2)


def test_any_kind_counts_while_no_kind_is_known() -> None:
    assert is_limit(answer(503), NORMAL, None)
    assert not is_limit(answer(200), NORMAL, None)


# -- path variants per method --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "get"])
def test_safe_methods_get_every_variant(method: str) -> None:
    names = [name for name, _ in path_variants("/api/items", method)]
    assert names == ["trailing slash", "letter case", "doubled slash"]
    assert variant_allowed(method, QUERY_VARIANT)


def test_post_gets_only_variants_that_cannot_name_another_resource() -> None:
    assert path_variants("/api/login", "POST") == [("trailing slash", "/api/login/")]
    assert variant_allowed("POST", QUERY_VARIANT)
    assert not variant_allowed("POST", "letter case")
    assert not variant_allowed("POST", "doubled slash")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_unsafe_methods_get_no_variant(method: str) -> None:
    assert path_variants("/api/profile", method) == []
    assert not variant_allowed(method, QUERY_VARIANT)


# -- requests in flight --------------------------------------------------------------------------


def test_peak_counts_the_busiest_second() -> None:
    assert peak([]) == 0
    assert peak([0.0, 0.2, 0.4, 1.5, 1.6, 1.7, 1.8]) == 4
    assert peak([0.0, 2.0, 4.0]) == 1


@given(st.lists(st.floats(min_value=0, max_value=100), max_size=40))
def test_peak_is_at_most_the_count_and_at_least_one(times: list[float]) -> None:
    found = peak(times)
    assert found <= len(times)
    assert found >= min(1, len(times))


def test_only_a_fast_unlimited_sequential_run_shows_a_cap_on_requests_in_flight() -> None:
    assert in_flight_only(3, 20)  # 3 at once, yet 20 one after another within a second
    assert not in_flight_only(20, 10)  # the sequential run was too slow to reach 20
    assert not in_flight_only(5, 7)  # within the margin: a window edge


def test_limit_words_in_the_normal_shape_are_counted() -> None:
    normal = Reference.of(answer(200, b'{"status": "ok", "message": "items"}'))
    refused = answer(200, b'{"status": "error", "message": "rate limit exceeded"}')
    exchanges = [shot(1, refused).exchange, shot(2, answer(200, OK_BODY)).exchange]
    assert limit_kind(refused, normal) is None
    assert limit_words_alike(exchanges, normal) == 1
    chatty = Reference.of(answer(200, CHATTY_BODY))
    assert limit_words_alike(exchanges, chatty) == 0
