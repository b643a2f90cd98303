"""Pure judges of the jwt probe: when a token counts as accepted, and what a result means.

`judge_baselines` learns the answers to compare with from the baselines (the valid token
twice, the token with one signature bit flipped, no token) and says when they cannot be told
apart; `Acceptance.accepted` is the verdict on one crafted token. The rest turn figures into
check outcomes: `summarise` for a family of forged tokens, `judge_past_exp` for expiry,
`judge_refresh` for refresh-token rotation, plus the clock skew from a Date header and the
choice of identity and endpoint. No function here sends anything.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeGuard
from urllib.parse import unquote

from probe.compare import Reference, is_refusal
from probe.exchange import ResponseRecord
from probe.findings import CheckStatus
from probe.identities import dig
from probe.probes.jwt_tokens import Jwt, parse
from probe.scenario.models import Endpoint, Scenario

#: Seconds past `exp` that count as ordinary clock leeway (detail only).
LEEWAY = 60.0
#: Seconds past `exp` up to which acceptance is a long leeway (low); beyond is high.
LONG_LEEWAY = 300.0
#: When the wait-out replays a token, in seconds past its `exp`: doubling at first, then a
#: replay just past each threshold, so each band is told with the fewest requests.
POLL_OFFSETS = (1, 2, 4, 8, 16, 32, 61, 121, 181, 241, 301)
#: Tags of endpoints that take credentials rather than a token (never the token's endpoint).
LOGIN_TAGS = frozenset({"auth", "login"})
# A Date header has one-second resolution; a smaller gap is no skew.
_SKEW_FLOOR = 2.0
_URL_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


# -- deciding "accepted" ------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    """The answers a crafted token's answer is compared with.

    Attributes:
        valid: The valid token's answer, learnt from two samples.
        negatives: The answers of the negative baselines that differ from the valid answer.
    """

    valid: Reference
    negatives: tuple[Reference, ...]

    def accepted(self, response: ResponseRecord) -> bool:
        """True when `response` is the valid token's answer and none of the negatives'."""
        if not self.valid.matches(response):
            return False
        return not any(negative.matches(response) for negative in self.negatives)


@dataclass(frozen=True)
class Baselines:
    """What the baselines allow.

    Attributes:
        acceptance: The judge of crafted tokens, or None when the baselines are inconclusive.
        problem: Why they are inconclusive ("" when they are not).
        signature_ignored: True when the token with a flipped signature bit got the valid
            answer while no token did not: the server does not check signatures.
    """

    acceptance: Acceptance | None
    problem: str = ""
    signature_ignored: bool = False


def judge_baselines(
    valid: Sequence[ResponseRecord], flipped: ResponseRecord, anonymous: ResponseRecord
) -> Baselines:
    """The judge of crafted tokens from the baselines' answers, or why there can be none.

    Inconclusive: the valid token refused, its answer unstable, or the answer without a token
    the same as the valid one (the endpoint does not need the token, or it answers alike to
    everyone). A flipped signature answered like the valid token is no reason to give up: it
    is the finding itself, and no token stays the negative.
    """
    reference = Reference.learn(valid[0], *valid[1:])
    if _alike(reference, anonymous):
        everyone = " (a 200 with an error body to everyone)" if is_refusal(valid[0]) else ""
        return Baselines(
            None,
            f"the answer without a token ({_said(anonymous)}) cannot be told apart from the "
            f"valid token's{everyone}: the endpoint does not need the token, or answers alike "
            "to everyone; choose one that needs it with probes.jwt.endpoint",
        )
    if is_refusal(valid[0]):
        return Baselines(
            None,
            f"the valid token is refused on this endpoint ({_said(valid[0])}): nothing "
            "to compare forged tokens with; choose one it opens with probes.jwt.endpoint",
        )
    if not reference.stable:
        return Baselines(
            None,
            "the valid token's answer changed between two identical requests: forged "
            "tokens' answers cannot be compared with it",
        )
    negatives = [Reference.learn(anonymous)]
    ignored = _alike(reference, flipped)
    if not ignored:
        negatives.insert(0, Reference.learn(flipped))
    return Baselines(Acceptance(reference, tuple(negatives)), signature_ignored=ignored)


def _alike(reference: Reference, response: ResponseRecord) -> bool:
    """True when the answer passes for the valid token's."""
    return reference.matches(response)


