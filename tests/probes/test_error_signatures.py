"""The pure judges of the errors probe, on real-looking samples, prose, and hostile input."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import sqlite3
import time
import traceback
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probe.findings import Confidence, Severity
from probe.probes import (
    error_signatures,
    exposure_signatures,
    secret_names,
    secret_signatures,
    secret_values,
    trace_signatures,
)
from probe.probes import signatures as shared_signatures
from probe.probes.error_signatures import (
    SCAN_HEAD,
    SCAN_TAIL,
    Match,
    bounded,
    find_debug_page,
    find_internal_paths,
    find_sql_errors,
    find_stack_traces,
    judge_body,
    text_views,
    unhandled_5xx,
)
from probe.probes.exposure_signatures import (
    EXPOSURES,
    judge_actuator_env,
    judge_actuator_index,
    judge_aws_credentials,
    judge_ds_store,
    judge_env,
    judge_expvar,
    judge_git_config,
    judge_git_head,
    judge_htpasswd,
    judge_php_config,
    judge_phpinfo,
    judge_server_status,
    judge_sql_dump,
    judge_svn_entries,
)
from probe.probes.secret_signatures import (
    find_secrets,
    hash_format,
    is_message_container,
    judge_field,
    mask,
    password_shape,
    secret_kind,
)
from tests.probes.apps_errors import (
    DOCS_PAGE,
    DOTENV,
    GIT_CONFIG,
    LABELS,
    PUBLIC_CONFIG,
    SPA_INDEX,
)

FIRM = Confidence.firm
TENTATIVE = Confidence.tentative


def signatures(matches: list[Match]) -> list[str]:
    return [m.signature for m in matches]


# -- stack traces ----------------------------------------------------------------------------------


def _python_traceback() -> str:
    def parse(value: str) -> int:
        return int(value)

    try:
        try:
            parse("abc")
        except ValueError as exc:
            raise KeyError("order") from exc
    except KeyError:
        return traceback.format_exc()
    raise AssertionError("unreachable")


JAVA = """java.lang.NumberFormatException: For input string: "abc"
\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)
\tat java.base/java.lang.Integer.parseInt(Integer.java:668)
\tat com.example.shop.web.OrderController.show(OrderController.java:42)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885) \
~[spring-webmvc-6.1.2.jar:6.1.2]
\tat jdk.internal.reflect.GeneratedMethodAccessor12.invoke(Unknown Source)
"""
# Real .NET frames run long: the sample is assembled so that no source line passes 100.
DOTNET = "\n".join(
    [
        "System.FormatException: Input string was not in a correct format.",
        "   at System.Number.ThrowOverflowOrFormatException(ParsingStatus status, TypeCode type)",
        "   at System.Int32.Parse(String s)",
        "   at Shop.Api.Controllers.OrdersController.Get(String id) in "
        "C:\\src\\Shop.Api\\Controllers\\OrdersController.cs:line 27",
        "   at lambda_method5(Closure , Object , Object[] )",
        "   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor."
        "SyncObjectResultExecutor.Execute(IActionResultTypeMapper mapper, "
        "ObjectMethodExecutor executor, Object controller, Object[] arguments)",
        "",
    ]
)
NODE = """TypeError: Cannot read properties of undefined (reading 'id')
    at getOrder (/srv/app/src/routes/orders.js:14:22)
    at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)
    at next (/srv/app/node_modules/express/lib/router/route.js:149:13)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
"""
EXPRESS_HTML = (
    "<!DOCTYPE html><html><head><title>Error</title></head><body><pre>TypeError: Cannot read "
    "properties of undefined (reading &#39;id&#39;)<br> &nbsp; &nbsp;at getOrder "
    "(/srv/app/src/routes/orders.js:14:22)<br> &nbsp; &nbsp;at Layer.handle [as handle_request] "
    "(/srv/app/node_modules/express/lib/router/layer.js:95:5)</pre></body></html>"
)
PHP_FATAL = """PHP Fatal error:  Uncaught PDOException: SQLSTATE[42000]: Syntax error or access \
violation: 1064 You have an error in your SQL syntax; check the manual that corresponds to your \
MySQL server version for the right syntax to use near ''' at line 1 in \
/var/www/html/products.php:12
Stack trace:
#0 /var/www/html/products.php(12): PDO->query('SELECT * FROM p...')
#1 {main}
  thrown in /var/www/html/products.php on line 12
"""
PHP_WARNING_HTML = (
    "<br />\n<b>Warning</b>:  mysqli_query(): (42000/1064): You have an error in your SQL "
    "syntax; check the manual that corresponds to your MariaDB server version for the right "
    "syntax to use near '''' at line 1 in <b>/var/www/html/search.php</b> on line <b>8</b><br />"
)
RUBY = """NoMethodError (undefined method `name' for nil):
/usr/local/bundle/gems/activerecord-7.1.2/lib/active_record/core.rb:253:in `find'
/app/app/controllers/orders_controller.rb:12:in `show'
/usr/local/bundle/gems/actionpack-7.1.2/lib/action_controller/metal/basic_implicit_render.rb:6:in \
'ActionController::BasicImplicitRender#send_action'
"""
GO = """panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]

goroutine 7 [running]:
main.(*Server).handleOrder(0xc000012345, {0x7f1c20, 0xc0000a8000}, 0xc0000b2000)
\t/home/dev/shop/server.go:42 +0x1c
net/http.HandlerFunc.ServeHTTP(0xc000010000?, {0x7f1c20?, 0xc0000a8000?}, 0x0?)
\t/usr/local/go/src/net/http/server.go:2136 +0x29
"""


