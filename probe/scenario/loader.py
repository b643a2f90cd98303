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

import difflib
import hashlib
import os
import re
import stat
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, TaggedScalar
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from probe.errors import InvalidScenario, ScenarioError
from probe.scenario.models import PROBE_IDS, Loc, Scenario, reference_problems

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ALIAS_VALUES = 100_000
MAX_DEPTH = 64
_MIN_REDACTED_LEN = 4

_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REFUSED = "the YAML tag"
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
    raw = _read_bytes(file)
    tree = _parse_yaml(file, _decode(file, raw))
    env = os.environ if environ is None else environ
    converter = _Converter(file, variables or {}, env)
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


def _fail(file: str, line: int | None, message: str) -> NoReturn:
    raise InvalidScenario([ScenarioError(_one_line(message), file=file, line=line)])


def _one_line(message: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], message.strip())


# --- 1. bytes and text --------------------------------------------------------------------------


def _read_bytes(file: str) -> bytes:
    cap = f"{MAX_FILE_BYTES // (1024 * 1024)} MiB"
    try:
        info = os.stat(file)
        if stat.S_ISDIR(info.st_mode):
            _fail(file, None, "is a directory, not a scenario file")
        if not stat.S_ISREG(info.st_mode):
            _fail(file, None, "is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            _fail(file, None, f"file is {info.st_size:,} bytes; a scenario may be {cap} at most")
        with open(file, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        _fail(file, None, "cannot read the scenario: no such file")
    except PermissionError:
        _fail(file, None, "cannot read the scenario: permission denied")
    except OSError as exc:
        _fail(file, None, f"cannot read the scenario: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        _fail(file, None, f"file grew past {cap} while being read; a scenario may be {cap} at most")
    return raw


def _decode(file: str, raw: bytes) -> str:
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        _fail(file, line, "binary data (a NUL byte); a scenario is UTF-8 YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        _fail(file, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8")
    return text.removeprefix("\ufeff")


# --- 2. YAML ------------------------------------------------------------------------------------


class _PlainConstructor(RoundTripConstructor):
    """Round-trip constructor that builds nothing but plain YAML values."""


def _refuse_tag(constructor: Any, node: Any) -> NoReturn:
    tag = getattr(node.tag, "value", node.tag)
    raise ConstructorError(None, None, f"{_REFUSED} {tag} is not allowed", node.start_mark)


def _guarded(construct: Any) -> Any:
    """Turn ruamel's crashes on odd scalars (`!!int` with no digits) into a YAML error."""

    def run(constructor: Any, node: Any) -> Any:
        try:
            return construct(constructor, node)
        except (ValueError, TypeError, IndexError, KeyError, OverflowError):
            tag = str(getattr(node.tag, "value", node.tag)).replace("tag:yaml.org,2002:", "!!")
            problem = f"cannot read {_show(str(node.value))} as {tag}"
            raise ConstructorError(None, None, problem, node.start_mark) from None

    return run


for _tag in ("int", "float", "bool", "null"):
    _PlainConstructor.add_constructor(
        f"tag:yaml.org,2002:{_tag}",
        _guarded(RoundTripConstructor.yaml_constructors[f"tag:yaml.org,2002:{_tag}"]),
    )
for _tag in ("binary", "omap", "pairs", "set"):
    _PlainConstructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
_PlainConstructor.add_constructor(None, _refuse_tag)
# A date written in a scenario is meant as text (a query value, a JSON field), not a datetime;
# `=` and `<<` used as values are text too.
for _tag in ("timestamp", "value", "merge", "yaml"):
    _PlainConstructor.add_constructor(
        f"tag:yaml.org,2002:{_tag}", RoundTripConstructor.construct_yaml_str
    )


_FLOW_TOKEN = re.compile(
    r"""[\[{\]}]|(?:(?<=[\s\[{,:])|^)(?:'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")|(?:(?<=\s)|^)#.*""",
    re.MULTILINE,
)


def _check_flow_depth(file: str, text: str) -> None:
    """Refuse deeply nested [ and { early: ruamel's scanner slows quadratically on them."""
    depth = 0
    for match in _FLOW_TOKEN.finditer(text):
        piece = match.group(0)
        if piece in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                _fail(file, line, f"brackets nested more than {MAX_DEPTH} levels deep")
        elif piece in "]}":
            depth = max(depth - 1, 0)


def _parse_yaml(file: str, text: str) -> CommentedMap:
    _check_flow_depth(file, text)
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _PlainConstructor
    yaml.allow_duplicate_keys = False
    try:
        # ruamel warns (on stderr) about reused anchors and YAML 1.1 floats; both are harmless.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = yaml.load(text)
    except DuplicateKeyError as exc:
        _fail(file, _mark_line(exc.problem_mark), _duplicate_message(exc))
    except MarkedYAMLError as exc:
        _fail(file, _mark_line(exc.problem_mark), _yaml_message(exc))
    except ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "?")
        _fail(file, line, f"control character U+{char:04X} is not allowed in YAML text")
    except YAMLError as exc:
        _fail(file, None, f"invalid YAML: {exc}")
    except RecursionError:
        _fail(file, None, f"invalid YAML: nested too deeply ({MAX_DEPTH} levels at most)")
    except Exception as exc:
        # ruamel parses untrusted text; any other crash of its own still means unreadable YAML.
        _fail(file, None, f"invalid YAML: the parser failed ({type(exc).__name__}: {exc})")
    content_line = _first_content_line(text)
    if tree is None and content_line is None:
        _fail(file, 1, "the file is empty; a scenario needs at least `name:` and `target:`")
    if not isinstance(tree, CommentedMap):
        kind = "a list" if isinstance(tree, list) else _show(tree)
        _fail(file, content_line, f"the top level must be a mapping of keys, got {kind}")
    return tree


def _mark_line(mark: Any) -> int | None:
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else None


def _duplicate_message(exc: DuplicateKeyError) -> str:
    found = re.search(r'duplicate key "(.*)" with value', str(exc.problem))
    key = repr(found.group(1)) if found else "a key"
    first = _mark_line(exc.context_mark)
    where = f" (the mapping starts at line {first})" if first else ""
    return f"duplicate key {key} in the same mapping{where}"


def _yaml_message(exc: MarkedYAMLError) -> str:
    problem = str(exc.problem or "syntax error").replace("\n", " ")
    if problem.startswith(_REFUSED):
        return problem.replace("tag:yaml.org,2002:", "!!")
    message = f"invalid YAML: {problem}"
    context_line = _mark_line(exc.context_mark)
    problem_line = _mark_line(exc.problem_mark)
    if exc.context and context_line and context_line != problem_line:
        message += f" ({exc.context} started at line {context_line})"
    return message


def _first_content_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "%")) and stripped not in ("---", "..."):
            return number
    return None


