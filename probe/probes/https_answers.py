"""The https probe's judges of one plain-HTTP answer: served, refused, or inconclusive.

Pure functions over a `Hop` (one request and what came back); nothing here sends. Shared by
the redirect chain's judge (`https_redirects`) and the credentials judge (`https_credentials`).
A request without an answer is read from the engine's error text (`failure`): only a
connection that did not open, or one that ended before a single byte of an answer, means the
port does not serve plain HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from probe.findings import CheckStatus, Confidence, Severity

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Answers that mean "not over plain HTTP": the request was not served.
REFUSING = {421: "421 Misdirected Request", 426: "426 Upgrade Required"}
# What a TLS-only port says to a plain-HTTP request, in the servers' own words: nginx (and the
# balancers built on it), Apache httpd's mod_ssl, Go's net/http (Caddy, Traefik) and Tomcat.
# Whole phrases only: a bare "https" is in every URL an error body links to (RFC 7807 `type`).
_TLS_PHRASES = (
    "the plain http request was sent to https port",
    "speaking plain http to an ssl-enabled server port",
    "client sent an http request to an https server",
    "this combination of host and port requires tls",
)
_SPACES = re.compile(r"\s+")
# The engine's words for a request that never left (the scan's guards, or a request that
# could not be framed) and for a connection that never opened.
_NOT_SENT = ("refused", "not sent")
_NO_CONNECTION = "connect"
# A transport failure after part of an answer had arrived: the server speaks something
# there, whatever it is. h11's complaints about the answer's framing say so by themselves;
# "Server disconnected without sending a response" and timeouts only with the byte count.
_PARTIAL = re.compile(r"after ([1-9][0-9]*) bytes? of an answer")
_NOTHING_CAME = "server disconnected without sending a response"
_GARBLED = ("remoteprotocolerror", "localprotocolerror", "protocol:", "decodingerror")


@dataclass(frozen=True)
class Hop:
    """One request of a chain and what came back.

    Attributes:
        url: The URL requested.
        status: The answer's status, or None when none came.
        location: The redirect's target, resolved to an absolute URL, or None.
        error: Why no answer came, or None.
        body: The start of the answer's body, as text.
    """

    url: str
    status: int | None = None
    location: str | None = None
    error: str | None = None
    body: str = ""

    @property
    def redirects(self) -> bool:
        """True for a redirect status with a Location to follow."""
        return self.status in REDIRECTS and self.location is not None


@dataclass(frozen=True)
class Problem:
    """One thing wrong, as a rule name of the https probe.

    Attributes:
        name: The rule's name (without the probe id).
        detail: What was seen.
        hop: Index of the chain's hop that shows it (0 where there is no chain).
        severity: Overrides the rule's severity, or None.
        confidence: How sure the judge is.
    """

    name: str
    detail: str
    hop: int = 0
    severity: Severity | None = None
    confidence: Confidence = Confidence.firm


@dataclass(frozen=True)
class Verdict:
    """A check's outcome: its status, a detail for the report, and the problems found."""

    status: CheckStatus
    detail: str
    problems: tuple[Problem, ...] = ()


def first_answer(hop: Hop, tls_port: bool) -> Verdict:
    """The verdict on a first answer that is no redirect to follow."""
    if hop.status is None:
        return not_answered(hop, tls_port)
    if 200 <= hop.status < 300:
        problem = Problem(
            "cleartext-served",
            f"{hop.url} answered {hop.status} over plain HTTP, without redirecting to HTTPS",
            0,
        )
        return Verdict(CheckStatus.failed, problem.detail, (problem,))
    reason = refusal(hop, tls_port)
    if reason:
        return Verdict(CheckStatus.passed, f"plain HTTP refused: {reason} ({hop.url})")
    return Verdict(CheckStatus.error, inconclusive(hop))