def test_real_python_traceback_with_a_chained_cause_is_found() -> None:
    text = _python_traceback()
    [match] = find_stack_traces(text)
    assert match.signature == "python"
    assert match.key.startswith('File "')
    assert "Traceback (most recent call last):" in match.excerpt


@pytest.mark.parametrize(
    ("sample", "signature"),
    [
        (JAVA, "java"),
        (DOTNET, "dotnet"),
        (NODE, "node"),
        (PHP_FATAL, "php"),
        (RUBY, "ruby"),
        (GO, "go"),
    ],
)
def test_each_language_trace_is_found_alone(sample: str, signature: str) -> None:
    assert signatures(find_stack_traces(sample)) == [signature]


def test_python_traceback_inside_a_json_error_field_is_found() -> None:
    body = json.dumps({"error": "internal", "trace": _python_traceback()})
    assert signatures(judge_body(body, "application/json")) == ["python"]


def test_spring_json_trace_field_is_found() -> None:
    body = json.dumps({"status": 500, "error": "Internal Server Error", "trace": JAVA})
    assert signatures(judge_body(body, "application/json")) == ["java"]


def test_express_html_error_page_is_found_after_tags_and_entities_are_read() -> None:
    assert "node" in signatures(judge_body(EXPRESS_HTML, "text/html; charset=utf-8"))


def test_php_warning_in_html_gives_a_trace_and_a_mysql_error() -> None:
    found = judge_body(PHP_WARNING_HTML, "text/html")
    assert signatures(found) == ["php", "mysql"]


@pytest.mark.parametrize(
    "prose",
    [
        "A Traceback tells you where the error happened; look for the File lines in it.",
        "Traceback (most recent call last):\nthat is how Python starts its error reports.",
        "Meeting at 10:30:00\n  at 11:45:00\n  at 12:00:00",
        "  at Home(Office)\n  at Berlin(Germany)",
        "Open the file at C:\\Users\\ann\\notes.txt or /home/ann/notes.txt.",
        "goroutine is a word, panic: is not a trace without frames",
        "Warning: this page is in beta",
    ],
)
def test_prose_mentioning_error_words_is_no_trace(prose: str) -> None:
    assert find_stack_traces(prose) == []


def test_documentation_page_mentioning_traceback_and_sql_syntax_matches_nothing() -> None:
    assert judge_body(DOCS_PAGE, "text/html") == []


# -- debug pages -----------------------------------------------------------------------------------


def _page(text: str, content_type: str = "text/html") -> Match | None:
    views = text_views(text, content_type)
    return find_debug_page(views, find_stack_traces(views.plain))


LARAVEL_JSON = json.dumps(
    {
        "message": "SQLSTATE[42S02]: Base table or view not found",
        "exception": "Illuminate\\Database\\QueryException",
        "file": "/var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php",
        "line": 822,
        "trace": [{"file": "/var/www/html/app/Http/Controllers/OrderController.php", "line": 30}],
    }
)
RAILS = """<!DOCTYPE html><html><head><title>Action Controller: Exception caught</title></head>
<body><header><h1>NoMethodError in OrdersController#show</h1></header>
<div id="container"><p><code>Rails.root: /app</code></p>
<div id="traces"><a href="#">Application Trace</a> | <a href="#">Framework Trace</a></div>
</div></body></html>"""
WHITELABEL = (
    "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for "
    "/error, so you are seeing this as a fallback.</p><div>There was an unexpected error "
    "(type=Internal Server Error, status=500).</div><div style='white-space:pre-wrap;'>"
    + html.escape(JAVA)
    + "</div></body></html>"
)
WHITELABEL_PLAIN = WHITELABEL.split("<div style")[0] + "</body></html>"
YSOD = """<html><head><title>Input string was not in a correct format.</title></head><body>
<h1>Server Error in '/' Application.<hr width=100% size=1 color=silver></h1>
<h2><i>Input string was not in a correct format.</i></h2>
<b> Exception Details: </b>System.FormatException: Input string was not in a correct format.
<b>Stack Trace:</b> <pre>[FormatException: Input string was not in a correct format.]</pre>
<b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:4.0.30319
</body></html>"""
ASPNET_CORE = """<!DOCTYPE html><html><head><title>Internal Server Error</title></head><body>
<h1>An unhandled exception occurred while processing the request.</h1>
<div class="titleerror">FormatException: Input string was not in a correct format.</div>
<ul id="header"><li id="stack" class="selected">Stack</li><li id="query">Query</li></ul>
<div id="stackpage" class="page"></div></body></html>"""


