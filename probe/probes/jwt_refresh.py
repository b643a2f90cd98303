"""The jwt probe's refresh-rotation check: does a refresh token work more than once?

For an identity whose login has `refresh_path` and a `refresh` request: one fresh login (its
tokens apart from the identity's own, which are never used here), its refresh token sent in
the refresh request once (it must yield a new access token, else the check is `error`), then,
a little over a second later, the same request again (`jwt_judges.judge_refresh`): a new
access or refresh token is `jwt.refresh-not-rotated`; a refusal passes; the first answer's
tokens again (a reuse grace period) pass, saying so; anything else cannot be told (`error`).
Two refresh requests and a login. The jwt probe runs it after its token checks: a server that
detects the reuse may revoke every session of the user.

Every token the answers carry (at `refresh.token_path` and at the login's `refresh_path`) is
kept secret under a name of its own, numbered in order of appearance (`${ALICE_ACCESS_1}`,
`${ALICE_REFRESH_2}`), and the evidence shows the answers with those names, so a reader sees
whether the second answer repeats the first's tokens or brings new ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

import anyio

from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes.base import Found, ProbeContext, RequestSpec
from probe.probes.jwt_judges import issued_token, judge_refresh
from probe.probes.jwt_rules import PROBE_ID
from probe.probes.jwt_session import rule_named
from probe.scenario.models import Login, Refresh

CHECK = "refresh-rotation"
#: Seconds between the two uses: a token issued again a second later differs (its iat), so
#: an identical second answer is the first one repeated, not a new issue.
GAP = 1.1
_EXCERPT = 2000


@dataclass(frozen=True)
class RefreshOutcome:
    """The check's outcome and its finding, recorded by the caller.

    Attributes:
        status: The check's status.
        detail: The check's detail.
        found: The finding, when the refresh token worked twice.
    """

    status: CheckStatus
    detail: str
    found: Found | None = None


def refresh_request(base_url: str, refresh: Refresh, token: str) -> RequestSpec:
    """The refresh request carrying `token` in its field: a JSON or form body, or the query
    for GET."""
    headers = list(refresh.headers.items())
    url = base_url + refresh.path
    if refresh.method == "GET":
        joiner = "&" if "?" in url else "?"
        return RequestSpec("GET", url + joiner + urlencode({refresh.field: token}), tuple(headers))
    if refresh.form:
        body = urlencode({refresh.field: token}).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    else:
        body = json.dumps({refresh.field: token}).encode()
        headers.append(("Content-Type", "application/json"))
    return RequestSpec(refresh.method, url, tuple(headers), body)


def refresh_plan(login: Login | None) -> str | None:
    """The line `plan` shows for the check, or None when the identity has no refresh."""
    if login is None or login.refresh is None:
        return None
    refresh = login.refresh
    return (
        f"{PROBE_ID}: after the token checks, one fresh login, then {refresh.method} "
        f"{refresh.path} twice with its refresh token (rotation: 2 refresh requests and a "
        "login)"
    )


@dataclass
class _Names:
    """Placeholder names of the tokens the refresh answers carry, numbered per kind; the
    fresh login's own tokens keep the names the engine gave them (as in the requests)."""

    identity: str
    login: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def name(self, ctx: ProbeContext, value: str | None, kind: str) -> str:
        """How a token is told in the check: its `${NAME}` (kept secret under it when new),
        the fresh login's token it repeats, or "none"."""
        if not value:
            return "none"
        if value in self.login:
            return self.login[value]
        if value not in self.names:
            number = self.counts.get(kind, 0) + 1
            self.counts[kind] = number
            self.names[value] = f"{self.identity}_{kind}_{number}".upper()
            ctx.keep_secret(value, self.names[value])
        return "${" + self.names[value] + "}"

    def excerpt(self, exchange: Exchange) -> str:
        """The answer's body with the named tokens written as their placeholders."""
        response = exchange.response
        if response is None:
            return ""
        text = response.text()
        for value in sorted(self.names, key=len, reverse=True):
            text = text.replace(value, "${" + self.names[value] + "}")
        cut = text[:_EXCERPT]
        if response.truncated or len(text) > _EXCERPT:
            cut += "\n[... body cut]"
        return cut


async def refresh_rotation(ctx: ProbeContext, identity: str) -> RefreshOutcome:
    """Use a fresh login's refresh token twice; a second success is a finding."""
    login = ctx.scenario.identities[identity].login
    if login is None or login.refresh is None:
        why = f"{identity} has no login.refresh in the scenario: rotation not tested"
        return RefreshOutcome(CheckStatus.skipped, why)
    refresh = login.refresh
    where = f"{refresh.method} {refresh.path}"
    fresh = await ctx.fresh_login(identity, probe=PROBE_ID, purpose=CHECK)
    if fresh is None or not fresh.refresh_token:
        why = "a fresh login failed" if fresh is None else "its answer had no refresh token"
        return RefreshOutcome(CheckStatus.error, f"{why} (at {login.refresh_path!r})")
    names = _Names(identity)
    for value, kind in ((fresh.token, "access"), (fresh.refresh_token, "refresh")):
        ctx.keep_secret(value, f"{identity}_fresh_{kind}_token")
        names.login[value] = f"the fresh login's {kind} token"
    token_path = refresh.token_path or login.token_path
    request = refresh_request(ctx.scenario.target.base_url, refresh, fresh.refresh_token)
    first = await ctx.send(request, probe=PROBE_ID, purpose=f"{CHECK}-first")
    said_first = _tokens(ctx, names, first, token_path, login.refresh_path)
    if first.response is None or issued_token(first.response, token_path) is None:
        answer = first.response.status if first.response is not None else first.error
        why = (
            f"the first use of a fresh refresh token at {where} gave no access token at "
            f"{token_path!r} ({answer}): rotation cannot be tested"
        )
        return RefreshOutcome(CheckStatus.error, why)
    await anyio.sleep(GAP)
    second = await ctx.send(request, probe=PROBE_ID, purpose=f"{CHECK}-second")
    if second.response is None:
        return RefreshOutcome(CheckStatus.error, f"no answer ({second.error})")
    said_second = _tokens(ctx, names, second, token_path, login.refresh_path)
    status, detail = judge_refresh(
        first.response, second.response, token_path, login.refresh_path, fresh.refresh_token
    )
    said = f"{detail} (first answer: {said_first}; second answer: {said_second})"
    if status is not CheckStatus.failed:
        return RefreshOutcome(status, f"{where}: {said}")
    found = Found(
        rule=rule_named("refresh-not-rotated"),
        detail=f"a refresh token of {identity} at {where}: {said}",
        exchanges=[second, first],
        affected=[where],
        excerpts={0: names.excerpt(second), 1: names.excerpt(first)},
        notes={
            0: "the second use of the same refresh token: a new token again",
            1: "the first use",
        },
    )
    return RefreshOutcome(status, f"{where}: {said}", found)


def _tokens(
    ctx: ProbeContext,
    names: _Names,
    exchange: Exchange,
    token_path: str,
    refresh_path: str | None,
) -> str:
    """The tokens an answer carries, by their placeholders (kept secret as they come)."""
    access = issued_token(exchange.response, token_path)
    renewed = issued_token(exchange.response, refresh_path) if refresh_path else None
    if access is None and renewed is None:
        return "no token"
    said = f"access token {names.name(ctx, access, 'access')}"
    if refresh_path:
        said += f", refresh token {names.name(ctx, renewed, 'refresh')}"
    return said
