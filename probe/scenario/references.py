"""Checks that span keys of a valid scenario: unique endpoint names, and the identities,
endpoints and parameters one key refers to elsewhere.

They run after the models accepted every key on its own; each problem comes with the key
path where it shows, which the loader turns into file:line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from probe.scenario.values import host_key

if TYPE_CHECKING:
    # Annotations only: `models` re-exports `reference_problems`, so a runtime import would
    # be circular.
    from probe.scenario.models import Loc, Scenario, Target


def reference_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Problems that span keys, each with the key path where it shows."""
    problems: list[tuple[Loc, str]] = []
    seen: dict[str, int] = {}
    for index, endpoint in enumerate(scenario.endpoints):
        loc: Loc = ("endpoints", index)
        label = endpoint.label
        if label in seen:
            where = "name" if endpoint.name else "path"
            problems.append(
                ((*loc, where), f"duplicate endpoint {label!r} (also endpoints[{seen[label]}])")
            )
        seen.setdefault(label, index)
        for key in ("identity", "owner"):
            ref = getattr(endpoint, key)
            if ref is not None and ref not in scenario.identities:
                problems.append(((*loc, key), _unknown("identity", ref, scenario.identities)))
        if isinstance(endpoint.inject, list):
            names = endpoint.parameter_names()
            for i, param in enumerate(endpoint.inject):
                if param not in names:
                    problems.append(
                        ((*loc, "inject", i), _unknown("parameter", param, names, "endpoint"))
                    )
        mass = endpoint.mass_assignment
        if mass is not None and mass.read is not None and mass.read not in _labels(scenario):
            problems.append(
                (
                    (*loc, "mass_assignment", "read"),
                    _unknown("endpoint", mass.read, _labels(scenario)),
                )
            )
        if endpoint.burst is not None and endpoint.burst > scenario.settings.burst_cap:
            problems.append(
                (
                    (*loc, "burst"),
                    f"burst {endpoint.burst} is above settings.burst_cap "
                    f"({scenario.settings.burst_cap})",
                )
            )
        if endpoint.burst is not None and endpoint.method == "DELETE":
            problems.append(
                (
                    (*loc, "burst"),
                    "a DELETE endpoint cannot take a burst: probes never replay DELETE requests",
                )
            )
    problems += _scope_problems(scenario.target)
    jwt = scenario.probes.jwt
    if jwt is not False:
        if jwt.identity is not None and jwt.identity not in scenario.identities:
            problems.append(
                (
                    ("probes", "jwt", "identity"),
                    _unknown("identity", jwt.identity, scenario.identities),
                )
            )
        if jwt.endpoint is not None and jwt.endpoint not in seen:
            problems.append(
                (("probes", "jwt", "endpoint"), _unknown("endpoint", jwt.endpoint, seen))
            )
        problems += _jwks_problems(jwt.jwks_url, scenario.target)
    return problems


def _labels(scenario: Scenario) -> list[str]:
    return [endpoint.label for endpoint in scenario.endpoints]


def _jwks_problems(url: str | None, target: Target) -> list[tuple[Loc, str]]:
    """A JWKS URL must be a path or an http(s) URL on a host in scope."""
    if url is None or url.startswith("/"):
        return []
    loc: Loc = ("probes", "jwt", "jwks_url")
    if not url.lower().startswith(("http://", "https://")):
        return [(loc, f"jwks_url must be a path starting with / or an http(s) URL, got {url!r}")]
    key = host_key(url)
    scope = target.scope_keys()
    if key in scope or key.rsplit(":", 1)[0] in scope:
        return []
    return [(loc, f"jwks_url's host {key} is not in scope ({', '.join(sorted(scope))})")]


def _scope_problems(target: Target) -> list[tuple[Loc, str]]:
    """base_url must be in scope, or the scan could send nothing at all."""
    if target.scope is None:
        return []
    key = host_key(target.base_url)
    host = key.rsplit(":", 1)[0]
    # An IPv6 host may be listed with or without its brackets.
    if {key, host, host.strip("[]")} & set(target.scope):
        return []
    return [
        (
            ("target", "scope"),
            f"base_url's host {key} is not in scope ({', '.join(target.scope)}): "
            "the scan could not send a single request",
        )
    ]


def _unknown(kind: str, ref: str, known: Any, owner: str = "scenario") -> str:
    import difflib

    names = sorted(str(k) for k in known)
    close = difflib.get_close_matches(ref, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if not names:
        return f"unknown {kind} {ref!r}: the {owner} defines none{hint}"
    return f"unknown {kind} {ref!r}{hint} (defined: {', '.join(names)})"
