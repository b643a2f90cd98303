"""Keeps secrets out of reports and logs.

Every secret the scan knows (identity tokens, passwords, the value of every interpolated
variable) is replaced by a `$NAME` placeholder wherever it appears, also in its JSON-escaped
and URL-encoded forms; the values of Authorization, Cookie and Set-Cookie headers are masked
whatever they contain. While a scan runs, every log record created in the process is redacted
when it is made (`redacted_logs`), so no handler, however configured, sees a secret.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
#: Request headers that authenticate the caller.
CREDENTIAL_HEADERS = SENSITIVE_HEADERS - {"set-cookie"}
MASK = "[redacted]"
# Short values would mask ordinary words; they are still masked inside sensitive headers.
_MIN_SECRET_LEN = 4
# A secret cut at the edge of an excerpt is masked when at least this much of it is left.
_MIN_PARTIAL_LEN = 4
_NAMES = "|".join(sorted(SENSITIVE_HEADERS, key=len, reverse=True))
# Header lines inside log messages: httpcore's debug traces print them as bytes tuples,
# (b'set-cookie', b'sid=...'); other libraries as "Set-Cookie: sid=..." lines.
_LOGGED_TUPLE = re.compile(
    r"""\(b(['"])(""" + _NAMES + r""")\1, b(['"])(?:\\.|(?!\3).)*\3\)""", re.IGNORECASE
)
_LOGGED_LINE = re.compile(
    r"^([ \t]*(?:" + _NAMES + r")[ \t]*:[ \t]*).+$", re.IGNORECASE | re.MULTILINE
)
_FORMATTER = logging.Formatter()
# Where a probe cut a quoted value short: a run of token characters right before an ellipsis
# ("...", "…"), or from an opening quote to the end of the text; or right after an ellipsis.
# Runs shorter than _MIN_CUT_RUN are not judged (ordinary words).
_RUN_CHARS = r"[A-Za-z0-9+/=_\-~%.]"
_CUT_RUN = re.compile(
    rf"(?P<head>{_RUN_CHARS}+?)(?=\.\.\.|…)"
    rf"|(?<=[\"'])(?P<open>{_RUN_CHARS}+)(?:$|(?=[\"']))"
    rf"|(?:(?<=\.\.\.)|(?<=…))(?P<tail>{_RUN_CHARS}+)"
)
_MIN_CUT_RUN = 8
# Names the scan gives secrets it learns from answers by itself.
_LEARNT = ("ISSUED_", "COOKIE_")
_MIN_QUOTED_RUN = 12


def _forms(value: str) -> list[str]:
    """The ways a value shows up in traffic and reproduce lines: as is, JSON-escaped,
    percent-encoded, and escaped for a double- or single-quoted shell word."""
    forms = [value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]]
    forms += [quote(value, safe=""), quote_plus(value, safe="")]
    forms += [re.sub(r'(["\\`$])', r"\\\1", value)]
    forms += [value.replace("'", "'\\''"), value.replace("'", "'\"'\"'")]  # sh, shlex
    return list(dict.fromkeys(forms))


class Redactor:
    """Replaces known secret values by their placeholder names."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self._public: set[str] = set()
        self._compiled: re.Pattern[str] | None = None
        self._stale = False

    @property
    def _pattern(self) -> re.Pattern[str] | None:
        if self._stale:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._compiled = re.compile("|".join(re.escape(v) for v in ordered))
            self._stale = False
        return self._compiled

    def add(self, value: str | None, name: str, *, rename_learnt: bool = False) -> None:
        """Remember a secret; it reads as `$NAME` from now on (the first name given wins,
        except that `rename_learnt` replaces a name the scan gave a token it learnt by itself,
        `ISSUED_...` or `COOKIE_...`, by a probe's more telling one)."""
        if not value or len(value) < _MIN_SECRET_LEN:
            return
        placeholder = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
        known = self._secrets.get(value)
        if known is not None and not (rename_learnt and known.startswith(_LEARNT)):
            return
        for form in _forms(value):
            if known is not None and self._secrets.get(form) == known:
                self._secrets[form] = placeholder
            else:
                self._secrets.setdefault(form, placeholder)
        self._stale = True  # compiled when next used: a burst may add hundreds at once

    def add_variable(self, name: str, value: str) -> None:
        """Remember a scenario variable's value; a URL also by its origin, host:port and host.

        A URL shows in pieces too (Host lines, scope entries, connection logs), and each piece
        reads as a placeholder of its own.
        """
        self.add(value, name)
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.hostname:
            self.add(f"{parts.scheme}://{parts.netloc}", f"{name}_origin")
            self.add(parts.netloc, f"{name}_host")
            self.add(parts.hostname, f"{name}_hostname")

    def allow(self, value: str) -> None:
        """Let `value` show in full as a credential header's value (a crafted token that
        holds no secret, whose text is the evidence)."""
        self._public.add(value)

    def placeholder(self, value: str) -> str | None:
        """The variable name standing for a known secret, or None."""
        return self._secrets.get(value)

    def text(self, value: str, template: str = "${{{}}}") -> str:
        """The text with every known secret replaced by `template` filled with its name."""
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(lambda m: template.format(self._secrets[m.group(0)]), value)

    def excerpt(self, value: str) -> str:
        """`text` for a piece cut from a longer text: a secret cut at either edge is masked too."""
        out = self.text(value)
        for secret, name in self._secrets.items():
            out = _mask_cut_secret(out, secret, "${" + name + "}")
        return out

    def detail(self, value: str) -> str:
        """`text` for prose that may quote cut pieces of answers: a secret cut short by an
        ellipsis ("...", "…") or by the end of the text after an opening quote is masked too,
        wherever it stands."""
        out = self.text(value)
        if not self._secrets:
            return out
        return _CUT_RUN.sub(self._masked_run, out)

    def _masked_run(self, match: re.Match[str]) -> str:
        run = match.group(0)
        core = run.rstrip(".") if match.group("tail") is None else run
        # A whole quoted word is more often a word: it must be longer to be judged.
        quoted_word = match.group("open") is not None and match.end() < len(match.string)
        if len(core) < (_MIN_QUOTED_RUN if quoted_word else _MIN_CUT_RUN):
            return run
        cut_end = match.group("tail") is None  # the secret's start is shown, its end is cut
        for secret, name in self._secrets.items():
            if len(secret) <= len(core):
                continue
            if secret.startswith(core) if cut_end else secret.endswith(core):
                return "${" + name + "}" + run[len(core) :]
        return run

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
            if (rest or scheme) in self._public:
                return value
            return f"{scheme} {MASK}" if rest else MASK
        return self.text(value)

    def headers(self, lines: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Header lines fit for a report."""
        return [(name, self.header(name, value)) for name, value in lines]

    def log_text(self, value: str) -> str:
        """A log message fit for any handler: known secrets and credential headers masked."""
        value = _LOGGED_TUPLE.sub(lambda m: f"(b'{m.group(2)}', b'{MASK}')", value)
        value = _LOGGED_LINE.sub(lambda m: m.group(1) + MASK, value)
        return self.text(value)


def _mask_cut_secret(text: str, secret: str, placeholder: str) -> str:
    """Mask the start of `secret` ending `text`, or its end starting `text`."""
    longest = min(len(secret) - 1, len(text))
    for size in range(longest, _MIN_PARTIAL_LEN - 1, -1):
        if text.endswith(secret[:size]):
            text = text[:-size] + placeholder
            break
    longest = min(len(secret) - 1, len(text))
    for size in range(longest, _MIN_PARTIAL_LEN - 1, -1):
        if text.startswith(secret[-size:]):
            text = placeholder + text[size:]
            break
    return text


def _mask_cookie(value: str, *, set_cookie: bool) -> str:
    if set_cookie:
        first, sep, attributes = value.partition(";")
        name = first.split("=", 1)[0].strip()
        return f"{name}={MASK}{sep}{attributes}"
    pairs = [p.split("=", 1)[0].strip() for p in value.split(";") if p.strip()]
    return "; ".join(f"{name}={MASK}" for name in pairs)


def redact_record(record: logging.LogRecord, redactor: Redactor) -> None:
    """Redact a log record in place: its message, traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string; logging itself reports it on emit
        return
    record.msg = redactor.log_text(message)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters print exc_text when it is set; dropping exc_info keeps any handler from
        # rendering the raw traceback (whose messages may hold a secret) again.
        record.exc_text = redactor.log_text(_FORMATTER.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redactor.log_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redactor.log_text(record.stack_info)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record it sees."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        redact_record(record, self._redactor)
        return True


@contextmanager
def redacted_logs(redactor: Redactor) -> Iterator[None]:
    """While active, every log record made in this process (httpx, httpcore, probes, ...) is
    redacted as it is created, before any filter or handler sees it."""
    previous = logging.getLogRecordFactory()
    active = True

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if active:
            redact_record(record, redactor)
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        active = False  # a factory installed on top of ours keeps calling it: pass through
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)