@pytest.mark.parametrize(
    ("sample", "signature", "severity"),
    [
        (LARAVEL_JSON, "laravel", Severity.high),
        (RAILS, "rails", Severity.high),
        (WHITELABEL, "spring-whitelabel", Severity.high),
        (YSOD, "aspnet-ysod", Severity.high),
        (ASPNET_CORE, "aspnet-core", Severity.high),
    ],
)
def test_framework_debug_pages_are_recognised_by_their_markers(
    sample: str, signature: str, severity: Severity
) -> None:
    page = _page(sample, "application/json" if sample.startswith("{") else "text/html")
    assert page is not None
    assert (page.signature, page.severity) == (signature, severity)


def test_whitelabel_page_without_a_stack_trace_is_no_debug_page() -> None:
    assert _page(WHITELABEL_PLAIN) is None


@pytest.mark.parametrize(
    "text",
    [
        "Werkzeug Debugger is a tool; see the docs.",
        "<p>Set DEBUG = True in settings.py while developing.</p>",
        "<p>Django Version: 5.2 brings new features.</p>",
        "<title>Starlette Debugger</title> explained",
        "Server Error in '/' Application. (a heading in a blog post)",
    ],
)
def test_one_marker_alone_is_no_debug_page(text: str) -> None:
    assert _page(text) is None


def test_werkzeug_debugger_secret_never_reaches_an_excerpt() -> None:
    page = (
        "<title>ValueError // Werkzeug Debugger</title>"
        '<script src="?__debugger__=yes&amp;cmd=resource&amp;f=debugger.js"></script>'
        '<script>var CONSOLE_MODE = false, EVALEX = true, SECRET = "Tq8ZbXw3kLmN0pQr5sUv";'
        "</script>"
    )
    match = _page(page)
    assert match is not None
    assert match.signature == "werkzeug-console"
    assert "Tq8ZbXw3kLmN0pQr5sUv" not in match.excerpt


# -- SQL errors ------------------------------------------------------------------------------------


def _sqlite_error(sql: str) -> str:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE products (id INTEGER, name TEXT)")
    try:
        db.execute(sql)
    except sqlite3.Error as exc:
        return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    finally:
        db.close()
    raise AssertionError("the query should fail")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM products WHERE name = 'a''",
        "SELECT * FROM products WHERE id = 1 OR",
        "SELECT * FROM orders",
        "SELECT missing FROM products",
    ],
)
def test_real_sqlite_errors_are_found(sql: str) -> None:
    assert signatures(find_sql_errors(_sqlite_error(sql))) == ["sqlite"]


@pytest.mark.parametrize(
    ("text", "engine"),
    [
        (
            "You have an error in your SQL syntax; check the manual that corresponds to your "
            "MySQL server version for the right syntax to use near ''1''' at line 1",
            "mysql",
        ),
        ("Unknown column 'prb1' in 'where clause'", "mysql"),
        (
            'ERROR:  syntax error at or near "prb1"\nLINE 1: SELECT * FROM t WHERE id = prb1',
            "postgresql",
        ),
        ('invalid input syntax for type integer: "prb1"', "postgresql"),
        ('psycopg2.errors.UndefinedColumn: column "prb1" does not exist', "postgresql"),
        ("Unclosed quotation mark after the character string ''.", "mssql"),
        ("Incorrect syntax near 'prb1'.", "mssql"),
        ("ORA-01756: quoted string not properly terminated", "oracle"),
        ("ORA-00933: SQL command not properly ended", "oracle"),
    ],
)
def test_each_engine_message_is_found(text: str, engine: str) -> None:
    assert signatures(find_sql_errors(text)) == [engine]


