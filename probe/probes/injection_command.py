"""The command payload family of the injection probe: does the point's value reach a shell?

Each payload is the point's original value, a shell separator (`;`, `|`, `&&`, `$(...)`,
backticks, a newline) and one harmless command. Only `echo`, `expr`, shell arithmetic and
`sleep` are ever sent; nothing that writes, deletes, stops or fetches.

- Output-based: the command multiplies two random six-digit numbers (`echo $((a*b))`, or
  `expr a \\* b` inside a substitution). A product that appears in the answer is in no
  baseline and not in the payload (not even with the syntax stripped, so an answer that
  echoes the operands back does not count). Before anything is reported, two controls with
  new numbers must NOT show their product: the arithmetic alone (`v c*d`) and the same payload
  without the shell's `$` and backticks (`v;echo ((c*d))`); an answer that shows the operands
  beside the product (`a * b = p`) is an evaluator too. A calculator, a search box with
  "instant answers" or a template engine computes those; a shell does not. Then a
  confirmation in another shell syntax: `expr` after the same separator (the separator does
  separate commands), or, when only `$((...))` expanded (a value inside double quotes), a
  command substitution `$(expr ...)`. Confirmed is `certain`; a product that no confirmation
  repeats is not reported (the check says so).
- Time-based (with `probes.injection.time_based`): the same separators with `sleep N`, whole
  seconds (`sleep 5`, never `sleep 5s`, which not every `sleep` knows), judged by
  `injection_timing.prove_delay`, with `echo N` after the same separator as the decoy (an
  endpoint that waits by the digits in its value waits for it too). Run only when no product
  was reported (a blind injection), and not where the arithmetic payloads' answers were all
  slower than a zero-delay control may be (they are zero-delay payloads of the same syntax).
  Only a proven delay is a finding; a tentative one is written in the check's detail.

One check `command` per point summarises every payload form; it is `skipped` when the
time-based payloads were on but could not run there (allowance spent, timeout too short, an
endpoint too slow), saying so.
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
from probe.probes.injection_timing import (
    REPEATS,
    DelayProof,
    prove_delay,
    ruins_proof,
    slow_baselines,
)

FAMILY = "command"
RULE = next(r for r in RULES if r.id.endswith(".command-injection"))
#: Characters of answer shown on each side of the product in a finding.
EXCERPT_SIDE = 60
#: Operands are drawn from [LOW, HIGH): six digits each, a product of eleven or twelve.
LOW, HIGH = 100_000, 1_000_000
#: Characters of a time-based finding's answer body shown as its excerpt.
BODY_CHARS = 120


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
#: The command substitution, which also works inside double quotes.
SUBSTITUTION = FORMS[3]


def echo_product(a: int, b: int) -> str:
    """Shell arithmetic printing a*b."""
    return f"echo $(({a}*{b}))"


def expr_product(a: int, b: int) -> str:
    """`expr` printing a*b (the star escaped from the shell's globbing)."""
    return f"expr {a} \\* {b}"


def sleep_for(seconds: int) -> str:
    """`sleep` for whole seconds: `sleep 5`, a form every `sleep` knows."""
    return f"sleep {int(seconds)}"


def echo_number(seconds: int) -> str:
    """The time-based decoy's command: the same number, printed instead of slept."""
    return f"echo {int(seconds)}"


def arithmetic(form: Form, a: int, b: int, *, confirm: bool = False) -> str:
    """The command a form carries: `expr` in a substitution, `echo $((...))` otherwise; the
    confirming payload uses the other one (two shell syntaxes computing the same way)."""
    use_expr = form.substitution != confirm
    return expr_product(a, b) if use_expr else echo_product(a, b)


def without_shell(wrapped: str) -> str:
    """A payload's command with the shell's active characters taken out: `;echo ((a*b))`,
    `(expr a \\* b)`, `'expr a \\* b'`. No shell computes anything from it."""
    return wrapped.replace("$", "").replace("`", "'")


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


def shows_operands(answer: str, a: int, b: int) -> bool:
    """Whether the answer shows the operands beside their product, as a calculator does
    (`a * b = p`, `a x b: p`); `echo` prints the product alone."""
    sign = r"\s*(?:[*x×·]|times)\s*"
    equals = r"\s*(?:=+|is|equals|:|->|→)?\s*"
    return re.search(rf"(?<!\d){a}{sign}{b}{equals}{a * b}(?!\d)", answer) is not None


def excerpt(answer: str, index: int, length: int) -> str:
    """The answer's text around [index, index + length)."""
    start, end = max(0, index - EXCERPT_SIDE), index + length + EXCERPT_SIDE
    return ("..." if start else "") + answer[start:end] + ("..." if end < len(answer) else "")


@dataclass(frozen=True)
class Shot:
    """One arithmetic payload and what its answer showed.

    Attributes:
        form: The separator.
        payload: The value sent.
        exchange: Its exchange.
        operands: The two numbers multiplied.
        syntax: The form's own arithmetic (`expr` or `echo $((...))`); controls built
            otherwise carry neither.
        index: Where the product is in the answer's text, or -1.
    """

    form: Form
    payload: str
    exchange: Exchange
    operands: tuple[int, int]
    syntax: str
    index: int

    @property
    def product(self) -> int:
        """The product the payload asks for."""
        return self.operands[0] * self.operands[1]

    @property
    def shown(self) -> bool:
        """The product appeared in the answer."""
        return self.index >= 0

    def answer(self) -> str:
        """The answer's text."""
        return self.exchange.response.text() if self.exchange.response is not None else ""


async def run(attack: Attack) -> None:
    """Try every separator with arithmetic, then (if allowed) with `sleep N`; one check."""
    output = await _output(attack)
    hit = output.hit
    parts = [_output_summary(output.unsent)] if hit is None else []
    if hit is not None:
        verdict = await _judge_hit(attack, hit)
        if verdict is None:
            return
        parts.append(verdict)
    slow = _slow_payloads(attack, output.times)
    if slow:
        # The arithmetic payloads are zero-delay payloads of the same syntax: controls as slow
        # would rule every proof out, so no `sleep` is sent.
        parts.append(f"time-based: not tried: {slow}")
        attack.check(FAMILY, CheckStatus.passed, "; ".join(parts))
        return
    found, cut = await _timing(attack, parts)
    status = CheckStatus.failed if found else CheckStatus.skipped if cut else CheckStatus.passed
    attack.check(FAMILY, status, "; ".join(parts))


# -- output-based ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """What the arithmetic payloads showed.

    Attributes:
        hit: The first one whose product appeared, or None.
        unsent: The forms that cannot be sent at the point.
        times: Seconds each answer took (None for none), in the order sent.
    """

    hit: Shot | None
    unsent: list[str]
    times: list[float | None]


async def _output(attack: Attack) -> Output:
    """Send each form's arithmetic until a product shows."""
    unsent: list[str] = []
    times: list[float | None] = []
    for form in FORMS:
        shot = await _shoot(attack, form, f"command {form.name} arithmetic")
        if shot is None:
            unsent.append(form.name)
            continue
        response = shot.exchange.response
        times.append(None if response is None else response.elapsed)
        if shot.shown:
            return Output(shot, unsent, times)
    return Output(None, unsent, times)


def _slow_payloads(attack: Attack, times: list[float | None]) -> str:
    """Why the arithmetic payloads' answers already rule out a time-based proof, or ""."""
    lowest = min(attack.config.delays)
    # Slow unmodified answers are the timing module's to tell (nothing is sent then).
    if not attack.config.time_based or not times or slow_baselines(attack, lowest):
        return ""
    if any(t is not None and not ruins_proof(t, 0, lowest) for t in times):
        return ""
    known = [t for t in times if t is not None]
    took = f"took {min(known):.2f}-{max(known):.2f} s" if known else "got no answer in time"
    return (
        f"every payload with shell syntax {took}, more than half the lowest delay "
        f"({lowest} s): a delay cannot be told from the endpoint's own latency for such values"
    )


async def _shoot(
    attack: Attack,
    form: Form,
    purpose: str,
    *,
    confirm: bool = False,
    build: Callable[[Form, int, int], str] | None = None,
) -> Shot | None:
    """One arithmetic payload (the form's own, or `build`'s); None when it cannot travel."""
    baselines = [r.text() for r in attack.baseline.responses()]
    while True:
        a, b = (LOW + secrets.randbelow(HIGH - LOW) for _ in range(2))
        command = arithmetic(form, a, b, confirm=confirm)
        added = form.wrap(command) if build is None else build(form, a, b)
        payload = attack.point.text + added
        # A product already in a baseline or in the payload would prove nothing; another
        # draw almost surely fixes that (an eleven-digit number is rarely anywhere).
        if telling(a * b, payload, baselines):
            break
    exchange = await attack.send(payload, purpose)
    if exchange is None:
        return None
    answer = exchange.response.text() if exchange.response is not None else ""
    syntax = "`expr`" if command.startswith("expr") else "`echo $((...))`"
    return Shot(form, payload, exchange, (a, b), syntax, product_at(answer, a * b))


def _plain(form: Form, a: int, b: int) -> str:
    return f" {a}*{b}"


def _unshelled(form: Form, a: int, b: int) -> str:
    return without_shell(form.wrap(arithmetic(form, a, b)))


async def _judge_hit(attack: Attack, hit: Shot) -> str | None:
    """Controls, then confirmations; reports a confirmed hit (None), otherwise says why not."""
    if shows_operands(hit.answer(), *hit.operands):
        return (
            f"a product appeared after {hit.form.name}, beside its operands "
            f"(`{_cut(hit.answer(), hit.index)}`): an evaluator that shows its sums, not a "
            f"shell (not counted)"
        )
    controls: list[tuple[str, Shot]] = []
    for build, what in ((_plain, "the arithmetic alone"), (_unshelled, "no shell syntax")):
        control = await _shoot(attack, hit.form, f"command control: {what}", build=build)
        if control is None:
            continue
        controls.append((what, control))
        if control.shown:
            return (
                f"a product appeared after {hit.form.name}, but {what} (`{control.payload}`) "
                f"showed its product too: the endpoint computes arithmetic itself, a shell "
                f"is not needed for it (not counted)"
            )
    tries = await _confirm(attack, hit)
    if not tries or not tries[-1].shown:
        tried = " nor ".join(f"`{t.payload}`" for t in tries) or "nothing could be sent"
        return (
            f"a product appeared once after {hit.form.name} (`{hit.payload}`), but no "
            f"confirmation in another shell syntax showed its own ({tried}): not counted"
        )
    _report_output(attack, hit, tries, controls)
    return None


async def _confirm(attack: Attack, hit: Shot) -> list[Shot]:
    """The confirming payloads sent, in order, until one shows its product.

    After `echo $((...))`: `expr` after the same separator (it separates commands), then a
    command substitution `$(expr ...)` (`$((...))` may have expanded inside double quotes,
    where no separator works but substitutions do). After `expr` in a substitution: the
    substitution with `echo $((...))`, then with `expr` again.
    """
    if hit.form.substitution:
        plan = [(hit.form, True), (hit.form, False)]
    else:
        plan = [(hit.form, True), (SUBSTITUTION, False)]
    tries: list[Shot] = []
    for form, other in plan:
        shot = await _shoot(attack, form, f"command {form.name} confirmation", confirm=other)
        if shot is None:
            continue
        tries.append(shot)
        if shot.shown:
            break
    return tries


def _confirmed(hit: Shot, proof: Shot) -> tuple[str, Confidence]:
    """What the hit and its confirmation prove, and how surely."""
    new = "again with new numbers"
    if hit.form.substitution:
        other = proof.syntax != hit.syntax
        return (
            f"the shell ran the command substitution {hit.form.name}: {hit.syntax} printed the "
            f"product {hit.product} of the payload's two numbers, and {new} in "
            f"{proof.syntax if other else 'the same syntax'}",
            Confidence.certain if other else Confidence.firm,
        )
    if proof.form is hit.form:
        return (
            f"a shell ran the command after {hit.form.name}: the product {hit.product} of the "
            f"payload's two numbers appeared in the answer, and {new} from `expr` after "
            f"{hit.form.name}",
            Confidence.certain,
        )
    return (
        f"the shell expanded `$((...))` in the value: the product {hit.product} appeared; "
        f"{hit.form.name} did not separate commands there (`expr` after it printed nothing), "
        f"but a command substitution `$(expr ...)` printed its product: the value sits "
        f"where the shell expands (inside double quotes, say)",
        Confidence.certain,
    )


def _report_output(
    attack: Attack, hit: Shot, tries: list[Shot], controls: list[tuple[str, Shot]]
) -> None:
    detail, confidence = _confirmed(hit, tries[-1])
    detail += (
        "; the same arithmetic without shell syntax showed no product"
        if controls
        else "; no shell-free control could be sent"
    )
    roles = [f"confirmation: {_role(t)}" for t in tries]
    roles += [f"control: {what}" for what, _ in controls]
    attack.found(
        RULE,
        detail,
        hit.exchange,
        payload=hit.payload,
        confidence=confidence,
        more=[t.exchange for t in tries] + [c.exchange for _, c in controls],
        roles=roles,
        excerpt=excerpt(hit.answer(), hit.index, len(str(hit.product))),
    )
    attack.check(FAMILY, CheckStatus.failed, detail)


def _role(shot: Shot) -> str:
    verdict = "product shown" if shot.shown else "no product"
    return f"{shot.syntax} in {shot.form.name}, {verdict}"


def _cut(answer: str, index: int) -> str:
    return answer[max(0, index - 40) : index + 20].strip()


def _output_summary(unsent: list[str]) -> str:
    tried = len(FORMS) - len(unsent)
    text = f"no computed product after {tried} shell separators with arithmetic"
    if unsent:
        text += f" ({', '.join(unsent)} cannot be sent here)"
    return text


# -- time-based --------------------------------------------------------------------------------


async def _timing(attack: Attack, parts: list[str]) -> tuple[bool, bool]:
    """`sleep N` after each separator until one is proven (reported) or no other can be;
    adds the summary to `parts`. Returns whether a finding was reported, and whether the
    time-based test was cut short without a verdict (allowance, timeout, a slow endpoint)."""
    if not attack.config.time_based:
        parts.append("time-based payloads off (probes.injection.time_based)")
        return False, False
    results: list[tuple[Form, DelayProof]] = []
    for form in FORMS:
        proof = await prove_delay(
            attack,
            _sleeper(attack, form),
            label=f"{form.name} sleep N",
            decoy=_decoy(attack, form),
        )
        if proof.verdict == "proven":
            _report_delay(attack, form, proof)
            parts.append(f"`sleep N` after {form.name}: {proof.detail}")
            return True, False
        results.append((form, proof))
        if proof.final:
            break
    # A tentative proof (waited as asked, steadily, but longer than allowed) is written in
    # the check's detail, not reported: like the sql family, only a proven delay is a finding.
    parts.append(timing_summary(results, max(attack.config.delays)))
    return False, any(p.not_run for _, p in results)


def timing_summary(results: Sequence[tuple[Form, DelayProof]], top: int) -> str:
    """One line for the check: what the `sleep N` payloads showed, separator by separator."""
    screened = [p for _, p in results if _screened(p)]
    times = [e.response.elapsed for p in screened for e in p.exchanges if e.response]
    lines: list[str] = []
    if screened:
        span = f"{min(times):.2f}-{max(times):.2f} s" if times else "no answer"
        lines.append(f"{len(screened)} separator(s) did not wait for `sleep {top}` ({span})")
    unsent = [f.name for f, p in results if p.cause == "unsendable"]
    if unsent:
        lines.append(f"{', '.join(unsent)} cannot be sent here")
    for form, proof in results:
        if _screened(proof) or proof.cause == "unsendable":
            continue
        rest = len(FORMS) - FORMS.index(form) - 1
        if proof.not_run:
            left = f"from {form.name} on" if form is not FORMS[0] else "at this point"
            lines.append(f"not run {left}: {proof.detail}")
        elif proof.final and proof.verdict == "none":
            lines.append(f"{form.name}: {proof.detail}; {rest} other separator(s) not tried")
        elif proof.verdict != "skipped":
            lines.append(f"{form.name}: {proof.verdict}: {proof.detail}")
    return "time-based: " + "; ".join(lines)


def _screened(proof: DelayProof) -> bool:
    """A proof that ended at its screen: the answer did not wait."""
    return proof.verdict == "none" and len(proof.exchanges) == 1


def _sleeper(attack: Attack, form: Form) -> Callable[[int], str]:
    original = attack.point.text
    return lambda seconds: original + form.wrap(sleep_for(seconds))


def _decoy(attack: Attack, form: Form) -> Callable[[int], str]:
    original = attack.point.text
    return lambda seconds: original + form.wrap(echo_number(seconds))


def _report_delay(attack: Attack, form: Form, proof: DelayProof) -> None:
    first, *more = proof.exchanges
    levels = " and ".join(f"{s} s" for s in sorted(attack.config.delays))
    detail = (
        f"`sleep N` after {form.name}, asking for {levels} {REPEATS} times each in random "
        f"order between `sleep 0` controls (`echo N` instead waited for nothing): "
        f"{proof.detail}"
    )
    body = first.response.text(BODY_CHARS) if first.response is not None else ""
    attack.found(
        RULE,
        detail,
        first,
        payload=_sleeper(attack, form)(max(attack.config.delays)),
        confidence=Confidence.firm,
        more=more,
        roles=proof.roles[1:],
        # The body is the usual one: the times in the notes prove it.
        excerpt=f"{body.rstrip()} (the answer's time proves it, not its body)",
    )


__all__ = ["FAMILY", "FORMS", "run"]
