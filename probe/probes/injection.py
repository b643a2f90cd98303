"""The injection probe: basic payloads on the parameters each endpoint names in `inject`.

It runs beside the other probes, one endpoint and one point at a time (time-based payloads
need a quiet line), and never touches a DELETE endpoint. Per point (`injection_points`):

1. Baselines (`injection_attack`): two unmodified requests and one with a harmless random
   value, with their latencies; an unstable answer or one that ignores the input is noted.
2. The families named in `probes.injection.families`, in order: `sql`, `nosql`, `command`,
   `template`, `xss`, `traversal` (one module each, `injection_<family>`). Each records one
   check per point and reports only what it proves.

Time-based payloads run only with `probes.injection.time_based`, and one endpoint's
time-based requests take at most `max_wait` seconds in all, timeouts included
(`injection_timing`). Payloads never write or delete: no `DROP`, `DELETE`, `UPDATE`,
`INSERT`, `shutdown` or `rm`; commands only sleep or
compute numbers. Every payload carries the scan's random marker or numbers drawn for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from probe.findings import CheckStatus
from probe.probes import (
    injection_command,
    injection_nosql,
    injection_sql,
    injection_template,
    injection_traversal,
    injection_xss,
)
from probe.probes.base import Probe, ProbeContext
from probe.probes.injection_attack import Attack, Unusable
from probe.probes.injection_points import points
from probe.probes.injection_rules import PROBE_ID, RULES
from probe.scenario.models import Endpoint, InjectionConfig, Scenario

#: Each family's runner, by the name `probes.injection.families` uses.
FAMILIES: dict[str, Callable[[Attack], Awaitable[None]]] = {
    "sql": injection_sql.run,
    "nosql": injection_nosql.run,
    "command": injection_command.run,
    "template": injection_template.run,
    "xss": injection_xss.run,
    "traversal": injection_traversal.run,
}

__all__ = ["FAMILIES", "InjectionProbe"]


class InjectionProbe(Probe):
    """SQL, NoSQL, OS command, template, reflected XSS and path traversal payloads."""

    id = PROBE_ID
    title = "Injection (SQL, NoSQL, command, template, XSS, traversal)"
    rules = RULES

    def plan(self, scenario: Scenario) -> list[str]:
        """One line per endpoint with points: where payloads go and which families."""
        config = _config(scenario)
        if config is None:
            return []
        lines: list[str] = []
        for endpoint in scenario.endpoints:
            if not endpoint.inject:
                continue
            where = ", ".join(p.label for p in points(endpoint))
            if endpoint.method == "DELETE":
                lines.append(f"{self.id}: {endpoint.label}: skipped (never a DELETE endpoint)")
            elif not where:
                lines.append(f"{self.id}: {endpoint.label}: skipped (no parameter to inject)")
            else:
                lines.append(
                    f"{self.id}: {endpoint.label}: {', '.join(config.families)} payloads in "
                    f"{where}" + (" (time-based too)" if config.time_based else "")
                )
        return lines or [f"{self.id}: no endpoint names parameters in `inject`"]

    async def run(self, ctx: ProbeContext) -> None:
        """Test every point of every endpoint with `inject`, one at a time."""
        config = ctx.config(PROBE_ID)
        assert isinstance(config, InjectionConfig)
        targets = _targets(ctx.scenario)
        for endpoint in ctx.scenario.endpoints:
            if endpoint.inject and endpoint.method == "DELETE":
                ctx.check(
                    PROBE_ID,
                    "points",
                    endpoint,
                    CheckStatus.skipped,
                    "a DELETE endpoint is never sent payloads (its baselines would delete)",
                )
        if not targets:
            ctx.check(
                PROBE_ID,
                "points",
                None,
                CheckStatus.skipped,
                "no endpoint names parameters in `inject`: nothing was sent",
            )
            return
        for endpoint in targets:
            await self._endpoint(ctx, config, endpoint)

    async def _endpoint(
        self, ctx: ProbeContext, config: InjectionConfig, endpoint: Endpoint
    ) -> None:
        wait_left = [float(config.max_wait)]
        found = points(endpoint)
        if not found:
            ctx.check(
                PROBE_ID,
                "points",
                endpoint,
                CheckStatus.skipped,
                "`inject` names no parameter this endpoint's request carries (a raw `body`, "
                "a JSON list or no parameters at all): nothing was sent",
            )
        stopped = ""
        for point in found:
            attack = Attack(ctx, endpoint, point, config, ctx.marker, wait_left)
            if stopped:
                for family in config.families:
                    attack.check(family, CheckStatus.error, f"not tested: {stopped}")
                continue
            stopped = await _point(attack, config)


async def _point(attack: Attack, config: InjectionConfig) -> str:
    """Run every family at one point; the reason to stop the endpoint, or ""."""
    try:
        await attack.learn_baseline()
    except Unusable as exc:
        for family in config.families:
            attack.check(family, CheckStatus.error, f"no baseline to compare with: {exc}")
        return str(exc) if exc.lasting else ""
    for index, family in enumerate(config.families):
        try:
            await FAMILIES[family](attack)
        except Unusable as exc:
            attack.check(family, CheckStatus.error, str(exc))
            if exc.lasting:
                # A rate limit that outlived the retry, or the engine's refusal: every later
                # request of the endpoint would meet it too.
                for rest in config.families[index + 1 :]:
                    attack.check(rest, CheckStatus.error, f"not tested: {exc}")
                return str(exc)
    return ""


def _config(scenario: Scenario) -> InjectionConfig | None:
    config = scenario.probes.injection
    return config if isinstance(config, InjectionConfig) else None


def _targets(scenario: Scenario) -> list[Endpoint]:
    return [e for e in scenario.endpoints if e.inject and e.method != "DELETE"]
