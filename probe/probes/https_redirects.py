"""Judges of the https probe's plain-HTTP requests: redirect chains, and answers that refuse.

Pure functions over what the probe saw (`Hop`s of a `Chain`); nothing here sends. The probe
follows a chain by hand and asks `next_end` before each hop whether to request it; the
verdict comes from `classify_redirect`. `first_answer`, `refusal` and `inconclusive` are
shared with the credentials judge (`https_credentials`).

Words used below: the *site* is the set of host names that belong to the API (base_url's, the
twin's and every host named in the scope; any port); *landing* is the first https:// URL of a
chain on the site.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from probe.findings import CheckStatus, Confidence, Severity
from probe.http_scope import in_scope, parse_scope, target_of
from probe.scenario.models import Target

REDIRECTS = frozenset({301, 302, 303, 307, 308})
TEMPORARY = frozenset({302, 303, 307})
# Answers that mean "not over plain HTTP": the request was not served.
REFUSING = {421: "421 Misdirected Request", 426: "426 Upgrade Required"}
# What a TLS-only port says to a plain-HTTP request (nginx, Apache, Go, Envoy ...).
_TLS_HINT = re.compile(r"https|\bssl\b|\btls\b|plain http", re.IGNORECASE)


class End(StrEnum):
    """Why a chain stopped."""

    answered = "answered"
    no_answer = "no-answer"
    not_sent = "not-sent"
    offsite = "offsite"
    out_of_scope = "out-of-scope"
    unclear = "unclear"
    loop = "loop"
    too_long = "too-long"


# Ends where the last hop's Location was judged without being requested.
_JUDGED_ONLY = frozenset({End.offsite, End.out_of_scope, End.loop, End.too_long})


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
class Chain:
    """The hops of one plain-HTTP request, in order, and why it stopped.

    Attributes:
        hops: Requests made (at least one).
        end: Why the chain stopped; for offsite, out-of-scope, loop and too-long, the last
            hop's Location was judged but never requested.
        tls_port: The twin's port is the one base_url serves HTTPS on, so a 400 is a TLS-only
            port refusing plain HTTP.
    """

    hops: tuple[Hop, ...]
    end: End
    tls_port: bool = False

    def urls(self) -> list[str]:
        """Every URL of the chain: those requested, then a judged-only Location."""
        urls = [hop.url for hop in self.hops]
        last = self.hops[-1].location
        if self.end in _JUDGED_ONLY and last is not None:
            urls.append(last)
        return urls

    def landing(self) -> int | None:
        """Index (in `urls`) of the first https:// URL on the site, or None."""
        urls = self.urls()
        for index, url in enumerate(urls):
            offsite = self.end is End.offsite and index == len(urls) - 1
            if scheme(url) == "https" and not offsite:
                return index
        return None


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


# -- following a chain --------------------------------------------------------------------------


def site_hosts(target: Target) -> frozenset[str]:
    """Host names that belong to the API: base_url's, the twin's and the scope's (any port)."""
    hosts = {host for host, _ in parse_scope(target.scope_keys())}
    for url in (target.base_url, target.effective_http_url):
        where = target_of(url)
        if where is not None:
            hosts.add(where[0])
    return frozenset(hosts)


def resolve(url: str, location: str) -> str | None:
    """The absolute URL a Location points to, or None when it is not an http(s) URL."""
    try:
        absolute = urljoin(url, location.strip())
    except ValueError:
        return None
    return absolute if scheme(absolute) in ("http", "https") else None


def next_end(url: str, site: frozenset[str], scope: frozenset[str]) -> End | None:
    """Why a chain stops before requesting `url`, or None to request it."""
    where = target_of(url)
    if where is None:
        return End.unclear
    if where[0] not in site:
        return End.offsite
    if not in_scope(url, scope):
        return End.out_of_scope
    return None


# -- the plain-HTTP check -----------------------------------------------------------------------


def classify_redirect(chain: Chain) -> Verdict:
    """The plain-HTTP check's verdict on a chain.

    Pass: plain HTTP is refused or not answered, or the chain's first answer is a permanent
    redirect to https:// on the site with the same path and query and nothing else is wrong
    further on. A 2xx is `cleartext-served`. An answer that is neither (403, 405, 404, a 3xx
    without Location, a chain that never reaches HTTPS) is inconclusive: status `error`, no
    finding. Loops and chains past 10 hops are `error` too.
    """
    first = chain.hops[0]
    if not first.redirects:
        return first_answer(first, chain.tls_port)
    trail = describe(chain)
    if chain.end is End.loop:
        return Verdict(CheckStatus.error, f"redirect loop: {trail}")
    if chain.end is End.too_long:
        return Verdict(CheckStatus.error, f"more than 10 redirects, not followed further: {trail}")
    problems = [
        *_temporary(chain),
        *_http_hops(chain),
        *_offsite(chain),
        *_downgrade(chain),
        *_drops(chain),
        *_served_at_end(chain),
    ]
    if problems:
        return Verdict(CheckStatus.failed, trail, tuple(problems))
    if chain.landing() is None:
        return Verdict(
            CheckStatus.error, f"inconclusive: the chain never reaches HTTPS on the API: {trail}"
        )
    return Verdict(CheckStatus.passed, f"permanent redirect to HTTPS, path and query kept: {trail}")


