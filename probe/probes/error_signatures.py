"""Pure judges for leaked errors: stack traces, framework debug pages, SQL errors, file paths.

Nothing here sends a request or knows about exchanges: every judge takes text (or parsed JSON)
and returns `Match`es, so tests call them directly. Two rules keep the judges honest:

- Structure, not words. A stack trace needs frame lines in its language's own format, a debug
  page needs several of its framework's markers together, an SQL error needs the engine's own
  message shape. A page that merely mentions
  "Traceback" or "SQL syntax" matches nothing.
- Bounded work. At most `SCAN_HEAD` + `SCAN_TAIL` characters are read; every pattern starts at
  a line start or a literal prefix and every repeat has an upper bound, so no match spans
  kilobytes and a hostile 1 MiB body is judged in well under a second.

Whether a match is news (absent from the endpoint's normal answer) is decided by the probe.
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
_MAX_FRAMES = 60
JSON_NODES = 20_000
_JSON_DEPTH = 64

_WS = r"[^\S\n]"  # whitespace inside a line, including the NBSP of HTML pages


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


# -- stack traces ------------------------------------------------------------------------------


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


def multiline(pattern: str) -> re.Pattern[str]:
    """A compiled pattern where ^ and $ match at every line."""
    return re.compile(pattern, re.MULTILINE)


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


# -- framework debug pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    signature: str
    label: str
    rule: str
    severity: Severity
    required: tuple[str, ...]
    any_of: tuple[str, ...] = ()
    #: A stack-trace signature that must be on the page too.
    needs_trace: str | None = None


_PAGES = (
    _Page(
        "werkzeug-console",
        "Werkzeug interactive debugger (code execution console)",
        DEBUG_CONSOLE,
        Severity.critical,
        ("Werkzeug Debugger", "__debugger__=yes", "EVALEX = true"),
    ),
    _Page(
        "werkzeug-script",
        "Werkzeug debugger script served: the interactive debugger is on",
        DEBUG_CONSOLE,
        Severity.critical,
        ("__debugger__=yes", "EVALEX_TRUSTED", "createInteractiveConsole"),
    ),
    _Page(
        "werkzeug-page",
        "Werkzeug debugger traceback page",
        DEBUG_PAGE,
        Severity.high,
        ("Werkzeug Debugger", "__debugger__=yes"),
        ('class="debugger"', "EVALEX = false"),
    ),
    _Page(
        "django-500",
        "Django technical 500 page (DEBUG = True)",
        DEBUG_PAGE,
        Severity.high,
        ("Django Version:", "Request Method:"),
        ("Exception Location:", "Python Executable:", "Exception Type:", "DEBUG = True"),
    ),
    _Page(
        "django-404",
        "Django technical 404 page listing URL patterns (DEBUG = True)",
        DEBUG_PAGE,
        Severity.medium,
        ("DEBUG = True",),
        ("Django tried these URL patterns", "Using the URLconf defined in"),
    ),
    _Page(
        "starlette",
        "Starlette debug traceback page",
        DEBUG_PAGE,
        Severity.high,
        ("<title>Starlette Debugger</title>", "traceback-container"),
        ("frame-filename", "frame-title"),
    ),
    _Page(
        "laravel",
        "Laravel debug error page (APP_DEBUG on)",
        DEBUG_PAGE,
        Severity.high,
        ("Illuminate\\",),
        ("vendor/laravel/framework", "window.ignite", "Ignition", "laravel-exceptions-renderer"),
    ),
    _Page(
        "rails",
        "Rails development error page",
        DEBUG_PAGE,
        Severity.high,
        ("Action Controller: Exception caught",),
        ("Rails.root:", "Application Trace", "Framework Trace", "Routes match in priority"),
    ),
    _Page(
        "spring-whitelabel",
        "Spring Whitelabel error page with a stack trace",
        DEBUG_PAGE,
        Severity.high,
        ("Whitelabel Error Page",),
        needs_trace="java",
    ),
    _Page(
        "aspnet-ysod",
        "ASP.NET detailed error page",
        DEBUG_PAGE,
        Severity.high,
        ("Server Error in '", "Application."),
        ("Stack Trace:", "Source Error:", "Exception Details:", "Version Information:"),
    ),
    _Page(
        "aspnet-core",
        "ASP.NET Core developer exception page",
        DEBUG_PAGE,
        Severity.high,
        ("An unhandled exception occurred while processing the request.",),
        ('id="stackpage"', 'class="titleerror"'),
    ),
)

_HEADING = re.compile(r"<(?:title|h1|h2)\b[^<>]{0,200}>([^<]{1,200})<", re.I)
_WERKZEUG_SECRET = re.compile(r'SECRET = "[^"\n]{0,100}"')


def find_debug_page(views: TextViews, traces: list[Match] | None = None) -> Match | None:
    """The first framework debug page whose markers are all present, or None."""
    trace_ids = {m.signature for m in traces or ()}

    def has(marker: str) -> bool:
        return marker in views.raw or marker in views.plain

    for page in _PAGES:
        if not all(has(m) for m in page.required):
            continue
        if page.any_of and not any(has(m) for m in page.any_of):
            continue
        if page.needs_trace is not None and page.needs_trace not in trace_ids:
            continue
        markers = [m for m in (*page.required, *page.any_of) if has(m)]
        headings = [" ".join(h.group(1).split()) for h in islice(_HEADING.finditer(views.raw), 3)]
        lines = [line_at(views.raw, views.raw.find(m)) for m in markers if m in views.raw]
        excerpt = excerpt_of(headings + (lines or markers))
        excerpt = _WERKZEUG_SECRET.sub('SECRET = "[hidden]"', excerpt)
        return Match(page.rule, page.signature, page.label, markers[0], excerpt, page.severity)
    return None


# -- SQL errors --------------------------------------------------------------------------------

# Each pattern comes with a literal that must be in the text before the pattern is tried:
# `in` is a fast scan, and patterns that start with a literal let the regex engine skip ahead.
_SQL: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "mysql",
        "MySQL / MariaDB error",
        (
            ("SQL syntax", r"You have an error in your SQL syntax; check the manual that corresp"),
            (
                "Unknown column",
                r"Unknown column '[^'\n]{1,100}' in '(?:field list|where clause|order clause)'",
            ),
            ("mysql", r"mysqli?_(?:query|fetch_\w{1,20}|num_rows|connect)\(\)"),
            ("com.mysql.", r"com\.mysql\.(?:cj\.)?jdbc\."),
            ("MySqlException", r"MySqlException\b"),
        ),
    ),
    (
        "postgresql",
        "PostgreSQL error",
        (
            (" at or near ", r"syntax error at or near \"[^\"\n]{0,100}\""),
            (" at or near ", r"unterminated quoted string at or near \"[^\"\n]{0,100}\""),
            (
                "invalid input syntax",
                r"invalid input syntax for (?:type )?\w{1,30}: \"[^\"\n]{0,100}\"",
            ),
            ('" does not exist', r"(?:column|relation) \"[^\"\n]{1,100}\" does not exist"),
            ("psycopg", r"psycopg2?\.(?:errors\.\w{1,60}|\w{0,40}Error)\b"),
            ("asyncpg", r"asyncpg\.exceptions\.\w{1,60}"),
            ("PG::", r"PG::\w{1,60}Error\b"),
            ("PSQLException", r"org\.postgresql\.util\.PSQLException"),
            ("Query failed", r"pg_(?:query|exec)\(\): Query failed"),
            ("Npgsql", r"Npgsql\.PostgresException"),
        ),
    ),
    (
        "sqlite",
        "SQLite error",
        (
            ("sqlite3.", r"sqlite3\.\w{1,40}Error\b"),
            ("SQLITE_", r"SQLITE_(?:ERROR|CONSTRAINT\w{0,20}|MISMATCH|RANGE)\b"),
            (": syntax error", r"near \"[^\"\n]{0,100}\": syntax error"),
            ("unrecognized token", r"unrecognized token: \"[^\n]{0,100}\""),
            ("no such ", r"no such (?:table|column): [\w.]{1,100}"),
            ("SQLiteException", r"(?:System\.Data\.SQLite|org\.sqlite)\.SQLiteException"),
            ("SQLite3::", r"SQLite3::SQLException"),
        ),
    ),
    (
        "mssql",
        "Microsoft SQL Server error",
        (
            ("Unclosed quotation", r"Unclosed quotation mark after the character string"),
            ("Incorrect syntax", r"Incorrect syntax near '[^'\n]{0,100}'"),
            ("SqlException", r"(?:System|Microsoft)\.Data\.SqlClient\.SqlException"),
            (
                "[Microsoft]",
                r"\[Microsoft\]\[(?:ODBC )?(?:SQL Server|ODBC Driver \d{1,3} for SQL Server)",
            ),
            ("SQLServerException", r"com\.microsoft\.sqlserver\.jdbc\.SQLServerException"),
        ),
    ),
    (
        "oracle",
        "Oracle error",
        (("ORA-", r"ORA-\d{5}: [^\n]{1,200}"), ("oracle.jdbc", r"oracle\.jdbc\.\w{1,60}")),
    ),
    (
        "generic-sql",
        "Database driver error",
        (
            ("java.sql.", r"java\.sql\.SQL\w{0,40}Exception\b"),
            ("SQLSTATE[", r"SQLSTATE\[[0-9A-Z]{5}\]"),
            ("sqlalchemy.exc", r"sqlalchemy\.exc\.\w{1,60}Error\b"),
            ("Sequelize", r"Sequelize\w{0,30}Error\b"),
            ("PDOException", r"PDOException\b"),
            ("DB2 SQL error", r"DB2 SQL error: SQLCODE=-?\d{1,6}"),
        ),
    ),
)
_SQL_RX = tuple(
    (sig, label, tuple((needle, re.compile(p)) for needle, p in patterns))
    for sig, label, patterns in _SQL
)


def find_sql_errors(text: str) -> list[Match]:
    """Database error messages, one match per engine, by each engine's own message shapes."""
    found = []
    for signature, label, patterns in _SQL_RX:
        lines = []
        for needle, pattern in patterns:
            hit = pattern.search(text) if needle in text else None
            if hit is not None:
                lines.append(line_at(text, hit.start()))
        if lines:
            found.append(Match(SQL_ERROR, signature, label, lines[0], excerpt_of(lines)))
    return found


