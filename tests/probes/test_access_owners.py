"""The access probe's judges of whose answer it is and of per-viewer parts (built answers and
scenario models, no network)."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.probes.access_owners import (
    Parts,
    identity_values,
    json_leaves,
    named_by,
    naming_elements,
    naming_paths,
    object_values,
    per_viewer,
    text_elements,
    text_parts,
)
from probe.scenario.models import Endpoint, Identity

ORDER = {"id": 1001, "owner": 1, "total": 42.5, "items": ["book"], "address": "12 Rose Lane"}


def answer(body: Any, status: int = 200) -> ResponseRecord:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return ResponseRecord(status, "HTTP/1.1", (), raw, False, 0.0)


def parts_of(owner: Any, other: Any) -> Parts:
    overlap = Reference.learn(answer(owner)).overlap(answer(other))
    assert overlap is not None
    changed = overlap.differing + overlap.missing
    return Parts(overlap.total, overlap.shared, changed, changed)


# -- naming values ----------------------------------------------------------------------------


def test_the_object_is_named_by_path_parameters_digits_and_id_fields() -> None:
    endpoint = Endpoint.model_validate(
        {
            "path": "/shops/{shop}/orders/1001",
            "path_params": {"shop": "north"},
            "query": {"customer_id": "c-77", "page": "2"},
        }
    )
    assert set(object_values(endpoint)) == {"north", "1001", "c-77"}
    graphql = Endpoint.model_validate(
        {"method": "POST", "path": "/graphql", "json": {"query": "q", "variables": {"id": "9"}}}
    )
    assert object_values(graphql) == ("9",)


def test_an_identity_is_named_by_its_login_user_and_token_ids() -> None:
    login = {"path": "/login", "json": {"email": "alice@x.test", "password": "p"}}
    identity = Identity.model_validate({"login": {**login, "token_path": "t"}})
    token = jwt.encode({"sub": "1", "role": "admin", "exp": 9}, "k" * 32, algorithm="HS256")
    assert identity_values(identity, token) == ("alice@x.test", "1")
    assert identity_values(Identity(token="opaque"), "opaque") == ()


def test_a_short_value_names_only_under_an_id_like_key() -> None:
    leaves = {"id": 1, "page": 1, "owner_id": 1, "ownerId": 1, "note": "1001", "n": 1001}
    assert naming_paths(leaves, ["1", "1001"]) == {"id", "owner_id", "ownerId", "note", "n"}
    assert naming_paths({"valid": True, "paid": 1.0}, ["1"]) == set()


def test_a_value_names_a_text_element_only_as_a_whole_word() -> None:
    elements = ["Order 1001", "Ref 910012", "alice@x.test", "Signed in as Alice"]
    assert naming_elements(elements, ["1001", "alice@x.test", "1"]) == {0, 2}


# -- whose ------------------------------------------------------------------------------------


def test_an_answer_naming_the_object_in_both_answers_is_named() -> None:
    assert named_by(answer(ORDER), answer(ORDER), ["1001"]) == "id=1001"
    assert named_by(answer(ORDER), answer(ORDER), ["alice@x.test", "1"]) == "owner=1"


def test_default_settings_name_nobody() -> None:
    settings = {"theme": "light", "language": "en", "newsletter": False}
    assert named_by(answer(settings), answer(settings), ["1", "alice@x.test"]) is None


def test_a_named_leaf_that_the_other_answer_lacks_names_nothing() -> None:
    other = {**ORDER, "id": 1002}
    assert named_by(answer(ORDER), answer(other), ["1001"]) is None


def test_text_answers_are_named_by_words() -> None:
    page = "<h1>Order 1001</h1><p>12 Rose Lane</p>"
    assert named_by(answer(page), answer(page), ["1001"]) == "'1001'"
    assert named_by(answer(page), answer("<h1>Order 1002</h1>"), ["1001"]) is None


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
