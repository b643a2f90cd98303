"""The access probe's replays of one endpoint: without credentials, with an invalid token, as
another identity (BOLA) and as an identity without the admin role (function level).

Each replay is judged against the entitled caller's answer (the endpoint's identity, or its
owner), learnt once per endpoint and identity from two samples: the engine's baseline when it
was sent as that identity, and one or two more requests. Nothing here changes an identity's
token: credentials are read (`ProbeContext.credentials`), invalid tokens are sent as no identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from probe.compare import Reference
from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes.access_judges import describe, equivalent, invalid_token, reference_problem
from probe.probes.access_rules import ADMIN_TAG, PROBE_ID, PUBLIC_TAG, RULES
from probe.probes.base import Credentials, Found, ProbeContext, RequestSpec
from probe.redact import CREDENTIAL_HEADERS
from probe.scenario.models import Endpoint, Identity

_RULES = {rule.id.split(".", 1)[1]: rule for rule in RULES}
# Probes never replay a DELETE: the first one may have removed what the next would test.
NEVER_REPLAYED = frozenset({"DELETE"})
FLIPPED = "a JWT with one signature bit flipped"


@dataclass(frozen=True)
class Learnt:
    """An entitled caller's answer to one endpoint, learnt from two samples.

    Attributes:
        identity: Who sent it.
        exchanges: The samples (the first is shown in evidence).
        reference: The answer to compare replays with, or None when `problem` is set.
        problem: Why there is no usable reference.
    """

    identity: str
    exchanges: tuple[Exchange, ...]
    reference: Reference | None
    problem: str | None = None


def has_tag(identity: Identity, tag: str) -> bool:
    """True when the identity carries the tag (compared without case)."""
    return tag in {t.lower() for t in identity.tags}


def has_admin_tag(ctx: ProbeContext, identity: str) -> bool:
    """True when the named identity carries the admin tag."""
    return has_tag(ctx.scenario.identities[identity], ADMIN_TAG)


def tagged(endpoint: Endpoint, tag: str) -> bool:
    """True when the endpoint carries the tag (compared without case)."""
    return tag in {t.lower() for t in endpoint.tags}


def _learnt(identity: str, samples: list[Exchange]) -> Learnt:
    failed = next((x for x in samples if x.response is None), None)
    if failed is not None:
        return Learnt(identity, tuple(samples), None, f"its request failed ({failed.error})")
    answers = [x.response for x in samples if x.response is not None]
    problem = reference_problem(answers)
    reference = None if problem else Reference.learn(answers[0], *answers[1:])
    return Learnt(identity, tuple(samples), reference, problem)


class EndpointReplays:
    """The replays of one endpoint; `open` is set once anonymous callers got its answer."""

    def __init__(self, ctx: ProbeContext, endpoint: Endpoint) -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        self.open = False
        self._learnt: dict[str, Learnt] = {}

    async def run(self) -> None:
        """The checks that apply to the endpoint, anonymous callers first."""
        if self.endpoint.identity is not None:
            await self.unauthenticated(self.endpoint.identity)
        if tagged(self.endpoint, ADMIN_TAG):
            await self.function_level()
        if self.endpoint.owner is not None:
            await self.bola(self.endpoint.owner)

    # -- sending --------------------------------------------------------------------------------

    def _check(self, name: str, status: CheckStatus, detail: str) -> None:
        self.ctx.check(PROBE_ID, name, self.endpoint, status, detail)

    async def _send(self, spec: RequestSpec, purpose: str, identity: str | None) -> Exchange:
        return await self.ctx.send(
            spec, probe=PROBE_ID, purpose=purpose, endpoint=self.endpoint, identity=identity
        )

    async def learn(self, identity: str) -> Learnt:
        """The identity's answer to the endpoint, from the baseline and more samples."""
        if identity not in self._learnt:
            samples = self._baseline_as(identity)
            spec = self.ctx.endpoint_request(self.endpoint)
            while len(samples) < 2 and all(x.response is not None for x in samples):
                samples.append(await self._send(spec, f"reference:{identity}", identity))
            self._learnt[identity] = _learnt(identity, samples)
        return self._learnt[identity]

    def _baseline_as(self, identity: str) -> list[Exchange]:
        """The engine's baseline, when it was sent with the identity's credentials."""
        baseline = self.ctx.baseline(self.endpoint)
        if baseline is None or baseline.response is None or baseline.identity != identity:
            return []
        return [baseline] if "authenticated" in baseline.tags else []

    # -- unauthenticated ------------------------------------------------------------------------

    async def unauthenticated(self, identity: str) -> None:
        """Replay without credentials and with an invalid token; judge against the identity."""
        names = ("unauthenticated", "invalid-token")
        skip = self._unauthenticated_skip()
        if skip:
            for name in names:
                self._check(name, CheckStatus.skipped, skip)
            return
        credentials = await self.ctx.credentials(identity)
        if credentials is None:
            for name in names:
                why = f"identity {identity!r} has no working credentials: nothing to compare"
                self._check(name, CheckStatus.error, why)
            return
        learnt = await self.learn(identity)
        if learnt.reference is None:
            for name in names:
                self._check(name, CheckStatus.error, f"as {identity}, {learnt.problem}")
            return
        anonymous = await self._anonymous(credentials.header)
        bad, how = await self._invalid_token(credentials)
        accepted = [
            x
            for x in (
                self._judge("unauthenticated", anonymous, learnt, "without credentials"),
                self._judge("invalid-token", bad, learnt, f"with {how}"),
            )
            if x is not None
        ]
        if accepted:
            self.open = True
            self._report_unauthenticated(accepted, learnt)

    async def _invalid_token(self, credentials: Credentials) -> tuple[Exchange, str]:
        """The request with an invalid token in the identity's header, and what it was."""
        forged, is_jwt = invalid_token(credentials.token)
        if is_jwt:
            # Flipping the bit back gives the real signature: it stays as secret.
            name = f"{credentials.identity}_token_flipped_signature"
            self.ctx.keep_secret(forged.rsplit(".", 1)[1], name)
        else:
            self.ctx.public_token(forged)  # random characters: nothing secret to hide
        spec = self._without_credentials(credentials.header)
        spec = spec.with_headers(credentials.line(forged))
        sent = await self._send(spec, "unauthenticated:invalid-token", None)
        return sent, FLIPPED if is_jwt else "a random token of its shape"

    def _unauthenticated_skip(self) -> str | None:
        if tagged(self.endpoint, PUBLIC_TAG):
            return "tagged public: meant for everyone, not replayed without credentials"
        if self.endpoint.method in NEVER_REPLAYED:
            return f"{self.endpoint.method} is never replayed"
        return None

    def _without_credentials(self, header: str = "") -> RequestSpec:
        """The endpoint's request without any credential header of its own (nor `header`)."""
        spec = self.ctx.endpoint_request(self.endpoint)
        drop = CREDENTIAL_HEADERS | {header.lower()}
        kept = tuple((n, v) for n, v in spec.headers if n.lower() not in drop)
        return RequestSpec(spec.method, spec.url, kept, spec.content)

    async def _anonymous(self, header: str) -> Exchange | str:
        """The request without credentials, or why it cannot be sent without them."""
        if header.lower() in {n.lower() for n in self.ctx.scenario.target.headers}:
            return f"target.headers sets {header} on every request: none goes without it"
        spec = self._without_credentials(header)
        return await self._send(spec, "unauthenticated:no-credentials", None)

    def _judge(
        self, check: str, sent: Exchange | str, learnt: Learnt, how: str
    ) -> tuple[Exchange, str] | None:
        """Record one replay's check; the exchange and how it was sent when it was accepted."""
        if isinstance(sent, str) or sent.response is None:
            why = sent if isinstance(sent, str) else f"request failed ({sent.error})"
            self._check(check, CheckStatus.error, why)
            return None
        assert learnt.reference is not None
        if equivalent(learnt.reference, sent.response):
            said = f"{how}: the same answer as {learnt.identity} ({describe(sent.response)})"
            self._check(check, CheckStatus.failed, said)
            return sent, how
        said = f"{how}: {describe(sent.response)}, not {learnt.identity}'s answer"
        self._check(check, CheckStatus.passed, said)
        return None

    def _report_unauthenticated(
        self, accepted: Sequence[tuple[Exchange, str]], learnt: Learnt
    ) -> None:
        ways = " and ".join(how for _, how in accepted)
        detail = (
            f"{self.endpoint.method} {self.endpoint.rendered_path} gave anonymous callers the "
            f"answer it gives {learnt.identity} ({ways})"
        )
        if [how for _, how in accepted] == [f"with {FLIPPED}"]:
            detail += "; only the bad signature got through: signatures are not verified"
        exchanges = [x for x, _ in accepted] + [learnt.exchanges[0]]
        notes = {i: f"sent {how}" for i, (_, how) in enumerate(accepted)}
        notes[len(accepted)] = f"as {learnt.identity}: the reference answer"
        found = Found(
            _RULES["unauthenticated"], detail, exchanges, endpoint=self.endpoint.label, notes=notes
        )
        self.ctx.report(PROBE_ID, found)

    # -- other identities ---------------------------------------------------------------------

    async def bola(self, owner: str) -> None:
        """Replay as each identity other than the owner, without the admin tag."""
        if self._covered("bola"):
            return
        others = [n for n in self.ctx.scenario.identities if n != owner]
        admins = [n for n in others if has_admin_tag(self.ctx, n)]
        users = [n for n in others if n not in admins]
        if not users:
            why = "no other identity to read the owner's object as"
            if admins:
                why = f"the other identities ({', '.join(admins)}) carry the admin tag"
            self._check("bola", CheckStatus.skipped, why)
            return
        note = f"; not tried as {', '.join(admins)} (admin)" if admins else ""
        await self._as_others("bola", owner, users, note)

    async def function_level(self) -> None:
        """Replay as each identity without the admin tag."""
        if self._covered("function-level"):
            return
        admin = self.endpoint.identity
        if admin is None:
            why = "the endpoint has no identity (an admin) whose answer is the reference"
            self._check("function-level", CheckStatus.error, why)
            return
        users = [
            n for n in self.ctx.scenario.identities if n != admin and not has_admin_tag(self.ctx, n)
        ]
        if not users:
            self._check("function-level", CheckStatus.skipped, "no identity without the admin tag")
            return
        note = "" if has_admin_tag(self.ctx, admin) else f"; note: {admin} has no admin tag"
        await self._as_others("function-level", admin, users, note)

    def _covered(self, check: str) -> bool:
        """True (and the check skipped) when the endpoint is never replayed, or anonymous
        callers already got its answer: every identity can then read it too."""
        if self.endpoint.method in NEVER_REPLAYED:
            self._check(check, CheckStatus.skipped, f"{self.endpoint.method} is never replayed")
            return True
        if self.open:
            said = "not tried: anonymous callers get its answer (access.unauthenticated)"
            self._check(check, CheckStatus.skipped, said)
            return True
        return False

    async def _as_others(self, check: str, entitled: str, others: list[str], note: str) -> None:
        """Send as each of `others`; report the answers equivalent to `entitled`'s."""
        if await self.ctx.credentials(entitled) is None:
            why = f"identity {entitled!r} has no working credentials: nothing to compare"
            self._check(check, CheckStatus.error, why)
            return
        learnt = await self.learn(entitled)
        if learnt.reference is None:
            self._check(check, CheckStatus.error, f"as {entitled}, {learnt.problem}")
            return
        accepted: list[Exchange] = []
        said: list[str] = []
        answered = 0
        # A cookie or key written into the endpoint's headers belongs to the entitled caller.
        spec = self._without_credentials()
        for name in others:
            if await self.ctx.credentials(name) is None:
                said.append(f"{name}: no working credentials, not tried")
                continue
            sent = await self._send(spec, check, name)
            if sent.response is None:
                said.append(f"{name}: request failed ({sent.error})")
                continue
            answered += 1
            if equivalent(learnt.reference, sent.response):
                accepted.append(sent)
                said.append(f"{name}: the same answer ({describe(sent.response)})")
            else:
                said.append(f"{name}: {describe(sent.response)}")
        detail = f"against {entitled}'s answer: " + "; ".join(said) + note
        if accepted:
            self._check(check, CheckStatus.failed, detail)
            self._report_others(check, learnt, accepted)
        else:
            # Without a single answer from another identity, nothing was tested.
            self._check(check, CheckStatus.passed if answered else CheckStatus.error, detail)

    def _report_others(self, check: str, learnt: Learnt, accepted: list[Exchange]) -> None:
        names = ", ".join(x.identity or "" for x in accepted)
        where = f"{self.endpoint.method} {self.endpoint.rendered_path}"
        if check == "bola":
            detail = f"{names} got {learnt.identity}'s object at {where}: the owner is not checked"
        else:
            detail = f"{names}, without the admin tag, got the admin answer of {where}"
        exchanges = [accepted[0], learnt.exchanges[0], *accepted[1:]]
        notes = {i: f"as {x.identity}" for i, x in enumerate(exchanges)}
        notes[1] = f"as {learnt.identity}: the reference answer"
        found = Found(_RULES[check], detail, exchanges, endpoint=self.endpoint.label, notes=notes)
        self.ctx.report(PROBE_ID, found)