# -- internal file paths -----------------------------------------------------------------------

_SOURCE_EXT = (
    r"(?:py|rb|php|phtml|java|jsp|class|jar|go|js|mjs|cjs|ts|cs|vb|pl|pm|scala|kt|ex|exs"
    r"|erb|twig|so|conf|ini|ya?ml|log)"
)
_SEGMENTS = r"[\w.@+-]{1,64}(?:/[\w.@+-]{1,64}){0,12}"
# Roots that are file-system paths whatever follows them.
_STRONG_PATH = re.compile(
    r"(?<![\w/.~:-])/(?:home|Users|root|var/www|var/lib|usr/local|usr/lib|usr/share|usr/src)/"
    rf"{_SEGMENTS}\.{_SOURCE_EXT}\b"
)
# Roots that could also be URL paths; they count only with a line number after them.
_WEAK_PATH = re.compile(
    r"(?<![\w/.~:-])/(?:app|srv|opt|code|src|workspace|www|data|mnt|tmp)/"
    rf"{_SEGMENTS}\.{_SOURCE_EXT}(?=:\d{{1,7}}|\", line \d{{1,7}}| on line \d{{1,7}}|\(\d{{1,7}}\))"
)
_WINDOWS_PATH = re.compile(
    r"(?<![\w\\])[A-Za-z]:\\(?:[\w .()$@-]{1,64}\\){1,12}[\w.()$@-]{1,64}"
    r"\.(?:cs|vb|aspx|ascx|asmx|cshtml|config|dll|exe|php|py|java|js|ts|rb|go)\b"
)

