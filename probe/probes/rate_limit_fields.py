"""Parsers of the structured rate-limit fields (RFC 8941) of the IETF draft: `RateLimit`
(`"default";r=50;t=30`: remaining quota and seconds to the reset, per policy) and
`RateLimit-Policy` (`"burst";q=100;w=60`: quota and window), with an earlier draft's
dictionary form (`limit=100, remaining=50, reset=30`) and integer policies (`100;w=60`).

Nothing here raises: a value that cannot be right becomes a `HeaderProblem`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import http_sf

from probe.probes.rate_limit_values import (
    RATELIMIT,
    RATELIMIT_POLICY,
    Delay,
    HeaderProblem,
    Reading,
    canonical,
    count_problem,
    problem,
    trusted,
    whole_seconds,
)


def _structured(value: str) -> tuple[list[Any] | None, dict[str, Any] | None]:
    """The value parsed as a structured list, else as a dictionary; (None, None) if neither."""
    data = value.encode("utf-8", errors="replace")
    for kind in ("list", "dictionary"):
        try:
            parsed = http_sf.parse(data, tltype=kind)
        except Exception:  # noqa: S112 - any parser failure means "not this shape"
            continue
        if kind == "list" and isinstance(parsed, list):
            return parsed, None
        if kind == "dictionary" and isinstance(parsed, dict):
            return None, parsed
    return None, None


def _item_params(item: Any) -> tuple[Any, dict[str, Any]]:
    """The bare value and parameters of a list member (an inner list has no usable value)."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], dict):
        return item[0], item[1]
    return item, {}


def parse_ratelimit(value: str, now: float) -> Reading:
    """RateLimit: `"policy";r=<remaining>;t=<reset delay>`, one member per policy."""
    members, dictionary = _structured(value)
    if dictionary is not None and members is None:
        return _ratelimit_dictionary(value, dictionary, now)
    if members is None:
        return Reading(problems=(problem(RATELIMIT, value, "not a structured field list"),))
    delays: list[Delay] = []
    problems: list[HeaderProblem] = []
    for member in members:
        bare, params = _item_params(member)
        if isinstance(bare, list):
            problems.append(problem(RATELIMIT, value, "an inner list where a policy is meant"))
            continue
        if "r" not in params:
            problems.append(problem(RATELIMIT, value, "a policy without its r (remaining)"))
        elif reason := count_problem(params["r"]):
            problems.append(problem(RATELIMIT, value, f"r is {reason}"))
        if "t" in params:
            reading = _delay_param(value, params["t"], now, "t")
            delays += reading.delays
            problems += reading.problems
    return Reading(tuple(delays), tuple(problems))


def _delay_param(value: str, number: Any, now: float, param: str) -> Reading:
    seconds, reason = whole_seconds(number, now)
    name = f"{canonical(RATELIMIT)};{param}"
    problems = (problem(RATELIMIT, value, f"{param} is {reason}"),) if reason else ()
    if seconds is None:
        return Reading(problems=problems)
    return Reading((Delay(name, seconds, float(number), trusted(reason)),), problems)


def _ratelimit_dictionary(value: str, fields: dict[str, Any], now: float) -> Reading:
    """An earlier draft's `limit=10, remaining=0, reset=30`."""
    known = {k: _item_params(v)[0] for k, v in fields.items()}
    if not {"limit", "remaining", "reset"} & set(known):
        return Reading(problems=(problem(RATELIMIT, value, "not a structured field list"),))
    problems: list[HeaderProblem] = []
    for key in ("limit", "remaining"):
        if key in known and (reason := count_problem(known[key])):
            problems.append(problem(RATELIMIT, value, f"{key} is {reason}"))
    limit = known.get("limit")
    quotas = (limit,) if isinstance(limit, int) and count_problem(limit) is None else ()
    if "reset" not in known:
        return Reading(problems=tuple(problems), quotas=quotas)
    reading = _delay_param(value, known["reset"], now, "reset")
    return Reading(reading.delays, tuple(problems) + reading.problems, quotas)


def parse_ratelimit_policy(value: str) -> Reading:
    """RateLimit-Policy: `"policy";q=<quota>;w=<window>`, or an earlier draft's `100;w=60`."""
    members, _ = _structured(value)
    if members is None:
        reason = "not a structured field list"
        return Reading(problems=(problem(RATELIMIT_POLICY, value, reason),))
    problems: list[HeaderProblem] = []
    quotas: list[int] = []
    for member in members:
        bare, params = _item_params(member)
        quota = bare if isinstance(bare, int | Decimal) and not isinstance(bare, bool) else None
        if isinstance(bare, list):
            problems.append(problem(RATELIMIT_POLICY, value, "an inner list"))
            continue
        quota = params.get("q", quota)
        why = "without its q (quota)" if quota is None else count_problem(quota)
        if why is not None:
            problems.append(
                problem(RATELIMIT_POLICY, value, f"q is {why}" if quota is not None else why)
            )
        elif isinstance(quota, int):
            quotas.append(quota)
        why = _window(params["w"]) if "w" in params else None
        if why is not None:
            problems.append(problem(RATELIMIT_POLICY, value, f"w is {why}"))
    return Reading(problems=tuple(problems), quotas=tuple(quotas))


def _window(number: Any) -> str | None:
    reason = count_problem(number)
    if reason is None and number == 0:
        return "zero (a window has a length)"
    return reason.replace("count", "number of seconds") if reason else None
