"""Per-viewer parts: answers that are the entitled caller's with a few parts that follow the
viewer, and answers the server filtered for the viewer (pure judges of the access probe's
replays: without credentials, as another identity, as a user without the admin tag).

- Parts (`json_parts`, `text_parts`): a JSON part is a key path with list indexes made `*`
  (`data.*.email`), so that no verdict depends on how many items a list holds, and an object
  the other answer empties or lacks as a whole is one part (`"current_user": null`); a text
  part is an element between tags.
- Per-viewer parts (`per_viewer`): an answer that is not the same may still be the owner's
  object with fields that follow the viewer (`can_edit`, `viewer`, "Signed in as Bob"). It
  counts when at most two of the reference's compared parts differ or are missing; none of
  them names the object; a changed part that named the owner (a greeting) leaves another part
  naming the object or the owner shared (else it is the viewer's own record); and either at
  least 90% of the parts are shared, or a part naming the object or the owner is shared and
  the shared parts outnumber the changed ones two to one. For an anonymous caller, who has no
  record of its own, the last two rules are one: at least three shared parts, and twice as
  many as the changed ones (`"current_user": null` beside the owner's data).
- Filters: a part whose value the other answer masks (`a***@example.test`, `****1234`,
  `[redacted]`: `masked`), or, inside a list, lacks or empties, is no per-viewer part: the
  server filters what this viewer sees, so the answer is not the entitled one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from probe.compare import Reference, blank_text
from probe.exchange import ResponseRecord
from probe.probes.access_judges import answered
from probe.probes.access_owners import (
    Naming,
    json_leaves,
    naming_elements,
    naming_paths,
)

#: Parts of the reference that may change in a per-viewer answer.
MAX_CHANGED = 2
#: Shared parts that make an answer the reference with per-viewer parts.
NEARLY_ALL = 0.9
_TAG = re.compile(r"<[^>]*>|\n")
_MAX_ELEMENTS = 5000
_INDEX = re.compile(r"(?:(?<=\.)|^)\d+(?=\.|$)")
# Runs of characters that mask a value: two or more stars or bullets, three or more x or #.
_MASK_RUN = re.compile(r"[*\u2022\u25cf\u2219\u00b7]{2,}|[xX#]{3,}")
# Values that stand for a value withheld from the viewer.
_REDACTED = frozenset({"redacted", "hidden", "masked", "filtered", "removed", "withheld"})
_NOTHING: tuple[object, ...] = (None, "", [], {})
_SPACES = re.compile(r"\s+")
#: Shared parts an anonymous caller's answer needs at least (beside twice the changed ones).
MIN_SHARED_ANONYMOUS = 3
#: Filtered parts named in a detail at most.
_SHOWN = 2


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def text_elements(answer: ResponseRecord) -> list[str]:
    """The answer's text cut into elements (text between tags, and lines), per-request values
    blanked; markup is left out."""
    parts = (p.strip() for p in _TAG.split(blank_text(answer.body)))
    return [p for p in parts if p][:_MAX_ELEMENTS]


@dataclass(frozen=True)
class Parts:
    """How another answer repeats the reference's parts (JSON leaves or text elements).

    Attributes:
        total: The reference's compared parts.
        shared: Of those, how many the other answer holds the same.
        changed: The reference's parts the other answer holds otherwise or lacks (paths, or
            element indexes as text).
        shown: The changed parts for a detail (paths, or the reference's element text).
        filtered: The changed parts the other answer masks or (in a list) withholds, said for
            a detail (`data.*.email masked`): the server filters for the viewer.
    """

    total: int
    shared: int
    changed: tuple[str, ...]
    shown: tuple[str, ...]
    filtered: tuple[str, ...] = ()


def part_of(path: str) -> str:
    """The part a JSON path belongs to: its list indexes made `*` (`data.0.email` ->
    `data.*.email`)."""
    return _INDEX.sub("*", path)


def masked(reference: Any, other: Any) -> bool:
    """True when `other` is `reference` masked or redacted: a redaction word (`[redacted]`,
    `hidden`), or runs of `*`, `•`, `x` or `#` with the rest of the text found in the
    reference in order (`a***@example.test` for `alice@example.test`, `****1234`)."""
    if not isinstance(other, str) or _scalar(reference) is None:
        return False
    ref = str(reference).lower()
    text = other.strip().lower()
    if not text or text == ref.strip():
        return False
    if text.strip("[]<>() ") in _REDACTED:
        return True
    if not _MASK_RUN.search(text) or _MASK_RUN.search(ref):
        return False
    # Spaces are often added to group a masked number: compare without them.
    ref = _SPACES.sub("", ref)
    at = 0
    for piece in (_SPACES.sub("", p) for p in _MASK_RUN.split(text)):
        if not piece:
            continue
        found = ref.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def _units(fields: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, list[str]]:
    """The reference's paths by part. A changed path under an object or list the other answer
    empties or lacks as a whole (`"current_user": null`) belongs to that object's part: one
    viewer object is one part, however many fields it had."""
    inner = {path.rsplit(".", n)[0] for path in other for n in range(1, path.count(".") + 1)}

    def gone(prefix: str) -> bool:
        if prefix in other:
            return other[prefix] in _NOTHING
        return prefix not in inner

    units: dict[str, list[str]] = {}
    for path in fields:
        unit = path
        if path not in other or other[path] != fields[path]:
            keys = path.split(".")
            prefixes = (".".join(keys[:n]) for n in range(1, len(keys) + 1))
            unit = next((q for q in prefixes if gone(q)), path)
        units.setdefault(part_of(unit), []).append(path)
    return units


def json_parts(fields: Mapping[str, Any], other: Mapping[str, Any]) -> Parts:
    """How another answer's leaves (`other`, volatile paths left out) repeat the reference's
    compared leaves (`fields`), one part per key path with list indexes made `*` (an object
    the other answer empties or lacks as a whole is one part). A part is filtered when a
    differing leaf is masked, or when it lies in a list and every differing leaf is missing
    or empty (null, "", [], {}) in the other answer."""
    units = _units(fields, other)
    changed: list[str] = []
    filtered: list[str] = []
    for part, members in units.items():
        differ = [p for p in members if p not in other or other[p] != fields[p]]
        if not differ:
            continue
        changed.append(part)
        if any(masked(fields[p], other.get(p)) for p in differ):
            filtered.append(f"{part} masked")
        elif "*" in part and all(other.get(p) in _NOTHING for p in differ):
            filtered.append(f"{part} withheld")
    kept = len(units) - len(changed)
    return Parts(len(units), kept, tuple(changed), tuple(changed), tuple(filtered))


def text_parts(reference: Sequence[str], other: Sequence[str]) -> Parts:
    """The reference's text elements matched in order against the other answer's."""
    matcher = difflib.SequenceMatcher(None, list(reference), list(other), autojunk=False)
    kept: set[int] = set()
    for block in matcher.get_matching_blocks():
        kept.update(range(block.a, block.a + block.size))
    changed = [i for i in range(len(reference)) if i not in kept]
    shown = tuple(reference[i][:60] for i in changed)
    filtered = [
        f"{mine[:60]!r} masked"
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag == "replace"
        for mine, theirs in zip(reference[i1:i2], other[j1:j2], strict=False)
        if masked(mine, theirs)
    ]
    changes = tuple(str(i) for i in changed)
    return Parts(len(reference), len(kept), changes, shown, tuple(filtered))


def per_viewer(
    parts: Parts, naming: Iterable[str], objects: Iterable[str] = (), anonymous: bool = False
) -> bool:
    """True when the other answer is the reference with a few per-viewer parts (see the module
    docstring); `naming` holds the parts that name the object or the owner, `objects` those
    that name the object; `anonymous` for a caller without credentials."""
    changed = set(parts.changed)
    if parts.filtered or not changed or len(changed) > MAX_CHANGED:
        return False  # a masked or withheld value: the server filters for this viewer
    if parts.total < MAX_CHANGED + 1:
        return False
    if _covered(changed, objects):
        return False  # the object's own id changed: another object
    if anonymous:
        # No record of its own to mistake for the owner's: enough shared data will do.
        return parts.shared >= max(2 * len(changed), MIN_SHARED_ANONYMOUS)
    naming = set(naming)
    kept = naming - _covered(changed, naming)
    if _covered(changed, naming) and not kept:
        return False  # what said whose it is changed, and nothing else says: the viewer's own
    if parts.shared >= NEARLY_ALL * parts.total:
        return True
    return bool(kept) and parts.shared >= 2 * len(changed)


def _covered(changed: set[str], parts: Iterable[str]) -> set[str]:
    """The `parts` that a changed part is, or lies inside (`current_user` covers
    `current_user.id`)."""
    return {p for p in parts if p in changed or any(p.startswith(f"{c}.") for c in changed)}


# -- a replay's answer against the reference --------------------------------------------------


def _stable_elements(samples: Sequence[ResponseRecord]) -> list[str]:
    """The first sample's text elements that the other samples repeat (in order)."""
    elements = text_elements(samples[0])
    for other in samples[1:]:
        parts = text_parts(elements, text_elements(other))
        changed = {int(i) for i in parts.changed}
        elements = [e for i, e in enumerate(elements) if i not in changed]
    return elements


def compare_parts(
    reference: Reference, samples: Sequence[ResponseRecord], answer: ResponseRecord, values: Naming
) -> tuple[Parts, set[str], set[str]] | None:
    """How the answer repeats the reference learnt from `samples` (JSON parts or text
    elements), the reference's parts that name the object or the owner, and those that name
    the object; None when only one of them is JSON."""
    theirs_json = json_leaves(answer)
    if reference.fields is not None and theirs_json is not None:
        comparable = {p: v for p, v in theirs_json.items() if p not in reference.volatile}
        parts = json_parts(reference.fields, comparable)
        leaves = json_leaves(samples[0]) or {}
        compared = set(reference.fields)
        naming = {part_of(p) for p in naming_paths(leaves, values.everything) & compared}
        objects = {part_of(p) for p in naming_paths(leaves, values.objects) & compared}
        return parts, naming, objects
    if reference.fields is not None or theirs_json is not None:
        return None
    elements = _stable_elements(samples)
    theirs = text_elements(answer)
    if len(theirs) + MAX_CHANGED < len(elements):
        return None  # more parts missing than per-viewer parts may be
    parts = text_parts(elements, theirs)
    naming = {str(i) for i in naming_elements(elements, values.everything)}
    return parts, naming, {str(i) for i in naming_elements(elements, values.objects)}


def viewer_parts(
    reference: Reference,
    samples: Sequence[ResponseRecord],
    answer: ResponseRecord,
    values: Naming,
    anonymous: bool = False,
) -> tuple[str, ...] | str | None:
    """The per-viewer parts by which `answer` differs from the reference (for a detail); a few
    words when it is the reference filtered for the viewer (masked or withheld values); None
    when it is not the reference with per-viewer parts."""
    if not answered(answer) or answer.status // 100 != reference.status // 100:
        return None
    found = compare_parts(reference, samples, answer, values)
    if found is None:
        return None
    parts, naming, objects = found
    if parts.filtered and len(parts.changed) <= MAX_CHANGED + len(parts.filtered):
        shown = ", ".join(parts.filtered[:_SHOWN])
        return f"the entitled answer filtered for this viewer: {shown}"
    if not per_viewer(parts, naming, objects, anonymous):
        return None
    return parts.shown