_PATH_PATTERNS = (
    (("/home/", "/Users/", "/root/", "/var/", "/usr/"), _STRONG_PATH),
    (
        (
            "/app/",
            "/srv/",
            "/opt/",
            "/code/",
            "/src/",
            "/workspace/",
            "/www/",
            "/data/",
            "/mnt/",
            "/tmp/",  # noqa: S108 - a prefix to look for, not a file we use
        ),
        _WEAK_PATH,
    ),
    ((":\\",), _WINDOWS_PATH),
)


def find_internal_paths(text: str, *, exclude: str = "") -> list[Match]:
    """Absolute server file paths (with a source or config file name); `exclude` is text the
    request itself carried, so a path reflected from the URL is not counted."""
    paths: list[str] = []
    for needles, pattern in _PATH_PATTERNS:
        if not any(needle in text for needle in needles):
            continue
        for hit in islice(pattern.finditer(text), 50):
            path = hit.group(0)
            if path not in paths and path not in exclude:
                paths.append(path)
    if not paths:
        return []
    lines = [f"{p}" for p in paths[:5]]
    return [Match(INTERNAL_PATH, "file-path", "Server file paths", paths[0], excerpt_of(lines))]


# -- everything at once ------------------------------------------------------------------------

_BINARY_TYPES = ("image/", "audio/", "video/", "font/")
_BINARY_APPS = frozenset(
    {
        "application/octet-stream",
        "application/zip",
        "application/pdf",
        "application/gzip",
        "application/wasm",
    }
)


def is_binary(content_type: str) -> bool:
    """True for media types whose bodies are not text worth reading for errors."""
    return content_type.startswith(_BINARY_TYPES) or content_type in _BINARY_APPS


def judge_body(text: str, content_type: str = "", *, exclude: str = "") -> list[Match]:
    """Every error signature in one body (see `judge_views`); nothing for binary types."""
    if not text.strip() or is_binary(content_type):
        return []
    return judge_views(text_views(text, content_type), exclude=exclude)


def judge_views(views: TextViews, *, exclude: str = "") -> list[Match]:
    """Every error signature in one body, without repeats: a debug page stands for the stack
    trace and paths it shows, a stack trace for the paths in its frames. `exclude` is text the
    request carried (a path reflected from the URL is not a leak)."""
    traces = find_stack_traces(views.plain)
    page = find_debug_page(views, traces)
    found: list[Match] = [page] if page is not None else list(traces)
    found += find_sql_errors(views.plain)
    if page is None and not traces:
        found += find_internal_paths(views.plain, exclude=exclude)
    return found


def unhandled_5xx(status: int, normal_status: int | None) -> bool:
    """True for a 500 answer to malformed input where the normal request is answered below
    500: the input reached code that did not expect it. 501 (method not implemented) and
    503 (overload) are deliberate answers, not crashes."""
    return status == 500 and normal_status is not None and normal_status < 500
