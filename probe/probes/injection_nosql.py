"""The nosql payload family: query operators in place of a value (MongoDB-style stores).

Where operators travel: as objects in a JSON field (`{"$ne": r}`), in bracket syntax in a
query string or a form (`name[$ne]=r`, which Express, PHP and Rails parse into an object), and
inside a query or form value that is itself a JSON object (`where={"owner": {"$ne": r}}`, as
Eve- or Parse-style APIs read it). A path parameter or a header carries no operator: the
family skips them.

1. Operator pairs (`injection_nosql_judges.operator_pairs`): `$ne`/`$eq` on the harmless
   random value, `$gt`/`$lt` on the lowest value, `$regex` `.*`/`^r$`. A pair counts when the
   match-everything operator gets a success (the unmodified answer, data where the harmless
   value gets none, or a higher count) and its match-nothing twin the harmless value's answer,
   and both do so again on a second sending. What an answer echoes of the request is left out
   first. Needs a stable point whose answer follows its value, or one where the unmodified
   and the harmless values are both refused (a login with a wrong password).
2. For a query or form point, a proven pair is weighed against the request without the
   parameter: when that is a 2xx holding data and the match-everything answer shows nothing
   it does not, no boundary was crossed (operators may be a documented filter feature), and
   the finding is low and tentative.
3. An unknown operator named with the scan's marker (`{"$prb...": r}`, judged in
   `injection_nosql_errors`): counted when the answer
   carries an operator error message ("unknown operator: $prb...") the baselines lack, and the
   known operators sent got no message of that kind (a validator refusing every operator
   would). A message calling a known operator unknown never counts.

Only read operators are sent: never `$where`, `$function`, `$expr`, `$accumulator` (they run
code) nor update operators.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from probe.compare import differing_excerpt, excerpt_around, is_refusal
from probe.exchange import Exchange, RequestSpec, ResponseRecord
from probe.findings import CheckStatus, Confidence, Severity
from probe.probes.injection_attack import Attack, Unusable
from probe.probes.injection_nosql_errors import (
    find_operator_error,
    known_operator_error,
    marker_error,
    refusal_kinds,
)
from probe.probes.injection_nosql_judges import (
    Echo,
    Operator,
    Pair,
    grouped,
    nothing_beyond,
    operator_pairs,
    separation,
    success_kind,
)
from probe.probes.injection_rules import PROBE_ID, RULES

FAMILY = "nosql"
_RULE = next(r for r in RULES if r.id == f"{PROBE_ID}.nosql-injection")
_CARRIERS = ("json", "query", "form")
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class _Carrier:
    """How an operator travels at the point.

    Attributes:
        name: The point's name.
        bracket: In bracket syntax (`name[$ne]=r`), for a query or form value.
        document: The JSON object a query or form value holds, when it holds one.
        key: The field of `document` the operator replaces.
    """

    name: str
    bracket: bool
    document: dict[str, Any] | None = None
    key: str = ""

    def value(self, op: Operator) -> Any:
        """What `with_value` puts at the point."""
        if self.document is not None:
            return json.dumps({**self.document, self.key: op.json()})
        return op.text if self.bracket else op.json()

    def suffix(self, op: Operator) -> str:
        """What the parameter's name gains (`[$ne]` in bracket syntax)."""
        return op.suffix if self.bracket else ""

    def shown(self, op: Operator) -> str:
        """How a detail shows the operator sent."""
        if self.document is not None:
            return f"{self.name}={self.value(op)}"
        return op.shown(self.bracket, self.name)

    def numeric(self, original: Any) -> bool:
        """True when the operand replaces a number (`$gt` the lowest number, no `$regex`)."""
        if self.document is not None:
            original = self.document[self.key]
        elif self.bracket:
            return False
        return isinstance(original, int | float) and not isinstance(original, bool)


def _carrier(attack: Attack) -> _Carrier:
    point = attack.point
    if point.kind == "json":
        return _Carrier(point.name, bracket=False)
    document = _document(point.text)
    if document is None:
        return _Carrier(point.name, bracket=True)
    key = next(k for k, v in document.items() if _scalar(v))
    return _Carrier(point.name, bracket=False, document=document, key=key)


def _document(text: str) -> dict[str, Any] | None:
    """The JSON object a text holds, when it has a field holding a text or a number."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and any(_scalar(v) for v in data.values()):
        return data
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


@dataclass
class _Trial:
    """What the family saw at one point.

    Attributes:
        carrier: How operators travel there.
        harmless: The harmless value's exchange the pairs compare with (None: none).
        echo: What answers may echo of the requests.
        notes: Sub-test notes for the check.
        answers: Every operator's exchange, to search for operator errors.
    """

    carrier: _Carrier
    harmless: Exchange | None
    echo: Echo
    notes: list[tuple[str, str]] = field(default_factory=list)
    answers: list[tuple[Exchange, Operator]] = field(default_factory=list)

    @property
    def harmless_answer(self) -> ResponseRecord:
        """The harmless value's answer (only once the pairs are comparable)."""
        assert self.harmless is not None
        assert self.harmless.response is not None
        return self.harmless.response