@pytest.mark.parametrize(
    "prose",
    [
        "If you see an error about SQL syntax, check your query.",
        "Our ORA team meets on Mondays; SQLSTATE codes are listed in the manual.",
        "The table is near the window: syntax is not an error here.",
    ],
)
def test_prose_about_sql_is_no_sql_error(prose: str) -> None:
    assert find_sql_errors(prose) == []


# -- internal paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "could not open /var/www/html/config/database.php",
        "template /usr/local/lib/python3.11/site-packages/app/views.py failed",
        "loaded C:\\inetpub\\wwwroot\\Shop\\web.config",
        "error in /app/src/server.js:14",
    ],
)
def test_server_file_paths_are_found(text: str) -> None:
    assert signatures(find_internal_paths(text)) == ["file-path"]


@pytest.mark.parametrize(
    "text",
    [
        '{"script": "/app/static/js/main.3f2a1c.js"}',
        "see https://example.com/home/user/app.py for the example",
        "GET /users/42/orders.json",
        "the /etc/passwd file",
    ],
)
def test_url_paths_and_paths_without_context_are_not_internal_paths(text: str) -> None:
    assert find_internal_paths(text) == []


def test_a_path_reflected_from_the_request_is_not_counted() -> None:
    text = "No such file: /var/www/html/prb1.php"
    assert find_internal_paths(text, exclude="http://h/var/www/html/prb1.php") == []


def test_a_stack_trace_stands_for_the_paths_in_its_frames() -> None:
    assert signatures(judge_body(NODE, "text/plain")) == ["node"]


# -- secrets ---------------------------------------------------------------------------------------

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7Qk"
    "rmBL7jTKEn5u\n"
    "-----END RSA PRIVATE KEY-----\n"
)  # fmt: skip
BCRYPT = "$2b$12$KIXQJxk3PzTq1dU5e0mWbO0l7tT4lB9m2yC1o8Yq3sVnH6pR0a1Cy"
ARGON2 = (
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$K1pbN0xvYw0ZsnlVv3Qy2Tfo3c4mLxN+2bCkPq8ZyQU"
)
DJANGO_PBKDF2 = "pbkdf2_sha256$600000$Xb1Wf0y2ZQdV$0n8cUe1yQq1f3r4Tz5o6p7A8B9C0D1E2F3G4H5I6J7K="
SHA512_CRYPT = "$6$rounds=5000$saltsalt$" + "a1B2c3D4e5F6g7H8i9J0" * 4 + "k1L2m3"
SCRYPT = "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E"
PASSLIB_PBKDF2 = "$pbkdf2-sha256$29000$N2bsnTMmxNjbO4eR$Y6NeMUm2A5U2dJ1fLSfZ1gDrOZ4Iq6qXQ2w3sGJ1dJk"
HEX_SHA256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
STRIPE_SECRET = "sk_live_51Hx3kQ2eZvKYlo2C0000"  # a made-up key in Stripe's format


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("password", "password"),
        ("newPassword", "password"),
        ("confirm_password", "password"),
        ("db_passwd", "password"),
        ("pwd", "password"),
        ("password_hash", "hash"),
        ("hashedPassword", "hash"),
        ("api_key", "key"),
        ("stripeApiKey", "key"),
        ("client_secret", "key"),
        ("secret", "key"),
        ("private_key", "key"),
        ("AWS_SECRET_ACCESS_KEY", "key"),
        ("password_policy", None),
        ("has_password", None),
        ("password_required", None),
        ("passwordMinLength", None),
        ("passwordResetUrl", None),
        ("forgot_password", None),
        ("reset_password", None),
        ("public_api_key", None),
        ("publicKey", None),
        ("publishable_key", None),
        ("api_key_hint", None),
        ("apiKeyLast4", None),
        ("secret_question", None),
        ("is_secret", None),
        ("requiresApiKey", None),
        ("token", None),
        ("access_token", None),
    ],
)
def test_secret_field_names(key: str, kind: str | None) -> None:
    assert secret_kind(key) == kind


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("errors", True),
        ("fieldErrors", True),
        ("validation_errors", True),
        ("labels", True),
        ("_links", True),
        ("i18n", True),
        ("messages", True),
        ("examples", True),
        ("user", False),
        ("data", False),
        ("config", False),
        ("context", False),
        ("ConnectionStrings", False),
    ],
)
def test_message_containers(key: str, expected: bool) -> None:
    assert is_message_container(key) is expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (BCRYPT, "bcrypt hash"),
        (ARGON2, "Argon2 hash"),
        (SCRYPT, "scrypt hash"),
        (DJANGO_PBKDF2, "PBKDF2 hash"),
        (PASSLIB_PBKDF2, "PBKDF2 hash"),
        (SHA512_CRYPT, "SHA-crypt hash"),
        ("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "MD5-crypt hash"),
        ("{SSHA}8Zfo1VU1Xb3BLjVJlFN0nQ2qzN7ZkHVt", "LDAP hash"),
        ("5f4dcc3b5aa765d61d8327deb882cf99", "hex digest"),
        (HEX_SHA256, "hex digest"),
        (HEX_SHA256.upper(), "hex digest"),
        ("5f4dcc3b5aa765d61d8327deb882cf9", None),  # 31 digits: no digest has that length
        ("hunter2", None),
        ("$2b$12$short", None),
    ],
)  # fmt: skip
def test_password_hash_formats(text: str, name: str | None) -> None:
    assert hash_format(text) == name


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("hunter2", "plain"),
        ("alice-pass-123", "plain"),
        ("Tr0ub4dor&3", "plain"),
        ("letmein", "word"),
        ("12345678", "digits"),
        ("Passwort", None),
        ("Password:", None),
        ("Passwort bestätigen", None),
        ("Passwort vergessen?", None),
        ("must be 12 to 128 characters", None),
        ("/account/reset-password", None),
        ("account/reset-password", None),
        ("too_short", None),
        ("PASSWORD_TOO_SHORT", None),
        ("invalid-format", None),
        ("sha256", None),
        ("argon2id", None),
        ("2024-05-01", None),
        ("2024-05-01T10:00:00Z", None),
        ("abc", None),
    ],
)
def test_password_shapes(text: str, shape: str | None) -> None:
    assert password_shape(text) == shape


