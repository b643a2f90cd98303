"""Makes text from the target safe to show: invisible and reordering characters become visible.

Escaping for HTML happens in the template engine; this step is about what escaping leaves
alone. A response body can carry terminal escape sequences (which would drive the user's
terminal when the console summary prints them) or Unicode direction overrides (which make a
report line read differently from what it holds). Both are shown as `\\xNN` / `\\uNNNN`.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional formatting
# characters (embeddings, overrides, isolates, marks).
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """The text with CRLF line ends made LF and every hidden control character spelt out."""
    return _HIDDEN.sub(_escape, text.replace("\r\n", "\n"))


def one_line(text: str, limit: int = 120) -> str:
    """Visible text on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(visible(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
