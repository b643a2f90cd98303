"""Judges of the https probe's TLS handshakes: trust, host name, dates, legacy versions.

Pure functions over `probe.tls.TlsFacts`; nothing here connects. Two handshakes feed them: one
without verification (what the server shows: protocol, cipher, leaf certificate, how many
certificates it sent) and one verified as `verify_tls` says (OpenSSL's verify code when it
fails). OpenSSL stops at the first problem it meets, in this order: building the chain to a
trusted root, the host name, then the signatures and dates. So a date code (9, 10) means the
chain and name were fine, a name code (62, 64) means the chain was, and a chain code leaves the
name to be judged here from the certificate's subjectAltName entries. Dates are always judged
from the certificate itself.
"""

from __future__ import annotations

import ipaddress
import shlex
from datetime import datetime

from probe.findings import CheckStatus, Confidence, Severity
from probe.probes.https_answers import Problem, Verdict
from probe.tls import LEGACY_CIPHERS, Certificate, TlsFacts

# OpenSSL X509_V_ERR_* codes the judges tell apart.
UNABLE_TO_GET_ISSUER = 2
NOT_YET_VALID = 9
EXPIRED = 10
SELF_SIGNED_LEAF = 18
SELF_SIGNED_IN_CHAIN = 19
UNABLE_TO_GET_LOCAL_ISSUER = 20
UNABLE_TO_VERIFY_LEAF = 21
HOSTNAME_MISMATCH = 62
IP_MISMATCH = 64
_DATES = frozenset({NOT_YET_VALID, EXPIRED})
_NAME = frozenset({HOSTNAME_MISMATCH, IP_MISMATCH})
_UNKNOWN_ISSUER = frozenset(
    {UNABLE_TO_GET_ISSUER, UNABLE_TO_GET_LOCAL_ISSUER, UNABLE_TO_VERIFY_LEAF}
)
_SELF_SIGNED = frozenset({SELF_SIGNED_LEAF, SELF_SIGNED_IN_CHAIN})
_VERIFY_OFF = "verify_tls is false: the certificate's trust and host name are not judged"
PROTOCOL_NAMES = {"TLS 1.0": "TLSv1", "TLS 1.1": "TLSv1.1"}
_OPENSSL_FLAGS = {"TLS 1.0": "-tls1", "TLS 1.1": "-tls1_1"}


def store_name(verify: bool | str) -> str:
    """Where trust comes from, in words."""
    return f"the CA bundle {verify}" if isinstance(verify, str) else "the system trust store"


def describe(facts: TlsFacts) -> str:
    """Protocol, cipher, certificate subject, issuer, names and dates, SNI, chain, in a line."""
    parts = [f"{facts.protocol or '?'}, {facts.cipher or '?'}"]
    leaf = facts.certificate
    if leaf is not None:
        names = ", ".join(leaf.dns_names + leaf.ip_addresses) or "none"
        parts += [
            f"subject {leaf.subject or '(empty)'}",
            f"issuer {leaf.issuer or '(empty)'}",
            f"valid {_day(leaf.not_before)} to {_day(leaf.not_after)}",
            f"names {names}",
        ]
    else:
        parts.append("no certificate could be read")
    if facts.sni:
        parts.append(f"SNI {facts.sni}")
    else:
        parts.append("no SNI (the host is an IP address; the server shows its default certificate)")
    if facts.chain_length is not None:
        parts.append(f"the server sent {facts.chain_length} certificate(s)")
    return "; ".join(parts)


def judge_handshake(facts: TlsFacts) -> Verdict:
    """The unverified handshake: its facts, or why there are none."""
    if facts.completed:
        return Verdict(CheckStatus.passed, describe(facts))
    if facts.stage == "refused":
        return Verdict(CheckStatus.skipped, f"not sent: {facts.error}")
    return Verdict(CheckStatus.error, f"no TLS handshake with {_where(facts)}: {facts.error}")


def judge_trust(verified: TlsFacts, shown: TlsFacts, verify: bool | str) -> Verdict:
    """Whether the certificate chain is trusted (`tls-untrusted`, `tls-chain-incomplete`).

    `verified` is the handshake verified as `verify` says; `shown` the unverified one.
    """
    if verify is False:
        return Verdict(CheckStatus.skipped, _VERIFY_OFF)
    store = store_name(verify)
    if verified.completed:
        issuer = shown.certificate.issuer if shown.certificate else "?"
        return Verdict(CheckStatus.passed, f"the chain (issuer {issuer}) is trusted by {store}")
    code = verified.verify_code
    if code is None:
        return _no_verdict(verified)
    if code in _DATES:
        return Verdict(
            CheckStatus.passed,
            f"the chain leads to a root trusted by {store}; the certificate is outside its "
            "validity dates (see tls-expiry)",
        )
    if code in _NAME:
        return Verdict(
            CheckStatus.passed,
            f"the chain is trusted by {store}; the host name does not match (see tls-hostname)",
        )
    if code in _UNKNOWN_ISSUER:
        return _unknown_issuer(verified, shown, store)
    if code in _SELF_SIGNED:
        what = (
            "the certificate is self-signed"
            if code == SELF_SIGNED_LEAF
            else "the chain ends in a self-signed certificate"
        )
        return _untrusted(f"{what} that {store} does not trust", verified)
    return _untrusted(f"{verified.verify_message} (OpenSSL verify code {code})", verified)


