"""The errors probe's rules: ids, severities, OWASP and CWE mappings, what is judged, remedies.

OWASP Top 10 2021: leaks through error handling and debug features are A05 (Security
Misconfiguration), whose description names stack traces and enabled debug features; secrets
in answers are A01 (their CWE-200 belongs there); a 500 on malformed input is A04 (Insecure
Design: input is not validated where it enters).
"""

from __future__ import annotations

from typing import Any

from probe.findings import Rule, Severity
from probe.probes.base import make_rule
from probe.probes.signatures import (
    DEBUG_CONSOLE,
    DEBUG_PAGE,
    EXPOSED_FILE,
    INTERNAL_PATH,
    SECRET_IN_RESPONSE,
    SQL_ERROR,
    STACK_TRACE,
    UNHANDLED_5XX,
)

PROBE_ID = "errors"


def _rule(name: str, **fields: Any) -> Rule:
    return make_rule(PROBE_ID, name, **fields)


RULES = (
    _rule(
        DEBUG_CONSOLE,
        title="Interactive debugger console reachable",
        severity=Severity.critical,
        owasp="A05:2021",
        owasp_api="API8:2023",
        cwe=489,
        description=(
            "Every answer is read for Werkzeug's interactive debugger: its traceback or console "
            "page with EVALEX on, or its debugger.js served at "
            "?__debugger__=yes&cmd=resource&f=debugger.js. That console runs Python on the "
            "server; its PIN and host check slow an attacker down but do not stop one."
        ),
        remediation=(
            "Never run Flask/Werkzeug with debug=True or DebuggedApplication outside a "
            "developer's machine; serve the app with a production WSGI server."
        ),
    ),
    _rule(
        DEBUG_PAGE,
        title="Framework debug page shown to clients",
        severity=Severity.high,
        owasp="A05:2021",
        owasp_api="API8:2023",
        cwe=215,
        description=(
            "Error answers to the malformed requests (and every other answer) are read for "
            "framework debug pages, recognised by several of their own markers together: "
            "Django's technical 500 and 404 pages, Starlette's and Werkzeug's tracebacks, "
            "Laravel, Rails, Spring Whitelabel with a stack trace, ASP.NET error pages."
        ),
        remediation=(
            "Turn debug mode off in every deployed environment (DEBUG = False, "
            "Starlette(debug=False), APP_DEBUG=false, customErrors on) and serve a generic "
            "error page; keep the details in server logs."
        ),
    ),
    _rule(
        STACK_TRACE,
        title="Stack trace in an error answer",
        severity=Severity.medium,
        owasp="A05:2021",
        owasp_api="API8:2023",
        cwe=209,
        description=(
            "Answers are read for stack traces in the frame formats of Python, Java, .NET, "
            "Node.js, PHP, Ruby and Go (two or more frame lines, or a header and a frame), "
            "counted only when the endpoint's normal answer does not hold the same frames."
        ),
        remediation=(
            "Catch unhandled exceptions at the edge of the application and answer with a "
            "generic error body (and a correlation id); log the trace on the server only."
        ),
    ),
    _rule(
        SQL_ERROR,
        title="Database error message in an answer",
        severity=Severity.medium,
        owasp="A05:2021",
        owasp_api="API8:2023",
        cwe=209,
        description=(
            "Answers are read for the error messages of MySQL, PostgreSQL, SQLite, SQL Server, "
            "Oracle and common drivers, in each engine's own wording, counted only when the "
            "endpoint's normal answer lacks them. Such errors also hint at injectable queries."
        ),
        remediation=(
            "Do not pass database errors to clients; use parameterised queries and answer "
            "invalid input with a 400 that names the field, not the query."
        ),
    ),
    _rule(
        INTERNAL_PATH,
        title="Server file paths in an answer",
        severity=Severity.low,
        owasp="A05:2021",
        owasp_api="API8:2023",
        cwe=497,
        description=(
            "Answers are read for absolute server paths to source or configuration files "
            "(/home/..., /var/www/..., /usr/local/lib/..., C:\\inetpub\\...; /app/... only "
            "with a line number), outside stack traces and debug pages, not reflected from "
            "the request and absent from the normal answer."
        ),
        remediation="Answer errors with generic messages; keep file names in server logs.",
    ),
    _rule(
        UNHANDLED_5XX,
        title="Server error (500) on malformed input",
        severity=Severity.low,
        owasp="A04:2021",
        owasp_api="API8:2023",
        cwe=755,
        description=(
            "The probe's own malformed requests (unknown path, broken JSON, a word for a "
            "number, an 8 KiB value, special characters, an unknown method) are answered 500 "
            "where the endpoint's normal request is answered below 500: the input reached code "
            "that did not expect it."
        ),
        remediation=(
            "Validate input at the edge and answer malformed requests with 400, 404, 405 or "
            "413; treat every 500 as a bug to fix."
        ),
    ),
    _rule(
        SECRET_IN_RESPONSE,
        title="Secrets in an API response",
        severity=Severity.high,
        owasp="A01:2021",
        owasp_api="API3:2023",
        cwe=200,
        description=(
            "JSON answers are read for fields named like secrets (password, password_hash, "
            "secret, api_key, client_secret, private_key, ...) whose values look stored: a "
            "hash format, a key, a plain password (not a sentence, label, path, error code, "
            "mask or placeholder, nor a message under errors, labels or links), never an echo "
            "of the request (compared on its decoded values; anything holding the scan's "
            "marker is the probe's own payload); every answer is read for PEM private keys. "
            "Validation rules, patterns, secret-store references (vault:, ARNs), key names "
            "or ids, placeholders, keys public by design (public_api_key, pk_, phc_, "
            "searchApiKey), a TOTP seed next to its otpauth:// URI, and flags or settings "
            "(has_password, password_min_length) never count. Guesses (a Google AIza key, a "
            "lone word under a password name) are a separate low, tentative finding. Values "
            "are never copied into the report."
        ),
        remediation=(
            "Serialise responses through an explicit allow-list of fields; never return "
            "password hashes, keys or other users' secrets."
        ),
    ),
    _rule(
        EXPOSED_FILE,
        title="Sensitive file or debug endpoint served",
        severity=Severity.high,
        owasp="A05:2021",
        owasp_api="API8:2023",
        cwe=538,
        description=(
            "About 25 well-known paths (/.env, /.git/config, /actuator/env, /server-status, "
            "/debug/pprof/, /elmah.axd, ...) are requested below base_url and the host root "
            "and judged by their content (KEY=VALUE lines, a [core] section, a status table), "
            "never by status, and not when a random path gets the same content."
        ),
        remediation=(
            "Keep repositories, dotenv files, backups and diagnostics out of the web root or "
            "deny them at the server; expose management endpoints only on an internal port."
        ),
    ),
)
