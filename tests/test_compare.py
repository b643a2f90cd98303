"""The answer comparison behind "accepted" and "equivalent" (pure logic, built answers)."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from probe.compare import (
    Reference,
    blank_tokens,
    differing_excerpt,
    flatten,
    holds_data,
    is_refusal,
    same_answers,
)
from probe.exchange import ResponseRecord


def answer(body: Any, status: int = 200, content_type: str = "application/json") -> ResponseRecord:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ResponseRecord(status, "HTTP/1.1", (("Content-Type", content_type),), raw)


def test_the_same_json_with_another_timestamp_matches() -> None:
    ref = Reference.learn(answer({"id": 7, "name": "alice", "at": "2026-12-04T10:00:00Z"}))
    assert ref.matches(answer({"id": 7, "name": "alice", "at": "2026-12-04T10:00:09Z"}))


def test_a_value_that_changed_between_samples_is_left_out() -> None:
    ref = Reference.learn(answer({"id": 7, "rid": "a1"}), answer({"id": 7, "rid": "b2"}))
    assert "rid" in ref.volatile
    assert ref.matches(answer({"id": 7, "rid": "zz"}))
    assert not ref.matches(answer({"id": 8, "rid": "zz"}))


def test_another_object_does_not_match() -> None:
    ref = Reference.learn(answer({"id": 1001, "owner": 1, "total": 49.5}))
    assert not ref.matches(answer({"id": 1002, "owner": 2, "total": 199.0}))


def test_an_error_object_with_status_200_does_not_match_data() -> None:
    ref = Reference.learn(answer({"id": 1, "name": "alice"}))
    assert not ref.matches(answer({"error": "invalid token"}))


def test_another_status_class_does_not_match() -> None:
    ref = Reference.learn(answer({"ok": True}))
    assert not ref.matches(answer({"ok": True}, status=401))


def test_named_time_claims_are_volatile() -> None:
    ref = Reference.learn(answer({"sub": "alice", "exp": 1, "iat": 0}))
    assert ref.matches(answer({"sub": "alice", "exp": 999999, "iat": 5}))


def html(body: str) -> ResponseRecord:
    return answer(body.encode(), content_type="text/html")


def _tokens(seed: int) -> tuple[str, str]:
    """A CSP nonce (URL-safe base64 of 16 bytes) and a hex CSRF token, drawn from `seed`."""
    draw = random.Random(seed)
    nonce = base64.urlsafe_b64encode(draw.randbytes(16)).decode().rstrip("=")
    return nonce, draw.randbytes(16).hex()


@pytest.mark.parametrize("seed", range(40))
def test_text_with_a_fresh_csrf_token_or_nonce_matches(seed: int) -> None:
    page = '<script nonce="{}"></script><form><input name="csrf" value="{}"></form><p>Alice</p>'
    ref = Reference.learn(html(page.format(*_tokens(seed))))
    assert ref.matches(html(page.format(*_tokens(seed + 1000))))
    assert not ref.matches(html(page.format(*_tokens(seed + 2000)).replace("Alice", "Bob")))
    assert not ref.matches(html("<p>please log in</p>"))


def test_a_nonce_of_letters_alone_is_blanked_and_camel_case_names_are_kept() -> None:
    assert blank_tokens("SvbuHHRLpOpgaKVDjoKELg") == "<token>"
    assert blank_tokens("YQKvBkzRIUMMKChVAHXIAg") == "<token>"
    for word in ("Content-Security-Policy", "getUserAccountSettingsById", "ApplicationSettings"):
        assert blank_tokens(word) == word


def test_a_base64_nonce_without_digits_is_blanked() -> None:
    page = '<script nonce="{}"></script><p>Alice</p>'
    ref = Reference.learn(html(page.format("AbcDefGhiJkl+MnoPq==")))
    assert ref.matches(html(page.format("ZyxWvuTsrQpo/NmlKj==")))


def test_text_elements_that_changed_between_samples_are_left_out() -> None:
    page = "<h1>Orders of Alice</h1>\n<p>visitor {}</p>\n<ul><li>keyboard</li><li>mouse</li></ul>"
    ref = Reference.learn(html(page.format("one")), html(page.format("two")))
    assert ref.stable
    assert ref.matches(html(page.format("three")))
    assert not ref.matches(html(page.format("three").replace("Alice", "Bob")))
    assert not ref.matches(html(page.format("three").replace("mouse", "lamp")))
    assert not ref.matches(html(page.format("3") + "<p>and one more</p><p>and another</p>"))


def test_text_that_changes_entirely_matches_only_itself() -> None:
    a = answer(b"hello world, visitor 1 of today", content_type="text/plain")
    b = answer(b"hello world, visitor 2 of today", content_type="text/plain")
    ref = Reference.learn(a, b)
    assert not ref.stable
    assert ref.matches(a)
    assert not ref.matches(answer(b"log in first", content_type="text/plain"))


def test_json_that_changes_entirely_is_unstable() -> None:
    ref = Reference.learn(answer({"n": 1}), answer({"n": 2}))
    assert not ref.stable


def test_json_that_is_mostly_volatile_is_unstable() -> None:
    first = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "cur": "EUR"}
    second = {"a": 9, "b": 8, "c": 7, "d": 4, "e": 5, "cur": "EUR"}
    ref = Reference.learn(answer(first), answer(second))
    assert (ref.leaves, ref.compared, ref.stable) == (6, 3, True)
    third = {"a": 9, "b": 8, "c": 7, "d": 6, "e": 5, "cur": "EUR"}
    assert not Reference.learn(answer(first), answer(third)).stable


def test_a_shuffled_list_is_the_same_list() -> None:
    items = [{"id": i, "name": f"item {i}"} for i in range(6)]
    ref = Reference.learn(answer({"items": items}), answer({"items": items[3:] + items[:3]}))
    assert ref.stable
    assert ref.compared == ref.leaves
    assert ref.matches(answer({"items": list(reversed(items))}))
    assert not ref.matches(answer({"items": items[:5]}))


def test_large_json_is_compared_value_by_value() -> None:
    catalogue = [{"sku": f"p{i:05}", "text": "x" * 200} for i in range(1500)]
    alice = answer({"catalogue": catalogue, "account": {"name": "alice"}})
    assert len(alice.body) > 262_144
    ref = Reference.learn(alice)
    assert not ref.matches(answer({"catalogue": catalogue, "account": {"name": "bob"}}))


def test_overlap_counts_shared_differing_missing_and_extra_paths() -> None:
    ref = Reference.learn(answer({"id": 1001, "owner": 1, "total": 49.5, "viewer": "alice"}))
    got = ref.overlap(answer({"id": 1001, "owner": 1, "total": 49.5, "viewer": "bob", "x": 1}))
    assert got is not None
    assert (got.total, got.shared, got.differing, got.missing, got.extra) == (
        4,
        3,
        ("viewer",),
        (),
        ("x",),
    )
    assert Reference.learn(html("<p>x</p>")).overlap(answer({"a": 1})) is None


@pytest.mark.parametrize(
    "body",
    [
        {"code": 401, "message": "Unauthenticated."},
        {"status": "error", "message": "Not authorized"},
        {"errcode": 40001, "errmsg": "invalid credential"},
        {"status": "fail", "data": {"token": "required"}},
        {"code": "403", "msg": "denied"},
        {"errors": [{"message": "not allowed"}]},
    ],
)
def test_error_objects_answered_200_are_refusals(body: dict[str, Any]) -> None:
    assert is_refusal(answer(body))


@pytest.mark.parametrize(
    "body",
    [
        {"id": 7, "status": "failed", "items": ["a"], "total": 3, "owner": 1},
        {"id": 7, "code": 404, "name": "Not Found page", "path": "/x", "owner": 1},
        {"id": 7, "error": None, "name": "alice"},
        {"orders": [{"id": 1, "status": "error"}]},
    ],
)
def test_data_with_error_like_words_is_not_a_refusal(body: dict[str, Any]) -> None:
    assert not is_refusal(answer(body))


def test_holds_data() -> None:
    assert not holds_data(answer({"orders": [], "total": 0, "page": 1}))
    assert not holds_data(answer({"data": {"order": None}}))
    assert not holds_data(answer(b""))
    assert holds_data(answer({"orders": [{"id": 1}], "total": 1}))
    assert holds_data(answer({"balance": 0, "name": "alice"}))
    assert holds_data(answer(b"hello", content_type="text/plain"))


def test_refusals() -> None:
    assert is_refusal(answer({"error": "forbidden"}))
    assert is_refusal(answer({"x": 1}, status=403))
    assert is_refusal(answer(b""))
    assert is_refusal(answer({}))
    assert is_refusal(answer(b"Access denied", content_type="text/plain"))
    assert not is_refusal(answer({"id": 1001, "items": ["keyboard"]}))
    assert not is_refusal(answer({"note": "not found in the archive " + "x" * 300}))


def test_same_answers_and_excerpt() -> None:
    assert same_answers([answer({"a": 1}), answer({"a": 1})])
    assert not same_answers([answer({"a": 1}), answer({"a": 2})])
    assert "2" in differing_excerpt(answer({"a": 1}), answer({"a": 2}))


def test_flatten_paths() -> None:
    assert flatten({"a": [{"b": 1}], "c": {}}) == {"a.0.b": 1, "c": {}}


def test_identical_answers_without_text_are_stable_and_differing_ones_are_not() -> None:
    empty = answer(b"", 204, "text/plain")
    assert Reference.learn(empty, empty).stable
    form = answer(b'<form><input name="q"></form>', 200, "text/html")
    reference = Reference.learn(form, form)
    assert reference.stable
    assert reference.matches(form)
    assert not reference.matches(answer(b'<form><input name="x"></form>', 200, "text/html"))
    other = answer(b'<form><input name="q"><input name="z"></form>', 200, "text/html")
    assert not Reference.learn(form, other).stable


def test_a_unix_time_in_a_footer_is_volatile_and_other_numbers_are_not() -> None:
    page = "<ul><li>bob</li></ul><p>rendered at {}</p>"
    reference = Reference.learn(
        html(page.format("1796430836.34")), html(page.format("1796430899.01"))
    )
    assert reference.stable
    assert reference.matches(html(page.format("1796431000.5")))
    assert not reference.matches(html("<ul></ul><p>rendered at 1796431000.5</p>"))
    assert blank_tokens("id 12345 and 4915123456789") == "id 12345 and 4915123456789"