@pytest.mark.parametrize(
    ("name", "value", "shape", "severity"),
    [
        ("password", "hunter2", "plain password", Severity.high),
        ("password", "alice-pass-123", "plain password", Severity.high),
        ("password", BCRYPT, "bcrypt hash", Severity.high),
        ("password", HEX_SHA256, "hex digest", Severity.high),
        ("password_hash", BCRYPT, "bcrypt hash", Severity.high),
        ("password_hash", ARGON2, "Argon2 hash", Severity.high),
        ("passwordDigest", "q1W2e3R4t5Y6u7I8o9P0aSdF", "password hash", Severity.high),
        ("api_key", STRIPE_SECRET, "key", Severity.medium),
        ("client_secret", "cs_9aB8cD7eF6gH5iJ4kL3m", "key", Severity.medium),
        ("private_key", PEM, "PEM private key", Severity.high),
        ("api_key", PEM, "PEM private key", Severity.high),
    ],
)
def test_stored_secrets_are_firm(name: str, value: str, shape: str, severity: Severity) -> None:
    verdict = judge_field(name, value)
    assert verdict is not None
    assert (verdict.shape, verdict.severity, verdict.confidence) == (shape, severity, FIRM)


def test_hash_and_key_show_only_their_scheme_or_prefix() -> None:
    bcrypt = judge_field("password_hash", BCRYPT)
    stripe = judge_field("api_key", STRIPE_SECRET)
    plain = judge_field("password", "hunter2")
    assert bcrypt is not None
    assert stripe is not None
    assert plain is not None
    assert BCRYPT[: bcrypt.keep] == "$2b$"
    assert STRIPE_SECRET[: stripe.keep] == "sk_live_"
    assert plain.keep == 0


@pytest.mark.parametrize(
    ("name", "value", "status", "severity"),
    [
        ("password", "letmein", 200, Severity.low),
        ("password", "12345678", 200, Severity.low),
        ("password", "Xy7#k2pq", 500, Severity.medium),
        ("api_key", "AIzaSyA1b2C3d4E5f6G7h8", 200, Severity.low),
    ],
)
def test_borderline_values_are_tentative_and_less_severe(
    name: str, value: str, status: int, severity: Severity
) -> None:
    verdict = judge_field(name, value, status=status)
    assert verdict is not None
    assert (verdict.severity, verdict.confidence) == (severity, TENTATIVE)


