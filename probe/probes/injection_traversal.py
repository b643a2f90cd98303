"""The traversal payload family of the injection probe: paths that leave the intended folder.

The paths of `injection_traversal_judges.payloads` are tried one by one at the point, sent raw
(an HTTP client would resolve `../`); the percent-encoded ones go in exactly as written, and
only where something URL-decodes them (a path, a query string, a form), not in JSON fields or
headers. When the scenario's value has a folder part (`reports/2024.txt`), one more path climbs
from that folder. An answer counts when it holds the named file in its own format, absent from
every baseline (`injection_traversal_judges.file_content`). Three controls must then hold:

- the same path to a file that does not exist must not return the file (the content follows
  the path);
- nor the file's bare name (no search page matching the keyword);
- the same file without climbing (`etc/passwd`, the path with its `../` left out) must not
  return the same lines: when it does, the file lies inside the folder the server reads from
  (a browser over a container image's own root) and `../` left nothing.

The first proven path is reported and ends the family at that point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from probe.exchange import Exchange
from probe.findings import CheckStatus, Confidence, Rule
from probe.probes.injection_attack import Attack
from probe.probes.injection_rules import PROBE_ID, RULES
from probe.probes.injection_traversal_judges import (
    FileContent,
    FileKind,
    Payload,
    file_content,
    payloads,
    structured,
    texts,
)

FAMILY = "traversal"
RULE: Rule = next(r for r in RULES if r.id == f"{PROBE_ID}.path-traversal")
# Points whose value nothing URL-decodes: an encoded path there only repeats a plain one.
_NOT_DECODED = frozenset({"json", "header"})
_NAMES: dict[FileKind, str] = {"passwd": "/etc/passwd", "win.ini": "win.ini"}
_INSIDE = ": the file lies inside the folder the server reads from, and `../` did not leave it"


@dataclass
class _Once:
    """Control answers sent once per point and reused: most paths share the bare name and the
    path without climbing (`etc/passwd`)."""

    sent: dict[tuple[str, bool], Exchange | None] = field(default_factory=dict)
    #: The check's detail already says why a file inside the server's folder is not counted.
    explained: bool = False

    async def send(self, attack: Attack, value: str, wire: bool, what: str) -> Exchange | None:
        """The control's exchange (None when it cannot travel), sent on first use."""
        key = (value, wire)
        if key not in self.sent:
            self.sent[key] = await attack.send(value, f"traversal control: {what}", wire=wire)
        return self.sent[key]


async def run(attack: Attack) -> None:
    """Send each path until one reads a file; report it once every control lacks it."""
    steps: list[str] = []
    original = attack.point.original if isinstance(attack.point.original, str) else ""
    once = _Once()
    for item in payloads(original=original):
        if item.wire and attack.point.kind in _NOT_DECODED:
            continue
        step, reported = await _one(attack, item, once)
        steps.append(f"{item.label}: {step}")
        if reported:
            attack.check(FAMILY, CheckStatus.failed, "; ".join(steps))
            return
    attack.check(FAMILY, CheckStatus.passed, "; ".join(steps) or "no path could travel here")


async def _one(attack: Attack, item: Payload, once: _Once) -> tuple[str, bool]:
    """Send one path (and the controls when it reads the file): what came of it, and whether
    it was reported."""
    exchange = await attack.send(item.value, f"traversal: {item.label}", wire=item.wire)
    if exchange is None or exchange.response is None:
        return "cannot travel here", False
    status = f"HTTP {exchange.response.status}"
    answers = attack.baseline.responses()
    content = file_content(item.kind, exchange.response, answers)
    if content is None:
        # A page that always shows such lines (a tutorial) proves nothing with them: say so.
        shown = any(structured(item.kind, t) for r in answers for t in texts(r))
        beyond = " beyond the baselines' own lines of that format" if shown else ""
        return f"{status}, no file contents{beyond}", False
    controls, spoiled = await _controls(attack, item, content, once)
    if spoiled:
        return f"{status}, {_NAMES[item.kind]} lines, but {spoiled}", False
    _report(attack, item, exchange, content, controls)
    return f"{status}, {_NAMES[item.kind]} contents: reported", True


async def _controls(
    attack: Attack, item: Payload, content: FileContent, once: _Once
) -> tuple[list[Exchange], str]:
    """Send the controls; the exchanges, and why the finding does not hold ("" when it does)."""
    missing = item.control(attack.token())
    # (value, wire, what it is, whether it spoils only with the very same lines)
    checks = [
        (missing, item.wire, "the same path to a file that does not exist", False),
        (item.bare, False, f"the bare name `{item.bare}`", False),
        *((v, item.wire, f"the same file without climbing (`{v}`)", True) for v in item.stays),
    ]
    sent: list[Exchange] = []
    for value, wire, what, same in checks:
        exchange = await once.send(attack, value, wire, what)
        if exchange is None or exchange.response is None:
            return sent, f"{what} could not be sent"
        sent.append(exchange)
        if same and _same_lines(item, content, exchange):
            # Every later path that stays inside gets the short form.
            why = "" if once.explained else _INSIDE
            once.explained = True
            return sent, f"{what} gets the same lines{why}; not counted"
        if not same and file_content(item.kind, exchange.response, attack.baseline.responses()):
            return sent, f"{what} gets them too: not counted"
    return sent, ""


def _same_lines(item: Payload, content: FileContent, exchange: Exchange) -> bool:
    """The control's answer holds every line the payload's answer brought."""
    assert exchange.response is not None
    held = {line for text in texts(exchange.response) for line in structured(item.kind, text)}
    return set(content.lines) <= held


def _report(
    attack: Attack,
    item: Payload,
    exchange: Exchange,
    content: FileContent,
    controls: list[Exchange],
) -> None:
    name = _NAMES[item.kind]
    unit = "lines in passwd format" if item.kind == "passwd" else "of its section headers"
    stays = ", ".join(f"`{value}`" for value in item.stays)
    detail = (
        f"the {item.label} path returns {name}: {len(content.lines)} {unit}, which no "
        "baseline holds; the same path to a file that does not exist, the bare name "
        f"`{item.bare}` and the same file without climbing ({stays}) do not return them"
    )
    roles = ["control: a file that does not exist", "control: the bare file name"]
    roles += [f"control: the same file without climbing `{value}`" for value in item.stays]
    attack.found(
        RULE,
        detail,
        exchange,
        payload=item.value,
        confidence=Confidence.firm,
        more=controls,
        roles=roles,
        excerpt=content.excerpt(),
    )
