"""The errors probe: provokes error answers, then judges every answer for what it leaks.

What it sends, per endpoint, as the endpoint's identity. Each request goes twice, once with
`Accept: application/json` and once with `Accept: text/html`, since many frameworks leak in
one and not the other:

- `unknown-path`: GET <endpoint path>/<scan marker>-missing;
- `malformed-json`: the endpoint's method with a cut-off JSON body (endpoints that take JSON);
- `type-confusion`: a word wherever the endpoint sends a number (path parameters, query
  values, JSON fields), when it sends any;
- `long-value`: an 8 KiB value in the endpoint's first parameter (a query parameter, else a
  JSON field, a path parameter, a form field, else an added query parameter);
- `special-chars`: `'"<{}` and a NUL byte in that same parameter;
- `unsupported-method`: the invented method PRBX, never a real one.

That is 8 to 12 requests per endpoint, none to DELETE endpoints: their baseline request is
sent once, and only its answer is read (`error_triggers` says what else a trigger may send).

Once per target, unless `exposure_paths: false`: a request for a random path (the reference
answer), then the 24 well-known paths of `exposure_signatures.EXPOSURES`, joined to base_url
and, when base_url has a path, to the host root too: 25 or 50 requests. A file found at one
URL names that URL in `affected` (the finding has no endpoint).

How it judges: every answer any probe gets (the baselines included) goes through the pure
judges of `error_signatures` (stack traces, framework debug pages, SQL errors, server file
paths) and `secret_signatures`. Error text counts only when the normal answer lacks it: the
endpoint's baseline, or for target-wide requests the random-path answer, when below 400.
Secrets (see `secret_signatures`: stored credentials, not messages, labels, echoes of the
request's decoded values or the scan's own payloads) and debug consoles count wherever they
show; sure secrets and guesses are two findings. A 500 to one of the probe's own malformed
requests is an unhandled error when the baseline was answered below 500. Exposure paths are
judged by their content, and not at all when the random path gets the same content.
`error_hits` weighs the matches against the normal answers and groups them into findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

import anyio

from probe.exchange import Exchange
from probe.findings import CheckStatus, Confidence
from probe.probes.base import Found, Probe, ProbeContext, RequestSpec
from probe.probes.error_hits import Hit, NormalAnswers, Reference, grouped_findings, hit_of
from probe.probes.error_rules import PROBE_ID, RULES
from probe.probes.error_signatures import is_binary, judge_views, unhandled_5xx
from probe.probes.error_triggers import (
    ACCEPTS,
    Trigger,
    plan_triggers,
    replay_refusal,
    target_roots,
)
from probe.probes.exposure_signatures import EXPOSURES, Exposure
from probe.probes.secret_echoes import sent_by
from probe.probes.secret_signatures import SecretField, secret_fields, secret_matches
from probe.probes.signatures import (
    DEBUG_CONSOLE,
    DEBUG_PAGE,
    EXPOSED_FILE,
    INTERNAL_PATH,
    SECRET_IN_RESPONSE,
    SQL_ERROR,
    STACK_TRACE,
    UNHANDLED_5XX,
    Match,
    text_views,
)
from probe.scenario.models import Endpoint, ErrorsConfig

_DISCLOSURE_RULES = (DEBUG_CONSOLE, DEBUG_PAGE, STACK_TRACE, SQL_ERROR, INTERNAL_PATH)
# Rules that count wherever they show: they are never part of a normal answer.
_ALWAYS_NEWS = frozenset({DEBUG_CONSOLE, SECRET_IN_RESPONSE})


@dataclass
class _State:
    """What the probe gathered during the scan."""

    matches: list[tuple[Exchange, list[Match]]] = field(default_factory=list)
    secrets: list[tuple[Exchange, list[SecretField]]] = field(default_factory=list)
    answered: Counter[str] = field(default_factory=Counter)
    sent: dict[str, list[Exchange]] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)
    exposed: set[int] = field(default_factory=set)


class ErrorsProbe(Probe):
    """Malformed requests per endpoint, well-known exposure paths, and a passive reading of
    every answer for stack traces, debug pages, SQL errors, file paths and secrets."""

    id = PROBE_ID
    title = "Error handling, debug pages and exposed files"
    rules = RULES

    def __init__(self) -> None:
        self._state = _State()

    # -- passive -------------------------------------------------------------------------------

    def observe(self, exchange: Exchange) -> None:
        """Judge one answer now; whether it is news is decided in `conclude`."""
        response = exchange.response
        if response is None:
            return
        if exchange.endpoint is not None:
            self._state.answered[exchange.endpoint] += 1
        if not response.body or is_binary(response.content_type):
            return
        views = text_views(response.text(), response.content_type)
        matches = judge_views(views, exclude=unquote(exchange.request.url))
        if matches:
            self._state.matches.append((exchange, matches))
        # Secrets become matches in `conclude`, where the scan marker tells the probes' own
        # payload apart; echoes of this request are left out now, while it is at hand.
        if not views.is_json and "PRIVATE KEY" not in views.plain:
            return
        secrets = secret_fields(views, status=response.status, sent=sent_by(exchange.request))
        if secrets:
            self._state.secrets.append((exchange, secrets))

    # -- active --------------------------------------------------------------------------------

    async def run(self, ctx: ProbeContext) -> None:
        """Send the malformed requests per endpoint and, once, the exposure paths."""
        config = ctx.config(self.id)
        exposure = not isinstance(config, ErrorsConfig) or config.exposure_paths
        async with anyio.create_task_group() as group:
            for endpoint in ctx.scenario.endpoints:
                group.start_soon(self._provoke, ctx, endpoint)
            if exposure:
                group.start_soon(self._exposure, ctx)
        if not exposure:
            ctx.check(
                self.id,
                "exposure-paths",
                None,
                CheckStatus.skipped,
                "exposure_paths is false in the scenario: nothing was requested",
            )

    async def _provoke(self, ctx: ProbeContext, endpoint: Endpoint) -> None:
        sent = self._state.sent.setdefault(endpoint.label, [])

        async def one(trigger: Trigger, short: str, accept: str) -> None:
            spec = ctx.endpoint_request(
                endpoint,
                method=trigger.method,
                path=trigger.path,
                query=trigger.query,
                headers=[("Accept", accept)],
                content=trigger.content,
                content_type=trigger.content_type,
            )
            if trigger.drop_body:
                spec = _without_body(spec)
            exchange = await ctx.send(
                spec,
                probe=self.id,
                purpose=f"{trigger.name}:{short}",
                endpoint=endpoint,
                identity=endpoint.identity,
            )
            sent.append(exchange)

        async with anyio.create_task_group() as group:
            for trigger in plan_triggers(endpoint, ctx.marker):
                for short, accept in ACCEPTS:
                    group.start_soon(one, trigger, short, accept)

    async def _exposure(self, ctx: ProbeContext) -> None:
        found: dict[str, list[tuple[Exposure, Exchange, list[str], Reference]]] = {}
        exchanges: list[Exchange] = []
        for root in target_roots(ctx.scenario.target.base_url):
            random_path = f"{root}/{ctx.marker}-missing"
            reference = Reference(root, await self._get(ctx, random_path, "exposure-reference"))
            self._state.references.append(reference)
            results: list[tuple[Exposure, Exchange]] = []
            async with anyio.create_task_group() as group:
                for item in EXPOSURES:
                    group.start_soon(self._fetch, ctx, root, item, results)
            exchanges += [reference.exchange] + [x for _, x in results]
            for item, exchange in results:
                lines = _judge_exposure(item, exchange, reference.exchange)
                if lines:
                    found.setdefault(item.name, []).append((item, exchange, lines, reference))
                    self._state.exposed.add(exchange.seq)
        for hits in found.values():
            self._report_exposure(ctx, hits)
        self._exposure_check(ctx, exchanges, found)

    async def _fetch(
        self,
        ctx: ProbeContext,
        root: str,
        item: Exposure,
        results: list[tuple[Exposure, Exchange]],
    ) -> None:
        exchange = await self._get(ctx, root + item.path, f"exposure:{item.name}")
        results.append((item, exchange))

    async def _get(self, ctx: ProbeContext, url: str, purpose: str) -> Exchange:
        return await ctx.send(RequestSpec("GET", url), probe=self.id, purpose=purpose)

    def _report_exposure(
        self, ctx: ProbeContext, hits: list[tuple[Exposure, Exchange, list[str], Reference]]
    ) -> None:
        item, exchange, lines, reference = hits[0]
        urls = [x.request.url for _, x, _, _ in hits]
        ref = reference.exchange.response
        ref_note = f"a random path answers {ref.status}" if ref else "a random path got no answer"
        ctx.report(
            self.id,
            Found(
                rule=self.rule(EXPOSED_FILE),
                detail=f"{item.label} served at {', '.join(urls)} (checked by its content).",
                exchanges=[exchange, reference.exchange],
                affected=urls,
                severity=item.severity,
                confidence=Confidence.certain,
                key=item.name,
                excerpts={0: "\n".join(lines), 1: ""},
                notes={0: f"content of {item.label}", 1: f"{ref_note}: the content is specific"},
            ),
        )

    def _exposure_check(
        self, ctx: ProbeContext, exchanges: list[Exchange], found: Mapping[str, list[Any]]
    ) -> None:
        answered = [x for x in exchanges if x.response is not None]
        if not answered:
            reason = exchanges[0].error if exchanges else "nothing sent"
            ctx.check(
                self.id,
                "exposure-paths",
                None,
                CheckStatus.error,
                f"all {len(exchanges)} exposure requests failed: {reason}",
            )
        elif found:
            served = ", ".join(hits[0][0].path for hits in found.values())
            ctx.check(self.id, "exposure-paths", None, CheckStatus.failed, f"served: {served}")
        else:
            ctx.check(
                self.id,
                "exposure-paths",
                None,
                CheckStatus.passed,
                f"{len(answered)} answers to well-known paths, none with their content",
            )

    # -- verdicts ------------------------------------------------------------------------------

    def conclude(self, ctx: ProbeContext) -> None:
        """Keep the matches that are news, add unhandled 500s, report and record checks."""
        normal = NormalAnswers(ctx, self._state.references)
        hits: dict[str, list[Hit]] = {}
        for exchange, matches in self._all_matches(ctx):
            for match in matches:
                if exchange.seq in self._state.exposed and match.rule not in _ALWAYS_NEWS:
                    continue  # the exposed-file finding already shows this answer
                if match.rule not in _ALWAYS_NEWS and normal.holds(exchange, match.key):
                    continue
                if exchange.purpose.startswith("exposure:") and normal.catch_all(exchange, match):
                    continue  # the random-path answer already shows it
                hits.setdefault(match.rule, []).append(hit_of(exchange, match))
        hits[UNHANDLED_5XX] = self._unhandled(ctx)
        for name, rule_hits in hits.items():
            if rule_hits:
                self._report(ctx, name, rule_hits)
        for endpoint in ctx.scenario.endpoints:
            self._checks(ctx, endpoint, hits)

    def _all_matches(self, ctx: ProbeContext) -> Iterator[tuple[Exchange, list[Match]]]:
        """The judges' matches, then the secrets, without the scan's own payloads."""
        yield from self._state.matches
        for exchange, secrets in self._state.secrets:
            matches = secret_matches(secrets, marker=ctx.marker)
            if matches:
                yield exchange, matches

    def _unhandled(self, ctx: ProbeContext) -> list[Hit]:
        found: list[Hit] = []
        for endpoint in ctx.scenario.endpoints:
            baseline = ctx.baseline(endpoint)
            normal = baseline.response.status if baseline and baseline.response else None
            for exchange in self._state.sent.get(endpoint.label, []):
                response = exchange.response
                if response is None or not unhandled_5xx(response.status, normal):
                    continue
                lines = response.text(2000).strip().splitlines()[:6]
                body = "\n".join(line[:160] for line in lines)
                excerpt = f"HTTP {response.status} (the normal request got {normal})\n{body}"
                trigger = exchange.purpose.split(":", 1)[0]
                match = Match(UNHANDLED_5XX, trigger, f"500 on {trigger}", "", excerpt)
                found.append(hit_of(exchange, match))
        return found

    def _report(self, ctx: ProbeContext, name: str, hits: list[Hit]) -> None:
        for found in grouped_findings(self.rule(name), name, hits):
            ctx.report(self.id, found)

    def _checks(self, ctx: ProbeContext, endpoint: Endpoint, hits: Mapping[str, list[Hit]]) -> None:
        label = endpoint.label
        sent = self._state.sent.get(label, [])
        answered = self._state.answered[label]
        refusal = replay_refusal(endpoint)
        if refusal is None:
            failed = _all_failed(sent)
        else:
            failed = None if answered else "the baseline request got no answer"

        def record(check: str, names: Sequence[str], passed: str, error: str | None) -> None:
            fired = [h.match.label for n in names for h in hits.get(n, []) if h.place == label]
            labels = list(dict.fromkeys(fired))
            if labels:
                ctx.check(self.id, check, endpoint, CheckStatus.failed, "; ".join(labels))
            elif error is not None:
                ctx.check(self.id, check, endpoint, CheckStatus.error, error)
            else:
                ctx.check(self.id, check, endpoint, CheckStatus.passed, passed)

        record(
            "error-disclosure",
            _DISCLOSURE_RULES,
            f"{answered} answers read: no stack trace, debug page, SQL error or file path "
            "beyond the normal answer",
            failed,
        )
        skip = refusal or _unhandled_skip(ctx.baseline(endpoint), failed)
        if skip is not None:
            ctx.check(self.id, UNHANDLED_5XX, endpoint, CheckStatus.skipped, skip)
        else:
            baseline = ctx.baseline(endpoint)
            no_baseline = baseline is None or baseline.response is None
            record(
                UNHANDLED_5XX,
                (UNHANDLED_5XX,),
                f"no 500 among {len(sent)} malformed requests",
                failed or ("the baseline request got no answer" if no_baseline else None),
            )
        record(
            "secrets",
            (SECRET_IN_RESPONSE,),
            f"{answered} answers read: no secret fields or private keys",
            None if answered else "no answer came for this endpoint",
        )


def _judge_exposure(item: Exposure, exchange: Exchange, reference: Exchange) -> list[str] | None:
    response = exchange.response
    if item.judge is None or response is None or not response.body:
        return None
    lines = item.judge(response.text())
    if not lines:
        return None
    ref = reference.response
    if ref is not None and (ref.body == response.body or item.judge(ref.text())):
        return None  # the site answers this content for any path
    return lines


def _without_body(spec: RequestSpec) -> RequestSpec:
    headers = tuple((n, v) for n, v in spec.headers if n.lower() != "content-type")
    return replace(spec, headers=headers, content=None)


def _unhandled_skip(baseline: Exchange | None, failed: str | None) -> str | None:
    """Why the unhandled-5xx check says nothing: the normal request gets a 5xx itself."""
    normal = baseline.response.status if baseline and baseline.response else None
    if normal is not None and normal >= 500 and not failed:
        return (
            f"the normal request is answered {normal} itself: a 500 to malformed input "
            "would say nothing more"
        )
    return None


def _all_failed(sent: Sequence[Exchange]) -> str | None:
    if not sent:
        return "no malformed request was sent (the scan stopped first)"
    if all(x.response is None for x in sent):
        return f"all {len(sent)} malformed requests failed: {sent[0].error}"
    return None
