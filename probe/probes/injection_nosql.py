"""The nosql payload family: query operators in place of a value (MongoDB-style stores).

Where operators travel: as objects in a JSON field (`{"$ne": r}`), and in bracket syntax in a
query string or a form (`name[$ne]=r`, which Express, PHP and Rails parse into an object).
A path parameter or a header carries no operator: the family skips them.

1. Operator pairs (`injection_nosql_judges.operator_pairs`): `$ne`/`$eq` on the harmless
   random value, `$gt`/`$lt` on the lowest value, `$regex` `.*`/`^r$`. A pair counts when the
   match-everything operator gets a success (the unmodified answer, or data where the harmless
   value gets none) and its match-nothing twin the harmless value's answer, and both do so
   again on a second sending. Needs a stable point whose answer follows its value.
2. An unknown operator named with the scan's marker (`{"$prb...": r}`): counted when the answer
   carries an operator error message ("unknown operator: $prb...") the baselines lack. Every
   other answer of the family is searched for such messages too.

Only read operators are sent: never `$where`, `$function`, `$expr`, `$accumulator` (they run
code) nor update operators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from probe.compare import differing_excerpt, excerpt_around
from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes.injection_attack import Attack
from probe.probes.injection_nosql_judges import (
    Operator,
    Pair,
    grouped,
    new_operator_error,
    operator_pairs,
    separation,
    success_kind,
)
from probe.probes.injection_rules import PROBE_ID, RULES

FAMILY = "nosql"
_RULE = next(r for r in RULES if r.id == f"{PROBE_ID}.nosql-injection")
_CARRIERS = ("json", "query", "form")


@dataclass
class _Trial:
    """What the family saw at one point: notes for the check, answers to search for errors."""

    notes: list[tuple[str, str]] = field(default_factory=list)
    answers: list[tuple[Exchange, str]] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)


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
    trial = _Trial()
    if await _pairs(attack, trial):
        return
    if await _unknown_operator(attack, trial):
        return
    attack.check(FAMILY, CheckStatus.passed, grouped(trial.notes))


# -- operator pairs -------------------------------------------------------------------------------


def _pairs_for(attack: Attack) -> tuple[Pair, ...]:
    original = attack.point.original
    numeric = (
        attack.point.kind == "json"
        and isinstance(original, int | float)
        and not isinstance(original, bool)
    )
    return operator_pairs(attack.baseline.harmless_value, numeric=numeric)


def _comparable(attack: Attack) -> str:
    """Why the point's answers cannot be compared ("" when they can)."""
    baseline = attack.baseline
    if not baseline.stable:
        return "not compared (unstable answer)"
    if baseline.harmless is baseline.second:
        return "not compared (no harmless value's answer)"
    if baseline.ignores_input:
        return "not compared (the value does not change the answer)"
    return ""


async def _pairs(attack: Attack, trial: _Trial) -> bool:
    """Try each pair; True when one proved operator evaluation (reported)."""
    why = _comparable(attack)
    if why:
        trial.notes.append(("operator pairs", why))
        return False
    for pair in _pairs_for(attack):
        outcome = await _pair(attack, pair, trial)
        if outcome is not None:
            _report_pair(attack, pair, outcome)
            return True
    return False


async def _send(attack: Attack, op: Operator, purpose: str, trial: _Trial) -> Exchange | None:
    bracket = attack.point.kind != "json"
    value = op.text if bracket else op.json()
    exchange = await attack.send(value, purpose, suffix=op.suffix if bracket else "")
    if exchange is not None:
        shown = op.shown(bracket, attack.point.name)
        trial.answers.append((exchange, shown))
        trial.sent.append(op.name)
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
        why = _separation(attack, every, none)
        if why:
            again = " on the second sending" if round_ == 2 else ""
            trial.notes.append((pair.label, why + again))
            return None
        sent += [every, none]
    return tuple(sent)


def _separation(attack: Attack, every: Exchange, none: Exchange) -> str:
    assert every.response is not None
    assert none.response is not None
    baseline = attack.baseline
    harmless = baseline.harmless.response
    assert harmless is not None
    return separation(every.response, none.response, baseline.reference, harmless)


def _report_pair(attack: Attack, pair: Pair, sent: tuple[Exchange, ...]) -> None:
    every, none = sent[0], sent[1]
    bracket = attack.point.kind != "json"
    name = attack.point.name
    shown_every = pair.everything.shown(bracket, name)
    shown_none = pair.nothing.shown(bracket, name)
    assert every.response is not None
    assert none.response is not None
    success = success_kind(every.response, attack.baseline.reference)
    detail = (
        f"the match-everything operator `{shown_every}` gets {success}, "
        f"and the match-nothing `{shown_none}` the harmless "
        f"random value's answer (HTTP {none.response.status}), twice each: the value reaches "
        f"the query as an operator"
    )
    attack.found(
        _RULE,
        detail,
        every,
        payload=shown_every,
        more=(none, attack.baseline.harmless, *sent[2:]),
        roles=("match-nothing twin", "harmless value", "match-everything again", "twin again"),
        excerpt=differing_excerpt(every.response, none.response),
    )
    attack.check(FAMILY, CheckStatus.failed, f"{pair.label}: operators evaluated (twice)")


# -- operator errors ------------------------------------------------------------------------------


async def _unknown_operator(attack: Attack, trial: _Trial) -> bool:
    """Send an unknown operator and search every answer for an operator error."""
    op = Operator("$" + attack.token(), attack.baseline.harmless_value)
    exchange = await _send(attack, op, "nosql unknown operator", trial)
    if exchange is None:
        trial.notes.append(("unknown operator", "cannot be sent here"))
    baselines = attack.baseline.responses()
    for sent, shown in trial.answers:
        assert sent.response is not None
        error = new_operator_error(sent.response, baselines, tuple(trial.sent))
        if error is not None:
            _report_error(attack, sent, shown, error)
            return True
    if exchange is not None:
        trial.notes.append(("unknown operator", f"no operator error ({_status(exchange)})"))
    return False


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
