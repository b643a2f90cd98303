"""Reads a scenario file into a validated `Scenario`, or fails with one line `file:line: what`.

The steps, each of which may stop with a `ScenarioError`:

1. read the bytes: a regular file of at most `MAX_FILE_BYTES`, UTF-8 text without NUL bytes;
2. parse YAML with ruamel.yaml's round-trip loader, which keeps the line of every key and item.
   Only plain YAML values are built: a tag such as `!!python/object` or `!custom` is refused,
   timestamps stay text, duplicate keys are an error. Aliases may not expand to more than
   `MAX_ALIAS_VALUES` values (a "billion laughs" file) and nesting stops at `MAX_DEPTH`;
3. copy the tree into plain dicts and lists while replacing variables (below) and noting the
   line of every key path;
4. validate with the pydantic models, then `reference_problems` and the CA bundle file; every
   problem is mapped back to the line of its key (or of the parent when a key is missing).

Steps 1 to 3 live in `source`, step 4 here; `messages` words the problems for both.

Variables: `${NAME}` in any string value, alone or inside text, is replaced by `--var NAME=VALUE`
if given, else by the environment variable NAME. `$${` writes a literal `${`. Keys are never
interpolated. Every replaced value is returned in `LoadedScenario.secrets` so that the engine can
redact it. A relative `verify_tls` path is read from the scenario's folder.

The error raised is an `InvalidScenario` (a `ScenarioError`) whose message is the first problem in
line order; `problems` holds them all. A file that cannot be read at all (missing, a directory,
no permission, over the size cap) gives `file: what` without a line. Values of variables never
appear in a message: they are shown as `${NAME}`. Nothing here prints or logs.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from probe.errors import InvalidScenario, ScenarioError
from probe.scenario.messages import (
    by_line,
    dotted,
    either,
    expected,
    joined,
    nearest_key,
    one_line,
    show,
    unknown_key_message,
)
from probe.scenario.models import Loc, Scenario, reference_problems
from probe.scenario.source import (
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    Converter,
    decode,
    parse_yaml,
    read_bytes,
)

__all__ = [
    "MAX_ALIAS_VALUES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "LoadedScenario",
    "load_scenario",
    "scenario_json_schema",
]

_YAML_BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off"})


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and what the engine needs to know about its file."""

    scenario: Scenario
    """The validated scenario, with variables replaced."""
    path: str
    """The path the scenario was loaded from, as given."""
    sha256: str
    """SHA-256 of the file's bytes, hex."""
    secrets: dict[str, str]
    """Variable name -> value for every `${NAME}` replaced; the engine redacts these values."""


def load_scenario(
    path: str | os.PathLike[str],
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedScenario:
    """Load, interpolate and validate a scenario file.

    `variables` (from `--var K=V`) win over `environ`, which defaults to `os.environ`.
    Raises `InvalidScenario` (a `ScenarioError`) for every problem, never anything else.
    """
    file = os.fspath(path)
    raw = read_bytes(file)
    tree = parse_yaml(file, decode(file, raw))
    env = os.environ if environ is None else environ
    converter = Converter(file, variables or {}, env)
    data = converter.convert_root(tree)
    scenario = _Validator(file, data, converter).validate()
    return LoadedScenario(scenario, file, hashlib.sha256(raw).hexdigest(), converter.secrets)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (format version 1), for editors and `probe schema`."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "probe scenario (format version 1)",
        **schema,
    }


# --- 4. validation ------------------------------------------------------------------------------


@dataclass
class _Issue:
    """One validation error placed at a key path of the user's data."""

    path: Loc
    kind: str
    message: str
    value: Any
    via_union: bool
    expected: str | None


