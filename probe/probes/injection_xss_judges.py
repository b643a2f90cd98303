"""Pure judges of the xss family: where a reflected marker landed, and whether a browser would
run it there.

The payload is a fresh token followed by quotes, a comment end and a tag named after the token
that carries an attribute named after it too: `prb1a2b3c4d5e6f7a8b'"--><prb1a2b3c4d5e6f7a8b
prb1a2b3c4d5e6f7a8b=1>` (or a short token's tag alone, for a filter that refuses quotes or an
answer that cuts the value). The tag proves nothing by being echoed; it counts when the body,
read the way a browser's HTML parser reads it, holds it as a start tag: with its `<` and `>`
intact, outside comments, outside attribute values, and outside the elements whose content is
text (`<textarea>`, `<title>`, `<script>`, `<style>`, ...). An encoded (`&lt;`, `\\u003c`) or
escaped reflection is no tag at all. Tag names are matched without regard to ASCII case, as
browsers read them (`<PRB...>` is the same tag).

A reflection inside an attribute value whose own quote comes back raw (or an unquoted value,
where a space comes back raw) ends the value early: the rest of the payload becomes attributes
of the page's own element, and one of them is named after the token. An attribute named after
the token on any start tag but the token's own counts like the tag ("attribute injected"): an
attacker adds an event handler (`onfocus=...`) the same way.

Markup the standard library's reader fails on (a malformed `<![ ... ]>` section) is read as a
browser reads it, a comment up to the next `>`; a page still unreadable is no proof, and the
tag is not counted.

Whether the tag runs depends on how the browser treats the answer (`rendering`):

- `text/html`, XHTML or SVG (whatever the body looks like, JSON included): rendered as a
  document that runs scripts, high.
- No content type (or one that does not parse) and no `nosniff`: browsers sniff the body; when
  it starts like HTML (or the reflection itself starts it, so the attacker picks the start) it
  is rendered, medium. Otherwise only old browsers that look further render it, info.
- XML (`application/xml`, `text/xml`, `+xml`) without `nosniff`: rendered as XML, where only
  an element in the XHTML namespace runs scripts, and old browsers sniffed it as HTML, info.
- Any other type (JSON, `text/plain`, `text/csv`, `application/octet-stream`, images, PDF,
  fonts, ...): no current browser renders it as HTML, with or without `nosniff`, no finding
  (the headers probe reports a missing nosniff).
- `nosniff` with a type that is not HTML, or no type; a redirect; an attachment: no browser
  renders it as HTML, no finding.

A `Content-Security-Policy: sandbox` without `allow-scripts` (`sandboxed`) keeps scripts from
running in the answer: the family reports such a reflection one level lower.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from probe.compare import excerpt_span
from probe.exchange import ResponseRecord
from probe.findings import Severity

#: Elements whose content a browser reads as text, so a tag inside them is no tag.
TEXT_ELEMENTS = frozenset(
    {
        "textarea",
        "title",
        "script",
        "style",
        "xmp",
        "iframe",
        "noembed",
        "noframes",
        "noscript",
        "plaintext",
    }
)
# The parser reads at most this much of a body: a reflection further down is rare and the
# parser's time grows with the body.
_PARSE_CHARS = 512 * 1024
# Characters read after the last raw tag (the end of its element, for the text-element check).
_TAIL_CHARS = 8192
# Content types the MIME sniffing standard treats as no content type at all.
_UNDEFINED_TYPES = frozenset({"", "unknown/unknown", "application/unknown", "*/*"})
# Documents a browser renders with scripts running.
_DOCUMENT_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml"})
# Types current browsers show as data, never as HTML, with or without nosniff.
_DATA_TYPES = frozenset({"application/json", "text/json", "text/plain"})
# XML documents: rendered as XML, where an element in the XHTML namespace runs scripts.
_XML_TYPES = frozenset({"application/xml", "text/xml"})
# A media type as the MIME sniffing standard parses it; anything else counts as no type.
_MEDIA_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+/[!#$%&'*+.^_`|~0-9a-z-]+")
# What a browser sniffs as HTML: these at the start of the body, after whitespace, followed by
# a space or `>` (the MIME sniffing standard's HTML signatures).
_HTML_SIGNATURE = re.compile(
    rb"[\t\n\x0c\r ]*<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|"
    rb"title|b|body|br|p|!--)[ >]",
    re.IGNORECASE,
)
_ENCODED_OPEN = ("&lt;", "&#60;", "&#x3c;", "\\u003c", "%3c", "\\x3c")
# Constructs the reader failed on that are read again as a browser does, per body at most.
_REPAIRS = 20
_BOGUS_COMMENT = "a malformed `<!...>` declaration, which browsers read as a comment"
# ASCII capitals to small letters (str.lower also folds other scripts and may change lengths).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def payload(token: str, close: str = "", *, quotes: bool = True) -> str:
    """The marker payload: the token, quotes and a comment end (unless `quotes` is False: then
    only the tag, kept short for answers that cut the value), `</close>` when given, and the
    token's tag."""
    start = f"{token}'\"-->" if quotes else ""
    closing = f"</{close}>" if close else ""
    return f"{start}{closing}{tag(token)}"


