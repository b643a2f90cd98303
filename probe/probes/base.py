"""The interface every probe implements, and what the engine hands it.

A probe has an id, a title, a docstring saying what it sends and how it judges, and a tuple of
rules. It may be passive (it `observe`s every exchange any probe makes and judges in `conclude`),
active (it sends its own requests in `run`), or both. Probes never print and never raise for a
dead target: a failed request becomes an `error` check through `ProbeContext.check`.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from probe.exchange import Exchange, RequestSpec
from probe.findings import CheckStatus, Confidence, Rule, Severity
from probe.scenario.models import Endpoint, Scenario

__all__ = ["Credentials", "Found", "Probe", "ProbeContext", "RequestSpec", "make_rule"]

if TYPE_CHECKING:
    from probe.burst import Burst
    from probe.tls import TlsFacts


@dataclass(frozen=True)
class Credentials:
    """An identity's token as the probes that test tokens need it.

    Attributes:
        identity: The identity's name.
        header: Header that carries the token.
        scheme: Prefix before the token ("" sends it bare).
        token: The access token.
        refresh_token: The refresh token from the login answer, when there is one.
    """

    identity: str
    header: str
    scheme: str
    token: str
    refresh_token: str | None = None

    def line(self, token: str | None = None) -> tuple[str, str]:
        """The credential header line carrying `token` (default: the identity's own)."""
        value = self.token if token is None else token
        return (self.header, f"{self.scheme} {value}" if self.scheme else value)


@dataclass(frozen=True)
class Found:
    """What a probe hands the engine to turn into a `Finding`.

    Attributes:
        rule: The rule that fired.
        detail: What was observed.
        exchanges: Exchanges that prove it; the first is the one to reproduce.
        endpoint: Endpoint label, or None when several are affected.
        affected: Every affected endpoint or URL, when several.
        parameter: Parameter or header concerned.
        severity: Overrides the rule's default severity.
        confidence: How sure the judge is.
        key: Extra text that tells apart two findings of one rule at one place.
        excerpts: Per exchange (by position), the body part that matters.
        notes: Per exchange (by position), what to look at.
        grouped: One finding of the rule for the whole target, listing the affected endpoints;
            its fingerprint does not change as endpoints join or leave the list.
        reproduce: A command that reproduces it, when the first exchange's curl line cannot
            (a TLS handshake: an `openssl s_client` line).
    """

    rule: Rule
    detail: str
    exchanges: Sequence[Exchange] = ()
    endpoint: str | None = None
    affected: Sequence[str] = ()
    parameter: str | None = None
    severity: Severity | None = None
    confidence: Confidence = Confidence.firm
    key: str = ""
    excerpts: Mapping[int, str] = field(default_factory=dict)
    notes: Mapping[int, str] = field(default_factory=dict)
    grouped: bool = False
    reproduce: str | None = None


class ProbeContext(Protocol):
    """What a probe may use: the scenario, a client that enforces the rules, and the report."""

    scenario: Scenario
    marker: str

    def config(self, probe_id: str) -> BaseModel:
        """The probe's own settings from the scenario."""
        ...

    def endpoint_request(
        self,
        endpoint: Endpoint,
        *,
        method: str | None = None,
        path: str | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Sequence[tuple[str, str]] = (),
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> RequestSpec:
        """The endpoint's request as the scenario describes it.

        Each argument given replaces that part: `path` is joined to base_url as is (no
        placeholders), `query` replaces the whole query, `headers` are added, `content` (with
        `content_type`) replaces the body.
        """
        ...

    def baseline(self, endpoint: Endpoint) -> Exchange | None:
        """The engine's unmodified request to the endpoint, made before probes ran."""
        ...

    async def send(
        self,
        spec: RequestSpec,
        *,
        probe: str,
        purpose: str,
        endpoint: Endpoint | None = None,
        identity: str | None = None,
        follow_redirects: bool = False,
    ) -> Exchange:
        """Send through the scope guard, budget, rate limit and circuit breaker.

        `identity` adds that identity's credential header. Never raises for network trouble:
        the exchange carries `error` instead. With `follow_redirects`, the last hop is returned
        (every hop is checked against the scope and observed by passive probes).
        """
        ...

    def check(
        self,
        probe: str,
        check: str,
        endpoint: Endpoint | str | None,
        status: CheckStatus,
        detail: str = "",
    ) -> None:
        """Record the outcome of one check."""
        ...

    def report(self, probe: str, found: Found) -> None:
        """Record a finding (the engine adds evidence, fingerprint and curl line)."""
        ...

    def exchanges(self) -> Sequence[Exchange]:
        """Every exchange of the scan so far, in order."""
        ...

    def notice(self, message: str) -> None:
        """Show a line on the progress display (a long wait, say); it is not in the report."""
        ...

    async def credentials(self, identity: str) -> Credentials | None:
        """The identity's current token (renewed first when it is about to end), or None when
        it has no working credentials. Send it yourself, with `identity=None`, to test it."""
        ...

    async def fresh_login(self, identity: str, *, probe: str, purpose: str) -> Credentials | None:
        """Log the identity in once more and return the new tokens, leaving the identity's own
        untouched (a token never used yet, a refresh token of its own). None when the identity
        has no login, or the login fails. The new tokens are kept secret in the report."""
        ...

    def keep_secret(self, value: str, name: str) -> None:
        """Show `value` as `${NAME}` wherever it would appear in the report (a token made or
        altered from a real one)."""
        ...

    def public_token(self, value: str) -> None:
        """Allow a crafted token that holds no secret (alg none, no signature) to show in full
        in credential headers, which the report otherwise masks."""
        ...

    def holds_secret(self, text: str) -> bool:
        """True when `text` contains a value the scan keeps secret (a token, a password, a
        `--var` value, in any of its encodings)."""
        ...

    async def burst(
        self,
        spec: RequestSpec,
        count: int,
        *,
        probe: str,
        purpose: str,
        endpoint: Endpoint,
        identity: str | None = None,
    ) -> Burst:
        """Send `count` copies of a request at once, released together (see `probe.burst`).

        The whole burst is checked against the scope, the burst cap and the budget before any
        connection opens; a refused burst comes back with `error` set and no shots.
        """
        ...

    async def tls_handshake(
        self,
        url: str,
        *,
        probe: str,
        purpose: str,
        verify: bool = True,
        minimum: ssl.TLSVersion | None = None,
        maximum: ssl.TLSVersion | None = None,
    ) -> TlsFacts:
        """One TLS handshake with the URL's host (SNI set to its name), through the scope guard
        and the budget; never raises for network trouble (see `probe.tls`).

        With `verify`, the certificate is verified as the target's `verify_tls` says (and not
        at all when that is false); without, it is never verified, so that the facts of any
        certificate can be read. `minimum`/`maximum` pin the protocol versions offered.
        """
        ...


class Probe:
    """Base of every probe. Subclasses set the class attributes and override what they need."""

    id: ClassVar[str]
    title: ClassVar[str]
    rules: ClassVar[tuple[Rule, ...]] = ()
    #: False for probes whose checks a later release adds; they report `skipped`.
    implemented: ClassVar[bool] = True
    #: True for probes that run alone after every other probe's `run` has finished (a burst
    #: leaves an endpoint, or the scanner's address, limited for a while).
    runs_last: ClassVar[bool] = False
    #: True for probes that still run when base_url's TLS certificate is refused (verification
    #: on), when every other probe is skipped: the https probe reports why.
    runs_on_refused_certificate: ClassVar[bool] = False

    def plan(self, scenario: Scenario) -> list[str]:
        """Lines describing what `run` would send, for `probe run --dry-run`."""
        return [f"{self.id}: {self.title} (requests decided at run time)"]

    def observe(self, exchange: Exchange) -> None:
        """Look at an exchange any probe made (passive probes)."""

    async def run(self, ctx: ProbeContext) -> None:
        """Send the probe's own requests (active probes)."""

    def conclude(self, ctx: ProbeContext) -> None:
        """Judge what was observed and report findings; called once after every `run`."""

    @classmethod
    def rule(cls, rule_id: str) -> Rule:
        """The rule with this id (`<probe>.<name>` or just `<name>`)."""
        full = rule_id if "." in rule_id else f"{cls.id}.{rule_id}"
        for rule in cls.rules:
            if rule.id == full:
                return rule
        raise KeyError(full)


def make_rule(probe_id: str, name: str, **fields: Any) -> Rule:
    """Build a rule whose id is `<probe_id>.<name>`."""
    return Rule(id=f"{probe_id}.{name}", **fields)