async def run(attack: Attack) -> None:
    """Try operator pairs and an unknown operator at the attack's point."""
    if attack.point.kind not in _CARRIERS:
        attack.check(
            FAMILY,
            CheckStatus.skipped,
            "query operators travel only in a JSON field, a query string or a form "
            "(`name[$ne]=`): nothing sent here",
        )
        return
    trial = await _start(attack)
    if await _pairs(attack, trial):
        return
    if await _errors(attack, trial):
        return
    attack.check(FAMILY, CheckStatus.passed, grouped(trial.notes))


async def _start(attack: Attack) -> _Trial:
    """The trial, with the harmless answer the pairs compare with: the point's own, or for a
    JSON object in a query or form value, that object with the harmless value in its field."""
    carrier = _carrier(attack)
    baseline = attack.baseline
    value = baseline.harmless_value
    ops = [op for pair in _pairs_for(attack, carrier) for op in (pair.everything, pair.nothing)]
    operands = {value, *(op.text for op in ops if op.text)}
    echo = Echo(attack.marker, tuple(operands), tuple({op.name for op in ops}))
    harmless: Exchange | None = baseline.harmless
    if carrier.document is not None:
        numeric = carrier.numeric(None) and value.isdigit()
        document = {**carrier.document, carrier.key: int(value) if numeric else value}
        harmless = await attack.send(json.dumps(document), "nosql harmless value in the object")
    elif harmless is baseline.second:
        harmless = None
    return _Trial(carrier, harmless, echo)


# -- operator pairs -------------------------------------------------------------------------------


def _pairs_for(attack: Attack, carrier: _Carrier) -> tuple[Pair, ...]:
    numeric = carrier.numeric(attack.point.original)
    return operator_pairs(attack.baseline.harmless_value, numeric=numeric)


def _comparable(attack: Attack, trial: _Trial) -> str:
    """Why the point's answers cannot be compared ("" when they can)."""
    baseline = attack.baseline
    if not baseline.stable:
        return "not compared (unstable answer)"
    if trial.harmless is None or trial.harmless.response is None:
        return "not compared (no harmless value's answer)"
    harmless = trial.harmless.response
    if baseline.reference.matches(harmless):
        # A login whose scenario holds a wrong password: both refused, and an operator that
        # logs in anyway still shows.
        if is_refusal(baseline.response) and is_refusal(harmless):
            return ""
        return "not compared (the value does not change the answer)"
    return ""


async def _pairs(attack: Attack, trial: _Trial) -> bool:
    """Try each pair; True when one proved operator evaluation (reported)."""
    why = _comparable(attack, trial)
    if why:
        trial.notes.append(("operator pairs", why))
        return False
    for pair in _pairs_for(attack, trial.carrier):
        outcome = await _pair(attack, pair, trial)
        if outcome is not None:
            await _report_pair(attack, pair, outcome, trial)
            return True
    return False


async def _send(attack: Attack, op: Operator, purpose: str, trial: _Trial) -> Exchange | None:
    carrier = trial.carrier
    exchange = await attack.send(carrier.value(op), purpose, suffix=carrier.suffix(op))
    if exchange is not None:
        trial.answers.append((exchange, op))
    return exchange


async def _pair(attack: Attack, pair: Pair, trial: _Trial) -> tuple[Exchange, ...] | None:
    """The pair's four exchanges when it separates twice; None (with a note) otherwise."""
    sent: list[Exchange] = []
    for round_ in (1, 2):
        every = await _send(attack, pair.everything, f"nosql {pair.label} everything", trial)
        none = await _send(attack, pair.nothing, f"nosql {pair.label} nothing", trial)
        if every is None or none is None:
            trial.notes.append((pair.label, "cannot be sent here"))
            return None
        assert every.response is not None
        assert none.response is not None
        reference = attack.baseline.reference
        why = separation(
            every.response, none.response, reference, trial.harmless_answer, trial.echo
        )
        if why:
            again = " on the second sending" if round_ == 2 else ""
            trial.notes.append((pair.label, why + again))
            return None
        sent += [every, none]
    return tuple(sent)


async def _report_pair(
    attack: Attack, pair: Pair, sent: tuple[Exchange, ...], trial: _Trial
) -> None:
    every, none = sent[0], sent[1]
    carrier = trial.carrier
    shown_every = carrier.shown(pair.everything)
    assert every.response is not None
    assert none.response is not None
    harmless = trial.harmless_answer
    success = success_kind(every.response, attack.baseline.reference, harmless, trial.echo)
    detail = (
        f"the match-everything operator `{shown_every}` gets {success}, "
        f"and the match-nothing `{carrier.shown(pair.nothing)}` the harmless "
        f"random value's answer (HTTP {none.response.status}), twice each: the value reaches "
        f"the query as an operator"
    )
    assert trial.harmless is not None
    more = [none, trial.harmless, *sent[2:]]
    roles = ["match-nothing twin", "harmless value", "match-everything again", "twin again"]
    unfiltered = await _unfiltered(attack)
    bounded = unfiltered is not None and _crosses_nothing(every, unfiltered, trial.echo)
    if unfiltered is not None and bounded:
        more.append(unfiltered)
        roles.append("request without the parameter")
        detail += _NO_BOUNDARY
    attack.found(
        _RULE,
        detail,
        every,
        payload=shown_every,
        more=more,
        roles=roles,
        excerpt=_excerpt(every.response, none.response, trial.echo),
        severity=Severity.low if bounded else None,
        confidence=Confidence.tentative if bounded else Confidence.firm,
    )
    weighed = " (no boundary crossed: reported low, tentative)" if bounded else ""
    attack.check(FAMILY, CheckStatus.failed, f"{pair.label}: operators evaluated (twice){weighed}")


