"""What the https probe sends over plain HTTP: the twin's URL for a request, the one plain-HTTP
request's URL (no secret in it), and what the judges need of each exchange.

The plain-HTTP request uses the path of the first GET endpoint without an identity (a token is
never sent over plain HTTP, so an endpoint that needs one would only answer 401), never the
endpoint's query, and falls back to the twin's own path, then `/`, when that path holds a
scenario secret. The one query parameter carries the scan marker, so that a lost query shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

from probe.exchange import Exchange
from probe.http_scope import target_of
from probe.probes.base import ProbeContext
from probe.probes.https_answers import REDIRECTS, Hop
from probe.probes.https_locations import resolve
from probe.scenario.models import Endpoint, Target

MARKER_PARAM = "probe_marker"
BODY_CHARS = 4000


def plain_endpoint(endpoints: Sequence[Endpoint]) -> Endpoint | None:
    """The endpoint whose path the plain-HTTP request uses.

    The first GET endpoint without an identity (the request goes without a token, so one that
    needs it would only show a 401), else the first GET endpoint; without a GET, the first
    endpoint without an identity, else the first.
    """
    gets = [e for e in endpoints if e.method == "GET"]
    for group in (gets, list(endpoints)):
        anonymous = [e for e in group if e.identity is None]
        if anonymous or group:
            return (anonymous or group)[0]
    return None


def start_url(ctx: ProbeContext) -> str:
    """The plain-HTTP request's URL: the twin, a path, and the marker as the only parameter.

    The path is the chosen endpoint's, unless it holds a scenario secret (a `${VAR}` in the
    path or its path_params), which never crosses the network in cleartext: then the twin's
    own path (base_url's), then `/`. The endpoint's query is never sent; the marker alone
    shows a redirect that loses the query.
    """
    target = ctx.scenario.target
    marker = urlencode({MARKER_PARAM: ctx.marker})
    twin = target.effective_http_url
    endpoint = plain_endpoint(ctx.scenario.endpoints)
    candidates = [twin, _origin(twin)]
    if endpoint is not None:
        candidates.insert(0, to_twin(target, ctx.endpoint_request(endpoint, query={}).url))
    for url in candidates:
        if not ctx.holds_secret(_path_and_query(url)):
            return with_marker(url, marker)
    return with_marker(_origin(twin), marker)


def with_marker(url: str, marker: str) -> str:
    """The URL (which has no query) with the marker as its query; `/` for an empty path."""
    parts = urlsplit(url)
    return parts._replace(path=parts.path or "/", query=marker, fragment="").geturl()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _path_and_query(url: str) -> str:
    """Everything after the origin: the part of a URL a scenario secret must not be in (the
    origin may itself be a `${VAR}`, and goes where it goes)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def to_twin(target: Target, url: str) -> str:
    """The same request on the plain-HTTP twin: base_url swapped for the twin's URL."""
    if url.startswith(target.base_url):
        return target.effective_http_url + url[len(target.base_url) :]
    return url


def shares_tls_port(target: Target) -> bool:
    """True when the twin is base_url's own host and port (an HTTPS-only port's 400 is known)."""
    return target_of(target.effective_http_url) == target_of(target.base_url)


def hop_of(exchange: Exchange) -> Hop:
    """What the judges need of one exchange."""
    response = exchange.response
    if response is None:
        return Hop(exchange.request.url, error=exchange.error)
    location = response.header("location")
    resolved = None
    if response.status in REDIRECTS and location:
        resolved = resolve(exchange.request.url, location)
    return Hop(
        exchange.request.url,
        status=response.status,
        location=resolved,
        body=response.text(BODY_CHARS),
    )