@pytest.mark.parametrize(
    ("name", "value", "status", "in_messages"),
    [
        # What a tester met: a validation message, German labels, a link, a public key.
        ("password", "must be 12 to 128 characters", 422, True),
        ("password", "must be 12 to 128 characters", 422, False),
        ("password", "Passwort", 200, True),
        ("password", "Passwort", 200, False),
        ("confirm_password", "Passwort bestätigen", 200, False),
        ("forgot_password", "Passwort vergessen?", 200, False),
        ("reset_password", "/account/reset-password", 200, False),
        ("password", "/account/reset-password", 200, False),
        ("public_api_key", "AIzaSyA1b2C3d4E5f6G7h8", 200, False),
        # Flags, settings, empty and masked values.
        ("password_required", True, 200, False),
        ("password_min_length", 12, 200, False),
        ("password", None, 200, False),
        ("password", "", 200, False),
        ("password", "   ", 200, False),
        ("password", "********", 200, False),
        ("password", "••••••••", 200, False),
        ("password", "xxxxxxxx", 200, False),
        ("password", "[redacted]", 200, False),
        ("password", True, 200, False),
        ("api_key_hint", "…a1b2", 200, False),
        ("api_key", "…a1b2", 200, False),
        ("api_key", "sk_live_…a1b2", 200, False),
        ("api_key", "sk_live_...a1b2", 200, False),
        # Placeholders, templates, URLs, codes and names.
        ("password", "https://example.test/reset", 200, False),
        ("password", "{{password}}", 200, False),
        ("password", "${DB_PASSWORD}", 200, False),
        ("password", "$DB_PASSWORD", 200, False),
        ("password", "too_short", 200, False),
        ("password", "invalid", 400, False),
        ("password", "argon2id", 200, False),
        ("password", "2024-05-01", 200, False),
        ("password_hash", "not-available-for-sso-users", 200, False),
        ("password_hash", "2024-05-01T10:00:00Z", 200, False),
        ("api_key", "YOUR_API_KEY_HERE", 200, False),
        ("api_key", "<your api key>", 200, False),
        ("api_key", "s3cr3t", 200, False),
        ("api_key", "pk_live_51Hx3kQ2eZvKYlo2C0000", 200, False),
        ("api_key", "projects/1234/keys/abcdef12", 200, False),
        # A password-looking value is a message under errors, and only a guess in an error.
        ("password", "hunter2!", 200, True),
        ("password", "letmein", 422, False),
    ],
)
def test_messages_labels_links_and_settings_are_not_secrets(
    name: str, value: Any, status: int, in_messages: bool
) -> None:
    assert judge_field(name, value, status=status, in_messages=in_messages) is None


def _secrets(body: Any, status: int = 200, sent: str = "") -> list[Match]:
    views = text_views(json.dumps(body), "application/json")
    return secret_signatures.find_secrets(views, status=status, sent=sent)


def test_tester_bodies_hold_no_secrets() -> None:
    policy = {
        "password_policy": "at least 12 characters, one digit",
        "password_min_length": 12,
        "has_password": True,
        "requires_api_key": False,
        "secret_question_enabled": True,
    }
    assert _secrets({"errors": {"password": "must be 12 to 128 characters"}}, 422) == []
    assert _secrets({"password": ["This password is too common."]}, 400) == []
    assert _secrets(LABELS) == []
    assert _secrets(PUBLIC_CONFIG) == []
    assert _secrets(policy) == []


def test_echo_of_what_the_request_sent_is_not_a_leak() -> None:
    body = {"id": 5, "password": "alice-pass-123"}
    assert _secrets(body, 201, sent='{"email": "a@b.test", "password": "alice-pass-123"}') == []
    [match] = _secrets(body, 200, sent="http://127.0.0.1:8000/me")
    assert match.confidence is FIRM


def test_hash_under_an_error_object_still_counts() -> None:
    [match] = _secrets({"error": {"debug": {"user": {"password_hash": BCRYPT}}}}, 500)
    assert match.key == "$.error.debug.user.password_hash"
    assert match.severity is Severity.high


def test_nested_secrets_are_listed_by_json_path_without_values() -> None:
    body = {
        "users": [{"id": 1, "password": "hunter2!"}, {"id": 2, "profile": {"api_key": None}}],
        "service": {"client_secret": "cs_9aB8cD7eF6gH5iJ4kL3m"},
    }
    [match] = _secrets(body)
    assert match.severity is Severity.high
    assert match.confidence is FIRM
    assert match.key == "$.users[0].password, $.service.client_secret"
    assert match.label == "Secrets in the response ($.users[0].password, $.service.client_secret)"
    assert "hunter2" not in match.excerpt
    assert "9aB8" not in match.excerpt
    assert "$.users[0].password = [hidden: 8 characters] (plain password)" in match.excerpt
    assert '[hidden: 23 characters, starts "cs_"] (key)' in match.excerpt


def test_only_borderline_fields_give_a_tentative_low_match() -> None:
    [match] = _secrets({"user": {"password": "letmein"}})
    assert (match.severity, match.confidence) == (Severity.low, TENTATIVE)
    assert match.label.startswith("Possible secrets in the response")


