"""Where a login body holds the user name and the password, and the users the access probe puts
there: field names of common frameworks, a per-endpoint override, a neutral unknown user for a
secret user name (pure helpers, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from probe.probes.access_login_fields import (
    NEUTRAL_DOMAIN,
    configured_fields,
    field_name,
    find_password_field,
    find_user_field,
    get_field,
    neutral_user,
    with_fields,
)
from probe.scenario.models import Endpoint


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("identifier", "password"),  # Strapi
        ("j_username", "j_password"),  # Spring Security
        ("user[email]", "user[password]"),  # Rails Devise
        ("login[username]", "login[password]"),
        ("session[email]", "session[password]"),
        ("account", "pwd"),
        ("mail", "pass"),
        ("phone", "pin_password"),
        ("usr", "pwd"),
    ],
)
def test_login_fields_of_common_frameworks_are_found(user: str, password: str) -> None:
    body = {"remember_me": "1", user: "alice@x.test", password: "p"}
    assert find_user_field(body, None) == user
    assert find_password_field(body, None) == password


def test_nested_login_fields_are_found_by_their_dotted_path() -> None:
    body: dict[str, Any] = {"user": {"email": "a@x.test", "password": "p"}}
    assert find_user_field(body, None) == "user.email"
    assert find_password_field(body, None) == "user.password"


def test_token_and_csrf_fields_are_never_taken() -> None:
    body = {
        "csrf_token": "t0k3n",
        "authenticity_token": "t0k3n",
        "password_reset_token": "t0k3n",
        "pass_nonce": "n",
        "email": "a@x.test",
        "password": "p",
    }
    assert find_user_field(body, None) == "email"
    assert find_password_field(body, None) == "password"
    assert find_user_field({"user_token": "abc", "login_csrf": "x"}, None) is None
    assert find_password_field({"bypass_cache": "1", "password_hash": "h"}, None) is None


def test_a_field_name_is_its_last_dotted_or_bracketed_part() -> None:
    assert field_name("user[email]") == "email"
    assert field_name("credentials.Email") == "email"
    assert field_name("j_username") == "jusername"


def test_a_form_key_with_brackets_or_dots_is_set_as_it_is() -> None:
    body = {"user[email]": "a@x.test", "user.password": "p"}
    assert get_field(body, "user.password") == "p"
    changed = with_fields(body, {"user[email]": "b@x.test", "user.password": "w"})
    assert changed == {"user[email]": "b@x.test", "user.password": "w"}


def _login(**extra: object) -> Endpoint:
    body = {"path": "/login", "method": "POST", "json": {"who": "a", "secret": "p"}}
    return Endpoint.model_validate({**body, **extra})


def test_the_endpoints_login_fields_win_over_the_probes_options() -> None:
    endpoint = _login(login_fields={"user": "who", "password": "secret"})
    named = configured_fields(endpoint, "global_user", "global_password")
    assert (named.user, named.password, named.where) == ("who", "secret", "login_fields")
    # A field the endpoint leaves out keeps the probe's option.
    endpoint = _login(login_fields={"user": "who"})
    named = configured_fields(endpoint, None, "global_password")
    assert (named.user, named.password) == ("who", "global_password")


def test_without_login_fields_the_probes_options_apply() -> None:
    named = configured_fields(_login(), "u", None)
    assert (named.user, named.password, named.where) == ("u", None, "probes.access")
    assert configured_fields(_login(), None, None).user is None


def test_a_neutral_user_shows_nothing_of_the_known_one() -> None:
    made = neutral_user("alice.sm1th@corp-intra.example")
    assert made.endswith(f"@{NEUTRAL_DOMAIN}")
    assert "corp" not in made
    assert "sm1th" not in made
    plain = neutral_user("alice_w")
    assert plain.startswith("probe")
    assert "@" not in plain
    assert neutral_user("alice_w") != plain
