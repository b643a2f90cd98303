"""The first steps of loading a scenario: from a file's bytes to plain data with known lines.

1. `read_bytes`: a regular file of at most `MAX_FILE_BYTES`; `decode`: UTF-8 text, no NUL byte;
2. `parse_yaml`: ruamel.yaml's round-trip loader, which keeps the line of every key and item.
   Only plain YAML values are built: a tag such as `!!python/object` or `!custom` is refused,
   timestamps stay text, duplicate keys are an error. Aliases may not expand to more than
   `MAX_ALIAS_VALUES` values (a "billion laughs" file) and nesting stops at `MAX_DEPTH`;
3. `Converter`: copies the tree into plain dicts and lists while replacing `${NAME}` variables
   and noting the line of every key path, and later redacts the replaced values from messages.

Each step stops with an `InvalidScenario` naming `file:line` (or `file` alone for the bytes).
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Mapping
from typing import Any, NoReturn

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, TaggedScalar
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from probe.errors import InvalidScenario, ScenarioError
from probe.scenario.messages import by_line, dotted, fail, one_line, show
from probe.scenario.models import Loc

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ALIAS_VALUES = 100_000
MAX_DEPTH = 64
_MIN_REDACTED_LEN = 4

_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")
_REFUSED = "the YAML tag"


# --- 1. bytes and text --------------------------------------------------------------------------


def read_bytes(file: str) -> bytes:
    """The file's bytes, if it is a readable regular file of at most `MAX_FILE_BYTES`."""
    cap = f"{MAX_FILE_BYTES // (1024 * 1024)} MiB"
    try:
        info = os.stat(file)
        if stat.S_ISDIR(info.st_mode):
            fail(file, None, "is a directory, not a scenario file")
        if not stat.S_ISREG(info.st_mode):
            fail(file, None, "is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            fail(file, None, f"file is {info.st_size:,} bytes; a scenario may be {cap} at most")
        with open(file, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        fail(file, None, "cannot read the scenario: no such file")
    except PermissionError:
        fail(file, None, "cannot read the scenario: permission denied")
    except OSError as exc:
        fail(file, None, f"cannot read the scenario: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        fail(file, None, f"file grew past {cap} while being read; a scenario may be {cap} at most")
    return raw


def decode(file: str, raw: bytes) -> str:
    """The bytes as UTF-8 text without a byte order mark; a NUL byte means a binary file."""
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        fail(file, line, "binary data (a NUL byte); a scenario is UTF-8 YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        fail(file, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8")
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
            problem = f"cannot read {show(str(node.value))} as {tag}"
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
                fail(file, line, f"brackets nested more than {MAX_DEPTH} levels deep")
        elif piece in "]}":
            depth = max(depth - 1, 0)


def parse_yaml(file: str, text: str) -> CommentedMap:
    """The document's top-level mapping, with ruamel's line information."""
    _check_flow_depth(file, text)
    tree = _load_yaml(file, text)
    content_line = _first_content_line(text)
    if tree is None and content_line is None:
        fail(file, 1, "the file is empty; a scenario needs at least `name:` and `target:`")
    if not isinstance(tree, CommentedMap):
        kind = "a list" if isinstance(tree, list) else show(tree)
        fail(file, content_line, f"the top level must be a mapping of keys, got {kind}")
    return tree


def _load_yaml(file: str, text: str) -> Any:
    """ruamel's tree of `text`, with every way parsing can fail turned into one problem."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _PlainConstructor
    yaml.allow_duplicate_keys = False
    try:
        # ruamel warns (on stderr) about reused anchors and YAML 1.1 floats; both are harmless.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return yaml.load(text)
    except DuplicateKeyError as exc:
        fail(file, _mark_line(exc.problem_mark), _duplicate_message(exc))
    except MarkedYAMLError as exc:
        fail(file, _mark_line(exc.problem_mark), _yaml_message(exc))
    except ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "?")
        fail(file, line, f"control character U+{char:04X} is not allowed in YAML text")
    except YAMLError as exc:
        fail(file, None, f"invalid YAML: {exc}")
    except RecursionError:
        fail(file, None, f"invalid YAML: nested too deeply ({MAX_DEPTH} levels at most)")
    except Exception as exc:
        # ruamel parses untrusted text; any other crash of its own still means unreadable YAML.
        fail(file, None, f"invalid YAML: the parser failed ({type(exc).__name__}: {exc})")


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


class Converter:
    """Copies a ruamel tree into plain values, replacing variables and noting lines.

    After `convert_root`, `secrets` maps each replaced variable name to its value and `lines`
    maps each key path to the line of its key (or list item).
    """

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
            raise InvalidScenario(sorted(self.problems, key=by_line))
        assert isinstance(data, dict)
        return data

    def redact(self, text: str) -> str:
        """`text` with every interpolated value shown as `${NAME}` instead."""
        for name, value in sorted(self.secrets.items(), key=lambda kv: -len(kv[1])):
            if len(value) >= _MIN_REDACTED_LEN:
                text = text.replace(value, "${" + name + "}")
        return text

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
        fail(self.file, line, f"{dotted(loc)}: unsupported YAML value {type(node).__name__}")

    def _container(self, node: Any, loc: Loc, line: int, *, aliased: bool) -> Any:
        if id(node) in self._open:
            fail(self.file, line, f"{dotted(loc)}: an alias refers to itself")
        if len(loc) >= MAX_DEPTH:
            fail(self.file, line, f"{dotted(loc)}: nested more than {MAX_DEPTH} levels deep")
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
                shown = show(bool(key) if isinstance(key, ScalarBoolean) else key)
                where = f" in {dotted(loc)}" if loc else ""
                fail(self.file, key_line, f"key {shown}{where} must be text; put it in quotes")
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
            fail(
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
        self.problems.append(ScenarioError(one_line(message), file=self.file, line=line))


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
