"""The xss payload family of the injection probe: a marker reflected where a browser runs it.

One payload per point: a fresh token, quotes, a comment end and a tag named after the token,
carrying an attribute named after it (`injection_xss_judges.payload`); no script, no `alert`.
When that payload is refused (an error answer where the unmodified request gets a 2xx: a
filter turning quotes away), or its token comes back without the tag (the value cut to a few
dozen characters, or changed), one more carries a short token's tag alone (31 characters).
When the tag comes back raw but only inside an element
whose content is text (a `<textarea>`, a `<title>`, a `<script>`), one more payload closes
that element first (not in a path parameter, where `/` would split the path). A tag that comes
back live, or its attribute on a tag of the page's own when the payload broke out of an
attribute value (`injection_xss_judges.reflection`), is judged by how a browser treats the answer
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
# Random bytes after the scan marker in the tag-only payload's token: its tag stays 31
# characters long, which an answer cutting the value to 40 characters still shows whole.
_SHORT_TOKEN_BYTES = 1


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
    used: set[str] = set()
    sent = await _try(attack, "", steps, used)
    if sent is None:
        attack.check(
            FAMILY, CheckStatus.skipped, "a value with `<`, `>` and quotes cannot travel here"
        )
        return
    if sent.refused or _cut(sent.seen):
        sent = await _try(attack, "", steps, used, quotes=False) or sent
    close = ""
    if sent.seen.container and attack.point.kind != "path":
        close = sent.seen.container
        sent = await _try(attack, close, steps, used, quotes=sent.quotes) or sent
    if not sent.seen.live:
        attack.check(FAMILY, CheckStatus.passed, "; ".join(steps))
        return

    shown = rendering(sent.response, starts_body(sent.response.text(), sent.token))
    if shown.severity is None:
        steps.append(f"in {shown.how}: not reported")
        attack.check(FAMILY, CheckStatus.passed, "; ".join(steps))
        return
    try:
        again = await _try(attack, close, steps, used, confirm=True, quotes=sent.quotes)
    # The first answer already shows the tag: an overloaded server only leaves it unconfirmed.
    except Unusable as exc:
        steps.append(f"a second marker: {exc}")
        again = None
    _report(attack, sent, shown, again)
    steps.append(f"in {shown.how}: reported")
    attack.check(FAMILY, CheckStatus.failed, "; ".join(steps))


async def _try(
    attack: Attack,
    close: str,
    steps: list[str],
    used: set[str],
    *,
    confirm: bool = False,
    quotes: bool = True,
) -> _Sent | None:
    """Send one payload with a fresh token; note how it came back in `steps`."""
    token = attack.token() if quotes else _short_token(attack, used)
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
    turned_away = (
        not seen.raw
        and not seen.live
        and refused(exchange.response.status, attack.baseline.response.status)
    )
    outcome = "refused" if turned_away else seen.describe()
    steps.append(f"{name}: {outcome} ({describe(exchange)})")
    return _Sent(token, value, exchange, seen, quotes, turned_away)


def _cut(seen: Reflection) -> bool:
    """The token came back without its tag, neither encoded nor inside anything: the value may
    have been cut short before the tag, which a short payload can still carry whole."""
    return seen.echoed and not seen.raw and not seen.live and not seen.encoded


def _short_token(attack: Attack, used: set[str]) -> str:
    """A short fresh token, unlike any sent at this point before (so a stored earlier payload
    never passes for this one's reflection)."""
    token = attack.token(_SHORT_TOKEN_BYTES)
    while token in used:
        token = attack.token(_SHORT_TOKEN_BYTES)
    used.add(token)
    return token


def _report(attack: Attack, sent: _Sent, shown: Rendering, again: _Sent | None) -> None:
    assert shown.severity is not None
    severity = shown.severity
    if sent.seen.injected:
        detail = (
            "the marker breaks out of an attribute value: a tag of the page gets an attribute "
            f"named after it (attribute injected, where an event handler fits as well) in "
            f"{shown.how}"
        )
    else:
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
        else "; a second marker did not come back as a tag or attribute (tentative)"
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