class _Validator:
    """Runs the models and the cross-key checks, mapping each problem to a line."""

    def __init__(self, file: str, data: dict[str, Any], converter: Converter) -> None:
        self.file = file
        self.data = data
        self.converter = converter

    def validate(self) -> Scenario:
        """The scenario, or InvalidScenario with every problem sorted by line."""
        try:
            scenario = Scenario.model_validate(self.data)
        except ValidationError as exc:
            self._raise([(i.path, self._message(i)) for i in self._issues(exc.errors())])
        problems = [
            (tuple(loc), f"{dotted(loc)}{joined(loc, msg)}")
            for loc, msg in reference_problems(scenario)
        ]
        scenario, ca_problem = _with_ca_bundle(self.file, scenario)
        if ca_problem:
            problems.append(ca_problem)
        if problems:
            self._raise(problems)
        return scenario

    def _raise(self, problems: list[tuple[Loc, str]]) -> NoReturn:
        errors = [
            ScenarioError(
                one_line(self.converter.redact(message)), file=self.file, line=self._line(path)
            )
            for path, message in problems
        ]
        raise InvalidScenario(sorted(errors, key=by_line))

    def _line(self, path: Loc) -> int:
        lines = self.converter.lines
        while path not in lines and path:
            path = path[:-1]
        return lines.get(path, 1)

    def _issues(self, errors: list[ErrorDetails]) -> list[_Issue]:
        issues = [self._place(error) for error in errors]
        issues = _merge_union_branches(issues)
        paths = [issue.path for issue in issues]
        keep = [
            issue
            for issue in issues
            if not (issue.via_union and any(_extends(p, issue.path) for p in paths))
        ]
        suggested = {
            (*issue.path[:-1], issue.expected) for issue in keep if issue.kind == "extra_forbidden"
        }
        # A misspelt required key shows as "unknown key" and "missing": the first says it all.
        return [i for i in keep if not (i.kind == "missing" and i.path in suggested)]

    def _place(self, error: ErrorDetails) -> _Issue:
        """Follow the error's location through the data; other parts name union branches."""
        node: Any = self.data
        parts: list[str | int] = []
        via_union = False
        loc = error["loc"]
        for index, part in enumerate(loc):
            if _has(node, part):
                node = node[part]
            elif index < len(loc) - 1 or error["type"] != "missing":
                via_union = True
                continue
            parts.append(part)
        path = tuple(parts)
        kind = error["type"]
        wanted = nearest_key(path) if kind == "extra_forbidden" else expected(error)
        return _Issue(path, kind, error["msg"], error["input"], via_union, wanted)

    def _message(self, issue: _Issue) -> str:
        where = dotted(issue.path)
        kind = issue.kind
        if kind == "missing":
            return f"{where} is required"
        if kind == "extra_forbidden":
            return unknown_key_message(issue.path, issue.expected)
        if kind in ("value_error", "assertion_error"):
            text = re.sub(r"^(Value|Assertion) error, ", "", issue.message)
            return f"{where}{joined(issue.path, text)}"
        if kind == "int_from_float":
            return f"{where} must be a whole number, got {show(issue.value)}"
        if kind == "string_too_short" and issue.value == "":
            return f"{where} must not be empty"
        if issue.expected:
            return f"{where} must be {issue.expected}, got {show(issue.value)}"
        return f"{where}: {issue.message[:1].lower()}{issue.message[1:]}"


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _merge_union_branches(issues: list[_Issue]) -> list[_Issue]:
    """Several type errors at one path are the branches of a union: say what any would take."""
    merged: dict[Loc, _Issue] = {}
    for issue in issues:
        first = merged.get(issue.path)
        if first is None or issue.kind in ("missing", "extra_forbidden"):
            merged.setdefault(issue.path, issue)
            continue
        if first.via_union and issue.via_union and first.expected and issue.expected:
            first.expected = either([first.expected, issue.expected])
    return list(merged.values())


def _extends(longer: Loc, shorter: Loc) -> bool:
    return len(longer) > len(shorter) and longer[: len(shorter)] == shorter


def _with_ca_bundle(file: str, scenario: Scenario) -> tuple[Scenario, tuple[Loc, str] | None]:
    """Resolve a `verify_tls` CA bundle path against the scenario's folder; it must exist."""
    value = scenario.target.verify_tls
    if not isinstance(value, str):
        return scenario, None
    loc: Loc = ("target", "verify_tls")
    if value.strip().lower() in _YAML_BOOL_WORDS:
        message = f"is the text {value!r}; write true or false without quotes, or a CA file path"
        return scenario, (loc, f"target.verify_tls {message}")
    bundle = Path(value).expanduser()
    if not bundle.is_absolute():
        bundle = Path(file).parent.absolute() / bundle
    if not bundle.is_file():
        return scenario, (loc, f"target.verify_tls: CA bundle file not found: {bundle}")
    target = scenario.target.model_copy(update={"verify_tls": str(bundle)})
    return scenario.model_copy(update={"target": target}), None
