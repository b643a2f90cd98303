"""The jwt probe's refresh-rotation check: does a refresh token work more than once?

For an identity whose login has `refresh_path` and a `refresh` request: one fresh login (its
tokens apart from the identity's own, which are never used here), its refresh token sent in
the refresh request once (it must yield a new access token, else the check is `error`), then
the same request again. A second new access token is `jwt.refresh-not-rotated`; a refusal
passes; anything else cannot be told (`error`). Three requests and a login.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from probe.findings import CheckStatus
from probe.probes.base import Found, ProbeContext, RequestSpec
from probe.probes.jwt_judges import issued_token, judge_refresh
from probe.probes.jwt_rules import PROBE_ID
from probe.probes.jwt_session import rule_named
from probe.scenario.models import Login, Refresh

CHECK = "refresh-rotation"


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
        f"{PROBE_ID}: one fresh login, then {refresh.method} {refresh.path} twice with its "
        "refresh token (rotation)"
    )


async def refresh_rotation(ctx: ProbeContext, identity: str) -> None:
    """Use a fresh login's refresh token twice; report a second success."""
    spec = ctx.scenario.identities[identity]
    login = spec.login
    if login is None or login.refresh is None:
        why = f"{identity} has no login.refresh in the scenario: rotation not tested"
        ctx.check(PROBE_ID, CHECK, None, CheckStatus.skipped, why)
        return
    refresh = login.refresh
    where = f"{refresh.method} {refresh.path}"
    fresh = await ctx.fresh_login(identity, probe=PROBE_ID, purpose=CHECK)
    if fresh is None or not fresh.refresh_token:
        why = "a fresh login failed" if fresh is None else "its answer had no refresh token"
        ctx.check(PROBE_ID, CHECK, None, CheckStatus.error, f"{why} (at {login.refresh_path!r})")
        return
    token_path = refresh.token_path or login.token_path
    request = refresh_request(ctx.scenario.target.base_url, refresh, fresh.refresh_token)
    first = await ctx.send(request, probe=PROBE_ID, purpose=f"{CHECK}-first")
    if issued_token(first.response, token_path) is None:
        answer = first.response.status if first.response is not None else first.error
        why = (
            f"the first use of a fresh refresh token at {where} gave no access token at "
            f"{token_path!r} ({answer}): rotation cannot be tested"
        )
        ctx.check(PROBE_ID, CHECK, None, CheckStatus.error, why)
        return
    second = await ctx.send(request, probe=PROBE_ID, purpose=f"{CHECK}-second")
    if second.response is None:
        ctx.check(PROBE_ID, CHECK, None, CheckStatus.error, f"no answer ({second.error})")
        return
    status, detail = judge_refresh(second.response, token_path)
    ctx.check(PROBE_ID, CHECK, None, status, f"{where}: {detail}")
    if status is CheckStatus.failed:
        found = Found(
            rule=rule_named("refresh-not-rotated"),
            detail=f"a refresh token of {identity} at {where}: {detail}",
            exchanges=[second, first],
            affected=[where],
            notes={0: "the second use: a new access token again", 1: "the first use"},
        )
        ctx.report(PROBE_ID, found)
