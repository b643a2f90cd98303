"""Pure judges for stack traces in Python, Java, .NET, Node.js, PHP, Ruby and Go formats.

A trace is recognised by its frame lines in the language's own format (two of them, or one
with the runtime's header), never by words: a page that merely mentions "Traceback" matches
nothing. A PHP error line with file and line number counts alone; a Go stack needs its panic
or goroutine header. Each format's needles are looked for (a fast `in` check) before its
patterns run, and every pattern is bounded (see `error_signatures`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from probe.probes.signatures import (
    LINE_CHARS,
    STACK_TRACE,
    Match,
    excerpt_of,
    line_at,
    multiline,
)

_MAX_FRAMES = 60

_WS = r"[^\S\n]"  # whitespace inside a line, including the NBSP of HTML pages


@dataclass(frozen=True)
class _Trace:
    signature: str
    label: str
    frame: re.Pattern[str]
    header: re.Pattern[str] | None = None
    #: Frames needed without a header; None means the header is required.
    min_frames: int | None = 2
    #: A header alone is proof (PHP's "... in /file.php on line 3").
    header_alone: bool = False
    reject: re.Pattern[str] | None = None
    #: One of these must be in the text before the patterns are tried (a fast `in` check).
    needles: tuple[str, ...] = ()


_NET_NAME = r"[\w`<>\[\],+|$-]{1,50}"
_TRACES = (
    _Trace(
        "python",
        "Python traceback",
        multiline(rf'^{_WS}{{0,16}}File "[^"\n]{{1,300}}", line \d{{1,7}}(?:, in [^\n]{{1,200}})?'),
        multiline(rf"^{_WS}{{0,16}}Traceback \(most recent call last\):"),
        needles=('File "',),
    ),
    _Trace(
        "java",
        "Java stack trace",
        multiline(
            rf"^{_WS}{{0,16}}at [\w$.<>/@-]{{1,300}}\((?:[\w$ -]{{1,120}}\."
            r"(?:java|kt|scala|groovy|clj):\d{1,7}|Native Method|Unknown Source)\)"
        ),
        needles=(
            ".java:",
            ".kt:",
            ".scala:",
            ".groovy:",
            ".clj:",
            "Native Method",
            "Unknown Source",
        ),
    ),
    _Trace(
        "dotnet",
        ".NET stack trace",
        # Namespace.Type.Method(args), optionally " in file:line N"; Java frames are rejected.
        multiline(
            rf"^{_WS}{{0,16}}at {_NET_NAME}(?:\.{_NET_NAME}){{1,8}}\([^()\n]{{0,200}}\)"
            rf"(?: in [^\n]{{1,200}}:line \d{{1,7}})?{_WS}{{0,8}}$"
        ),
        reject=re.compile(
            r"\.(?:java|kt|scala|groovy|clj):\d{1,7}\)|\((?:Native Method|Unknown Source)\)"
        ),
        needles=("at ",),
    ),
    _Trace(
        "node",
        "Node.js stack trace",
        multiline(
            rf"^{_WS}{{0,16}}at (?:[^\n()]{{1,200}} \()?(?:file://)?[^\n()]{{0,300}}"
            r"(?:\.[cm]?[jt]sx?|node:[\w/.-]{1,100}|<anonymous>):\d{1,7}:\d{1,7}\)?"
            rf"{_WS}{{0,8}}$"
        ),
        needles=(".js:", ".ts:", ".jsx:", ".tsx:", "node:", "<anonymous>:"),
    ),
    _Trace(
        "php",
        "PHP error with file and line",
        multiline(r"^#\d{1,4} (?:[A-Za-z]:\\|/|\[internal function\]|\{main\})[^\n]{0,300}"),
        re.compile(
            r"(?:Fatal error|Parse error|Warning|Notice|Deprecated|Uncaught [\w\\]{1,100})"
            r": {1,2}[^\n]{1,500}? in (?:[A-Za-z]:\\|/)[^\n]{1,300}?(?: on line |:)\d{1,7}"
        ),
        header_alone=True,
        needles=(" on line ", "#0 ", "Uncaught "),
    ),
    _Trace(
        "ruby",
        "Ruby backtrace",
        multiline(
            rf"^{_WS}{{0,16}}(?:from )?(?:[A-Za-z]:)?[\w./~-]{{0,300}}\.rb:\d{{1,7}}"
            r":in [`'][^\n]{1,200}'"
        ),
        needles=(".rb:",),
    ),
    _Trace(
        "go",
        "Go panic with goroutine stack",
        multiline(
            rf"^{_WS}{{1,16}}(?:[A-Za-z]:)?/[^\n]{{0,300}}\.go:\d{{1,7}}(?: \+0x[0-9a-f]{{1,16}})?"
        ),
        multiline(r"^(?:goroutine \d{1,9} \[[^\]\n]{1,60}\]:|panic: [^\n]{1,300})"),
        min_frames=None,
        needles=(".go:",),
    ),
)


def _trace_match(sig: _Trace, text: str) -> Match | None:
    if not any(needle in text for needle in sig.needles):
        return None
    frames = [
        m
        for m in islice(sig.frame.finditer(text), _MAX_FRAMES)
        if sig.reject is None or not sig.reject.search(m.group(0))
    ]
    header = sig.header.search(text) if sig.header is not None else None
    enough = sig.min_frames is not None and len(frames) >= sig.min_frames
    if not (enough or (header and (frames or sig.header_alone))):
        return None
    lines = [line_at(text, header.start())] if header else []
    if frames and not header:
        before = text.rfind("\n", 0, max(0, frames[0].start() - 1))
        lines.append(text[before + 1 : frames[0].start()].strip()[:LINE_CHARS])
    lines += [m.group(0).strip() for m in frames]
    key = frames[0].group(0).strip() if frames else lines[0]
    return Match(STACK_TRACE, sig.signature, sig.label, key, excerpt_of(lines))


def find_stack_traces(text: str) -> list[Match]:
    """Stack traces in Python, Java, .NET, Node.js, PHP, Ruby and Go formats."""
    found = []
    for sig in _TRACES:
        match = _trace_match(sig, text)
        if match is not None:
            found.append(match)
    return found