def _said(response: ResponseRecord) -> str:
    body = " ".join(response.text(80).split())
    return f"{response.status} {body!r}" if body else str(response.status)


# -- a family of forged tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """One crafted token sent, and its verdict.

    Attributes:
        name: The forgery's stable name (`alg-none-nOnE-dot`).
        how: How the token was built, for the report.
        status: The answer's status, or None when none came.
        accepted: The verdict; None when no answer came.
        error: Why no answer came.
    """

    name: str
    how: str
    status: int | None
    accepted: bool | None
    error: str | None = None


def summarise(label: str, trials: Sequence[Trial]) -> tuple[CheckStatus, str]:
    """A family's check outcome: `fail` when any token was accepted, `pass` when every one got
    an answer and none was accepted, `error` when some got no answer."""
    if not trials:
        return CheckStatus.skipped, f"{label}: no token to send"
    accepted = [t.name for t in trials if t.accepted]
    unanswered = [t for t in trials if t.accepted is None]
    refused = [t for t in trials if t.accepted is False]
    head = f"{label} ({len(trials)} token{'s' if len(trials) != 1 else ''})"
    if accepted:
        rest = f"; not accepted: {statuses(refused)}" if refused else ""
        return CheckStatus.failed, f"{head}: accepted: {', '.join(accepted)}{rest}"
    if unanswered:
        why = unanswered[0].error or "no answer"
        said = f"{len(unanswered)} got no answer ({why})"
        if refused:
            said = f"{said}; not accepted: {statuses(refused)}"
        return CheckStatus.error, f"{head}: {said}"
    return CheckStatus.passed, f"{head}: none accepted ({statuses(refused)})"


def statuses(trials: Sequence[Trial]) -> str:
    """The answers' statuses, counted (`all 401`, `401 x6, 400 x2`); a 2xx that was not
    accepted names its token and says it answered otherwise."""
    counts = Counter(str(t.status) for t in trials if not _success(t))
    others = [f"{t.name} {t.status} with another answer" for t in trials if _success(t)]
    if len(counts) == 1 and not others and len(trials) > 1:
        return f"all {next(iter(counts))}"
    shown = [f"{status} x{n}" if n > 1 else status for status, n in counts.items()]
    return ", ".join(shown + others)


def _success(trial: Trial) -> bool:
    return trial.status is not None and 200 <= trial.status < 300


# -- expiry -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryVerdict:
    """What an expiry test showed.

    Attributes:
        status: The check's outcome.
        detail: The figures, for the check and the finding.
        rule: The rule name that fires ("expired-accepted", "long-expiry-leeway"), or None.
        past: Seconds past `exp` the token was last accepted, if it was.
    """

    status: CheckStatus
    detail: str
    rule: str | None = None
    past: float | None = None


def judge_past_exp(
    accepted: float | None, refused: float | None, *, still_accepted: bool = False
) -> ExpiryVerdict:
    """The verdict from the latest time past `exp` a token was accepted and the first it was
    refused (seconds; None when it never was). `still_accepted`: the test ended with the token
    still accepted (a wait that ran out), so the figure is a lower bound."""
    if accepted is None:
        if refused is None:
            return ExpiryVerdict(CheckStatus.error, "no replay past exp got an answer")
        return ExpiryVerdict(CheckStatus.passed, f"refused {duration(refused)} past exp")
    said = f"accepted {duration(accepted)} past exp"
    if refused is not None and refused > accepted:
        said += f", refused {duration(refused)} past exp"
    elif still_accepted:
        said += " and still accepted when the test ended"
    if accepted > LONG_LEEWAY:
        return ExpiryVerdict(CheckStatus.failed, said, "expired-accepted", accepted)
    if accepted > LEEWAY:
        if still_accepted:
            said += " (the server may not check exp at all: a secret or an expired_token tells)"
        return ExpiryVerdict(CheckStatus.failed, said, "long-expiry-leeway", accepted)
    if still_accepted:
        return ExpiryVerdict(
            CheckStatus.error,
            f"{said}; up to {LEEWAY:g} s is ordinary clock leeway, so this tells nothing yet "
            "(a longer wait_for_expiry, a secret or an expired_token would)",
            past=accepted,
        )
    return ExpiryVerdict(
        CheckStatus.passed, f"{said} (within ordinary clock leeway)", None, accepted
    )


def duration(seconds: float) -> str:
    """`45 s`, `5 min`, `3 h`, `2 days`: the largest unit that reads well."""
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if abs(seconds) >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.0f} s"


def clock_skew(response: ResponseRecord, local: float) -> float:
    """How far the server's clock (its Date header) is ahead of `local` (a Unix time taken
    when the answer came); 0 without a readable Date or when the gap is within its
    one-second resolution."""
    value = response.header("date")
    if not value:
        return 0.0
    try:
        server = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0
    skew = server - local
    return skew if abs(skew) > _SKEW_FLOOR else 0.0


def expires_in(token: Jwt, now: float) -> float | None:
    """Seconds until the token's `exp` (negative once past), or None without a numeric exp."""
    exp = token.claims.get("exp")
    return float(exp) - now if _number(exp) else None


