"""Pure judges of the nosql family: operator pairs and their verdict (operator error messages
are judged in `injection_nosql_errors`).

An operator pair is a match-everything operator and a match-nothing twin of the same shape and
the same value (`{"$ne": r}` and `{"$eq": r}`, `{"$gt": ""}` and `{"$lt": ""}`): a server that
does not read the key as an operator (it rejects objects, stringifies them, drops them, or
reflects them) treats both alike, so only operator evaluation tells them apart. The pair
counts when the match-everything answer is a success (the unmodified answer, data where a
harmless random value gets none, or a higher count) and the match-nothing answer is the
harmless value's answer.

Answers are judged without what they echo of the request (`Echo`): an API that repeats its
filter (`{"filter": {"name": {"$ne": r}}, "results": []}`) would otherwise always seem to hold
data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from probe.compare import Reference, blank_text, flatten, holds_data, is_refusal
from probe.exchange import ResponseRecord

#: A number below every plausible numeric value: `$gt` it matches all numbers, `$lt` none.
NUMERIC_FLOOR = -(10**15)
_KNOWN_NAMES = (
    "eq ne gt gte lt lte in nin regex options exists type not and or nor all elemMatch size mod "
    "text search where expr jsonSchema geoWithin geoIntersects near nearSphere bitsAllSet "
    "bitsAnySet bitsAllClear bitsAnyClear comment"
)
#: Query operators MongoDB knows. The store never calls one of them unknown: such a message
#: comes from a layer in front of it that refuses operators.
KNOWN_OPERATORS = frozenset("$" + name for name in _KNOWN_NAMES.split())


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

    @property
    def known(self) -> bool:
        """True for an operator MongoDB knows (not the scan's made-up one)."""
        return self.name in KNOWN_OPERATORS

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


# -- what an answer echoes of the request ---------------------------------------------------------


@dataclass(frozen=True)
class Echo:
    """What the family sent that an answer may repeat, and how to leave it out of a JSON answer.

    Attributes:
        marker: The scan's marker: a string holding it is an echo.
        values: Values sent (the harmless value, operands): a leaf equal to one is an echo.
        operators: Operator names sent: a key holding one holds an echoed operator object,
            a text holding one is an operator object turned into text.
    """

    marker: str = ""
    values: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()

    def strip(self, response: ResponseRecord) -> ResponseRecord:
        """The answer with echoed leaves left out of its JSON (the answer itself when it is not
        JSON or echoes nothing)."""
        data = _json(response.body)
        if data is None:
            return response
        kept, dropped = self._walk(data, 0)
        if not dropped:
            return response
        return replace(response, body=json.dumps(kept).encode())

    def _echoed(self, value: Any) -> bool:
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, str) and self._holds_sent(value):
            return True
        return isinstance(value, str | int | float) and str(value) in self.values

    def _holds_sent(self, text: str) -> bool:
        """True for a text holding the marker or an operator's name (`"{'$ne': 'x'}"`)."""
        if self.marker and self.marker in text:
            return True
        return any(name in text for name in self.operators)

    def _key_echoed(self, key: str) -> bool:
        return self._holds_sent(key)

    def _walk(self, item: Any, depth: int) -> tuple[Any, bool]:
        if depth > 12:
            return item, False
        if isinstance(item, dict):
            out: dict[str, Any] = {}
            dropped = False
            for key, child in item.items():
                kept, inner = self._walk(child, depth + 1)
                # An object or list that held only echoes goes with them.
                if self._key_echoed(str(key)) or self._echoed(child) or (inner and not kept):
                    dropped = True
                    continue
                out[key] = kept
                dropped = dropped or inner
            return out, dropped
        if isinstance(item, list):
            items: list[Any] = []
            dropped = False
            for child in item:
                kept, inner = self._walk(child, depth + 1)
                if self._echoed(child) or (inner and not kept):
                    dropped = True
                    continue
                items.append(kept)
                dropped = dropped or inner
            return items, dropped
        return item, False


def _json(body: bytes) -> Any:
    if not body.strip() or len(body) > 4 * 1024 * 1024:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


# -- counts ---------------------------------------------------------------------------------------

# Keys of a number of matching records (compared in lower case without separators).
_TALLY_KEYS = frozenset(
    {"count", "total", "totalcount", "totalitems", "totalresults", "numfound", "hits", "matches"}
)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def tallies(response: ResponseRecord) -> dict[str, float]:
    """The counts a JSON answer gives (`{"count": 3}` -> `{"count": 3}`), by path."""
    data = _json(response.body)
    if data is None:
        return {}
    return {
        path: value
        for path, value in flatten(data).items()
        if _key(path.rsplit(".", 1)[-1]) in _TALLY_KEYS
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    }


def count_rises(answer: ResponseRecord, harmless: ResponseRecord) -> tuple[float, float] | None:
    """The first count that is higher in `answer` than in the harmless value's answer, as
    (harmless's, answer's); None when no count rises."""
    if answer.status // 100 != 2 or harmless.status // 100 != 2:
        return None
    before = tallies(harmless)
    for path, value in tallies(answer).items():
        if path in before and value > before[path]:
            return before[path], value
    return None


def same_counts(answer: ResponseRecord, harmless: ResponseRecord) -> bool:
    """False when a count both answers give differs."""
    before = tallies(harmless)
    return all(before[p] == v for p, v in tallies(answer).items() if p in before)


# -- the pair's verdict ---------------------------------------------------------------------------


def _status(response: ResponseRecord) -> str:
    """The status, saying why a 2xx is a refusal ("HTTP 200 with an error body")."""
    if response.status // 100 != 2 or not is_refusal(response):
        return f"HTTP {response.status}"
    body = response.body.strip()
    empty = not body or body in (b"{}", b"[]", b"null", b'""')
    return f"HTTP {response.status} with {'an empty' if empty else 'an error'} body"