# --- 3. plain data, lines, variables ------------------------------------------------------------


class _Converter:
    """Copies a ruamel tree into plain values, replacing variables and noting lines."""

    def __init__(self, file: str, variables: Mapping[str, str], environ: Mapping[str, str]):
        self.file = file
        self.variables = variables
        self.environ = environ
        self.secrets: dict[str, str] = {}
        self.lines: dict[Loc, int] = {}
        self.problems: list[ScenarioError] = []
        self._seen: set[int] = set()
        self._open: set[int] = set()
        self._expanded = 0

    def convert_root(self, tree: CommentedMap) -> dict[str, Any]:
        """The whole document as plain data; raises for unset variables and structure."""
        line = _node_line(tree, 1)
        self.lines[()] = line
        data = self._convert(tree, (), line, aliased=False)
        if self.problems:
            raise InvalidScenario(sorted(self.problems, key=_line_key))
        assert isinstance(data, dict)
        return data

    def _convert(self, node: Any, loc: Loc, line: int, *, aliased: bool) -> Any:
        if isinstance(node, dict | list):
            return self._container(node, loc, line, aliased=aliased)
        if aliased:
            self._count(line)
        if isinstance(node, TaggedScalar) and str(node.tag.value).endswith(":str"):
            node = node.value  # `!!str 5`, kept tagged by ruamel for round-tripping
        if isinstance(node, str):
            return self._interpolate(str(node), line)
        if isinstance(node, ScalarBoolean):
            return bool(node)
        if node is None or isinstance(node, bool):
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        _fail(self.file, line, f"{_dotted(loc)}: unsupported YAML value {type(node).__name__}")

    def _container(self, node: Any, loc: Loc, line: int, *, aliased: bool) -> Any:
        if id(node) in self._open:
            _fail(self.file, line, f"{_dotted(loc)}: an alias refers to itself")
        if len(loc) >= MAX_DEPTH:
            _fail(self.file, line, f"{_dotted(loc)}: nested more than {MAX_DEPTH} levels deep")
        # A container met a second time comes from an alias: its copies count towards the cap.
        aliased = aliased or id(node) in self._seen
        self._seen.add(id(node))
        if aliased:
            self._count(line)
        self._open.add(id(node))
        try:
            if isinstance(node, dict):
                return self._mapping(node, loc, line, aliased=aliased)
            return self._sequence(node, loc, line, aliased=aliased)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: dict[Any, Any], loc: Loc, line: int, *, aliased: bool) -> Any:
        out: dict[str, Any] = {}
        for key in node:
            key_line = _key_line(node, key, line)
            if not isinstance(key, str):
                shown = _show(bool(key) if isinstance(key, ScalarBoolean) else key)
                where = f" in {_dotted(loc)}" if loc else ""
                _fail(self.file, key_line, f"key {shown}{where} must be text; put it in quotes")
            self.lines.setdefault((*loc, str(key)), key_line)
            out[str(key)] = self._convert(node[key], (*loc, str(key)), key_line, aliased=aliased)
        return out

    def _sequence(self, node: list[Any], loc: Loc, line: int, *, aliased: bool) -> Any:
        out: list[Any] = []
        for index, item in enumerate(node):
            item_line = _item_line(node, index, line)
            self.lines.setdefault((*loc, index), item_line)
            out.append(self._convert(item, (*loc, index), item_line, aliased=aliased))
        return out

    def _count(self, line: int) -> None:
        self._expanded += 1
        if self._expanded > MAX_ALIAS_VALUES:
            _fail(
                self.file,
                line,
                f"aliases expand to more than {MAX_ALIAS_VALUES:,} values; "
                "a scenario does not need that many",
            )

    def _interpolate(self, text: str, line: int) -> str:
        if "${" not in text:
            return text
        return _VARIABLE.sub(lambda match: self._replace(match, line), text)

    def _replace(self, match: re.Match[str], line: int) -> str:
        found, name = match.group(0), match.group(1)
        if found == "$${":
            return "${"
        if name is None:
            self._problem(line, "'${' must be followed by NAME}; write '$${' for a literal '${'")
            return found
        value = self.variables.get(name)
        if value is None:
            value = self.environ.get(name)
        if value is None:
            self._problem(line, f"variable {name} is not set; export it or pass --var {name}=VALUE")
            return ""
        self.secrets[name] = value
        return value

    def _problem(self, line: int, message: str) -> None:
        self.problems.append(ScenarioError(_one_line(message), file=self.file, line=line))

    def redact(self, text: str) -> str:
        """`text` with every interpolated value shown as `${NAME}` instead."""
        for name, value in sorted(self.secrets.items(), key=lambda kv: -len(kv[1])):
            if len(value) >= _MIN_REDACTED_LEN:
                text = text.replace(value, "${" + name + "}")
        return text


