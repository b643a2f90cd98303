"""How the errors probe weighs what its judges matched (see `errors`).

A match is news only when the normal answer lacks it (`NormalAnswers`: the endpoint's
baseline, or for target-wide requests the random-path answer below the same root; only
answers below 400 count). A hit is a match counted against a place: the endpoint, or the URL
that gave the answer (`hit_of`). The hits of one rule become one finding, and the hits a judge
marked as guesses a second one (`grouped_findings`), each with its own stable fingerprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from probe.exchange import Exchange
from probe.findings import Confidence, Rule, Severity
from probe.probes.base import Found, ProbeContext
from probe.probes.secret_signatures import safe_text
from probe.probes.signatures import (
    DEBUG_CONSOLE,
    DEBUG_PAGE,
    INTERNAL_PATH,
    Match,
    text_views,
)

_CONFIDENCE = {
    DEBUG_CONSOLE: Confidence.certain,
    DEBUG_PAGE: Confidence.certain,
    INTERNAL_PATH: Confidence.tentative,
}
TENTATIVE_KEY = "tentative"
_MAX_EVIDENCE = 3
_MAX_AFFECTED = 20


@dataclass(frozen=True)
class Hit:
    """One match counted against one place (endpoint label or URL)."""

    place: str
    is_endpoint: bool
    exchange: Exchange
    match: Match


@dataclass
class Reference:
    """The answer to a random path below one root (the catch-all check)."""

    root: str
    exchange: Exchange


class NormalAnswers:
    """The normal answer for an exchange: its endpoint's baseline, or for target-wide
    requests the random-path answer below the same root; only answers below 400 count."""

    def __init__(self, ctx: ProbeContext, references: Sequence[Reference]) -> None:
        self._texts: dict[int, str | None] = {}
        self._endpoints = {e.label: e for e in ctx.scenario.endpoints}
        self._ctx = ctx
        self._references = sorted(references, key=lambda r: len(r.root), reverse=True)

    def holds(self, exchange: Exchange, key: str) -> bool:
        """True when the normal answer for this exchange holds `key`."""
        text = self._text(exchange)
        return bool(key) and text is not None and key in text

    def catch_all(self, exchange: Exchange, match: Match) -> bool:
        """True when the random-path answer below the exchange's root shows the same match,
        whatever its status (then that answer alone stands for it)."""
        reference = self._reference(exchange)
        text = self._read(reference) if reference is not None else None
        return bool(match.key) and text is not None and match.key in text

    def _text(self, exchange: Exchange) -> str | None:
        normal = self._normal(exchange)
        if normal is None or normal.response is None or normal.response.status >= 400:
            return None
        return self._read(normal)

    def _read(self, exchange: Exchange) -> str | None:
        """The answer's raw and reader's text together, read once per exchange."""
        if exchange.seq not in self._texts:
            response = exchange.response
            views = text_views(response.text(), response.content_type) if response else None
            self._texts[exchange.seq] = views.raw + "\n" + views.plain if views else None
        return self._texts[exchange.seq]

    def _normal(self, exchange: Exchange) -> Exchange | None:
        if exchange.endpoint is not None:
            endpoint = self._endpoints.get(exchange.endpoint)
            return self._ctx.baseline(endpoint) if endpoint is not None else None
        return self._reference(exchange)

    def _reference(self, exchange: Exchange) -> Exchange | None:
        for reference in self._references:
            if exchange.request.url.startswith(reference.root):
                return reference.exchange
        return None


def hit_of(exchange: Exchange, match: Match) -> Hit:
    """The match counted against the endpoint, or against the URL when the request left the
    endpoint's own route (the unknown path) or belongs to no endpoint."""
    if exchange.endpoint is not None and not exchange.purpose.startswith("unknown-path:"):
        return Hit(exchange.endpoint, True, exchange, match)
    if exchange.endpoint is not None:
        # The unknown path below the endpoint may reach another route: the answer belongs to
        # the URL that gave it, not to the endpoint.
        path = urlsplit(exchange.request.url).path
        return Hit(f"{exchange.request.method} {path}", False, exchange, match)
    return Hit(exchange.request.url, False, exchange, match)


