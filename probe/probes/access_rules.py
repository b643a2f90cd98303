"""The rules of the access probe: what each one judges, how bad it is, and how to fix it.

Reading data without credentials, another user's object, or an admin function without the role
is high; so is a privilege field the API stores from a client's body. A login that tells an
unknown user from a wrong password (by status, body or a consistent timing gap) is medium.
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

_EQUIVALENT = (
    " Equivalent means: a 2xx answer that is not a refusal (no error object, no empty body, no "
    "short denial text), that holds data (not only empty lists, nulls, zeros and counts), and "
    "whose status class and body match the reference answer once the volatile parts are left "
    "out (values that changed between two samples of the reference, times, ids and nonces). "
    "A reference that holds no data makes the check error: nothing to compare. An accepted "
    "replay is checked against a catch-all: the same caller sends one GET to a random path "
    "beside the endpoint's, and when that gets the same answer too (a single-page app's page, "
    "a catch-all route), the check is error and nothing is reported."
)
_PER_VIEWER = (
    " An answer that is not the same counts too when it is the reference with a few per-viewer "
    'parts (`can_edit`, a `viewer` name, "Signed in as Bob"): at most two of the reference\'s '
    "compared JSON leaves (or text elements) differ or are missing, none of them one that "
    "names the object or the owner, and either 90% of them are shared, or the ones that name "
    "the object or the owner are all shared and the shared ones outnumber the changed ones two "
    "to one."
)


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
            "Every endpoint with an `identity` (not tagged `public`, never DELETE) is sent "
            "without credentials, and with an invalid token in the identity's header (a JWT "
            "with one signature bit flipped, otherwise a random string of the same shape). "
            "Either answer equivalent to the identity's own answer, learnt from two "
            "authenticated samples, is reported: anyone can call what needs a login (or the "
            "endpoint is public by design: tag it `public`). When the identity itself is "
            "refused, the check is error, never pass." + _EQUIVALENT
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
            "Every endpoint with an `owner` gets the owner's answer learnt from two samples "
            "(the reference), then is sent once as each other identity with working "
            "credentials and without the `admin` tag (an admin reading others' objects is by "
            "design). An answer equivalent to "
            "the owner's is reported with both bodies; a 403, a 404 or any other refusal, or "
            "an answer holding other data (the caller's own object), is a pass. The finding is "
            "firm when both answers hold a value that names the object or the owner (a path "
            "parameter or a path segment with a digit, the owner's login user name, or its "
            "token's sub, uid or email claim); otherwise it is tentative: the caller's own "
            "record with the same default values would look the same. Not tried where "
            "anonymous callers already get the answer (reported as unauthenticated)."
            + _EQUIVALENT
            + _PER_VIEWER
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
            "Every endpoint tagged `admin` gets its own identity's answer learnt from two "
            "samples (that identity should carry the `admin` tag; the check says when it does "
            "not), then is sent once as each identity without the `admin` tag. An answer "
            "equivalent to the admin's is reported. Not tried where anonymous callers already "
            "get the answer (reported as unauthenticated)." + _EQUIVALENT + _PER_VIEWER
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
            "On endpoints tagged `login`, the endpoint's own user with a wrong password (made "
            "up per scan; the real password is never sent) is compared with an unknown user "
            "(made up in the known name's shape: the same kinds of characters in the same "
            "places, an email on the same domain) with the same wrong password, in 2 + "
            "`timing_samples` pairs, which side goes first drawn at random per pair (no server "
            "rotation can sort the sides). A status that differs, or bodies that differ once "
            "volatile parts and the echoed user name (in any letter case) are left out, on "
            "every try, is reported. Otherwise the answer times are compared with the slowest "
            "of each side set aside: a consistent gap (CWE-208) is reported when every answer "
            "of one side is slower than every answer of the other, and the gap between the "
            "sides is at least 50 ms and at least twice the spread within either side; with "
            "`timing_samples` under 5 no timing verdict is made. At most 2 + `timing_samples` "
            "wrong passwords go to the real user; the probe stops at the first 423, 429, "
            "answer that speaks of a lockout, a disabled, suspended or blocked account or a "
            "rate limit, or known-user answer whose status or body breaks from its first ones "
            "unlike any unknown-user answer (the account may be locking). Words of attempts "
            "left stop the known user's tries; the unknown user still gets its first two, and "
            "a count of attempts for existing users only is reported."
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
            "Opt-in per endpoint (`mass_assignment`): the object is read back (the `read` "
            "endpoint, or GET on the same path, as the endpoint's identity), the endpoint's "
            "JSON body is sent with the privilege fields added, and the object is read back "
            "again. A field that now holds the value sent, and did not before, is reported; "
            "it counts at the top level of the read-back object or inside one wrapper object "
            "(`data`, `user`, `item`, `result`, `profile`, `account`, or the answer's only key), "
            "never under other nested objects (`metadata`, `preferences`, `settings`), where "
            "clients keep data the server does not act on. A write answer that only "
            "echoes the field is not enough (many APIs echo their input); a field already at "
            "that value before makes the check error (inconclusive). When the write with every "
            "field is refused with a 400 or 422 (a strict model refusing unknown fields), each "
            "field is sent alone, each write followed by a read-back."
        ),
        remediation=(
            "Bind request bodies to an explicit list of fields the caller may set (a DTO or "
            "schema per operation); never copy a body onto the stored object as a whole."
        ),
    ),
)
