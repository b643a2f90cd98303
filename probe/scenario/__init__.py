"""Scenario files: the format's models and the loader that turns a file into them."""

from __future__ import annotations

from probe.errors import InvalidScenario
from probe.scenario.loader import (
    LoadedScenario,
    load_scenario,
    scenario_json_schema,
)
from probe.scenario.models import Scenario

__all__ = [
    "InvalidScenario",
    "LoadedScenario",
    "Scenario",
    "load_scenario",
    "scenario_json_schema",
]
