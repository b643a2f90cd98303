"""Pure judges for leaked errors: framework debug pages, SQL errors, file paths, and stack
traces (judged in `trace_signatures`), all at once in `judge_views`.

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
What all signature judges share (`Match`, the rule names, reading a body) is in `signatures`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from probe.findings import Severity
from probe.probes.signatures import (
    DEBUG_CONSOLE,
    DEBUG_PAGE,
    EXCERPT_LINES,
    EXPOSED_FILE,
    INTERNAL_PATH,
    LINE_CHARS,
    SCAN_HEAD,
    SCAN_TAIL,
    SECRET_IN_RESPONSE,
    SQL_ERROR,
    STACK_TRACE,
    UNHANDLED_5XX,
    Match,
    TextViews,
    bounded,
    excerpt_of,
    line_at,
    looks_like_html,
    multiline,
    text_views,
)
from probe.probes.trace_signatures import find_stack_traces

# Defined here, or re-exported for the modules and tests that import them from here.
__all__ = [
    "DEBUG_CONSOLE",
    "DEBUG_PAGE",
    "EXCERPT_LINES",
    "EXPOSED_FILE",
    "INTERNAL_PATH",
    "LINE_CHARS",
    "SCAN_HEAD",
    "SCAN_TAIL",
    "SECRET_IN_RESPONSE",
    "SQL_ERROR",
    "STACK_TRACE",
    "UNHANDLED_5XX",
    "Match",
    "TextViews",
    "bounded",
    "find_debug_page",
    "find_internal_paths",
    "find_sql_errors",
    "find_stack_traces",
    "is_binary",
    "judge_body",
    "judge_views",
    "line_at",
    "looks_like_html",
    "multiline",
    "text_views",
    "unhandled_5xx",
]

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