def tag(token: str) -> str:
    """The tag the payload carries, as it must come back to count; its attribute, named after
    the token too, shows when the payload broke out of an attribute value instead."""
    return f"<{token} {attribute(token)}>"


def attribute(token: str) -> str:
    """The attribute the payload's tag carries (`prb...=1`)."""
    return f"{token}=1"


def fold(text: str) -> str:
    """`text` with ASCII capitals lowered, every offset kept: tag and attribute names are
    matched the way browsers match them."""
    return text.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class Reflection:
    """Where a payload's token came back in one body.

    Attributes:
        echoed: The token appears in the body at all.
        raw: The tag appears with its `<` and `>` intact.
        live: An HTML parser meets the tag as a start tag, outside comments, attribute values
            and text-only elements, or meets an attribute named after the token on another
            tag (see `injected`).
        inside: When the tag is raw but not live, where it sat ("an HTML comment", ...).
        container: The text-only element it sat in (`textarea`), which a payload may close.
        encoded: The tag came back with its `<` encoded (`&lt;`, `\\u003c`, `%3C`).
        index: Where the tag starts in the body text (-1 when it is not there raw).
        unread: The tag is there raw, but the page holds markup the HTML reader cannot parse
            before it, so where it landed is not known (never counted as live).
        injected: Live because the payload broke out of an attribute value: an attribute
            named after the token sits on one of the page's own tags.
    """

    echoed: bool
    raw: bool
    live: bool
    inside: str = ""
    container: str = ""
    encoded: bool = False
    index: int = -1
    unread: bool = False
    injected: bool = False

    def describe(self) -> str:
        """How the marker came back, in a few words."""
        if self.injected:
            return (
                "broke out of an attribute value: a tag of the page carries an attribute "
                "named after the marker (attribute injected)"
            )
        if self.live:
            return "reflected unencoded as a tag"
        if self.unread:
            return (
                "reflected unencoded, after markup the HTML reader cannot parse (where it "
                "landed is not known: not counted)"
            )
        if self.raw:
            return f"reflected unencoded but inside {self.inside}, where it is no tag"
        if self.encoded:
            return "reflected encoded (`&lt;`)"
        if self.echoed:
            return "reflected without its tag (stripped, changed or cut short)"
        return "not reflected"


@dataclass(frozen=True)
class Rendering:
    """What a browser does with an answer's body.

    Attributes:
        severity: The reflection's severity there, or None when no browser renders it as HTML.
        how: The answer's kind, in words ("a text/html answer").
    """

    severity: Severity | None
    how: str


