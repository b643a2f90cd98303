"""The SQL family of the injection probe: error-based, boolean and time-based proofs.

Per point, three sub-tests in order; the first that proves ends the family (one finding per
point, whatever proved it). Payloads and judges are in `injection_sql_errors` (error-based) and
`injection_sql_judges` (the rest).

1. Error-based: a single quote, a double quote, a closing bracket (numeric originals) and a
   backslash, each after the original value. When an answer shows an SQL syntax message that
   the baselines do not show, the breaking value is sent again and its balanced twin once: the
   message must come back, and the twin must raise no database error. Where the value reads as
   a name and the harmless value already erred (`no such column`), or a quote's twin erred too
   (a name has no valid quoted form), a bracket pair for names follows (`v/*t*/)` beside
   `(v/*t*/)`).
2. Boolean (a stable baseline whose answer follows the input): forms in numeric, subquery
   arithmetic (`(SELECT w)-n`: no calculator evaluates it) and string syntax, and an ORDER BY
   CASE where the value reads as a name and the harmless value erred. Each form is a series of
   `PAIRS` true/false pairs with fresh numbers, shapes alternating (`n=n`/`n=m`, `n<m`/`m<n`),
   and three more unmodified requests in between, so that a field that changes by chance (a
   random banner) shows up as volatile. The first true value that answers otherwise ends the
   form (one request on a safe point).
3. Time-based (only with `time_based`): each engine's sleep through
   `injection_timing.prove_delay`, which needs the delay to follow two requested levels
   against zero-delay controls; only a proven delay is reported.

How often chance passes the boolean series: an answer that depends on the value without SQL
(a feature flag by hash of the value, an A/B bucket, a check digit) gives each distinct value
one of its outcomes. With two outcomes hit with probability p and 1-p, a form passes only when
the harmless value drew the other outcome and all 8 true values the unmodified one and all 8
false values the other: (1-p)^9 p^8, at most 7.9e-6 (p = 8/17; 2^-17 = 7.6e-6 for a fair
hash); more outcomes only lower it (the false answers must agree). Over the 4 forms of a
numeric original that is at most 3.2e-5 per point, 1.6e-5 for a text original (2 forms; the
ORDER BY form is added only where the harmless value erred, which a hash page's does not). A
field drawn at random per request (a tip of the day of two) must also repeat in all 5
unmodified answers: at most 2^-20 per form (under 4e-6 per point).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from probe.compare import Reference, differing_excerpt
from probe.exchange import Exchange, ResponseRecord
from probe.findings import CheckStatus, Confidence
from probe.probes import injection_sql_errors as errors
from probe.probes import injection_sql_judges as judges
from probe.probes.injection_attack import Attack, Unusable
from probe.probes.injection_rules import PROBE_ID, RULES
from probe.probes.injection_sql_errors import ErrorPair
from probe.probes.injection_sql_judges import Condition, Sleeper
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
        skipped: It could not run at this point (time-based: allowance, timeout, a slow
            endpoint): the check is `skipped` unless another sub-test proved.
    """

    proven: bool
    note: str
    skipped: bool = False


async def run(attack: Attack) -> None:
    """Try error-based, boolean and time-based payloads at the point; one check `sql`."""
    steps: tuple[tuple[str, Callable[[Attack], Awaitable[Step]]], ...] = (
        ("error-based", _error_based),
        ("boolean", _boolean),
        ("time-based", _time_based),
    )
    notes: list[str] = []
    proven = failed = skipped = False
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
        proven, skipped = outcome.proven, skipped or outcome.skipped
        notes.append(f"{name}: {outcome.note}")
    status = (
        CheckStatus.failed
        if proven
        else CheckStatus.error
        if failed
        else CheckStatus.skipped
        if skipped
        else CheckStatus.passed
    )
    attack.check(FAMILY, status, "; ".join(notes))


# -- error-based --------------------------------------------------------------------------------