def _unknown_issuer(verified: TlsFacts, shown: TlsFacts, store: str) -> Verdict:
    """Code 20 and its kin: the leaf's issuer is nowhere to be found.

    A server that forgot its intermediate and a CA nobody trusts look the same from here,
    since the issuer is not fetched; the leaf's Authority Information Access pointer (public
    CAs always set one) and a server that sent the leaf alone make it the first.
    """
    leaf = shown.certificate
    alone = shown.chain_length
    issuer = leaf.issuer if leaf else "?"
    if leaf is not None and leaf.ca_issuers and alone in (None, 1):
        sent = "sent only its own certificate" if alone == 1 else "seems to send no intermediate"
        problem = Problem(
            "tls-chain-incomplete",
            f"the issuer of the certificate ({issuer}) is not known to {store}, the server "
            f"{sent}, and the certificate says where the issuer can be fetched "
            f"({', '.join(leaf.ca_issuers)}): the intermediate certificate is missing from the "
            "server's configuration",
            confidence=Confidence.firm if alone == 1 else Confidence.tentative,
        )
        return Verdict(CheckStatus.failed, problem.detail, (problem,))
    if alone is not None and alone > 1:
        why = f"the server sent {alone} certificates and none leads to a root {store} trusts"
    else:
        why = (
            "the CA is not trusted, or the server does not send its intermediate certificate "
            "(the certificate names no place to fetch its issuer from, so it cannot tell which)"
        )
    return _untrusted(f"the issuer ({issuer}) is unknown to {store}: {why}", verified)


def _untrusted(reason: str, verified: TlsFacts) -> Verdict:
    problem = Problem("tls-untrusted", f"certificate of {_where(verified)} not trusted: {reason}")
    return Verdict(CheckStatus.failed, problem.detail, (problem,))


def judge_hostname(verified: TlsFacts, shown: TlsFacts, verify: bool | str) -> Verdict:
    """Whether the certificate names the host (`tls-hostname-mismatch`)."""
    if verify is False:
        return Verdict(CheckStatus.skipped, _VERIFY_OFF)
    host = verified.host or shown.host
    if verified.completed or verified.verify_code in _DATES:
        return Verdict(CheckStatus.passed, f"the certificate names {host}")
    if verified.verify_code is None:
        return _no_verdict(verified)
    leaf = shown.certificate
    if verified.verify_code not in _NAME:
        # The chain failed first, so OpenSSL never looked at the name: judged here.
        if leaf is None:
            return Verdict(CheckStatus.error, "no certificate could be read to check its names")
        if names_match(host, leaf):
            return Verdict(
                CheckStatus.passed,
                f"the certificate names {host} (read from its names: the chain is not trusted)",
            )
    names = ", ".join(leaf.dns_names + leaf.ip_addresses) if leaf else "?"
    problem = Problem(
        "tls-hostname-mismatch",
        f"the certificate of {_where(verified)} is for {names or 'no name at all'}, not {host}"
        + (f" (SNI sent: {shown.sni})" if shown.sni else " (no SNI: the host is an address)"),
    )
    return Verdict(CheckStatus.failed, problem.detail, (problem,))


def names_match(host: str, leaf: Certificate) -> bool:
    """RFC 6125 matching of a host against the certificate's subjectAltName entries.

    An IP address matches an IP entry only; a name matches a DNS entry exactly (ASCII case
    aside) or through a wildcard that stands for the whole left-most label.
    """
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        return any(_same_address(address, entry) for entry in leaf.ip_addresses)
    wanted = host.lower().rstrip(".")
    return any(_dns_match(entry.lower().rstrip("."), wanted) for entry in leaf.dns_names)


def _same_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, entry: str) -> bool:
    try:
        return ipaddress.ip_address(entry) == address
    except ValueError:
        return False


def _dns_match(pattern: str, host: str) -> bool:
    if not pattern.startswith("*."):
        return pattern == host
    suffix = pattern[2:]
    label, _, rest = host.partition(".")
    # A wildcard covers one label, never a bare public suffix ("*.com").
    return bool(label) and rest == suffix and "." in suffix


