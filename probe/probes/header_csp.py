"""Content-Security-Policy parsing and judging, including policies set in an HTML `<meta>` tag.

Parsing follows CSP Level 3: a header value holds comma-separated policies, a policy holds
semicolon-separated directives, the first occurrence of a directive wins, and a directive with
a non-ASCII character is skipped whole. A `<meta http-equiv>` policy is enforced like a header
except for `frame-ancestors`, `report-uri` and `sandbox`, which browsers drop there. Only what
scripts may run is judged for "unsafe"; a policy that restricts images but not scripts does
nothing against cross-site scripting.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from probe.probes.header_judges import xfo_blocks_framing
from probe.probes.header_values import (
    HeaderLines,
    Problem,
    Verdict,
    ascii_lower,
    fail,
    lines_named,
    ok,
    values_named,
)

ASCII_WHITESPACE = "\t\n\x0c\r "
_DIRECTIVE_NAME = re.compile(r"[a-z0-9-]+")
_WHITESPACE_RUN = re.compile(r"[\t\n\x0c\r ]+")
_IGNORED_IN_META = ("frame-ancestors", "report-uri", "sandbox")
# Where each kind of script looks for its sources, most specific first (CSP3 fallback lists).
_SCRIPT_ELEMENTS = ("script-src-elem", "script-src", "default-src")
_SCRIPT_ATTRIBUTES = ("script-src-attr", "script-src", "default-src")
_SCRIPT_EVAL = ("script-src", "default-src")
_NONCE_OR_HASH = ("'nonce-", "'sha256-", "'sha384-", "'sha512-")
# Scheme-only sources that admit any host of the scheme (or any inline data).
_WIDE_SCHEMES = frozenset({"http:", "https:", "data:"})
_ANY_HOST = re.compile(r"(?:[a-z][a-z0-9+.\-]*://)?\*(?::(?:\*|[0-9]+))?(?:/.*)?", re.ASCII)


@dataclass(frozen=True)
class Policy:
    """One content security policy as a browser holds it.

    Attributes:
        directives: Directive name (ASCII-lowered) -> its source tokens as written.
        source: "header" or "meta".
        enforced: False for a Content-Security-Policy-Report-Only policy.
    """

    directives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "header"
    enforced: bool = True


def parse_policy(text: str, *, source: str = "header", enforced: bool = True) -> Policy:
    """Parse one serialized policy (no comma splitting)."""
    found: dict[str, tuple[str, ...]] = {}
    for token in text.split(";"):
        token = token.strip(ASCII_WHITESPACE)
        if not token or not token.isascii():
            continue
        name, *values = _WHITESPACE_RUN.split(token)
        name = ascii_lower(name)
        if not _DIRECTIVE_NAME.fullmatch(name) or name in found:
            continue
        found[name] = tuple(values)
    if source == "meta":
        for name in _IGNORED_IN_META:
            found.pop(name, None)
    return Policy(found, source, enforced)


def parse_csp(value: str, *, enforced: bool = True) -> list[Policy]:
    """The policies of one Content-Security-Policy(-Report-Only) header line."""
    policies = [parse_policy(part, enforced=enforced) for part in value.split(",")]
    return [p for p in policies if p.directives]


def response_policies(lines: HeaderLines, meta_values: Sequence[str] = ()) -> list[Policy]:
    """Every policy of a response: enforced headers, report-only headers and <meta> tags."""
    policies: list[Policy] = []
    for value in values_named(lines, "content-security-policy"):
        policies += parse_csp(value)
    for value in values_named(lines, "content-security-policy-report-only"):
        policies += parse_csp(value, enforced=False)
    for value in meta_values:
        policy = parse_policy(value, source="meta")
        if policy.directives:
            policies.append(policy)
    return policies


# -- judging -----------------------------------------------------------------------------------


def _sources(policy: Policy, chain: Sequence[str]) -> tuple[str, ...] | None:
    """The source list that governs, following the fallback chain; None: unrestricted."""
    for name in chain:
        if name in policy.directives:
            return policy.directives[name]
    return None


def _lowered(sources: Sequence[str]) -> list[str]:
    return [ascii_lower(s) for s in sources]


def allows_inline(sources: Sequence[str] | None) -> bool:
    """True when the list lets every inline script run (a nonce, hash or strict-dynamic voids
    'unsafe-inline', as CSP Level 3 says)."""
    if sources is None:
        return True
    lowered = _lowered(sources)
    neutralised = any(s.startswith(_NONCE_OR_HASH) for s in lowered)
    return "'unsafe-inline'" in lowered and not neutralised and "'strict-dynamic'" not in lowered


def allows_eval(sources: Sequence[str] | None) -> bool:
    """True when the list allows eval() and its relatives."""
    return sources is None or "'unsafe-eval'" in _lowered(sources)


def is_wildcard_source(source: str) -> bool:
    """True for `*`, a host of `*`, or a scheme-only source admitting any host (https:)."""
    lowered = ascii_lower(source)
    return lowered in _WIDE_SCHEMES or _ANY_HOST.fullmatch(lowered) is not None


def wildcard_sources(sources: Sequence[str] | None) -> list[str]:
    """The wildcard sources that let scripts load from any host ('strict-dynamic' voids them)."""
    if sources is None:
        return ["(no script-src or default-src)"]
    if "'strict-dynamic'" in _lowered(sources):
        return []
    return [s for s in sources if is_wildcard_source(s)]


def script_weaknesses(policies: Sequence[Policy]) -> list[str]:
    """What the enforced policies together still let scripts do; a script must pass them all."""
    enforced = [p for p in policies if p.enforced]
    if not enforced:
        return []
    if all(_sources(p, _SCRIPT_ELEMENTS) is None for p in enforced):
        return ["scripts are not restricted (no script-src or default-src)"]
    weak: list[str] = []
    if all(allows_inline(_sources(p, _SCRIPT_ELEMENTS)) for p in enforced) or all(
        allows_inline(_sources(p, _SCRIPT_ATTRIBUTES)) for p in enforced
    ):
        weak.append("'unsafe-inline' lets inline scripts run")
    if all(allows_eval(_sources(p, _SCRIPT_EVAL)) for p in enforced):
        weak.append("'unsafe-eval' allows eval()")
    wide = [wildcard_sources(_sources(p, _SCRIPT_ELEMENTS)) for p in enforced]
    if all(wide):
        named = [s for found in wide for s in found if is_wildcard_source(s)]
        what = f"wildcard source {named[0]}" if named else "a policy without script-src"
        weak.append(f"{what} lets scripts load from any host")
    return weak


def csp_problems(lines: HeaderLines, policies: Sequence[Policy]) -> Verdict:
    """Judge the policies of an HTML document: missing, report-only only, or unsafe."""
    shown = tuple(
        lines_named(lines, "content-security-policy", "content-security-policy-report-only")
    )
    enforced = [p for p in policies if p.enforced]
    if not enforced:
        if policies:
            detail = "only Content-Security-Policy-Report-Only: it reports but enforces nothing"
            return fail(Problem("csp-report-only", detail, None, shown))
        return fail(Problem("csp-missing", "no Content-Security-Policy header or <meta> policy"))
    weak = script_weaknesses(policies)
    if weak:
        return fail(Problem("csp-unsafe", "; ".join(weak), None, shown or ("(<meta> policy)",)))
    where = "header" if any(p.source == "header" for p in enforced) else "<meta> tag"
    return ok(f"Content-Security-Policy ({where}) restricts scripts")


def judge_framing(lines: HeaderLines, policies: Sequence[Policy]) -> Verdict:
    """Judge protection against framing: CSP frame-ancestors, else X-Frame-Options.

    When an enforced policy has frame-ancestors, browsers ignore X-Frame-Options; a
    frame-ancestors list with a wildcard protects nothing.
    """
    shown = tuple(lines_named(lines, "x-frame-options", "content-security-policy"))
    framed = [p for p in policies if p.enforced and "frame-ancestors" in p.directives]
    if framed:
        if any(not wildcard_sources(p.directives["frame-ancestors"]) for p in framed):
            return ok("CSP frame-ancestors restricts framing")
        detail = "CSP frame-ancestors admits any origin (and X-Frame-Options is then ignored)"
        return fail(Problem("framing-missing", detail, None, shown))
    blocks, why = xfo_blocks_framing(values_named(lines, "x-frame-options"))
    if blocks:
        return ok(why)
    return fail(Problem("framing-missing", why, None, shown))


# -- <meta> tags in the document head ----------------------------------------------------------

# The head is read up to this many characters: <meta> policies sit near the top of a page.
HEAD_LIMIT = 262_144
# Head elements whose content is text to a parser (a <meta> in there is no element).
_RAW_TEXT = frozenset({"script", "style", "title", "noscript", "noframes", "template"})
_HEAD_ELEMENTS = frozenset({"html", "head", "base", "basefont", "bgsound", "link", "meta"})
_BODY_END_TAGS = frozenset({"body", "html", "br"})
_TAG_NAME = re.compile(r"[a-z][^\t\n\x0c\r />]*")
_ATTR_NAME = re.compile(r"[^\t\n\x0c\r />=][^\t\n\x0c\r />=]*")
_UNQUOTED = re.compile(r"[^\t\n\x0c\r >]*")

_Tag = tuple[str, dict[str, str], int, bool]


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in ASCII_WHITESPACE:
        pos += 1
    return pos


def _attribute_value(text: str, pos: int) -> tuple[str, int]:
    """The value starting at `pos` and the position after it; -1 when a quote never closes."""
    if pos < len(text) and text[pos] in "\"'":
        end = text.find(text[pos], pos + 1)
        if end == -1:
            return "", -1
        return text[pos + 1 : end], end + 1
    match = _UNQUOTED.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.group(0), match.end()


def _attributes(text: str, low: str, pos: int) -> tuple[dict[str, str], int]:
    """Attributes up to the tag's '>' and the position after it; -1 when the tag never ends."""
    attrs: dict[str, str] = {}
    while pos < len(text):
        char = text[pos]
        if char in ASCII_WHITESPACE or char in "/=":
            pos += 1
            continue
        if char == ">":
            return attrs, pos + 1
        match = _ATTR_NAME.match(low, pos)
        assert match is not None  # char is none of the excluded characters
        name, pos = match.group(0), _skip_space(text, match.end())
        value = ""
        if pos < len(text) and text[pos] == "=":
            value, pos = _attribute_value(text, _skip_space(text, pos + 1))
            if pos < 0:
                return attrs, -1
        attrs.setdefault(name, html.unescape(value))  # the first of duplicates wins
    return attrs, -1


