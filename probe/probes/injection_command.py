"""The command payload family of the injection probe: does the point's value reach a shell?

Each payload is the point's original value, a shell separator (`;`, `|`, `&&`, `$(...)`,
backticks, a newline) and one harmless command. Only `echo`, `expr`, shell arithmetic and
`sleep` are ever sent; nothing that writes, deletes, stops or fetches.

- Output-based: the command multiplies two random six-digit numbers (`echo $((a*b))`, or
  `expr a \\* b` inside a substitution). Found when the product appears in the answer: it is in
  no baseline and not in the payload (not even with the syntax stripped, so an answer that
  echoes the operands back does not count), so only a shell that ran the command can have
  written it. A second payload, the same separator with new numbers and the other arithmetic
  syntax, confirms it (certain); a product that shows once is firm.
- Time-based (with `probes.injection.time_based`): the same separators with `sleep N`, whole
  seconds (`sleep 5`, never `sleep 5s`, which not every `sleep` knows), judged by
  `injection_timing.prove_delay`. Run only when no product showed (a blind injection). Only a
  proven delay is a finding; a tentative one is written in the check's detail.

One check `command` per point summarises every payload form.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from probe.exchange import Exchange
from probe.findings import CheckStatus, Confidence
from probe.probes.injection_attack import Attack
from probe.probes.injection_rules import RULES
from probe.probes.injection_timing import REPEATS, UNSENDABLE, DelayProof, prove_delay

FAMILY = "command"
RULE = next(r for r in RULES if r.id.endswith(".command-injection"))
#: Characters of answer shown on each side of the product in a finding.
EXCERPT_SIDE = 60
#: Operands are drawn from [LOW, HIGH): six digits each, a product of eleven or twelve.
LOW, HIGH = 100_000, 1_000_000


@dataclass(frozen=True)
class Form:
    """One way of getting a command run after the original value.

    Attributes:
        name: How a detail names it ("`;`").
        wrap: Puts a command after the separator (`cmd` -> `;cmd`, `$(cmd)`).
        substitution: The command's output replaces the text (`$()`, backticks): the
            arithmetic is `expr`, whose output is the product alone.
    """

    name: str
    wrap: Callable[[str], str]
    substitution: bool = False


FORMS: tuple[Form, ...] = (
    Form("`;`", lambda cmd: f";{cmd}"),
    Form("`|`", lambda cmd: f"|{cmd}"),
    Form("`&&`", lambda cmd: f"&&{cmd}"),
    Form("`$()`", lambda cmd: f"$({cmd})", substitution=True),
    Form("backticks", lambda cmd: f"`{cmd}`", substitution=True),
    Form("a newline", lambda cmd: f"\n{cmd}"),
)


def echo_product(a: int, b: int) -> str:
    """Shell arithmetic printing a*b."""
    return f"echo $(({a}*{b}))"


def expr_product(a: int, b: int) -> str:
    """`expr` printing a*b (the star escaped from the shell's globbing)."""
    return f"expr {a} \\* {b}"


def sleep_for(seconds: int) -> str:
    """`sleep` for whole seconds: `sleep 5`, a form every `sleep` knows."""
    return f"sleep {int(seconds)}"


def arithmetic(form: Form, a: int, b: int, *, confirm: bool = False) -> str:
    """The command a form carries: `expr` in a substitution, `echo $((...))` otherwise; the
    confirming payload uses the other one (two shell syntaxes computing the same way)."""
    use_expr = form.substitution != confirm
    return expr_product(a, b) if use_expr else echo_product(a, b)


def telling(product: int, payload: str, baselines: Sequence[str]) -> bool:
    """Whether the product in an answer can only come from running the payload: it is neither
    in the payload (nor in its digits run together: an echo with the syntax stripped) nor in
    any baseline answer."""
    text = str(product)
    digits = re.sub(r"\D", "", payload)
    return text not in payload and text not in digits and not any(text in b for b in baselines)


def product_at(answer: str, product: int) -> int:
    """Where the product is in an answer's text, or -1."""
    return answer.find(str(product))


def excerpt(answer: str, index: int, length: int) -> str:
    """The answer's text around [index, index + length)."""
    start, end = max(0, index - EXCERPT_SIDE), index + length + EXCERPT_SIDE
    return ("..." if start else "") + answer[start:end] + ("..." if end < len(answer) else "")


@dataclass(frozen=True)
class Hit:
    """A product that showed in an answer.

    Attributes:
        form: The separator.
        payload: The value sent.
        exchange: The attack.
        product: The number that appeared.
        index: Where it appeared in the answer's text.
    """

    form: Form
    payload: str
    exchange: Exchange
    product: int
    index: int


async def run(attack: Attack) -> None:
    """Try every separator with arithmetic, then (if allowed) with `sleep N`; one check."""
    hit, unsent = await _output(attack)
    if hit is not None:
        await _report_output(attack, hit)
        return
    parts = [_output_summary(unsent)]
    found = await _timing(attack, parts)
    status = CheckStatus.failed if found else CheckStatus.passed
    attack.check(FAMILY, status, "; ".join(parts))


async def _output(attack: Attack) -> tuple[Hit | None, list[str]]:
    """Send each form's arithmetic until a product shows; also the forms that could not go."""
    unsent: list[str] = []
    for form in FORMS:
        sent, hit = await _try_product(attack, form)
        if hit is not None:
            return hit, unsent
        if not sent:
            unsent.append(form.name)
    return None, unsent


async def _try_product(
    attack: Attack, form: Form, *, confirm: bool = False
) -> tuple[bool, Hit | None]:
    """One arithmetic payload: whether it could be sent, and the hit if its product showed."""
    a, b, payload = _arithmetic_payload(attack, form, confirm)
    purpose = f"command {form.name} arithmetic" + (" (confirmation)" if confirm else "")
    exchange = await attack.send(payload, purpose)
    if exchange is None:
        return False, None
    answer = exchange.response.text() if exchange.response is not None else ""
    index = product_at(answer, a * b)
    return True, (Hit(form, payload, exchange, a * b, index) if index >= 0 else None)


def _arithmetic_payload(attack: Attack, form: Form, confirm: bool) -> tuple[int, int, str]:
    """Two operands and the payload multiplying them, drawn until the product tells."""
    baselines = [r.text() for r in attack.baseline.responses()]
    while True:
        a, b = (LOW + secrets.randbelow(HIGH - LOW) for _ in range(2))
        payload = attack.point.text + form.wrap(arithmetic(form, a, b, confirm=confirm))
        # A product already in a baseline or in the payload would prove nothing; another
        # draw almost surely fixes that (an eleven-digit number is rarely anywhere).
        if telling(a * b, payload, baselines):
            return a, b, payload


async def _report_output(attack: Attack, hit: Hit) -> None:
    _, again = await _try_product(attack, hit.form, confirm=True)
    answer = hit.exchange.response.text() if hit.exchange.response is not None else ""
    detail = (
        f"a shell ran the command after {hit.form.name}: the product {hit.product} of the "
        f"payload's two numbers appeared in the answer"
        + (
            ", and again with new numbers in the other arithmetic syntax"
            if again is not None
            else " (a second payload with new numbers did not show its product)"
        )
    )
    attack.found(
        RULE,
        detail,
        hit.exchange,
        payload=hit.payload,
        confidence=Confidence.certain if again is not None else Confidence.firm,
        more=[again.exchange] if again is not None else [],
        roles=["confirmation in the other syntax"],
        excerpt=excerpt(answer, hit.index, len(str(hit.product))),
    )
    attack.check(FAMILY, CheckStatus.failed, detail)


def _output_summary(unsent: list[str]) -> str:
    tried = len(FORMS) - len(unsent)
    text = f"no computed product after {tried} shell separators with arithmetic"
    if unsent:
        text += f" ({', '.join(unsent)} cannot be sent here)"
    return text


async def _timing(attack: Attack, parts: list[str]) -> bool:
    """`sleep N` after each separator until one is proven (reported); adds the summary to
    `parts`, and True when a finding was reported."""
    if not attack.config.time_based:
        parts.append("time-based payloads off (probes.injection.time_based)")
        return False
    results: list[tuple[Form, DelayProof]] = []
    for form in FORMS:
        proof = await prove_delay(attack, _sleeper(attack, form), label=f"{form.name} sleep N")
        if proof.verdict == "proven":
            _report_delay(attack, form, proof)
            parts.append(f"`sleep N` after {form.name}: {proof.detail}")
            return True
        results.append((form, proof))
        if proof.verdict == "skipped" and not _unsendable(proof):
            break
    # A tentative proof (waited as asked, steadily, but longer than allowed) is written in
    # the check's detail, not reported: like the sql family, only a proven delay is a finding.
    parts.append(timing_summary(results, max(attack.config.delays)))
    return False


def timing_summary(results: Sequence[tuple[Form, DelayProof]], top: int) -> str:
    """One line for the check: what the `sleep N` payloads showed, separator by separator."""
    screened = [p for _, p in results if _screened(p)]
    times = [e.response.elapsed for p in screened for e in p.exchanges if e.response]
    lines: list[str] = []
    if screened:
        span = f"{min(times):.2f}-{max(times):.2f} s" if times else "no answer"
        lines.append(f"{len(screened)} separator(s) did not wait for `sleep {top}` ({span})")
    unsent = [f.name for f, p in results if _unsendable(p)]
    if unsent:
        lines.append(f"{', '.join(unsent)} cannot be sent here")
    for form, proof in results:
        if proof.verdict == "skipped" and not _unsendable(proof):
            left = [f.name for f in FORMS[FORMS.index(form) :]]
            lines.append(f"skipped from {left[0]} on ({len(left)} separators): {proof.detail}")
        elif not _screened(proof) and not _unsendable(proof):
            lines.append(f"{form.name}: {proof.verdict}: {proof.detail}")
    return "time-based: " + "; ".join(lines)


def _screened(proof: DelayProof) -> bool:
    """A proof that ended at its screen: the answer did not wait."""
    return proof.verdict == "none" and len(proof.exchanges) == 1


def _sleeper(attack: Attack, form: Form) -> Callable[[int], str]:
    original = attack.point.text
    return lambda seconds: original + form.wrap(sleep_for(seconds))


def _unsendable(proof: DelayProof) -> bool:
    return proof.verdict == "skipped" and proof.detail == UNSENDABLE


def _report_delay(attack: Attack, form: Form, proof: DelayProof) -> None:
    first, *more = proof.exchanges
    levels = " and ".join(f"{s} s" for s in sorted(attack.config.delays))
    detail = (
        f"`sleep N` after {form.name}, asking for {levels} {REPEATS} times each in random "
        f"order between `sleep 0` controls: {proof.detail}"
    )
    attack.found(
        RULE,
        detail,
        first,
        payload=_sleeper(attack, form)(max(attack.config.delays)),
        confidence=Confidence.firm,
        more=more,
        roles=proof.roles[1:],
    )


__all__ = ["FAMILY", "FORMS", "run"]
