"""The access probe's mass-assignment check on one endpoint that opts in (`mass_assignment`).

Three requests, all as the endpoint's identity: the object read back (the `read` endpoint's
request, or GET on the endpoint's own path), the endpoint's JSON body with the privilege fields
added where the body's own fields are (inside a wrapper such as `{"data": {...}}` or a JSON:API
`attributes`: `access_mass_judges.field_home`), the object read back again. Nothing is written
when the first read-back gives no JSON object to compare with, nor when a field name tries to
place itself (`data.role`, or `data` in a `data` wrapper: `misplaced_fields`). The write is
real: a vulnerable API keeps the privilege it was given.

A strict update model refuses the whole body for one field it does not know (a 400 or 422 for
`admin`) while it binds another (`role`). So when the write with every field is refused so,
each field is sent alone, each write followed by a read-back: at most one write and one
read-back per field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from probe.exchange import Exchange
from probe.findings import CheckStatus
from probe.probes.access_judges import describe
from probe.probes.access_mass_judges import (
    MassVerdict,
    field_home,
    holds_object,
    judge_mass_assignment,
    misplaced_fields,
    parse_json,
    shown,
    where,
    with_privilege_fields,
)
from probe.probes.access_rules import PROBE_ID, RULES
from probe.probes.base import Found, ProbeContext, RequestSpec
from probe.scenario.models import Endpoint

_RULE = next(rule for rule in RULES if rule.id == f"{PROBE_ID}.mass-assignment")
CHECK = "mass-assignment"
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})
#: Statuses of a body refused for its fields (a validation error): each field is then tried alone.
VALIDATION_STATUSES = frozenset({400, 422})


def read_request(ctx: ProbeContext, endpoint: Endpoint) -> RequestSpec | str:
    """The request that reads the object back, or why there is none."""
    settings = endpoint.mass_assignment
    assert settings is not None
    if settings.read is not None:
        reader = ctx.scenario.endpoint(settings.read)
        if reader.method != "GET":
            return f"the read endpoint {reader.label!r} is a {reader.method}, not a GET"
        return ctx.endpoint_request(reader)
    spec = ctx.endpoint_request(endpoint)
    headers = tuple((n, v) for n, v in spec.headers if n.lower() not in _BODY_HEADERS)
    return RequestSpec("GET", spec.url, headers, None)


class MassAssignmentCheck:
    """The mass-assignment check of one endpoint."""

    def __init__(self, ctx: ProbeContext, endpoint: Endpoint) -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        assert endpoint.mass_assignment is not None
        self.fields = endpoint.mass_assignment.fields
        assert isinstance(endpoint.json_body, dict)  # the scenario model checks it
        self.body = endpoint.json_body
        #: Where the fields go, for the details.
        self.home = where(field_home(self.body))

    def _check(self, status: CheckStatus, detail: str) -> None:
        self.ctx.check(PROBE_ID, CHECK, self.endpoint, status, detail)

    async def _send(self, spec: RequestSpec, purpose: str) -> Exchange:
        return await self.ctx.send(
            spec,
            probe=PROBE_ID,
            purpose=f"mass-assignment:{purpose}",
            endpoint=self.endpoint,
            identity=self.endpoint.identity,
        )

    async def _read(self, spec: RequestSpec, purpose: str) -> tuple[Exchange, object] | None:
        """A read-back and its JSON; None (and the check error) when it has none."""
        exchange = await self._send(spec, purpose)
        response = exchange.response
        if response is None:
            self._check(CheckStatus.error, f"{purpose}: request failed ({exchange.error})")
            return None
        data = parse_json(response) if 200 <= response.status < 300 else None
        if data is None or not holds_object(data):
            what = "no JSON" if data is None else "no object to read the fields from"
            said = (
                f"{purpose} answered {describe(response)}: {what} (set mass_assignment.read "
                "to the endpoint that reads the object)"
            )
            self._check(CheckStatus.error, said)
            return None
        return exchange, data

    async def run(self) -> None:
        """Read, write with the fields added, read again; judge. A write refused for its
        fields is tried again with each field alone."""
        reader = read_request(self.ctx, self.endpoint)
        if isinstance(reader, str):
            self._check(CheckStatus.error, reader)
            return
        misplaced = misplaced_fields(self.fields, field_home(self.body))
        if misplaced:
            said = (
                f"mass_assignment.fields {', '.join(repr(k) for k in misplaced)}: fields are "
                f"added where the body's own fields are ({self.home}), never as paths, so name "
                "each privilege field alone (role, not data.role nor data: {role: ...})"
            )
            self._check(CheckStatus.error, said)
            return
        before = await self._read(reader, "read-before")
        if before is None:
            return
        write = await self._write(self.fields, "write")
        if write.response is None:
            self._check(CheckStatus.error, f"write: request failed ({write.error})")
            return
        if write.response.status in VALIDATION_STATUSES and len(self.fields) > 1:
            await self._one_by_one(reader, before, write)
            return
        if write.response.status >= 300:
            said = f"the write with {self._sent()} was refused "
            self._check(CheckStatus.passed, said + f"({describe(write.response)})")
            return
        after = await self._read(reader, "read-after")
        if after is None:
            return
        verdict = judge_mass_assignment(
            self.fields, before[1], parse_json(write.response), after[1]
        )
        self._judge(verdict, before, write, after)

    async def _write(self, fields: Mapping[str, Any], purpose: str) -> Exchange:
        body = with_privilege_fields(self.body, fields)
        spec = self.ctx.endpoint_request(
            self.endpoint, content=json.dumps(body).encode(), content_type="application/json"
        )
        return await self._send(spec, purpose)

    async def _one_by_one(
        self, reader: RequestSpec, before: tuple[Exchange, object], refused: Exchange
    ) -> None:
        """Each field alone, each write followed by a read-back; report the first stored."""
        assert refused.response is not None
        said = [
            f"the write with {self._sent()} was refused ({describe(refused.response)}), so "
            "each was sent alone"
        ]
        inconclusive = False
        for key, value in self.fields.items():
            one = {key: value}
            write = await self._write(one, f"write:{key}")
            if write.response is None:
                said.append(f"{key}: request failed ({write.error})")
                continue
            if write.response.status >= 300:
                said.append(f"{key}: refused ({write.response.status})")
                continue
            after = await self._read(reader, f"read-after:{key}")
            if after is None:
                return
            written = parse_json(write.response)
            verdict = judge_mass_assignment(one, before[1], written, after[1])
            if verdict.stored:
                self._judge(verdict, before, write, after, "; ".join(said))
                return
            if verdict.already:
                said.append(f"{key}: inconclusive, the read-back held it before the write")
                inconclusive = True
            else:
                said.append(f"{key}: accepted, the read-back does not hold it")
        self._check(CheckStatus.error if inconclusive else CheckStatus.passed, "; ".join(said))

    def _judge(
        self,
        verdict: MassVerdict,
        before: tuple[Exchange, object],
        write: Exchange,
        after: tuple[Exchange, object],
        earlier: str = "",
    ) -> None:
        fields = self.fields
        echo = ""
        if verdict.echoed:
            echo = (
                f"; the write answer echoed {shown(fields, verdict.echoed)}, but the "
                "read-back does not hold it: not stored (many APIs echo their input)"
            )
        prefix = f"{earlier}; " if earlier else ""
        if verdict.stored:
            detail = (
                f"{prefix}{self.endpoint.method} {self.endpoint.rendered_path} stored "
                f"{shown(fields, verdict.stored)} from the request body (added {self.home}): "
                "the read-back holds it, and did not before"
            )
            self._check(CheckStatus.failed, detail)
            notes = {
                0: f"the write, with the fields added {self.home}",
                1: "read back after",
                2: "before",
            }
            exchanges = [write, after[0], before[0]]
            self.ctx.report(
                PROBE_ID,
                Found(_RULE, detail, exchanges, endpoint=self.endpoint.label, notes=notes),
            )
        elif verdict.already:
            said = (
                f"{prefix}inconclusive: the read-back already held "
                f"{shown(fields, verdict.already)} before the write"
            )
            self._check(CheckStatus.error, said + echo)
        else:
            said = f"the read-back holds none of {self._sent()}"
            self._check(CheckStatus.passed, said + echo)

    def _sent(self) -> str:
        """The fields and where they went in the body."""
        return f"{shown(self.fields, list(self.fields))} (added {self.home} of the body)"
