"""What the jwt probe would send, for `probe run --dry-run`: the lines of `JwtProbe.plan`.

The token is only known at run time (a login's answer), so the plan names the identity the
run will most likely test and the endpoint it would choose, and counts requests as the run
would send them for that identity: fresh logins for the wait-out only when it logs in.
"""

from __future__ import annotations

from probe.probes.jwt_clock import POLL_OFFSETS
from probe.probes.jwt_forged import QUERY_PARAMS, jwks_url
from probe.probes.jwt_judges import NEVER_SENT, pick_endpoint
from probe.probes.jwt_refresh import refresh_plan
from probe.probes.jwt_rules import PROBE_ID
from probe.probes.jwt_tokens import parse
from probe.scenario.models import Identity, JwtConfig, Scenario


def plan_lines(scenario: Scenario, config: JwtConfig) -> list[str]:
    """The plan's lines, in the order the run sends."""
    guess = config.identity or likely_identity(scenario)
    who = f"{guess}'s token" if guess else "the token of the first identity with a JWT"
    if guess and not config.identity:
        who += " (when it is a JWT)"
    endpoint = pick_endpoint(scenario, guess, config.endpoint) if guess else None
    if endpoint is not None and endpoint.method in NEVER_SENT:
        return [
            f"{PROBE_ID}: probes.jwt.endpoint names {endpoint.label}, a {endpoint.method}: "
            "no token is sent to it (every token check is skipped); the token's claims are "
            "still judged",
            *_refresh_lines(scenario, guess),
        ]
    where = endpoint.label if endpoint is not None else "the identity's first GET endpoint"
    lines = [
        f"{PROBE_ID}: on {where}, with {who}, as no identity: the valid token twice "
        "(once when the engine's baseline carried it), one signature bit flipped, no token",
        f"{PROBE_ID}: payload changed under the signature (2), signature stripped, two "
        "parts, alg none in 8 forms, a jwk header and 2 kid /dev/null tokens (15 requests)",
        f"{PROBE_ID}: RS/ES/PS tokens: GET "
        f"{jwks_url(scenario.target.base_url, config.jwks_url)}, then 4 HS256 tokens per "
        "fitting public key (at most 16)",
        f"{PROBE_ID}: the token in the query as "
        + " and ".join(f"?{p}=" for p in QUERY_PARAMS)
        + " (2 requests), then the valid token once more (it must still work)",
    ]
    lines += _secret_lines(config)
    identity = scenario.identities.get(guess) if guess else None
    lines += _wait_lines(config, identity)
    lines += _refresh_lines(scenario, guess)
    lines.append(
        f"{PROBE_ID}: every crafted token goes only to that endpoint (never a DELETE), "
        "through the scope guard and the request budget; a 429 is waited out once per token"
    )
    return lines


def likely_identity(scenario: Scenario) -> str | None:
    """The identity `run` will most likely test: the first that logs in or whose token is a
    JWT (a login's token is only known at run time)."""
    for name, identity in scenario.identities.items():
        if identity.login is not None or (identity.token and parse(identity.token)):
            return name
    return None


def _secret_lines(config: JwtConfig) -> list[str]:
    lines = []
    if config.weak_secrets:
        lines.append(
            f"{PROBE_ID}: HS tokens: the bundled weak secrets tried offline (no request); a hit "
            "is confirmed by 1 minted token"
        )
    lines.append(
        f"{PROBE_ID}: with a known signing secret: a control token and one minted with exp "
        "3 h ago (2 requests)"
    )
    if config.expired_token:
        lines.append(f"{PROBE_ID}: expired_token replayed once (1 request)")
    return lines


def _wait_lines(config: JwtConfig, identity: Identity | None) -> list[str]:
    if not config.wait_for_expiry:
        return []
    offsets = ", ".join(str(o) for o in POLL_OFFSETS[:4])
    if identity is not None and identity.login is None:
        return [
            f"{PROBE_ID}: a token that expires within {config.wait_for_expiry} s is waited "
            f"out: the identity's own token (no login), replayed up to {len(POLL_OFFSETS)} "
            f"times {offsets} ... s past exp"
        ]
    return [
        f"{PROBE_ID}: tokens that expire within {config.wait_for_expiry} s are waited "
        f"out: 2 fresh logins, 1 request, then up to {2 * len(POLL_OFFSETS)} replays "
        f"{offsets} ... s past exp"
    ]


def _refresh_lines(scenario: Scenario, identity: str | None) -> list[str]:
    spec = scenario.identities.get(identity) if identity else None
    line = refresh_plan(spec.login) if spec is not None else None
    if not line:
        return []
    return [f"{line} for {identity}, with the valid token sent before and after it"]