def grouped_findings(rule: Rule, name: str, hits: list[Hit]) -> list[Found]:
    """The hits of rule `name` as findings: the sure hits as one, and the hits a judge marked
    tentative below the rule's own confidence (a Google key beside stored passwords) as
    another, keyed `TENTATIVE_KEY`, so that a guess never rides in a sure finding."""
    can_lower = _CONFIDENCE.get(name, Confidence.firm) is not Confidence.tentative
    sure: list[Hit] = []
    guesses: list[Hit] = []
    for hit in hits:
        lowered = can_lower and hit.match.confidence is Confidence.tentative
        (guesses if lowered else sure).append(hit)
    groups = ((sure, ""), (guesses, TENTATIVE_KEY))
    return [grouped_found(rule, name, group, key=key) for group, key in groups if group]


def grouped_found(rule: Rule, name: str, hits: list[Hit], *, key: str = "") -> Found:
    """All hits of rule `name` as one finding: the worst hit first, then the first hit of
    each other signature, with one place as the endpoint or several as `affected`.

    The finding is grouped: its fingerprint stays the same as places join or leave. Text
    from answers that UTF-8 cannot encode (lone surrogates) is shown escaped.
    """
    places, endpoints = _places(hits)
    worst = max(hits, key=lambda h: _strength(h, rule.severity))
    chosen = [worst] + [h for h in _first_per_signature(hits) if h is not worst]
    chosen = chosen[:_MAX_EVIDENCE]
    labels = list(dict.fromkeys(h.match.label for h in hits))
    purposes = list(dict.fromkeys(h.exchange.purpose for h in hits))
    detail = (
        f"{'; '.join(labels)}: in {len(hits)} answer(s) on {_count(places, 'place')} "
        f"(requests: {', '.join(purposes[:6])}{', ...' if len(purposes) > 6 else ''})."
    )
    single = len(places) == 1 and places[0] in endpoints
    return Found(
        rule=rule,
        detail=safe_text(detail),
        exchanges=[h.exchange for h in chosen],
        endpoint=places[0] if single else None,
        affected=[] if single else [safe_text(p) for p in places[:_MAX_AFFECTED]],
        grouped=True,
        severity=worst.match.severity or rule.severity,
        confidence=_confidence(name, worst.match),
        key=key,
        excerpts={i: safe_text(h.match.excerpt) for i, h in enumerate(chosen)},
        notes={i: safe_text(_note(h)) for i, h in enumerate(chosen)},
    )


def _places(hits: list[Hit]) -> tuple[list[str], set[str]]:
    """The distinct places of the hits, and which of them are endpoints. A URL that an
    endpoint's own GET requests reached (a well-known path that is also an endpoint) counts
    as that endpoint, so that one resource is never listed twice."""
    by_url: dict[str, str] = {}
    for hit in hits:
        if hit.is_endpoint and hit.exchange.request.method == "GET":
            by_url.setdefault(_resource(hit.exchange.request.url), hit.place)
    places = []
    for hit in hits:
        place = hit.place
        if not hit.is_endpoint and hit.exchange.request.method == "GET":
            place = by_url.get(_resource(hit.exchange.request.url), place)
        places.append(place)
    endpoints = {h.place for h in hits if h.is_endpoint}
    return list(dict.fromkeys(places)), endpoints


def _resource(url: str) -> str:
    """The URL without query, fragment and trailing slash."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _first_per_signature(hits: list[Hit]) -> list[Hit]:
    seen: dict[str, Hit] = {}
    for hit in hits:
        seen.setdefault(hit.match.signature, hit)
    return list(seen.values())


def _confidence(name: str, match: Match) -> Confidence:
    if match.confidence is not None:
        return match.confidence
    if name == DEBUG_CONSOLE and match.signature != "werkzeug-console":
        return Confidence.firm
    return _CONFIDENCE.get(name, Confidence.firm)


def _strength(hit: Hit, default: Severity) -> tuple[int, int]:
    """Severity first, then a sure match before a tentative one."""
    severity = hit.match.severity or default
    return severity.rank, int(hit.match.confidence is not Confidence.tentative)


def _note(hit: Hit) -> str:
    response = hit.exchange.response
    status = response.status if response is not None else "no answer"
    return f"{hit.match.label}: answer {status} to '{hit.exchange.purpose}'"


def _count(items: Sequence[str], noun: str) -> str:
    shown = ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''} ({shown})"
