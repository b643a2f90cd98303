"""The access probe's replays of one endpoint as other identities: BOLA (as each identity other
than the owner, without the admin tag) and function level (as each identity without the admin
tag, on endpoints tagged admin).

An answer counts as the entitled caller's when it is the same answer (`access_judges.equivalent`)
or the same with a few per-viewer parts (`access_viewers.per_viewer`); either way it is checked
against a catch-all first (`EndpointReplays.sibling`). A BOLA finding is firm when the answers
name the object or the owner (`access_owners.named_by`), tentative otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from probe.exchange import Exchange
from probe.findings import CheckStatus, Confidence
from probe.probes.access_judges import describe, equivalent
from probe.probes.access_owners import Naming, identity_values, named_by, object_values
from probe.probes.access_replay import (
    NEVER_REPLAYED,
    RULES_BY_NAME,
    EndpointReplays,
    Learnt,
    catch_all_note,
    has_admin_tag,
    tagged,
)
from probe.probes.access_rules import ADMIN_TAG, PROBE_ID
from probe.probes.access_viewers import viewer_parts
from probe.probes.base import Found

#: Per-viewer parts named in a detail at most.
_SHOWN = 2


@dataclass(frozen=True)
class Alike:
    """Another identity's answer that is the entitled caller's.

    Attributes:
        exchange: The other identity's request and answer.
        changed: The per-viewer parts that differ (paths, or text); empty for the same answer.
        named: What in both answers names the object or the owner, or None.
    """

    exchange: Exchange
    changed: tuple[str, ...]
    named: str | None

    def said(self) -> str:
        """A few words for the check's detail."""
        assert self.exchange.response is not None
        answer = describe(self.exchange.response)
        if not self.changed:
            return f"the same answer ({answer})"
        return f"the same answer but for per-viewer parts {_parts(self.changed)} ({answer})"


def _parts(changed: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in changed[:_SHOWN])


