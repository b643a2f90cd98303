"""Malformed scenarios: each gives one line `file:line: message`, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from probe.errors import InvalidScenario, ScenarioError
from probe.scenario import source as source_module
from probe.scenario.loader import MAX_ALIAS_VALUES, MAX_FILE_BYTES, load_scenario
from probe.scenario.models import MAX_ENDPOINTS

BASE = """\
name: t
target:
  base_url: http://127.0.0.1:8000
"""

# (id, file text, line of the first problem, part of its message)
CASES: list[tuple[str, str, int, str]] = [
    # YAML itself
    ("unclosed-flow-list", "name: [a\n", 2, "invalid YAML: expected ',' or ']'"),
    ("bad-indentation", "name: a\n  target: b\n", 2, "mapping values are not allowed here"),
    ("tab-indent", "name: a\n\ttarget: b\n", 2, "found character '\\t'"),
    ("duplicate-key", BASE + "name: u\n", 4, "duplicate key 'name'"),
    ("undefined-alias", BASE + "settings: *nope\n", 4, "found undefined alias 'nope'"),
    ("two-documents", BASE + "---\nname: u\n", 4, "expected a single document"),
    ("python-tag", "name: !!python/object/apply:os.system [ls]\n", 1, "tag !!python/object"),
    ("custom-tag", BASE + "settings: !custom {}\n", 4, "the YAML tag !custom is not allowed"),
    ("binary-tag", "name: !!binary aGk=\n", 1, "the YAML tag !!binary is not allowed"),
    ("empty-int-tag", "name: !!int\n", 1, "cannot read '' as !!int"),
    ("control-char", "name: a\x07b\n", 1, "control character U+0007"),
    (
        "top-level-list",
        "# a list\n- name: t\n",
        2,
        "top level must be a mapping of keys, got a list",
    ),
    ("top-level-scalar", "---\nhello\n", 2, "top level must be a mapping of keys, got 'hello'"),
    ("top-level-null", "null\n", 1, "top level must be a mapping of keys, got null"),
    ("empty-file", "", 1, "the file is empty"),
    ("only-comments", "# nothing here\n\n", 1, "the file is empty"),
    ("number-key", BASE + "settings:\n  1: 2\n", 5, "key 1 in settings must be text"),
    ("deep-brackets", "name: " + "[" * 70 + "]" * 70 + "\n", 1, "nested more than 64 levels"),
    # unknown and misspelt keys at every level
    (
        "top-typo",
        "name: t\ntargte:\n  base_url: http://x\n",
        2,
        "'targte' in the top level; did you mean 'target'?",
    ),
    (
        "target-typo",
        "name: t\ntarget:\n  base_ulr: http://x\n",
        3,
        "unknown key 'base_ulr' in target; did you mean 'base_url'?",
    ),
    (
        "settings-typo",
        BASE + "settings:\n  concurency: 3\n",
        5,
        "in settings; did you mean 'concurrency'?",
    ),
    (
        "identity-typo",
        BASE + "identities:\n  alice:\n    tokn: x\n",
        6,
        "'tokn' in identities.alice; did you mean 'token'?",
    ),
    (
        "login-typo",
        BASE + "identities:\n  bob:\n    login:\n      path: /l\n      token_pth: t\n",
        8,
        "in identities.bob.login; did you mean 'token_path'?",
    ),
    (
        "endpoint-typo",
        BASE + "endpoints:\n  - path: /a\n    methd: GET\n",
        6,
        "'methd' in endpoints[0]; did you mean 'method'?",
    ),
    (
        "probes-typo",
        BASE + "probes:\n  header: {}\n",
        5,
        "unknown probe 'header' in probes; did you mean 'headers'?",
    ),
    (
        "probes-unknown",
        BASE + "probes:\n  zap: {}\n",
        5,
        "unknown probe 'zap' in probes (valid: headers, https,",
    ),
    (
        "jwt-typo",
        BASE + "probes:\n  jwt:\n    identiti: alice\n",
        6,
        "'identiti' in probes.jwt; did you mean 'identity'?",
    ),
    ("key-case", "name: t\ntarget:\n  Base_URL: http://x\n", 3, "did you mean 'base_url'?"),
    (
        "unrelated-key",
        BASE + "settings:\n  zzz: 1\n",
        5,
        "unknown key 'zzz' in settings (valid: concurrency,",
    ),
    # missing required keys
    ("missing-name", "target:\n  base_url: http://x\n", 1, "name is required"),
    ("missing-target", "name: t\n", 1, "target is required"),
    ("missing-base-url", "name: t\ntarget:\n  scope: [x]\n", 2, "target.base_url is required"),
    (
        "missing-path",
        BASE + "endpoints:\n  - path: /a\n  - name: b\n",
        6,
        "endpoints[1].path is required",
    ),
    (
        "missing-token-path",
        BASE + "identities:\n  bob:\n    login:\n      path: /l\n",
        6,
        "identities.bob.login.token_path is required",
    ),
    (
        "identity-without-source",
        BASE + "identities:\n  alice:\n    header: X-Key\n",
        5,
        "identities.alice: an identity needs exactly one of token or login",
    ),
    # wrong types and values
    ("name-number", "name: 5\ntarget: {base_url: 'http://x'}\n", 1, "name must be a string, got 5"),
    ("name-empty", "name: ''\ntarget: {base_url: 'http://x'}\n", 1, "name must not be empty"),
    ("target-null", "name: t\ntarget:\n", 2, "target must be a mapping, got null"),
    ("target-list", "name: t\ntarget: [a]\n", 2, "target must be a mapping, got a list"),
    (
        "endpoints-mapping",
        BASE + "endpoints:\n  a: 1\n",
        4,
        "endpoints must be a list, got a mapping",
    ),
    (
        "timeout-text",
        BASE + "settings:\n  timeout: soon\n",
        5,
        "settings.timeout must be a number, got 'soon'",
    ),
    (
        "concurrency-negative",
        BASE + "settings:\n  concurrency: -1\n",
        5,
        "settings.concurrency must be greater than 0, got -1",
    ),
    (
        "concurrency-zero",
        BASE + "settings:\n  concurrency: 0\n",
        5,
        "settings.concurrency must be greater than 0, got 0",
    ),
    (
        "max-requests-negative",
        BASE + "settings:\n  max_requests: -5\n",
        5,
        "max_requests must be greater than 0",
    ),
    (
        "wait-negative",
        BASE + "probes:\n  jwt: {wait_for_expiry: -1}\n",
        5,
        "probes.jwt.wait_for_expiry must be at least 0, got -1",
    ),
    (
        "burst-fraction",
        BASE + "endpoints:\n  - path: /a\n    burst: 1.5\n",
        6,
        "endpoints[0].burst must be a whole number, got 1.5",
    ),
    ("version-two", "version: 2\n" + BASE, 1, "version must be 1, got 2"),
    (
        "verify-number",
        BASE + "  verify_tls: 5\n",
        4,
        "target.verify_tls must be true, false or a string, got 5",
    ),
    (
        "verify-quoted-bool",
        BASE + "  verify_tls: 'false'\n",
        4,
        "write true or false without quotes",
    ),
    ("verify-missing-ca", BASE + "  verify_tls: certs/none.pem\n", 4, "CA bundle file not found"),
    (
        "probe-number",
        BASE + "probes:\n  https: 5\n",
        5,
        "probes.https must be a mapping or false, got 5",
    ),
    (
        "query-mapping",
        BASE + "endpoints:\n  - path: /a\n    query: {a: {b: 1}}\n",
        6,
        "endpoints[0].query.a must be a string, an integer",
    ),
    (
        "header-list",
        BASE + "  headers:\n    X-Id: [7]\n",
        5,
        "target.headers.X-Id must be a string, got a list",
    ),
    (
        "method-unknown",
        BASE + "endpoints:\n  - path: /a\n    method: FETCH\n",
        6,
        "endpoints[0].method must be one of GET",
    ),
    (
        "two-bodies",
        BASE + "endpoints:\n  - path: /a\n    json: {a: 1}\n    body: x\n",
        5,
        "endpoints[0]: an endpoint takes one of json, form or body",
    ),
    (
        "placeholder-no-value",
        BASE + "endpoints:\n  - path: /a/{id}\n",
        5,
        "path placeholder {id} has no value",
    ),
    (
        "inject-text",
        BASE + "endpoints:\n  - path: /a\n    inject: some\n",
        6,
        "endpoints[0].inject must be a list or 'all', got 'some'",
    ),
    (
        "inject-number",
        BASE + "endpoints:\n  - path: /a\n    inject:\n      - 1\n",
        7,
        "endpoints[0].inject[0] must be a string, got 1",
    ),
    (
        "empty-token",
        BASE + "identities:\n  alice: {token: ' '}\n",
        5,
        "identities.alice: token is empty",
    ),
    # URLs and paths
    (
        "url-scheme",
        "name: t\ntarget:\n  base_url: ftp://x\n",
        3,
        "target.base_url must start with http:// or https://",
    ),
    ("url-no-host", "name: t\ntarget:\n  base_url: http://\n", 3, "target.base_url has no host"),
    ("url-bad-port", "name: t\ntarget:\n  base_url: http://x:99999\n", 3, "has an invalid port"),
    (
        "url-query",
        "name: t\ntarget:\n  base_url: http://x/?a=1\n",
        3,
        "must not carry a query or fragment",
    ),
    ("http-url-https", BASE + "  http_url: https://x\n", 4, "http_url must be a plain http:// URL"),
    ("scope-path", BASE + "  scope: [x/y]\n", 4, "target.scope entries are host or host:port"),
    (
        "path-no-slash",
        BASE + "endpoints:\n  - path: orders\n",
        5,
        "endpoints[0].path must start with '/', got 'orders'",
    ),
    (
        "path-query",
        BASE + "endpoints:\n  - path: /a?b=1\n",
        5,
        "put query parameters under `query`",
    ),
    (
        "login-path-no-slash",
        BASE + "identities:\n  bob:\n    login: {path: login, token_path: t}\n",
        6,
        "identities.bob.login.path must start with '/'",
    ),
    # references across keys
    (
        "duplicate-names",
        BASE + "endpoints:\n  - {path: /a, name: x}\n  - {path: /b, name: x}\n",
        6,
        "endpoints[1].name: duplicate endpoint 'x' (also endpoints[0])",
    ),
    (
        "duplicate-default-names",
        BASE + "endpoints:\n  - path: /a\n  - path: /a\n",
        6,
        "duplicate endpoint 'GET /a'",
    ),
    (
        "identity-undefined",
        BASE + "identities:\n  alice: {token: t}\nendpoints:\n  - path: /a\n    identity: alcie\n",
        8,
        "unknown identity 'alcie'; did you mean 'alice'?",
    ),
    (
        "owner-undefined",
        BASE + "endpoints:\n  - path: /a\n    owner: bob\n",
        6,
        "endpoints[0].owner: unknown identity 'bob'",
    ),
    (
        "jwt-endpoint-undefined",
        BASE + "endpoints:\n  - {path: /a, name: orders}\nprobes:\n  jwt:\n    endpoint: order\n",
        8,
        "probes.jwt.endpoint: unknown endpoint 'order'; did you mean 'orders'?",
    ),
    (
        "jwt-identity-undefined",
        BASE + "probes:\n  jwt:\n    identity: carol\n",
        6,
        "probes.jwt.identity: unknown identity 'carol'",
    ),
    (
        "inject-undefined",
        BASE + "endpoints:\n  - path: /a/{id}\n    path_params: {id: '1'}\n    inject: [id, idd]\n",
        7,
        "endpoints[0].inject[1]: unknown parameter 'idd'; did you mean 'id'?",
    ),
    (
        "burst-over-cap",
        BASE + "settings: {burst_cap: 10}\nendpoints:\n  - path: /a\n    burst: 50\n",
        7,
        "burst 50 is above settings.burst_cap (10)",
    ),
    (
        "burst-on-delete",
        BASE + "endpoints:\n  - path: /a\n    method: DELETE\n    burst: 5\n",
        7,
        "a DELETE endpoint cannot take a burst: probes never replay DELETE requests",
    ),
    # variables
    (
        "unset-variable",
        BASE + "identities:\n  alice:\n    token: ${ALICE_TOKEN}\n",
        6,
        "variable ALICE_TOKEN is not set; export it or pass --var ALICE_TOKEN=VALUE",
    ),
    (
        "unset-in-text",
        BASE + "  headers:\n    X-Env: env-${ENV_NAME}-1\n",
        5,
        "variable ENV_NAME is not set",
    ),
    ("unset-in-list", BASE + "  scope:\n    - a\n    - ${HOST}\n", 6, "variable HOST is not set"),
    (
        "bad-placeholder",
        BASE + "  headers:\n    X: ${not-a-name}\n",
        5,
        "'${' must be followed by NAME}; write '$${'",
    ),
    # Values that validate as types but could never work at run time
    ("header-crlf", BASE + '  headers: {X-A: "a\\r\\nInjected: 1"}\n', 4, "line break or NUL"),
    ("header-bad-name", BASE + '  headers: {"X A": b}\n', 4, "not a valid header name"),
    ("timeout-infinite", BASE + "settings: {timeout: .inf}\n", 4, "finite number"),
    ("timeout-bool", BASE + "settings: {timeout: true}\n", 4, "expected a number, got true"),
    ("rps-infinite", BASE + "settings: {requests_per_second: .inf}\n", 4, "finite number"),
    (
        "cors-origin-not-url",
        BASE + "probes: {headers: {cors_origin: not a url}}\n",
        4,
        "cors_origin",
    ),
    ("json-nan", BASE + "endpoints:\n  - path: /a\n    json: {a: .nan}\n", 6, "NaN or infinity"),
    (
        "base-url-out-of-scope",
        BASE + "  scope: [example.com]\n",
        4,
        "base_url's host 127.0.0.1:8000 is not in scope",
    ),
    ("scope-bad-port", BASE + "  scope: ['127.0.0.1:abc']\n", 4, "invalid port 'abc'"),
    ("framing-header", BASE + "  headers: {Content-Length: '5'}\n", 4, "set by probe itself"),
    ("header-non-ascii", BASE + "  headers: {X-A: caf\u00e9}\n", 4, "outside printable ASCII"),
    (
        "token-crlf",
        BASE + 'identities: {a: {token: "t0k\\r\\nX-Evil: 1"}}\n',
        4,
        "line break or NUL",
    ),
    ("identity-header-bad", BASE + "identities: {a: {token: t0ken, header: 'X Y'}}\n", 4, "header"),
    # keys of the jwt and access probes
    (
        "refresh-without-refresh-path",
        BASE + "identities:\n  a:\n    login:\n      path: /l\n      token_path: t\n"
        "      refresh: {path: /r}\n",
        6,
        "login.refresh needs refresh_path",
    ),
    (
        "mass-assignment-on-get",
        BASE + "endpoints:\n  - path: /u\n    mass_assignment: true\n",
        5,
        "mass_assignment needs a POST, PUT or PATCH endpoint",
    ),
    (
        "mass-assignment-without-json",
        BASE + "endpoints:\n  - path: /u\n    method: POST\n    mass_assignment: true\n",
        5,
        "mass_assignment needs a JSON object body",
    ),
    (
        "mass-assignment-unknown-read",
        BASE + "endpoints:\n  - path: /u\n    method: PATCH\n    json: {a: 1}\n"
        "    mass_assignment: {read: get-usr}\n",
        8,
        "unknown endpoint 'get-usr'",
    ),
    (
        "mass-assignment-dotted-field",
        BASE + "endpoints:\n  - path: /u\n    method: PATCH\n    json: {data: {a: 1}}\n"
        "    mass_assignment: {fields: {data.role: admin}}\n",
        8,
        "fields names privilege fields alone, not paths: 'data.role'",
    ),
    (
        "jwks-out-of-scope",
        BASE + "probes:\n  jwt: {jwks_url: 'https://keys.example.test/jwks.json'}\n",
        5,
        "jwks_url's host keys.example.test:443 is not in scope",
    ),
    (
        "wait-for-expiry-too-long",
        BASE + "probes:\n  jwt: {wait_for_expiry: 1000000000000}\n",
        5,
        "wait_for_expiry must be at most 3600, got 1000000000000",
    ),
    (
        "wait-for-expiry-bool",
        BASE + "probes:\n  jwt: {wait_for_expiry: true}\n",
        5,
        "expected a number, got true",
    ),
    (
        "timing-samples-too-many",
        BASE + "probes:\n  access: {timing_samples: 50}\n",
        5,
        "timing_samples must be at most 20",
    ),
    (
        "injection-delays-repeated",
        BASE + "probes:\n  injection:\n    delays: [2, 2]\n",
        6,
        "delays must be distinct levels",
    ),
    (
        "injection-delay-too-long",
        BASE + "probes:\n  injection:\n    delays: [2, 30]\n",
        6,
        "must be at most 10, got 30",
    ),
    (
        "injection-one-delay",
        BASE + "probes:\n  injection: {delays: [2]}\n",
        5,
        "delays",
    ),
    (
        "injection-unknown-family",
        BASE + "probes:\n  injection: {families: [sql, ldap]}\n",
        5,
        "ldap",
    ),
    (
        "injection-max-wait-below-one-proof",
        BASE + "probes:\n  injection: {time_based: true, max_wait: 5}\n",
        5,
        "max_wait (5 s) cannot pay for one time-based proof",
    ),
    (
        "injection-max-wait-bool",
        BASE + "probes:\n  injection: {max_wait: true}\n",
        5,
        "expected a number, got true",
    ),
]


def _load_error(
    tmp_path: Path, text: str | bytes, name: str = "s.yaml"
) -> tuple[Path, ScenarioError]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, environ={})
    return path, caught.value


@pytest.mark.parametrize(
    ("text", "line", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_scenario_names_file_line_and_problem(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path, error = _load_error(tmp_path, text)
    shown = str(error)
    assert shown.startswith(f"{path}:{line}: "), shown
    assert message in shown
    assert "\n" not in shown
    assert (error.file, error.line) == (str(path), line)


def test_unknown_key_suggests_the_nearest_valid_key(tmp_path: Path) -> None:
    path, error = _load_error(tmp_path, "name: t\ntarget:\n  base_ulr: http://x\n")
    assert str(error) == f"{path}:3: unknown key 'base_ulr' in target; did you mean 'base_url'?"


def test_misspelt_required_key_is_reported_once_as_unknown(tmp_path: Path) -> None:
    _, error = _load_error(tmp_path, "name: t\ntarget:\n  base_ulr: http://x\n")
    assert isinstance(error, InvalidScenario)
    assert [p.message for p in error.problems] == [
        "unknown key 'base_ulr' in target; did you mean 'base_url'?"
    ]


def test_every_problem_is_listed_in_line_order(tmp_path: Path) -> None:
    text = BASE + "settings:\n  timeout: -1\n  concurrency: 0\nendpoints:\n  - path: a\n"
    _, error = _load_error(tmp_path, text)
    assert isinstance(error, InvalidScenario)
    assert [p.line for p in error.problems] == [5, 6, 8]
    assert error.message == error.problems[0].message


def test_every_unset_variable_is_listed(tmp_path: Path) -> None:
    text = BASE + "  headers:\n    A: ${ONE}\n    B: ${TWO}\n"
    _, error = _load_error(tmp_path, text)
    assert isinstance(error, InvalidScenario)
    assert [(p.line, p.message[:14]) for p in error.problems] == [
        (5, "variable ONE i"),
        (6, "variable TWO i"),
    ]


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: cannot read the scenario: no such file"


def test_directory_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a directory, not a scenario file"


def test_unreadable_file_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.yaml"
    path.write_text(BASE)
    path.chmod(0)
    if os.geteuid() == 0:
        # Root reads files whatever their mode (and CI runs as root): make the OS answer
        # EACCES as it would for any other user.
        def refuse(*args: object, **kwargs: object) -> object:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(source_module, "open", refuse, raising=False)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: cannot read the scenario: permission denied"


def test_binary_file_is_refused_at_its_first_nul_byte(tmp_path: Path) -> None:
    path, error = _load_error(tmp_path, b"name: t\n\x89PNG\x00\x01\x02")
    assert str(error) == f"{path}:2: binary data (a NUL byte); a scenario is UTF-8 YAML text"


def test_non_utf8_file_is_refused_at_the_bad_byte(tmp_path: Path) -> None:
    path, error = _load_error(tmp_path, b"name: t\ntarget:\n  base_url: http://caf\xe9\n")
    assert str(error).startswith(f"{path}:3: not UTF-8 text (byte 0xe9)")


def test_huge_file_is_refused_with_the_cap(tmp_path: Path) -> None:
    path, error = _load_error(tmp_path, b"#" * (MAX_FILE_BYTES + 1))
    assert str(error) == (
        f"{path}: file is {MAX_FILE_BYTES + 1:,} bytes; a scenario may be 2 MiB at most"
    )


def test_deeply_nested_unclosed_brackets_fail_fast(tmp_path: Path) -> None:
    path, error = _load_error(tmp_path, "name: " + "[" * 200_000)
    assert str(error) == f"{path}:1: brackets nested more than 64 levels deep"


def test_deep_block_nesting_is_refused(tmp_path: Path) -> None:
    text = "".join(" " * depth + "a:\n" for depth in range(1500))
    _, error = _load_error(tmp_path, text)
    assert "nested too deeply" in str(error)


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]")
    path, error = _load_error(tmp_path, "\n".join(lines) + "\n")
    assert f"aliases expand to more than {MAX_ALIAS_VALUES:,} values" in str(error)
    assert str(error).startswith(f"{path}:")


def test_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    text = "&r {name: t, target: {base_url: 'http://x'}, endpoints: [*r]}\n"
    path, error = _load_error(tmp_path, text)
    assert str(error) == f"{path}:1: endpoints[0]: an alias refers to itself"


def test_value_of_a_variable_never_appears_in_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "settings:\n  concurrency: ${TOKEN}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, variables={"TOKEN": "s3cr3t-value"}, environ={})
    assert "s3cr3t" not in str(caught.value)
    assert "settings.concurrency must be an integer, got '${TOKEN}'" in str(caught.value)


def test_loader_errors_print_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    reused_anchor = "name: &a t\ntarget: {base_url: &a 'http://x'}\nnope: 1\n"
    for text, _, _ in [c[1:] for c in CASES] + [(reused_anchor, 0, "")]:
        _load_error(tmp_path, text)
    assert capfd.readouterr() == ("", "")


def test_more_endpoints_than_the_cap_is_a_clean_error(tmp_path: Path) -> None:
    endpoints = "".join(f"  - path: /e{i}\n" for i in range(MAX_ENDPOINTS + 1))
    path, error = _load_error(tmp_path, BASE + "endpoints:\n" + endpoints)
    assert str(error).startswith(f"{path}:4: endpoints")
    assert str(MAX_ENDPOINTS) in str(error)
