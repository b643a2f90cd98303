"""Pure judges of the nosql family: operator pairs, their verdict, and operator error messages.

An operator pair is a match-everything operator and a match-nothing twin of the same shape and
the same value (`{"$ne": r}` and `{"$eq": r}`, `{"$gt": ""}` and `{"$lt": ""}`): a server that
does not read the key as an operator (it rejects objects, stringifies them, drops them, or
reflects them) treats both alike, so only operator evaluation tells them apart. The pair
counts when the match-everything answer is a success (the unmodified answer, or data where a
harmless random value gets none) and the match-nothing answer is the harmless value's answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from probe.compare import Reference, holds_data, is_refusal
from probe.exchange import ResponseRecord

#: A number below every plausible numeric value: `$gt` it matches all numbers, `$lt` none.
NUMERIC_FLOOR = -(10**15)


@dataclass(frozen=True)
class Operator:
    """One query operator with its operand, as a JSON object or in bracket syntax.

    Attributes:
        name: The operator (`$ne`).
        value: Its operand (text in a query string or a form).
    """

    name: str
    value: Any

    def json(self) -> dict[str, Any]:
        """The JSON object form: `{"$ne": value}`."""
        return {self.name: self.value}

    @property
    def suffix(self) -> str:
        """What the bracket syntax adds to the parameter's name: `[$ne]`."""
        return f"[{self.name}]"

    @property
    def text(self) -> str:
        """The operand as text, for a query string or a form."""
        return self.value if isinstance(self.value, str) else json.dumps(self.value)

    def shown(self, bracket: bool, name: str) -> str:
        """How a check's detail shows it: `{"$ne": "x"}` or `id[$ne]=x`."""
        if bracket:
            return f"{name}{self.suffix}={self.text}"
        return json.dumps(self.json())


@dataclass(frozen=True)
class Pair:
    """A match-everything operator beside its match-nothing twin.

    Attributes:
        label: How a check's detail names the pair ("$ne/$eq").
        everything: The operator that matches every stored value.
        nothing: The operator that matches none.
    """

    label: str
    everything: Operator
    nothing: Operator


def operator_pairs(random: str, *, numeric: bool = False) -> tuple[Pair, ...]:
    """The pairs to try, most general first; `numeric` for a JSON field holding a number
    (where `$gt ""` and `$regex` match nothing)."""
    pairs = [Pair("$ne/$eq", Operator("$ne", random), Operator("$eq", random))]
    if numeric:
        floor = NUMERIC_FLOOR
        pairs.append(Pair("$gt/$lt", Operator("$gt", floor), Operator("$lt", floor)))
        return tuple(pairs)
    pairs.append(Pair("$gt/$lt", Operator("$gt", ""), Operator("$lt", "")))
    regex = Pair("$regex", Operator("$regex", ".*"), Operator("$regex", f"^{random}$"))
    pairs.append(regex)
    return tuple(pairs)


# -- the pair's verdict ---------------------------------------------------------------------------


def _status(response: ResponseRecord) -> str:
    return f"HTTP {response.status}"


def everything_fails(answer: ResponseRecord, reference: Reference, harmless: ResponseRecord) -> str:
    """Why a match-everything answer is no success ("" when it is one).

    A success is the unmodified answer again, or an answer holding data where the harmless
    random value got a refusal or nothing to read (a lookup that now returns records).
    """
    if is_refusal(answer):
        return f"match-everything refused ({_status(answer)})"
    if reference.matches(answer):
        return ""
    if holds_data(answer) and (is_refusal(harmless) or not holds_data(harmless)):
        return ""
    return (
        f"match-everything answer ({_status(answer)}) is neither the unmodified answer nor new data"
    )


def success_kind(answer: ResponseRecord, reference: Reference) -> str:
    """How a match-everything success looks, for a finding's detail."""
    if reference.matches(answer):
        return f"the unmodified value's answer ({_status(answer)})"
    return f"data ({_status(answer)}) where the harmless value gets none"


def like_harmless(answer: ResponseRecord, harmless: ResponseRecord) -> bool:
    """True when `answer` is what the harmless random value got: the same status and the same
    body, or both refusals, or both without anything to read."""
    if answer.status != harmless.status:
        return False
    if Reference.learn(harmless).matches(answer):
        return True
    if is_refusal(answer) and is_refusal(harmless):
        return True
    return not holds_data(answer) and not holds_data(harmless)


def separation(
    everything: ResponseRecord,
    nothing: ResponseRecord,
    reference: Reference,
    harmless: ResponseRecord,
) -> str:
    """Why a pair's answers prove nothing ("" when they prove operator evaluation)."""
    why = everything_fails(everything, reference, harmless)
    if why:
        return why
    if not like_harmless(nothing, harmless):
        return f"match-nothing answer ({_status(nothing)}) is not the harmless value's answer"
    if Reference.learn(everything).matches(nothing):
        return "both operators got the same answer"
    return ""


# -- operator errors ------------------------------------------------------------------------------

# Messages a MongoDB-style store gives only when it reads a key as a query operator. Storage or
# casting errors ("Cast to string failed", "$-prefixed field not valid for storage") are left
# out: they show an object refused, not evaluated.
_SPECIFIC = (
    re.compile(r"unknown (?:top level )?operator:? ?\$[\w.]*", re.IGNORECASE),
    re.compile(r"\$regex has to be a string", re.IGNORECASE),
    re.compile(r"\$(?:in|nin|all) needs an array", re.IGNORECASE),
    re.compile(r"Can't use \$\w+ with \w+"),
)
# Names of a driver's error that appear for many reasons: they count only beside the name of
# an operator that was sent.
_GENERIC = re.compile(r"\bBadValue\b|\bMongo(?:Server)?Error\b|\bOperationFailure\b")


def operator_error(text: str, sent: tuple[str, ...] = ()) -> str | None:
    """The operator error message in `text`, or None; a generic driver error counts only
    when the text also names one of the operators in `sent`."""
    for pattern in _SPECIFIC:
        found = pattern.search(text)
        if found:
            return found.group(0)
    generic = _GENERIC.search(text)
    if generic and any(name in text for name in sent):
        return generic.group(0)
    return None


def new_operator_error(
    answer: ResponseRecord, baselines: list[ResponseRecord], sent: tuple[str, ...] = ()
) -> str | None:
    """An operator error in `answer` that no baseline answer carries."""
    found = operator_error(answer.text(), sent)
    if found is None:
        return None
    for base in baselines:
        if operator_error(base.text(), sent) is not None:
            return None
    return found


def grouped(notes: list[tuple[str, str]]) -> str:
    """Sub-test notes as one line, sub-tests with the same outcome together:
    "$ne/$eq, $gt/$lt: match-everything refused (HTTP 422); ..."."""
    outcomes: dict[str, list[str]] = {}
    for name, outcome in notes:
        outcomes.setdefault(outcome, []).append(name)
    return "; ".join(f"{', '.join(names)}: {outcome}" for outcome, names in outcomes.items())
