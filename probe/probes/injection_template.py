"""The template payload family: expressions of the common engines multiplying random operands.

Each syntax (`{{a*b}}`, `${a*b}`, `<%= a*b %>`, `#{a*b}`) is sent once with its own fresh
random 5-digit operands (their product fits 32 bits). A syntax counts when the answer holds the
product as a whole number (plain or grouped by thousands) and no baseline does
(`injection_template_judges`).
Before anything is reported:

- a control sends the bare expression `a*b` without template syntax: a server that computes
  any arithmetic it is given (a calculator) is not rendering a template;
- the first syntax that evaluated is sent again with a second pair of operands, whose product
  must come back too.

The finding names the syntax that evaluated: when only the inner braces of `${a*b}` or
`#{a*b}` were evaluated (the answer shows `$` or `#` before the product), it is a single-brace
engine. Only multiplications are sent; nothing reads files, runs commands or reaches objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from probe.exchange import Exchange, ResponseRecord
from probe.findings import CheckStatus
from probe.probes.injection_attack import Attack
from probe.probes.injection_rules import PROBE_ID, RULES
from probe.probes.injection_template_judges import (
    SYNTAXES,
    Syntax,
    answer_text,
    evaluated,
    new_product,
    operands,
    product_excerpt,
)

FAMILY = "template"
_RULE = next(r for r in RULES if r.id == f"{PROBE_ID}.template-injection")


@dataclass(frozen=True)
class _Hit:
    """A syntax whose product came back.

    Attributes:
        sent: The syntax sent.
        syntax: The syntax that evaluated (single braces when the outer characters were left).
        payload: The expression sent.
        exchange: Its exchange.
        form: The product as it appeared.
    """

    sent: Syntax
    syntax: Syntax
    payload: str
    exchange: Exchange
    form: str


async def run(attack: Attack) -> None:
    """Send each syntax's expression; report a product that is computed, twice."""
    baselines = attack.baseline.responses()
    notes: list[str] = []
    hits: list[_Hit] = []
    for syntax in SYNTAXES:
        hit = await _try(attack, syntax, baselines)
        if isinstance(hit, str):
            notes.append(f"{syntax.label}: {hit}")
        else:
            hits.append(hit)
            notes.append(f"{syntax.label}: product computed ({hit.syntax.label})")
    if hits:
        proof = await _prove(attack, hits[0], baselines)
        if not isinstance(proof, str):
            _report(attack, hits, proof, notes)
            return
        notes.append(proof)
    attack.check(FAMILY, CheckStatus.passed, "; ".join(notes))


async def _try(attack: Attack, syntax: Syntax, baselines: list[ResponseRecord]) -> _Hit | str:
    """The syntax's hit, or why there is none."""
    a, b = operands()
    payload = syntax.expression(a, b)
    exchange = await attack.send(payload, f"template {syntax.label}")
    if exchange is None or exchange.response is None:
        return "cannot be sent here"
    form = new_product(exchange.response, a, b, baselines)
    if form is None:
        return f"no product (HTTP {exchange.response.status})"
    done = evaluated(syntax, answer_text(exchange.response), form)
    return _Hit(syntax, done, payload, exchange, form)


async def _prove(
    attack: Attack, hit: _Hit, baselines: list[ResponseRecord]
) -> tuple[Exchange, ...] | str:
    """The second pair's exchange and the control's when both hold; otherwise why not."""
    a, b = operands()
    control = await attack.send(f"{a}*{b}", "template control: bare arithmetic")
    answer = None if control is None else control.response
    if answer is not None and new_product(answer, a, b, baselines) is not None:
        return (
            "the bare expression `a*b` is computed too: the server evaluates any "
            "arithmetic, not template syntax (not counted)"
        )
    again = await _try(attack, hit.sent, baselines)
    if isinstance(again, str):
        return f"{hit.sent.label} with a second pair of operands: {again} (not counted)"
    return (again.exchange,) if control is None else (again.exchange, control)


def _report(attack: Attack, hits: list[_Hit], more: tuple[Exchange, ...], notes: list[str]) -> None:
    hit = hits[0]
    response = hit.exchange.response
    assert response is not None
    others = [h.sent.label for h in hits[1:]]
    also = f"; {', '.join(others)} computed too" if others else ""
    detail = (
        f"`{hit.payload}` comes back as {hit.form}, the product, absent from the baselines, "
        f"and a second pair of operands is multiplied too: the input is rendered as a "
        f"template, {hit.syntax.label} evaluated as by {hit.syntax.engines}{also}"
    )
    attack.found(
        _RULE,
        detail,
        hit.exchange,
        payload=hit.payload,
        more=more,
        roles=("second pair of operands", "bare `a*b` control"),
        excerpt=product_excerpt(response, hit.form),
    )
    notes.append(f"{hit.sent.label} computed again with a second pair of operands")
    attack.check(FAMILY, CheckStatus.failed, "; ".join(notes))