def lifetime(token: Jwt) -> float | None:
    """`exp - iat` in seconds, or None when either is missing."""
    exp, iat = token.claims.get("exp"), token.claims.get("iat")
    if _number(exp) and _number(iat):
        return float(exp) - float(iat)
    return None


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def poll_offsets(room: float) -> tuple[int, ...]:
    """The replay times past `exp` that fit in `room` seconds after it."""
    return tuple(offset for offset in POLL_OFFSETS if offset <= room)


# -- refresh rotation ---------------------------------------------------------------------------


def issued_token(response: ResponseRecord | None, token_path: str) -> str | None:
    """The access token at `token_path` of a 2xx JSON answer, or None."""
    if response is None or not 200 <= response.status < 300:
        return None
    try:
        data = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    token = dig(data, token_path)
    return token if isinstance(token, str) and token else None


def judge_refresh(second: ResponseRecord, token_path: str) -> tuple[CheckStatus, str]:
    """The verdict on a refresh token's second use (the first worked): a new access token
    again is `fail`; a refusal is `pass`; anything else is `error` (cannot tell)."""
    if issued_token(second, token_path) is not None:
        return CheckStatus.failed, (
            f"the same refresh token worked twice: the second use answered {second.status} "
            f"with a new access token at {token_path!r}"
        )
    if is_refusal(second):
        return CheckStatus.passed, f"rotated: the second use was refused ({_said(second)})"
    return CheckStatus.error, (
        f"the second use answered {_said(second)} without an access token at {token_path!r} "
        "and without refusing: cannot tell"
    )


# -- tokens in URLs -----------------------------------------------------------------------------


def jwt_in_url(url: str) -> str | None:
    """A JWT written into the URL (query, path or fragment, percent-encoded or not)."""
    for match in _URL_JWT.finditer(unquote(url)):
        if parse(match.group(0)) is not None:
            return match.group(0)
    return None


# -- choosing what to test ----------------------------------------------------------------------


def pick_endpoint(scenario: Scenario, identity: str, label: str | None) -> Endpoint | None:
    """The endpoint to send tokens to: `label` when given, else the first endpoint sent as
    `identity` that is not a login (GET first)."""
    if label is not None:
        return next((e for e in scenario.endpoints if e.label == label), None)
    own = [
        e
        for e in scenario.endpoints
        if e.identity == identity and not LOGIN_TAGS & {t.lower() for t in e.tags}
    ]
    return next((e for e in own if e.method == "GET"), own[0] if own else None)
