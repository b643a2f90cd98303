"""The answer comparison behind "accepted" and "equivalent" (pure logic, built answers)."""

from __future__ import annotations

import json
from typing import Any

from probe.compare import Reference, differing_excerpt, flatten, is_refusal, same_answers
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


def test_text_with_a_fresh_csrf_token_matches() -> None:
    page = b'<form><input name="csrf" value="%s"></form>'
    ref = Reference.learn(answer(page % (b"q" * 32), content_type="text/html"))
    assert ref.matches(answer(page % (b"Z" * 40), content_type="text/html"))
    assert not ref.matches(answer(b"<p>please log in</p>", content_type="text/html"))


def test_unstable_text_needs_the_samples_closeness() -> None:
    a = answer(b"hello world, visitor 1 of today " * 10, content_type="text/plain")
    b = answer(b"hello world, visitor 2 of today " * 10, content_type="text/plain")
    ref = Reference.learn(a, b)
    assert not ref.stable
    assert ref.matches(answer(b"hello world, visitor 3 of today " * 10, content_type="text/plain"))
    assert not ref.matches(answer(b"log in first", content_type="text/plain"))


def test_json_that_changes_entirely_is_unstable() -> None:
    ref = Reference.learn(answer({"n": 1}), answer({"n": 2}))
    assert not ref.stable


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