_NO_BOUNDARY = (
    "; but the match-everything answer shows nothing the endpoint does not show without the "
    "parameter: operators may be a documented filter feature here, and no access boundary "
    "was crossed (low, tentative)"
)


def _excerpt(every: ResponseRecord, none: ResponseRecord, echo: Echo) -> str:
    """Where the two answers differ, echoes aside, each side named."""
    shown = differing_excerpt(echo.strip(every), echo.strip(none))
    return f"match-everything answer | match-nothing answer: {shown}"


# -- the request without the parameter ------------------------------------------------------------


def _unfiltered_spec(attack: Attack) -> RequestSpec | None:
    """The endpoint's request without the point's parameter (query and form points only)."""
    endpoint, point = attack.endpoint, attack.point
    if point.kind == "query":
        query = {k: v for k, v in endpoint.query.items() if k != point.name}
        return attack.ctx.endpoint_request(endpoint, query=query)
    if point.kind == "form":
        items = [(k, v) for k, v in (endpoint.form or {}).items() if k != point.name]
        body = urlencode(items, doseq=True).encode()
        return attack.ctx.endpoint_request(endpoint, content=body, content_type=_FORM)
    return None


async def _unfiltered(attack: Attack) -> Exchange | None:
    """The answer to the request without the parameter; None when there is none to weigh."""
    spec = _unfiltered_spec(attack)
    if spec is None:
        return None
    try:
        return await attack.send_spec(spec, "nosql request without the parameter")
    except Unusable:
        return None  # nothing to weigh against: the finding keeps its severity


def _crosses_nothing(every: Exchange, unfiltered: Exchange, echo: Echo) -> bool:
    assert every.response is not None
    assert unfiltered.response is not None
    return nothing_beyond(every.response, unfiltered.response, echo)


# -- operator errors ------------------------------------------------------------------------------


async def _errors(attack: Attack, trial: _Trial) -> bool:
    """Send an unknown operator (and a known one when no pair was sent) and search every
    answer for an operator error that counts."""
    value = attack.baseline.harmless_value
    if not any(op.known for _, op in trial.answers):
        await _send(attack, Operator("$ne", value), "nosql known operator", trial)
    marker = Operator("$" + attack.token(), value)
    exchange = await _send(attack, marker, "nosql unknown operator", trial)
    if exchange is None:
        trial.notes.append(("unknown operator", "cannot be sent here"))
    baselines = attack.baseline.responses()
    if trial.harmless is not None and trial.harmless.response is not None:
        baselines.append(trial.harmless.response)
    known = [(e.response, op.name) for e, op in trial.answers if op.known and e.response]
    refused = refusal_kinds(known)
    for sent, op in trial.answers:
        assert sent.response is not None
        if op.known:
            error = known_operator_error(sent.response, baselines)
        else:
            error = marker_error(sent.response, op.name, baselines, refused)
        if error is not None:
            _report_error(attack, sent, trial.carrier.shown(op), error)
            return True
    if exchange is not None:
        note = _no_error(exchange, marker.name, known, refused)
        trial.notes.append(("unknown operator", note))
    return False


def _no_error(
    exchange: Exchange, name: str, known: list[tuple[ResponseRecord, str]], refused: set[str]
) -> str:
    """The note for an unknown operator (`name`) whose answer does not count."""
    answer = exchange.response
    found = None if answer is None else find_operator_error(answer.text(), (name,))
    if found is not None and found.kind in refused:
        named = next(
            (e for r, n in known if (e := find_operator_error(r.text(), (n,))) is not None),
            None,
        )
        shown = f" ({named.message!r})" if named is not None else ""
        return (
            f"{found.message!r}, but the known operators get the same kind of error{shown}: "
            f"a layer in front of the store refuses every operator (not counted)"
        )
    return f"no operator error ({_status(exchange)})"


def _status(exchange: Exchange) -> str:
    return "no answer" if exchange.response is None else f"HTTP {exchange.response.status}"


def _report_error(attack: Attack, exchange: Exchange, shown: str, error: str) -> None:
    detail = (
        f"`{shown}` gets the operator error {error!r} ({_status(exchange)}), which no "
        f"baseline answer carries: the value reaches a MongoDB-style query as an operator"
    )
    assert exchange.response is not None
    attack.found(
        _RULE,
        detail,
        exchange,
        payload=shown,
        excerpt=excerpt_around(exchange.response.text(), error),
        key="error",
    )
    attack.check(FAMILY, CheckStatus.failed, f"operator error {error!r} for `{shown}`")
