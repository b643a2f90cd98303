"""The jwt probe's passive check: credentials written into request URLs.

Every exchange another probe (or the engine) makes is looked at as it happens; a JWT in its
URL (query, path or fragment, percent-encoded or not) is noted per place (endpoint label, or
URL path). At the end, only JWTs that are credentials count (`jwt_judges.is_credential`: one
that names a user, or carries `exp` beside `iat`, `iss` or `aud`, or an identity's own
token); a signed pagination cursor or state value is no credential. Each place with one gives
a finding, the token redacted. Its reproduction must be runnable: the request's curl line
when the token is an identity's own (its placeholder, `${ALICE_TOKEN}`, is filled by logging
in), none otherwise (the detail names the request instead: a placeholder nobody can fill
would only replay a broken request).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes.base import Found, ProbeContext
from probe.probes.jwt_judges import is_credential, jwts_in_url
from probe.probes.jwt_rules import PROBE_ID
from probe.probes.jwt_session import rule_named
from probe.probes.jwt_tokens import parse

#: Distinct JWTs seen in URLs that are kept (a target issuing one per request would
#: otherwise grow the list, and the redaction, without end).
MAX_URL_TOKENS = 50
CHECK = "token-in-url"


@dataclass
class _Place:
    """Where a JWT was seen in URLs: the first exchange carrying it, and how many did."""

    first: Exchange
    token: str
    count: int = 0


class UrlTokens:
    """Collects JWTs seen in request URLs; reports the credentials among them."""

    def __init__(self) -> None:
        #: Per (place, token): where it was first seen, and how often.
        self._seen: dict[tuple[str, str], _Place] = {}
        self._known: set[str] = set()
        #: Endpoint requests of other probes (and the engine's baselines) really sent.
        self.seen = 0

    def know(self, token: str) -> None:
        """An identity's own token: a credential wherever it shows, whatever its claims."""
        self._known.add(token)

    def observe(self, exchange: Exchange) -> None:
        """Note the JWTs in the URL of another probe's request (judged in `conclude`, when
        every identity's token is known)."""
        if exchange.probe == PROBE_ID:
            return  # the probe's own query tests put the token there on purpose
        if exchange.endpoint is not None and exchange.response is not None:
            self.seen += 1
        place = exchange.endpoint or urlsplit(exchange.request.url).path or "/"
        for token in jwts_in_url(exchange.request.url):
            key = (place, token)
            if key not in self._seen and len(self._seen) >= MAX_URL_TOKENS:
                return
            self._seen.setdefault(key, _Place(exchange, token)).count += 1

    def _places(self) -> dict[str, _Place]:
        """Per place, the first credential seen there and how many requests carried one."""
        places: dict[str, _Place] = {}
        for (name, token), seen in self._seen.items():
            parsed = parse(token)
            if parsed is None or (token not in self._known and not is_credential(parsed)):
                continue
            if name in places:
                places[name].count += seen.count
            else:
                places[name] = _Place(seen.first, token, seen.count)
        return places

    def conclude(self, ctx: ProbeContext) -> None:
        """One check for the target, one finding per place."""
        places = self._places()
        if not places:
            if self.seen:
                said = f"no request URL held a JWT credential ({self.seen} endpoint requests seen)"
                ctx.check(PROBE_ID, CHECK, None, CheckStatus.passed, said)
            else:
                said = "no endpoint's request was sent: no URL to look at"
                ctx.check(PROBE_ID, CHECK, None, CheckStatus.skipped, said)
            return
        tokens = sorted({token for _, token in self._seen} - self._known)
        for number, token in enumerate(tokens, start=1):
            ctx.keep_secret(token, f"jwt_in_url_{number}")
        total = sum(place.count for place in places.values())
        said = f"a JWT credential was sent in the URL of {total} request(s): "
        ctx.check(PROBE_ID, CHECK, None, CheckStatus.failed, said + ", ".join(places))
        for name, place in places.items():
            ctx.report(PROBE_ID, self._found(ctx, name, place))

    def _found(self, ctx: ProbeContext, name: str, place: _Place) -> Found:
        first = place.first
        detail = (
            f"a JWT that is a credential ({_what(place.token, self._known)}) was sent in the "
            f"request URL ({place.count} request(s) to {name}): URLs end up in server, proxy "
            "and browser logs"
        )
        exchanges = [first]
        if place.token not in self._known:
            # Its placeholder cannot be filled in: no curl line; the request is named instead.
            parts = urlsplit(first.request.url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            detail += (
                f". The request: {first.request.method} {target} (sent by {first.probe}, "
                f"{first.purpose})"
            )
            exchanges = []
        return Found(
            rule=rule_named(CHECK),
            detail=detail,
            exchanges=exchanges,
            endpoint=first.endpoint,
            affected=[] if first.endpoint else [name],
            key="seen-in-url",
            notes={0: "the URL carries a JWT credential"},
        )


def _what(token: str, known: set[str]) -> str:
    if token in known:
        return "an identity's own token"
    parsed = parse(token)
    names = sorted(parsed.claims)[:6] if parsed is not None and is_credential(parsed) else []
    return f"claims {', '.join(names)}" if names else "a token the scan knows"
