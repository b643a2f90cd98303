"""Valid scenarios load: variables, secrets, YAML conveniences, the example file and the schema."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from probe.scenario import LoadedScenario, load_scenario, scenario_json_schema
from probe.scenario.models import AccessConfig, JwtConfig

EXAMPLE = Path(__file__).parents[2] / "scenarios" / "example-staging.yaml"
EXAMPLE_VARIABLES = {
    "ALICE_TOKEN": "alice-token-value",
    "BOB_PASSWORD": "bob-password-value",
    "OLD_TOKEN": "old-token-value",
    "JWT_SECRET": "jwt-secret-value",
}
BASE = """\
name: t
target:
  base_url: http://127.0.0.1:8000
"""


def _load(tmp_path: Path, text: str, **kwargs: Any) -> LoadedScenario:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    kwargs.setdefault("environ", {})
    return load_scenario(path, **kwargs)


def test_example_scenario_loads_every_key_when_its_variables_are_given() -> None:
    loaded = load_scenario(EXAMPLE, variables=EXAMPLE_VARIABLES, environ={})
    scn = loaded.scenario
    assert scn.name == "Orders API (staging)"
    assert scn.target.base_url == "https://staging.example.com/api"
    assert scn.target.http_url == "http://staging.example.com/api"
    assert scn.target.scope == ["staging.example.com"]
    assert scn.target.verify_tls is True
    assert scn.target.headers == {"X-Env": "staging"}
    assert (scn.settings.concurrency, scn.settings.requests_per_second) == (8, 20)
    assert (scn.settings.timeout, scn.settings.max_requests) == (10, 5000)
    assert scn.identities["alice"].token == "alice-token-value"
    bob = scn.identities["bob"]
    assert bob.login is not None
    assert bob.login.json_body == {"email": "bob@example.com", "password": "bob-password-value"}
    assert (bob.login.method, bob.login.path) == ("POST", "/auth/login")
    assert (bob.login.token_path, bob.login.refresh_path) == ("access_token", "refresh_token")
    assert (bob.header, bob.scheme, bob.tags) == ("Authorization", "Bearer", ["admin"])
    assert bob.login.refresh is not None
    assert (bob.login.refresh.path, bob.login.refresh.field) == ("/auth/refresh", "refresh_token")
    order, login, users, update, profile = scn.endpoints
    assert (order.label, order.method, order.rendered_path) == ("get-order", "GET", "/orders/1001")
    assert order.query == {"expand": "items"}
    assert (order.identity, order.owner, order.inject) == ("alice", "alice", ["id", "expand"])
    assert (order.burst, order.expect_limit, order.tags) == (None, None, ["orders"])
    assert (login.method, login.burst, login.expect_limit) == ("POST", 50, 10)
    assert login.tags == ["auth", "login"]
    assert (users.identity, users.tags) == ("bob", ["admin"])
    assert update.mass_assignment is not None
    assert update.mass_assignment.read == profile.label == "get-profile"
    assert update.mass_assignment.fields == {"admin": True, "is_admin": True, "role": "admin"}
    assert set(scn.probes.enabled()) == {
        "headers", "https", "rate_limit", "jwt", "errors", "injection", "access"
    }  # fmt: skip
    jwt = scn.probes.jwt
    assert isinstance(jwt, JwtConfig)
    assert (jwt.identity, jwt.endpoint, jwt.max_lifetime, jwt.wait_for_expiry) == (
        "alice",
        "get-order",
        3600,
        120,
    )
    assert (jwt.expired_token, jwt.secret) == ("old-token-value", "jwt-secret-value")
    assert (jwt.jwks_url, jwt.weak_secrets) == ("/.well-known/jwks.json", True)
    access = scn.probes.access
    assert isinstance(access, AccessConfig)
    assert (access.user_field, access.password_field) == ("email", "password")
    assert (access.unknown_user, access.timing_samples) == ("nobody@example.com", 5)


def test_loaded_scenario_carries_path_hash_and_secrets() -> None:
    loaded = load_scenario(str(EXAMPLE), variables=EXAMPLE_VARIABLES, environ={})
    assert loaded.path == str(EXAMPLE)
    assert loaded.sha256 == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert loaded.secrets == EXAMPLE_VARIABLES


def test_minimal_scenario_gets_defaults(tmp_path: Path) -> None:
    loaded = _load(tmp_path, BASE)
    assert loaded.scenario.endpoints == []
    assert loaded.scenario.settings.concurrency == 8
    assert loaded.secrets == {}


def test_variables_come_from_the_environment(tmp_path: Path) -> None:
    text = BASE + "identities:\n  alice:\n    token: ${ALICE}\n"
    loaded = _load(tmp_path, text, environ={"ALICE": "from-env"})
    assert loaded.scenario.identities["alice"].token == "from-env"
    assert loaded.secrets == {"ALICE": "from-env"}


def test_var_option_wins_over_the_environment(tmp_path: Path) -> None:
    text = BASE + "identities:\n  alice:\n    token: ${ALICE}\n"
    loaded = _load(tmp_path, text, variables={"ALICE": "from-var"}, environ={"ALICE": "env"})
    assert loaded.scenario.identities["alice"].token == "from-var"
    assert loaded.secrets == {"ALICE": "from-var"}


def test_environment_defaults_to_os_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBE_TEST_TOKEN", "os-env-token")
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "identities:\n  a: {token: '${PROBE_TEST_TOKEN}'}\n")
    assert load_scenario(path).scenario.identities["a"].token == "os-env-token"


def test_placeholders_inside_text_are_replaced_and_only_used_ones_are_secrets(
    tmp_path: Path,
) -> None:
    text = BASE + "  headers:\n    X-Env: ${ENV}-${REGION}/v1\n"
    environ = {"ENV": "staging", "REGION": "eu", "UNUSED": "x"}
    loaded = _load(tmp_path, text, environ=environ)
    assert loaded.scenario.target.headers == {"X-Env": "staging-eu/v1"}
    assert loaded.secrets == {"ENV": "staging", "REGION": "eu"}


def test_double_dollar_escapes_a_placeholder(tmp_path: Path) -> None:
    text = BASE + "endpoints:\n  - path: /a\n    body: 'literal $${HOME} and ${X}'\n"
    loaded = _load(tmp_path, text, environ={"X": "x"})
    assert loaded.scenario.endpoints[0].body == "literal ${HOME} and x"
    assert loaded.secrets == {"X": "x"}


def test_placeholder_keeps_numbers_working(tmp_path: Path) -> None:
    text = BASE + "settings:\n  concurrency: ${CONC}\n"
    loaded = _load(tmp_path, text, variables={"CONC": "3"})
    assert loaded.scenario.settings.concurrency == 3


def test_placeholders_in_keys_are_left_alone(tmp_path: Path) -> None:
    text = BASE + "endpoints:\n  - path: /a\n    json:\n      ${NAME}: v\n"
    loaded = _load(tmp_path, text)
    assert loaded.scenario.endpoints[0].json_body == {"${NAME}": "v"}


def test_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    text = BASE + (
        "endpoints:\n"
        "  - &common {path: /a, headers: {X-A: '1'}, tags: [t]}\n"
        "  - <<: *common\n"
        "    path: /b\n"
    )
    loaded = _load(tmp_path, text)
    second = loaded.scenario.endpoints[1]
    assert (second.path, second.headers, second.tags) == ("/b", {"X-A": "1"}, ["t"])


def test_dates_stay_text(tmp_path: Path) -> None:
    text = BASE + "endpoints:\n  - path: /a\n    query: {since: 2024-01-31}\n"
    assert _load(tmp_path, text).scenario.endpoints[0].query == {"since": "2024-01-31"}


def test_ca_bundle_path_is_read_from_the_scenario_folder(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    bundle = tmp_path / "certs" / "ca.pem"
    bundle.write_text("not checked here")
    loaded = _load(tmp_path, BASE + "  verify_tls: certs/ca.pem\n")
    assert loaded.scenario.target.verify_tls == str(bundle)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_scenario(path, environ={}).scenario.name == "t"


def test_probe_can_be_switched_off_or_on(tmp_path: Path) -> None:
    text = BASE + "probes:\n  headers: false\n  https: true\n  errors:\n"
    enabled = _load(tmp_path, text).scenario.probes.enabled()
    assert "headers" not in enabled
    assert {"https", "errors"} <= set(enabled)


def test_json_schema_is_valid_and_accepts_the_example() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "probe scenario (format version 1)"
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads(json.dumps(YAML(typ="safe").load(EXAMPLE)))
    jsonschema.Draft202012Validator(schema).validate(data)


def test_json_schema_refuses_a_misspelt_key() -> None:
    data = json.loads(json.dumps(YAML(typ="safe").load(EXAMPLE)))
    data["target"]["base_ulr"] = data["target"].pop("base_url")
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    assert not validator.is_valid(data)


def test_json_schema_uses_the_keys_users_write() -> None:
    endpoint = scenario_json_schema()["$defs"]["Endpoint"]["properties"]
    assert "json" in endpoint
    assert "json_body" not in endpoint


def test_explicit_str_tag_and_yaml_odd_values_are_text(tmp_path: Path) -> None:
    text = (
        "name: =\ntarget:\n  base_url: http://127.0.0.1:8000\n  headers: {X-A: !!str 5, X-B: <<}\n"
    )
    loaded = _load(tmp_path, text)
    assert loaded.scenario.name == "="
    assert loaded.scenario.target.headers == {"X-A": "5", "X-B": "<<"}


def test_bare_numbers_are_text_where_text_is_expected(tmp_path: Path) -> None:
    text = BASE + "endpoints:\n  - path: /orders/{id}\n    path_params: {id: 1001}\n"
    loaded = _load(tmp_path, text)
    assert loaded.scenario.endpoints[0].rendered_path == "/orders/1001"


def test_ipv6_scope_entries_may_omit_their_brackets(tmp_path: Path) -> None:
    text = "name: t\ntarget:\n  base_url: http://[::1]:8000\n  scope: ['::1']\n"
    loaded = _load(tmp_path, text)
    assert loaded.scenario.target.scope == ["::1"]
