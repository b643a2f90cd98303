"""The access probe's replays of one endpoint: without credentials, with an invalid token, as
another identity (BOLA) and as an identity without the admin role (function level).

Each replay is judged against the entitled caller's answer (the endpoint's identity, or its
owner), the same or with a few per-viewer parts (`access_viewers`; an anonymous answer with
`"current_user": null` beside the data counts), learnt once per endpoint and identity from two
samples: the engine's baseline when it
was sent as that identity, and one or two more requests. Nothing here changes an identity's
token: credentials are read (`ProbeContext.credentials`), invalid tokens are sent as no identity.

A replay that gets the entitled caller's answer is checked once more against a catch-all: the
same caller sends one GET to a random path beside the endpoint's (`sibling_path`). When that
path gets the same answer too (the entitled one, or the replay's own), the server answers
every path alike (a single-page app's page, a catch-all route): that is no data of the
endpoint's, and nothing is reported. The replays as other identities (BOLA, function level)
are in `access_others`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from probe.compare import Reference
from probe.exchange import Exchange, ResponseRecord
from probe.findings import CheckStatus
from probe.probes.access_judges import (
    describe,
    equivalent,
    invalid_token,
    reference_problem,
    sibling_path,
)
from probe.probes.access_owners import Naming, identity_values, object_values
from probe.probes.access_rules import ADMIN_TAG, PROBE_ID, PUBLIC_TAG, RULES
from probe.probes.access_viewers import viewer_parts
from probe.probes.base import Credentials, Found, ProbeContext, RequestSpec
from probe.redact import CREDENTIAL_HEADERS
from probe.scenario.models import Endpoint, Identity

RULES_BY_NAME = {rule.id.split(".", 1)[1]: rule for rule in RULES}
# Probes never replay a DELETE: the first one may have removed what the next would test.
NEVER_REPLAYED = frozenset({"DELETE"})
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})
FLIPPED = "a JWT with one signature bit flipped"
PUBLIC_HINT = "if this endpoint is public by design, tag it `public`"


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
        #: Set once a catch-all is seen: what the random path beside the endpoint got.
        self.catch_all: str | None = None
        self._learnt: dict[str, Learnt] = {}
        self._siblings: dict[str | None, str | None] = {}

    async def run(self) -> None:
        """The anonymous replays, when the endpoint has an identity (other identities are
        `access_others`'s, after these)."""
        if self.endpoint.identity is not None:
            await self.unauthenticated(self.endpoint.identity)

    # -- sending --------------------------------------------------------------------------------

    def check(self, name: str, status: CheckStatus, detail: str) -> None:
        """Record one of the endpoint's checks."""
        self.ctx.check(PROBE_ID, name, self.endpoint, status, detail)

    async def send(self, spec: RequestSpec, purpose: str, identity: str | None) -> Exchange:
        """Send a request of the probe about this endpoint."""
        return await self.ctx.send(
            spec, probe=PROBE_ID, purpose=purpose, endpoint=self.endpoint, identity=identity
        )

    async def learn(self, identity: str) -> Learnt:
        """The identity's answer to the endpoint, from the baseline and more samples."""
        if identity not in self._learnt:
            samples = self._baseline_as(identity)
            spec = self.ctx.endpoint_request(self.endpoint)
            while len(samples) < 2 and all(x.response is not None for x in samples):
                samples.append(await self.send(spec, f"reference:{identity}", identity))
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
                self.check(name, CheckStatus.skipped, skip)
            return
        credentials = await self.ctx.credentials(identity)
        if credentials is None:
            for name in names:
                why = f"identity {identity!r} has no working credentials: nothing to compare"
                self.check(name, CheckStatus.error, why)
            return
        learnt = await self.learn(identity)
        if learnt.reference is None:
            for name in names:
                self.check(name, CheckStatus.error, f"as {identity}, {learnt.problem}")
            return
        anonymous = await self._anonymous(credentials.header)
        bad, how = await self._invalid_token(credentials)
        values = Naming(
            object_values(self.endpoint),
            identity_values(self.ctx.scenario.identities[identity], credentials.token),
        )
        replays = [
            (check, sent, way, self._accepts(sent, learnt, values))
            for check, sent, way in (
                ("unauthenticated", anonymous, "without credentials"),
                ("invalid-token", bad, f"with {how}"),
            )
        ]
        like: ResponseRecord | None = None
        for _, sent, _, parts in replays:
            if like is None and isinstance(parts, tuple) and isinstance(sent, Exchange):
                like = sent.response
        # Only an accepted replay costs the one request to a random path beside the endpoint.
        self.catch_all = await self.sibling(learnt, None, like) if like else None
        accepted = [
            got
            for check, sent, way, parts in replays
            if (got := self._judge(check, sent, learnt, way, parts)) is not None
        ]
        if accepted:
            self.open = True
            self._report_unauthenticated(accepted, learnt)

    def _accepts(
        self, sent: Exchange | str, learnt: Learnt, values: Naming
    ) -> tuple[str, ...] | str | None:
        """The per-viewer parts by which an anonymous replay's answer differs from the
        reference (empty: the same answer); words on a filtered answer; None when it is not
        the reference."""
        if isinstance(sent, str) or sent.response is None:
            return None
        reference = learnt.reference
        assert reference is not None
        if equivalent(reference, sent.response):
            return ()
        samples = [x.response for x in learnt.exchanges if x.response is not None]
        return viewer_parts(reference, samples, sent.response, values, anonymous=True)

    async def sibling(
        self, learnt: Learnt, identity: str | None, like: ResponseRecord | None = None
    ) -> str | None:
        """The request to a random path beside the endpoint (`GET /path`) when, sent as
        `identity` (None: anonymous), it gets the entitled caller's answer again, or the
        accepted replay's answer `like` (a page that follows the viewer): a catch-all. None
        when it does not. Sent once per endpoint and identity."""
        if identity not in self._siblings:
            path = sibling_path(self.endpoint.rendered_path)
            url = self.ctx.endpoint_request(self.endpoint, path=path, query={}).url
            headers = _no_body_headers(self.without_credentials().headers)
            sent = await self.send(RequestSpec("GET", url, headers), "catch-all", identity)
            answer = sent.response
            same = answer is not None and (
                (learnt.reference is not None and equivalent(learnt.reference, answer))
                or (like is not None and equivalent(Reference.learn(like), answer))
            )
            self._siblings[identity] = f"GET {path}" if same else None
        return self._siblings[identity]

    async def _invalid_token(self, credentials: Credentials) -> tuple[Exchange, str]:
        """The request with an invalid token in the identity's header, and what it was."""
        forged, is_jwt = invalid_token(credentials.token)
        if is_jwt:
            # Flipping the bit back gives the real signature: it stays as secret.
            name = f"{credentials.identity}_token_flipped_signature"
            self.ctx.keep_secret(forged.rsplit(".", 1)[1], name)
        else:
            self.ctx.public_token(forged)  # random characters: nothing secret to hide
        spec = self.without_credentials(credentials.header)
        spec = spec.with_headers(credentials.line(forged))
        sent = await self.send(spec, "unauthenticated:invalid-token", None)
        return sent, FLIPPED if is_jwt else "a random token of its shape"

    def _unauthenticated_skip(self) -> str | None:
        if tagged(self.endpoint, PUBLIC_TAG):
            return "tagged public: meant for everyone, not replayed without credentials"
        if self.endpoint.method in NEVER_REPLAYED:
            return f"{self.endpoint.method} is never replayed"
        return None

    def without_credentials(self, header: str = "") -> RequestSpec:
        """The endpoint's request without any credential header of its own (nor `header`):
        a cookie or key written into the endpoint's headers belongs to its identity."""
        spec = self.ctx.endpoint_request(self.endpoint)
        drop = CREDENTIAL_HEADERS | {header.lower()}
        kept = tuple((n, v) for n, v in spec.headers if n.lower() not in drop)
        return RequestSpec(spec.method, spec.url, kept, spec.content)

    async def _anonymous(self, header: str) -> Exchange | str:
        """The request without credentials, or why it cannot be sent without them."""
        if header.lower() in {n.lower() for n in self.ctx.scenario.target.headers}:
            return f"target.headers sets {header} on every request: none goes without it"
        spec = self.without_credentials(header)
        return await self.send(spec, "unauthenticated:no-credentials", None)

    def _judge(
        self,
        check: str,
        sent: Exchange | str,
        learnt: Learnt,
        how: str,
        parts: tuple[str, ...] | str | None,
    ) -> tuple[Exchange, str, tuple[str, ...]] | None:
        """Record one replay's check (`parts` from `_accepts`); the exchange, how it was sent
        and its per-viewer parts when it was accepted."""
        if isinstance(sent, str) or sent.response is None:
            why = sent if isinstance(sent, str) else f"request failed ({sent.error})"
            self.check(check, CheckStatus.error, why)
            return None
        if not isinstance(parts, tuple):
            note = f" ({parts})" if parts else ""
            said = f"{how}: {describe(sent.response)}, not {learnt.identity}'s answer{note}"
            self.check(check, CheckStatus.passed, said)
            return None
        but = f" but for per-viewer parts {', '.join(repr(p) for p in parts[:2])}" if parts else ""
        said = f"{how}: the same answer as {learnt.identity}{but} ({describe(sent.response)})"
        if self.catch_all:
            self.check(check, CheckStatus.error, f"{said}, {catch_all_note(self.catch_all)}")
            return None
        self.check(check, CheckStatus.failed, said)
        return sent, how, parts

    def _report_unauthenticated(
        self, accepted: Sequence[tuple[Exchange, str, tuple[str, ...]]], learnt: Learnt
    ) -> None:
        ways = " and ".join(how for _, how, _ in accepted)
        detail = (
            f"{self.endpoint.method} {self.endpoint.rendered_path} gave anonymous callers the "
            f"answer it gives {learnt.identity} ({ways})"
        )
        parts = next((p for _, _, p in accepted if p), ())
        if parts:
            shown = ", ".join(repr(p) for p in parts[:2])
            detail += f"; only per-viewer parts differ: {shown}"
        if [how for _, how, _ in accepted] == [f"with {FLIPPED}"]:
            detail += "; only the bad signature got through: signatures are not verified"
        else:
            detail += f"; {PUBLIC_HINT}"
        exchanges = [x for x, _, _ in accepted] + [learnt.exchanges[0]]
        notes = {i: f"sent {how}" for i, (_, how, _) in enumerate(accepted)}
        notes[len(accepted)] = f"as {learnt.identity}: the reference answer"
        found = Found(
            RULES_BY_NAME["unauthenticated"],
            detail,
            exchanges,
            endpoint=self.endpoint.label,
            notes=notes,
        )
        self.ctx.report(PROBE_ID, found)


def catch_all_note(sibling: str) -> str:
    """The words of a check whose replay got the answer that any path gets."""
    return (
        f"but so does {sibling}, a random path beside it: every path gets this answer (a "
        "single-page app's page or a catch-all route), not data of the endpoint's; nothing "
        "to judge (point the endpoint at the API that serves the data)"
    )


def _no_body_headers(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((n, v) for n, v in headers if n.lower() not in _BODY_HEADERS)
