"""Pure judges of the nosql family's operator errors: messages a MongoDB-style store gives only
when it reads a key as a query operator, told apart from a validator that refuses operators.

"unknown operator: $x" counts only when it names the scan's made-up operator and the known
operators sent got no error of the same kind; a message calling a known operator unknown comes
from a layer in front of the store. Casting and storage errors show an object refused, never
evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from probe.exchange import ResponseRecord
from probe.probes.injection_nosql_judges import KNOWN_OPERATORS

# "unknown operator: $x" as MongoDB words it; the store says so only of operators it does not
# know, so naming a known one shows a layer that refuses operators.
_UNKNOWN = re.compile(r"unknown (?:top level )?operator:? ?(\$[\w.]*)", re.IGNORECASE)
# Other messages a MongoDB-style store gives only when it reads a key as a query operator.
# Storage or casting errors ("Cast to string failed", "$-prefixed field not valid for storage")
# are left out: they show an object refused, not evaluated.
_SPECIFIC = (
    re.compile(r"\$regex has to be a string", re.IGNORECASE),
    re.compile(r"\$(?:in|nin|all) needs an array", re.IGNORECASE),
    re.compile(r"Can't use \$\w+ with \w+"),
)
# Names of a driver's error that appear for many reasons: they count only beside the name of
# an operator that was sent.
_GENERIC = re.compile(r"\bBadValue\b|\bMongo(?:Server)?Error\b|\bOperationFailure\b")


@dataclass(frozen=True)
class OperatorError:
    """An operator error message found in an answer.

    Attributes:
        kind: "unknown" (an unknown operator), "generic" (a driver's error name beside a sent
            operator) or "specific" (another message only operators cause).
        message: The message as found.
        operator: The operator an "unknown" message names.
    """

    kind: str
    message: str
    operator: str = ""


def find_operator_error(text: str, sent: tuple[str, ...] = ()) -> OperatorError | None:
    """The first operator error in `text`, of any kind; a generic driver error counts only
    when the text also names one of the operators in `sent`."""
    unknown = _UNKNOWN.search(text)
    if unknown:
        return OperatorError("unknown", unknown.group(0), unknown.group(1))
    for pattern in _SPECIFIC:
        found = pattern.search(text)
        if found:
            return OperatorError("specific", found.group(0))
    generic = _GENERIC.search(text)
    if generic and any(name in text for name in sent):
        return OperatorError("generic", generic.group(0))
    return None


def operator_error(text: str, sent: tuple[str, ...] = ()) -> str | None:
    """The operator error message in `text`, or None. An "unknown operator" message naming an
    operator MongoDB knows never counts: a validator refusing operators wrote it."""
    found = find_operator_error(text, sent)
    if found is None or (found.kind == "unknown" and found.operator in KNOWN_OPERATORS):
        return None
    return found.message


def new_operator_error(
    answer: ResponseRecord, baselines: list[ResponseRecord], sent: tuple[str, ...] = ()
) -> str | None:
    """An operator error in `answer` that no baseline answer carries."""
    found = operator_error(answer.text(), sent)
    if found is None:
        return None
    for base in baselines:
        if find_operator_error(base.text(), sent) is not None:
            return None
    return found


def refusal_kinds(known_answers: list[tuple[ResponseRecord, str]]) -> set[str]:
    """The kinds of operator error that answers to known operators (answer, operator name)
    carry: a kind found there is how a layer in front of the store refuses every operator."""
    kinds: set[str] = set()
    for answer, name in known_answers:
        found = find_operator_error(answer.text(), (name,))
        if found is not None:
            kinds.add(found.kind)
    return kinds


def known_operator_error(answer: ResponseRecord, baselines: list[ResponseRecord]) -> str | None:
    """An operator error that counts in the answer to a known operator: only a message the
    store gives for an operand it cannot use ("$regex has to be a string"). An unknown
    operator or a driver's error name there comes from a layer refusing operators (the
    operands sent never make MongoDB fail)."""
    found = find_operator_error(answer.text())
    if found is None or found.kind != "specific":
        return None
    return new_operator_error(answer, baselines)


def marker_error(
    answer: ResponseRecord,
    marker: str,
    baselines: list[ResponseRecord],
    refused: set[str],
) -> str | None:
    """The operator error that the scan's made-up operator `marker` gets, when it counts: it
    is new to the baselines, an "unknown operator" message names `marker` itself, and the
    answers to known operators carried no error of its kind (`refused`, see
    `refusal_kinds`): a validator refusing every operator says the same of all of them."""
    found = find_operator_error(answer.text(), (marker,))
    if found is None or found.kind in refused:
        return None
    if found.kind == "unknown" and found.operator != marker:
        return None
    return new_operator_error(answer, baselines, (marker,))
