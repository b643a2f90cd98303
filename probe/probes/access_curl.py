"""Reproduce lines of the access probe's login findings: each request as a curl command that
keeps its secrets as placeholders (credential headers from the environment, other secrets as
`${NAME}` that the report's redaction writes inside the double quotes, where they stay live).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from probe.exchange import Exchange
from probe.redact import CREDENTIAL_HEADERS

# Headers a reproduce line leaves to curl (or that only tag the scan's own requests).
_NOT_IN_CURL = frozenset({"host", "content-length", "accept-encoding"})
_SCAN_HEADERS = "x-probe-"
_TIMED = '-s -o /dev/null -w "%{http_code} in %{time_total} s\\n"'


def _double_quoted(text: str) -> str:
    return '"' + "".join("\\" + c if c in '"\\`$' else c for c in text) + '"'


def curl_line(
    exchange: Exchange, holds_secret: Callable[[str], bool], tls: list[str], timed: bool
) -> str | None:
    """A curl command that sends the exchange's request again, or None when a secret in it
    would be changed by shell quoting (the report's redaction could then miss it).

    Credential headers read `${HEADER_NAME}` from the environment; the report turns other
    known secrets into `${NAME}` placeholders inside the double quotes, where they stay live.
    """
    request = exchange.request
    args = ["curl", _TIMED if timed else "-i", "--path-as-is", *tls, "-X", request.method]
    pieces: list[tuple[str, str]] = []
    for name, value in request.headers:
        lowered = name.lower()
        if lowered in _NOT_IN_CURL or lowered.startswith(_SCAN_HEADERS):
            continue
        if lowered in CREDENTIAL_HEADERS:
            variable = re.sub(r"[^A-Z0-9]", "_", name.upper())
            args.append(f'-H "{name}: ${{{variable}}}"')
            continue
        pieces.append(("-H", f"{name}: {value}"))
    if request.body:
        pieces.append(("--data-binary", request.body.decode("utf-8", "replace")))
    pieces.append(("", request.url))
    for option, text in pieces:
        quoted = _double_quoted(text)
        if quoted[1:-1] != text and holds_secret(text):
            return None
        args += [option, quoted] if option else [quoted]
    return " ".join(args)


def reproduce(
    exchanges: Sequence[Exchange],
    holds_secret: Callable[[str], bool],
    verify_tls: bool | str,
    timed: bool,
) -> str | None:
    """The requests one after the other (`curl ...; echo; curl ...`), or None when one of them
    cannot be written safely (see `curl_line`)."""
    tls = ["-k"] if verify_tls is False else []
    if isinstance(verify_tls, str):
        tls = ["--cacert", _double_quoted(verify_tls)]
    lines = [curl_line(x, holds_secret, tls, timed) for x in exchanges]
    if any(line is None for line in lines):
        return None
    return "; echo; ".join(line for line in lines if line)
