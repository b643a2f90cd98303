"""The SQL family of the injection probe: error-based, boolean and time-based proofs.

Per point, three sub-tests in order; the first that proves ends the family (one finding per
point, whatever proved it). Payloads and judges are in `injection_sql_judges`.

1. Error-based: a single quote, a double quote, a closing bracket (numeric originals) and a
   backslash, each after the original value. When an answer shows a database error of an
   engine the baselines do not show, the breaking value is sent again and its balanced twin
   once: the error must come back, and the twin must raise none.
2. Boolean (a stable baseline whose answer follows the input): true and false conditions in
   numeric, arithmetic and string forms. The true one must give the unmodified answer and
   the false one another answer, each twice. A form whose true condition already answers
   otherwise (a validator refusing quotes, a parameterized query finding nothing) costs one
   request.
3. Time-based (only with `time_based`): each engine's sleep through
   `injection_timing.prove_delay`, which needs the delay to follow two requested levels
   against zero-delay controls; only a proven delay is reported.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from probe.compare import differing_excerpt
from probe.exchange import Exchange, ResponseRecord
from probe.findings import CheckStatus, Confidence
from probe.probes import injection_sql_judges as judges
from probe.probes.injection_attack import Attack, Unusable
from probe.probes.injection_rules import PROBE_ID, RULES
from probe.probes.injection_sql_judges import Condition, ErrorPair, Sleeper
from probe.probes.injection_timing import DelayProof, prove_delay
from probe.probes.signatures import Match

FAMILY = "sql"
#: The rule every proof of this family reports.
RULE = next(r for r in RULES if r.id == f"{PROBE_ID}.sql-injection")
# Characters of a matched error line or a payload quoted in a detail.
_QUOTE_CHARS = 120


@dataclass(frozen=True)
class Step:
    """What one sub-test found out.

    Attributes:
        proven: It reported a finding.
        note: One clause for the check's detail.
    """

    proven: bool
    note: str


async def run(attack: Attack) -> None:
    """Try error-based, boolean and time-based payloads at the point; one check `sql`."""
    steps: tuple[tuple[str, Callable[[Attack], Awaitable[Step]]], ...] = (
        ("error-based", _error_based),
        ("boolean", _boolean),
        ("time-based", _time_based),
    )
    notes: list[str] = []
    proven = failed = False
    for name, step in steps:
        if proven:
            notes.append(f"{name}: not needed")
            continue
        try:
            outcome = await step(attack)
        except Unusable as exc:
            failed = True
            notes.append(f"{name}: {exc}")
            continue
        proven = outcome.proven
        notes.append(f"{name}: {outcome.note}")
    status = CheckStatus.failed if proven else CheckStatus.error if failed else CheckStatus.passed
    attack.check(FAMILY, status, "; ".join(notes))


# -- error-based --------------------------------------------------------------------------------


async def _error_based(attack: Attack) -> Step:
    point = attack.point
    pairs = judges.error_pairs(point.text, attack.token(2), _number())
    baselines = attack.baseline.responses()
    unconfirmed: list[str] = []
    for pair in pairs:
        first = await _answer(attack, pair.breaking, f"sql error: {pair.name}")
        if first is None or not judges.new_errors(_response(first), baselines):
            continue
        again = await _answer(attack, pair.breaking, f"sql error: {pair.name} again")
        twin = await _answer(attack, pair.balanced, f"sql error: {pair.name} balanced")
        if again is None or twin is None:
            continue
        match = judges.confirmed_error(
            _response(first), _response(again), _response(twin), baselines
        )
        if match is None:
            unconfirmed.append(pair.name)
            continue
        _report_error(attack, pair, first, twin, match)
        return Step(
            True, f"{pair.name} got a database error twice ({match.label}), its balanced twin none"
        )
    note = f"no new database error for {_join([p.name for p in pairs])}"
    if unconfirmed:
        note = (
            f"{_join(unconfirmed)} got a database error, but its repeat did not or its "
            "balanced twin did too: no broken query is proven"
        )
    return Step(False, note)


def _report_error(
    attack: Attack,
    pair: ErrorPair,
    first: Exchange,
    twin: Exchange,
    match: Match,
) -> None:
    detail = (
        f"{pair.name} (`{_cut(pair.breaking)}`) got a database error twice ({match.label}: "
        f"`{_cut(match.key)}`); no baseline answer shows this engine's messages, and the "
        f"balanced value `{_cut(pair.balanced)}` got no database error"
    )
    attack.found(
        RULE,
        detail,
        first,
        payload=pair.breaking,
        confidence=Confidence.firm,
        more=(twin,),
        roles=("balanced twin",),
        excerpt=match.excerpt,
    )


# -- boolean ------------------------------------------------------------------------------------


async def _boolean(attack: Attack) -> Step:
    baseline = attack.baseline
    if not baseline.stable:
        return Step(False, "not tried (the unmodified answer is not stable)")
    if baseline.ignores_input:
        return Step(False, "not tried (a random value gets the unmodified answer)")
    reasons: list[str] = []
    for condition in judges.conditions(attack.point.text, _number()):
        proof = await _condition(attack, condition)
        if isinstance(proof, str):
            reasons.append(f"{condition.name}: {proof}")
            continue
        _report_boolean(attack, condition, *proof)
        return Step(
            True,
            f"the {condition.name} form's true condition gave the unmodified answer twice "
            "and its false condition another answer twice",
        )
    return Step(False, "; ".join(reasons) or "no form fits the value")


async def _condition(attack: Attack, condition: Condition) -> tuple[Exchange, Exchange] | str:
    """The first true and false exchanges when the pair proves, else why not."""
    reference = attack.baseline.reference
    purpose = f"sql {condition.name}"
    true = await _answer(attack, condition.true, f"{purpose} true")
    if true is None:
        return "the value cannot be sent here"
    verdict = judges.judge_true(reference, _response(true))
    if not verdict.proven:
        return verdict.reason
    false = await _answer(attack, condition.false, f"{purpose} false")
    if false is None:
        return "the value cannot be sent here"
    verdict = judges.judge_false(reference, _response(false))
    if not verdict.proven:
        return verdict.reason
    true_again = await _answer(attack, condition.true, f"{purpose} true again")
    false_again = await _answer(attack, condition.false, f"{purpose} false again")
    if true_again is None or false_again is None:
        return "the value cannot be sent here"
    verdict = judges.judge_boolean(
        reference,
        [_response(true), _response(true_again)],
        [_response(false), _response(false_again)],
    )
    return (true, false) if verdict.proven else verdict.reason


def _report_boolean(attack: Attack, condition: Condition, true: Exchange, false: Exchange) -> None:
    base = attack.baseline.response
    detail = (
        f"the true condition `{_cut(condition.true)}` gave the unmodified answer and the false "
        f"condition `{_cut(condition.false)}` another one ({_status(false)}), each twice: "
        f"the database evaluates the value as SQL ({condition.name} form)"
    )
    difference = differing_excerpt(_response(false), base)
    attack.found(
        RULE,
        detail,
        true,
        payload=condition.true,
        confidence=Confidence.firm,
        more=(false,),
        roles=("false condition",),
        excerpt=f"same as the baseline; the false condition's answer differs: {difference}",
    )


# -- time-based ---------------------------------------------------------------------------------


async def _time_based(attack: Attack) -> Step:
    if not attack.config.time_based:
        return Step(False, "off (`time_based` is false)")
    doubts: list[str] = []
    for sleeper in judges.sleepers(attack.point.text, attack.token(2), _number()):
        proof = await prove_delay(attack, sleeper.payload, label=sleeper.label)
        if proof.verdict == "proven" and proof.exchanges:
            _report_delay(attack, sleeper, proof)
            return Step(True, f"{sleeper.label}: {proof.detail}")
        if proof.verdict == "tentative" or (proof.verdict == "none" and len(proof.exchanges) > 1):
            # Waited as asked but longer than allowed, or a slow screen the proof did not
            # bear out: worth a line, not a finding.
            doubts.append(f"{sleeper.label}: {proof.detail}")
        elif proof.verdict == "skipped" and proof.detail not in doubts:
            doubts.append(proof.detail)
    engines = _join(list(judges.SLEEP_ENGINES))
    note = f"no sleep of {engines} followed the requested delays"
    return Step(False, "; ".join([note, *doubts]))


def _report_delay(attack: Attack, sleeper: Sleeper, proof: DelayProof) -> None:
    top = max(attack.config.delays)
    exchanges = proof.exchanges
    attack.found(
        RULE,
        f"{sleeper.label}: {proof.detail}",
        exchanges[0],
        payload=sleeper.payload(top),
        confidence=Confidence.firm,
        more=exchanges[1:],
        roles=proof.roles[1:],
        # The answer's body is the usual one; its time is what proves (see the notes).
        excerpt=_response(exchanges[0]).text(_QUOTE_CHARS),
    )


# -- helpers ------------------------------------------------------------------------------------


async def _answer(attack: Attack, value: str, purpose: str) -> Exchange | None:
    """The exchange for `value` (None when it cannot travel to the point, or got no answer)."""
    exchange = await attack.send(value, purpose)
    return exchange if exchange is not None and exchange.response is not None else None


def _response(exchange: Exchange) -> ResponseRecord:
    assert exchange.response is not None
    return exchange.response


def _number() -> int:
    """A random four-digit number whose successor has four digits too (a true and a false
    condition of the same length: a length check cannot tell them apart)."""
    return 1000 + secrets.randbelow(8999)


def _status(exchange: Exchange) -> str:
    return f"HTTP {_response(exchange).status}"


def _cut(text: str) -> str:
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 3] + "..."


def _join(names: list[str]) -> str:
    """Names joined as in a sentence: "a, b or c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
