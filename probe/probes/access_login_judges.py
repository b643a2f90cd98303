"""Pure judges of the access probe's user-enumeration check on endpoints tagged `login` (the
body fields and the made-up users are `access_login_fields`').

- Whether an answer stops the check (`stop_reason`): a 423 or 429, or words of a lockout, a
  disabled account or a rate limit in the text a user sees (`visible_lines`: no markup, no
  attribute), unless every answer of both sides holds that line (`static_words`: the page's
  own text); words of attempts left stop the known side only. Whether the known user's
  answers broke from their first ones unlike any unknown-user answer (`locking`): the account
  may be locking. Every further wrong password could lock it.
- Whether the answers for the known user (wrong password) and the unknown user differ
  (`judge_answers`; `judge_attempts` after words of attempts left): status, redirect target,
  body, with the user name each request sent blanked out of its answer first, in any letter
  case: "no account alice" and "no account qwzkr" say the same thing.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit

from probe.compare import Reference, blank_text, blank_tokens, differing_excerpt, flatten
from probe.exchange import ResponseRecord

_LOCKED = 423
_LIMITED = 429
_STOP_WORDS = re.compile(
    r"\block(?:ed|out)\b|locked out|too many|try again (?:later|in\b)|\b(?:disabled|suspended|"
    r"blocked|deactivated)\b|captcha|rate[ _-]?limit|throttl",
    re.IGNORECASE,
)
_ATTEMPT_WORDS = re.compile(
    r"(?:attempts?|tries) (?:remaining|left)|remaining (?:attempts|tries)", re.IGNORECASE
)
_COUNTS = re.compile(rb"\d+")
_TAGS = re.compile(r"<[^>]*>")
_SEPARATORS = re.compile(r"[_\W]+")
# Text read from an answer for words of a lockout or attempts left.
_READ = 65536


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


# -- stopping ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopSign:
    """An answer after which the real user gets no more wrong passwords.

    Attributes:
        reason: What the answer said (`423 Locked`, `401 saying 'disabled'`).
        attempts: True when it only counts the attempts left: an unknown user has no account
            to lock, so its side may still get its tries.
    """

    reason: str
    attempts: bool = False


def _markup(answer: ResponseRecord) -> bool:
    kind = answer.content_type
    return "html" in kind or "xml" in kind or answer.body.lstrip()[:1] == b"<"


def visible_lines(answer: ResponseRecord) -> list[str]:
    """The answer as a user reads it, in lines: markup's text between tags, entities decoded
    (tags and their attributes left out: a `<button disabled>` says nothing); JSON as one
    `key: value` line per value; a redirect's Location as words (`error=account_locked` reads
    "error account locked"); any other text by its lines."""
    lines: list[str] = []
    location = answer.header("location") if 300 <= answer.status < 400 else None
    if location:
        lines.append("location " + _SEPARATORS.sub(" ", unquote_plus(location)))
    text = answer.text(_READ)
    data = _json(answer.body)
    if data is not None:
        lines += [f"{path}: {value}" for path, value in flatten(data).items()]
        return lines
    if _markup(answer):
        text = html.unescape(_TAGS.sub("\n", text))
    return lines + [line.strip() for line in text.splitlines() if line.strip()]


def stop_words(answer: ResponseRecord) -> dict[str, str]:
    """The answer's lines that speak of a lockout, a disabled account or a rate limit (per-request
    values blanked), each with the words found."""
    found: dict[str, str] = {}
    for line in visible_lines(answer):
        match = _STOP_WORDS.search(line)
        if match:
            found.setdefault(blank_text(line.encode()), match.group(0))
    return found


def static_words(answers: Sequence[ResponseRecord]) -> frozenset[str]:
    """The stop-word lines every answer holds (the known and the unknown user's alike): the
    page's own text, such as a hint that accounts lock after ten failures, is no sign that an
    account is locking. Empty for no answers."""
    if not answers:
        return frozenset()
    common = set(stop_words(answers[0]))
    for answer in answers[1:]:
        common &= set(stop_words(answer))
    return frozenset(common)


def stop_reason(
    answer: ResponseRecord, static: Collection[str] = (), words: bool = True
) -> StopSign | None:
    """Why no further wrong password may go to the real user after this answer, or None: a
    423, a 429, words of a lockout, a disabled account or a rate limit (in the text a user
    sees, on a line that is not in `static`; none looked for when `words` is False), or
    attempts left."""
    if answer.status == _LOCKED:
        return StopSign("423 Locked")
    if answer.status == _LIMITED:
        return StopSign("429 Too Many Requests")
    if words:
        sign = next((w for line, w in stop_words(answer).items() if line not in static), None)
        if sign is not None:
            return StopSign(f"{answer.status} saying {sign!r}")
    found = _ATTEMPT_WORDS.search("\n".join(visible_lines(answer)))
    if found:
        return StopSign(f"{answer.status} saying {found.group(0)!r}", attempts=True)
    return None


# -- status and body --------------------------------------------------------------------------


def without_echo(answer: ResponseRecord, user: str) -> ResponseRecord:
    """The answer with the user name it was sent replaced by a placeholder, in its body and
    its Location: in any letter case (servers often store names in lower case), stripped,
    JSON-escaped, URL-encoded or HTML-escaped, and an email's local part."""
    names = {user, user.strip()}
    local, at, _ = user.strip().rpartition("@")
    if at and len(local) >= 4:
        names.add(local)
    forms: set[str] = set()
    for name in names:
        forms |= {name, json.dumps(name)[1:-1], quote(name, safe=""), quote_plus(name)}
        forms.add(html.escape(name))
    ordered = sorted((f for f in forms if f), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(f) for f in ordered), re.IGNORECASE)
    text = pattern.sub("<user>", answer.body.decode("utf-8", "replace"))
    headers = tuple(
        (name, pattern.sub("<user>", value) if name.lower() == "location" else value)
        for name, value in answer.headers
    )
    return replace(answer, body=text.encode(), headers=headers)


