"""The access probe's judges of whose answer it is (built answers and scenario models, no
network)."""

from __future__ import annotations

import json
from typing import Any

import jwt

from probe.exchange import ResponseRecord
from probe.probes.access_owners import (
    identity_values,
    named_by,
    naming_elements,
    naming_paths,
    object_values,
)
from probe.scenario.models import Endpoint, Identity

ORDER = {"id": 1001, "owner": 1, "total": 42.5, "items": ["book"], "address": "12 Rose Lane"}


def answer(body: Any, status: int = 200) -> ResponseRecord:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return ResponseRecord(status, "HTTP/1.1", (), raw, False, 0.0)


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
