"""What the signature judges share: the `Match` they return, the errors probe's rule names,
and a response body read as text within fixed bounds.

The error, secret and exposure judges (`error_signatures`, `trace_signatures`,
`secret_signatures`, `exposure_signatures`) read a body only through these helpers, so every
one of them stops at the same limits: at most `SCAN_HEAD` + `SCAN_TAIL` characters,
`JSON_NODES` JSON nodes, and excerpt lines of `LINE_CHARS` characters.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from probe.findings import Confidence, Severity

# Rule names (the probe prefixes them with "errors.").
STACK_TRACE = "stack-trace"
DEBUG_PAGE = "debug-page"
DEBUG_CONSOLE = "debug-console"
SQL_ERROR = "sql-error"
INTERNAL_PATH = "internal-path"
SECRET_IN_RESPONSE = "secret-in-response"  # noqa: S105 - a rule name
EXPOSED_FILE = "exposed-file"
UNHANDLED_5XX = "unhandled-5xx"

SCAN_HEAD = 512 * 1024
SCAN_TAIL = 64 * 1024
LINE_CHARS = 240
EXCERPT_LINES = 12
JSON_NODES = 20_000
_JSON_DEPTH = 64


@dataclass(frozen=True)
class Match:
    """One signature found in one response body.

    Attributes:
        rule: Rule name (`stack-trace`, `debug-page`, ...).
        signature: Stable id of what matched (`python`, `django-500`, `mysql`, ...).
        label: What matched, for people ("Python traceback").
        key: The distinctive text; the match is news only when the normal answer lacks it.
        excerpt: The matched lines (secret values masked).
        severity: Overrides the rule's default severity, or None.
        confidence: Overrides the rule's default confidence, or None.
    """

    rule: str
    signature: str
    label: str
    key: str
    excerpt: str
    severity: Severity | None = None
    confidence: Confidence | None = None


@dataclass(frozen=True)
class TextViews:
    """A body read three ways, each cut to the scan limit.

    Attributes:
        raw: The body text as received.
        plain: What a reader sees: JSON strings decoded, HTML tags dropped and entities decoded.
        data: The parsed JSON body, or None when the body is not JSON.
        is_json: True when the body parsed as a JSON object or array.
    """

    raw: str
    plain: str
    data: Any
    is_json: bool


def bounded(text: str) -> str:
    """The text cut to its first SCAN_HEAD and last SCAN_TAIL characters."""
    if len(text) <= SCAN_HEAD + SCAN_TAIL:
        return text
    return text[:SCAN_HEAD] + "\n" + text[-SCAN_TAIL:]


_BREAK_TAG = re.compile(r"<(?:br|/p|/div|/li|/tr|/h\d|/pre|/title)\b[^<>]{0,200}>", re.I)
_TAG = re.compile(r"<[^<>]{0,1000}>")
_HTML_START = re.compile(r"\s{0,200}<(?:!doctype html|html|head|body)\b", re.I)


def looks_like_html(text: str, content_type: str) -> bool:
    """True for an HTML content type or a body that starts like an HTML document."""
    return "html" in content_type or bool(_HTML_START.match(text[:512]))


def text_views(text: str, content_type: str = "") -> TextViews:
    """Read a body as raw text, reader's text and JSON."""
    raw = bounded(text)
    stripped = raw.lstrip()[:1]
    if stripped in ("{", "["):
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        else:
            if isinstance(data, dict | list):
                return TextViews(raw, "\n".join(_json_strings(data)), data, True)
    if looks_like_html(raw, content_type):
        plain = html.unescape(_TAG.sub("", _BREAK_TAG.sub("\n", raw)))
        return TextViews(raw, plain, None, False)
    return TextViews(raw, raw, None, False)


def walk_json(value: Any, path: str = "$", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(JSON path, value) of every node, depth first, bounded in depth (callers bound the
    count with JSON_NODES)."""
    yield path, value
    if depth >= _JSON_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk_json(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_json(item, f"{path}[{index}]", depth + 1)


def _json_strings(data: Any) -> Iterator[str]:
    total = 0
    for _, value in islice(walk_json(data), JSON_NODES):
        if isinstance(value, str):
            total += len(value)
            if total > SCAN_HEAD:
                return
            yield value


def line_at(text: str, index: int) -> str:
    """The line holding position `index`, trimmed to a readable length."""
    start = max(text.rfind("\n", max(0, index - 2000), index) + 1, index - 80)
    end = text.find("\n", index, index + 2000)
    line = text[start : end if end != -1 else index + LINE_CHARS]
    return line.strip()[:LINE_CHARS]


def excerpt_of(lines: list[str]) -> str:
    """Distinct non-empty lines, each and their number cut to a readable size."""
    seen: list[str] = []
    for line in lines:
        if line and line not in seen:
            seen.append(line[:LINE_CHARS])
    return "\n".join(seen[:EXCERPT_LINES])


def multiline(pattern: str) -> re.Pattern[str]:
    """A compiled pattern where ^ and $ match at every line."""
    return re.compile(pattern, re.MULTILINE)