def without_nonces(answer: ResponseRecord) -> ResponseRecord:
    """The answer with token-like runs blanked as `probe.compare` blanks them (a CSP nonce of
    random bytes, with or without digits), before its visible text is read line by line."""
    text = blank_tokens(answer.body.decode("utf-8", "replace"))
    return replace(answer, body=text.encode())


def without_counts(answer: ResponseRecord) -> ResponseRecord:
    """The answer with every run of digits made one placeholder: "4 attempts left" and "3
    attempts left" say the same thing."""
    return replace(answer, body=_COUNTS.sub(b"<n>", answer.body))


@dataclass(frozen=True)
class AnswerVerdict:
    """Whether the known and the unknown user's answers differ.

    Attributes:
        differs: "status", "body" or None.
        detail: What differed, or why they count as the same.
    """

    differs: str | None
    detail: str


def redirect_target(answer: ResponseRecord) -> str | None:
    """A redirect's Location as compared: its path and query (scheme and host left out),
    per-request values blanked; "" without a Location; None for an answer that is no
    redirect."""
    if not 300 <= answer.status < 400:
        return None
    location = answer.header("location")
    if not location:
        return ""
    parts = urlsplit(location.strip())
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return blank_text(target.encode())


def _targets(
    known: Sequence[ResponseRecord], unknown: Sequence[ResponseRecord]
) -> AnswerVerdict | None:
    """A verdict on redirects that go elsewhere for each side (each side always to one
    place), or None when they do not."""
    known_to = {redirect_target(a) for a in known}
    unknown_to = {redirect_target(a) for a in unknown}
    if len(known_to) != 1 or len(unknown_to) != 1 or known_to == unknown_to or None in known_to:
        return None
    status = known[0].status
    said = (
        f"both {status}, to {known_to.pop() or 'nowhere'!r} for the known user and to "
        f"{unknown_to.pop() or 'nowhere'!r} for the unknown one"
    )
    return AnswerVerdict("redirect target", said)


