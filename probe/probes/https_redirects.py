"""Judges of the https probe's plain-HTTP request: its redirect chain, hop by hop.

Pure functions over what the probe saw (`Hop`s of a `Chain`); nothing here sends. The probe
follows a chain by hand and asks `next_end` before each hop whether to request it; the
verdict comes from `classify_redirect`, which leaves a first answer that is no redirect to
`https_answers`. Locations are read as a browser reads them (`https_locations`).

Words used below: the *site* is the set of host names that belong to the API (base_url's, the
twin's and every host named in the scope; any port); *landing* is the first https:// URL of a
chain on the site.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from urllib.parse import parse_qsl, unquote, urlsplit

from probe.findings import CheckStatus
from probe.http_scope import in_scope, parse_scope, target_of
from probe.probes.https_answers import Hop, Problem, Verdict, first_answer
from probe.probes.https_locations import path_of, same_host, scheme
from probe.scenario.models import Target

TEMPORARY = frozenset({302, 303, 307})
# A query value at least this long found inside a redirect's host was echoed from the request.
_ECHO_MIN_LEN = 8


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


# -- following a chain --------------------------------------------------------------------------


def site_hosts(target: Target) -> frozenset[str]:
    """Host names that belong to the API: base_url's, the twin's and the scope's (any port)."""
    hosts = {host for host, _ in parse_scope(target.scope_keys())}
    for url in (target.base_url, target.effective_http_url):
        where = target_of(url)
        if where is not None:
            hosts.add(where[0])
    return frozenset(same_host(host) for host in hosts)


def next_end(url: str, site: frozenset[str], scope: frozenset[str]) -> End | None:
    """Why a chain stops before requesting `url`, or None to request it."""
    where = target_of(url)
    if where is None:
        return End.unclear
    if same_host(where[0]) not in site:
        return End.offsite
    if not in_scope(url, scope):
        return End.out_of_scope
    return None


# -- the plain-HTTP check -----------------------------------------------------------------------


def classify_redirect(chain: Chain) -> Verdict:
    """The plain-HTTP check's verdict on a chain.

    Pass: plain HTTP is refused or not answered, or the chain's first answer is a permanent
    redirect to https:// on the site with the same path and query, the HTTPS URL answers (or
    is out of scope, and the detail says it was not verified) and nothing else is wrong
    further on. A 2xx is `cleartext-served`. An answer that is neither (403, 405, 404, a 3xx
    without Location, a chain that never reaches HTTPS, an HTTPS URL that does not answer) is
    inconclusive: status `error`, no finding. Loops and chains past 10 hops are `error` too.
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
    dead = _dead_landing(chain)
    if problems:
        return Verdict(CheckStatus.failed, f"{trail}; {dead}" if dead else trail, tuple(problems))
    landing = chain.landing()
    if landing is None:
        return Verdict(
            CheckStatus.error, f"inconclusive: the chain never reaches HTTPS on the API: {trail}"
        )
    if dead:
        return Verdict(CheckStatus.error, f"inconclusive: {dead}: {trail}")
    detail = f"permanent redirect to HTTPS, path and query kept: {trail}"
    if landing >= len(chain.hops):
        detail += (
            "; the HTTPS URL is outside the scan's scope, so it was judged from the Location "
            "alone: that it answers is not verified"
        )
    return Verdict(CheckStatus.passed, detail)


def _dead_landing(chain: Chain) -> str | None:
    """Why the chain, once on HTTPS, leads nowhere that answers, or None.

    The landing was requested and gave no answer (nothing listens, or the TLS handshake
    failed), or a later HTTPS hop did: clients following the redirect end up nowhere.
    """
    landing = chain.landing()
    last = chain.hops[-1]
    if landing is None or landing >= len(chain.hops) or last.status is not None:
        return None
    return (
        f"the redirect's HTTPS URL {last.url} gave no answer ({last.error}): clients are sent "
        "where nothing works over HTTPS, so the redirect is not verified"
    )


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
    if chain.end is not End.offsite or not last.location:
        return
    host = urlsplit(last.location).hostname or "?"
    source = _reflected(host, last.url, chain.hops[0].url)
    where = f"{last.url} answered {last.status} to {last.location}"
    if source is not None:
        yield Problem(
            "open-redirect",
            f"{where}: the host {host} is taken from the request ({source!r} in its path or "
            "query), so whoever writes the link chooses where clients are sent (judged from "
            "the Location, never requested)",
            len(chain.hops) - 1,
        )
        return
    yield Problem(
        "offsite-redirect",
        f"{where}: {host} is not one of the API's hosts nor in the scenario's scope (judged "
        "from the Location, never requested); the server chose that host itself, so clients "
        "that start on plain HTTP are sent to a host this scan cannot check (add it to the "
        "scope if it belongs to the API)",
        len(chain.hops) - 1,
    )


def _reflected(host: str, *urls: str) -> str | None:
    """The piece of a request URL that the redirect's host was made of, or None.

    A path segment or query value equal to the host, or a long query value (the scan's
    marker) inside it; a fixed host that merely shares a word with the path is no echo.
    """
    wanted = same_host(host)
    for url in urls:
        parts = urlsplit(url)
        segments = [unquote(segment) for segment in parts.path.split("/")]
        values = [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
        for piece in segments + values:
            if piece and same_host(piece) == wanted:
                return piece
        for value in values:
            if len(value) >= _ECHO_MIN_LEN and value.lower() in wanted:
                return value
    return None


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
    if path_of(start) != path_of(there):
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


def _missing_query(start: str, there: str) -> list[str]:
    have = set(parse_qsl(urlsplit(there).query, keep_blank_values=True))
    wanted = parse_qsl(urlsplit(start).query, keep_blank_values=True)
    return [name for name, value in wanted if (name, value) not in have]