class OtherIdentities:
    """The BOLA and function-level checks of one endpoint, after its anonymous replays."""

    def __init__(self, replays: EndpointReplays) -> None:
        self.replays = replays
        self.ctx = replays.ctx
        self.endpoint = replays.endpoint

    async def run(self) -> None:
        """Function level when tagged admin, BOLA when the endpoint has an owner."""
        if tagged(self.endpoint, ADMIN_TAG):
            await self.function_level()
        if self.endpoint.owner is not None:
            await self.bola(self.endpoint.owner)

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
            self.replays.check("bola", CheckStatus.skipped, why)
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
            self.replays.check("function-level", CheckStatus.error, why)
            return
        users = [
            n for n in self.ctx.scenario.identities if n != admin and not has_admin_tag(self.ctx, n)
        ]
        if not users:
            why = "no identity without the admin tag"
            self.replays.check("function-level", CheckStatus.skipped, why)
            return
        note = "" if has_admin_tag(self.ctx, admin) else f"; note: {admin} has no admin tag"
        await self._as_others("function-level", admin, users, note)

    def _covered(self, check: str) -> bool:
        """True (and the check skipped) when the endpoint is never replayed, anonymous callers
        already got its answer (every identity can then read it too), or it is a catch-all."""
        method = self.endpoint.method
        if method in NEVER_REPLAYED:
            self.replays.check(check, CheckStatus.skipped, f"{method} is never replayed")
            return True
        if self.replays.open:
            said = "not tried: anonymous callers get its answer (access.unauthenticated)"
            self.replays.check(check, CheckStatus.skipped, said)
            return True
        if self.replays.catch_all:
            said = f"not tried: the answer is the one {self.replays.catch_all} gets too"
            self.replays.check(check, CheckStatus.skipped, said)
            return True
        return False

    # -- sending and judging -------------------------------------------------------------------

    async def _values(self, entitled: str) -> Naming:
        """The values that name the object, and those that name the entitled identity."""
        credentials = await self.ctx.credentials(entitled)
        token = credentials.token if credentials else None
        mine = identity_values(self.ctx.scenario.identities[entitled], token)
        return Naming(object_values(self.endpoint), mine)

    async def _as_others(self, check: str, entitled: str, others: list[str], note: str) -> None:
        """Send as each of `others`; report the answers that are `entitled`'s."""
        if await self.ctx.credentials(entitled) is None:
            why = f"identity {entitled!r} has no working credentials: nothing to compare"
            self.replays.check(check, CheckStatus.error, why)
            return
        learnt = await self.replays.learn(entitled)
        if learnt.reference is None:
            self.replays.check(check, CheckStatus.error, f"as {entitled}, {learnt.problem}")
            return
        values = await self._values(entitled)
        alike: list[Alike] = []
        said: list[str] = []
        answered_by = 0
        for name in others:
            words, found = await self._as_one(check, name, learnt, values)
            said.append(f"{name}: {words}")
            answered_by += found is not None
            if isinstance(found, Alike):
                alike.append(found)
        detail = f"against {entitled}'s answer: " + "; ".join(said) + note
        if alike:
            first = alike[0].exchange
            sibling = await self.replays.sibling(learnt, first.identity, first.response)
            if sibling:
                self.replays.check(check, CheckStatus.error, f"{detail}; {catch_all_note(sibling)}")
                return
            self.replays.check(check, CheckStatus.failed, detail)
            self._report(check, learnt, alike)
        else:
            # Without a single answer from another identity, nothing was tested.
            status = CheckStatus.passed if answered_by else CheckStatus.error
            self.replays.check(check, status, detail)

    async def _as_one(
        self, check: str, name: str, learnt: Learnt, values: Naming
    ) -> tuple[str, Alike | bool | None]:
        """Send as one identity: a few words for the detail, and the Alike answer (True for
        another answer; None when nothing was answered)."""
        if await self.ctx.credentials(name) is None:
            return "no working credentials, not tried", None
        sent = await self.replays.send(self.replays.without_credentials(), check, name)
        if sent.response is None:
            return f"request failed ({sent.error})", None
        found = self._alike(learnt, sent, values)
        if isinstance(found, Alike):
            return found.said(), found
        why = f" ({found})" if found else ""
        return f"{describe(sent.response)}{why}", True

    def _alike(self, learnt: Learnt, sent: Exchange, values: Naming) -> Alike | str | None:
        """The other identity's answer as the entitled caller's; None when it is not, or a few
        words on why not when it is the entitled answer filtered for this viewer."""
        reference = learnt.reference
        answer = sent.response
        assert reference is not None
        assert answer is not None
        owner = learnt.exchanges[0].response
        assert owner is not None
        if equivalent(reference, answer):
            return Alike(sent, (), named_by(owner, answer, values.everything))
        samples = [x.response for x in learnt.exchanges if x.response is not None]
        found = viewer_parts(reference, samples, answer, values)
        if found is None or isinstance(found, str):
            return found
        return Alike(sent, found, named_by(owner, answer, values.everything))

    def _report(self, check: str, learnt: Learnt, alike: list[Alike]) -> None:
        names = ", ".join(a.exchange.identity or "" for a in alike)
        where = f"{self.endpoint.method} {self.endpoint.rendered_path}"
        confidence = Confidence.firm
        if check == "bola":
            detail = f"{names} got {learnt.identity}'s object at {where}: the owner is not checked"
            named = next((a.named for a in alike if a.named), None)
            if named:
                detail += f" (both answers hold {named}, which names it)"
            else:
                confidence = Confidence.tentative
                detail += (
                    f"; but the answer does not show whose it is (no path value, user name or "
                    f"token id of {learnt.identity} in it): it may be {names}'s own record "
                    "with the same values"
                )
        else:
            detail = f"{names}, without the admin tag, got the admin answer of {where}"
        changed = next((a.changed for a in alike if a.changed), ())
        if changed:
            detail += f"; only per-viewer parts differ: {_parts(changed)}"
        exchanges = [alike[0].exchange, learnt.exchanges[0], *(a.exchange for a in alike[1:])]
        notes = {i: f"as {x.identity}" for i, x in enumerate(exchanges)}
        notes[1] = f"as {learnt.identity}: the reference answer"
        found = Found(
            RULES_BY_NAME[check],
            detail,
            exchanges,
            endpoint=self.endpoint.label,
            notes=notes,
            confidence=confidence,
        )
        self.ctx.report(PROBE_ID, found)