def refusal(hop: Hop, tls_port: bool) -> str | None:
    """Why an answer means plain HTTP is refused (421, 426, a TLS-only port's 400), or None."""
    if hop.status in REFUSING:
        return f"answered {REFUSING[hop.status]}"
    if hop.status == 400 and tls_port:
        return "answered 400 on the port that serves HTTPS (a TLS-only port)"
    phrase = tls_phrase(hop.body) if hop.status == 400 else None
    if phrase:
        return f"answered 400 saying the port takes TLS only ({phrase!r})"
    return None


def tls_phrase(body: str) -> str | None:
    """The words of a TLS-only port refusing plain HTTP found in a body, or None."""
    text = _SPACES.sub(" ", body[:4000]).lower()
    return next((phrase for phrase in _TLS_PHRASES if phrase in text), None)


def inconclusive(hop: Hop) -> str:
    """The detail of an answer that neither serves, redirects nor refuses plain HTTP."""
    status = hop.status
    if status is not None and status in REDIRECTS:
        what = f"a {status} redirect without a usable Location"
    else:
        what = f"{status}"
    text = (
        f"inconclusive: {hop.url} answered {what} over plain HTTP, neither served, redirected "
        "nor refused"
    )
    if status in (401, 403, 405):
        text += (
            "; something answers plain HTTP there, but a firewall or WAF rule may answer a "
            "scanner differently from real clients"
        )
    return text + f"; check by hand (curl -v '{hop.url}')"


class Failure(StrEnum):
    """What a request without an answer shows about the server."""

    not_sent = "not-sent"
    """The request never left: the scan's guards, or a request that could not be framed."""
    no_connection = "no-connection"
    """No TCP connection: nothing listens, or a firewall rejects it."""
    nothing = "nothing"
    """Connected, and not one byte of an answer came before the end or the timeout."""
    partial = "partial"
    """Some answer came, but no valid HTTP one: the server speaks something there."""


def failure(error: str) -> Failure:
    """Read an exchange's error (`probe.http.ScanClient`'s words) for what the server did."""
    lowered = error.lower()
    if lowered.startswith(_NOT_SENT):
        return Failure.not_sent
    if lowered.startswith(_NO_CONNECTION):
        return Failure.no_connection
    if _PARTIAL.search(lowered):
        return Failure.partial
    if _NOTHING_CAME in lowered:
        return Failure.nothing
    if lowered.startswith(_GARBLED):
        return Failure.partial
    return Failure.nothing


def not_answered(hop: Hop, tls_port: bool = False) -> Verdict:
    """The verdict on a request that got no answer: refused, not served, or inconclusive.

    Only a connection that did not open, or one that ended or timed out before a single byte
    of an answer, means plain HTTP is not served. Anything the server did send (a header
    line h11 rejects, a body cut short, an HTTP/0.9 reply) shows it speaks there, and some
    clients would take it: inconclusive. On base_url's own port, which speaks TLS, such bytes
    are TLS records, so that port refuses plain HTTP.
    """
    error = hop.error or "no answer"
    kind = failure(error)
    if kind is Failure.not_sent:
        if error.startswith("refused"):
            return Verdict(CheckStatus.skipped, f"not sent: {error}")
        return Verdict(CheckStatus.error, f"the request could not be sent: {error}")
    if kind is Failure.partial and not tls_port:
        return Verdict(
            CheckStatus.error,
            f"inconclusive: {hop.url} sent something over plain HTTP that is no valid HTTP "
            f"answer ({error}); lenient clients may still read it as one; check by hand "
            f"(curl -v '{hop.url}')",
        )
    if kind is Failure.partial:
        why = f"the port serves HTTPS (base_url's own) and sent no HTTP answer ({error})"
    elif kind is Failure.no_connection:
        why = f"no connection ({error}): nothing serves plain HTTP there"
    elif error.startswith("timeout"):
        why = f"no answer ({error}): the port drops plain HTTP"
    else:
        why = f"the connection ended without an answer ({error})"
    return Verdict(CheckStatus.passed, f"plain HTTP not served at {hop.url}: {why}")
