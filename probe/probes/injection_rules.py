"""The rules of the injection probe: one per payload family.

A finding needs proof a careful tester would accept: a database error the baselines lack, a
true and a false condition that answer differently and repeatably, a delay that follows the
requested delay at two levels, a computed number, file contents in their own format, or a
marker reflected unencoded where a browser runs it. Time-based proof that is less than that is
`tentative` at most. The descriptions say what is sent and what counts (they stand in the
README's table and above every finding); the payloads and thresholds are in the README's prose.
"""

from __future__ import annotations

from typing import Any

from probe.findings import Rule, Severity
from probe.probes.base import make_rule

PROBE_ID = "injection"


def _rule(name: str, **fields: Any) -> Rule:
    return make_rule(PROBE_ID, name, owasp="A03:2021", owasp_api="API8:2023", **fields)


RULES = (
    _rule(
        "sql-injection",
        title="SQL injection",
        severity=Severity.high,
        cwe=89,
        description=(
            "Quotes, a bracket and a backslash (and, for a column name, a bracket after it) "
            "that break a query and raise an SQL syntax message (PostgreSQL, MySQL/MariaDB, "
            "SQLite, SQL Server, Oracle, SQLSTATE class 42) on the broken character's line, "
            "absent from the baselines and from the answer to the same value balanced (`''`, "
            "`()`); connection errors, bare driver names and the syntax errors of full-text "
            "or JSON-path parsers do not count. True and false conditions in numeric, "
            "`(SELECT w)-n` arithmetic, string and ORDER BY `CASE` forms, 8 pairs with fresh "
            "numbers in two shapes with unmodified requests in between: every true one gives "
            "the unmodified answer and every false one the same other answer, differing where "
            "all unmodified and true answers held still. With `time_based`, the engines' "
            "sleep functions, whose delay must follow two requested levels. Nothing that "
            "writes or deletes is ever sent."
        ),
        remediation=(
            "Pass every value to the database as a bound parameter (prepared statements, the "
            "ORM's query builder); never build SQL text from input. Do not send database "
            "errors to clients."
        ),
    ),
    _rule(
        "nosql-injection",
        title="NoSQL operator injection",
        severity=Severity.high,
        cwe=943,
        description=(
            'Query operators in place of a value: `{"$ne": r}`/`{"$eq": r}`, '
            '`{"$gt": ""}`/`{"$lt": ""}` and `$regex` objects in JSON fields, inside a JSON '
            "object sent as a query or form value, and `name[$ne]=` bracket syntax. Counted "
            "when the match-everything operator gets the unmodified answer (or data, or a "
            "higher count, where a harmless random value gets none) while its match-nothing "
            "twin gets the harmless value's answer, twice each, with echoes of the request left "
            "out; or when a made-up operator gets the store's own `unknown operator` error that "
            "the known operators did not get. A reflected operator, a refused object or a "
            "validator refusing every operator is not enough. Low and tentative when the "
            "request without the parameter shows everything the operator did (a documented "
            "filter feature)."
        ),
        remediation=(
            "Validate that each value has the expected type (a string, not an object) before "
            "it reaches the query; do not pass request bodies to the database as filters."
        ),
    ),
    _rule(
        "command-injection",
        title="OS command injection",
        severity=Severity.critical,
        cwe=78,
        description=(
            "Shell separators (`;`, `|`, `&&`, `$()`, backticks, a newline) followed by a shell "
            "arithmetic expression whose computed result must appear in the answer (and not "
            "in the baselines), or with `time_based` by `sleep N`, whose delay must follow two "
            "requested levels. Only `echo`, `expr`, shell arithmetic and `sleep` are ever run."
        ),
        remediation=(
            "Do not run a shell with input in its command line; call the program with an "
            "argument list, and validate the values against what they may be."
        ),
    ),
    _rule(
        "template-injection",
        title="Server-side template injection",
        severity=Severity.high,
        cwe=1336,
        description=(
            "Template expressions multiplying two random 5-digit numbers (`{{a*b}}`, "
            "`${a*b}`, `<%= a*b %>`, `#{a*b}`; the product stays below 2^31, so 32-bit engines "
            "print it true): the product must appear in the answer, be absent from "
            "the baselines, and not be the operands echoed with the syntax stripped. A second "
            "pair of operands must be multiplied too, and a server that also computes the "
            "bare `a*b` is not counted."
        ),
        remediation=(
            "Render input as data passed to a fixed template, never as template text; use a "
            "sandboxed engine where users must write templates."
        ),
    ),
    _rule(
        "reflected-xss",
        title="Input reflected unencoded where a browser runs it",
        severity=Severity.high,
        cwe=79,
        description=(
            "A unique marker with quotes, a comment end and a tag named after it that carries "
            "an attribute named after it (no script; a short tag alone when a filter refuses "
            "the quotes or the value comes back cut), reflected so that an HTML parser meets "
            "it as a tag (any case) or meets the attribute on one of the page's own tags (an "
            "attribute value left through a raw quote or space): high in a `text/html`, XHTML "
            "or SVG answer (JSON served as text/html too), medium with no (or an unparsable) "
            "content type when browsers would sniff the body as HTML, info in XML without "
            "`nosniff` or in an untyped body that does not start like HTML. Never reported in "
            "types no current browser renders as HTML (JSON, `text/plain`, CSV, octet-stream, "
            "images, PDF, ...), with `nosniff`, in redirects or attachments. Encoded, escaped, "
            "commented-out or text-element reflections pass. One level lower when a link or a "
            "cross-site form cannot send it (a header, a JSON field, a method other than GET or "
            "POST), and one level lower under a CSP `sandbox` without `allow-scripts`. "
            "Confirmed with a second marker."
        ),
        remediation=(
            "Encode output for its context (HTML-escape in pages, JSON served as "
            "application/json with `X-Content-Type-Options: nosniff`), and set a "
            "Content-Security-Policy."
        ),
    ),
    _rule(
        "path-traversal",
        title="Path traversal reads files outside the intended folder",
        severity=Severity.high,
        cwe=22,
        description=(
            "Relative (`../`), absolute, after the original value's folder "
            "(`reports/../../etc/passwd`), encoded (`..%2f`, `%2e%2e%2f`), double-encoded "
            "(`%252e%252e%252f`), filter-bypass (`....//`) and Windows (`..\\`, `c:\\`) paths "
            "to /etc/passwd and win.ini, sent raw: counted only when the answer (as sent, its "
            "JSON strings and their HTML text, base64 JSON strings decoded, HTML text) holds "
            "the file's structure "
            "(at least three passwd lines with root's, or three win.ini section headers) that "
            "no baseline holds, and neither the same path to a missing file, nor the bare file "
            "name, nor the same file without climbing (`etc/passwd`: a folder holding its own "
            "copy) returns it; a keyword is never enough."
        ),
        remediation=(
            "Map input to files through an allow-list or an id; otherwise resolve the path and "
            "check that it stays inside the intended folder before opening it."
        ),
    ),
)

__all__ = ["PROBE_ID", "RULES"]
