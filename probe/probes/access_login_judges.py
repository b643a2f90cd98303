"""Pure judges of the access probe's user-enumeration check on endpoints tagged `login`.

- Which body fields hold the user name and the password (`find_user_field`,
  `find_password_field`), the body with them replaced (`with_fields`), and an unknown user of
  the known one's shape (`made_up_user`), so that user-name rules answer both alike.
- Whether an answer stops the check (`stop_reason`): a 423 or 429, or words of a lockout, a
  disabled account or a rate limit; words of attempts left stop the known side only. Whether
  the known user's answers broke from their first ones unlike any unknown-user answer
  (`locking`): the account may be locking. Every further wrong password could lock it.
- Whether the answers for the known user (wrong password) and the unknown user differ
  (`judge_answers`; `judge_attempts` after words of attempts left), with the user name each
  request sent blanked out of its answer first, in any letter case: "no account alice" and "no
  account qwzkr" say the same thing.
- Whether their answer times show a consistent gap (`judge_timing`, see its docstring).
"""

from __future__ import annotations

import copy
import html
import json
import re
import secrets
import statistics
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_plus

from probe.compare import Reference, differing_excerpt
from probe.exchange import ResponseRecord

#: Default user-name fields, first match wins (compared without case or separators).
USER_FIELDS = ("username", "email", "user", "login")
#: Fewer answer times per side than this give no timing verdict (2 + timing_samples of 5).
MIN_TIMING_SAMPLES = 7
#: The least gap between the slowest answer of the fast side and the fastest of the slow one.
MIN_GAP = 0.050
#: The gap must also be this many times the spread (max - min) within either side.
SPREAD_FACTOR = 2.0
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
_NAME = re.compile(r"[^a-z0-9]")
_KINDS = (string.digits, string.ascii_lowercase, string.ascii_uppercase)
_MIN_MADE_UP = 6
_COUNTS = re.compile(rb"\d+")


def _norm(name: str) -> str:
    return _NAME.sub("", name.lower())


# -- fields -----------------------------------------------------------------------------------


