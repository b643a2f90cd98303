"""The access probe: can anyone, another user, or a user without the admin role get an answer
meant for someone else; does the login tell who has an account; does the API store privilege
fields a client sends?

It runs beside the other probes, one endpoint at a time, and never sends a DELETE. Per endpoint:

1. With an `identity` (not tagged `public`): the identity's answer is learnt from two samples
   (the engine's baseline and one more request), then the request is sent without credentials
   and with an invalid token (checks `unauthenticated`, `invalid-token`).
2. Tagged `admin`: sent as each identity without the `admin` tag and compared with the
   endpoint's own identity's answer (`function-level`).
3. With an `owner`: sent as each other identity without the `admin` tag and compared with the
   owner's answer (`bola`). Steps 2 and 3 are skipped when step 1 found the endpoint open to
   anonymous callers (every identity can read it then) or answering every path alike.
4. Tagged `login`: a wrong password for the endpoint's own user against an unknown user, in
   2 + `timing_samples` pairs, for the answers and their times (`user-enumeration`,
   `enumeration-timing`); see `access_login`.
5. With `mass_assignment`, after every other endpoint: read back, write with privilege fields
   added where the body's own fields are (inside a wrapper), read back (`mass-assignment`);
   see `access_mass`.

Every "same answer" is `probe.compare`'s: a 2xx, not a refusal, holding data, the same body once
volatile parts are left out (`access_judges.equivalent`); an accepted replay is checked against
a random path beside the endpoint (a catch-all answers it alike). A replay's answer may also be
the entitled caller's with a few per-viewer parts (`"current_user": null`, `can_edit`), unless
the differing values are masked or withheld (the server filters for the viewer:
`access_viewers`); a BOLA finding is firm only when the answers name the object or its owner
(`access_owners`). The anonymous replays are in `access_replay`, the other identities' in
`access_others`, the pure judges in `access_judges`, `access_viewers`, `access_owners`,
`access_login_judges`, `access_login_fields` and `access_mass_judges`, the rules in
`access_rules`. Checks that apply to no endpoint get one target-wide `skipped` check saying
why.
"""

from __future__ import annotations

from probe.findings import CheckStatus
from probe.probes.access_login import ANSWERS, TIMING, LoginCheck
from probe.probes.access_mass import CHECK as MASS_CHECK
from probe.probes.access_mass import MassAssignmentCheck
from probe.probes.access_mass_judges import field_home, where
from probe.probes.access_others import OtherIdentities
from probe.probes.access_replay import NEVER_REPLAYED, EndpointReplays, has_tag, tagged
from probe.probes.access_rules import ADMIN_TAG, LOGIN_TAG, PROBE_ID, PUBLIC_TAG, RULES
from probe.probes.base import Probe, ProbeContext
from probe.scenario.models import AccessConfig, Endpoint, Scenario

#: Every check the probe records, per endpoint.
CHECKS = (
    "unauthenticated",
    "invalid-token",
    "function-level",
    "bola",
    ANSWERS,
    TIMING,
    MASS_CHECK,
)

__all__ = ["CHECKS", "AccessProbe"]


class AccessProbe(Probe):
    """Anonymous callers, other users and non-admins replayed; logins compared; privilege
    fields written and read back."""

    id = PROBE_ID
    title = "Access control"
    rules = RULES

    def plan(self, scenario: Scenario) -> list[str]:
        """What `run` would send, a line per endpoint and check."""
        config = _config(scenario.probes.access)
        lines: list[str] = []
        for endpoint in scenario.endpoints:
            lines += _plan_replays(scenario, endpoint)
        for endpoint in scenario.endpoints:
            if tagged(endpoint, LOGIN_TAG):
                lines.append(_plan_login(scenario, endpoint, config))
        for endpoint in scenario.endpoints:
            if endpoint.mass_assignment is not None:
                lines.append(_plan_mass(scenario, endpoint))
        if not lines:
            lines.append(
                f"{self.id}: no endpoint has an identity, an owner, the admin or login tag, or "
                "mass_assignment; nothing is sent"
            )
        return lines

    async def run(self, ctx: ProbeContext) -> None:
        """The replays endpoint by endpoint, then the logins, then mass assignment."""
        config = _config(ctx.config(self.id))
        _not_applicable(ctx)
        for endpoint in ctx.scenario.endpoints:
            replays = EndpointReplays(ctx, endpoint)
            await replays.run()
            await OtherIdentities(replays).run()
        for endpoint in ctx.scenario.endpoints:
            if tagged(endpoint, LOGIN_TAG):
                await LoginCheck(ctx, endpoint, config).run()
        # Last: a vulnerable API keeps the privilege it was given, which would change what
        # the identity sees in the checks above.
        for endpoint in ctx.scenario.endpoints:
            if endpoint.mass_assignment is not None:
                await MassAssignmentCheck(ctx, endpoint).run()


