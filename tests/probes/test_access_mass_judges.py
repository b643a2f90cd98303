"""The access probe's mass-assignment judges: where the privilege fields go in a body, and
where they count in the object read back (built data, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from probe.probes.access_mass_judges import (
    field_home,
    holds,
    holds_object,
    judge_mass_assignment,
    misplaced_fields,
    with_privilege_fields,
)

FIELDS = {"admin": True, "role": "admin"}

# -- mass assignment --------------------------------------------------------------------------


def test_a_privilege_field_counts_at_the_top_or_in_one_wrapper_whatever_its_case() -> None:
    data = {"profile": {"isAdmin": True}, "Role": "admin"}
    assert holds(data, "is_admin", True)
    assert holds(data, "role", "admin")
    assert not holds(data, "admin", True)
    assert holds({"me": {"role": "admin"}}, "role", "admin")  # the answer's only key
    assert holds([{"id": 1, "role": "admin"}], "role", "admin")  # a list read back
    assert holds({"data": {"attributes": {"role": "admin"}}}, "role", "admin")  # JSON:API


@pytest.mark.parametrize(
    "data",
    [
        {"id": 2, "role": "user", "metadata": {"role": "admin"}},
        {"preferences": {"role": "admin"}},
        {"profile": {"settings": {"role": "admin"}}},
        {"id": 2, "items": [{"role": "admin"}]},
        {"team": {"members": [{"role": "admin"}]}, "id": 1},
    ],
)
def test_a_privilege_field_nested_elsewhere_does_not_count(data: Any) -> None:
    assert not holds(data, "role", "admin")


def test_true_is_not_one() -> None:
    assert not holds({"admin": 1}, "admin", True)
    assert not holds({"admin": "true"}, "admin", True)


def test_a_field_stored_by_the_write_is_reported() -> None:
    fields = {"admin": True, "role": "admin"}
    verdict = judge_mass_assignment(fields, {"admin": False}, None, {"admin": True})
    assert verdict.stored == ("admin",)
    assert not verdict.already


def test_a_field_held_before_is_inconclusive() -> None:
    verdict = judge_mass_assignment({"role": "admin"}, [{"role": "admin"}], {}, [{"role": "admin"}])
    assert verdict.already == ("role",)
    assert not verdict.stored


def test_an_echo_alone_is_not_stored() -> None:
    verdict = judge_mass_assignment({"admin": True}, {"a": 1}, {"admin": True}, {"a": 1})
    assert verdict.echoed == ("admin",)
    assert not verdict.stored


# -- where the fields go ----------------------------------------------------------------------


def test_fields_go_at_the_top_of_a_flat_body() -> None:
    body = {"name": "Bob", "email": "bob@example.test"}
    assert field_home(body) == ()
    assert with_privilege_fields(body, FIELDS) == {**body, **FIELDS}


def test_fields_go_inside_a_data_wrapper() -> None:
    body = {"data": {"name": "Bob"}}
    assert field_home(body) == ("data",)
    assert with_privilege_fields(body, FIELDS) == {"data": {"name": "Bob", **FIELDS}}
    assert body == {"data": {"name": "Bob"}}  # the endpoint's own body is left alone


def test_fields_go_inside_json_api_attributes() -> None:
    body = {"data": {"type": "users", "id": "2", "attributes": {"name": "Bob"}}}
    assert field_home(body) == ("data", "attributes")
    sent = with_privilege_fields(body, FIELDS)
    assert sent["data"]["attributes"] == {"name": "Bob", **FIELDS}
    assert sent["data"]["type"] == "users"


@pytest.mark.parametrize(
    ("body", "home"),
    [
        ({"user": {"name": "Bob"}}, ("user",)),  # a known wrapper
        ({"customer": {"name": "Bob"}}, ("customer",)),  # the only key holding an object
        ({"data": {"name": "Bob"}, "meta": {"trace": 1}}, ("data",)),  # beside an envelope
        ({"name": "Bob", "user": {"id": 3}}, ()),  # fields of its own at the top: a reference
        ({"settings": {"theme": "dark"}}, ()),  # a bag of client data is no wrapper
        ({"data": {"a": 1}, "user": {"b": 2}}, ()),  # two wrappers: no telling which
        ({"data": {"name": "Bob", "attributes": {"x": 1}}}, ("data",)),  # no JSON:API resource
    ],
)
def test_a_wrapper_is_recognised_only_where_the_body_has_no_fields_of_its_own(
    body: dict[str, Any], home: tuple[str, ...]
) -> None:
    assert field_home(body) == home


def test_field_names_that_place_themselves_are_named() -> None:
    fields = {"data.role": "admin", "admin": True, "Data": {"role": "admin"}}
    assert misplaced_fields(fields, ("data",)) == ["data.role", "Data"]
    assert misplaced_fields({"data": {"role": "admin"}}, ()) == []


def test_a_list_of_numbers_or_a_bare_value_holds_no_object() -> None:
    assert not holds_object([1, 2, 3])
    assert not holds_object(4242)
    assert not holds_object("ok")
    assert holds_object([{"id": 1}])
    assert holds_object({})
