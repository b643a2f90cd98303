"""The access probe's per-viewer judges: answers that are the entitled one with a few parts
that follow the viewer, and answers filtered for the viewer (built answers, no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.probes.access_owners import Naming, json_leaves, naming_elements, naming_paths
from probe.probes.access_viewers import (
    Parts,
    json_parts,
    masked,
    part_of,
    per_viewer,
    text_elements,
    text_parts,
    viewer_parts,
)

ORDER = {"id": 1001, "owner": 1, "total": 42.5, "items": ["book"], "address": "12 Rose Lane"}


def answer(body: Any, status: int = 200) -> ResponseRecord:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return ResponseRecord(status, "HTTP/1.1", (), raw, False, 0.0)


def parts_of(owner: Any, other: Any) -> Parts:
    reference = Reference.learn(answer(owner))
    assert reference.fields is not None
    return json_parts(reference.fields, json_leaves(answer(other)) or {})


# -- per-viewer parts ---------------------------------------------------------------------------


def test_the_owners_object_with_viewer_fields_is_per_viewer() -> None:
    mine = {**ORDER, "can_edit": True, "viewer": "Alice"}
    theirs = {**ORDER, "can_edit": False, "viewer": "Bob"}
    parts = parts_of(mine, theirs)
    assert set(parts.changed) == {"can_edit", "viewer"}
    naming = naming_paths(json_leaves(answer(mine)) or {}, ["1001", "1"])
    assert per_viewer(parts, naming)


def test_a_greeting_naming_the_viewer_is_per_viewer_when_the_object_is_named() -> None:
    mine = {"id": 1001, "owner": "alice", "total": 9.5, "viewer": "Alice"}
    theirs = {**mine, "viewer": "Bob"}
    leaves = json_leaves(answer(mine)) or {}
    naming = naming_paths(leaves, ["1001", "alice"])
    assert naming == {"id", "owner", "viewer"}
    objects = naming_paths(leaves, ["1001"])
    assert per_viewer(parts_of(mine, theirs), naming, objects)
    # Another object's id is another object, whatever else is shared.
    other = {**mine, "id": 1002}
    assert not per_viewer(parts_of(mine, other), naming, objects)


def test_nearly_all_shared_is_per_viewer_without_naming() -> None:
    mine = {f"k{i}": i + 10 for i in range(20)} | {"viewer": "Alice"}
    assert per_viewer(parts_of(mine, {**mine, "viewer": "Bob"}), set())


def test_the_viewers_own_record_is_not_per_viewer() -> None:
    # The leaf that names the owner changed: bob's own settings.
    mine = {"user_id": 1, "theme": "light", "language": "en", "newsletter": False}
    theirs = {**mine, "user_id": 2}
    naming = naming_paths(json_leaves(answer(mine)) or {}, ["1"])
    assert naming == {"user_id"}
    assert not per_viewer(parts_of(mine, theirs), naming)


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        # Three changed leaves are too many.
        ({**ORDER, "a": 1, "b": 2, "c": 3}, {**ORDER, "a": 0, "b": 0, "c": 0}),
        # Tiny answers: nothing left to call the same.
        ({"id": 7, "viewer": "Alice"}, {"id": 7, "viewer": "Bob"}),
        # Half shared and nothing naming it.
        ({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 1, "b": 2, "c": 0, "d": 0}),
    ],
)
def test_answers_that_differ_more_are_not_per_viewer(mine: Any, theirs: Any) -> None:
    naming = naming_paths(json_leaves(answer(mine)) or {}, ["7"])
    assert not per_viewer(parts_of(mine, theirs), naming)


def test_a_page_with_the_viewers_name_is_per_viewer() -> None:
    rows = "".join(f"<tr><td>{u}@x.test</td><td>user</td></tr>" for u in ("alice", "bob", "carol"))

    def page(viewer: str) -> ResponseRecord:
        return answer(f"<header>Signed in as {viewer}</header><h1>Admin</h1><table>{rows}</table>")

    mine = text_elements(page("Alice"))
    parts = text_parts(mine, text_elements(page("Bob")))
    assert parts.shown == ("Signed in as Alice",)
    assert per_viewer(parts, {str(i) for i in naming_elements(mine, ["alice@x.test"])})
    other = text_parts(mine, text_elements(answer("<h1>Your orders</h1><p>none</p>")))
    assert not per_viewer(other, set())


# -- parts per key path, filters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "other"),
    [
        ("alice@example.test", "a***@example.test"),
        ("4111111111111234", "****1234"),
        ("4111 1111 1111 1234", "\u2022\u2022\u2022\u2022 1234"),
        ("+49 30 1234567", "+49 30 xxx4567"),
        ("DE89370400440532013000", "DE89 #### #### 3000"),
        ("alice@example.test", "[redacted]"),
        ("Alice Smith", "hidden"),
        ("secret-value", "********"),
    ],
)
def test_masked_or_redacted_values_are_recognised(reference: str, other: str) -> None:
    assert masked(reference, other)


@pytest.mark.parametrize(
    ("reference", "other"),
    [
        ("Alice", "Bob"),  # another viewer's name
        (True, "***"),  # no text to mask
        ("alice@example.test", "b***@example.test"),  # another address, masked
        ("a***@example.test", "a***@example.test"),  # the same
        (None, "***"),
    ],
)
def test_other_values_are_not_masked(reference: object, other: object) -> None:
    assert not masked(reference, other)


def test_a_part_is_a_key_path_with_list_indexes_as_stars() -> None:
    assert part_of("data.0.email") == "data.*.email"
    assert part_of("0.id") == "*.id"
    assert part_of("orders.12.items.3") == "orders.*.items.*"
    assert part_of("v2.name") == "v2.name"


def users(count: int, email: Any, **more: Any) -> dict[str, Any]:
    data = [{"id": i, "name": f"user{i}", "email": email(i), **more} for i in range(count)]
    return {"data": data, "meta": {"page": 1, "total": count}}


@pytest.mark.parametrize("count", [2, 3, 7])
def test_masked_emails_in_a_list_are_a_filter_whatever_the_count(count: int) -> None:
    mine = users(count, lambda i: f"user{i}@example.test")
    theirs = users(count, lambda i: f"u***{i}@example.test")
    parts = parts_of(mine, theirs)
    assert parts.changed == ("data.*.email",)
    assert parts.filtered == ("data.*.email masked",)
    assert not per_viewer(parts, set())


@pytest.mark.parametrize("count", [2, 3, 7])
def test_a_field_withheld_in_every_item_is_a_filter(count: int) -> None:
    mine = users(count, lambda i: f"user{i}@example.test")
    theirs = users(count, lambda i: None)
    assert parts_of(mine, theirs).filtered == ("data.*.email withheld",)


@pytest.mark.parametrize("count", [2, 3, 7])
def test_a_per_viewer_field_in_every_item_is_one_part_whatever_the_count(count: int) -> None:
    mine = users(count, lambda i: f"user{i}@example.test", can_edit=True)
    theirs = users(count, lambda i: f"user{i}@example.test", can_edit=False)
    parts = parts_of(mine, theirs)
    assert parts.changed == ("data.*.can_edit",)
    assert not parts.filtered
    assert per_viewer(parts, set(), anonymous=True)


def test_an_anonymous_caller_needs_shared_data_twice_the_changed_parts() -> None:
    invoices = [{"id": 5001, "amount": 12.5, "iban": "DE89370400440532013000"}]
    mine = {"current_user": {"id": 1, "name": "Alice"}, "invoices": invoices}
    theirs = {"current_user": None, "invoices": invoices}
    parts = parts_of(mine, theirs)
    assert parts.changed == ("current_user",)  # one viewer object, one part
    # Alice's own record would not be the anonymous caller's: only the shared data counts.
    assert per_viewer(parts, {"current_user.id"}, anonymous=True)
    assert not per_viewer(parts, {"current_user.id"})
    small = parts_of({"user": "ann", "plan": "pro", "n": 1}, {"user": None, "plan": "pro", "n": 1})
    assert not per_viewer(small, set(), anonymous=True)


def test_a_filtered_answer_is_said_so() -> None:
    mine = users(2, lambda i: f"user{i}@example.test")
    reference = Reference.learn(answer(mine))
    theirs = answer(users(2, lambda i: f"u***{i}@example.test"))
    said = viewer_parts(reference, [answer(mine)], theirs, Naming((), ()))
    assert said == "the entitled answer filtered for this viewer: data.*.email masked"


def test_a_masked_element_of_a_page_is_a_filter() -> None:
    mine = text_elements(answer("<h1>Users</h1><td>Alice</td><td>alice@example.test</td>"))
    theirs = text_elements(answer("<h1>Users</h1><td>Alice</td><td>a***@example.test</td>"))
    parts = text_parts(mine, theirs)
    assert parts.filtered == ("'alice@example.test' masked",)
    assert not per_viewer(parts, set())
