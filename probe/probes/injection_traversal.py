"""The traversal payload family of the injection probe: paths that leave the intended folder.

The paths of `injection_traversal_judges.payloads` are tried one by one at the point, sent raw
(an HTTP client would resolve `../`); the percent-encoded ones go in exactly as written, and
only where something URL-decodes them (a path, a query string, a form), not in JSON fields or
headers. An answer counts when it holds the named file in its own format, absent from every
baseline (`injection_traversal_judges.file_content`). Two controls must then come back without
it: the same path to a file that does not exist (the content follows the path) and the file's
bare name (no search page matching the keyword). The first proven path is reported and ends
the family at that point.
"""

from __future__ import annotations

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


async def run(attack: Attack) -> None:
    """Send each path until one reads a file; report it once both controls lack the file."""
    steps: list[str] = []
    for item in payloads():
        if item.wire and attack.point.kind in _NOT_DECODED:
            continue
        step, reported = await _one(attack, item)
        steps.append(f"{item.label}: {step}")
        if reported:
            attack.check(FAMILY, CheckStatus.failed, "; ".join(steps))
            return
    attack.check(FAMILY, CheckStatus.passed, "; ".join(steps) or "no path could travel here")


async def _one(attack: Attack, item: Payload) -> tuple[str, bool]:
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
    controls, spoiled = await _controls(attack, item)
    if spoiled:
        return f"{status}, {_NAMES[item.kind]} lines, but {spoiled}", False
    _report(attack, item, exchange, content, controls)
    return f"{status}, {_NAMES[item.kind]} contents: reported", True


async def _controls(attack: Attack, item: Payload) -> tuple[list[Exchange], str]:
    """Send both controls; the exchanges, and why the finding does not hold ("" when it does)."""
    missing = item.control(attack.token())
    sent: list[Exchange] = []
    checks = (
        (missing, item.wire, "the same path to a file that does not exist"),
        (item.bare, False, f"the bare name `{item.bare}`"),
    )
    for value, wire, what in checks:
        exchange = await attack.send(value, f"traversal control: {what}", wire=wire)
        if exchange is None or exchange.response is None:
            return sent, f"{what} could not be sent"
        sent.append(exchange)
        if file_content(item.kind, exchange.response, attack.baseline.responses()):
            return sent, f"{what} gets them too: not counted"
    return sent, ""


def _report(
    attack: Attack,
    item: Payload,
    exchange: Exchange,
    content: FileContent,
    controls: list[Exchange],
) -> None:
    name = _NAMES[item.kind]
    unit = "lines in passwd format" if item.kind == "passwd" else "of its section headers"
    detail = (
        f"the {item.label} path returns {name}: {len(content.lines)} {unit}, which no "
        "baseline holds; the same path to a file that does not exist, and the bare name "
        f"`{item.bare}`, do not return them"
    )
    attack.found(
        RULE,
        detail,
        exchange,
        payload=item.value,
        confidence=Confidence.firm,
        more=controls,
        roles=("control: a file that does not exist", "control: the bare file name"),
        excerpt=content.excerpt(),
    )
