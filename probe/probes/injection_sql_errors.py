"""Payloads and pure judges of the SQL family's error-based test (`injection_sql` sends).

A breaking value (an unbalanced quote, double quote, bracket or backslash; a bracket after a
column name) goes beside its balanced twin. Only an SQL syntax message counts
(`syntax_errors`): one that places the broken character in the query's syntax, on the line of
the breaking character or the payload's token, new against every baseline once numbers and
tokens are blanked. Connection errors, driver class names alone and the syntax errors of
full-text or JSON-path parsers reading a bound value are named in the check, never counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.probes.error_signatures import find_sql_errors, is_binary, text_views
from probe.probes.injection_sql_judges import is_number
from probe.probes.signatures import SQL_ERROR, Match, line_at


@dataclass(frozen=True)
class ErrorPair:
    """A value that breaks a query beside its balanced twin, which must not.

    Attributes:
        name: What breaks ("a single quote").
        breaking: The value with the unbalanced character.
        balanced: The same value with the character doubled, or the bracket closed.
        mark: The breaking character; a syntax message counts only on a line naming it (or
            the token).
        token: The random token the value carries ("" when it carries only numbers).
    """

    name: str
    breaking: str
    balanced: str
    mark: str
    token: str = ""


def error_pairs(original: str, token: str, number: int) -> list[ErrorPair]:
    """The breaking values to try at a point, each with its balanced twin.

    The quotes and the backslash follow the original value and a random `token` (inside a
    string literal the token is inert); the bracket pair, for a numeric original, is an
    arithmetic on `number` that comes back to the original when the bracket is closed.
    """
    base = f"{original}{token}"
    pairs = [
        ErrorPair("a single quote", f"{base}'", f"{base}''", "'", token),
        ErrorPair("a double quote", f'{base}"', f'{base}""', '"', token),
        ErrorPair("a backslash", f"{base}\\", f"{base}\\\\", "\\", token),
    ]
    if is_number(original):
        # First: in a numeric context every quote errs, its balanced twin too.
        sum_ = f"{original}-{number}+{number}"
        pairs.insert(0, ErrorPair("a closing bracket", f"{sum_})", f"({sum_})", ")"))
    return pairs


#: The name of the bracket pair for names (`name_pair`).
NAME_BRACKET = "a closing bracket after the name"


def name_pair(original: str, token: str) -> ErrorPair:
    """The bracket pair for a value that is a name in the query (`ORDER BY name`): a quote's
    doubled twin is no valid name either, but the name in brackets is (a comment carries the
    token)."""
    named = f"{original}/*{token}*/"
    return ErrorPair(NAME_BRACKET, f"{named})", f"({named})", ")", token)


@dataclass(frozen=True)
class _Syntax:
    signature: str
    label: str
    needle: str
    pattern: re.Pattern[str]


def _syntax(signature: str, label: str, needle: str, pattern: str) -> _Syntax:
    return _Syntax(signature, label, needle, re.compile(pattern))


# Messages that place a broken character in SQL syntax, per engine. Each needs its literal
# `needle` in the text before the pattern is tried (a fast scan first).
_SYNTAX = (
    _syntax(
        "sqlite", "SQLite syntax error", ": syntax error", r'near "[^"\n]{0,100}": syntax error'
    ),
    _syntax(
        "sqlite", "SQLite syntax error", "unrecognized token", r'unrecognized token: "[^\n]{0,100}"'
    ),
    _syntax(
        "postgresql",
        "PostgreSQL syntax error",
        " at or near ",
        r'(?:syntax error|unterminated quoted (?:string|identifier)) at or near "[^\n]{0,100}"',
    ),
    _syntax(
        "postgresql", "PostgreSQL syntax error", "at end of input", r"syntax error at end of input"
    ),
    _syntax(
        "mysql",
        "MySQL / MariaDB syntax error",
        "SQL syntax",
        r"You have an error in your SQL syntax",
    ),
    _syntax(
        "mssql",
        "SQL Server syntax error",
        "Unclosed quotation",
        r"Unclosed quotation mark after the character string",
    ),
    _syntax(
        "mssql",
        "SQL Server syntax error",
        "Incorrect syntax",
        r"Incorrect syntax near '[^\n]{0,100}'",
    ),
    _syntax(
        "oracle",
        "Oracle syntax error",
        "ORA-0",
        r"ORA-0(?:0907|0911|0933|0936|1740|1756): [^\n]{1,200}",
    ),
    # PDO and JDBC drivers name the SQLSTATE, in capitals or not.
    _syntax(
        "sqlstate-42",
        "SQL syntax error (SQLSTATE class 42)",
        "SQLSTATE",
        r"SQLSTATE(?:\[| ?[=:] ?| )42[0-9A-Z]{3}\b",
    ),
    _syntax(
        "sqlstate-42",
        "SQL syntax error (SQLSTATE class 42)",
        "sqlstate",
        r"sqlstate(?:\[| ?[=:] ?| )42[0-9A-Z]{3}\b",
    ),
    _syntax(
        "jdbc", "SQL syntax error (JDBC)", "SQLSyntaxError", r"java\.sql\.SQLSyntaxErrorException\b"
    ),
)
# Parsers that read a bound value as their own query language (full-text search in SQLite,
# MySQL's InnoDB, SQL Server and Oracle Text; JSON path; tsquery; XPath): their syntax errors
# say nothing about SQL, even under SQLSTATE 42000. MySQL's own SQL parser never says
# "syntax error, unexpected" (its InnoDB full-text parser does).
_PARSER = re.compile(
    r"\bfts[345]?\b|FTS_|MATCH expression|\bunterminated string\b|syntax error, unexpected"
    r"|full[- ]text|text query parser|\bDRG-\d|jsonpath|json path|tsquery|xpath",
    re.IGNORECASE,
)
# Per-request parts of an error line (numbers, tokens, the value itself) are blanked before
# lines are compared.
_VARYING = re.compile(r"[A-Za-z_]*[0-9][A-Za-z0-9_]*")


def _plain(response: ResponseRecord) -> str:
    """The answer's text as a reader sees it ("" for binary or empty bodies)."""
    content_type = response.content_type
    if is_binary(content_type):
        return ""
    text = response.text()
    return text_views(text, content_type).plain if text.strip() else ""


