"""The JSON report and its published JSON Schema.

`render_json` writes every field of the `Report` model (the model is the schema; every field
has a description). `report_json_schema` derives the schema from the same model; the copy
committed as `probe/reports/report.schema.json` is checked against it by the tests and
regenerated with `make golden`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from probe.report import SCHEMA_ID, Report

SCHEMA_FILE = "report.schema.json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def render_json(report: Report) -> str:
    """The report as indented JSON, keys in model order, ending in a newline."""
    return report.model_dump_json(by_alias=True, indent=2) + "\n"


class _EveryKeyWritten(GenerateJsonSchema):
    """Marks fields with defaults required too: `render_json` always writes every key."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        """Every field of a written report is present."""
        return True


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the JSON report, derived from the `Report` model."""
    schema = Report.model_json_schema(
        by_alias=True, mode="serialization", schema_generator=_EveryKeyWritten
    )
    head = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": f"probe report ({SCHEMA_ID})",
    }
    schema.pop("title", None)
    # The model only defaults this field; a reader should be able to rely on the version.
    schema["properties"]["schema"]["const"] = SCHEMA_ID
    return {**head, **schema}


def schema_text() -> str:
    """The schema as committed to `report.schema.json`: indented JSON ending in a newline."""
    return json.dumps(report_json_schema(), indent=2, ensure_ascii=False) + "\n"


def published_schema() -> dict[str, Any]:
    """The schema file shipped in the package."""
    text = resources.files("probe.reports").joinpath(SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
