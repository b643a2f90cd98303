"""Well-known debug and exposure paths, and how each one's content is recognised.

A path counts as exposed only when its answer has the file format's own content (a dotenv file
needs KEY=VALUE lines, a Git config a `[core]` section with `repositoryformatversion`, a server
status page its table headings), never because of a 200 status: many sites answer every path
with the same page. The probe also compares each answer with the answer to a random path.
Excerpts never carry the values of the secrets they prove (they show `KEY=[value hidden]`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from probe.findings import Severity
from probe.probes.signatures import (
    EXCERPT_LINES,
    LINE_CHARS,
    SCAN_HEAD,
    line_at,
    looks_like_html,
    multiline,
)

_WS = r"[^\S\n]"  # whitespace inside a line

ContentJudge = Callable[[str], list[str] | None]


@dataclass(frozen=True)
class Exposure:
    """A well-known path that should never be served, and how to recognise its content.

    Attributes:
        path: Path joined to the base URL and to the host root.
        name: Stable id (the finding's key).
        label: What it is, for people.
        severity: How bad serving it is.
        judge: Returns the excerpt lines proving the content, or None; None for paths whose
            answers only the general judges (debug pages, stack traces, secrets) read.
    """

    path: str
    name: str
    label: str
    severity: Severity
    judge: ContentJudge | None


_ENV_LINE = multiline(r"^(?:export )?([A-Z][A-Z0-9_]{1,63})=[^\n]{0,500}$")
_GIT_CORE = multiline(r"^\[core\][^\S\n]{0,8}$")
_GIT_VERSION = multiline(rf"^{_WS}{{0,8}}repositoryformatversion{_WS}{{0,4}}=[^\n]{{0,20}}$")
_GIT_SECTION = multiline(r"^\[(?:remote|branch) \"[^\"\n]{1,100}\"\]")
_GIT_HEAD = re.compile(r"ref: refs/heads/[\w./-]{1,200}")
_HTPASSWD = multiline(r"^([\w.@-]{1,64}):(?:\$apr1\$|\$2[aby]\$|\{SHA\}|\$[156]\$)[^\s:]{8,200}$")
_AWS_KEY_ID = multiline(
    rf"^{_WS}{{0,8}}aws_access_key_id{_WS}{{0,8}}={_WS}{{0,8}}[A-Z0-9]{{16,32}}"
)
_AWS_SECRET = multiline(rf"^{_WS}{{0,8}}aws_secret_access_key{_WS}{{0,8}}=")
_INI_SECTION = multiline(r"^\[[\w.-]{1,64}\][^\S\n]{0,8}$")
_PHP_DEFINE = re.compile(r"define\([^\S\n]{0,4}['\"](DB_\w{1,30}|AUTH_KEY|SECURE_AUTH_KEY)['\"]")
_DUMP_HEADER = multiline(r"^-- (?:MySQL dump|MariaDB dump|PostgreSQL database dump)[^\n]{0,100}")
_CREATE_TABLE = multiline(r"^CREATE TABLE [^\n]{1,100}")
_INSERT_INTO = multiline(r"^INSERT INTO [^\s(]{1,100}")
_NGINX_STATUS = multiline(r"^Active connections: \d{1,12}")


def _not_html(text: str) -> bool:
    return not looks_like_html(text, "")


def _lines(text: str, pattern: re.Pattern[str], limit: int = EXCERPT_LINES) -> list[str]:
    return [m.group(0).strip() for m in islice(pattern.finditer(text), limit)]


def judge_env(text: str) -> list[str] | None:
    """A dotenv file: two or more KEY=VALUE lines, not an HTML page. Values are hidden."""
    keys = [m.group(1) for m in islice(_ENV_LINE.finditer(text), 200)]
    if len(keys) < 2 or not _not_html(text):
        return None
    return [f"{key}=[value hidden]" for key in keys[:EXCERPT_LINES]]


def judge_git_config(text: str) -> list[str] | None:
    """A Git config file: a `[core]` section with `repositoryformatversion`."""
    found = _lines(text, _GIT_VERSION)
    if not found or not _GIT_CORE.search(text):
        return None
    return ["[core]", *found, *_lines(text, _GIT_SECTION, 4)]


def judge_git_head(text: str) -> list[str] | None:
    """A Git HEAD file: exactly one `ref: refs/heads/...` line."""
    head = text[:300].strip()
    return [head] if _GIT_HEAD.fullmatch(head) else None


def judge_svn_entries(text: str) -> list[str] | None:
    """A Subversion (<= 1.6) entries file: a format number line, then a `dir` entry."""
    lines = [line.strip() for line in text[:4096].split("\n", 8)]
    if len(lines) < 3 or lines[0] not in ("8", "9", "10", "11", "12") or "dir" not in lines[1:6]:
        return None
    return lines[:4]


def judge_ds_store(text: str) -> list[str] | None:
    """A macOS .DS_Store file (it lists the folder's file names)."""
    if not text.startswith("\0\0\0\1Bud1"):
        return None
    return ["00 00 00 01 42 75 64 31 (\\0\\0\\0\\1Bud1: the .DS_Store header)"]


def judge_htpasswd(text: str) -> list[str] | None:
    """An htpasswd file: user:hash lines in Apache's hash formats. Hashes are hidden."""
    users = [m.group(1) for m in islice(_HTPASSWD.finditer(text), EXCERPT_LINES)]
    return [f"{user}:[hash hidden]" for user in users] or None


def judge_aws_credentials(text: str) -> list[str] | None:
    """An AWS shared credentials file: a profile with an access key id and a secret key."""
    profile = _lines(text, _INI_SECTION, 1)
    if not (profile and _AWS_KEY_ID.search(text) and _AWS_SECRET.search(text)):
        return None
    return [profile[0], "aws_access_key_id = [hidden]", "aws_secret_access_key = [hidden]"]


def judge_php_config(text: str) -> list[str] | None:
    """A PHP config backup (wp-config.php.bak) served as text: `define('DB_PASSWORD', ...)`."""
    if "<?php" not in text[:2000]:
        return None
    names = _lines(text, _PHP_DEFINE)
    if not any("DB_PASSWORD" in n for n in names):
        return None
    return ["<?php", *[f"{n}, [value hidden])" for n in names]]


def judge_sql_dump(text: str) -> list[str] | None:
    """A database dump: a mysqldump / pg_dump header, or CREATE TABLE and INSERT INTO lines."""
    if not _not_html(text):
        return None
    header = _lines(text, _DUMP_HEADER, 1)
    create = _lines(text, _CREATE_TABLE, 3)
    insert = _lines(text, _INSERT_INTO, 1)
    if header and create:
        return header + create
    return create + insert if create and insert else None


def _all_any(text: str, required: tuple[str, ...], any_of: tuple[str, ...]) -> list[str] | None:
    if not all(m in text for m in required):
        return None
    extra = [m for m in any_of if m in text]
    if any_of and not extra:
        return None
    return [line_at(text, text.find(m)) for m in (*required, *extra)]


def judge_web_config(text: str) -> list[str] | None:
    """An IIS / ASP.NET web.config file."""
    return _all_any(
        text,
        ("<configuration",),
        ("<system.web", "<connectionStrings", "<appSettings", "<system.webServer"),
    )


def judge_phpinfo(text: str) -> list[str] | None:
    """The output of phpinfo()."""
    return _all_any(
        text, ("phpinfo()", "PHP Version"), ("PHP License", "Loaded Configuration File")
    )


def judge_server_status(text: str) -> list[str] | None:
    """Apache mod_status, or nginx stub_status."""
    apache = _all_any(text, ("Apache Server Status for",), ("Server Version:", "Current Time:"))
    if apache:
        return apache
    nginx = _lines(text, _NGINX_STATUS, 1)
    if nginx and "server accepts handled requests" in text:
        return [*nginx, "server accepts handled requests"]
    return None


_ACTUATOR_RISKY = ("env", "heapdump", "threaddump", "configprops", "beans", "mappings", "jolokia")


def judge_actuator_index(text: str) -> list[str] | None:
    """Spring Boot's actuator index listing endpoints beyond health and info (the index lists
    only endpoints exposed over HTTP, so /actuator/heapdump itself need not be fetched)."""
    data = _json_object(text)
    links = data.get("_links") if data is not None else None
    if not isinstance(links, dict):
        return None
    risky = [name for name in _ACTUATOR_RISKY if isinstance(links.get(name), dict)]
    return [f"_links.{name}: {links[name].get('href', '')}"[:LINE_CHARS] for name in risky] or None


def judge_actuator_env(text: str) -> list[str] | None:
    """Spring Boot's /actuator/env: JSON with activeProfiles and a propertySources list."""
    data = _json_object(text)
    sources = data.get("propertySources") if data is not None else None
    if data is None or "activeProfiles" not in data or not isinstance(sources, list):
        return None
    names = [
        f"propertySources: {s.get('name', '')}"[:LINE_CHARS]
        for s in sources[:8]
        if isinstance(s, dict)
    ]
    return [f"activeProfiles: {data['activeProfiles']}"[:LINE_CHARS], *names]


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text[:SCAN_HEAD])
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def judge_pprof(text: str) -> list[str] | None:
    """Go's net/http/pprof index."""
    return _all_any(text, ("/debug/pprof/",), ("Types of profiles available", "goroutine"))


def judge_expvar(text: str) -> list[str] | None:
    """Go's expvar page: JSON with the process command line and memory statistics."""
    data = _json_object(text)
    if data is not None and isinstance(data.get("cmdline"), list) and "memstats" in data:
        return ["cmdline: " + json.dumps(data["cmdline"])[:200], "memstats: {...}"]
    return None


def judge_symfony_profiler(text: str) -> list[str] | None:
    """Symfony's web profiler."""
    return _all_any(text, ("Symfony Profiler",), ("sf-toolbar", "/_profiler/", "sf-profiler"))


def judge_elmah(text: str) -> list[str] | None:
    """ELMAH's error log viewer for ASP.NET."""
    return _all_any(text, ("Error Log for",), ("ELMAH", "elmah.axd"))


def judge_trace_axd(text: str) -> list[str] | None:
    """ASP.NET's application trace viewer."""
    return _all_any(text, ("Application Trace",), ("Requests to this Application", "trace.axd"))


EXPOSURES: tuple[Exposure, ...] = (
    Exposure("/.env", "dotenv", "dotenv file with settings and secrets", Severity.high, judge_env),
    Exposure("/.git/config", "git", "Git repository metadata", Severity.high, judge_git_config),
    Exposure("/.git/HEAD", "git", "Git repository metadata", Severity.high, judge_git_head),
    Exposure("/.svn/entries", "svn", "Subversion metadata", Severity.high, judge_svn_entries),
    Exposure("/.DS_Store", "ds-store", "macOS folder listing", Severity.low, judge_ds_store),
    Exposure("/.htpasswd", "htpasswd", "password hash file", Severity.high, judge_htpasswd),
    Exposure(
        "/.aws/credentials", "aws", "AWS credentials", Severity.critical, judge_aws_credentials
    ),
    Exposure(
        "/wp-config.php.bak", "php-config", "PHP config backup", Severity.high, judge_php_config
    ),
    Exposure("/backup.sql", "sql-dump", "database dump", Severity.high, judge_sql_dump),
    Exposure("/web.config", "web-config", "ASP.NET web.config", Severity.medium, judge_web_config),
    Exposure("/phpinfo.php", "phpinfo", "phpinfo() output", Severity.medium, judge_phpinfo),
    Exposure(
        "/server-status",
        "server-status",
        "server status page",
        Severity.medium,
        judge_server_status,
    ),
    Exposure(
        "/nginx_status", "server-status", "server status page", Severity.medium, judge_server_status
    ),
    Exposure(
        "/actuator",
        "actuator",
        "Spring Boot actuator endpoints",
        Severity.high,
        judge_actuator_index,
    ),
    Exposure(
        "/actuator/env",
        "actuator-env",
        "Spring Boot environment",
        Severity.high,
        judge_actuator_env,
    ),
    Exposure("/debug/pprof/", "pprof", "Go pprof profiler", Severity.medium, judge_pprof),
    Exposure("/debug/vars", "expvar", "Go expvar variables", Severity.medium, judge_expvar),
    Exposure(
        "/_profiler/", "symfony-profiler", "Symfony profiler", Severity.high, judge_symfony_profiler
    ),
    Exposure("/elmah.axd", "elmah", "ELMAH error log", Severity.high, judge_elmah),
    Exposure("/trace.axd", "trace-axd", "ASP.NET trace viewer", Severity.medium, judge_trace_axd),
    # Read only by the general judges (debug pages, consoles, stack traces, secrets).
    Exposure("/config.json", "config-json", "configuration file", Severity.medium, None),
    Exposure("/debug", "debug", "debug endpoint", Severity.medium, None),
    Exposure("/console", "console", "debug console", Severity.critical, None),
    Exposure(
        "/?__debugger__=yes&cmd=resource&f=debugger.js",
        "werkzeug-debugger",
        "Werkzeug debugger script",
        Severity.critical,
        None,
    ),
)
