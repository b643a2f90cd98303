"""Whether two answers are the same answer: the judge behind "accepted" and "equivalent".

The jwt and access probes decide by comparing answers: a forged token is accepted when its
answer is the valid token's answer, another user reads a resource when they get the owner's
answer. A careless comparison makes false alarms both ways (a fresh timestamp makes two
identical answers differ; a loose one makes `{"error": "invalid token"}` look like data), so:

- The status class must match (2xx with 2xx).
- JSON bodies are compared value by value, path by path. A path is volatile, and left out, when
  its value differed between repeated samples of the reference request, when its key names a
  time, a request id or a nonce, or when its value reads as a date and time.
- Other bodies are compared as text once values that change per request (UUIDs, long hex or
  base64 runs, dates and times) are blanked; when repeated samples still differ, the reference
  is unstable and a candidate must be at least as close to it as the samples were to each other.

`Reference.learn` takes two or more samples of one request; one sample gives a reference that
knows no volatile paths besides the named ones.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from probe.exchange import ResponseRecord

_BODY_CHARS = 262_144
_MAX_DEPTH = 12
_MAX_PATHS = 5000
# Keys whose values change between two identical requests (compared in lower case, with
# separators removed).
_VOLATILE_KEYS = frozenset(
    {
        "timestamp",
        "time",
        "date",
        "now",
        "servertime",
        "requestid",
        "traceid",
        "spanid",
        "correlationid",
        "nonce",
        "csrf",
        "csrftoken",
        "xsrftoken",
        "iat",
        "exp",
        "nbf",
        "jti",
        "expiresat",
        "expiresin",
        "issuedat",
        "generatedat",
        "lastseen",
        "lastlogin",
        "lastloginat",
        "uptime",
        "elapsed",
        "took",
        "durationms",
    }
)
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT"
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_LONG_RUN = re.compile(r"[A-Za-z0-9+/_\-]{24,}={0,2}")
_SPACE = re.compile(r"\s+")
_REFUSAL_WORDS = re.compile(
    r"unauthori[sz]ed|forbidden|access denied|permission denied|not allowed|not permitted|"
    r"not found|invalid (?:token|credentials|signature|session)|(?:token|session) (?:expired|"
    r"invalid)|login required|authentication required|must be logged in",
    re.IGNORECASE,
)
_ERROR_KEYS = frozenset({"error", "errors", "error_description", "fault"})


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _json(body: bytes) -> Any:
    """The parsed JSON body, or None when it is not JSON (or too large to be worth parsing)."""
    if not body or len(body) > _BODY_CHARS:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def flatten(value: Any) -> dict[str, Any]:
    """JSON as `{path: scalar}` (`items.0.id`); empty objects and lists are values too."""
    out: dict[str, Any] = {}

    def walk(item: Any, path: str, depth: int) -> None:
        if len(out) >= _MAX_PATHS:
            return
        if depth > _MAX_DEPTH:
            out[path] = "<deep>"
        elif isinstance(item, dict) and item:
            for key, child in item.items():
                walk(child, f"{path}.{key}" if path else str(key), depth + 1)
        elif isinstance(item, list) and item:
            for index, child in enumerate(item):
                walk(child, f"{path}.{index}" if path else str(index), depth + 1)
        else:
            out[path] = item

    walk(value, "", 0)
    return out


def _named_volatile(path: str, value: Any) -> bool:
    last = path.rsplit(".", 1)[-1]
    if _key(last) in _VOLATILE_KEYS or _key(last).endswith(("timestamp", "requestid")):
        return True
    return isinstance(value, str) and bool(_DATETIME.fullmatch(value.strip()))


def blank_text(body: bytes) -> str:
    """Body text with per-request values (dates, UUIDs, long tokens) blanked, spaces collapsed."""
    text = body[:_BODY_CHARS].decode("utf-8", errors="replace")
    text = _DATETIME.sub("<time>", text)
    text = _UUID.sub("<uuid>", text)
    text = _LONG_RUN.sub("<token>", text)
    return _SPACE.sub(" ", text).strip()


def _similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass(frozen=True)
class Reference:
    """An answer to compare others with, learnt from one or more samples of one request.

    Attributes:
        status: The first sample's status.
        fields: For JSON answers, the first sample's `{path: value}` without volatile paths;
            None for other bodies.
        volatile: JSON paths left out of comparisons.
        text: For other bodies, the first sample's blanked text.
        floor: For unstable text, the least similarity a candidate needs (1.0 when the samples
            were the same).
        stable: False when the samples differed beyond the volatile parts (text answers), or
            changed status class.
        samples: How many samples it was learnt from.
    """

    status: int
    fields: dict[str, Any] | None
    volatile: frozenset[str]
    text: str
    floor: float
    stable: bool
    samples: int

    @classmethod
    def learn(cls, first: ResponseRecord, *more: ResponseRecord) -> Reference:
        """The reference of `first`, with what changed in the other samples left out."""
        data = _json(first.body)
        stable = all(m.status // 100 == first.status // 100 for m in more)
        if data is not None and all(_json(m.body) is not None for m in more):
            flat = flatten(data)
            volatile = {p for p, v in flat.items() if _named_volatile(p, v)}
            for sample in more:
                other = flatten(_json(sample.body))
                volatile |= {p for p in flat.keys() | other.keys() if flat.get(p) != other.get(p)}
            kept = {p: v for p, v in flat.items() if p not in volatile}
            if flat and not kept:
                stable = False  # every value changed: nothing left to compare
            return cls(first.status, kept, frozenset(volatile), "", 1.0, stable, 1 + len(more))
        text = blank_text(first.body)
        floor = min((_similarity(text, blank_text(m.body)) for m in more), default=1.0)
        stable = stable and floor == 1.0
        return cls(first.status, None, frozenset(), text, floor, stable, 1 + len(more))

    def matches(self, response: ResponseRecord) -> bool:
        """True when `response` is this answer again: the same status class and the same body
        once the volatile parts are left out."""
        if response.status // 100 != self.status // 100:
            return False
        if self.fields is not None:
            data = _json(response.body)
            if data is None:
                return False
            flat = flatten(data)
            other = {
                p: v
                for p, v in flat.items()
                if p not in self.volatile and not _named_volatile(p, v)
            }
            return other == self.fields
        text = blank_text(response.body)
        if text == self.text:
            return True
        # An unstable text answer: as close to the reference as its own samples were, and
        # never merely "similar" (a floor under 0.9 means no text comparison is trusted).
        return self.floor >= 0.9 and _similarity(text, self.text) >= self.floor - 0.01


def differing_excerpt(a: ResponseRecord, b: ResponseRecord, width: int = 160) -> str:
    """The first place where two bodies differ, as "a … | b …" text (for a report's detail)."""
    left = a.body[:_BODY_CHARS].decode("utf-8", errors="replace")
    right = b.body[:_BODY_CHARS].decode("utf-8", errors="replace")
    index = next(
        (i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
        min(len(left), len(right)),
    )
    start = max(0, index - width // 4)
    return f"{left[start : start + width]!r} | {right[start : start + width]!r}"


def is_refusal(response: ResponseRecord) -> bool:
    """True when an answer refuses or says nothing: a 4xx/5xx, a 3xx, an empty body, or a
    body that is an error object or speaks of denied access, a bad token or a missing resource.

    A 2xx with real data is never a refusal, whatever words its data holds, unless the body is
    short enough to be only a message.
    """
    if response.status >= 300:
        return True
    body = response.body.strip()
    if not body or body in (b"{}", b"[]", b"null", b'""'):
        return True
    data = _json(body)
    if isinstance(data, dict):
        if {_key(k) for k in data} & {_key(k) for k in _ERROR_KEYS}:
            return True
        if data.get("success") is False or data.get("ok") is False:
            return True
    return len(body) <= 200 and bool(_REFUSAL_WORDS.search(body.decode("utf-8", "replace")))


def same_answers(samples: Sequence[ResponseRecord]) -> bool:
    """True when every sample matches the first one (a stable endpoint)."""
    if not samples:
        return False
    reference = Reference.learn(samples[0])
    return all(reference.matches(s) for s in samples[1:])