def first_answer(hop: Hop, tls_port: bool) -> Verdict:
    """The verdict on a first answer that is no redirect to follow."""
    if hop.status is None:
        return not_answered(hop)
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
    if hop.status == 400 and _TLS_HINT.search(hop.body[:2000]):
        return "answered 400 saying the port expects HTTPS"
    return None


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


def not_answered(hop: Hop) -> Verdict:
    """The verdict on a request that got no answer: refused by the scan, or not served."""
    error = hop.error or "no answer"
    if error.startswith("refused"):
        return Verdict(CheckStatus.skipped, f"not sent: {error}")
    if error.startswith("timeout"):
        why = f"no answer ({error}): the port drops plain HTTP"
    elif error.startswith("connect"):
        why = f"no connection ({error}): nothing serves plain HTTP there"
    else:
        why = f"the connection ended without an answer ({error})"
    return Verdict(CheckStatus.passed, f"plain HTTP not served at {hop.url}: {why}")


def describe(chain: Chain) -> str:
    """The chain in one line: each URL with its answer, then where it stopped."""
    parts: list[str] = []
    for hop in chain.hops:
        answer = f"{hop.status}" if hop.status is not None else f"no answer ({hop.error})"
        parts.append(f"{hop.url} -> {answer}")
    last = chain.hops[-1].location
    if chain.end is End.offsite and last:
        parts.append(f"{last} (another host, not in scope: not requested)")
    elif chain.end is End.out_of_scope and last:
        parts.append(f"{last} (not in scope: not requested)")
    elif chain.end is End.unclear and last:
        parts.append(f"{last} (not followed)")
    elif chain.end in (End.loop, End.too_long) and last:
        parts.append(f"{last} (not requested)")
    return "; ".join(parts)


def _temporary(chain: Chain) -> Iterator[Problem]:
    landing = chain.landing()
    stop = len(chain.hops) if landing is None else min(landing, len(chain.hops))
    for index, hop in enumerate(chain.hops[:stop]):
        if scheme(hop.url) == "http" and hop.status in TEMPORARY:
            yield Problem(
                "temporary-redirect",
                f"{hop.url} answered {hop.status} (a temporary redirect) to {hop.location}; "
                "301 or 308 is remembered by clients and required for HSTS preloading",
                index,
            )
            return


def _http_hops(chain: Chain) -> Iterator[Problem]:
    landing = chain.landing()
    if landing is None:
        return
    plain = [url for url in chain.urls()[:landing] if scheme(url) == "http"]
    if len(plain) > 1:
        yield Problem(
            "http-hops",
            f"{len(plain)} plain-HTTP hops before HTTPS ({', '.join(plain)}); each one can be "
            "answered by an attacker on the path",
            len(plain) - 1,
        )


def _offsite(chain: Chain) -> Iterator[Problem]:
    last = chain.hops[-1]
    if chain.end is End.offsite and last.location:
        host = urlsplit(last.location).hostname
        yield Problem(
            "offsite-redirect",
            f"{last.url} answered {last.status} to {last.location}: {host} is not one of the "
            "API's hosts nor in the scenario's scope (judged from the Location, never requested)",
            len(chain.hops) - 1,
        )


def _downgrade(chain: Chain) -> Iterator[Problem]:
    urls = chain.urls()
    for index, (here, there) in enumerate(pairwise(urls)):
        if scheme(here) == "https" and scheme(there) == "http":
            yield Problem(
                "downgrade-hop",
                f"{here} redirects back to plain HTTP: {there}",
                index,
            )
            return


def _drops(chain: Chain) -> Iterator[Problem]:
    landing = chain.landing()
    if landing is None:
        return
    start, there = chain.hops[0].url, chain.urls()[landing]
    lost: list[str] = []
    if _path(start) != _path(there):
        lost.append(f"the path {urlsplit(start).path or '/'}")
    missing = _missing_query(start, there)
    if missing:
        lost.append("the query parameter(s) " + ", ".join(missing))
    if lost:
        yield Problem(
            "redirect-drops-path",
            f"{start} lands on {there}: {' and '.join(lost)} lost on the way to HTTPS",
            max(0, landing - 1),
        )


def _served_at_end(chain: Chain) -> Iterator[Problem]:
    last = chain.hops[-1]
    if (
        chain.end is End.answered
        and scheme(last.url) == "http"
        and last.status is not None
        and 200 <= last.status < 300
    ):
        yield Problem(
            "cleartext-served",
            f"the chain ends over plain HTTP: {last.url} answered {last.status} after "
            f"{len(chain.hops) - 1} redirect(s)",
            len(chain.hops) - 1,
        )


def scheme(url: str) -> str:
    """The URL's scheme, lower-case."""
    return urlsplit(url).scheme.lower()


def _path(url: str) -> str:
    """The path as compared: percent-decoded, a trailing slash aside."""
    return unquote(urlsplit(url).path).rstrip("/") or "/"


def _missing_query(start: str, there: str) -> list[str]:
    have = set(parse_qsl(urlsplit(there).query, keep_blank_values=True))
    wanted = parse_qsl(urlsplit(start).query, keep_blank_values=True)
    return [name for name, value in wanted if (name, value) not in have]
