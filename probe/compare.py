"""Whether two answers are the same answer: the judge behind "accepted" and "equivalent".

The jwt and access probes decide by comparing answers: a forged token is accepted when its
answer is the valid token's answer, another user reads a resource when they get the owner's
answer. A careless comparison makes false alarms both ways (a fresh timestamp makes two
identical answers differ; a loose one makes `{"error": "invalid token"}` look like data), so:

- The status class must match (2xx with 2xx).
- JSON bodies are compared value by value, path by path, lists in any order (a shuffled list
  is the same list). A path is volatile, and left out, when its value differed between
  repeated samples of the reference request, when its key names a time, a request id or a
  nonce, or when its value reads as a date and time. When most of an answer is volatile, the
  reference is unstable: too little is left to call two answers the same.
- Other bodies are compared as text once values that change per request (dates, UUIDs, long
  runs of letters and digits such as CSRF tokens and CSP nonces) are blanked, element by
  element (HTML tags, lines); elements that changed between repeated samples are left out,
  and every other element must be there, in order.

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

# JSON is parsed up to this size (a bootstrap answer of a few hundred KiB is still compared
# value by value); text is compared on its first _TEXT_BYTES.
_JSON_BYTES = 4 * 1024 * 1024
_TEXT_BYTES = 262_144
_MAX_DEPTH = 12
_MAX_PATHS = 20_000
_MAX_ELEMENTS = 5000
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
# Keys that count or page through data without being data (holds_data ignores them).
_COUNT_KEYS = frozenset(
    {
        "total",
        "count",
        "totalcount",
        "page",
        "pages",
        "totalpages",
        "limit",
        "offset",
        "size",
        "perpage",
        "pagesize",
        "next",
        "previous",
        "prev",
        "cursor",
        "hasmore",
        "hasnext",
        "success",
        "ok",
        "status",
        "code",
    }
)
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT"
    # Unix times of 2017-2033 in seconds (a fraction allowed) or milliseconds.
    r"|(?<![\d.])1[5-9]\d{8}(?:\d{3}|\.\d{1,9})?(?![\d.])"
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_RUN = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_SPACE = re.compile(r"\s+")
_CAPITALS = re.compile(r"[A-Z]{2}")
_LOWER = re.compile(r"[a-z]{2}")
_ELEMENT = re.compile(r"(?<=>)|\n")
_TAG = re.compile(r"<[^>]*>")
_REFUSAL_WORDS = re.compile(
    r"unauthori[sz]ed|unauthenticated|forbidden|access denied|permission denied|not allowed|"
    r"not permitted|not found|invalid (?:token|credentials?|signature|session)|"
    r"(?:token|session) (?:expired|invalid)|login required|authentication required|"
    r"must be logged in",
    re.IGNORECASE,
)
_ERROR_KEYS = frozenset({"error", "errors", "errordescription", "fault", "errmsg"})
_ERROR_STATUSES = frozenset(
    {"error", "fail", "failed", "failure", "denied", "unauthorized", "unauthenticated", "forbidden"}
)
_MESSAGE_KEYS = frozenset({"message", "msg", "detail", "reason", "description"})


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _json(body: bytes) -> Any:
    """The parsed JSON body, or None when it is not JSON (or too large to be worth parsing)."""
    if not body or len(body) > _JSON_BYTES:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def canonical(value: Any, depth: int = 0) -> Any:
    """JSON with every list in a fixed order (sorted by its items' JSON), so that a list
    served in another order compares equal."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {k: canonical(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        items = [canonical(v, depth + 1) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value


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


def _leaves(data: Any) -> dict[str, Any]:
    return flatten(canonical(data))


def _named_volatile(path: str, value: Any) -> bool:
    last = _key(path.rsplit(".", 1)[-1])
    if last in _VOLATILE_KEYS or last.endswith(("timestamp", "requestid")):
        return True
    return isinstance(value, str) and bool(_DATETIME.fullmatch(value.strip()))


def _blank_run(match: re.Match[str]) -> str:
    run = match.group(0)
    has_digit = any(c.isdigit() for c in run)
    has_letter = any(c.isalpha() for c in run)
    # A base64 nonce may hold no digit, but mixes both cases with + / or =.
    base64ish = any(c.isupper() for c in run) and any(c.islower() for c in run)
    base64ish = base64ish and any(c in "+/=" for c in run)
    # Random letters alone (a nonce that drew no digit) mix the cases about evenly, with
    # capitals side by side; words, slugs and CamelCase names are mostly lower case.
    letters = [c for c in run if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    scrambled = bool(letters) and 0.2 <= upper / len(letters) <= 0.8
    scrambled = scrambled and _CAPITALS.search(run) is not None and _LOWER.search(run) is not None
    # A word or a slug made of letters only is content; a token mixes letters and digits.
    token = (has_digit and has_letter) or base64ish or scrambled or len(run) >= 40
    return "<token>" if token else run


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    """How many leading elements two sequences share."""
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def blank_tokens(text: str) -> str:
    """The text with its token-like runs (CSRF tokens, CSP nonces, ids of letters and digits)
    blanked, words and slugs kept."""
    return _RUN.sub(_blank_run, text)


def blank_text(body: bytes) -> str:
    """Body text with per-request values (dates, UUIDs, tokens, nonces) blanked and runs of
    spaces collapsed (line breaks kept)."""
    text = body[:_TEXT_BYTES].decode("utf-8", errors="replace")
    text = _DATETIME.sub("<time>", text)
    text = _UUID.sub("<uuid>", text)
    text = blank_tokens(text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _elements(text: str) -> list[str]:
    """Text cut into elements: HTML tags with their text, and lines."""
    parts = (part.strip() for part in _ELEMENT.split(text))
    return [part for part in parts if part][:_MAX_ELEMENTS]


def _content(element: str) -> int:
    """Characters of text in an element, its markup aside."""
    return len(_TAG.sub("", element).strip())


@dataclass(frozen=True)
class Overlap:
    """How much of a JSON reference another answer repeats.

    Attributes:
        total: Leaves of the reference that are compared.
        shared: Of those, how many the answer holds with the same value.
        differing: Paths the answer holds with another value.
        missing: Paths the answer lacks.
        extra: Paths the answer has and the reference does not.
    """

    total: int
    shared: int
    differing: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """An answer to compare others with, learnt from one or more samples of one request.

    Attributes:
        status: The first sample's status.
        fields: For JSON answers, the first sample's `{path: value}` without volatile paths
            (lists in canonical order); None for other bodies.
        volatile: JSON paths left out of comparisons.
        elements: For other bodies, the first sample's blanked elements that did not change
            between samples.
        whole: For other bodies, all of the first sample's blanked elements.
        allowance: For other bodies, how many elements a candidate may have beyond those
            (the elements that changed between samples).
        leaves: JSON leaves (or text elements) of the first sample.
        compared: How many of them are compared.
        stable: False when the samples changed status class, or when most of the answer is
            volatile (too little is left to compare).
        samples: How many samples it was learnt from.
    """

    status: int
    fields: dict[str, Any] | None
    volatile: frozenset[str]
    elements: tuple[str, ...]
    whole: tuple[str, ...]
    allowance: int
    leaves: int
    compared: int
    stable: bool
    samples: int

    @classmethod
    def learn(cls, first: ResponseRecord, *more: ResponseRecord) -> Reference:
        """The reference of `first`, with what changed in the other samples left out."""
        same_class = all(m.status // 100 == first.status // 100 for m in more)
        data = _json(first.body)
        others = [_json(m.body) for m in more]
        if data is not None and all(o is not None for o in others):
            return cls._learn_json(first.status, data, others, same_class, 1 + len(more))
        return cls._learn_text(first, more, same_class)

    @classmethod
    def _learn_json(
        cls, status: int, data: Any, others: list[Any], same_class: bool, samples: int
    ) -> Reference:
        flat = _leaves(data)
        volatile = {p for p, v in flat.items() if _named_volatile(p, v)}
        for other in others:
            leaves = _leaves(other)
            volatile |= {p for p in flat.keys() | leaves.keys() if flat.get(p) != leaves.get(p)}
        kept = {p: v for p, v in flat.items() if p not in volatile}
        mostly_volatile = (len(flat) > 4 and len(kept) * 2 < len(flat)) or (flat and not kept)
        stable = same_class and not mostly_volatile
        return cls(
            status, kept, frozenset(volatile), (), (), 0, len(flat), len(kept), stable, samples
        )

    @classmethod
    def _learn_text(
        cls, first: ResponseRecord, more: Sequence[ResponseRecord], same_class: bool
    ) -> Reference:
        elements = _elements(blank_text(first.body))
        changed: set[int] = set()
        allowance = 0
        for sample in more:
            other = _elements(blank_text(sample.body))
            # Only the part between the common start and end is diffed: difflib pairs every
            # repeated element (table rows) with every other, quadratic on long pages.
            head = _common_prefix(elements, other)
            tail = _common_prefix(elements[head:][::-1], other[head:][::-1])
            middle = difflib.SequenceMatcher(
                None,
                elements[head : len(elements) - tail],
                other[head : len(other) - tail],
                autojunk=False,
            )
            for tag, i1, i2, j1, j2 in middle.get_opcodes():
                if tag != "equal":
                    changed.update(range(head + i1, head + i2))
                    allowance = max(allowance, j2 - j1)
        kept = tuple(e for i, e in enumerate(elements) if i not in changed)
        allowance += len(changed)
        # Stable when at least half of the text (markup aside) held still; an answer with no
        # text at all (an empty 204, a form of bare markup) when every sample was identical.
        held = sum(_content(e) for e in kept)
        total = sum(_content(e) for e in elements)
        stable = same_class and (
            (held * 2 >= total and bool(held)) or (total == 0 and not changed and allowance == 0)
        )
        return cls(
            first.status, None, frozenset(), kept, tuple(elements), allowance, len(elements),
            len(kept), bool(stable), 1 + len(more),
        )  # fmt: skip

    def _comparable(self, leaves: dict[str, Any]) -> dict[str, Any]:
        return {
            p: v for p, v in leaves.items() if p not in self.volatile and not _named_volatile(p, v)
        }

    def matches(self, response: ResponseRecord) -> bool:
        """True when `response` is this answer again: the same status class and the same body
        once the volatile parts are left out."""
        if response.status // 100 != self.status // 100:
            return False
        if self.fields is not None:
            data = _json(response.body)
            return data is not None and self._comparable(_leaves(data)) == self.fields
        other = _elements(blank_text(response.body))
        if tuple(other) == self.whole:
            return True
        if self.allowance == 0 or not self.stable:
            return False  # nothing changed between the samples, or too much did
        # Every element that held still between the samples, in order; and no more new ones
        # than the samples themselves showed.
        # (One pass: a subsequence test, where difflib would pair every repeated row.)
        rest = iter(other)
        kept_all = all(element in rest for element in self.elements)
        return kept_all and len(other) - len(self.elements) <= self.allowance

    def overlap(self, response: ResponseRecord) -> Overlap | None:
        """How much of this JSON reference `response` repeats; None when either is not JSON."""
        if self.fields is None:
            return None
        data = _json(response.body)
        if data is None:
            return None
        other = self._comparable(_leaves(data))
        fields = self.fields
        shared = sum(1 for p, v in fields.items() if p in other and other[p] == v)
        return Overlap(
            total=len(fields),
            shared=shared,
            differing=tuple(p for p, v in fields.items() if p in other and other[p] != v),
            missing=tuple(p for p in fields if p not in other),
            extra=tuple(p for p in other if p not in fields),
        )


def differing_excerpt(a: ResponseRecord, b: ResponseRecord, width: int = 160) -> str:
    """The first place where two bodies differ once per-request values (nonces, tokens, times)
    are blanked on both sides, as "a ... | b ..." text on one line (for a check's detail): the
    message that differs, not a nonce before it."""
    left, right = blank_text(a.body), blank_text(b.body)
    index = next(
        (i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
        min(len(left), len(right)),
    )
    start = max(0, index - width // 4)
    cut = (" ".join(t[start : start + width].split()) for t in (left, right))
    return " | ".join(repr(t) for t in cut)


def excerpt_around(text: str, needle: str, width: int = 160) -> str:
    """The part of `text` around the first `needle` (the start when it is absent), on one
    line, with "..." where it was cut."""
    start = max(0, max(text.find(needle), 0) - width // 4)
    return excerpt_span(text, start, start + width)


def excerpt_span(text: str, start: int, end: int) -> str:
    """`text[start:end]` (start clamped at 0) on one line, with "..." where it was cut."""
    start = max(0, start)
    part = " ".join(text[start:end].split())
    return ("..." if start else "") + part + ("..." if end < len(text) else "")


def is_refusal(response: ResponseRecord) -> bool:
    """True when an answer refuses or says nothing: a 4xx/5xx, a 3xx, an empty body, or a
    body that is an error object or speaks of denied access, a bad token or a missing resource.

    Error objects: a non-empty `error`/`errors`/`fault`/`errmsg`; `success` or `ok` false; a
    `code` between 400 and 599 beside a message; a `status` of error, fail, denied and the like
    in a small object or beside a message. Words of denial count in a short text or a
    message-only object; a 2xx with data is never a refusal, whatever words its data holds.
    """
    if response.status >= 300:
        return True
    body = response.body.strip()
    if not body or body in (b"{}", b"[]", b"null", b'""'):
        return True
    data = _json(body)
    if isinstance(data, dict):
        if _error_object(data):
            return True
        # Words count in a message-only object, never among data.
        keys = {_key(str(k)) for k in data}
        if not keys <= _MESSAGE_KEYS | _COUNT_KEYS:
            return False
    elif isinstance(data, list):
        return False
    return len(body) <= 200 and bool(_REFUSAL_WORDS.search(body.decode("utf-8", "replace")))


def _error_object(data: dict[str, Any]) -> bool:
    keys = {_key(str(k)): v for k, v in data.items()}
    if any(keys.get(k) not in (None, "", [], {}, 0, False) for k in _ERROR_KEYS):
        return True
    if keys.get("success") is False or keys.get("ok") is False:
        return True
    small = len(keys) <= 4 or bool(_MESSAGE_KEYS & keys.keys())
    code = keys.get("code", keys.get("statuscode"))
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if small and isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 600:
        return True
    status = keys.get("status")
    return small and isinstance(status, str) and status.strip().lower() in _ERROR_STATUSES


def holds_data(response: ResponseRecord) -> bool:
    """False for an answer that holds nothing to read: an empty body, or JSON whose every
    value is empty, null, zero or false once counts and paging keys are set aside
    (`{"orders": [], "total": 0}`, `{"data": {"order": null}}`)."""
    body = response.body.strip()
    if not body:
        return False
    data = _json(body)
    if data is None:
        return bool(blank_text(body))
    for path, value in flatten(data).items():
        if _key(path.rsplit(".", 1)[-1]) in _COUNT_KEYS:
            continue
        if value is None or value is False or value == "" or value in ({}, []):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
            continue
        return True
    return False


def same_answers(samples: Sequence[ResponseRecord]) -> bool:
    """True when every sample matches the first one (a stable endpoint)."""
    if not samples:
        return False
    reference = Reference.learn(samples[0])
    return all(reference.matches(s) for s in samples[1:])
