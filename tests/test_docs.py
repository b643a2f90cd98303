"""The README documents every probe, rule and scenario key that the code defines."""

from __future__ import annotations

from pathlib import Path

from probe.catalogue import replace_block
from probe.probes import REGISTRY
from probe.scenario.models import Endpoint, Identity, Login, Settings, Target

README = Path(__file__).parents[1] / "README.md"


def test_readme_rules_block_is_current() -> None:
    text = README.read_text()
    assert replace_block(text) == text, "run `make docs` to refresh the README's rule tables"


def test_every_rule_id_is_in_the_readme() -> None:
    text = README.read_text()
    for probe in REGISTRY.values():
        for rule in probe.rules:
            assert f"`{rule.id}`" in text


def test_every_scenario_key_is_in_the_readme() -> None:
    text = README.read_text()
    for model in (Target, Settings, Identity, Login, Endpoint):
        for name, field in model.model_fields.items():
            key = field.alias or name
            assert f"`{key}`" in text or f".{key}`" in text or f"/ `{key}`" in text, key


def test_every_registered_probe_is_documented_and_unique() -> None:
    ids = [probe.id for probe in REGISTRY.values()]
    assert len(ids) == len(set(ids))
    assert ids == ["headers", "https", "rate_limit", "jwt", "errors", "injection", "access"]
    for probe in REGISTRY.values():
        assert probe.title
        assert probe.__doc__
        rule_ids = [rule.id for rule in probe.rules]
        assert len(rule_ids) == len(set(rule_ids))
        assert all(r.startswith(f"{probe.id}.") for r in rule_ids)
        if probe.implemented:
            assert probe.rules, probe.id