def test_a_firm_field_and_a_borderline_one_are_two_matches_the_firm_first() -> None:
    # The guess is its own match: it must not ride inside the sure one as if proven.
    match, guess = _secrets({"a": {"password": "letmein"}, "b": {"password_hash": BCRYPT}})
    assert (match.severity, match.confidence) == (Severity.high, FIRM)
    assert match.key == "$.b.password_hash"
    assert (guess.severity, guess.confidence) == (Severity.low, TENTATIVE)
    assert guess.key == "$.a.password"


def test_pem_private_key_in_any_body_is_a_secret() -> None:
    [match] = find_secrets(text_views(f"<pre>{PEM}</pre>", "text/html"))
    assert match.severity is Severity.high
    assert "-----BEGIN RSA PRIVATE KEY----- [key body hidden]" in match.excerpt
    assert "MIIEowIBAAKCAQEA" not in match.excerpt


def test_pem_in_a_private_key_field_is_listed_once() -> None:
    [match] = find_secrets(text_views(json.dumps({"private_key": PEM}), "application/json"))
    assert match.key == "$.private_key"


def test_mask_shows_the_length_and_at_most_a_prefix() -> None:
    assert mask("abcdefgh") == "[hidden: 8 characters]"
    assert mask("sk_live_abcdef", 8) == '[hidden: 14 characters, starts "sk_live_"]'
    assert mask("abc", 3) == "[hidden: 3 characters]"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_a_value_with_a_space_inside_is_never_a_plain_password(left: str, right: str) -> None:
    text = f"{left.strip()}x y{right.strip()}"
    assert password_shape(text) is None
    assert judge_field("password", text) is None


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=30),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
        max_leaves=20,
    ),
)
def test_field_judge_never_raises(name: str, value: Any) -> None:
    judge_field(name, value)
    _secrets({name: value})


# -- exposure files --------------------------------------------------------------------------------

SAMPLES: dict[Callable[[str], list[str] | None], str] = {
    judge_env: DOTENV,
    judge_git_config: GIT_CONFIG,
    judge_git_head: "ref: refs/heads/main\n",
    judge_svn_entries: "10\n\ndir\n1234\nsvn://svn.internal/shop/trunk\n",
    judge_ds_store: "\0\0\0\1Bud1\0\0\x10\0",
    judge_htpasswd: "admin:$apr1$Qx8Lm2Zp$3eJ9bCz5fT1uYkH0nVw7a/\n",
    judge_aws_credentials: (
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    ),
    judge_php_config: "<?php\ndefine( 'DB_NAME', 'shop' );\ndefine( 'DB_PASSWORD', 'pw1' );\n",
    judge_sql_dump: "-- MySQL dump 10.13\nCREATE TABLE `users` (\n  `id` int\n);\n",
    judge_phpinfo: (
        "<title>PHP 8.2.1 - phpinfo()</title><h1>PHP Version 8.2.1</h1>"
        "<td>Loaded Configuration File</td>"
    ),
    judge_server_status: (
        "<title>Apache Status</title><h1>Apache Server Status for shop.internal</h1>"
        "<dt>Server Version: Apache/2.4.57</dt><dt>Current Time: Monday</dt>"
    ),
    judge_actuator_index: json.dumps(
        {"_links": {"self": {"href": "/actuator"}, "heapdump": {"href": "/actuator/heapdump"}}}
    ),
    judge_actuator_env: json.dumps(
        {"activeProfiles": ["prod"], "propertySources": [{"name": "systemEnvironment"}]}
    ),
    judge_expvar: json.dumps({"cmdline": ["/srv/shop", "-db=postgres://"], "memstats": {}}),
}


@pytest.mark.parametrize("judge", list(SAMPLES), ids=lambda j: j.__name__)
def test_each_exposure_judge_recognises_its_file(judge: Callable[[str], list[str] | None]) -> None:
    assert judge(SAMPLES[judge])


@pytest.mark.parametrize("judge", list(SAMPLES), ids=lambda j: j.__name__)
@pytest.mark.parametrize("page", [SPA_INDEX, DOCS_PAGE, "Not Found", "{}", ""])
def test_no_exposure_judge_accepts_an_ordinary_page(
    judge: Callable[[str], list[str] | None], page: str
) -> None:
    assert judge(page) is None


def test_dotenv_excerpt_names_keys_and_hides_values() -> None:
    lines = judge_env(DOTENV) or []
    assert "SECRET_KEY=[value hidden]" in lines
    assert not any("hunter2" in line or "9f8e7d" in line for line in lines)


