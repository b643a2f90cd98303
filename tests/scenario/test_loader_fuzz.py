"""Whatever bytes a scenario file holds, loading it ends in a scenario or one ScenarioError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probe.errors import ScenarioError
from probe.scenario import load_scenario

# Pieces of YAML syntax, so that random text often gets past the first character.
YAML_PIECES = [
    *":-[]{}&*!|>'\"#%@`,?\n \t$",
    "name",
    "target",
    "base_url",
    "http://127.0.0.1",
    "${A}",
    "$${",
    "<<",
    "0x1",
    "1e3",
    ".inf",
    "~",
    "2024-01-01",
    "!!str",
    "!!int",
    "!!float",
    "!!map",
    "!!seq",
    "!!binary",
    "---",
    "...",
    "&a",
    "*a",
    "yes",
]
KEYS = [
    "name", "target", "base_url", "verify_tls", "headers", "settings", "concurrency",
    "identities", "alice", "token", "login", "path", "json", "endpoints", "method", "identity",
    "owner", "inject", "burst", "probes", "jwt", "endpoint", "https", "version", "x",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(),
    st.sampled_from(["", "/a", "/a/{id}", "http://x", "ftp://", "alice", "all", "${A}", "${B}"]),
    st.text(max_size=5),
)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=25,
)


def _outcome(content: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_bytes(content)
        try:
            load_scenario(path, environ={"A": "secret-a-value"})
        except ScenarioError as error:
            shown = str(error)
            assert shown.startswith(str(path))
            assert "\n" not in shown
            assert "secret-a-value" not in shown
            return shown
    return "ok"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_give_a_scenario_error_or_a_scenario(content: bytes) -> None:
    _outcome(content)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=40))
def test_random_yaml_tokens_give_a_scenario_error_or_a_scenario(pieces: list[str]) -> None:
    _outcome("".join(pieces).encode())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), TREES, max_size=6))
def test_random_scenario_shapes_give_a_scenario_error_or_a_scenario(data: dict[str, Any]) -> None:
    _outcome(json.dumps(data).encode())