def _node_line(node: Any, default: int) -> int:
    line = getattr(getattr(node, "lc", None), "line", None)
    return line + 1 if isinstance(line, int) else default


def _key_line(node: Any, key: Any, default: int) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        # Keys brought in by a `<<` merge have no position of their own.
        return default


def _item_line(node: Any, index: int, default: int) -> int:
    try:
        return int(node.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return default


def _line_key(problem: ScenarioError) -> tuple[int, bool]:
    # On one line, "x is required" is the least telling message (often caused by the others).
    return problem.line or 0, problem.message.endswith(" is required")


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


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


class _Validator:
    """Runs the models and the cross-key checks, mapping each problem to a line."""

    def __init__(self, file: str, data: dict[str, Any], converter: _Converter) -> None:
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
            (tuple(loc), f"{_dotted(loc)}{_joined(loc, msg)}")
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
                _one_line(self.converter.redact(message)), file=self.file, line=self._line(path)
            )
            for path, message in problems
        ]
        raise InvalidScenario(sorted(errors, key=_line_key))

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
        path: list[str | int] = []
        via_union = False
        loc = error["loc"]
        for index, part in enumerate(loc):
            if _has(node, part):
                node = node[part]
            elif index < len(loc) - 1 or error["type"] != "missing":
                via_union = True
                continue
            path.append(part)
        issue = _Issue(tuple(path), error["type"], error["msg"], error["input"], via_union, None)
        if issue.kind == "extra_forbidden":
            issue.expected = _nearest_key(issue.path)
        else:
            issue.expected = _expected(error)
        return issue

    def _message(self, issue: _Issue) -> str:
        where = _dotted(issue.path)
        kind = issue.kind
        ctx_value = _show(issue.value)
        if kind == "missing":
            return f"{where} is required"
        if kind == "extra_forbidden":
            return _unknown_key_message(issue.path, issue.expected)
        if kind in ("value_error", "assertion_error"):
            text = re.sub(r"^(Value|Assertion) error, ", "", issue.message)
            return f"{where}{_joined(issue.path, text)}"
        if kind == "int_from_float":
            return f"{where} must be a whole number, got {ctx_value}"
        if kind == "string_too_short" and issue.value == "":
            return f"{where} must not be empty"
        if issue.expected:
            return f"{where} must be {issue.expected}, got {ctx_value}"
        return f"{where}: {issue.message[:1].lower()}{issue.message[1:]}"


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _expected(error: ErrorDetails) -> str | None:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "literal_error":
        return re.sub(r"\b(True|False)\b", lambda m: m.group(0).lower(), str(ctx["expected"]))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }
        bound = next(iter(ctx.values()))
        return f"{words[kind]} {bound}"
    if kind == "string_too_short":
        return f"at least {ctx.get('min_length')} characters long"
    return None