@dataclass
class _Seen:
    """What the error pairs met short of a proof, for the check's detail."""

    unconfirmed: list[str] = field(default_factory=list)
    parser: list[tuple[str, str]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)

    def quiet(self, name: str, line: str) -> None:
        """A breaking value's answer had no new syntax message; `line` is any other new
        database error line it had."""
        if line:
            (self.parser if errors.is_parser_error(line) else self.other).append((name, line))

    def note(self, pairs: list[ErrorPair], harmless: str) -> str:
        """The error-based clause of the detail."""
        if self.unconfirmed:
            parts = [
                f"{_join(self.unconfirmed)} got an SQL syntax error, but its repeat did not or "
                "its balanced twin erred too: no broken query is proven"
            ]
        else:
            parts = [f"no SQL syntax error for {_join([p.name for p in pairs])}"]
        if self.parser:
            name, line = self.parser[0]
            parts.append(
                f"{name} got a syntax error of a full-text or JSON-path query parser "
                f"(`{_cut(line)}`): such a parser reads search terms, so its error does not "
                "show the value in SQL"
            )
        if self.other:
            name, line = self.other[0]
            parts.append(
                f"{name} got a database error that is no SQL syntax error (`{_cut(line)}`): "
                "not counted"
            )
        if harmless:
            parts.append(
                f"the harmless value's answer already shows a database error "
                f"(`{_cut(harmless)}`): the value may be a name in the query"
            )
        return "; ".join(parts)


async def _error_based(attack: Attack) -> Step:
    point = attack.point
    token = attack.token(2)
    pairs = errors.error_pairs(point.text, token, _number())
    baseline = attack.baseline
    baselines = baseline.responses()
    seen = _Seen()
    for pair in pairs:
        match = await _error_pair(attack, pair, baselines, seen)
        if match is not None:
            return _error_step(pair, match)
    if judges.is_identifier(point.text) and (seen.unconfirmed or _harmless_erred(attack)):
        pair = errors.name_pair(point.text, token)
        pairs.append(pair)
        match = await _error_pair(attack, pair, baselines, seen)
        if match is not None:
            return _error_step(pair, match)
    return Step(False, seen.note(pairs, _harmless_error(attack)))


async def _error_pair(
    attack: Attack, pair: ErrorPair, baselines: list[ResponseRecord], seen: _Seen
) -> Match | None:
    """Send one pair; report and return the confirmed syntax message, if any."""
    first = await _answer(attack, pair.breaking, f"sql error: {pair.name}")
    if first is None:
        return None
    if not errors.new_errors(_response(first), baselines, pair.mark, pair.token):
        seen.quiet(pair.name, errors.other_error(_response(first), baselines))
        return None
    again = await _answer(attack, pair.breaking, f"sql error: {pair.name} again")
    twin = await _answer(attack, pair.balanced, f"sql error: {pair.name} balanced")
    if again is None or twin is None:
        return None
    match = errors.confirmed_error(
        _response(first), _response(again), _response(twin), baselines, pair
    )
    if match is None:
        seen.unconfirmed.append(pair.name)
        return None
    _report_error(attack, pair, first, twin, match)
    return match


def _error_step(pair: ErrorPair, match: Match) -> Step:
    return Step(
        True, f"{pair.name} got an SQL syntax error twice ({match.label}), its balanced twin none"
    )


def _harmless_error(attack: Attack) -> str:
    """The database error the harmless value's answer shows and the unmodified ones do not."""
    baseline = attack.baseline
    harmless = baseline.harmless.response
    if harmless is None or baseline.harmless is baseline.second:
        return ""
    unmodified = [r for r in (baseline.first.response, baseline.second.response) if r]
    return errors.other_error(harmless, unmodified)


def _harmless_erred(attack: Attack) -> bool:
    """The harmless value got a database error or a server error where the unmodified
    request did not (a missing column, when the value is a name in the query)."""
    baseline = attack.baseline
    harmless = baseline.harmless.response
    if harmless is None or baseline.harmless is baseline.second:
        return False
    return errors.erring(harmless, baseline.reference) or bool(_harmless_error(attack))