def judge_expiry(
    leaf: Certificate | None, now: datetime, warn_days: int, high_days: int
) -> Verdict:
    """The certificate's dates (`tls-expired`, `tls-expiring`)."""
    if leaf is None:
        return Verdict(CheckStatus.error, "no certificate could be read to check its dates")
    dates = f"valid {_day(leaf.not_before)} to {_day(leaf.not_after)}"
    if now < leaf.not_before:
        problem = Problem(
            "tls-expired",
            f"the certificate is not valid yet ({dates}): every client refuses it until then",
        )
        return Verdict(CheckStatus.failed, problem.detail, (problem,))
    if now >= leaf.not_after:
        ago = (now - leaf.not_after).days
        problem = Problem("tls-expired", f"the certificate expired {ago} day(s) ago ({dates})")
        return Verdict(CheckStatus.failed, problem.detail, (problem,))
    left = (leaf.not_after - now).total_seconds() / 86400
    if left <= warn_days:
        severity = Severity.high if left <= high_days else Severity.medium
        limit = high_days if left <= high_days else warn_days
        problem = Problem(
            "tls-expiring",
            f"the certificate expires in {left:.1f} day(s), within {limit} ({dates})",
            severity=severity,
        )
        return Verdict(CheckStatus.failed, problem.detail, (problem,))
    return Verdict(CheckStatus.passed, f"{dates}: {int(left)} days left")


def judge_legacy(name: str, facts: TlsFacts, modern: TlsFacts | None = None) -> Verdict:
    """One handshake offering only `name` ("TLS 1.0", "TLS 1.1"): accepted or not.

    Counted only when the server completed the handshake in that very version; a refusal
    during the handshake passes, but only when some handshake with the port succeeded
    (`modern`, the unverified one, completed): a port that fails every handshake (plain HTTP
    on it, resets, garbage, an alert to everything) refuses nothing in particular, so that is
    an error, as is no connection or no answer in time.
    """
    if facts.stage == "local":
        return Verdict(
            CheckStatus.skipped, f"{name} not tried: {facts.error} (this machine cannot offer it)"
        )
    if facts.stage == "refused":
        return Verdict(CheckStatus.skipped, f"not sent: {facts.error}")
    if facts.completed:
        if facts.protocol != PROTOCOL_NAMES.get(name):
            return Verdict(CheckStatus.passed, f"{name} offered, {facts.protocol} negotiated")
        problem = Problem(
            "tls-legacy-version",
            f"{_where(facts)} completed a {name} handshake ({facts.protocol}, {facts.cipher})",
        )
        return Verdict(CheckStatus.failed, problem.detail, (problem,))
    if modern is not None and not modern.completed:
        return Verdict(
            CheckStatus.error,
            f"no verdict on {name}: no TLS handshake succeeded at all ({name}: {facts.error}; "
            f"modern versions: {modern.error}), so a refusal says nothing about {name}",
        )
    if facts.stage == "handshake" and not (facts.error or "").startswith("timeout"):
        return Verdict(CheckStatus.passed, f"{name} refused: {facts.error}")
    return Verdict(CheckStatus.error, f"no verdict on {name}: {facts.error}")


def verify_facts(verified: TlsFacts) -> str:
    """OpenSSL's verify code and words for a refused certificate, or "" when none."""
    if verified.verify_code is None:
        return ""
    return f"OpenSSL verify code {verified.verify_code} ({verified.verify_message})"


def openssl_command(
    facts: TlsFacts,
    *,
    verify: bool | str = False,
    versions: tuple[str, ...] = (),
    dates: bool = False,
) -> str:
    """An `openssl s_client` line that shows what a finding says, to run by hand.

    SNI as the scan sent it; `-CAfile` when trust comes from a bundle, the host name checked
    when verification is on; one line per legacy version in `versions` ("TLS 1.0"), with the
    old ciphers those need; with `dates`, the certificate's names and dates printed.
    """
    host = f"[{facts.host}]" if ":" in facts.host else facts.host
    base = ["openssl", "s_client", "-connect", f"{host}:{facts.port}"]
    if facts.sni:
        base += ["-servername", facts.sni]
    if versions:
        lines = [
            _shell([*base, _OPENSSL_FLAGS[name], "-cipher", LEGACY_CIPHERS]) + " </dev/null"
            for name in versions
        ]
        return "; ".join(lines)
    if isinstance(verify, str):
        base += ["-CAfile", verify]
    if verify is not False:
        check = "-verify_ip" if _is_address(facts.host) else "-verify_hostname"
        base += [check, facts.host]
    command = _shell([*base, "-showcerts"]) + " </dev/null"
    if dates:
        command += " 2>/dev/null | openssl x509 -noout -subject -issuer -dates -ext subjectAltName"
    return command


def _shell(words: list[str]) -> str:
    return " ".join(shlex.quote(word) for word in words)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _no_verdict(facts: TlsFacts) -> Verdict:
    if facts.stage == "refused":
        return Verdict(CheckStatus.skipped, f"not sent: {facts.error}")
    return Verdict(CheckStatus.error, f"the verifying handshake failed: {facts.error}")


def _where(facts: TlsFacts) -> str:
    host = f"[{facts.host}]" if ":" in facts.host else facts.host
    return f"{host}:{facts.port}" if facts.host else "the server"


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
