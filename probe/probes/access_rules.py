"""The rules of the access probe: what each one judges, how bad it is, and how to fix it.

Reading data without credentials, another user's object, or an admin function without the role
is high; so is a privilege field the API stores from a client's body. A login that tells an
unknown user from a wrong password (by status, redirect, body or a consistent timing gap) is
medium. The descriptions say what is sent, what counts and the main safeguard (they stand in
the README's table and above every finding); the thresholds are in the README's prose.
"""

from __future__ import annotations

from typing import Any

from probe.findings import Rule, Severity
from probe.probes.base import make_rule

PROBE_ID = "access"
#: Endpoints tagged so are meant for everyone: not replayed without credentials.
PUBLIC_TAG = "public"
#: The role tag of identities, and the tag of endpoints only that role may use.
ADMIN_TAG = "admin"
#: Endpoints tagged so are logins: the user-enumeration check compares their answers.
LOGIN_TAG = "login"


def _rule(name: str, **fields: Any) -> Rule:
    return make_rule(PROBE_ID, name, **fields)


RULES = (
    _rule(
        "unauthenticated",
        title="Endpoint answers without valid credentials",
        severity=Severity.high,
        owasp="A07:2021",
        owasp_api="API2:2023",
        cwe=306,
        description=(
            "Each endpoint with an `identity` (not tagged `public`, never DELETE) is sent "
            "without credentials and with an invalid token (a JWT with one signature bit "
            "flipped, or a random token of its shape). An answer equal to the identity's own "
            "(volatile values aside), or equal but for at most two per-viewer parts "
            '(`"current_user": null`), is reported. A refused or empty reference, or a random '
            "path answering alike (a catch-all), makes the check error."
        ),
        remediation=(
            "Require and verify credentials on every endpoint that is not public (deny by "
            "default in the framework's middleware, not per route)."
        ),
    ),
    _rule(
        "bola",
        title="One user reads another user's object (BOLA)",
        severity=Severity.high,
        owasp="A01:2021",
        owasp_api="API1:2023",
        cwe=639,
        description=(
            "Each endpoint with an `owner` is sent as each other identity without the `admin` "
            "tag. An answer equal to the owner's, or equal but for at most two per-viewer parts "
            "(`can_edit`, a viewer name), is reported with both bodies; a refusal, another "
            "object, or the owner's answer with masked or withheld values is a pass. Firm when "
            "both answers hold a value naming the object or the owner (a path id, the owner's "
            "user name or token id), else tentative."
        ),
        remediation=(
            "Check on every request that the object belongs to the caller (or that the "
            "caller may see it), from the server-side session, never from an id the client "
            "sends."
        ),
    ),
    _rule(
        "function-level",
        title="Admin function open to users without the admin role",
        severity=Severity.high,
        owasp="A01:2021",
        owasp_api="API5:2023",
        cwe=285,
        description=(
            "Each endpoint tagged `admin` is sent as each identity without the `admin` tag. An "
            "answer equal to the admin identity's own, or equal but for at most two per-viewer "
            "parts (a greeting, `can_edit` in every item), is reported. A refusal, or the admin "
            "answer with masked or withheld values (`a***@example.test`: the server filters for "
            "the viewer), is a pass. Not tried where anonymous callers already get the answer."
        ),
        remediation=(
            "Check the caller's role on every administrative route (deny by default, one "
            "authorisation layer for the whole admin area)."
        ),
    ),
    _rule(
        "user-enumeration",
        title="Login tells whether a user exists",
        severity=Severity.medium,
        owasp="A07:2021",
        owasp_api="API2:2023",
        cwe=204,
        description=(
            "On endpoints tagged `login`, a wrong password for the endpoint's own user is "
            "compared with the same for a made-up unknown user, in 2 + `timing_samples` pairs "
            "in random order. Another status, redirect target or body (the echoed user name and "
            "volatile parts aside) on every try, or a consistent timing gap, is reported. "
            "The real password is never sent; a 423, a 429, words of a lockout or attempts "
            "left, or a changing known-user answer stop the wrong passwords."
        ),
        remediation=(
            "Answer every failed login the same way (one status, one message) and make the "
            "unknown-user path do the same work (hash a dummy password), so neither the "
            "answer nor its time tells the cases apart."
        ),
    ),
    _rule(
        "mass-assignment",
        title="Privilege field accepted from the request body (mass assignment)",
        severity=Severity.high,
        owasp="A01:2021",
        owasp_api="API3:2023",
        cwe=915,
        description=(
            "Opt-in per endpoint (`mass_assignment`): the object is read back, the endpoint's "
            "JSON body is sent with privilege fields added where its own fields are (inside a "
            "`data` wrapper or JSON:API `attributes`), and the object is read back again. A "
            "field the read-back now holds at the value sent, at its top level or in one "
            "wrapper, is reported; an echo in the write answer alone is not. A field already at "
            "that value makes the check error."
        ),
        remediation=(
            "Bind request bodies to an explicit list of fields the caller may set (a DTO or "
            "schema per operation); never copy a body onto the stored object as a whole."
        ),
    ),
)