def _normal(text: str) -> str:
    return " ".join(_VARYING.sub("#", text).split())


def _known(baselines: Sequence[ResponseRecord]) -> str:
    """Every baseline's text, blanked like error lines, to look messages up in."""
    return "\n".join(_normal(_plain(b)) for b in baselines)


def database_errors(response: ResponseRecord) -> dict[str, Match]:
    """Database error messages of any kind in an answer, by engine signature (`mysql`,
    `sqlite`, ...): the `errors` probe's signatures, connection and driver errors included."""
    plain = _plain(response)
    return {m.signature: m for m in find_sql_errors(plain)} if plain else {}


def syntax_errors(response: ResponseRecord, mark: str = "", token: str = "") -> list[Match]:
    """SQL syntax messages in an answer (`key`: the message, `excerpt`: its line).

    With `mark` or `token`, only on a line naming the breaking character or the token; lines
    of a full-text or JSON-path parser never count.
    """
    text = _plain(response)
    found: list[Match] = []
    for syntax in _SYNTAX:
        if syntax.needle not in text:
            continue
        for hit in islice(syntax.pattern.finditer(text), 5):
            line = line_at(text, hit.start())
            if _PARSER.search(line):
                continue
            if (mark or token) and not _names(line, mark, token):
                continue
            found.append(Match(SQL_ERROR, syntax.signature, syntax.label, hit.group(0), line))
            break
    return found


def _names(line: str, mark: str, token: str) -> bool:
    return bool(mark and mark in line) or bool(token and token.lower() in line.lower())


def new_errors(
    response: ResponseRecord,
    baselines: Sequence[ResponseRecord],
    mark: str = "",
    token: str = "",
) -> list[Match]:
    """The answer's SQL syntax messages that no baseline answer shows (numbers and tokens
    blanked): a page that always quotes a syntax error (a help page) shows nothing new, while
    a new message of an engine the baselines already name (`no such column` for a harmless
    value in an ORDER BY) still counts."""
    found = syntax_errors(response, mark, token)
    if not found:
        return []
    known = _known(baselines)
    return [m for m in found if _normal(m.key) not in known]


def other_error(response: ResponseRecord, baselines: Sequence[ResponseRecord]) -> str:
    """A database error line of any kind that no baseline answer shows, or ""."""
    lines = [line for m in database_errors(response).values() for line in m.excerpt.splitlines()]
    lines += [m.excerpt for m in syntax_errors(response)]
    if not lines:
        return ""
    known = _known(baselines)
    return next((line for line in lines if _normal(line) not in known), "")


def is_parser_error(line: str) -> bool:
    """True for a full-text or JSON-path parser's message (`fts5: syntax error`)."""
    return _PARSER.search(line) is not None


def confirmed_error(
    first: ResponseRecord,
    again: ResponseRecord,
    twin: ResponseRecord,
    baselines: Sequence[ResponseRecord],
    pair: ErrorPair | None = None,
) -> Match | None:
    """The new syntax message both breaking answers show while the balanced twin shows no
    new database error of any kind.

    When the balanced value errs too, the error is about the value's type or format (or the
    value is no valid name either way), not about a broken query.
    """
    if other_error(twin, baselines):
        return None
    mark, token = (pair.mark, pair.token) if pair is not None else ("", "")
    repeated = {_normal(m.key) for m in new_errors(again, baselines, mark, token)}
    found = new_errors(first, baselines, mark, token)
    return next((m for m in found if _normal(m.key) in repeated), None)


def erring(response: ResponseRecord, reference: Reference) -> bool:
    """True when an answer is a server error where the unmodified one is not (the harmless
    value named a missing column, say): the value may be a name in the query."""
    return response.status >= 500 and reference.status < 500