def _tag_at(text: str, low: str, lt: int) -> _Tag | None:
    """The markup starting at `lt`: ("!", ...) for comments and doctypes, None for text."""
    if low.startswith("<!--", lt):
        end = low.find("-->", lt + 4)
        return "!", {}, (-1 if end == -1 else end + 3), False
    if low.startswith(("<!", "<?"), lt):
        end = low.find(">", lt)
        return "!", {}, (-1 if end == -1 else end + 1), False
    closing = low.startswith("</", lt)
    match = _TAG_NAME.match(low, lt + (2 if closing else 1))
    if match is None:
        return None
    attrs, end = _attributes(text, low, match.end())
    return match.group(0), attrs, end, closing


def meta_tags(document: str) -> list[dict[str, str]]:
    """Attributes of the `<meta>` elements an HTML parser would put in the document head.

    Reads at most HEAD_LIMIT characters in one linear pass (no backtracking regex); stops at the
    first element or text that starts the body, and skips comments and raw-text elements.
    """
    text = document[:HEAD_LIMIT]
    low = ascii_lower(text)
    tags: list[dict[str, str]] = []
    pos = 1 if text.startswith("\ufeff") else 0
    while pos < len(text):
        lt = low.find("<", pos)
        if text[pos : len(text) if lt == -1 else lt].strip(ASCII_WHITESPACE) or lt == -1:
            break
        tag = _tag_at(text, low, lt)
        if tag is None or tag[2] < 0:
            break
        name, attrs, pos, closing = tag
        if name == "!" or (closing and name not in _BODY_END_TAGS):
            continue
        if closing or name not in _HEAD_ELEMENTS | _RAW_TEXT:
            break
        if name == "meta":
            tags.append(attrs)
        elif name in _RAW_TEXT:
            close = low.find("</" + name, pos)
            if close == -1:
                break
            pos = close
    return tags


def meta_csp(document: str) -> list[str]:
    """The content of every `<meta http-equiv="Content-Security-Policy">` in the head."""
    return [
        tag["content"]
        for tag in meta_tags(document)
        if "content" in tag
        and ascii_lower(tag.get("http-equiv", "").strip(ASCII_WHITESPACE))
        == "content-security-policy"
    ]


def meta_referrer(document: str) -> list[str]:
    """The content of every `<meta name="referrer">` in the head."""
    return [
        tag["content"]
        for tag in meta_tags(document)
        if "content" in tag
        and ascii_lower(tag.get("name", "").strip(ASCII_WHITESPACE)) == "referrer"
    ]