def _report_error(
    attack: Attack,
    pair: ErrorPair,
    first: Exchange,
    twin: Exchange,
    match: Match,
) -> None:
    detail = (
        f"{pair.name} (`{_cut(pair.breaking)}`) got an SQL syntax error twice ({match.label}: "
        f"`{_cut(match.key)}`) that no baseline answer shows, and the balanced value "
        f"`{_cut(pair.balanced)}` got no database error"
    )
    if pair.name == errors.NAME_BRACKET:
        detail += ": the value is a name in the query (a column in an ORDER BY or the like)"
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


@dataclass(frozen=True)
class _Series:
    """A form's pairs that all answered as SQL would.

    Attributes:
        plan: The conditions sent, in order.
        trues: Each true condition's exchange.
        falses: Each false condition's exchange.
        unmodified: How many unmodified answers were compared (baselines included).
    """

    plan: list[Condition]
    trues: list[Exchange]
    falses: list[Exchange]
    unmodified: int


async def _boolean(attack: Attack) -> Step:
    baseline = attack.baseline
    if not baseline.stable:
        return Step(False, "not tried (the unmodified answer is not stable)")
    if baseline.ignores_input:
        return Step(False, "not tried (a random value gets the unmodified answer)")
    named = _harmless_erred(attack)
    reasons: list[str] = []
    for form in judges.forms(attack.point.text, name_position=named):
        proof = await _form(attack, form)
        if isinstance(proof, str):
            reasons.append(f"{form}: {proof}")
            continue
        _report_boolean(attack, proof)
        return Step(
            True,
            f"the {form} form's true conditions gave the unmodified answer and its false "
            f"conditions another answer, {len(proof.plan)} pairs with fresh numbers in two "
            "shapes",
        )
    return Step(False, "; ".join(reasons) or "no form fits the value")


async def _form(attack: Attack, form: str) -> _Series | str:
    """The form's whole series when it proves, else why not."""
    baseline = attack.baseline
    plan = judges.plan(form, attack.point.text, _numbers(judges.PAIRS))
    ordered = judges.in_order(form)
    unmodified = [_response(baseline.first), _response(baseline.second)]
    order = judges.order_of(unmodified[0]) if ordered else None
    reference = baseline.reference
    trues: list[Exchange] = []
    falses: list[Exchange] = []
    for index, condition in enumerate(plan):
        if index in judges.REFRESH_BEFORE:
            # Another unmodified sample: a field that changes by chance becomes volatile.
            again = await attack.send_plain(f"sql {form}: unmodified again")
            unmodified.append(_response(again))
            reference = Reference.learn(unmodified[0], *unmodified[1:])
        outcome = await _pair(attack, condition, index, reference, order)
        if isinstance(outcome, str):
            return outcome
        trues.append(outcome[0])
        falses.append(outcome[1])
    verdict = judges.judge_boolean(
        unmodified,
        [_response(e) for e in trues],
        [_response(e) for e in falses],
        ordered=ordered,
    )
    return _Series(plan, trues, falses, len(unmodified)) if verdict.proven else verdict.reason


async def _pair(
    attack: Attack, condition: Condition, index: int, reference: Reference, order: str | None
) -> tuple[Exchange, Exchange] | str:
    """The true and false exchanges of one pair when they answer as SQL would, else why not."""
    purpose = f"sql {condition.name} {index + 1}"
    later = "" if index == 0 else f" with fresh numbers (pair {index + 1} of {judges.PAIRS})"
    true = await _answer(attack, condition.true, f"{purpose} true")
    if true is None:
        return "the value cannot be sent here"
    verdict = judges.judge_true(reference, _response(true), order)
    if not verdict.proven:
        return verdict.reason + later
    false = await _answer(attack, condition.false, f"{purpose} false")
    if false is None:
        return "the value cannot be sent here"
    verdict = judges.judge_false(reference, _response(false), order)
    if not verdict.proven:
        return verdict.reason + later
    return true, false