def reflection(text: str, token: str) -> Reflection:
    """Judge where `token`'s tag (or its attribute, out of an attribute value) landed in a
    body's text."""
    folded = fold(text[:_PARSE_CHARS])
    # The attribute is part of the tag: its last raw copy ends the part worth reading. The
    # rest is not read (a hostile answer padded with unclosed markup would cost the parser
    # quadratic time).
    last = folded.rfind(attribute(token))
    end = last + len(attribute(token)) + _TAIL_CHARS if last >= 0 else _PARSE_CHARS
    text, folded = text[:end], folded[:end]
    lowered = text.lower()
    echoed = token in lowered
    encoded = any(f"{mark}{token}" in lowered for mark in _ENCODED_OPEN)
    absent = Reflection(echoed, raw=False, live=False, encoded=encoded)
    index = folded.find(tag(token))
    if last < 0:
        return absent
    for _ in range(_REPAIRS):
        reader = _TagReader(token)
        failed = reader.read(text)
        if failed is None or reader.met:
            return reader.verdict(text, index, encoded) if index >= 0 or reader.live else absent
        start = _construct_start(text, failed)
        if start is None:
            break
        # A browser reads `<!` that opens no comment, doctype or (in SVG or MathML) CDATA as
        # a comment up to the next `>`: blank it out, keeping every offset, and read again.
        end = text.find(">", start + 2) + 1 or len(text)
        if start <= index < end:
            return Reflection(True, True, False, _BOGUS_COMMENT, encoded=encoded, index=index)
        text = text[:start] + " " * (end - start) + text[end:]
    if index < 0:
        return absent
    return Reflection(True, True, False, encoded=encoded, index=index, unread=True)


def rendering(response: ResponseRecord, starts_body: bool = False) -> Rendering:
    """How a browser treats the answer; `starts_body` when the reflection begins the body."""
    ctype = response.content_type
    nosniff = (response.header("x-content-type-options") or "").strip().lower() == "nosniff"
    if 300 <= response.status < 400 and response.header("location"):
        return Rendering(None, f"a {response.status} redirect, whose body no browser shows")
    disposition = (response.header("content-disposition") or "").strip().lower()
    if disposition.startswith("attachment"):
        return Rendering(None, "an attachment, which browsers download instead of showing")
    if ctype in _DOCUMENT_TYPES:
        return Rendering(Severity.high, f"a {ctype} answer")
    if ctype in _DATA_TYPES or ctype.endswith("+json"):
        return Rendering(None, f"{ctype}, which browsers show as data, never as HTML")
    valid = _MEDIA_TYPE.fullmatch(ctype) is not None
    undefined = ctype in _UNDEFINED_TYPES or not valid
    shown = _shown_type(ctype, valid)
    if nosniff and (undefined or is_xml(ctype)):
        return Rendering(None, f"{shown} with nosniff, which no browser renders as HTML")
    if undefined:
        return _sniffed(response, shown, starts_body)
    if is_xml(ctype):
        return Rendering(
            Severity.info,
            f"{ctype} without nosniff (an XML document, where only an element in the XHTML "
            "namespace runs scripts; only old browsers sniffed it as HTML)",
        )
    return Rendering(None, f"{ctype}, which no current browser renders as HTML")


def _shown_type(ctype: str, valid: bool) -> str:
    """The answer's type in words ("no content type", "an invalid content type `html`")."""
    if valid:
        return ctype
    return f"an invalid content type `{ctype}`" if ctype else "no content type"


def _sniffed(response: ResponseRecord, shown: str, starts_body: bool) -> Rendering:
    """An answer with no usable type and no nosniff: browsers judge it by its first bytes."""
    if starts_body or sniffs_as_html(response.body):
        return Rendering(
            Severity.medium, f"an answer with {shown}, whose body browsers sniff as HTML"
        )
    return Rendering(
        Severity.info,
        f"an answer with {shown} that does not start like HTML (only old browsers that "
        "sniff further render it)",
    )


def is_xml(ctype: str) -> bool:
    """An XML type by the MIME sniffing standard (XHTML and SVG are documents of their own)."""
    return ctype in _XML_TYPES or ctype.endswith("+xml")


def sandboxed(response: ResponseRecord) -> bool:
    """True when a Content-Security-Policy sandboxes the answer without `allow-scripts`:
    scripts cannot run in it, whatever the markup. Every policy applies, so one is enough;
    report-only policies block nothing."""
    for policy in response.headers_named("content-security-policy"):
        for directive in policy.split(";"):
            words = directive.lower().split()
            if words[:1] == ["sandbox"] and "allow-scripts" not in words[1:]:
                return True
    return False


def refused(status: int, baseline_status: int) -> bool:
    """An error answer (4xx or 5xx) where the unmodified request gets a 2xx: the value was
    turned away (a filter, a validator) before it could be reflected."""
    return status >= 400 and 200 <= baseline_status < 300


