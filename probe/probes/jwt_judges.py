"""Pure judges of the jwt probe: when a token counts as accepted, and what a result means.

`judge_baselines` learns the answers to compare with from the baselines (the valid token
twice, the token with one signature bit flipped, no token) and says when they cannot be told
apart; `Acceptance.accepted` is the verdict on one crafted token. The rest turn figures into
check outcomes: `summarise` for a family of forged tokens,
`judge_refresh` for refresh-token rotation, plus the tokens in URLs that are credentials and
the choice of identity and endpoint. The judges of time are in `jwt_clock`. No function here
sends anything.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from probe.compare import Reference, holds_data, is_refusal
from probe.exchange import ResponseRecord
from probe.findings import CheckStatus
from probe.identities import dig
from probe.probes.jwt_tokens import Jwt, parse
from probe.scenario.models import Endpoint, Scenario

#: Tags of endpoints that take credentials rather than a token (never the token's endpoint).
LOGIN_TAGS = frozenset({"auth", "login"})
#: Methods never sent by the probe: a DELETE replayed twenty times deletes twenty times.
NEVER_SENT = frozenset({"DELETE"})
# Claims that make a JWT in a URL a credential: it names a user, or it is built to expire
# like an access token (exp beside iat, iss or aud). A signed cursor ({"offset": 20}) is not.
_IDENTITY_CLAIMS = frozenset({"sub", "uid", "user_id", "userid", "email", "username", "upn"})
_ACCESS_CLAIMS = frozenset({"iat", "iss", "aud"})
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

    def other(self, response: ResponseRecord) -> bool:
        """True for another answer that is no refusal: a 2xx holding data that matches
        neither the valid answer nor a negative (another user's profile, say)."""
        if not 200 <= response.status < 300 or is_refusal(response) or not holds_data(response):
            return False
        if self.valid.matches(response):
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
        other: Not accepted, but answered 2xx with data that is neither the valid answer nor
            a negative one (`Acceptance.other`).
    """

    name: str
    how: str
    status: int | None
    accepted: bool | None
    error: str | None = None
    other: bool = False


def summarise(label: str, trials: Sequence[Trial]) -> tuple[CheckStatus, str]:
    """A family's check outcome: `fail` when any token was accepted, `pass` when every one got
    an answer and none was accepted, `error` when some got no answer. A family whose answers
    are all 5xx passes, saying the server errors on tokens it cannot parse."""
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
    return CheckStatus.passed, f"{head}: none accepted ({statuses(refused)}){_errors(refused)}"


def _errors(trials: Sequence[Trial]) -> str:
    """What 5xx answers to crafted tokens say: the server fails on tokens it cannot parse."""
    failing = [t for t in trials if t.status is not None and t.status >= 500]
    if not failing:
        return ""
    if len(failing) == len(trials):
        code = failing[0].status if len({t.status for t in failing}) == 1 else "5xx"
        return f"; the server errors ({code}) on tokens it cannot parse"
    return f"; {len(failing)} answered 5xx: the server errors on tokens it cannot parse"


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


def judge_refresh(
    first: ResponseRecord,
    second: ResponseRecord,
    token_path: str,
    refresh_path: str | None = None,
    sent: str = "",
) -> tuple[CheckStatus, str]:
    """The verdict on a refresh token's second use, the first having given an access token.

    `fail` when the second answer carries a new token: an access token other than the first
    answer's, or a refresh token (at `refresh_path`) other than the first answer's and the
    one `sent`. `pass` when it is refused, or when it repeats the first answer's tokens (a
    reuse grace period: the server answers a retried refresh with what it already issued, and
    no new token comes out), provided a re-issued token would differ (an opaque token, or a
    JWT with a time or id claim; the second use is sent over a second after the first).
    Anything else is `error`: it cannot be told."""
    access1, access2 = issued_token(first, token_path), issued_token(second, token_path)
    refresh1 = issued_token(first, refresh_path) if refresh_path else None
    refresh2 = issued_token(second, refresh_path) if refresh_path else None
    new_refresh = refresh2 is not None and refresh2 not in (refresh1, sent)
    if access2 is not None and access2 != access1:
        also = f" (and a new refresh token at {refresh_path!r})" if new_refresh else ""
        return CheckStatus.failed, (
            f"the same refresh token worked twice: the second use answered {second.status} "
            f"with a new access token at {token_path!r}{also}"
        )
    if new_refresh:
        return CheckStatus.failed, (
            f"the same refresh token worked twice: the second use answered {second.status} "
            f"with a new refresh token at {refresh_path!r}"
        )
    if access2 is not None:
        if not _varies(access2):
            return CheckStatus.error, (
                f"the second use answered {second.status} with the first answer's access "
                "token again, a JWT without iat, exp, nbf or jti that the server may issue "
                "alike every time: a repeated answer cannot be told from a new one"
            )
        return CheckStatus.passed, (
            f"no new token: the second use answered {second.status} with the same tokens as "
            "the first (a reuse grace period: the server repeats its answer to a retried "
            "refresh for a while, and issues nothing new)"
        )
    if is_refusal(second):
        return CheckStatus.passed, f"rotated: the second use was refused ({_said(second)})"
    return CheckStatus.error, (
        f"the second use answered {_said(second)} without an access token at {token_path!r} "
        "and without refusing: cannot tell"
    )


def _varies(token: str) -> bool:
    """True when re-issuing the token a second later would change it: opaque tokens (random,
    as far as can be told), or JWTs carrying a time or a unique id."""
    parsed = parse(token)
    return parsed is None or any(c in parsed.claims for c in ("iat", "exp", "nbf", "jti"))


# -- tokens in URLs -----------------------------------------------------------------------------


def jwt_in_url(url: str, known: Collection[str] = ()) -> str | None:
    """A JWT written into the URL (query, path or fragment, percent-encoded or not) that is a
    credential: one of the `known` tokens, or one whose claims name a user or read like an
    access token's (`is_credential`). A signed cursor or state value is no credential."""
    for match in _URL_JWT.finditer(unquote(url)):
        token = parse(match.group(0))
        if token is not None and (token.raw in known or is_credential(token)):
            return token.raw
    return None


