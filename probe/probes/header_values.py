"""Shared vocabulary of the headers probe's judges: header lookup, verdicts, value splitting.

Names and tokens are compared with `ascii_lower`, which folds A-Z only: locale-aware or Unicode
folding would turn the Kelvin sign into "k" or a dotted capital I into "i", and a browser never
does that. Every lookup works on the raw header lines, one value per line, never a comma-joined
value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from probe.exchange import ascii_lower as ascii_lower  # re-exported for the judges
from probe.exchange import header_values
from probe.findings import Severity

HeaderLines = Sequence[tuple[str, str]]
#: Every value sent under a name, one per raw line (names compared by ASCII case only).
values_named = header_values

# RFC 9110 optional white space, and the token characters a directive name may use.
OWS = " \t"
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
DIGITS = re.compile(r"[0-9]+")
# Longer digit strings are clamped: int() refuses strings beyond a few thousand digits.
MAX_SECONDS_DIGITS = 18
HUGE_SECONDS = 10**MAX_SECONDS_DIGITS


def lines_named(lines: HeaderLines, *names: str) -> list[str]:
    """The raw lines sent under any of `names`, formatted "Name: value" for an excerpt."""
    wanted = {ascii_lower(n) for n in names}
    return [f"{key}: {value}" for key, value in lines if ascii_lower(key) in wanted]


@dataclass(frozen=True)
class Problem:
    """Something a judge found wrong.

    Attributes:
        name: The rule's short name (`hsts-missing`), without the probe id.
        detail: What was seen, in one sentence.
        severity: Overrides the rule's default severity, or None.
        lines: The header lines that show it, formatted "Name: value".
        subject: What it concerns when a rule covers several things (cookie or header name).
    """

    name: str
    detail: str
    severity: Severity | None = None
    lines: tuple[str, ...] = ()
    subject: str = ""


@dataclass(frozen=True)
class Verdict:
    """The outcome of judging one header family on one response.

    Attributes:
        problems: What is wrong; empty when the response passes.
        skipped: Why the family does not apply here, or None when it was judged.
        passed: What was fine, for the pass check's detail.
    """

    problems: tuple[Problem, ...] = ()
    skipped: str | None = None
    passed: str = ""


def fail(*problems: Problem) -> Verdict:
    """A verdict with problems."""
    return Verdict(problems=problems)


def skip(reason: str) -> Verdict:
    """A verdict for a family that does not apply."""
    return Verdict(skipped=reason)


def ok(detail: str) -> Verdict:
    """A passing verdict."""
    return Verdict(passed=detail)


# -- splitting ---------------------------------------------------------------------------------


def split_quoted(value: str, sep: str) -> list[str]:
    """Split on `sep` outside double-quoted strings (backslash escapes honoured)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def unquote(value: str) -> str | None:
    """A token as is, or the content of a quoted-string; None when the quotes are broken."""
    if not value.startswith('"'):
        return value if '"' not in value else None
    if len(value) < 2 or not value.endswith('"'):
        return None
    inner = value[1:-1]
    out: list[str] = []
    escaped = False
    for char in inner:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return None
        else:
            out.append(char)
    return None if escaped else "".join(out)


def directives(value: str, sep: str) -> list[tuple[str, str | None]]:
    """`name[=value]` items split on `sep`; names ASCII-lowered, values unquoted when possible."""
    items: list[tuple[str, str | None]] = []
    for part in split_quoted(value, sep):
        name, eq, raw = part.partition("=")
        name = ascii_lower(name.strip(OWS))
        if not name:
            continue
        if not eq:
            items.append((name, None))
            continue
        raw = raw.strip(OWS)
        text = unquote(raw)
        items.append((name, raw if text is None else text))
    return items


# -- media types -------------------------------------------------------------------------------


def mime_essence(value: str | None) -> str:
    """type/subtype of a Content-Type value, ASCII-lowered ("" when absent)."""
    if value is None:
        return ""
    return ascii_lower(value.split(";", 1)[0].strip(OWS))


def is_json_mime(essence: str) -> bool:
    """A JSON MIME type as the WHATWG MIME Sniffing standard defines it."""
    return essence in ("application/json", "text/json") or (
        "/" in essence and essence.endswith("+json")
    )


def is_html_mime(essence: str) -> bool:
    """A MIME type browsers render as an HTML document."""
    return essence in ("text/html", "application/xhtml+xml")


def seconds(value: str | None) -> int:
    """A delta-seconds value (clamped to HUGE_SECONDS), or 0 when it is not one."""
    if value is None or not DIGITS.fullmatch(value):
        return 0
    return int(value) if len(value) <= MAX_SECONDS_DIGITS else HUGE_SECONDS