def _config(value: object) -> AccessConfig:
    return value if isinstance(value, AccessConfig) else AccessConfig()


def _names(endpoints: list[Endpoint]) -> str:
    labels = [e.label for e in endpoints]
    return ", ".join(labels[:5]) + (", ..." if len(labels) > 5 else "")


def _not_applicable(ctx: ProbeContext) -> None:
    """One target-wide skipped check per check that no endpoint asks for."""
    endpoints = ctx.scenario.endpoints
    anonymous = [e for e in endpoints if e.identity is None]
    if anonymous:
        said = (
            f"{len(anonymous)} endpoint(s) without an identity have no authenticated answer "
            f"to compare with: {_names(anonymous)}"
        )
        ctx.check(PROBE_ID, "unauthenticated", None, CheckStatus.skipped, said)
    asked = (
        (
            "function-level",
            "no endpoint is tagged admin",
            [tagged(e, ADMIN_TAG) for e in endpoints],
        ),
        ("bola", "no endpoint names an owner", [e.owner is not None for e in endpoints]),
        (ANSWERS, "no endpoint is tagged login", [tagged(e, LOGIN_TAG) for e in endpoints]),
        (
            MASS_CHECK,
            "no endpoint opts in with mass_assignment",
            [e.mass_assignment is not None for e in endpoints],
        ),
    )
    for check, why, wanted in asked:
        if not any(wanted):
            ctx.check(PROBE_ID, check, None, CheckStatus.skipped, why)


def _url(scenario: Scenario, endpoint: Endpoint) -> str:
    return f"{endpoint.method} {scenario.target.base_url}{endpoint.rendered_path}"


def _plan_replays(scenario: Scenario, endpoint: Endpoint) -> list[str]:
    if endpoint.method in NEVER_REPLAYED:
        return []
    url = _url(scenario, endpoint)
    lines: list[str] = []
    identity = endpoint.identity
    if identity is not None and not tagged(endpoint, PUBLIC_TAG):
        lines.append(
            f"{PROBE_ID}: {url}: up to 2 as {identity} (the reference), 1 without credentials, "
            "1 with an invalid token (and 1 GET to a random path beside it when one gets the "
            "reference answer)"
        )
    if tagged(endpoint, ADMIN_TAG) and identity is not None:
        users = [
            n for n, i in scenario.identities.items() if n != identity and not has_tag(i, ADMIN_TAG)
        ]
        if users:
            lines.append(f"{PROBE_ID}: {url}: 1 each as {', '.join(users)} (no admin tag)")
    owner = endpoint.owner
    if owner is not None:
        others = [
            n for n, i in scenario.identities.items() if n != owner and not has_tag(i, ADMIN_TAG)
        ]
        if others:
            lines.append(
                f"{PROBE_ID}: {url}: up to 2 as the owner {owner}, 1 each as {', '.join(others)}"
            )
    return lines


def _plan_login(scenario: Scenario, endpoint: Endpoint, config: AccessConfig) -> str:
    most = 2 + config.timing_samples
    return (
        f"{PROBE_ID}: {_url(scenario, endpoint)}: up to {most} wrong passwords for its own "
        f"user and {most} for an unknown user, in pairs, which goes first drawn at random per "
        "pair; stops at the first lockout or limit answer, or a known-user answer that breaks "
        "from its first ones; the real password is never sent"
    )


def _plan_mass(scenario: Scenario, endpoint: Endpoint) -> str:
    settings = endpoint.mass_assignment
    assert settings is not None
    read = settings.read or f"GET {endpoint.rendered_path}"
    home = where(field_home(endpoint.json_body)) if isinstance(endpoint.json_body, dict) else ""
    return (
        f"{PROBE_ID}: {_url(scenario, endpoint)}: read back ({read}), the body with "
        f"{', '.join(settings.fields)} added {home}, read back again (when that write is "
        "refused with a 400 or 422: each field alone, each followed by a read-back)"
    )