def sniffs_as_html(body: bytes) -> bool:
    """True when a browser sniffing an untyped body would take it for HTML."""
    return _HTML_SIGNATURE.match(body[:1445]) is not None


def starts_body(text: str, token: str) -> bool:
    """True when only whitespace comes before the reflected token (or its tag): whoever picks
    the value picks how the body starts, and can make a browser sniff it as HTML."""
    return text.lstrip().lower().startswith((token, f"<{token}"))


def lower(severity: Severity) -> Severity:
    """One level less (info stays info)."""
    order = [Severity.info, Severity.low, Severity.medium, Severity.high, Severity.critical]
    return order[max(0, order.index(severity) - 1)]


def excerpt(text: str, index: int, width: int = 120) -> str:
    """The body around `index`, on one line."""
    return excerpt_span(text, index - width, index + width)


def _construct_start(text: str, failed: int) -> int | None:
    """Where the `<!` construct the reader failed on starts (it stops at or just after its
    start), or None when the failure was elsewhere."""
    start = text.rfind("<", 0, failed + 1)
    return start if start >= 0 and text.startswith("<!", start) else None


def _offset(text: str, position: tuple[int, int]) -> int:
    line, column = position
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column


class _TagReader(HTMLParser):
    """Walks a body as HTML and notes where the token's tag was met."""

    def __init__(self, token: str) -> None:
        super().__init__(convert_charrefs=True)
        self.token = token
        self.tag = tag(token)
        self.open: str | None = None
        self.live_at: tuple[int, int] | None = None
        self.injected = False
        self.inside = ""
        self.container = ""

    @property
    def live(self) -> bool:
        """The token's tag, or its attribute on another tag, was met where it counts."""
        return self.live_at is not None

    @property
    def met(self) -> bool:
        """The token's tag was met (and judged) somewhere."""
        return self.live_at is not None or bool(self.inside)

    def read(self, text: str) -> int | None:
        """Read the whole body; where reading failed (an offset in `text`), None when it did
        not. What was met before a failure stays noted."""
        try:
            # No close(): it would re-scan the rest once per unclosed construct; a tag inside
            # a construct still open at the end is not met, so it is never taken for live.
            self.feed(text)
        # The standard library's reader raises (AssertionError) on some malformed markup.
        except Exception:
            return _offset(text, self.getpos())
        return None

    def verdict(self, text: str, index: int, encoded: bool) -> Reflection:
        """How the tag (first raw at `index`) came back, from what the reader met."""
        if self.live_at is not None:
            at = _offset(text, self.live_at)
            return Reflection(
                True, index >= 0, True, encoded=encoded, index=at, injected=self.injected
            )
        return Reflection(True, True, False, self.inside or "text", self.container, encoded, index)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A start tag: the token's own (live unless in a text element), one of the page's
        carrying the token's attribute (out of an attribute value), or a text element."""
        if any(value and self.tag in fold(value) for _, value in attrs):
            self._sat_in("an attribute value")
        own = tag == self.token
        # The reader lowers tag and attribute names, as browsers match them.
        if own or any(name == self.token for name, _ in attrs):
            if self.open is None:
                self._live(injected=not own)
            else:
                self._sat_in(f"a <{self.open}>", self.open)
        elif tag in TEXT_ELEMENTS and self.open is None:
            self.open = tag

    def _live(self, *, injected: bool) -> None:
        if self.live_at is None:
            self.live_at, self.injected = self.getpos(), injected

    def handle_endtag(self, tag: str) -> None:
        """An end tag closes the text element it names (`plaintext` is never closed)."""
        if tag == self.open and tag != "plaintext":
            self.open = None

    def handle_data(self, data: str) -> None:
        """Text: in a `<script>` or `<style>` the parser passes the tag on as text."""
        if self.open is not None and self.tag in fold(data):
            self._sat_in(f"a <{self.open}>", self.open)

    def handle_comment(self, data: str) -> None:
        """A comment holding the tag."""
        if self.tag in fold(data):
            self._sat_in("an HTML comment")

    def _sat_in(self, where: str, container: str = "") -> None:
        if not self.inside:
            self.inside, self.container = where, container