def test_actuator_index_with_only_health_is_fine() -> None:
    body = json.dumps({"_links": {"self": {"href": "/a"}, "health": {"href": "/a/health"}}})
    assert judge_actuator_index(body) is None


def test_exposure_list_is_short_and_paths_are_unique() -> None:
    paths = [e.path for e in EXPOSURES]
    assert 20 <= len(paths) <= 30
    assert len(set(paths)) == len(paths)
    assert all(p.startswith("/") for p in paths)


# -- unhandled 5xx ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "normal", "expected"),
    [(500, 200, True), (500, 404, True), (500, 500, False), (500, None, False),
     (501, 200, False), (503, 200, False), (400, 200, False)],
)  # fmt: skip
def test_unhandled_500_needs_a_normal_answer_below_500(
    status: int, normal: int | None, expected: bool
) -> None:
    assert unhandled_5xx(status, normal) is expected


# -- bounded work ----------------------------------------------------------------------------------

MIB = 1 << 20
HOSTILE = {
    "one letter": "a" * MIB,
    "angle brackets": "<" * MIB,
    "open tags": ("<a" + "b" * 1990) * (MIB // 1992),
    "partial python frames": ('  File "' + "a" * 290 + '", line 1, in \n') * (MIB // 310),
    "partial node frames": ("    at x (" + "a" * 250 + ":1\n") * (MIB // 262),
    "partial dotnet frames": ("   at " + "a." * 120 + "(" + "b" * 250 + "\n") * (MIB // 500),
    "partial java frames": ("\tat " + "a" * 290 + "(x.jav\n") * (MIB // 300),
    "partial ruby frames": ("/" + "a" * 290 + ".rb:1:in \n") * (MIB // 300),
    "path fragments": ("/home/" + "a" * 99 + "/") * (MIB // 106),
    "windows fragments": ("C:\\" + "a " * 40 + "\\") * (MIB // 85),
    "sql prefixes": ('near "' + "a" * 99 + " ORA-1 SQLSTATE[ ") * (MIB // 125),
    "php warnings": ("Warning: " + "a" * 490 + " in /x" + "b" * 290 + "\n") * (MIB // 800),
    "pem header": "-----BEGIN RSA PRIVATE KEY-----" + " " * MIB,
    "env lines": ("A" * 60 + "=" + "b" * 600 + "\n") * (MIB // 662),
    "deep json": "[" * MIB,
    "deep json object": '{"a":' * (MIB // 5),
    "huge json": json.dumps({"password": "p" * 100, "items": list(range(MIB // 8))}),
}


def _patterns(value: Any) -> Iterator[re.Pattern[str]]:
    if isinstance(value, re.Pattern):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _patterns(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _patterns(getattr(value, item.name))


def _module_patterns(module: ModuleType) -> list[re.Pattern[str]]:
    return [p for value in vars(module).values() for p in _patterns(value)]


@pytest.mark.parametrize(
    "module",
    [
        error_signatures,
        exposure_signatures,
        secret_signatures,
        secret_names,
        secret_values,
        shared_signatures,
        trace_signatures,
    ],
    ids=lambda m: m.__name__,
)
def test_no_pattern_can_match_more_than_a_kilobyte(module: ModuleType) -> None:
    patterns = _module_patterns(module)
    assert patterns
    for pattern in patterns:
        # The regex parser's own bound on the match length (CPython's re._parser).
        parser = re._parser  # type: ignore[attr-defined]
        widest = parser.parse(pattern.pattern, pattern.flags).getwidth()[1]
        assert widest <= 1024, pattern.pattern


@pytest.mark.parametrize("name", list(HOSTILE))
def test_every_judge_reads_a_hostile_mebibyte_fast(name: str) -> None:
    text = HOSTILE[name]
    started = time.perf_counter()
    for content_type in ("text/html", "application/json", "text/plain"):
        views = text_views(text, content_type)
        judge_body(text, content_type)
        find_secrets(views)
    for exposure in EXPOSURES:
        if exposure.judge is not None:
            exposure.judge(text)
    assert time.perf_counter() - started < 3.0, name


def test_bodies_are_read_up_to_head_and_tail_only() -> None:
    text = "h" * SCAN_HEAD + "m" * 10_000 + "t" * SCAN_TAIL
    cut = bounded(text)
    assert len(cut) == SCAN_HEAD + SCAN_TAIL + 1
    assert "m" not in cut


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_judges_never_raise_on_arbitrary_text(text: str) -> None:
    for content_type in ("text/html", "application/json", ""):
        judge_body(text, content_type)
        find_secrets(text_views(text, content_type))
    for exposure in EXPOSURES:
        if exposure.judge is not None:
            exposure.judge(text)