def _paths(body: dict[str, Any], prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """(dotted path, value) of every key, parents before children, up to three levels."""
    out: list[tuple[str, Any]] = []
    for key, value in body.items():
        path = f"{prefix}{key}"
        out.append((path, value))
        if isinstance(value, dict) and depth < 2:
            out += _paths(value, f"{path}.", depth + 1)
    return out


def get_field(body: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path of a body, or None."""
    value: Any = body
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def find_user_field(body: dict[str, Any], configured: str | None) -> str | None:
    """The dotted path of the user name: `configured` when the body has it, else the first of
    USER_FIELDS (by that order, then nearest the top) holding a non-empty string."""
    if configured is not None:
        return configured if isinstance(get_field(body, configured), str) else None
    paths = [(p, v) for p, v in _paths(body) if isinstance(v, str) and v]
    for name in USER_FIELDS:
        for path, _ in paths:
            if _norm(path.rsplit(".", 1)[-1]) == name:
                return path
    return None


def find_password_field(body: dict[str, Any], configured: str | None) -> str | None:
    """The dotted path of the password: `configured` when the body has it, else the first key
    whose name holds "pass" (password, passwd, passphrase)."""
    if configured is not None:
        return configured if get_field(body, configured) is not None else None
    for path, value in _paths(body):
        if "pass" in _norm(path.rsplit(".", 1)[-1]) and not isinstance(value, dict):
            return path
    return None


def with_fields(body: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A copy of the body with each dotted path set to its value."""
    out = copy.deepcopy(body)
    for dotted, value in values.items():
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return out


def made_up_user(known: str) -> str:
    """A user name that exists nowhere, new per call, of the known one's shape (so that user-name
    rules answer both alike): each ASCII letter and digit replaced by a random one of its kind
    (the case kept), every other character kept in its place; a name under six characters is
    lengthened with characters of its last letter's or digit's kind (a three-letter name could
    well exist). An email address keeps its domain."""
    local, at, domain = known.rpartition("@")
    if at and local and domain:
        return f"{_shaped(local)}@{domain}"
    return _shaped(known)


def _like(char: str) -> str:
    kind = next((k for k in _KINDS if char in k), None)
    return secrets.choice(kind) if kind else char


def _shaped(name: str) -> str:
    kinds = [c for c in name if any(c in k for k in _KINDS)]
    for _ in range(8):
        out = "".join(_like(c) for c in name)
        while kinds and len(out) < _MIN_MADE_UP:
            out += _like(kinds[-1])
        if out.lower() != name.lower():
            return out
    return name + (kinds[-1] if kinds else name[-1:]) * 2  # no letter or digit to change


def wrong_password(real: Any) -> str:
    """A random password, never the real one, shaped to pass common length and character
    rules (so that a policy check answers both sides alike)."""
    while True:
        candidate = f"Wr0ng-{secrets.token_urlsafe(12)}!"
        if candidate != real:
            return candidate


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


def stop_reason(answer: ResponseRecord) -> StopSign | None:
    """Why no further wrong password may go to the real user after this answer, or None: a
    423, a 429, words of a lockout, a disabled account or a rate limit, or attempts left."""
    if answer.status == _LOCKED:
        return StopSign("423 Locked")
    if answer.status == _LIMITED:
        return StopSign("429 Too Many Requests")
    text = answer.text(65536)
    found = _STOP_WORDS.search(text)
    if found:
        return StopSign(f"{answer.status} saying {found.group(0)!r}")
    found = _ATTEMPT_WORDS.search(text)
    if found:
        return StopSign(f"{answer.status} saying {found.group(0)!r}", attempts=True)
    return None


# -- status and body --------------------------------------------------------------------------


def without_echo(answer: ResponseRecord, user: str) -> ResponseRecord:
    """The answer with the user name it was sent replaced by a placeholder: in any letter case
    (servers often store names in lower case), stripped, JSON-escaped, URL-encoded or
    HTML-escaped, and an email's local part."""
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


def judge_answers(
    known: Sequence[ResponseRecord], unknown: Sequence[ResponseRecord]
) -> AnswerVerdict:
    """Compare the answers (echo already blanked, two or more per side). Statuses differ when
    each side is constant and the two constants differ. Bodies differ when no answer of one
    side matches the other side's reference, both ways (so a value volatile on either side is
    no difference)."""
    known_status = {a.status for a in known}
    unknown_status = {a.status for a in unknown}
    if len(known_status) == 1 and len(unknown_status) == 1 and known_status != unknown_status:
        said = f"{known[0].status} for the known user, {unknown[0].status} for the unknown one"
        return AnswerVerdict("status", said)
    if len(known_status) > 1 or len(unknown_status) > 1:
        said = "the status changed between tries of the same request; no verdict on bodies"
        return AnswerVerdict(None, said)
    known_ref = Reference.learn(known[0], *known[1:])
    unknown_ref = Reference.learn(unknown[0], *unknown[1:])
    crossed = any(known_ref.matches(a) for a in unknown) or any(
        unknown_ref.matches(a) for a in known
    )
    if crossed:
        return AnswerVerdict(None, f"both answered {known[0].status} with the same body")
    excerpt = differing_excerpt(known[0], unknown[0])
    said = f"both {known[0].status}, with other bodies (known user | unknown user): {excerpt}"
    return AnswerVerdict("body", said)


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
        found = _ATTEMPT_WORDS.search(answer.text(65536))
        if found:
            return found.group(0)
    return None


def locking(known: Sequence[ResponseRecord], unknown: Sequence[ResponseRecord]) -> str | None:
    """How the known user's latest answer broke from its first ones (another status; from the
    third answer on, a body unlike the first two), when no unknown-user answer looks like the
    new one (a server taking turns with another release answers both users so); None while
    it keeps its class."""
    if len(known) < 2:
        return None
    first, latest = known[0], known[-1]
    if latest.status != first.status:
        if any(u.status == latest.status for u in unknown):
            return None
        return f"{first.status} at first, then {latest.status}"
    if len(known) < 3 or Reference.learn(known[0], known[1]).matches(latest):
        return None
    if any(Reference.learn(u).matches(latest) for u in unknown):
        return None
    return f"another body: {differing_excerpt(first, latest)}"


# -- timing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimingVerdict:
    """Whether the answer times of the two sides show a consistent gap.

    Attributes:
        gap: True when they do (see `judge_timing`).
        slower: "known" or "unknown": the side whose answers were all slower, or None.
        detail: The figures.
    """

    gap: bool
    slower: str | None
    detail: str


def _ms(values: Sequence[float]) -> str:
    return "/".join(f"{v * 1000:.0f}" for v in values)


def judge_timing(known: Sequence[float], unknown: Sequence[float]) -> TimingVerdict:
    """The slowest time of each side is set aside (network and scheduling noise only ever add
    time, and one hiccup must not hide a real gap). A consistent gap then needs all of: every
    time of one side above every time of the other; the clear gap (fastest of the slow side
    minus slowest of the fast side) at least MIN_GAP; and that gap at least SPREAD_FACTOR
    times the spread within either side. Fewer than MIN_TIMING_SAMPLES times a side give no
    gap.

    With seven samples a side (the default) of one random delay for both sides, simulations
    of uniform (0-0.3 s and 0-3 s), exponential and log-normal delays found a false gap in at
    most 3 of 200 000 tries. A delay that is at random either short or long (two modes, half
    and half) can still fool it about once in 1000: the odds of one side drawing only long
    ones.
    A real difference of work (a password hash computed for existing users only) is a step
    of constant size with little scatter, and passes all three.
    """
    figures = (
        f"known user {_ms(known)} ms (median {statistics.median(known) * 1000:.0f}), "
        f"unknown user {_ms(unknown)} ms (median {statistics.median(unknown) * 1000:.0f})"
    )
    if min(len(known), len(unknown)) < MIN_TIMING_SAMPLES:
        return TimingVerdict(False, None, f"{figures}: too few to judge")
    kept = {"known": sorted(known)[:-1], "unknown": sorted(unknown)[:-1]}
    if min(kept["known"]) > max(kept["unknown"]):
        slower, faster = "known", "unknown"
    elif min(kept["unknown"]) > max(kept["known"]):
        slower, faster = "unknown", "known"
    else:
        return TimingVerdict(False, None, f"{figures}: the two sides overlap")
    slow, fast = kept[slower], kept[faster]
    gap = min(slow) - max(fast)
    spread = max(max(slow) - min(slow), max(fast) - min(fast))
    if gap < MIN_GAP:
        said = f"{figures}: the {slower} user is slower by only {gap * 1000:.0f} ms"
        return TimingVerdict(False, slower, said)
    if gap < SPREAD_FACTOR * spread:
        said = (
            f"{figures}: a gap of {gap * 1000:.0f} ms is within twice the scatter of one "
            f"side ({spread * 1000:.0f} ms)"
        )
        return TimingVerdict(False, slower, said)
    said = (
        f"{figures}: leaving out the slowest of each side, every {slower}-user answer was "
        f"slower, by at least {gap * 1000:.0f} ms (scatter within a side at most "
        f"{spread * 1000:.0f} ms)"
    )
    return TimingVerdict(True, slower, said)