def jwts_in_url(url: str) -> list[str]:
    """Every JWT written into the URL, credential or not, in order and once each."""
    found = (parse(m.group(0)) for m in _URL_JWT.finditer(unquote(url)))
    return list(dict.fromkeys(token.raw for token in found if token is not None))


def is_credential(token: Jwt) -> bool:
    """True for a JWT that says whom it authenticates (`sub`, `uid`, `user_id`, `email`,
    `username`...) or carries `exp` beside `iat`, `iss` or `aud`, as access tokens do."""
    claims = token.claims
    named = any(_present(claims.get(name)) for name in _IDENTITY_CLAIMS)
    return named or ("exp" in claims and any(name in claims for name in _ACCESS_CLAIMS))


def _present(value: Any) -> bool:
    return value not in (None, "", [], {}) and not isinstance(value, bool)


# -- choosing what to test ----------------------------------------------------------------------


def pick_endpoint(scenario: Scenario, identity: str, label: str | None) -> Endpoint | None:
    """The endpoint to send tokens to: `label` when given (even a DELETE: the caller skips
    it, saying so), else the first endpoint sent as `identity` that is neither a login nor a
    DELETE (GET first)."""
    if label is not None:
        return next((e for e in scenario.endpoints if e.label == label), None)
    own = [
        e
        for e in scenario.endpoints
        if e.identity == identity
        and e.method not in NEVER_SENT
        and not LOGIN_TAGS & {t.lower() for t in e.tags}
    ]
    return next((e for e in own if e.method == "GET"), own[0] if own else None)
