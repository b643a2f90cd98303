"""The xss payload family of the injection probe: a marker reflected where a browser runs it.

One payload per point: a fresh token, quotes, a comment end and a tag named after the token
(`injection_xss_judges.payload`); no script, no `alert`. When that payload is refused (an
error answer where the unmodified request gets a 2xx: a filter turning quotes away), one more
carries the token and its tag alone. When the tag comes back raw but only inside an element
whose content is text (a `<textarea>`, a `<title>`, a `<script>`), one more payload closes
that element first (not in a path parameter, where `/` would split the path). A tag that comes
back live (`injection_xss_judges.reflection`) is judged by how a browser treats the answer
(`injection_xss_judges.rendering`), then confirmed with a second fresh token: confirmed
findings are firm, a reflection that does not come back the second time is tentative.

A victim's browser is made to send the request by a link or a cross-site form, which set
neither a header nor a JSON body and use no method but GET and POST: a reflection in a header
or a JSON field, or on an endpoint with another method (PUT, PATCH, ...), is one severity
level lower. So is one in an answer whose Content-Security-Policy sandboxes it without
`allow-scripts`, where no script runs (`injection_xss_judges.sandboxed`).
"""

from __future__ import annotations

from dataclasses import dataclass

from probe.exchange import Exchange, ResponseRecord
from probe.findings import CheckStatus, Confidence, Rule
from probe.probes.injection_attack import Attack, Unusable, describe
from probe.probes.injection_rules import PROBE_ID, RULES
from probe.probes.injection_xss_judges import (
    Reflection,
    Rendering,
    excerpt,
    lower,
    payload,
    reflection,
    refused,
    rendering,
    sandboxed,
    starts_body,
)

FAMILY = "xss"
RULE: Rule = next(r for r in RULES if r.id == f"{PROBE_ID}.reflected-xss")
# Points a victim's browser sends only when a script of the site itself sets them.
_INDIRECT = {"header": "a header", "json": "a JSON field"}
# Methods a link or a cross-site form can make a browser send.
_LINK_METHODS = frozenset({"GET", "POST"})


@dataclass(frozen=True)
class _Sent:
    """One payload sent: its token, value, exchange, how the token came back, whether it
    carried quotes, and whether the answer refused it."""

    token: str
    value: str
    exchange: Exchange
    seen: Reflection
    quotes: bool
    refused: bool

    @property
    def response(self) -> ResponseRecord:
        """The answer (`Attack.send` returns only exchanges with one)."""
        assert self.exchange.response is not None
        return self.exchange.response


async def run(attack: Attack) -> None:
    """Send the marker, judge where it lands and how it is shown, confirm, report."""
    steps: list[str] = []
    sent = await _try(attack, "", steps)
    if sent is None:
        attack.check(
            FAMILY, CheckStatus.skipped, "a value with `<`, `>` and quotes cannot travel here"
        )
        return
    if sent.refused:
        sent = await _try(attack, "", steps, quotes=False) or sent
    close = ""
    if sent.seen.container and attack.point.kind != "path":
        close = sent.seen.container
        sent = await _try(attack, close, steps, quotes=sent.quotes) or sent
    if not sent.seen.live:
        attack.check(FAMILY, CheckStatus.passed, "; ".join(steps))
        return

    shown = rendering(sent.response, starts_body(sent.response.text(), sent.token))
    if shown.severity is None:
        steps.append(f"in {shown.how}: not reported")
        attack.check(FAMILY, CheckStatus.passed, "; ".join(steps))
        return
    try:
        again = await _try(attack, close, steps, confirm=True, quotes=sent.quotes)
    # The first answer already shows the tag: an overloaded server only leaves it unconfirmed.
    except Unusable as exc:
        steps.append(f"a second marker: {exc}")
        again = None
    _report(attack, sent, shown, again)
    steps.append(f"in {shown.how}: reported")
    attack.check(FAMILY, CheckStatus.failed, "; ".join(steps))


async def _try(
    attack: Attack, close: str, steps: list[str], *, confirm: bool = False, quotes: bool = True
) -> _Sent | None:
    """Send one payload with a fresh token; note how it came back in `steps`."""
    token = attack.token()
    value = payload(token, close, quotes=quotes)
    if confirm:
        name = "a second marker"
    else:
        name = "a marker with `<`, `>` and quotes" if quotes else "the marker's tag alone"
    if close:
        name += f" closing <{close}> first"
    exchange = await attack.send(value, "xss: " + name)
    if exchange is None:
        return None
    assert exchange.response is not None
    seen = reflection(exchange.response.text(), token)
    turned_away = not seen.raw and refused(
        exchange.response.status, attack.baseline.response.status
    )
    outcome = "refused" if turned_away else seen.describe()
    steps.append(f"{name}: {outcome} ({describe(exchange)})")
    return _Sent(token, value, exchange, seen, quotes, turned_away)


def _report(attack: Attack, sent: _Sent, shown: Rendering, again: _Sent | None) -> None:
    assert shown.severity is not None
    severity = shown.severity
    detail = f"the marker's tag comes back unencoded in {shown.how}"
    reach = _unreachable(attack)
    if reach:
        severity = lower(severity)
        detail += (
            f"; {reach}, which a link or a cross-site form cannot make a browser send "
            "(only a script of the site itself, or one CORS allows), so the severity is one "
            "level lower"
        )
    if sandboxed(sent.response):
        severity = lower(severity)
        detail += (
            "; the answer's Content-Security-Policy sandboxes it without `allow-scripts`: no "
            "script runs there, though the markup still shows, so the severity is one level "
            "lower"
        )
    confirmed = again is not None and again.seen.live
    detail += (
        "; a second marker came back the same way"
        if confirmed
        else "; a second marker did not come back as a tag (tentative)"
    )
    attack.found(
        RULE,
        detail,
        sent.exchange,
        payload=sent.value,
        confidence=Confidence.firm if confirmed else Confidence.tentative,
        severity=severity,
        more=(again.exchange,) if again is not None else (),
        roles=("second marker",),
        excerpt=excerpt(sent.response.text(), sent.seen.index),
    )


def _unreachable(attack: Attack) -> str:
    """Why a victim's browser cannot be made to send the payload by a link or a cross-site
    form ("" when it can)."""
    reasons = []
    indirect = _INDIRECT.get(attack.point.kind)
    if indirect:
        reasons.append(f"the value travels in {indirect}")
    method = attack.endpoint.method.upper()
    if method not in _LINK_METHODS:
        reasons.append(f"the endpoint takes {method}")
    return " and ".join(reasons)