def everything_fails(
    answer: ResponseRecord,
    reference: Reference,
    harmless: ResponseRecord,
    echo: Echo | None = None,
) -> str:
    """Why a match-everything answer is no success ("" when it is one).

    A success is the unmodified answer again, an answer holding data where the harmless
    random value got a refusal or nothing to read (a lookup that now returns records), or a
    higher count than the harmless value's. Echoed parts of the answers are left out.
    """
    if is_refusal(answer):
        return f"match-everything refused ({_status(answer)})"
    echo = echo or Echo()
    bare, bare_harmless = echo.strip(answer), echo.strip(harmless)
    if reference.matches(answer) or reference.matches(bare):
        return ""
    if holds_data(bare) and (is_refusal(harmless) or not holds_data(bare_harmless)):
        return ""
    if count_rises(bare, bare_harmless) is not None:
        return ""
    return (
        f"match-everything answer ({_status(answer)}) is neither the unmodified answer nor new data"
    )


def success_kind(
    answer: ResponseRecord,
    reference: Reference,
    harmless: ResponseRecord,
    echo: Echo | None = None,
) -> str:
    """How a match-everything success looks, for a finding's detail."""
    echo = echo or Echo()
    bare = echo.strip(answer)
    if reference.matches(answer) or reference.matches(bare):
        return f"the unmodified value's answer ({_status(answer)})"
    bare_harmless = echo.strip(harmless)
    if holds_data(bare) and (is_refusal(harmless) or not holds_data(bare_harmless)):
        if is_refusal(harmless) and reference.status // 100 != 2:
            return (
                f"data ({_status(answer)}) where the unmodified and the harmless values are "
                f"both refused (HTTP {harmless.status})"
            )
        return f"data ({_status(answer)}) where the harmless value gets none"
    rise = count_rises(bare, bare_harmless)
    if rise is not None:
        return f"a higher count ({rise[1]:g} against the harmless value's {rise[0]:g})"
    return f"an answer ({_status(answer)})"


def like_harmless(
    answer: ResponseRecord, harmless: ResponseRecord, echo: Echo | None = None
) -> bool:
    """True when `answer` is what the harmless random value got: the same status and the same
    body, or both refusals, or both without anything to read (and the same counts)."""
    if answer.status != harmless.status:
        return False
    if is_refusal(answer) and is_refusal(harmless):
        return True
    echo = echo or Echo()
    bare, bare_harmless = echo.strip(answer), echo.strip(harmless)
    if not same_counts(bare, bare_harmless):
        return False
    if Reference.learn(bare_harmless).matches(bare):
        return True
    return not holds_data(bare) and not holds_data(bare_harmless)


def separation(
    everything: ResponseRecord,
    nothing: ResponseRecord,
    reference: Reference,
    harmless: ResponseRecord,
    echo: Echo | None = None,
) -> str:
    """Why a pair's answers prove nothing ("" when they prove operator evaluation)."""
    why = everything_fails(everything, reference, harmless, echo)
    if why:
        return why
    if not like_harmless(nothing, harmless, echo):
        return f"match-nothing answer ({_status(nothing)}) is not the harmless value's answer"
    echo = echo or Echo()
    if Reference.learn(echo.strip(everything)).matches(echo.strip(nothing)):
        return "both operators got the same answer"
    return ""


# -- the request without the parameter ------------------------------------------------------------


def _facts(response: ResponseRecord) -> tuple[set[tuple[str, str]], dict[str, float]] | None:
    """An answer's leaves as (path without list indexes, blanked value), and its counts;
    None for an answer that is not JSON."""
    data = _json(response.body)
    if data is None:
        return None
    facts: set[tuple[str, str]] = set()
    for path, value in flatten(data).items():
        if _key(path.rsplit(".", 1)[-1]) in _TALLY_KEYS:
            continue
        shape = ".".join(p for p in path.split(".") if not p.isdigit())
        text = value if isinstance(value, str) else json.dumps(value)
        facts.add((shape, blank_text(text.encode())))
    return facts, tallies(response)


def nothing_beyond(answer: ResponseRecord, unfiltered: ResponseRecord, echo: Echo) -> bool:
    """True when the match-everything `answer` shows nothing the endpoint's request without the
    parameter (`unfiltered`, a 2xx holding data or a count above zero) does not show: its JSON
    leaves are among the unfiltered answer's and its counts no higher (its lines, for text)."""
    if unfiltered.status // 100 != 2 or is_refusal(unfiltered):
        return False
    if not holds_data(unfiltered) and not any(tallies(unfiltered).values()):
        return False
    bare = echo.strip(answer)
    mine, theirs = _facts(bare), _facts(unfiltered)
    if mine is None or theirs is None:
        if (mine is None) != (theirs is None):
            return False
        return set(_lines(bare)) <= set(_lines(unfiltered))
    (facts, counts), (known, most) = mine, theirs
    within = all(p in most and v <= most[p] for p, v in counts.items())
    return facts <= known and within


def _lines(response: ResponseRecord) -> Iterable[str]:
    return blank_text(response.body).splitlines()


def grouped(notes: list[tuple[str, str]]) -> str:
    """Sub-test notes as one line, sub-tests with the same outcome together:
    "$ne/$eq, $gt/$lt: match-everything refused (HTTP 422); ..."."""
    outcomes: dict[str, list[str]] = {}
    for name, outcome in notes:
        outcomes.setdefault(outcome, []).append(name)
    return "; ".join(f"{', '.join(names)}: {outcome}" for outcome, names in outcomes.items())