def _report_boolean(attack: Attack, proof: _Series) -> None:
    first, other = proof.plan[0], proof.plan[1]
    false = proof.falses[0]
    detail = (
        f"the true condition `{_cut(first.true)}` gave the unmodified answer and the false "
        f"condition `{_cut(first.false)}` another one ({_status(false)}); so did "
        f"{len(proof.plan) - 1} more pairs with fresh numbers, every other one in another "
        f"shape (`{_cut(other.true)}` against `{_cut(other.false)}`), while "
        f"{proof.unmodified} unmodified requests kept their answer: the database evaluates "
        f"the value as SQL ({first.name} form)"
    )
    difference = differing_excerpt(_response(false), attack.baseline.response)
    attack.found(
        RULE,
        detail,
        proof.trues[0],
        payload=first.true,
        confidence=Confidence.firm,
        more=(false, proof.trues[1], proof.falses[1]),
        roles=("false condition", "true condition, other shape", "false condition, other shape"),
        excerpt=(
            "every true condition got the baseline's answer; the false condition's answer "
            f"differs (false condition | baseline): {difference}"
        ),
    )


# -- time-based ---------------------------------------------------------------------------------


async def _time_based(attack: Attack) -> Step:
    if not attack.config.time_based:
        return Step(False, "off (`time_based` is false)")
    doubts: list[str] = []
    sleepers = judges.sleepers(attack.point.text, attack.token(2), _number())
    for index, sleeper in enumerate(sleepers):
        proof = await prove_delay(
            attack, sleeper.payload, label=sleeper.label, decoy=_decoy(sleeper)
        )
        if proof.verdict == "proven" and proof.exchanges:
            _report_delay(attack, sleeper, proof)
            return Step(True, f"{sleeper.label}: {proof.detail}")
        if proof.not_run:
            # Nothing was judged at this point (allowance, timeout, a slow endpoint): not a
            # pass of the sub-test.
            where = f" from {sleeper.label} on" if index else ""
            return Step(False, "; ".join([*doubts, f"not run{where}: {proof.detail}"]), True)
        if proof.final:
            # A slow zero-delay control or a decoy that waited: the next forms would meet the
            # same (the same endpoint, the same kind of value).
            rest = len(sleepers) - index - 1
            doubts.append(f"{sleeper.label}: {proof.detail}; {rest} other sleep form(s) not tried")
            break
        if proof.verdict == "tentative" or (proof.verdict == "none" and len(proof.exchanges) > 1):
            # Waited as asked but longer than allowed, or a slow screen the proof did not
            # bear out: worth a line, not a finding.
            doubts.append(f"{sleeper.label}: {proof.detail}")
        elif proof.verdict == "skipped" and proof.detail not in doubts:
            doubts.append(proof.detail)
    engines = _join(list(judges.SLEEP_ENGINES))
    note = f"no sleep of {engines} followed the requested delays"
    return Step(False, "; ".join([note, *doubts]))


#: Each engine's sleep call, and a made-up name in its place for the decoy (an unknown
#: function or statement fails at once: the same number, no sleep).
_SLEEP_WORDS = (
    ("pg_sleep(", "pg_sleep_none("),
    ("SLEEP(", "SLEEP_NONE("),
    ("WAITFOR DELAY", "WAITFOR_NONE DELAY"),
    ("RECEIVE_MESSAGE(", "RECEIVE_NONE("),
)


def _decoy(sleeper: Sleeper) -> Callable[[int], str]:
    """The sleeper's payload with its sleep call renamed: an endpoint that waits by the number
    in the value waits for it too, a database does not."""

    def decoy(seconds: int) -> str:
        value = sleeper.payload(seconds)
        for word, none in _SLEEP_WORDS:
            value = value.replace(word, none)
        return value

    return decoy


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


def _numbers(count: int) -> list[int]:
    """`count` distinct such numbers (a repeated number would repeat a value, not test
    anew)."""
    return secrets.SystemRandom().sample(range(1000, 9999), count)


def _status(exchange: Exchange) -> str:
    return f"HTTP {_response(exchange).status}"


def _cut(text: str) -> str:
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 3] + "..."


def _join(names: list[str]) -> str:
    """Names joined as in a sentence: "a, b or c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