def judge_answers(
    known: Sequence[ResponseRecord], unknown: Sequence[ResponseRecord]
) -> AnswerVerdict:
    """Compare the answers (echo already blanked, two or more per side). Statuses differ when
    each side is constant and the two constants differ; so do redirect targets (the
    Location's path and query). Bodies differ when no answer of one side matches the other
    side's reference, both ways (so a value volatile on either side is no difference)."""
    known_status = {a.status for a in known}
    unknown_status = {a.status for a in unknown}
    if len(known_status) == 1 and len(unknown_status) == 1 and known_status != unknown_status:
        said = f"{known[0].status} for the known user, {unknown[0].status} for the unknown one"
        return AnswerVerdict("status", said)
    if len(known_status) > 1 or len(unknown_status) > 1:
        said = "the status changed between tries of the same request; no verdict on bodies"
        return AnswerVerdict(None, said)
    elsewhere = _targets(known, unknown)
    if elsewhere is not None:
        return elsewhere
    known_ref = Reference.learn(known[0], *known[1:])
    unknown_ref = Reference.learn(unknown[0], *unknown[1:])
    crossed = any(known_ref.matches(a) for a in unknown) or any(
        unknown_ref.matches(a) for a in known
    )
    if crossed:
        return AnswerVerdict(None, f"both answered {_same(known[0])} with the same body")
    excerpt = differing_excerpt(known[0], unknown[0])
    said = f"both {known[0].status}, with other bodies (known user | unknown user): {excerpt}"
    return AnswerVerdict("body", said)


def _same(answer: ResponseRecord) -> str:
    target = redirect_target(answer)
    return f"{answer.status} to {target!r}" if target else str(answer.status)


def judge_attempts(
    known: Sequence[ResponseRecord], unknown: Sequence[ResponseRecord]
) -> AnswerVerdict:
    """Compare the answers of a run stopped by words of attempts left (echo blanked; the
    unknown user tried again after the known user's words). Such words for the known user
    only are a difference: a count of attempts kept for existing accounts tells them apart.
    When both sides speak of attempts, the answers are compared with every number made one
    placeholder (a count per address or per name goes down on both sides)."""
    said = {
        side: _attempt_words(answers) for side, answers in (("known", known), ("unknown", unknown))
    }
    if said["known"] and not said["unknown"]:
        detail = (
            f"the known user's answer says {said['known']!r}, the unknown user's answers never "
            "speak of attempts: a count kept for existing accounts only"
        )
        return AnswerVerdict("body", detail)
    if said["unknown"] and not said["known"]:
        # A count that reaches the unknown user first is kept per address, not per account.
        detail = f"only the unknown user's answers speak of attempts ({said['unknown']!r})"
        return AnswerVerdict(None, detail)
    return judge_answers([without_counts(a) for a in known], [without_counts(a) for a in unknown])


def _attempt_words(answers: Sequence[ResponseRecord]) -> str | None:
    for answer in answers:
        found = _ATTEMPT_WORDS.search("\n".join(visible_lines(answer)))
        if found:
            return found.group(0)
    return None


def locking(known: Sequence[ResponseRecord], unknown: Sequence[ResponseRecord]) -> str | None:
    """How the known user's latest answer broke from its first ones (another status, or a
    redirect elsewhere; from the third answer on, a body unlike the first two), when no
    unknown-user answer looks like the new one (a server taking turns with another release
    answers both users so); None while it keeps its class."""
    if len(known) < 2:
        return None
    first, latest = known[0], known[-1]
    if latest.status != first.status:
        if any(u.status == latest.status for u in unknown):
            return None
        return f"{first.status} at first, then {latest.status}"
    target = redirect_target(latest)
    if target != redirect_target(first):
        if any(redirect_target(u) == target for u in unknown):
            return None
        return f"a redirect to {redirect_target(first)!r} at first, then to {target!r}"
    if len(known) < 3 or Reference.learn(known[0], known[1]).matches(latest):
        return None
    if any(Reference.learn(u).matches(latest) for u in unknown):
        return None
    return f"another body: {differing_excerpt(first, latest)}"