def _merge_union_branches(issues: list[_Issue]) -> list[_Issue]:
    """Several type errors at one path are the branches of a union: say what any would take."""
    merged: dict[Loc, _Issue] = {}
    for issue in issues:
        first = merged.get(issue.path)
        if first is None or issue.kind in ("missing", "extra_forbidden"):
            merged.setdefault(issue.path, issue)
            continue
        if first.via_union and issue.via_union and first.expected and issue.expected:
            options = [o for o in (first.expected, issue.expected) if o]
            first.expected = _either(options)
    return list(merged.values())


def _either(options: list[str]) -> str:
    parts: list[str] = []
    for option in options:
        for part in re.split(r", | or ", option):
            if part not in parts:
                parts.append(part)
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else parts[0]


def _extends(longer: Loc, shorter: Loc) -> bool:
    return len(longer) > len(shorter) and longer[: len(shorter)] == shorter


def _joined(path: Loc, text: str) -> str:
    """Glue a model's message to the dotted path: `x.path must ...` or `x: message`."""
    last = path[-1] if path else None
    if isinstance(last, str) and text.startswith(f"{last} "):
        return text[len(last) :]
    return f": {text}" if path else text


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


# --- messages -----------------------------------------------------------------------------------


def _dotted(path: Loc) -> str:
    if len(path) > 12:
        return f"{_dotted(path[:6])}...{_dotted(path[-3:])}"
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_\-]+", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(path: Loc) -> type[BaseModel] | None:
    """The model that validates the mapping at `path`, by following field annotations."""
    current: Any = Scenario
    for part in path:
        current = _step(current, part)
        if current is None:
            return None
    return next((m for m in _members(current) if _is_model(m)), None)


def _step(annotation: Any, part: str | int) -> Any:
    for member in _members(annotation):
        if _is_model(member) and isinstance(part, str):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        origin = get_origin(member)
        if origin is dict and isinstance(part, str):
            return get_args(member)[1]
        if origin is list and isinstance(part, int):
            return get_args(member)[0]
    return None


def _members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _members(arg)]
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    return [annotation]


def _is_model(member: Any) -> bool:
    return get_origin(member) is None and isinstance(member, type) and issubclass(member, BaseModel)


def _valid_keys(parent: Loc) -> list[str]:
    model = _model_at(parent)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _nearest_key(path: Loc) -> str | None:
    key = str(path[-1])
    valid = _valid_keys(path[:-1])
    by_lower = {name.lower(): name for name in valid}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def _unknown_key_message(path: Loc, nearest: str | None) -> str:
    parent = path[:-1]
    kind = "probe" if parent == ("probes",) else "key"
    where = _dotted(parent) or "the top level"
    message = f"unknown {kind} {str(path[-1])!r} in {where}"
    if nearest:
        return f"{message}; did you mean {nearest!r}?"
    valid = list(PROBE_IDS) if kind == "probe" else _valid_keys(parent)
    return f"{message} (valid: {', '.join(valid)})" if valid else message
