"""Keeps secrets out of reports and logs.

Every secret the scan knows (identity tokens, passwords, the value of every interpolated
variable) is replaced by a `$NAME` placeholder wherever it appears; the values of
Authorization, Cookie and Set-Cookie headers are masked whatever they contain.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
MASK = "[redacted]"
# Short values would mask ordinary words; they are still masked inside sensitive headers.
_MIN_SECRET_LEN = 4


class Redactor:
    """Replaces known secret values by their placeholder names."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None, name: str) -> None:
        """Remember a secret; it will read as `$name` from now on."""
        if not value or len(value) < _MIN_SECRET_LEN or value in self._secrets:
            return
        self._secrets[value] = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def placeholder(self, value: str) -> str | None:
        """The variable name standing for a known secret, or None."""
        return self._secrets.get(value)

    def text(self, value: str, template: str = "${}") -> str:
        """The text with every known secret replaced by `template` filled with its name."""
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(lambda m: template.format(self._secrets[m.group(0)]), value)

    def header(self, name: str, value: str) -> str:
        """A header value fit for a report."""
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie"):
            return _mask_cookie(value, set_cookie=lowered == "set-cookie")
        if lowered in SENSITIVE_HEADERS:
            redacted = self.text(value)
            if redacted != value:
                return redacted
            scheme, _, rest = value.partition(" ")
            return f"{scheme} {MASK}" if rest else MASK
        return self.text(value)

    def headers(self, lines: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Header lines fit for a report."""
        return [(name, self.header(name, value)) for name, value in lines]


def _mask_cookie(value: str, *, set_cookie: bool) -> str:
    if set_cookie:
        first, sep, attributes = value.partition(";")
        name = first.split("=", 1)[0].strip()
        return f"{name}={MASK}{sep}{attributes}"
    pairs = [p.split("=", 1)[0].strip() for p in value.split(";") if p.strip()]
    return "; ".join(f"{name}={MASK}" for name in pairs)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record's message."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redactor.text(record.getMessage())
        record.args = None
        return True
